//! `SqliteStore`: durable jobs in one SQLite file (WAL), for one machine.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};
use tokio::sync::OnceCell;

use crate::error::{Error, ErrorKind};
use crate::store::record::*;
use crate::store::sql::*;
use crate::store::{AcquireRequest, JobStore};

/// The schema, one migration per version. A database is migrated in one
/// transaction per step; one newer than this list is refused.
const MIGRATIONS: &[&str] = &[
    // 1: jobs and runs.
    "CREATE TABLE scheduler_jobs (
        id TEXT PRIMARY KEY NOT NULL,
        name TEXT,
        function TEXT NOT NULL,
        args TEXT NOT NULL,
        trigger TEXT NOT NULL,
        options TEXT NOT NULL,
        next_run_time INTEGER,
        static_job INTEGER NOT NULL DEFAULT 0,
        version INTEGER NOT NULL DEFAULT 1
    );
    CREATE INDEX scheduler_jobs_due ON scheduler_jobs (next_run_time)
        WHERE next_run_time IS NOT NULL;
    CREATE TABLE scheduler_runs (
        run_id INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id TEXT NOT NULL,
        fire_time INTEGER NOT NULL,
        attempt INTEGER NOT NULL,
        status TEXT NOT NULL,
        holder TEXT,
        version INTEGER NOT NULL,
        lease_until INTEGER,
        due_at INTEGER,
        payload TEXT,
        started_at INTEGER,
        finished_at INTEGER,
        error TEXT,
        UNIQUE (job_id, fire_time)
    );
    CREATE INDEX scheduler_runs_state ON scheduler_runs (status, due_at);
    CREATE INDEX scheduler_runs_job ON scheduler_runs (job_id, status);",
    // 2: when a job last changed; indexes for lease expiry and history retention.
    "ALTER TABLE scheduler_jobs ADD COLUMN updated_at INTEGER;
    CREATE INDEX scheduler_runs_lease ON scheduler_runs (lease_until)
        WHERE status = 'running';
    CREATE INDEX scheduler_runs_finished ON scheduler_runs (finished_at)
        WHERE finished_at IS NOT NULL;",
];

fn later(t: DateTime<Utc>, d: Duration) -> i64 {
    micros(crate::clock::add(t, d))
}

/// Rows per multi-row `INSERT` (SQLite binds at most 32 766 values).
const INSERT_CHUNK: usize = 500;

/// Runs `$body` (an async block's contents, ending in its result) in a
/// `BEGIN IMMEDIATE` transaction and commits, again while the database is
/// busy (another process holds the write lock past the busy timeout): busy
/// is waited out, never surfaced. A `return` in the body ends the body
/// (and the transaction commits); an error rolls it back.
macro_rules! write_tx {
    ($store:expr, $doing:expr, $tx:ident, $body:block) => {{
        let pool = $store.pool().await?;
        let mut pause = Duration::from_millis(5);
        let mut tries = 0_u32;
        loop {
            tries += 1;
            let attempt = async {
                let mut conn_tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                let out: Result<_, Failure> = {
                    let $tx = &mut conn_tx;
                    async $body.await
                };
                let out = out?;
                conn_tx.commit().await?;
                Ok::<_, Failure>(out)
            };
            match attempt.await {
                Ok(out) => break Ok(out),
                Err(Failure::Db(e)) if is_busy(&e) && tries < 100 => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(250));
                }
                Err(Failure::Db(e)) => break Err($store.err($doing, e)),
                Err(Failure::Our(e)) => break Err(e),
            }
        }
    }};
}

/// Durable jobs in one SQLite file, in WAL mode with full-sync commits: the
/// embedded default for jobs that must survive a restart.
///
/// Several scheduler processes on one machine may share the file: claims
/// are compare-and-swap on a version column inside `BEGIN IMMEDIATE`
/// transactions, a busy database is waited for (busy timeout) and retried,
/// never reported as a failed run. For several machines use a server
/// database (PostgreSQL): SQLite's locking is only safe on a local disk.
///
/// The file and its schema are created (and migrated) when the scheduler starts.
///
/// ```no_run
/// use scheduler::{Scheduler, SqliteStore};
/// let sched = Scheduler::builder()
///     .store(SqliteStore::open("jobs.db"))
///     .start_background()?;
/// # Ok::<(), scheduler::Error>(())
/// ```
pub struct SqliteStore {
    path: PathBuf,
    pool: OnceCell<SqlitePool>,
    busy_timeout: Duration,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// The store in the file at `path`, created if missing. Nothing is
    /// opened until the scheduler starts.
    pub fn open(path: impl AsRef<Path>) -> SqliteStore {
        SqliteStore {
            path: path.as_ref().to_path_buf(),
            pool: OnceCell::new(),
            busy_timeout: Duration::from_secs(5),
        }
    }

    /// How long a statement waits for another process's write lock before
    /// it is retried (default 5 s).
    pub fn busy_timeout(mut self, timeout: Duration) -> SqliteStore {
        self.busy_timeout = timeout;
        self
    }

    /// Creates the schema up to `version` only (for tests of migrations).
    #[doc(hidden)]
    pub async fn create_schema_version(&self, version: usize) -> Result<(), Error> {
        let pool = self.pool().await?;
        match migrate(pool, version.min(MIGRATIONS.len())).await {
            Ok(()) => Ok(()),
            Err(Failure::Db(e)) => Err(self.err("migrating the schema", e)),
            Err(Failure::Our(e)) => Err(e),
        }
    }

    /// The schema version of the database (0: none yet).
    pub async fn schema_version(&self) -> Result<usize, Error> {
        let pool = self.pool().await?;
        let v: Option<i64> =
            sqlx::query_scalar("SELECT value FROM scheduler_meta WHERE key = 'schema_version'")
                .fetch_optional(pool)
                .await
                .map_err(|e| self.err("reading the schema version", e))?;
        Ok(usize::try_from(v.unwrap_or(0)).unwrap_or(0))
    }

