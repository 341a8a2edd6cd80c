//! PostgreSQL stops for 10 s and comes back while jobs fire every second on
//! two scheduler processes: they keep running, say the store went away and
//! came back, and no fire time runs twice. Alone in its test binary, since it
//! stops the database server (cargo runs test binaries one at a time).

mod cluster;

use std::process::Command;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use cluster::{job, with_options, Node};
use scheduler::stores::{JobStore, RunStatus};
use scheduler::trigger::Trigger;
use scheduler::PostgresStore;

/// `pg_ctlcluster VERSION main ARGS...` on this machine's one cluster.
fn pg_ctl(args: &[&str]) {
    let version = std::fs::read_dir("/etc/postgresql")
        .ok()
        .and_then(|mut d| d.next())
        .and_then(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .expect("a PostgreSQL cluster in /etc/postgresql");
    let status = Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", &version, "main"])
        .args(args)
        .status()
        .expect("pg_ctlcluster runs");
    assert!(status.success(), "pg_ctlcluster {args:?} failed");
}

/// Starts the server again even if the test fails half-way.
struct Restart;

impl Drop for Restart {
    fn drop(&mut self) {
        let ready = Command::new("pg_isready")
            .args(["-h", "127.0.0.1", "-q"])
            .status()
            .is_ok_and(|s| s.success());
        if !ready {
            pg_ctl(&["start"]);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_keep_firing_through_a_database_restart_and_none_twice() {
    let url = match std::env::var("SCHEDULER_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => {
            eprintln!("SKIPPED: SCHEDULER_TEST_POSTGRES_URL is not set (.ci/run sets it)");
            return;
        }
    };
    if Command::new("pg_ctlcluster")
        .arg("--help")
        .output()
        .is_err()
    {
        panic!("pg_ctlcluster is needed to stop and start PostgreSQL for this test");
    }
    let schema = format!("c_outage_{}", std::process::id());
    let store = PostgresStore::connect(&url)
        .expect("url")
        .schema(&schema)
        .expect("schema");
    store.drop_schema_for_test().await.expect("dropped");
    store.setup().await.expect("set up");
    {
        let options: sqlx::postgres::PgConnectOptions = url.parse().expect("url");
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
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
        pool.close().await;
    }
    let args = [
        "--postgres",
        url.as_str(),
        "--schema",
        schema.as_str(),
        "--lease-ms",
        "5000",
    ];
    let a = Node::start("a", &args);
    let b = Node::start("b", &args);
    let every = Trigger::interval(Duration::from_secs(1)).expect("valid");
    let first = Utc::now() + TimeDelta::seconds(1);
    let jobs: Vec<_> = (0..5)
        .map(|i| {
            with_options(
                job(
                    &format!("tick-{i}"),
                    "node::mark",
                    serde_json::json!(["t"]),
                    every.clone(),
                    first,
                ),
                serde_json::json!({ "misfire_grace_time": { "secs": 1, "nanos": 0 } }),
            )
        })
        .collect();
    store.add_jobs(&jobs, &[false; 5]).await.expect("added");
    store.close().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let _restart = Restart;
    let stopping = Utc::now();
    pg_ctl(&["stop", "-m", "fast"]);
    tokio::time::sleep(Duration::from_secs(10)).await;
    pg_ctl(&["start"]);
    let back = Utc::now();
    for n in [&a, &b] {
        n.wait_for("store_unavailable", Duration::from_secs(5));
        n.wait_for("store_available", Duration::from_secs(30));
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let store = PostgresStore::connect(&url)
        .expect("url")
        .schema(&schema)
        .expect("schema");
    let ids: Vec<String> = (0..5).map(|i| format!("tick-{i}")).collect();
    store
        .remove_jobs(&ids, chrono::Utc::now())
        .await
        .expect("removed");
    a.stop();
    b.stop();
    let runs = store.runs(None, 10_000).await.expect("history");
    // A fire time claimed ahead just before the database stopped is started
    // while it is down: its job cannot write its mark, nor its node renew
    // the lease (5 s, shorter than the outage), so it fails or is recorded
    // as abandoned. Every other run succeeds.
    let outage = (stopping - TimeDelta::seconds(1))..(back + TimeDelta::seconds(1));
    let bad: Vec<_> = runs
        .iter()
        .filter(|r| !matches!(r.status, RunStatus::Succeeded))
        .filter(|r| !outage.contains(&r.scheduled_at))
        .collect();
    assert!(
        bad.is_empty(),
        "runs outside the outage that did not succeed (a duplicate fails on the unique key): {bad:?}"
    );
    for i in 0..5 {
        let after: Vec<_> = runs
            .iter()
            .filter(|r| r.job_id == format!("tick-{i}") && r.scheduled_at > back)
            .collect();
        assert!(
            after.len() >= 3,
            "tick-{i} fired again after the restart: {}",
            after.len()
        );
    }
    let mut keys: Vec<_> = runs
        .iter()
        .map(|r| (r.job_id.clone(), r.scheduled_at))
        .collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n, "no fire time twice");
}
