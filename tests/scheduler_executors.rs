//! Executors: async pool, thread pool, panics, errors, timeouts and retries.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use scheduler::{Event, Executor, FailureKind, JobContext, Retry, Scheduler, Target, Trigger};
use tests::harness::{executed, failed, start, t0};

fn secs(s: i64) -> chrono::DateTime<chrono::Utc> {
    t0() + chrono::TimeDelta::seconds(s)
}

#[tokio::test]
async fn an_error_is_a_failed_run_with_its_text() {
    let mut h = start(Scheduler::builder());
    let t = Target::from_async(|_ctx| async { Err::<(), _>("database unreachable") });
    h.sched.add_job(t).id("j").await.expect("added");
    let e = h.expect("failure", failed("j")).await;
    let Event::JobError {
        kind,
        error,
        retry_at,
        attempt,
        ..
    } = e
    else {
        unreachable!()
    };
    assert_eq!(
        (kind, error.as_str(), retry_at, attempt),
        (FailureKind::Error, "database unreachable", None, 1)
    );
    h.shutdown().await;
}

#[tokio::test]
async fn a_panic_is_a_failed_run_and_the_executor_keeps_its_capacity() {
    // One arbiter, one run at a time: a leaked permit would block the next job.
    let mut h = start(Scheduler::builder().executor("default", Executor::async_pool_with(1, 1)));
    let boom = Target::from_async(|_ctx| async {
        if true {
            panic!("boom at {}", 42);
        }
    });
    h.sched.add_job(boom).id("boom").await.expect("added");
    let e = h.expect("panic", failed("boom")).await;
    assert!(
        matches!(&e, Event::JobError { kind: FailureKind::Panic, error, .. } if error == "boom at 42"),
        "{e:?}"
    );
    for i in 0..3 {
        h.sched
            .add_job(Target::from_async(|_ctx| async {}))
            .id(format!("after-{i}"))
            .await
            .expect("added");
        h.expect("run after the panic", executed(&format!("after-{i}")))
            .await;
    }
    h.shutdown().await;
}

#[tokio::test]
async fn thread_pool_runs_blocking_jobs_concurrently_on_its_threads() {
    let mut h = start(Scheduler::builder().executor("blocking", Executor::thread_pool(2)));
    let barrier = Arc::new(Barrier::new(2));
    let threads = Arc::new(Mutex::new(Vec::new()));
    for i in 0..2 {
        let (b, t) = (barrier.clone(), threads.clone());
        let target = Target::from_blocking(move |_ctx: JobContext| {
            // Both runs must be inside at once for either to pass.
            b.wait();
            if let Ok(mut v) = t.lock() {
                v.push(std::thread::current().id());
            }
        });
        h.sched
            .add_job(target)
            .id(format!("b{i}"))
            .executor("blocking")
            .await
            .expect("added");
    }
    // Either may finish first.
    h.expect("b0 or b1", |e| matches!(e, Event::JobExecuted { .. }))
        .await;
    h.expect("the other", |e| matches!(e, Event::JobExecuted { .. }))
        .await;
    let ids = threads.lock().expect("lock").clone();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
    h.shutdown().await;
}

#[tokio::test]
async fn a_panic_on_the_thread_pool_keeps_the_pool() {
    let mut h = start(Scheduler::builder().executor("blocking", Executor::thread_pool(1)));
    let boom =
        Target::from_blocking(|_ctx: JobContext| -> Result<(), String> { panic!("thread boom") });
    h.sched
        .add_job(boom)
        .id("boom")
        .executor("blocking")
        .await
        .expect("added");
    let e = h.expect("panic", failed("boom")).await;
    assert!(
        matches!(&e, Event::JobError { kind: FailureKind::Panic, error, .. } if error == "thread boom"),
        "{e:?}"
    );
    let ok = Target::from_blocking(|_ctx: JobContext| Ok::<(), String>(()));
    h.sched
        .add_job(ok)
        .id("ok")
        .executor("blocking")
        .await
        .expect("added");
    h.expect("run after the panic", executed("ok")).await;
    // Async jobs given to a thread pool run there too.
    h.sched
        .add_job(Target::from_async(|_ctx| async {}))
        .id("async")
        .executor("blocking")
        .await
        .expect("added");
    h.expect("async on the pool", executed("async")).await;
    // Blocking jobs given to the async pool run on tokio's blocking threads.
    h.sched
        .add_job(Target::from_blocking(|_ctx: JobContext| {}))
        .id("blk")
        .await
        .expect("added");
    h.expect("blocking on the async pool", executed("blk"))
        .await;
    h.shutdown().await;
}

