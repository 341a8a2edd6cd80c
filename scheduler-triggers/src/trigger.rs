//! The `Trigger` enum: every kind of trigger behind one contract.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::bounds::Since;
use crate::error::{Error, ErrorKind};
use crate::{CronTrigger, DateTrigger, IntervalTrigger, Zone};

/// How many rounds `all(...)` tries before it gives up on its triggers agreeing.
const ALL_MAX_ROUNDS: usize = 10_000;

/// When a job fires: a one-shot date, an interval, a wall-clock cron
/// expression, or a combination.
///
/// Every trigger answers [`Trigger::next_fire_time`] and round-trips through serde.
///
/// ```
/// use scheduler_triggers::{parse_instant, Trigger};
///
/// let t = Trigger::cron_in("0 9 * * mon-fri", "Europe/Berlin")?;
/// let next = t.next_fire_time(None, parse_instant("2026-11-27T12:00:00Z")?).unwrap();
/// assert_eq!(next, parse_instant("2026-11-30T08:00:00Z")?); // Monday 09:00 CET
///
/// let json = serde_json::to_string(&t).unwrap();
/// assert_eq!(serde_json::from_str::<Trigger>(&json).unwrap(), t);
/// # Ok::<(), scheduler_triggers::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Trigger {
    /// Once, at an instant.
    Date(DateTrigger),
    /// Every fixed amount of elapsed time.
    Interval(IntervalTrigger),
    /// On wall-clock times (crontab string or APScheduler fields).
    Cron(CronTrigger),
    /// The earliest fire time of any of the triggers.
    Any {
        /// The combined triggers.
        triggers: Vec<Trigger>,
    },
    /// The fire times all of the triggers agree on.
    All {
        /// The combined triggers.
        triggers: Vec<Trigger>,
    },
}

impl Trigger {
    /// A crontab string in UTC.
    pub fn cron(expr: &str) -> Result<Trigger, Error> {
        CronTrigger::parse(expr).map(Trigger::Cron)
    }

    /// A crontab string in a time zone (IANA name).
    pub fn cron_in(expr: &str, tz: &str) -> Result<Trigger, Error> {
        CronTrigger::builder(expr).tz(tz).build().map(Trigger::Cron)
    }

    /// Every `every`, first one interval from now.
    pub fn interval(every: Duration) -> Result<Trigger, Error> {
        IntervalTrigger::builder(every)
            .build()
            .map(Trigger::Interval)
    }

    /// Once, at `at`.
    pub fn at(at: DateTime<Utc>) -> Trigger {
        Trigger::Date(DateTrigger::new(at))
    }

    /// Once, `delay` from now (saturating at the largest representable
    /// instant). Added to a scheduler, "now" is the scheduler's clock when
    /// the job is added (a test clock in tests), not the system's.
    pub fn after(delay: Duration) -> Trigger {
        Trigger::Date(DateTrigger::after(delay, Utc::now()))
    }

    /// Whether `self` and `other` are clones of one compiled cron or
    /// interval trigger (they share its definition): a pointer comparison,
    /// so a scheduler can tell cheaply that two jobs fire alike. `false` for
    /// other kinds, and for equal triggers built apart.
    ///
    /// ```
    /// use scheduler_triggers::Trigger;
    /// let a = Trigger::cron("*/5 * * * *")?;
    /// assert!(a.is_same(&a.clone()));
    /// assert!(!a.is_same(&Trigger::cron("*/5 * * * *")?)); // equal, but built apart
    /// # Ok::<(), scheduler_triggers::Error>(())
    /// ```
    pub fn is_same(&self, other: &Trigger) -> bool {
        match (self, other) {
            (Trigger::Cron(a), Trigger::Cron(b)) => a.ptr_eq(b),
            (Trigger::Interval(a), Trigger::Interval(b)) => a.ptr_eq(b),
            _ => false,
        }
    }

    /// Measures a [`Trigger::after`] delay from `now` (what a scheduler does
    /// with its clock when the job is added); other triggers are unchanged.
    pub fn resolve(&mut self, now: DateTime<Utc>) {
        match self {
            Trigger::Date(d) => d.resolve(now),
            Trigger::Any { triggers } | Trigger::All { triggers } => {
                triggers.iter_mut().for_each(|t| t.resolve(now))
            }
            _ => {}
        }
    }

    /// Fires whenever any of `triggers` fires (APScheduler's `OrTrigger`).
    pub fn any(triggers: Vec<Trigger>) -> Result<Trigger, Error> {
        if triggers.is_empty() {
            return Err(Error::new(
                ErrorKind::Empty,
                "any()",
                "`any` needs at least one trigger",
            ));
        }
        Ok(Trigger::Any { triggers })
    }

    /// Fires at the times all of `triggers` agree on (APScheduler's `AndTrigger`).
    /// Fails with [`ErrorKind::NeverFires`] when they never agree.
    pub fn all(triggers: Vec<Trigger>) -> Result<Trigger, Error> {
        if triggers.is_empty() {
            return Err(Error::new(
                ErrorKind::Empty,
                "all()",
                "`all` needs at least one trigger",
            ));
        }
        let t = Trigger::All { triggers };
        if t.next_from(Since::AtOrAfter(DateTime::UNIX_EPOCH))
            .is_none()
        {
            return Err(Error::new(
                ErrorKind::NeverFires,
                "all()",
                "the triggers never agree on a fire time",
            ));
        }
        Ok(t)
    }

