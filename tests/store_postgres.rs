//! `PostgresStore`: durable jobs shared by several schedulers, on a real
//! PostgreSQL (`SCHEDULER_TEST_POSTGRES_URL`, which `.ci/run` sets). Each
//! test works in a schema of its own. The database's clock decides, so these
//! tests run on real time, with short intervals and wide margins.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use scheduler::prelude::*;
use scheduler::stores::{JobStore, RunStatus};
use scheduler::{Clock, ErrorKind, Event, PostgresStore, Sleep};
use tests::harness::{start_on_clock, Harness};

/// The database URL, or `None` (said loudly) when the variable is unset.
fn url() -> Option<String> {
    match std::env::var("SCHEDULER_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            eprintln!(
                "SKIPPED: SCHEDULER_TEST_POSTGRES_URL is not set, so this PostgreSQL test does not \
                 run (.ci/run sets it, e.g. postgres://postgres@127.0.0.1:5432/test)"
            );
            None
        }
    }
}

/// A store in a fresh schema of its own.
async fn fresh(url: &str, name: &str) -> PostgresStore {
    let schema = format!("t_{name}_{}", std::process::id());
    let store = PostgresStore::connect(url)
        .expect("url")
        .schema(&schema)
        .expect("schema");
    store.drop_schema_for_test().await.expect("dropped");
    store.setup().await.expect("set up");
    store
}

fn store(url: &str, name: &str) -> PostgresStore {
    PostgresStore::connect(url)
        .expect("url")
        .schema(&format!("t_{name}_{}", std::process::id()))
        .expect("schema")
}

/// One run: job, run id, fire time, start by the real clock.
type Ran = (String, u64, DateTime<Utc>, DateTime<Utc>);

#[derive(Default)]
struct Log(Mutex<Vec<Ran>>);

impl Log {
    fn runs(&self) -> Vec<Ran> {
        self.0.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

/// Records (job, run id, fire time, start by the real clock).
#[job(key = "store_postgres::record")]
async fn record(ctx: JobContext, log: Data<Log>) {
    if let Ok(mut l) = log.0.lock() {
        l.push((
            ctx.job_id().to_owned(),
            ctx.run_id(),
            ctx.scheduled_at(),
            Utc::now(),
        ));
    }
}

/// The system clock moved by `offset`: a node whose clock is wrong.
struct Skewed(TimeDelta);

impl Clock for Skewed {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.0
    }
    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep {
        let wait = (deadline - self.now()).to_std().unwrap_or_default();
        Box::pin(tokio::time::sleep(wait))
    }
}

fn node_with(
    url: &str,
    name: &str,
    id: &str,
    clock: impl Clock,
    poll: Duration,
) -> (Harness, Arc<Log>) {
    let log = Arc::new(Log::default());
    let builder = Scheduler::builder()
        .without_registered_jobs()
        .store(store(url, name))
        .node_id(id)
        .poll_interval(poll)
        .lease(Duration::from_secs(3))
        .app_data(Data::from(log.clone()));
    (start_on_clock(builder, clock), log)
}

fn node(url: &str, name: &str, id: &str) -> (Harness, Arc<Log>) {
    node_with(
        url,
        name,
        id,
        scheduler::SystemClock,
        Duration::from_secs(1),
    )
}

fn executed(job: &str) -> impl Fn(&Event) -> bool + '_ {
    move |e| matches!(e, Event::JobExecuted { job_id, .. } if &**job_id == job)
}

#[tokio::test]
async fn jobs_survive_a_restart_and_run_once() {
    let Some(url) = url() else { return };
    let _ = fresh(&url, "restart").await;
    let (h, _) = node(&url, "restart", "a");
    h.sched
        .add_job(record::with())
        .id("cancel-1")
        .trigger(Trigger::after(Duration::from_secs(2)))
        .misfire_grace_time(None)
        .await
        .expect("added");
    let before = h
        .sched
        .get_job("cancel-1")
        .await
        .expect("read")
        .expect("there");
    h.shutdown().await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (mut h, log) = node(&url, "restart", "b");
    h.expect("the run", executed("cancel-1")).await;
    let runs = log.runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        Some(runs[0].2),
        before.next_run_time(),
        "the stored fire time, to the microsecond"
    );
    h.shutdown().await;
    let s = store(&url, "restart");
    let history = s.runs(Some("cancel-1"), 10).await.expect("history");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].status, RunStatus::Succeeded);
    assert_eq!(history[0].node.as_deref(), Some("b"));
}

