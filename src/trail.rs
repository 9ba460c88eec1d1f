//! Trails (the `CreateTrail` prerequisite): [`Trail`], [`TrailSpec`], [`TrailKind`], and the
//! trail table.

use crate::hash_index::HashIndex;
use crate::ids::{AccountId, Region, TrailName};
use crate::invariants::InvariantViolation;
use crate::slab::{ListSlab, Vacant};
use crate::time::Timestamp;

/// Whether a trail records one account's events or a whole resource directory's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum TrailKind {
    /// A single-account trail: the only kind a backfill task can use.
    SingleAccount,
    /// A multi-account (organization) trail.
    Organization,
}

/// What a host asks for when it creates a trail.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TrailSpec {
    /// The trail's name, unique per account and region.
    pub name: TrailName,
    /// Single-account or organization trail.
    pub kind: TrailKind,
    /// Whether the trail delivers events to Simple Log Service (an `SlsProjectArn` is set).
    pub delivers_to_sls: bool,
}

/// A stored trail, keyed by `(account, region, name)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Trail {
    /// The account that owns the trail.
    pub account: AccountId,
    /// The trail's home region.
    pub region: Region,
    /// The trail's name.
    pub name: TrailName,
    /// Single-account or organization trail.
    pub kind: TrailKind,
    /// Whether the trail delivers events to Simple Log Service.
    pub delivers_to_sls: bool,
    /// When logging last started; `None` while not logging (a new trail is not logging, as in
    /// ActionTrail).
    pub logging_since: Option<Timestamp>,
}

impl Vacant for Trail {
    const VACANT: Trail = Trail {
        account: AccountId(0),
        region: Region::VACANT,
        name: TrailName::VACANT,
        kind: TrailKind::SingleAccount,
        delivers_to_sls: false,
        logging_since: None,
    };
}

impl Trail {
    /// The key that orders trails in a snapshot: account, then region, then name.
    fn key(&self) -> (AccountId, &str, &str) {
        (self.account, self.region.as_str(), self.name.as_str())
    }

    fn has_key(&self, account: AccountId, region: &Region, name: &TrailName) -> bool {
        self.account == account && self.region == *region && self.name == *name
    }
}

/// The trail table: slots, a keyed hash index for lookups, and the slots in key order (for
/// snapshots in canonical order and for counting an account's trails in a region).
#[derive(Debug)]
pub(crate) struct TrailTable<const N: usize> {
    slots: ListSlab<Trail, N>,
    by_key: HashIndex<N>,
    /// Occupied slots sorted by [`Trail::key`]. Insertion moves at most `N` `u32`s, which is
    /// cheap for trail tables (thousands of entries) and keeps lookups off this path.
    sorted: heapless::Vec<u32, N>,
}

/// `clone_from` copies in place: a large table never goes through the stack.
impl<const N: usize> Clone for TrailTable<N> {
    fn clone(&self) -> Self {
        TrailTable {
            slots: self.slots.clone(),
            by_key: self.by_key.clone(),
            sorted: self.sorted.clone(),
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.slots.clone_from(&source.slots);
        self.by_key.clone_from(&source.by_key);
        self.sorted.clear();
        // Cannot fail: both vectors have capacity N.
        let _ = self.sorted.extend_from_slice(&source.sorted);
    }
}

impl<const N: usize> TrailTable<N> {
    pub(crate) const fn new() -> Self {
        TrailTable {
            slots: ListSlab::new(),
            by_key: HashIndex::new(),
            sorted: heapless::Vec::new(),
        }
    }