    /// Marks the database with another schema version (for tests of a
    /// database newer than the binary).
    #[doc(hidden)]
    pub async fn set_schema_version_for_test(&self, version: i64) -> Result<(), Error> {
        let pool = self.pool().await?;
        sqlx::query("UPDATE scheduler_meta SET value = ? WHERE key = 'schema_version'")
            .bind(version)
            .execute(pool)
            .await
            .map_err(|e| self.err("setting the schema version", e))?;
        Ok(())
    }

    async fn pool(&self) -> Result<&SqlitePool, Error> {
        self.pool
            .get_or_try_init(|| async {
                let url = format!("sqlite://{}", self.path.display());
                let options = SqliteConnectOptions::from_str(&url)
                    .map_err(|e| self.err("reading the path", e))?
                    .filename(&self.path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .busy_timeout(self.busy_timeout);
                SqlitePoolOptions::new()
                    .max_connections(4)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await
                    .map_err(|e| self.err("opening the database", e))
            })
            .await
    }

    fn err(&self, doing: &str, e: impl std::error::Error + Send + Sync + 'static) -> Error {
        store_error(&format!("sqlite ({})", self.path.display()), doing, e)
    }

    /// A read, retried like a write while the database is busy.
    async fn read<'s, T, F, Fut>(&'s self, doing: &'static str, mut work: F) -> Result<T, Error>
    where
        F: FnMut(&'s SqlitePool) -> Fut + Send,
        Fut: Future<Output = Result<T, Failure>> + Send,
    {
        let pool = self.pool().await?;
        let mut tries = 0;
        loop {
            tries += 1;
            match work(pool).await {
                Ok(out) => return Ok(out),
                Err(Failure::Db(e)) if is_busy(&e) && tries < 100 => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(Failure::Db(e)) => return Err(self.err(doing, e)),
                Err(Failure::Our(e)) => return Err(e),
            }
        }
    }
}

fn is_busy(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes.
            d.code()
                .and_then(|c| c.parse::<i64>().ok())
                .is_some_and(|c| matches!(c & 0xff, 5 | 6))
        }
        sqlx::Error::PoolTimedOut => true,
        _ => false,
    }
}

fn migrate(pool: &SqlitePool, target: usize) -> BoxFuture<'_, Result<(), Failure>> {
    async move { migrate_in(pool, target).await }.boxed()
}

async fn migrate_in(pool: &SqlitePool, target: usize) -> Result<(), Failure> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS scheduler_meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    let current: Option<i64> =
        sqlx::query_scalar("SELECT value FROM scheduler_meta WHERE key = 'schema_version'")
            .fetch_optional(&mut *tx)
            .await?;
    let current = usize::try_from(current.unwrap_or(0)).unwrap_or(usize::MAX);
    if current > MIGRATIONS.len() {
        return Err(Failure::Our(Error::new(
            ErrorKind::Store,
            format!(
                "sqlite store: the database's schema is version {current}, newer than this \
                 binary knows ({}); upgrade the binary, or use another file",
                MIGRATIONS.len()
            ),
        )));
    }
    for (i, step) in MIGRATIONS.iter().enumerate().take(target).skip(current) {
        sqlx::query(step).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO scheduler_meta (key, value) VALUES ('schema_version', ?)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(i64::try_from(i + 1).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
        tracing::info!(target: "scheduler::store", version = i + 1, "sqlite store: schema migrated");
    }
    tx.commit().await?;
    Ok(())
}

// The claim's statements answer in one row each: sqlx hands every row of a
// result from its SQLite thread to the caller's on a channel, a wake-up of
// each thread per row (2 500 a second on the store's thread with a thousand
// runs a second, when they returned a row per job and per run).

/// The jobs due by `?1` (of the functions in the JSON array `?2`, the first
/// `?3` by fire time), as one JSON array of `[id, name, function, args,
/// trigger, options, next_run_time, static_job, running, version]`, and the
/// highest run id so far (the runs inserted after it are this claim's).
const DUE_JOBS: &str = "SELECT json_group_array(json_array(id, name, function, args, trigger, \
    options, next_run_time, static_job, running, version) ORDER BY next_run_time, id), \
    (SELECT coalesce(max(run_id), 0) FROM scheduler_runs) \
    FROM (SELECT j.id, j.name, j.function, j.args, j.trigger, j.options, j.next_run_time, \
          j.static_job, j.version, \
          (SELECT count(*) FROM scheduler_runs r WHERE r.job_id = j.id \
           AND r.status IN ('running', 'queued')) AS running \
          FROM scheduler_jobs j \
          WHERE j.next_run_time IS NOT NULL AND j.next_run_time <= ?1 \
          AND j.function IN (SELECT value FROM json_each(?2)) \
          ORDER BY j.next_run_time, j.id LIMIT ?3)";
/// Due jobs advanced: `?1` is a JSON array of `[id, version, next_run_time]`;
/// the jobs at that version are moved on.
const ADVANCE_JOBS: &str =
    "UPDATE scheduler_jobs SET next_run_time = due.next, version = version + 1 \
    FROM (SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS ver, \
          json_extract(value, '$[2]') AS next FROM json_each(?1)) AS due \
    WHERE scheduler_jobs.id = due.id AND scheduler_jobs.version = due.ver";
/// Jobs whose trigger finished: `?1` is a JSON array of `[id, version]`; the
/// jobs still at that version are deleted and returned.
const FINISH_JOBS: &str = "DELETE FROM scheduler_jobs \
    WHERE (id, version) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') \
          FROM json_each(?1)) \
    RETURNING id";
/// Runs claimed for node `?1`: `?4` is a JSON array of `[job_id, fire_time,
/// payload]`; a fire time claimed before is skipped.
const CLAIM_RUNS: &str = "INSERT INTO scheduler_runs (job_id, fire_time, attempt, status, holder, \
    version, lease_until, payload, started_at) \
    SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), 1, 'running', ?1, 1, ?2, \
    json_extract(value, '$[2]'), ?3 FROM json_each(?4) WHERE true \
    ON CONFLICT (job_id, fire_time) DO NOTHING";
