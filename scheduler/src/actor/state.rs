//! The `SchedulerActor`'s state: jobs in a slab, fire times in a time-ordered
//! queue, runs in flight; and its events.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use chrono::{DateTime, Utc};
use tokio::sync::{broadcast, oneshot};
use tokio_util::sync::CancellationToken;

use crate::actor::admission::{Admission, Admitted};
use crate::actor::chunked::ChunkedVec;
use crate::actor::queue::TimeQueue;
use crate::actor::run_table::RunTable;
use crate::clock::SharedClock;
use crate::event::{Event, EventMask, Listener};
use crate::executor::control::{RestartExecutor, StopExecutor};
use crate::executor::tick::{Dispatch, Tick};
use crate::job::options::JobOptions;
use crate::job::target::Target;
use crate::job::Job;
use crate::trigger::Trigger;

/// Runs sent to an executor in one message at most, so it can start on a
/// large batch while the scheduler is still working through it.
pub(crate) const DISPATCH_BATCH: usize = 1024;

/// How long the timer sleeps at most, so a jump of the system clock is noticed.
pub(crate) const MAX_SLEEP: Duration = Duration::from_secs(60);

/// The largest buffer of due entries kept between wake-ups (64 KiB); a
/// larger one, from a burst, is given back.
pub(crate) const DUE_BUFFER_KEEP: usize = 4096;

/// A job as the actor keeps it.
pub(crate) struct JobEntry {
    pub(crate) id: Arc<str>,
    pub(crate) trigger: Trigger,
    pub(crate) target: Target,
    pub(crate) opts: Arc<JobOptions>,
    /// The next fire time (before jitter); `None` = paused.
    pub(crate) next_run: Option<DateTime<Utc>>,
    /// The sequence number of this job's live queue entry; 0 = not queued.
    pub(crate) queued_seq: u32,
    /// Runs in progress; created with the first run and shared with light runs.
    pub(crate) running: Option<Arc<AtomicU32>>,
    pub(crate) executor: u16,
}

impl JobEntry {
    pub(crate) fn running_count(&self) -> u32 {
        self.running
            .as_ref()
            .map_or(0, |r| r.load(Ordering::Acquire))
    }

    pub(crate) fn snapshot(&self) -> Job {
        Job {
            id: self.id.clone(),
            name: self.opts.name.clone(),
            trigger: self.trigger.clone(),
            target: self.target.clone(),
            options: self.opts.clone(),
            next_run_time: self.next_run,
            running: self.running_count(),
        }
    }
}

/// A run that has been submitted and not yet resolved.
pub(crate) struct RunState {
    pub(crate) slot: u32,
    pub(crate) job_id: Arc<str>,
    pub(crate) scheduled_at: DateTime<Utc>,
    pub(crate) attempt: u32,
    /// A timed-out blocking run whose thread still runs.
    pub(crate) zombie: bool,
    /// Runs on a thread: cannot be cancelled, only abandoned at shutdown.
    pub(crate) blocking: bool,
    pub(crate) retry: Option<SpawnHandle>,
    /// The job's running counter, released when the run ends.
    pub(crate) counter: Arc<AtomicU32>,
    /// Only for runs that may need it (a retry policy, or a backlog), so the
    /// common run touches no shared counters here.
    pub(crate) again: Option<Box<Again>>,
}

/// What a run needs to be sent again: for a retry, or for the next run time
/// of an uncoalesced backlog (the job may be gone from the map by then).
pub(crate) struct Again {
    pub(crate) retry: Option<crate::job::options::Retry>,
    pub(crate) runnable: crate::job::target::Runnable,
    pub(crate) executor: usize,
    pub(crate) timeout: Option<Duration>,
    pub(crate) grace: Option<Duration>,
    pub(crate) name: Option<Arc<str>>,
    /// Later fire times of an uncoalesced backlog, run one after another in
    /// this run's instance (as APScheduler runs a submission's run times).
    pub(crate) backlog: Vec<DateTime<Utc>>,
}

/// A named executor as the actor addresses it.
pub(crate) struct ExecutorRef {
    pub(crate) name: Arc<str>,
    pub(crate) dispatch: Recipient<Dispatch>,
    pub(crate) stop: Recipient<StopExecutor>,
    /// Asks the executor actor to stop, so its supervisor restarts it.
    pub(crate) restart: Recipient<RestartExecutor>,
    pub(crate) pending: Vec<Tick>,
    /// Light runs in `pending`, added to `env.in_flight` when they are sent.
    pub(crate) pending_light: usize,
    pub(crate) kind: ExecutorKind,
}

