//! `scheduler run --http`: health, the dashboard and the metrics.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{outcome_of, ready, temp_dir, Daemon};

/// `GET path` on `addr`: the status code and the body.
fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("response");
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (code, body)
}

#[test]
fn http_serves_health_the_dashboard_and_metrics() {
    let dir = temp_dir("http");
    std::fs::write(
        dir.join("jobs.toml"),
        "[jobs.tick]\ncommand = \"true\"\ncron = \"* * * * * *\"\n",
    )
    .expect("config");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let d = Daemon::start(&dir, "jobs.toml", &["--http", &addr]);
    d.wait_for("ready", ready);
    d.wait_for("a run", outcome_of("tick", "run succeeded"));
    let deadline = Instant::now() + common::PATIENCE;
    while TcpStream::connect(&addr).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {addr}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (code, body) = get(&addr, "/healthz");
    assert_eq!(code, 200, "{body}");
    let health: serde_json::Value = serde_json::from_str(body.trim()).expect("json");
    assert_eq!(health["status"], "ok");
    assert_eq!(health["jobs"], 1);
    let (code, body) = get(&addr, "/metrics");
    assert_eq!(code, 200);
    assert!(
        body.contains("scheduler_runs_total{job=\"tick\",outcome=\"success\"}"),
        "{body}"
    );
    let (code, body) = get(&addr, "/");
    assert_eq!(code, 200);
    assert!(body.contains("<html"), "{body}");
    let (code, _) = get(&addr, "/api/jobs/tick");
    assert_eq!(code, 200);
    d.stop();
}
