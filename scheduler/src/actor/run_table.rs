//! The runs in flight: a slab whose ids carry their slot, so lookups need no hashing.

/// Bits of a run id that hold the slot index; the rest is a sequence number,
/// so ids are unique and increasing.
const INDEX_BITS: u32 = 24;
const INDEX_MASK: u64 = (1 << INDEX_BITS) - 1;

pub(crate) struct RunTable<T> {
    slots: Vec<Option<(u64, T)>>,
    free: Vec<u32>,
    seq: u64,
}

impl<T> Default for RunTable<T> {
    fn default() -> Self {
        RunTable {
            slots: Vec::new(),
            free: Vec::new(),
            seq: 0,
        }
    }
}

impl<T> RunTable<T> {
    /// Stores `value`; returns its id, or `None` when 16 million runs are in flight.
    pub(crate) fn insert(&mut self, value: T) -> Option<u64> {
        let index = match self.free.pop() {
            Some(i) => i as usize,
            None if (self.slots.len() as u64) < INDEX_MASK => {
                self.slots.push(None);
                self.slots.len() - 1
            }
            None => return None,
        };
        self.seq += 1;
        let id = (self.seq << INDEX_BITS) | index as u64;
        self.slots[index] = Some((id, value));
        Some(id)
    }

    /// An id for a run kept elsewhere: unique and increasing like the others,
    /// with a slot index no entry ever has.
    pub(crate) fn untracked_id(&mut self) -> u64 {
        self.seq += 1;
        (self.seq << INDEX_BITS) | INDEX_MASK
    }

    fn index(id: u64) -> usize {
        (id & INDEX_MASK) as usize
    }

    pub(crate) fn get(&self, id: u64) -> Option<&T> {
        match self.slots.get(Self::index(id))? {
            Some((i, v)) if *i == id => Some(v),
            _ => None,
        }
    }

    pub(crate) fn get_mut(&mut self, id: u64) -> Option<&mut T> {
        match self.slots.get_mut(Self::index(id))? {
            Some((i, v)) if *i == id => Some(v),
            _ => None,
        }
    }

    pub(crate) fn remove(&mut self, id: u64) -> Option<T> {
        let index = Self::index(id);
        let slot = self.slots.get_mut(index)?;
        if slot.as_ref().is_some_and(|(i, _)| *i == id) {
            self.free.push(index as u32);
            slot.take().map(|(_, v)| v)
        } else {
            None
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, &T)> {
        self.slots.iter().flatten().map(|(i, v)| (*i, v))
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().flatten().map(|(_, v)| v)
    }

    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.slots.iter_mut().flatten().map(|(_, v)| v)
    }

    pub(crate) fn clear(&mut self) {
        self.slots.clear();
        self.free.clear();
    }
}
