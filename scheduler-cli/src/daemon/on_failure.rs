//! A job's `on_failure` command, started when a run failed for good (not
//! when the daemon stopped it: replaced by a newer run, or drained), with
//! what failed in its environment: `SCHEDULER_JOB_ID`, `SCHEDULER_RUN_ID`,
//! `SCHEDULER_EXIT_STATUS` (an exit code, `signal N`, `timeout` or
//! `cancelled`), `SCHEDULER_ERROR` and `SCHEDULER_STDERR_TAIL`.

use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::config::Config;
use crate::daemon::log::{exit_status, stderr_tail, Failed};

/// How long an `on_failure` command may run.
const LIMIT: Duration = Duration::from_secs(300);

static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// Starts the `on_failure` command of the failed run's job, if it has one.
pub(super) fn spawn(config: &Config, failed: Failed) {
    let Some(job) = config.jobs.iter().find(|j| j.id == failed.job_id) else {
        return;
    };
    let Some(spec) = &job.on_failure else {
        return;
    };
    let mut cmd = tokio::process::Command::new(spec.program());
    cmd.args(spec.arguments())
        .envs(job.command.environment())
        .env("SCHEDULER_JOB_ID", &failed.job_id)
        .env("SCHEDULER_RUN_ID", failed.run_id.to_string())
        .env(
            "SCHEDULER_EXIT_STATUS",
            exit_status(failed.kind, &failed.error),
        )
        .env("SCHEDULER_ERROR", &failed.error)
        .env("SCHEDULER_STDERR_TAIL", stderr_tail(&failed.error))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    if let Some(dir) = job.command.working_dir() {
        cmd.current_dir(dir);
    }
    let job_id = failed.job_id.clone();
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(target: "scheduler::on_failure", job_id = %job_id, "could not start on_failure `{spec}`: {e}");
            return;
        }
    };
    RUNNING.fetch_add(1, Ordering::SeqCst);
    let out = child.stdout.take();
    let err = child.stderr.take();
    actix_rt::spawn(async move {
        let lines = |r: Option<_>, id: String| async move {
            let Some(r) = r else { return };
            let mut lines = BufReader::new(r).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                tracing::info!(target: "scheduler::on_failure", job_id = %id, "{line}");
            }
        };
        let out = actix_rt::spawn(lines(
            out.map(|o| Box::new(o) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
            job_id.clone(),
        ));
        let err = actix_rt::spawn(lines(
            err.map(|e| Box::new(e) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
            job_id.clone(),
        ));
        match tokio::time::timeout(LIMIT, child.wait()).await {
            Ok(Ok(status)) if status.success() => {
                tracing::info!(target: "scheduler::on_failure", job_id = %job_id, "on_failure command done")
            }
            Ok(Ok(status)) => {
                tracing::warn!(target: "scheduler::on_failure", job_id = %job_id, "on_failure command failed: {status}")
            }
            Ok(Err(e)) => {
                tracing::warn!(target: "scheduler::on_failure", job_id = %job_id, "on_failure command: {e}")
            }
            Err(_) => {
                // The whole group, as for a job's own timeout.
                if let Some(group) = child
                    .id()
                    .and_then(|p| i32::try_from(p).ok())
                    .and_then(rustix::process::Pid::from_raw)
                {
                    let _ =
                        rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
                }
                let _ = child.kill().await;
                tracing::warn!(target: "scheduler::on_failure", job_id = %job_id, "on_failure command killed after {}s", LIMIT.as_secs());
            }
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            let _ = out.await;
            let _ = err.await;
        })
        .await;
        RUNNING.fetch_sub(1, Ordering::SeqCst);
    });
}

/// At shutdown: waits (at most `limit`) for `on_failure` commands to end.
pub(super) async fn wait_all(limit: Duration) {
    let until = tokio::time::Instant::now() + limit;
    while RUNNING.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
