//! The `SchedulerActor`: jobs in a slab, fire times in a time-ordered queue,
//! one timer for the earliest due time.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use chrono::{DateTime, Utc};
use tokio::sync::{broadcast, oneshot};
use tokio_util::sync::CancellationToken;

use crate::admission::{Admission, Admitted, RESERVED};
use crate::chunked::ChunkedVec;
use crate::clock::{self, SharedClock};
use crate::error::{Error, ErrorKind};
use crate::event::{Event, EventMask, FailureKind, Listener};
use crate::job::Job;
use crate::options::JobOptions;
use crate::queue::TimeQueue;
use crate::run::{Dispatch, Outcome, Tick};
use crate::run_table::RunTable;
use crate::target::Target;
use crate::trigger::{Jitter, Trigger};

/// Runs sent to an executor in one message at most, so it can start on a
/// large batch while the scheduler is still working through it.
const DISPATCH_BATCH: usize = 1024;

/// How long the timer sleeps at most, so a jump of the system clock is noticed.
pub(crate) const MAX_SLEEP: Duration = Duration::from_secs(60);

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
    fn running_count(&self) -> u32 {
        self.running
            .as_ref()
            .map_or(0, |r| r.load(Ordering::Acquire))
    }

    fn snapshot(&self) -> Job {
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
    slot: u32,
    job_id: Arc<str>,
    scheduled_at: DateTime<Utc>,
    attempt: u32,
    /// A timed-out blocking run whose thread still runs.
    zombie: bool,
    /// Runs on a thread: cannot be cancelled, only abandoned at shutdown.
    blocking: bool,
    retry: Option<SpawnHandle>,
    /// The job's running counter, released when the run ends.
    counter: Arc<AtomicU32>,
    /// Only for runs that may need it (a retry policy, or a backlog), so the
    /// common run touches no shared counters here.
    again: Option<Box<Again>>,
}

/// What a run needs to be sent again: for a retry, or for the next run time
/// of an uncoalesced backlog (the job may be gone from the map by then).
struct Again {
    retry: Option<crate::options::Retry>,
    runnable: crate::target::Runnable,
    executor: usize,
    timeout: Option<Duration>,
    grace: Option<Duration>,
    name: Option<Arc<str>>,
    /// Later fire times of an uncoalesced backlog, run one after another in
    /// this run's instance (as APScheduler runs a submission's run times).
    backlog: Vec<DateTime<Utc>>,
}

/// A named executor as the actor addresses it.
pub(crate) struct ExecutorRef {
    pub(crate) name: Arc<str>,
    pub(crate) dispatch: Recipient<Dispatch>,
    pub(crate) stop: Recipient<StopExecutor>,
    pub(crate) pending: Vec<Tick>,
    /// A thread pool: its runs cannot be cancelled, only abandoned.
    pub(crate) threads: bool,
}

/// Asks an executor actor to stop.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct StopExecutor;

#[derive(PartialEq, Eq, Clone, Copy, Debug)]
enum Phase {
    Running,
    Draining,
    Stopped,
}

