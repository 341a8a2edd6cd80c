//! `scheduler next`: output format, defaults, and one-line errors.

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scheduler"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn lines(args: &[&str]) -> Vec<String> {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Runs a command that must fail; returns its single stderr line.
fn error(args: &[&str]) -> String {
    let out = run(args);
    assert!(!out.status.success(), "{args:?} succeeded");
    assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(err.lines().count(), 1, "{args:?}: not one line: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    err
}

#[test]
fn cron_in_a_zone_across_spring_forward() {
    assert_eq!(
        lines(&[
            "next",
            "--cron",
            "30 2 * * *",
            "--tz",
            "Europe/Berlin",
            "--after",
            "2026-03-28T00:00:00Z",
            "--count",
            "3"
        ]),
        [
            "2026-03-28T02:30:00+01:00",
            "2026-03-29T03:00:00+02:00",
            "2026-03-30T02:30:00+02:00"
        ]
    );
}

#[test]
fn count_defaults_to_ten_and_zone_to_utc() {
    let out = lines(&[
        "next",
        "--cron",
        "*/5 * * * *",
        "--after",
        "2026-01-01T00:00:00Z",
    ]);
    assert_eq!(out.len(), 10);
    assert_eq!(out[0], "2026-01-01T00:05:00+00:00");
    assert_eq!(out[9], "2026-01-01T00:50:00+00:00");
}

#[test]
fn after_defaults_to_now() {
    let out = lines(&["next", "--cron", "* * * * * *", "--count", "1"]);
    let t = chrono::DateTime::parse_from_rfc3339(&out[0]).expect("RFC 3339");
    let delta = t.with_timezone(&chrono::Utc) - chrono::Utc::now();
    assert!(delta.num_seconds().abs() <= 5, "{delta}");
}

#[test]
fn fields() {
    assert_eq!(
        lines(&[
            "next",
            "--field",
            "day=last fri",
            "--field",
            "hour=17",
            "--tz",
            "Europe/Berlin",
            "--after",
            "2026-01-01T00:00:00Z",
            "--count",
            "2"
        ]),
        ["2026-01-30T17:00:00+01:00", "2026-02-27T17:00:00+01:00"]
    );
    assert_eq!(
        lines(&[
            "next",
            "--field",
            "hour=9",
            "--start",
            "2026-05-01T00:00:00Z",
            "--end",
            "2026-05-02T12:00:00Z",
            "--after",
            "2026-01-01T00:00:00Z"
        ]),
        ["2026-05-01T09:00:00+00:00", "2026-05-02T09:00:00+00:00"]
    );
}

#[test]
fn interval_starts_at_after_without_start() {
    assert_eq!(
        lines(&[
            "next",
            "--interval",
            "1h30m",
            "--after",
            "2026-01-01T00:00:00Z",
            "--count",
            "2"
        ]),
        ["2026-01-01T01:30:00+00:00", "2026-01-01T03:00:00+00:00"]
    );
    assert_eq!(
        lines(&[
            "next",
            "--interval",
            "90s",
            "--start",
            "2026-01-01T00:00:00Z",
            "--end",
            "2026-01-01T00:03:00Z",
            "--after",
            "2026-01-01T00:00:30Z",
            "--tz",
            "Asia/Kolkata"
        ]),
        ["2026-01-01T05:31:30+05:30", "2026-01-01T05:33:00+05:30"]
    );
}

#[test]
fn fewer_lines_when_the_trigger_ends() {
    assert_eq!(
        lines(&[
            "next",
            "--cron",
            "0 0 0 1 1 * 2030",
            "--after",
            "2026-01-01T00:00:00Z"
        ]),
        ["2030-01-01T00:00:00+00:00"]
    );
}

#[test]
fn errors_are_one_line_naming_the_problem() {
    for (args, needle) in [
        (vec!["next", "--cron", "0 25 * * *"], "hour"),
        (vec!["next", "--cron", "0 0 30 2 *"], "never fires"),
        (
            vec!["next", "--cron", "* * * * *", "--tz", "Mars/Olympus"],
            "Mars/Olympus",
        ),
        (vec!["next", "--field", "weekday=mon"], "weekday"),
        (vec!["next", "--field", "hour"], "NAME=EXPR"),
        (vec!["next", "--interval", "0s"], "longer than zero"),
        (vec!["next", "--interval", "-5m"], "duration"),
        (
            vec![
                "next",
                "--cron",
                "* * * * *",
                "--after",
                "2026-01-01T00:00:00",
            ],
            "offset is missing",
        ),
        (
            vec!["next", "--cron", "* * * * *", "--count", "-1"],
            "--count",
        ),
        (
            vec!["next", "--cron", "* * * * *", "--interval", "1m"],
            "only one",
        ),
        (vec!["next"], "--cron"),
        (vec!["next", "--bogus"], "--bogus"),
        (vec!["next", "--cron"], "needs a value"),
        (vec!["frobnicate"], "frobnicate"),
        (vec!["next", "--cron", "61\n* * * *"], "minute"),
    ] {
        let err = error(&args);
        assert!(err.contains(needle), "{args:?}: `{err}` lacks `{needle}`");
    }
}

#[test]
fn help_shows_grammar_with_examples() {
    for args in [vec!["--help"], vec!["next", "--help"]] {
        let out = lines(&args).join("\n");
        for needle in [
            "--cron",
            "--field",
            "--interval",
            "day_of_week",
            "@daily",
            "1h30m",
            "Examples",
        ] {
            assert!(out.contains(needle), "help lacks {needle}");
        }
    }
}
