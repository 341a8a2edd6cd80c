//! `scheduler jobs`: the jobs of a config with their next fire times in
//! their zones, and, when the state file exists, the next run time the
//! daemon keeps and the last outcome.

use std::collections::HashMap;
use std::process::ExitCode;

use chrono::{DateTime, SecondsFormat, Utc};
use scheduler::stores::{JobStore, RunRecord, RunStatus};
use scheduler::trigger::parse_instant;
use scheduler::SqliteStore;

use crate::args::RunOptions;
use crate::config::{self, JobConfig};

/// What the state file says of a job.
#[derive(Default)]
struct Stored {
    next: Option<DateTime<Utc>>,
    paused: bool,
    /// The trigger as scheduled (an interval keeps its first start).
    trigger: Option<scheduler::trigger::Trigger>,
    last: Option<RunRecord>,
}

/// Prints the table; exit code 1 if the config has problems, 2 for bad options.
pub(crate) fn run(opts: &RunOptions) -> ExitCode {
    let config = match config::load(&opts.config) {
        Ok(c) => c,
        Err(problems) => {
            for p in &problems {
                eprintln!("{p}");
            }
            return ExitCode::from(1);
        }
    };
    let after = match &opts.after {
        Some(a) => match parse_instant(a) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: --after: {e}");
                return ExitCode::from(2);
            }
        },
        None => Utc::now(),
    };
    let state = opts.state_path();
    let stored = if state.exists() {
        match read_state(&state, &config.jobs) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: reading {}: {e}", state.display());
                return ExitCode::from(1);
            }
        }
    } else {
        HashMap::new()
    };
    let mut rows = vec![[
        "JOB".to_owned(),
        "TRIGGER".to_owned(),
        "ZONE".to_owned(),
        "NEXT RUNS".to_owned(),
        "LAST RUN".to_owned(),
    ]];
    for job in &config.jobs {
        let s = stored.get(&job.id);
        rows.push([
            job.id.clone(),
            describe(job),
            job.trigger.as_ref().map_or_else(
                || "-".to_owned(),
                |t| t.spec.tz.clone().unwrap_or_else(|| "UTC".to_owned()),
            ),
            next_runs(job, s, after, opts.count),
            s.map_or_else(|| "-".to_owned(), last_run),
        ]);
    }
    print_table(&rows);
    ExitCode::SUCCESS
}

/// The trigger as the config gives it.
fn describe(job: &JobConfig) -> String {
    let Some(t) = job.trigger.as_ref().map(|t| &t.spec) else {
        return "at start".to_owned();
    };
    let base = if let Some(c) = &t.cron {
        format!("cron {c}")
    } else if let Some(i) = &t.interval {
        format!("every {i}")
    } else if let Some(d) = &t.date {
        format!("once at {d}")
    } else if let Some(f) = &t.fields {
        let parts: Vec<String> = f.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("fields {}", parts.join(" "))
    } else {
        "?".to_owned()
    };
    if job.run_on_start {
        format!("{base}, and at start")
    } else {
        base
    }
}

/// The next `count` fire times after `after`, in the job's zone: the
/// stored next run time first when there is one.
fn next_runs(
    job: &JobConfig,
    stored: Option<&Stored>,
    after: DateTime<Utc>,
    count: usize,
) -> String {
    let Some(spec) = job.trigger.as_ref().map(|t| &t.spec) else {
        return "at the next start".to_owned();
    };
    if stored.is_some_and(|s| s.paused) {
        return "paused".to_owned();
    }
    let trigger = match stored.and_then(|s| s.trigger.clone()) {
        Some(t) => t,
        None => match spec.build(after) {
            Ok(t) => t,
            Err(_) => return "-".to_owned(),
        },
    };
    let zone = trigger.zone();
    let mut times: Vec<DateTime<Utc>> = Vec::with_capacity(count);
    if let Some(next) = stored.and_then(|s| s.next) {
        times.push(next);
    }
    let from = times.last().copied().unwrap_or(after);
    // The store keeps microseconds: the same fire time may come back a few
    // nanoseconds later.
    let later = trigger
        .iter_after(from)
        .filter(|t| (*t - from) >= chrono::TimeDelta::milliseconds(1));
    times.extend(later.take(count.saturating_sub(times.len())));
    if times.is_empty() {
        return "never again".to_owned();
    }
    times
        .iter()
        .map(|t| {
            zone.localize(*t)
                .to_rfc3339_opts(SecondsFormat::AutoSi, false)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn last_run(s: &Stored) -> String {
    let Some(r) = &s.last else {
        return "-".to_owned();
    };
    let at = r
        .finished_at
        .or(r.started_at)
        .unwrap_or(r.scheduled_at)
        .to_rfc3339_opts(SecondsFormat::Secs, true);
    let status = match r.status {
        RunStatus::Queued => "queued",
        RunStatus::Running => "running",
        RunStatus::Succeeded => "succeeded",
        RunStatus::Failed => "failed",
        RunStatus::Abandoned => "abandoned",
    };
    match &r.error {
        Some(e) if r.status == RunStatus::Failed => {
            let short: String = e.chars().take(60).collect();
            format!("{status} {at}: {short}")
        }
        _ => format!("{status} {at}"),
    }
}

/// Reads the next run time and the last run of each job from the state file.
fn read_state(
    path: &std::path::Path,
    jobs: &[JobConfig],
) -> Result<HashMap<String, Stored>, scheduler::Error> {
    let store = SqliteStore::open(path);
    actix_rt::System::new().block_on(async {
        store.setup().await?;
        let mut out: HashMap<String, Stored> = store
            .jobs()
            .await?
            .into_iter()
            .map(|r| {
                let s = Stored {
                    next: r.next_run_time,
                    paused: r.next_run_time.is_none(),
                    trigger: Some(r.trigger),
                    last: None,
                };
                (r.id, s)
            })
            .collect();
        for job in jobs {
            let last = store.runs(Some(&job.id), 1).await?.into_iter().next();
            if let Some(l) = last {
                out.entry(job.id.clone()).or_default().last = Some(l);
            }
        }
        store.close().await;
        Ok(out)
    })
}

/// Columns padded to their widest cell.
fn print_table(rows: &[[String; 5]]) {
    let mut widths = [0usize; 5];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in rows {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  "));
            }
        }
        println!("{}", line.trim_end());
    }
}
