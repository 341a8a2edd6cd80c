//! `scheduler run` with the real binary: commands run on time with their
//! output in the log, a timeout stops the whole process group, the overlap
//! policies, and `on_failure`.

mod common;

use common::{file_lines, message, outcome_of, ready, temp_dir, Daemon};

#[test]
fn commands_run_on_time_with_their_output_in_the_log() {
    let dir = temp_dir("on-time");
    std::fs::write(
        dir.join("jobs.toml"),
        r#"
[jobs.tick]
command = "echo tick $GREETING; echo warn >&2"
cron = "* * * * * *"
env = { GREETING = "hello" }

[jobs.argv]
argv = ["sh", "-c", "exit 0"]
interval = "1s"
"#,
    )
    .expect("config");
    let d = Daemon::start(&dir, "jobs.toml", &[]);
    d.wait_for("ready", ready);
    let runs = d.wait_for_n("3 runs of tick", 3, outcome_of("tick", "run succeeded"));
    for r in &runs {
        let lateness = r["lateness_ms"].as_i64().expect("lateness_ms");
        // On time, give or take a loaded machine (the figures are in benches/).
        assert!(
            lateness < 2000,
            "a run of tick started {lateness} ms late: {r}"
        );
        let at = r["scheduled_at"].as_str().expect("scheduled_at");
        assert!(
            at.ends_with(":00Z") || !at.contains('.'),
            "on a whole second: {at}"
        );
        assert_eq!(r["exit"], "0");
    }
    d.wait_for_n("2 runs of argv", 2, outcome_of("argv", "run succeeded"));
    // The command's output, line by line, with the job and run ids.
    let out = d.wait_for("tick's stdout", |l| message(l) == "tick hello");
    assert_eq!(out["stream"], "stdout");
    assert_eq!(out["span"]["job.id"], "tick");
    assert!(out["span"]["run.id"].as_u64().is_some(), "{out}");
    let err = d.wait_for("tick's stderr", |l| message(l) == "warn");
    assert_eq!(err["stream"], "stderr");
    d.stop();
    assert!(
        dir.join("jobs.state.db").exists(),
        "state next to the config"
    );
}

