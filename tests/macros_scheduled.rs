//! `#[scheduled]`: functions declared at compile time become static jobs,
//! with their trigger, options and extractors.

use std::sync::atomic::{AtomicU32, Ordering};

use scheduler::prelude::*;
use scheduler::ErrorKind;
use tests::harness::{executed, start_with};

struct Counter(AtomicU32);

#[scheduled(interval = "10s", max_instances = 2, name = "Ticker")]
async fn tick(ctx: JobContext, counter: Data<Counter>) -> Result<(), String> {
    counter.0.fetch_add(1, Ordering::SeqCst);
    if ctx.attempt() == 0 {
        return Err("attempts start at 1".into());
    }
    Ok(())
}

#[scheduled(fields(hour = 3, minute = "30"), tz = "Europe/Berlin", id = "nightly")]
fn nightly_report(counter: Data<Counter>) {
    counter.0.fetch_add(100, Ordering::SeqCst);
}

#[scheduled(at_start)]
async fn warm_up() {}

#[tokio::test]
async fn scheduled_functions_are_static_jobs() {
    let mut h = start_with(Scheduler::builder().data(Counter(AtomicU32::new(0))));
    let tick = h
        .sched
        .get_job("macros_scheduled::tick")
        .await
        .expect("running")
        .expect("registered");
    // The id is the registry key, the function's path; the name is the display name.
    assert_eq!(tick.id(), "macros_scheduled::tick");
    assert_eq!(tick.name(), "Ticker");
    assert_eq!(tick.options().max_instances(), 2);
    let nightly = h
        .sched
        .get_job("nightly")
        .await
        .expect("running")
        .expect("id from the attribute");
    assert_eq!(nightly.name(), "nightly_report", "named after its function");
    // 03:30 Berlin (CET) on 2026-01-01 is 02:30 UTC.
    assert_eq!(
        nightly.next_run_time(),
        Some(tests::at("2026-01-01T02:30:00Z"))
    );
    h.expect("the at_start job", executed("macros_scheduled::warm_up"))
        .await;
    h.advance(10.0);
    h.expect("tick", executed("macros_scheduled::tick")).await;
    h.shutdown().await;
}

#[tokio::test]
async fn a_missing_data_is_reported_at_start() {
    let err = Scheduler::builder()
        .start_background()
        .expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::MissingData);
    assert!(err.to_string().contains("Data<Counter>"), "{err}");
}

mod billing {
    use scheduler::prelude::*;

    /// The same function name as `inventory::sync` and `sync` below: the
    /// registry keys are the paths, so nothing collides.
    #[scheduled(interval = "1h")]
    pub(crate) async fn sync() {}
}

mod inventory {
    use scheduler::prelude::*;

    #[scheduled(interval = "1h")]
    pub(crate) async fn sync() {}
}

/// A stable key of its own: the job keeps its id when the function moves.
#[scheduled(interval = "1h", key = "nightly-sync")]
async fn sync() {}

#[tokio::test]
async fn functions_of_one_name_in_different_modules_do_not_collide() {
    let h = start_with(Scheduler::builder().data(Counter(AtomicU32::new(0))));
    for id in [
        "macros_scheduled::billing::sync",
        "macros_scheduled::inventory::sync",
        "nightly-sync",
    ] {
        let job = h.sched.get_job(id).await.expect("running");
        assert_eq!(
            job.map(|j| j.name().to_owned()).as_deref(),
            Some("sync"),
            "{id}"
        );
    }
    h.shutdown().await;
}
