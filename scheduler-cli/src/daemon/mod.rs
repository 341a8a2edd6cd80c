//! `scheduler run`: the daemon. It reads the config, opens the SQLite state
//! file, makes the scheduler's jobs match the config (`sync`), and runs
//! until SIGTERM or SIGINT: then every running command's process group gets
//! SIGTERM and `[daemon] grace` to end before SIGKILL. SIGHUP reloads the
//! config; a config with problems is refused (its problems logged) and the
//! one in force stays. Under systemd (`NOTIFY_SOCKET` set) it reports
//! readiness, reloads and stopping, and keeps the watchdog fed while the
//! scheduler answers.

mod clock;
#[cfg(feature = "http")]
mod http;
mod limits;
mod log;
mod notify;
mod on_failure;
mod sync;

use std::process::ExitCode;
use std::time::Duration;

use scheduler::{EventMask, Executor, Scheduler, SqliteStore};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

use crate::args::RunOptions;
use crate::config::{self, Config};

/// How far ahead of their fire times runs are claimed from the state file:
/// a busy daemon claims a window of runs at once and starts each from
/// memory on time, rather than paying a transaction per fire time.
const CLAIM_AHEAD: Duration = Duration::from_millis(250);

/// Runs the daemon until a stop signal; exit code 1 if it cannot start.
pub(crate) fn run(opts: &RunOptions) -> ExitCode {
    log::init(opts.log_format);
    let config = match config::load(&opts.config) {
        Ok(c) => c,
        Err(problems) => {
            for p in &problems {
                tracing::error!(target: "scheduler::config", "{p}");
            }
            tracing::error!(
                target: "scheduler::config",
                "{}: {} problem(s); not started",
                opts.config.display(),
                problems.len()
            );
            return ExitCode::from(1);
        }
    };
    limits::ensure_open_files(config.daemon.max_parallel);
    let system = actix_rt::System::new();
    match system.block_on(serve(opts, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(target: "scheduler::daemon", "{e}");
            ExitCode::from(1)
        }
    }
}