pub(crate) struct SchedulerActor {
    pub(crate) clock: SharedClock,
    slots: ChunkedVec<Option<JobEntry>>,
    free: Vec<u32>,
    queue: TimeQueue,
    runs: RunTable<RunState>,
    pub(crate) executors: Vec<ExecutorRef>,
    events: broadcast::Sender<Event>,
    listeners: Vec<(EventMask, Listener)>,
    timer: Option<(DateTime<Utc>, SpawnHandle)>,
    paused: bool,
    phase: Phase,
    shutdown_waiters: Vec<oneshot::Sender<()>>,
    /// Cancelled at the shutdown deadline: cancels every run's context.
    pub(crate) shutdown_token: CancellationToken,
    /// Checks jobs and owns the shared id set (with the handles).
    pub(crate) admission: Arc<Admission>,
    rng: u64,
    /// Static jobs to add when the actor starts (already admitted).
    pub(crate) initial_jobs: Vec<Admitted>,
    /// Set to `true` once shut down.
    pub(crate) stopped: tokio::sync::watch::Sender<bool>,
    /// Where executors leave their reports.
    pub(crate) finished: Option<Arc<crate::run::FinishedSink>>,
    /// Ids of removed jobs, to free in the shared map at the end of the turn.
    freed_ids: Vec<Arc<str>>,
    /// How many event streams are alive.
    pub(crate) subscribers: Arc<std::sync::atomic::AtomicUsize>,
    /// What the executors share (light-run counters).
    pub(crate) env: Option<crate::run::Env>,
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
            subscribers: Arc::default(),
            env: None,
        }
    }

    // ===== events =====

    /// Whether anyone listens: events on the hot path are built only then.
    fn listened(&self) -> bool {
        !self.listeners.is_empty()
            || self.subscribers.load(std::sync::atomic::Ordering::Relaxed) > 0
    }

    pub(crate) fn emit(&mut self, event: Event) {
        if !self.listeners.is_empty() {
            let mask = event.mask();
            for (m, listener) in &self.listeners {
                if m.intersects(mask) {
                    listener(&event);
                }
            }
        }
        if self.events.receiver_count() > 0 {
            let _ = self.events.send(event);
        }
    }

    pub(crate) fn add_listener(&mut self, mask: EventMask, listener: Listener) {
        self.listeners.push((mask, listener));
    }

    // ===== adding jobs =====

    /// Inserts admitted jobs (checked and id-reserved by [`Admission`]).
    pub(crate) fn commit(&mut self, admitted: Vec<Admitted>, ctx: &mut Context<Self>) {
        if self.phase != Phase::Running {
            self.admission.release(&admitted);
            return;
        }
        let now = self.clock.now();
        for Admitted {
            entry,
            run_on_start,
            replace,
        } in admitted
        {
            let id = entry.id.clone();
            let existing = self
                .admission
                .ids()
                .get(&id)
                .copied()
                .filter(|s| *s != RESERVED);
            let replaced = match existing {
                Some(slot) if replace => {
                    self.remove_slot(slot, false);
                    true
                }
                Some(_) => {
                    // Only possible when `remove_all_jobs` raced with this add.
                    tracing::error!(job.id = %id, "a job with this id already exists; not added");
                    continue;
                }
                None => false,
            };
            let slot = self.insert(entry);
            if run_on_start {
                self.submit(slot, now);
            }
            self.schedule(slot);
            if self.listened() {
                self.emit(if replaced {
                    Event::JobModified { job_id: id }
                } else {
                    Event::JobAdded { job_id: id }
                });
            }
        }
        self.flush();
        self.arm(ctx);
    }

    fn insert(&mut self, entry: JobEntry) -> u32 {
        let id = entry.id.clone();
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(entry);
                s
            }
            None => {
                self.slots.push(Some(entry));
                u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
            }
        };
        self.admission.ids().insert(id, slot);
        slot
    }

    // ===== the queue =====

    /// Queues the job's next run (with jitter), replacing any queued entry.
    fn schedule(&mut self, slot: u32) {
        self.unschedule(slot);
        let random = self.random();
        let Some(entry) = self.slots.get_mut(slot as usize).and_then(Option::as_mut) else {
            return;
        };
        let Some(at) = entry.next_run else { return };
        let at = match entry.opts.jitter {
            Some(j) => {
                let following = entry.trigger.next_fire_time(Some(at), at);
                Jitter::new(j).apply(at, following, random)
            }
            None => at,
        };
        entry.queued_seq = self.queue.push(at, slot);
    }

    fn unschedule(&mut self, slot: u32) {
        if let Some(entry) = self.slots.get_mut(slot as usize).and_then(Option::as_mut) {
            if entry.queued_seq != 0 {
                entry.queued_seq = 0;
                self.queue.invalidate();
            }
        }
    }

    /// Removes the job at `slot`; `announce` also frees its id for reuse and
    /// emits `JobRemoved` (a replacement keeps the id reserved).
    pub(crate) fn remove_slot(&mut self, slot: u32, announce: bool) {
        self.unschedule(slot);
        if let Some(entry) = self.slots.get_mut(slot as usize).and_then(Option::take) {
            if announce {
                // Freed in one lock per turn (see `flush`).
                self.freed_ids.push(entry.id.clone());
            }
            self.free.push(slot);
            if announce && self.listened() {
                self.emit(Event::JobRemoved { job_id: entry.id });
            }
        }
    }

    fn random(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    // ===== the timer =====

    /// Arms the one timer for the earliest queued time (capped at [`MAX_SLEEP`]).
    pub(crate) fn arm(&mut self, ctx: &mut Context<Self>) {
        if self.paused || self.phase != Phase::Running {
            self.disarm(ctx);
            return;
        }
        let now = self.clock.now();
        let cap = clock::add(now, MAX_SLEEP);
        let target = self.queue.peek().map_or(cap, |e| e.at().min(cap));
        if let Some((armed_at, handle)) = self.timer {
            if armed_at <= target {
                return; // an earlier (or equal) wake-up is already set
            }
            ctx.cancel_future(handle);
        }
        let sleep = self.clock.sleep_until(target);
        let handle = ctx.spawn(sleep.into_actor(self).map(|(), act, ctx| {
            act.timer = None;
            act.wake(ctx);
        }));
        self.timer = Some((target, handle));
    }

    fn disarm(&mut self, ctx: &mut Context<Self>) {
        if let Some((_, handle)) = self.timer.take() {
            ctx.cancel_future(handle);
        }
    }

    /// Dispatches everything due, then re-arms.
    pub(crate) fn wake(&mut self, ctx: &mut Context<Self>) {
        if self.paused || self.phase != Phase::Running {
            return;
        }
        let now = self.clock.now();
        while let Some(e) = self.queue.pop_due(now) {
            let live = self
                .slots
                .get(e.slot as usize)
                .and_then(Option::as_ref)
                .is_some_and(|j| j.queued_seq == e.seq);
            if !live {
                self.queue.popped_stale();
                continue;
            }
            self.process(e.slot, now);
        }
        self.flush();
        let slots = &self.slots;
        self.queue.compact(|e| {
            slots
                .get(e.slot as usize)
                .and_then(Option::as_ref)
                .is_some_and(|j| j.queued_seq == e.seq)
        });
        self.arm(ctx);
    }

    /// A job is due: apply misfire, coalescing and max_instances, submit, re-queue.
    fn process(&mut self, slot: u32, now: DateTime<Utc>) {
        let Some(entry) = self.slots.get_mut(slot as usize).and_then(Option::as_mut) else {
            return;
        };
        entry.queued_seq = 0;
        let Some(first) = entry.next_run else { return };
        let opts = entry.opts.clone();
        let mut earlier: Vec<DateTime<Utc>> = Vec::new();
        let mut last = first;
        let mut count: u32 = 1;
        let mut next = entry.trigger.next_fire_time(Some(first), now);
        let mut overflow = false;
        while let Some(t) = next {
            if t > now {
                break;
            }
            if count >= opts.max_catch_up {
                overflow = true;
                next = entry
                    .trigger
                    .next_fire_time(None, now)
                    .filter(|n| *n > now)
                    .or_else(|| entry.trigger.next_fire_time(Some(now), now));
                break;
            }
            if !opts.coalesce {
                earlier.push(last);
            }
            last = t;
            count += 1;
            next = entry.trigger.next_fire_time(Some(t), now);
        }
        let job_id = entry.id.clone();
        if overflow {
            self.emit(Event::JobMissed {
                job_id: job_id.clone(),
                scheduled_at: last,
                count: u64::from(count),
            });
        }
        if !overflow {
            let running = self.slots[slot as usize]
                .as_ref()
                .map_or(0, JobEntry::running_count);
            if running >= opts.max_instances {
                for scheduled_at in earlier.into_iter().chain([last]) {
                    self.emit(Event::JobMaxInstances {
                        job_id: job_id.clone(),
                        scheduled_at,
                    });
                }
            } else if earlier.is_empty() {
                // The common case: one run time, no allocation.
                self.start_run(slot, &job_id, &opts, last, Vec::new(), now);
            } else {
                earlier.push(last);
                let mut times = earlier.into_iter();
                if let Some(first) = times.next() {
                    self.start_run(slot, &job_id, &opts, first, times.collect(), now);
                }
            }
        }
        match next {
            Some(n) => {
                if let Some(entry) = self.slots[slot as usize].as_mut() {
                    entry.next_run = Some(n);
                }
                self.schedule(slot);
            }
            None => self.remove_slot(slot, true),
        }
    }

    /// Starts a run for `first`, carrying the later run times of an uncoalesced
    /// backlog; run times past the grace time are reported as missed instead.
    /// Returns whether a run started.
    fn start_run(
        &mut self,
        slot: u32,
        job_id: &Arc<str>,
        opts: &JobOptions,
        first: DateTime<Utc>,
        rest: Vec<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> bool {
        let missed = |t: DateTime<Utc>| {
            let late = (now - t).to_std().unwrap_or(Duration::ZERO);
            opts.misfire_grace_time.is_some_and(|g| late > g)
        };
        if !missed(first) {
            return self.submit_with(slot, first, rest, true).is_some();
        }
        self.emit(Event::JobMissed {
            job_id: job_id.clone(),
            scheduled_at: first,
            count: 1,
        });
        let mut times = rest.into_iter();
        while let Some(run_time) = times.next() {
            if missed(run_time) {
                self.emit(Event::JobMissed {
                    job_id: job_id.clone(),
                    scheduled_at: run_time,
                    count: 1,
                });
                continue;
            }
            return self
                .submit_with(slot, run_time, times.collect(), true)
                .is_some();
        }
        false
    }

    /// Starts one run of the job at `slot` for `scheduled_at`.
    pub(crate) fn submit(&mut self, slot: u32, scheduled_at: DateTime<Utc>) -> Option<u64> {
        self.submit_with(slot, scheduled_at, Vec::new(), true)
    }

    /// Starts a run; `take_slot` is false when it inherits the slot of the run before it.
    fn submit_with(
        &mut self,
        slot: u32,
        scheduled_at: DateTime<Utc>,
        backlog: Vec<DateTime<Utc>>,
        take_slot: bool,
    ) -> Option<u64> {
        let listened = self.listened();
        let entry = self.slots.get_mut(slot as usize)?.as_mut()?;
        let runnable = entry.target.runnable()?;
        let job_id = entry.id.clone();
        let timeout = entry.opts.timeout;
        let executor = entry.executor as usize;
        let counter = entry.running.get_or_insert_with(Arc::default).clone();
        let blocking = matches!(
            runnable,
            crate::target::Runnable::Blocking(_) | crate::target::Runnable::RegisteredBlocking(..)
        ) || self.executors.get(executor).is_some_and(|e| e.threads);
        let needs_again = entry.opts.retry.is_some() || !backlog.is_empty();
        // A light run is left to its executor: nothing to retry, continue,
        // time out, abandon or tell anyone about when it succeeds.
        let light = !needs_again && timeout.is_none() && !blocking && !listened && take_slot;
        let name = entry.opts.name.clone();
        let run_id = if light {
            self.env.as_ref()?.in_flight.fetch_add(1, Ordering::SeqCst);
            self.runs.untracked_id()
        } else {
            let again = needs_again.then(|| {
                Box::new(Again {
                    retry: entry.opts.retry,
                    runnable: runnable.clone(),
                    executor,
                    timeout,
                    grace: entry.opts.misfire_grace_time,
                    name: name.clone(),
                    backlog,
                })
            });
            let state = RunState {
                slot,
                job_id: job_id.clone(),
                scheduled_at,
                attempt: 1,
                zombie: false,
                blocking,
                retry: None,
                counter: counter.clone(),
                again,
            };
            self.runs.insert(state)?
        };
        if take_slot {
            counter.fetch_add(1, Ordering::AcqRel);
        }
        let deadline = timeout.map(|t| clock::add(self.clock.now(), t));
        let tick = Tick {
            run_id,
            job_id: job_id.clone(),
            name,
            runnable,
            scheduled_at,
            attempt: 1,
            timeout,
            deadline,
            light: light.then_some(counter),
        };
        if let Some(e) = self.executors.get_mut(executor) {
            e.pending.push(tick);
            if e.pending.len() >= DISPATCH_BATCH {
                let batch = std::mem::replace(&mut e.pending, Vec::with_capacity(DISPATCH_BATCH));
                e.dispatch.do_send(Dispatch(batch));
            }
        }
        if listened {
            self.emit(Event::JobSubmitted {
                job_id,
                run_id,
                scheduled_at,
                attempt: 1,
            });
        }
        Some(run_id)
    }

    /// Sends the runs gathered in this turn, one message per executor, and
    /// frees the ids of the jobs removed in it.
    pub(crate) fn flush(&mut self) {
        if !self.freed_ids.is_empty() {
            let mut ids = self.admission.ids();
            for id in self.freed_ids.drain(..) {
                // Unless a job with that id was added again in this turn.
                let live = ids
                    .get(&id)
                    .and_then(|slot| self.slots.get(*slot as usize))
                    .and_then(Option::as_ref)
                    .is_some_and(|e| e.id == id);
                if !live {
                    ids.remove(&id);
                }
            }
        }
        for e in &mut self.executors {
            if !e.pending.is_empty() {
                let batch = std::mem::take(&mut e.pending);
                e.dispatch.do_send(Dispatch(batch));
            }
        }
    }

    // ===== runs finishing =====

    /// Handles every report the executors left.
    pub(crate) fn drain_finished(&mut self, ctx: &mut Context<Self>) {
        let Some(sink) = self.finished.clone() else {
            return;
        };
        for r in sink.take() {
            match r.light {
                // A light run's failure: it is not tracked, so only the event.
                Some((job_id, scheduled_at)) => {
                    if let Outcome::Failure(kind, error) = r.outcome {
                        let run_id = r.run_id;
                        self.emit(Event::JobError {
                            job_id,
                            run_id,
                            scheduled_at,
                            attempt: 1,
                            kind,
                            error,
                            retry_at: None,
                        });
                    }
                }
                None => self.run_finished(r.run_id, r.outcome, r.duration, r.still_running, ctx),
            }
        }
        self.maybe_finish_shutdown();
    }

    pub(crate) fn run_finished(
        &mut self,
        run_id: u64,
        outcome: Outcome,
        duration: Duration,
        still_running: bool,
        ctx: &mut Context<Self>,
    ) {
        let Some(state) = self.runs.get_mut(run_id) else {
            return;
        };
        let (job_id, scheduled_at, attempt) =
            (state.job_id.clone(), state.scheduled_at, state.attempt);
        if still_running {
            state.zombie = true;
            if let Outcome::Failure(kind, error) = outcome {
                self.emit(Event::JobError {
                    job_id,
                    run_id,
                    scheduled_at,
                    attempt,
                    kind,
                    error,
                    retry_at: None,
                });
            }
            return;
        }
        match outcome {
            Outcome::Success => {
                self.emit(Event::JobExecuted {
                    job_id,
                    run_id,
                    scheduled_at,
                    attempt,
                    duration,
                });
                self.end_run(run_id);
            }
            Outcome::Failure(kind, error) => {
                let retry = state
                    .again
                    .as_ref()
                    .and_then(|a| a.retry)
                    .filter(|r| attempt <= r.retries && kind != FailureKind::Cancelled);
                match retry {
                    Some(r) if self.phase == Phase::Running => {
                        let delay = r.delay(attempt);
                        let retry_at = clock::add(self.clock.now(), delay);
                        self.emit(Event::JobError {
                            job_id,
                            run_id,
                            scheduled_at,
                            attempt,
                            kind,
                            error,
                            retry_at: Some(retry_at),
                        });
                        let sleep = self.clock.sleep_until(retry_at);
                        let handle = ctx.spawn(sleep.into_actor(self).map(move |(), act, ctx| {
                            act.retry(run_id);
                            if act.is_stopped() {
                                ctx.stop();
                            }
                        }));
                        if let Some(state) = self.runs.get_mut(run_id) {
                            state.retry = Some(handle);
                        }
                    }
                    _ => {
                        self.emit(Event::JobError {
                            job_id,
                            run_id,
                            scheduled_at,
                            attempt,
                            kind,
                            error,
                            retry_at: None,
                        });
                        self.end_run(run_id);
                    }
                }
            }
        }
    }

    /// Sends a failed run again, as its next attempt.
    fn retry(&mut self, run_id: u64) {
        if self.phase != Phase::Running {
            self.end_run(run_id);
            return;
        }
        let now = self.clock.now();
        let Some(state) = self.runs.get_mut(run_id) else {
            return;
        };
        state.retry = None;
        state.attempt += 1;
        let Some(again) = state.again.as_ref() else {
            self.end_run(run_id);
            return;
        };
        let (timeout, executor) = (again.timeout, again.executor);
        let tick = Tick {
            run_id,
            job_id: state.job_id.clone(),
            name: again.name.clone(),
            runnable: again.runnable.clone(),
            scheduled_at: state.scheduled_at,
            attempt: state.attempt,
            timeout,
            deadline: timeout.map(|t| clock::add(now, t)),
            light: None,
        };
        let (job_id, scheduled_at, attempt) =
            (state.job_id.clone(), state.scheduled_at, state.attempt);
        if let Some(e) = self.executors.get_mut(executor) {
            e.pending.push(tick);
        }
        self.emit(Event::JobSubmitted {
            job_id,
            run_id,
            scheduled_at,
            attempt,
        });
        self.flush();
    }

    /// A job was removed on request: its pending retries are dropped.
    pub(crate) fn cancel_retries(&mut self, job_id: &Arc<str>, ctx: &mut Context<Self>) {
        let pending: Vec<u64> = self
            .runs
            .iter()
            .filter(|(_, s)| s.retry.is_some() && Arc::ptr_eq(&s.job_id, job_id))
            .map(|(id, _)| id)
            .collect();
        for run_id in pending {
            if let Some(h) = self.runs.get_mut(run_id).and_then(|s| s.retry.take()) {
                ctx.cancel_future(h);
            }
            self.end_run(run_id);
        }
    }

    pub(crate) fn run_released(&mut self, run_id: u64) {
        if self.runs.get(run_id).is_some_and(|s| s.zombie) {
            self.end_run(run_id);
        }
    }

    /// A run is over: start the next run of its backlog in the same slot, or
    /// free its `max_instances` slot.
    fn end_run(&mut self, run_id: u64) {
        if let Some(state) = self.runs.remove(run_id) {
            let same_job = self
                .slots
                .get(state.slot as usize)
                .and_then(Option::as_ref)
                .is_some_and(|j| Arc::ptr_eq(&j.id, &state.job_id));
            let mut continued = false;
            let (backlog, grace) = state
                .again
                .map_or((Vec::new(), None), |a| (a.backlog, a.grace));
            if same_job && !backlog.is_empty() && self.phase == Phase::Running {
                let now = self.clock.now();
                let mut times = backlog.into_iter();
                while let Some(run_time) = times.next() {
                    let late = (now - run_time).to_std().unwrap_or(Duration::ZERO);
                    if grace.is_some_and(|g| late > g) {
                        self.emit(Event::JobMissed {
                            job_id: state.job_id.clone(),
                            scheduled_at: run_time,
                            count: 1,
                        });
                        continue;
                    }
                    continued = self
                        .submit_with(state.slot, run_time, times.collect(), false)
                        .is_some();
                    self.flush();
                    break;
                }
            }
            if !continued {
                state.counter.fetch_sub(1, Ordering::AcqRel);
            }
        }
        self.maybe_finish_shutdown();
    }

    /// While draining: finishes once every run has ended (light runs counted
    /// by the executors) or only abandoned blocking threads remain.
    pub(crate) fn maybe_finish_shutdown(&mut self) {
        if self.phase != Phase::Draining || !self.runs.values().all(|s| s.zombie) {
            return;
        }
        if self
            .env
            .as_ref()
            .is_some_and(|e| e.in_flight.load(Ordering::SeqCst) > 0)
        {
            return;
        }
        self.finish_shutdown();
    }

    // ===== job API =====

    pub(crate) fn slot_of(&self, id: &str) -> Result<u32, Error> {
        self.admission
            .ids()
            .get(id)
            .copied()
            .filter(|s| *s != RESERVED)
            .ok_or_else(|| Error::job_not_found(id))
    }

    pub(crate) fn job(&self, slot: u32) -> Option<Job> {
        self.slots
            .get(slot as usize)
            .and_then(Option::as_ref)
            .map(JobEntry::snapshot)
    }

    pub(crate) fn entry_mut(&mut self, slot: u32) -> Option<&mut JobEntry> {
        self.slots.get_mut(slot as usize).and_then(Option::as_mut)
    }

    /// Applies a change to a copy of the entry's settings, validates, then commits.
    pub(crate) fn modify(
        &mut self,
        id: &str,
        changes: crate::job::JobChanges,
        ctx: &mut Context<Self>,
    ) -> Result<Job, Error> {
        let slot = self.slot_of(id)?;
        let now = self.clock.now();
        let (mut opts, mut target) = {
            let entry = self.job(slot).ok_or_else(|| Error::job_not_found(id))?;
            ((*entry.options).clone(), entry.target)
        };
        if let Some(v) = changes.misfire_grace_time {
            opts.misfire_grace_time = v;
        }
        if let Some(v) = changes.coalesce {
            opts.coalesce = v;
        }
        if let Some(v) = changes.max_instances {
            opts.max_instances = v;
        }
        if let Some(v) = changes.jitter {
            opts.jitter = v;
        }
        if let Some(v) = changes.executor {
            opts.executor = v;
        }
        if let Some(v) = changes.timeout {
            opts.timeout = v;
        }
        if let Some(v) = changes.retry {
            opts.retry = v;
        }
        if let Some(name) = changes.name {
            opts.name = Some(name);
        }
        opts.check()
            .map_err(|e| Error::new(e.kind(), format!("job `{id}`: {e}")))?;
        let executor = self.admission.executor_index(&opts.executor)?;
        if let Some(t) = changes.target {
            target = t;
            self.admission.resolve_target(&mut target, id)?;
        }
        let entry = self
            .entry_mut(slot)
            .ok_or_else(|| Error::job_not_found(id))?;
        entry.opts = Arc::new(opts);
        entry.executor = executor;
        entry.target = target;
        if let Some(next) = changes.next_run_time {
            entry.next_run = next;
        }
        let _ = now;
        self.schedule(slot);
        self.arm(ctx);
        let job_id = self.slots[slot as usize].as_ref().map(|j| j.id.clone());
        if let Some(job_id) = job_id {
            self.emit(Event::JobModified { job_id });
        }
        self.job(slot).ok_or_else(|| Error::job_not_found(id))
    }

    pub(crate) fn reschedule(
        &mut self,
        id: &str,
        trigger: Trigger,
        ctx: &mut Context<Self>,
    ) -> Result<Job, Error> {
        let slot = self.slot_of(id)?;
        let now = self.clock.now();
        let next = trigger.next_fire_time(None, now).ok_or_else(|| {
            Error::new(
                ErrorKind::Trigger,
                format!("job `{id}`: the new trigger has no fire time left"),
            )
        })?;
        let entry = self
            .entry_mut(slot)
            .ok_or_else(|| Error::job_not_found(id))?;
        entry.trigger = trigger;
        entry.next_run = Some(next);
        let job_id = entry.id.clone();
        self.schedule(slot);
        self.arm(ctx);
        self.emit(Event::JobModified { job_id });
        self.job(slot).ok_or_else(|| Error::job_not_found(id))
    }

    pub(crate) fn pause_job(&mut self, id: &str) -> Result<Job, Error> {
        let slot = self.slot_of(id)?;
        self.unschedule(slot);
        let entry = self
            .entry_mut(slot)
            .ok_or_else(|| Error::job_not_found(id))?;
        entry.next_run = None;
        let job_id = entry.id.clone();
        self.emit(Event::JobModified { job_id });
        self.job(slot).ok_or_else(|| Error::job_not_found(id))
    }

    pub(crate) fn resume_job(
        &mut self,
        id: &str,
        ctx: &mut Context<Self>,
    ) -> Result<Option<Job>, Error> {
        let slot = self.slot_of(id)?;
        let now = self.clock.now();
        let entry = self
            .entry_mut(slot)
            .ok_or_else(|| Error::job_not_found(id))?;
        if entry.next_run.is_some() {
            return Ok(Some(entry.snapshot()));
        }
        match entry.trigger.next_fire_time(None, now) {
            Some(next) => {
                entry.next_run = Some(next);
                let job_id = entry.id.clone();
                self.schedule(slot);
                self.arm(ctx);
                self.emit(Event::JobModified { job_id });
                Ok(self.job(slot))
            }
            None => {
                self.remove_slot(slot, true);
                Ok(None)
            }
        }
    }

    /// Removes a job on request, with its pending retries.
    pub(crate) fn remove_job(&mut self, id: &str, ctx: &mut Context<Self>) -> Result<(), Error> {
        let slot = self.slot_of(id)?;
        if let Some(job_id) = self.slots[slot as usize].as_ref().map(|j| j.id.clone()) {
            self.cancel_retries(&job_id, ctx);
        }
        self.remove_slot(slot, true);
        Ok(())
    }

    pub(crate) fn remove_all(&mut self, ctx: &mut Context<Self>) {
        for slot in 0..self.slots.len() {
            if let Some(entry) = self.slots[slot].take() {
                self.free.push(slot as u32);
                self.cancel_retries(&entry.id, ctx);
            }
        }
        // Ids on their way to the actor stay reserved.
        self.admission.ids().retain(|_, slot| *slot == RESERVED);
        self.queue.clear();
        self.emit(Event::AllJobsRemoved);
    }

    pub(crate) fn jobs(&self) -> Vec<Job> {
        let mut jobs: Vec<Job> = self
            .slots
            .iter()
            .flatten()
            .map(JobEntry::snapshot)
            .collect();
        jobs.sort_by(|a, b| match (a.next_run_time, b.next_run_time) {
            (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.id.cmp(&b.id)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.id.cmp(&b.id),
        });
        jobs
    }

    pub(crate) fn run_now(&mut self, id: &str) -> Result<u64, Error> {
        if self.phase != Phase::Running {
            return Err(Error::not_running());
        }
        let slot = self.slot_of(id)?;
        let now = self.clock.now();
        let entry = self.slots[slot as usize]
            .as_ref()
            .ok_or_else(|| Error::job_not_found(id))?;
        if entry.running_count() >= entry.opts.max_instances {
            let (job_id, running) = (entry.id.clone(), entry.running_count());
            self.emit(Event::JobMaxInstances {
                job_id,
                scheduled_at: now,
            });
            return Err(Error::new(
                ErrorKind::MaxInstances,
                format!("job `{id}` already runs {running} time(s), its max_instances"),
            ));
        }
        let run_id = self
            .submit(slot, now)
            .ok_or_else(|| Error::job_not_found(id))?;
        self.flush();
        Ok(run_id)
    }

    pub(crate) fn set_paused(&mut self, paused: bool, ctx: &mut Context<Self>) {
        if self.paused == paused {
            return;
        }
        self.paused = paused;
        if paused {
            self.disarm(ctx);
            self.emit(Event::SchedulerPaused);
        } else {
            self.emit(Event::SchedulerResumed);
            self.wake(ctx);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    // ===== shutdown =====

    pub(crate) fn shutdown(
        &mut self,
        wait: bool,
        deadline: Option<Duration>,
        done: oneshot::Sender<()>,
        ctx: &mut Context<Self>,
    ) {
        self.shutdown_waiters.push(done);
        if self.phase != Phase::Running {
            if self.phase == Phase::Stopped {
                self.notify_stopped();
            }
            return;
        }
        self.phase = Phase::Draining;
        self.admission.stop_accepting();
        self.admission.close();
        self.disarm(ctx);
        // Pending retries will not happen.
        let retrying: Vec<u64> = self
            .runs
            .iter()
            .filter(|(_, s)| s.retry.is_some())
            .map(|(id, _)| id)
            .collect();
        for run_id in retrying {
            if let Some(h) = self.runs.get_mut(run_id).and_then(|s| s.retry.take()) {
                ctx.cancel_future(h);
            }
            self.end_run(run_id);
        }
        if !wait {
            self.shutdown_token.cancel();
            self.finish_shutdown();
            return;
        }
        // The last light run pokes us once this is set (see `run::report`).
        if let Some(env) = &self.env {
            env.draining.store(true, Ordering::SeqCst);
        }
        self.maybe_finish_shutdown();
        if self.phase != Phase::Draining {
            return;
        }
        if let Some(d) = deadline {
            let at = clock::add(self.clock.now(), d);
            let sleep = self.clock.sleep_until(at);
            ctx.spawn(sleep.into_actor(self).map(|(), act, ctx| {
                // Cancel every run; async runs stop or are dropped after their
                // grace and report. Blocking runs cannot be stopped: they are
                // abandoned (their threads finish on their own).
                act.shutdown_token.cancel();
                for state in act.runs.values_mut() {
                    if state.blocking {
                        state.zombie = true;
                    }
                }
                act.maybe_finish_shutdown();
                if act.is_stopped() {
                    ctx.stop();
                    return;
                }
                // Async runs that ignore the cancellation are dropped with their
                // arbiter after the grace; finish_shutdown reports them.
                let grace = clock::add(
                    act.clock.now(),
                    crate::builder::CANCEL_GRACE + Duration::from_millis(100),
                );
                let sleep = act.clock.sleep_until(grace);
                ctx.spawn(sleep.into_actor(act).map(|(), act, ctx| {
                    act.finish_shutdown();
                    ctx.stop();
                }));
            }));
        }
    }

    fn finish_shutdown(&mut self) {
        if self.phase == Phase::Stopped {
            return;
        }
        // Reports that arrived meanwhile first, then the runs that never stopped.
        if let Some(sink) = self.finished.clone() {
            for r in sink.take() {
                if let Some(state) = self.runs.get(r.run_id) {
                    let (job_id, scheduled_at, attempt) =
                        (state.job_id.clone(), state.scheduled_at, state.attempt);
                    match r.outcome {
                        Outcome::Success => self.emit(Event::JobExecuted {
                            job_id,
                            run_id: r.run_id,
                            scheduled_at,
                            attempt,
                            duration: r.duration,
                        }),
                        Outcome::Failure(kind, error) => self.emit(Event::JobError {
                            job_id,
                            run_id: r.run_id,
                            scheduled_at,
                            attempt,
                            kind,
                            error,
                            retry_at: None,
                        }),
                    }
                    self.runs.remove(r.run_id);
                }
            }
        }
        let abandoned: Vec<u64> = self
            .runs
            .iter()
            .filter(|(_, s)| !s.zombie)
            .map(|(id, _)| id)
            .collect();
        for run_id in abandoned {
            if let Some(s) = self.runs.get(run_id) {
                let event = Event::JobError {
                    job_id: s.job_id.clone(),
                    run_id,
                    scheduled_at: s.scheduled_at,
                    attempt: s.attempt,
                    kind: FailureKind::Cancelled,
                    error: "did not stop within the grace after the shutdown deadline; dropped"
                        .to_owned(),
                    retry_at: None,
                };
                self.emit(event);
            }
        }
        self.runs.clear();
        self.phase = Phase::Stopped;
        let names: Vec<Arc<str>> = self.executors.iter().map(|e| e.name.clone()).collect();
        for e in &self.executors {
            e.stop.do_send(StopExecutor);
        }
        for executor in names {
            self.emit(Event::ExecutorRemoved { executor });
        }
        self.emit(Event::SchedulerShutdown);
        let _ = self.stopped.send(true);
        self.notify_stopped();
    }

    fn notify_stopped(&mut self) {
        for w in self.shutdown_waiters.drain(..) {
            let _ = w.send(());
        }
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.phase == Phase::Stopped
    }
}

impl Actor for SchedulerActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let names: Vec<Arc<str>> = self.executors.iter().map(|e| e.name.clone()).collect();
        for executor in names {
            self.emit(Event::ExecutorAdded { executor });
        }
        self.emit(Event::SchedulerStarted);
        let initial = std::mem::take(&mut self.initial_jobs);
        self.commit(initial, ctx);
        self.arm(ctx);
    }
}
