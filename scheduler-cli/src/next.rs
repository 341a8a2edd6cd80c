//! `scheduler next`: compute and format fire times.

use chrono::{DateTime, SecondsFormat, Utc};
use scheduler_triggers::{parse_instant, parse_zone, TriggerSpec, Zone};

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
    instant("start", &o.start)?;
    instant("end", &o.end)?;
    let count: usize = match &o.count {
        Some(c) => c
            .parse()
            .map_err(|_| format!("--count `{c}`: expected a whole number of at least 0"))?,
        None => 10,
    };

    let mut fields = std::collections::BTreeMap::new();
    for (name, expr) in &o.fields {
        if fields.insert(name.clone(), expr.clone()).is_some() {
            return Err(format!("--field: `{name}` is given twice"));
        }
    }
    let spec = TriggerSpec {
        cron: o.cron.clone(),
        fields: (!fields.is_empty()).then_some(fields),
        interval: o.interval.clone(),
        date: None,
        tz: o.tz.clone(),
        start: o.start.clone(),
        end: o.end.clone(),
    };
    let flag = if o.interval.is_some() {
        "--interval: "
    } else if o.cron.is_some() {
        ""
    } else {
        "--field: "
    };
    let trigger = spec.build(after).map_err(|e| format!("{flag}{e}"))?;
    Ok(trigger
        .iter_after(after)
        .take(count)
        .map(|t| {
            zone.localize(t)
                .to_rfc3339_opts(SecondsFormat::AutoSi, false)
        })
        .collect())
}
