//! `scheduler check` and `scheduler jobs`: every problem of a config at its
//! line and column with what was expected, and the jobs' next fire times.

mod common;

use common::{scheduler, temp_dir};

const BAD: &str = r#"[defaults]
tz = "Europe/Berlin"
timout = "5s"

[jobs.a]
command = "echo a"
cron = "0 25 * * *"

[jobs.b]
argv = ["x", 3]
interval = "5 parsecs"
tz = "Mars/Olympus"

[jobs.c]
command = "x"

[jobs.d]
command = "x"
cron = "* * * * *"
interval = "1m"
overlap = "sometimes"
retries = -1
timeout = 5

[jobs.e]
command = "x"
fields = { hour = "25", minute = "*/15" }
date = "tomorrow"

[jobs.f]
cron = "@daily"
"#;

#[test]
fn check_reports_every_problem_at_its_line_and_column() {
    let dir = temp_dir("check");
    std::fs::write(dir.join("bad.toml"), BAD).expect("config");
    let out = scheduler(&["check", "bad.toml"], &dir);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected: &[(&str, &str)] = &[
        (
            "bad.toml:3:1: ",
            "unknown key `timout` in [defaults]; expected one of: shell, tz",
        ),
        (
            "bad.toml:7:11: ",
            "field `hour` at position 2: 25 is out of range 0-23",
        ),
        (
            "bad.toml:10:14: ",
            "`argv` must hold only strings; this is integer",
        ),
        ("bad.toml:11:15: ", "`interval`: unknown unit `parsecs`"),
        (
            "bad.toml:12:6: ",
            "\"Mars/Olympus\": not a time zone of the IANA database",
        ),
        (
            "bad.toml:14:7: ",
            "job `c` has no trigger; expected one of `cron`",
        ),
        ("bad.toml:20:1: ", "job `d` has both `cron` and `interval`"),
        (
            "bad.toml:21:11: ",
            "`overlap` = \"sometimes\" is not one of: \"skip\", \"allow\", \"queue\", \"replace\"",
        ),
        (
            "bad.toml:22:11: ",
            "`retries` must be a whole number from 0 to 1000",
        ),
        ("bad.toml:23:11: ", "`timeout` must be a duration in quotes"),
        (
            "bad.toml:27:20: ",
            "`fields.hour`: invalid field expression `25`",
        ),
        ("bad.toml:28:1: ", "job `e` has both `fields` and `date`"),
        ("bad.toml:28:8: ", "`date` = \"tomorrow\""),
        (
            "bad.toml:30:7: ",
            "job `f` has no command; expected `command = \"...\"`",
        ),
    ];
    let lines: Vec<&str> = stderr.lines().collect();
    for (at, what) in expected {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(at) && l.contains("error: ") && l.contains(what)),
            "no `{at}...{what}` in:\n{stderr}"
        );
    }
    assert_eq!(
        lines.len(),
        expected.len() + 1,
        "one line a problem, and a count:\n{stderr}"
    );
    assert_eq!(lines.last().copied(), Some("bad.toml: 14 problem(s)"));
}

#[test]
fn check_reports_toml_syntax_errors_at_their_position() {
    let dir = temp_dir("check-syntax");
    std::fs::write(
        dir.join("jobs.toml"),
        "[jobs.a]\ncommand = \"echo\ncron = 1\n",
    )
    .expect("config");
    let out = scheduler(&["check", "jobs.toml"], &dir);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    // At the end of the line, where the closing quote is missing.
    assert!(
        stderr.starts_with(
            "jobs.toml:2:16: error: invalid TOML: invalid basic string, expected `\"`"
        ),
        "{stderr}"
    );
}

#[test]
fn check_accepts_a_good_config_and_jobs_lists_its_fire_times_in_their_zones() {
    let dir = temp_dir("check-good");
    std::fs::write(
        dir.join("jobs.toml"),
        r#"
[jobs.nightly]
command = "backup"
cron = "30 2 * * *"
tz = "Europe/Berlin"

[jobs.boot]
command = "warm-cache"
run_on_start = true
"#,
    )
    .expect("config");
    let out = scheduler(&["check", "jobs.toml"], &dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "jobs.toml: 2 job(s), no problems\n"
    );
    // The spring-forward night: 02:30 does not exist in Berlin on 29 March.
    let table = common::stdout_of(
        &["jobs", "jobs.toml", "--after", "2026-03-27T12:00:00Z"],
        &dir,
    );
    let nightly = table
        .lines()
        .find(|l| l.starts_with("nightly"))
        .expect("a row");
    assert!(
        nightly.contains(
            "2026-03-28T02:30:00+01:00, 2026-03-29T03:00:00+02:00, 2026-03-30T02:30:00+02:00"
        ),
        "{table}"
    );
    assert!(nightly.contains("Europe/Berlin"), "{table}");
    let boot = table
        .lines()
        .find(|l| l.starts_with("boot"))
        .expect("a row");
    assert!(
        boot.contains("at start") && boot.contains("at the next start"),
        "{table}"
    );
}

#[test]
fn keys_that_would_have_no_effect_are_errors() {
    let dir = temp_dir("check-no-effect");
    std::fs::write(
        dir.join("jobs.toml"),
        "[jobs.boot]\ncommand = \"x\"\nrun_on_start = true\nstart = \"2026-01-01T00:00:00Z\"\n\n\
         [jobs.once]\ncommand = \"x\"\ndate = \"2026-01-01T00:00:00Z\"\ntz = \"Europe/Berlin\"\n\n\
         [jobs.every]\ncommand = \"x\"\ninterval = \"1h\"\nonce_per_boot = true\n",
    )
    .expect("config");
    let out = scheduler(&["check", "jobs.toml"], &dir);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for (at, what) in [
        (
            "jobs.toml:4:1: ",
            "`start` has no effect: job `boot` has no trigger",
        ),
        ("jobs.toml:9:1: ", "`tz` has no effect: `date` fires once"),
        (
            "jobs.toml:14:1: ",
            "`once_per_boot` applies to a job with `run_on_start = true` and no trigger",
        ),
    ] {
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with(at) && l.contains(what)),
            "no `{at}...{what}` in:\n{stderr}"
        );
    }
}
