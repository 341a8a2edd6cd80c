//! The handle tells the truth: `Ok` means the job is there, and a scheduler
//! whose System was stopped under it answers every call with a typed error.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use scheduler::{ErrorKind, Event, EventMask, JobSpec, Scheduler, Target, TestClock, Trigger};
use tests::harness::{start, stopped_under_a_running_job, t0};
use tokio_stream::StreamExt;

/// A job that never ends by itself.
fn forever() -> Target {
    Target::from_async(|_ctx| std::future::pending::<()>())
}

#[test]
fn a_stopped_system_makes_every_handle_method_fail() {
    let sched = stopped_under_a_running_job("long");
    let b = sched.blocking();
    let kind = |r: Result<_, scheduler::Error>| r.map(|_| ()).expect_err("must fail").kind();
    assert_eq!(kind(b.get_job("long").map(|_| ())), ErrorKind::Aborted);
    assert_eq!(kind(b.jobs().map(|_| ())), ErrorKind::Aborted);
    assert_eq!(
        kind(b.add_job(forever()).id("lost").send_blocking().map(|_| ())),
        ErrorKind::Aborted
    );
    assert_eq!(kind(b.run_job_now("long").map(|_| ())), ErrorKind::Aborted);
    let e = b.shutdown(true).expect_err("nothing was drained");
    assert!(e.is_aborted(), "{e}");
    assert!(sched.is_shutdown());
}

#[tokio::test]
async fn shutdown_after_shutdown_is_ok() {
    let h = start(Scheduler::builder());
    h.sched.shutdown(true).await.expect("drained");
    h.sched.shutdown(true).await.expect("already shut down");
    let e = h.sched.get_job("x").await.expect_err("gone");
    assert_eq!(e.kind(), ErrorKind::NotRunning);
}

/// Counts the events in `mask` with a listener (listeners never lag, where a
/// stream would drop events past its capacity in a long race).
fn counted(mask: EventMask) -> (scheduler::SchedulerBuilder, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    let builder = Scheduler::builder().listener(mask, move |_e: &Event| {
        c.fetch_add(1, Ordering::SeqCst);
    });
    (builder, count)
}

/// Adds racing a shutdown: every add acknowledged is committed (a
/// `JobAdded` for each), every other add fails with `NotRunning`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adds_racing_shutdown_are_committed_or_refused() {
    for round in 0..20 {
        let (builder, added) = counted(EventMask::JOB_ADDED);
        let h = start(builder);
        let acked = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for t in 0..4 {
            let (sched, acked) = (h.sched.clone(), acked.clone());
            tasks.push(tokio::spawn(async move {
                for i in 0.. {
                    let r = sched
                        .add_job(forever())
                        .id(format!("r{round}-t{t}-{i}"))
                        .next_run_time(None)
                        .await;
                    match r {
                        Ok(_) => acked.fetch_add(1, Ordering::SeqCst),
                        Err(e) => {
                            assert_eq!(e.kind(), ErrorKind::NotRunning, "{e}");
                            break;
                        }
                    };
                    if i % 16 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            }));
        }
        tokio::task::yield_now().await;
        h.sched.shutdown(true).await.expect("drained");
        for t in tasks {
            t.await.expect("adder");
        }
        // The listener ran before `shutdown` returned: every commit is counted.
        assert_eq!(
            added.load(Ordering::SeqCst),
            acked.load(Ordering::SeqCst),
            "round {round}"
        );
    }
}

/// A replacing add, a `remove_all_jobs` and a plain add of the same id,
/// racing: every acknowledged add is committed (added or replaced).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adds_racing_remove_all_are_never_dropped() {
    let (builder, committed) = counted(EventMask::JOB_ADDED | EventMask::JOB_MODIFIED);
    let h = start(builder);
    h.sched
        .add_job(forever())
        .id("x")
        .next_run_time(None)
        .await
        .expect("added");
    let mut acked = 1;
    for _ in 0..300 {
        let (a, b, c) = (h.sched.clone(), h.sched.clone(), h.sched.clone());
        let replace = tokio::spawn(async move {
            a.add_job(forever())
                .id("x")
                .replace_existing(true)
                .next_run_time(None)
                .await
        });
        let clear = tokio::spawn(async move { b.remove_all_jobs().await });
        let plain =
            tokio::spawn(async move { c.add_job(forever()).id("x").next_run_time(None).await });
        acked += usize::from(replace.await.expect("task").is_ok());
        clear.await.expect("task").expect("removed");
        match plain.await.expect("task") {
            Ok(_) => acked += 1,
            Err(e) => assert_eq!(e.kind(), ErrorKind::DuplicateId, "{e}"),
        }
    }
    h.sched.shutdown(true).await.expect("drained");
    assert_eq!(committed.load(Ordering::SeqCst), acked);
}

#[tokio::test]
async fn trigger_after_is_measured_on_the_schedulers_clock() {
    let h = start(Scheduler::builder());
    let id = h
        .sched
        .add_job(forever())
        .trigger(Trigger::after(Duration::from_secs(30 * 60)))
        .await
        .expect("added");
    let job = h.sched.get_job(&id).await.expect("running").expect("there");
    assert_eq!(
        job.next_run_time(),
        Some(t0() + chrono::TimeDelta::minutes(30))
    );
    let job = h
        .sched
        .reschedule_job(&id, Trigger::after(Duration::from_secs(60)))
        .await
        .expect("rescheduled");
    assert_eq!(
        job.next_run_time(),
        Some(t0() + chrono::TimeDelta::minutes(1))
    );
    h.shutdown().await;
}

/// `remove_all_jobs` is one pass over jobs and one over runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_all_with_100k_jobs_and_10k_runs_in_flight_is_quick() {
    let clock = TestClock::new(t0());
    let mut builder = Scheduler::builder()
        .without_registered_jobs()
        .clock(clock.clone())
        .event_capacity(1 << 18)
        .executor("default", scheduler::Executor::async_pool_with(1, 20_000));
    let mut events = builder.subscribe();
    let sched = builder.start_background().expect("starts");
    let running: Vec<JobSpec> = (0..10_000)
        .map(|i| {
            JobSpec::new(forever())
                .id(format!("run-{i}"))
                .trigger(Trigger::interval(Duration::from_secs(3600)).expect("valid"))
                .next_run_time(Some(t0()))
        })
        .collect();
    let paused: Vec<JobSpec> = (0..90_000)
        .map(|i| {
            JobSpec::new(forever())
                .id(format!("paused-{i}"))
                .next_run_time(None)
        })
        .collect();
    sched.add_jobs(running).await.expect("added");
    sched.add_jobs(paused).await.expect("added");
    let mut submitted = 0;
    while submitted < 10_000 {
        match events.next().await {
            Some(Event::JobSubmitted { .. }) => submitted += 1,
            Some(_) => {}
            None => panic!("stream ended"),
        }
    }
    assert_eq!(sched.job_count().await.expect("running"), 100_000);
    let started = std::time::Instant::now();
    sched.remove_all_jobs().await.expect("removed");
    let took = started.elapsed();
    assert_eq!(sched.job_count().await.expect("running"), 0);
    assert!(
        took < Duration::from_secs(1),
        "remove_all_jobs took {took:?}"
    );
    sched.shutdown(false).await.expect("shut down");
}
