//! Whether a scheduler runs, shut down, or died: shared by its handles and
//! its actor, so a handle can tell the truth after the actor is gone.

use std::sync::atomic::{AtomicU8, Ordering};

const RUNNING: u8 = 0;
const SHUT_DOWN: u8 = 1;
const ABORTED: u8 = 2;

/// The scheduler's life, as its handles see it.
#[derive(Default)]
pub(crate) struct Lifecycle(AtomicU8);

impl Lifecycle {
    /// It shut down as asked (`SchedulerShutdown` was emitted).
    pub(crate) fn set_shut_down(&self) {
        let _ = self
            .0
            .compare_exchange(RUNNING, SHUT_DOWN, Ordering::AcqRel, Ordering::Acquire);
    }

    /// Its actor is gone without shutting down (its System or arbiter stopped,
    /// or it panicked). Returns whether this call made it so.
    pub(crate) fn set_aborted(&self) -> bool {
        self.0
            .compare_exchange(RUNNING, ABORTED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    pub(crate) fn is_aborted(&self) -> bool {
        self.0.load(Ordering::Acquire) == ABORTED
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        self.0.load(Ordering::Acquire) == SHUT_DOWN
    }
}
