//! The wall clock jumping: forward fires what became due (misfire rules apply),
//! backward fires nothing twice.

use std::time::Duration;

use scheduler::{Event, Scheduler, Target, Trigger};
use tests::at;
use tests::harness::{executed, start};

fn hourly() -> Trigger {
    Trigger::cron("0 * * * *").expect("valid")
}

#[tokio::test]
async fn a_jump_forward_fires_what_became_due_once() {
    let mut h = start(Scheduler::builder());
    // t0 is 00:00, so the first fire is at once; wait for it.
    h.sched
        .add_job(Target::from_async(|_ctx| async {}))
        .id("hourly")
        .trigger(hourly())
        .misfire_grace_time(None)
        .await
        .expect("added");
    h.expect("first", executed("hourly")).await;
    h.clock.set(at("2026-01-01T05:30:00Z"));
    h.sched.wakeup().await.expect("running");
    let e = h.expect("catch-up", executed("hourly")).await;
    // Coalesced: one run, for the latest missed time.
    assert!(
        matches!(e, Event::JobExecuted { scheduled_at, .. } if scheduled_at == at("2026-01-01T05:00:00Z")),
        "{e:?}"
    );
    let job = h
        .sched
        .get_job("hourly")
        .await
        .expect("running")
        .expect("exists");
    assert_eq!(job.next_run_time(), Some(at("2026-01-01T06:00:00Z")));
    h.shutdown().await;
}

#[tokio::test]
async fn a_jump_forward_past_the_grace_time_is_a_miss() {
    let mut h = start(Scheduler::builder());
    h.sched
        .add_job(Target::from_async(|_ctx| async {}))
        .id("hourly")
        .trigger(hourly())
        .await
        .expect("added");
    h.expect("first", executed("hourly")).await;
    h.clock.set(at("2026-01-01T05:30:00Z"));
    h.sched.wakeup().await.expect("running");
    let e = h
        .expect("miss", |e| matches!(e, Event::JobMissed { .. }))
        .await;
    assert!(
        matches!(e, Event::JobMissed { scheduled_at, .. } if scheduled_at == at("2026-01-01T05:00:00Z")),
        "{e:?}"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn a_jump_backward_fires_nothing_twice() {
    let mut h = start(Scheduler::builder());
    h.sched
        .add_job(Target::from_async(|_ctx| async {}))
        .id("hourly")
        .trigger(hourly())
        .await
        .expect("added");
    h.expect("00:00", executed("hourly")).await;
    h.clock.set(at("2026-01-01T01:00:00Z"));
    h.expect("01:00", executed("hourly")).await;
    // The clock goes back an hour and a half, then forward again.
    h.clock
        .set(at("2026-01-01T23:30:00Z") - chrono::TimeDelta::days(1));
    h.sched.wakeup().await.expect("running");
    h.clock.advance(Duration::from_secs(30 * 60)); // 00:00 again: already ran
    h.sched.wakeup().await.expect("running");
    h.clock.set(at("2026-01-01T01:00:00Z")); // 01:00 again: already ran
    h.sched.wakeup().await.expect("running");
    h.clock.set(at("2026-01-01T02:00:00Z"));
    let e = h.expect("02:00", executed("hourly")).await;
    assert!(
        matches!(e, Event::JobExecuted { scheduled_at, .. } if scheduled_at == at("2026-01-01T02:00:00Z")),
        "{e:?}"
    );
    let runs: Vec<_> = h
        .seen
        .iter()
        .filter_map(|e| match e {
            Event::JobSubmitted { scheduled_at, .. } => Some(scheduled_at.to_rfc3339()),
            _ => None,
        })
        .collect();
    assert_eq!(
        runs,
        [
            "2026-01-01T00:00:00+00:00",
            "2026-01-01T01:00:00+00:00",
            "2026-01-01T02:00:00+00:00"
        ]
    );
    h.shutdown().await;
}
