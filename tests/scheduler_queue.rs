//! A queue of 1,000,000 one-shot jobs: batch add, lookups, in-order dispatch.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use scheduler::{JobSpec, Scheduler, Target, Trigger};
use tests::harness::{start, t0};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_million_pending_jobs() {
    const N: u64 = 1_000_000;
    let h = start(Scheduler::builder());
    let ran = Arc::new(AtomicU64::new(0));
    let r = ran.clone();
    let target = Target::from_async(move |_ctx| {
        let r = r.clone();
        async move {
            r.fetch_add(1, Ordering::Relaxed);
        }
    });
    // One job per 100 ms over 100 000 s (about 28 hours), added in batches.
    for chunk in 0..10u64 {
        let specs: Vec<JobSpec> = (chunk * N / 10..(chunk + 1) * N / 10)
            .map(|i| {
                JobSpec::new(target.clone())
                    .id(format!("order-{i}"))
                    .trigger(Trigger::at(
                        t0() + chrono::TimeDelta::milliseconds(100 * (i as i64 + 1)),
                    ))
                    // The clock jumps 10 s at once below; without this, all but the
                    // last second's jobs would be (correctly) reported as missed.
                    .misfire_grace_time(None)
            })
            .collect();
        h.sched.add_jobs(specs).await.expect("batch added");
    }
    assert_eq!(h.sched.job_count().await.expect("running"), N as usize);
    let job = h
        .sched
        .get_job("order-999999")
        .await
        .expect("running")
        .expect("exists");
    assert_eq!(
        job.next_run_time(),
        Some(t0() + chrono::TimeDelta::seconds(100_000))
    );

    // Ten seconds pass: exactly the first 100 jobs are due and run.
    h.clock.advance(Duration::from_secs(10));
    for _ in 0..500 {
        if ran.load(Ordering::Relaxed) == 100 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(ran.load(Ordering::Relaxed), 100);
    assert_eq!(
        h.sched.job_count().await.expect("running"),
        (N - 100) as usize
    );
    assert!(h
        .sched
        .get_job("order-99")
        .await
        .expect("running")
        .is_none());
    assert!(h
        .sched
        .get_job("order-100")
        .await
        .expect("running")
        .is_some());

    // Removing a job in the middle of the queue takes it out of the schedule.
    h.sched.remove_job("order-150").await.expect("removed");
    h.clock.advance(Duration::from_secs(10));
    for _ in 0..500 {
        if ran.load(Ordering::Relaxed) == 199 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(ran.load(Ordering::Relaxed), 199);
    h.sched.shutdown(false).await.expect("shutdown");
}
