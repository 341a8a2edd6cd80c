//! The runtime's promises on the path production takes: nobody subscribed,
//! no listener, so runs are "light" (the executor keeps their books). Each
//! scenario runs twice, unobserved and observed, and is checked by what the
//! jobs themselves record, never by events.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use scheduler::{EventStream, JobContext, Retry, Scheduler, Target, TestClock, Trigger};
use tests::harness::t0;
use tokio::sync::Semaphore;

/// A run's start as the job saw it: its fire time and attempt.
type Start = (DateTime<Utc>, u32);

/// A scheduler on a test clock, with or without a subscriber, and what its
/// jobs record: the fire time and attempt of every start, and how many ended.
struct Rig {
    sched: Scheduler,
    clock: TestClock,
    _events: Option<EventStream>,
    starts: Arc<Mutex<Vec<Start>>>,
    ends: Arc<AtomicU32>,
    cancels: Arc<AtomicU32>,
}

fn rig(observed: bool) -> Rig {
    let clock = TestClock::new(t0());
    let mut builder = Scheduler::builder()
        .without_registered_jobs()
        .clock(clock.clone());
    let events = observed.then(|| builder.subscribe());
    Rig {
        sched: builder.start_background().expect("starts"),
        clock,
        _events: events,
        starts: Arc::default(),
        ends: Arc::default(),
        cancels: Arc::default(),
    }
}

fn secs(s: i64) -> DateTime<Utc> {
    t0() + chrono::TimeDelta::seconds(s)
}

fn every_10s() -> Trigger {
    Trigger::interval(Duration::from_secs(10)).expect("valid")
}

/// Polls `f` (real time, at most 10 s) until it holds.
async fn eventually(what: &str, f: impl Fn() -> bool) {
    for _ in 0..2000 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("not within 10 s: {what}");
}

impl Rig {
    fn advance(&self, s: f64) {
        self.clock.advance(Duration::from_secs_f64(s));
    }

    fn times(&self) -> Vec<DateTime<Utc>> {
        self.starts
            .lock()
            .expect("lock")
            .iter()
            .map(|(t, _)| *t)
            .collect()
    }

    fn started(&self) -> usize {
        self.starts.lock().expect("lock").len()
    }

    /// A job that records its start, waits for a permit of `gate` (if any)
    /// or for cancellation, records its end, and fails while `fail_until`
    /// is above its attempt.
    fn job(&self, gate: Option<&Arc<Semaphore>>, fail_until: u32) -> Target {
        let (starts, ends, cancels) =
            (self.starts.clone(), self.ends.clone(), self.cancels.clone());
        let gate = gate.cloned();
        Target::from_async(move |ctx: JobContext| {
            let (starts, ends, cancels, gate) =
                (starts.clone(), ends.clone(), cancels.clone(), gate.clone());
            async move {
                if let Ok(mut s) = starts.lock() {
                    s.push((ctx.scheduled_at(), ctx.attempt()));
                }
                if let Some(gate) = gate {
                    tokio::select! {
                        p = gate.acquire() => { if let Ok(p) = p { p.forget() } }
                        () = ctx.cancelled() => { cancels.fetch_add(1, Ordering::SeqCst); }
                    }
                }
                ends.fetch_add(1, Ordering::SeqCst);
                if ctx.attempt() < fail_until {
                    return Err(format!("attempt {} fails", ctx.attempt()));
                }
                Ok(())
            }
        })
    }

    /// Waits (real time, at most 10 s) until the scheduler has moved `job`
    /// on to `next` (it wakes up after the clock moves, on its own thread).
    async fn until_next_run(&self, job: &str, next: DateTime<Utc>) -> scheduler::Job {
        for _ in 0..2000 {
            let j = self
                .sched
                .get_job(job)
                .await
                .expect("running")
                .expect("there");
            if j.next_run_time() == Some(next) {
                return j;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("`{job}` is not due at {next} after 10 s");
    }

    /// Waits (real time, at most 10 s) until `job` has no run in progress.
    async fn until_idle(&self, job: &str) {
        for _ in 0..2000 {
            let j = self.sched.get_job(job).await.expect("running");
            if j.is_none_or(|j| j.running() == 0) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("`{job}` still runs after 10 s");
    }

    async fn shutdown(self) {
        self.sched.shutdown(true).await.expect("drained");
    }
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod unobserved {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(false).await })*
        }
        mod observed {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(true).await })*
        }
    };
}

