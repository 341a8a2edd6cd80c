//! The thread-pool executor: blocking jobs on a `SyncArbiter`.

use std::time::Instant;

use actix::prelude::*;
use futures_util::FutureExt;

use crate::executor::control::{RestartExecutor, StopExecutor};
use crate::executor::run::{self};
use crate::executor::tick::{Dispatch, Env};
use crate::job::context::{JobContext, JobResult};
use crate::job::target::Runnable;

/// Runs one job on a worker thread.
#[derive(Message)]
#[rtype(result = "Result<JobResult, String>")]
struct RunBlocking {
    runnable: Runnable,
    ctx: JobContext,
}

/// One worker thread; owns a small runtime for async jobs given to a thread pool.
struct Worker {
    rt: Option<tokio::runtime::Runtime>,
}

impl Actor for Worker {
    type Context = SyncContext<Self>;
}

impl Handler<RunBlocking> for Worker {
    type Result = Result<JobResult, String>;
    fn handle(&mut self, msg: RunBlocking, _ctx: &mut SyncContext<Self>) -> Self::Result {
        run::call_blocking(&msg.runnable, msg.ctx, self.rt.as_ref())
    }
}

/// Front of the pool: hands runs to the worker threads and watches their timeouts.
pub(crate) struct ThreadPoolExecutor {
    workers: Addr<Worker>,
    env: Env,
    /// Its own arbiter, stopped at shutdown.
    arbiter: ArbiterHandle,
}

impl ThreadPoolExecutor {
    /// Starts the worker threads, and the front actor under a supervisor on
    /// an arbiter of its own.
    pub(crate) fn launch(threads: usize, env: Env) -> Addr<ThreadPoolExecutor> {
        let workers = SyncArbiter::start(threads.max(1), || Worker {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok(),
        });
        let arbiter = Arbiter::new().handle();
        let home = arbiter.clone();
        Supervisor::start_in_arbiter(&home, move |_| ThreadPoolExecutor {
            workers,
            env,
            arbiter,
        })
    }
}

impl Actor for ThreadPoolExecutor {
    type Context = Context<Self>;

    fn stopped(&mut self, ctx: &mut Context<Self>) {
        // Nobody can reach it any more, so the supervisor will not restart it.
        if !ctx.connected() {
            self.arbiter.stop();
        }
    }
}

impl Supervised for ThreadPoolExecutor {
    fn restarting(&mut self, _ctx: &mut Context<Self>) {
        // Its runs are on the worker threads, watched by tasks that are not
        // this actor's: they go on and report when their threads return.
        tracing::warn!(
            "thread-pool executor restarting; blocking runs cannot be stopped and go on"
        );
    }
}

impl Handler<RestartExecutor> for ThreadPoolExecutor {
    type Result = ();
    fn handle(&mut self, _: RestartExecutor, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

impl Handler<StopExecutor> for ThreadPoolExecutor {
    type Result = ();
    fn handle(&mut self, _: StopExecutor, _ctx: &mut Self::Context) {
        // For good: the arbiter ends, and the supervisor with it.
        self.arbiter.stop();
    }
}

impl Handler<Dispatch> for ThreadPoolExecutor {
    type Result = ();

    fn handle(&mut self, msg: Dispatch, _ctx: &mut Self::Context) {
        for tick in msg.0 {
            let env = self.env.clone();
            let own = tick.deadline.map(|_| env.shutdown.child_token());
            let job_ctx = tick.context(&env, own.clone());
            let started = Instant::now();
            let request = self.workers.send(RunBlocking {
                runnable: tick.runnable.clone(),
                ctx: job_ctx,
            });
            let completion =
                request.map(|r| r.unwrap_or_else(|_| Err("the worker thread stopped".to_owned())));
            // Not `ctx.spawn`: the run must outlive a restart of this actor.
            actix_rt::spawn(run::supervise_blocking(tick, env, completion, started, own));
        }
    }
}
