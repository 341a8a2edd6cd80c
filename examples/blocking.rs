//! A standalone service (APScheduler's `BlockingScheduler`): syncs data every
//! 2 seconds and a report on a cron schedule, until SIGINT (Ctrl-C) or SIGTERM,
//! then shuts down gracefully, letting the running job finish.
//!
//! Run: `cargo run -p examples --example blocking` and stop it with Ctrl-C
//! (or `kill -TERM <pid>`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use scheduler::prelude::*;

struct Stats {
    synced: AtomicU64,
}

// `#[scheduler::main]` lets this binary also serve as its own process-pool
// worker, should a job move to `Executor::process_pool(n)`.
#[scheduler::main]
fn main() -> Result<(), scheduler::Error> {
    println!(
        "service started (pid {}); stop with Ctrl-C or SIGTERM",
        std::process::id()
    );
    Scheduler::builder()
        .data(Stats {
            synced: AtomicU64::new(0),
        })
        .executor("blocking", Executor::thread_pool(2))
        .run_blocking_with(|sched| async move {
            sched
                .add_job(Target::from_async(|ctx: JobContext| async move {
                    let stats = ctx.data::<Stats>().ok_or("no stats")?;
                    let n = stats.synced.fetch_add(1, Ordering::SeqCst) + 1;
                    println!("sync #{n} at {}", ctx.scheduled_at().format("%H:%M:%S"));
                    Ok::<(), &str>(())
                }))
                .id("sync")
                .trigger(Trigger::interval(Duration::from_secs(2))?)
                .run_on_start(true)
                .await?;
            sched
                .add_job(Target::from_blocking(|_ctx: JobContext| {
                    println!("hourly report")
                }))
                .id("report")
                .executor("blocking")
                .trigger(Trigger::cron("0 * * * *")?)
                .await?;
            sched.print_jobs().await
        })?;
    println!("service stopped cleanly");
    Ok(())
}