#[test]
fn a_timeout_stops_the_whole_process_group() {
    let dir = temp_dir("timeout");
    std::fs::write(
        dir.join("jobs.toml"),
        r#"
[jobs.stuck]
# A grandchild that ignores SIGTERM, its pid written down, and a shell waiting.
command = "(trap '' TERM; sleep 60) & echo $! > grandchild; sleep 60"
run_on_start = true
timeout = "1s"

[daemon]
grace = "1s"
"#,
    )
    .expect("config");
    let d = Daemon::start(&dir, "jobs.toml", &[]);
    let failed = d.wait_for("the timeout", outcome_of("stuck", "run failed"));
    assert_eq!(failed["exit"], "timeout", "{failed}");
    assert!(message(&failed).contains("process group"), "{failed}");
    let pid: u32 = file_lines(&dir.join("grandchild"), 1)[0]
        .trim()
        .parse()
        .expect("a pid");
    let deadline = std::time::Instant::now() + common::PATIENCE;
    while common::alive(pid) {
        assert!(
            std::time::Instant::now() < deadline,
            "grandchild {pid} outlived the timeout"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    d.stop();
}

#[test]
fn each_overlap_policy_behaves() {
    let dir = temp_dir("overlap");
    // Every second, a run of 1.5 s (2.5 s for allow): the next fire time
    // comes while a run lasts. Each run logs "start PID" and "end PID".
    let job = |id: &str, policy: &str, secs: &str| {
        format!(
            "[jobs.{id}]\ncommand = \"echo start $$ >> {id}.log; sleep {secs}; echo end $$ >> {id}.log\"\n\
             cron = \"* * * * * *\"\noverlap = \"{policy}\"\n\n"
        )
    };
    let config = [
        job("skip", "skip", "1.5"),
        job("queue", "queue", "1.5"),
        job("replace", "replace", "1.5"),
        job("allow", "allow", "2.5"),
    ]
    .concat();
    std::fs::write(
        dir.join("jobs.toml"),
        format!("[daemon]\ngrace = \"1s\"\n\n{config}"),
    )
    .expect("config");
    let d = Daemon::start(&dir, "jobs.toml", &[]);
    // skip: a fire time is skipped while a run lasts, and runs never overlap.
    d.wait_for("a skipped fire time", |l| {
        l["job_id"] == "skip" && message(l).starts_with("skipped")
    });
    // queue: the next run waits and starts when the running one ends.
    d.wait_for_n(
        "3 queued runs done",
        3,
        outcome_of("queue", "run succeeded"),
    );
    // replace: the running one is stopped by the new one.
    let replaced = d.wait_for("a replaced run", outcome_of("replace", "run failed"));
    assert!(
        message(&replaced).contains("replaced by a newer run"),
        "{replaced}"
    );
    // allow: runs side by side.
    d.wait_for_n(
        "2 runs of allow done",
        2,
        outcome_of("allow", "run succeeded"),
    );
    d.stop();

    let events = |id: &str| -> Vec<(String, String)> {
        std::fs::read_to_string(dir.join(format!("{id}.log")))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .collect()
    };
    // Never two at once: every start is followed by its own end.
    for id in ["skip", "queue"] {
        let ev = events(id);
        for pair in ev.chunks(2) {
            if let [(s, a), (e, b)] = pair {
                assert!(
                    s == "start" && e == "end" && a == b,
                    "{id} overlapped: {ev:?}"
                );
            }
        }
    }
    // replace: a run was stopped by the next, which started after it: two
    // starts in a row, of different processes, with no end between them.
    let ev = events("replace");
    assert!(
        ev.windows(2)
            .any(|w| w[0].0 == "start" && w[1].0 == "start" && w[0].1 != w[1].1),
        "a run replaced by the next: {ev:?}"
    );
    // allow: a second start before the first end.
    let ev = events("allow");
    assert!(
        ev.len() >= 2 && ev[0].0 == "start" && ev[1].0 == "start",
        "allow runs overlap: {ev:?}"
    );
}

#[test]
fn a_failed_run_starts_on_failure_with_what_failed() {
    let dir = temp_dir("on-failure");
    std::fs::write(
        dir.join("jobs.toml"),
        r#"
[jobs.broken]
command = "echo 'no space left' >&2; exit 3"
run_on_start = true
on_failure = "echo \"$SCHEDULER_JOB_ID $SCHEDULER_EXIT_STATUS $SCHEDULER_STDERR_TAIL\" > failure.txt"
"#,
    )
    .expect("config");
    let d = Daemon::start(&dir, "jobs.toml", &[]);
    let failed = d.wait_for("the failure", outcome_of("broken", "run failed"));
    assert_eq!(failed["exit"], "3", "{failed}");
    let lines = file_lines(&dir.join("failure.txt"), 1);
    assert_eq!(lines[0], "broken 3 no space left");
    d.stop();
}

#[test]
fn a_failed_run_is_retried_with_backoff_then_reported_once() {
    let dir = temp_dir("retries");
    std::fs::write(
        dir.join("jobs.toml"),
        r#"
[jobs.flaky]
command = "echo attempt >> attempts.log; exit 1"
run_on_start = true
retries = 2
retry_delay = "200ms"
on_failure = "echo $SCHEDULER_EXIT_STATUS >> failures.log"
"#,
    )
    .expect("config");
    let d = Daemon::start(&dir, "jobs.toml", &[]);
    let retries = d.wait_for_n("2 retries announced", 2, |l| {
        l["job_id"] == "flaky" && message(l).starts_with("run failed, will retry")
    });
    assert_eq!(retries[0]["attempt"], 1);
    assert_eq!(retries[1]["attempt"], 2);
    let last = d.wait_for("the final failure", outcome_of("flaky", "run failed:"));
    assert_eq!(last["attempt"], 3, "{last}");
    assert_eq!(file_lines(&dir.join("attempts.log"), 3).len(), 3);
    // on_failure once, for the run that failed for good.
    assert_eq!(file_lines(&dir.join("failures.log"), 1), ["1"]);
    d.stop();
    let failures = std::fs::read_to_string(dir.join("failures.log")).unwrap_or_default();
    assert_eq!(failures.lines().count(), 1, "{failures}");
}