    /// The next fire time.
    ///
    /// With `previous` (the last fire time, before jitter), the first fire time
    /// strictly after it; `now` is then not used, so a scheduler that was away
    /// sees the runs it missed. Without `previous`, the first fire time at or
    /// after `now` (a date trigger returns its instant even when it has passed).
    /// `None` means the trigger is finished.
    pub fn next_fire_time(
        &self,
        previous: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        self.next_from(Since::new(previous, now))
    }

    /// The first fire time strictly after `now`, going on from `previous`
    /// (a fire time of this trigger) and skipping every one in between in
    /// one step where the trigger allows: an interval keeps its cadence
    /// (`previous + k * every`, or its start's grid), a crontab and fields
    /// are on the calendar anyway. What a scheduler uses to catch up past
    /// its limit after being away (a year of every-second fire times is not
    /// walked one by one). `None`: finished.
    ///
    /// ```
    /// use std::time::Duration;
    /// use scheduler_triggers::{parse_instant, Trigger};
    /// let every_10s = Trigger::interval(Duration::from_secs(10))?;
    /// let last = parse_instant("2026-01-01T00:00:03Z")?;
    /// let now = parse_instant("2027-01-01T00:00:00Z")?;
    /// assert_eq!(every_10s.resume_after(last, now), Some(parse_instant("2027-01-01T00:00:03Z")?));
    /// # Ok::<(), scheduler_triggers::Error>(())
    /// ```
    pub fn resume_after(
        &self,
        previous: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        match self {
            Trigger::Date(_) => self.next_after(now.max(previous)),
            Trigger::Interval(t) => t.resume_after(previous, now),
            Trigger::Cron(_) => self.next_after(now.max(previous)),
            Trigger::Any { triggers } => triggers
                .iter()
                .filter_map(|t| t.resume_after(previous, now))
                .min(),
            // Members must agree: search on from now.
            Trigger::All { .. } => self.next_after(now.max(previous)),
        }
    }

    /// The first fire time strictly after `after`: what `scheduler next` prints.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.next_from(Since::After(after))
    }

    /// Fire times strictly after `after`, in order.
    ///
    /// ```
    /// use scheduler_triggers::{parse_instant, Trigger};
    /// let t = Trigger::cron("0 0 1 * *")?;
    /// let n: Vec<_> = t.iter_after(parse_instant("2026-01-15T00:00:00Z")?).take(2).collect();
    /// assert_eq!(n[1], parse_instant("2026-03-01T00:00:00Z")?);
    /// # Ok::<(), scheduler_triggers::Error>(())
    /// ```
    pub fn iter_after(&self, after: DateTime<Utc>) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        let mut last = after;
        std::iter::from_fn(move || {
            let next = self.next_after(last)?;
            last = next;
            Some(next)
        })
    }

    /// The zone the trigger works in (UTC for date triggers and combinators
    /// unless their first member says otherwise).
    pub fn zone(&self) -> Zone {
        match self {
            Trigger::Date(_) => Zone::UTC,
            Trigger::Interval(t) => t.zone(),
            Trigger::Cron(t) => t.zone(),
            Trigger::Any { triggers } | Trigger::All { triggers } => {
                triggers.first().map_or(Zone::UTC, Trigger::zone)
            }
        }
    }

    pub(crate) fn next_from(&self, since: Since) -> Option<DateTime<Utc>> {
        match self {
            Trigger::Date(t) => t.next_from(since),
            Trigger::Interval(t) => t.next_from(since),
            Trigger::Cron(t) => t.next_from(since),
            Trigger::Any { triggers } => triggers.iter().filter_map(|t| t.next_from(since)).min(),
            Trigger::All { triggers } => {
                let mut since = since;
                for _ in 0..ALL_MAX_ROUNDS {
                    let mut lo: Option<DateTime<Utc>> = None;
                    let mut hi: Option<DateTime<Utc>> = None;
                    for t in triggers {
                        let next = t.next_from(since)?;
                        lo = Some(lo.map_or(next, |l| l.min(next)));
                        hi = Some(hi.map_or(next, |h| h.max(next)));
                    }
                    let (lo, hi) = (lo?, hi?);
                    if lo == hi {
                        return Some(lo);
                    }
                    // Every member at or after the latest proposal.
                    since = Since::After(hi.checked_sub_signed(TimeDelta::nanoseconds(1))?);
                }
                None
            }
        }
    }
}

impl From<CronTrigger> for Trigger {
    fn from(t: CronTrigger) -> Trigger {
        Trigger::Cron(t)
    }
}

impl From<IntervalTrigger> for Trigger {
    fn from(t: IntervalTrigger) -> Trigger {
        Trigger::Interval(t)
    }
}

impl From<DateTrigger> for Trigger {
    fn from(t: DateTrigger) -> Trigger {
        Trigger::Date(t)
    }
}
