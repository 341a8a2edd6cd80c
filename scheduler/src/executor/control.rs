//! The scheduler's orders to an executor actor: stop for good, or restart.

use actix::prelude::*;

/// Asks an executor actor to stop for good (the scheduler shut down).
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct StopExecutor;

/// Asks an executor actor to stop so that its supervisor restarts it; the
/// runs it had in flight are resolved.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct RestartExecutor;
