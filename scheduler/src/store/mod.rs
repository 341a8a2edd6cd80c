//! Job stores: where jobs, their fire times, the runs that claim them and
//! the run history live.
//!
//! - [`MemoryStore`] (the default) is the engine's own in-memory queue: no
//!   persistence, no calls, no boxing on the hot path.
//! - `SqliteStore` (feature `sqlite`): one file in WAL mode, the embedded
//!   default for durable jobs; safe for several scheduler processes on one
//!   machine.
//! - `PostgresStore` (feature `postgres`): shared by a cluster of scheduler
//!   processes, on the database's clock, woken by `LISTEN/NOTIFY`.
//! - Durable stores implement [`JobStore`], the lifecycle of Quartz's job
//!   stores, batched: **acquire** the due fire times (each claimed by a run
//!   row unique on `(job_id, fire_time)`, written in the transaction that
//!   advances the job), run them, then **complete** them (fenced by holder and
//!   version), or let their lease lapse so that **recover** releases them.
//!
//! A store knows jobs, fire times, claims and runs; it never calls into the
//! engine. The engine calls it off its own thread (see [`link`]).
//!
//! This room may use `job`, `error`, `event` and `clock`.

pub(crate) mod link;
mod memory;
#[cfg(any(feature = "sqlite", feature = "postgres", test))]
pub(crate) mod plan;
#[cfg(feature = "postgres")]
mod postgres;
mod record;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;

use crate::error::Error;

pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
pub use record::{
    Acquired, Claim, Completion, JobRecord, Missed, RunOutcome, RunRecord, RunStatus, Upserted,
};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// What [`JobStore::acquire`] is asked for.
#[derive(Clone, Debug)]
pub struct AcquireRequest {
    /// The node asking: the holder of the runs it claims.
    pub node: Arc<str>,
    /// The scheduler's clock. A store with a clock of its own (a database
    /// server's) uses that instead and says which in [`Acquired::now`].
    pub now: DateTime<Utc>,
    /// The job functions this node can run (registry names): jobs of other
    /// functions are left to nodes that know them.
    pub functions: Arc<[String]>,
    /// At most this many runs.
    pub limit: usize,
    /// How long the claimed runs' leases last before they are renewed.
    pub lease: Duration,
    /// Also claim fire times this far ahead of now (the node starts them on
    /// time by its estimate of the store's clock); zero: only what is due.
    pub lookahead: Duration,
}

