//! A process pool next to the async pool: CPU-heavy jobs run in 4 child
//! processes (this executable re-entered as a worker, which is what
//! `#[scheduler::main]` prepares), async jobs run in-process, and one process
//! job aborts on purpose: the scheduler reports it and keeps going.
//!
//! Run: `cargo run -p examples --example process_pool` (exits after about 4 s).

use std::time::Duration;

use scheduler::prelude::*;
use scheduler::FailureKind;

/// Counts primes below `limit`, the slow way: work for a CPU, not for a runtime.
#[job]
fn count_primes(limit: u64) -> Result<(), String> {
    let n = (2..limit)
        .filter(|n| (2..).take_while(|d| d * d <= *n).all(|d| n % d != 0))
        .count();
    // A worker's stdout and stderr go to `tracing`, in the run's span.
    println!("[pid {}] {n} primes below {limit}", std::process::id());
    Ok(())
}

/// Crashes its process: in a thread pool this would take the scheduler down.
#[job]
fn crash() {
    eprintln!("[pid {}] about to abort", std::process::id());
    std::process::abort();
}

#[scheduler::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sched = Scheduler::builder()
        .executor("cpu", Executor::process_pool(4))
        .start()?;
    sched
        .add_listener(
            EventMask::JOB_EXECUTED | EventMask::JOB_ERROR,
            |event| match event {
                Event::JobExecuted {
                    job_id, duration, ..
                } => {
                    println!("scheduler: {job_id} done in {duration:.0?}")
                }
                Event::JobError {
                    job_id,
                    kind: FailureKind::Crash,
                    error,
                    ..
                } => println!("scheduler: {job_id} crashed, and the scheduler goes on: {error}"),
                Event::JobError { job_id, error, .. } => {
                    println!("scheduler: {job_id} failed: {error}")
                }
                _ => {}
            },
        )
        .await?;

    for (i, limit) in [200_000u64, 300_000, 400_000, 500_000]
        .into_iter()
        .enumerate()
    {
        sched
            .add_job(count_primes::with(limit))
            .id(format!("primes-{i}"))
            .executor("cpu")
            .await?;
    }
    sched
        .add_job(crash::with())
        .id("crash")
        .executor("cpu")
        .await?;
    sched
        .add_job(Target::from_async(|ctx: JobContext| async move {
            println!(
                "[pid {}] async heartbeat {}",
                std::process::id(),
                ctx.scheduled_at().format("%T%.3f")
            );
        }))
        .id("heartbeat")
        .trigger(Trigger::interval(Duration::from_millis(500))?)
        .await?;

    actix_rt::time::sleep(Duration::from_secs(4)).await;
    sched.print_jobs().await?;
    sched.shutdown(true).await?;
    println!("shut down cleanly");
    Ok(())
}
