//! The worker binary of the process-pool tests, and a scheduler host for the
//! test that kills a scheduler with SIGKILL.
//!
//! - run by a process pool: `#[scheduler::main]` makes it a worker;
//! - `process_worker host PIDFILE`: starts a scheduler whose process pool
//!   (this executable) runs `proc_sleep(PIDFILE, 60 s)`, then waits forever.

#[path = "../process_jobs.rs"]
mod process_jobs;

use scheduler::{Executor, Scheduler};

#[scheduler::main]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    match (args.get(1).map(String::as_str), args.get(2)) {
        (Some("host"), Some(pidfile)) => {
            let sched = Scheduler::builder()
                .without_registered_jobs()
                .executor("default", Executor::process_pool(1))
                .start_background()?;
            sched
                .blocking()
                .add_job(process_jobs::proc_sleep::with(pidfile.clone(), 60_000))
                .send_blocking()?;
            loop {
                std::thread::park();
            }
        }
        _ => Err("usage: process_worker host PIDFILE (or run by a process pool)".into()),
    }
}