async fn serve(opts: &RunOptions, mut config: Config) -> Result<(), String> {
    // Before anything can be reported ready: a signal then is ours to handle.
    let signals = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
    );
    let (Ok(mut term), Ok(mut int), Ok(mut hup)) = signals else {
        return Err("could not listen for SIGTERM, SIGINT and SIGHUP".to_owned());
    };
    let state = opts.state_path();
    let (failures_tx, mut failures) = mpsc::unbounded_channel();
    let mask = EventMask::JOB_EXECUTED
        | EventMask::JOB_ERROR
        | EventMask::JOB_MISSED
        | EventMask::JOB_MAX_INSTANCES
        | EventMask::RUN_ABANDONED
        | EventMask::STORE_UNAVAILABLE
        | EventMask::STORE_AVAILABLE;
    let sched = Scheduler::builder()
        .executor(
            "default",
            Executor::process_pool(config.daemon.max_parallel),
        )
        .store(SqliteStore::open(&state))
        .run_history(Some(config.daemon.history))
        .stop_grace(config.daemon.grace)
        .clock(clock::TimerClock)
        .claim_ahead(CLAIM_AHEAD)
        .without_registered_jobs()
        .listener(mask, log::listener(failures_tx))
        .start()
        .map_err(|e| format!("could not start the scheduler on {}: {e}", state.display()))?;
    // Nothing runs from the state file until it matches the config: a job
    // removed or changed while the daemon was down must not run as it was.
    let applied = async {
        sched.pause().await?;
        let changes = sync::apply(&sched, &config, true).await?;
        sched.resume().await?;
        Ok::<_, scheduler::Error>(changes)
    };
    let changes = match applied.await {
        Ok(c) => c,
        Err(e) => {
            let _ = sched.shutdown(false).await;
            return Err(format!("could not apply {}: {e}", opts.config.display()));
        }
    };
    tracing::info!(
        target: "scheduler::daemon",
        config = %opts.config.display(),
        state = %state.display(),
        jobs = config.jobs.len(),
        added = changes.added.len(),
        updated = changes.updated.len(),
        removed = changes.removed.len(),
        finished = changes.finished.len(),
        pid = std::process::id(),
        "ready"
    );
    #[cfg(feature = "http")]
    let server = match &opts.http {
        Some(addr) => match http::start(addr, &sched) {
            Ok(handle) => {
                tracing::info!(target: "scheduler::daemon", addr = %addr, "serving /healthz, the dashboard at / and /metrics");
                Some(handle)
            }
            Err(e) => {
                let _ = sched.shutdown(false).await;
                return Err(format!("--http {addr}: {e}"));
            }
        },
        None => None,
    };
    notify::ready(config.jobs.len());
    let mut watchdog = notify::watchdog_interval().map(tokio::time::interval);
    let stop = loop {
        let beat = async {
            match watchdog.as_mut() {
                Some(w) => w.tick().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = term.recv() => break "SIGTERM",
            _ = int.recv() => break "SIGINT",
            _ = hup.recv() => reload(&sched, opts, &mut config).await,
            Some(failed) = failures.recv() => on_failure::spawn(&config, failed),
            _ = beat => {
                // Fed only while the scheduler answers.
                if sched.wakeup().await.is_ok() {
                    notify::watchdog();
                }
            }
            () = sched.stopped() => return Err("the scheduler stopped on its own".to_owned()),
        }
    };
    // Running runs are among the newest in the history.
    let running = sched
        .runs(None, config.daemon.max_parallel + 1000)
        .await
        .map(|runs| {
            runs.iter()
                .filter(|r| r.status == scheduler::stores::RunStatus::Running)
                .count()
        })
        .unwrap_or(0);
    tracing::info!(
        target: "scheduler::daemon",
        signal = stop,
        running,
        grace_s = config.daemon.grace.as_secs_f64(),
        "stopping: running commands get SIGTERM, and SIGKILL after the grace"
    );
    notify::stopping();
    sched
        .shutdown_with_deadline(Duration::ZERO)
        .await
        .map_err(|e| format!("shutdown: {e}"))?;
    #[cfg(feature = "http")]
    if let Some(server) = server {
        server.stop(true).await;
    }
    // What failed while draining still gets its on_failure command.
    while let Ok(failed) = failures.try_recv() {
        on_failure::spawn(&config, failed);
    }
    on_failure::wait_all(config.daemon.grace).await;
    tracing::info!(target: "scheduler::daemon", "stopped");
    Ok(())
}

/// SIGHUP: reads the config again; applies it if it has no problems.
async fn reload(sched: &Scheduler, opts: &RunOptions, config: &mut Config) {
    notify::reloading();
    match config::load(&opts.config) {
        Err(problems) => {
            for p in &problems {
                tracing::error!(target: "scheduler::config", "{p}");
            }
            tracing::error!(
                target: "scheduler::config",
                problems = problems.len(),
                "reload refused: {} has problems; the config loaded before stays in force",
                opts.config.display()
            );
        }
        Ok(new) => {
            if new.daemon != config.daemon {
                tracing::warn!(
                    target: "scheduler::config",
                    "[daemon] settings changed; they take effect at the next start"
                );
            }
            match sync::apply(sched, &new, false).await {
                Ok(c) => {
                    tracing::info!(
                        target: "scheduler::config",
                        added = ?c.added,
                        updated = ?c.updated,
                        removed = ?c.removed,
                        finished = ?c.finished,
                        unchanged = c.unchanged,
                        "reloaded"
                    );
                    let daemon = config.daemon.clone();
                    *config = Config { daemon, ..new };
                }
                Err(e) => tracing::error!(
                    target: "scheduler::config",
                    "reload failed part way: {e}; jobs changed before the failure stay changed"
                ),
            }
        }
    }
    notify::ready(config.jobs.len());
}
