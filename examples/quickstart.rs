//! The APScheduler walkthrough ("the seed"), in Rust: a background scheduler
//! with a thread pool of 20, a date job with arguments, an interval job, cron
//! jobs at hour 0 and 3, a date job with no date (= run now), then shutdown.
//!
//! Run: `cargo run -p examples --example quickstart` (exits after about 4 s).

use std::time::Duration;

use scheduler::prelude::*;

/// The seed's `my_job(param1, param2)`.
fn my_job(param1: i32, param2: &str) {
    println!("  my_job({param1}, {param2:?}) ran");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // executors = {'default': ThreadPoolExecutor(20)}; scheduler = BackgroundScheduler(executors=executors)
    let sched = Scheduler::builder()
        .executor("default", Executor::thread_pool(20))
        .start_background()?;
    let s = sched.blocking();

    // scheduler.add_job(my_job, 'date', run_date=..., args=[100, 'python'])
    let at = chrono::Utc::now() + chrono::TimeDelta::seconds(2);
    s.add_job(Target::from_blocking(|_ctx: JobContext| {
        my_job(100, "python")
    }))
    .id("date-job")
    .trigger(Trigger::at(at))
    .send_blocking()?;

    // scheduler.add_job(tick, 'interval', seconds=1)
    s.add_job(Target::from_blocking(|ctx: JobContext| {
        println!(
            "  interval job, run {} scheduled at {}",
            ctx.run_id(),
            ctx.scheduled_at().format("%H:%M:%S")
        );
    }))
    .id("interval-job")
    .trigger(Trigger::interval(Duration::from_secs(1))?)
    .send_blocking()?;

    // scheduler.add_job(nightly, 'cron', hour=0) and (..., 'cron', hour=3)
    for hour in ["0", "3"] {
        let fields = CronFields::new().hour(hour);
        s.add_job(Target::from_blocking(move |_ctx: JobContext| {
            println!("  cron job at hour {hour}")
        }))
        .id(format!("cron-hour-{hour}"))
        .trigger(CronTrigger::from_fields(fields).build()?)
        .send_blocking()?;
    }

    // scheduler.add_job(my_job, 'date', args=[...]): no date = run now
    s.add_job(Target::from_blocking(|_ctx: JobContext| my_job(1, "now")))
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
