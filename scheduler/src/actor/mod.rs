//! The engine, `pub(crate)`: the `SchedulerActor`, its state (jobs in a
//! chunked slab, fire times in a time-ordered queue, runs in a run table),
//! dispatch, runs finishing, the job API, shutdown, its messages, and the
//! admission that checks jobs on the caller's thread.
//!
//! May use the executors, the job model, and `error` / `event` / `clock`;
//! never the handle. Admission hands the actor plain checked data; the actor
//! builds its own entries.

pub(crate) mod admission;
mod api;
mod chunked;
pub(crate) mod durable;
mod fxhash;
pub(crate) mod lifecycle;
pub(crate) mod messages;
mod queue;
mod run_table;
mod runs;
mod schedule;
mod shutdown;
mod state;

pub(crate) use shutdown::CANCEL_GRACE;
pub(crate) use state::{ExecutorKind, ExecutorRef, SchedulerActor};
