//! The engine with a durable store: the store is the source of truth for
//! jobs, fire times and runs; the actor claims what is due, runs it, and
//! reports how it ended.
//!
//! - **Acquire.** When the earliest due time comes (by the store's clock,
//!   learned from each answer), or a job changes, the actor asks the store to
//!   claim what is due, in one batched transaction, off this thread. The
//!   answer comes back as a message; its claims go to the executors at once.
//!   One acquire is in flight at a time; a wake-up meanwhile asks for another.
//! - **Complete.** Finished runs are recorded in batches, fenced by holder and
//!   version; a run whose lease was lost is reported, not recorded.
//! - **Leases.** A heartbeat renews the leases of the runs in flight every
//!   third of the lease; every half lease the actor also releases expired
//!   leases of any node (a dead node's runs) and prunes the run history.
//! - **Faults.** A failed store call is retried with backoff; the first
//!   failure emits `StoreUnavailable`, the first success after it
//!   `StoreAvailable`. Completions wait in memory meanwhile, so none is lost.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use chrono::{DateTime, TimeDelta, Utc};
use futures_util::FutureExt;

use crate::actor::fxhash::FxHashMap;
use crate::clock;
use crate::error::{Error, ErrorKind};
use crate::event::{Event, FailureKind};
use crate::executor::tick::{Outcome, Tick};
use crate::job::command::COMMAND_FUNCTION;
use crate::job::options::Retry;
use crate::job::registry::JobFn;
use crate::job::target::Runnable;
use crate::store::link::StoreLink;
use crate::store::{
    AcquireRequest, Acquired, Claim, Completion, JobRecord, RunOutcome, RunRecord, Upserted,
};

use super::state::*;

/// Runs claimed in one acquire at most.
const ACQUIRE_BATCH: usize = 1000;
/// Completions recorded in one transaction at most.
const COMPLETE_BATCH: usize = 2000;
/// The shortest time between two completion batches: a busy scheduler
/// records its finished runs twenty times a second, not once each (an
/// acquire does not wait for it: what finished is recorded before it).
const COMPLETE_EVERY: Duration = Duration::from_millis(50);
/// The longest wait between retries of a failing store.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How far ahead a store with a clock of its own is asked for fire times,
/// so that runs start on time rather than one claim's round trip late.
const LOOKAHEAD: Duration = Duration::from_millis(300);

/// How a scheduler with a durable store behaves.
#[derive(Clone, Debug)]
pub(crate) struct DurableConfig {
    /// This scheduler's name among the nodes sharing the store.
    pub(crate) node: Arc<str>,
    /// How long a claimed run's lease lasts unless renewed.
    pub(crate) lease: Duration,
    /// The longest wait between two acquires (a change on another node
    /// without a notification is seen this late at most).
    pub(crate) poll: Duration,
    /// How long finished runs stay in the history (`None`: forever).
    pub(crate) history: Option<Duration>,
    /// How far ahead to claim; `None`: [`LOOKAHEAD`] for a store with a
    /// clock of its own, nothing for one on the scheduler's clock.
    pub(crate) claim_ahead: Option<Duration>,
}

/// A run of a durable store, in flight here.
struct DurableRun {
    run_id: u64,
    version: i64,
    job_id: Arc<str>,
    scheduled_at: DateTime<Utc>,
    attempt: u32,
    started: DateTime<Utc>,
    retry: Option<Retry>,
    /// The lease was lost (reported once; no more heartbeats for it).
    lost: bool,
}

/// The actor's durable-store state.
pub(crate) struct Durable {
    pub(crate) link: Arc<StoreLink>,
    pub(crate) cfg: DurableConfig,
    /// The job functions this binary registers.
    functions: Arc<[String]>,
    /// The static jobs to upsert at start.
    static_jobs: Vec<JobRecord>,
    ready: bool,
    acquiring: bool,
    again: bool,
    /// The last acquire left a fire time waiting for a run to end.
    waiting: bool,
    /// Runs finished here so far (pushed to `done`).
    finished: u64,
    /// An acquire waits until the first this many finished runs are
    /// recorded.
    acquire_after: Option<u64>,
    /// By local run id.
    runs: FxHashMap<u64, DurableRun>,
    /// Finished runs not yet recorded, with their job ids.
    done: Vec<(Completion, Arc<str>)>,
    completing: bool,
    /// When the last completion batch left.
    completed_at: Option<tokio::time::Instant>,
    /// A completion batch waits for [`COMPLETE_EVERY`] to pass.
    complete_later: bool,
    /// The runs of the completion batch on its way: `(run id, version)`.
    recording: Vec<(u64, i64)>,
    /// Runs claimed ahead of their fire time, by local start time.
    held: std::collections::BTreeMap<(DateTime<Utc>, u64), Claim>,
    held_timer: Option<(DateTime<Utc>, SpawnHandle)>,
    /// Release calls on their way to the store (shutdown waits for them).
    releasing: usize,
    timer: Option<SpawnHandle>,
    /// The store's clock minus ours, from the last answer.
    skew: TimeDelta,
    unavailable: bool,
    backoff: Duration,
}

