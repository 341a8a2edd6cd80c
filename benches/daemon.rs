//! `scheduler run` under load, the real binary (build it first:
//! `cargo build --release -p scheduler-cli`; `SCHEDULER_BIN` overrides the
//! path). Scenarios (`-- NAME` runs one):
//!
//! - `load`: 1 000 jobs firing every second running `true`, for 30 s: all
//!   at the top of the second (`* * * * * *`, "burst") and spread over it
//!   (`interval = "1s"` with starts 1 ms apart, "spread"), with the
//!   daemon's default logging. Lateness (start of the command minus its
//!   fire time, from the daemon's "run succeeded" line in its JSON log) and the daemon's own CPU (utime + stime of its
//!   process, children excluded), each side by side with two baselines
//!   spawning the same commands at the same times: a bare tokio program,
//!   and a bare epoll loop on one thread (the least a program can do here
//!   to start the commands and capture their output).
//! - `baselines`: the two baselines of `load` alone.
//! - `startup`: the time from spawning the daemon to its "ready" line with
//!   10 000 jobs in the config: on a fresh state file (all added), and again
//!   on that state (all compared, none changed).

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const JOBS: usize = 1_000;
const SECONDS: u64 = 30;

fn main() {
    let only: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let bin = binary();
    let run = |name: &str| only.as_deref().is_none_or(|o| o == name);
    if run("load") {
        load(&bin);
    }
    if run("baselines") {
        for label in ["burst", "spread"] {
            baseline(label);
            reactor(label);
        }
    }
    if run("startup") {
        startup(&bin);
    }
}

fn binary() -> PathBuf {
    let bin = std::env::var_os("SCHEDULER_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/scheduler"),
        PathBuf::from,
    );
    assert!(
        bin.exists(),
        "{} does not exist: run `cargo build --release -p scheduler-cli` first",
        bin.display()
    );
    bin
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scheduler-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Jobs `j0..jN` on `trigger`, each running `command`.
fn config(n: usize, trigger: &str, command: &str) -> String {
    let mut s = String::from("[daemon]\nmax_parallel = 256\n\n");
    for i in 0..n {
        s.push_str(&format!(
            "[jobs.j{i}]\ncommand = \"{command}\"\n{trigger}\n\n"
        ));
    }
    s
}

