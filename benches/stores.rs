//! Load benchmarks of the durable stores, on real databases in this machine.
//!
//! Run: `cargo bench -p benches --bench stores` (every scenario, each in a
//! fresh process), or `cargo bench -p benches --bench stores -- SCENARIO`.
//! Scenarios:
//! - `sqlite-add`: `add_jobs` of 100 000 durable jobs, until committed.
//! - `sqlite-runs`: 20 000 no-op one-shot jobs due at once: runs claimed,
//!   executed and recorded as completed per second (until the history holds
//!   them all).
//! - `sqlite-restart`: a scheduler starts on a store holding 1 000 000 jobs
//!   and one that is due: the time until that one has run.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use scheduler::prelude::*;
use scheduler::stores::{JobRecord, JobStore, RunStatus};
use scheduler::{JobOptions, SqliteStore};

type Res = Result<(), Box<dyn std::error::Error>>;

const SCENARIOS: &[&str] = &["sqlite-add", "sqlite-runs", "sqlite-restart"];

/// Counts runs.
#[derive(Default)]
struct Count(AtomicU64);

#[job(key = "bench::noop")]
async fn noop(count: Data<Count>) {
    count.0.fetch_add(1, Ordering::Relaxed);
}

fn main() -> Res {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    match args.first().map(String::as_str) {
        Some(s) if SCENARIOS.contains(&s) => {
            println!("== {s}");
            match s {
                "sqlite-add" => sqlite_add(),
                "sqlite-runs" => sqlite_runs(),
                "sqlite-restart" => sqlite_restart(),
                _ => Ok(()),
            }
        }
        Some(other) => Err(format!("unknown scenario {other}; one of {SCENARIOS:?}").into()),
        None => {
            let exe = std::env::current_exe()?;
            for s in SCENARIOS {
                let status = std::process::Command::new(&exe).arg(s).status()?;
                if !status.success() {
                    return Err(format!("scenario {s} failed").into());
                }
            }
            Ok(())
        }
    }
}

fn fresh_db(name: &str) -> Result<std::path::PathBuf, Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("scheduler-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir.join("jobs.db"))
}

fn rt() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}

fn record(i: usize, at: chrono::DateTime<Utc>) -> JobRecord {
    JobRecord {
        id: format!("job-{i}"),
        name: None,
        function: "bench::noop".into(),
        args: serde_json::json!([]),
        trigger: Trigger::at(at),
        // No grace limit: the jobs are written before the scheduler starts.
        options: serde_json::from_value(serde_json::json!({ "misfire_grace_time": null }))
            .unwrap_or_else(|_| JobOptions::default()),
        next_run_time: Some(at),
        static_job: false,
        running: 0,
    }
}

/// Writes `n` jobs due at `at` straight into the store, in batches.
async fn fill(store: &SqliteStore, n: usize, at: chrono::DateTime<Utc>) -> Res {
    let mut i = 0;
    while i < n {
        let batch: Vec<JobRecord> = (i..(i + 50_000).min(n)).map(|k| record(k, at)).collect();
        let replace = vec![false; batch.len()];
        store.add_jobs(&batch, &replace).await?;
        i += batch.len();
    }
    Ok(())
}

fn sqlite_add() -> Res {
    let mut secs = Vec::new();
    for round in 0..3 {
        let path = fresh_db(&format!("add-{round}"))?;
        let count = Arc::new(Count::default());
        let sched = Scheduler::builder()
            .without_registered_jobs()
            .store(SqliteStore::open(&path))
            .app_data(Data::from(count))
            .start_background()?;
        let later = Utc::now() + TimeDelta::days(1);
        let specs: Vec<JobSpec> = (0..100_000)
            .map(|i| {
                JobSpec::new(noop::with())
                    .id(format!("job-{i}"))
                    .trigger(Trigger::at(later))
            })
            .collect();
        let started = Instant::now();
        sched.blocking().add_jobs(specs)?;
        let took = started.elapsed();
        assert_eq!(sched.blocking().job_count()?, 100_000);
        sched.blocking().shutdown(true)?;
        println!(
            "round {round}: 100 000 durable jobs added in {:.2} s",
            took.as_secs_f64()
        );
        secs.push(took.as_secs_f64());
    }
    secs.sort_by(f64::total_cmp);
    println!(
        "sqlite add_jobs(100 000): median {:.2} s (target < 2 s)",
        secs[1]
    );
    Ok(())
}

