//! A cluster of scheduler processes (`store_node`) on one PostgreSQL
//! (`SCHEDULER_TEST_POSTGRES_URL`, set by `.ci/run`): no duplicates under
//! contention, a node killed mid-run, a node stopped past its lease.

mod cluster;

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use cluster::{job, with_options, Node};
use rustix::process::Signal;
use scheduler::stores::{JobStore, RunStatus};
use scheduler::trigger::Trigger;
use scheduler::PostgresStore;

fn url() -> Option<String> {
    match std::env::var("SCHEDULER_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            eprintln!(
                "SKIPPED: SCHEDULER_TEST_POSTGRES_URL is not set, so this PostgreSQL test does not \
                 run (.ci/run sets it)"
            );
            None
        }
    }
}

/// A fresh schema with the store's tables and the marks the jobs write.
async fn setup(url: &str, name: &str) -> (PostgresStore, sqlx::PgPool, String) {
    let schema = format!("c_{name}_{}", std::process::id());
    let store = PostgresStore::connect(url)
        .expect("url")
        .schema(&schema)
        .expect("schema");
    store.drop_schema_for_test().await.expect("dropped");
    store.setup().await.expect("set up");
    let options: sqlx::postgres::PgConnectOptions = url.parse().expect("url");
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options.options([("search_path", schema.as_str())]))
        .await
        .expect("connected");
    sqlx::query(
        "CREATE TABLE marks (job_id TEXT NOT NULL, fire_time BIGINT NOT NULL, node TEXT NOT NULL, \
         attempt INT NOT NULL, UNIQUE (job_id, fire_time))",
    )
    .execute(&pool)
    .await
    .expect("marks");
    sqlx::query(
        "CREATE TABLE long_marks (job_id TEXT NOT NULL, fire_time BIGINT NOT NULL, node TEXT NOT NULL, \
         attempt INT NOT NULL)",
    )
    .execute(&pool)
    .await
    .expect("long marks");
    (store, pool, schema)
}

fn args<'a>(url: &'a str, schema: &'a str, more: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec!["--postgres", url, "--schema", schema];
    a.extend_from_slice(more);
    a
}

async fn count(pool: &sqlx::PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .expect("counted")
}

