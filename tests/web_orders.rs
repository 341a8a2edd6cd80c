//! The actix-web orders example end to end, as the real program: orders
//! placed and paid over HTTP, a restart that keeps the pending
//! cancellations, and SIGTERM while a cancellation runs (it finishes,
//! `SchedulerShutdown` is emitted, the process exits 0).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tests::net::{free_port, Lines};

use serde_json::Value;

/// The example, running, with its stdout lines on a channel.
struct App {
    child: Child,
    addr: String,
    lines: Lines,
}

impl App {
    fn start(dir: &Path, window_secs: f64, work_ms: u64) -> App {
        let addr = format!("127.0.0.1:{}", free_port());
        let mut child = Command::new(env!("CARGO_BIN_EXE_actix_web_orders"))
            .env("ORDERS_DIR", dir)
            .env("ORDERS_ADDR", &addr)
            .env("PAYMENT_WINDOW_SECS", window_secs.to_string())
            .env("CANCEL_WORK_MS", work_ms.to_string())
            .env_remove("SCHEDULER_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the example starts");
        let lines = Lines::new(child.stdout.take().expect("stdout"));
        let mut app = App { child, addr, lines };
        app.wait_for_line("listening on");
        app
    }

    /// Waits (at most 30 s) for a stdout line containing `needle`.
    fn wait_for_line(&mut self, needle: &str) -> String {
        let i = self.lines.wait_for(needle, 0);
        self.lines.seen[i].clone()
    }

    fn request(&self, method: &str, path: &str) -> (u16, Value) {
        let mut stream = TcpStream::connect(&self.addr).expect("connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .expect("request sent");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("response read");
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status in {response:?}"));
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or("");
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    }

    /// GETs `path` until `done` holds for its body (at most 30 s): what a
    /// job logs comes before its run is recorded as finished.
    fn get_until(&self, path: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (_, body) = self.request("GET", path);
            if done(&body) {
                return body;
            }
            assert!(Instant::now() < deadline, "GET {path} stayed {body}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn terminate(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).expect("a pid");
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("SIGTERM sent");
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "the example did not exit within 30 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        self.lines.drain(5);
        (status, std::mem::take(&mut self.lines.seen))
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("scheduler-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn orders_are_cancelled_unless_paid_even_across_a_restart() {
    let dir = temp_dir("web-orders");
    let app = App::start(&dir, 4.0, 10);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (status, order) = app.request("POST", "/orders");
        assert_eq!(status, 201, "{order}");
        assert_eq!(order["status"], "pending");
        ids.push(order["id"].as_i64().expect("an id"));
    }
    let (status, paid) = app.request("POST", &format!("/orders/{}/pay", ids[0]));
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["status"], "paid");
    let (status, again) = app.request("POST", &format!("/orders/{}/pay", ids[0]));
    assert_eq!(status, 409, "{again}");
    let (_, jobs) = app.request("GET", "/scheduler/api/jobs");
    assert_eq!(jobs["total"], 2, "{jobs}");
    let (status, _) = app.request("GET", "/orders/999");
    assert_eq!(status, 404);
    // Stopped before any cancellation is due.
    let (status, _) = app.terminate();
    assert!(status.success(), "{status}");

    let mut app = App::start(&dir, 4.0, 10);
    let line = app.wait_for_line("listening on");
    assert!(line.contains("2 pending cancellation(s)"), "{line}");
    for id in &ids[1..] {
        app.wait_for_line(&format!("order {id} cancelled"));
    }
    for (id, status) in [
        (ids[0], "paid"),
        (ids[1], "cancelled"),
        (ids[2], "cancelled"),
    ] {
        let (code, order) = app.request("GET", &format!("/orders/{id}"));
        assert_eq!(code, 200);
        assert_eq!(order["status"], status, "order {id}");
    }
    let jobs = app.get_until("/scheduler/api/jobs", |j| j["total"] == 0);
    assert_eq!(jobs["total"], 0, "{jobs}");
    let runs = app.get_until("/scheduler/api/runs?outcome=success", |r| {
        r.as_array().map(Vec::len) == Some(2)
    });
    assert_eq!(runs.as_array().map(Vec::len), Some(2), "{runs}");
    let (status, _) = app.terminate();
    assert!(status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sigterm_lets_a_running_job_finish_and_exits_zero() {
    let dir = temp_dir("web-sigterm");
    let mut app = App::start(&dir, 0.2, 3000);
    let (status, order) = app.request("POST", "/orders");
    assert_eq!(status, 201);
    let id = order["id"].as_i64().expect("an id");
    app.wait_for_line(&format!("cancelling order {id}"));
    let (status, lines) = app.terminate();
    assert!(status.success(), "exit status {status}; output {lines:?}");
    let cancelled = lines
        .iter()
        .position(|l| l.contains(&format!("order {id} cancelled")))
        .unwrap_or_else(|| panic!("the running job did not finish: {lines:?}"));
    let shut = lines
        .iter()
        .position(|l| l == "scheduler shut down")
        .unwrap_or_else(|| panic!("no SchedulerShutdown: {lines:?}"));
    assert!(cancelled < shut, "{lines:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
