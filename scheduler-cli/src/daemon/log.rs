//! The daemon's log: a `tracing` subscriber writing text or JSON lines to
//! stderr, and one line per run outcome (exit status, duration, lateness).
//! Each command's own stdout and stderr lines come from the process pool,
//! inside the run's span (job id, run id).

use chrono::Utc;
use scheduler::{Event, FailureKind};
use tokio::sync::mpsc;

use crate::args::LogFormat;

/// By default: `info`, but the library's own line for each run's outcome
/// only when it failed: the daemon logs every outcome itself ("run
/// succeeded" / "run failed"), so a success is one line, not two.
const DEFAULT_FILTER: &str = "info,scheduler::executor::outcome=warn";

/// Installs the subscriber (level from `RUST_LOG`, default [`DEFAULT_FILTER`]).
pub(crate) fn init(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.with_ansi(false).try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

/// A run that failed for good (no retry follows): for `on_failure`.
#[derive(Debug, Clone)]
pub(crate) struct Failed {
    pub(crate) job_id: String,
    pub(crate) run_id: u64,
    pub(crate) kind: FailureKind,
    pub(crate) error: String,
}

/// Logs the run events; final failures also go to `failures`.
pub(crate) fn listener(
    failures: mpsc::UnboundedSender<Failed>,
) -> impl Fn(&Event) + Send + 'static {
    move |e: &Event| match e {
        Event::JobExecuted {
            job_id,
            run_id,
            scheduled_at,
            attempt,
            duration,
            ..
        } => {
            let lateness = lateness_ms(*scheduled_at, *duration);
            tracing::info!(
                target: "scheduler::run",
                job_id = %job_id,
                run_id = run_id,
                attempt,
                scheduled_at = %rfc3339(*scheduled_at),
                duration_ms = duration.as_millis() as u64,
                lateness_ms = lateness,
                exit = "0",
                "run succeeded"
            );
        }
        Event::JobError {
            job_id,
            run_id,
            scheduled_at,
            attempt,
            kind,
            error,
            retry_at,
            ..
        } => {
            let exit = exit_status(*kind, error);
            match retry_at {
                Some(at) => tracing::warn!(
                    target: "scheduler::run",
                    job_id = %job_id,
                    run_id = run_id,
                    attempt,
                    scheduled_at = %rfc3339(*scheduled_at),
                    exit = %exit,
                    kind = ?kind,
                    retry_at = %at,
                    "run failed, will retry: {error}"
                ),
                None => {
                    tracing::error!(
                        target: "scheduler::run",
                        job_id = %job_id,
                        run_id = run_id,
                        attempt,
                        scheduled_at = %rfc3339(*scheduled_at),
                        exit = %exit,
                        kind = ?kind,
                        "run failed: {error}"
                    );
                    // A run stopped by the daemon (replaced, drained) did not fail.
                    let stopped = matches!(
                        kind,
                        FailureKind::Cancelled | FailureKind::ExecutorRestarted
                    );
                    if !stopped {
                        let _ = failures.send(Failed {
                            job_id: job_id.to_string(),
                            run_id: *run_id,
                            kind: *kind,
                            error: error.clone(),
                        });
                    }
                }
            }
        }
        Event::JobMissed {
            job_id,
            scheduled_at,
            count,
        } => tracing::warn!(
            target: "scheduler::run",
            job_id = %job_id,
            scheduled_at = %rfc3339(*scheduled_at),
            count,
            "missed: later than its misfire grace (catch_up = \"none\")"
        ),
        Event::JobMaxInstances {
            job_id,
            scheduled_at,
        } => tracing::warn!(
            target: "scheduler::run",
            job_id = %job_id,
            scheduled_at = %rfc3339(*scheduled_at),
            "skipped: the previous run still runs (overlap policy)"
        ),
        Event::RunAbandoned {
            job_id,
            run_id,
            scheduled_at,
            node,
        } => tracing::warn!(
            target: "scheduler::run",
            job_id = %job_id,
            run_id = run_id,
            scheduled_at = %rfc3339(*scheduled_at),
            node = %node,
            "abandoned: the daemon running it stopped renewing its lease (it died)"
        ),
        Event::StoreUnavailable { error, .. } => {
            tracing::error!(target: "scheduler::state", "state file unavailable: {error}")
        }
        Event::StoreAvailable { .. } => {
            tracing::info!(target: "scheduler::state", "state file available again")
        }
        _ => {}
    }
}

/// An instant in RFC 3339, UTC, with a fraction only when it has one.
fn rfc3339(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// How late the run started, from its end and duration.
fn lateness_ms(scheduled_at: chrono::DateTime<Utc>, duration: std::time::Duration) -> i64 {
    let started = Utc::now() - chrono::Duration::from_std(duration).unwrap_or_default();
    (started - scheduled_at).num_milliseconds().max(0)
}

/// A short exit status for logs and `on_failure`: `3` for an exit code,
/// `signal 9`, `timeout`, or `cancelled`.
pub(crate) fn exit_status(kind: FailureKind, error: &str) -> String {
    match kind {
        FailureKind::Timeout => return "timeout".to_owned(),
        FailureKind::Cancelled | FailureKind::ExecutorRestarted => return "cancelled".to_owned(),
        _ => {}
    }
    if let Some(code) = after(error, "exited with code ") {
        return code;
    }
    if let Some(sig) = after(error, "killed by signal ") {
        return format!("signal {sig}");
    }
    "error".to_owned()
}

/// The number after `marker` in `text`.
fn after(text: &str, marker: &str) -> Option<String> {
    let rest = &text[text.find(marker)? + marker.len()..];
    let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
    (!n.is_empty()).then_some(n)
}

/// The end of the command's stderr quoted in a failure, if any.
pub(crate) fn stderr_tail(error: &str) -> &str {
    const MARK: &str = "the end of its stderr: ";
    error.find(MARK).map_or("", |i| &error[i + MARK.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_statuses_and_stderr_tails_are_read_from_failures() {
        let e = "the command exited with code 3; the end of its stderr: disk full";
        assert_eq!(exit_status(FailureKind::Error, e), "3");
        assert_eq!(stderr_tail(e), "disk full");
        let e = "the command was killed by signal 9 (SIGKILL: ...)";
        assert_eq!(exit_status(FailureKind::Crash, e), "signal 9");
        assert_eq!(stderr_tail(e), "");
        assert_eq!(exit_status(FailureKind::Timeout, "timed out"), "timeout");
    }
}
