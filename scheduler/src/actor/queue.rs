//! The time-ordered queue of fire times: a 4-ary min-heap with lazy
//! invalidation, and bulk extraction when much of it is due at once.

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

/// Children per node: four 16-byte entries share a cache line or two, and
/// the tree is half as deep as a binary one.
const ARITY: usize = 4;

/// Due entries below which they are always popped one by one.
const POP_FIRST: usize = 64;

/// Earliest first; ties in insertion order. Updating or removing a job does not
/// touch the heap: its old entry is skipped when popped (its `seq` is stale), and
/// the heap is rebuilt when stale entries outnumber live ones.
#[derive(Default)]
pub(crate) struct TimeQueue {
    heap: Vec<Entry>,
    next_seq: u32,
    stale: usize,
}

impl TimeQueue {
    /// Queues `slot` at `at`; returns the sequence number the job must keep
    /// (never 0, which means "not queued").
    ///
    /// Sequence numbers never wrap: a stale entry of a reused slot would
    /// then match its job again (after 2^32 pushes, about half an hour at
    /// full dispatch speed). Before the last number is used, the queue is
    /// renumbered: `renumber(slot, old, new)` must say whether the entry is
    /// live (its job's sequence is `old`) and, if so, give the job `new`.
    pub(crate) fn push(
        &mut self,
        at: DateTime<Utc>,
        slot: u32,
        renumber: impl FnMut(u32, u32, u32) -> bool,
    ) -> u32 {
        if self.next_seq == u32::MAX {
            self.renumber(renumber);
        }
        self.next_seq += 1;
        let seq = self.next_seq;
        self.heap.push(Entry {
            key: key_ceil(at),
            seq,
            slot,
        });
        self.sift_up(self.heap.len() - 1);
        seq
    }

    /// Drops stale entries and numbers the live ones 1, 2, ... in queue
    /// order (ties keep their order: sequence numbers rose since the last
    /// renumbering). A sorted array is a valid heap.
    fn renumber(&mut self, mut renumber: impl FnMut(u32, u32, u32) -> bool) {
        self.heap.sort_unstable();
        let mut next = 0u32;
        self.heap.retain_mut(|e| {
            let live = renumber(e.slot, e.seq, next + 1);
            if live {
                next += 1;
                e.seq = next;
            }
            live
        });
        self.next_seq = next;
        self.stale = 0;
    }

    /// Notes that one queued entry became stale.
    pub(crate) fn invalidate(&mut self) {
        self.stale += 1;
    }

    /// The earliest entry, valid or not.
    pub(crate) fn peek(&self) -> Option<Entry> {
        self.heap.first().copied()
    }

    /// Moves every entry due at `now` to `out`, earliest first.
    ///
    /// Usually they are popped one by one. When they are a large part of the
    /// heap (a burst of jobs due at one instant), they are taken in one pass
    /// and sorted, and the heap is rebuilt from what is left: O(n) instead of
    /// O(d log n) with a cache miss per level.
    pub(crate) fn take_due(&mut self, now: DateTime<Utc>, out: &mut Vec<Entry>) {
        let now = now.timestamp_micros();
        if self.heap.first().is_none_or(|e| e.key > now) {
            return;
        }
        let n = self.heap.len();
        let log = (usize::BITS - n.leading_zeros()) as usize;
        // Bulk costs about n; popping costs about d * log n.
        let limit = (n / log.max(1)).max(POP_FIRST);
        if self.count_due(now, limit) < limit {
            while self.heap.first().is_some_and(|e| e.key <= now) {
                if let Some(e) = self.pop() {
                    out.push(e);
                }
            }
            return;
        }
        let start = out.len();
        self.heap.retain(|e| {
            if e.key <= now {
                out.push(*e);
                false
            } else {
                true
            }
        });
        out[start..].sort_unstable();
        self.heapify();
    }

    /// Due entries, counting up to `limit`: the due entries form a subtree
    /// at the root (a parent is never later than its child).
    fn count_due(&self, now: i64, limit: usize) -> usize {
        let mut count = 0;
        let mut stack = vec![0usize];
        while let Some(i) = stack.pop() {
            if self.heap.get(i).is_none_or(|e| e.key > now) {
                continue;
            }
            count += 1;
            if count >= limit {
                break;
            }
            let first = i * ARITY + 1;
            stack.extend(first..(first + ARITY).min(self.heap.len()));
        }
        count
    }

    /// Records that a popped entry was stale.
    pub(crate) fn popped_stale(&mut self) {
        self.stale = self.stale.saturating_sub(1);
    }

    /// Drops stale entries when they are more than half of the heap.
    pub(crate) fn compact(&mut self, is_live: impl Fn(&Entry) -> bool) {
        if self.stale > 1024 && self.stale * 2 > self.heap.len() {
            self.heap.retain(is_live);
            self.heapify();
            self.stale = 0;
        }
    }

