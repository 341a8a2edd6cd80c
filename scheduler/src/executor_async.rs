//! The async executor actor: runs async jobs on a pool of arbiters.

use std::sync::Arc;

use actix::prelude::*;
use tokio::sync::Semaphore;

use crate::run::{self, Dispatch, RunEnv};

/// Spreads runs over its arbiters round-robin; a semaphore bounds concurrency.
pub(crate) struct AsyncExecutor {
    arbiters: Vec<Arbiter>,
    next: usize,
    permits: Arc<Semaphore>,
    env: RunEnv,
}

impl AsyncExecutor {
    pub(crate) fn new(arbiters: usize, max_concurrency: usize, env: RunEnv) -> AsyncExecutor {
        AsyncExecutor {
            arbiters: (0..arbiters.max(1)).map(|_| Arbiter::new()).collect(),
            next: 0,
            permits: Arc::new(Semaphore::new(max_concurrency.max(1))),
            env,
        }
    }
}

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
        for tick in msg.0 {
            let arbiter = &self.arbiters[self.next % self.arbiters.len()];
            self.next = self.next.wrapping_add(1);
            let env = self.env.clone();
            let permits = self.permits.clone();
            let run_id = tick.run_id;
            let spawned = arbiter.spawn(async move {
                let _permit = permits.acquire_owned().await;
                run::run_async(tick, env).await;
            });
            if !spawned {
                self.env.finished.do_send(run::RunFinished {
                    run_id,
                    outcome: run::Outcome::Failure(
                        crate::event::FailureKind::Cancelled,
                        "the executor's arbiter has stopped".into(),
                    ),
                    duration: std::time::Duration::ZERO,
                    still_running: false,
                });
            }
        }
    }
}
