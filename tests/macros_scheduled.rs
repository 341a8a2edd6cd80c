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
        .get_job("tick")
        .await
        .expect("running")
        .expect("registered");
    assert_eq!(tick.name(), "Ticker");
    assert_eq!(tick.options().max_instances(), 2);
    let nightly = h
        .sched
        .get_job("nightly")
        .await
        .expect("running")
        .expect("id from the attribute");
    // 03:30 Berlin (CET) on 2026-01-01 is 02:30 UTC.
    assert_eq!(
        nightly.next_run_time(),
        Some(tests::at("2026-01-01T02:30:00Z"))
    );
    h.expect("the at_start job", executed("warm_up")).await;
    h.advance(10.0);
    h.expect("tick", executed("tick")).await;
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
