// SPDX-License-Identifier: GPL-2.0

//! The set of timer ids in use: lowest free first, in O(1).
//!
//! Two levels of 64-bit words: bit `b` of `words[w]` is id `64 * w + b`, and bit `w` of `full`
//! says that `words[w]` has no free bit left. Taking the lowest free id is two `trailing_ones()`,
//! whatever the capacity; freeing one is two bit clears.

/// The most ids any [`Ids`] can hold: 64 words of 64 bits, one summary word.
pub(crate) const MAX_CAPACITY: u32 = u64::BITS * u64::BITS;

const WORDS: usize = u64::BITS as usize;

/// Why [`Ids::take_exact`] could not take an id.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TakeError {
    /// The id is not below the capacity.
    OutOfRange,
    /// The id is taken already.
    Taken,
}

/// A set of ids below a capacity of at most [`MAX_CAPACITY`].
pub(crate) struct Ids {
    words: [u64; WORDS],
    full: u64,
    capacity: u32,
}

impl Ids {
    /// An empty set of capacity 0; see [`Ids::set_capacity`].
    pub(crate) const fn new() -> Self {
        Self {
            words: [0; WORDS],
            full: 0,
            capacity: 0,
        }
    }

    /// Sets how many ids may be taken, clamped to [`MAX_CAPACITY`]. Ids taken already stay taken.
    pub(crate) fn set_capacity(&mut self, capacity: u32) {
        self.capacity = capacity.min(MAX_CAPACITY);
    }

    /// Takes the lowest free id, `None` when every id below the capacity is taken.
    pub(crate) fn take(&mut self) -> Option<u32> {
        let w = self.full.trailing_ones();
        let word = self.words.get_mut(w as usize)?;
        let b = word.trailing_ones();
        let id = w * u64::BITS + b;
        if id >= self.capacity {
            return None;
        }
        *word |= 1 << b;
        if *word == u64::MAX {
            self.full |= 1 << w;
        }
        Some(id)
    }

    /// Takes `id` itself, if it is below the capacity and free.
    pub(crate) fn take_exact(&mut self, id: u32) -> Result<(), TakeError> {
        if id >= self.capacity {
            return Err(TakeError::OutOfRange);
        }
        let (w, b) = (id / u64::BITS, id % u64::BITS);
        let word = self
            .words
            .get_mut(w as usize)
            .ok_or(TakeError::OutOfRange)?;
        if *word & (1 << b) != 0 {
            return Err(TakeError::Taken);
        }
        *word |= 1 << b;
        if *word == u64::MAX {
            self.full |= 1 << w;
        }
        Ok(())
    }

    /// Returns `id` to the set; an id that is not taken is left alone.
    pub(crate) fn put(&mut self, id: u32) {
        let (w, b) = (id / u64::BITS, id % u64::BITS);
        if let Some(word) = self.words.get_mut(w as usize) {
            *word &= !(1 << b);
            self.full &= !(1 << w);
        }
    }
}
