//! The state file of `scheduler run`: fire times missed while the daemon
//! was down are caught up by policy at the next start, history survives a
//! restart, and two daemons on one state file never both run a fire time.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use common::{message, outcome_of, ready, scheduler, temp_dir, Daemon};
use serde_json::Value;

/// The fire time of a run line.
fn scheduled_at(l: &Value) -> DateTime<Utc> {
    l["scheduled_at"]
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("no scheduled_at in {l}"))
}

#[test]
fn missed_fire_times_are_caught_up_at_the_next_start_by_policy() {
    let dir = temp_dir("catch-up");
    let job = |id: &str, policy: &str| {
        format!(
            "[jobs.{id}]\ncommand = \"true\"\ncron = \"*/5 * * * * *\"\ncatch_up = \"{policy}\"\n\
             misfire_grace = \"1s\"\n\n"
        )
    };
    let config = [job("none", "none"), job("once", "once"), job("all", "all")].concat();
    std::fs::write(dir.join("jobs.toml"), config).expect("config");
    let d = Daemon::start(&dir, "jobs.toml", &[]);
    d.wait_for("ready", ready);
    for id in ["none", "once", "all"] {
        d.wait_for(id, outcome_of(id, "run succeeded"));
    }
    d.stop();
    // Down for 11 to 16 s: two or three fire times of each job are missed.
    // The restart is half-way between two fire times, so the last missed
    // one is 2.5 s late, past the 1 s misfire grace, and a start as slow as
    // 2.5 s still sees every missed fire time before its restart.
    std::thread::sleep(Duration::from_secs(11));
    while !(Utc::now().timestamp() % 5 == 2
        && (450..550).contains(&Utc::now().timestamp_subsec_millis()))
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    let restart = Utc::now();
    let d = Daemon::start(&dir, "jobs.toml", &[]);
    d.wait_for("ready", ready);
    let late = |id: &'static str| {
        move |l: &Value| outcome_of(id, "run succeeded")(l) && scheduled_at(l) < restart
    };
    // once: one run for all the missed fire times (systemd's Persistent=).
    d.wait_for("the catch-up run of once", late("once"));
    // all: each missed fire time.
    let all = d.wait_for_n("the catch-up runs of all", 2, late("all"));
    let times: HashSet<DateTime<Utc>> = all.iter().map(scheduled_at).collect();
    assert_eq!(
        times.len(),
        all.len(),
        "each missed fire time once: {all:?}"
    );
    // none: missed, and logged as such.
    d.wait_for("none's missed fire times", |l| {
        l["job_id"] == "none" && message(l).starts_with("missed")
    });
    // Then every job goes on on its cadence.
    for id in ["none", "once", "all"] {
        d.wait_for(id, |l| {
            outcome_of(id, "run succeeded")(l) && scheduled_at(l) > restart
        });
    }
    let lines = d.stop();
    assert!(
        !lines.iter().any(late("none")),
        "none ran a missed fire time"
    );
    assert_eq!(
        lines.iter().filter(|l| late("once")(l)).count(),
        1,
        "once ran once"
    );
    // The history survived the restart.
    let out = scheduler(&["jobs", "jobs.toml"], &dir);
    let table = String::from_utf8_lossy(&out.stdout);
    for id in ["none", "once", "all"] {
        let row = table.lines().find(|l| l.starts_with(id)).expect("a row");
        assert!(row.contains("succeeded"), "{table}");
    }
}

#[test]
fn two_daemons_on_one_state_file_never_both_run_a_fire_time() {
    let dir = temp_dir("two");
    std::fs::write(
        dir.join("jobs.toml"),
        "[jobs.tick]\ncommand = \"true\"\ncron = \"* * * * * *\"\n\n\
         [jobs.fast]\ncommand = \"true\"\ninterval = \"500ms\"\n",
    )
    .expect("config");
    let a = Daemon::start(&dir, "jobs.toml", &[]);
    a.wait_for("a ready", ready);
    let b = Daemon::start(&dir, "jobs.toml", &[]);
    b.wait_for("b ready", ready);
    let start = Utc::now();
    // Both run for a while (6 fire times of tick, wherever they ran); every
    // fire time after both were up is counted.
    let after_start = |l: &Value| outcome_of("tick", "run succeeded")(l) && scheduled_at(l) > start;
    let deadline = std::time::Instant::now() + common::PATIENCE;
    while a.matching(after_start).len() + b.matching(after_start).len() < 6 {
        assert!(
            std::time::Instant::now() < deadline,
            "6 runs of tick within {:?}",
            common::PATIENCE
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut lines = a.stop();
    lines.extend(b.stop());
    for id in ["tick", "fast"] {
        let runs: Vec<DateTime<Utc>> = lines
            .iter()
            .filter(|l| outcome_of(id, "run succeeded")(l))
            .map(scheduled_at)
            .filter(|t| *t > start)
            .collect();
        let unique: HashSet<&DateTime<Utc>> = runs.iter().collect();
        assert_eq!(
            unique.len(),
            runs.len(),
            "{id}: a fire time ran twice: {runs:?}"
        );
        assert!(runs.len() >= 4, "{id} ran: {runs:?}");
    }
}

#[test]
fn run_on_start_runs_at_every_start_once_per_boot_only_once_and_a_past_date_once() {
    let dir = temp_dir("on-start");
    let past = (Utc::now() - chrono::TimeDelta::seconds(30)).to_rfc3339();
    std::fs::write(
        dir.join("jobs.toml"),
        format!(
            "[jobs.hourly]\ncommand = \"echo x >> hourly.log\"\ninterval = \"1h\"\nrun_on_start = true\n\n\
             [jobs.boot]\ncommand = \"echo x >> boot.log\"\nrun_on_start = true\n\n\
             [jobs.reboot]\ncommand = \"echo x >> reboot.log\"\nrun_on_start = true\nonce_per_boot = true\n\n\
             [jobs.missed]\ncommand = \"echo x >> missed.log\"\ndate = \"{past}\"\ncatch_up = \"once\"\n"
        ),
    )
    .expect("config");
    for start in 1..=2 {
        let d = Daemon::start(&dir, "jobs.toml", &[]);
        let ready = d.wait_for("ready", ready);
        d.wait_for("hourly", outcome_of("hourly", "run succeeded"));
        d.wait_for("boot", outcome_of("boot", "run succeeded"));
        if start == 1 {
            d.wait_for("reboot", outcome_of("reboot", "run succeeded"));
            d.wait_for("missed", outcome_of("missed", "run succeeded"));
        } else {
            // Done already: the boot job this boot, the date for good.
            assert_eq!(ready["finished"], 2, "{ready}");
        }
        d.stop();
        assert_eq!(
            common::file_lines(&dir.join("hourly.log"), start).len(),
            start
        );
        assert_eq!(
            common::file_lines(&dir.join("boot.log"), start).len(),
            start
        );
    }
    assert_eq!(common::file_lines(&dir.join("reboot.log"), 1).len(), 1);
    assert_eq!(common::file_lines(&dir.join("missed.log"), 1).len(), 1);
}
