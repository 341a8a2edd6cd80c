//! The seed's order scenario, durable: "cancel the order unless it is paid
//! within N minutes", with the cancellations kept in a SQLite file, so they
//! survive the program stopping.
//!
//! Run it twice: `cargo run -p examples --example orders_sqlite`.
//! - The first run places six orders, each with a cancellation due in 3 s
//!   (30 minutes in real life), pays every second one (its cancellation is
//!   removed) and stops before any is due.
//! - The second run finds the three pending cancellations in the file and
//!   runs them (late, since nobody was running: `misfire_grace_time(None)`
//!   means "cancel even if we were down at the time"), then the file is empty
//!   and the next run starts over.
//!
//! The file is `$ORDERS_DB`, or `scheduler-orders-example.db` in the
//! system's temporary folder.

use std::time::Duration;

use scheduler::prelude::*;
use scheduler::SqliteStore;

/// The cancellation of one order: a named job, stored by name with its argument.
#[job]
async fn cancel_order(order_id: u64, ctx: JobContext) {
    let late = chrono::Utc::now() - ctx.scheduled_at();
    println!(
        "  order {order_id} cancelled: not paid in time (run {}, {:.1} s after it was due)",
        ctx.run_id(),
        late.num_milliseconds() as f64 / 1000.0
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::var_os("ORDERS_DB")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("scheduler-orders-example.db"));
    let sched = Scheduler::builder()
        .store(SqliteStore::open(&path))
        .start_background()?;
    let s = sched.blocking();
    println!("job store: {}", path.display());

    let pending = s.jobs()?;
    if pending.is_empty() {
        println!(
            "no pending cancellations: placing orders 1 to 6, each cancelled in 3 s unless paid"
        );
        for order_id in 1..=6_u64 {
            s.add_job(cancel_order::with(order_id))
                .id(format!("cancel-{order_id}"))
                .trigger(Trigger::after(Duration::from_secs(3)))
                .misfire_grace_time(None)
                .send_blocking()?;
        }
        for order_id in [2_u64, 4, 6] {
            s.remove_job(&format!("cancel-{order_id}"))?;
            println!("  order {order_id} paid: its cancellation is removed");
        }
        print!("{}", s.jobs_table()?);
        s.shutdown(true)?;
        println!(
            "stopped before any cancellation was due; run the example again to see them survive"
        );
        return Ok(());
    }

    println!(
        "found {} pending cancellations from an earlier run:",
        pending.len()
    );
    print!("{}", scheduler_table(&pending));
    // Wait until every one of them has run and is recorded.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let history = loop {
        let runs = s.runs(None, 100)?;
        let done = runs
            .iter()
            .filter(|r| r.status == scheduler::stores::RunStatus::Succeeded)
            .count();
        if done >= pending.len() || std::time::Instant::now() > deadline {
            break runs;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    println!("run history ({} runs):", history.len());
    for r in &history {
        println!(
            "  run {} of {}: {:?}, due {}",
            r.run_id,
            r.job_id,
            r.status,
            r.scheduled_at.format("%H:%M:%S%.3f")
        );
    }
    s.shutdown(true)?;
    println!("all pending cancellations done; the next run starts over");
    Ok(())
}

fn scheduler_table(jobs: &[scheduler::Job]) -> String {
    jobs.iter()
        .map(|j| format!("  {} due {:?}\n", j.id(), j.next_run_time()))
        .collect()
}
