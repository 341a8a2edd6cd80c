//! Wall-clock triggers: crontab strings and APScheduler fields, in a time zone.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::bounds::{Bounds, Since};
use crate::crontab::{self, Crontab};
use crate::error::{Error, ErrorKind};
use crate::fields::{self, CronFields};
use crate::fields_match::FieldsMatcher;
use crate::wallclock::{self, LocalMatcher};
use crate::zone::Zone;

/// A trigger that fires on wall-clock times of a time zone, from a crontab
/// string or from APScheduler-style fields.
///
/// # Crontab strings
/// POSIX / Vixie cron: 5 fields `minute hour day-of-month month day-of-week`,
/// 6 with seconds first, 7 with a year last; `@yearly @annually @monthly
/// @weekly @daily @midnight @hourly`; names (`jan`, `mon`); ranges, steps,
/// lists; day of week 0-7 with 0 and 7 = Sunday; when both day of month and
/// day of week are restricted a day matches if *either* matches (prefix the
/// day of week with `+` to require both). As in Vixie cron and cronie, a day
/// field that starts with `*` (such as `*/2`) counts as unrestricted for that
/// rule, so `0 0 */2 * mon` runs on odd-numbered days that are Mondays.
/// `L`, `nW` in day of month, `d#n`,
/// `d#L`, `dL` in day of week.
///
/// # APScheduler fields
/// See [`CronFields`]; fields are AND-ed, and a numeric `day_of_week` counts
/// 0 = Monday as in APScheduler 3 (prefer names).
///
/// # Daylight saving time
/// Matching is on the local wall-clock time of the zone, with Vixie cron's rule:
/// - a **fixed-time** job (no `*` in its minute and hour fields, e.g. `30 2 * * *`
///   or `hour=2`) whose local time does not exist fires once at the first instant
///   after the gap: `30 2 * * *` in Europe/Berlin on 2026-03-29 fires at
///   `03:00+02:00`. When its local time occurs twice it fires once, at the earlier
///   instant: on 2026-10-25 only at `02:30+02:00`.
/// - an **interval-like** job (`*` in its minute or hour field, e.g. `*/30 * * * *`)
///   runs on real time: local times that do not exist are skipped, and in a
///   repeated hour it fires in both passes (`02:00+02:00`, `02:30+02:00`,
///   `02:00+01:00`, `02:30+01:00` for `*/30 * * * *` on 2026-10-25 in Berlin).
/// - several fire times that map to the same instant fire once.
///
/// ```
/// use scheduler_triggers::{parse_instant, CronTrigger};
///
/// let t = CronTrigger::builder("30 2 * * *").tz("Europe/Berlin").build()?;
/// let next = t.next_after(parse_instant("2026-03-28T12:00:00Z")?).unwrap();
/// assert_eq!(t.zone().localize(next).to_rfc3339(), "2026-03-29T03:00:00+02:00");
/// # Ok::<(), scheduler_triggers::Error>(())
/// ```
///
/// Cloning is cheap: the compiled expression is shared.
#[derive(Clone, Debug)]
pub struct CronTrigger {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    spec: CronSpec,
    engine: Engine,
    fixed_time: bool,
}

// One per trigger, behind the `Arc`: the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
enum Engine {
    Crontab(Crontab),
    Fields(FieldsMatcher),
}

/// The serialised form of a [`CronTrigger`]: what the user wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct CronSpec {
    #[serde(flatten)]
    source: Source,
    #[serde(default)]
    tz: Zone,
    #[serde(flatten)]
    bounds: Bounds,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Source {
    Expr(String),
    Fields(CronFields),
}

/// Builds a [`CronTrigger`]; see [`CronTrigger::builder`] and [`CronTrigger::from_fields`].
/// Every problem is reported by [`CronBuilder::build`].
#[derive(Clone, Debug)]
#[must_use]
pub struct CronBuilder {
    source: Source,
    tz: Result<Zone, Error>,
    bounds: Bounds,
}

impl CronBuilder {
    /// The time zone, an IANA name (default `UTC`).
    pub fn tz(mut self, name: &str) -> Self {
        self.tz = crate::parse_zone(name);
        self
    }

    /// The time zone.
    pub fn zone(mut self, zone: Zone) -> Self {
        self.tz = Ok(zone);
        self
    }

    /// The earliest fire time (inclusive); `None` for no bound.
    pub fn start(mut self, start: impl Into<Option<DateTime<Utc>>>) -> Self {
        self.bounds.start = start.into();
        self
    }

