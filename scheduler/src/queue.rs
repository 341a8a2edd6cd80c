//! The time-ordered queue of fire times: a binary heap with lazy invalidation.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use chrono::{DateTime, Utc};

/// One queued fire time. It is valid while its job's `queued_seq` still equals `seq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Entry {
    pub(crate) at: DateTime<Utc>,
    pub(crate) seq: u64,
    pub(crate) slot: u32,
}

/// Earliest first; ties in insertion order. Updating or removing a job does not
/// touch the heap: its old entry is skipped when popped (its `seq` is stale), and
/// the heap is rebuilt when stale entries outnumber live ones.
#[derive(Default)]
pub(crate) struct TimeQueue {
    heap: BinaryHeap<Reverse<Entry>>,
    next_seq: u64,
    stale: usize,
}

impl TimeQueue {
    /// Queues `slot` at `at`; returns the sequence number the job must keep.
    pub(crate) fn push(&mut self, at: DateTime<Utc>, slot: u32) -> u64 {
        self.next_seq += 1;
        let seq = self.next_seq;
        self.heap.push(Reverse(Entry { at, seq, slot }));
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
        if self.heap.peek()?.0.at > now {
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
