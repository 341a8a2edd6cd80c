//! Jobs as users describe them (`JobSpec`), change them (`JobChanges`) and see them (`Job`).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::job::options::{JobOptions, Retry};
use crate::job::target::Target;
use crate::trigger::Trigger;

/// A job to add: what it runs, when, and how. Used through
/// [`crate::Scheduler::add_job`] or in batches with [`crate::Scheduler::add_jobs`].
///
/// ```
/// use std::time::Duration;
/// use scheduler::{JobSpec, Target, Trigger};
/// let spec = JobSpec::new(Target::from_async(|_ctx| async {}))
///     .id("sync-inventory")
///     .trigger(Trigger::interval(Duration::from_secs(300))?)
///     .max_instances(2);
/// # let _ = spec;
/// # Ok::<(), scheduler::trigger::Error>(())
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct JobSpec {
    pub(crate) id: Option<Arc<str>>,
    pub(crate) name: Option<Arc<str>>,
    pub(crate) target: Target,
    pub(crate) trigger: Option<Trigger>,
    pub(crate) options: Option<JobOptions>,
    pub(crate) replace_existing: bool,
    /// `Some(None)`: add paused.
    pub(crate) next_run_time: Option<Option<DateTime<Utc>>>,
}

impl JobSpec {
    /// A job running `target`; without a trigger it runs once, now.
    pub fn new(target: impl Into<Target>) -> JobSpec {
        JobSpec {
            id: None,
            name: None,
            target: target.into(),
            trigger: None,
            options: None,
            replace_existing: false,
            next_run_time: None,
        }
    }

    pub(crate) fn opts(&mut self) -> &mut JobOptions {
        self.options.get_or_insert_with(JobOptions::default)
    }
}

/// Generates the builder methods of [`JobSpec`] and of the handle's `AddJob`.
macro_rules! job_spec_setters {
    ($ty:ty $(, $field:ident)?) => {
        impl $ty {
            /// The job id (default: generated). Unique within the scheduler.
            pub fn id(mut self, id: impl Into<String>) -> Self {
                self$(.$field)?.id = Some(std::sync::Arc::from(id.into()));
                self
            }
            /// A display name.
            pub fn name(mut self, name: impl Into<String>) -> Self {
                self$(.$field)?.name = Some(std::sync::Arc::from(name.into()));
                self
            }
            /// When it fires (default: once, now).
            pub fn trigger(mut self, trigger: impl Into<$crate::trigger::Trigger>) -> Self {
                self$(.$field)?.trigger = Some(trigger.into());
                self
            }
            /// How late a run may start and still run; `None` = no limit (default 1 s).
            pub fn misfire_grace_time(mut self, grace: Option<std::time::Duration>) -> Self {
                self$(.$field)?.opts().misfire_grace_time = grace;
                self
            }
            /// Collapse a backlog of missed runs into one (default true).
            pub fn coalesce(mut self, coalesce: bool) -> Self {
                self$(.$field)?.opts().coalesce = coalesce;
                self
            }
            /// How many runs may run at once (default 1).
            pub fn max_instances(mut self, n: u32) -> Self {
                self$(.$field)?.opts().max_instances = n;
                self
            }
            /// A random delay up to `max` added to each fire, never past the next fire.
            pub fn jitter(mut self, max: std::time::Duration) -> Self {
                self$(.$field)?.opts().jitter = Some(max);
                self
            }
            /// The executor, by name (default `"default"`).
            pub fn executor(mut self, name: impl Into<String>) -> Self {
                self$(.$field)?.opts().executor = std::sync::Arc::from(name.into());
                self
            }
            /// A per-run timeout.
            pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
                self$(.$field)?.opts().timeout = Some(timeout);
                self
            }
            /// Retries with backoff after a failed run.
            pub fn retry(mut self, retry: $crate::Retry) -> Self {
                self$(.$field)?.opts().retry = Some(retry);
                self
            }
            /// Also run once right away when added.
            pub fn run_on_start(mut self, yes: bool) -> Self {
                self$(.$field)?.opts().run_on_start = yes;
                self
            }
            /// How many missed fire times are looked at when catching up (default 1000).
            pub fn max_catch_up(mut self, n: u32) -> Self {
                self$(.$field)?.opts().max_catch_up = n;
                self
            }
            /// With a durable store, run again on another node a run whose
            /// node died (at-least-once); default false: recorded as abandoned.
            pub fn recover(mut self, yes: bool) -> Self {
                self$(.$field)?.opts().recover = yes;
                self
            }
            /// Replace a job with the same id instead of failing.
            pub fn replace_existing(mut self, yes: bool) -> Self {
                self$(.$field)?.replace_existing = yes;
                self
            }
            /// The first run time; `None` adds the job paused.
            pub fn next_run_time(mut self, at: Option<chrono::DateTime<chrono::Utc>>) -> Self {
                self$(.$field)?.next_run_time = Some(at);
                self
            }
        }
    };
}
pub(crate) use job_spec_setters;

