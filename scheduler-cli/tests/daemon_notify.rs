//! `scheduler run` under systemd's notify protocol: readiness once the jobs
//! are scheduled, reloading and ready again on SIGHUP, the watchdog fed,
//! stopping on SIGTERM. The test plays the service manager's socket.

mod common;

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use common::{temp_dir, Daemon};
use rustix::process::Signal;

/// Reads datagrams until one contains `needle`; returns it.
fn receive(sock: &UnixDatagram, needle: &str, seen: &mut Vec<String>) -> String {
    let deadline = Instant::now() + common::PATIENCE;
    let mut buf = [0u8; 4096];
    loop {
        assert!(Instant::now() < deadline, "no `{needle}` among {seen:?}");
        let Ok(n) = sock.recv(&mut buf) else { continue };
        let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
        seen.push(msg.clone());
        if msg.lines().any(|l| l == needle) {
            return msg;
        }
    }
}

#[test]
fn readiness_reload_watchdog_and_stopping_reach_the_service_manager() {
    let dir = temp_dir("notify");
    std::fs::write(
        dir.join("jobs.toml"),
        "[jobs.a]\ncommand = \"true\"\ninterval = \"1h\"\n",
    )
    .expect("config");
    let path = dir.join("notify.sock");
    let sock = UnixDatagram::bind(&path).expect("socket");
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let socket = path.to_string_lossy().into_owned();
    let mut seen = Vec::new();
    let mut d = Daemon::start_with(
        &dir,
        "jobs.toml",
        &[],
        &[("NOTIFY_SOCKET", &socket), ("WATCHDOG_USEC", "400000")],
    );
    let ready = receive(&sock, "READY=1", &mut seen);
    assert!(ready.contains("STATUS=1 job(s) scheduled"), "{ready}");
    receive(&sock, "WATCHDOG=1", &mut seen);
    d.signal(Signal::HUP);
    let reloading = receive(&sock, "RELOADING=1", &mut seen);
    assert!(reloading.contains("MONOTONIC_USEC="), "{reloading}");
    receive(&sock, "READY=1", &mut seen);
    d.signal(Signal::TERM);
    receive(&sock, "STOPPING=1", &mut seen);
    assert!(d.wait_exit().success());
}
