//! The process-pool executor actor: registered jobs in child processes, at
//! most `n` at a time, under an `actix::Supervisor`.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;

use actix::prelude::*;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::event::FailureKind;
use crate::executor::control::{RestartExecutor, StopExecutor};
use crate::executor::run;
use crate::executor::tick::{Dispatch, Env, Outcome, Tick};
use crate::job::command::{Overlap, COMMAND_FUNCTION};
use crate::job::target::Runnable;

/// Hands runs to child processes; the runs themselves are tasks on the
/// executor's arbiter, so they outlive a restart of this actor (which kills
/// their children and resolves them).
pub(crate) struct ProcessExecutor {
    program: Arc<PathBuf>,
    processes: usize,
    running: usize,
    waiting: VecDeque<Tick>,
    env: Env,
    /// Cancelled when this incarnation is restarted or stopped: kills its children.
    kill: CancellationToken,
    stopping: bool,
    arbiter: ArbiterHandle,
    /// Deadline timers armed for waiting runs (one per run, and again for
    /// the runs still waiting when the actor restarts).
    timers_armed: usize,
    /// The running run of each command job with an overlap policy (queue,
    /// replace): cancelling its token replaces it.
    exclusive: HashMap<Arc<str>, CancellationToken>,
    /// Runs of such jobs waiting for the running one to end.
    held: VecDeque<Tick>,
}

/// The overlap policy of a command run, if it has one.
fn exclusive_policy(tick: &Tick) -> Option<Overlap> {
    let Runnable::Process(name, args) = &tick.runnable else {
        return None;
    };
    if **name != *COMMAND_FUNCTION {
        return None;
    }
    // Only the policy is read, not the whole command (the pool's hot path).
    let overlap = args.get("overlap").map(Overlap::deserialize)?.ok()?;
    (overlap != Overlap::Parallel).then_some(overlap)
}

impl ProcessExecutor {
    /// Starts the executor on an arbiter of its own, under a supervisor.
    pub(crate) fn launch(processes: usize, program: PathBuf, env: Env) -> Addr<ProcessExecutor> {
        let arbiter = Arbiter::new();
        let handle = arbiter.handle();
        let home = handle.clone();
        Supervisor::start_in_arbiter(&home, move |_| ProcessExecutor {
            program: Arc::new(program),
            processes: processes.max(1),
            running: 0,
            waiting: VecDeque::new(),
            env,
            kill: CancellationToken::new(),
            stopping: false,
            arbiter: handle,
            timers_armed: 0,
            exclusive: HashMap::new(),
            held: VecDeque::new(),
        })
    }

    /// Starts waiting runs while there is room.
    fn start_runs(&mut self, ctx: &mut Context<Self>) {
        while self.running < self.processes && !self.stopping {
            let Some(tick) = self.waiting.pop_front() else {
                break;
            };
            // Past its deadline, or the scheduler's, while it waited: no child.
            if self.env.shutdown.is_cancelled() {
                let why = "stopped at the shutdown deadline before it started";
                self.fail_unstarted(&tick, FailureKind::Cancelled, why.to_owned());
                continue;
            }
            if tick.deadline.is_some_and(|d| self.env.clock.now() >= d) {
                self.fail_unstarted(&tick, FailureKind::Timeout, waited_too_long(&tick));
                continue;
            }
            let mut replaced = None;
            if let Some(policy) = exclusive_policy(&tick) {
                if let Some(running) = self.exclusive.get(&tick.job_id) {
                    if policy == Overlap::Replace {
                        running.cancel();
                    }
                    self.held.push_back(tick);
                    continue;
                }
                let token = CancellationToken::new();
                self.exclusive.insert(tick.job_id.clone(), token.clone());
                replaced = Some(token);
            }
            self.running += 1;
            let (env, program, kill) = (self.env.clone(), self.program.clone(), self.kill.clone());
            let me = ctx.address();
            let exclusive = replaced.as_ref().map(|_| tick.job_id.clone());
            // Not `ctx.spawn`: a run must survive a restart of this actor to
            // report how it ended.
            actix_rt::spawn(async move {
                crate::executor::process::child::run_process(tick, env, &program, kill, replaced)
                    .await;
                me.do_send(ProcessDone { exclusive });
            });
        }
    }

    /// A waiting run times out at its deadline, even with no worker free.
    fn watch_deadlines(&mut self, from: usize, ctx: &mut Context<Self>) {
        let mut armed = Vec::new();
        for tick in self.waiting.iter().skip(from) {
            let Some(deadline) = tick.deadline else {
                continue;
            };
            armed.push((tick.run_id, deadline));
        }
        self.timers_armed += armed.len();
        for (run_id, deadline) in armed {
            let sleep = self.env.clock.sleep_until(deadline);
            ctx.spawn(
                sleep
                    .into_actor(self)
                    .map(move |(), act, _ctx| act.expire(run_id)),
            );
        }
    }

    /// Fails `run_id` if it still waits for a worker (or for the run it queues behind).
    fn expire(&mut self, run_id: u64) {
        let tick = match self.waiting.iter().position(|t| t.run_id == run_id) {
            Some(at) => self.waiting.remove(at),
            None => match self.held.iter().position(|t| t.run_id == run_id) {
                Some(at) => self.held.remove(at),
                None => None,
            },
        };
        if let Some(tick) = tick {
            self.fail_unstarted(&tick, FailureKind::Timeout, waited_too_long(&tick));
        }
    }

    /// Reports a run that never got a worker.
    fn fail_unstarted(&self, tick: &Tick, kind: FailureKind, why: String) {
        let outcome = Outcome::Failure(kind, why);
        run::report(&self.env, tick, outcome, std::time::Duration::ZERO, false);
    }

