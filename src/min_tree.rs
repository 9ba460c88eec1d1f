//! [`MinTree`]: the smallest key over `N` slots, found in O(1), kept in O(log N) per update.
//!
//! The job table runs full on purpose and evicts the finished job with the smallest id, which
//! may sit anywhere (long-running jobs keep old ids alive between finished ones). A tournament
//! tree over the slots answers "which slot holds the smallest finished id" whatever the fill,
//! with two flat arrays and no allocation.
//!
//! Layout: a 4-ary heap of `INNER + N` nodes, where node `i`'s children are `4i + 1 ..= 4i + 4`,
//! inner nodes are `0..INNER` (in `inner`) and the last `N` nodes are the slots (in `leaves`).
//! With `INNER = ceil((N - 1) / 3)` every inner node has a child and no leaf has one, for any
//! `N`, not only powers of four. Four children per node halve the height of a binary tree
//! (8 levels for 65,536 slots): an eviction, which changes the minimum, must repair every
//! level, and each level's four loads are independent of each other.

use crate::slab::{NONE, loaded, position, stored};

/// The value of an empty leaf of a `u64` tree: larger than every value stored.
pub(crate) const EMPTY: u64 = u64::MAX;

/// A key a [`MinTree`] orders by, with a value for "empty" that is larger than every key
/// stored.
///
/// Keys are stored bit-flipped ([`TreeKey::flip`]), so that the empty key is stored as zero
/// bytes and an empty tree is all zero bytes (a scheduler in a `static` lands in `.bss`).
pub(crate) trait TreeKey: Copy + Ord {
    /// The key of an empty leaf.
    const EMPTY: Self;
    /// How [`EMPTY`](Self::EMPTY) is stored: `EMPTY.flip()`, all zero bits.
    const STORED_EMPTY: Self;
    /// Every bit inverted: how a key is stored, and back.
    fn flip(self) -> Self;
}

impl TreeKey for u64 {
    const EMPTY: Self = EMPTY;
    const STORED_EMPTY: Self = 0;
    fn flip(self) -> Self {
        !self
    }
}

/// Two words ordered as a pair: `(time, job id)` for the worker protocol's queues, where ties
/// in time go to the smaller id.
impl TreeKey for (u64, u64) {
    const EMPTY: Self = (u64::MAX, u64::MAX);
    const STORED_EMPTY: Self = (0, 0);
    fn flip(self) -> Self {
        (!self.0, !self.1)
    }
}

/// The smallest value under a node, and the slot that holds it. Keeping the slot in every
/// inner node makes [`MinTree::min`] O(1): no dependent walk down the tree, whose cache
/// misses would chain one after another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Best<K> {
    value: K,
    slot: u32,
}

impl<K: TreeKey> Best<K> {
    /// What an empty subtree holds (one canonical form, so that equal subtrees compare equal).
    const NONE: Best<K> = Best {
        value: K::EMPTY,
        slot: NONE,
    };

    /// An empty subtree as stored.
    const STORED_NONE: Best<K> = Best {
        value: K::STORED_EMPTY,
        slot: stored(NONE),
    };

    /// How a best is stored in an inner node, and back ([`Best::loaded`]).
    fn stored(self) -> Best<K> {
        Best {
            value: self.value.flip(),
            slot: stored(self.slot),
        }
    }

    fn loaded(self) -> Best<K> {
        Best {
            value: self.value.flip(),
            slot: loaded(self.slot),
        }
    }

    /// The better of two stored bests (the larger stored value); ties go left. Compared in
    /// pairs, the four children of a node make two independent comparisons and a third,
    /// rather than a chain of four.
    fn stored_better(left: Best<K>, right: Best<K>) -> Best<K> {
        if right.value > left.value {
            right
        } else {
            left
        }
    }

    /// The smaller of two; ties go left (they only happen between empty subtrees).
    fn min(self, other: Best<K>) -> Best<K> {
        if other.value < self.value {
            other
        } else {
            self
        }
    }
}

/// Children per inner node.
const ARITY: usize = 4;

#[derive(Debug)]
pub(crate) struct MinTree<K, const N: usize> {
    /// Slot `s`'s value (node `INNER + s`), flipped.
    leaves: [K; N],
    /// Inner node `i`'s best, for `i < INNER` (the rest unused), stored.
    inner: [Best<K>; N],
}

/// `clone_from` copies in place: a large tree never goes through the stack.
impl<K: TreeKey, const N: usize> Clone for MinTree<K, N> {
    fn clone(&self) -> Self {
        MinTree {
            leaves: self.leaves,
            inner: self.inner,
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.leaves.clone_from(&source.leaves);
        self.inner.clone_from(&source.inner);
    }
}

impl<K: TreeKey, const N: usize> MinTree<K, N> {
    /// How many inner nodes the tree has: `ceil((N - 1) / 3)`, below `N`.
    const INNER: usize = N.saturating_sub(1).div_ceil(ARITY - 1);

