//! `PostgresStore`: durable jobs shared by a cluster of schedulers.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Row, Transaction};
use tokio::sync::{Mutex, OnceCell};

use crate::error::{Error, ErrorKind};
use crate::store::record::*;
use crate::store::sql::*;
use crate::store::{AcquireRequest, JobStore};

/// The schema, one migration per version (in the store's schema).
const MIGRATIONS: &[&str] = &[
    // 1: jobs and runs.
    "CREATE TABLE scheduler_jobs (
        id TEXT PRIMARY KEY,
        name TEXT,
        function TEXT NOT NULL,
        args TEXT NOT NULL,
        trigger TEXT NOT NULL,
        options TEXT NOT NULL,
        next_run_time BIGINT,
        static_job BOOLEAN NOT NULL DEFAULT FALSE,
        version BIGINT NOT NULL DEFAULT 1
    );
    CREATE INDEX scheduler_jobs_due ON scheduler_jobs (next_run_time)
        WHERE next_run_time IS NOT NULL;
    CREATE TABLE scheduler_runs (
        run_id BIGSERIAL PRIMARY KEY,
        job_id TEXT NOT NULL,
        fire_time BIGINT NOT NULL,
        attempt INTEGER NOT NULL,
        status TEXT NOT NULL,
        holder TEXT,
        version BIGINT NOT NULL,
        lease_until BIGINT,
        due_at BIGINT,
        function TEXT,
        recover BOOLEAN NOT NULL DEFAULT FALSE,
        payload TEXT,
        started_at BIGINT,
        finished_at BIGINT,
        error TEXT,
        UNIQUE (job_id, fire_time)
    );
    CREATE INDEX scheduler_runs_queued ON scheduler_runs (due_at) WHERE status = 'queued';
    CREATE INDEX scheduler_runs_job ON scheduler_runs (job_id, status);",
    // 2: when a job last changed; indexes for lease expiry and history retention.
    "ALTER TABLE scheduler_jobs ADD COLUMN updated_at BIGINT;
    CREATE INDEX scheduler_runs_lease ON scheduler_runs (lease_until) WHERE status = 'running';
    CREATE INDEX scheduler_runs_finished ON scheduler_runs (finished_at)
        WHERE finished_at IS NOT NULL;",
];

/// The channel other nodes are woken on when jobs change.
const CHANNEL: &str = "scheduler_jobs_changed";
/// The payload of a notification that jobs were removed.
const REMOVED: &str = "removed";

/// The database's clock, in microseconds since the epoch: the authority for
/// every node (leases, due times, misfires), whatever the nodes' clocks say.
const DB_NOW: &str = "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::BIGINT";

/// Durable jobs in PostgreSQL, shared by any number of scheduler processes
/// (a cluster, no leader): every `(job, fire time)` is claimed by exactly one
/// node, through a run row unique on it, written in the transaction that
/// advances the job (`FOR UPDATE SKIP LOCKED` on the due rows). Leases carry
/// the holder and a version, and every completion and heartbeat is fenced by
/// both. The database's clock decides what is due and when a lease expires.
/// `LISTEN/NOTIFY` wakes the other nodes when jobs change.
///
/// The tables live in a schema of their own (default `scheduler`), created
/// and migrated when the scheduler starts.
///
/// ```no_run
/// use scheduler::{PostgresStore, Scheduler};
/// let sched = Scheduler::builder()
///     .store(PostgresStore::connect("postgres://app@db.internal/app")?.schema("jobs")?)
///     .start_background()?;
/// # Ok::<(), scheduler::Error>(())
/// ```
pub struct PostgresStore {
    url: String,
    schema: String,
    max_connections: u32,
    pool: OnceCell<PgPool>,
    listener: Mutex<Option<PgListener>>,
    /// Cancelled at close: a wait for a change ends.
    closing: tokio_util::sync::CancellationToken,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// The store at `url` (`postgres://user:password@host:port/database`).
    /// The URL is checked here; nothing is connected until the scheduler starts.
    pub fn connect(url: &str) -> Result<PostgresStore, Error> {
        PgConnectOptions::from_str(url).map_err(|e| {
            Error::with_source(
                ErrorKind::Store,
                format!("postgres store: not a PostgreSQL URL ({e})"),
                e,
            )
        })?;
        Ok(PostgresStore {
            url: url.to_owned(),
            schema: "scheduler".to_owned(),
            max_connections: 8,
            pool: OnceCell::new(),
            listener: Mutex::new(None),
            closing: tokio_util::sync::CancellationToken::new(),
        })
    }

    /// The schema the tables live in (default `scheduler`): letters, digits
    /// and `_`, starting with a letter or `_`.
    pub fn schema(mut self, schema: &str) -> Result<PostgresStore, Error> {
        let ok = schema
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && schema.len() <= 63
            && schema
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok {
            return Err(Error::new(
                ErrorKind::InvalidOption,
                format!(
                    "postgres store: `{schema}` is not a schema name this store accepts \
                     (letters, digits and `_`, at most 63, not starting with a digit)"
                ),
            ));
        }
        self.schema = schema.to_owned();
        Ok(self)
    }

    /// At most this many connections (default 8).
    pub fn max_connections(mut self, n: u32) -> PostgresStore {
        self.max_connections = n.max(2);
        self
    }