impl Durable {
    pub(crate) fn new(
        link: Arc<StoreLink>,
        cfg: DurableConfig,
        functions: Vec<String>,
        static_jobs: Vec<JobRecord>,
    ) -> Durable {
        Durable {
            link,
            cfg,
            functions: functions.into(),
            static_jobs,
            ready: false,
            acquiring: false,
            again: false,
            waiting: false,
            finished: 0,
            acquire_after: None,
            runs: FxHashMap::default(),
            done: Vec::new(),
            completing: false,
            completed_at: None,
            complete_later: false,
            recording: Vec::new(),
            held: std::collections::BTreeMap::new(),
            held_timer: None,
            releasing: 0,
            timer: None,
            skew: TimeDelta::zero(),
            unavailable: false,
            backoff: Duration::from_millis(50),
        }
    }

    /// Whether runs are in flight or completions wait to be recorded.
    pub(crate) fn busy(&self) -> bool {
        !self.runs.is_empty()
            || !self.done.is_empty()
            || self.completing
            || self.acquiring
            || !self.held.is_empty()
            || self.releasing > 0
    }

    /// How far ahead to claim.
    fn lookahead(&self) -> Duration {
        if let Some(d) = self.cfg.claim_ahead {
            d
        } else if self.link.store.own_clock() {
            LOOKAHEAD
        } else {
            Duration::ZERO
        }
    }

    pub(crate) fn owns(&self, local_run: u64) -> bool {
        self.runs.contains_key(&local_run)
    }
}

impl SchedulerActor {
    fn durable_mut(&mut self) -> Option<&mut Durable> {
        self.durable.as_mut()
    }

    /// At start: the static jobs upserted, unknown functions reported, then
    /// the first acquire and the lease timers.
    pub(crate) fn durable_begin(&mut self, ctx: &mut Context<Self>) {
        let Some(d) = self.durable.as_ref() else {
            return;
        };
        let jobs = d.static_jobs.clone();
        let functions = d.functions.clone();
        let now = self.clock.now();
        let call = d.link.call(move |s| {
            async move {
                let upserted = s.upsert_static(&jobs, now).await?;
                let unknown = s.unknown_functions(&functions).await?;
                Ok((jobs, upserted, unknown))
            }
            .boxed()
        });
        ctx.spawn(call.into_actor(self).map(|res, act, ctx| match res {
            Ok((jobs, upserted, unknown)) => {
                act.store_ok();
                for (job, what) in jobs.iter().zip(upserted) {
                    let job_id: Arc<str> = Arc::from(job.id.as_str());
                    match what {
                        Upserted::Inserted => act.emit(Event::JobAdded { job_id }),
                        Upserted::Updated => {
                            tracing::info!(
                                target: "scheduler::jobs",
                                job_id = %job.id,
                                trigger = ?job.trigger,
                                "static job changed in the code; the stored job is updated"
                            );
                            act.emit(Event::JobModified { job_id });
                        }
                        Upserted::Unchanged => {}
                    }
                }
                for (job_id, function) in unknown {
                    tracing::warn!(
                        target: "scheduler::jobs",
                        job_id = %job_id,
                        function = %function,
                        "a stored job names a job function this binary does not register; \
                         it is kept and left to schedulers that know it"
                    );
                    act.emit(Event::JobFunctionUnknown {
                        job_id: Arc::from(job_id),
                        function,
                    });
                }
                if let Some(d) = act.durable_mut() {
                    d.ready = true;
                    d.static_jobs = Vec::new();
                    let lease = d.cfg.lease;
                    ctx.run_interval(lease / 3, |act, ctx| act.durable_heartbeat(ctx));
                    ctx.run_interval(lease / 2, |act, ctx| act.durable_recover(ctx));
                }
                act.durable_acquire(ctx);
                act.durable_listen(ctx);
            }
            Err(e) => {
                act.store_failed(&e);
                let wait = act.next_backoff();
                ctx.run_later(wait, |act, ctx| {
                    if act.phase == Phase::Running {
                        act.durable_begin(ctx);
                    }
                });
            }
        }));
    }

