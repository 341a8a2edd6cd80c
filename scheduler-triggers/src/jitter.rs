//! Jitter: a random delay added at dispatch time.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

/// Delays each fire by a random amount up to a maximum, applied when the run
/// is dispatched (the trigger's own fire times never change). The delay never
/// moves a fire to or past the next fire time, so jitter cannot reorder or
/// merge runs.
///
/// ```
/// use std::time::Duration;
/// use scheduler_triggers::{parse_instant, Jitter};
///
/// let fire = parse_instant("2026-01-01T00:00:00Z")?;
/// let next = parse_instant("2026-01-01T00:00:10Z")?;
/// let j = Jitter::new(Duration::from_secs(60));
/// let t = j.apply(fire, Some(next), u64::MAX); // the largest possible draw
/// assert!(t >= fire && t < next);
/// # Ok::<(), scheduler_triggers::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Jitter {
    max: Duration,
}

impl Jitter {
    /// Up to `max` of delay.
    pub fn new(max: Duration) -> Jitter {
        Jitter { max }
    }

    /// The largest delay.
    pub fn max(&self) -> Duration {
        self.max
    }

    /// `fire` delayed by `random / u64::MAX` of the allowed delay: `max`, or
    /// less when `next` (the following fire time) is closer.
    pub fn apply(
        &self,
        fire: DateTime<Utc>,
        next: Option<DateTime<Utc>>,
        random: u64,
    ) -> DateTime<Utc> {
        let mut limit = i128::try_from(self.max.as_nanos()).unwrap_or(i128::MAX);
        if let Some(next) = next {
            let gap = (next - fire)
                .num_nanoseconds()
                .map_or(i128::MAX, i128::from)
                - 1;
            limit = limit.min(gap.max(0));
        }
        let (random, whole) = (i128::from(random), i128::from(u64::MAX));
        let delay = limit
            .checked_mul(random)
            .map_or_else(|| limit / whole * random, |v| v / whole);
        let delay = i64::try_from(delay).unwrap_or(i64::MAX);
        fire.checked_add_signed(TimeDelta::nanoseconds(delay))
            .unwrap_or(fire)
    }
}