/// The runs inserted after run id `?1` (AUTOINCREMENT: later ids are
/// higher; the claim's transaction is the only writer), as one JSON array
/// of `[run_id, job_id, fire_time]`.
const CLAIMED_RUNS: &str = "SELECT json_group_array(json_array(run_id, job_id, fire_time)) \
    FROM scheduler_runs WHERE run_id > ?1";
/// The earliest fire time of a job of the functions in `?1`, and the
/// earliest due time of a queued run.
const NEXT_DUE: &str = "SELECT (SELECT min(next_run_time) FROM scheduler_jobs \
    WHERE next_run_time IS NOT NULL AND function IN (SELECT value FROM json_each(?1))), \
    (SELECT min(due_at) FROM scheduler_runs WHERE status = 'queued')";

/// The runs of job `?1` claimed ahead of a fire time later than `?2`.
const DELETE_CLAIMED_AHEAD: &str = "DELETE FROM scheduler_runs WHERE job_id = ?1 \
    AND status = 'running' AND fire_time > ?2";
/// The runs of job `?1` claimed ahead of a fire time later than `?2` run
/// as the job is now (`?3`, its payload): its arguments or options changed.
const REPAYLOAD_CLAIMED_AHEAD: &str = "UPDATE scheduler_runs SET payload = ?3 \
    WHERE job_id = ?1 AND status = 'running' AND fire_time > ?2";
/// The runs of job `?1` that never started: queued ones, and those claimed
/// ahead of a fire time later than `?2`.
const DELETE_UNSTARTED: &str = "DELETE FROM scheduler_runs WHERE job_id = ?1 \
    AND (status = 'queued' OR (status = 'running' AND fire_time > ?2))";

// Completions, fenced: only the holder at the claimed version, of a running run.

/// Runs that succeeded: `?3` is a JSON array of `[run_id, version]`; the
/// runs still held at that version are recorded. (`+status` keeps the
/// planner on the run ids given rather than on the status index.)
const SUCCEEDED_MANY: &str = "UPDATE scheduler_runs SET status = 'succeeded', finished_at = ?1, \
    lease_until = NULL, payload = NULL, error = NULL \
    FROM (SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS ver \
          FROM json_each(?3)) AS done \
    WHERE scheduler_runs.run_id = done.id AND scheduler_runs.version = done.ver \
    AND holder = ?2 AND +status = 'running'";
/// Of the runs of `?3` (as for [`SUCCEEDED_MANY`]), those it recorded, as a
/// JSON array of run ids: asked only when it recorded fewer than it was
/// given (a lease lost meanwhile).
const SUCCEEDED_RUNS: &str = "SELECT json_group_array(r.run_id) FROM scheduler_runs r \
    JOIN (SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS ver \
          FROM json_each(?3)) AS done ON r.run_id = done.id AND r.version = done.ver \
    WHERE r.holder = ?2 AND r.status = 'succeeded' AND r.finished_at = ?1";
const RETRYING: &str = "UPDATE scheduler_runs SET status = 'queued', due_at = ?, \
    lease_until = NULL, error = ? \
    WHERE run_id = ? AND holder = ? AND version = ? AND status = 'running'";
const FAILED: &str = "UPDATE scheduler_runs SET status = 'failed', finished_at = ?, \
    lease_until = NULL, payload = NULL, error = ? \
    WHERE run_id = ? AND holder = ? AND version = ? AND status = 'running'";

const JOB_COLUMNS: &str = "j.id, j.name, j.function, j.args, j.trigger, j.options, \
    j.next_run_time, j.static_job, \
    (SELECT count(*) FROM scheduler_runs r WHERE r.job_id = j.id AND r.status IN ('running', 'queued')) AS running";

/// A row of [`DUE_JOBS`]: the columns of a [`JobRow`], then the version.
type DueJob = (
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    Option<i64>,
    i64,
    i64,
    i64,
);

/// The job of a [`DUE_JOBS`] row, and its version.
fn due_job(r: DueJob) -> (JobRow, i64) {
    let job = JobRow {
        id: r.0,
        name: r.1,
        function: r.2,
        args: r.3,
        trigger: r.4,
        options: r.5,
        next_run_time: r.6,
        static_job: r.7 != 0,
        running: r.8,
    };
    (job, r.9)
}

/// `[run_id, version]` of each completion.
fn pairs_of(chunk: &[(usize, &Completion)]) -> Vec<(i64, i64)> {
    chunk
        .iter()
        .map(|(_, c)| (i64::try_from(c.run_id).unwrap_or(i64::MAX), c.version))
        .collect()
}

fn job_row(row: &SqliteRow) -> Result<JobRow, sqlx::Error> {
    Ok(JobRow {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        function: row.try_get("function")?,
        args: row.try_get("args")?,
        trigger: row.try_get("trigger")?,
        options: row.try_get("options")?,
        next_run_time: row.try_get("next_run_time")?,
        static_job: row.try_get("static_job")?,
        running: row.try_get("running")?,
    })
}

fn run_record(row: &SqliteRow) -> Result<RunRecord, Failure> {
    let opt_time = |c: &str| -> Result<Option<DateTime<Utc>>, Failure> {
        let v: Option<i64> = row.try_get(c)?;
        Ok(v.map(from_micros).transpose()?)
    };
    let run_id: i64 = row.try_get("run_id")?;
    let attempt: i64 = row.try_get("attempt")?;
    let status: String = row.try_get("status")?;
    Ok(RunRecord {
        run_id: u64::try_from(run_id).unwrap_or_default(),
        job_id: row.try_get("job_id")?,
        scheduled_at: from_micros(row.try_get("fire_time")?)?,
        attempt: u32::try_from(attempt).unwrap_or_default(),
        status: RunStatus::parse(&status)?,
        node: row.try_get("holder")?,
        started_at: opt_time("started_at")?,
        finished_at: opt_time("finished_at")?,
        error: row.try_get("error")?,
    })
}