    pub(crate) fn clear(&mut self) {
        self.heap.clear();
        self.stale = 0;
    }

    // ===== the heap =====

    fn pop(&mut self) -> Option<Entry> {
        let last = self.heap.pop()?;
        if self.heap.is_empty() {
            return Some(last);
        }
        let top = std::mem::replace(&mut self.heap[0], last);
        self.sift_down(0);
        Some(top)
    }

    fn sift_up(&mut self, mut i: usize) {
        let e = self.heap[i];
        while i > 0 {
            let parent = (i - 1) / ARITY;
            if self.heap[parent] <= e {
                break;
            }
            self.heap[i] = self.heap[parent];
            i = parent;
        }
        self.heap[i] = e;
    }

    fn sift_down(&mut self, mut i: usize) {
        let n = self.heap.len();
        let e = self.heap[i];
        loop {
            let first = i * ARITY + 1;
            if first >= n {
                break;
            }
            let mut min = first;
            for c in first + 1..(first + ARITY).min(n) {
                if self.heap[c] < self.heap[min] {
                    min = c;
                }
            }
            if self.heap[min] >= e {
                break;
            }
            self.heap[i] = self.heap[min];
            i = min;
        }
        self.heap[i] = e;
    }

    fn heapify(&mut self) {
        let n = self.heap.len();
        if n < 2 {
            return;
        }
        for i in (0..=(n - 2) / ARITY).rev() {
            self.sift_down(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(micros: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(micros).unwrap_or_default()
    }

    /// Pops in order, ties in insertion order, whether one by one or in bulk.
    #[test]
    fn take_due_is_ordered_in_both_modes() {
        for (n, due_at) in [(50, 25), (10_000, 9_000), (10_000, 200), (100, 100)] {
            let mut q = TimeQueue::default();
            let mut x: u64 = 0x2545_F491_4F6C_DD1D;
            for slot in 0..n {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Many ties: 100 distinct times.
                q.push(at((x % 100) as i64 * (n as i64)), slot, |_, _, _| true);
            }
            let mut out = Vec::new();
            q.take_due(at(due_at as i64 * (n as i64) / 100), &mut out);
            let later = q.heap.len();
            assert_eq!(out.len() + later, n as usize);
            assert!(out.windows(2).all(|w| w[0] < w[1]), "ordered with n = {n}");
            let mut rest = Vec::new();
            q.take_due(at(i64::MAX / 2), &mut rest);
            assert_eq!(rest.len(), later);
            assert!(rest.windows(2).all(|w| w[0] < w[1]));
            if let (Some(a), Some(b)) = (out.last(), rest.first()) {
                assert!(a < b);
            }
        }
    }

    #[test]
    fn nothing_due_takes_nothing() {
        let mut q = TimeQueue::default();
        q.push(at(2_000), 1, |_, _, _| true);
        let mut out = Vec::new();
        q.take_due(at(1_999), &mut out);
        assert!(out.is_empty());
        assert_eq!(q.peek().map(|e| e.slot), Some(1));
    }

    /// Forces the wrap: a job rescheduled across 2^32 pushes is popped
    /// once per fire time, never twice through a stale entry of its slot.
    #[test]
    fn sequence_numbers_never_match_a_stale_entry_after_a_wrap() {
        let mut q = TimeQueue::default();
        // The jobs' live sequence numbers, by slot (0: not queued).
        let mut seqs = vec![0u32; 3];
        let push = |q: &mut TimeQueue, seqs: &mut Vec<u32>, t: i64, slot: u32| {
            if seqs[slot as usize] != 0 {
                seqs[slot as usize] = 0;
                q.invalidate();
            }
            let seq = q.push(at(t), slot, |s, old, new| {
                let live = seqs[s as usize] == old;
                if live {
                    seqs[s as usize] = new;
                }
                live
            });
            seqs[slot as usize] = seq;
        };
        push(&mut q, &mut seqs, 10, 0); // seq 1
        push(&mut q, &mut seqs, 20, 0); // seq 2; the entry with seq 1 is stale
        push(&mut q, &mut seqs, 30, 1);
        // 2^32 pushes later:
        q.next_seq = u32::MAX - 1;
        push(&mut q, &mut seqs, 40, 2); // the last number
        push(&mut q, &mut seqs, 50, 0); // wraps: seq 1 again, before the fix
        push(&mut q, &mut seqs, 60, 1);
        let mut out = Vec::new();
        q.take_due(at(1_000), &mut out);
        let live: Vec<(u32, i64)> = out
            .iter()
            .filter(|e| seqs[e.slot as usize] == e.seq)
            .map(|e| (e.slot, e.at().timestamp_micros()))
            .collect();
        assert_eq!(live, [(2, 40), (0, 50), (1, 60)]);
        assert!(seqs.iter().all(|s| *s != 0 && *s < 10), "{seqs:?}");
    }
}