    /// Creates the schema up to `version` only (for tests of migrations).
    #[doc(hidden)]
    pub async fn create_schema_version(&self, version: usize) -> Result<(), Error> {
        let pool = self.pool().await?;
        self.run_migrations(pool, version.min(MIGRATIONS.len()))
            .await
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

    /// Drops the store's schema and everything in it (for tests).
    #[doc(hidden)]
    pub async fn drop_schema_for_test(&self) -> Result<(), Error> {
        let pool = self.pool().await?;
        sqlx::query(&format!(
            "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
            self.schema
        ))
        .execute(pool)
        .await
        .map_err(|e| self.err("dropping the schema", e))?;
        Ok(())
    }

    async fn pool(&self) -> Result<&PgPool, Error> {
        self.pool
            .get_or_try_init(|| async {
                let options = PgConnectOptions::from_str(&self.url)
                    .map_err(|e| self.err("reading the URL", e))?
                    .options([("search_path", self.schema.as_str())])
                    .application_name("scheduler");
                Ok::<_, Error>(
                    PgPoolOptions::new()
                        .max_connections(self.max_connections)
                        .acquire_timeout(Duration::from_secs(5))
                        .connect_lazy_with(options),
                )
            })
            .await
    }

    fn err(&self, doing: &str, e: impl std::error::Error + Send + Sync + 'static) -> Error {
        store_error("postgres", doing, e)
    }

    async fn run_migrations(&self, pool: &PgPool, target: usize) -> Result<(), Error> {
        let mut tries = 0;
        loop {
            tries += 1;
            match migrate(pool, &self.schema, target).await {
                Ok(()) => return Ok(()),
                Err(Failure::Db(e)) if is_transient(&e) && tries < 20 => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(Failure::Db(e)) => return Err(self.err("migrating the schema", e)),
                Err(Failure::Our(e)) => return Err(e),
            }
        }
    }
}

/// Runs `$body` (an async block's contents, ending in its result) in a
/// transaction and commits, again after a deadlock or serialization failure.
macro_rules! write_tx {
    ($store:expr, $doing:expr, $tx:ident, $body:block) => {{
        let pool = $store.pool().await?;
        let mut tries = 0_u32;
        loop {
            tries += 1;
            let attempt = async {
                let mut conn_tx = pool.begin().await?;
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
                Err(Failure::Db(e)) if is_transient(&e) && tries < 20 => {
                    tokio::time::sleep(Duration::from_millis(5 * u64::from(tries))).await;
                }
                Err(Failure::Db(e)) => break Err($store.err($doing, e)),
                Err(Failure::Our(e)) => break Err(e),
            }
        }
    }};
}

/// A deadlock or serialization failure: the transaction is tried again.
fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => matches!(d.code().as_deref(), Some("40001" | "40P01")),
        _ => false,
    }
}

fn migrate<'a>(
    pool: &'a PgPool,
    schema: &'a str,
    target: usize,
) -> BoxFuture<'a, Result<(), Failure>> {
    async move { migrate_in(pool, schema, target).await }.boxed()
}

async fn migrate_in(pool: &PgPool, schema: &str, target: usize) -> Result<(), Failure> {
    let mut tx = pool.begin().await?;
    // One node migrates at a time.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('scheduler schema ' || $1))")
        .bind(schema)
        .execute(&mut *tx)
        .await?;
    sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS scheduler_meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL)",
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
                "postgres store: the database's schema `{schema}` is version {current}, newer \
                 than this binary knows ({}); upgrade the binary, or use another schema",
                MIGRATIONS.len()
            ),
        )));
    }
    for (i, step) in MIGRATIONS.iter().enumerate().take(target).skip(current) {
        // One statement at a time (the steps hold no `;` but between statements).
        for statement in step.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        sqlx::query(
            "INSERT INTO scheduler_meta (key, value) VALUES ('schema_version', $1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(i64::try_from(i + 1).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
        tracing::info!(target: "scheduler::store", version = i + 1, schema, "postgres store: schema migrated");
    }
    tx.commit().await?;
    Ok(())
}

const JOB_COLUMNS: &str = "j.id, j.name, j.function, j.args, j.trigger, j.options, \
    j.next_run_time, j.static_job, \
    (SELECT count(*) FROM scheduler_runs r WHERE r.job_id = j.id AND r.status IN ('running', 'queued')) AS running";

