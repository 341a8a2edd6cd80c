//! Where the scheduler reads the time, and how it sleeps.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::watch;

/// A boxed sleep future.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// The scheduler's source of time. [`SystemClock`] in production; a
/// [`TestClock`] lets tests move time by hand (forward, and backward to
/// simulate a clock jump) without real sleeps.
pub trait Clock: Send + Sync + 'static {
    /// The current wall-clock time.
    fn now(&self) -> DateTime<Utc>;
    /// Resolves at or after `deadline`. May resolve early (the scheduler
    /// re-reads `now` after every wake-up), never much later.
    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep;
}

/// The system clock, with tokio timers.
///
/// ```
/// use scheduler::{Clock, SystemClock};
/// let now = SystemClock.now();
/// assert!(now.timestamp() > 1_700_000_000);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep {
        let wait = (deadline - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        Box::pin(async move {
            // tokio's timer ticks in whole milliseconds and rounds up, which
            // would make every fire up to a millisecond late: sleep until just
            // before the deadline, then yield to the event loop until it passes.
            if wait > FINAL_APPROACH {
                tokio::time::sleep(wait - FINAL_APPROACH).await;
            }
            // Bounded in monotonic time, so a wall clock jumping back cannot keep it spinning.
            let give_up = std::time::Instant::now() + FINAL_APPROACH * 2;
            while Utc::now() < deadline && std::time::Instant::now() < give_up {
                tokio::task::yield_now().await;
            }
        })
    }
}

/// How long before a deadline the system clock stops sleeping and starts yielding.
const FINAL_APPROACH: Duration = Duration::from_millis(1);

/// A clock that only moves when told to: for tests.
///
/// ```
/// use std::time::Duration;
/// use scheduler::{Clock, TestClock};
///
/// let start = "2026-01-01T00:00:00Z".parse().unwrap();
/// let clock = TestClock::new(start);
/// clock.advance(Duration::from_secs(90));
/// assert_eq!(clock.now().to_rfc3339(), "2026-01-01T00:01:30+00:00");
/// ```
#[derive(Clone, Debug)]
pub struct TestClock {
    tx: Arc<watch::Sender<DateTime<Utc>>>,
}

impl TestClock {
    /// A clock standing at `start`.
    pub fn new(start: DateTime<Utc>) -> TestClock {
        TestClock {
            tx: Arc::new(watch::Sender::new(start)),
        }
    }

    /// Moves the clock forward by `by`, waking sleepers whose deadline passed.
    pub fn advance(&self, by: Duration) {
        let by = TimeDelta::from_std(by).unwrap_or(TimeDelta::MAX);
        self.tx
            .send_modify(|t| *t = t.checked_add_signed(by).unwrap_or(*t));
    }

    /// Sets the clock to `to`, forward or backward (a clock jump).
    pub fn set(&self, to: DateTime<Utc>) {
        self.tx.send_replace(to);
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.tx.borrow()
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep {
        let mut rx = self.tx.subscribe();
        Box::pin(async move {
            loop {
                if *rx.borrow_and_update() >= deadline {
                    return;
                }
                if rx.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        })
    }
}

/// A shared clock.
pub(crate) type SharedClock = Arc<dyn Clock>;

/// `base + d`, saturating.
pub(crate) fn add(base: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(d)
        .ok()
        .and_then(|d| base.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Whether `t` is more than `grace` before `now` (`None`: never too late).
/// Integer arithmetic: this runs once per fire.
pub(crate) fn too_late(now: DateTime<Utc>, t: DateTime<Utc>, grace: Option<Duration>) -> bool {
    let Some(grace) = grace else { return false };
    let late = i128::from(now.timestamp() - t.timestamp()) * 1_000_000_000
        + i128::from(now.timestamp_subsec_nanos())
        - i128::from(t.timestamp_subsec_nanos());
    late > 0 && late.unsigned_abs() > grace.as_nanos()
}