#[tokio::test]
async fn a_closure_is_refused_and_ok_means_committed() {
    let Some(url) = url() else { return };
    let _ = fresh(&url, "ok").await;
    let (h, _) = node(&url, "ok", "a");
    let err = h
        .sched
        .add_job(Target::from_async(|_ctx| async {}))
        .id("closure-job")
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.to_string().contains("closure-job"), "{err}");
    h.sched
        .add_jobs(
            (0..500)
                .map(|i| {
                    JobSpec::new(record::with())
                        .id(format!("j{i}"))
                        .trigger(Trigger::after(Duration::from_secs(3600)))
                })
                .collect(),
        )
        .await
        .expect("added");
    let other = store(&url, "ok");
    assert_eq!(other.job_count().await.expect("counted"), 500);
    let dup = h
        .sched
        .add_job(record::with())
        .id("j7")
        .await
        .expect_err("duplicate");
    assert_eq!(dup.kind(), ErrorKind::DuplicateId);
    h.sched.pause_job("j1").await.expect("paused");
    assert_eq!(
        other
            .get_job("j1")
            .await
            .expect("read")
            .and_then(|j| j.next_run_time),
        None
    );
    h.sched.remove_job("j2").await.expect("removed");
    assert!(other.get_job("j2").await.expect("read").is_none());
    h.shutdown().await;
}

/// Down from just after adding an every-4-s job until 9 s after its first
/// fire time: what runs. (Seconds of margin on each side: the database's
/// clock decides, and a loaded machine may be slow to restart.)
async fn after_downtime(
    url: &str,
    name: &str,
    coalesce: bool,
    grace: Option<u64>,
    limit: u32,
) -> (usize, u64) {
    let _ = fresh(url, name).await;
    let (h, _) = node(url, name, "before");
    h.sched
        .add_job(record::with())
        .id("tick")
        .trigger(Trigger::interval(Duration::from_secs(4)).expect("valid"))
        .coalesce(coalesce)
        .misfire_grace_time(grace.map(Duration::from_secs))
        .max_catch_up(limit)
        .max_instances(100)
        .await
        .expect("added");
    let first = h
        .sched
        .get_job("tick")
        .await
        .expect("read")
        .and_then(|j| j.next_run_time())
        .expect("scheduled");
    h.shutdown().await;
    // Fire times at first, +4 s, +8 s pass while down; back at first + 9 s.
    let back = first + TimeDelta::milliseconds(9000);
    tokio::time::sleep((back - Utc::now()).to_std().unwrap_or_default()).await;
    let (mut h, log) = node(url, name, "after");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let job = h.sched.get_job("tick").await.expect("read").expect("there");
        if job.next_run_time() == Some(first + TimeDelta::seconds(12)) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the job did not move on: {job:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    h.sched.shutdown(true).await.expect("shutdown");
    h.expect("the end", |e| matches!(e, Event::SchedulerShutdown))
        .await;
    let missed = h
        .seen
        .iter()
        .map(|e| match e {
            Event::JobMissed { count, .. } => *count,
            _ => 0,
        })
        .sum();
    (log.runs().len(), missed)
}

#[tokio::test]
async fn misfire_coalesce_on_gives_one_run() {
    let Some(url) = url() else { return };
    assert_eq!(
        after_downtime(&url, "mf_coalesce", true, None, 1000).await,
        (1, 0)
    );
}

#[tokio::test]
async fn misfire_coalesce_off_gives_every_fire_time() {
    let Some(url) = url() else { return };
    assert_eq!(
        after_downtime(&url, "mf_all", false, None, 1000).await,
        (3, 0)
    );
}

#[tokio::test]
async fn misfire_catch_up_limit_bounds_the_runs() {
    let Some(url) = url() else { return };
    let (runs, missed) = after_downtime(&url, "mf_limit", false, None, 2).await;
    assert_eq!((runs, missed), (2, 1));
}

#[tokio::test]
async fn misfire_outside_the_grace_time_is_missed() {
    let Some(url) = url() else { return };
    // 9 s, 5 s and 1 s late with a grace of 7 s: the first is missed.
    let (runs, missed) = after_downtime(&url, "mf_grace", false, Some(7), 1000).await;
    assert_eq!((runs, missed), (2, 1));
}

#[tokio::test]
async fn three_nodes_run_every_fire_time_exactly_once() {
    let Some(url) = url() else { return };
    let _ = fresh(&url, "cluster").await;
    let nodes: Vec<(Harness, Arc<Log>)> = ["n1", "n2", "n3"]
        .iter()
        .map(|id| node(&url, "cluster", id))
        .collect();
    let soon = Utc::now() + TimeDelta::milliseconds(500);
    nodes[0]
        .0
        .sched
        .add_jobs(
            (0..3000)
                .map(|i| {
                    JobSpec::new(record::with())
                        .id(format!("once-{i}"))
                        .trigger(Trigger::at(soon))
                        .misfire_grace_time(None)
                })
                .collect(),
        )
        .await
        .expect("added");
    nodes[1]
        .0
        .sched
        .add_jobs(
            (0..10)
                .map(|i| {
                    JobSpec::new(record::with())
                        .id(format!("every-{i}"))
                        .trigger(Trigger::interval(Duration::from_secs(1)).expect("valid"))
                        .misfire_grace_time(None)
                        .coalesce(false)
                        .max_instances(5)
                })
                .collect(),
        )
        .await
        .expect("added");
    tokio::time::sleep(Duration::from_secs(5)).await;
    for (h, _) in &nodes {
        h.sched.remove_all_jobs().await.expect("removed");
    }
    for (h, _) in nodes.iter() {
        h.sched.shutdown(true).await.expect("shutdown");
    }
    let mut per_fire: HashMap<(String, DateTime<Utc>), usize> = HashMap::new();
    let mut per_node = Vec::new();
    for (_, log) in &nodes {
        let runs = log.runs();
        per_node.push(runs.len());
        for (job, _, at, _) in runs {
            *per_fire.entry((job, at)).or_default() += 1;
        }
    }
    let twice: Vec<_> = per_fire.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "ran twice: {twice:?}");
    let once = per_fire
        .keys()
        .filter(|(j, _)| j.starts_with("once-"))
        .count();
    assert_eq!(
        once, 3000,
        "every one-shot job ran (per node: {per_node:?})"
    );
    let recurring = per_fire
        .keys()
        .filter(|(j, _)| j.starts_with("every-"))
        .count();
    assert!(
        recurring >= 30,
        "10 jobs every second for about 5 s: {recurring}"
    );
    let s = store(&url, "cluster");
    let history = s.runs(None, 100_000).await.expect("history");
    assert!(
        history.iter().all(|r| r.status == RunStatus::Succeeded),
        "nothing left running"
    );
    assert!(
        per_node.iter().filter(|n| **n > 0).count() >= 2,
        "the work was shared: {per_node:?}"
    );
}

