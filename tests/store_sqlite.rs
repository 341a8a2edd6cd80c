//! `SqliteStore`: jobs, runs and history that outlive the process, on real
//! SQLite files in temporary folders, on a test clock.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use scheduler::prelude::*;
use scheduler::stores::{JobRecord, JobStore, RunStatus, Upserted};
use scheduler::Clock;
use scheduler::{ErrorKind, Event, JobOptions, SqliteStore, TestClock};
use tests::harness::{start_on, t0, Harness};
use tests::procs::temp_dir;

/// What the test jobs did: `(job id, run id, arg)` per run.
#[derive(Default)]
struct Log(Mutex<Vec<(String, u64, u64)>>);

impl Log {
    fn runs(&self) -> Vec<(String, u64, u64)> {
        self.0.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

#[job(key = "store_sqlite::record")]
async fn record(n: u64, ctx: JobContext, log: Data<Log>) {
    if let Ok(mut l) = log.0.lock() {
        l.push((ctx.job_id().to_owned(), ctx.run_id(), n));
    }
}

#[job(key = "store_sqlite::fail")]
async fn fail(ctx: JobContext, log: Data<Log>) -> Result<(), String> {
    if let Ok(mut l) = log.0.lock() {
        l.push((
            ctx.job_id().to_owned(),
            ctx.run_id(),
            u64::from(ctx.attempt()),
        ));
    }
    Err(format!("attempt {} failed", ctx.attempt()))
}

fn db(name: &str) -> PathBuf {
    temp_dir(name).join("jobs.db")
}

fn secs(s: i64) -> DateTime<Utc> {
    t0() + TimeDelta::seconds(s)
}

/// A scheduler on `path` and `clock`, with a fresh log.
fn node(path: &Path, clock: &TestClock) -> (Harness, Arc<Log>) {
    let log = Arc::new(Log::default());
    let builder = Scheduler::builder()
        .without_registered_jobs()
        .store(SqliteStore::open(path))
        .app_data(Data::from(log.clone()));
    (start_on(builder, clock.clone()), log)
}

fn every(s: u64) -> Trigger {
    Trigger::interval(Duration::from_secs(s)).expect("valid")
}

/// Every `s` seconds from `start` seconds after [`t0`].
fn every_from(s: u64, start: i64) -> Trigger {
    scheduler::trigger::IntervalTrigger::builder(Duration::from_secs(s))
        .start(secs(start))
        .build()
        .map(Trigger::Interval)
        .expect("valid")
}

fn executed_run(job: &str) -> impl Fn(&Event) -> bool + '_ {
    move |e| matches!(e, Event::JobExecuted { job_id, .. } if &**job_id == job)
}

/// A scheduler on `path` and `clock` that claims 5 s ahead, with a fresh log.
fn node_claiming_ahead(path: &Path, clock: &TestClock) -> (Harness, Arc<Log>) {
    let log = Arc::new(Log::default());
    let builder = Scheduler::builder()
        .without_registered_jobs()
        .store(SqliteStore::open(path))
        .claim_ahead(Duration::from_secs(5))
        .app_data(Data::from(log.clone()));
    (start_on(builder, clock.clone()), log)
}

/// Waits (at most 10 s) until the history holds `n` runs.
async fn runs_in_history(store: &SqliteStore, n: usize, what: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while store.runs(None, 10).await.expect("history").len() < n {
        assert!(tokio::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Opens the file directly, as another program would.
async fn raw(path: &Path) -> SqliteStore {
    let store = SqliteStore::open(path);
    store.setup().await.expect("set up");
    store
}

#[tokio::test]
async fn jobs_come_back_after_a_restart_exactly_as_they_were() {
    let path = db("restart");
    let clock = TestClock::new(t0());
    let (h, _) = node(&path, &clock);
    h.sched
        .add_job(record::with(7))
        .id("cancel-7")
        .name("Cancel order 7")
        .trigger(Trigger::after(Duration::from_secs(30 * 60)))
        .max_instances(3)
        .misfire_grace_time(Some(Duration::from_secs(90)))
        .await
        .expect("added");
    h.sched
        .add_job(record::with(1))
        .id("sync")
        .trigger(every(60))
        .await
        .expect("added");
    let before = h.sched.jobs().await.expect("listed");
    h.shutdown().await;

    let (h, _) = node(&path, &clock);
    let after = h.sched.jobs().await.expect("listed");
    assert_eq!(after.len(), 2);
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(a.id(), b.id());
        assert_eq!(a.name(), b.name());
        assert_eq!(a.trigger(), b.trigger());
        assert_eq!(a.next_run_time(), b.next_run_time());
        assert_eq!(a.options(), b.options());
        assert_eq!(a.target().to_string(), b.target().to_string());
    }
    let cancel = h
        .sched
        .get_job("cancel-7")
        .await
        .expect("read")
        .expect("there");
    assert_eq!(cancel.next_run_time(), Some(secs(30 * 60)));
    assert_eq!(cancel.options().max_instances(), 3);
    h.shutdown().await;
}

#[tokio::test]
async fn a_job_added_before_a_restart_runs_after_it_once() {
    let path = db("runs-after-restart");
    let clock = TestClock::new(t0());
    let (h, _) = node(&path, &clock);
    h.sched
        .add_job(record::with(42))
        .id("later")
        .trigger(Trigger::at(secs(600)))
        .misfire_grace_time(None)
        .await
        .expect("added");
    h.shutdown().await;
    clock.advance(Duration::from_secs(601));
    let (mut h, log) = node(&path, &clock);
    h.expect("the run", executed_run("later")).await;
    assert_eq!(log.runs().len(), 1);
    assert_eq!(log.runs()[0].2, 42, "the arguments came back");
    assert!(
        h.sched.get_job("later").await.expect("read").is_none(),
        "a one-shot job is gone after its run"
    );
    h.shutdown().await;
    // And not again after another restart.
    let (h, log) = node(&path, &clock);
    h.sched.wakeup().await.expect("woken");
    let history = h.sched.runs(Some("later"), 10).await.expect("history");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].status, RunStatus::Succeeded);
    assert_eq!(history[0].scheduled_at, secs(600));
    assert!(log.runs().is_empty());
    h.shutdown().await;
}

#[tokio::test]
async fn ok_means_the_job_is_in_the_file() {
    let path = db("durable-ok");
    let clock = TestClock::new(t0());
    let (h, _) = node(&path, &clock);
    let ids = h
        .sched
        .add_jobs(
            (0..250)
                .map(|i| {
                    JobSpec::new(record::with(i))
                        .id(format!("order-{i}"))
                        .trigger(Trigger::at(secs(3600)))
                })
                .collect(),
        )
        .await
        .expect("added");
    assert_eq!(ids.len(), 250);
    // Read by another connection, with the scheduler still running.
    let other = raw(&path).await;
    assert_eq!(other.job_count().await.expect("counted"), 250);
    let j = other
        .get_job("order-17")
        .await
        .expect("read")
        .expect("there");
    assert_eq!(j.function, "store_sqlite::record");
    assert_eq!(j.args, serde_json::json!([17]));
    assert_eq!(j.next_run_time, Some(secs(3600)));
    h.shutdown().await;
}

#[tokio::test]
async fn a_closure_is_refused_with_an_error_naming_the_job() {
    let path = db("closure");
    let clock = TestClock::new(t0());
    let (h, _) = node(&path, &clock);
    let err = h
        .sched
        .add_job(Target::from_async(|_ctx| async {}))
        .id("in-memory-only")
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.to_string().contains("in-memory-only"), "{err}");
    assert!(err.to_string().contains("sqlite"), "{err}");
    assert_eq!(
        h.sched.job_count().await.expect("counted"),
        0,
        "nothing half-written"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn ids_are_unique_unless_replaced() {
    let path = db("ids");
    let clock = TestClock::new(t0());
    let (h, _) = node(&path, &clock);
    h.sched
        .add_job(record::with(1))
        .id("a")
        .trigger(every(60))
        .await
        .expect("added");
    let err = h
        .sched
        .add_jobs(vec![
            JobSpec::new(record::with(2)).id("b").trigger(every(60)),
            JobSpec::new(record::with(3)).id("a").trigger(every(60)),
        ])
        .await
        .expect_err("duplicate");
    assert_eq!(err.kind(), ErrorKind::DuplicateId);
    assert!(err.to_string().contains("`a`"), "{err}");
    assert!(
        h.sched.get_job("b").await.expect("read").is_none(),
        "all or nothing"
    );
    h.sched
        .add_job(record::with(9))
        .id("a")
        .trigger(every(30))
        .replace_existing(true)
        .await
        .expect("replaced");
    let a = h.sched.get_job("a").await.expect("read").expect("there");
    assert_eq!(a.next_run_time(), Some(secs(30)));
    h.shutdown().await;
}

#[tokio::test]
async fn pause_resume_reschedule_modify_and_remove_are_stored() {
    let path = db("api");
    let clock = TestClock::new(t0());
    let (h, _) = node(&path, &clock);
    h.sched
        .add_job(record::with(1))
        .id("j")
        .trigger(every(60))
        .await
        .expect("added");
    let paused = h.sched.pause_job("j").await.expect("paused");
    assert_eq!(paused.next_run_time(), None);
    let other = raw(&path).await;
    assert_eq!(
        other
            .get_job("j")
            .await
            .expect("read")
            .and_then(|j| j.next_run_time),
        None
    );
    let resumed = h
        .sched
        .resume_job("j")
        .await
        .expect("resumed")
        .expect("still there");
    assert_eq!(resumed.next_run_time(), Some(secs(60)));
    let moved = h
        .sched
        .reschedule_job("j", every(5))
        .await
        .expect("rescheduled");
    assert_eq!(moved.next_run_time(), Some(secs(5)));
    let changed = h
        .sched
        .modify_job(
            "j",
            JobChanges::new()
                .max_instances(4)
                .name("renamed")
                .coalesce(false),
        )
        .await
        .expect("modified");
    assert_eq!(changed.options().max_instances(), 4);
    assert_eq!(changed.name(), "renamed");
    let stored = other.get_job("j").await.expect("read").expect("there");
    assert_eq!(stored.name.as_deref(), Some("renamed"));
    assert!(!stored.options.coalesce());
    let bad = h
        .sched
        .modify_job("j", JobChanges::new().max_instances(0))
        .await
        .expect_err("invalid");
    assert_eq!(bad.kind(), ErrorKind::InvalidOption);
    assert_eq!(
        other
            .get_job("j")
            .await
            .expect("read")
            .map(|j| j.options.max_instances()),
        Some(4)
    );
    let missing = h.sched.pause_job("nope").await.expect_err("no such job");
    assert!(missing.is_job_not_found());
    h.sched.remove_job("j").await.expect("removed");
    assert!(h
        .sched
        .remove_job("j")
        .await
        .expect_err("gone")
        .is_job_not_found());
    assert_eq!(other.job_count().await.expect("counted"), 0);
    h.shutdown().await;
}

/// Down for `k` intervals of 10 s: what runs when the scheduler comes back.
async fn after_downtime(
    name: &str,
    k: i64,
    coalesce: bool,
    grace: Option<u64>,
    limit: u32,
) -> (usize, u64) {
    let path = db(name);
    let clock = TestClock::new(t0());
    let (h, _) = node(&path, &clock);
    h.sched
        .add_job(record::with(0))
        .id("tick")
        .trigger(every(10))
        .coalesce(coalesce)
        .misfire_grace_time(grace.map(Duration::from_secs))
        .max_catch_up(limit)
        .max_instances(1000)
        .await
        .expect("added");
    h.shutdown().await;
    // Down from t0 to just after the k-th fire time.
    clock.set(secs(10 * k) + TimeDelta::milliseconds(500));
    let (mut h, log) = node(&path, &clock);
    // The catch-up is one claim: once the job has moved on, shut down, which
    // waits for the claim's runs.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let job = h.sched.get_job("tick").await.expect("read").expect("there");
        if job.next_run_time() == Some(secs(10 * (k + 1))) {
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
        .sum::<u64>();
    (log.runs().len(), missed)
}

#[tokio::test]
async fn misfires_after_downtime_follow_the_jobs_rules() {
    // Coalesce: one run for the whole backlog.
    assert_eq!(
        after_downtime("mf-coalesce", 6, true, None, 1000).await,
        (1, 0)
    );
    // No coalescing: every fire time, k + the one at t0... all within no grace limit.
    assert_eq!(after_downtime("mf-all", 6, false, None, 1000).await, (6, 0));
    // The catch-up limit bounds the runs; the rest are missed.
    let (runs, missed) = after_downtime("mf-limit", 8, false, None, 3).await;
    assert_eq!(runs, 3);
    assert!(missed >= 3, "missed {missed}");
    // A grace time of 25 s: only the fire times within it run.
    let (runs, missed) = after_downtime("mf-grace", 6, false, Some(25), 1000).await;
    assert_eq!(runs, 3, "the fire times at 40, 50 and 60 s");
    assert_eq!(missed, 3);
}

#[tokio::test]
async fn failed_runs_retry_after_a_restart() {
    let path = db("retry");
    let clock = TestClock::new(t0());
    let (mut h, log) = node(&path, &clock);
    h.sched
        .add_job(fail::with())
        .id("flaky")
        .trigger(Trigger::at(t0()))
        .retry(Retry::new(2).initial(Duration::from_secs(60)))
        .await
        .expect("added");
    let e = h
        .expect("the first failure", |e| {
            matches!(e, Event::JobError { attempt: 1, .. })
        })
        .await;
    let Event::JobError {
        retry_at, run_id, ..
    } = e
    else {
        unreachable!()
    };
    assert!(retry_at.is_some());
    assert_eq!(log.runs().len(), 1);
    h.shutdown().await;
    clock.advance(Duration::from_secs(61));
    let (mut h, log) = node(&path, &clock);
    let e = h
        .expect("the retry", |e| {
            matches!(e, Event::JobError { attempt: 2, .. })
        })
        .await;
    let Event::JobError { run_id: again, .. } = e else {
        unreachable!()
    };
    assert_eq!(again, run_id, "the same run, its next attempt");
    assert_eq!(log.runs()[0].2, 2);
    h.shutdown().await;
    let other = raw(&path).await;
    let runs = other.runs(Some("flaky"), 10).await.expect("history");
    assert_eq!(runs.len(), 1);
    assert_eq!(
        runs[0].status,
        RunStatus::Queued,
        "one retry is left, due later"
    );
    assert_eq!(runs[0].attempt, 2);
    assert!(runs[0]
        .error
        .as_deref()
        .is_some_and(|e| e.contains("attempt 2")));
}

#[tokio::test]
async fn run_ids_are_unique_across_restarts_and_history_is_kept() {
    let path = db("run-ids");
    let clock = TestClock::new(t0());
    let mut seen = Vec::new();
    for round in 0..3_u64 {
        let (mut h, log) = node(&path, &clock);
        h.sched
            .add_job(record::with(round))
            .id(format!("r{round}"))
            .trigger(Trigger::at(clock.now()))
            .await
            .expect("added");
        h.expect("its run", executed_run(&format!("r{round}")))
            .await;
        seen.extend(log.runs().into_iter().map(|r| r.1));
        h.shutdown().await;
    }
    let mut unique = seen.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 3, "{seen:?}");
    let other = raw(&path).await;
    let history = other.runs(None, 10).await.expect("history");
    assert_eq!(history.len(), 3);
    assert!(history
        .iter()
        .all(|r| r.status == RunStatus::Succeeded && r.finished_at.is_some()));
    assert_eq!(
        other
            .prune_runs(t0() + TimeDelta::seconds(1))
            .await
            .expect("pruned"),
        3
    );
    assert!(other.runs(None, 10).await.expect("history").is_empty());
}

#[tokio::test]
async fn instants_round_trip_to_the_microsecond_up_to_year_9999() {
    let path = db("instants");
    let clock = TestClock::new(t0());
    let (h, _) = node(&path, &clock);
    let far = tests::at("9999-12-31T23:59:59.999999Z");
    let near = t0() + TimeDelta::microseconds(1_234_567);
    h.sched
        .add_job(record::with(1))
        .id("far")
        .trigger(Trigger::at(far))
        .await
        .expect("added");
    h.sched
        .add_job(record::with(1))
        .id("near")
        .trigger(Trigger::at(near))
        .next_run_time(Some(near))
        .await
        .expect("added");
    h.sched.pause().await.expect("paused");
    h.shutdown().await;
    let other = raw(&path).await;
    assert_eq!(
        other
            .get_job("far")
            .await
            .expect("read")
            .and_then(|j| j.next_run_time),
        Some(far)
    );
    assert_eq!(
        other
            .get_job("near")
            .await
            .expect("read")
            .and_then(|j| j.next_run_time),
        Some(near)
    );
}

#[tokio::test]
async fn static_jobs_are_upserted_not_duplicated_nor_reset() {
    let path = db("static");
    let store = raw(&path).await;
    let job = |trigger: Trigger, next: DateTime<Utc>| JobRecord {
        id: "nightly".into(),
        name: None,
        function: "store_sqlite::record".into(),
        args: serde_json::json!([1]),
        trigger,
        options: JobOptions::default(),
        next_run_time: Some(next),
        static_job: true,
        running: 0,
    };
    let cron = Trigger::cron("0 0 * * *").expect("valid");
    assert_eq!(
        store
            .upsert_static(&[job(cron.clone(), secs(86_400))], t0())
            .await
            .expect("upserted"),
        vec![Upserted::Inserted]
    );
    // A later start computes another first fire time: the stored one stays.
    assert_eq!(
        store
            .upsert_static(&[job(cron.clone(), secs(2 * 86_400))], t0())
            .await
            .expect("upserted"),
        vec![Upserted::Unchanged]
    );
    assert_eq!(
        store
            .get_job("nightly")
            .await
            .expect("read")
            .and_then(|j| j.next_run_time),
        Some(secs(86_400))
    );
    // The schedule changed in the code: updated, from the new first fire time.
    let hourly = Trigger::cron("0 * * * *").expect("valid");
    assert_eq!(
        store
            .upsert_static(&[job(hourly.clone(), secs(3600))], t0())
            .await
            .expect("upserted"),
        vec![Upserted::Updated]
    );
    let stored = store
        .get_job("nightly")
        .await
        .expect("read")
        .expect("there");
    assert_eq!(stored.trigger, hourly);
    assert_eq!(stored.next_run_time, Some(secs(3600)));
    assert_eq!(store.job_count().await.expect("counted"), 1);
}

#[scheduled(cron = "0 0 * * *", key = "store_sqlite::nightly")]
async fn nightly(log: Data<Log>) {
    if let Ok(mut l) = log.0.lock() {
        l.push(("nightly".into(), 0, 0));
    }
}

#[tokio::test]
async fn a_scheduled_function_is_one_stored_job_over_restarts() {
    let path = db("scheduled");
    // Not at midnight, so the first run is the next one.
    let clock = TestClock::new(secs(60));
    for start in 0..2 {
        let log = Arc::new(Log::default());
        let builder = Scheduler::builder()
            .store(SqliteStore::open(&path))
            .app_data(Data::from(log.clone()));
        let mut h = start_on(builder, clock.clone());
        if start == 0 {
            h.expect(
                "added",
                |e| matches!(e, Event::JobAdded { job_id } if &**job_id == "store_sqlite::nightly"),
            )
            .await;
        }
        let jobs = h.sched.jobs().await.expect("listed");
        let nightly: Vec<_> = jobs
            .iter()
            .filter(|j| j.id() == "store_sqlite::nightly")
            .collect();
        assert_eq!(nightly.len(), 1);
        assert_eq!(nightly[0].next_run_time(), Some(secs(86_400)));
        h.shutdown().await;
        clock.advance(Duration::from_secs(3600));
    }
}

#[tokio::test]
async fn a_job_of_an_unknown_function_is_reported_and_kept() {
    let path = db("unknown");
    let store = raw(&path).await;
    let gone = JobRecord {
        id: "old".into(),
        name: None,
        function: "removed::in_this_version".into(),
        args: serde_json::json!({}),
        trigger: Trigger::at(t0()),
        options: JobOptions::default(),
        next_run_time: Some(t0()),
        static_job: false,
        running: 0,
    };
    store.add_jobs(&[gone], &[false]).await.expect("stored");
    let clock = TestClock::new(t0());
    let (mut h, _) = node(&path, &clock);
    let e = h
        .expect("the report", |e| {
            matches!(e, Event::JobFunctionUnknown { .. })
        })
        .await;
    assert_eq!(
        e,
        Event::JobFunctionUnknown {
            job_id: "old".into(),
            function: "removed::in_this_version".into()
        }
    );
    clock.advance(Duration::from_secs(5));
    h.sched.wakeup().await.expect("woken");
    h.shutdown().await;
    let kept = store
        .get_job("old")
        .await
        .expect("read")
        .expect("kept untouched");
    assert_eq!(kept.next_run_time, Some(t0()));
    assert!(
        store
            .runs(Some("old"), 10)
            .await
            .expect("history")
            .is_empty(),
        "never run"
    );
}

#[tokio::test]
async fn an_old_schema_is_migrated_and_its_jobs_kept() {
    let path = db("migrate");
    let old = SqliteStore::open(&path);
    old.create_schema_version(1).await.expect("version 1");
    assert_eq!(old.schema_version().await.expect("read"), 1);
    let job = JobRecord {
        id: "from-v1".into(),
        name: None,
        function: "store_sqlite::record".into(),
        args: serde_json::json!([5]),
        trigger: Trigger::at(secs(10)),
        options: JobOptions::default(),
        next_run_time: Some(secs(10)),
        static_job: false,
        running: 0,
    };
    old.add_jobs(&[job], &[false]).await.expect("stored in v1");
    drop(old);
    let clock = TestClock::new(t0());
    let (mut h, log) = node(&path, &clock);
    assert!(h.sched.get_job("from-v1").await.expect("read").is_some());
    clock.advance(Duration::from_secs(10));
    h.sched.wakeup().await.expect("woken");
    h.expect("its run", executed_run("from-v1")).await;
    assert_eq!(log.runs()[0].2, 5);
    h.shutdown().await;
    let now = SqliteStore::open(&path);
    now.setup().await.expect("set up");
    assert_eq!(now.schema_version().await.expect("read"), 2);
}

#[tokio::test]
async fn a_newer_schema_is_refused_with_a_typed_error() {
    let path = db("newer");
    let store = raw(&path).await;
    store.set_schema_version_for_test(99).await.expect("set");
    let clock = TestClock::new(t0());
    let (mut h, _) = node(&path, &clock);
    let e = h
        .expect("unavailable", |e| {
            matches!(e, Event::StoreUnavailable { .. })
        })
        .await;
    let Event::StoreUnavailable { error, .. } = e else {
        unreachable!()
    };
    assert!(error.contains("newer"), "{error}");
    let err = h
        .sched
        .add_job(record::with(1))
        .id("x")
        .await
        .expect_err("not stored");
    assert_eq!(err.kind(), ErrorKind::Store);
    h.shutdown().await;
}

#[tokio::test]
async fn two_schedulers_on_one_file_run_each_fire_time_once() {
    let path = db("shared");
    let clock = TestClock::new(t0());
    let (a, log_a) = node(&path, &clock);
    let (b, log_b) = node(&path, &clock);
    a.sched
        .add_jobs(
            (0..300)
                .map(|i| {
                    JobSpec::new(record::with(i))
                        .id(format!("o{i}"))
                        .trigger(Trigger::at(secs(1)))
                        .misfire_grace_time(None)
                })
                .collect(),
        )
        .await
        .expect("added");
    b.sched
        .add_job(record::with(1000))
        .id("every-second")
        .trigger(every(1))
        .misfire_grace_time(None)
        .coalesce(false)
        .max_instances(10)
        .await
        .expect("added");
    for _ in 0..5 {
        clock.advance(Duration::from_secs(1));
        a.sched.wakeup().await.expect("woken");
        b.sched.wakeup().await.expect("woken");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Wait until the 300 one-shot runs are recorded by one node or the other.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let n = log_a.runs().len() + log_b.runs().len();
        if n >= 305 || tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    a.shutdown().await;
    b.shutdown().await;
    let mut per_job: HashMap<(String, u64), usize> = HashMap::new();
    for (job, run, _) in log_a.runs().into_iter().chain(log_b.runs()) {
        *per_job.entry((job, run)).or_default() += 1;
    }
    let one_shots = per_job.keys().filter(|(j, _)| j.starts_with('o')).count();
    assert_eq!(one_shots, 300, "every one-shot job ran");
    assert!(per_job.values().all(|n| *n == 1), "no run twice");
    let other = raw(&path).await;
    let history = other.runs(None, 10_000).await.expect("history");
    let mut fire_times: HashMap<(String, DateTime<Utc>), usize> = HashMap::new();
    for r in &history {
        *fire_times
            .entry((r.job_id.clone(), r.scheduled_at))
            .or_default() += 1;
    }
    assert!(
        fire_times.values().all(|n| *n == 1),
        "each (job, fire time) once"
    );
    assert_eq!(
        fire_times
            .keys()
            .filter(|(j, _)| j == "every-second")
            .count(),
        5
    );
}

/// Holds the runs of [`held`] until the test lets them go.
struct Gate(tokio::sync::Semaphore);

#[job(key = "store_sqlite::held")]
async fn held(gate: Data<Gate>) {
    if let Ok(permit) = gate.0.acquire().await {
        permit.forget();
    }
}

#[tokio::test]
async fn a_fire_time_claimed_ahead_waits_for_the_run_before_it_rather_than_being_skipped() {
    // Claimed 5 s ahead: the fire time at 20 is looked at while the run of
    // 10 still goes. That run ends before 20, so 20 runs: max_instances is
    // about runs at once, not about when a claim happened to be made.
    let path = db("ahead");
    let clock = TestClock::new(t0());
    let gate = Arc::new(Gate(tokio::sync::Semaphore::new(0)));
    let builder = Scheduler::builder()
        .without_registered_jobs()
        .store(SqliteStore::open(&path))
        .claim_ahead(Duration::from_secs(5))
        .app_data(Data::from(gate.clone()))
        .app_data(Data::from(Arc::new(Log::default())));
    let mut h = start_on(builder, clock.clone());
    h.sched
        .add_job(held::with())
        .id("slow")
        .trigger(every_from(10, 10))
        .await
        .expect("added");
    // A probe due at 18: once it has run, the acquire at 18 (which also
    // looked at `slow`'s fire time 20, 5 s ahead) is over.
    h.sched
        .add_job(record::with(1))
        .id("probe")
        .trigger(every_from(100, 18))
        .await
        .expect("added");
    clock.advance(Duration::from_secs(10));
    h.sched.wakeup().await.expect("woken");
    h.expect(
        "the run of 10 starts",
        |e| matches!(e, Event::JobSubmitted { job_id, .. } if &**job_id == "slow"),
    )
    .await;
    clock.advance(Duration::from_secs(8));
    h.sched.wakeup().await.expect("woken");
    h.expect("the probe ran", executed_run("probe")).await;
    // One permit for the run of 10, one for the run of 20 to come.
    gate.0.add_permits(2);
    h.expect("the run of 10 ends", executed_run("slow")).await;
    clock.advance(Duration::from_secs(2));
    h.sched.wakeup().await.expect("woken");
    let e = h.expect("the run of 20 ends", executed_run("slow")).await;
    let Event::JobExecuted { scheduled_at, .. } = e else {
        unreachable!()
    };
    assert_eq!(scheduled_at, secs(20));
    assert!(
        !h.seen
            .iter()
            .any(|e| matches!(e, Event::JobMaxInstances { .. })),
        "nothing skipped for max_instances: {:#?}",
        h.seen
    );
    h.shutdown().await;
}

#[tokio::test]
async fn runs_claimed_ahead_are_not_started_once_their_job_is_removed_or_paused() {
    let path = db("ahead-removed");
    let clock = TestClock::new(t0());
    let (mut h, log) = node_claiming_ahead(&path, &clock);
    for id in ["removed", "paused"] {
        h.sched
            .add_job(record::with(0))
            .id(id)
            .trigger(every_from(100, 10))
            .await
            .expect("added");
    }
    // Wakes at 7.5 s and claims both fire times at 10 (5 s ahead).
    clock.advance(Duration::from_secs(8));
    h.sched.wakeup().await.expect("woken");
    let store = raw(&path).await;
    runs_in_history(&store, 2, "both fire times claimed ahead").await;
    h.sched.remove_job("removed").await.expect("removed");
    h.sched.pause_job("paused").await.expect("paused");
    // The scheduler has taken in both changes (its mailbox is in order)
    // before the clock moves on.
    h.sched.wakeup().await.expect("woken");
    assert!(
        store.runs(None, 10).await.expect("history").is_empty(),
        "the runs claimed ahead are deleted with the change"
    );
    // A probe at 10 as well: once it has run, 10 has been dealt with.
    h.sched
        .add_job(record::with(1))
        .id("probe")
        .trigger(Trigger::at(secs(10)))
        .await
        .expect("added");
    clock.advance(Duration::from_secs(3));
    h.sched.wakeup().await.expect("woken");
    h.expect("the probe ran", executed_run("probe")).await;
    let ran: Vec<String> = log.runs().into_iter().map(|(job, _, _)| job).collect();
    assert_eq!(ran, vec!["probe".to_owned()], "only the probe ran");
    h.shutdown().await;
}

#[tokio::test]
async fn a_claim_and_a_batch_of_completions_name_exactly_the_runs_they_changed() {
    let path = db("claim-complete");
    let clock = TestClock::new(t0());
    let (h, _log) = node(&path, &clock);
    h.sched
        .add_jobs(
            (0..3)
                .map(|i| {
                    JobSpec::new(record::with(i))
                        .id(format!("j{i}"))
                        .trigger(every_from(10, 10 + i as i64))
                })
                .collect(),
        )
        .await
        .expect("added");
    h.shutdown().await;
    let store = raw(&path).await;
    let req = |node: &str| scheduler::stores::AcquireRequest {
        node: node.into(),
        now: secs(10),
        functions: Arc::from(vec!["store_sqlite::record".to_owned()]),
        limit: 100,
        lease: Duration::from_secs(30),
        lookahead: Duration::from_secs(2),
    };
    // Due at 10, and ahead at 11 and 12: three runs, in fire-time order.
    let got = store.acquire(&req("n1")).await.expect("claimed");
    let claimed: Vec<(&str, DateTime<Utc>)> = got
        .claims
        .iter()
        .map(|c| (c.job_id.as_str(), c.scheduled_at))
        .collect();
    assert_eq!(
        claimed,
        vec![("j0", secs(10)), ("j1", secs(11)), ("j2", secs(12))]
    );
    let ids: std::collections::HashSet<u64> = got.claims.iter().map(|c| c.run_id).collect();
    assert_eq!(ids.len(), 3, "a run id each: {ids:?}");
    assert_eq!(got.next_due, Some(secs(20)), "the jobs moved on");
    // Asked again, by another node: nothing is claimed twice.
    let again = store.acquire(&req("n2")).await.expect("asked");
    assert!(again.claims.is_empty(), "{:?}", again.claims);
    // A batch where one completion presents a stale version (its lease was
    // lost and the run taken over): that one is refused, the others kept.
    let done = |c: &scheduler::stores::Claim, version: i64| scheduler::stores::Completion {
        run_id: c.run_id,
        version,
        outcome: scheduler::stores::RunOutcome::Succeeded,
        started_at: c.scheduled_at,
    };
    let batch = [
        done(&got.claims[0], got.claims[0].version),
        done(&got.claims[1], got.claims[1].version + 1),
        done(&got.claims[2], got.claims[2].version),
    ];
    let recorded = store
        .complete("n1", secs(13), &batch)
        .await
        .expect("recorded");
    assert_eq!(recorded, vec![true, false, true]);
    // Another node cannot record a run it does not hold.
    let foreign = store
        .complete(
            "n2",
            secs(13),
            &[done(&got.claims[1], got.claims[1].version)],
        )
        .await
        .expect("asked");
    assert_eq!(foreign, vec![false]);
    let history = store.runs(None, 10).await.expect("history");
    let status = |job: &str| {
        history
            .iter()
            .find(|r| r.job_id == job)
            .map(|r| r.status)
            .expect("in the history")
    };
    assert_eq!(status("j0"), RunStatus::Succeeded);
    assert_eq!(status("j1"), RunStatus::Running);
    assert_eq!(status("j2"), RunStatus::Succeeded);
}

#[tokio::test]
async fn a_run_claimed_ahead_runs_with_the_arguments_its_job_was_changed_to() {
    let path = db("ahead-modified");
    let clock = TestClock::new(t0());
    let (mut h, log) = node_claiming_ahead(&path, &clock);
    h.sched
        .add_job(record::with(1))
        .id("changed")
        .trigger(every_from(100, 10))
        .await
        .expect("added");
    // Wakes at 7.5 s and claims the fire time at 10 (5 s ahead).
    clock.advance(Duration::from_secs(8));
    h.sched.wakeup().await.expect("woken");
    let store = raw(&path).await;
    runs_in_history(&store, 1, "the fire time at 10 claimed ahead").await;
    // Its arguments change before the run starts (as a reload of the
    // daemon's config changes a command).
    h.sched
        .modify_job("changed", JobChanges::new().target(record::with(2)))
        .await
        .expect("modified");
    h.sched.wakeup().await.expect("woken");
    clock.advance(Duration::from_secs(3));
    h.sched.wakeup().await.expect("woken");
    h.expect("the run at 10", executed_run("changed")).await;
    let args: Vec<u64> = log.runs().into_iter().map(|(_, _, n)| n).collect();
    assert_eq!(
        args,
        vec![2],
        "the fire time at 10 ran once, as the job is now"
    );
    let history = store.runs(None, 10).await.expect("history");
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0].scheduled_at, secs(10));
    h.shutdown().await;
}
