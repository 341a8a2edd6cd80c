//! Shutting down: draining, the deadline, and the end.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use tokio::sync::oneshot;

use crate::clock;
use crate::event::{Event, FailureKind};
use crate::executor::control::StopExecutor;
use crate::executor::tick::Outcome;

use super::state::*;

/// How long a cancelled async job may take to stop before it is dropped
/// (after its timeout or the shutdown deadline), and a worker process
/// between SIGTERM and SIGKILL. Handed to the executors in their `RunEnv`.
pub(crate) const CANCEL_GRACE: Duration = Duration::from_secs(1);

impl SchedulerActor {
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
        self.cancel_retries(None, ctx);
        // Durable runs claimed ahead go back to the store.
        self.durable_release_held(ctx);
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
                let grace = act.env.as_ref().map_or(CANCEL_GRACE, |e| e.grace);
                let grace = clock::add(act.clock.now(), grace + Duration::from_millis(100));
                let sleep = act.clock.sleep_until(grace);
                ctx.spawn(sleep.into_actor(act).map(|(), act, ctx| {
                    act.finish_shutdown();
                    ctx.stop();
                }));
            }));
        }
    }

    pub(crate) fn finish_shutdown(&mut self) {
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
        tracing::info!(target: "scheduler::lifecycle", "scheduler shut down");
        let _ = self.stopped.send(true);
        self.notify_stopped();
    }

    pub(crate) fn notify_stopped(&mut self) {
        for w in self.shutdown_waiters.drain(..) {
            let _ = w.send(());
        }
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.phase == Phase::Stopped
    }
}
