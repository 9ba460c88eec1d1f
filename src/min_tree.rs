//! [`MinTree`]: the smallest value over `N` slots, kept in O(log N) per update.
//!
//! The job table runs full on purpose and evicts the finished job with the smallest id, which
//! may sit anywhere (long-running jobs keep old ids alive between finished ones). A bottom-up
//! segment tree over the slots answers "which slot holds the smallest finished id" in
//! O(log N) whatever the fill, with two flat arrays and no allocation. Leaves live at nodes
//! `N..2N` (kept in `leaves`), inner node `i` covers nodes `2i` and `2i + 1`, and node 1 covers
//! everything; this layout works for any `N`, not only powers of two.

use crate::slab::position;

/// The value of an empty leaf: larger than every value stored.
pub(crate) const EMPTY: u64 = u64::MAX;

#[derive(Debug, Clone)]
pub(crate) struct MinTree<const N: usize> {
    /// Slot `s`'s value (node `N + s`).
    leaves: [u64; N],
    /// Inner node `i`'s minimum, for `1 <= i < N` (entry 0 unused).
    inner: [u64; N],
}

impl<const N: usize> MinTree<N> {
    pub(crate) const fn new() -> Self {
        const {
            assert!(
                N > 0 && N <= usize::MAX / 2,
                "a tree needs 1..=usize::MAX/2 slots"
            )
        }
        MinTree {
            leaves: [EMPTY; N],
            inner: [EMPTY; N],
        }
    }

    pub(crate) fn clear(&mut self) {
        self.leaves.fill(EMPTY);
        self.inner.fill(EMPTY);
    }

    /// The value at node `node` (inner or leaf).
    fn node(&self, node: usize) -> u64 {
        match node.checked_sub(N) {
            Some(leaf) => self.leaves.get(leaf).copied().unwrap_or(EMPTY),
            None => self.inner.get(node).copied().unwrap_or(EMPTY),
        }
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
        // N + slot < 2N <= usize::MAX, checked by `new`'s assert.
        let mut node = N.saturating_add(slot);
        while node > 1 {
            node /= 2;
            // Children of `node < N` are below 2N, so these cannot overflow.
            let left = node.saturating_mul(2);
            let smallest = self.node(left).min(self.node(left.saturating_add(1)));
            let Some(parent) = self.inner.get_mut(node) else {
                return;
            };
            if *parent == smallest {
                return; // unchanged here, so unchanged above too
            }
            *parent = smallest;
        }
    }

    /// The slot holding the smallest value and that value, or `None` when every slot is empty.
    pub(crate) fn min(&self) -> Option<(u32, u64)> {
        let smallest = self.node(1);
        if smallest == EMPTY {
            return None;
        }
        let mut node = 1usize;
        while node < N {
            let left = node.saturating_mul(2);
            node = if self.node(left) == smallest {
                left
            } else {
                left.saturating_add(1)
            };
        }
        let slot = node.checked_sub(N)?;
        Some((u32::try_from(slot).ok()?, smallest))
    }

    /// Whether every inner node is the minimum of its children (for the invariant check).
    pub(crate) fn is_consistent(&self) -> bool {
        (1..N).all(|node| {
            let left = node.saturating_mul(2);
            self.node(node) == self.node(left).min(self.node(left.saturating_add(1)))
        })
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
    fn finds_the_minimum_for_odd_and_even_sizes() {
        check_all_sizes::<1>();
        check_all_sizes::<2>();
        check_all_sizes::<5>();
        check_all_sizes::<8>();
        check_all_sizes::<13>();
    }
}
