//! [`HashIndex`]: a chained hash index from keys to slab slots, fast even when full.
//!
//! Capacities are const generics and stable Rust cannot size an array `2 * N`, so an open-
//! addressing table would have to run at load factor 1, where probing degrades badly (as
//! heapless's `IndexMap` does). Chaining with `N` buckets for at most `N` entries keeps the
//! expected chain at 1.5 links for a hit and 1 for a miss even when the table is full, with
//! keyed hashes spreading keys evenly whatever the client chose.
//!
//! Each link carries a 32-bit tag from its key's hash, so a walk rejects other keys without
//! reading their entries: at full load a miss (a new client token, say) would otherwise cost a
//! cache miss on a cold entry per link. The index stores only slot numbers and tags; the
//! caller decides whether a slot's value matches the key, so one index serves every table.

use crate::slab::{NONE, loaded, position, stored};

/// A chain link: the next slot in the bucket, and this slot's tag.
#[derive(Debug, Clone, Copy)]
struct Link {
    next: u32,
    tag: u32,
}

/// An unlinked slot's link: its contents are never read (zero, so that an empty index is all
/// zero bytes).
const UNLINKED: Link = Link { next: 0, tag: 0 };

#[derive(Debug)]
pub(crate) struct HashIndex<const N: usize> {
    /// The first slot of each bucket's chain, [`stored`] (0 for an empty bucket).
    heads: [u32; N],
    /// Per slot: the next slot in its bucket's chain, and its tag.
    links: [Link; N],
}

/// `clone_from` copies in place: a large index never goes through the stack.
impl<const N: usize> Clone for HashIndex<N> {
    fn clone(&self) -> Self {
        HashIndex {
            heads: self.heads,
            links: self.links,
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.heads.clone_from(&source.heads);
        self.links.clone_from(&source.links);
    }
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
            heads: [stored(NONE); N],
            links: [UNLINKED; N],
        }
    }

    pub(crate) fn clear(&mut self) {
        self.heads.fill(stored(NONE));
        self.links.fill(UNLINKED);
    }

    /// The bucket of a hash: `hash mod N`. `N` is a constant, so the compiler turns the
    /// division into a multiplication; every hash is keyed and well mixed, so the remainder
    /// spreads keys evenly for any `N`, not only powers of two.
    fn bucket(hash: u64) -> usize {
        // N > 0 (checked by `new`), so the remainder is defined and below N.
        let remainder = hash.checked_rem(N as u64).unwrap_or(0);
        usize::try_from(remainder).unwrap_or(0)
    }

    /// The tag of a hash: both halves folded, so that keys sharing a bucket (equal low bits)
    /// still differ in their tags, and ids below 2^32 get distinct tags.
    fn tag(hash: u64) -> u32 {
        let folded = hash ^ (hash >> 32);
        folded as u32 // keeps the low 32 bits, by intent
    }

    /// The first slot in `hash`'s chain whose tag matches and for which `matches` holds.
    pub(crate) fn find(&self, hash: u64, mut matches: impl FnMut(u32) -> bool) -> Option<u32> {
        let tag = Self::tag(hash);
        let mut slot = loaded(*self.heads.get(Self::bucket(hash))?);
        while slot != NONE {
            let link = self.links.get(position(slot))?;
            if link.tag == tag && matches(slot) {
                return Some(slot);
            }
            slot = link.next;
        }
        None
    }

    /// Adds `slot` under `hash`. The slot must not be in the index already.
    pub(crate) fn insert(&mut self, hash: u64, slot: u32) {
        let (Some(head), Some(link)) = (
            self.heads.get_mut(Self::bucket(hash)),
            self.links.get_mut(position(slot)),
        ) else {
            return;
        };
        *link = Link {
            next: loaded(*head),
            tag: Self::tag(hash),
        };
        *head = stored(slot);
    }

    /// Removes `slot` from `hash`'s chain; false if it was not there.
    pub(crate) fn remove(&mut self, hash: u64, slot: u32) -> bool {
        let after = match self.links.get(position(slot)) {
            Some(link) => link.next,
            None => return false,
        };
        let bucket = Self::bucket(hash);
        if self.heads.get(bucket).map(|&head| loaded(head)) == Some(slot) {
            if let Some(head) = self.heads.get_mut(bucket) {
                *head = stored(after);
            }
        } else {
            let Some(mut current) = self.heads.get(bucket).map(|&head| loaded(head)) else {
                return false;
            };
            loop {
                let Some(link) = self.links.get_mut(position(current)) else {
                    return false; // reached the end of the chain without meeting `slot`
                };
                if link.next == slot {
                    link.next = after;
                    break;
                }
                current = link.next;
            }
        }
        if let Some(link) = self.links.get_mut(position(slot)) {
            *link = UNLINKED;
        }
        true
    }

    /// The longest chain (for tests of the hash spread).
    #[cfg(test)]
    pub(crate) fn longest_chain(&self) -> usize {
        self.heads
            .iter()
            .map(|&head| {
                let mut length = 0usize;
                let mut slot = loaded(head);
                while slot != NONE && length <= N {
                    length = length.saturating_add(1);
                    slot = self
                        .links
                        .get(position(slot))
                        .map_or(NONE, |link| link.next);
                }
                length
            })
            .max()
            .unwrap_or(0)
    }

    /// How many slots the chains hold in all (for the invariant check: O(N)).
    pub(crate) fn count(&self) -> usize {
        let mut total = 0usize;
        for &head in &self.heads {
            let mut slot = loaded(head);
            // A corrupt chain could loop; stop after N steps so the check always ends.
            let mut steps = 0usize;
            while slot != NONE && steps <= N {
                total = total.saturating_add(1);
                steps = steps.saturating_add(1);
                slot = self
                    .links
                    .get(position(slot))
                    .map_or(NONE, |link| link.next);
            }
        }
        total
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::arithmetic_side_effects)] // tests may panic: that is how they fail
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

    #[test]
    fn tags_fold_both_halves_of_the_hash() {
        assert_eq!(HashIndex::<4>::tag(0x0000_0001_0000_0002), 3);
        assert_eq!(HashIndex::<4>::tag(0x0000_0003_0000_0003), 0);
        assert_eq!(HashIndex::<4>::tag(0xffff_ffff_0000_0000), 0xffff_ffff);
        // Keys that share a bucket (equal low bits) still get different tags.
        assert_ne!(
            HashIndex::<4>::tag(0x0000_0001_0000_0000),
            HashIndex::<4>::tag(0x0000_0002_0000_0000)
        );
    }

    #[test]
    fn distinct_hashes_get_their_own_buckets() {
        let mut index: HashIndex<8> = HashIndex::new();
        for slot in 0..8u32 {
            index.insert(u64::from(slot) * 0x1_0000_0001, slot);
        }
        for slot in 0..8u32 {
            let mut asked = 0;
            let found = index.find(u64::from(slot) * 0x1_0000_0001, |candidate| {
                asked += 1;
                candidate == slot
            });
            assert_eq!((found, asked), (Some(slot), 1), "one entry per bucket");
        }
    }

    #[test]
    fn tags_reject_other_keys_in_the_bucket_without_asking() {
        let mut index: HashIndex<4> = HashIndex::new();
        index.insert(1, 0); // bucket 1
        index.insert(5, 1); // bucket 1 too, another tag
        let mut asked = 0;
        assert_eq!(
            index.find(5, |_| {
                asked += 1;
                true
            }),
            Some(1)
        );
        assert_eq!(asked, 1, "slot 0's tag differs, so it is never compared");
        assert_eq!(index.find(9, |_| true), None, "same bucket, no tag matches");
    }
}
