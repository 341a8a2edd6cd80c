//! What a running job can see: `JobContext`, and what it returns: `JobResult`.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, ErrorKind};
use crate::job::data::{Data, DataMap};

/// The context of one run, handed to every job.
///
/// ```
/// # use scheduler::JobContext;
/// async fn report(ctx: JobContext) {
///     println!("job {} run {} (attempt {}) scheduled at {}",
///              ctx.job_id(), ctx.run_id(), ctx.attempt(), ctx.scheduled_at());
///     tokio::select! {
///         _ = ctx.cancelled() => println!("asked to stop"),
///         _ = std::future::ready(()) => {}
///     }
/// }
/// ```
#[derive(Clone)]
pub struct JobContext {
    pub(crate) job_id: Arc<str>,
    pub(crate) run_id: u64,
    pub(crate) scheduled_at: DateTime<Utc>,
    pub(crate) attempt: u32,
    /// Shared by every run: the data, the shutdown token, the handle.
    pub(crate) shared: Arc<JobShared>,
    /// A run with a timeout has a token of its own (a child of the shutdown token).
    pub(crate) own: Option<CancellationToken>,
}

impl JobContext {
    /// The job's id.
    pub fn job_id(&self) -> &str {
        &self.job_id
    }

    /// The run's id, unique within this scheduler.
    pub fn run_id(&self) -> u64 {
        self.run_id
    }

    /// The fire time this run is for (before jitter).
    pub fn scheduled_at(&self) -> DateTime<Utc> {
        self.scheduled_at
    }

    /// 1 for the first attempt, 2 for the first retry, ...
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Whether the run was asked to stop (its timeout passed, or the
    /// scheduler's shutdown deadline).
    pub fn is_cancelled(&self) -> bool {
        self.token().is_cancelled()
    }

    fn token(&self) -> &CancellationToken {
        self.own.as_ref().unwrap_or(&self.shared.shutdown)
    }

    /// Resolves when the run is asked to stop. An async job that does not stop
    /// is dropped after a short grace.
    pub async fn cancelled(&self) {
        self.token().cancelled().await
    }

    /// Shared state registered with [`crate::SchedulerBuilder::data`].
    pub fn data<T: Send + Sync + 'static>(&self) -> Option<Data<T>> {
        self.shared.data.get::<T>()
    }

    /// The type-erased handle of the scheduler running this job (see
    /// [`JobContext::scheduler`], which lives with the handle).
    pub(crate) fn handle_slot(&self) -> Result<Arc<dyn Any + Send + Sync>, Error> {
        match &self.shared.handle {
            None => Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "job `{}`: a job running in a process-pool worker has no scheduler handle \
                     (the scheduler is in another process); schedule follow-up jobs from a job \
                     on an in-process executor",
                    self.job_id
                ),
            )),
            Some(slot) => slot
                .get()
                .and_then(std::sync::Weak::upgrade)
                .ok_or_else(Error::not_running),
        }
    }
}

/// What every run of one scheduler shares, as jobs see it: the registered
/// data, the shutdown token, and (type-erased, so this room needs nothing
/// above it) the scheduler's handle.
pub(crate) struct JobShared {
    pub(crate) data: Arc<DataMap>,
    /// Cancelled at the shutdown deadline.
    pub(crate) shutdown: CancellationToken,
    /// Set once the handle exists; `None` in a process-pool worker.
    pub(crate) handle: Option<std::sync::OnceLock<std::sync::Weak<dyn Any + Send + Sync>>>,
}

impl JobShared {
    /// For a scheduler: the handle is set once it exists.
    pub(crate) fn new(data: Arc<DataMap>) -> JobShared {
        JobShared {
            data,
            shutdown: CancellationToken::new(),
            handle: Some(std::sync::OnceLock::new()),
        }
    }

    /// For a process-pool worker: no data, no handle.
    pub(crate) fn detached() -> JobShared {
        JobShared {
            data: Arc::new(DataMap::default()),
            shutdown: CancellationToken::new(),
            handle: None,
        }
    }
}

impl fmt::Debug for JobContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobContext")
            .field("job_id", &self.job_id)
            .field("run_id", &self.run_id)
            .field("scheduled_at", &self.scheduled_at)
            .field("attempt", &self.attempt)
            .finish()
    }
}

/// Why a run failed: the error's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobError {
    message: String,
}

impl JobError {
    /// A failure with `message`.
    pub fn new(message: impl Into<String>) -> JobError {
        JobError {
            message: message.into(),
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The result of one run.
pub type JobResult = Result<(), JobError>;

/// What a job function may return: `()` or `Result<(), E: Display>`.
pub trait IntoJobResult {
    /// Converts into a [`JobResult`]; an `Err` becomes a failed run with the error's text.
    fn into_job_result(self) -> JobResult;
}

impl IntoJobResult for () {
    fn into_job_result(self) -> JobResult {
        Ok(())
    }
}

/// The error's text in its alternate form (`{:#}`), which for `anyhow` and
/// `eyre` errors is the whole cause chain ("writing the report: disk full").
impl<E: fmt::Display> IntoJobResult for Result<(), E> {
    fn into_job_result(self) -> JobResult {
        self.map_err(|e| JobError::new(format!("{e:#}")))
    }
}

/// What a `#[scheduled]` job function can take as a parameter: built from the
/// run's context. Implemented for [`JobContext`] and [`Data<T>`].
pub trait FromJobContext: Sized {
    /// Builds the parameter, or fails the run.
    fn from_job_context(ctx: &JobContext) -> Result<Self, JobError>;
}

impl FromJobContext for JobContext {
    fn from_job_context(ctx: &JobContext) -> Result<Self, JobError> {
        Ok(ctx.clone())
    }
}

impl<T: Send + Sync + 'static> FromJobContext for Data<T> {
    fn from_job_context(ctx: &JobContext) -> Result<Self, JobError> {
        ctx.data::<T>()
            .ok_or_else(|| JobError::new(ctx.shared.data.missing(std::any::type_name::<T>())))
    }
}
