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
}

impl DateTrigger {
    /// Fires at `at`.
    pub fn new(at: DateTime<Utc>) -> DateTrigger {
        DateTrigger { at }
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