    pub(crate) const fn new() -> Self {
        const { assert!(N > 0 && N < NONE as usize, "a tree needs 1..u32::MAX slots") }
        MinTree {
            leaves: [K::STORED_EMPTY; N],
            inner: [Best::STORED_NONE; N],
        }
    }

    pub(crate) fn clear(&mut self) {
        self.leaves.fill(K::STORED_EMPTY);
        self.inner.fill(Best::STORED_NONE);
    }

    /// The best at node `node` (inner or leaf).
    fn node(&self, node: usize) -> Best<K> {
        match node.checked_sub(Self::INNER) {
            Some(leaf) => match (self.leaves.get(leaf), u32::try_from(leaf)) {
                (Some(&value), Ok(slot)) if value != K::STORED_EMPTY => Best {
                    value: value.flip(),
                    slot,
                },
                _ => Best::NONE,
            },
            None => self
                .inner
                .get(node)
                .map_or(Best::NONE, |best| best.loaded()),
        }
    }

    /// The best of inner node `node`'s children (a missing child counts as empty); ties go to
    /// the first.
    fn best_of_children(&self, node: usize) -> Best<K> {
        self.stored_best_of_children(node).loaded()
    }

    /// [`best_of_children`](Self::best_of_children) as stored. Flipping every bit reverses
    /// the order of each word and so of the pair too: the smallest value is the largest
    /// stored one, so the children are compared as stored, with no flip per child (an
    /// eviction compares children on every level).
    #[inline]
    fn stored_best_of_children(&self, node: usize) -> Best<K> {
        // node < INNER < N < u32::MAX, so these stay far below usize::MAX.
        let first = node.saturating_mul(ARITY).saturating_add(1);
        let last = first.saturating_add(ARITY);
        // The common cases, four leaves or four inner nodes, read one slice.
        if let Some(leaf) = first.checked_sub(Self::INNER)
            && let Some(values) = self.leaves.get(leaf..leaf.saturating_add(ARITY))
        {
            // leaf + offset < N < u32::MAX
            let child = |offset: usize| Best {
                value: values.get(offset).copied().unwrap_or(K::STORED_EMPTY),
                slot: stored(u32::try_from(leaf.saturating_add(offset)).unwrap_or(NONE)),
            };
            let best = Best::stored_better(
                Best::stored_better(child(0), child(1)),
                Best::stored_better(child(2), child(3)),
            );
            // An all-empty group is stored in its one canonical form.
            return if best.value == K::STORED_EMPTY {
                Best::STORED_NONE
            } else {
                best
            };
        }
        if last <= Self::INNER
            && let Some(children) = self.inner.get(first..last)
        {
            let child = |offset: usize| children.get(offset).copied().unwrap_or(Best::STORED_NONE);
            let best = Best::stored_better(
                Best::stored_better(child(0), child(1)),
                Best::stored_better(child(2), child(3)),
            );
            return if best.value == K::STORED_EMPTY {
                Best::STORED_NONE
            } else {
                best
            };
        }
        let a = self.node(first).min(self.node(first.saturating_add(1)));
        let b = self
            .node(first.saturating_add(2))
            .min(self.node(first.saturating_add(3)));
        a.min(b).stored()
    }

    /// Slot `slot`'s value.
    pub(crate) fn get(&self, slot: u32) -> K {
        self.leaves
            .get(position(slot))
            .map_or(K::EMPTY, |&value| value.flip())
    }

    /// Sets slot `slot` to `value` (`K::EMPTY` to clear it) and repairs its ancestors.
    ///
    /// Each ancestor is repaired from what changed below it: when the changed child's best
    /// beats the ancestor's, it takes its place; when the ancestor's best came from elsewhere
    /// and still wins, nothing above changes; only when the ancestor's best was the child's old
    /// best (or a tie needs breaking) are its four children compared. So a new largest value
    /// (a job that finishes) stops at the first level, and a new smallest one (a claimed job's
    /// lease) climbs without comparing siblings.
    pub(crate) fn set(&mut self, slot: u32, value: K) {
        let position = position(slot);
        let Some(leaf) = self.leaves.get_mut(position) else {
            return;
        };
        // Everything below is in stored form (see `stored_best_of_children`): a larger stored
        // value is a smaller value.
        let as_best = |stored_value: K| {
            if stored_value == K::STORED_EMPTY {
                Best::STORED_NONE
            } else {
                Best {
                    value: stored_value,
                    slot: stored(slot),
                }
            }
        };
        let mut old_child = as_best(*leaf);
        *leaf = value.flip();
        let mut new_child = as_best(*leaf);
        let mut node = Self::INNER.saturating_add(position);
        while node > 0 && old_child != new_child {
            node = node.saturating_sub(1) / ARITY;
            let Some(&current) = self.inner.get(node) else {
                return;
            };
            let best = if new_child.value > current.value {
                new_child
            } else if current.slot == old_child.slot || new_child.value == current.value {
                // The same slot means the same subtree best: a slot holds one value, and
                // `current` was computed while the slot still held the old one.
                self.stored_best_of_children(node)
            } else {
                return; // the best came from elsewhere and still wins: unchanged above too
            };
            if let Some(parent) = self.inner.get_mut(node) {
                *parent = best;
            }
            (old_child, new_child) = (current, best);
        }
    }

