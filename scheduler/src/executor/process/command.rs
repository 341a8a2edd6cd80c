//! One run of a command ([`crate::CommandSpec`]): start it in a process
//! group of its own, pass its output to `tracing`, stop the whole group at
//! the deadline, and tell how it ended.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use rustix::process::{kill_process_group, test_kill_process_group, Pid, Signal};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::event::FailureKind;
use crate::executor::process::child::{describe, stop_signal, Output, Stop, TRAIL};
use crate::executor::run;
use crate::executor::tick::{Env, Outcome, Tick};
use crate::job::command::CommandSpec;

/// How often a stopped group is checked for members left behind.
const GROUP_POLL: Duration = Duration::from_millis(20);

/// Runs the command of `tick` (its serialised [`CommandSpec`] in `args`).
pub(super) async fn execute(
    tick: &Tick,
    env: &Env,
    args: &serde_json::Value,
    kill: &CancellationToken,
    replaced: Option<&CancellationToken>,
    span: &tracing::Span,
) -> Outcome {
    let spec = match CommandSpec::deserialize(args) {
        Ok(s) => s,
        Err(e) => {
            return Outcome::Failure(FailureKind::Error, format!("not a valid command: {e}"));
        }
    };
    let mut command = tokio::process::Command::new(spec.program());
    command
        .args(spec.arguments())
        .envs(spec.environment())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own group: a timeout or shutdown stops the command with every
        // process it started, and a Ctrl-C at the terminal is ours to handle.
        .process_group(0)
        .kill_on_drop(true);
    if let Some(dir) = spec.working_dir() {
        command.current_dir(dir);
    }
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            let dir = spec
                .working_dir()
                .map(|d| format!(" in `{}`", d.display()))
                .unwrap_or_default();
            return Outcome::Failure(
                FailureKind::Error,
                format!("could not start `{}`{dir}: {e}", spec.program()),
            );
        }
    };
    let pid = child.id().unwrap_or(0);
    let group = i32::try_from(pid).ok().and_then(Pid::from_raw);
    tracing::debug!(pid, command = %spec, "command started");
    let output = Output::capture(&mut child, span);
    let (status, stopped) = tokio::select! {
        status = child.wait() => (status, None),
        why = stop_signal(tick, env, kill, replaced) => {
            (stop_group(&mut child, group, why, env.grace, kill).await, Some(why))
        }
    };
    // Output held open by a process left in the background is not waited for.
    let tail = output.finish(tokio::time::Instant::now() + TRAIL).await;
    match status {
        Ok(status) => outcome(tick, pid, status, stopped, &tail),
        Err(e) => Outcome::Failure(
            FailureKind::Crash,
            format!("could not wait for process {pid}: {e}"),
        ),
    }
}

/// SIGTERM to the group, then SIGKILL to whatever of it is left after the
/// grace (at once for a restart of the executor, or when it stops meanwhile).
async fn stop_group(
    child: &mut tokio::process::Child,
    group: Option<Pid>,
    why: Stop,
    grace: Duration,
    kill: &CancellationToken,
) -> std::io::Result<ExitStatus> {
    let Some(group) = group else {
        child.kill().await?;
        return child.wait().await;
    };
    if why != Stop::Restart {
        let _ = kill_process_group(group, Signal::TERM);
        let gone = async {
            let status = child.wait().await;
            // The leader is gone; its group may not be.
            while test_kill_process_group(group).is_ok() {
                tokio::time::sleep(GROUP_POLL).await;
            }
            status
        };
        tokio::select! {
            status = gone => return status,
            () = tokio::time::sleep(grace) => {
                tracing::warn!(pgid = group.as_raw_nonzero().get(), "the command's process group did not stop within the grace after SIGTERM; SIGKILL");
            }
            () = kill.cancelled() => {}
        }
    }
    let _ = kill_process_group(group, Signal::KILL);
    child.wait().await
}

/// How the command ended.
fn outcome(
    tick: &Tick,
    pid: u32,
    status: ExitStatus,
    stopped: Option<Stop>,
    stderr_tail: &str,
) -> Outcome {
    let how = describe(status);
    let tail = if stderr_tail.is_empty() {
        String::new()
    } else {
        format!("; the end of its stderr: {stderr_tail}")
    };
    match stopped {
        Some(Stop::Timeout) => Outcome::Failure(
            FailureKind::Timeout,
            format!(
                "timed out after {}; the process group of {pid} was stopped (the command {how})",
                run::humantime(tick.timeout)
            ),
        ),
        Some(Stop::Shutdown) => Outcome::Failure(
            FailureKind::Cancelled,
            format!("stopped at the shutdown deadline; the command (process {pid}) {how}"),
        ),
        Some(Stop::Replaced) => Outcome::Failure(
            FailureKind::Cancelled,
            format!("replaced by a newer run; the command (process {pid}) {how}"),
        ),
        Some(Stop::Restart) => Outcome::Failure(
            FailureKind::ExecutorRestarted,
            format!("the executor was restarted or shut down; process group {pid} was killed"),
        ),
        None if status.success() => Outcome::Success,
        None if status.code().is_some() => {
            Outcome::Failure(FailureKind::Error, format!("the command {how}{tail}"))
        }
        None => Outcome::Failure(FailureKind::Crash, format!("the command {how}{tail}")),
    }
}
