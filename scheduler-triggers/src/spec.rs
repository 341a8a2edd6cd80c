//! `TriggerSpec`: a trigger written as text (what a web form, a JSON body or
//! a command line gives), checked and built into a [`Trigger`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind};
use crate::{
    parse_duration, parse_instant, parse_zone, CronFields, CronTrigger, IntervalTrigger, Trigger,
    Zone,
};

/// A trigger in text form: exactly one of `cron` (a crontab string),
/// `fields` (APScheduler-style cron fields), `interval` (a duration such as
/// `90s` or `1h30m`) or `date` (an RFC 3339 instant), with an optional time
/// zone and `start` / `end` bounds (RFC 3339). Unknown keys are refused when
/// deserialised.
///
/// ```
/// use scheduler_triggers::{parse_instant, TriggerSpec};
///
/// let spec: TriggerSpec = serde_json::from_str(r#"{"cron": "30 2 * * *", "tz": "Europe/Berlin"}"#).unwrap();
/// let now = parse_instant("2026-03-28T12:00:00Z")?;
/// let t = spec.build(now)?;
/// // 02:30 does not exist on 2026-03-29 in Berlin: the job fires at 03:00+02:00.
/// assert_eq!(t.iter_after(now).next(), Some(parse_instant("2026-03-29T01:00:00Z")?));
///
/// let bad: TriggerSpec = serde_json::from_str(r#"{"cron": "61 * * * *"}"#).unwrap();
/// assert_eq!(bad.build(now).unwrap_err().field(), Some("minute"));
/// # Ok::<(), scheduler_triggers::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct TriggerSpec {
    /// A crontab string: `*/5 * * * *`, `0 30 9 * * mon-fri` (seconds
    /// first), `@daily`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "utoipa", schema(example = "*/5 * * * *"))]
    pub cron: Option<String>,
    /// APScheduler-style fields (`year month day week day_of_week hour
    /// minute second`), AND-ed: `{"day_of_week": "mon-fri", "hour": "9"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, String>>,
    /// Every so long: `90s`, `1h30m`, `500ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "utoipa", schema(example = "90s"))]
    pub interval: Option<String>,
    /// Once, at an RFC 3339 instant with an offset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "utoipa", schema(example = "2026-12-24T18:00:00Z"))]
    pub date: Option<String>,
    /// An IANA time zone (default UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "utoipa", schema(example = "Europe/Berlin"))]
    pub tz: Option<String>,
    /// The first instant the trigger may fire (RFC 3339); an interval
    /// without it starts one interval from now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// The last instant the trigger may fire (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

impl TriggerSpec {
    /// A spec of a crontab string.
    pub fn cron(expr: impl Into<String>) -> TriggerSpec {
        TriggerSpec {
            cron: Some(expr.into()),
            ..TriggerSpec::default()
        }
    }

    /// Builds the trigger; an interval without `start` starts at `now`
    /// (its first fire time one interval later). Every error names the
    /// field (`cron`, `interval`, `tz`, `start`, a cron field) and what was
    /// expected.
    pub fn build(&self, now: DateTime<Utc>) -> Result<Trigger, Error> {
        let given = [
            self.cron.is_some(),
            self.fields.is_some(),
            self.interval.is_some(),
            self.date.is_some(),
        ];
        match given.iter().filter(|g| **g).count() {
            1 => {}
            0 => {
                return Err(Error::new(
                    ErrorKind::Empty,
                    "",
                    "give one of `cron`, `fields`, `interval` or `date`",
                )
                .expecting("one of `cron`, `fields`, `interval`, `date`"))
            }
            _ => {
                return Err(Error::new(
                    ErrorKind::Empty,
                    "",
                    "give only one of `cron`, `fields`, `interval` and `date`",
                )
                .expecting("exactly one of `cron`, `fields`, `interval`, `date`"))
            }
        }
        let zone = match &self.tz {
            Some(name) => parse_zone(name).map_err(|e| e.in_field("tz"))?,
            None => Zone::UTC,
        };
        let instant = |name: &str, v: &Option<String>| -> Result<Option<DateTime<Utc>>, Error> {
            v.as_deref()
                .map(|s| parse_instant(s).map_err(|e| e.in_field(name)))
                .transpose()
        };
        let start = instant("start", &self.start)?;
        let end = instant("end", &self.end)?;
        if let Some(expr) = &self.cron {
            return Ok(CronTrigger::builder(expr)
                .zone(zone)
                .start(start)
                .end(end)
                .build()?
                .into());
        }
        if let Some(every) = &self.interval {
            let every = parse_duration(every).map_err(|e| e.in_field("interval"))?;
            return Ok(IntervalTrigger::builder(every)
                .tz(zone.name())
                .start(start.unwrap_or(now))
                .end(end)
                .build()?
                .into());
        }
        if let Some(fields) = &self.fields {
            let mut f = CronFields::new();
            for (name, expr) in fields {
                f = f.set(name, expr)?;
            }
            return Ok(CronTrigger::from_fields(f)
                .zone(zone)
                .start(start)
                .end(end)
                .build()?
                .into());
        }
        let at = instant("date", &self.date)?.unwrap_or(now);
        Ok(Trigger::at(at))
    }
}