fn job_row(row: &PgRow) -> Result<JobRow, sqlx::Error> {
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

fn run_record(row: &PgRow) -> Result<RunRecord, Failure> {
    let opt_time = |c: &str| -> Result<Option<DateTime<Utc>>, Failure> {
        let v: Option<i64> = row.try_get(c)?;
        Ok(v.map(from_micros).transpose()?)
    };
    let run_id: i64 = row.try_get("run_id")?;
    let attempt: i32 = row.try_get("attempt")?;
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

async fn db_now(tx: &mut Transaction<'static, Postgres>) -> Result<i64, Failure> {
    Ok(sqlx::query_scalar(DB_NOW).fetch_one(&mut **tx).await?)
}

async fn notify(tx: &mut Transaction<'static, Postgres>) -> Result<(), Failure> {
    notify_with(tx, "").await
}

async fn notify_with(
    tx: &mut Transaction<'static, Postgres>,
    payload: &str,
) -> Result<(), Failure> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(payload)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Deletes the runs of removed jobs that never started: queued ones, and
/// ones claimed ahead of a fire time that has not come (their holders drop
/// them when told, see [`REMOVED`]).
const DELETE_UNSTARTED: &str = "DELETE FROM scheduler_runs WHERE job_id = ANY($1) \
    AND (status = 'queued' OR (status = 'running' AND fire_time > $2))";

/// Jobs as column arrays, for `UNNEST`.
struct JobArrays {
    ids: Vec<String>,
    names: Vec<Option<String>>,
    functions: Vec<String>,
    args: Vec<String>,
    triggers: Vec<String>,
    options: Vec<String>,
    nexts: Vec<Option<i64>>,
    statics: Vec<bool>,
}

impl JobArrays {
    fn of(jobs: &[JobRecord]) -> Result<JobArrays, Error> {
        let mut a = JobArrays {
            ids: Vec::with_capacity(jobs.len()),
            names: Vec::with_capacity(jobs.len()),
            functions: Vec::with_capacity(jobs.len()),
            args: Vec::with_capacity(jobs.len()),
            triggers: Vec::with_capacity(jobs.len()),
            options: Vec::with_capacity(jobs.len()),
            nexts: Vec::with_capacity(jobs.len()),
            statics: Vec::with_capacity(jobs.len()),
        };
        // Jobs added alike share their trigger and options: written once.
        let mut last: Option<(&JobRecord, JobColumns)> = None;
        for j in jobs {
            let mut c = match &last {
                Some((prev, pc))
                    if (prev.trigger.is_same(&j.trigger) || prev.trigger == j.trigger)
                        && prev.options == j.options =>
                {
                    JobColumns {
                        args: to_json(&j.args, "arguments")?,
                        trigger: pc.trigger.clone(),
                        options: pc.options.clone(),
                        next_run_time: j.next_run_time.map(micros),
                    }
                }
                _ => JobColumns::of(j)?,
            };
            a.ids.push(j.id.clone());
            a.names.push(j.name.clone());
            a.functions.push(j.function.clone());
            a.args.push(std::mem::take(&mut c.args));
            a.triggers.push(c.trigger.clone());
            a.options.push(c.options.clone());
            a.nexts.push(c.next_run_time);
            a.statics.push(j.static_job);
            last = Some((j, c));
        }
        Ok(a)
    }
}

/// Multi-row upsert of jobs, with arrays: one statement per call.
async fn insert_jobs(
    tx: &mut Transaction<'static, Postgres>,
    jobs: &[JobRecord],
    upsert: bool,
) -> Result<u64, Failure> {
    let cols = JobArrays::of(jobs)?;
    let conflict = if upsert {
        "ON CONFLICT (id) DO UPDATE SET name = excluded.name, function = excluded.function, \
         args = excluded.args, trigger = excluded.trigger, options = excluded.options, \
         next_run_time = excluded.next_run_time, static_job = excluded.static_job, \
         version = scheduler_jobs.version + 1"
    } else {
        "ON CONFLICT (id) DO NOTHING"
    };
    let done = sqlx::query(&format!(
        "INSERT INTO scheduler_jobs (id, name, function, args, trigger, options, next_run_time, static_job) \
         SELECT * FROM UNNEST($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::TEXT[], $6::TEXT[], \
         $7::BIGINT[], $8::BOOLEAN[]) {conflict}"
    ))
    .bind(&cols.ids)
    .bind(&cols.names)
    .bind(&cols.functions)
    .bind(&cols.args)
    .bind(&cols.triggers)
    .bind(&cols.options)
    .bind(&cols.nexts)
    .bind(&cols.statics)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// Rows per insert statement of a bulk add.
const INSERT_CHUNK: usize = 5_000;

impl JobStore for PostgresStore {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    fn setup(&self) -> BoxFuture<'_, Result<(), Error>> {
        async move {
            let pool = self.pool().await?;
            self.run_migrations(pool, MIGRATIONS.len()).await
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
            let mut seen = std::collections::HashSet::with_capacity(jobs.len());
            for (i, j) in jobs.iter().enumerate() {
                if !seen.insert(j.id.as_str()) && !replacing(i) {
                    return Err(Error::new(
                        ErrorKind::DuplicateId,
                        format!("job id `{}` appears twice in one add", j.id),
                    ));
                }
            }
            let ids: Vec<String> = jobs.iter().map(|j| j.id.clone()).collect();
            let ids = &ids;
            let any_replace = (0..jobs.len()).any(replacing);
            let out: Result<Vec<bool>, Error> = write_tx!(self, "adding jobs", tx, {
                if !any_replace {
                    // The common bulk add: inserts that skip existing ids; if
                    // any was skipped, name it and roll back (all or nothing).
                    for chunk in jobs.chunks(INSERT_CHUNK) {
                        if insert_jobs(tx, chunk, false).await? < chunk.len() as u64 {
                            // Rolled back; which id it was is looked up after.
                            return Err(Failure::Our(Error::new(ErrorKind::DuplicateId, "")));
                        }
                    }
                    notify(tx).await?;
                    return Ok(vec![false; jobs.len()]);
                }
                // Lock the existing rows of these ids, so a replace and a plain add race safely.
                let mut existing = std::collections::HashSet::new();
                for chunk in ids.chunks(INSERT_CHUNK) {
                    let rows: Vec<String> = sqlx::query_scalar(
                        "SELECT id FROM scheduler_jobs WHERE id = ANY($1) FOR UPDATE",
                    )
                    .bind(chunk)
                    .fetch_all(&mut **tx)
                    .await?;
                    existing.extend(rows);
                }
                if let Some(i) =
                    (0..ids.len()).find(|i| !replacing(*i) && existing.contains(&ids[*i]))
                {
                    return Err(Failure::Our(Error::new(
                        ErrorKind::DuplicateId,
                        format!("a job with id `{}` already exists", ids[i]),
                    )));
                }
                let mut written = 0;
                for chunk in jobs.chunks(INSERT_CHUNK) {
                    written += insert_jobs(tx, chunk, true).await?;
                }
                if written < jobs.len() as u64 {
                    return Err(Failure::Our(Error::new(
                        ErrorKind::Store,
                        "postgres store: fewer jobs were written than given",
                    )));
                }
                notify(tx).await?;
                Ok(ids.iter().map(|id| existing.contains(id)).collect())
            });
            match out {
                Err(e) if e.kind() == ErrorKind::DuplicateId && e.to_string().is_empty() => {
                    // The transaction rolled back: the ids found are the old ones.
                    let pool = self.pool().await?;
                    let taken: Option<String> = sqlx::query_scalar(
                        "SELECT id FROM scheduler_jobs WHERE id = ANY($1) ORDER BY id LIMIT 1",
                    )
                    .bind(ids)
                    .fetch_optional(pool)
                    .await
                    .map_err(|e| self.err("adding jobs", e))?;
                    Err(Error::new(
                        ErrorKind::DuplicateId,
                        format!(
                            "a job with id `{}` already exists",
                            taken.as_deref().unwrap_or("?")
                        ),
                    ))
                }
                other => other,
            }
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
                let mut changed = false;
                for job in jobs {
                    let c = JobColumns::of(job)?;
                    // Nodes starting together insert the same row: the first wins.
                    let inserted: Option<String> = sqlx::query_scalar(
                        "INSERT INTO scheduler_jobs (id, name, function, args, trigger, options, \
                         next_run_time, static_job) VALUES ($1, $2, $3, $4, $5, $6, $7, TRUE) \
                         ON CONFLICT (id) DO NOTHING RETURNING id",
                    )
                    .bind(&job.id)
                    .bind(&job.name)
                    .bind(&job.function)
                    .bind(&c.args)
                    .bind(&c.trigger)
                    .bind(&c.options)
                    .bind(c.next_run_time)
                    .fetch_optional(&mut **tx)
                    .await?;
                    if inserted.is_some() {
                        changed = true;
                        out.push(Upserted::Inserted);
                        continue;
                    }
                    let row = sqlx::query(
                        "SELECT name, function, args, trigger, options, next_run_time \
                         FROM scheduler_jobs WHERE id = $1 FOR UPDATE",
                    )
                    .bind(&job.id)
                    .fetch_optional(&mut **tx)
                    .await?;
                    let Some(row) = row else {
                        out.push(Upserted::Unchanged);
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
                        "UPDATE scheduler_jobs SET name = $1, function = $2, args = $3, trigger = $4, \
                         options = $5, next_run_time = $6, static_job = TRUE, version = version + 1 \
                         WHERE id = $7",
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
                    changed = true;
                    out.push(Upserted::Updated);
                }
                if changed {
                    notify(tx).await?;
                }
                Ok(out)
            })
        }
        .boxed()
    }

    fn update_job<'a>(
        &'a self,
        id: &'a str,
        _now: DateTime<Utc>,
        change: Box<dyn Fn(&mut JobRecord) -> Result<bool, Error> + Send + Sync + 'a>,
    ) -> BoxFuture<'a, Result<Option<JobRecord>, Error>> {
        async move {
            let change = &change;
            write_tx!(self, "changing a job", tx, {
                let row = sqlx::query(&format!(
                    "SELECT {JOB_COLUMNS} FROM scheduler_jobs j WHERE j.id = $1 FOR UPDATE"
                ))
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let mut job = job_row(&row)?.record()?;
                let (was_next, was_trigger) = (job.next_run_time, job.trigger.clone());
                if !change(&mut job)? {
                    sqlx::query("DELETE FROM scheduler_jobs WHERE id = $1")
                        .bind(id)
                        .execute(&mut **tx)
                        .await?;
                    return Ok(None);
                }
                let c = JobColumns::of(&job)?;
                sqlx::query(
                    "UPDATE scheduler_jobs SET name = $1, function = $2, args = $3, trigger = $4, \
                     options = $5, next_run_time = $6, version = version + 1 WHERE id = $7",
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
                let now = db_now(tx).await?;
                if job.next_run_time != was_next || job.trigger != was_trigger {
                    // Paused or rescheduled: its runs claimed ahead of a fire
                    // time that has not come are gone, and their holders told.
                    sqlx::query(
                        "DELETE FROM scheduler_runs WHERE job_id = $1 AND status = 'running' \
                         AND fire_time > $2",
                    )
                    .bind(id)
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
                    notify_with(tx, REMOVED).await?;
                } else {
                    // Changed otherwise: its runs claimed ahead keep their
                    // fire times and take its new arguments and options.
                    sqlx::query(
                        "UPDATE scheduler_runs SET payload = $3 WHERE job_id = $1 \
                         AND status = 'running' AND fire_time > $2",
                    )
                    .bind(id)
                    .bind(now)
                    .bind(Payload::of(&job)?)
                    .execute(&mut **tx)
                    .await?;
                    notify(tx).await?;
                }
                Ok(Some(job))
            })
        }
        .boxed()
    }

    fn remove_jobs<'a>(
        &'a self,
        ids: &'a [String],
        _now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Vec<bool>, Error>> {
        async move {
            write_tx!(self, "removing jobs", tx, {
                let gone: Vec<String> = sqlx::query_scalar(
                    "DELETE FROM scheduler_jobs WHERE id = ANY($1) RETURNING id",
                )
                .bind(ids)
                .fetch_all(&mut **tx)
                .await?;
                let now = db_now(tx).await?;
                sqlx::query(DELETE_UNSTARTED)
                    .bind(ids)
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
                notify_with(tx, REMOVED).await?;
                let gone: std::collections::HashSet<String> = gone.into_iter().collect();
                Ok(ids.iter().map(|id| gone.contains(id)).collect())
            })
        }
        .boxed()
    }

    fn remove_all_jobs(&self, _now: DateTime<Utc>) -> BoxFuture<'_, Result<u64, Error>> {
        async move {
            write_tx!(self, "removing every job", tx, {
                let ids: Vec<String> =
                    sqlx::query_scalar("DELETE FROM scheduler_jobs RETURNING id")
                        .fetch_all(&mut **tx)
                        .await?;
                let now = db_now(tx).await?;
                sqlx::query(DELETE_UNSTARTED)
                    .bind(&ids)
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
                notify_with(tx, REMOVED).await?;
                Ok(ids.len() as u64)
            })
        }
        .boxed()
    }

    fn get_job<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<JobRecord>, Error>> {
        async move {
            let pool = self.pool().await?;
            let row = sqlx::query(&format!(
                "SELECT {JOB_COLUMNS} FROM scheduler_jobs j WHERE j.id = $1"
            ))
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(|e| self.err("reading a job", e))?;
            match row {
                Some(r) => Ok(Some(
                    job_row(&r)
                        .map_err(|e| self.err("reading a job", e))?
                        .record()?,
                )),
                None => Ok(None),
            }
        }
        .boxed()
    }

    fn jobs(&self) -> BoxFuture<'_, Result<Vec<JobRecord>, Error>> {
        async move {
            let pool = self.pool().await?;
            let rows = sqlx::query(&format!(
                "SELECT {JOB_COLUMNS} FROM scheduler_jobs j \
                 ORDER BY j.next_run_time IS NULL, j.next_run_time, j.id"
            ))
            .fetch_all(pool)
            .await
            .map_err(|e| self.err("listing jobs", e))?;
            rows.iter()
                .map(|r| {
                    job_row(r)
                        .map_err(|e| self.err("listing jobs", e))?
                        .record()
                })
                .collect()
        }
        .boxed()
    }

    fn job_count(&self) -> BoxFuture<'_, Result<u64, Error>> {
        async move {
            let pool = self.pool().await?;
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM scheduler_jobs")
                .fetch_one(pool)
                .await
                .map_err(|e| self.err("counting jobs", e))?;
            Ok(u64::try_from(n).unwrap_or_default())
        }
        .boxed()
    }

    fn run_now<'a>(
        &'a self,
        id: &'a str,
        _now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Option<u64>, Error>> {
        async move {
            write_tx!(self, "queueing a run", tx, {
                let row = sqlx::query(&format!(
                    "SELECT {JOB_COLUMNS} FROM scheduler_jobs j WHERE j.id = $1 FOR UPDATE"
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
                let now = db_now(tx).await?;
                // The fire time is the run's key with the job: a free microsecond from now.
                let taken: Option<i64> = sqlx::query_scalar(
                    "SELECT max(fire_time) FROM scheduler_runs WHERE job_id = $1 AND fire_time >= $2",
                )
                .bind(id)
                .bind(now)
                .fetch_one(&mut **tx)
                .await?;
                let fire = taken.map_or(now, |t| t + 1);
                let run_id: i64 = sqlx::query_scalar(
                    "INSERT INTO scheduler_runs (job_id, fire_time, attempt, status, version, due_at, \
                     function, recover, payload) VALUES ($1, $2, 0, 'queued', 0, $3, $4, $5, $6) \
                     RETURNING run_id",
                )
                .bind(id)
                .bind(fire)
                .bind(now)
                .bind(&job.function)
                .bind(job.options.recover())
                .bind(payload)
                .fetch_one(&mut **tx)
                .await?;
                notify(tx).await?;
                Ok(Some(u64::try_from(run_id).unwrap_or_default()))
            })
        }
        .boxed()
    }

    fn acquire<'a>(&'a self, req: &'a AcquireRequest) -> BoxFuture<'a, Result<Acquired, Error>> {
        async move { write_tx!(self, "claiming due runs", tx, { acquire_in(tx, req).await }) }
            .boxed()
    }

    fn complete<'a>(
        &'a self,
        node: &'a str,
        _now: DateTime<Utc>,
        done: &'a [Completion],
    ) -> BoxFuture<'a, Result<Vec<bool>, Error>> {
        async move {
            let mut ids = Vec::with_capacity(done.len());
            let mut versions = Vec::with_capacity(done.len());
            let mut statuses = Vec::with_capacity(done.len());
            let mut retry_us: Vec<Option<i64>> = Vec::with_capacity(done.len());
            let mut errors: Vec<Option<String>> = Vec::with_capacity(done.len());
            for c in done {
                ids.push(i64::try_from(c.run_id).unwrap_or(i64::MAX));
                versions.push(c.version);
                match &c.outcome {
                    RunOutcome::Succeeded => {
                        statuses.push("succeeded");
                        retry_us.push(None);
                        errors.push(None);
                    }
                    RunOutcome::Failed { error, retry_in } => {
                        statuses.push(if retry_in.is_some() {
                            "queued"
                        } else {
                            "failed"
                        });
                        retry_us.push(
                            retry_in.map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX)),
                        );
                        errors.push(Some(error.clone()));
                    }
                }
            }
            let (ids, versions, statuses, retry_us, errors) =
                (&ids, &versions, &statuses, &retry_us, &errors);
            write_tx!(self, "recording finished runs", tx, {
                let now = db_now(tx).await?;
                let recorded: Vec<i64> = sqlx::query_scalar(
                    "UPDATE scheduler_runs r SET status = u.status, \
                       finished_at = CASE WHEN u.status = 'queued' THEN NULL ELSE $1 END, \
                       due_at = CASE WHEN u.status = 'queued' THEN $1 + u.retry_us ELSE NULL END, \
                       payload = CASE WHEN u.status = 'queued' THEN r.payload ELSE NULL END, \
                       error = u.error, lease_until = NULL \
                     FROM UNNEST($2::BIGINT[], $3::BIGINT[], $4::TEXT[], $5::BIGINT[], $6::TEXT[]) \
                       AS u(run_id, version, status, retry_us, error) \
                     WHERE r.run_id = u.run_id AND r.holder = $7 AND r.version = u.version \
                       AND r.status = 'running' \
                     RETURNING r.run_id",
                )
                .bind(now)
                .bind(ids)
                .bind(versions)
                .bind(statuses)
                .bind(retry_us)
                .bind(errors)
                .bind(node)
                .fetch_all(&mut **tx)
                .await?;
                let recorded: std::collections::HashSet<i64> = recorded.into_iter().collect();
                Ok(ids.iter().map(|id| recorded.contains(id)).collect())
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
            let ids: Vec<i64> = runs
                .iter()
                .map(|(r, _)| i64::try_from(*r).unwrap_or(i64::MAX))
                .collect();
            let versions: Vec<i64> = runs.iter().map(|(_, v)| *v).collect();
            let (ids, versions) = (&ids, &versions);
            write_tx!(self, "releasing runs", tx, {
                sqlx::query(
                    "UPDATE scheduler_runs r SET status = 'queued', due_at = r.fire_time, \
                     attempt = r.attempt - 1, lease_until = NULL, version = r.version + 1 \
                     FROM UNNEST($1::BIGINT[], $2::BIGINT[]) AS u(run_id, version) \
                     WHERE r.run_id = u.run_id AND r.holder = $3 AND r.version = u.version \
                       AND r.status = 'running'",
                )
                .bind(ids)
                .bind(versions)
                .bind(node)
                .execute(&mut **tx)
                .await?;
                notify(tx).await?;
                Ok(())
            })
        }
        .boxed()
    }

    fn own_clock(&self) -> bool {
        true
    }

    fn heartbeat<'a>(
        &'a self,
        node: &'a str,
        _now: DateTime<Utc>,
        runs: &'a [(u64, i64)],
        lease: Duration,
    ) -> BoxFuture<'a, Result<Vec<bool>, Error>> {
        async move {
            let ids: Vec<i64> = runs
                .iter()
                .map(|(r, _)| i64::try_from(*r).unwrap_or(i64::MAX))
                .collect();
            let versions: Vec<i64> = runs.iter().map(|(_, v)| *v).collect();
            let lease_us = i64::try_from(lease.as_micros()).unwrap_or(i64::MAX);
            let (ids, versions) = (&ids, &versions);
            write_tx!(self, "renewing leases", tx, {
                let now = db_now(tx).await?;
                let kept: Vec<i64> = sqlx::query_scalar(
                    "UPDATE scheduler_runs r SET lease_until = $1 \
                     FROM UNNEST($2::BIGINT[], $3::BIGINT[]) AS u(run_id, version) \
                     WHERE r.run_id = u.run_id AND r.holder = $4 AND r.version = u.version \
                       AND r.status = 'running' RETURNING r.run_id",
                )
                .bind(now.saturating_add(lease_us))
                .bind(ids)
                .bind(versions)
                .bind(node)
                .fetch_all(&mut **tx)
                .await?;
                let kept: std::collections::HashSet<i64> = kept.into_iter().collect();
                Ok(ids.iter().map(|id| kept.contains(id)).collect())
            })
        }
        .boxed()
    }

    fn recover(&self, _now: DateTime<Utc>) -> BoxFuture<'_, Result<(Vec<RunRecord>, u64), Error>> {
        async move {
            write_tx!(self, "releasing expired leases", tx, {
                let now = db_now(tx).await?;
                let requeued = sqlx::query(
                    "UPDATE scheduler_runs SET status = 'queued', due_at = $1, lease_until = NULL, \
                     version = version + 1 \
                     WHERE run_id IN (SELECT run_id FROM scheduler_runs \
                       WHERE status = 'running' AND lease_until < $1 AND recover \
                       FOR UPDATE SKIP LOCKED)",
                )
                .bind(now)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                let rows = sqlx::query(
                    "UPDATE scheduler_runs SET status = 'abandoned', finished_at = $1, \
                     lease_until = NULL, payload = NULL, version = version + 1, \
                     error = 'abandoned: node `' || coalesce(holder, '?') || '` stopped renewing its lease' \
                     WHERE run_id IN (SELECT run_id FROM scheduler_runs \
                       WHERE status = 'running' AND lease_until < $1 AND NOT recover \
                       FOR UPDATE SKIP LOCKED) \
                     RETURNING run_id, job_id, fire_time, attempt, status, holder, started_at, \
                       finished_at, error",
                )
                .bind(now)
                .fetch_all(&mut **tx)
                .await?;
                let abandoned = rows.iter().map(run_record).collect::<Result<Vec<_>, _>>()?;
                if requeued > 0 {
                    notify(tx).await?;
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
            let pool = self.pool().await?;
            let rows = sqlx::query(
                "SELECT id, function FROM scheduler_jobs WHERE NOT (function = ANY($1)) ORDER BY id",
            )
            .bind(functions)
            .fetch_all(pool)
            .await
            .map_err(|e| self.err("looking for unknown functions", e))?;
            rows.iter()
                .map(|r| {
                    Ok((
                        r.try_get("id").map_err(|e| self.err("reading a job", e))?,
                        r.try_get("function").map_err(|e| self.err("reading a job", e))?,
                    ))
                })
                .collect()
        }
        .boxed()
    }

    fn runs<'a>(
        &'a self,
        job_id: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<RunRecord>, Error>> {
        async move {
            let pool = self.pool().await?;
            let rows = sqlx::query(
                "SELECT run_id, job_id, fire_time, attempt, status, holder, started_at, \
                 finished_at, error FROM scheduler_runs WHERE ($1::TEXT IS NULL OR job_id = $1) \
                 ORDER BY run_id DESC LIMIT $2",
            )
            .bind(job_id)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(pool)
            .await
            .map_err(|e| self.err("reading the run history", e))?;
            rows.iter()
                .map(|r| match run_record(r) {
                    Ok(r) => Ok(r),
                    Err(Failure::Db(e)) => Err(self.err("reading the run history", e)),
                    Err(Failure::Our(e)) => Err(e),
                })
                .collect()
        }
        .boxed()
    }

    fn prune_runs(&self, before: DateTime<Utc>) -> BoxFuture<'_, Result<u64, Error>> {
        async move {
            let pool = self.pool().await?;
            let done = sqlx::query(
                "DELETE FROM scheduler_runs WHERE finished_at IS NOT NULL AND finished_at < $1",
            )
            .bind(micros(before))
            .execute(pool)
            .await
            .map_err(|e| self.err("pruning the run history", e))?;
            Ok(done.rows_affected())
        }
        .boxed()
    }

    fn notifies(&self) -> bool {
        true
    }

    fn wait_for_change(&self) -> BoxFuture<'_, Result<bool, Error>> {
        async move {
            let mut slot = self.listener.lock().await;
            if slot.is_none() {
                let pool = self.pool().await?;
                let mut l = PgListener::connect_with(pool)
                    .await
                    .map_err(|e| self.err("listening for changes", e))?;
                l.listen(CHANNEL)
                    .await
                    .map_err(|e| self.err("listening for changes", e))?;
                *slot = Some(l);
                // Anything may have changed while nobody listened.
                return Ok(true);
            }
            let Some(l) = slot.as_mut() else {
                return Ok(true);
            };
            let next = tokio::select! {
                n = l.try_recv() => n,
                () = self.closing.cancelled() => return Ok(false),
            };
            match next {
                Ok(Some(n)) => Ok(n.payload() == REMOVED),
                // The connection was lost (it reconnects on the next call):
                // notifications may be lost, so anything may have changed.
                Ok(None) => Ok(true),
                Err(e) => {
                    *slot = None;
                    Err(self.err("listening for changes", e))
                }
            }
        }
        .boxed()
    }

    fn closing(&self) {
        self.closing.cancel();
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        async move {
            self.closing.cancel();
            if let Some(mut l) = self.listener.lock().await.take() {
                let _ = l.unlisten_all().await;
            }
            if let Some(pool) = self.pool.get() {
                pool.close().await;
            }
        }
        .boxed()
    }
}