    /// The latest fire time (inclusive); `None` for no bound.
    pub fn end(mut self, end: impl Into<Option<DateTime<Utc>>>) -> Self {
        self.bounds.end = end.into();
        self
    }

    /// Validates everything and builds the trigger. Fails on a bad expression,
    /// an unknown zone, `end` before `start`, or a trigger that never fires.
    pub fn build(self) -> Result<CronTrigger, Error> {
        CronTrigger::from_spec(CronSpec {
            source: self.source,
            tz: self.tz?,
            bounds: self.bounds,
        })
    }
}

impl CronTrigger {
    /// Whether `self` and `other` are clones of one compiled trigger.
    pub(crate) fn ptr_eq(&self, other: &CronTrigger) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// A builder from a crontab string.
    pub fn builder(expr: &str) -> CronBuilder {
        CronBuilder {
            source: Source::Expr(expr.to_owned()),
            tz: Ok(Zone::UTC),
            bounds: Bounds::default(),
        }
    }

    /// A builder from APScheduler-style fields.
    pub fn from_fields(fields: CronFields) -> CronBuilder {
        CronBuilder {
            source: Source::Fields(fields),
            tz: Ok(Zone::UTC),
            bounds: Bounds::default(),
        }
    }

    /// A crontab string in UTC; shorthand for `CronTrigger::builder(expr).build()`.
    pub fn parse(expr: &str) -> Result<CronTrigger, Error> {
        CronTrigger::builder(expr).build()
    }

    fn from_spec(spec: CronSpec) -> Result<CronTrigger, Error> {
        spec.bounds.check()?;
        let (engine, fixed_time) = match &spec.source {
            Source::Expr(e) => {
                let c = crontab::parse(e)?;
                let fixed = c.fixed_time();
                (Engine::Crontab(c), fixed)
            }
            Source::Fields(f) => {
                let compiled = fields::compile_all(f)?;
                let fixed = !compiled[5].wildcard && !compiled[6].wildcard;
                (Engine::Fields(FieldsMatcher::new(&compiled)), fixed)
            }
        };
        let trigger = CronTrigger {
            inner: Arc::new(Inner {
                spec,
                engine,
                fixed_time,
            }),
        };
        // A trigger that never fires is an error now, not a hang later.
        let probe_from = trigger
            .inner
            .spec
            .bounds
            .start
            .unwrap_or(DateTime::UNIX_EPOCH);
        if trigger.next_from(Since::AtOrAfter(probe_from)).is_none() {
            let input = match &trigger.inner.spec.source {
                Source::Expr(e) => e.clone(),
                Source::Fields(f) => f
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(" "),
            };
            let why = if trigger.inner.spec.bounds.end.is_some() {
                "no fire time between `start` and `end`"
            } else {
                "no date ever matches all of its fields"
            };
            return Err(Error::new(ErrorKind::NeverFires, &input, why));
        }
        Ok(trigger)
    }

    /// The time zone.
    pub fn zone(&self) -> Zone {
        self.inner.spec.tz
    }

    /// The crontab string, if built from one.
    pub fn expr(&self) -> Option<&str> {
        match &self.inner.spec.source {
            Source::Expr(e) => Some(e),
            Source::Fields(_) => None,
        }
    }

    /// The fields, if built from APScheduler-style fields.
    pub fn fields(&self) -> Option<&CronFields> {
        match &self.inner.spec.source {
            Source::Fields(f) => Some(f),
            Source::Expr(_) => None,
        }
    }

    /// Whether the DST rule treats this as a fixed-time job (no `*` in minute and hour).
    pub fn is_fixed_time(&self) -> bool {
        self.inner.fixed_time
    }

    /// The first fire time strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.next_from(Since::After(after))
    }

    pub(crate) fn next_from(&self, since: Since) -> Option<DateTime<Utc>> {
        let since = self.inner.spec.bounds.clamp(since);
        let matcher: &dyn LocalMatcher = match &self.inner.engine {
            Engine::Crontab(c) => c,
            Engine::Fields(f) => f,
        };
        let t = wallclock::next_after(
            matcher,
            self.inner.spec.tz.tz(),
            self.inner.fixed_time,
            since.exclusive(),
        )?;
        self.inner.spec.bounds.admit(t)
    }
}

impl PartialEq for CronTrigger {
    fn eq(&self, other: &Self) -> bool {
        self.inner.spec == other.inner.spec
    }
}

impl Serialize for CronTrigger {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.inner.spec.serialize(s)
    }
}

impl<'de> Deserialize<'de> for CronTrigger {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spec = CronSpec::deserialize(d)?;
        CronTrigger::from_spec(spec).map_err(serde::de::Error::custom)
    }
}