    /// Waits for the store to tell of changes on other nodes (if it can),
    /// then claims what may be due; again until shutdown.
    fn durable_listen(&mut self, ctx: &mut Context<Self>) {
        if self.phase != Phase::Running {
            return;
        }
        let Some(d) = self.durable.as_ref() else {
            return;
        };
        if !d.link.store.notifies() {
            return;
        }
        let call = d
            .link
            .call(|s| async move { s.wait_for_change().await }.boxed());
        ctx.spawn(call.into_actor(self).map(|res, act, ctx| match res {
            Ok(removed) => {
                if removed {
                    act.durable_check_held(ctx);
                }
                act.durable_acquire(ctx);
                act.durable_listen(ctx);
            }
            Err(e) => {
                act.store_failed(&e);
                let wait = act.next_backoff();
                ctx.run_later(wait, |act, ctx| act.durable_listen(ctx));
            }
        }));
    }

    /// Asks the store for what is due, once the runs finished so far are
    /// recorded: a run that ended here counts as ended (`max_instances`).
    pub(crate) fn durable_acquire(&mut self, ctx: &mut Context<Self>) {
        let record_first = self.durable_mut().is_some_and(|d| {
            let first = (!d.done.is_empty() || d.completing) && !d.acquiring && !d.unavailable;
            if first {
                d.acquire_after = Some(d.finished);
            }
            first
        });
        if record_first {
            self.durable_complete(ctx);
        } else {
            self.durable_claim(ctx);
        }
    }

    /// Asks the store for what is due (one request in flight at a time).
    fn durable_claim(&mut self, ctx: &mut Context<Self>) {
        let now = self.clock.now();
        let (paused, running) = (self.paused, self.phase == Phase::Running);
        let Some(d) = self.durable_mut() else { return };
        if !d.ready || paused || !running {
            return;
        }
        if d.acquiring {
            d.again = true;
            return;
        }
        d.acquiring = true;
        d.again = false;
        if let Some(t) = d.timer.take() {
            ctx.cancel_future(t);
        }
        let req = AcquireRequest {
            node: d.cfg.node.clone(),
            now: now + d.skew,
            functions: d.functions.clone(),
            limit: ACQUIRE_BATCH,
            lease: d.cfg.lease,
            lookahead: d.lookahead(),
        };
        let call = d
            .link
            .call(move |s| async move { s.acquire(&req).await }.boxed());
        ctx.spawn(
            call.into_actor(self)
                .map(move |res, act, ctx| act.durable_acquired(res, now, ctx)),
        );
    }

    /// `asked`: our clock when the request left.
    fn durable_acquired(
        &mut self,
        res: Result<Acquired, Error>,
        asked: DateTime<Utc>,
        ctx: &mut Context<Self>,
    ) {
        if let Some(d) = self.durable_mut() {
            d.acquiring = false;
        }
        let acquired = match res {
            Ok(a) => a,
            Err(e) => {
                self.store_failed(&e);
                let wait = self.next_backoff();
                self.durable_arm_in(wait, ctx);
                self.maybe_finish_shutdown();
                return;
            }
        };
        self.store_ok();
        let local_now = self.clock.now();
        // The store's clock decides; ours only says when to ask again and
        // when to start what was claimed ahead. Its `now` was read before the
        // answer left, so measured against our clock on arrival, the skew
        // errs towards starting late, never early. (A store on our clock
        // answers with the `now` it was given: no skew.)
        if let Some(d) = self.durable_mut() {
            d.waiting = acquired.waiting;
            d.skew = if d.link.store.own_clock() {
                acquired.answered.unwrap_or(acquired.now) - local_now
            } else {
                acquired.now - asked
            };
        }
        for m in acquired.missed {
            self.emit(Event::JobMissed {
                job_id: Arc::from(m.job_id),
                scheduled_at: m.scheduled_at,
                count: m.count,
            });
        }
        for (job_id, scheduled_at) in acquired.max_instances {
            self.emit(Event::JobMaxInstances {
                job_id: Arc::from(job_id),
                scheduled_at,
            });
        }
        for job_id in acquired.removed {
            tracing::debug!(target: "scheduler::jobs", job_id = %job_id, "job removed: its trigger finished");
            if self.listened() {
                self.emit(Event::JobRemoved {
                    job_id: Arc::from(job_id),
                });
            }
        }
        // Claimed runs run, also while draining: shutdown waits for them.
        // Those claimed ahead wait for their fire time by the store's clock.
        let skew = self.durable.as_ref().map_or(TimeDelta::zero(), |d| d.skew);
        for claim in acquired.claims {
            let start = claim.scheduled_at - skew;
            if start > local_now && self.phase == Phase::Running {
                if let Some(d) = self.durable_mut() {
                    d.held.insert((start, claim.run_id), claim);
                }
            } else {
                self.durable_start(claim, local_now);
            }
        }
        self.flush();
        self.durable_arm_held(ctx);
        self.maybe_finish_shutdown();
        let again = self.durable.as_ref().is_some_and(|d| d.again);
        if acquired.more || again {
            self.durable_acquire(ctx);
            return;
        }
        if self.phase != Phase::Running {
            return;
        }
        let (skew, poll) = match self.durable.as_ref() {
            Some(d) => (d.skew, d.cfg.poll),
            None => return,
        };
        // What is due already was claimed or is held back (max_instances,
        // queued behind a run): a completion or a change asks again.
        let ahead = self
            .durable
            .as_ref()
            .map_or(Duration::ZERO, Durable::lookahead);
        // Wake when the next due time is half the window ahead: each acquire
        // then claims half a window of fire times, not the one or two that
        // came into it since the last. A job's last fire time is not
        // claimed ahead, so for one inside the window, wake at it.
        let half = TimeDelta::from_std(ahead / 2).unwrap_or_default();
        let wait = match acquired.next_due {
            Some(due) if due > acquired.now + half => (due - half - skew - local_now)
                .to_std()
                .unwrap_or_default()
                .min(poll),
            Some(due) if due > acquired.now => (due - skew - local_now)
                .to_std()
                .unwrap_or_default()
                .min(poll),
            _ => poll,
        };
        self.durable_arm_in(wait, ctx);
    }

