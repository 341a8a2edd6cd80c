//! `print_jobs`: a readable table.

use std::fmt::Write;

use crate::job::Job;
use crate::trigger::Trigger;

pub(crate) fn describe(t: &Trigger) -> String {
    match t {
        Trigger::Date(d) => format!(
            "date[{}]",
            d.at().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ),
        Trigger::Interval(i) => format!(
            "interval[{}]",
            scheduler_triggers::format_duration(i.every())
        ),
        Trigger::Cron(c) => match (c.expr(), c.fields()) {
            (Some(e), _) => format!("cron[{e}] {}", c.zone()),
            (None, Some(f)) => {
                let parts: Vec<String> = f.iter().map(|(k, v)| format!("{k}='{v}'")).collect();
                format!("cron[{}] {}", parts.join(", "), c.zone())
            }
            (None, None) => "cron".to_owned(),
        },
        Trigger::Any { triggers } => format!(
            "any[{}]",
            triggers.iter().map(describe).collect::<Vec<_>>().join(", ")
        ),
        Trigger::All { triggers } => format!(
            "all[{}]",
            triggers.iter().map(describe).collect::<Vec<_>>().join(", ")
        ),
        _ => "trigger".to_owned(),
    }
}

/// The jobs as a table with columns id, name, trigger, next run.
pub(crate) fn table(jobs: &[Job]) -> String {
    let rows: Vec<[String; 4]> = jobs
        .iter()
        .map(|j| {
            let zone = j.trigger().zone();
            [
                j.id().to_owned(),
                j.name().to_owned(),
                describe(j.trigger()),
                j.next_run_time().map_or_else(
                    || "paused".to_owned(),
                    |t| {
                        zone.localize(t)
                            .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
                    },
                ),
            ]
        })
        .collect();
    let header = ["id", "name", "trigger", "next run"];
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: [&str; 4]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            let _ = write!(s, "{c:<w$}", w = widths[i]);
            if i < 3 {
                s.push_str("  ");
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(header);
    for r in &rows {
        line([&r[0], &r[1], &r[2], &r[3]]);
    }
    if jobs.is_empty() {
        out.push_str("(no jobs)\n");
    }
    out
}
