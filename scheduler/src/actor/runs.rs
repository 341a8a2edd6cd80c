//! Runs finishing: reports, retries, backlogs, freeing `max_instances` slots.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;

use crate::clock;
use crate::event::{Event, FailureKind};
use crate::executor::tick::{Outcome, Tick};

use super::state::*;

impl SchedulerActor {
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
        if self.durable.as_ref().is_some_and(|d| d.owns(run_id)) {
            self.durable_finished(run_id, outcome, duration, ctx);
            return;
        }
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
                // A retry follows if the policy has one left and we are not shutting down.
                let retry_at = state
                    .again
                    .as_ref()
                    .and_then(|a| a.retry)
                    .filter(|r| attempt <= r.retries && kind != FailureKind::Cancelled)
                    .filter(|_| self.phase == Phase::Running)
                    .map(|r| clock::add(self.clock.now(), r.delay(attempt)));
                self.emit(Event::JobError {
                    job_id,
                    run_id,
                    scheduled_at,
                    attempt,
                    kind,
                    error,
                    retry_at,
                });
                let Some(retry_at) = retry_at else {
                    self.end_run(run_id);
                    return;
                };
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
        }
    }

    /// Sends a failed run again, as its next attempt.
    pub(crate) fn retry(&mut self, run_id: u64) {
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
            store_run: None,
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

    /// Drops the pending retries of `job` (a job removed on request), or of
    /// every job (`None`: all jobs removed, or shutdown); one pass over the runs.
    pub(crate) fn cancel_retries(&mut self, job: Option<&Arc<str>>, ctx: &mut Context<Self>) {
        let pending: Vec<u64> = self
            .runs
            .iter()
            .filter(|(_, s)| s.retry.is_some() && job.is_none_or(|j| Arc::ptr_eq(&s.job_id, j)))
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
    pub(crate) fn end_run(&mut self, run_id: u64) {
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
                    if clock::too_late(now, run_time, grace) {
                        self.emit(Event::JobMissed {
                            job_id: state.job_id.clone(),
                            scheduled_at: run_time,
                            count: 1,
                        });
                        continue;
                    }
                    continued = self
                        .submit_with(state.slot, run_time, times.collect(), false, false)
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
        // A durable store's completions are recorded before the end.
        if self.durable.as_ref().is_some_and(|d| d.busy()) {
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
}
