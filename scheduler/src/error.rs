//! The runtime's error type.

use std::fmt;
use std::sync::Arc;

/// What went wrong. Returned by [`Error::kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A job with this id exists and `replace_existing` was not set.
    DuplicateId,
    /// No job has this id.
    JobNotFound,
    /// The trigger is invalid or can never fire.
    Trigger,
    /// The job names an executor the scheduler does not have.
    UnknownExecutor,
    /// A job needs `Data<T>` that was not registered on the builder.
    MissingData,
    /// No registered job function has this name.
    UnknownJob,
    /// Two registered job functions share a name.
    DuplicateRegistration,
    /// Job arguments could not be serialised or deserialised.
    Args,
    /// An option value is out of range (`max_instances = 0`, a retry factor below 1).
    InvalidOption,
    /// The job already runs `max_instances` times.
    MaxInstances,
    /// The scheduler is not running (never started, or shut down).
    NotRunning,
    /// A blocking method was called from inside an async runtime.
    BlockingInAsync,
    /// The scheduler could not start (no actix System, thread spawn failed,
    /// a process pool in a binary that does not call `worker_main`).
    Start,
    /// A job cannot run on a process-pool executor: a closure, or a job
    /// function that needs `Data<T>`; or an executor cannot do what was asked.
    Unsupported,
    /// The scheduler stopped abnormally, without shutting down: its actix
    /// `System` or arbiter was stopped under it, or it panicked. Runs it had
    /// in flight may not have finished; nothing it acknowledged is kept.
    Aborted,
    /// The job store failed: the database could not be reached or opened, a
    /// statement failed, or its schema is newer than this binary knows. The
    /// operation did not happen.
    Store,
}

/// An error of the scheduler runtime: a kind and a message naming what is wrong.
///
/// ```
/// use scheduler::{Error, ErrorKind};
/// let e = Error::new(ErrorKind::JobNotFound, "no job with id `x`");
/// assert!(e.is_job_not_found());
/// assert_eq!(e.to_string(), "no job with id `x`");
/// ```
///
/// The cause, where there is one, is [`std::error::Error::source`]: a
/// trigger error keeps its kind, field and position
/// ([`Error::trigger_error`]).
///
/// ```
/// use scheduler::{Error, ErrorKind, Trigger};
/// let e: Error = Trigger::cron("61 * * * *").map_err(Error::from).unwrap_err();
/// assert_eq!(e.kind(), ErrorKind::Trigger);
/// let cause = e.trigger_error().expect("the trigger error is kept");
/// assert_eq!(cause.field(), Some("minute"));
/// assert!(std::error::Error::source(&e).is_some());
/// ```
#[derive(Debug, Clone)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

impl PartialEq for Error {
    fn eq(&self, other: &Error) -> bool {
        self.kind == other.kind && self.message == other.message
    }
}

impl Eq for Error {}

impl Error {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// An error of `kind` with `message`, caused by `source`.
    pub fn with_source(
        kind: ErrorKind,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        Error {
            kind,
            message: message.into(),
            source: Some(Arc::new(source)),
        }
    }

    /// The same error, its message prefixed with `what` ("job `x`: ..."):
    /// kind and cause are kept.
    pub(crate) fn context(mut self, what: impl fmt::Display) -> Error {
        self.message = format!("{what}: {}", self.message);
        self
    }

    /// The trigger error behind an [`ErrorKind::Trigger`] error, with its
    /// kind, field and position.
    pub fn trigger_error(&self) -> Option<&scheduler_triggers::Error> {
        self.source.as_deref()?.downcast_ref()
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Whether the id was already taken.
    pub fn is_duplicate_id(&self) -> bool {
        self.kind == ErrorKind::DuplicateId
    }

    /// Whether no job had the id.
    pub fn is_job_not_found(&self) -> bool {
        self.kind == ErrorKind::JobNotFound
    }

    /// Whether the scheduler is not running.
    pub fn is_not_running(&self) -> bool {
        self.kind == ErrorKind::NotRunning
    }

    /// Whether the scheduler stopped abnormally ([`ErrorKind::Aborted`]).
    pub fn is_aborted(&self) -> bool {
        self.kind == ErrorKind::Aborted
    }

    pub(crate) fn aborted() -> Error {
        Error::new(
            ErrorKind::Aborted,
            "the scheduler stopped abnormally, without shutting down (its actix System or arbiter \
             was stopped under it, or it panicked); runs in flight may not have finished",
        )
    }

    pub(crate) fn not_running() -> Error {
        Error::new(
            ErrorKind::NotRunning,
            "the scheduler is not running (not started, or shut down)",
        )
    }

    pub(crate) fn job_not_found(id: &str) -> Error {
        Error::new(ErrorKind::JobNotFound, format!("no job with id `{id}`"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<scheduler_triggers::Error> for Error {
    fn from(e: scheduler_triggers::Error) -> Error {
        Error::with_source(ErrorKind::Trigger, e.to_string(), e)
    }
}

impl From<actix::MailboxError> for Error {
    fn from(_: actix::MailboxError) -> Error {
        Error::not_running()
    }
}