    fn fail_waiting(&mut self, why: &str) {
        let held = std::mem::take(&mut self.held);
        for tick in std::mem::take(&mut self.waiting).into_iter().chain(held) {
            self.fail_unstarted(&tick, FailureKind::Cancelled, why.to_owned());
        }
    }
}

impl Actor for ProcessExecutor {
    type Context = Context<Self>;

    fn stopped(&mut self, ctx: &mut Context<Self>) {
        // Nobody can reach it any more, so the supervisor will not restart it.
        if !ctx.connected() {
            self.stopping = true;
            self.kill.cancel();
            self.arbiter.stop();
        }
    }
}

impl Supervised for ProcessExecutor {
    fn restarting(&mut self, ctx: &mut Context<Self>) {
        if self.stopping {
            return;
        }
        // The old context's timers are gone.
        self.watch_deadlines(0, ctx);
        tracing::warn!(
            running = self.running,
            "process-pool executor restarting; its running children are killed"
        );
        // Each run kills its child, reaps it and reports `ExecutorRestarted`;
        // waiting runs stay queued for the new incarnation.
        self.kill.cancel();
        self.kill = CancellationToken::new();
    }
}

/// A run's task ended.
#[derive(Message)]
#[rtype(result = "()")]
struct ProcessDone {
    /// The job, if the run had an overlap policy: its next run may start.
    exclusive: Option<Arc<str>>,
}

impl Handler<ProcessDone> for ProcessExecutor {
    type Result = ();
    fn handle(&mut self, done: ProcessDone, ctx: &mut Self::Context) {
        self.running = self.running.saturating_sub(1);
        if let Some(job) = done.exclusive {
            self.exclusive.remove(&job);
            // Its next run goes first, before runs that came after it.
            if let Some(at) = self.held.iter().position(|t| t.job_id == job) {
                if let Some(mut next) = self.held.remove(at) {
                    // Its timeout counts from now: the wait was the policy's.
                    let now = self.env.clock.now();
                    next.deadline = next.timeout.map(|t| crate::clock::add(now, t));
                    self.waiting.push_front(next);
                }
            }
        }
        if self.stopping && self.running == 0 {
            self.arbiter.stop();
            return;
        }
        self.start_runs(ctx);
    }
}

impl Handler<Dispatch> for ProcessExecutor {
    type Result = ();
    fn handle(&mut self, msg: Dispatch, ctx: &mut Self::Context) {
        if self.stopping {
            self.waiting.extend(msg.0);
            self.fail_waiting("the scheduler shut down before the run started");
            return;
        }
        let new = msg.0.len();
        self.waiting.extend(msg.0);
        self.start_runs(ctx);
        // Only the runs of this batch that still wait need a timer: the
        // others have theirs (runs start from the front, these are at the back).
        let from = self.waiting.len().saturating_sub(new);
        self.watch_deadlines(from, ctx);
    }
}

impl Handler<RestartExecutor> for ProcessExecutor {
    type Result = ();
    fn handle(&mut self, _: RestartExecutor, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

impl Handler<StopExecutor> for ProcessExecutor {
    type Result = ();
    /// The scheduler is done: no child may outlive it. Waiting runs fail,
    /// running children are killed (after the shutdown's SIGTERM and grace),
    /// and the arbiter stops once every child is reaped.
    fn handle(&mut self, _: StopExecutor, _ctx: &mut Self::Context) {
        self.stopping = true;
        self.fail_waiting("the scheduler shut down before the run started");
        self.kill.cancel();
        if self.running == 0 {
            self.arbiter.stop();
        }
    }
}

fn waited_too_long(tick: &Tick) -> String {
    let limit = run::humantime(tick.timeout);
    format!("timed out after {limit} while waiting for a free worker process")
}

/// How many deadline timers the executor has armed (for tests).
#[cfg(test)]
#[derive(Message)]
#[rtype(result = "usize")]
struct TimersArmed;

#[cfg(test)]
impl Handler<TimersArmed> for ProcessExecutor {
    type Result = usize;
    fn handle(&mut self, _: TimersArmed, _ctx: &mut Self::Context) -> usize {
        self.timers_armed
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::clock::{self, SystemClock};
    use crate::executor::tick::RunEnv;
    use crate::job::target::Runnable;

    fn tick(run_id: u64, env: &Env) -> Tick {
        let timeout = Duration::from_secs(3600);
        Tick {
            run_id,
            job_id: Arc::from("j"),
            name: None,
            runnable: Runnable::Process(Arc::from("j"), Arc::new(serde_json::Value::Null)),
            scheduled_at: env.clock.now(),
            attempt: 1,
            timeout: Some(timeout),
            deadline: Some(clock::add(env.clock.now(), timeout)),
            light: None,
            store_run: None,
        }
    }

    /// Runs waiting for a worker each get one deadline timer, however many
    /// batches arrive after them (each batch used to re-arm every waiting run).
    #[actix_rt::test]
    async fn one_deadline_timer_per_waiting_run() {
        let env: Env = Arc::new(RunEnv::detached(Arc::new(SystemClock)));
        // `cat` never answers and runs until its stdin closes: the first run
        // holds the only worker, the others wait.
        let exec = ProcessExecutor::launch(1, PathBuf::from("/bin/cat"), env.clone());
        let mut next = 0;
        for _ in 0..3 {
            let batch = (0..2)
                .map(|_| {
                    next += 1;
                    tick(next, &env)
                })
                .collect();
            exec.send(Dispatch(batch)).await.expect("executor runs");
        }
        // 6 runs: 1 running, 5 waiting, one timer each.
        assert_eq!(exec.send(TimersArmed).await.expect("executor runs"), 5);
        exec.send(StopExecutor).await.expect("executor runs");
    }
}
