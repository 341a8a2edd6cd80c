//! The run driver: the code that runs a job with its timeout, cancellation
//! and panic catching, and reports how it ended.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::future::{select, Either};
use futures_util::FutureExt;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::clock;
use crate::event::FailureKind;
use crate::executor::tick::{Env, Light, Outcome, RunFinished, RunReleased, Tick};
use crate::job::context::{JobContext, JobResult};
use crate::job::target::Runnable;

pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

fn outcome_of(result: Result<JobResult, String>) -> Outcome {
    match result {
        Ok(Ok(())) => Outcome::Success,
        Ok(Err(e)) => Outcome::Failure(FailureKind::Error, e.message().to_owned()),
        Err(panic) => Outcome::Failure(FailureKind::Panic, panic),
    }
}

impl Tick {
    pub(crate) fn context(&self, env: &Env, own: Option<CancellationToken>) -> JobContext {
        JobContext {
            job_id: self.job_id.clone(),
            run_id: self.store_run.unwrap_or(self.run_id),
            scheduled_at: self.scheduled_at,
            attempt: self.attempt,
            shared: env.job.clone(),
            own,
        }
    }

    pub(crate) fn span(&self, env: &Env) -> tracing::Span {
        if !tracing::enabled!(tracing::Level::INFO) {
            return tracing::Span::none();
        }
        let lateness_ms = (env.clock.now() - self.scheduled_at).num_milliseconds();
        tracing::info_span!(
            "job_run",
            job.id = %self.job_id,
            job.name = %self.name.as_deref().unwrap_or(&self.job_id),
            run.id = self.store_run.unwrap_or(self.run_id),
            attempt = self.attempt,
            scheduled_at = %self.scheduled_at,
            lateness_ms,
        )
    }
}

/// Resolves to `true` at the run's timeout, or `false` when the token is
/// cancelled first (shutdown deadline); the token is cancelled either way.
async fn stop_signal(
    env: &Env,
    token: &CancellationToken,
    deadline: Option<DateTime<Utc>>,
) -> bool {
    let timed_out = match deadline {
        Some(d) => {
            let sleep = env.clock.sleep_until(d);
            let cancelled = Box::pin(token.cancelled());
            matches!(select(sleep, cancelled).await, Either::Left(_))
        }
        None => {
            token.cancelled().await;
            false
        }
    };
    token.cancel();
    timed_out
}

/// Runs an async job to its end, its timeout plus grace, or the shutdown
/// deadline plus grace, catching panics; reports to the scheduler.
pub(crate) async fn run_async(
    tick: Tick,
    env: Env,
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
) {
    // The executor's place is held until the run ends.
    let _permit = permit;
    let span = tick.span(&env);
    // The run borrows its tick: a tick moved into an inner future would take
    // room twice in every run's state.
    run_job(&tick, &env).instrument(span).await;
}

async fn run_job(tick: &Tick, env: &Env) {
    // Only a run with a timeout needs a token of its own; the others share
    // the shutdown token (and, if they ignore it, are dropped with their
    // arbiter at the end of the shutdown deadline; the scheduler reports them).
    let own = tick.deadline.map(|_| env.shutdown.child_token());
    let ctx = tick.context(env, own.clone());
    // A light run's duration is read by nobody but a log line: without a
    // subscriber it costs no clock reads.
    let timed = tick.light.is_none() || tracing::enabled!(tracing::Level::ERROR);
    let clock_start = timed.then(Instant::now);
    let started = || clock_start.unwrap_or_else(Instant::now);
    let job = match tick.runnable.clone() {
        Runnable::Async(f) => f(ctx),
        Runnable::RegisteredAsync(f, args) => f(ctx, args),
        Runnable::Process(..) => {
            let outcome = Outcome::Failure(
                FailureKind::Error,
                "a process-pool job reached an in-process executor".to_owned(),
            );
            report(env, tick, outcome, Duration::ZERO, false);
            return;
        }
        Runnable::Blocking(_) | Runnable::RegisteredBlocking(..) => {
            // Boxed, so its state does not swell every async run's task.
            let run = run_blocking_on_tokio(tick.clone(), env.clone(), ctx, started());
            return Box::pin(run).await;
        }
    };
    let job = AssertUnwindSafe(job)
        .catch_unwind()
        .map(|r| r.map_err(|p| panic_message(&*p)));
    let Some(deadline) = tick.deadline else {
        // The fast path: no timeout, nothing to race.
        let result = job.await;
        let outcome = if env.shutdown.is_cancelled() {
            Outcome::Failure(
                FailureKind::Cancelled,
                "stopped at the shutdown deadline".to_owned(),
            )
        } else {
            outcome_of(result)
        };
        let duration = clock_start.map_or(Duration::ZERO, |s| s.elapsed());
        report(env, tick, outcome, duration, false);
        return;
    };
    let token = own.unwrap_or_else(|| env.shutdown.child_token());
    Box::pin(run_with_timeout(tick, env, token, job, deadline, started())).await;
}

