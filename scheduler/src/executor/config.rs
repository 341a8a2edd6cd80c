//! Executor configuration, as given on the builder.

use std::num::NonZeroUsize;
use std::path::PathBuf;

/// How a named executor runs jobs (APScheduler's `executors = {...}`).
///
/// Every executor actor runs under an `actix::Supervisor`: when it stops
/// (or is stopped with [`crate::Scheduler::restart_executor`]) it is
/// restarted, and the runs it had in flight are resolved.
///
/// ```
/// use scheduler::{Executor, Scheduler};
/// let builder = Scheduler::builder()
///     .executor("default", Executor::async_pool())
///     .executor("blocking", Executor::thread_pool(20))
///     .executor("cpu", Executor::process_pool(4));
/// # let _ = builder;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Executor {
    /// Async jobs on a pool of actix arbiters, at most `max_concurrency` at once.
    /// Blocking jobs given to it run on tokio's blocking thread pool.
    Async {
        /// How many arbiters (threads with their own event loop).
        arbiters: usize,
        /// How many runs at once; more wait for a free place.
        max_concurrency: usize,
    },
    /// Blocking jobs on `threads` dedicated threads (actix `SyncArbiter`), like
    /// APScheduler's `ThreadPoolExecutor(n)`. Async jobs given to it are driven
    /// to completion on the thread.
    ThreadPool {
        /// How many threads; at most this many runs at once.
        threads: usize,
    },
    /// Registered jobs in child processes, at most `processes` at once, like
    /// APScheduler's `ProcessPoolExecutor(n)`: a crash, abort, segfault or
    /// OOM kill of a job is a failed run, never a dead scheduler. Each run
    /// starts `program` (by default the current executable) in worker mode,
    /// so that program must call [`crate::worker_main`] first thing in
    /// `main` (or use `#[scheduler::main]`). Closures and jobs that need
    /// `Data<T>` cannot run there: adding one is an error.
    ProcessPool {
        /// How many child processes at once; more runs wait for a free place.
        processes: usize,
        /// The program to start as a worker; `None`: the current executable.
        program: Option<PathBuf>,
    },
}

impl Executor {
    /// An async pool: one arbiter per core, 10 000 runs at once.
    pub fn async_pool() -> Executor {
        let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        Executor::Async {
            arbiters: cores,
            max_concurrency: 10_000,
        }
    }

    /// An async pool with a given size.
    pub fn async_pool_with(arbiters: usize, max_concurrency: usize) -> Executor {
        Executor::Async {
            arbiters: arbiters.max(1),
            max_concurrency: max_concurrency.max(1),
        }
    }

    /// A pool of `threads` threads for blocking jobs (at least 1).
    pub fn thread_pool(threads: usize) -> Executor {
        Executor::ThreadPool {
            threads: threads.max(1),
        }
    }

    /// At most `processes` registered jobs at once, each in a child process
    /// running this executable in worker mode (see [`crate::worker_main`]).
    ///
    /// ```
    /// use scheduler::{Executor, Scheduler};
    /// let builder = Scheduler::builder().executor("cpu", Executor::process_pool(4));
    /// # let _ = builder;
    /// ```
    pub fn process_pool(processes: usize) -> Executor {
        Executor::ProcessPool {
            processes: processes.max(1),
            program: None,
        }
    }

    /// Like [`Executor::process_pool`], with another program as the worker: a
    /// binary of yours that registers the same job functions and calls
    /// [`crate::worker_main`].
    pub fn process_pool_with_program(processes: usize, program: impl Into<PathBuf>) -> Executor {
        Executor::ProcessPool {
            processes: processes.max(1),
            program: Some(program.into()),
        }
    }
}
