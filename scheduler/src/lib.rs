//! An actor-model job scheduler for Rust.
//!
//! The runtime (scheduler actor, executors, job API) is being built; today this
//! crate exposes the trigger engine as [`trigger`], so the one dependency users
//! add already gives them every trigger and its parser.
//!
//! ```
//! use scheduler::trigger::Trigger;
//! let nightly = Trigger::cron_in("0 0 * * *", "Europe/Berlin")?;
//! # let _ = nightly;
//! # Ok::<(), scheduler::trigger::Error>(())
//! ```

/// Triggers: when jobs fire. A re-export of the `scheduler-triggers` crate.
pub mod trigger {
    pub use scheduler_triggers::*;
}

/// The names most programs need.
pub mod prelude {
    pub use crate::trigger::{CronFields, CronTrigger, IntervalTrigger, Trigger, Zone};
}
