//! Events: a listener that logs errors and missed runs, and the event stream.
//!
//! Run: `cargo run -p examples --example events` (exits after about 3 s).

use std::time::Duration;

use scheduler::prelude::*;
use scheduler::FailureKind;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sched = Scheduler::builder().start_background()?;
    let s = sched.blocking();

    // The listener runs on the scheduler's thread for the events in its mask.
    s.add_listener(
        EventMask::JOB_ERROR | EventMask::JOB_MISSED,
        |event| match event {
            Event::JobError {
                job_id,
                kind: FailureKind::Panic,
                error,
                ..
            } => {
                println!("listener: job {job_id} panicked: {error}")
            }
            Event::JobError {
                job_id,
                error,
                retry_at,
                ..
            } => {
                println!("listener: job {job_id} failed: {error} (retry at {retry_at:?})")
            }
            Event::JobMissed {
                job_id,
                scheduled_at,
                ..
            } => {
                println!(
                    "listener: job {job_id} missed its run at {}",
                    scheduled_at.format("%H:%M:%S%.3f")
                )
            }
            _ => {}
        },
    )?;

    s.add_job(Target::from_async(|_ctx| async {
        Err::<(), _>("the database is down")
    }))
    .id("failing")
    .retry(Retry::new(1).initial(Duration::from_millis(500)))
    .send_blocking()?;
    s.add_job(Target::from_async(|_ctx| async {
        if true {
            panic!("unexpected input");
        }
    }))
    .id("panicking")
    .send_blocking()?;

    // Pause the scheduler across a fire time: with a grace time of 100 ms the run is missed.
    s.add_job(Target::from_async(|_ctx| async {}))
        .id("late")
        .trigger(Trigger::after(Duration::from_millis(800)))
        .misfire_grace_time(Some(Duration::from_millis(100)))
        .send_blocking()?;
    s.pause()?;
    std::thread::sleep(Duration::from_millis(1500));
    s.resume()?;

    std::thread::sleep(Duration::from_millis(1000));
    s.shutdown(true)?;
    Ok(())
}
