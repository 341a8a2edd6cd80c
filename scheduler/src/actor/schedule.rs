//! Adding jobs, the queue, the timer, and dispatching what is due.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use actix::prelude::*;
use chrono::{DateTime, Utc};

use crate::actor::admission::{Admitted, RESERVED};
use crate::clock;
use crate::event::Event;
use crate::executor::tick::{Dispatch, Tick};
use crate::job::options::JobOptions;
use crate::trigger::Jitter;

use super::state::*;

impl SchedulerActor {
    // ===== adding jobs =====

    /// Inserts admitted jobs (checked and id-reserved by [`Admission`]).
    pub(crate) fn commit(&mut self, admitted: Vec<Admitted>, ctx: &mut Context<Self>) {
        if self.phase != Phase::Running {
            // Cannot happen: admission stops, under the id lock, before the
            // shutdown message is sent (see `Admission::admit_then`).
            tracing::error!(
                target: "scheduler::jobs",
                jobs = admitted.len(),
                "jobs reached the scheduler after its shutdown began; not added"
            );
            self.admission.release(&admitted);
            return;
        }
        let now = self.clock.now();
        for a in admitted {
            let (run_on_start, replace) = (a.run_on_start, a.replace);
            let entry = JobEntry {
                id: a.id,
                trigger: a.trigger,
                target: a.target,
                opts: a.opts,
                next_run: a.next_run,
                queued_seq: 0,
                running: None,
                executor: a.executor,
            };
            let id = entry.id.clone();
            let existing = self
                .admission
                .ids()
                .get(&id)
                .copied()
                .filter(|s| *s != RESERVED);
            // A job already in the slot although this add was admitted without
            // `replace`: a replacing add of the same id, admitted before a
            // racing `remove_all_jobs`, was committed first. Both adds were
            // acknowledged, so the one later in the mailbox wins, as a
            // replacement; nothing acknowledged is dropped.
            let replaced = match existing {
                Some(slot) => {
                    if !replace {
                        tracing::debug!(target: "scheduler::jobs", job_id = %id, "a racing add of this id came first; replaced");
                    }
                    self.remove_slot(slot, false);
                    true
                }
                None => false,
            };
            let slot = self.insert(entry);
            if run_on_start {
                self.submit(slot, now);
            }
            self.schedule(slot);
            if tracing::enabled!(target: "scheduler::jobs", tracing::Level::DEBUG) {
                self.log_added(slot, replaced);
            }
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

    fn log_added(&self, slot: u32, replaced: bool) {
        if let Some(e) = self.slots.get(slot as usize).and_then(Option::as_ref) {
            tracing::debug!(
                target: "scheduler::jobs",
                job_id = %e.id,
                job_name = %e.opts.name.as_deref().unwrap_or(&e.id),
                trigger = ?e.trigger,
                next_run = ?e.next_run,
                "{}",
                if replaced { "job replaced" } else { "job added" }
            );
        }
    }

    pub(crate) fn insert(&mut self, entry: JobEntry) -> u32 {
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
    pub(crate) fn schedule(&mut self, slot: u32) {
        self.unschedule(slot);
        let Some(entry) = self.slots.get(slot as usize).and_then(Option::as_ref) else {
            return;
        };
        let Some(mut at) = entry.next_run else { return };
        if let Some(j) = entry.opts.jitter {
            // Only jittered jobs pay for the following fire time and a random draw.
            let following = entry.trigger.next_fire_time(Some(at), at);
            at = Jitter::new(j).apply(at, following, self.random());
        }
        let slots = &mut self.slots;
        let seq = self.queue.push(at, slot, |s, old, new| {
            match slots.get_mut(s as usize).and_then(Option::as_mut) {
                Some(job) if job.queued_seq == old => {
                    job.queued_seq = new;
                    true
                }
                _ => false,
            }
        });
        if let Some(entry) = self.slots.get_mut(slot as usize).and_then(Option::as_mut) {
            entry.queued_seq = seq;
        }
    }

    pub(crate) fn unschedule(&mut self, slot: u32) {
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
                // Freed in one lock per batch (see `free_ids`).
                self.freed_ids.push(entry.id.clone());
                if self.freed_ids.len() >= DISPATCH_BATCH {
                    self.free_ids();
                }
            }
            self.free.push(slot);
            if announce {
                tracing::debug!(target: "scheduler::jobs", job_id = %entry.id, "job removed");
            }
            if announce && self.listened() {
                self.emit(Event::JobRemoved { job_id: entry.id });
            }
        }
    }

    pub(crate) fn random(&mut self) -> u64 {
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

    pub(crate) fn disarm(&mut self, ctx: &mut Context<Self>) {
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
        let mut due = std::mem::take(&mut self.due);
        loop {
            // Runs whose next fire time is already due (jitter) come round again.
            self.queue.take_due(now, &mut due);
            if due.is_empty() {
                break;
            }
            for e in due.drain(..) {
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
        }
        if due.capacity() > DUE_BUFFER_KEEP {
            due = Vec::new();
        }
        self.due = due;
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
    pub(crate) fn process(&mut self, slot: u32, now: DateTime<Utc>) {
        let Some(entry) = self.slots.get_mut(slot as usize).and_then(Option::as_mut) else {
            return;
        };
        entry.queued_seq = 0;
        let Some(first) = entry.next_run else { return };
        let opts = entry.opts.clone();
        let mut earlier: Vec<DateTime<Utc>> = Vec::new();
        let mut last = first;
        let mut count: u32 = 1;
        let mut next = self.next_memo.next_after(&entry.trigger, first, now);
        let mut skipped: Option<(DateTime<Utc>, u64)> = None;
        while let Some(t) = next {
            if t > now {
                break;
            }
            if count >= opts.max_catch_up {
                // Past the catch-up limit: the first `max_catch_up` fire
                // times run (by the rules below); the rest are missed, counted
                // up to the limit again, and the job goes on from now on its
                // cadence (a year away is not walked one fire time at a time).
                let (mut n, mut latest, mut cursor) = (0_u64, t, Some(t));
                while let Some(s) = cursor.filter(|s| *s <= now) {
                    n += 1;
                    latest = s;
                    if n >= u64::from(opts.max_catch_up) {
                        break;
                    }
                    cursor = entry.trigger.next_fire_time(Some(s), now);
                }
                skipped = Some((latest, n));
                next = entry.trigger.resume_after(latest, now);
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
        if let Some((scheduled_at, count)) = skipped {
            self.emit(Event::JobMissed {
                job_id: job_id.clone(),
                scheduled_at,
                count,
            });
        }
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
            self.start_run(slot, &job_id, &opts, last, Vec::new(), now, next.is_none());
        } else {
            earlier.push(last);
            let mut times = earlier.into_iter();
            if let Some(first) = times.next() {
                let last_run = next.is_none();
                self.start_run(slot, &job_id, &opts, first, times.collect(), now, last_run);
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
    /// Returns whether a run started. `last_run`: the job is removed after it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn start_run(
        &mut self,
        slot: u32,
        job_id: &Arc<str>,
        opts: &JobOptions,
        first: DateTime<Utc>,
        rest: Vec<DateTime<Utc>>,
        now: DateTime<Utc>,
        last_run: bool,
    ) -> bool {
        let missed = |t: DateTime<Utc>| clock::too_late(now, t, opts.misfire_grace_time);
        if !missed(first) {
            return self
                .submit_with(slot, first, rest, true, last_run)
                .is_some();
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
                .submit_with(slot, run_time, times.collect(), true, last_run)
                .is_some();
        }
        false
    }

    /// Starts one run of the job at `slot` for `scheduled_at`.
    pub(crate) fn submit(&mut self, slot: u32, scheduled_at: DateTime<Utc>) -> Option<u64> {
        self.submit_with(slot, scheduled_at, Vec::new(), true, false)
    }

    /// Starts a run; `take_slot` is false when it inherits the slot of the
    /// run before it; `last_run`: the job is removed right after this.
    pub(crate) fn submit_with(
        &mut self,
        slot: u32,
        scheduled_at: DateTime<Utc>,
        backlog: Vec<DateTime<Utc>>,
        take_slot: bool,
        last_run: bool,
    ) -> Option<u64> {
        let listened = self.listened();
        let entry = self.slots.get_mut(slot as usize)?.as_mut()?;
        let executor = entry.executor as usize;
        let kind = self.executors.get(executor)?.kind;
        let runnable = match kind {
            ExecutorKind::Processes => entry.target.process_runnable()?,
            _ => entry.target.runnable()?,
        };
        let job_id = entry.id.clone();
        let timeout = entry.opts.timeout;
        let blocking = matches!(
            runnable,
            crate::job::target::Runnable::Blocking(_)
                | crate::job::target::Runnable::RegisteredBlocking(..)
        ) || kind == ExecutorKind::Threads;
        let needs_again = entry.opts.retry.is_some() || !backlog.is_empty();
        // A light run is left to its executor: nothing to retry, continue,
        // time out, abandon or tell anyone about when it succeeds.
        let light = !needs_again
            && timeout.is_none()
            && kind == ExecutorKind::Async
            && !blocking
            && !listened
            && take_slot;
        let name = entry.opts.name.clone();
        // Nobody asks how many runs a job has once it is gone: its last light
        // run (a one-shot job's only run) goes without a counter.
        let counter = if light && last_run && entry.running.is_none() {
            None
        } else {
            Some(entry.running.get_or_insert_with(Arc::default).clone())
        };
        let run_id = if light {
            // Counted in `env.in_flight` when its batch is sent (one atomic
            // add per batch, not per run).
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
                counter: counter.clone().unwrap_or_default(),
                again,
            };
            self.runs.insert(state)?
        };
        if let (true, Some(counter)) = (take_slot, &counter) {
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
            light: light.then_some(crate::executor::tick::Light { counter }),
            store_run: None,
        };
        if let Some(e) = self.executors.get_mut(executor) {
            e.pending.push(tick);
            e.pending_light += usize::from(light);
            if e.pending.len() >= DISPATCH_BATCH {
                let batch = std::mem::replace(&mut e.pending, Vec::with_capacity(DISPATCH_BATCH));
                send(e, batch, self.env.as_ref());
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

    /// Frees the ids of removed jobs in the shared map, under one lock, while
    /// their entries are still in the cache.
    pub(crate) fn free_ids(&mut self) {
        if self.freed_ids.is_empty() {
            return;
        }
        let mut ids = self.admission.ids();
        for id in self.freed_ids.drain(..) {
            if let Some(slot) = ids.remove(&id) {
                // Unless a job with that id was added again in this turn.
                let live = self
                    .slots
                    .get(slot as usize)
                    .and_then(Option::as_ref)
                    .is_some_and(|e| e.id == id);
                if live {
                    ids.insert(id, slot);
                }
            }
        }
    }

    /// Sends the runs gathered in this turn, one message per executor, and
    /// frees the ids of the jobs removed in it.
    pub(crate) fn flush(&mut self) {
        self.free_ids();
        for e in &mut self.executors {
            if !e.pending.is_empty() {
                let batch = std::mem::take(&mut e.pending);
                send(e, batch, self.env.as_ref());
            }
        }
    }
}

/// Sends a batch of runs, first counting its light runs as in flight.
fn send(e: &mut ExecutorRef, batch: Vec<Tick>, env: Option<&crate::executor::tick::Env>) {
    if e.pending_light > 0 {
        if let Some(env) = env {
            env.in_flight.fetch_add(e.pending_light, Ordering::SeqCst);
        }
        e.pending_light = 0;
    }
    e.dispatch.do_send(Dispatch(batch));
}