#[tokio::test]
async fn a_job_added_on_one_node_wakes_another_through_notify() {
    let Some(url) = url() else { return };
    let _ = fresh(&url, "notify").await;
    // B polls once a minute: only the notification can wake it in time.
    let (mut b, log_b) = node_with(
        &url,
        "notify",
        "b",
        scheduler::SystemClock,
        Duration::from_secs(60),
    );
    let (a, log_a) = node(&url, "notify", "a");
    a.sched.pause().await.expect("a does not claim");
    // Let B's listener connect before the add (it looks once when it does).
    b.expect("b started", |e| matches!(e, Event::SchedulerStarted))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let added = Utc::now();
    a.sched
        .add_job(record::with())
        .id("now")
        .trigger(Trigger::after(Duration::ZERO))
        .await
        .expect("added");
    b.expect("b runs it", executed("now")).await;
    let runs = log_b.runs();
    assert_eq!(runs.len(), 1);
    assert!(log_a.runs().is_empty());
    let latency = runs[0].3 - added;
    assert!(
        latency < TimeDelta::seconds(30),
        "woken by the notification, not the poll: {latency}"
    );
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn a_node_whose_clock_is_five_minutes_ahead_fires_nothing_early_or_twice() {
    let Some(url) = url() else { return };
    let _ = fresh(&url, "skew").await;
    let ahead = TimeDelta::minutes(5);
    let (fast, log_fast) = node_with(
        &url,
        "skew",
        "fast",
        Skewed(ahead),
        Duration::from_millis(200),
    );
    let (slow, log_slow) = node(&url, "skew", "right");
    let due = Utc::now() + TimeDelta::seconds(3);
    slow.sched
        .add_jobs(
            (0..20)
                .map(|i| {
                    JobSpec::new(record::with())
                        .id(format!("at-{i}"))
                        .trigger(Trigger::at(due))
                        .misfire_grace_time(None)
                })
                .collect(),
        )
        .await
        .expect("added");
    slow.sched
        .add_job(record::with())
        .id("every")
        .trigger(Trigger::interval(Duration::from_secs(1)).expect("valid"))
        .await
        .expect("added");
    tokio::time::sleep(Duration::from_secs(5)).await;
    fast.shutdown().await;
    slow.shutdown().await;
    let mut seen: HashMap<(String, DateTime<Utc>), usize> = HashMap::new();
    for (job, _, at, started) in log_fast.runs().into_iter().chain(log_slow.runs()) {
        // Started by the real clock no earlier than its fire time (a little
        // slack for the two clocks: the database's and this process's).
        assert!(
            started >= at - TimeDelta::milliseconds(50),
            "{job} fired early: {started} < {at}"
        );
        *seen.entry((job, at)).or_default() += 1;
    }
    assert!(
        seen.values().all(|n| *n == 1),
        "a fire time ran twice: {seen:?}"
    );
    assert_eq!(
        seen.keys().filter(|(j, _)| j.starts_with("at-")).count(),
        20
    );
}

#[tokio::test]
async fn an_old_schema_is_migrated_and_instants_round_trip() {
    let Some(url) = url() else { return };
    let old = store(&url, "migrate");
    old.drop_schema_for_test().await.expect("dropped");
    old.create_schema_version(1).await.expect("version 1");
    assert_eq!(old.schema_version().await.expect("read"), 1);
    let far = tests::at("9999-12-31T23:59:59.999999Z");
    let job = scheduler::stores::JobRecord {
        id: "from-v1".into(),
        name: Some("kept".into()),
        function: "store_postgres::record".into(),
        args: serde_json::json!([]),
        trigger: Trigger::at(far),
        options: scheduler::JobOptions::default(),
        next_run_time: Some(far),
        static_job: false,
        running: 0,
    };
    old.add_jobs(&[job], &[false]).await.expect("stored in v1");
    old.close().await;
    let (h, _) = node(&url, "migrate", "a");
    let j = h
        .sched
        .get_job("from-v1")
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(
        j.next_run_time(),
        Some(far),
        "year 9999, to the microsecond"
    );
    assert_eq!(j.name(), "kept");
    h.shutdown().await;
    let now = store(&url, "migrate");
    assert_eq!(now.schema_version().await.expect("read"), 2);
}

/// Nodes that claim 3 s ahead, so a change made in that window has seconds
/// of margin on a loaded machine.
fn ahead_node(url: &str, name: &str, id: &str) -> (Harness, Arc<Log>) {
    let log = Arc::new(Log::default());
    let builder = Scheduler::builder()
        .without_registered_jobs()
        .store(store(url, name))
        .node_id(id)
        .claim_ahead(Duration::from_secs(3))
        .lease(Duration::from_secs(10))
        .app_data(Data::from(log.clone()));
    (start_on_clock(builder, scheduler::SystemClock), log)
}

/// A recurring job whose first fire time (2.5 s away) one node claims
/// ahead; `cancel` on the other node, before that time, must keep it from
/// running.
async fn cancelled_while_claimed_ahead(
    name: &str,
    cancel: fn(Scheduler, String) -> futures_util::future::BoxFuture<'static, ()>,
) {
    let Some(url) = url() else { return };
    let _ = fresh(&url, name).await;
    let (claimer, log_c) = ahead_node(&url, name, "claimer");
    // The other node claims nothing (paused); it only makes the change.
    let (other, log_o) = ahead_node(&url, name, "other");
    other.sched.pause().await.expect("paused scheduler");
    // Whole milliseconds: the store keeps microseconds.
    let due = DateTime::from_timestamp_millis(
        (Utc::now() + TimeDelta::milliseconds(2500)).timestamp_millis(),
    )
    .expect("in range");
    let every_minute = scheduler::trigger::IntervalTrigger::builder(Duration::from_secs(60))
        .start(due)
        .build()
        .expect("valid");
    claimer
        .sched
        .add_job(record::with())
        .id("j")
        .trigger(Trigger::Interval(every_minute))
        .await
        .expect("added");
    // Wait until the first fire time is claimed (ahead of it).
    let s = store(&url, name);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !s
        .runs(Some("j"), 10)
        .await
        .expect("history")
        .iter()
        .any(|r| r.status == RunStatus::Running && r.scheduled_at == due)
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the fire time was not claimed ahead"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(Utc::now() < due, "claimed ahead of its fire time");
    cancel(other.sched.clone(), "j".to_owned()).await;
    assert!(Utc::now() < due, "changed before the fire time");
    tokio::time::sleep(
        (due - Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(1000),
    )
    .await;
    assert!(
        log_c.runs().is_empty() && log_o.runs().is_empty(),
        "it ran: {:?} {:?}",
        log_c.runs(),
        log_o.runs()
    );
    assert!(
        s.runs(Some("j"), 10).await.expect("history").is_empty(),
        "the claim is gone"
    );
    claimer.shutdown().await;
    other.shutdown().await;
}

#[tokio::test]
async fn a_job_removed_before_its_fire_time_does_not_run_though_claimed_ahead() {
    cancelled_while_claimed_ahead("removed_ahead", |s, id| {
        Box::pin(async move { s.remove_job(&id).await.expect("removed in time") })
    })
    .await;
}

#[tokio::test]
async fn a_job_paused_before_its_fire_time_does_not_run_though_claimed_ahead() {
    cancelled_while_claimed_ahead("paused_ahead", |s, id| {
        Box::pin(async move {
            s.pause_job(&id).await.expect("paused in time");
        })
    })
    .await;
}
