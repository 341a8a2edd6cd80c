//! The job API as the actor carries it out.

use std::sync::Arc;

use actix::prelude::*;

use crate::actor::admission::RESERVED;
use crate::error::{Error, ErrorKind};
use crate::event::Event;
use crate::executor::control::RestartExecutor;
use crate::job::Job;
use crate::trigger::Trigger;

use super::state::*;

impl SchedulerActor {
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
        let (mut opts, mut target) = {
            let entry = self.job(slot).ok_or_else(|| Error::job_not_found(id))?;
            ((*entry.options).clone(), entry.target)
        };
        changes.apply_options(&mut opts);
        opts.check()
            .map_err(|e| e.context(format_args!("job `{id}`")))?;
        let executor = self.admission.executor_index(&opts.executor)?;
        if let Some(t) = changes.target {
            target = t;
        }
        self.admission.check_executor_fits(executor, &target, id)?;
        self.admission.resolve_target(&mut target, id)?;
        let entry = self
            .entry_mut(slot)
            .ok_or_else(|| Error::job_not_found(id))?;
        entry.opts = Arc::new(opts);
        entry.executor = executor;
        entry.target = target;
        if let Some(next) = changes.next_run_time {
            entry.next_run = next;
        }
        self.schedule(slot);
        self.arm(ctx);
        let job_id = self.slots[slot as usize].as_ref().map(|j| j.id.clone());
        if let Some(job_id) = job_id {
            tracing::debug!(target: "scheduler::jobs", job_id = %job_id, "job modified");
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
        let mut trigger = trigger;
        trigger.resolve(now);
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
        tracing::debug!(target: "scheduler::jobs", job_id = %job_id, next_run = %next, "job rescheduled");
        self.emit(Event::JobModified { job_id });
        self.job(slot).ok_or_else(|| Error::job_not_found(id))
    }

    /// Stops the executor `name` so that its supervisor restarts it.
    pub(crate) fn restart_executor(&mut self, name: &str) -> Result<(), Error> {
        let e = self
            .executors
            .iter()
            .find(|e| &*e.name == name)
            .ok_or_else(|| {
                Error::new(
                    crate::error::ErrorKind::UnknownExecutor,
                    format!("no executor is named `{name}`"),
                )
            })?;
        tracing::warn!(executor = name, "restarting the executor");
        e.restart.do_send(RestartExecutor);
        Ok(())
    }

    pub(crate) fn pause_job(&mut self, id: &str) -> Result<Job, Error> {
        let slot = self.slot_of(id)?;
        self.unschedule(slot);
        let entry = self
            .entry_mut(slot)
            .ok_or_else(|| Error::job_not_found(id))?;
        entry.next_run = None;
        let job_id = entry.id.clone();
        tracing::debug!(target: "scheduler::jobs", job_id = %job_id, "job paused");
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
                tracing::debug!(target: "scheduler::jobs", job_id = %job_id, next_run = %next, "job resumed");
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
            self.cancel_retries(Some(&job_id), ctx);
        }
        self.remove_slot(slot, true);
        Ok(())
    }

    pub(crate) fn remove_all(&mut self, ctx: &mut Context<Self>) {
        let mut removed = 0usize;
        for slot in 0..self.slots.len() {
            if self.slots[slot].take().is_some() {
                self.free.push(slot as u32);
                removed += 1;
            }
        }
        // Every pending retry goes with its job: one pass over the runs, not one per job.
        self.cancel_retries(None, ctx);
        tracing::info!(target: "scheduler::jobs", jobs = removed, "all jobs removed");
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

    /// One page of the jobs: only the page's snapshots are made.
    pub(crate) fn jobs_page(&self, query: &crate::job::JobQuery) -> crate::job::JobPage {
        let keys: Vec<_> = self
            .slots
            .iter()
            .flatten()
            .filter(|e| query.matches(&e.id, e.opts.name.as_deref(), e.next_run))
            .map(|e| (e.next_run, e.id.clone(), e))
            .collect();
        let (total, page) = query.page(keys);
        crate::job::JobPage {
            total,
            jobs: page.into_iter().map(JobEntry::snapshot).collect(),
        }
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
            self.durable_acquire(ctx);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }
}
