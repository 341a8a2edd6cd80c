//! What the scheduler and its executors say to each other about runs: the
//! run handed over (`Tick`, in batches: `Dispatch`), how it ended
//! (`Outcome`, `RunFinished`, left in the `FinishedSink`), and what every
//! run of an executor shares (`RunEnv`).

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::clock::SharedClock;
use crate::event::FailureKind;
use crate::job::context::JobShared;
use crate::job::target::Runnable;

/// A run handed to an executor.
#[derive(Clone)]
pub(crate) struct Tick {
    pub(crate) run_id: u64,
    pub(crate) job_id: Arc<str>,
    /// The job's display name, if it has one (for the run's span).
    pub(crate) name: Option<Arc<str>>,
    pub(crate) runnable: Runnable,
    pub(crate) scheduled_at: DateTime<Utc>,
    pub(crate) attempt: u32,
    pub(crate) timeout: Option<Duration>,
    /// When the timeout passes: set by the scheduler when it dispatches the run.
    pub(crate) deadline: Option<DateTime<Utc>>,
    /// A light run (no retry, backlog, timeout or listener, not blocking) is
    /// not tracked by the scheduler: the executor releases the job's
    /// `max_instances` slot through this counter, and reports only failures.
    pub(crate) light: Option<Light>,
    /// A run of a durable store: its id there (unique across nodes and
    /// restarts), which the job and the logs see instead of `run_id`.
    pub(crate) store_run: Option<u64>,
}

/// How a light run releases its job's `max_instances` slot.
#[derive(Clone)]
pub(crate) struct Light {
    /// The job's running counter; `None` for the last run of a job that is gone.
    pub(crate) counter: Option<Arc<std::sync::atomic::AtomicU32>>,
}

/// Runs for one executor, from one wake-up of the scheduler.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct Dispatch(pub(crate) Vec<Tick>);

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Outcome {
    Success,
    Failure(FailureKind, String),
}

/// An executor's report on a run.
pub(crate) struct RunFinished {
    pub(crate) run_id: u64,
    pub(crate) outcome: Outcome,
    pub(crate) duration: Duration,
    /// A timed-out blocking run whose thread still runs keeps its slot until
    /// [`RunReleased`] arrives.
    pub(crate) still_running: bool,
    /// For a light run (which the scheduler does not track): its job and fire time.
    pub(crate) light: Option<(Arc<str>, DateTime<Utc>)>,
}

/// Asks the scheduler to take the reports waiting in its [`FinishedSink`].
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct DrainFinished;

/// Where executors leave their reports. Under load many reports share one
/// message: only the report that finds the queue empty sends [`DrainFinished`].
pub(crate) struct FinishedSink {
    queue: std::sync::Mutex<Vec<RunFinished>>,
    /// `None` in a process-pool worker, which has no scheduler to tell.
    notify: Option<Recipient<DrainFinished>>,
}

impl FinishedSink {
    pub(crate) fn new(notify: Option<Recipient<DrainFinished>>) -> FinishedSink {
        FinishedSink {
            queue: std::sync::Mutex::new(Vec::new()),
            notify,
        }
    }

    pub(crate) fn push(&self, report: RunFinished) {
        let first = match self.queue.lock() {
            Ok(mut q) => {
                q.push(report);
                q.len() == 1
            }
            Err(poisoned) => {
                let mut q = poisoned.into_inner();
                q.push(report);
                q.len() == 1
            }
        };
        if let (true, Some(notify)) = (first, &self.notify) {
            notify.do_send(DrainFinished);
        }
    }

    /// Wakes the scheduler to look at its reports and counters.
    pub(crate) fn poke(&self) {
        if let Some(notify) = &self.notify {
            notify.do_send(DrainFinished);
        }
    }

    /// Every waiting report.
    pub(crate) fn take(&self) -> Vec<RunFinished> {
        match self.queue.lock() {
            Ok(mut q) => std::mem::take(&mut *q),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        }
    }
}

/// The thread of a timed-out blocking run returned.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct RunReleased {
    pub(crate) run_id: u64,
}

/// The shared [`RunEnv`].
pub(crate) type Env = Arc<RunEnv>;

/// What every executor needs to run jobs; shared by every run.
pub(crate) struct RunEnv {
    pub(crate) clock: SharedClock,
    /// What jobs see: data, the shutdown token, the handle.
    pub(crate) job: Arc<JobShared>,
    /// How long a cancelled async job may take to stop before it is dropped.
    pub(crate) grace: Duration,
    /// Cancelled at the shutdown deadline (the same token as `job.shutdown`).
    pub(crate) shutdown: CancellationToken,
    pub(crate) finished: Arc<FinishedSink>,
    /// Light runs in flight (see [`Tick::light`]).
    pub(crate) in_flight: std::sync::atomic::AtomicUsize,
    /// Set when shutdown waits for runs: the last light run pokes the scheduler.
    pub(crate) draining: std::sync::atomic::AtomicBool,
    pub(crate) released: Option<Recipient<RunReleased>>,
}

impl RunEnv {
    /// An environment with no scheduler behind it: a process-pool worker's.
    pub(crate) fn detached(clock: SharedClock) -> RunEnv {
        let job = Arc::new(JobShared::detached());
        RunEnv {
            clock,
            shutdown: job.shutdown.clone(),
            job,
            // Unused: a worker runs one job, without a deadline of its own.
            grace: Duration::ZERO,
            finished: Arc::new(FinishedSink::new(None)),
            in_flight: Default::default(),
            draining: Default::default(),
            released: None,
        }
    }
}
