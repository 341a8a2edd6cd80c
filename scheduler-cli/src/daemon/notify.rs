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

/// How often to feed the watchdog (half its timeout), if systemd asks for it.
pub(super) fn watchdog_interval() -> Option<Duration> {
    let mut usec = 0;
    if sd_notify::watchdog_enabled(false, &mut usec) && usec > 0 {
        Some(Duration::from_micros(usec / 2))
    } else {
        None
    }
}
