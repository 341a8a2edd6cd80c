//! (feature `web`) What the scheduler has been doing, kept for the web view
//! and the metrics: a listener on the events fills it.
//!
//! - [`runs`]: the runs in flight, the most recent finished ones, and each
//!   job's last outcome (the memory store keeps no run history).
//! - [`metrics`]: Prometheus counters and histograms (`prometheus-client`).
//!
//! Sits beside `event` and `clock`, below the handle: the builder installs
//! the listener before the scheduler starts, so nothing is missed; the web
//! scope reads it through the handle.

pub(crate) mod metrics;
pub(crate) mod runs;

use std::sync::{Arc, Mutex, MutexGuard};

use crate::clock::SharedClock;
use crate::event::{Event, EventMask};

pub(crate) use metrics::Metrics;
pub(crate) use runs::Runs;
pub use runs::{Outcome, RunView};

/// The monitor of one scheduler.
pub(crate) struct Monitor {
    runs: Mutex<Runs>,
    pub(crate) metrics: Metrics,
    clock: SharedClock,
    /// The builder's event capacity (how far a stream may fall behind).
    pub(crate) event_capacity: usize,
    /// The web scope's event hub: each event serialised once for every
    /// SSE client (made by the first client, dropped with the last).
    pub(crate) sse_hub: Mutex<Option<SseHub>>,
}

/// The event hub's sender of batches (first sequence number, events,
/// bytes) and the sequence number of the next batch.
pub(crate) type SseHub = (
    tokio::sync::broadcast::Sender<(u64, u64, actix_web::web::Bytes)>,
    Arc<std::sync::atomic::AtomicU64>,
);

impl Monitor {
    pub(crate) fn new(clock: SharedClock, event_capacity: usize) -> Arc<Monitor> {
        Arc::new(Monitor {
            runs: Mutex::new(Runs::new(1000, 100_000)),
            metrics: Metrics::new(1000),
            clock,
            event_capacity,
            sse_hub: Mutex::new(None),
        })
    }

    /// The events it needs.
    pub(crate) fn mask() -> EventMask {
        EventMask::JOB_SUBMITTED
            | EventMask::JOB_EXECUTED
            | EventMask::JOB_ERROR
            | EventMask::JOB_MISSED
            | EventMask::JOB_MAX_INSTANCES
            | EventMask::JOB_REMOVED
            | EventMask::ALL_JOBS_REMOVED
            | EventMask::RUN_ABANDONED
            | EventMask::STORE_UNAVAILABLE
    }

    /// Records one event (called on the scheduler's thread: quick).
    pub(crate) fn record(&self, event: &Event) {
        let now = self.clock.now();
        let finished = self.lock().record(event, now);
        self.metrics.record(event, finished.as_ref());
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Runs> {
        // A panic while holding it leaves plain data: go on with it.
        self.runs.lock().unwrap_or_else(|p| p.into_inner())
    }
}
