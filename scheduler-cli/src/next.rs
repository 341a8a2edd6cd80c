//! `scheduler next`: compute and format fire times.

use chrono::{DateTime, SecondsFormat, Utc};
use scheduler_triggers::{
    parse_duration, parse_instant, parse_zone, CronFields, CronTrigger, IntervalTrigger, Trigger,
    Zone,
};

use crate::args::NextOptions;

/// The fire times, formatted, or a one-line message naming the problem.
pub(crate) fn run(o: &NextOptions) -> Result<Vec<String>, String> {
    let kinds = [o.cron.is_some(), !o.fields.is_empty(), o.interval.is_some()];
    match kinds.iter().filter(|k| **k).count() {
        0 => {
            return Err(
                "give one of --cron, --field or --interval (see `scheduler next --help`)".into(),
            )
        }
        1 => {}
        _ => return Err("give only one of --cron, --field and --interval".into()),
    }
    let zone = match &o.tz {
        Some(name) => parse_zone(name).map_err(|e| e.to_string())?,
        None => Zone::UTC,
    };
    let instant = |flag: &str, v: &Option<String>| -> Result<Option<DateTime<Utc>>, String> {
        v.as_deref()
            .map(|s| parse_instant(s).map_err(|e| format!("--{flag}: {e}")))
            .transpose()
    };
    let after = instant("after", &o.after)?.unwrap_or_else(Utc::now);
    let start = instant("start", &o.start)?;
    let end = instant("end", &o.end)?;
    let count: usize = match &o.count {
        Some(c) => c
            .parse()
            .map_err(|_| format!("--count `{c}`: expected a whole number of at least 0"))?,
        None => 10,
    };

    let trigger: Trigger = if let Some(expr) = &o.cron {
        CronTrigger::builder(expr)
            .zone(zone)
            .start(start)
            .end(end)
            .build()
            .map_err(|e| e.to_string())?
            .into()
    } else if let Some(every) = &o.interval {
        let every = parse_duration(every).map_err(|e| format!("--interval: {e}"))?;
        IntervalTrigger::builder(every)
            .tz(zone.name())
            .start(start.unwrap_or(after))
            .end(end)
            .build()
            .map_err(|e| format!("--interval: {e}"))?
            .into()
    } else {
        let mut fields = CronFields::new();
        for (name, expr) in &o.fields {
            fields = fields
                .set(name, expr)
                .map_err(|e| format!("--field: {e}"))?;
        }
        CronTrigger::from_fields(fields)
            .zone(zone)
            .start(start)
            .end(end)
            .build()
            .map_err(|e| format!("--field: {e}"))?
            .into()
    };

    Ok(trigger
        .iter_after(after)
        .take(count)
        .map(|t| {
            zone.localize(t)
                .to_rfc3339_opts(SecondsFormat::AutoSi, false)
        })
        .collect())
}