fn sqlite_runs() -> Res {
    const N: usize = 20_000;
    let mut rates = Vec::new();
    for round in 0..3 {
        let path = fresh_db(&format!("runs-{round}"))?;
        let store = SqliteStore::open(&path);
        rt()?.block_on(async {
            store.setup().await?;
            fill(&store, N, Utc::now()).await?;
            store.close().await;
            Ok::<(), Box<dyn std::error::Error>>(())
        })?;
        let count = Arc::new(Count::default());
        let started = Instant::now();
        let sched = Scheduler::builder()
            .without_registered_jobs()
            .store(SqliteStore::open(&path))
            .app_data(Data::from(count.clone()))
            .start_background()?;
        while count.0.load(Ordering::Relaxed) < N as u64 {
            if started.elapsed() > Duration::from_secs(120) {
                return Err("the runs did not finish within 120 s".into());
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        // Shutdown waits until every completion is recorded.
        sched.blocking().shutdown(true)?;
        let took = started.elapsed();
        let check = SqliteStore::open(&path);
        let done = rt()?.block_on(async {
            check.setup().await?;
            let runs = check.runs(None, N + 1).await?;
            check.close().await;
            Ok::<usize, scheduler::Error>(
                runs.iter()
                    .filter(|r| r.status == RunStatus::Succeeded)
                    .count(),
            )
        })?;
        assert_eq!(done, N, "every run recorded as succeeded");
        let rate = N as f64 / took.as_secs_f64();
        println!(
            "round {round}: {N} runs claimed, run and completed in {:.2} s: {rate:.0} runs/s",
            took.as_secs_f64()
        );
        rates.push(rate);
    }
    rates.sort_by(f64::total_cmp);
    println!("sqlite runs/s: median {:.0} (target ≥ 5 000)", rates[1]);
    Ok(())
}

fn sqlite_restart() -> Res {
    const N: usize = 1_000_000;
    let path = fresh_db("restart")?;
    let store = SqliteStore::open(&path);
    let filled = Instant::now();
    rt()?.block_on(async {
        store.setup().await?;
        fill(&store, N, Utc::now() + TimeDelta::days(365)).await?;
        store.add_jobs(&[record(N, Utc::now())], &[false]).await?;
        store.close().await;
        Ok::<(), Box<dyn std::error::Error>>(())
    })?;
    println!(
        "filled {} jobs in {:.1} s",
        N + 1,
        filled.elapsed().as_secs_f64()
    );
    let mut secs = Vec::new();
    for round in 0..3 {
        if round > 0 {
            // The due job again, for the next start.
            let again = SqliteStore::open(&path);
            rt()?.block_on(async {
                again.setup().await?;
                again.add_jobs(&[record(N, Utc::now())], &[true]).await?;
                again.close().await;
                Ok::<(), Box<dyn std::error::Error>>(())
            })?;
        }
        let count = Arc::new(Count::default());
        let started = Instant::now();
        let sched = Scheduler::builder()
            .without_registered_jobs()
            .store(SqliteStore::open(&path))
            .app_data(Data::from(count.clone()))
            .start_background()?;
        while count.0.load(Ordering::Relaxed) < 1 {
            if started.elapsed() > Duration::from_secs(60) {
                return Err("the due job did not run within 60 s".into());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let took = started.elapsed();
        sched.blocking().shutdown(true)?;
        println!(
            "round {round}: ready with {N} stored jobs, first due job ran after {:.3} s",
            took.as_secs_f64()
        );
        secs.push(took.as_secs_f64());
    }
    secs.sort_by(f64::total_cmp);
    println!(
        "sqlite restart with 1 000 000 jobs: median {:.3} s to the first run (target < 5 s)",
        secs[1]
    );
    Ok(())
}