async fn insert_jobs(
    tx: &mut Transaction<'static, Sqlite>,
    jobs: &[JobRecord],
    upsert: bool,
) -> Result<usize, Failure> {
    let mut inserted = 0;
    for chunk in jobs.chunks(INSERT_CHUNK) {
        let cols = chunk
            .iter()
            .map(JobColumns::of)
            .collect::<Result<Vec<_>, _>>()?;
        let mut q = sqlx::QueryBuilder::<Sqlite>::new(
            "INSERT INTO scheduler_jobs (id, name, function, args, trigger, options, \
             next_run_time, static_job, version) ",
        );
        q.push_values(chunk.iter().zip(&cols), |mut b, (job, c)| {
            b.push_bind(&job.id)
                .push_bind(&job.name)
                .push_bind(&job.function)
                .push_bind(&c.args)
                .push_bind(&c.trigger)
                .push_bind(&c.options)
                .push_bind(c.next_run_time)
                .push_bind(job.static_job)
                .push_bind(1_i64);
        });
        if upsert {
            q.push(
                " ON CONFLICT (id) DO UPDATE SET name = excluded.name, function = excluded.function, \
                 args = excluded.args, trigger = excluded.trigger, options = excluded.options, \
                 next_run_time = excluded.next_run_time, static_job = excluded.static_job, \
                 version = scheduler_jobs.version + 1",
            );
        } else {
            q.push(" ON CONFLICT (id) DO NOTHING");
        }
        let done = q.build().execute(&mut **tx).await?;
        inserted += usize::try_from(done.rows_affected()).unwrap_or(0);
    }
    Ok(inserted)
}

async fn existing_ids(
    tx: &mut Transaction<'static, Sqlite>,
    ids: &[&str],
) -> Result<HashSet<String>, Failure> {
    let mut out = HashSet::new();
    for chunk in ids.chunks(INSERT_CHUNK) {
        let mut q =
            sqlx::QueryBuilder::<Sqlite>::new("SELECT id FROM scheduler_jobs WHERE id IN (");
        let mut list = q.separated(", ");
        for id in chunk {
            list.push_bind(*id);
        }
        q.push(")");
        for row in q.build().fetch_all(&mut **tx).await? {
            out.insert(row.try_get::<String, _>("id")?);
        }
    }
    Ok(out)
}

fn duplicate(id: &str) -> Failure {
    Failure::Our(Error::new(
        ErrorKind::DuplicateId,
        format!("a job with id `{id}` already exists"),
    ))
}

impl JobStore for SqliteStore {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    fn setup(&self) -> BoxFuture<'_, Result<(), Error>> {
        async move {
            let pool = self.pool().await?;
            let mut tries = 0;
            loop {
                tries += 1;
                match migrate(pool, MIGRATIONS.len()).await {
                    Ok(()) => return Ok(()),
                    Err(Failure::Db(e)) if is_busy(&e) && tries < 100 => {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    Err(Failure::Db(e)) => return Err(self.err("migrating the schema", e)),
                    Err(Failure::Our(e)) => return Err(e),
                }
            }
        }
        .boxed()
    }