/// What an executor runs jobs on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ExecutorKind {
    Async,
    /// A thread pool: its runs cannot be cancelled, only abandoned.
    Threads,
    /// Child processes: only registered functions, by name.
    Processes,
}

#[derive(PartialEq, Eq, Clone, Copy, Debug)]
pub(crate) enum Phase {
    Running,
    Draining,
    Stopped,
}

pub(crate) struct SchedulerActor {
    pub(crate) clock: SharedClock,
    pub(crate) slots: ChunkedVec<Option<JobEntry>>,
    pub(crate) free: Vec<u32>,
    pub(crate) queue: TimeQueue,
    pub(crate) runs: RunTable<RunState>,
    pub(crate) executors: Vec<ExecutorRef>,
    pub(crate) events: broadcast::Sender<Event>,
    pub(crate) listeners: Vec<(EventMask, Listener)>,
    pub(crate) timer: Option<(DateTime<Utc>, SpawnHandle)>,
    pub(crate) paused: bool,
    pub(crate) phase: Phase,
    pub(crate) shutdown_waiters: Vec<oneshot::Sender<()>>,
    /// Cancelled at the shutdown deadline: cancels every run's context.
    pub(crate) shutdown_token: CancellationToken,
    /// Checks jobs and owns the shared id set (with the handles).
    pub(crate) admission: Arc<Admission>,
    pub(crate) rng: u64,
    /// Static jobs to add when the actor starts (already admitted).
    pub(crate) initial_jobs: Vec<Admitted>,
    /// Set to `true` once shut down.
    pub(crate) stopped: tokio::sync::watch::Sender<bool>,
    /// Where executors leave their reports.
    pub(crate) finished: Option<Arc<crate::executor::tick::FinishedSink>>,
    /// Ids of removed jobs, to free in the shared map at the end of the turn.
    pub(crate) freed_ids: Vec<Arc<str>>,
    /// The entries due in this wake-up (kept between wake-ups, see [`DUE_BUFFER_KEEP`]).
    pub(crate) due: Vec<crate::actor::queue::Entry>,
    /// How many event streams are alive.
    pub(crate) subscribers: Arc<std::sync::atomic::AtomicUsize>,
    /// What the executors share (light-run counters).
    pub(crate) env: Option<crate::executor::tick::Env>,
    /// Shared with the handles: set when the actor is gone abnormally.
    pub(crate) lifecycle: Arc<crate::actor::lifecycle::Lifecycle>,
    /// The last next-fire-time computed after a fire time: jobs sharing one
    /// trigger and one fire time (thousands on `* * * * * *`) compute it once.
    pub(crate) next_memo: NextMemo,
    /// With a durable store: what the engine needs to claim and record runs.
    pub(crate) durable: Option<crate::actor::durable::Durable>,
}

/// The last `trigger.next_fire_time(Some(previous), _)`, which does not
/// depend on `now`, keyed by the trigger's shared definition and `previous`.
#[derive(Default)]
pub(crate) struct NextMemo {
    last: Option<(Trigger, DateTime<Utc>, Option<DateTime<Utc>>)>,
}

impl NextMemo {
    /// The first fire time of `trigger` strictly after `previous`.
    pub(crate) fn next_after(
        &mut self,
        trigger: &Trigger,
        previous: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        if let Some((t, p, next)) = &self.last {
            if *p == previous && t.is_same(trigger) {
                return *next;
            }
        }
        let next = trigger.next_fire_time(Some(previous), now);
        if matches!(trigger, Trigger::Cron(_) | Trigger::Interval(_)) {
            self.last = Some((trigger.clone(), previous, next));
        }
        next
    }
}

impl SchedulerActor {
    pub(crate) fn new(
        clock: SharedClock,
        events: broadcast::Sender<Event>,
        admission: Arc<Admission>,
        shutdown_token: CancellationToken,
        stopped: tokio::sync::watch::Sender<bool>,
    ) -> SchedulerActor {
        SchedulerActor {
            clock,
            slots: ChunkedVec::default(),
            free: Vec::new(),
            queue: TimeQueue::default(),
            runs: RunTable::default(),
            executors: Vec::new(),
            events,
            listeners: Vec::new(),
            timer: None,
            paused: false,
            phase: Phase::Running,
            shutdown_waiters: Vec::new(),
            shutdown_token,
            admission,
            rng: 0x9E37_79B9_7F4A_7C15 ^ u64::from(std::process::id()),
            initial_jobs: Vec::new(),
            stopped,
            finished: None,
            freed_ids: Vec::new(),
            due: Vec::new(),
            subscribers: Arc::default(),
            env: None,
            lifecycle: Arc::default(),
            next_memo: NextMemo::default(),
            durable: None,
        }
    }

