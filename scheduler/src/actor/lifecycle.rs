//! Whether a scheduler died without shutting down: shared by its handles and
//! its actor, so a handle can tell the truth after the actor is gone. (A
//! scheduler that shut down as asked says so through its `stopped` channel.)

use std::sync::atomic::{AtomicBool, Ordering};

/// Set once the actor is gone without having shut down.
#[derive(Default)]
pub(crate) struct Lifecycle(AtomicBool);

impl Lifecycle {
    /// Its actor is gone without shutting down (its System or arbiter stopped,
    /// or it panicked).
    pub(crate) fn set_aborted(&self) {
        self.0.store(true, Ordering::Release);
    }

    pub(crate) fn is_aborted(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}