/// `utime + stime` of `pid` in seconds (its own, not its children's).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3; utime 14 and stime 15 (1-based).
    let ticks = |i: usize| {
        f.get(i - 3)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // SC_CLK_TCK is 100 on Linux.
    (ticks(14) + ticks(15)) / 100.0
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// The daemon on `dir/jobs.toml` with JSON logs; its log lines go to `tx`.
fn spawn_daemon(bin: &Path, dir: &Path) -> (Child, std::sync::mpsc::Receiver<String>) {
    let mut child = Command::new(bin)
        .args(["run", "jobs.toml", "--log-format", "json"])
        .current_dir(dir)
        // The daemon's default logging, as users run it.
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("daemon starts");
    let (tx, rx) = std::sync::mpsc::channel();
    let err = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

/// The two ways 1 000 jobs fire every second: all at the top of the second
/// (`* * * * * *`), or spread over it (`interval = "1s"`, starts 1 ms apart).
fn load_configs() -> [(&'static str, String); 2] {
    let burst = config(JOBS, "cron = \"* * * * * *\"", "true");
    let mut spread = String::from("[daemon]\nmax_parallel = 256\n\n");
    for i in 0..JOBS {
        spread.push_str(&format!(
            "[jobs.j{i}]\ncommand = \"true\"\ninterval = \"1s\"\nstart = \"2026-01-01T00:00:00.{:03}Z\"\n\n",
            i % 1000
        ));
    }
    [("burst", burst), ("spread", spread)]
}

fn load(bin: &Path) {
    println!("load: {JOBS} jobs firing every second, command `true` (sh -c), {SECONDS} s after 3 s of warm-up");
    for (label, text) in load_configs() {
        let dir = temp_dir("load");
        std::fs::write(dir.join("jobs.toml"), text).expect("config");
        let (child, rx) = spawn_daemon(bin, &dir);
        let pid = child.id();
        wait_line(&rx, |l| l.contains("\"message\":\"ready\""), 30);
        let warm = Instant::now() + Duration::from_secs(3);
        while Instant::now() < warm {
            let _ = rx.recv_timeout(Duration::from_millis(100));
        }
        while rx.try_recv().is_ok() {}
        let cpu0 = cpu_seconds(pid);
        let t0 = Instant::now();
        let mut lateness = Vec::new();
        let (mut failed, mut skipped) = (0usize, 0usize);
        while t0.elapsed() < Duration::from_secs(SECONDS) {
            let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) else {
                continue;
            };
            // The daemon's line for each outcome carries the run's lateness
            // (its end minus its duration, minus its fire time).
            if line.contains("\"target\":\"scheduler::run\"") {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                    continue;
                };
                if v["message"] == "run succeeded" {
                    if let Some(ms) = v["lateness_ms"].as_f64() {
                        lateness.push(ms);
                    }
                } else if v["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("run failed"))
                {
                    failed += 1;
                }
            } else if line.contains("\"message\":\"skipped") {
                skipped += 1;
            }
        }
        let wall = t0.elapsed().as_secs_f64();
        let cpu = (cpu_seconds(pid) - cpu0) / wall * 100.0;
        stop(child);
        lateness.sort_by(f64::total_cmp);
        println!(
            "  ours, {label}: {} runs ({:.0}/s), {failed} failed, {skipped} skipped; lateness p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms; daemon CPU {cpu:.1} % of a core",
            lateness.len(),
            lateness.len() as f64 / wall,
            percentile(&lateness, 0.5),
            percentile(&lateness, 0.99),
            lateness.last().copied().unwrap_or(f64::NAN),
        );
        let _ = std::fs::remove_dir_all(&dir);
        baseline(label);
        reactor(label);
    }
}

/// The fire time of the `n`-th run of a baseline: 1 000 a second, all at
/// the top of the second (burst) or one a millisecond (spread).
fn fire_offset(n: usize, spread: bool) -> Duration {
    let second = Duration::from_secs((n / JOBS) as u64);
    if spread {
        second + Duration::from_millis((n % JOBS) as u64)
    } else {
        second
    }
}

/// What the epoll loop watches under a key.
enum Watched {
    /// A pipe of a command's stdout or stderr, read until it closes.
    Pipe(std::os::fd::OwnedFd),
    /// A command, reaped when its pidfd is readable.
    Command(Child, std::os::fd::OwnedFd),
}

/// The least a program can do here to run the commands of a scenario with
/// their output captured: one thread, one epoll set, no runtime, no state,
/// no log. Each command is spawned (`sh -c true`, in a process group of its
/// own, stdout and stderr piped), its pipes read until they close, and it
/// is reaped when its pidfd is readable. Lateness = the spawn call minus
/// the fire time.
fn reactor(label: &str) {
    use rustix::buffer::spare_capacity;
    use rustix::event::{epoll, Timespec};
    use std::collections::HashMap;
    let spread = label == "spread";
    let me = std::process::id();
    // Three descriptors a command: as many as the machine allows, for when
    // commands pile up on a busy machine.
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
    let _ = rustix::process::setrlimit(
        rustix::process::Resource::Nofile,
        rustix::process::Rlimit {
            current: limit.maximum,
            ..limit
        },
    );
    let ep = epoll::create(epoll::CreateFlags::CLOEXEC).expect("epoll");
    let mut watched: HashMap<u64, Watched> = HashMap::new();
    let mut events: Vec<epoll::Event> = Vec::with_capacity(256);
    let mut buf = [0u8; 4096];
    let mut key = 0u64;
    let mut watch = |what: Watched, watched: &mut HashMap<u64, Watched>| {
        key += 1;
        let fd = match &what {
            Watched::Pipe(fd) | Watched::Command(_, fd) => fd,
        };
        epoll::add(
            &ep,
            fd,
            epoll::EventData::new_u64(key),
            epoll::EventFlags::IN,
        )
        .expect("watched");
        watched.insert(key, what);
    };
    let total = JOBS * (SECONDS as usize + 3);
    let start = Instant::now() + Duration::from_secs(1);
    let (mut next, mut lateness) = (0usize, Vec::with_capacity(total));
    let (mut cpu0, mut t0, mut cpu) = (0.0, Instant::now(), 0.0);
    while next < total || !watched.is_empty() {
        // At most a batch between two looks at the commands that ended: one
        // falling behind must not hold their descriptors for ever.
        let batch_end = next + 64;
        while next < total.min(batch_end) && start + fire_offset(next, spread) <= Instant::now() {
            if next == 3 * JOBS {
                cpu0 = cpu_seconds(me);
                t0 = Instant::now();
                lateness.clear();
            }
            let at = start + fire_offset(next, spread);
            lateness.push(at.elapsed().as_secs_f64() * 1000.0);
            let mut child = Command::new("sh")
                .args(["-c", "true"])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| {
                    panic!(
                        "spawned: {e}; {} watched, {} fds open",
                        watched.len(),
                        std::fs::read_dir("/proc/self/fd")
                            .map(|d| d.count())
                            .unwrap_or(0)
                    )
                });
            let pidfd = rustix::process::pidfd_open(
                rustix::process::Pid::from_child(&child),
                rustix::process::PidfdFlags::empty(),
            )
            .expect("pidfd");
            let out = child.stdout.take().map(std::os::fd::OwnedFd::from);
            let err = child.stderr.take().map(std::os::fd::OwnedFd::from);
            for pipe in out.into_iter().chain(err) {
                watch(Watched::Pipe(pipe), &mut watched);
            }
            watch(Watched::Command(child, pidfd), &mut watched);
            next += 1;
            if next == total {
                cpu = (cpu_seconds(me) - cpu0) / t0.elapsed().as_secs_f64() * 100.0;
            }
        }
        let wait = if next < total {
            (start + fire_offset(next, spread)).saturating_duration_since(Instant::now())
        } else {
            Duration::from_millis(100)
        };
        let timeout = Timespec {
            tv_sec: wait.as_secs() as i64,
            tv_nsec: i64::from(wait.subsec_nanos()),
        };
        events.clear();
        if epoll::wait(&ep, spare_capacity(&mut events), Some(&timeout)).is_err() {
            continue;
        }
        for event in &events {
            let k = event.data.u64();
            let done = match watched.get_mut(&k) {
                Some(Watched::Pipe(fd)) => {
                    !matches!(rustix::io::read(&*fd, &mut buf), Ok(n) if n > 0)
                }
                // Readable: it ended (reaped here, or by a reaper left
                // behind by the tokio baseline's runtime).
                Some(Watched::Command(child, _)) => {
                    let _ = child.wait();
                    true
                }
                None => false,
            };
            if done {
                // Closing the descriptor takes it out of the epoll set.
                watched.remove(&k);
            }
        }
    }
    report_baseline(label, "one thread, epoll, no runtime", lateness, cpu);
}

/// A bare tokio program doing the least a scheduler of commands must: one
/// timer, `sh -c true` spawned at each fire time (all at the top of the
/// second for "burst", one a millisecond for "spread") and reaped, output
/// discarded. Lateness = the spawn call minus the fire time.
fn baseline(label: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let me = std::process::id();
    let spread = label == "spread";
    let (lateness, cpu) = rt.block_on(async move {
        let mut lateness = Vec::new();
        let start = tokio::time::Instant::now() + Duration::from_secs(1);
        let mut cpu0 = 0.0;
        let mut t0 = std::time::Instant::now();
        for n in 0..JOBS * (SECONDS as usize + 3) {
            if n == 3 * JOBS {
                cpu0 = cpu_seconds(me);
                t0 = std::time::Instant::now();
                lateness.clear();
            }
            let at = start + fire_offset(n, spread);
            tokio::time::sleep_until(at).await;
            lateness.push(at.elapsed().as_secs_f64() * 1000.0);
            if let Ok(mut c) = tokio::process::Command::new("sh")
                .args(["-c", "true"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
            {
                tokio::spawn(async move {
                    let _ = c.wait().await;
                });
            }
        }
        (
            lateness,
            (cpu_seconds(me) - cpu0) / t0.elapsed().as_secs_f64() * 100.0,
        )
    });
    report_baseline(label, "tokio timer + spawn", lateness, cpu);
}

/// A baseline's line: its runs, their lateness (ms) and its CPU (%).
fn report_baseline(label: &str, kind: &str, mut lateness: Vec<f64>, cpu: f64) {
    lateness.sort_by(f64::total_cmp);
    println!(
        "  baseline, {label} ({kind}): {} runs; lateness p50 {:.0} ms, p99 {:.0} ms; CPU {cpu:.1} % of a core",
        lateness.len(),
        percentile(&lateness, 0.5),
        percentile(&lateness, 0.99),
    );
}

fn wait_line(
    rx: &std::sync::mpsc::Receiver<String>,
    pred: impl Fn(&str) -> bool,
    secs: u64,
) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) if pred(&l) => return Instant::now(),
            Ok(_) => {}
            Err(e) => panic!("no such line within {secs} s: {e}"),
        }
    }
}

fn startup(bin: &Path) {
    let n = 10_000;
    let dir = temp_dir("startup");
    // Fire times far away: start-up alone is measured.
    std::fs::write(
        dir.join("jobs.toml"),
        config(n, "cron = \"0 0 1 1 *\"", "true"),
    )
    .expect("config");
    for round in [
        "fresh state (10 000 added)",
        "same state again (10 000 unchanged)",
    ] {
        let mut times = Vec::new();
        for _ in 0..3 {
            if round.starts_with("fresh") {
                for f in ["jobs.state.db", "jobs.state.db-wal", "jobs.state.db-shm"] {
                    let _ = std::fs::remove_file(dir.join(f));
                }
            }
            let t0 = Instant::now();
            let (child, rx) = spawn_daemon(bin, &dir);
            let at = wait_line(&rx, |l| l.contains("\"message\":\"ready\""), 60);
            times.push(at.duration_since(t0).as_secs_f64());
            stop(child);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "startup, {round}: median {:.3} s (of {:?})",
            times[1],
            times.iter().map(|t| format!("{t:.3}")).collect::<Vec<_>>()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
