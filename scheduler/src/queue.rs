//! The time-ordered queue of fire times: a binary heap with lazy invalidation.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use chrono::{DateTime, Utc};

/// One queued fire time, 16 bytes. It is valid while its job's `queued_seq`
/// still equals `seq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Entry {
    /// Microseconds since the epoch, rounded up, so an entry is never due early.
    key: i64,
    pub(crate) seq: u32,
    pub(crate) slot: u32,
}

/// Microseconds since the epoch, rounded up.
fn key_ceil(t: DateTime<Utc>) -> i64 {
    let micros = t.timestamp_micros();
    if t.timestamp_subsec_nanos().is_multiple_of(1000) {
        micros
    } else {
        micros.saturating_add(1)
    }
}

impl Entry {
    /// When the entry is due (to the microsecond, never earlier than queued).
    pub(crate) fn at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.key).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

/// Earliest first; ties in insertion order. Updating or removing a job does not
/// touch the heap: its old entry is skipped when popped (its `seq` is stale), and
/// the heap is rebuilt when stale entries outnumber live ones.
#[derive(Default)]
pub(crate) struct TimeQueue {
    heap: BinaryHeap<Reverse<Entry>>,
    next_seq: u32,
    stale: usize,
}

impl TimeQueue {
    /// Queues `slot` at `at`; returns the sequence number the job must keep
    /// (never 0, which means "not queued").
    pub(crate) fn push(&mut self, at: DateTime<Utc>, slot: u32) -> u32 {
        self.next_seq = self.next_seq.wrapping_add(1).max(1);
        let seq = self.next_seq;
        self.heap.push(Reverse(Entry {
            key: key_ceil(at),
            seq,
            slot,
        }));
        seq
    }

    /// Notes that one queued entry became stale.
    pub(crate) fn invalidate(&mut self) {
        self.stale += 1;
    }

    /// The earliest entry, valid or not.
    pub(crate) fn peek(&self) -> Option<Entry> {
        self.heap.peek().map(|r| r.0)
    }

    /// Removes the earliest entry if it is due at `now`.
    pub(crate) fn pop_due(&mut self, now: DateTime<Utc>) -> Option<Entry> {
        if self.heap.peek()?.0.key > now.timestamp_micros() {
            return None;
        }
        self.heap.pop().map(|r| r.0)
    }

    /// Records that a popped entry was stale.
    pub(crate) fn popped_stale(&mut self) {
        self.stale = self.stale.saturating_sub(1);
    }

    /// Drops stale entries when they are more than half of the heap.
    pub(crate) fn compact(&mut self, is_live: impl Fn(&Entry) -> bool) {
        if self.stale > 1024 && self.stale * 2 > self.heap.len() {
            let entries = std::mem::take(&mut self.heap).into_vec();
            self.heap = entries.into_iter().filter(|r| is_live(&r.0)).collect();
            self.stale = 0;
        }
    }

    pub(crate) fn clear(&mut self) {
        self.heap.clear();
        self.stale = 0;
    }
}
