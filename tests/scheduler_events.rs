//! Events: the stream, listeners with masks, and what each operation emits.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use scheduler::{Event, EventMask, Scheduler, Target, Trigger};
use tests::harness::{executed, failed, start};

#[tokio::test]
async fn a_job_lifecycle_in_events() {
    let mut h = start(Scheduler::builder());
    h.sched
        .add_job(Target::from_async(|_ctx| async {}))
        .id("j")
        .trigger(Trigger::interval(Duration::from_secs(5)).expect("valid"))
        .await
        .expect("added");
    h.advance(5.0);
    let e = h.expect("run", executed("j")).await;
    let Event::JobExecuted {
        run_id,
        attempt,
        duration,
        ..
    } = e
    else {
        unreachable!()
    };
    assert_eq!(attempt, 1);
    assert!(duration < Duration::from_secs(5));
    assert!(h
        .seen
        .iter()
        .any(|e| matches!(e, Event::JobSubmitted { run_id: r, .. } if *r == run_id)));
    h.sched.pause().await.expect("running");
    h.sched.resume().await.expect("running");
    h.sched.remove_all_jobs().await.expect("running");
    let kinds: Vec<EventMask> = h
        .until("all removed", |e| matches!(e, Event::AllJobsRemoved))
        .await
        .iter()
        .map(Event::mask)
        .collect();
    assert_eq!(
        kinds,
        [
            EventMask::SCHEDULER_PAUSED,
            EventMask::SCHEDULER_RESUMED,
            EventMask::ALL_JOBS_REMOVED
        ]
    );
    let added = h
        .seen
        .iter()
        .position(|e| matches!(e, Event::JobAdded { .. }));
    let submitted = h
        .seen
        .iter()
        .position(|e| matches!(e, Event::JobSubmitted { .. }));
    assert!(added < submitted, "{:#?}", h.seen);
    h.shutdown().await;
}

#[tokio::test]
async fn listeners_get_only_their_mask() {
    let mut h = start(Scheduler::builder());
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    h.sched
        .add_listener(EventMask::JOB_ERROR | EventMask::JOB_MISSED, move |e| {
            if let Ok(mut v) = g.lock() {
                v.push(e.clone());
            }
        })
        .await
        .expect("running");
    h.sched
        .add_job(Target::from_async(|_ctx| async {}))
        .id("ok")
        .await
        .expect("added");
    h.sched
        .add_job(Target::from_async(|_ctx| async { Err::<(), _>("bad") }))
        .id("bad")
        .await
        .expect("added");
    // The two run on different arbiters: either may finish first.
    h.expect("the first to finish", |e| {
        executed("ok")(e) || failed("bad")(e)
    })
    .await;
    h.expect("the second", |e| executed("ok")(e) || failed("bad")(e))
        .await;
    // Listeners run on the scheduler's thread before the stream sees the event.
    let got = got.lock().expect("lock").clone();
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(matches!(&got[0], Event::JobError { job_id, .. } if &**job_id == "bad"));
    h.shutdown().await;
}

/// Subscribed on the builder, a stream sees the start as well as the end.
#[tokio::test]
async fn start_and_shutdown_events() {
    let mut h = tests::harness::start(Scheduler::builder());
    h.sched.shutdown(true).await.expect("shutdown");
    let kinds: Vec<EventMask> = h
        .until("shutdown", |e| matches!(e, Event::SchedulerShutdown))
        .await
        .iter()
        .map(Event::mask)
        .collect();
    assert_eq!(
        kinds,
        [
            EventMask::EXECUTOR_ADDED,
            EventMask::SCHEDULER_STARTED,
            EventMask::EXECUTOR_REMOVED,
            EventMask::SCHEDULER_SHUTDOWN
        ]
    );
}

#[tokio::test]
async fn a_panicking_listener_is_removed_and_the_scheduler_goes_on() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let (bad, good) = (calls.clone(), calls.clone());
    let mut h = start(
        Scheduler::builder()
            .listener(EventMask::JOB_ADDED, move |e: &Event| {
                if let Ok(mut c) = bad.lock() {
                    c.push(format!("bad {:?}", e.job_id()));
                }
                panic!("listener bug");
            })
            .listener(EventMask::JOB_ADDED, move |e: &Event| {
                if let Ok(mut c) = good.lock() {
                    c.push(format!("good {:?}", e.job_id()));
                }
            }),
    );
    for id in ["a", "b"] {
        h.sched
            .add_job(Target::from_async(|_ctx| async {}))
            .id(id)
            .await
            .expect("added");
        h.expect("run", executed(id)).await;
    }
    assert_eq!(
        *calls.lock().expect("lock"),
        [r#"bad Some("a")"#, r#"good Some("a")"#, r#"good Some("b")"#]
    );
    h.shutdown().await;
}

#[tokio::test]
async fn a_builder_listener_sees_the_start() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let h = start(
        Scheduler::builder().listener(EventMask::ALL, move |e: &Event| {
            if let Ok(mut v) = s.lock() {
                v.push(e.mask());
            }
        }),
    );
    h.shutdown().await;
    let seen = seen.lock().expect("lock");
    assert_eq!(seen.first(), Some(&EventMask::EXECUTOR_ADDED), "{seen:?}");
    assert!(seen.contains(&EventMask::SCHEDULER_STARTED), "{seen:?}");
    assert_eq!(
        seen.last(),
        Some(&EventMask::SCHEDULER_SHUTDOWN),
        "{seen:?}"
    );
}

#[tokio::test]
async fn a_lagging_stream_is_told_how_many_events_it_missed() {
    // A listener counts what was emitted; listeners never lag.
    let emitted = Arc::new(Mutex::new(0usize));
    let count = emitted.clone();
    let h = start(Scheduler::builder().event_capacity(4).listener(
        EventMask::ALL,
        move |_e: &Event| {
            if let Ok(mut c) = count.lock() {
                *c += 1;
            }
        },
    ));
    // Past what happens at start: a new stream starts here.
    h.sched.wakeup().await.expect("running");
    let before = *emitted.lock().expect("lock");
    let mut slow = h.sched.subscribe();
    for i in 0..10 {
        h.sched
            .add_job(Target::from_async(|_ctx| async {}))
            .id(format!("j{i}"))
            .next_run_time(None)
            .await
            .expect("added");
    }
    h.sched.remove_all_jobs().await.expect("running");
    let total = *emitted.lock().expect("lock") - before;
    // The stream keeps 4: it is told it missed the rest, then gets those 4.
    let first = tokio_stream::StreamExt::next(&mut slow).await;
    let Some(Event::Lagged { missed }) = first else {
        panic!("expected a lag notice first, got {first:?}");
    };
    let mut rest = Vec::new();
    for _ in 0..4 {
        rest.extend(tokio_stream::StreamExt::next(&mut slow).await);
    }
    assert_eq!(missed as usize + rest.len(), total, "{rest:#?}");
    assert_eq!(rest.last(), Some(&Event::AllJobsRemoved));
    h.shutdown().await;
}
