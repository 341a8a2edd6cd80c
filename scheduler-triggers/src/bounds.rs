//! `start` / `end` bounds shared by the recurring triggers, and where a search starts.

use chrono::{DateTime, Datelike, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind};

/// Where the search for the next fire time starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Since {
    /// Strictly after this instant (the previous fire time).
    After(DateTime<Utc>),
    /// At or after this instant (`now`, when there was no previous fire).
    AtOrAfter(DateTime<Utc>),
}

impl Since {
    pub(crate) fn new(previous: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Since {
        match previous {
            Some(p) => Since::After(p),
            None => Since::AtOrAfter(now),
        }
    }

    /// The instant the search is strictly after.
    pub(crate) fn exclusive(self) -> DateTime<Utc> {
        match self {
            Since::After(t) => t,
            Since::AtOrAfter(t) => t
                .checked_sub_signed(TimeDelta::nanoseconds(1))
                .unwrap_or(DateTime::<Utc>::MIN_UTC),
        }
    }
}

/// Inclusive `start` and `end` of a recurring trigger.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Bounds {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) start: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) end: Option<DateTime<Utc>>,
}

impl Bounds {
    pub(crate) fn check(&self) -> Result<(), Error> {
        if let (Some(s), Some(e)) = (self.start, self.end) {
            if e < s {
                return Err(Error::new(
                    ErrorKind::Bounds,
                    &format!("{} .. {}", s.to_rfc3339(), e.to_rfc3339()),
                    "`end` is before `start`",
                )
                .in_field("end"));
            }
        }
        Ok(())
    }

    /// The search start moved up to `start` (inclusive) when that is later.
    pub(crate) fn clamp(&self, from: Since) -> Since {
        match self.start {
            Some(s) if from.exclusive() < s => Since::AtOrAfter(s),
            _ => from,
        }
    }

    /// `t` if it is not past `end`, nor past the end of year 9999 (the last
    /// instant RFC 3339 can write, and every trigger's horizon).
    pub(crate) fn admit(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self.end {
            Some(e) if t > e => None,
            _ if t.year() > 9999 => None,
            _ => Some(t),
        }
    }
}