job_spec_setters!(JobSpec);

/// What [`crate::Scheduler::modify_job`] changes; unset fields stay as they are.
///
/// ```
/// use std::time::Duration;
/// use scheduler::JobChanges;
/// let changes = JobChanges::new().max_instances(3).misfire_grace_time(None).name("nightly");
/// # let _ = changes;
/// ```
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct JobChanges {
    pub(crate) name: Option<Arc<str>>,
    pub(crate) target: Option<Target>,
    pub(crate) misfire_grace_time: Option<Option<Duration>>,
    pub(crate) coalesce: Option<bool>,
    pub(crate) max_instances: Option<u32>,
    pub(crate) jitter: Option<Option<Duration>>,
    pub(crate) executor: Option<Arc<str>>,
    pub(crate) timeout: Option<Option<Duration>>,
    pub(crate) retry: Option<Option<Retry>>,
    pub(crate) next_run_time: Option<Option<DateTime<Utc>>>,
}

impl JobChanges {
    /// Applies the option changes (and the name) to `opts`.
    pub(crate) fn apply_options(&self, opts: &mut crate::job::options::JobOptions) {
        if let Some(v) = self.misfire_grace_time {
            opts.misfire_grace_time = v;
        }
        if let Some(v) = self.coalesce {
            opts.coalesce = v;
        }
        if let Some(v) = self.max_instances {
            opts.max_instances = v;
        }
        if let Some(v) = self.jitter {
            opts.jitter = v;
        }
        if let Some(v) = &self.executor {
            opts.executor = v.clone();
        }
        if let Some(v) = self.timeout {
            opts.timeout = v;
        }
        if let Some(v) = self.retry {
            opts.retry = v;
        }
        if let Some(name) = &self.name {
            opts.name = Some(name.clone());
        }
    }

    /// No changes.
    pub fn new() -> JobChanges {
        JobChanges::default()
    }
    /// A new display name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(Arc::from(name.into()));
        self
    }
    /// A new target.
    pub fn target(mut self, target: impl Into<Target>) -> Self {
        self.target = Some(target.into());
        self
    }
    /// A new misfire grace time (`None`: no limit).
    pub fn misfire_grace_time(mut self, grace: Option<Duration>) -> Self {
        self.misfire_grace_time = Some(grace);
        self
    }
    /// Coalesce or not.
    pub fn coalesce(mut self, yes: bool) -> Self {
        self.coalesce = Some(yes);
        self
    }
    /// A new `max_instances`.
    pub fn max_instances(mut self, n: u32) -> Self {
        self.max_instances = Some(n);
        self
    }
    /// New jitter (`None`: none).
    pub fn jitter(mut self, max: Option<Duration>) -> Self {
        self.jitter = Some(max);
        self
    }
    /// Another executor.
    pub fn executor(mut self, name: impl Into<String>) -> Self {
        self.executor = Some(Arc::from(name.into()));
        self
    }
    /// A new timeout (`None`: none).
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = Some(timeout);
        self
    }
    /// A new retry policy (`None`: no retries).
    pub fn retry(mut self, retry: Option<Retry>) -> Self {
        self.retry = Some(retry);
        self
    }
    /// A new next run time (`None`: pause).
    pub fn next_run_time(mut self, at: Option<DateTime<Utc>>) -> Self {
        self.next_run_time = Some(at);
        self
    }
}
