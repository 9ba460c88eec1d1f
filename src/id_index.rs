//! [`IdIndex`]: job id to slot, at one probe of a sequentially used array in the common case,
//! and a keyed hash index for the rest.
//!
//! The scheduler hands out ids in order and, once the table is full, evicts the oldest
//! finished job, so at any moment the live ids are mostly one window of about `N` consecutive
//! ids. Placing job `id` at `direct[id mod N]` then gives each live job its own place, and the
//! places that a cycle touches (the new id's, the evicted id's) move forward one by one
//! through the array: the processor's prefetcher has them ready. A keyed hash spreads ids
//! over the buckets at random instead, which costs a cache miss for the new id and another
//! for the evicted one in a large table.
//!
//! A client decides which of its jobs it deletes, so it could keep only ids that share a
//! residue `mod N`; and an old job still running shares its residue with a new one `N` ids
//! later. A job whose direct place is taken goes to the `overflow`, a [`HashIndex`] under the
//! scheduler's keyed hash of the id, so ids chosen to collide cost one extra probe, never a
//! long chain. When the overflow is empty (the common case) a lookup that misses the direct
//! place stops there.

use crate::hash_index::HashIndex;
use crate::slab::{NONE, loaded, stored};

#[derive(Debug)]
pub(crate) struct IdIndex<const N: usize> {
    /// Per residue `id mod N`: the slot of the job placed there, [`stored`] (0 for none).
    direct: [u32; N],
    /// The jobs whose direct place was taken when they came, under the keyed hash of the id.
    overflow: HashIndex<N>,
    /// How many jobs the overflow holds.
    overflowed: usize,
}

/// `clone_from` copies in place: a large index never goes through the stack.
impl<const N: usize> Clone for IdIndex<N> {
    fn clone(&self) -> Self {
        IdIndex {
            direct: self.direct,
            overflow: self.overflow.clone(),
            overflowed: self.overflowed,
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.direct.clone_from(&source.direct);
        self.overflow.clone_from(&source.overflow);
        self.overflowed = source.overflowed;
    }
}

impl<const N: usize> IdIndex<N> {
    pub(crate) const fn new() -> Self {
        IdIndex {
            direct: [stored(NONE); N],
            overflow: HashIndex::new(),
            overflowed: 0,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.direct.fill(stored(NONE));
        self.overflow.clear();
        self.overflowed = 0;
    }

    /// Room for `N` slot numbers, lent to a restore that sorts slots before it rebuilds this
    /// index: what it leaves there is cleared by [`clear`](Self::clear).
    #[cfg(feature = "serde")]
    pub(crate) fn scratch(&mut self) -> &mut [u32; N] {
        &mut self.direct
    }

    /// The direct place of `id`: `id mod N` (a constant divisor, so a multiplication).
    fn place(id: u64) -> usize {
        // N > 0 (checked by HashIndex::new), so the remainder is defined and below N.
        usize::try_from(id.checked_rem(N as u64).unwrap_or(0)).unwrap_or(0)
    }

    /// The slot of job `id`: `holds(slot)` says whether the job at `slot` is `id`, and `hash`
    /// gives the keyed hash of `id`, computed only if the overflow must be searched.
    #[inline]
    pub(crate) fn find(
        &self,
        id: u64,
        hash: impl FnOnce() -> u64,
        mut holds: impl FnMut(u32) -> bool,
    ) -> Option<u32> {
        let direct = loaded(*self.direct.get(Self::place(id))?);
        if direct != NONE && holds(direct) {
            return Some(direct);
        }
        if self.overflowed == 0 {
            return None;
        }
        self.overflow.find(hash(), holds)
    }

    /// Adds job `id` at `slot`; `hash` as for [`find`](Self::find). The job must not be in
    /// the index already.
    #[inline]
    pub(crate) fn insert(&mut self, id: u64, slot: u32, hash: impl FnOnce() -> u64) {
        let Some(direct) = self.direct.get_mut(Self::place(id)) else {
            return;
        };
        if loaded(*direct) == NONE {
            *direct = stored(slot);
        } else {
            self.overflow.insert(hash(), slot);
            self.overflowed = self.overflowed.saturating_add(1);
        }
    }

    /// Removes job `id`, stored at `slot`; `hash` as for [`find`](Self::find).
    #[inline]
    pub(crate) fn remove(&mut self, id: u64, slot: u32, hash: impl FnOnce() -> u64) {
        let Some(direct) = self.direct.get_mut(Self::place(id)) else {
            return;
        };
        // A slot holds one job at a time and every removal clears its direct place, so a
        // direct place naming `slot` names this job.
        if loaded(*direct) == slot {
            *direct = stored(NONE);
        } else if self.overflow.remove(hash(), slot) {
            self.overflowed = self.overflowed.saturating_sub(1);
        }
    }

    /// How many jobs the index holds (for the invariant check: O(N)).
    pub(crate) fn count(&self) -> usize {
        let direct = self
            .direct
            .iter()
            .filter(|&&place| loaded(place) != NONE)
            .count();
        direct.saturating_add(self.overflow.count())
    }

    /// Whether the overflow's count is the number of jobs its chains hold (for the invariant
    /// check: O(N)).
    pub(crate) fn overflow_count_is_true(&self) -> bool {
        self.overflow.count() == self.overflowed
    }

    /// The longest chain in the overflow (for tests of the hash spread).
    #[cfg(test)]
    pub(crate) fn longest_chain(&self) -> usize {
        self.overflow.longest_chain()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, clippy::arithmetic_side_effects)] // tests may panic: that is how they fail
mod tests {
    use super::*;

