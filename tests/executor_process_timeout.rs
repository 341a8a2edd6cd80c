//! Timeouts, retries and shutdown of process-pool jobs: SIGTERM at the
//! deadline, SIGKILL after the grace, a fresh child per attempt, and no child
//! outliving its scheduler, even one killed with SIGKILL.

mod process_jobs;

use std::time::Duration;

use scheduler::{Event, Executor, FailureKind, Retry, Scheduler};
use tests::harness::{self, executed, failed, failure, Harness};
use tests::procs;

const WORKER: &str = env!("CARGO_BIN_EXE_process_worker");

/// A real-clock scheduler with a pool of 2 processes as its default executor.
fn start() -> Harness {
    harness::start(
        Scheduler::builder().executor("default", Executor::process_pool_with_program(2, WORKER)),
    )
}

#[actix_rt::test]
async fn a_job_that_ignores_sigterm_is_killed_after_the_grace() {
    let mut h = start();
    let (pidfile, arg) = procs::pid_file("timeout");
    h.sched
        .add_job(process_jobs::proc_sleep::with(arg, 60_000))
        .id("sleeper")
        .timeout(Duration::from_millis(300))
        .await
        .expect("added");
    let pid = procs::pid_in(&pidfile);
    // The test clock drives the deadline: pass it.
    h.advance(0.3);
    let e = h.expect("the timeout", failed("sleeper")).await;
    let (kind, message) = failure(&e);
    assert_eq!(kind, FailureKind::Timeout, "{message}");
    assert!(message.contains("timed out after 300ms"), "{message}");
    assert!(
        message.contains("signal 9"),
        "SIGKILL after the grace: {message}"
    );
    assert!(procs::ended_within(pid, 5), "worker {pid} still runs");
    h.shutdown().await;
}

#[actix_rt::test]
async fn a_cooperative_job_stops_on_sigterm() {
    let mut h = start();
    let (pidfile, arg) = procs::pid_file("cooperative");
    h.sched
        .add_job(process_jobs::proc_cooperative::with(arg))
        .id("polite")
        .timeout(Duration::from_secs(1))
        .await
        .expect("added");
    let pid = procs::pid_in(&pidfile);
    h.advance(1.0);
    let (kind, message) = failure(&h.expect("the timeout", failed("polite")).await);
    assert_eq!(kind, FailureKind::Timeout, "{message}");
    assert!(
        message.contains("exited with code 0"),
        "stopped by itself: {message}"
    );
    assert!(procs::ended_within(pid, 5));
    h.shutdown().await;
}

#[actix_rt::test]
async fn a_retried_process_run_starts_a_fresh_child() {
    let mut h = start();
    let dir = procs::temp_dir("retry");
    let pids = dir.join("pids");
    h.sched
        .add_job(process_jobs::proc_flaky::with(
            pids.to_string_lossy().into_owned(),
        ))
        .id("flaky")
        .retry(Retry::new(2))
        .await
        .expect("added");
    let e = h.expect("the first attempt", failed("flaky")).await;
    let Event::JobError {
        kind,
        retry_at,
        attempt,
        ..
    } = &e
    else {
        unreachable!()
    };
    assert_eq!((*kind, *attempt), (FailureKind::Crash, 1));
    assert!(retry_at.is_some(), "a retry follows: {e:?}");
    h.advance(1.0);
    let e = h.expect("the retry", executed("flaky")).await;
    assert!(matches!(e, Event::JobExecuted { attempt: 2, .. }), "{e:?}");
    let text = std::fs::read_to_string(&pids).expect("pids");
    let pids: Vec<&str> = text.lines().collect();
    assert_eq!(pids.len(), 2, "{pids:?}");
    assert_ne!(pids[0], pids[1], "each attempt has a child of its own");
    h.shutdown().await;
}

