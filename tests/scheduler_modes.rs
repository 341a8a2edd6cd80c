//! Run modes: inside a running actix System, in the background, blocking.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use scheduler::{ErrorKind, Scheduler, Target, TestClock};
use tests::harness::t0;

#[test]
fn start_needs_a_running_system() {
    let err = Scheduler::builder().start().expect_err("no System here");
    assert_eq!(err.kind(), ErrorKind::Start);
    assert!(err.to_string().contains("start_background"), "{err}");
}

#[actix_rt::test]
async fn inside_an_actix_system() {
    let sched = Scheduler::builder()
        .without_registered_jobs()
        .start()
        .expect("starts in this System");
    let ran = Arc::new(AtomicU32::new(0));
    let r = ran.clone();
    let mut events = sched.subscribe();
    sched
        .add_job(Target::from_async(move |_ctx| {
            let r = r.clone();
            async move {
                r.fetch_add(1, Ordering::SeqCst);
            }
        }))
        .await
        .expect("added");
    use tokio_stream::StreamExt;
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_secs(5), events.next()).await {
        if matches!(e, scheduler::Event::JobExecuted { .. }) {
            break;
        }
    }
    assert_eq!(ran.load(Ordering::SeqCst), 1);
    sched.shutdown(true).await.expect("shutdown");
}

#[test]
fn in_the_background_from_plain_threads() {
    let sched = Scheduler::builder()
        .without_registered_jobs()
        .start_background()
        .expect("starts");
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let s = sched.clone();
            std::thread::spawn(move || {
                s.blocking()
                    .add_job(Target::from_async(|_ctx| async {}))
                    .id(format!("job-{i}"))
                    .trigger(scheduler::Trigger::after(Duration::from_secs(3600)))
                    .send_blocking()
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread").expect("added");
    }
    assert_eq!(sched.blocking().jobs().expect("running").len(), 4);
    sched.blocking().shutdown(true).expect("shutdown");
    assert!(sched.is_shutdown());
}

#[test]
fn blocking_until_shut_down() {
    let clock = TestClock::new(t0());
    let ran = Arc::new(AtomicU32::new(0));
    let r = ran.clone();
    Scheduler::builder()
        .without_registered_jobs()
        .clock(clock)
        .run_blocking_with(move |sched| async move {
            let handle = sched.clone();
            sched
                .add_job(Target::from_async(move |_ctx| {
                    let (r, handle) = (r.clone(), handle.clone());
                    async move {
                        r.fetch_add(1, Ordering::SeqCst);
                        // A job may shut its own scheduler down (without waiting for itself).
                        actix_rt::spawn(async move {
                            let _ = handle.shutdown(false).await;
                        });
                    }
                }))
                .await?;
            Ok(())
        })
        .expect("ran until shutdown");
    assert_eq!(ran.load(Ordering::SeqCst), 1);
}