/// A durable job store. The engine calls every method off its own thread, in
/// batches; a method returns once its transaction committed (or failed, and
/// then nothing of it happened).
///
/// Implemented by `SqliteStore` and `PostgresStore`; implement it for another database by
/// following the same contract (the conformance tests in the repository's
/// `tests/store_*.rs` show it).
pub trait JobStore: Send + Sync + 'static {
    /// The store's kind, for events and logs: `"sqlite"`, `"postgres"`.
    fn kind(&self) -> &'static str;

    /// Connects, and creates or migrates the schema. Called once at start,
    /// and again after a failure.
    fn setup(&self) -> BoxFuture<'_, Result<(), Error>>;

    /// Inserts jobs in one transaction, all or nothing, in multi-row
    /// statements: a job whose `replace` flag (the same index) is set
    /// replaces one with its id; otherwise an existing id is
    /// [`crate::ErrorKind::DuplicateId`]. Returns, per job, whether it replaced one.
    fn add_jobs<'a>(
        &'a self,
        jobs: &'a [JobRecord],
        replace: &'a [bool],
    ) -> BoxFuture<'a, Result<Vec<bool>, Error>>;

    /// Upserts the static (`#[scheduled]`) jobs at start: a new one is
    /// inserted, an unchanged one is left as it is (its next run time too),
    /// one whose trigger or options changed in the code is updated.
    fn upsert_static<'a>(
        &'a self,
        jobs: &'a [JobRecord],
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Vec<Upserted>, Error>>;

    /// Reads a job, lets `change` edit it and writes it back, in one
    /// transaction. `change` returns `false` to remove the job instead; it may
    /// be called again if the transaction is retried.
    /// `Ok(None)`: no such job.
    #[allow(clippy::type_complexity)]
    fn update_job<'a>(
        &'a self,
        id: &'a str,
        now: DateTime<Utc>,
        change: Box<dyn Fn(&mut JobRecord) -> Result<bool, Error> + Send + Sync + 'a>,
    ) -> BoxFuture<'a, Result<Option<JobRecord>, Error>>;

    /// Removes jobs; per id, whether it existed. Their runs in progress
    /// finish; their queued runs, and runs claimed ahead of a fire time that
    /// has not come by `now` (the scheduler's clock; a store with a clock of
    /// its own reads that), are deleted (they never started).
    fn remove_jobs<'a>(
        &'a self,
        ids: &'a [String],
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Vec<bool>, Error>>;

    /// Removes every job, with their runs as [`JobStore::remove_jobs`] does;
    /// returns how many.
    fn remove_all_jobs(&self, now: DateTime<Utc>) -> BoxFuture<'_, Result<u64, Error>>;

    /// A job by id.
    fn get_job<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<JobRecord>, Error>>;

    /// Every job, soonest first, paused ones last.
    fn jobs(&self) -> BoxFuture<'_, Result<Vec<JobRecord>, Error>>;

    /// How many jobs there are.
    fn job_count(&self) -> BoxFuture<'_, Result<u64, Error>>;

    /// Queues one extra run of a job, due now (`run_job_now`); returns its run id.
    fn run_now<'a>(
        &'a self,
        id: &'a str,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Option<u64>, Error>>;

    /// Claims what is due for `req.node`: fire times of due jobs (after
    /// misfire, coalescing, the catch-up limit and `max_instances`, across
    /// every node) and queued runs (retries, recovered runs, `run_now`),
    /// advancing the jobs in the same transaction.
    fn acquire<'a>(&'a self, req: &'a AcquireRequest) -> BoxFuture<'a, Result<Acquired, Error>>;

    /// Records finished runs, each only if `node` still holds it at the
    /// version it claimed (fencing); per run, whether it was recorded.
    fn complete<'a>(
        &'a self,
        node: &'a str,
        now: DateTime<Utc>,
        done: &'a [Completion],
    ) -> BoxFuture<'a, Result<Vec<bool>, Error>>;

    /// Gives back runs `node` claimed ahead of time and did not start (at
    /// shutdown): queued again, due at their fire times, for any node.
    fn release<'a>(
        &'a self,
        node: &'a str,
        runs: &'a [(u64, i64)],
    ) -> BoxFuture<'a, Result<(), Error>>;

    /// Whether the store decides time by a clock of its own (a database
    /// server's), rather than the `now` it is given.
    fn own_clock(&self) -> bool {
        false
    }

    /// Renews the leases of runs `node` holds (`(run_id, version)`); per run,
    /// whether it still holds it.
    fn heartbeat<'a>(
        &'a self,
        node: &'a str,
        now: DateTime<Utc>,
        runs: &'a [(u64, i64)],
        lease: Duration,
    ) -> BoxFuture<'a, Result<Vec<bool>, Error>>;

    /// Releases runs whose lease expired (their node died or hung): queued
    /// again for jobs marked `recover`, recorded as abandoned otherwise.
    /// Returns the abandoned ones, and how many were queued again.
    fn recover(&self, now: DateTime<Utc>) -> BoxFuture<'_, Result<(Vec<RunRecord>, u64), Error>>;

    /// Jobs naming functions not in `functions`: `(job id, function)`.
    fn unknown_functions<'a>(
        &'a self,
        functions: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<(String, String)>, Error>>;

    /// The run history, newest first: of one job, or of all.
    fn runs<'a>(
        &'a self,
        job_id: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<RunRecord>, Error>>;

    /// Deletes finished runs that finished before `before`; returns how many.
    fn prune_runs(&self, before: DateTime<Utc>) -> BoxFuture<'_, Result<u64, Error>>;

    /// Whether [`JobStore::wait_for_change`] tells of changes made by other
    /// nodes (PostgreSQL's `LISTEN/NOTIFY`); without it, other nodes'
    /// changes are seen at the next poll.
    fn notifies(&self) -> bool {
        false
    }

    /// Resolves when jobs may have changed on another node (a notification,
    /// or the listening connection was lost and found again): `true` when
    /// jobs were removed (or it cannot tell), so runs claimed ahead should be
    /// checked with [`JobStore::heartbeat`] (a removed job's runs that had
    /// not started are gone from the store).
    fn wait_for_change(&self) -> BoxFuture<'_, Result<bool, Error>> {
        Box::pin(std::future::pending())
    }

    /// Shutdown has begun: end waits such as [`JobStore::wait_for_change`]
    /// (the calls on their way are then awaited before [`JobStore::close`]).
    fn closing(&self) {}

    /// Closes the connections (at shutdown, after the last call).
    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// Where a scheduler keeps its jobs: [`MemoryStore`], or a durable
/// [`JobStore`] such as `SqliteStore` or `PostgresStore`. What [`crate::SchedulerBuilder::store`] takes.
#[derive(Clone)]
pub struct Store {
    pub(crate) durable: Option<Arc<dyn JobStore>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.durable {
            None => f.write_str("Store(memory)"),
            Some(s) => write!(f, "Store({})", s.kind()),
        }
    }
}

impl From<MemoryStore> for Store {
    fn from(_: MemoryStore) -> Store {
        Store { durable: None }
    }
}

impl<S: JobStore> From<S> for Store {
    fn from(s: S) -> Store {
        Store {
            durable: Some(Arc::new(s)),
        }
    }
}

impl Store {
    /// A durable store shared as a trait object.
    pub fn durable(store: Arc<dyn JobStore>) -> Store {
        Store {
            durable: Some(store),
        }
    }
}
