//! A job can schedule jobs: `ctx.scheduler()` from async and blocking jobs,
//! on the async pool and on a thread pool.

use scheduler::prelude::*;
use scheduler::{Error, ErrorKind, Event};
use tests::harness::{executed, failed, start, Harness};

#[job]
async fn follow_up(order_id: u64) -> Result<(), String> {
    if order_id == 0 {
        return Err("no order".into());
    }
    Ok(())
}

/// Places an order, then schedules its follow-up, one-shot, from inside the job.
#[job]
async fn place_order(order_id: u64, ctx: JobContext) -> Result<(), Error> {
    ctx.scheduler()?
        .add_job(follow_up::with(order_id))
        .id(format!("follow-up-{order_id}"))
        .await?;
    Ok(())
}

/// The same from a blocking job, with the blocking API.
#[job]
fn place_order_blocking(order_id: u64, ctx: JobContext) -> Result<(), Error> {
    ctx.scheduler()?
        .blocking()
        .add_job(follow_up::with(order_id))
        .id(format!("follow-up-{order_id}"))
        .send_blocking()?;
    Ok(())
}

/// Waits for both runs, in whichever order their reports arrive.
async fn ran_both(h: &mut Harness, order: &str, follow_up: &str) {
    let ended = |h: &Harness, id: &str| h.seen.iter().any(|e| executed(id)(e));
    while !(ended(h, order) && ended(h, follow_up)) {
        h.expect("the order and its follow-up", |e| {
            executed(order)(e) || executed(follow_up)(e)
        })
        .await;
    }
}

#[tokio::test]
async fn an_async_job_adds_a_follow_up_job_that_runs() {
    let mut h = start(Scheduler::builder());
    h.sched
        .add_job(place_order::with(7))
        .id("order-7")
        .await
        .expect("added");
    ran_both(&mut h, "order-7", "follow-up-7").await;
    h.shutdown().await;
}

#[tokio::test]
async fn a_blocking_job_adds_follow_ups_on_every_in_process_executor() {
    let mut h = start(Scheduler::builder().executor("threads", Executor::thread_pool(2)));
    // On tokio's blocking threads (a blocking job on the async pool).
    h.sched
        .add_job(place_order_blocking::with(8))
        .id("order-8")
        .await
        .expect("added");
    ran_both(&mut h, "order-8", "follow-up-8").await;
    // On a thread pool, blocking and async.
    h.sched
        .add_job(place_order_blocking::with(9))
        .id("order-9")
        .executor("threads")
        .await
        .expect("added");
    ran_both(&mut h, "order-9", "follow-up-9").await;
    h.sched
        .add_job(place_order::with(10))
        .id("order-10")
        .executor("threads")
        .await
        .expect("added");
    ran_both(&mut h, "order-10", "follow-up-10").await;
    h.shutdown().await;
}

#[tokio::test]
async fn the_blocking_api_is_refused_inside_an_async_job() {
    let mut h = start(Scheduler::builder());
    h.sched
        .add_job(Target::from_async(|ctx: JobContext| async move {
            let sched = ctx.scheduler()?;
            sched.blocking().job_count().map(|_| ())
        }))
        .id("wrong")
        .await
        .expect("added");
    let e = h.expect("the failure", failed("wrong")).await;
    assert!(
        matches!(&e, Event::JobError { error, .. } if error.contains("inside an async runtime")),
        "{e:?}"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn a_handle_kept_by_a_job_fails_once_the_scheduler_is_gone() {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = std::sync::Mutex::new(Some(tx));
    let mut h = start(Scheduler::builder());
    h.sched
        .add_job(Target::from_async(move |ctx: JobContext| {
            let sender = tx.lock().ok().and_then(|mut t| t.take());
            async move {
                if let (Some(tx), Ok(sched)) = (sender, ctx.scheduler()) {
                    let _ = tx.send(sched);
                }
            }
        }))
        .id("keeper")
        .await
        .expect("added");
    h.expect("the run", executed("keeper")).await;
    let kept = rx.await.expect("the job sent its handle");
    h.sched.shutdown(true).await.expect("drained");
    let e = kept.job_count().await.expect_err("shut down");
    assert_eq!(e.kind(), ErrorKind::NotRunning);
}
