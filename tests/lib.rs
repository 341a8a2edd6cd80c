//! Shared helpers for the workspace's integration tests.

use chrono::{DateTime, Utc};
use scheduler_triggers::{Trigger, Zone};

/// Parses an RFC 3339 instant; panics on a typo in a test.
pub fn at(s: &str) -> DateTime<Utc> {
    match scheduler_triggers::parse_instant(s) {
        Ok(t) => t,
        Err(e) => panic!("bad instant in test: {e}"),
    }
}

/// The next `n` fire times after `after`, shown with the zone's offset.
pub fn next_n(trigger: &Trigger, zone: Zone, after: &str, n: usize) -> Vec<String> {
    trigger
        .iter_after(at(after))
        .take(n)
        .map(|t| zone.localize(t).to_rfc3339())
        .collect()
}

pub mod harness {
    //! A scheduler on a [`TestClock`], and a way to wait for its events.

    use std::time::Duration;

    use chrono::{DateTime, Utc};
    use scheduler::{Event, EventStream, Scheduler, SchedulerBuilder, TestClock};
    use tokio_stream::StreamExt;

    /// The instant every harness clock starts at.
    pub fn t0() -> DateTime<Utc> {
        super::at("2026-01-01T00:00:00Z")
    }

    /// A background scheduler on a test clock, with an event subscription.
    pub struct Harness {
        /// The handle.
        pub sched: Scheduler,
        /// The clock the scheduler reads.
        pub clock: TestClock,
        /// Events since start.
        pub events: EventStream,
        /// Events read so far.
        pub seen: Vec<Event>,
    }

    /// Starts `builder` (registered jobs off) on a clock standing at [`t0`].
    pub fn start(builder: SchedulerBuilder) -> Harness {
        start_with(builder.without_registered_jobs())
    }

    /// Starts `builder` as it is on a clock standing at [`t0`], subscribed
    /// before start, so nothing that happens at start is missed.
    pub fn start_with(builder: SchedulerBuilder) -> Harness {
        start_on(builder, TestClock::new(t0()))
    }

    /// Starts `builder` as it is on another clock (the system's, a skewed
    /// one), subscribed before start; the harness's own `clock` is then not
    /// the scheduler's.
    pub fn start_on_clock(builder: SchedulerBuilder, clock: impl scheduler::Clock) -> Harness {
        let mut builder = builder.clock(clock);
        let events = builder.subscribe();
        let sched = builder.start_background().expect("scheduler starts");
        Harness {
            sched,
            clock: TestClock::new(t0()),
            events,
            seen: Vec::new(),
        }
    }

    /// Starts `builder` as it is on `clock` (one that went on from an
    /// earlier start, say), subscribed before start.
    pub fn start_on(builder: SchedulerBuilder, clock: TestClock) -> Harness {
        let mut builder = builder.clock(clock.clone());
        let events = builder.subscribe();
        let sched = builder.start_background().expect("scheduler starts");
        Harness {
            sched,
            clock,
            events,
            seen: Vec::new(),
        }
    }

    impl Harness {
        /// Waits (real time, at most 10 s) for an event matching `pred`; returns it.
        pub async fn expect(&mut self, what: &str, pred: impl Fn(&Event) -> bool) -> Event {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            loop {
                match tokio::time::timeout_at(deadline, self.events.next()).await {
                    Ok(Some(e)) => {
                        self.seen.push(e.clone());
                        if pred(&e) {
                            return e;
                        }
                    }
                    Ok(None) => panic!(
                        "event stream ended while waiting for {what}; seen: {:#?}",
                        self.seen
                    ),
                    Err(_) => panic!("no {what} within 10 s; seen: {:#?}", self.seen),
                }
            }
        }

        /// Collects the events that arrive until one matches `pred` (inclusive).
        pub async fn until(&mut self, what: &str, pred: impl Fn(&Event) -> bool) -> Vec<Event> {
            let start = self.seen.len();
            self.expect(what, pred).await;
            self.seen[start..].to_vec()
        }

        /// Moves the clock forward.
        pub fn advance(&self, secs: f64) {
            self.clock.advance(Duration::from_secs_f64(secs));
        }

        /// Shuts down and waits for it.
        pub async fn shutdown(self) {
            self.sched.shutdown(true).await.expect("shutdown");
        }
    }

