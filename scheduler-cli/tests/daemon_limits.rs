//! `scheduler run` and the open-file limit: three descriptors per running
//! command, so a large `max_parallel` raises the soft limit at start (up to
//! the hard limit), and a hard limit too low for it is reported at start.
//! The daemon runs under `prlimit` (util-linux) with a low limit.

mod common;

use common::{message, ready, temp_dir, Daemon};
use serde_json::Value;

fn limits_line(l: &Value) -> bool {
    l["target"] == "scheduler::daemon" && message(l).contains("open-file limit")
}

fn config(dir: &std::path::Path) {
    std::fs::write(
        dir.join("jobs.toml"),
        r#"
[daemon]
max_parallel = 1000

[jobs.limit]
command = "ulimit -Sn"
interval = "1s"
"#,
    )
    .expect("config");
}

#[test]
fn a_large_max_parallel_raises_the_soft_open_file_limit_up_to_the_hard_one() {
    let dir = temp_dir("nofile-raised");
    config(&dir);
    let d = Daemon::start_under(&["prlimit", "--nofile=256:8192"], &dir, "jobs.toml");
    d.wait_for("ready", ready);
    let raised = d.wait_for("the limit raised", limits_line);
    assert_eq!(raised["level"], "INFO", "{raised}");
    assert_eq!(raised["from"], 256, "{raised}");
    // 128 of the daemon's own, and 4 for each of 1 000 commands.
    assert_eq!(raised["to"], 4128, "{raised}");
    // Commands inherit it.
    d.wait_for("a command's soft limit", |l| message(l) == "4128");
    let lines = d.stop();
    assert_eq!(lines.iter().filter(|l| limits_line(l)).count(), 1);
}

#[test]
fn a_hard_open_file_limit_too_low_for_max_parallel_is_reported_at_start() {
    let dir = temp_dir("nofile-short");
    config(&dir);
    let d = Daemon::start_under(&["prlimit", "--nofile=256:512"], &dir, "jobs.toml");
    d.wait_for("ready", ready);
    let warned = d.wait_for("the warning", |l| limits_line(l) && l["level"] == "WARN");
    assert_eq!(warned["limit"], 512, "{warned}");
    assert!(
        message(&warned)
            .contains("allows about 96 commands at once, fewer than max_parallel = 1000"),
        "{warned}"
    );
    // Raised as far as it goes, and the jobs still run.
    d.wait_for("a command's soft limit", |l| message(l) == "512");
    d.stop();
}