    fn add_jobs<'a>(
        &'a self,
        jobs: &'a [JobRecord],
        replace: &'a [bool],
    ) -> BoxFuture<'a, Result<Vec<bool>, Error>> {
        async move {
            let replacing = |i: usize| replace.get(i).copied().unwrap_or(false);
            let mut seen = HashSet::with_capacity(jobs.len());
            for (i, j) in jobs.iter().enumerate() {
                if !seen.insert(j.id.as_str()) && !replacing(i) {
                    return Err(Error::new(
                        ErrorKind::DuplicateId,
                        format!("job id `{}` appears twice in one add", j.id),
                    ));
                }
            }
            let ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
            let ids = &ids;
            write_tx!(self, "adding jobs", tx, {
                let existing = existing_ids(tx, ids).await?;
                if let Some(i) =
                    (0..ids.len()).find(|i| !replacing(*i) && existing.contains(ids[*i]))
                {
                    return Err(duplicate(ids[i]));
                }
                let n = insert_jobs(tx, jobs, true).await?;
                if n < jobs.len() {
                    return Err(Failure::Our(Error::new(
                        ErrorKind::Store,
                        "sqlite store: fewer jobs were written than given",
                    )));
                }
                Ok(ids.iter().map(|id| existing.contains(*id)).collect())
            })
        }
        .boxed()
    }

    fn upsert_static<'a>(
        &'a self,
        jobs: &'a [JobRecord],
        _now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Vec<Upserted>, Error>> {
        async move {
            write_tx!(self, "upserting the static jobs", tx, {
                let mut out = Vec::with_capacity(jobs.len());
                for job in jobs {
                    let c = JobColumns::of(job)?;
                    let row = sqlx::query(
                        "SELECT name, function, args, trigger, options, next_run_time \
                             FROM scheduler_jobs WHERE id = ?",
                    )
                    .bind(&job.id)
                    .fetch_optional(&mut **tx)
                    .await?;
                    let Some(row) = row else {
                        insert_jobs(tx, std::slice::from_ref(job), false).await?;
                        out.push(Upserted::Inserted);
                        continue;
                    };
                    let stored = StoredStatic {
                        name: row.try_get("name")?,
                        function: row.try_get("function")?,
                        args: row.try_get("args")?,
                        trigger: row.try_get("trigger")?,
                        options: row.try_get("options")?,
                        next_run_time: row.try_get("next_run_time")?,
                    };
                    let Some(next) = stored.update(job, &c) else {
                        out.push(Upserted::Unchanged);
                        continue;
                    };
                    sqlx::query(
                        "UPDATE scheduler_jobs SET name = ?, function = ?, args = ?, trigger = ?, \
                             options = ?, next_run_time = ?, static_job = 1, version = version + 1 \
                             WHERE id = ?",
                    )
                    .bind(&job.name)
                    .bind(&job.function)
                    .bind(&c.args)
                    .bind(&c.trigger)
                    .bind(&c.options)
                    .bind(next)
                    .bind(&job.id)
                    .execute(&mut **tx)
                    .await?;
                    out.push(Upserted::Updated);
                }
                Ok(out)
            })
        }
        .boxed()
    }

    fn update_job<'a>(
        &'a self,
        id: &'a str,
        now: DateTime<Utc>,
        change: Box<dyn Fn(&mut JobRecord) -> Result<bool, Error> + Send + Sync + 'a>,
    ) -> BoxFuture<'a, Result<Option<JobRecord>, Error>> {
        async move {
            let change = &change;
            write_tx!(self, "changing a job", tx, {
                let row = sqlx::query(&format!(
                    "SELECT {JOB_COLUMNS} FROM scheduler_jobs j WHERE j.id = ?"
                ))
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let mut job = job_row(&row)?.record()?;
                let (was_next, was_trigger) = (job.next_run_time, job.trigger.clone());
                if !change(&mut job)? {
                    sqlx::query("DELETE FROM scheduler_jobs WHERE id = ?")
                        .bind(id)
                        .execute(&mut **tx)
                        .await?;
                    sqlx::query(DELETE_UNSTARTED)
                        .bind(id)
                        .bind(micros(now))
                        .execute(&mut **tx)
                        .await?;
                    return Ok(None);
                }
                if job.next_run_time != was_next || job.trigger != was_trigger {
                    // Paused or rescheduled: its runs claimed ahead of a fire
                    // time that has not come are gone (the scheduler that
                    // holds them checks before it starts them).
                    sqlx::query(DELETE_CLAIMED_AHEAD)
                        .bind(id)
                        .bind(micros(now))
                        .execute(&mut **tx)
                        .await?;
                } else {
                    // Changed otherwise: its runs claimed ahead keep their
                    // fire times and take its new arguments and options
                    // (the scheduler that holds them gives them back, and
                    // claims them again as they are now).
                    sqlx::query(REPAYLOAD_CLAIMED_AHEAD)
                        .bind(id)
                        .bind(micros(now))
                        .bind(Payload::of(&job)?)
                        .execute(&mut **tx)
                        .await?;
                }
                let c = JobColumns::of(&job)?;
                sqlx::query(
                    "UPDATE scheduler_jobs SET name = ?, function = ?, args = ?, trigger = ?, \
                         options = ?, next_run_time = ?, version = version + 1 WHERE id = ?",
                )
                .bind(&job.name)
                .bind(&job.function)
                .bind(&c.args)
                .bind(&c.trigger)
                .bind(&c.options)
                .bind(c.next_run_time)
                .bind(id)
                .execute(&mut **tx)
                .await?;
                Ok(Some(job))
            })
        }
        .boxed()
    }

    fn remove_jobs<'a>(
        &'a self,
        ids: &'a [String],
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Vec<bool>, Error>> {
        async move {
            write_tx!(self, "removing jobs", tx, {
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    let done = sqlx::query("DELETE FROM scheduler_jobs WHERE id = ?")
                        .bind(id)
                        .execute(&mut **tx)
                        .await?;
                    sqlx::query(DELETE_UNSTARTED)
                        .bind(id)
                        .bind(micros(now))
                        .execute(&mut **tx)
                        .await?;
                    out.push(done.rows_affected() > 0);
                }
                Ok(out)
            })
        }
        .boxed()
    }

    fn remove_all_jobs(&self, now: DateTime<Utc>) -> BoxFuture<'_, Result<u64, Error>> {
        async move {
            write_tx!(self, "removing every job", tx, {
                let done = sqlx::query("DELETE FROM scheduler_jobs")
                    .execute(&mut **tx)
                    .await?;
                sqlx::query(
                    "DELETE FROM scheduler_runs WHERE status = 'queued' \
                     OR (status = 'running' AND fire_time > ?)",
                )
                .bind(micros(now))
                .execute(&mut **tx)
                .await?;
                Ok(done.rows_affected())
            })
        }
        .boxed()
    }

    fn get_job<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<JobRecord>, Error>> {
        async move {
            self.read("reading a job", |pool| async move {
                let row = sqlx::query(&format!(
                    "SELECT {JOB_COLUMNS} FROM scheduler_jobs j WHERE j.id = ?"
                ))
                .bind(id)
                .fetch_optional(pool)
                .await?;
                Ok(match row {
                    Some(r) => Some(job_row(&r)?.record()?),
                    None => None,
                })
            })
            .await
        }
        .boxed()
    }

    fn jobs(&self) -> BoxFuture<'_, Result<Vec<JobRecord>, Error>> {
        async move {
            self.read("listing jobs", |pool| async move {
                let rows = sqlx::query(&format!(
                    "SELECT {JOB_COLUMNS} FROM scheduler_jobs j \
                     ORDER BY j.next_run_time IS NULL, j.next_run_time, j.id"
                ))
                .fetch_all(pool)
                .await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in &rows {
                    out.push(job_row(r)?.record()?);
                }
                Ok(out)
            })
            .await
        }
        .boxed()
    }

    fn job_count(&self) -> BoxFuture<'_, Result<u64, Error>> {
        async move {
            self.read("counting jobs", |pool| async move {
                let n: i64 = sqlx::query_scalar("SELECT count(*) FROM scheduler_jobs")
                    .fetch_one(pool)
                    .await?;
                Ok(u64::try_from(n).unwrap_or_default())
            })
            .await
        }
        .boxed()
    }

    fn run_now<'a>(
        &'a self,
        id: &'a str,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Option<u64>, Error>> {
        async move {
            write_tx!(self, "queueing a run", tx, {
                let row = sqlx::query(&format!(
                    "SELECT {JOB_COLUMNS} FROM scheduler_jobs j WHERE j.id = ?"
                ))
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let job = job_row(&row)?.record()?;
                if job.running >= job.options.max_instances {
                    return Err(Failure::Our(Error::new(
                        ErrorKind::MaxInstances,
                        format!(
                            "job `{id}` already runs {} of its max_instances {}",
                            job.running, job.options.max_instances
                        ),
                    )));
                }
                let payload = Payload::of(&job)?;
                // The fire time is the run's key with the job: a free microsecond from now.
                let mut fire = micros(now);
                loop {
                    let taken: Option<i64> = sqlx::query_scalar(
                        "SELECT run_id FROM scheduler_runs WHERE job_id = ? AND fire_time = ?",
                    )
                    .bind(id)
                    .bind(fire)
                    .fetch_optional(&mut **tx)
                    .await?;
                    if taken.is_none() {
                        break;
                    }
                    fire += 1;
                }
                let run_id: i64 = sqlx::query_scalar(
                    "INSERT INTO scheduler_runs (job_id, fire_time, attempt, status, version, \
                         due_at, payload) VALUES (?, ?, 0, 'queued', 0, ?, ?) RETURNING run_id",
                )
                .bind(id)
                .bind(fire)
                .bind(micros(now))
                .bind(payload)
                .fetch_one(&mut **tx)
                .await?;
                Ok(Some(u64::try_from(run_id).unwrap_or_default()))
            })
        }
        .boxed()
    }

    fn acquire<'a>(&'a self, req: &'a AcquireRequest) -> BoxFuture<'a, Result<Acquired, Error>> {
        async move {
            let functions = to_json(&*req.functions, "the function list")?;
            let functions = &functions;
            write_tx!(self, "claiming due runs", tx, {
                acquire_in(tx, req, functions).await
            })
        }
        .boxed()
    }

    fn complete<'a>(
        &'a self,
        node: &'a str,
        now: DateTime<Utc>,
        done: &'a [Completion],
    ) -> BoxFuture<'a, Result<Vec<bool>, Error>> {
        async move {
            write_tx!(self, "recording finished runs", tx, {
                let mut out = vec![false; done.len()];
                // Successes, the bulk of a busy scheduler's completions, in
                // one statement per chunk: `[run_id, version]` pairs as JSON.
                let succeeded: Vec<(usize, &Completion)> = done
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.outcome == RunOutcome::Succeeded)
                    .collect();
                for chunk in succeeded.chunks(INSERT_CHUNK) {
                    let pairs = to_json(&pairs_of(chunk), "finished runs")?;
                    let done = sqlx::query(SUCCEEDED_MANY)
                        .bind(micros(now))
                        .bind(node)
                        .bind(&pairs)
                        .execute(&mut **tx)
                        .await?;
                    let all = done.rows_affected() == chunk.len() as u64;
                    let recorded: HashSet<i64> = if all {
                        HashSet::new()
                    } else {
                        let ids: String = sqlx::query_scalar(SUCCEEDED_RUNS)
                            .bind(micros(now))
                            .bind(node)
                            .bind(&pairs)
                            .fetch_one(&mut **tx)
                            .await?;
                        from_json::<Vec<i64>>(&ids, "recorded runs")?
                            .into_iter()
                            .collect()
                    };
                    for (i, c) in chunk {
                        let id = i64::try_from(c.run_id).unwrap_or(i64::MAX);
                        out[*i] = all || recorded.contains(&id);
                    }
                }
                for (i, c) in done.iter().enumerate() {
                    let q = match &c.outcome {
                        RunOutcome::Succeeded => continue,
                        RunOutcome::Failed {
                            error,
                            retry_in: Some(d),
                        } => sqlx::query(RETRYING)
                            .bind(later(now, *d))
                            .bind(error.clone()),
                        RunOutcome::Failed {
                            error,
                            retry_in: None,
                        } => sqlx::query(FAILED).bind(micros(now)).bind(error.clone()),
                    };
                    let r = q
                        .bind(i64::try_from(c.run_id).unwrap_or(i64::MAX))
                        .bind(node)
                        .bind(c.version)
                        .execute(&mut **tx)
                        .await?;
                    out[i] = r.rows_affected() == 1;
                }
                Ok(out)
            })
        }
        .boxed()
    }

    fn release<'a>(
        &'a self,
        node: &'a str,
        runs: &'a [(u64, i64)],
    ) -> BoxFuture<'a, Result<(), Error>> {
        async move {
            write_tx!(self, "releasing runs", tx, {
                for (run_id, version) in runs {
                    sqlx::query(
                        "UPDATE scheduler_runs SET status = 'queued', due_at = fire_time, \
                         attempt = attempt - 1, lease_until = NULL, version = version + 1 \
                         WHERE run_id = ? AND holder = ? AND version = ? AND status = 'running'",
                    )
                    .bind(i64::try_from(*run_id).unwrap_or(i64::MAX))
                    .bind(node)
                    .bind(*version)
                    .execute(&mut **tx)
                    .await?;
                }
                Ok(())
            })
        }
        .boxed()
    }

    fn heartbeat<'a>(
        &'a self,
        node: &'a str,
        now: DateTime<Utc>,
        runs: &'a [(u64, i64)],
        lease: Duration,
    ) -> BoxFuture<'a, Result<Vec<bool>, Error>> {
        async move {
            write_tx!(self, "renewing leases", tx, {
                    let mut out = Vec::with_capacity(runs.len());
                    for (run_id, version) in runs {
                        let r = sqlx::query(
                            "UPDATE scheduler_runs SET lease_until = ? \
                             WHERE run_id = ? AND holder = ? AND version = ? AND status = 'running'",
                        )
                        .bind(later(now, lease))
                        .bind(i64::try_from(*run_id).unwrap_or(i64::MAX))
                        .bind(node)
                        .bind(*version)
                        .execute(&mut **tx)
                        .await?;
                        out.push(r.rows_affected() == 1);
                    }
                    Ok(out)
                })
        }
        .boxed()
    }

    fn recover(&self, now: DateTime<Utc>) -> BoxFuture<'_, Result<(Vec<RunRecord>, u64), Error>> {
        async move {
            write_tx!(self, "releasing expired leases", tx, {
                let rows = sqlx::query(
                    "SELECT run_id, job_id, fire_time, attempt, status, holder, started_at, \
                         finished_at, error, payload FROM scheduler_runs \
                         WHERE status = 'running' AND lease_until < ?",
                )
                .bind(micros(now))
                .fetch_all(&mut **tx)
                .await?;
                let mut abandoned = Vec::new();
                let mut requeued = 0;
                for row in &rows {
                    let mut run = run_record(row)?;
                    let payload: Option<String> = row.try_get("payload")?;
                    let recover = match payload.as_deref() {
                        Some(p) => from_json::<Payload>(p, "a run")?.options.recover,
                        None => false,
                    };
                    let id = i64::try_from(run.run_id).unwrap_or(i64::MAX);
                    if recover {
                        sqlx::query(
                            "UPDATE scheduler_runs SET status = 'queued', due_at = ?, \
                                 lease_until = NULL, version = version + 1 WHERE run_id = ?",
                        )
                        .bind(micros(now))
                        .bind(id)
                        .execute(&mut **tx)
                        .await?;
                        requeued += 1;
                    } else {
                        let why = format!(
                            "abandoned: node `{}` stopped renewing its lease",
                            run.node.as_deref().unwrap_or("?")
                        );
                        sqlx::query(
                            "UPDATE scheduler_runs SET status = 'abandoned', finished_at = ?, \
                                 lease_until = NULL, payload = NULL, error = ?, \
                                 version = version + 1 WHERE run_id = ?",
                        )
                        .bind(micros(now))
                        .bind(&why)
                        .bind(id)
                        .execute(&mut **tx)
                        .await?;
                        run.status = RunStatus::Abandoned;
                        run.finished_at = Some(now);
                        run.error = Some(why);
                        abandoned.push(run);
                    }
                }
                Ok((abandoned, requeued))
            })
        }
        .boxed()
    }

    fn unknown_functions<'a>(
        &'a self,
        functions: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<(String, String)>, Error>> {
        async move {
            let list = to_json(&functions, "the function list")?;
            let list = &list;
            self.read("looking for unknown functions", |pool| async move {
                let rows = sqlx::query(
                    "SELECT id, function FROM scheduler_jobs \
                     WHERE function NOT IN (SELECT value FROM json_each(?)) ORDER BY id",
                )
                .bind(list)
                .fetch_all(pool)
                .await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in &rows {
                    out.push((r.try_get("id")?, r.try_get("function")?));
                }
                Ok(out)
            })
            .await
        }
        .boxed()
    }

    fn runs<'a>(
        &'a self,
        job_id: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<RunRecord>, Error>> {
        async move {
            self.read("reading the run history", |pool| async move {
                let rows = sqlx::query(
                    "SELECT run_id, job_id, fire_time, attempt, status, holder, started_at, \
                     finished_at, error FROM scheduler_runs WHERE (? IS NULL OR job_id = ?) \
                     ORDER BY run_id DESC LIMIT ?",
                )
                .bind(job_id)
                .bind(job_id)
                .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                .fetch_all(pool)
                .await?;
                rows.iter().map(run_record).collect()
            })
            .await
        }
        .boxed()
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        async move {
            if let Some(pool) = self.pool.get() {
                pool.close().await;
            }
        }
        .boxed()
    }

    fn prune_runs(&self, before: DateTime<Utc>) -> BoxFuture<'_, Result<u64, Error>> {
        async move {
            write_tx!(self, "pruning the run history", tx, {
                let done = sqlx::query(
                    "DELETE FROM scheduler_runs WHERE finished_at IS NOT NULL AND finished_at < ?",
                )
                .bind(micros(before))
                .execute(&mut **tx)
                .await?;
                Ok(done.rows_affected())
            })
        }
        .boxed()
    }
}

