//! `scheduler import-crontab`: a crontab with every feature cronie reads
//! becomes a jobs.toml that `scheduler check` accepts, whose jobs fire when
//! cronie would fire them, and whose `%` input reaches the command.

mod common;

use std::process::Command;

use common::{file_lines, outcome_of, temp_dir, Daemon, BIN};

const CRONTAB: &str = r#"# m h dom mon dow command
SHELL=/bin/bash
PATH=/usr/local/bin:/usr/bin:/bin
MAILTO=ops@example.com

# Backups at 02:30 local time (a time the spring-forward night skips)
30 2 * * * /usr/local/bin/backup.sh --full > /var/log/backup.log 2>&1
*/15 9-17 * * mon-fri curl -fsS https://example.com/ping
  0 0 1,15 * 5 echo "1st, 15th or Friday"
@reboot /usr/local/bin/warm-cache
@daily  logrotate /etc/logrotate.conf
@hourly date +\%Y-\%m-\%dT\%H >> /tmp/hours
@DAILY cronie reads nicknames as written
CRON_TZ=America/New_York
0 9 * * 1-5 mail -s "Good morning" team%Hello team,%Standup at 9:30.
GREETING = "hi there"
5 4 * * sun echo $GREETING
61 * * * * this line is broken
@fortnightly nope
"#;

/// `scheduler import-crontab FILE` with the local zone given by `TZ`.
fn import(dir: &std::path::Path, file: &str) -> String {
    let out = Command::new(BIN)
        .args(["import-crontab", file])
        .current_dir(dir)
        .env("TZ", "Europe/Berlin")
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn a_crontab_converts_to_jobs_that_fire_when_cronie_would() {
    let dir = temp_dir("import");
    std::fs::write(dir.join("crontab"), CRONTAB).expect("crontab");
    let toml = import(&dir, "crontab");
    std::fs::write(dir.join("jobs.toml"), &toml).expect("jobs.toml");
    // What the file says, and how.
    for needle in [
        "tz = \"Europe/Berlin\"",
        "shell = \"/bin/bash\"",
        "env = { MAILTO = \"ops@example.com\", PATH = \"/usr/local/bin:/usr/bin:/bin\" }",
        "MAILTO=ops@example.com: no mail is sent",
        "command = \"date +%Y-%m-%dT%H >> /tmp/hours\"",
        "command = \"printf '%s' 'Hello team,\\nStandup at 9:30.\\n' | ( mail -s \\\"Good morning\\\" team )\"",
        "tz = \"America/New_York\"",
        "env = { GREETING = \"hi there\" }",
        "[jobs.warm-cache]\ncommand = \"/usr/local/bin/warm-cache\"\nrun_on_start = true\nonce_per_boot = true",
        "not converted: `@DAILY` is not a cron nickname",
        "# line 18: not converted: invalid cron expression `61 * * * *`",
        "#   61 * * * * this line is broken",
        "# line 19: not converted: `@fortnightly` is not a cron nickname",
        "# Backups at 02:30 local time",
    ] {
        assert!(toml.contains(needle), "no `{needle}` in:\n{toml}");
    }
    let check = common::scheduler(&["check", "jobs.toml"], &dir);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&check.stdout),
        "jobs.toml: 8 job(s), no problems\n"
    );

    // Saturday 28 March 2026, 13:00 in Berlin; Berlin springs forward that
    // night, New York did three weeks before.
    let table = common::stdout_of(
        &["jobs", "jobs.toml", "--after", "2026-03-28T12:00:00Z"],
        &dir,
    );
    // cronie's fire times: a fixed time in the skipped hour runs right after
    // it; day of month OR day of week when both are restricted.
    let expected = [
        (
            "backup-sh",
            "2026-03-29T03:00:00+02:00, 2026-03-30T02:30:00+02:00, 2026-03-31T02:30:00+02:00",
        ),
        (
            "curl",
            "2026-03-30T09:00:00+02:00, 2026-03-30T09:15:00+02:00, 2026-03-30T09:30:00+02:00",
        ),
        (
            "echo",
            "2026-04-01T00:00:00+02:00, 2026-04-03T00:00:00+02:00, 2026-04-10T00:00:00+02:00",
        ),
        ("warm-cache", "at the next start"),
        (
            "logrotate",
            "2026-03-29T00:00:00+01:00, 2026-03-30T00:00:00+02:00, 2026-03-31T00:00:00+02:00",
        ),
        (
            "date",
            "2026-03-28T14:00:00+01:00, 2026-03-28T15:00:00+01:00, 2026-03-28T16:00:00+01:00",
        ),
        (
            "mail",
            "2026-03-30T09:00:00-04:00, 2026-03-31T09:00:00-04:00, 2026-04-01T09:00:00-04:00",
        ),
        (
            "echo-2",
            "2026-03-29T04:05:00-04:00, 2026-04-05T04:05:00-04:00, 2026-04-12T04:05:00-04:00",
        ),
    ];
    for (job, times) in expected {
        let row = table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(job))
            .unwrap_or_else(|| panic!("no row for {job}:\n{table}"));
        assert!(row.contains(times), "{job}: expected {times}:\n{table}");
    }
    assert_eq!(table.lines().count(), expected.len() + 1, "{table}");
}

#[test]
fn percent_input_and_environment_reach_the_converted_command() {
    let dir = temp_dir("import-run");
    std::fs::write(
        dir.join("crontab"),
        "WHO=cron\n@reboot cat > input.txt; echo \"$WHO 100\\%\" > env.txt%line one%line two\n",
    )
    .expect("crontab");
    std::fs::write(dir.join("jobs.toml"), import(&dir, "crontab")).expect("jobs.toml");
    let d = Daemon::start(&dir, "jobs.toml", &[]);
    d.wait_for("the run", outcome_of("cat", "run succeeded"));
    assert_eq!(
        file_lines(&dir.join("input.txt"), 2),
        ["line one", "line two"]
    );
    assert_eq!(file_lines(&dir.join("env.txt"), 1), ["cron 100%"]);
    d.stop();
}
