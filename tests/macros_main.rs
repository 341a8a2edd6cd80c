//! `#[scheduler::main]`: the program's `main` first becomes a worker if a
//! process pool started it, and an async `main` runs in an actix `System`.

use scheduler::{Executor, Scheduler};

#[scheduler::main]
async fn async_entry() -> Result<usize, scheduler::Error> {
    // Inside a System: `start()` works, and so does a process pool, because
    // the attribute called `worker_main` first.
    let sched = Scheduler::builder()
        .without_registered_jobs()
        .executor("cpu", Executor::process_pool(1))
        .start()?;
    let n = sched.job_count().await?;
    sched.shutdown(true).await?;
    Ok(n)
}

#[scheduler::main]
fn sync_entry() -> u32 {
    40 + 2
}

#[test]
fn an_async_main_runs_in_a_system_and_prepares_the_worker_mode() {
    assert_eq!(async_entry().expect("ran"), 0);
}

#[test]
fn a_sync_main_keeps_its_body_and_return_value() {
    assert_eq!(sync_entry(), 42);
}