both!(
    a_run_past_its_grace_time_is_missed,
    coalesce_runs_a_backlog_once,
    without_coalesce_every_missed_run_runs_in_turn,
    max_instances_skips_a_fire_while_the_job_runs,
    two_instances_run_together_and_a_third_is_skipped,
    a_timeout_cancels_the_run_and_frees_its_slot,
    retries_run_until_an_attempt_succeeds,
    shutdown_waits_for_running_jobs,
    shutdown_with_a_deadline_cancels_running_jobs,
);

async fn a_run_past_its_grace_time_is_missed(observed: bool) {
    let r = rig(observed);
    r.sched
        .add_job(r.job(None, 0))
        .id("j")
        .trigger(every_10s())
        .await
        .expect("added");
    r.sched.pause().await.expect("running");
    r.advance(12.0); // the fire at 10 s is 2 s late, the grace 1 s
    r.sched.resume().await.expect("running");
    r.advance(8.0);
    eventually("the run at 20 s", || r.times().contains(&secs(20))).await;
    assert_eq!(r.times(), [secs(20)]);
    r.shutdown().await;
}

async fn coalesce_runs_a_backlog_once(observed: bool) {
    let r = rig(observed);
    r.sched
        .add_job(r.job(None, 0))
        .id("j")
        .trigger(every_10s())
        .misfire_grace_time(Some(Duration::from_secs(60)))
        .await
        .expect("added");
    r.sched.pause().await.expect("running");
    r.advance(35.0);
    r.sched.resume().await.expect("running");
    eventually("the run at 30 s", || r.started() == 1).await;
    r.until_idle("j").await; // or the fire at 40 s would meet max_instances
    r.advance(5.0);
    eventually("the run at 40 s", || r.times().contains(&secs(40))).await;
    assert_eq!(r.times(), [secs(30), secs(40)]);
    r.shutdown().await;
}

async fn without_coalesce_every_missed_run_runs_in_turn(observed: bool) {
    let r = rig(observed);
    r.sched
        .add_job(r.job(None, 0))
        .id("j")
        .trigger(every_10s())
        .coalesce(false)
        .misfire_grace_time(Some(Duration::from_secs(60)))
        .await
        .expect("added");
    r.sched.pause().await.expect("running");
    r.advance(35.0);
    r.sched.resume().await.expect("running");
    eventually("three runs", || r.started() == 3).await;
    assert_eq!(r.times(), [secs(10), secs(20), secs(30)]);
    r.shutdown().await;
}

async fn max_instances_skips_a_fire_while_the_job_runs(observed: bool) {
    let r = rig(observed);
    let gate = Arc::new(Semaphore::new(0));
    r.sched
        .add_job(r.job(Some(&gate), 0))
        .id("j")
        .trigger(every_10s())
        .await
        .expect("added");
    r.advance(10.0);
    eventually("the first run", || r.started() == 1).await;
    r.advance(10.0); // still running: the fire at 20 s is skipped
    r.until_next_run("j", secs(30)).await;
    gate.add_permits(1);
    eventually("the first run ends", || r.ends.load(Ordering::SeqCst) == 1).await;
    r.until_idle("j").await;
    r.advance(10.0);
    gate.add_permits(1);
    eventually("the run at 30 s", || r.started() == 2).await;
    assert_eq!(r.times(), [secs(10), secs(30)]);
    r.shutdown().await;
}

