//! The process-pool executor: registered jobs in child processes; whatever a
//! child does, the scheduler records a failed run with the reason and goes on.

mod process_jobs;

use scheduler::{Event, Executor, FailureKind, Scheduler, Target};
use tests::harness::{self, executed, failed, failure, Harness};

const WORKER: &str = env!("CARGO_BIN_EXE_process_worker");

/// A scheduler (test clock) whose default executor is a pool of 2 processes.
fn start() -> Harness {
    harness::start(
        Scheduler::builder().executor("default", Executor::process_pool_with_program(2, WORKER)),
    )
}

/// Adds `target` to run now and returns the event that ends its run.
async fn run_once(h: &mut Harness, id: &str, target: Target) -> Event {
    h.sched.add_job(target).id(id).await.expect("added");
    h.expect("the run's end", |e| executed(id)(e) || failed(id)(e))
        .await
}

#[actix_rt::test]
async fn a_job_that_returns_runs_in_a_child_and_succeeds() {
    let mut h = start();
    let e = run_once(&mut h, "ok", process_jobs::proc_ok::with()).await;
    assert!(matches!(e, Event::JobExecuted { .. }), "{e:?}");
    h.shutdown().await;
}

#[actix_rt::test]
async fn errors_and_panics_come_back_with_their_text() {
    let mut h = start();
    let e = run_once(
        &mut h,
        "err",
        process_jobs::proc_error::with("disk full".into()),
    )
    .await;
    assert_eq!(failure(&e), (FailureKind::Error, "disk full".into()));
    let e = run_once(
        &mut h,
        "panic",
        process_jobs::proc_panic::with("bad state".into()),
    )
    .await;
    assert_eq!(failure(&e), (FailureKind::Panic, "bad state".into()));
    h.shutdown().await;
}

#[actix_rt::test]
async fn abort_segfault_oom_kill_and_exit_codes_are_crashes_with_the_reason() {
    let mut h = start();
    let cases: [(&str, Target, &[&str]); 4] = [
        (
            "abort",
            process_jobs::proc_abort::with(),
            &["signal 6", "SIGABRT", "about to abort"],
        ),
        (
            "segv",
            process_jobs::proc_segv::with(),
            &["signal 11", "SIGSEGV"],
        ),
        (
            "killed",
            process_jobs::proc_killed::with(),
            &["signal 9", "SIGKILL", "OOM"],
        ),
        (
            "exit",
            process_jobs::proc_exit::with(3),
            &["exited with code 3", "giving up with code 3"],
        ),
    ];
    for (id, target, words) in cases {
        let (kind, message) = failure(&run_once(&mut h, id, target).await);
        assert_eq!(kind, FailureKind::Crash, "{id}: {message}");
        for w in words {
            assert!(message.contains(w), "{id}: `{message}` lacks `{w}`");
        }
    }
    // And the scheduler goes on.
    let e = run_once(&mut h, "after", process_jobs::proc_ok::with()).await;
    assert!(matches!(e, Event::JobExecuted { .. }), "{e:?}");
    h.shutdown().await;
}

#[actix_rt::test]
async fn megabytes_of_output_do_not_stall_the_run_or_the_scheduler() {
    let mut h = start();
    let e = run_once(&mut h, "spam", process_jobs::proc_spam::with(8)).await;
    assert!(matches!(e, Event::JobExecuted { .. }), "{e:?}");
    assert_eq!(h.sched.job_count().await.expect("count"), 0);
    h.shutdown().await;
}

#[actix_rt::test]
async fn at_most_n_children_run_at_once() {
    let mut h = start();
    let dir = tests::procs::temp_dir("exclusive");
    let d = dir.to_string_lossy().into_owned();
    for i in 0..5 {
        h.sched
            .add_job(process_jobs::proc_exclusive::with(d.clone(), 2, 300))
            .id(format!("x{i}"))
            .await
            .expect("added");
    }
    let mut done = 0;
    while done < 5 {
        let e = h
            .expect("a run's end", |e| {
                matches!(e, Event::JobExecuted { .. } | Event::JobError { .. })
            })
            .await;
        assert!(matches!(e, Event::JobExecuted { .. }), "{e:?}");
        done += 1;
    }
    let _ = std::fs::remove_dir_all(dir);
    h.shutdown().await;
}

#[actix_rt::test]
async fn closures_and_jobs_that_need_data_are_refused_when_added() {
    let h = start();
    let closure = h
        .sched
        .add_job(Target::from_blocking(|_| ()))
        .id("closure")
        .await
        .expect_err("a closure cannot cross into a process");
    assert_eq!(closure.kind(), scheduler::ErrorKind::Unsupported);
    assert!(closure.to_string().contains("closure"), "{closure}");
    let data = h
        .sched
        .add_job(process_jobs::proc_needs_data::with())
        .id("data")
        .await
        .expect_err("a worker has no data");
    assert_eq!(data.kind(), scheduler::ErrorKind::Unsupported);
    assert!(data.to_string().contains("Data<String>"), "{data}");
    assert_eq!(h.sched.job_count().await.expect("count"), 0);
    h.shutdown().await;
}

