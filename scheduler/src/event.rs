//! Events, as APScheduler has them: a stream, and listeners with a mask.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_core::Stream;
use tokio_stream::wrappers::BroadcastStream;

/// Why a run failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FailureKind {
    /// The job returned an error.
    Error,
    /// The job panicked (caught; the executor keeps its capacity).
    Panic,
    /// The job passed its timeout. For a blocking job the thread cannot be
    /// killed: it keeps its `max_instances` slot until it returns.
    Timeout,
    /// The run was cancelled at the scheduler's shutdown deadline.
    Cancelled,
    /// The process running the job (process-pool executor) ended without a
    /// result: an exit code or a signal (abort, segfault, OOM kill).
    Crash,
    /// The executor running the job was restarted; the run was stopped.
    ExecutorRestarted,
}

/// Something that happened in the scheduler.
///
/// Serialises with serde, tagged by `type` (`{"type":"job_executed",
/// "job_id":"report",...}`), for logs, a web page or a store's history.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// The scheduler started.
    SchedulerStarted,
    /// The scheduler shut down; nothing runs any more.
    SchedulerShutdown,
    /// The scheduler was paused: nothing is dispatched until resumed.
    SchedulerPaused,
    /// The scheduler was resumed.
    SchedulerResumed,
    /// An executor was added (at start).
    ExecutorAdded {
        /// Its name.
        executor: Arc<str>,
    },
    /// An executor was removed (at shutdown).
    ExecutorRemoved {
        /// Its name.
        executor: Arc<str>,
    },
    /// A job was added.
    JobAdded {
        /// The job id.
        job_id: Arc<str>,
    },
    /// A job was removed (by request, or because its trigger finished).
    JobRemoved {
        /// The job id.
        job_id: Arc<str>,
    },
    /// A job was modified, rescheduled, paused or resumed.
    JobModified {
        /// The job id.
        job_id: Arc<str>,
    },
    /// Every job was removed.
    AllJobsRemoved,
    /// A run was handed to its executor.
    JobSubmitted {
        /// The job id.
        job_id: Arc<str>,
        /// The run id.
        run_id: u64,
        /// The fire time.
        scheduled_at: DateTime<Utc>,
        /// 1, or more for retries.
        attempt: u32,
    },
    /// A run finished successfully.
    JobExecuted {
        /// The job id.
        job_id: Arc<str>,
        /// The run id.
        run_id: u64,
        /// The fire time.
        scheduled_at: DateTime<Utc>,
        /// Which attempt succeeded.
        attempt: u32,
        /// How long it ran.
        duration: Duration,
    },
    /// A run failed.
    JobError {
        /// The job id.
        job_id: Arc<str>,
        /// The run id.
        run_id: u64,
        /// The fire time.
        scheduled_at: DateTime<Utc>,
        /// Which attempt failed.
        attempt: u32,
        /// Why.
        kind: FailureKind,
        /// The error text, panic message, or timeout explanation.
        error: String,
        /// When the retry is due, if one follows.
        retry_at: Option<DateTime<Utc>>,
    },
    /// A run was not started because it was later than its misfire grace time.
    JobMissed {
        /// The job id.
        job_id: Arc<str>,
        /// The missed fire time (the latest, when `count > 1`).
        scheduled_at: DateTime<Utc>,
        /// How many fire times this event stands for (more than 1 past the catch-up limit).
        count: u64,
    },
    /// A run was skipped because `max_instances` runs were still running.
    JobMaxInstances {
        /// The job id.
        job_id: Arc<str>,
        /// The skipped fire time.
        scheduled_at: DateTime<Utc>,
    },
    /// The job store could not be reached or a statement failed; the
    /// scheduler goes on and retries with backoff. Nothing acknowledged is lost.
    StoreUnavailable {
        /// The store's kind (`sqlite`, `postgres`).
        store: Arc<str>,
        /// What failed.
        error: String,
    },
    /// The job store answers again after [`Event::StoreUnavailable`].
    StoreAvailable {
        /// The store's kind.
        store: Arc<str>,
    },
    /// A stored job names a job function this binary does not register: it
    /// is kept untouched (never deleted) and not run by this scheduler.
    JobFunctionUnknown {
        /// The job id.
        job_id: Arc<str>,
        /// The registry name the job was stored with.
        function: String,
    },
    /// A stored run was given up: the node running it stopped renewing its
    /// lease (it died or hung) and the job is not marked `recover`. Recorded
    /// as abandoned in the run history; it is not run again.
    RunAbandoned {
        /// The job id.
        job_id: Arc<str>,
        /// The run id.
        run_id: u64,
        /// The fire time.
        scheduled_at: DateTime<Utc>,
        /// The node that held the run.
        node: String,
    },
    /// This scheduler lost the lease of a run it is still running (another
    /// node took it over after the lease expired): its outcome is not recorded.
    RunLeaseLost {
        /// The job id.
        job_id: Arc<str>,
        /// The run id.
        run_id: u64,
    },
    /// Only in an [`EventStream`]: the stream fell more than the event
    /// capacity behind ([`crate::SchedulerBuilder::event_capacity`]) and
    /// `missed` events, the oldest, were lost to it. Counts built on the
    /// stream are short by that much from here on.
    Lagged {
        /// How many events this stream missed.
        missed: u64,
    },
}