/// An async run with a timeout: cancel at the deadline, drop after the grace.
async fn run_with_timeout(
    tick: &Tick,
    env: &Env,
    token: CancellationToken,
    job: impl Future<Output = Result<JobResult, String>>,
    deadline: DateTime<Utc>,
    started: Instant,
) {
    {
        let deadline = Some(deadline);
        // Set once the run is asked to stop: Some(true) at its timeout, Some(false) at shutdown.
        let stopped = std::sync::atomic::AtomicU8::new(0); // 0 running, 1 shutdown, 2 timeout
        let stop = async {
            let timed_out = stop_signal(env, &token, deadline).await;
            stopped.store(
                if timed_out { 2 } else { 1 },
                std::sync::atomic::Ordering::Relaxed,
            );
            env.clock
                .sleep_until(clock::add(env.clock.now(), env.grace))
                .await;
        };
        let finished = match select(Box::pin(job), Box::pin(stop)).await {
            Either::Left((result, _)) => Some(result),
            Either::Right(((), _)) => None,
        };
        let limit = humantime(tick.timeout);
        // The job may finish in the same instant it is cancelled, before the
        // stop branch records why: the token tells that it was stopped.
        let code = match stopped.load(std::sync::atomic::Ordering::Relaxed) {
            0 if token.is_cancelled() => {
                if deadline.is_some_and(|d| env.clock.now() >= d) {
                    2
                } else {
                    1
                }
            }
            c => c,
        };
        let outcome = match (code, finished) {
            (0, Some(result)) => outcome_of(result),
            (2, Some(_)) => Outcome::Failure(
                FailureKind::Timeout,
                format!("timed out after {limit}; stopped when cancelled"),
            ),
            (2, None) => Outcome::Failure(
                FailureKind::Timeout,
                format!("timed out after {limit}; did not stop when cancelled and was dropped"),
            ),
            (_, _) => Outcome::Failure(
                FailureKind::Cancelled,
                "cancelled at the shutdown deadline".to_owned(),
            ),
        };
        report(env, tick, outcome, started.elapsed(), false);
    }
}

/// A blocking target on an async executor: tokio's blocking pool.
async fn run_blocking_on_tokio(tick: Tick, env: Env, ctx: JobContext, started: Instant) {
    let runnable = tick.runnable.clone();
    let own = ctx.own.clone();
    let handle = tokio::task::spawn_blocking(move || call_blocking(&runnable, ctx, None));
    let completion =
        handle.map(|r| r.unwrap_or_else(|e| Err(format!("the job's thread failed: {e}"))));
    supervise_blocking(tick, env, completion, started, own).await;
}

/// Calls a target on the current thread (a blocking thread), catching panics.
/// An async target is driven by `rt`, the thread's own runtime.
pub(crate) fn call_blocking(
    runnable: &Runnable,
    ctx: JobContext,
    rt: Option<&tokio::runtime::Runtime>,
) -> Result<JobResult, String> {
    std::panic::catch_unwind(AssertUnwindSafe(|| match runnable {
        Runnable::Blocking(f) => crate::executor::block_on::as_blocking_job(|| f(ctx)),
        Runnable::RegisteredBlocking(f, args) => {
            crate::executor::block_on::as_blocking_job(|| f(ctx, args))
        }
        Runnable::Async(f) => match rt {
            Some(rt) => rt.block_on(f(ctx)),
            None => Err(crate::job::context::JobError::new(
                "no runtime on this thread for an async job",
            )),
        },
        Runnable::RegisteredAsync(f, args) => match rt {
            Some(rt) => rt.block_on(f(ctx, args.clone())),
            None => Err(crate::job::context::JobError::new(
                "no runtime on this thread for an async job",
            )),
        },
        Runnable::Process(..) => Err(crate::job::context::JobError::new(
            "a process-pool job reached an in-process executor",
        )),
    }))
    .map_err(|p| panic_message(&*p))
}