    /// A scheduler started inside an actix `System` whose System is then
    /// stopped under it while job `job_id` runs (what actix-server does on
    /// SIGTERM); returns its handle once its actor is gone.
    pub fn stopped_under_a_running_job(job_id: &'static str) -> Scheduler {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let system = actix_rt::System::new();
            system.block_on(async move {
                let mut builder = Scheduler::builder().without_registered_jobs();
                let mut events = builder.subscribe();
                let sched = builder.start().expect("starts");
                sched
                    .add_job(scheduler::Target::from_async(|_ctx| {
                        std::future::pending::<()>()
                    }))
                    .id(job_id)
                    .await
                    .expect("added");
                while let Some(e) = events.next().await {
                    if matches!(e, Event::JobSubmitted { .. }) {
                        break;
                    }
                }
                tx.send(sched).expect("the test waits");
                actix_rt::System::current().stop();
            });
            let _ = system.run();
        });
        let sched = rx.recv().expect("the handle");
        thread.join().expect("the System thread ends");
        // The actor is dropped with its arbiter: `stopped()` resolves then.
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(sched.stopped());
        sched
    }

    /// Whether `e` is a `JobExecuted` of `job`.
    pub fn executed(job: &str) -> impl Fn(&Event) -> bool + '_ {
        move |e| matches!(e, Event::JobExecuted { job_id, .. } if &**job_id == job)
    }

    /// The kind and text of a failed run's event; panics on any other event.
    pub fn failure(e: &Event) -> (scheduler::FailureKind, String) {
        match e {
            Event::JobError { kind, error, .. } => (*kind, error.clone()),
            other => panic!("expected a failed run, got {other:?}"),
        }
    }

    /// Whether `e` is a `JobError` of `job`.
    pub fn failed(job: &str) -> impl Fn(&Event) -> bool + '_ {
        move |e| matches!(e, Event::JobError { job_id, .. } if &**job_id == job)
    }
}

pub mod procs {
    //! Looking at processes from the process-pool tests.

    use std::time::{Duration, Instant};

    /// Whether `pid` runs (a zombie has ended).
    pub fn alive(pid: u32) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            // The state follows the command name in parentheses.
            Ok(stat) => stat
                .rsplit_once(')')
                .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X'])),
            Err(_) => false,
        }
    }

    /// Waits (at most `secs`) until `pid` has ended; whether it did.
    pub fn ended_within(pid: u32, secs: u64) -> bool {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if !alive(pid) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        !alive(pid)
    }

    /// Waits (at most 10 s) for a job to write its pid to `path`.
    pub fn pid_in(path: &std::path::Path) -> u32 {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(pid) = std::fs::read_to_string(path)
                .ok()
                .and_then(|s| s.trim().parse().ok())
            {
                return pid;
            }
            assert!(
                Instant::now() < deadline,
                "no pid in {} within 10 s",
                path.display()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The live child processes of this process.
    pub fn children() -> Vec<u32> {
        let me = std::process::id();
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .ok()
                    .and_then(|s| {
                        let rest = s.rsplit_once(')')?.1.trim_start().to_owned();
                        let mut f = rest.split_whitespace();
                        let state = f.next()?.to_owned();
                        let ppid: u32 = f.next()?.parse().ok()?;
                        Some(ppid == me && state != "Z")
                    })
                    .unwrap_or(false)
            })
            .collect()
    }

    /// A file `name` in a fresh temporary directory, for a job to write its
    /// pid to: its path, and the path as a job argument.
    pub fn pid_file(name: &str) -> (std::path::PathBuf, String) {
        let path = temp_dir(name).join("pid");
        let arg = path.to_string_lossy().into_owned();
        (path, arg)
    }

    /// A fresh directory under the system's temporary directory.
    pub fn temp_dir(name: &str) -> std::path::PathBuf {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("scheduler-test-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::create_dir_all(&dir);
        dir
    }
}

pub mod net {
    //! Real processes on loopback: free ports, waiting for a listener, and a
    //! child's stdout lines waited for with a deadline.

    use std::io::{BufRead, BufReader};
    use std::net::{TcpListener, TcpStream};
    use std::process::ChildStdout;
    use std::sync::mpsc::{self, Receiver};
    use std::time::{Duration, Instant};

    /// A port nothing listens on now.
    pub fn free_port() -> u16 {
        TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port")
    }

    /// Waits until something accepts connections on `addr`; panics naming
    /// `what` after `secs` seconds.
    pub fn wait_listening(addr: &str, what: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while TcpStream::connect(addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "{what} did not listen on {addr} within {secs} s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A child's stdout, line by line, read on a thread of its own.
    pub struct Lines {
        rx: Receiver<String>,
        /// Every line read so far.
        pub seen: Vec<String>,
    }

    impl Lines {
        /// Starts reading `stdout`.
        pub fn new(stdout: ChildStdout) -> Lines {
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            Lines {
                rx,
                seen: Vec::new(),
            }
        }

        /// The index of the first line from `since` on that contains
        /// `needle`, waiting at most 30 s for it.
        pub fn wait_for(&mut self, needle: &str, since: usize) -> usize {
            let since = since.min(self.seen.len());
            if let Some(i) = self.seen[since..].iter().position(|l| l.contains(needle)) {
                return since + i;
            }
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match self.rx.recv_timeout(left) {
                    Ok(l) => {
                        let hit = l.contains(needle);
                        self.seen.push(l);
                        if hit {
                            return self.seen.len() - 1;
                        }
                    }
                    Err(_) => panic!("no line with `{needle}` within 30 s; saw {:?}", self.seen),
                }
            }
        }

        /// Reads what is left, until the child closes stdout (at most `secs` s).
        pub fn drain(&mut self, secs: u64) {
            while let Ok(line) = self.rx.recv_timeout(Duration::from_secs(secs)) {
                self.seen.push(line);
            }
        }
    }
}