    fn durable_arm_in(&mut self, wait: Duration, ctx: &mut Context<Self>) {
        let at = clock::add(self.clock.now(), wait);
        let sleep = self.clock.sleep_until(at);
        let handle = ctx.spawn(sleep.into_actor(self).map(|(), act, ctx| {
            if let Some(d) = act.durable_mut() {
                d.timer = None;
            }
            act.durable_acquire(ctx);
        }));
        if let Some(d) = self.durable_mut() {
            if let Some(old) = d.timer.replace(handle) {
                ctx.cancel_future(old);
            }
        }
    }

    /// Arms the timer for the earliest run claimed ahead.
    fn durable_arm_held(&mut self, ctx: &mut Context<Self>) {
        let Some(d) = self.durable.as_ref() else {
            return;
        };
        let Some(&(first, _)) = d.held.keys().next() else {
            return;
        };
        if d.held_timer.as_ref().is_some_and(|(at, _)| *at <= first) {
            return;
        }
        let sleep = self.clock.sleep_until(first);
        let handle = ctx.spawn(sleep.into_actor(self).map(|(), act, ctx| {
            if let Some(d) = act.durable_mut() {
                d.held_timer = None;
            }
            act.durable_start_held(ctx);
        }));
        if let Some(d) = self.durable_mut() {
            if let Some((_, old)) = d.held_timer.replace((first, handle)) {
                ctx.cancel_future(old);
            }
        }
    }

    /// Starts the held runs whose time has come.
    fn durable_start_held(&mut self, ctx: &mut Context<Self>) {
        let now = self.clock.now();
        loop {
            let next = self.durable_mut().and_then(|d| {
                let key = *d.held.keys().next()?;
                (key.0 <= now).then(|| d.held.remove(&key)).flatten()
            });
            let Some(claim) = next else { break };
            self.durable_start(claim, now);
        }
        self.flush();
        self.durable_arm_held(ctx);
    }

    /// Jobs were removed on another node: drop the runs claimed ahead that
    /// the store no longer has (the removal deleted them).
    fn durable_check_held(&mut self, ctx: &mut Context<Self>) {
        let now = self.clock.now();
        let Some(d) = self.durable.as_ref() else {
            return;
        };
        if d.held.is_empty() {
            return;
        }
        let keys: Vec<(DateTime<Utc>, u64)> = d.held.keys().copied().collect();
        let runs: Vec<(u64, i64)> = d.held.values().map(|c| (c.run_id, c.version)).collect();
        let (node, lease, at) = (d.cfg.node.clone(), d.cfg.lease, now + d.skew);
        let call = d
            .link
            .call(move |s| async move { s.heartbeat(&node, at, &runs, lease).await }.boxed());
        ctx.spawn(call.into_actor(self).map(move |res, act, ctx| {
            let Ok(kept) = res else { return };
            if let Some(d) = act.durable_mut() {
                for (key, ok) in keys.into_iter().zip(kept) {
                    if !ok && d.held.remove(&key).is_some() {
                        tracing::debug!(target: "scheduler::runs", run_id = key.1, "a run claimed ahead was removed with its job; not started");
                    }
                }
            }
            act.maybe_finish_shutdown();
            act.durable_arm_held(ctx);
        }));
    }

