//! Per-job options, with APScheduler 3's defaults.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::error::{Error, ErrorKind};

/// Retries with exponential backoff: a failed run is tried again, as the same
/// run with `attempt` incremented, after `initial`, `initial * factor`, ...
/// capped at `max_delay`.
///
/// ```
/// use std::time::Duration;
/// use scheduler::Retry;
/// let r = Retry::new(3).initial(Duration::from_secs(1)).factor(2.0).max_delay(Duration::from_secs(3));
/// assert_eq!(r.delay(1), Duration::from_secs(1));
/// assert_eq!(r.delay(2), Duration::from_secs(2));
/// assert_eq!(r.delay(3), Duration::from_secs(3)); // capped
/// ```
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Retry {
    pub(crate) retries: u32,
    pub(crate) initial: Duration,
    pub(crate) factor: f64,
    pub(crate) max_delay: Duration,
}

impl Retry {
    /// Up to `retries` retries, first after 1 s, doubling, at most 5 minutes apart.
    pub fn new(retries: u32) -> Retry {
        Retry {
            retries,
            initial: Duration::from_secs(1),
            factor: 2.0,
            max_delay: Duration::from_secs(300),
        }
    }

    /// The delay before the first retry.
    pub fn initial(mut self, d: Duration) -> Retry {
        self.initial = d;
        self
    }

    /// The growth of the delay from one retry to the next (at least 1).
    pub fn factor(mut self, f: f64) -> Retry {
        self.factor = f;
        self
    }

    /// The largest delay.
    pub fn max_delay(mut self, d: Duration) -> Retry {
        self.max_delay = d;
        self
    }

    /// How many retries at most.
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// The delay before retry number `n` (1-based).
    pub fn delay(&self, n: u32) -> Duration {
        let exp = self
            .factor
            .powi(i32::try_from(n.saturating_sub(1)).unwrap_or(i32::MAX));
        let secs = self.initial.as_secs_f64() * exp;
        if !secs.is_finite() || secs >= self.max_delay.as_secs_f64() {
            self.max_delay
        } else {
            Duration::from_secs_f64(secs)
        }
    }

    pub(crate) fn check(&self) -> Result<(), Error> {
        if !(self.factor.is_finite() && self.factor >= 1.0) {
            return Err(Error::new(
                ErrorKind::InvalidOption,
                format!(
                    "retry factor {} must be a number of at least 1",
                    self.factor
                ),
            ));
        }
        Ok(())
    }
}

/// The options of a job. Defaults are APScheduler 3's: `misfire_grace_time = 1s`,
/// `coalesce = true`, `max_instances = 1`, no jitter, executor `"default"`;
/// plus no timeout, no retries, no run on start, and at most 1000 missed runs
/// considered when catching up.
///
/// Serialises with serde (what a store keeps); a missing field takes its
/// default when read back.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct JobOptions {
    pub(crate) misfire_grace_time: Option<Duration>,
    pub(crate) coalesce: bool,
    pub(crate) max_instances: u32,
    pub(crate) jitter: Option<Duration>,
    pub(crate) executor: Arc<str>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) retry: Option<Retry>,
    pub(crate) run_on_start: bool,
    pub(crate) max_catch_up: u32,
    /// With a durable store: a run whose node died is run again by another
    /// node once its lease expires (at-least-once); otherwise it is recorded
    /// as abandoned (at-most-once, the default).
    pub(crate) recover: bool,
    /// The job's display name (kept here, not in every job, as most jobs have none).
    pub(crate) name: Option<Arc<str>>,
}

impl Default for JobOptions {
    fn default() -> JobOptions {
        JobOptions {
            misfire_grace_time: Some(Duration::from_secs(1)),
            coalesce: true,
            max_instances: 1,
            jitter: None,
            executor: Arc::from("default"),
            timeout: None,
            retry: None,
            run_on_start: false,
            max_catch_up: 1000,
            recover: false,
            name: None,
        }
    }
}

impl JobOptions {
    /// The shared default options (so a million default jobs share one allocation).
    pub(crate) fn shared_default() -> Arc<JobOptions> {
        static DEFAULT: OnceLock<Arc<JobOptions>> = OnceLock::new();
        DEFAULT
            .get_or_init(|| Arc::new(JobOptions::default()))
            .clone()
    }

    pub(crate) fn check(&self) -> Result<(), Error> {
        if self.max_instances == 0 {
            return Err(Error::new(
                ErrorKind::InvalidOption,
                "max_instances must be at least 1",
            ));
        }
        if self.max_catch_up == 0 {
            return Err(Error::new(
                ErrorKind::InvalidOption,
                "max_catch_up must be at least 1",
            ));
        }
        if let Some(r) = &self.retry {
            r.check()?;
        }
        Ok(())
    }

    /// How late a run may start and still run (`None`: no limit).
    pub fn misfire_grace_time(&self) -> Option<Duration> {
        self.misfire_grace_time
    }
    /// Whether a backlog of missed runs collapses into one.
    pub fn coalesce(&self) -> bool {
        self.coalesce
    }
    /// How many runs of the job may run at once.
    pub fn max_instances(&self) -> u32 {
        self.max_instances
    }
    /// The largest random delay added to each fire.
    pub fn jitter(&self) -> Option<Duration> {
        self.jitter
    }
    /// The executor's name.
    pub fn executor(&self) -> &str {
        &self.executor
    }
    /// The per-run timeout.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }
    /// The retry policy.
    pub fn retry(&self) -> Option<Retry> {
        self.retry
    }
    /// Whether a run whose node died is run again (durable stores).
    pub fn recover(&self) -> bool {
        self.recover
    }
    /// Whether the job also runs once when added / when the scheduler starts.
    pub fn run_on_start(&self) -> bool {
        self.run_on_start
    }
}