    /// The slot holding the smallest value and that value, or `None` when every slot is empty.
    pub(crate) fn min(&self) -> Option<(u32, K)> {
        let best = self.node(0);
        (best.value != K::EMPTY).then_some((best.slot, best.value))
    }

    /// The slot holding the smallest value among the slots that `accept` takes, and that
    /// value.
    ///
    /// A subtree is opened only when its own minimum is refused, so the cost is O(1) when the
    /// minimum is accepted and grows by O(log N) for each refused slot whose value is below
    /// the answer: cheap when refusals are rare (the claim queue refuses only jobs past their
    /// deadline that `handle_timeout` has not failed yet).
    pub(crate) fn min_where(&self, accept: impl Fn(u32) -> bool) -> Option<(u32, K)> {
        let mut best = Best::NONE;
        self.search(0, &accept, &mut best);
        (best.value != K::EMPTY).then_some((best.slot, best.value))
    }

    /// Improves `best` with the smallest accepted value under `node`. The recursion is as
    /// deep as the tree: at most 16 levels for `u32` slots.
    fn search(&self, node: usize, accept: &impl Fn(u32) -> bool, best: &mut Best<K>) {
        let here = self.node(node);
        if here.value >= best.value {
            return; // empty, or nothing here beats what was found
        }
        if accept(here.slot) {
            *best = here;
            return;
        }
        if node >= Self::INNER {
            return; // a refused leaf
        }
        let first = node.saturating_mul(ARITY).saturating_add(1);
        for child in first..first.saturating_add(ARITY) {
            self.search(child, accept, best);
        }
    }

    /// How many slots hold a value (for the invariant check).
    pub(crate) fn count_set(&self) -> usize {
        self.leaves
            .iter()
            .filter(|&&value| value != K::STORED_EMPTY)
            .count()
    }

    /// Whether every inner node is the best of its children (for the invariant check).
    pub(crate) fn is_consistent(&self) -> bool {
        (0..Self::INNER).all(|node| self.node(node) == self.best_of_children(node))
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)] // tests may panic: that is how they fail
mod tests {
    use super::*;

    fn check_all_sizes<const N: usize>() {
        let mut tree: MinTree<u64, N> = MinTree::new();
        assert_eq!(tree.min(), None);
        let slots = u32::try_from(N).unwrap_or(0);
        // Fill in a scrambled order with values that are not sorted by slot.
        for slot in 0..slots {
            tree.set(slot, u64::from((slot * 7 + 3) % slots) + 10);
            assert!(tree.is_consistent());
        }
        let mut expected = 10;
        while let Some((slot, value)) = tree.min() {
            assert_eq!(value, expected);
            assert_eq!(tree.get(slot), value);
            tree.set(slot, EMPTY);
            assert!(tree.is_consistent());
            expected += 1;
        }
        assert_eq!(expected, 10 + u64::from(slots));
    }

    #[test]
    fn notices_an_inner_node_out_of_step() {
        let mut tree: MinTree<u64, 8> = MinTree::new();
        tree.set(3, 30);
        tree.set(6, 60);
        assert!(tree.is_consistent());
        assert_eq!(tree.min(), Some((3, 30)));
        if let Some(root) = tree.inner.get_mut(0) {
            *root = Best { value: 60, slot: 6 }.stored();
        }
        assert!(!tree.is_consistent());
        assert_eq!(tree.count_set(), 2);
    }

    #[test]
    fn finds_the_smallest_accepted_value() {
        let mut tree: MinTree<(u64, u64), 64> = MinTree::new();
        assert_eq!(tree.min_where(|_| true), None);
        for slot in 0..64u32 {
            tree.set(slot, (u64::from(slot % 5), u64::from(63 - slot)));
        }
        // Unfiltered: time 0, the largest slot among them has the smallest id.
        assert_eq!(tree.min_where(|_| true), Some((60, (0, 3))));
        assert_eq!(tree.min_where(|_| true), tree.min());
        // Refuse every slot at time 0 and the slot with (1, 2).
        assert_eq!(
            tree.min_where(|slot| slot % 5 != 0 && slot != 61),
            Some((56, (1, 7)))
        );
        assert_eq!(tree.min_where(|_| false), None);
    }

    #[test]
    fn finds_the_minimum_for_odd_and_even_sizes() {
        check_all_sizes::<1>();
        check_all_sizes::<2>();
        check_all_sizes::<5>();
        check_all_sizes::<8>();
        check_all_sizes::<13>();
        check_all_sizes::<4>();
        check_all_sizes::<16>();
        check_all_sizes::<17>();
        check_all_sizes::<64>();
    }
}
