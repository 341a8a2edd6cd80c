//! The daemon's clock: the system clock with plain tokio timers.
//!
//! The library's `SystemClock` spins (yields to the event loop) for the last
//! millisecond before each fire time, for sub-millisecond lateness. With
//! fire times a millisecond apart (a thousand jobs a second, spread out)
//! that is a core spinning all the time; a daemon running commands, whose
//! start alone takes about a millisecond, gains nothing from it. tokio's
//! timer wakes at most a millisecond late.

use chrono::{DateTime, Utc};
use scheduler::{Clock, Sleep};

/// Wall-clock time, woken by tokio's millisecond timer.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct TimerClock;

impl Clock for TimerClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep {
        let wait = (deadline - Utc::now()).to_std().unwrap_or_default();
        Box::pin(tokio::time::sleep(wait))
    }
}
