//! Worker mode: this binary re-entered as a process-pool worker to run one
//! registered job, and the protocol between worker and scheduler.
//!
//! The scheduler starts the worker with [`WORKER_ENV`] set to its own pid and
//! one end of a Unix socket pair as the worker's stdin. It writes one
//! [`Request`] line; the worker writes one [`Response`] line back on the same
//! socket and exits. The scheduler keeps its end open while the run lasts:
//! when the scheduler dies, the worker reads end-of-file and exits (and on
//! Linux the kernel also sends it SIGKILL, its parent-death signal).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use serde::{Deserialize, Serialize};

use crate::clock::SystemClock;
use crate::executor::run::panic_message;
use crate::executor::tick::RunEnv;
use crate::job::context::JobContext;
use crate::job::registry::{JobFn, Registry};

/// Set (to the scheduler's pid) in a worker's environment.
pub(crate) const WORKER_ENV: &str = "SCHEDULER_PROCESS_WORKER";

/// Exit codes of a worker that could not run its job at all.
pub(crate) const EXIT_PROTOCOL: i32 = 70;
/// The worker's scheduler went away.
pub(crate) const EXIT_ORPHANED: i32 = 71;

static PREPARED: AtomicBool = AtomicBool::new(false);

/// What the scheduler asks a worker to run.
#[derive(Serialize, Deserialize, Debug)]
pub(crate) struct Request {
    pub(crate) job: String,
    pub(crate) args: serde_json::Value,
    pub(crate) job_id: String,
    pub(crate) run_id: u64,
    pub(crate) scheduled_at: DateTime<Utc>,
    pub(crate) attempt: u32,
}

/// How the job ended, as the worker saw it.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub(crate) enum Response {
    Ok,
    Error {
        message: String,
    },
    Panic {
        message: String,
    },
    /// The worker could not run the job (unknown name, a broken request).
    Refused {
        message: String,
    },
}

/// Makes this binary usable as a process-pool worker. Call it first thing in
/// `main`, before any thread is started (`#[scheduler::main]` does it for
/// you): in a normal run it returns
/// at once; when the scheduler started this process to run a job, it runs
/// that job and exits the process without returning.
///
/// A scheduler with a [`crate::Executor::process_pool`] refuses to start in
/// a binary that did not call it.
///
/// ```no_run
/// use scheduler::prelude::*;
///
/// #[job]
/// fn crunch(n: u64) -> Result<(), String> {
///     let _ = (0..n).sum::<u64>();
///     Ok(())
/// }
///
/// fn main() -> Result<(), scheduler::Error> {
///     scheduler::worker_main();
///     Scheduler::builder()
///         .executor("cpu", Executor::process_pool(4))
///         .run_blocking()
/// }
/// ```
pub fn worker_main() {
    PREPARED.store(true, Ordering::SeqCst);
    if !is_worker() {
        return;
    }
    std::process::exit(run_worker());
}

/// Whether the scheduler started this process as a worker: [`WORKER_ENV`]
/// is set and stdin is a socket (the channel to the scheduler). The job's
/// own children inherit the variable, but not the channel: the worker's
/// stdin is `/dev/null` by then. So the environment is never changed
/// (`std::env::remove_var` is unsound once other threads may exist).
fn is_worker() -> bool {
    if std::env::var_os(WORKER_ENV).is_none() {
        return false;
    }
    rustix::fs::fstat(std::io::stdin()).is_ok_and(|st| {
        rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Socket
    })
}

/// Whether this process called [`worker_main`].
pub(crate) fn is_prepared() -> bool {
    PREPARED.load(Ordering::SeqCst)
}

