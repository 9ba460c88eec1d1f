//! [`MinTree`]: the smallest value over `N` slots, found in O(1), kept in O(log N) per update.
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

use crate::slab::{NONE, position};

/// The value of an empty leaf: larger than every value stored.
pub(crate) const EMPTY: u64 = u64::MAX;

/// The smallest value under a node, and the slot that holds it. Keeping the slot in every
/// inner node makes [`MinTree::min`] O(1): no dependent walk down the tree, whose cache
/// misses would chain one after another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Best {
    value: u64,
    slot: u32,
}

/// What an empty subtree holds (one canonical form, so that equal subtrees compare equal).
const NO_BEST: Best = Best {
    value: EMPTY,
    slot: NONE,
};

impl Best {
    /// The smaller of two; ties go left (they only happen between empty subtrees).
    fn min(self, other: Best) -> Best {
        if other.value < self.value {
            other
        } else {
            self
        }
    }
}

/// Children per inner node.
const ARITY: usize = 4;

#[derive(Debug, Clone)]
pub(crate) struct MinTree<const N: usize> {
    /// Slot `s`'s value (node `INNER + s`).
    leaves: [u64; N],
    /// Inner node `i`'s best, for `i < INNER` (the rest unused).
    inner: [Best; N],
}

impl<const N: usize> MinTree<N> {
    /// How many inner nodes the tree has: `ceil((N - 1) / 3)`, below `N`.
    const INNER: usize = N.saturating_sub(1).div_ceil(ARITY - 1);

    pub(crate) const fn new() -> Self {
        const { assert!(N > 0 && N < NONE as usize, "a tree needs 1..u32::MAX slots") }
        MinTree {
            leaves: [EMPTY; N],
            inner: [NO_BEST; N],
        }
    }

    pub(crate) fn clear(&mut self) {
        self.leaves.fill(EMPTY);
        self.inner.fill(NO_BEST);
    }

    /// The best at node `node` (inner or leaf).
    fn node(&self, node: usize) -> Best {
        match node.checked_sub(Self::INNER) {
            Some(leaf) => match (self.leaves.get(leaf), u32::try_from(leaf)) {
                (Some(&value), Ok(slot)) if value != EMPTY => Best { value, slot },
                _ => NO_BEST,
            },
            None => self.inner.get(node).copied().unwrap_or(NO_BEST),
        }
    }

    /// The best of inner node `node`'s children (a missing child counts as empty).
    fn best_of_children(&self, node: usize) -> Best {
        // node < INNER < N < u32::MAX, so these stay far below usize::MAX.
        let first = node.saturating_mul(ARITY).saturating_add(1);
        let a = self.node(first).min(self.node(first.saturating_add(1)));
        let b = self
            .node(first.saturating_add(2))
            .min(self.node(first.saturating_add(3)));
        a.min(b)
    }

    /// Slot `slot`'s value.
    pub(crate) fn get(&self, slot: u32) -> u64 {
        self.leaves.get(position(slot)).copied().unwrap_or(EMPTY)
    }

    /// Sets slot `slot` to `value` ([`EMPTY`] to clear it) and repairs its ancestors.
    pub(crate) fn set(&mut self, slot: u32, value: u64) {
        let slot = position(slot);
        let Some(leaf) = self.leaves.get_mut(slot) else {
            return;
        };
        *leaf = value;
        let mut node = Self::INNER.saturating_add(slot);
        while node > 0 {
            node = node.saturating_sub(1) / ARITY;
            let best = self.best_of_children(node);
            let Some(parent) = self.inner.get_mut(node) else {
                return;
            };
            if *parent == best {
                return; // unchanged here, so unchanged above too
            }
            *parent = best;
        }
    }

    /// The slot holding the smallest value and that value, or `None` when every slot is empty.
    pub(crate) fn min(&self) -> Option<(u32, u64)> {
        let best = self.node(0);
        (best.value != EMPTY).then_some((best.slot, best.value))
    }

    /// How many slots hold a value (for the invariant check).
    pub(crate) fn count_set(&self) -> usize {
        self.leaves.iter().filter(|&&value| value != EMPTY).count()
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
        let mut tree: MinTree<N> = MinTree::new();
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
        let mut tree: MinTree<8> = MinTree::new();
        tree.set(3, 30);
        tree.set(6, 60);
        assert!(tree.is_consistent());
        assert_eq!(tree.min(), Some((3, 30)));
        if let Some(root) = tree.inner.get_mut(0) {
            *root = Best { value: 60, slot: 6 };
        }
        assert!(!tree.is_consistent());
        assert_eq!(tree.count_set(), 2);
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
