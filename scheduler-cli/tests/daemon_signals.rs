//! Signals to `scheduler run`: SIGTERM drains (running commands get SIGTERM
//! and the grace), SIGHUP reloads the config, keeps the state, and refuses
//! a broken config while the old one stays in force.

mod common;

use std::time::Duration;

use common::{file_lines, message, outcome_of, ready, scheduler, temp_dir, Daemon};
use rustix::process::Signal;

#[test]
fn sigterm_gives_running_commands_sigterm_and_the_grace() {
    let dir = temp_dir("drain");
    std::fs::write(
        dir.join("jobs.toml"),
        r#"
[daemon]
grace = "2s"

# Ends cleanly on SIGTERM.
[jobs.polite]
command = "trap 'echo got TERM > polite.txt; exit 0' TERM; echo started > polite.started; while true; do sleep 0.05; done"
run_on_start = true

# Ignores SIGTERM: killed after the grace.
[jobs.deaf]
command = "trap '' TERM; echo $$ > deaf.pid; while true; do sleep 0.05; done"
run_on_start = true
"#,
    )
    .expect("config");
    let mut d = Daemon::start(&dir, "jobs.toml", &[]);
    d.wait_for("ready", ready);
    file_lines(&dir.join("polite.started"), 1);
    let deaf: u32 = file_lines(&dir.join("deaf.pid"), 1)[0]
        .parse()
        .expect("pid");
    let t0 = std::time::Instant::now();
    d.signal(Signal::TERM);
    let status = d.wait_exit();
    let took = t0.elapsed();
    assert!(status.success(), "exit {status}; {:?}", d.lines());
    assert_eq!(file_lines(&dir.join("polite.txt"), 1), ["got TERM"]);
    assert!(!common::alive(deaf), "the deaf command was killed");
    assert!(
        took >= Duration::from_millis(1900),
        "waited the grace for the deaf one: {took:?}"
    );
    let lines = d.lines();
    let stopping = lines
        .iter()
        .find(|l| message(l).starts_with("stopping"))
        .expect("a stopping line");
    assert_eq!(stopping["signal"], "SIGTERM");
    assert_eq!(stopping["running"], 2, "{stopping}");
    let polite = lines.iter().find(|l| outcome_of("polite", "run failed")(l));
    let polite = polite.expect("the drained run is recorded");
    assert_eq!(polite["exit"], "cancelled", "{polite}");
    assert!(lines.iter().any(|l| message(l) == "stopped"));
}

#[test]
fn sighup_reloads_keeps_state_and_refuses_a_broken_config() {
    let dir = temp_dir("reload");
    let config = dir.join("jobs.toml");
    let write = |text: &str| std::fs::write(&config, text).expect("config");
    write(
        r#"
[jobs.kept]
command = "echo kept >> kept.log"
interval = "1h"
run_on_start = true

[jobs.changed]
command = "echo old >> changed.log"
cron = "* * * * * *"

[jobs.removed]
command = "echo removed >> removed.log"
cron = "* * * * * *"
"#,
    );
    let d = Daemon::start(&dir, "jobs.toml", &[]);
    d.wait_for("ready", ready);
    file_lines(&dir.join("changed.log"), 1);
    file_lines(&dir.join("removed.log"), 1);
    let jobs_before = scheduler(&["jobs", "jobs.toml"], &dir);
    let kept_next = |out: &std::process::Output| -> String {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find(|l| l.starts_with("kept"))
            .and_then(|l| {
                l.split("  ")
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .nth(3)
            })
            .map(|c| c.split(',').next().unwrap_or("").to_owned())
            .unwrap_or_default()
    };
    let before = kept_next(&jobs_before);
    assert!(
        !before.is_empty(),
        "{}",
        String::from_utf8_lossy(&jobs_before.stdout)
    );

    write(
        r#"
[jobs.kept]
command = "echo kept >> kept.log"
interval = "1h"
run_on_start = true

[jobs.changed]
command = "echo new >> changed.log"
cron = "* * * * * *"

[jobs.added]
command = "echo added >> added.log"
cron = "* * * * * *"
"#,
    );
    d.signal(Signal::HUP);
    let reloaded = d.wait_for("reloaded", |l| message(l) == "reloaded");
    assert!(
        reloaded["added"].as_str().unwrap_or("").contains("added"),
        "{reloaded}"
    );
    assert!(
        reloaded["removed"]
            .as_str()
            .unwrap_or("")
            .contains("removed"),
        "{reloaded}"
    );
    assert!(
        reloaded["updated"]
            .as_str()
            .unwrap_or("")
            .contains("changed"),
        "{reloaded}"
    );
    file_lines(&dir.join("added.log"), 1);
    let deadline = std::time::Instant::now() + common::PATIENCE;
    while !std::fs::read_to_string(dir.join("changed.log"))
        .unwrap_or_default()
        .contains("new")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the changed command never ran"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The removed job stops: no new line after the reload settles.
    let removed_runs = d.matching(outcome_of("removed", "run")).len();
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(d.matching(outcome_of("removed", "run")).len(), removed_runs);
    // The unchanged job keeps its next run time (state kept, not rescheduled).
    assert_eq!(kept_next(&scheduler(&["jobs", "jobs.toml"], &dir)), before);

    // A broken config is refused, with its position; the old one stays.
    write("[jobs.added]\ncommand = \"echo x\"\ncron = \"* * * * * *\"\ntimout = \"1s\"\n");
    d.signal(Signal::HUP);
    let problem = d.wait_for("the problem", |l| {
        l["target"] == "scheduler::config" && message(l).contains("jobs.toml:4:1")
    });
    assert!(
        message(&problem).contains("unknown key `timout`"),
        "{problem}"
    );
    d.wait_for("the refusal", |l| message(l).starts_with("reload refused"));
    let added_runs = d.matching(outcome_of("added", "run succeeded")).len();
    d.wait_for_n(
        "added still runs",
        added_runs + 2,
        outcome_of("added", "run succeeded"),
    );
    assert!(d.matching(outcome_of("changed", "run succeeded")).len() > 1);
    d.stop();
}
