//! The worker binary of the process-pool tests, and a scheduler host for the
//! test that kills a scheduler with SIGKILL.
//!
//! - run by a process pool: `#[scheduler::main]` makes it a worker;
//! - `process_worker host PIDFILE`: starts a scheduler whose process pool
//!   (this executable) runs `proc_sleep(PIDFILE, 60 s)`, then waits forever;
//! - `process_worker shutdown-host PIDFILE`: the same, then shuts the
//!   scheduler down with a 200 ms deadline and prints `children=N`, the
//!   number of its live child processes after that.

#[path = "../process_jobs.rs"]
mod process_jobs;

use scheduler::{Executor, Scheduler};

#[scheduler::main]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str);
    match (mode, args.get(2)) {
        (Some(mode @ ("host" | "shutdown-host")), Some(pidfile)) => {
            let sched = Scheduler::builder()
                .without_registered_jobs()
                .executor("default", Executor::process_pool(1))
                .start_background()?;
            sched
                .blocking()
                .add_job(process_jobs::proc_sleep::with(pidfile.clone(), 60_000))
                .send_blocking()?;
            if mode == "host" {
                loop {
                    std::thread::park();
                }
            }
            tests::procs::pid_in(std::path::Path::new(pidfile));
            sched
                .blocking()
                .shutdown_with_deadline(std::time::Duration::from_millis(200))?;
            // Children are reaped within the kill grace after the shutdown.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            while !tests::procs::children().is_empty() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            println!("children={}", tests::procs::children().len());
            Ok(())
        }
        _ => Err("usage: process_worker host PIDFILE (or run by a process pool)".into()),
    }
}
