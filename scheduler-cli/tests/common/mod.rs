//! The real `scheduler` binary in a temporary directory: started with a
//! config, its JSON log read line by line, signalled, waited for.

#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_scheduler");

/// How long a test waits for something the daemon must do.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A fresh directory under the system's temporary directory.
pub fn temp_dir(name: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("scheduler-cli-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Runs `scheduler ARGS` to its end.
pub fn scheduler(args: &[&str], dir: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("scheduler runs")
}

/// Runs `scheduler ARGS` in `dir`, which must succeed; its stdout.
pub fn stdout_of(args: &[&str], dir: &Path) -> String {
    let out = scheduler(args, dir);
    assert!(
        out.status.success(),
        "scheduler {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The log lines read so far, and a wake-up for waiters.
type Log = Arc<(Mutex<Vec<Value>>, Condvar)>;

/// A running `scheduler run`.
pub struct Daemon {
    pub child: Child,
    log: Log,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Daemon {
    /// `scheduler run CONFIG --log-format json [extra]` in `dir`.
    pub fn start(dir: &Path, config: &str, extra: &[&str]) -> Daemon {
        Daemon::start_with(dir, config, extra, &[])
    }

    /// Like [`Daemon::start`], with more environment variables.
    pub fn start_with(dir: &Path, config: &str, extra: &[&str], env: &[(&str, &str)]) -> Daemon {
        Daemon::launch(&[], dir, config, extra, env)
    }

    /// Like [`Daemon::start`], run by `wrapper` (a program and its
    /// arguments, before the daemon's path: `prlimit --nofile=...`).
    pub fn start_under(wrapper: &[&str], dir: &Path, config: &str) -> Daemon {
        Daemon::launch(wrapper, dir, config, &[], &[])
    }

    fn launch(
        wrapper: &[&str],
        dir: &Path,
        config: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Daemon {
        let mut command = match wrapper.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(BIN);
                c
            }
            None => Command::new(BIN),
        };
        let mut child = command
            .arg("run")
            .arg(config)
            .args(["--log-format", "json"])
            .args(extra)
            .current_dir(dir)
            .env("RUST_LOG", "info")
            .env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC")
            .env_remove("WATCHDOG_PID")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("scheduler run starts");
        let stderr = child.stderr.take().expect("stderr");
        let log: Log = Arc::default();
        let sink = log.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let value = serde_json::from_str(&line)
                    .unwrap_or_else(|_| serde_json::json!({ "message": line, "raw": true }));
                let (lines, cv) = &*sink;
                lines.lock().expect("log").push(value);
                cv.notify_all();
            }
        });
        Daemon {
            child,
            log,
            reader: Some(reader),
        }
    }

    /// Every log line so far.
    pub fn lines(&self) -> Vec<Value> {
        self.log.0.lock().expect("log").clone()
    }

    /// The lines matching `pred`.
    pub fn matching(&self, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
        self.lines().into_iter().filter(|l| pred(l)).collect()
    }

    /// Waits until `n` lines match `pred`; returns them.
    pub fn wait_for_n(&self, what: &str, n: usize, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + PATIENCE;
        let (lines, cv) = &*self.log;
        let mut guard = lines.lock().expect("log");
        loop {
            let found: Vec<Value> = guard.iter().filter(|l| pred(l)).cloned().collect();
            if found.len() >= n {
                return found;
            }
            let now = Instant::now();
            assert!(
                now < deadline,
                "waited {PATIENCE:?} for {n} x {what}; the log:\n{}",
                guard
                    .iter()
                    .map(Value::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            guard = cv.wait_timeout(guard, deadline - now).expect("log").0;
        }
    }

    /// Waits for one line matching `pred`.
    pub fn wait_for(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.wait_for_n(what, 1, pred).remove(0)
    }

    /// Sends `signal` to the daemon.
    pub fn signal(&self, signal: rustix::process::Signal) {
        let pid = rustix::process::Pid::from_child(&self.child);
        rustix::process::kill_process(pid, signal).expect("signal sent");
    }

    /// Waits (at most `PATIENCE`) for the daemon to exit.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                if let Some(r) = self.reader.take() {
                    let _ = r.join();
                }
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the daemon did not exit; log: {:?}",
                self.lines()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGTERM, and waits for a clean exit.
    pub fn stop(mut self) -> Vec<Value> {
        self.signal(rustix::process::Signal::TERM);
        let status = self.wait_exit();
        assert!(
            status.success(),
            "the daemon exited with {status}; log: {:?}",
            self.lines()
        );
        self.lines()
    }
}

impl Drop for Daemon {
    /// A daemon left by a failed test drains (its commands' groups get
    /// SIGTERM), or is killed after 5 s.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.signal(rustix::process::Signal::TERM);
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The log's `message`.
pub fn message(l: &Value) -> &str {
    l["message"].as_str().unwrap_or("")
}

/// A "run succeeded" / "run failed" line of `job`.
pub fn outcome_of<'a>(job: &'a str, what: &'a str) -> impl Fn(&Value) -> bool + 'a {
    move |l| l["target"] == "scheduler::run" && l["job_id"] == job && message(l).starts_with(what)
}

/// The daemon is ready (its jobs are scheduled).
pub fn ready(l: &Value) -> bool {
    l["target"] == "scheduler::daemon" && message(l) == "ready"
}

/// Whether `pid` still runs (a zombie has ended).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => false,
    }
}

/// Waits for a file to hold at least `n` lines; returns them.
pub fn file_lines(path: &Path, n: usize) -> Vec<String> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let lines: Vec<String> = std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect();
        if lines.len() >= n {
            return lines;
        }
        assert!(
            Instant::now() < deadline,
            "{} has {lines:?}, not {n} lines",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
