//! One run in a child process: start the worker, hand it the run, pass its
//! output to `tracing`, stop it at the deadline, and tell how it ended.

use std::os::fd::OwnedFd;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::event::FailureKind;
use crate::executor::process::command;
use crate::executor::process::worker::{Request, Response, WORKER_ENV};
use crate::executor::run::{self};
use crate::executor::tick::{Env, Outcome, Tick};
use crate::job::command::COMMAND_FUNCTION;
use crate::job::target::Runnable;

/// How long the worker's output and answer may trail its exit (a grandchild
/// holding the pipes open must not hold the run).
pub(super) const TRAIL: Duration = Duration::from_secs(1);
/// The longest line passed to `tracing`; longer ones are cut.
const MAX_LINE: usize = 4096;
/// How much of the end of stderr a failure quotes.
const STDERR_TAIL: usize = 1024;
/// The largest answer read from a worker.
const MAX_RESPONSE: u64 = 1 << 20;

/// Why a run was stopped before its worker ended.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(super) enum Stop {
    Timeout,
    Shutdown,
    Restart,
    /// A newer run of the same command replaces this one.
    Replaced,
}

/// Runs `tick` in a child process of `program` and reports the outcome.
/// `replaced`: cancelled when a newer run of the same command replaces this
/// one ([`crate::Overlap::Replace`]).
pub(crate) async fn run_process(
    tick: Tick,
    env: Env,
    program: &Path,
    kill: CancellationToken,
    replaced: Option<CancellationToken>,
) {
    let span = tick.span(&env);
    let started = Instant::now();
    let outcome = execute(&tick, &env, program, &kill, replaced.as_ref(), &span)
        .instrument(span.clone())
        .await;
    let _enter = span.enter();
    run::report(&env, &tick, outcome, started.elapsed(), false);
}

async fn execute(
    tick: &Tick,
    env: &Env,
    program: &Path,
    kill: &CancellationToken,
    replaced: Option<&CancellationToken>,
    span: &tracing::Span,
) -> Outcome {
    let Runnable::Process(name, args) = &tick.runnable else {
        return Outcome::Failure(
            FailureKind::Error,
            "only a registered job function can run in a process pool".into(),
        );
    };
    if **name == *COMMAND_FUNCTION {
        return command::execute(tick, env, args, kill, replaced, span).await;
    }
    let request = Request {
        job: name.to_string(),
        args: (**args).clone(),
        job_id: tick.job_id.to_string(),
        run_id: tick.run_id,
        scheduled_at: tick.scheduled_at,
        attempt: tick.attempt,
    };
    let crash = |what: String| Outcome::Failure(FailureKind::Crash, what);
    let (ours, theirs) = match std::os::unix::net::UnixStream::pair() {
        Ok(pair) => pair,
        Err(e) => return crash(format!("could not open a channel to a worker: {e}")),
    };
    let mut command = tokio::process::Command::new(program);
    command
        .env(WORKER_ENV, std::process::id().to_string())
        .stdin(Stdio::from(OwnedFd::from(theirs)))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group: a Ctrl-C at the terminal is the scheduler's
        // to handle (a graceful shutdown), not the workers'.
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            return crash(format!(
                "could not start the worker process `{}`: {e}",
                program.display()
            ))
        }
    };
    // Our copy of the worker's end must close, or its end-of-file never comes.
    drop(command);
    let pid = child.id().unwrap_or(0);
    tracing::debug!(pid, "worker process started");
    let channel = ours
        .set_nonblocking(true)
        .and_then(|()| tokio::net::UnixStream::from_std(ours));
    let (mut from_worker, mut to_worker) = match channel {
        Ok(c) => c.into_split(),
        Err(e) => {
            let _ = child.kill().await;
            return crash(format!("could not use the channel to the worker: {e}"));
        }
    };
    let output = Output::capture(&mut child, span);
    // The hand-over is a task of its own, so a worker that never reads (a
    // wrong program) cannot hold the run past its deadline; the task keeps our
    // end open while the run lasts: closing it tells the worker we are gone.
    let mut line = serde_json::to_vec(&request).unwrap_or_default();
    line.push(b'\n');
    let handover = actix_rt::spawn(async move {
        if let Err(e) = to_worker.write_all(&line).await {
            // Most likely the worker already died: its exit says more.
            tracing::warn!(pid, error = %e, "could not hand the run to the worker");
        }
        to_worker
    });
    // One line: the worker's own children may hold the channel open.
    let answer = actix_rt::spawn(async move {
        let mut reader = tokio::io::BufReader::new((&mut from_worker).take(MAX_RESPONSE));
        let mut buf = Vec::new();
        let _ = reader.read_until(b'\n', &mut buf).await;
        serde_json::from_slice::<Response>(buf.trim_ascii()).ok()
    });

    let (status, stopped) = tokio::select! {
        status = child.wait() => (status, None),
        why = stop_signal(tick, env, kill, None) => (terminate(&mut child, pid, why, env.grace, kill).await, Some(why)),
    };
    // The worker is gone; what it left is waited for at most TRAIL, together.
    let until = tokio::time::Instant::now() + TRAIL;
    let response = trail(answer, until).await.flatten();
    drop(trail(handover, until).await);
    let tail = output.finish(until).await;
    let status = match status {
        Ok(s) => s,
        Err(e) => return crash(format!("could not wait for worker {pid}: {e}")),
    };
    outcome(tick, pid, status, stopped, response, &tail)
}

