//! The async executor actor: runs async jobs on a pool of arbiters.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;

use actix::prelude::*;
use tokio::sync::Semaphore;

use tokio_util::sync::CancellationToken;

use crate::executor::control::{RestartExecutor, StopExecutor};
use crate::executor::run::{self, RunRef};
use crate::executor::tick::{Dispatch, Env, Tick};
use crate::job::target::Runnable;

/// Spreads runs over its arbiters round-robin; a semaphore bounds concurrency.
pub(crate) struct AsyncExecutor {
    arbiters: Vec<Arbiter>,
    next: usize,
    permits: Arc<Semaphore>,
    env: Env,
    /// Cancelled when this incarnation is restarted: drops its runs in flight.
    kill: CancellationToken,
}

impl AsyncExecutor {
    /// Starts the pool's arbiters and the executor actor, under a supervisor,
    /// on the first of them, so dispatching runs in parallel with the
    /// scheduler's own thread.
    pub(crate) fn launch(arbiters: usize, max_concurrency: usize, env: Env) -> Addr<AsyncExecutor> {
        let arbiters: Vec<Arbiter> = (0..arbiters.max(1)).map(|_| Arbiter::new()).collect();
        let home = arbiters[0].handle();
        let permits = Arc::new(Semaphore::new(max_concurrency.max(1)));
        Supervisor::start_in_arbiter(&home, move |_| AsyncExecutor {
            arbiters,
            next: 0,
            permits,
            env,
            kill: CancellationToken::new(),
        })
    }
}

/// Runs spawned per turn before a spawning task yields, so the runs start
/// (and free their memory) while a large batch is still being spawned.
const SPAWN_CHUNK: usize = 64;

impl Actor for AsyncExecutor {
    type Context = Context<Self>;

    fn stopped(&mut self, ctx: &mut Context<Self>) {
        // Nobody can reach it any more, so the supervisor will not restart it.
        if !ctx.connected() {
            for a in &self.arbiters {
                a.stop();
            }
        }
    }
}

impl Supervised for AsyncExecutor {
    fn restarting(&mut self, _ctx: &mut Context<Self>) {
        tracing::warn!("async executor restarting; its runs in flight are stopped");
        // Every run that went on as a task of its own is dropped and reported
        // (a run that finished on its first poll was never in flight).
        self.kill.cancel();
        self.kill = CancellationToken::new();
    }
}

impl Handler<RestartExecutor> for AsyncExecutor {
    type Result = ();
    fn handle(&mut self, _: RestartExecutor, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

impl Handler<StopExecutor> for AsyncExecutor {
    type Result = ();
    /// For good: stopping the arbiters (this actor's among them) ends the
    /// supervisor too, where `ctx.stop()` would have it restart the actor.
    fn handle(&mut self, _: StopExecutor, _ctx: &mut Self::Context) {
        for a in &self.arbiters {
            a.stop();
        }
    }
}

impl Handler<Dispatch> for AsyncExecutor {
    type Result = ();

    fn handle(&mut self, msg: Dispatch, _ctx: &mut Self::Context) {
        // One message per arbiter per batch; each run is a task of its own there.
        let n = self.arbiters.len();
        let per_part = msg.0.len() / n + 1;
        let mut parts: Vec<Vec<Tick>> = (0..n).map(|_| Vec::with_capacity(per_part)).collect();
        for tick in msg.0 {
            parts[self.next % n].push(tick);
            self.next = self.next.wrapping_add(1);
        }
        for (arbiter, part) in self.arbiters.iter().zip(parts) {
            if part.is_empty() {
                continue;
            }
            let env = self.env.clone();
            let permits = self.permits.clone();
            let kill = self.kill.clone();
            // Taken by the task; taken back here if the arbiter is gone.
            let handed = Arc::new(Mutex::new(Some(part)));
            let in_task = handed.clone();
            let spawned = arbiter.spawn(async move {
                let part = in_task
                    .lock()
                    .ok()
                    .and_then(|mut p| p.take())
                    .unwrap_or_default();
                for (i, tick) in part.into_iter().enumerate() {
                    if i > 0 && i % SPAWN_CHUNK == 0 {
                        tokio::task::yield_now().await;
                    }
                    // A blocking run's thread cannot be stopped: a restart
                    // leaves it alone. Other runs that go on in a task of their
                    // own are dropped by a restart.
                    let blocking = matches!(
                        tick.runnable,
                        Runnable::Blocking(_) | Runnable::RegisteredBlocking(..)
                    );
                    let resolve = (!blocking).then(|| RunRef::of(&tick));
                    let run_env = env.clone();
                    match permits.clone().try_acquire_owned() {
                        Ok(permit) => {
                            // No wrapper future: one would keep the run's state twice.
                            let mut run = Box::pin(run::run_async(tick, run_env, Some(permit)));
                            let first =
                                std::future::poll_fn(|cx| Poll::Ready(run.as_mut().poll(cx))).await;
                            if first.is_pending() {
                                go_on(run, resolve, &env, &kill);
                            }
                        }
                        Err(_) => {
                            let permits = permits.clone();
                            let run = Box::pin(async move {
                                let permit = permits.acquire_owned().await.ok();
                                run::run_async(tick, run_env, permit).await;
                            });
                            go_on(run, resolve, &env, &kill);
                        }
                    }
                }
            });
            if !spawned {
                let part = handed
                    .lock()
                    .ok()
                    .and_then(|mut p| p.take())
                    .unwrap_or_default();
                for tick in part {
                    RunRef::of(&tick).fail(
                        &self.env,
                        crate::event::FailureKind::Cancelled,
                        "the executor's arbiter has stopped",
                    );
                }
            }
        }
    }
}

/// A run goes on in a task of its own; unless it is blocking, a restart of
/// the executor drops it and reports it.
fn go_on(
    run: Pin<Box<impl Future<Output = ()> + 'static>>,
    resolve: Option<RunRef>,
    env: &Env,
    kill: &CancellationToken,
) {
    match resolve {
        Some(resolve) => {
            actix_rt::spawn(in_flight(run, resolve, env.clone(), kill.clone()));
        }
        None => {
            actix_rt::spawn(run);
        }
    }
}

/// A run in a task of its own: dropped and reported when the executor restarts.
async fn in_flight(
    run: impl Future<Output = ()>,
    resolve: RunRef,
    env: Env,
    kill: CancellationToken,
) {
    tokio::select! {
        biased;
        () = run => {}
        () = kill.cancelled() => resolve.restarted(&env),
    }
}