async fn two_instances_run_together_and_a_third_is_skipped(observed: bool) {
    let r = rig(observed);
    let gate = Arc::new(Semaphore::new(0));
    r.sched
        .add_job(r.job(Some(&gate), 0))
        .id("j")
        .trigger(every_10s())
        .max_instances(2)
        .await
        .expect("added");
    r.advance(10.0);
    eventually("one run", || r.started() == 1).await;
    r.advance(10.0);
    eventually("two runs at once", || r.started() == 2).await;
    r.advance(10.0); // both still run: skipped
    let job = r.until_next_run("j", secs(40)).await;
    assert_eq!(job.running(), 2);
    gate.add_permits(2);
    eventually("both end", || r.ends.load(Ordering::SeqCst) == 2).await;
    assert_eq!(r.times(), [secs(10), secs(20)]);
    r.shutdown().await;
}

async fn a_timeout_cancels_the_run_and_frees_its_slot(observed: bool) {
    let r = rig(observed);
    let gate = Arc::new(Semaphore::new(0));
    r.sched
        .add_job(r.job(Some(&gate), 0))
        .id("j")
        .trigger(every_10s())
        .timeout(Duration::from_secs(5))
        .await
        .expect("added");
    r.advance(10.0);
    eventually("the run", || r.started() == 1).await;
    r.advance(5.0);
    eventually("cancelled at its timeout", || {
        r.cancels.load(Ordering::SeqCst) == 1
    })
    .await;
    r.until_idle("j").await;
    r.advance(5.0);
    eventually("the next run", || r.started() == 2).await;
    assert_eq!(r.times(), [secs(10), secs(20)]);
    gate.add_permits(1);
    r.shutdown().await;
}

async fn retries_run_until_an_attempt_succeeds(observed: bool) {
    let r = rig(observed);
    r.sched
        .add_job(r.job(None, 3))
        .id("j")
        .retry(Retry::new(5).initial(Duration::from_secs(1)).factor(1.0))
        .await
        .expect("added");
    // The first attempt is due now: the clock must not move before it starts,
    // or it would be past its misfire grace time.
    eventually("the first attempt", || r.started() == 1).await;
    for attempt in 2..=3 {
        // The retry's timer is set when the failure is processed: move the
        // clock on until the attempt starts.
        for _ in 0..2000 {
            if r.started() >= attempt {
                break;
            }
            r.advance(1.0);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    eventually("three attempts end", || r.ends.load(Ordering::SeqCst) == 3).await;
    let attempts: Vec<u32> = r
        .starts
        .lock()
        .expect("lock")
        .iter()
        .map(|(_, a)| *a)
        .collect();
    assert_eq!(attempts, [1, 2, 3]);
    r.advance(60.0);
    // Nothing may come: a retry would start within this window.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(r.started(), 3, "no retry after a success");
    r.shutdown().await;
}

async fn shutdown_waits_for_running_jobs(observed: bool) {
    let r = rig(observed);
    let gate = Arc::new(Semaphore::new(0));
    r.sched
        .add_job(r.job(Some(&gate), 0))
        .id("j")
        .await
        .expect("added");
    eventually("the run", || r.started() == 1).await;
    let sched = r.sched.clone();
    let shutdown = tokio::spawn(async move { sched.shutdown(true).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        !shutdown.is_finished(),
        "shutdown(true) returned under a running job"
    );
    gate.add_permits(1);
    shutdown.await.expect("task").expect("drained");
    assert_eq!(r.ends.load(Ordering::SeqCst), 1);
}

async fn shutdown_with_a_deadline_cancels_running_jobs(observed: bool) {
    let r = rig(observed);
    let gate = Arc::new(Semaphore::new(0));
    r.sched
        .add_job(r.job(Some(&gate), 0))
        .id("j")
        .await
        .expect("added");
    eventually("the run", || r.started() == 1).await;
    let sched = r.sched.clone();
    let shutdown =
        tokio::spawn(async move { sched.shutdown_with_deadline(Duration::from_secs(5)).await });
    // The deadline's timer is set once the actor handles the shutdown.
    for _ in 0..2000 {
        if r.cancels.load(Ordering::SeqCst) == 1 {
            break;
        }
        r.advance(1.0);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    shutdown.await.expect("task").expect("drained");
    assert_eq!(r.cancels.load(Ordering::SeqCst), 1);
    assert_eq!(r.ends.load(Ordering::SeqCst), 1);
}