/// Resolves when the run must stop: its timeout, the shutdown deadline, or
/// a restart of the executor.
pub(super) async fn stop_signal(
    tick: &Tick,
    env: &Env,
    kill: &CancellationToken,
    replaced: Option<&CancellationToken>,
) -> Stop {
    let deadline = async {
        match tick.deadline {
            Some(d) => env.clock.sleep_until(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        // A shutdown without waiting also stops the executor: say shutdown.
        biased;
        () = deadline => Stop::Timeout,
        () = env.shutdown.cancelled() => Stop::Shutdown,
        () = kill.cancelled() => Stop::Restart,
        () = async {
            match replaced {
                Some(r) => r.cancelled().await,
                None => std::future::pending().await,
            }
        } => Stop::Replaced,
    }
}

/// SIGTERM, then SIGKILL after the grace (at once for a restart, or when
/// the executor stops meanwhile).
async fn terminate(
    child: &mut tokio::process::Child,
    pid: u32,
    why: Stop,
    grace: Duration,
    kill: &CancellationToken,
) -> std::io::Result<ExitStatus> {
    if why != Stop::Restart {
        if let Some(p) = i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        {
            let _ = rustix::process::kill_process(p, rustix::process::Signal::TERM);
        }
        tokio::select! {
            status = child.wait() => return status,
            () = tokio::time::sleep(grace) => {
                tracing::warn!(pid, "worker did not stop within the grace after SIGTERM; SIGKILL");
            }
            () = kill.cancelled() => {}
        }
    }
    child.kill().await?;
    child.wait().await
}

/// Waits for a helper task until `until`; then stops it (a grandchild may
/// hold its pipe open for ever).
async fn trail<T: 'static>(
    mut task: tokio::task::JoinHandle<T>,
    until: tokio::time::Instant,
) -> Option<T> {
    match tokio::time::timeout_at(until, &mut task).await {
        Ok(done) => done.ok(),
        Err(_) => {
            task.abort();
            None
        }
    }
}

/// The tasks passing a child's stdout and stderr to `tracing`.
pub(super) struct Output {
    stdout: Option<tokio::task::JoinHandle<String>>,
    stderr: Option<tokio::task::JoinHandle<String>>,
}

impl Output {
    /// Starts reading the child's piped stdout and stderr, in `span`.
    pub(super) fn capture(child: &mut tokio::process::Child, span: &tracing::Span) -> Output {
        Output {
            stdout: child
                .stdout
                .take()
                .map(|o| actix_rt::spawn(pump(o, false).instrument(span.clone()))),
            stderr: child
                .stderr
                .take()
                .map(|e| actix_rt::spawn(pump(e, true).instrument(span.clone()))),
        }
    }

    /// Waits for both streams until `until` (a process left in the
    /// background may hold them open); returns the end of stderr.
    pub(super) async fn finish(self, until: tokio::time::Instant) -> String {
        if let Some(out) = self.stdout {
            let _ = trail(out, until).await;
        }
        match self.stderr {
            Some(err) => trail(err, until).await.unwrap_or_default(),
            None => String::new(),
        }
    }
}

/// Passes a stream's lines to `tracing` (stdout at INFO, stderr at WARN);
/// returns the end of the stream.
async fn pump(mut stream: impl AsyncRead + Unpin, is_stderr: bool) -> String {
    let mut buf = vec![0u8; 8192];
    let mut line: Vec<u8> = Vec::new();
    let mut tail: Vec<u8> = Vec::new();
    let emit = |line: &[u8]| {
        let text = String::from_utf8_lossy(line);
        if is_stderr {
            tracing::warn!(target: "scheduler::process", stream = "stderr", "{text}");
        } else {
            tracing::info!(target: "scheduler::process", stream = "stdout", "{text}");
        }
    };
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let chunk = &buf[..n];
        if is_stderr {
            tail.extend_from_slice(chunk);
            if tail.len() > 2 * STDERR_TAIL {
                tail.drain(..tail.len() - STDERR_TAIL);
            }
        }
        for part in chunk.split_inclusive(|b| *b == b'\n') {
            let (body, ends) = match part.strip_suffix(b"\n") {
                Some(body) => (body, true),
                None => (part, false),
            };
            let room = MAX_LINE.saturating_sub(line.len());
            line.extend_from_slice(&body[..body.len().min(room)]);
            if ends {
                emit(&line);
                line.clear();
            }
        }
    }
    if !line.is_empty() {
        emit(&line);
    }
    let start = tail.len().saturating_sub(STDERR_TAIL);
    String::from_utf8_lossy(&tail[start..]).trim().to_owned()
}

