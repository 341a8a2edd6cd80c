//! The public handle: [`Scheduler`] (async), [`Blocking`] (for plain
//! threads), [`SchedulerBuilder`] and the run modes.
//!
//! The top room: it may use every room below (the engine in `actor`, the
//! executors, the job model). Nothing below uses it; a job reaches its
//! scheduler through a type-erased slot in its context
//! ([`crate::JobContext::scheduler`] is implemented here).

pub(crate) mod builder;
mod durable;
pub(crate) mod scheduler;

#[cfg(feature = "web")]
pub(crate) use builder::shutdown_signal;
pub use builder::SchedulerBuilder;
pub use scheduler::{AddJob, Blocking, Scheduler};