    /// Jobs were removed or changed through this scheduler: their runs
    /// claimed ahead (deleted by a removal) are not started. Those of a
    /// changed job are given back to the store: a pause or a new schedule
    /// deleted them (the release finds nothing); after any other change
    /// they are claimed again, due at their fire times.
    pub(crate) fn durable_forget(&mut self, events: &[Event], ctx: &mut Context<Self>) {
        let Some(d) = self.durable_mut() else { return };
        if d.held.is_empty() {
            return;
        }
        let mut give_back = Vec::new();
        for e in events {
            match e {
                Event::JobRemoved { job_id } => d.held.retain(|_, c| c.job_id != **job_id),
                Event::AllJobsRemoved => d.held.clear(),
                Event::JobModified { job_id } => d.held.retain(|_, c| {
                    let keep = c.job_id != **job_id;
                    if !keep {
                        give_back.push((c.run_id, c.version));
                    }
                    keep
                }),
                _ => {}
            }
        }
        self.durable_release(give_back, ctx);
    }

    /// At shutdown: runs claimed ahead and not started are given back to
    /// the store, due at their fire times, for any node.
    pub(crate) fn durable_release_held(&mut self, ctx: &mut Context<Self>) {
        let Some(d) = self.durable_mut() else { return };
        if d.held.is_empty() {
            return;
        }
        if let Some((_, t)) = d.held_timer.take() {
            ctx.cancel_future(t);
        }
        let runs: Vec<(u64, i64)> = std::mem::take(&mut d.held)
            .into_values()
            .map(|c| (c.run_id, c.version))
            .collect();
        self.durable_release(runs, ctx);
    }

    /// Gives runs claimed ahead back to the store (shutdown waits for it).
    fn durable_release(&mut self, runs: Vec<(u64, i64)>, ctx: &mut Context<Self>) {
        let Some(d) = self.durable_mut() else { return };
        if runs.is_empty() {
            return;
        }
        let node = d.cfg.node.clone();
        d.releasing += 1; // shutdown waits for the answer
        let call = d
            .link
            .call(move |s| async move { s.release(&node, &runs).await }.boxed());
        ctx.spawn(call.into_actor(self).map(|res, act, ctx| {
            if let Some(d) = act.durable_mut() {
                d.releasing = d.releasing.saturating_sub(1);
            }
            match res {
                // What was given back is due at its fire time: claimed again
                // now if that is inside the window (not while stopping).
                Ok(()) if act.phase == Phase::Running => act.durable_acquire(ctx),
                Ok(()) => {}
                // Their leases lapse and recovery treats them like a dead node's.
                Err(e) => act.store_failed(&e),
            }
            act.maybe_finish_shutdown();
        }));
    }

    /// A job changed in the store (added, modified, a run queued) from this
    /// process: claim what may be due now.
    pub(crate) fn durable_changed(&mut self, ctx: &mut Context<Self>) {
        self.durable_acquire(ctx);
    }

    /// Hands a claimed run to its executor.
    fn durable_start(&mut self, claim: Claim, local_now: DateTime<Utc>) {
        let job_id: Arc<str> = Arc::from(claim.job_id.as_str());
        let store_run = claim.run_id;
        let runnable = match self.runnable_of(&claim) {
            Ok(r) => r,
            Err(e) => {
                // Cannot run here (its executor or data is missing): a failed run.
                self.emit(Event::JobError {
                    job_id: job_id.clone(),
                    run_id: store_run,
                    scheduled_at: claim.scheduled_at,
                    attempt: claim.attempt,
                    kind: FailureKind::Error,
                    error: e.to_string(),
                    retry_at: None,
                });
                if let Some(d) = self.durable_mut() {
                    d.done.push((
                        Completion {
                            run_id: claim.run_id,
                            version: claim.version,
                            outcome: RunOutcome::Failed {
                                error: e.to_string(),
                                retry_in: None,
                            },
                            started_at: local_now,
                        },
                        job_id,
                    ));
                }
                return;
            }
        };
        let (executor, runnable) = runnable;
        let blocking = matches!(runnable, Runnable::RegisteredBlocking(..))
            || self.executors.get(executor).map(|e| e.kind) == Some(ExecutorKind::Threads);
        let state = RunState {
            slot: u32::MAX,
            job_id: job_id.clone(),
            scheduled_at: claim.scheduled_at,
            attempt: claim.attempt,
            zombie: false,
            blocking,
            retry: None,
            counter: Arc::default(),
            again: None,
        };
        let Some(local) = self.runs.insert(state) else {
            return; // 16 million runs in flight: the lease lapses and it is recovered
        };
        let timeout = claim.options.timeout;
        let tick = Tick {
            run_id: local,
            job_id: job_id.clone(),
            name: claim.options.name.clone(),
            runnable,
            scheduled_at: claim.scheduled_at,
            attempt: claim.attempt,
            timeout,
            deadline: timeout.map(|t| clock::add(local_now, t)),
            light: None,
            store_run: Some(store_run),
        };
        if let Some(e) = self.executors.get_mut(executor) {
            e.pending.push(tick);
        }
        if let Some(d) = self.durable_mut() {
            d.runs.insert(
                local,
                DurableRun {
                    run_id: claim.run_id,
                    version: claim.version,
                    job_id: job_id.clone(),
                    scheduled_at: claim.scheduled_at,
                    attempt: claim.attempt,
                    started: local_now,
                    retry: claim.options.retry,
                    lost: false,
                },
            );
        }
        if self.listened() {
            self.emit(Event::JobSubmitted {
                job_id,
                run_id: store_run,
                scheduled_at: claim.scheduled_at,
                attempt: claim.attempt,
            });
        }
    }