/// The claim, inside its transaction.
async fn acquire_in(
    tx: &mut Transaction<'static, Postgres>,
    req: &AcquireRequest,
) -> Result<Acquired, Failure> {
    let now_us = db_now(tx).await?;
    let now = from_micros(now_us)?;
    let limit = i64::try_from(req.limit).unwrap_or(i64::MAX);
    let lease_us = i64::try_from(req.lease.as_micros()).unwrap_or(i64::MAX);
    let lease_until = now_us.saturating_add(lease_us);
    let ahead_us = i64::try_from(req.lookahead.as_micros()).unwrap_or(0);
    let horizon = now_us.saturating_add(ahead_us);
    let functions: &[String] = &req.functions;
    let mut out = Acquired {
        now,
        ..Acquired::default()
    };
    let rows = sqlx::query(&format!(
        "SELECT {JOB_COLUMNS} FROM scheduler_jobs j \
         WHERE j.next_run_time IS NOT NULL AND j.next_run_time <= $1 AND j.function = ANY($2) \
         ORDER BY j.next_run_time LIMIT $3 FOR UPDATE OF j SKIP LOCKED"
    ))
    .bind(horizon)
    .bind(functions)
    .bind(limit)
    .fetch_all(&mut **tx)
    .await?;
    out.more = rows.len() as i64 >= limit;
    let mut advance_ids = Vec::new();
    let mut advance_next = Vec::new();
    let mut finished = Vec::new();
    let mut run_jobs = Vec::new();
    let mut run_times = Vec::new();
    let mut run_functions = Vec::new();
    let mut run_recover = Vec::new();
    let mut run_payloads = Vec::new();
    let mut by_job: HashMap<
        String,
        (
            String,
            Arc<serde_json::Value>,
            Arc<crate::job::options::JobOptions>,
        ),
    > = HashMap::new();
    for row in &rows {
        let job = job_row(row)?.record()?;
        // A job's last fire time is not claimed ahead: claiming it would
        // end the job early, and a removal meanwhile would find no job.
        if job.next_run_time.is_some_and(|t| t > now)
            && job
                .next_run_time
                .and_then(|t| job.trigger.next_fire_time(Some(t), now))
                .is_none()
        {
            continue;
        }
        let Some(p) = decide(&job, now, &mut out) else {
            continue;
        };
        match p.next {
            Some(next) => {
                advance_ids.push(job.id.clone());
                advance_next.push(micros(next));
            }
            None => {
                finished.push(job.id.clone());
                out.removed.push(job.id.clone());
            }
        }
        if p.runs.is_empty() {
            continue;
        }
        let payload = Payload::of(&job)?;
        for t in &p.runs {
            run_jobs.push(job.id.clone());
            run_times.push(micros(*t));
            run_functions.push(job.function.clone());
            run_recover.push(job.options.recover());
            run_payloads.push(payload.clone());
        }
        by_job.insert(
            job.id.clone(),
            (
                job.function.clone(),
                Arc::new(job.args.clone()),
                Arc::new(job.options.clone()),
            ),
        );
    }
    if !advance_ids.is_empty() {
        sqlx::query(
            "UPDATE scheduler_jobs j SET next_run_time = u.next, version = j.version + 1 \
             FROM UNNEST($1::TEXT[], $2::BIGINT[]) AS u(id, next) WHERE j.id = u.id",
        )
        .bind(&advance_ids)
        .bind(&advance_next)
        .execute(&mut **tx)
        .await?;
    }
    if !finished.is_empty() {
        sqlx::query("DELETE FROM scheduler_jobs WHERE id = ANY($1)")
            .bind(&finished)
            .execute(&mut **tx)
            .await?;
    }
    if !run_jobs.is_empty() {
        let claimed = sqlx::query(
            "INSERT INTO scheduler_runs (job_id, fire_time, attempt, status, holder, version, \
             lease_until, function, recover, payload, started_at) \
             SELECT u.job_id, u.fire_time, 1, 'running', $1, 1, $2, u.function, u.recover, u.payload, $3 \
             FROM UNNEST($4::TEXT[], $5::BIGINT[], $6::TEXT[], $7::BOOLEAN[], $8::TEXT[]) \
               AS u(job_id, fire_time, function, recover, payload) \
             ON CONFLICT (job_id, fire_time) DO NOTHING RETURNING run_id, job_id, fire_time",
        )
        .bind(&*req.node)
        .bind(lease_until)
        .bind(now_us)
        .bind(&run_jobs)
        .bind(&run_times)
        .bind(&run_functions)
        .bind(&run_recover)
        .bind(&run_payloads)
        .fetch_all(&mut **tx)
        .await?;
        for row in &claimed {
            let job_id: String = row.try_get("job_id")?;
            let run_id: i64 = row.try_get("run_id")?;
            let Some((function, args, options)) = by_job.get(&job_id) else {
                continue;
            };
            out.claims.push(Claim {
                run_id: u64::try_from(run_id).unwrap_or_default(),
                version: 1,
                job_id: job_id.clone(),
                function: function.clone(),
                args: args.clone(),
                options: options.clone(),
                scheduled_at: from_micros(row.try_get("fire_time")?)?,
                attempt: 1,
            });
        }
    }
    // Queued runs: retries, recovered runs, `run_job_now`.
    let queued = sqlx::query(
        "UPDATE scheduler_runs SET status = 'running', holder = $1, version = version + 1, \
         attempt = attempt + 1, lease_until = $2, started_at = $3, due_at = NULL \
         WHERE run_id IN (SELECT run_id FROM scheduler_runs \
           WHERE status = 'queued' AND due_at <= $6 AND function = ANY($4) \
           ORDER BY due_at LIMIT $5 FOR UPDATE SKIP LOCKED) \
         RETURNING run_id, job_id, fire_time, attempt, version, payload",
    )
    .bind(&*req.node)
    .bind(lease_until)
    .bind(now_us)
    .bind(functions)
    .bind(limit)
    .bind(horizon)
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
        let attempt: i32 = row.try_get("attempt")?;
        let payload: Option<String> = row.try_get("payload")?;
        let Some(payload) = payload else { continue };
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
            version,
            job_id: row.try_get("job_id")?,
            function,
            args,
            options,
            scheduled_at: from_micros(row.try_get("fire_time")?)?,
            attempt: u32::try_from(attempt).unwrap_or(u32::MAX),
        });
    }
    let next: Option<i64> = sqlx::query_scalar(
        "SELECT LEAST( \
           (SELECT min(next_run_time) FROM scheduler_jobs WHERE next_run_time IS NOT NULL AND function = ANY($1)), \
           (SELECT min(due_at) FROM scheduler_runs WHERE status = 'queued' AND function = ANY($1)))",
    )
    .bind(functions)
    .fetch_one(&mut **tx)
    .await?;
    out.next_due = next.map(from_micros).transpose()?;
    out.answered = Some(from_micros(db_now(tx).await?)?);
    Ok(out)
}
