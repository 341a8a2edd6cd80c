//! Executors run under `actix::Supervisor`: stopping one (on purpose, with
//! `restart_executor`) restarts it, and the runs it had in flight are resolved
//! (failed with a reason, retried if the job says so), never left holding
//! their `max_instances` slot.

mod process_jobs;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use scheduler::{Event, Executor, FailureKind, Retry, Scheduler, Target, Trigger};
use tests::harness::{self, executed, failed};
use tests::procs;

const WORKER: &str = env!("CARGO_BIN_EXE_process_worker");

/// Hangs on its first attempt, succeeds on the next.
fn hangs_first() -> Target {
    Target::from_async(|ctx| async move {
        if ctx.attempt() == 1 {
            std::future::pending::<()>().await;
        }
    })
}

#[actix_rt::test]
async fn a_restarted_async_executor_fails_its_runs_in_flight_and_they_are_retried() {
    let mut h = harness::start(Scheduler::builder());
    h.sched
        .add_job(hangs_first())
        .id("stuck")
        .retry(Retry::new(1))
        .await
        .expect("added");
    h.expect("the run starts", |e| {
        matches!(e, Event::JobSubmitted { .. })
    })
    .await;
    h.sched
        .restart_executor("default")
        .await
        .expect("restarted");
    let e = h.expect("the run resolved", failed("stuck")).await;
    let Event::JobError {
        kind,
        retry_at,
        error,
        ..
    } = &e
    else {
        unreachable!()
    };
    assert_eq!(*kind, FailureKind::ExecutorRestarted, "{error}");
    assert!(retry_at.is_some(), "retried: {e:?}");
    // The executor works again: the retry runs on it.
    h.advance(1.0);
    let e = h.expect("the retry", executed("stuck")).await;
    assert!(matches!(e, Event::JobExecuted { attempt: 2, .. }), "{e:?}");
    h.shutdown().await;
}

#[actix_rt::test]
async fn a_resolved_run_gives_back_its_max_instances_slot_even_unobserved() {
    // Nobody subscribes, so the runs are booked by the executor ("light").
    let sched = Scheduler::builder()
        .without_registered_jobs()
        .start_background()
        .expect("starts");
    let starts = Arc::new(AtomicU32::new(0));
    let s = starts.clone();
    sched
        .add_job(Target::from_async(move |_ctx| {
            let n = s.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    std::future::pending::<()>().await;
                }
            }
        }))
        .id("every-100ms")
        .trigger(Trigger::interval(Duration::from_millis(100)).expect("interval"))
        .max_instances(1)
        .await
        .expect("added");
    let wait_for = |n: u32| {
        let starts = starts.clone();
        async move {
            for _ in 0..200 {
                if starts.load(Ordering::SeqCst) >= n {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            false
        }
    };
    assert!(wait_for(1).await, "first run");
    // The first run hangs: later fires are skipped (max_instances = 1).
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(
        starts.load(Ordering::SeqCst),
        1,
        "the hung run holds the slot"
    );
    sched.restart_executor("default").await.expect("restarted");
    assert!(wait_for(3).await, "the slot came back; runs go on");
    sched.shutdown(true).await.expect("shut down");
}

#[actix_rt::test]
async fn a_restarted_process_pool_kills_its_children_and_keeps_working() {
    let mut h = harness::start(
        Scheduler::builder().executor("cpu", Executor::process_pool_with_program(1, WORKER)),
    );
    let (pidfile, arg) = procs::pid_file("restart");
    h.sched
        .add_job(process_jobs::proc_sleep::with(arg, 60_000))
        .id("sleeper")
        .executor("cpu")
        .await
        .expect("added");
    let pid = procs::pid_in(&pidfile);
    h.sched.restart_executor("cpu").await.expect("restarted");
    let e = h.expect("the run resolved", failed("sleeper")).await;
    assert!(
        matches!(
            e,
            Event::JobError {
                kind: FailureKind::ExecutorRestarted,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        procs::ended_within(pid, 5),
        "worker {pid} survived the restart"
    );
    h.sched
        .add_job(process_jobs::proc_ok::with())
        .id("after")
        .executor("cpu")
        .await
        .expect("added");
    h.expect("a run after the restart", executed("after")).await;
    h.shutdown().await;
}

#[actix_rt::test]
async fn a_restarted_thread_pool_lets_its_blocking_runs_finish() {
    let mut h = harness::start(Scheduler::builder().executor("threads", Executor::thread_pool(2)));
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let rx = std::sync::Mutex::new(rx);
    h.sched
        .add_job(Target::from_blocking(move |_ctx| {
            if let Ok(rx) = rx.lock() {
                let _ = rx.recv_timeout(Duration::from_secs(10));
            }
        }))
        .id("blocking")
        .executor("threads")
        .await
        .expect("added");
    h.expect("the run starts", |e| {
        matches!(e, Event::JobSubmitted { .. })
    })
    .await;
    h.sched
        .restart_executor("threads")
        .await
        .expect("restarted");
    tx.send(()).expect("release the thread");
    h.expect("the run reports", executed("blocking")).await;
    h.shutdown().await;
}

#[actix_rt::test]
async fn restarting_an_unknown_executor_is_an_error() {
    let h = harness::start(Scheduler::builder());
    let e = h
        .sched
        .restart_executor("nope")
        .await
        .expect_err("no such executor");
    assert_eq!(e.kind(), scheduler::ErrorKind::UnknownExecutor);
    h.shutdown().await;
}