    /// The executor and the call for a claimed run, from this binary's registry.
    fn runnable_of(&self, claim: &Claim) -> Result<(usize, Runnable), Error> {
        let executor = self
            .admission
            .executor_index(&claim.options.executor)
            .map(usize::from)
            .map_err(|e| e.context(format_args!("job `{}`", claim.job_id)))?;
        let process = self.executors.get(executor).map(|e| e.kind) == Some(ExecutorKind::Processes);
        if claim.function == COMMAND_FUNCTION {
            if !process {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!(
                        "job `{}`: a command runs only on a process-pool executor, and `{}` is not one",
                        claim.job_id, claim.options.executor
                    ),
                ));
            }
            let runnable = Runnable::Process(Arc::from(COMMAND_FUNCTION), claim.args.clone());
            return Ok((executor, runnable));
        }
        let Some(d) = self.admission.registry.get(&claim.function) else {
            return Err(Error::new(
                ErrorKind::UnknownJob,
                format!(
                    "job `{}`: no job function is registered as `{}`",
                    claim.job_id, claim.function
                ),
            ));
        };
        for req in d.data {
            if !self.admission.data.contains((req.type_id)()) {
                return Err(Error::new(
                    ErrorKind::MissingData,
                    format!(
                        "job `{}` (`{}`): {}",
                        claim.job_id,
                        d.path,
                        self.admission.data.missing(req.type_name)
                    ),
                ));
            }
        }
        let runnable = if process {
            Runnable::Process(Arc::from(claim.function.as_str()), claim.args.clone())
        } else {
            match d.func {
                JobFn::Async(f) => Runnable::RegisteredAsync(f, claim.args.clone()),
                JobFn::Blocking(f) => Runnable::RegisteredBlocking(f, claim.args.clone()),
            }
        };
        Ok((executor, runnable))
    }

    /// A durable run ended here: report it and queue its completion. Returns
    /// `false` if the run is not a durable one.
    pub(crate) fn durable_finished(
        &mut self,
        local: u64,
        outcome: Outcome,
        duration: Duration,
        ctx: &mut Context<Self>,
    ) -> bool {
        let Some(run) = self.durable_mut().and_then(|d| d.runs.remove(&local)) else {
            return false;
        };
        self.runs.remove(local);
        let running = self.phase == Phase::Running;
        let outcome = match outcome {
            Outcome::Success => {
                self.emit(Event::JobExecuted {
                    job_id: run.job_id.clone(),
                    run_id: run.run_id,
                    scheduled_at: run.scheduled_at,
                    attempt: run.attempt,
                    duration,
                });
                RunOutcome::Succeeded
            }
            Outcome::Failure(kind, error) => {
                let retry_in = run
                    .retry
                    .filter(|r| run.attempt <= r.retries && kind != FailureKind::Cancelled)
                    .filter(|_| running)
                    .map(|r| r.delay(run.attempt));
                self.emit(Event::JobError {
                    job_id: run.job_id.clone(),
                    run_id: run.run_id,
                    scheduled_at: run.scheduled_at,
                    attempt: run.attempt,
                    kind,
                    error: error.clone(),
                    retry_at: retry_in.map(|d| clock::add(self.clock.now(), d)),
                });
                RunOutcome::Failed { error, retry_in }
            }
        };
        if let Some(d) = self.durable_mut() {
            d.finished += 1;
            d.done.push((
                Completion {
                    run_id: run.run_id,
                    version: run.version,
                    outcome,
                    started_at: run.started,
                },
                run.job_id,
            ));
        }
        self.durable_complete(ctx);
        true
    }

    /// Records the finished runs (one batch in flight at a time).
    pub(crate) fn durable_complete(&mut self, ctx: &mut Context<Self>) {
        let now = self.clock.now();
        let Some(d) = self.durable_mut() else { return };
        let waited = d.acquire_after.is_some();
        if d.completing || d.done.is_empty() || (d.complete_later && !waited) {
            return;
        }
        // Batches at most every COMPLETE_EVERY, unless an acquire waits.
        let since = d.completed_at.map(|t| t.elapsed());
        if let Some(wait) = since
            .and_then(|s| COMPLETE_EVERY.checked_sub(s))
            .filter(|_| d.done.len() < COMPLETE_BATCH && !waited)
        {
            d.complete_later = true;
            ctx.run_later(wait, |act, ctx| {
                if let Some(d) = act.durable_mut() {
                    d.complete_later = false;
                }
                act.durable_complete(ctx);
            });
            return;
        }
        d.completed_at = Some(tokio::time::Instant::now());
        d.completing = true;
        let n = d.done.len().min(COMPLETE_BATCH);
        let batch: Vec<(Completion, Arc<str>)> = d.done.drain(..n).collect();
        // The finished runs recorded once this batch is.
        let upto = d.finished - d.done.len() as u64;
        let node = d.cfg.node.clone();
        let at = now + d.skew;
        let completions: Vec<Completion> = batch.iter().map(|(c, _)| c.clone()).collect();
        d.recording = completions.iter().map(|c| (c.run_id, c.version)).collect();
        let call = d
            .link
            .call(move |s| async move { s.complete(&node, at, &completions).await }.boxed());
        ctx.spawn(call.into_actor(self).map(move |res, act, ctx| {
            let failed = res.is_err();
            let acquire = act.durable_mut().is_some_and(|d| {
                d.completing = false;
                d.recording.clear();
                // The acquire that waited for this batch goes now, whatever
                // finished since it was asked (under load, something always
                // has); one that waits for more waits for the next batch.
                let go = d.acquire_after.is_some_and(|n| upto >= n || failed);
                if go {
                    d.acquire_after = None;
                }
                go
            });
            if acquire {
                act.durable_claim(ctx);
            }
            match res {
                Ok(recorded) => {
                    act.store_ok();
                    let retry = batch.iter().any(|(c, _)| {
                        matches!(
                            c.outcome,
                            RunOutcome::Failed {
                                retry_in: Some(_),
                                ..
                            }
                        )
                    });
                    for ((c, job_id), ok) in batch.into_iter().zip(recorded) {
                        if !ok {
                            tracing::warn!(
                                target: "scheduler::runs",
                                job_id = %job_id,
                                run_id = c.run_id,
                                "run finished after its lease was lost (another node took it over, \
                                 or it was recorded as abandoned); its outcome is not recorded"
                            );
                            act.emit(Event::RunLeaseLost {
                                job_id,
                                run_id: c.run_id,
                            });
                        }
                    }
                    // A run ended: what waited for its instance may go now,
                    // and a retry may be due before what the timer waits for.
                    if !acquire && (retry || act.durable.as_ref().is_some_and(|d| d.waiting)) {
                        act.durable_acquire(ctx);
                    }
                    act.durable_complete(ctx);
                }
                Err(e) => {
                    act.store_failed(&e);
                    if let Some(d) = act.durable_mut() {
                        // Kept, in order, for the next try.
                        let rest = std::mem::take(&mut d.done);
                        d.done = batch;
                        d.done.extend(rest);
                    }
                    let wait = act.next_backoff();
                    ctx.run_later(wait, |act, ctx| act.durable_complete(ctx));
                }
            }
            act.maybe_finish_shutdown();
        }));
    }

    /// Renews the leases of the runs in flight here.
    fn durable_heartbeat(&mut self, ctx: &mut Context<Self>) {
        let now = self.clock.now();
        let Some(d) = self.durable.as_ref() else {
            return;
        };
        if d.runs.is_empty() && d.done.is_empty() && !d.completing {
            return;
        }
        // Runs in flight, and finished runs whose completion is not yet
        // recorded: a slow store must not let their leases lapse.
        let held: Vec<(u64, u64, i64)> = d
            .runs
            .iter()
            .filter(|(_, r)| !r.lost)
            .map(|(local, r)| (*local, r.run_id, r.version))
            .chain(d.done.iter().map(|(c, _)| (u64::MAX, c.run_id, c.version)))
            .chain(d.recording.iter().map(|(r, v)| (u64::MAX, *r, *v)))
            .chain(d.held.values().map(|c| (u64::MAX, c.run_id, c.version)))
            .collect();
        if held.is_empty() {
            return;
        }
        let runs: Vec<(u64, i64)> = held.iter().map(|(_, r, v)| (*r, *v)).collect();
        let (node, lease, at) = (d.cfg.node.clone(), d.cfg.lease, now + d.skew);
        let call = d
            .link
            .call(move |s| async move { s.heartbeat(&node, at, &runs, lease).await }.boxed());
        ctx.spawn(call.into_actor(self).map(move |res, act, _ctx| match res {
            Ok(kept) => {
                act.store_ok();
                for ((local, run_id, _), ok) in held.into_iter().zip(kept) {
                    if ok {
                        continue;
                    }
                    // A finished run's loss is reported when its completion is refused.
                    let job_id = act
                        .durable
                        .as_mut()
                        .and_then(|d| d.runs.get_mut(&local))
                        .map(|r| {
                            r.lost = true;
                            r.job_id.clone()
                        });
                    if let Some(job_id) = job_id {
                        tracing::warn!(
                            target: "scheduler::runs",
                            job_id = %job_id,
                            run_id,
                            "lost the lease of a running run (this node was too slow to renew \
                             it); its outcome will not be recorded"
                        );
                        act.emit(Event::RunLeaseLost { job_id, run_id });
                    }
                }
            }
            Err(e) => act.store_failed(&e),
        }));
    }

    /// Releases expired leases (any node's) and prunes the history.
    fn durable_recover(&mut self, ctx: &mut Context<Self>) {
        let now = self.clock.now();
        let Some(d) = self.durable.as_ref() else {
            return;
        };
        let at = now + d.skew;
        let history = d.cfg.history;
        let call = d.link.call(move |s| {
            async move {
                let recovered = s.recover(at).await?;
                if let Some(keep) = history {
                    let before = at - TimeDelta::from_std(keep).unwrap_or(TimeDelta::MAX);
                    s.prune_runs(before).await?;
                }
                Ok(recovered)
            }
            .boxed()
        });
        ctx.spawn(call.into_actor(self).map(|res, act, ctx| match res {
            Ok((abandoned, requeued)) => {
                act.store_ok();
                for r in abandoned {
                    act.abandoned(r);
                }
                if requeued > 0 {
                    tracing::info!(
                        target: "scheduler::runs",
                        runs = requeued,
                        "runs of a node that stopped renewing their leases are queued again (recover)"
                    );
                    act.durable_acquire(ctx);
                }
            }
            Err(e) => act.store_failed(&e),
        }));
    }

    fn abandoned(&mut self, r: RunRecord) {
        tracing::warn!(
            target: "scheduler::runs",
            job_id = %r.job_id,
            run_id = r.run_id,
            node = ?r.node,
            "run abandoned: its node stopped renewing the lease, and the job is not marked recover"
        );
        self.emit(Event::RunAbandoned {
            job_id: Arc::from(r.job_id),
            run_id: r.run_id,
            scheduled_at: r.scheduled_at,
            node: r.node.unwrap_or_default(),
        });
    }

    fn store_failed(&mut self, e: &Error) {
        let Some(d) = self.durable_mut() else { return };
        let first = !d.unavailable;
        d.unavailable = true;
        let store: Arc<str> = Arc::from(d.link.kind());
        if first {
            tracing::error!(target: "scheduler::store", error = %e, "the job store is unavailable; retrying with backoff");
            self.emit(Event::StoreUnavailable {
                store,
                error: e.to_string(),
            });
        } else {
            tracing::debug!(target: "scheduler::store", error = %e, "the job store is still unavailable");
        }
    }

    fn store_ok(&mut self) {
        let Some(d) = self.durable_mut() else { return };
        d.backoff = Duration::from_millis(50);
        if d.unavailable {
            d.unavailable = false;
            let store: Arc<str> = Arc::from(d.link.kind());
            tracing::info!(target: "scheduler::store", "the job store is available again");
            self.emit(Event::StoreAvailable { store });
        }
    }

    fn next_backoff(&mut self) -> Duration {
        let Some(d) = self.durable_mut() else {
            return MAX_BACKOFF;
        };
        let wait = d.backoff;
        d.backoff = (d.backoff * 2).min(MAX_BACKOFF);
        wait
    }
}