/// How the run ended, from what the worker said and how it exited.
fn outcome(
    tick: &Tick,
    pid: u32,
    status: ExitStatus,
    stopped: Option<Stop>,
    response: Option<Response>,
    stderr_tail: &str,
) -> Outcome {
    let how = describe(status);
    match stopped {
        Some(Stop::Timeout) => {
            let limit = run::humantime(tick.timeout);
            return Outcome::Failure(
                FailureKind::Timeout,
                format!("timed out after {limit}; worker process {pid} was stopped ({how})"),
            );
        }
        Some(Stop::Shutdown | Stop::Replaced) => {
            return Outcome::Failure(
                FailureKind::Cancelled,
                format!("stopped at the shutdown deadline; worker process {pid} {how}"),
            )
        }
        Some(Stop::Restart) => {
            return Outcome::Failure(
                FailureKind::ExecutorRestarted,
                format!("the executor was restarted or shut down; worker process {pid} was killed"),
            )
        }
        None => {}
    }
    match response {
        Some(Response::Ok) => Outcome::Success,
        Some(Response::Error { message }) => Outcome::Failure(FailureKind::Error, message),
        Some(Response::Panic { message }) => Outcome::Failure(FailureKind::Panic, message),
        Some(Response::Refused { message }) => Outcome::Failure(
            FailureKind::Error,
            format!("worker process {pid} could not run the job: {message}"),
        ),
        None => {
            let tail = if stderr_tail.is_empty() {
                String::new()
            } else {
                format!("; the end of its stderr: {stderr_tail}")
            };
            Outcome::Failure(
                FailureKind::Crash,
                format!("worker process {pid} {how} without a result{tail}"),
            )
        }
    }
}

/// "exited with code 3", "was killed by signal 11 (SIGSEGV, a segmentation fault)".
pub(super) fn describe(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with code {code}");
    }
    let Some(sig) = status.signal() else {
        return format!("ended ({status})");
    };
    let name = match sig {
        1 => "SIGHUP",
        2 => "SIGINT",
        4 => "SIGILL, an illegal instruction",
        6 => "SIGABRT, aborted",
        7 => "SIGBUS, a bus error",
        8 => "SIGFPE, an arithmetic error",
        9 => "SIGKILL: killed from outside, for example by the OOM killer",
        11 => "SIGSEGV, a segmentation fault",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        _ => "a signal",
    };
    let core = if status.core_dumped() {
        ", core dumped"
    } else {
        ""
    };
    format!("was killed by signal {sig} ({name}{core})")
}
