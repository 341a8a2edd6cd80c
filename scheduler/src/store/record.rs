//! What a durable store reads and writes: jobs, claims, completions, runs.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::error::{Error, ErrorKind};
use crate::job::options::JobOptions;
use crate::job::target::{Inner as TargetInner, Target};
use crate::job::Job;
use crate::trigger::Trigger;

/// A job as a store keeps it: a registered function by name with its
/// arguments, the trigger, the options and the next run time (`None`: paused).
#[derive(Clone, Debug, PartialEq)]
pub struct JobRecord {
    /// The job id.
    pub id: String,
    /// The display name, if any.
    pub name: Option<String>,
    /// The registry name of the job function.
    pub function: String,
    /// The function's arguments.
    pub args: serde_json::Value,
    /// When it fires.
    pub trigger: Trigger,
    /// Its options.
    pub options: JobOptions,
    /// The next fire time; `None` = paused.
    pub next_run_time: Option<DateTime<Utc>>,
    /// Declared with `#[scheduled]` (upserted at every start).
    pub static_job: bool,
    /// Runs of it in progress, across every node (when read).
    pub running: u32,
}

impl JobRecord {
    /// The record of a job with a registered target; a closure cannot be
    /// stored, and the error names the job.
    pub(crate) fn of(
        id: &str,
        trigger: &Trigger,
        target: &Target,
        options: &JobOptions,
        next_run_time: Option<DateTime<Utc>>,
        store: &str,
    ) -> Result<JobRecord, Error> {
        let TargetInner::Registered(r) = &target.inner else {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "job `{id}`: a closure cannot be kept in the {store} store, which outlives \
                     the process; register the function with `#[job]` (or `#[scheduled]`) and \
                     add it by name, or use a scheduler with the memory store"
                ),
            ));
        };
        Ok(JobRecord {
            id: id.to_owned(),
            name: options.name.as_deref().map(str::to_owned),
            function: r.name.to_string(),
            args: (*r.args).clone(),
            trigger: trigger.clone(),
            options: options.clone(),
            next_run_time,
            static_job: false,
            running: 0,
        })
    }

    /// The snapshot users get from `get_job` / `jobs`.
    pub(crate) fn to_job(&self) -> Result<Job, Error> {
        let mut options = self.options.clone();
        options.name = self.name.as_deref().map(Arc::from);
        Ok(Job {
            id: Arc::from(self.id.as_str()),
            name: options.name.clone(),
            trigger: self.trigger.clone(),
            target: Target::registered(self.function.clone(), &self.args)?,
            options: Arc::new(options),
            next_run_time: self.next_run_time,
            running: self.running,
        })
    }
}

/// What [`crate::store::JobStore::upsert_static`] did with a static job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upserted {
    /// It was new.
    Inserted,
    /// It was there, as the code declares it: left alone.
    Unchanged,
    /// Its trigger or options changed in the code: updated.
    Updated,
}

/// One run a node claimed: it holds the run at `version` until it
/// completes it or its lease lapses.
#[derive(Clone, Debug)]
pub struct Claim {
    /// Unique across nodes and restarts.
    pub run_id: u64,
    /// The fencing version the completion must present.
    pub version: i64,
    /// The job id.
    pub job_id: String,
    /// The registry name of the job function.
    pub function: String,
    /// Its arguments.
    pub args: Arc<serde_json::Value>,
    /// The job's options when it was claimed.
    pub options: Arc<JobOptions>,
    /// The fire time.
    pub scheduled_at: DateTime<Utc>,
    /// 1, or more for retries.
    pub attempt: u32,
}

/// Fire times given up while acquiring.
#[derive(Clone, Debug, PartialEq)]
pub struct Missed {
    /// The job id.
    pub job_id: String,
    /// The (latest) missed fire time.
    pub scheduled_at: DateTime<Utc>,
    /// How many fire times this stands for.
    pub count: u64,
}

/// What [`crate::store::JobStore::acquire`] claimed and decided.
#[derive(Clone, Debug, Default)]
pub struct Acquired {
    /// The store's clock when it decided.
    pub now: DateTime<Utc>,
    /// The store's clock as late as it could read it before answering (a
    /// node compares it with its own clock on arrival). `None`: as `now`.
    pub answered: Option<DateTime<Utc>>,
    /// The runs claimed for the node.
    pub claims: Vec<Claim>,
    /// Fire times later than their grace time, or past the catch-up limit.
    pub missed: Vec<Missed>,
    /// Fire times skipped because `max_instances` runs were in progress.
    pub max_instances: Vec<(String, DateTime<Utc>)>,
    /// Jobs whose trigger finished with this claim: removed.
    pub removed: Vec<String>,
    /// The earliest due time left (a job's next run, a queued run), if any.
    pub next_due: Option<DateTime<Utc>>,
    /// Whether `limit` cut the claim short (more is due now).
    pub more: bool,
    /// Whether a due fire time waits for a run in progress to end
    /// (`max_instances`): the scheduler asks again when one of its runs
    /// ends (otherwise a completion does not ask).
    pub waiting: bool,
}

/// How a run ended, as a completion reports it.
#[derive(Clone, Debug, PartialEq)]
pub enum RunOutcome {
    /// It returned `Ok`.
    Succeeded,
    /// It failed; `retry_in`: the retry policy has an attempt left, due that
    /// long after the store's now.
    Failed {
        /// The error text.
        error: String,
        /// When the next attempt is due, if one follows.
        retry_in: Option<Duration>,
    },
}

/// A finished run for [`crate::store::JobStore::complete`].
#[derive(Clone, Debug)]
pub struct Completion {
    /// The run.
    pub run_id: u64,
    /// The version it was claimed at (the fence).
    pub version: i64,
    /// How it ended.
    pub outcome: RunOutcome,
    /// When it started, by the node's clock.
    pub started_at: DateTime<Utc>,
}

/// A run's state in the history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Waiting to be claimed: a retry, a recovered run, a `run_job_now`.
    Queued,
    /// Held by a node.
    Running,
    /// Finished with `Ok`.
    Succeeded,
    /// Finished with an error, no retry left.
    Failed,
    /// Its node stopped renewing the lease; not run again.
    Abandoned,
}

impl RunStatus {
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn parse(s: &str) -> Result<RunStatus, Error> {
        Ok(match s {
            "queued" => RunStatus::Queued,
            "running" => RunStatus::Running,
            "succeeded" => RunStatus::Succeeded,
            "failed" => RunStatus::Failed,
            "abandoned" => RunStatus::Abandoned,
            other => {
                return Err(Error::new(
                    ErrorKind::Store,
                    format!("unknown run status `{other}` in the store"),
                ))
            }
        })
    }
}

/// One run in the history.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunRecord {
    /// Unique across nodes and restarts.
    pub run_id: u64,
    /// The job id.
    pub job_id: String,
    /// The fire time.
    pub scheduled_at: DateTime<Utc>,
    /// The last attempt.
    pub attempt: u32,
    /// Where it stands.
    pub status: RunStatus,
    /// The node that held it last.
    pub node: Option<String>,
    /// When it started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it finished.
    pub finished_at: Option<DateTime<Utc>>,
    /// The error of a failed or abandoned run.
    pub error: Option<String>,
}
