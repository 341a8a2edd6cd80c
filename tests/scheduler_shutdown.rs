//! Shutdown: waiting for running jobs, the deadline, and what happens after.

use std::sync::Arc;
use std::time::Duration;

use scheduler::{ErrorKind, Event, FailureKind, JobContext, Scheduler, Target, Trigger};
use tests::harness::{executed, start};
use tokio::sync::Semaphore;

#[tokio::test]
async fn shutdown_waits_for_running_jobs() {
    let mut h = start(Scheduler::builder());
    let gate = Arc::new(Semaphore::new(0));
    let g = gate.clone();
    let job = Target::from_async(move |_ctx| {
        let g = g.clone();
        async move {
            let _ = g.acquire().await;
        }
    });
    h.sched.add_job(job).id("long").await.expect("added");
    h.expect("submit", |e| matches!(e, Event::JobSubmitted { .. }))
        .await;
    let sched = h.sched.clone();
    let shutdown = tokio::spawn(async move { sched.shutdown(true).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !shutdown.is_finished(),
        "shutdown(wait) returned while a job was running"
    );
    // No new runs while draining.
    let err = h
        .sched
        .add_job(Target::from_async(|_ctx| async {}))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotRunning, "{err}");
    gate.add_permits(1);
    shutdown.await.expect("join").expect("shutdown");
    h.expect("run", executed("long")).await;
    h.expect("shutdown event", |e| matches!(e, Event::SchedulerShutdown))
        .await;
    assert!(h.sched.is_shutdown());
    let err = h.sched.jobs().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotRunning);
}

#[tokio::test]
async fn the_deadline_cancels_running_jobs() {
    let mut h = start(Scheduler::builder());
    let polite = Target::from_async(|ctx: JobContext| async move {
        ctx.cancelled().await;
    });
    let stubborn = Target::from_async(|_ctx| std::future::pending::<()>());
    h.sched.add_job(polite).id("polite").await.expect("added");
    h.sched
        .add_job(stubborn)
        .id("stubborn")
        .await
        .expect("added");
    h.expect(
        "submit",
        |e| matches!(e, Event::JobSubmitted { job_id, .. } if &**job_id == "stubborn"),
    )
    .await;
    let sched = h.sched.clone();
    let shutdown =
        tokio::spawn(async move { sched.shutdown_with_deadline(Duration::from_secs(30)).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    h.advance(30.0); // the deadline: both are cancelled
    let e = h
        .expect(
            "polite cancelled",
            |e| matches!(e, Event::JobError { job_id, .. } if &**job_id == "polite"),
        )
        .await;
    assert!(
        matches!(
            e,
            Event::JobError {
                kind: FailureKind::Cancelled,
                ..
            }
        ),
        "{e:?}"
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    h.advance(2.0); // past the grace: the stubborn one is dropped
    let e = h
        .expect(
            "stubborn dropped",
            |e| matches!(e, Event::JobError { job_id, .. } if &**job_id == "stubborn"),
        )
        .await;
    assert!(
        matches!(
            e,
            Event::JobError {
                kind: FailureKind::Cancelled,
                ..
            }
        ),
        "{e:?}"
    );
    shutdown.await.expect("join").expect("shutdown");
    h.expect("shutdown event", |e| matches!(e, Event::SchedulerShutdown))
        .await;
}

#[tokio::test]
async fn shutdown_without_wait_returns_at_once_and_drops_pending_retries() {
    let mut h = start(Scheduler::builder());
    h.sched
        .add_job(Target::from_async(|_ctx| std::future::pending::<()>()))
        .id("forever")
        .trigger(Trigger::interval(Duration::from_secs(1)).expect("valid"))
        .await
        .expect("added");
    h.advance(1.0);
    h.expect("submit", |e| matches!(e, Event::JobSubmitted { .. }))
        .await;
    tokio::time::timeout(Duration::from_secs(5), h.sched.shutdown(false))
        .await
        .expect("shutdown(false) does not wait")
        .expect("shutdown");
    h.expect("shutdown event", |e| matches!(e, Event::SchedulerShutdown))
        .await;
    // Twice is fine.
    h.sched
        .shutdown(true)
        .await
        .expect("second shutdown is a no-op");
}
