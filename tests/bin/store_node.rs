//! A scheduler process on a durable store, for the tests that kill, stop and
//! restart nodes (`tests/cluster_*.rs`).
//!
//! `store_node --node ID (--postgres URL --schema S | --sqlite PATH) [--lease-ms N]
//! [--poll-ms N] [--offset-secs N]`
//!
//! Runs until SIGTERM (then shuts down gracefully) or until killed. Prints
//! `ready` once started, and one `event JSON` line per event worth a test's
//! eye (runs started and finished, leases lost, abandoned runs, the store
//! coming and going). Its jobs, by registry key:
//! - `node::mark(tag)`: inserts `(job_id, fire_time, node, attempt)` into the
//!   table `marks`, unique on `(job_id, fire_time)` (PostgreSQL), or appends
//!   the same as a line to `marks.log` next to the SQLite file;
//! - `node::long(ms)`: sleeps `ms`, then marks in `long_marks` (no unique
//!   key: a run taken over from a stopped node marks twice).

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use scheduler::prelude::*;
use scheduler::{Clock, EventMask, PostgresStore, Sleep, SqliteStore};

/// Where runs leave their marks.
struct Marks {
    node: String,
    pg: Option<(String, String)>,
    pool: OnceLock<sqlx::PgPool>,
    file: Option<Mutex<std::fs::File>>,
}

impl Marks {
    async fn mark(&self, ctx: &JobContext) -> Result<(), String> {
        self.mark_in(ctx, "marks").await
    }

    async fn mark_in(&self, ctx: &JobContext, table: &str) -> Result<(), String> {
        let (job, fire, attempt) = (ctx.job_id(), ctx.scheduled_at(), ctx.attempt());
        if let Some(file) = &self.file {
            let mut f = file.lock().map_err(|e| e.to_string())?;
            writeln!(
                f,
                "{job} {} {} {attempt}",
                fire.timestamp_micros(),
                self.node
            )
            .map_err(|e| e.to_string())?;
            return Ok(());
        }
        let Some((url, schema)) = &self.pg else {
            return Err("no marks store".into());
        };
        let pool = match self.pool.get() {
            Some(p) => p.clone(),
            None => {
                let options: sqlx::postgres::PgConnectOptions =
                    url.parse().map_err(|e: sqlx::Error| e.to_string())?;
                let p = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(4)
                    .connect_lazy_with(options.options([("search_path", schema.as_str())]));
                let _ = self.pool.set(p);
                self.pool.get().cloned().ok_or("no pool")?
            }
        };
        sqlx::query(&format!(
            "INSERT INTO {table} (job_id, fire_time, node, attempt) VALUES ($1, $2, $3, $4)"
        ))
        .bind(job)
        .bind(fire.timestamp_micros())
        .bind(&self.node)
        .bind(i32::try_from(attempt).unwrap_or(i32::MAX))
        .execute(&pool)
        .await
        .map_err(|e| format!("mark of {job} at {fire}: {e}"))?;
        Ok(())
    }
}

#[job(key = "node::mark")]
async fn mark(tag: String, ctx: JobContext, marks: Data<Marks>) -> Result<(), String> {
    let _ = tag;
    marks.mark(&ctx).await
}

#[job(key = "node::long")]
async fn long(ms: u64, ctx: JobContext, marks: Data<Marks>) -> Result<(), String> {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    marks.mark_in(&ctx, "long_marks").await
}

/// The system clock moved by a fixed offset.
struct Offset(TimeDelta);

impl Clock for Offset {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.0
    }
    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep {
        let wait = (deadline - self.now()).to_std().unwrap_or_default();
        Box::pin(tokio::time::sleep(wait))
    }
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

#[scheduler::main]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let node = arg(&args, "--node").ok_or("usage: store_node --node ID ...")?;
    let ms = |name: &str, default: u64| {
        arg(&args, name)
            .and_then(|v| v.parse().ok())
            .map_or(Duration::from_millis(default), Duration::from_millis)
    };
    let offset = arg(&args, "--offset-secs")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    let (store, marks): (scheduler::Store, Marks) =
        match (arg(&args, "--postgres"), arg(&args, "--sqlite")) {
            (Some(url), _) => {
                let schema = arg(&args, "--schema").ok_or("--schema is needed with --postgres")?;
                let store = PostgresStore::connect(&url)?.schema(&schema)?;
                let marks = Marks {
                    node: node.clone(),
                    pg: Some((url, schema)),
                    pool: OnceLock::new(),
                    file: None,
                };
                (store.into(), marks)
            }
            (None, Some(path)) => {
                let path = PathBuf::from(path);
                let log = path.with_file_name("marks.log");
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(log)?;
                let marks = Marks {
                    node: node.clone(),
                    pg: None,
                    pool: OnceLock::new(),
                    file: Some(Mutex::new(file)),
                };
                (SqliteStore::open(path).into(), marks)
            }
            _ => return Err("one of --postgres URL or --sqlite PATH".into()),
        };
    let mask = EventMask::JOB_SUBMITTED
        | EventMask::JOB_EXECUTED
        | EventMask::JOB_ERROR
        | EventMask::RUN_LEASE_LOST
        | EventMask::RUN_ABANDONED
        | EventMask::STORE_UNAVAILABLE
        | EventMask::STORE_AVAILABLE
        | EventMask::SCHEDULER_STARTED;
    let out = Arc::new(Mutex::new(std::io::stdout()));
    Scheduler::builder()
        .without_registered_jobs()
        .store(store)
        .node_id(node)
        .lease(ms("--lease-ms", 2000))
        .poll_interval(ms("--poll-ms", 200))
        .clock(Offset(TimeDelta::seconds(offset)))
        .data(marks)
        .listener(mask, move |e| {
            if let (Ok(mut o), Ok(json)) = (out.lock(), serde_json::to_string(e)) {
                let _ = writeln!(o, "event {json}");
                let _ = o.flush();
            }
        })
        .run_blocking_with(|_s| async {
            println!("ready");
            let _ = std::io::stdout().flush();
            Ok(())
        })?;
    Ok(())
}
