//! The APScheduler walkthrough ("the seed"), in Rust: a background scheduler
//! with a thread pool of 20, a date job with arguments, an interval job, cron
//! jobs at hour 0 and 3, a date job with no date (= run now), then shutdown.
//!
//! Run: `cargo run -p examples --example quickstart` (exits after about 4 s).

use std::time::Duration;

use scheduler::prelude::*;

/// The seed's `my_job(param1, param2)`: a named job, scheduled at run time
/// with typed arguments (`my_job::with(100, "python")`).
#[job]
fn my_job(param1: i32, param2: String) {
    println!("  my_job({param1}, {param2:?}) ran");
}

/// `add_job(tick, 'interval', seconds=1)`, as a named job added below.
#[job]
fn tick(ctx: JobContext) {
    println!(
        "  interval job, run {} scheduled at {}",
        ctx.run_id(),
        ctx.scheduled_at().format("%H:%M:%S")
    );
}

/// `add_job(..., 'cron', hour=0)`: declared, added when the scheduler starts.
#[scheduled(fields(hour = 0))]
fn at_midnight() {
    println!("  cron job at hour 0");
}

/// `add_job(..., 'cron', hour=3)`.
#[scheduled(fields(hour = 3))]
fn at_three() {
    println!("  cron job at hour 3");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // executors = {'default': ThreadPoolExecutor(20)}; scheduler = BackgroundScheduler(executors=executors)
    let sched = Scheduler::builder()
        .executor("default", Executor::thread_pool(20))
        .start_background()?;
    let s = sched.blocking();

    // scheduler.add_job(my_job, 'date', run_date=..., args=[100, 'python'])
    let at = chrono::Utc::now() + chrono::TimeDelta::seconds(2);
    s.add_job(my_job::with(100, "python".into()))
        .id("date-job")
        .trigger(Trigger::at(at))
        .send_blocking()?;

    // scheduler.add_job(tick, 'interval', seconds=1)
    s.add_job(tick::with())
        .id("interval-job")
        .trigger(Trigger::interval(Duration::from_secs(1))?)
        .send_blocking()?;

    // scheduler.add_job(my_job, 'date', args=[...]): no date = run now
    s.add_job(my_job::with(1, "now".into()))
        .id("run-now")
        .send_blocking()?;

    println!("jobs:");
    s.print_jobs()?;
    println!("running for 4 seconds...");
    std::thread::sleep(Duration::from_secs(4));

    // scheduler.shutdown()
    s.shutdown(true)?;
    println!("scheduler shut down");
    Ok(())
}
