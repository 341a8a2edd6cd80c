//! The seed's order scenario end to end on SQLite, across a killed process:
//! 1 000 orders each with a cancellation 30 minutes ahead, half of them paid,
//! the scheduler process killed with SIGKILL, a new one started with its
//! clock 31 minutes on: exactly the 500 unpaid orders are cancelled, once
//! each, and a third start cancels nothing again. And two processes on one
//! file at once run every fire time once.

mod cluster;

use std::collections::HashMap;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use cluster::{job, Node};
use scheduler::stores::JobStore;
use scheduler::trigger::Trigger;
use scheduler::SqliteStore;

fn cancelled(log: &std::path::Path) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for line in std::fs::read_to_string(log).unwrap_or_default().lines() {
        if let Some(job) = line.split(' ').next() {
            *out.entry(job.to_owned()).or_default() += 1;
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unpaid_orders_are_cancelled_once_after_a_crash_and_restart() {
    let dir = tests::procs::temp_dir("orders");
    let path = dir.join("jobs.db");
    let log = dir.join("marks.log");
    let db = path.to_string_lossy().into_owned();
    let first = Node::start("first", &["--sqlite", &db]);
    // Orders placed while the first process runs: a cancellation each, due
    // in 30 minutes (stored through the store, as the process's handle does).
    let store = SqliteStore::open(&path);
    store.setup().await.expect("set up");
    let due = Utc::now() + TimeDelta::minutes(30);
    let orders: Vec<_> = (0..1000)
        .map(|i| {
            job(
                &format!("cancel-{i}"),
                "node::mark",
                serde_json::json!(["cancel"]),
                Trigger::at(due),
                due,
            )
        })
        .collect();
    store
        .add_jobs(&orders, &vec![false; 1000])
        .await
        .expect("placed");
    // Every even order is paid: its cancellation is removed.
    let paid: Vec<String> = (0..1000)
        .step_by(2)
        .map(|i| format!("cancel-{i}"))
        .collect();
    let removed = store
        .remove_jobs(&paid, chrono::Utc::now())
        .await
        .expect("paid");
    assert!(removed.iter().all(|r| *r));
    store.close().await;
    first.kill();
    assert!(
        cancelled(&log).is_empty(),
        "nothing was due before the crash"
    );

    // Back, 31 minutes later by its clock.
    let second = Node::start("second", &["--sqlite", &db, "--offset-secs", "1860"]);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while cancelled(&log).len() < 500 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    second.stop();
    let once = cancelled(&log);
    assert_eq!(once.len(), 500, "exactly the unpaid orders are cancelled");
    assert!(once.iter().all(|(job, n)| *n == 1
        && job
            .trim_start_matches("cancel-")
            .parse::<u32>()
            .is_ok_and(|i| i % 2 == 1)));

    // And a third start cancels nothing again.
    let third = Node::start("third", &["--sqlite", &db, "--offset-secs", "1900"]);
    std::thread::sleep(Duration::from_secs(1));
    third.stop();
    assert_eq!(cancelled(&log), once);
    let store = SqliteStore::open(&path);
    assert_eq!(store.job_count().await.expect("counted"), 0);
    assert_eq!(store.runs(None, 2000).await.expect("history").len(), 500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_file_run_each_fire_time_once() {
    let dir = tests::procs::temp_dir("sqlite-two");
    let path = dir.join("jobs.db");
    let log = dir.join("marks.log");
    let db = path.to_string_lossy().into_owned();
    let a = Node::start("a", &["--sqlite", &db]);
    let b = Node::start("b", &["--sqlite", &db]);
    let store = SqliteStore::open(&path);
    store.setup().await.expect("set up");
    let now = Utc::now();
    let jobs: Vec<_> = (0..2000)
        .map(|i| {
            job(
                &format!("o{i}"),
                "node::mark",
                serde_json::json!(["o"]),
                Trigger::at(now),
                now,
            )
        })
        .collect();
    store
        .add_jobs(&jobs, &vec![false; 2000])
        .await
        .expect("added");
    store.close().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while cancelled(&log).len() < 2000 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    a.stop();
    b.stop();
    let ran = cancelled(&log);
    assert_eq!(ran.len(), 2000, "every job ran");
    assert!(ran.values().all(|n| *n == 1), "none twice");
    let lines = std::fs::read_to_string(&log).unwrap_or_default();
    let by_a = lines.lines().filter(|l| l.ends_with(" a 1")).count();
    let by_b = lines.lines().filter(|l| l.ends_with(" b 1")).count();
    eprintln!("runs by a: {by_a}, by b: {by_b}");
    let store = SqliteStore::open(&path);
    let runs = store.runs(None, 5000).await.expect("history");
    assert_eq!(runs.len(), 2000);
    assert!(runs
        .iter()
        .all(|r| r.status == scheduler::stores::RunStatus::Succeeded));
}
