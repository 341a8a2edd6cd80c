//! An actor-model job scheduler for Rust: APScheduler's power on actix.
//!
//! A `SchedulerActor` keeps the jobs and a time-ordered queue of their fire
//! times, with one timer for the earliest; when a fire time comes it sends a
//! run to the job's executor actor (an async pool, a thread pool for
//! blocking functions, or a process pool for jobs that must not share the
//! scheduler's process), which reports back. Executors run under
//! `actix::Supervisor`. Misfire grace time, coalescing,
//! `max_instances`, jitter, timeouts and retries work as APScheduler users
//! expect; events arrive as a stream or through listeners.
//!
//! ```
//! use std::time::Duration;
//! use scheduler::prelude::*;
//!
//! let sched = Scheduler::builder().start_background()?;
//! let blocking = sched.blocking();
//! blocking
//!     .add_job(Target::from_async(|ctx: JobContext| async move {
//!         println!("cancel order {} unless paid", ctx.job_id());
//!     }))
//!     .id("cancel-42")
//!     .trigger(Trigger::after(Duration::from_secs(30 * 60)))
//!     .send_blocking()?;
//! // paid in time:
//! blocking.remove_job("cancel-42")?;
//! blocking.shutdown(true)?;
//! # Ok::<(), scheduler::Error>(())
//! ```
//!
//! Run modes: [`SchedulerBuilder::start`] inside a running actix `System`
//! (actix-web), [`SchedulerBuilder::start_background`] on a thread of its own,
//! [`SchedulerBuilder::run_blocking`] until SIGINT / SIGTERM.

// The rooms, from the top: the handle uses the engine (`actor`), which uses
// the executors, which use the job model; `error`, `event` and `clock` are
// below them all. A room never uses one above it.
mod actor;
mod clock;
mod error;
mod event;
mod executor;
mod handle;
mod job;
#[cfg(feature = "web")]
mod monitor;
mod store;
#[cfg(feature = "web")]
pub mod web;

pub use clock::{Clock, Sleep, SystemClock, TestClock};
pub use error::{Error, ErrorKind};
pub use event::{Event, EventMask, EventStream, FailureKind};
#[cfg(unix)]
pub use executor::worker_main;
pub use executor::Executor;
pub use handle::{AddJob, Blocking, Scheduler, SchedulerBuilder};
pub use job::{
    CommandSpec, Data, FromJobContext, IntoJobResult, Job, JobChanges, JobContext, JobError,
    JobOptions, JobPage, JobQuery, JobResult, JobSpec, Overlap, Retry, Target,
};
/// The contract between the attribute macros and the runtime: what
/// `#[scheduled]` and `#[job]` generate. Usable by hand, to register a
/// function without the macros (see [`JobDescriptor`]).
pub use job::{DataRequirement, JobDescriptor, JobFn, StaticSchedule, StaticTrigger};
#[cfg(feature = "postgres")]
pub use store::PostgresStore;
#[cfg(feature = "sqlite")]
pub use store::SqliteStore;
pub use store::{MemoryStore, Store};
pub use trigger::Trigger;

/// Durable job stores: the [`store::JobStore`] trait and what it reads and writes.
pub mod stores {
    pub use crate::store::{
        AcquireRequest, Acquired, Claim, Completion, JobRecord, JobStore, Missed, RunOutcome,
        RunRecord, RunStatus, Upserted,
    };
}

/// Declares a job that runs on a schedule (see `scheduler_macros::scheduled`).
#[cfg(feature = "macros")]
pub use scheduler_macros::{job, main, scheduled};

/// Triggers: when jobs fire. A re-export of the `scheduler-triggers` crate.
pub mod trigger {
    pub use scheduler_triggers::*;
}

/// The names most programs need.
pub mod prelude {
    pub use crate::trigger::{CronFields, CronTrigger, IntervalTrigger, Trigger, Zone};
    #[cfg(feature = "macros")]
    pub use crate::{job, scheduled};
    pub use crate::{
        Data, Event, EventMask, Executor, JobChanges, JobContext, JobSpec, Retry, Scheduler, Target,
    };
}

/// Used by the code the macros generate. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::job::{
        DataRequirement, FromJobContext, JobDescriptor, JobFn, StaticSchedule, StaticTrigger,
    };
    pub use actix_rt;
    pub use futures_util::future::BoxFuture;
    pub use inventory;
    pub use serde;
    pub use serde_json;

    /// What `#[scheduler::main]` calls first.
    pub fn worker_main() {
        #[cfg(unix)]
        crate::worker_main();
    }
}