#[tokio::test]
async fn an_async_timeout_cancels_then_drops() {
    let mut h = start(Scheduler::builder());
    // Stops when cancelled: a timeout all the same.
    let polite = Target::from_async(|ctx: JobContext| async move {
        ctx.cancelled().await;
    });
    h.sched
        .add_job(polite)
        .id("polite")
        .timeout(Duration::from_secs(5))
        .await
        .expect("added");
    h.expect("submit", |e| matches!(e, Event::JobSubmitted { .. }))
        .await;
    h.advance(5.0);
    let e = h.expect("timeout", failed("polite")).await;
    assert!(
        matches!(&e, Event::JobError { kind: FailureKind::Timeout, error, .. } if error.contains("stopped when cancelled")),
        "{e:?}"
    );

    // Ignores cancellation: dropped after the grace.
    let stubborn = Target::from_async(|_ctx| std::future::pending::<()>());
    h.sched
        .add_job(stubborn)
        .id("stubborn")
        .timeout(Duration::from_secs(5))
        .await
        .expect("added");
    h.expect(
        "submit",
        |e| matches!(e, Event::JobSubmitted { job_id, .. } if &**job_id == "stubborn"),
    )
    .await;
    h.advance(5.0);
    // Let the run see its deadline before the grace starts.
    tokio::time::sleep(Duration::from_millis(50)).await;
    h.advance(1.0);
    let e = h.expect("timeout", failed("stubborn")).await;
    assert!(
        matches!(&e, Event::JobError { kind: FailureKind::Timeout, error, .. } if error.contains("dropped")),
        "{e:?}"
    );
    let job = h.sched.get_job("stubborn").await.expect("running");
    assert!(job.is_none(), "a one-shot job is gone after its run");
    h.shutdown().await;
}

#[tokio::test]
async fn a_blocking_timeout_keeps_the_slot_until_the_thread_returns() {
    let mut h = start(Scheduler::builder().executor("blocking", Executor::thread_pool(2)));
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let rx = Arc::new(Mutex::new(rx));
    let target = Target::from_blocking(move |_ctx: JobContext| {
        if let Ok(rx) = rx.lock() {
            let _ = rx.recv_timeout(Duration::from_secs(20));
        }
    });
    h.sched
        .add_job(target)
        .id("slow")
        .executor("blocking")
        .trigger(Trigger::interval(Duration::from_secs(10)).expect("valid"))
        .timeout(Duration::from_secs(3))
        .await
        .expect("added");
    h.advance(10.0);
    h.expect("submit", |e| matches!(e, Event::JobSubmitted { .. }))
        .await;
    h.advance(3.0);
    let e = h.expect("timeout", failed("slow")).await;
    assert!(
        matches!(&e, Event::JobError { kind: FailureKind::Timeout, error, .. } if error.contains("max_instances slot")),
        "{e:?}"
    );
    assert_eq!(
        h.sched
            .get_job("slow")
            .await
            .expect("running")
            .expect("exists")
            .running(),
        1
    );
    // The next fire finds the slot taken.
    h.advance(7.0);
    h.expect(
        "skip",
        |e| matches!(e, Event::JobMaxInstances { scheduled_at, .. } if *scheduled_at == secs(20)),
    )
    .await;
    // The thread returns: the slot is free.
    tx.send(()).expect("release");
    for _ in 0..200 {
        if h.sched
            .get_job("slow")
            .await
            .expect("running")
            .expect("exists")
            .running()
            == 0
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        h.sched
            .get_job("slow")
            .await
            .expect("running")
            .expect("exists")
            .running(),
        0
    );
    h.shutdown().await;
}

