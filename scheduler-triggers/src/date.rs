//! One-shot triggers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::bounds::Since;

/// Fires once, at an instant.
///
/// With no previous fire it returns its instant even when that is in the past,
/// so the scheduler can apply its misfire policy; after any previous fire at or
/// past the instant it is finished.
///
/// ```
/// use scheduler_triggers::{parse_instant, DateTrigger};
/// let at = parse_instant("2026-12-31T23:00:00Z")?;
/// let t = DateTrigger::new(at);
/// assert_eq!(t.next_after(parse_instant("2026-01-01T00:00:00Z")?), Some(at));
/// assert_eq!(t.next_after(at), None);
/// # Ok::<(), scheduler_triggers::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateTrigger {
    at: DateTime<Utc>,
    /// Made by [`crate::Trigger::after`]: the delay, so a scheduler can
    /// measure it from its own clock when the job is added
    /// ([`DateTrigger::resolve`]). Never stored: a persisted trigger has its instant.
    #[serde(skip)]
    after: Option<std::time::Duration>,
}

impl DateTrigger {
    /// Fires at `at`.
    pub fn new(at: DateTime<Utc>) -> DateTrigger {
        DateTrigger { at, after: None }
    }

    /// Fires `delay` after `now` (saturating at the largest instant); a
    /// scheduler moves it to `delay` after its own clock's time with
    /// [`DateTrigger::resolve`].
    pub fn after(delay: std::time::Duration, now: DateTime<Utc>) -> DateTrigger {
        DateTrigger {
            at: plus(now, delay),
            after: Some(delay),
        }
    }

    /// A trigger made by [`DateTrigger::after`] fires `delay` after `now`
    /// from here on (what a scheduler calls with its clock's time when the
    /// job is added); any other date trigger is left as it is.
    ///
    /// ```
    /// use std::time::Duration;
    /// use scheduler_triggers::{parse_instant, DateTrigger};
    /// let now = parse_instant("2026-01-01T00:00:00Z")?;
    /// let mut t = DateTrigger::after(Duration::from_secs(60), chrono::Utc::now());
    /// t.resolve(now);
    /// assert_eq!(t.at(), parse_instant("2026-01-01T00:01:00Z")?);
    /// # Ok::<(), scheduler_triggers::Error>(())
    /// ```
    pub fn resolve(&mut self, now: DateTime<Utc>) {
        if let Some(delay) = self.after.take() {
            self.at = plus(now, delay);
        }
    }

    /// The instant.
    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }

    /// The instant, if it is strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        (self.at > after).then_some(self.at)
    }

    pub(crate) fn next_from(&self, since: Since) -> Option<DateTime<Utc>> {
        match since {
            Since::After(p) => self.next_after(p),
            Since::AtOrAfter(_) => Some(self.at),
        }
    }
}

/// `now + delay`, saturating at the largest representable instant.
fn plus(now: DateTime<Utc>, delay: std::time::Duration) -> DateTime<Utc> {
    chrono::TimeDelta::from_std(delay)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}