/// The claim, inside its transaction.
async fn acquire_in(
    tx: &mut Transaction<'static, Sqlite>,
    req: &AcquireRequest,
    functions: &str,
) -> Result<Acquired, Failure> {
    let now = req.now;
    let now_us = micros(now);
    let horizon = later(now, req.lookahead);
    let limit = i64::try_from(req.limit).unwrap_or(i64::MAX);
    let lease_until = later(now, req.lease);
    let mut out = Acquired {
        now,
        ..Acquired::default()
    };
    let (due, last_run): (String, i64) = sqlx::query_as(DUE_JOBS)
        .bind(horizon)
        .bind(functions)
        .bind(limit)
        .fetch_one(&mut **tx)
        .await?;
    let rows: Vec<DueJob> = from_json(&due, "the due jobs")?;
    out.more = rows.len() as i64 >= limit;
    // Plan every due job, then advance them all (compare-and-swap on their
    // versions) and claim their runs, a statement each: a scheduler with a
    // thousand jobs due pays a handful of statements, not two thousand.
    let mut planned = Vec::with_capacity(rows.len());
    for row in rows {
        let (job, version) = due_job(row);
        let job = job.record()?;
        if let Some(p) = decide(&job, now, &mut out) {
            planned.push((job, version, p));
        }
    }
    let advance: Vec<(&str, i64, i64)> = planned
        .iter()
        .filter_map(|(job, version, p)| p.next.map(|n| (job.id.as_str(), *version, micros(n))))
        .collect();
    let finish: Vec<(&str, i64)> = planned
        .iter()
        .filter(|(_, _, p)| p.next.is_none())
        .map(|(job, version, _)| (job.id.as_str(), *version))
        .collect();
    // The advanced jobs and the finished ones deleted get their runs.
    let mut advanced: HashSet<String> = HashSet::new();
    if !advance.is_empty() {
        let moved = sqlx::query(ADVANCE_JOBS)
            .bind(to_json(&advance, "due jobs")?)
            .execute(&mut **tx)
            .await?;
        // The transaction holds the write lock from its start: the versions
        // just read are the versions now. Anything else is not a claim to
        // make; the transaction is rolled back.
        if moved.rows_affected() != advance.len() as u64 {
            return Err(Failure::Our(Error::new(
                ErrorKind::Store,
                format!(
                    "sqlite: {} of {} due jobs changed while the claim held the write lock; \
                     nothing was claimed",
                    advance.len() as u64 - moved.rows_affected().min(advance.len() as u64),
                    advance.len()
                ),
            )));
        }
        advanced.extend(advance.iter().map(|(id, _, _)| id.to_string()));
    }
    if !finish.is_empty() {
        let ids: Vec<String> = sqlx::query_scalar(FINISH_JOBS)
            .bind(to_json(&finish, "finished jobs")?)
            .fetch_all(&mut **tx)
            .await?;
        out.removed.extend(ids.iter().cloned());
        advanced.extend(ids);
    }
    let mut payloads = Vec::with_capacity(planned.len());
    for (job, _, p) in &planned {
        let payload = if advanced.contains(&job.id) && !p.runs.is_empty() {
            Some(Payload::of(job)?)
        } else {
            None
        };
        payloads.push(payload);
    }
    let runs: Vec<(&str, i64, &str)> = planned
        .iter()
        .zip(&payloads)
        .filter_map(|((job, _, p), payload)| Some((job, p, payload.as_deref()?)))
        .flat_map(|(job, p, payload)| {
            p.runs
                .iter()
                .map(move |t| (job.id.as_str(), micros(*t), payload))
        })
        .collect();
    let mut run_ids: HashMap<(String, i64), i64> = HashMap::new();
    if !runs.is_empty() {
        sqlx::query(CLAIM_RUNS)
            .bind(&*req.node)
            .bind(lease_until)
            .bind(now_us)
            .bind(to_json(&runs, "runs")?)
            .execute(&mut **tx)
            .await?;
        let claimed: String = sqlx::query_scalar(CLAIMED_RUNS)
            .bind(last_run)
            .fetch_one(&mut **tx)
            .await?;
        let claimed: Vec<(i64, String, i64)> = from_json(&claimed, "claimed runs")?;
        run_ids.extend(
            claimed
                .into_iter()
                .map(|(run_id, job_id, fire_time)| ((job_id, fire_time), run_id)),
        );
    }
    // Claims in the order of the plans (a fire time claimed before is not
    // returned, and not claimed again).
    for ((job, _, p), payload) in planned.iter().zip(&payloads) {
        if payload.is_none() {
            continue;
        }
        let args = Arc::new(job.args.clone());
        let options = Arc::new(job.options.clone());
        for t in &p.runs {
            let Some(run_id) = run_ids.remove(&(job.id.clone(), micros(*t))) else {
                continue;
            };
            out.claims.push(Claim {
                run_id: u64::try_from(run_id).unwrap_or_default(),
                version: 1,
                job_id: job.id.clone(),
                function: job.function.clone(),
                args: args.clone(),
                options: options.clone(),
                scheduled_at: *t,
                attempt: 1,
            });
        }
    }
    // Queued runs: retries, recovered runs, `run_job_now`.
    let queued = sqlx::query(
        "SELECT run_id, job_id, fire_time, attempt, version, payload FROM scheduler_runs \
         WHERE status = 'queued' AND due_at <= ? \
         AND json_extract(payload, '$.function') IN (SELECT value FROM json_each(?)) \
         ORDER BY due_at LIMIT ?",
    )
    .bind(horizon)
    .bind(functions)
    .bind(limit)
    .fetch_all(&mut **tx)
    .await?;
    out.more |= queued.len() as i64 >= limit;
    let mut payloads: HashMap<
        String,
        (
            Arc<serde_json::Value>,
            Arc<crate::job::options::JobOptions>,
            String,
        ),
    > = HashMap::new();
    for row in &queued {
        let run_id: i64 = row.try_get("run_id")?;
        let version: i64 = row.try_get("version")?;
        let attempt: i64 = row.try_get("attempt")?;
        let payload: Option<String> = row.try_get("payload")?;
        let Some(payload) = payload else { continue };
        let r = sqlx::query(
            "UPDATE scheduler_runs SET status = 'running', holder = ?, version = version + 1, \
             attempt = attempt + 1, lease_until = ?, started_at = ?, due_at = NULL \
             WHERE run_id = ? AND version = ? AND status = 'queued'",
        )
        .bind(&*req.node)
        .bind(lease_until)
        .bind(now_us)
        .bind(run_id)
        .bind(version)
        .execute(&mut **tx)
        .await?;
        if r.rows_affected() != 1 {
            continue;
        }
        let (args, options, function) = match payloads.get(&payload) {
            Some(p) => p.clone(),
            None => {
                let p: Payload = from_json(&payload, "a run")?;
                let v = (Arc::new(p.args), Arc::new(p.options), p.function);
                payloads.insert(payload.clone(), v.clone());
                v
            }
        };
        out.claims.push(Claim {
            run_id: u64::try_from(run_id).unwrap_or_default(),
            version: version + 1,
            job_id: row.try_get("job_id")?,
            function,
            args,
            options,
            scheduled_at: from_micros(row.try_get("fire_time")?)?,
            attempt: u32::try_from(attempt + 1).unwrap_or(u32::MAX),
        });
    }
    let (next_job, next_queued): (Option<i64>, Option<i64>) = sqlx::query_as(NEXT_DUE)
        .bind(functions)
        .fetch_one(&mut **tx)
        .await?;
    out.next_due = match (next_job, next_queued) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
    .map(from_micros)
    .transpose()?;
    Ok(out)
}
