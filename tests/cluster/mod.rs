//! Scheduler processes on a durable store (`store_node`), for the tests
//! that kill, stop and restart nodes.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use scheduler::stores::JobRecord;
use scheduler::trigger::Trigger;
use scheduler::JobOptions;

pub(crate) const NODE: &str = env!("CARGO_BIN_EXE_store_node");

/// A running `store_node` and what it printed.
pub(crate) struct Node {
    pub(crate) id: String,
    pub(crate) child: Child,
    pub(crate) lines: Arc<Mutex<Vec<String>>>,
}

impl Node {
    /// Starts a node with `args` and waits (at most 30 s) until it is ready.
    pub(crate) fn start(id: &str, args: &[&str]) -> Node {
        let mut child = Command::new(NODE)
            .arg("--node")
            .arg(id)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("store_node starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        if let Some(out) = child.stdout.take() {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    if let Ok(mut l) = lines.lock() {
                        l.push(line);
                    }
                }
            });
        }
        let node = Node {
            id: id.to_owned(),
            child,
            lines,
        };
        node.wait_for("ready", Duration::from_secs(30));
        node
    }

    /// Waits for a printed line containing `what`; panics after `within`.
    pub(crate) fn wait_for(&self, what: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            if let Some(l) = self.lines().into_iter().find(|l| l.contains(what)) {
                return l;
            }
            assert!(
                Instant::now() < deadline,
                "node {} printed no `{what}` within {within:?}; printed: {:#?}",
                self.id,
                self.lines()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn lines(&self) -> Vec<String> {
        self.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub(crate) fn signal(&self, sig: rustix::process::Signal) {
        if let Some(pid) = rustix::process::Pid::from_raw(self.child.id() as i32) {
            let _ = rustix::process::kill_process(pid, sig);
        }
    }

    /// SIGTERM, then waits (at most 30 s) for a graceful exit.
    pub(crate) fn stop(mut self) {
        self.signal(rustix::process::Signal::TERM);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "node {} exited with {status}", self.id);
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        panic!("node {} did not shut down within 30 s of SIGTERM", self.id);
    }

    /// SIGKILL, and reaps it.
    pub(crate) fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A job of `function` with `args`, due at `at`, with no misfire grace limit.
pub(crate) fn job(
    id: &str,
    function: &str,
    args: serde_json::Value,
    trigger: Trigger,
    at: DateTime<Utc>,
) -> JobRecord {
    let options: JobOptions =
        serde_json::from_value(serde_json::json!({ "misfire_grace_time": null }))
            .unwrap_or_default();
    JobRecord {
        id: id.to_owned(),
        name: None,
        function: function.to_owned(),
        args,
        trigger,
        options,
        next_run_time: Some(at),
        static_job: false,
        running: 0,
    }
}

/// The same with options set from JSON (`{"recover": true}`...).
pub(crate) fn with_options(mut job: JobRecord, options: serde_json::Value) -> JobRecord {
    let mut all = serde_json::to_value(&job.options).unwrap_or_default();
    if let (Some(all), Some(more)) = (all.as_object_mut(), options.as_object()) {
        for (k, v) in more {
            all.insert(k.clone(), v.clone());
        }
    }
    job.options = serde_json::from_value(all).unwrap_or_default();
    job
}