#[actix_rt::test]
async fn shutdown_with_a_deadline_kills_running_children() {
    let mut h = start();
    let dir = procs::temp_dir("shutdown");
    let mut pids = Vec::new();
    for i in 0..2 {
        let pidfile = dir.join(format!("pid{i}"));
        h.sched
            .add_job(process_jobs::proc_sleep::with(
                pidfile.to_string_lossy().into_owned(),
                60_000,
            ))
            .id(format!("sleeper{i}"))
            .await
            .expect("added");
        pids.push(procs::pid_in(&pidfile));
    }
    let sched = h.sched.clone();
    let clock = h.clock.clone();
    let down =
        actix_rt::spawn(async move { sched.shutdown_with_deadline(Duration::from_secs(2)).await });
    // Let the scheduler see the shutdown, then pass the deadline.
    tokio::time::sleep(Duration::from_millis(200)).await;
    clock.advance(Duration::from_secs(2));
    down.await.expect("joined").expect("shut down");
    for pid in pids {
        assert!(
            procs::ended_within(pid, 5),
            "worker {pid} outlived the scheduler"
        );
    }
    let mut cancelled = Vec::new();
    for _ in 0..2 {
        let e = h
            .expect("a cancelled run", |e| {
                matches!(
                    e,
                    Event::JobError {
                        kind: FailureKind::Cancelled,
                        ..
                    }
                )
            })
            .await;
        if let Event::JobError { error, .. } = e {
            cancelled.push(error);
        }
    }
    assert_eq!(cancelled.len(), 2, "{cancelled:?}");
    assert!(
        cancelled.iter().all(|m| m.contains("shutdown deadline")),
        "{cancelled:?}"
    );
}

#[actix_rt::test]
async fn shutdown_without_waiting_leaves_no_child() {
    let h = start();
    let (pidfile, arg) = procs::pid_file("nowait");
    h.sched
        .add_job(process_jobs::proc_sleep::with(arg, 60_000))
        .id("sleeper")
        .await
        .expect("added");
    let pid = procs::pid_in(&pidfile);
    h.sched.shutdown(false).await.expect("shut down");
    assert!(
        procs::ended_within(pid, 5),
        "worker {pid} outlived the scheduler"
    );
}

#[test]
fn children_exit_when_their_scheduler_is_killed_with_sigkill() {
    let (pidfile, _) = procs::pid_file("sigkill");
    let mut host = std::process::Command::new(WORKER)
        .arg("host")
        .arg(&pidfile)
        .spawn()
        .expect("host starts");
    let worker = procs::pid_in(&pidfile);
    assert!(procs::alive(worker));
    host.kill().expect("SIGKILL the host");
    let _ = host.wait();
    assert!(
        procs::ended_within(worker, 5),
        "worker {worker} outlived its scheduler"
    );
}

#[test]
fn a_scheduler_that_shut_down_has_no_child_left() {
    let (pidfile, _) = procs::pid_file("children");
    let out = std::process::Command::new(WORKER)
        .arg("shutdown-host")
        .arg(&pidfile)
        .output()
        .expect("host runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.trim(), "children=0");
    let worker = procs::pid_in(&pidfile);
    assert!(
        procs::ended_within(worker, 5),
        "worker {worker} outlived its scheduler"
    );
}

#[actix_rt::test]
async fn a_worker_that_never_reads_its_run_still_times_out() {
    // A wrong program: it never reads the run handed to it (1 MiB of
    // arguments, more than a socket buffer holds).
    let dir = procs::temp_dir("deaf");
    let program = dir.join("deaf.sh");
    std::fs::write(&program, "#!/bin/sh\nexec sleep 30\n").expect("script");
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&program)
        .status()
        .expect("chmod");
    let mut h = harness::start(
        Scheduler::builder().executor("default", Executor::process_pool_with_program(1, &program)),
    );
    h.sched
        .add_job(process_jobs::proc_error::with("x".repeat(1 << 20)))
        .id("deaf")
        .timeout(Duration::from_secs(1))
        .await
        .expect("added");
    tokio::time::sleep(Duration::from_millis(200)).await;
    h.advance(1.0);
    let (kind, message) = failure(&h.expect("the timeout", failed("deaf")).await);
    assert_eq!(kind, FailureKind::Timeout, "{message}");
    h.shutdown().await;
}

#[actix_rt::test]
async fn a_run_times_out_at_its_deadline_while_it_waits_for_a_worker() {
    let mut h = harness::start(
        Scheduler::builder().executor("default", Executor::process_pool_with_program(1, WORKER)),
    );
    let (pidfile, arg) = procs::pid_file("busy");
    h.sched
        .add_job(process_jobs::proc_sleep::with(arg, 60_000))
        .id("busy")
        .await
        .expect("added");
    procs::pid_in(&pidfile);
    h.sched
        .add_job(process_jobs::proc_ok::with())
        .id("waiting")
        .timeout(Duration::from_secs(1))
        .await
        .expect("added");
    tokio::time::sleep(Duration::from_millis(100)).await;
    h.advance(1.0);
    let (kind, message) = failure(&h.expect("the late run", failed("waiting")).await);
    assert_eq!(kind, FailureKind::Timeout, "{message}");
    assert!(
        message.contains("waiting for a free worker process"),
        "{message}"
    );
    // The busy worker would sleep a minute: no waiting for it.
    h.sched.shutdown(false).await.expect("shut down");
}
