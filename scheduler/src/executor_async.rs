//! The async executor actor: runs async jobs on a pool of arbiters.

use std::future::Future;
use std::sync::Arc;
use std::task::Poll;

use actix::prelude::*;
use tokio::sync::Semaphore;

use crate::run::{self, Dispatch, Env};

/// Spreads runs over its arbiters round-robin; a semaphore bounds concurrency.
pub(crate) struct AsyncExecutor {
    arbiters: Vec<Arbiter>,
    next: usize,
    permits: Arc<Semaphore>,
    env: Env,
}

impl AsyncExecutor {
    /// Starts the pool's arbiters and the executor actor on the first of them,
    /// so dispatching runs in parallel with the scheduler's own thread.
    pub(crate) fn launch(arbiters: usize, max_concurrency: usize, env: Env) -> Addr<AsyncExecutor> {
        let arbiters: Vec<Arbiter> = (0..arbiters.max(1)).map(|_| Arbiter::new()).collect();
        let home = arbiters[0].handle();
        let permits = Arc::new(Semaphore::new(max_concurrency.max(1)));
        AsyncExecutor::start_in_arbiter(&home, move |_| AsyncExecutor {
            arbiters,
            next: 0,
            permits,
            env,
        })
    }
}

/// Runs spawned per turn before a spawning task yields, so the runs start
/// (and free their memory) while a large batch is still being spawned.
const SPAWN_CHUNK: usize = 64;

impl Actor for AsyncExecutor {
    type Context = Context<Self>;

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        for a in &self.arbiters {
            a.stop();
        }
    }
}

impl Handler<crate::actor::StopExecutor> for AsyncExecutor {
    type Result = ();
    fn handle(&mut self, _: crate::actor::StopExecutor, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

impl Handler<Dispatch> for AsyncExecutor {
    type Result = ();

    fn handle(&mut self, msg: Dispatch, _ctx: &mut Self::Context) {
        // One message per arbiter per batch; each run is a task of its own there.
        let n = self.arbiters.len();
        let per_part = msg.0.len() / n + 1;
        let mut parts: Vec<Vec<run::Tick>> = (0..n).map(|_| Vec::with_capacity(per_part)).collect();
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
            let run_ids: Vec<u64> = part.iter().map(|t| t.run_id).collect();
            let spawned = arbiter.spawn(async move {
                for (i, tick) in part.into_iter().enumerate() {
                    if i > 0 && i % SPAWN_CHUNK == 0 {
                        tokio::task::yield_now().await;
                    }
                    let env = env.clone();
                    match permits.clone().try_acquire_owned() {
                        Ok(permit) => {
                            let mut run = Box::pin(async move {
                                let _permit = permit;
                                run::run_async(tick, env).await;
                            });
                            // A quick job finishes on its first poll: run it here,
                            // without a task. Otherwise it goes on in a task of its
                            // own, whose first poll registers the task's waker.
                            let first =
                                std::future::poll_fn(|cx| Poll::Ready(run.as_mut().poll(cx))).await;
                            if first.is_pending() {
                                actix_rt::spawn(run);
                            }
                        }
                        Err(_) => {
                            let permits = permits.clone();
                            actix_rt::spawn(async move {
                                let _permit = permits.acquire_owned().await;
                                run::run_async(tick, env).await;
                            });
                        }
                    }
                }
            });
            if !spawned {
                for run_id in run_ids {
                    self.env.finished.push(run::RunFinished {
                        run_id,
                        outcome: run::Outcome::Failure(
                            crate::event::FailureKind::Cancelled,
                            "the executor's arbiter has stopped".into(),
                        ),
                        duration: std::time::Duration::ZERO,
                        still_running: false,
                        light: None,
                    });
                }
            }
        }
    }
}
