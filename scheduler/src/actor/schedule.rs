//! Adding jobs, the queue, the timer, and dispatching what is due.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use chrono::{DateTime, Utc};

use crate::admission::{Admitted, RESERVED};
use crate::clock;
use crate::event::Event;
use crate::options::JobOptions;
use crate::run::{Dispatch, Tick};
use crate::trigger::Jitter;

use super::state::*;

impl SchedulerActor {
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
        let seq = self.queue.push(at, slot);
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
                // Freed in one lock per turn (see `flush`).
                self.freed_ids.push(entry.id.clone());
            }
            self.free.push(slot);
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
    pub(crate) fn start_run(
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
    pub(crate) fn submit_with(
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
}