#[tokio::test]
async fn retries_back_off_and_report_whether_a_retry_follows() {
    let mut h = start(Scheduler::builder());
    let attempts = Arc::new(AtomicU32::new(0));
    let a = attempts.clone();
    let flaky = Target::from_async(move |ctx: JobContext| {
        let a = a.clone();
        async move {
            a.fetch_add(1, Ordering::SeqCst);
            if ctx.attempt() < 3 {
                Err(format!("attempt {} failed", ctx.attempt()))
            } else {
                Ok(())
            }
        }
    });
    let retry = Retry::new(3).initial(Duration::from_secs(10)).factor(2.0);
    h.sched
        .add_job(flaky)
        .id("flaky")
        .retry(retry)
        .await
        .expect("added");
    let e = h.expect("first failure", failed("flaky")).await;
    assert!(
        matches!(e, Event::JobError { attempt: 1, retry_at: Some(t), .. } if t == secs(10)),
        "{e:?}"
    );
    h.advance(10.0);
    let e = h.expect("second failure", failed("flaky")).await;
    assert!(
        matches!(e, Event::JobError { attempt: 2, retry_at: Some(t), .. } if t == secs(30)),
        "{e:?}"
    );
    h.advance(20.0);
    let e = h.expect("success", executed("flaky")).await;
    assert!(
        matches!(e, Event::JobExecuted { attempt: 3, scheduled_at, .. } if scheduled_at == t0()),
        "{e:?}"
    );
    assert_eq!(attempts.load(Ordering::SeqCst), 3);
    h.shutdown().await;
}

#[tokio::test]
async fn retries_run_out() {
    let mut h = start(Scheduler::builder());
    let always = Target::from_async(|_ctx| async { Err::<(), _>("nope") });
    h.sched
        .add_job(always)
        .id("j")
        .retry(Retry::new(1).initial(Duration::from_secs(1)))
        .await
        .expect("added");
    let e = h.expect("failure", failed("j")).await;
    assert!(
        matches!(
            e,
            Event::JobError {
                attempt: 1,
                retry_at: Some(_),
                ..
            }
        ),
        "{e:?}"
    );
    h.advance(1.0);
    let e = h.expect("final failure", failed("j")).await;
    assert!(
        matches!(
            e,
            Event::JobError {
                attempt: 2,
                retry_at: None,
                ..
            }
        ),
        "{e:?}"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn a_pending_retry_holds_the_slot_against_the_next_fire() {
    let mut h = start(Scheduler::builder());
    let failing = Target::from_async(|_ctx| async { Err::<(), _>("down") });
    h.sched
        .add_job(failing)
        .id("j")
        .trigger(Trigger::interval(Duration::from_secs(10)).expect("valid"))
        .retry(Retry::new(1).initial(Duration::from_secs(15)))
        .await
        .expect("added");
    h.advance(10.0);
    h.expect("failure", failed("j")).await;
    h.advance(10.0); // t = 20: the retry (due at 25) still holds the only slot
    h.expect(
        "skip",
        |e| matches!(e, Event::JobMaxInstances { scheduled_at, .. } if *scheduled_at == secs(20)),
    )
    .await;
    h.advance(5.0); // t = 25: the retry runs
    let e = h
        .expect("retry", |e| {
            matches!(e, Event::JobSubmitted { attempt: 2, .. })
        })
        .await;
    assert!(matches!(e, Event::JobSubmitted { scheduled_at, .. } if scheduled_at == secs(10)));
    h.shutdown().await;
}