    // ===== events =====

    /// Whether anyone listens: events on the hot path are built only then.
    pub(crate) fn listened(&self) -> bool {
        !self.listeners.is_empty()
            || self.subscribers.load(std::sync::atomic::Ordering::Relaxed) > 0
    }

    /// Calls the listeners whose mask matches, then sends to the streams. A
    /// listener that panics is removed and reported once; the scheduler goes on.
    pub(crate) fn emit(&mut self, event: Event) {
        log(&event);
        if !self.listeners.is_empty() {
            let mask = event.mask();
            let mut dead = Vec::new();
            for (i, (m, listener)) in self.listeners.iter().enumerate() {
                if !m.intersects(mask) {
                    continue;
                }
                let call = std::panic::AssertUnwindSafe(|| listener(&event));
                if let Err(p) = std::panic::catch_unwind(call) {
                    tracing::error!(
                        target: "scheduler::events",
                        event = ?event,
                        panic = %crate::executor::run::panic_message(&*p),
                        "an event listener panicked; it is removed and the scheduler goes on"
                    );
                    dead.push(i);
                }
            }
            for i in dead.into_iter().rev() {
                drop(self.listeners.remove(i));
            }
        }
        if self.events.receiver_count() > 0 {
            let _ = self.events.send(event);
        }
    }

    pub(crate) fn add_listener(&mut self, mask: EventMask, listener: Listener) {
        self.listeners.push((mask, listener));
    }
}

/// The events worth a log line of their own (runs have their span and
/// their outcome's line; job changes are logged where they happen).
fn log(event: &Event) {
    match event {
        Event::JobMissed {
            job_id,
            scheduled_at,
            count,
        } => tracing::warn!(
            target: "scheduler::runs",
            job_id = %job_id,
            scheduled_at = %scheduled_at,
            count,
            "run missed: later than its misfire grace time"
        ),
        Event::JobMaxInstances {
            job_id,
            scheduled_at,
        } => tracing::warn!(
            target: "scheduler::runs",
            job_id = %job_id,
            scheduled_at = %scheduled_at,
            "run skipped: the job already runs max_instances times"
        ),
        Event::SchedulerPaused => {
            tracing::info!(target: "scheduler::lifecycle", "scheduler paused")
        }
        Event::SchedulerResumed => {
            tracing::info!(target: "scheduler::lifecycle", "scheduler resumed")
        }
        _ => {}
    }
}

impl SchedulerActor {
    /// Starts the work, once the handle exists (see [`crate::actor::messages::Begin`]):
    /// the start events, the static jobs, the timer.
    pub(crate) fn begin(&mut self, ctx: &mut Context<Self>) {
        let names: Vec<Arc<str>> = self.executors.iter().map(|e| e.name.clone()).collect();
        for executor in names {
            self.emit(Event::ExecutorAdded { executor });
        }
        self.emit(Event::SchedulerStarted);
        if self.durable.is_some() {
            self.durable_begin(ctx);
            return;
        }
        let initial = std::mem::take(&mut self.initial_jobs);
        self.commit(initial, ctx);
        self.arm(ctx);
    }
}

impl Actor for SchedulerActor {
    type Context = Context<Self>;
}

impl Drop for SchedulerActor {
    /// An actor dropped without having shut down was stopped under us: its
    /// System or arbiter stopped, or it panicked. The handles learn it
    /// ([`crate::ErrorKind::Aborted`]), and the log says what was running.
    fn drop(&mut self) {
        if self.phase == Phase::Stopped {
            return;
        }
        self.lifecycle.set_aborted();
        self.admission.stop_accepting();
        self.admission.close();
        let tracked: Vec<String> = self
            .runs
            .values()
            .take(20)
            .map(|r| format!("{} (scheduled at {})", r.job_id, r.scheduled_at))
            .collect();
        let light = self
            .env
            .as_ref()
            .map_or(0, |e| e.in_flight.load(Ordering::SeqCst));
        tracing::error!(
            target: "scheduler::lifecycle",
            runs_in_flight = self.runs.values().count() + light,
            running = ?tracked,
            jobs = self.len(),
            "the scheduler stopped abnormally, without shutting down (its actix System or \
             arbiter was stopped, or it panicked); runs in flight may not have finished. \
             Shut the scheduler down before stopping its System"
        );
    }
}
