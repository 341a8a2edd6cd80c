//! Runs nobody listens to are "light": the executor, not the scheduler, keeps
//! their books. They must honour max_instances and shutdown(wait) all the same.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use scheduler::{Scheduler, Target, TestClock, Trigger};
use tests::harness::t0;
use tokio::sync::Semaphore;

/// Polls `f` (real time, at most 10 s) until it is true.
async fn eventually(what: &str, f: impl Fn() -> bool) {
    for _ in 0..1000 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("not within 10 s: {what}");
}

fn gated(gate: &Arc<Semaphore>, starts: &Arc<AtomicU32>) -> Target {
    let (gate, starts) = (gate.clone(), starts.clone());
    Target::from_async(move |_ctx| {
        let (gate, starts) = (gate.clone(), starts.clone());
        async move {
            starts.fetch_add(1, Ordering::SeqCst);
            if let Ok(p) = gate.acquire().await {
                p.forget();
            }
        }
    })
}

#[tokio::test]
async fn light_runs_honour_max_instances_and_shutdown_waits_for_them() {
    let clock = TestClock::new(t0());
    // No subscription, no listener: every run below is light.
    let sched = Scheduler::builder()
        .without_registered_jobs()
        .clock(clock.clone())
        .start_background()
        .expect("starts");
    let (gate, starts) = (Arc::new(Semaphore::new(0)), Arc::new(AtomicU32::new(0)));
    sched
        .add_job(gated(&gate, &starts))
        .id("j")
        .trigger(Trigger::interval(Duration::from_secs(10)).expect("valid"))
        .await
        .expect("added");
    clock.advance(Duration::from_secs(10));
    eventually("the first run starts", || {
        starts.load(Ordering::SeqCst) == 1
    })
    .await;
    assert_eq!(
        sched
            .get_job("j")
            .await
            .expect("running")
            .expect("exists")
            .running(),
        1
    );
    // The next fire finds the only slot taken: skipped.
    clock.advance(Duration::from_secs(10));
    sched.wakeup().await.expect("running");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        starts.load(Ordering::SeqCst),
        1,
        "max_instances = 1 was not honoured"
    );
    // Finishing frees the slot.
    gate.add_permits(1);
    let mut freed = false;
    for _ in 0..1000 {
        if sched
            .get_job("j")
            .await
            .expect("running")
            .expect("exists")
            .running()
            == 0
        {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(freed, "the slot was not freed within 10 s");
    clock.advance(Duration::from_secs(10));
    eventually("the third fire runs", || starts.load(Ordering::SeqCst) == 2).await;

    // shutdown(wait) waits for the light run in progress.
    let s = sched.clone();
    let shutdown = tokio::spawn(async move { s.shutdown(true).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !shutdown.is_finished(),
        "shutdown(wait) did not wait for a light run"
    );
    gate.add_permits(1);
    tokio::time::timeout(Duration::from_secs(10), shutdown)
        .await
        .expect("shutdown ends")
        .expect("join")
        .expect("ok");
    assert!(sched.is_shutdown());
}
