//! Static jobs: `#[scheduled]` descriptors turned into job specs at start.

use std::sync::Arc;

use crate::error::{Error, ErrorKind};
use crate::job::data::DataMap;
use crate::job::options::{JobOptions, Retry};
use crate::job::registry::{JobDescriptor, Registry, StaticSchedule, StaticTrigger};
use crate::job::target::{Inner, Registered, Target};
use crate::job::JobSpec;
use crate::trigger::{
    parse_duration, parse_instant, CronFields, CronTrigger, IntervalTrigger, Trigger,
};

/// The job specs of every `#[scheduled]` function, or the first error, naming the function.
pub(crate) fn specs(
    registry: &Registry,
    data: &DataMap,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<JobSpec>, Error> {
    let mut out = Vec::new();
    for d in registry.iter() {
        let Some(s) = d.schedule else { continue };
        let named = |e: scheduler_triggers::Error| {
            Error::from(e).context(format_args!("scheduled job `{}` (`{}`)", d.name, d.path))
        };
        for req in d.data {
            if !data.contains((req.type_id)()) {
                return Err(Error::new(
                    ErrorKind::MissingData,
                    format!(
                        "scheduled job `{}` (`{}`): {}",
                        d.name,
                        d.path,
                        data.missing(req.type_name)
                    ),
                ));
            }
        }
        let trigger = trigger(&s, now).map_err(named)?;
        let options = options(&s).map_err(named)?;
        let mut spec = JobSpec::new(target(d));
        spec.id = Some(Arc::from(s.id.unwrap_or(d.name)));
        spec.name = Some(Arc::from(s.name.unwrap_or(d.display)));
        spec.trigger = Some(trigger);
        spec.options = Some(options);
        if s.paused {
            spec.next_run_time = Some(None);
        }
        out.push(spec);
    }
    Ok(out)
}

fn target(d: &JobDescriptor) -> Target {
    Target {
        inner: Inner::Registered(Arc::new(Registered {
            name: std::borrow::Cow::Borrowed(d.name),
            args: Arc::new(serde_json::Value::Null),
            func: Some(d.func),
            invalid: None,
        })),
    }
}

fn trigger(
    s: &StaticSchedule,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Trigger, scheduler_triggers::Error> {
    let tz = s.tz.unwrap_or("UTC");
    let start = s.start.map(parse_instant).transpose()?;
    let end = s.end.map(parse_instant).transpose()?;
    Ok(match s.trigger {
        StaticTrigger::Cron(expr) => CronTrigger::builder(expr)
            .tz(tz)
            .start(start)
            .end(end)
            .build()?
            .into(),
        StaticTrigger::Fields(pairs) => {
            let mut f = CronFields::new();
            for (name, expr) in pairs {
                f = f.set(name, expr)?;
            }
            CronTrigger::from_fields(f)
                .tz(tz)
                .start(start)
                .end(end)
                .build()?
                .into()
        }
        StaticTrigger::Interval(every) => IntervalTrigger::builder(parse_duration(every)?)
            .tz(tz)
            .start(start)
            .end(end)
            .build()?
            .into(),
        StaticTrigger::Date(at) => Trigger::at(parse_instant(at)?),
        StaticTrigger::AtStart => Trigger::at(now),
    })
}

fn options(s: &StaticSchedule) -> Result<JobOptions, scheduler_triggers::Error> {
    let mut o = JobOptions::default();
    if let Some(j) = s.jitter {
        o.jitter = Some(parse_duration(j)?);
    }
    if let Some(g) = s.misfire_grace_time {
        o.misfire_grace_time = g.map(parse_duration).transpose()?;
    }
    if let Some(c) = s.coalesce {
        o.coalesce = c;
    }
    if let Some(m) = s.max_instances {
        o.max_instances = m;
    }
    if let Some(e) = s.executor {
        o.executor = Arc::from(e);
    }
    if let Some(t) = s.timeout {
        o.timeout = Some(parse_duration(t)?);
    }
    if let Some(r) = s.retries {
        o.retry = Some(Retry::new(r));
    }
    o.run_on_start = s.run_on_start;
    Ok(o)
}
