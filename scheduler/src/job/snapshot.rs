//! `Job`: a snapshot of a job as the scheduler has it.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::job::options::JobOptions;
use crate::job::target::Target;
use crate::trigger::Trigger;

/// A snapshot of a job, from [`crate::Scheduler::get_job`] and [`crate::Scheduler::jobs`].
///
/// Serialises with serde (a registered target as its function name and
/// arguments); one with a closure target serialises, but cannot be read back.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Job {
    pub(crate) id: Arc<str>,
    pub(crate) name: Option<Arc<str>>,
    pub(crate) trigger: Trigger,
    pub(crate) target: Target,
    pub(crate) options: Arc<JobOptions>,
    pub(crate) next_run_time: Option<DateTime<Utc>>,
    pub(crate) running: u32,
}

impl Job {
    /// The id.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// The display name (the id when none was given).
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }
    /// The trigger.
    pub fn trigger(&self) -> &Trigger {
        &self.trigger
    }
    /// What it runs.
    pub fn target(&self) -> &Target {
        &self.target
    }
    /// Its options.
    pub fn options(&self) -> &JobOptions {
        &self.options
    }
    /// The next fire time; `None` when paused.
    pub fn next_run_time(&self) -> Option<DateTime<Utc>> {
        self.next_run_time
    }
    /// Whether it is paused.
    pub fn is_paused(&self) -> bool {
        self.next_run_time.is_none()
    }
    /// How many runs are running now.
    pub fn running(&self) -> u32 {
        self.running
    }
}