/// A set of event kinds, for [`crate::Scheduler::add_listener`].
///
/// ```
/// use scheduler::EventMask;
/// let mask = EventMask::JOB_ERROR | EventMask::JOB_MISSED;
/// assert!(mask.contains(EventMask::JOB_MISSED));
/// assert!(!mask.contains(EventMask::JOB_EXECUTED));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EventMask(u32);

impl EventMask {
    /// [`Event::SchedulerStarted`]
    pub const SCHEDULER_STARTED: EventMask = EventMask(1);
    /// [`Event::SchedulerShutdown`]
    pub const SCHEDULER_SHUTDOWN: EventMask = EventMask(1 << 1);
    /// [`Event::SchedulerPaused`]
    pub const SCHEDULER_PAUSED: EventMask = EventMask(1 << 2);
    /// [`Event::SchedulerResumed`]
    pub const SCHEDULER_RESUMED: EventMask = EventMask(1 << 3);
    /// [`Event::ExecutorAdded`]
    pub const EXECUTOR_ADDED: EventMask = EventMask(1 << 4);
    /// [`Event::ExecutorRemoved`]
    pub const EXECUTOR_REMOVED: EventMask = EventMask(1 << 5);
    /// [`Event::JobAdded`]
    pub const JOB_ADDED: EventMask = EventMask(1 << 6);
    /// [`Event::JobRemoved`]
    pub const JOB_REMOVED: EventMask = EventMask(1 << 7);
    /// [`Event::JobModified`]
    pub const JOB_MODIFIED: EventMask = EventMask(1 << 8);
    /// [`Event::AllJobsRemoved`]
    pub const ALL_JOBS_REMOVED: EventMask = EventMask(1 << 9);
    /// [`Event::JobSubmitted`]
    pub const JOB_SUBMITTED: EventMask = EventMask(1 << 10);
    /// [`Event::JobExecuted`]
    pub const JOB_EXECUTED: EventMask = EventMask(1 << 11);
    /// [`Event::JobError`]
    pub const JOB_ERROR: EventMask = EventMask(1 << 12);
    /// [`Event::JobMissed`]
    pub const JOB_MISSED: EventMask = EventMask(1 << 13);
    /// [`Event::JobMaxInstances`]
    pub const JOB_MAX_INSTANCES: EventMask = EventMask(1 << 14);
    /// [`Event::Lagged`] (streams only)
    pub const LAGGED: EventMask = EventMask(1 << 15);
    /// [`Event::StoreUnavailable`]
    pub const STORE_UNAVAILABLE: EventMask = EventMask(1 << 16);
    /// [`Event::StoreAvailable`]
    pub const STORE_AVAILABLE: EventMask = EventMask(1 << 17);
    /// [`Event::JobFunctionUnknown`]
    pub const JOB_FUNCTION_UNKNOWN: EventMask = EventMask(1 << 18);
    /// [`Event::RunAbandoned`]
    pub const RUN_ABANDONED: EventMask = EventMask(1 << 19);
    /// [`Event::RunLeaseLost`]
    pub const RUN_LEASE_LOST: EventMask = EventMask(1 << 20);
    /// Every event.
    pub const ALL: EventMask = EventMask((1 << 21) - 1);

    /// Whether every kind in `other` is in `self`.
    pub const fn contains(self, other: EventMask) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether `self` and `other` share a kind.
    pub const fn intersects(self, other: EventMask) -> bool {
        self.0 & other.0 != 0
    }
}