    /// The keyed hash stand-in: any mixing will do for these tests.
    fn hash(id: u64) -> u64 {
        id.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }

    #[test]
    fn consecutive_ids_take_their_direct_places_and_never_hash() {
        let mut index: IdIndex<8> = IdIndex::new();
        for (slot, id) in (100..108u64).enumerate() {
            index.insert(id, slot as u32, || {
                panic!("no hash for a free direct place")
            });
        }
        for (slot, id) in (100..108u64).enumerate() {
            let found = index.find(
                id,
                || panic!("no hash when found directly"),
                |s| s == slot as u32,
            );
            assert_eq!(found, Some(slot as u32));
        }
        assert_eq!(index.count(), 8);
        assert_eq!(index.overflowed, 0);
        assert_eq!(
            index.find(
                200,
                || panic!("an empty overflow is not searched"),
                |_| false
            ),
            None
        );
    }

    #[test]
    fn ids_sharing_a_residue_go_to_the_overflow_and_come_back_out() {
        let mut index: IdIndex<4> = IdIndex::new();
        // 1, 5 and 9 share residue 1: the first takes the place, the others overflow.
        let jobs = [(1u64, 0u32), (5, 1), (9, 2)];
        for &(id, slot) in &jobs {
            index.insert(id, slot, || hash(id));
        }
        assert_eq!(index.overflowed, 2);
        assert!(index.overflow_count_is_true());
        let holder = |id: u64| move |slot: u32| jobs.contains(&(id, slot));
        for &(id, slot) in &jobs {
            assert_eq!(index.find(id, || hash(id), holder(id)), Some(slot));
        }
        // Removing the direct one frees the place; the overflowed ones are still found.
        index.remove(1, 0, || hash(1));
        assert_eq!(index.find(1, || hash(1), |_| false), None);
        assert_eq!(index.find(5, || hash(5), holder(5)), Some(1));
        // A new id with that residue takes the free place.
        index.insert(13, 3, || panic!("the place is free"));
        assert_eq!(index.find(13, || hash(13), |s| s == 3), Some(3));
        index.remove(5, 1, || hash(5));
        index.remove(9, 2, || hash(9));
        assert_eq!(index.overflowed, 0);
        assert_eq!(index.count(), 1);
        assert!(index.overflow_count_is_true());
    }
}