/// Waits for a blocking run. At its timeout the run is reported as timed out
/// but keeps its slot; when the thread returns the slot is released.
pub(crate) async fn supervise_blocking(
    tick: Tick,
    env: Env,
    completion: impl Future<Output = Result<JobResult, String>>,
    started: Instant,
    own: Option<CancellationToken>,
) {
    let completion = Box::pin(completion);
    let (Some(timeout), Some(deadline)) = (tick.timeout, tick.deadline) else {
        let result = completion.await;
        report(&env, &tick, outcome_of(result), started.elapsed(), false);
        return;
    };
    let deadline = env.clock.sleep_until(deadline);
    match select(completion, deadline).await {
        Either::Left((result, _)) => {
            report(&env, &tick, outcome_of(result), started.elapsed(), false)
        }
        Either::Right(((), completion)) => {
            // A blocking job that checks `ctx.is_cancelled()` can stop on its own.
            if let Some(t) = &own {
                t.cancel();
            }
            report(
                &env,
                &tick,
                Outcome::Failure(
                    FailureKind::Timeout,
                    format!(
                        "timed out after {}; a blocking thread cannot be killed, so the run keeps its \
                         max_instances slot until the thread returns",
                        humantime(Some(timeout))
                    ),
                ),
                started.elapsed(),
                true,
            );
            let _ = completion.await;
            tracing::warn!(elapsed = ?started.elapsed(), "timed-out blocking run returned; slot released");
            if let Some(released) = &env.released {
                released.do_send(RunReleased {
                    run_id: tick.run_id,
                });
            }
        }
    }
}

pub(crate) fn report(
    env: &Env,
    tick: &Tick,
    outcome: Outcome,
    duration: Duration,
    still_running: bool,
) {
    // A target of their own (the run's span keeps the module's): a program
    // that logs outcomes itself can leave these out and keep the span.
    match &outcome {
        Outcome::Success => {
            tracing::info!(target: "scheduler::executor::outcome", ?duration, "job run succeeded")
        }
        Outcome::Failure(kind, msg) => tracing::error!(
            target: "scheduler::executor::outcome",
            ?kind,
            error = %msg,
            ?duration,
            "job run failed"
        ),
    }
    settle(
        env,
        tick.run_id,
        tick.light.as_ref(),
        || (tick.job_id.clone(), tick.scheduled_at),
        outcome,
        duration,
        still_running,
    );
}

/// Tells the scheduler how a run ended; a light run releases its own slot.
fn settle(
    env: &Env,
    run_id: u64,
    light: Option<&Light>,
    job: impl FnOnce() -> (Arc<str>, DateTime<Utc>),
    outcome: Outcome,
    duration: Duration,
    still_running: bool,
) {
    use std::sync::atomic::Ordering;
    let Some(light) = light else {
        env.finished.push(RunFinished {
            run_id,
            outcome,
            duration,
            still_running,
            light: None,
        });
        return;
    };
    if let Some(counter) = &light.counter {
        counter.fetch_sub(1, Ordering::AcqRel);
    }
    if let Outcome::Failure(..) = outcome {
        env.finished.push(RunFinished {
            run_id,
            outcome,
            duration,
            still_running,
            light: Some(job()),
        });
    }
    if env.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 && env.draining.load(Ordering::SeqCst) {
        env.finished.poke();
    }
}

/// What it takes to resolve a run whose future was dropped (its executor
/// restarted): kept beside the run's task.
pub(crate) struct RunRef {
    run_id: u64,
    job_id: Arc<str>,
    scheduled_at: DateTime<Utc>,
    light: Option<Light>,
}

impl RunRef {
    pub(crate) fn of(tick: &Tick) -> RunRef {
        RunRef {
            run_id: tick.run_id,
            job_id: tick.job_id.clone(),
            scheduled_at: tick.scheduled_at,
            light: tick.light.clone(),
        }
    }

    /// The run was stopped because its executor restarted.
    pub(crate) fn restarted(self, env: &Env) {
        self.fail(
            env,
            FailureKind::ExecutorRestarted,
            "the executor was restarted; the run was stopped",
        );
    }

    /// The run ended (or never started) for `why`.
    pub(crate) fn fail(self, env: &Env, kind: FailureKind, why: &str) {
        tracing::error!(job.id = %self.job_id, run.id = self.run_id, ?kind, "{why}");
        let outcome = Outcome::Failure(kind, why.to_owned());
        let (job_id, at) = (self.job_id, self.scheduled_at);
        settle(
            env,
            self.run_id,
            self.light.as_ref(),
            || (job_id, at),
            outcome,
            Duration::ZERO,
            false,
        );
    }
}

/// A timeout as text ("30s"), "?" if there is none.
pub(crate) fn humantime(d: Option<Duration>) -> String {
    d.map(scheduler_triggers::format_duration)
        .unwrap_or_else(|| "?".into())
}
