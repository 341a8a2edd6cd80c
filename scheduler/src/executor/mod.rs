//! Executors: how runs are run. The [`Executor`] configuration, the run
//! messages (`tick`), the run driver (`run`: timeouts, cancellation, panics,
//! reports), and the executor actors: an async pool of arbiters, a thread
//! pool (`SyncArbiter`), and, on Unix, a process pool (`process`: the pool
//! actor, one child's run, and the worker side).
//!
//! May use the job model and `error` / `event` / `clock`; never the engine
//! or the handle. The scheduler speaks to executors with `control`'s
//! messages and `Dispatch`; they answer through the `FinishedSink`.

pub(crate) mod async_pool;
pub(crate) mod block_on;
mod config;
pub(crate) mod control;
#[cfg(unix)]
pub(crate) mod process;
pub(crate) mod run;
pub(crate) mod thread_pool;
pub(crate) mod tick;

pub use config::Executor;
#[cfg(unix)]
pub use process::worker::worker_main;