impl std::ops::BitOr for EventMask {
    type Output = EventMask;
    fn bitor(self, rhs: EventMask) -> EventMask {
        EventMask(self.0 | rhs.0)
    }
}

impl Event {
    /// The mask bit of this event's kind.
    pub fn mask(&self) -> EventMask {
        match self {
            Event::SchedulerStarted => EventMask::SCHEDULER_STARTED,
            Event::SchedulerShutdown => EventMask::SCHEDULER_SHUTDOWN,
            Event::SchedulerPaused => EventMask::SCHEDULER_PAUSED,
            Event::SchedulerResumed => EventMask::SCHEDULER_RESUMED,
            Event::ExecutorAdded { .. } => EventMask::EXECUTOR_ADDED,
            Event::ExecutorRemoved { .. } => EventMask::EXECUTOR_REMOVED,
            Event::JobAdded { .. } => EventMask::JOB_ADDED,
            Event::JobRemoved { .. } => EventMask::JOB_REMOVED,
            Event::JobModified { .. } => EventMask::JOB_MODIFIED,
            Event::AllJobsRemoved => EventMask::ALL_JOBS_REMOVED,
            Event::JobSubmitted { .. } => EventMask::JOB_SUBMITTED,
            Event::JobExecuted { .. } => EventMask::JOB_EXECUTED,
            Event::JobError { .. } => EventMask::JOB_ERROR,
            Event::JobMissed { .. } => EventMask::JOB_MISSED,
            Event::JobMaxInstances { .. } => EventMask::JOB_MAX_INSTANCES,
            Event::Lagged { .. } => EventMask::LAGGED,
            Event::StoreUnavailable { .. } => EventMask::STORE_UNAVAILABLE,
            Event::StoreAvailable { .. } => EventMask::STORE_AVAILABLE,
            Event::JobFunctionUnknown { .. } => EventMask::JOB_FUNCTION_UNKNOWN,
            Event::RunAbandoned { .. } => EventMask::RUN_ABANDONED,
            Event::RunLeaseLost { .. } => EventMask::RUN_LEASE_LOST,
        }
    }

    /// The job the event is about, if any.
    pub fn job_id(&self) -> Option<&str> {
        match self {
            Event::JobAdded { job_id }
            | Event::JobRemoved { job_id }
            | Event::JobModified { job_id }
            | Event::JobSubmitted { job_id, .. }
            | Event::JobExecuted { job_id, .. }
            | Event::JobError { job_id, .. }
            | Event::JobMissed { job_id, .. }
            | Event::JobFunctionUnknown { job_id, .. }
            | Event::RunAbandoned { job_id, .. }
            | Event::RunLeaseLost { job_id, .. }
            | Event::JobMaxInstances { job_id, .. } => Some(job_id),
            _ => None,
        }
    }
}

/// A stream of events from [`crate::Scheduler::subscribe`] or
/// [`crate::SchedulerBuilder::subscribe`]. A subscriber that falls more than
/// the channel's capacity behind loses the oldest events, and is told so:
/// the stream yields [`Event::Lagged`] with the number it missed, then goes
/// on with the oldest event still kept.
pub struct EventStream {
    inner: BroadcastStream<Event>,
    subscribers: Arc<std::sync::atomic::AtomicUsize>,
}

impl EventStream {
    /// A stream on `rx`, counted in `subscribers` while it lives (the scheduler
    /// builds events on its hot path only when someone listens).
    pub(crate) fn new(
        rx: tokio::sync::broadcast::Receiver<Event>,
        subscribers: Arc<std::sync::atomic::AtomicUsize>,
    ) -> EventStream {
        subscribers.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        EventStream {
            inner: BroadcastStream::new(rx),
            subscribers,
        }
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        self.subscribers
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Stream for EventStream {
    type Item = Event;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        use tokio_stream::wrappers::errors::BroadcastStreamRecvError::Lagged;
        Pin::new(&mut self.inner).poll_next(cx).map(|e| {
            e.map(|r| match r {
                Ok(e) => e,
                Err(Lagged(missed)) => Event::Lagged { missed },
            })
        })
    }
}

/// A listener registered with a mask.
pub(crate) type Listener = Box<dyn Fn(&Event) + Send + 'static>;