/// Polls `sql` (a count) until it reaches `n`, for at most `within`.
async fn wait_count(pool: &sqlx::PgPool, sql: &str, n: i64, within: Duration) -> i64 {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let c = count(pool, sql).await;
        if c >= n || tokio::time::Instant::now() > deadline {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_run_every_fire_time_exactly_once() {
    let Some(url) = url() else { return };
    let (store, pool, schema) = setup(&url, "contention").await;
    let nodes: Vec<Node> = ["p1", "p2", "p3"]
        .iter()
        .map(|id| Node::start(id, &args(&url, &schema, &["--lease-ms", "10000"])))
        .collect();
    let now = Utc::now();
    let mut jobs: Vec<_> = (0..10_000)
        .map(|i| {
            job(
                &format!("once-{i}"),
                "node::mark",
                serde_json::json!(["o"]),
                Trigger::at(now),
                now,
            )
        })
        .collect();
    let every = Trigger::interval(Duration::from_secs(1)).expect("valid");
    let first = now + TimeDelta::seconds(1);
    jobs.extend((0..20).map(|i| {
        with_options(
            job(
                &format!("every-{i}"),
                "node::mark",
                serde_json::json!(["e"]),
                every.clone(),
                first,
            ),
            serde_json::json!({ "coalesce": false, "max_instances": 10 }),
        )
    }));
    let replace = vec![false; jobs.len()];
    store.add_jobs(&jobs, &replace).await.expect("added");
    tokio::time::sleep(Duration::from_secs(10)).await;
    let ids: Vec<String> = (0..20).map(|i| format!("every-{i}")).collect();
    store
        .remove_jobs(&ids, chrono::Utc::now())
        .await
        .expect("recurring removed");
    for n in nodes {
        n.stop();
    }
    let once = count(
        &pool,
        "SELECT count(*) FROM marks WHERE job_id LIKE 'once-%'",
    )
    .await;
    assert_eq!(once, 10_000, "every one-shot job ran");
    let recurring = count(
        &pool,
        "SELECT count(*) FROM marks WHERE job_id LIKE 'every-%'",
    )
    .await;
    assert!(
        recurring >= 20 * 8,
        "20 jobs every second for 10 s: {recurring} fire times"
    );
    // A second run of a fire time would have failed on the unique key.
    let runs = store.runs(None, 100_000).await.expect("history");
    let failed: Vec<_> = runs
        .iter()
        .filter(|r| r.status != RunStatus::Succeeded)
        .collect();
    assert!(
        failed.is_empty(),
        "runs that did not succeed: {:?}",
        &failed[..failed.len().min(5)]
    );
    assert_eq!(runs.len() as i64, once + recurring, "one run row per mark");
    let per_node: Vec<i64> = {
        let mut v = Vec::new();
        for id in ["p1", "p2", "p3"] {
            v.push(
                count(
                    &pool,
                    &format!("SELECT count(*) FROM marks WHERE node = '{id}'"),
                )
                .await,
            );
        }
        v
    };
    assert!(
        per_node.iter().filter(|n| **n > 0).count() >= 2,
        "the work was shared: {per_node:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_s_recover_jobs_run_again_and_the_others_are_abandoned() {
    let Some(url) = url() else { return };
    let (store, pool, schema) = setup(&url, "crash").await;
    let a = Node::start("a", &args(&url, &schema, &["--lease-ms", "2000"]));
    let now = Utc::now();
    let jobs: Vec<_> = (0..4)
        .map(|i| {
            with_options(
                job(
                    &format!("long-{i}"),
                    "node::long",
                    serde_json::json!([30_000]),
                    Trigger::at(now),
                    now,
                ),
                serde_json::json!({ "recover": i < 2 }),
            )
        })
        .collect();
    store.add_jobs(&jobs, &[false; 4]).await.expect("added");
    let running = wait_count(
        &pool,
        "SELECT count(*) FROM scheduler_runs WHERE status = 'running' AND holder = 'a'",
        4,
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(running, 4, "a holds the four runs");
    let b = Node::start("b", &args(&url, &schema, &["--lease-ms", "2000"]));
    a.kill();
    let killed = tokio::time::Instant::now();
    let taken = wait_count(
        &pool,
        "SELECT count(*) FROM scheduler_runs WHERE status = 'running' AND holder = 'b'",
        2,
        Duration::from_secs(20),
    )
    .await;
    let after = killed.elapsed();
    assert_eq!(taken, 2, "b runs the two recover jobs again");
    eprintln!("recover runs taken over {after:?} after the kill (lease 2 s)");
    let abandoned = wait_count(
        &pool,
        "SELECT count(*) FROM scheduler_runs WHERE status = 'abandoned'",
        2,
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(abandoned, 2, "the other two are recorded as abandoned");
    let rows: Vec<(String, String, i32)> =
        sqlx::query_as("SELECT job_id, status, attempt FROM scheduler_runs ORDER BY job_id")
            .fetch_all(&pool)
            .await
            .expect("rows");
    for (job, status, attempt) in &rows {
        if job == "long-0" || job == "long-1" {
            assert_eq!((status.as_str(), *attempt), ("running", 2), "{job}");
        } else {
            assert_eq!(status, "abandoned", "{job}: not run again");
        }
    }
    b.wait_for("run_abandoned", Duration::from_secs(10));
    b.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_stopped_past_its_lease_cannot_complete_or_renew_the_run() {
    let Some(url) = url() else { return };
    let (store, pool, schema) = setup(&url, "zombie").await;
    let a = Node::start("a", &args(&url, &schema, &["--lease-ms", "1000"]));
    let now = Utc::now();
    let long = with_options(
        job(
            "slow",
            "node::long",
            serde_json::json!([2_000]),
            Trigger::at(now),
            now,
        ),
        serde_json::json!({ "recover": true }),
    );
    store.add_jobs(&[long], &[false]).await.expect("added");
    let held = wait_count(
        &pool,
        "SELECT count(*) FROM scheduler_runs WHERE status = 'running' AND holder = 'a'",
        1,
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(held, 1);
    a.signal(Signal::STOP);
    let b = Node::start("b", &args(&url, &schema, &["--lease-ms", "1000"]));
    let taken = wait_count(
        &pool,
        "SELECT count(*) FROM scheduler_runs WHERE holder = 'b'",
        1,
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(taken, 1, "b took the run over once a's lease expired");
    a.signal(Signal::CONT);
    // a finishes its copy of the run: its completion (and heartbeat) is refused.
    a.wait_for("run_lease_lost", Duration::from_secs(20));
    let done = wait_count(
        &pool,
        "SELECT count(*) FROM scheduler_runs WHERE status = 'succeeded' AND holder = 'b'",
        1,
        Duration::from_secs(20),
    )
    .await;
    let rows: Vec<(String, String, Option<String>, i64, i32)> =
        sqlx::query_as("SELECT job_id, status, holder, version, attempt FROM scheduler_runs")
            .fetch_all(&pool)
            .await
            .expect("rows");
    assert_eq!(
        done,
        1,
        "the run is b's, recorded by b: {rows:?}; a printed {:#?}; b printed {:#?}",
        a.lines(),
        b.lines()
    );
    let attempt: i32 =
        sqlx::query_scalar("SELECT attempt FROM scheduler_runs WHERE job_id = 'slow'")
            .fetch_one(&pool)
            .await
            .expect("row");
    assert_eq!(attempt, 2);
    a.stop();
    b.stop();
}
