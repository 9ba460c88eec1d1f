//! [`HashIndex`]: a chained hash index from keys to slab slots, fast even when full.
//!
//! Capacities are const generics and stable Rust cannot size an array `2 * N`, so an open-
//! addressing table would have to run at load factor 1, where probing degrades badly (as
//! heapless's `IndexMap` does). Chaining with `N` buckets for at most `N` entries keeps the
//! expected chain at 1.5 probes for a hit even when the table is full, with keyed hashes
//! spreading client-chosen keys evenly (and sequential job ids filling buckets in turn). The index stores only slot numbers; the caller decides
//! whether a slot's value matches the key, so one index serves every table.

use crate::slab::{NONE, position};

#[derive(Debug, Clone)]
pub(crate) struct HashIndex<const N: usize> {
    /// The first slot of each bucket's chain.
    heads: [u32; N],
    /// The next slot in the chain of the bucket that holds this slot.
    next: [u32; N],
}

impl<const N: usize> HashIndex<N> {
    pub(crate) const fn new() -> Self {
        const {
            assert!(N > 0, "a table needs a capacity of at least 1");
            assert!(
                N < NONE as usize,
                "a table holds at most u32::MAX - 1 entries"
            );
        }
        HashIndex {
            heads: [NONE; N],
            next: [NONE; N],
        }
    }

    pub(crate) fn clear(&mut self) {
        self.heads.fill(NONE);
        self.next.fill(NONE);
    }

    /// The bucket of a hash: `hash mod N`. `N` is a constant, so the compiler turns the
    /// division into a multiplication. Unlike a multiply-shift, the remainder keeps
    /// consecutive keys in consecutive buckets, which is what job ids (assigned in sequence)
    /// want: one job per bucket, and the evicted job's bucket next to the new one's.
    fn bucket(hash: u64) -> usize {
        // N > 0 (checked by `new`), so the remainder is defined and below N.
        let remainder = hash.checked_rem(N as u64).unwrap_or(0);
        usize::try_from(remainder).unwrap_or(0)
    }

    /// The first slot in `hash`'s chain for which `matches` holds.
    pub(crate) fn find(&self, hash: u64, mut matches: impl FnMut(u32) -> bool) -> Option<u32> {
        let mut slot = *self.heads.get(Self::bucket(hash))?;
        while slot != NONE {
            if matches(slot) {
                return Some(slot);
            }
            slot = *self.next.get(position(slot))?;
        }
        None
    }

    /// Adds `slot` under `hash`. The slot must not be in the index already.
    pub(crate) fn insert(&mut self, hash: u64, slot: u32) {
        let (Some(head), Some(link)) = (
            self.heads.get_mut(Self::bucket(hash)),
            self.next.get_mut(position(slot)),
        ) else {
            return;
        };
        *link = *head;
        *head = slot;
    }

    /// Removes `slot` from `hash`'s chain; false if it was not there.
    pub(crate) fn remove(&mut self, hash: u64, slot: u32) -> bool {
        let after = match self.next.get(position(slot)) {
            Some(&after) => after,
            None => return false,
        };
        let bucket = Self::bucket(hash);
        if self.heads.get(bucket) == Some(&slot) {
            if let Some(head) = self.heads.get_mut(bucket) {
                *head = after;
            }
        } else {
            let Some(mut current) = self.heads.get(bucket).copied() else {
                return false;
            };
            loop {
                let Some(link) = self.next.get_mut(position(current)) else {
                    return false; // reached the end of the chain without meeting `slot`
                };
                if *link == slot {
                    *link = after;
                    break;
                }
                current = *link;
            }
        }
        if let Some(link) = self.next.get_mut(position(slot)) {
            *link = NONE;
        }
        true
    }

    /// How many slots the chains hold in all (for the invariant check: O(N)).
    pub(crate) fn count(&self) -> usize {
        let mut total = 0usize;
        for &head in &self.heads {
            let mut slot = head;
            // A corrupt chain could loop; stop after N steps so the check always ends.
            let mut steps = 0usize;
            while slot != NONE && steps <= N {
                total = total.saturating_add(1);
                steps = steps.saturating_add(1);
                slot = self.next.get(position(slot)).copied().unwrap_or(NONE);
            }
        }
        total
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may panic: that is how they fail
mod tests {
    use super::*;

    #[test]
    fn finds_inserts_and_removes_in_shared_chains() {
        let mut index: HashIndex<4> = HashIndex::new();
        // Same hash: all three share one chain.
        for slot in 0..3 {
            index.insert(7, slot);
        }
        assert_eq!(index.count(), 3);
        assert_eq!(index.find(7, |s| s == 1), Some(1));
        assert!(index.remove(7, 1));
        assert!(!index.remove(7, 1));
        assert_eq!(index.find(7, |s| s == 1), None);
        assert_eq!(index.find(7, |s| s == 0), Some(0));
        assert_eq!(index.find(7, |s| s == 2), Some(2));
        assert!(index.remove(7, 2));
        assert!(index.remove(7, 0));
        assert_eq!(index.count(), 0);
        index.insert(u64::MAX, 3);
        assert_eq!(index.find(u64::MAX, |_| true), Some(3));
    }
}
