//! systemd's notify protocol (`Type=notify` / `Type=notify-reload`), when
//! `NOTIFY_SOCKET` is set; nothing otherwise.

use std::time::Duration;

use sd_notify::NotifyState;

fn send(states: &[NotifyState<'_>]) {
    if std::env::var_os("NOTIFY_SOCKET").is_none() {
        return;
    }
    if let Err(e) = sd_notify::notify(false, states) {
        tracing::warn!(target: "scheduler::daemon", "could not notify the service manager: {e}");
    }
}

/// The jobs are scheduled.
pub(super) fn ready(jobs: usize) {
    let status = format!("{jobs} job(s) scheduled");
    send(&[NotifyState::Ready, NotifyState::Status(&status)]);
}

/// A SIGHUP reload began (`READY` follows).
pub(super) fn reloading() {
    match NotifyState::monotonic_usec_now() {
        Ok(now) => send(&[NotifyState::Reloading, now]),
        Err(_) => send(&[NotifyState::Reloading]),
    }
}

/// The drain began.
pub(super) fn stopping() {
    send(&[NotifyState::Stopping, NotifyState::Status("draining")]);
}

/// The watchdog keep-alive.
pub(super) fn watchdog() {
    send(&[NotifyState::Watchdog]);
}

/// How often to feed the watchdog (half its timeout), if the service
/// manager asks for it: `WATCHDOG_USEC` set, and `WATCHDOG_PID`, when set,
/// naming this process (as `sd_watchdog_enabled(3)` reads them).
pub(super) fn watchdog_interval() -> Option<Duration> {
    std::env::var_os("NOTIFY_SOCKET")?;
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    if let Ok(pid) = std::env::var("WATCHDOG_PID") {
        if pid.parse::<u32>().ok() != Some(std::process::id()) {
            return None;
        }
    }
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}
