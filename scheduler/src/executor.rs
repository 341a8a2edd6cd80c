//! Executor configuration, as given on the builder.

use std::num::NonZeroUsize;

/// How a named executor runs jobs (APScheduler's `executors = {...}`).
///
/// ```
/// use scheduler::{Executor, Scheduler};
/// let builder = Scheduler::builder()
///     .executor("default", Executor::async_pool())
///     .executor("blocking", Executor::thread_pool(20));
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
}
