//! APScheduler 3's misfire grace time, coalescing and max_instances, on a test clock.

use std::sync::Arc;
use std::time::Duration;

use scheduler::{Event, Scheduler, Target, Trigger};
use tests::harness::{executed, start, t0, Harness};
use tokio::sync::Semaphore;

fn every_10s() -> Trigger {
    Trigger::interval(Duration::from_secs(10)).expect("valid")
}

fn secs(s: i64) -> chrono::DateTime<chrono::Utc> {
    t0() + chrono::TimeDelta::seconds(s)
}

fn noop() -> Target {
    Target::from_async(|_ctx| async {})
}

/// A job that holds until the test adds permits to `gate`.
fn gated(gate: &Arc<Semaphore>) -> Target {
    let gate = gate.clone();
    Target::from_async(move |_ctx| {
        let gate = gate.clone();
        async move {
            if let Ok(p) = gate.acquire().await {
                p.forget();
            }
        }
    })
}

fn submitted_times(h: &Harness, job: &str) -> Vec<chrono::DateTime<chrono::Utc>> {
    h.seen
        .iter()
        .filter_map(|e| match e {
            Event::JobSubmitted {
                job_id,
                scheduled_at,
                ..
            } if &**job_id == job => Some(*scheduled_at),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_run_within_the_grace_time_runs() {
    let mut h = start(Scheduler::builder());
    h.sched
        .add_job(noop())
        .id("j")
        .trigger(every_10s())
        .await
        .expect("added");
    h.advance(10.5); // 0.5 s late, grace 1 s
    h.expect("run", executed("j")).await;
    h.shutdown().await;
}

#[tokio::test]
async fn a_run_past_the_grace_time_is_missed() {
    let mut h = start(Scheduler::builder());
    h.sched
        .add_job(noop())
        .id("j")
        .trigger(every_10s())
        .await
        .expect("added");
    h.sched.pause().await.expect("running");
    h.advance(12.0); // the run at 10 s is now 2 s late
    h.sched.resume().await.expect("running");
    let e = h
        .expect("miss", |e| matches!(e, Event::JobMissed { .. }))
        .await;
    assert_eq!(
        e,
        Event::JobMissed {
            job_id: "j".into(),
            scheduled_at: secs(10),
            count: 1
        }
    );
    // Next fire at 20 s runs normally.
    h.advance(8.0);
    let e = h.expect("run", executed("j")).await;
    assert!(matches!(e, Event::JobExecuted { scheduled_at, .. } if scheduled_at == secs(20)));
    assert_eq!(submitted_times(&h, "j"), [secs(20)]);
    h.shutdown().await;
}

#[tokio::test]
async fn coalesce_collapses_a_backlog_into_one_run() {
    let mut h = start(Scheduler::builder());
    h.sched
        .add_job(noop())
        .id("j")
        .trigger(every_10s())
        .misfire_grace_time(Some(Duration::from_secs(60)))
        .await
        .expect("added");
    h.sched.pause().await.expect("running");
    h.advance(35.0); // 10, 20, 30 are due
    h.sched.resume().await.expect("running");
    h.expect("run", executed("j")).await;
    assert_eq!(submitted_times(&h, "j"), [secs(30)]);
    let job = h
        .sched
        .get_job("j")
        .await
        .expect("running")
        .expect("exists");
    assert_eq!(job.next_run_time(), Some(secs(40)));
    h.shutdown().await;
}

#[tokio::test]
async fn without_coalesce_every_missed_run_runs_in_turn() {
    let mut h = start(Scheduler::builder());
    h.sched
        .add_job(noop())
        .id("j")
        .trigger(every_10s())
        .coalesce(false)
        .misfire_grace_time(Some(Duration::from_secs(60)))
        .await
        .expect("added");
    h.sched.pause().await.expect("running");
    h.advance(35.0);
    h.sched.resume().await.expect("running");
    for t in [10, 20, 30] {
        let e = h.expect("run", executed("j")).await;
        assert!(
            matches!(e, Event::JobExecuted { scheduled_at, .. } if scheduled_at == secs(t)),
            "{e:?}"
        );
    }
    assert!(
        !h.seen
            .iter()
            .any(|e| matches!(e, Event::JobMaxInstances { .. })),
        "{:#?}",
        h.seen
    );
    h.shutdown().await;
}

#[tokio::test]
async fn without_coalesce_runs_past_the_grace_time_are_missed() {
    let mut h = start(Scheduler::builder());
    h.sched
        .add_job(noop())
        .id("j")
        .trigger(every_10s())
        .coalesce(false)
        .misfire_grace_time(Some(Duration::from_secs(12)))
        .await
        .expect("added");
    h.sched.pause().await.expect("running");
    h.advance(35.0); // 10 (25 s late) and 20 (15 s late) are missed; 30 (5 s) runs
    h.sched.resume().await.expect("running");
    let e = h.expect("run", executed("j")).await;
    assert!(matches!(e, Event::JobExecuted { scheduled_at, .. } if scheduled_at == secs(30)));
    let missed: Vec<_> = h
        .seen
        .iter()
        .filter_map(|e| match e {
            Event::JobMissed { scheduled_at, .. } => Some(*scheduled_at),
            _ => None,
        })
        .collect();
    assert_eq!(missed, [secs(10), secs(20)]);
    h.shutdown().await;
}

#[tokio::test]
async fn no_grace_limit_runs_however_late() {
    let mut h = start(Scheduler::builder());
    h.sched
        .add_job(noop())
        .id("j")
        .trigger(every_10s())
        .misfire_grace_time(None)
        .await
        .expect("added");
    h.sched.pause().await.expect("running");
    h.advance(3600.0);
    h.sched.resume().await.expect("running");
    let e = h.expect("run", executed("j")).await;
    assert!(matches!(e, Event::JobExecuted { scheduled_at, .. } if scheduled_at == secs(3600)));
    h.shutdown().await;
}

#[tokio::test]
async fn max_instances_skips_a_fire_while_the_last_run_runs() {
    let mut h = start(Scheduler::builder());
    let gate = Arc::new(Semaphore::new(0));
    h.sched
        .add_job(gated(&gate))
        .id("j")
        .trigger(every_10s())
        .await
        .expect("added");
    h.advance(10.0);
    h.expect("submit", |e| matches!(e, Event::JobSubmitted { .. }))
        .await;
    h.advance(10.0);
    let e = h
        .expect("skip", |e| matches!(e, Event::JobMaxInstances { .. }))
        .await;
    assert_eq!(
        e,
        Event::JobMaxInstances {
            job_id: "j".into(),
            scheduled_at: secs(20)
        }
    );
    gate.add_permits(1);
    let e = h.expect("run", executed("j")).await;
    assert!(matches!(e, Event::JobExecuted { scheduled_at, .. } if scheduled_at == secs(10)));
    // The slot is free again: the fire at 30 s runs.
    gate.add_permits(1);
    h.advance(10.0);
    let e = h.expect("run", executed("j")).await;
    assert!(matches!(e, Event::JobExecuted { scheduled_at, .. } if scheduled_at == secs(30)));
    h.shutdown().await;
}

#[tokio::test]
async fn max_instances_two_allows_overlap() {
    let mut h = start(Scheduler::builder());
    let gate = Arc::new(Semaphore::new(0));
    h.sched
        .add_job(gated(&gate))
        .id("j")
        .trigger(every_10s())
        .max_instances(2)
        .await
        .expect("added");
    h.advance(10.0);
    h.expect("first", |e| matches!(e, Event::JobSubmitted { .. }))
        .await;
    h.advance(10.0);
    h.expect(
        "second",
        |e| matches!(e, Event::JobSubmitted { scheduled_at, .. } if *scheduled_at == secs(20)),
    )
    .await;
    let job = h
        .sched
        .get_job("j")
        .await
        .expect("running")
        .expect("exists");
    assert_eq!(job.running(), 2);
    h.advance(10.0);
    h.expect("skip", |e| matches!(e, Event::JobMaxInstances { .. }))
        .await;
    gate.add_permits(2);
    h.expect("run", executed("j")).await;
    h.expect("run", executed("j")).await;
    assert_eq!(
        h.sched
            .get_job("j")
            .await
            .expect("running")
            .expect("exists")
            .running(),
        0
    );
    h.shutdown().await;
}

#[tokio::test]
async fn catch_up_is_bounded() {
    let mut h = start(Scheduler::builder());
    // Every second, no coalescing, no grace limit: a day of backlog would be 86 400 runs.
    h.sched
        .add_job(noop())
        .id("j")
        .trigger(Trigger::interval(Duration::from_secs(1)).expect("valid"))
        .coalesce(false)
        .misfire_grace_time(None)
        .max_catch_up(5)
        .await
        .expect("added");
    h.sched.pause().await.expect("running");
    h.advance(86_400.0);
    h.sched.resume().await.expect("running");
    let e = h
        .expect("summary", |e| matches!(e, Event::JobMissed { .. }))
        .await;
    assert!(matches!(e, Event::JobMissed { count: 5, .. }), "{e:?}");
    let job = h
        .sched
        .get_job("j")
        .await
        .expect("running")
        .expect("exists");
    assert_eq!(job.next_run_time(), Some(secs(86_401)));
    h.shutdown().await;
}
