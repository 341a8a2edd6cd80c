//! A vector that grows by fixed chunks: no element ever moves, and growing
//! never holds the old and the new buffer at once (a plain `Vec` of a million
//! jobs would briefly need half again its size while doubling).

use std::ops::{Index, IndexMut};

const CHUNK: usize = 4096;

pub(crate) struct ChunkedVec<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for ChunkedVec<T> {
    fn default() -> Self {
        ChunkedVec {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> ChunkedVec<T> {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn push(&mut self, value: T) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < CHUNK => c.push(value),
            _ => {
                let mut c = Vec::with_capacity(CHUNK);
                c.push(value);
                self.chunks.push(c);
            }
        }
        self.len += 1;
    }

    pub(crate) fn get(&self, i: usize) -> Option<&T> {
        self.chunks.get(i / CHUNK)?.get(i % CHUNK)
    }

    pub(crate) fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.chunks.get_mut(i / CHUNK)?.get_mut(i % CHUNK)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }
}

impl<T> Index<usize> for ChunkedVec<T> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        &self.chunks[i / CHUNK][i % CHUNK]
    }
}

impl<T> IndexMut<usize> for ChunkedVec<T> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.chunks[i / CHUNK][i % CHUNK]
    }
}

#[cfg(test)]
mod tests {
    use super::ChunkedVec;

    #[test]
    fn indexes_across_chunks() {
        let mut v = ChunkedVec::default();
        for i in 0..10_000u32 {
            v.push(i);
        }
        assert_eq!(v.len(), 10_000);
        assert_eq!(v[4095], 4095);
        assert_eq!(v.get(4096), Some(&4096));
        assert_eq!(v.get(10_000), None);
        v[9999] = 7;
        assert_eq!(v.iter().copied().max(), Some(9998));
    }
}
