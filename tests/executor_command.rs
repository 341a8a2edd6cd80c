//! Commands (`Target::command`) on the process-pool executor: exit codes,
//! stderr in failures, a process group of their own stopped whole at the
//! timeout, overlap policies (queue, replace), refused on other executors,
//! and kept by the SQLite store.

use std::time::Duration;

use scheduler::{
    CommandSpec, ErrorKind, Event, Executor, FailureKind, Overlap, Scheduler, SqliteStore, Target,
};
use tests::harness::{self, executed, failed, failure, Harness};
use tests::procs;

const WORKER: &str = env!("CARGO_BIN_EXE_process_worker");

fn pool() -> Executor {
    Executor::process_pool_with_program(2, WORKER)
}

/// A test-clock scheduler whose default executor is a pool of 2 processes.
fn start() -> Harness {
    harness::start(Scheduler::builder().executor("default", pool()))
}

async fn run_once(h: &mut Harness, id: &str, command: CommandSpec) -> Event {
    h.sched
        .add_job(Target::command(command))
        .id(id)
        .await
        .expect("added");
    h.expect("the run's end", |e| executed(id)(e) || failed(id)(e))
        .await
}

#[actix_rt::test]
async fn exit_code_zero_is_success_and_others_fail_with_the_end_of_stderr() {
    let mut h = start();
    let dir = procs::temp_dir("command-ok");
    let out = dir.join("out");
    let ok = CommandSpec::shell(format!(
        "echo \"$GREETING from $(pwd)\" > {}",
        out.display()
    ))
    .env("GREETING", "hello")
    .current_dir(&dir);
    let e = run_once(&mut h, "ok", ok).await;
    assert!(matches!(e, Event::JobExecuted { .. }), "{e:?}");
    let written = std::fs::read_to_string(&out).expect("the command wrote its file");
    assert_eq!(written.trim(), format!("hello from {}", dir.display()));

    let e = run_once(
        &mut h,
        "bad",
        CommandSpec::shell("echo 'disk full' >&2; exit 3"),
    )
    .await;
    let (kind, message) = failure(&e);
    assert_eq!(kind, FailureKind::Error, "{message}");
    assert!(message.contains("exited with code 3"), "{message}");
    assert!(message.contains("disk full"), "{message}");

    let e = run_once(&mut h, "killed", CommandSpec::shell("kill -9 $$")).await;
    let (kind, message) = failure(&e);
    assert_eq!(kind, FailureKind::Crash, "{message}");
    assert!(message.contains("signal 9"), "{message}");

    let e = run_once(&mut h, "missing", CommandSpec::new("/no/such/program")).await;
    let (kind, message) = failure(&e);
    assert_eq!(kind, FailureKind::Error, "{message}");
    assert!(
        message.contains("could not start `/no/such/program`"),
        "{message}"
    );
    h.shutdown().await;
}

#[actix_rt::test]
async fn a_timeout_stops_the_whole_process_group_grandchildren_included() {
    let mut h = start();
    let dir = procs::temp_dir("command-group");
    let pids = dir.join("pids");
    // A grandchild that ignores SIGTERM, and a shell that waits for it.
    let script = format!(
        "(trap '' TERM; sleep 60) & echo $! > {p}.tmp; echo $$ >> {p}.tmp; mv {p}.tmp {p}; wait",
        p = pids.display()
    );
    h.sched
        .add_job(Target::command(CommandSpec::shell(script)))
        .id("group")
        .timeout(Duration::from_millis(500))
        .await
        .expect("added");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let written = loop {
        if let Ok(s) = std::fs::read_to_string(&pids) {
            break s;
        }
        assert!(std::time::Instant::now() < deadline, "no pids written");
        std::thread::sleep(Duration::from_millis(10));
    };
    let pids: Vec<u32> = written
        .split_whitespace()
        .map(|p| p.parse().expect("a pid"))
        .collect();
    assert_eq!(pids.len(), 2, "{written}");
    h.advance(0.5);
    let (kind, message) = failure(&h.expect("the timeout", failed("group")).await);
    assert_eq!(kind, FailureKind::Timeout, "{message}");
    assert!(message.contains("process group"), "{message}");
    for pid in pids {
        assert!(
            procs::ended_within(pid, 10),
            "process {pid} outlived the timeout"
        );
    }
    h.shutdown().await;
}

#[actix_rt::test]
async fn a_command_is_refused_on_an_executor_that_is_not_a_process_pool() {
    let h = harness::start(
        Scheduler::builder()
            .executor("default", Executor::async_pool())
            .executor("procs", pool()),
    );
    let err = h
        .sched
        .add_job(Target::command(CommandSpec::shell("true")))
        .id("where")
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert!(err.to_string().contains("job `where`"), "{err}");
    assert!(err.to_string().contains("executor `default`"), "{err}");
    h.sched
        .add_job(Target::command(CommandSpec::shell("true")))
        .id("there")
        .executor("procs")
        .await
        .expect("a process pool takes it");
    let err = h
        .sched
        .add_job(Target::command(CommandSpec::new("")))
        .id("empty")
        .executor("procs")
        .await
        .expect_err("an empty program");
    assert_eq!(err.kind(), ErrorKind::Args, "{err}");
    assert!(err.to_string().contains("program is empty"), "{err}");
    h.shutdown().await;
}

