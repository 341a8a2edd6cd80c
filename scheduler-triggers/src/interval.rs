//! Fixed intervals of elapsed time.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::bounds::{Bounds, Since};
use crate::error::{Error, ErrorKind};
use crate::zone::Zone;

/// Fires every `every` of absolute elapsed time (like APScheduler's
/// `IntervalTrigger`): at `start`, `start + every`, `start + 2 every`, ...
/// A `start` in the past continues at the next slot of that grid. Without a
/// start the first fire is one interval after `now`. DST does not move it: an
/// hourly interval stays 3600 s apart across a clock change.
///
/// ```
/// use std::time::Duration;
/// use scheduler_triggers::{parse_instant, IntervalTrigger};
///
/// let start = parse_instant("2026-01-01T00:00:00Z")?;
/// let t = IntervalTrigger::builder(Duration::from_secs(90 * 60)).start(start).build()?;
/// let next = t.next_after(parse_instant("2026-01-01T02:00:00Z")?).unwrap();
/// assert_eq!(next, parse_instant("2026-01-01T03:00:00Z")?);
/// # Ok::<(), scheduler_triggers::Error>(())
/// ```
///
/// Cloning is cheap (the settings are shared), and the trigger is one pointer
/// wide, which keeps [`crate::Trigger`] small for schedulers holding millions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "IntervalSpec", into = "IntervalSpec")]
pub struct IntervalTrigger {
    inner: std::sync::Arc<Interval>,
}

#[derive(Debug, PartialEq, Eq)]
struct Interval {
    every: Duration,
    step: TimeDelta,
    tz: Zone,
    bounds: Bounds,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct IntervalSpec {
    every: String,
    #[serde(default)]
    tz: Zone,
    #[serde(flatten)]
    bounds: Bounds,
}

/// Builds an [`IntervalTrigger`]; problems are reported by [`IntervalBuilder::build`].
#[derive(Clone, Debug)]
#[must_use]
pub struct IntervalBuilder {
    every: Duration,
    tz: Result<Zone, Error>,
    bounds: Bounds,
}

impl IntervalBuilder {
    /// The first fire time; later fires keep to its grid. `None`: one interval after now.
    pub fn start(mut self, start: impl Into<Option<DateTime<Utc>>>) -> Self {
        self.bounds.start = start.into();
        self
    }

    /// The latest fire time (inclusive); `None` for no bound.
    pub fn end(mut self, end: impl Into<Option<DateTime<Utc>>>) -> Self {
        self.bounds.end = end.into();
        self
    }

    /// The zone used to show fire times (intervals are elapsed time and ignore it otherwise).
    pub fn tz(mut self, name: &str) -> Self {
        self.tz = crate::parse_zone(name);
        self
    }

    /// Validates and builds: the interval must be positive, `end` not before `start`.
    pub fn build(self) -> Result<IntervalTrigger, Error> {
        IntervalTrigger::checked(self.every, self.tz?, self.bounds)
    }
}

impl IntervalTrigger {
    /// Whether `self` and `other` are clones of one trigger.
    pub(crate) fn ptr_eq(&self, other: &IntervalTrigger) -> bool {
        std::sync::Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// A builder for an interval of `every`.
    pub fn builder(every: Duration) -> IntervalBuilder {
        IntervalBuilder {
            every,
            tz: Ok(Zone::UTC),
            bounds: Bounds::default(),
        }
    }

    fn checked(every: Duration, tz: Zone, bounds: Bounds) -> Result<IntervalTrigger, Error> {
        let shown = crate::format_duration(every);
        if every.is_zero() {
            return Err(Error::new(
                ErrorKind::Duration,
                &shown,
                "the interval must be longer than zero",
            )
            .in_field("interval"));
        }
        let step = TimeDelta::from_std(every).map_err(|_| {
            Error::new(ErrorKind::Duration, &shown, "the interval is too large")
                .in_field("interval")
        })?;
        bounds.check()?;
        Ok(IntervalTrigger {
            inner: std::sync::Arc::new(Interval {
                every,
                step,
                tz,
                bounds,
            }),
        })
    }

    /// The interval.
    pub fn every(&self) -> Duration {
        self.inner.every
    }

    /// The zone fire times are shown in.
    pub fn zone(&self) -> Zone {
        self.inner.tz
    }

    /// The first fire time strictly after `after` (with a start: the next grid
    /// slot; without: `after + every`).
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.next_from(Since::After(after))
    }

    pub(crate) fn next_from(&self, since: Since) -> Option<DateTime<Utc>> {
        let this = &*self.inner;
        let t = match (this.bounds.start, since) {
            (None, Since::After(p)) | (None, Since::AtOrAfter(p)) => {
                p.checked_add_signed(this.step)?
            }
            (Some(s), since) => self.slot_after(s, since.exclusive())?,
        };
        this.bounds.admit(t)
    }

    /// The first fire time strictly after `now` on the cadence of `previous`
    /// (a fire time of this trigger): the start's grid if it has a start,
    /// otherwise `previous + k * every`. One division, however far `now` is.
    pub(crate) fn resume_after(
        &self,
        previous: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let this = &*self.inner;
        let anchor = this.bounds.start.unwrap_or(previous);
        let t = self.slot_after(anchor, now.max(previous))?;
        this.bounds.admit(t)
    }

    /// The first slot `s + k * step` (k ≥ 0) strictly after `after`.
    fn slot_after(&self, s: DateTime<Utc>, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if after < s {
            return Some(s);
        }
        // In i64 nanoseconds when it fits: i128 division is a slow library
        // call on the scheduler's hot path.
        let step = self.inner.step.num_nanoseconds().unwrap_or(i64::MAX);
        let offset = match (after - s).num_nanoseconds() {
            Some(elapsed) => (elapsed / step + 1).checked_mul(step)?,
            None => {
                let elapsed = i128::from((after - s).num_seconds()) * 1_000_000_000;
                let k = elapsed / i128::from(step) + 1;
                i64::try_from(k.checked_mul(i128::from(step))?).ok()?
            }
        };
        s.checked_add_signed(TimeDelta::nanoseconds(offset))
    }
}

impl TryFrom<IntervalSpec> for IntervalTrigger {
    type Error = Error;
    fn try_from(spec: IntervalSpec) -> Result<Self, Error> {
        IntervalTrigger::checked(crate::parse_duration(&spec.every)?, spec.tz, spec.bounds)
    }
}

impl From<IntervalTrigger> for IntervalSpec {
    fn from(t: IntervalTrigger) -> IntervalSpec {
        IntervalSpec {
            every: crate::format_duration(t.inner.every),
            tz: t.inner.tz,
            bounds: t.inner.bounds,
        }
    }
}