    pub(crate) fn clear(&mut self) {
        self.slots.clear();
        self.by_key.clear();
        self.sorted.clear();
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    pub(crate) fn is_full(&self) -> bool {
        self.slots.is_full()
    }

    /// The slot of the trail with this key; `hash` is the key's
    /// [`trail_key`](crate::hashing::KeyHasher::trail_key) hash.
    pub(crate) fn find(
        &self,
        hash: u64,
        account: AccountId,
        region: &Region,
        name: &TrailName,
    ) -> Option<u32> {
        self.by_key.find(hash, |slot| {
            self.slots
                .get(slot)
                .is_some_and(|trail| trail.has_key(account, region, name))
        })
    }

    pub(crate) fn get(&self, slot: u32) -> Option<&Trail> {
        self.slots.get(slot)
    }

    pub(crate) fn get_mut(&mut self, slot: u32) -> Option<&mut Trail> {
        self.slots.get_mut(slot)
    }

    /// How many trails `account` has in `region`: two binary searches over the sorted slots.
    pub(crate) fn count_in_region(&self, account: AccountId, region: &Region) -> usize {
        let prefix = (account, region.as_str());
        let start = self
            .sorted
            .partition_point(|&slot| self.prefix_of(slot) < Some(prefix));
        let end = self
            .sorted
            .partition_point(|&slot| self.prefix_of(slot) <= Some(prefix));
        end.saturating_sub(start)
    }

    fn prefix_of(&self, slot: u32) -> Option<(AccountId, &str)> {
        self.slots
            .get(slot)
            .map(|trail| (trail.account, trail.region.as_str()))
    }

    /// Where `trail`'s key stands in `sorted`: `Ok` if present, `Err` with the insertion point.
    fn sorted_position(&self, trail: &Trail) -> Result<usize, usize> {
        self.sorted
            .binary_search_by(|&slot| match self.slots.get(slot) {
                Some(stored) => stored.key().cmp(&trail.key()),
                None => core::cmp::Ordering::Less, // unreachable for a consistent table
            })
    }

    /// Stores a trail whose key is not in the table yet; hands it back when the table is full
    /// or the key is taken.
    pub(crate) fn insert(&mut self, hash: u64, trail: Trail) -> Result<u32, Trail> {
        let Err(at) = self.sorted_position(&trail) else {
            return Err(trail);
        };
        if self.sorted.is_full() {
            return Err(trail);
        }
        let slot = self.slots.push_back(trail)?;
        // Cannot fail: `sorted` is not full (checked above) and `at <= len`.
        let _ = self.sorted.insert(at, slot);
        self.by_key.insert(hash, slot);
        Ok(slot)
    }

    /// Removes the trail at `slot`; `hash` is its key's hash.
    pub(crate) fn remove(&mut self, hash: u64, slot: u32) -> Option<Trail> {
        let trail = self.slots.get(slot)?;
        if let Ok(at) = self.sorted_position(trail) {
            self.sorted.remove(at);
        }
        self.by_key.remove(hash, slot);
        self.slots.remove(slot)
    }

    /// Rebuilds the hash index with another hash function (a snapshot's config may arrive
    /// after its trails).
    #[cfg(feature = "serde")]
    pub(crate) fn rekey(&mut self, hash_of: impl Fn(&Trail) -> u64) {
        self.by_key.clear();
        for slot in self.slots.slots() {
            if let Some(trail) = self.slots.get(slot) {
                self.by_key.insert(hash_of(trail), slot);
            }
        }
    }

    /// Trails in key order (account, region, name).
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Trail> + '_ {
        self.sorted.iter().filter_map(|&slot| self.slots.get(slot))
    }

    /// Invariants 3, 5 and 6 for trails: keys unique and indexed, at most `max_per_region` per
    /// account and region, the sorted list and the slots agree.
    pub(crate) fn check(
        &self,
        max_per_region: u32,
        hash_of: impl Fn(&Trail) -> u64,
    ) -> Result<(), InvariantViolation> {
        if self.sorted.len() != self.slots.len() || self.iter().count() != self.slots.len() {
            return Err(InvariantViolation::IndexMismatch(crate::Index::TrailOrder));
        }
        if self.by_key.count() != self.slots.len() {
            return Err(InvariantViolation::IndexMismatch(crate::Index::TrailKeys));
        }
        let mut previous: Option<&Trail> = None;
        let mut run = 0u64;
        for (&slot, trail) in self.sorted.iter().zip(self.iter()) {
            if let Some(previous) = previous {
                if previous.key() >= trail.key() {
                    return Err(InvariantViolation::DuplicateTrail {
                        account: trail.account,
                    });
                }
                let same_region =
                    previous.account == trail.account && previous.region == trail.region;
                run = if same_region {
                    run.saturating_add(1)
                } else {
                    0
                };
            }
            if run >= u64::from(max_per_region) {
                return Err(InvariantViolation::TrailLimitExceeded {
                    account: trail.account,
                });
            }
            if self.find(hash_of(trail), trail.account, &trail.region, &trail.name) != Some(slot) {
                return Err(InvariantViolation::IndexMismatch(crate::Index::TrailKeys));
            }
            previous = Some(trail);
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may panic: that is how they fail
mod tests {
    use super::*;

    fn trail(account: u64, name: &str) -> Trail {
        Trail {
            account: AccountId(account),
            region: Region::new("cn-hangzhou").unwrap(),
            name: TrailName::new(name).unwrap(),
            kind: TrailKind::SingleAccount,
            delivers_to_sls: true,
            logging_since: None,
        }
    }

    #[test]
    fn keys_that_share_a_hash_are_told_apart() {
        // Hashes are 64-bit and tags 32-bit, so real collisions are rare: force them.
        let mut table: TrailTable<4> = TrailTable::new();
        let (a, b, c) = (
            trail(1, "trail-aaa"),
            trail(1, "trail-bbb"),
            trail(2, "trail-aaa"),
        );
        let slot_a = table.insert(7, a.clone()).unwrap();
        let slot_b = table.insert(7, b.clone()).unwrap();
        let slot_c = table.insert(7, c.clone()).unwrap();
        for (t, slot) in [(&a, slot_a), (&b, slot_b), (&c, slot_c)] {
            assert_eq!(table.find(7, t.account, &t.region, &t.name), Some(slot));
        }
        let other = Region::new("cn-shanghai").unwrap();
        assert_eq!(
            table.find(7, AccountId(1), &other, &a.name),
            None,
            "other region"
        );
        assert_eq!(table.count_in_region(AccountId(1), &a.region), 2);
        assert!(table.check(5, |_| 7).is_ok());
        assert!(table.insert(7, a).is_err(), "the key is taken");
    }
}