#[actix_rt::test]
async fn an_unprepared_binary_cannot_start_a_process_pool() {
    // This test binary does not call `worker_main`.
    let e = Scheduler::builder()
        .without_registered_jobs()
        .executor("cpu", Executor::process_pool(2))
        .start_background()
        .expect_err("not prepared");
    assert_eq!(e.kind(), scheduler::ErrorKind::Start);
    assert!(e.to_string().contains("worker_main"), "{e}");
    assert!(e.to_string().contains("`cpu`"), "{e}");
}

#[actix_rt::test]
async fn a_program_that_is_not_a_worker_is_a_failed_run() {
    // `true` exits at once without an answer; the other program does not exist.
    let mut h = harness::start(Scheduler::builder().executor(
        "default",
        Executor::process_pool_with_program(1, "/bin/true"),
    ));
    let (kind, message) = failure(&run_once(&mut h, "true", process_jobs::proc_ok::with()).await);
    assert_eq!(kind, FailureKind::Crash);
    assert!(
        message.contains("exited with code 0 without a result"),
        "{message}"
    );
    let mut h2 = harness::start(Scheduler::builder().executor(
        "default",
        Executor::process_pool_with_program(1, "/no/such/program"),
    ));
    let (kind, message) =
        failure(&run_once(&mut h2, "missing", process_jobs::proc_ok::with()).await);
    assert_eq!(kind, FailureKind::Crash);
    assert!(
        message.contains("could not start the worker process"),
        "{message}"
    );
    h.shutdown().await;
    h2.shutdown().await;
}

#[actix_rt::test]
async fn a_child_the_job_leaves_behind_does_not_hold_the_run() {
    let mut h = start();
    let started = std::time::Instant::now();
    let e = run_once(&mut h, "parent", process_jobs::proc_leaves_a_child::with()).await;
    assert!(matches!(e, Event::JobExecuted { .. }), "{e:?}");
    // Its result comes at once; the leftover output pipes are let go after 1 s,
    // long before the leftover child's 20 s.
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    h.shutdown().await;
}

#[actix_rt::test]
async fn workers_have_a_process_group_of_their_own() {
    let mut h = start();
    let (path, arg) = tests::procs::pid_file("pgid");
    let e = run_once(&mut h, "pgid", process_jobs::proc_pgid::with(arg)).await;
    assert!(matches!(e, Event::JobExecuted { .. }), "{e:?}");
    let theirs: i32 = std::fs::read_to_string(path)
        .expect("written")
        .trim()
        .parse()
        .expect("a number");
    let ours = rustix::process::getpgrp().as_raw_nonzero().get();
    assert_ne!(
        theirs, ours,
        "a Ctrl-C for the scheduler must not reach its workers"
    );
    h.shutdown().await;
}

/// Registered in this test binary only: the worker binary does not know it.
#[scheduler::job]
fn only_in_the_test_binary() {}

#[actix_rt::test]
async fn a_job_the_worker_binary_does_not_register_is_refused_by_the_worker() {
    let mut h = start();
    let (kind, message) =
        failure(&run_once(&mut h, "unknown", only_in_the_test_binary::with()).await);
    assert_eq!(kind, FailureKind::Error, "{message}");
    assert!(message.contains("could not run the job"), "{message}");
    assert!(
        message.contains(
            "no job function is registered as `executor_process::only_in_the_test_binary`"
        ),
        "{message}"
    );
    h.shutdown().await;
}

#[actix_rt::test]
async fn a_worker_has_no_scheduler_handle_and_says_so() {
    let mut h = start();
    let (kind, message) =
        failure(&run_once(&mut h, "asks", process_jobs::proc_asks_scheduler::with()).await);
    assert_eq!(kind, FailureKind::Error, "{message}");
    assert!(message.starts_with("Unsupported: "), "{message}");
    assert!(
        message.contains("process-pool worker has no scheduler handle"),
        "{message}"
    );
    h.shutdown().await;
}

/// `worker_main` changes no environment variable (unsound with threads), and
/// a child of the job, which inherits the worker's variable, is no worker.
#[actix_rt::test]
async fn worker_main_leaves_the_environment_alone() {
    let mut h = start();
    let e = run_once(
        &mut h,
        "child",
        process_jobs::proc_child_is_no_worker::with(),
    )
    .await;
    assert!(matches!(e, Event::JobExecuted { .. }), "{e:?}");
    h.shutdown().await;
}