fn run_worker() -> i32 {
    watch_parent_death();
    let channel = match std::io::stdin().as_fd().try_clone_to_owned() {
        Ok(fd) => UnixStream::from(fd),
        Err(e) => return refuse(None, &format!("no channel to the scheduler on stdin: {e}")),
    };
    // The job's own children must not inherit the channel (its copy is
    // close-on-exec): stdin becomes /dev/null.
    if let Ok(null) = std::fs::File::open("/dev/null") {
        let _ = rustix::stdio::dup2_stdin(&null);
    }
    let mut line = String::new();
    let read = BufReader::new(&channel).read_line(&mut line);
    let request: Request = match read
        .map_err(|e| e.to_string())
        .and_then(|_| serde_json::from_str(&line).map_err(|e| format!("unreadable request: {e}")))
    {
        Ok(r) => r,
        Err(e) => return refuse(Some(&channel), &e),
    };
    // The scheduler keeps its end open while the run lasts: end-of-file means
    // it is gone, and so must this process be.
    if let Ok(watch) = channel.try_clone() {
        let _ = std::thread::Builder::new()
            .name("scheduler-watch".into())
            .spawn(move || {
                let mut buf = [0u8; 64];
                loop {
                    match (&watch).read(&mut buf) {
                        Ok(n) if n > 0 => {}
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        _ => std::process::exit(EXIT_ORPHANED),
                    }
                }
            });
    }
    run_job(request, &channel)
}

/// Writes the answer line; the exit code to leave with.
fn answer(channel: &UnixStream, response: &Response) -> i32 {
    let mut out = serde_json::to_string(response).unwrap_or_else(|_| "{}".into());
    out.push('\n');
    let mut channel = channel;
    match channel.write_all(out.as_bytes()) {
        Ok(()) => 0,
        Err(_) => EXIT_ORPHANED,
    }
}

fn refuse(channel: Option<&UnixStream>, message: &str) -> i32 {
    eprintln!("scheduler worker: {message}");
    if let Some(c) = channel {
        let response = Response::Refused {
            message: message.to_owned(),
        };
        let _ = answer(c, &response);
    }
    EXIT_PROTOCOL
}

/// On Linux, asks the kernel to kill this process when its parent dies.
/// (A parent that died before this line is noticed by the channel's
/// end-of-file; the parent's pid is not compared, so that a wrapper that
/// forks may start the worker.)
fn watch_parent_death() {
    #[cfg(target_os = "linux")]
    let _ = rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL));
}

/// Runs the job in an actix `System`, SIGTERM cancelling its context, and
/// answers; returns the exit code. The process exits right after, without
/// waiting for anything the job left running.
fn run_job(request: Request, channel: &UnixStream) -> i32 {
    let registry = match Registry::collect() {
        Ok(r) => r,
        Err(e) => return refuse(Some(channel), &e.to_string()),
    };
    let Some(descriptor) = registry.get(&request.job) else {
        return refuse(
            Some(channel),
            &format!(
                "no job function is registered as `{}` in this worker binary",
                request.job
            ),
        );
    };
    let func = descriptor.func;
    let env = Arc::new(RunEnv::detached(Arc::new(SystemClock)));
    let ctx = JobContext {
        job_id: Arc::from(request.job_id),
        run_id: request.run_id,
        scheduled_at: request.scheduled_at,
        attempt: request.attempt,
        shared: env.job.clone(),
        own: None,
    };
    let args = request.args;
    let system = actix_rt::System::new();
    let code = system.block_on(async move {
        let token = env.shutdown.clone();
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            actix_rt::spawn(async move {
                term.recv().await;
                tracing::warn!("SIGTERM: the job is asked to stop");
                token.cancel();
            });
        }
        let result = match func {
            JobFn::Async(f) => AssertUnwindSafe(f(ctx, Arc::new(args)))
                .catch_unwind()
                .await
                .map_err(|p| panic_message(&*p)),
            JobFn::Blocking(f) => {
                let run = move || {
                    std::panic::catch_unwind(AssertUnwindSafe(|| f(ctx, &args)))
                        .map_err(|p| panic_message(&*p))
                };
                tokio::task::spawn_blocking(run)
                    .await
                    .unwrap_or_else(|e| Err(format!("the job's thread failed: {e}")))
            }
        };
        let response = match result {
            Ok(Ok(())) => Response::Ok,
            Ok(Err(e)) => Response::Error {
                message: e.message().to_owned(),
            },
            Err(panic) => Response::Panic { message: panic },
        };
        answer(channel, &response)
    });
    // Not dropping the System: it would wait for blocking tasks the job left.
    std::process::exit(code)
}
