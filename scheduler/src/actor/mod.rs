//! The `SchedulerActor`: jobs in a slab, fire times in a time-ordered queue,
//! one timer for the earliest due time.

mod api;
mod runs;
mod schedule;
mod shutdown;
mod state;

pub(crate) use state::{
    ExecutorKind, ExecutorRef, JobEntry, RestartExecutor, SchedulerActor, StopExecutor,
};
