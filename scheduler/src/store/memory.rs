//! The in-memory store: the engine's own queue, nothing persisted.

/// The default store: jobs live in the scheduler's memory and are gone
/// when the process stops. Adding, firing and removing jobs costs no store
/// call at all: the engine's time queue is the store.
///
/// ```
/// use scheduler::{MemoryStore, Scheduler};
/// let sched = Scheduler::builder().store(MemoryStore).start_background()?;
/// sched.blocking().shutdown(true)?;
/// # Ok::<(), scheduler::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct MemoryStore;