#[actix_rt::test]
async fn the_sqlite_store_keeps_a_command_and_runs_it_after_a_restart() {
    let dir = procs::temp_dir("command-sqlite");
    let path = dir.join("state.db");
    let marker = dir.join("ran");
    let command = CommandSpec::new("touch").arg(marker.to_string_lossy().into_owned());
    let sched = Scheduler::builder()
        .executor("default", pool())
        .store(SqliteStore::open(&path))
        .start()
        .expect("started");
    sched
        .add_job(Target::command(command.clone()))
        .id("kept")
        .trigger(scheduler::Trigger::after(Duration::from_secs(3600)))
        .await
        .expect("added");
    sched.shutdown(true).await.expect("stopped");

    let mut h = harness::start(
        Scheduler::builder()
            .executor("default", pool())
            .store(SqliteStore::open(&path)),
    );
    let job = h
        .sched
        .get_job("kept")
        .await
        .expect("read back")
        .expect("kept");
    assert_eq!(job.target().command_spec(), Some(command));
    assert_eq!(
        job.target().to_string(),
        format!("command(touch {})", marker.display())
    );
    h.sched
        .modify_job(
            "kept",
            scheduler::JobChanges::new().next_run_time(Some(harness::t0())),
        )
        .await
        .expect("due now");
    h.expect("the run", executed("kept")).await;
    assert!(marker.exists(), "the command ran");
    h.shutdown().await;
}

/// Adds a command job with `overlap` that fires only when asked.
async fn add_overlapping(h: &Harness, id: &str, command: CommandSpec, overlap: Overlap) {
    h.sched
        .add_job(Target::command(command.on_overlap(overlap)))
        .id(id)
        .trigger(scheduler::Trigger::after(Duration::from_secs(3600)))
        .max_instances(2)
        .await
        .expect("added");
}

/// The lines of `path` once it has `n` of them (at most 10 s).
fn lines_once(path: &std::path::Path, n: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
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
            std::time::Instant::now() < deadline,
            "{} has {lines:?}, not {n} lines",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[actix_rt::test]
async fn a_queued_run_waits_for_the_running_one_and_a_third_is_skipped() {
    let mut h = start();
    let dir = procs::temp_dir("command-queue");
    let log = dir.join("log");
    let script = format!(
        "echo start $$ >> {l}; while [ ! -e {l}.go ]; do sleep 0.01; done; echo end $$ >> {l}",
        l = log.display()
    );
    add_overlapping(&h, "q", CommandSpec::shell(script), Overlap::Queue).await;
    h.sched.run_job_now("q").await.expect("first run");
    lines_once(&log, 1);
    h.sched.run_job_now("q").await.expect("second run, queued");
    let err = h
        .sched
        .run_job_now("q")
        .await
        .expect_err("a third is over max_instances");
    assert_eq!(err.kind(), ErrorKind::MaxInstances, "{err}");
    // The second has not started while the first runs.
    std::fs::write(dir.join("log.go"), "").expect("go");
    let lines = lines_once(&log, 4);
    let pid = |l: &str| l.split_whitespace().nth(1).map(str::to_owned);
    assert!(
        lines[0].starts_with("start") && lines[1].starts_with("end"),
        "{lines:?}"
    );
    assert_eq!(pid(&lines[0]), pid(&lines[1]), "{lines:?}");
    assert!(
        lines[2].starts_with("start") && lines[3].starts_with("end"),
        "{lines:?}"
    );
    assert_ne!(pid(&lines[0]), pid(&lines[2]), "{lines:?}");
    h.expect("the first run", executed("q")).await;
    h.expect("the second run", executed("q")).await;
    h.shutdown().await;
}

#[actix_rt::test]
async fn a_replacing_run_stops_the_running_one_first() {
    let mut h = start();
    let dir = procs::temp_dir("command-replace");
    let log = dir.join("log");
    let script = format!(
        "trap 'echo stopped $$ >> {l}; exit 0' TERM; echo start $$ >> {l}; \
         while [ ! -e {l}.go ]; do sleep 0.02; done",
        l = log.display()
    );
    add_overlapping(&h, "r", CommandSpec::shell(script), Overlap::Replace).await;
    h.sched.run_job_now("r").await.expect("first run");
    lines_once(&log, 1);
    h.sched
        .run_job_now("r")
        .await
        .expect("second run, replacing");
    let (kind, message) = failure(&h.expect("the first run replaced", failed("r")).await);
    assert_eq!(kind, FailureKind::Cancelled, "{message}");
    assert!(message.contains("replaced by a newer run"), "{message}");
    let lines = lines_once(&log, 3);
    assert!(lines[0].starts_with("start"), "{lines:?}");
    assert!(
        lines[1].starts_with("stopped"),
        "the first ended before the second began: {lines:?}"
    );
    assert!(lines[2].starts_with("start"), "{lines:?}");
    std::fs::write(dir.join("log.go"), "").expect("go");
    h.expect("the second run", executed("r")).await;
    h.shutdown().await;
}
