//! [`ListSlab`]: fixed slots threaded on a doubly linked list, the storage under every table.
//!
//! Values never move once stored, so a slot number (`u32`) is a stable handle that indexes can
//! keep. The list keeps insertion order (or any order the owner builds with
//! [`ListSlab::insert_before`]), which is how jobs stay in id order and token records in
//! first-in first-out order. Vacant slots form a free list, so every operation is O(1).

/// "No slot": the end of a list or chain.
pub(crate) const NONE: u32 = u32::MAX;

/// A slot handle as stored in a structure whose empty state must be all zero bytes (so that a
/// scheduler in a `static` lands in `.bss`, not in the binary): the slot plus one, which
/// turns [`NONE`] into 0. [`loaded`] undoes it.
pub(crate) const fn stored(slot: u32) -> u32 {
    slot.wrapping_add(1)
}

/// The slot handle that [`stored`] encoded.
pub(crate) const fn loaded(stored: u32) -> u32 {
    stored.wrapping_sub(1)
}

/// A value for vacant slots: never read as a value, but all zero bytes, so that an empty slab
/// is all zero bytes too.
pub(crate) trait Vacant {
    /// The placeholder of a vacant slot.
    const VACANT: Self;
}

/// A slot handle as an array position. On a target whose `usize` is narrower than `u32` an
/// out-of-range handle maps to `usize::MAX`, which every `get` answers with `None`.
pub(crate) fn position(slot: u32) -> usize {
    usize::try_from(slot).unwrap_or(usize::MAX)
}

/// The links come first (`repr(C)`): list operations touch the front of a node only.
#[derive(Debug, Clone)]
#[repr(C)]
struct Node<T> {
    /// The previous occupied slot in list order; unused while vacant.
    prev: u32,
    /// The next occupied slot in list order, or the next free slot while vacant.
    next: u32,
    /// Whether `value` is a stored value or the [`Vacant`] placeholder. (An `Option` would do,
    /// but its `None` is not all zero bytes for every `T`.)
    occupied: bool,
    value: T,
}

/// `N` slots of `T` on a doubly linked list, with a free list of vacant slots.
#[derive(Debug)]
pub(crate) struct ListSlab<T, const N: usize> {
    nodes: [Node<T>; N],
    /// The first and last slots of the list, and the most recently freed slot (the head of
    /// the free list), [`stored`] so that an empty slab is all zero bytes.
    front: u32,
    back: u32,
    free: u32,
    /// Slots at or past this mark have never been used: they are free without being listed,
    /// so that `new` and `clear` need not thread a free list through all `N` slots.
    fresh: u32,
    len: u32,
}

/// `clone_from` copies slot by slot in place: a large slab never goes through the stack.
impl<T: Clone, const N: usize> Clone for ListSlab<T, N> {
    fn clone(&self) -> Self {
        ListSlab {
            nodes: self.nodes.clone(),
            ..*self
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.nodes.clone_from(&source.nodes);
        self.front = source.front;
        self.back = source.back;
        self.free = source.free;
        self.fresh = source.fresh;
        self.len = source.len;
    }
}

impl<T: Vacant, const N: usize> ListSlab<T, N> {
    /// An empty slab.
    pub(crate) const fn new() -> Self {
        const {
            assert!(N > 0, "a table needs a capacity of at least 1");
            assert!(
                N < NONE as usize,
                "a table holds at most u32::MAX - 1 entries"
            );
        }
        ListSlab {
            nodes: [const {
                Node {
                    prev: 0,
                    next: 0,
                    occupied: false,
                    value: T::VACANT,
                }
            }; N],
            front: stored(NONE),
            back: stored(NONE),
            free: stored(NONE),
            fresh: 0,
            len: 0,
        }
    }

    /// Empties the slab in place (a large slab is never rebuilt on the stack).
    pub(crate) fn clear(&mut self) {
        // Only the flag: a vacant value is never read, so the old one may stay (writing the
        // placeholder over every used slot would cost a restore megabytes of stores).
        let used = position(self.fresh);
        for node in self.nodes.iter_mut().take(used) {
            node.occupied = false;
        }
        self.front = stored(NONE);
        self.back = stored(NONE);
        self.free = stored(NONE);
        self.fresh = 0;
        self.len = 0;
    }

    pub(crate) fn len(&self) -> usize {
        position(self.len)
    }

    pub(crate) fn is_full(&self) -> bool {
        self.len() >= N
    }

    pub(crate) fn front(&self) -> Option<u32> {
        let front = loaded(self.front);
        (front != NONE).then_some(front)
    }

    pub(crate) fn back(&self) -> Option<u32> {
        let back = loaded(self.back);
        (back != NONE).then_some(back)
    }

    pub(crate) fn get(&self, slot: u32) -> Option<&T> {
        let node = self.nodes.get(position(slot))?;
        node.occupied.then_some(&node.value)
    }

    pub(crate) fn get_mut(&mut self, slot: u32) -> Option<&mut T> {
        let node = self.nodes.get_mut(position(slot))?;
        node.occupied.then_some(&mut node.value)
    }

    /// The occupied slot after `slot` in list order.
    pub(crate) fn next(&self, slot: u32) -> Option<u32> {
        let node = self.nodes.get(position(slot))?;
        (node.occupied && node.next != NONE).then_some(node.next)
    }

    #[cfg(test)]
    /// The occupied slot before `slot` in list order.
    pub(crate) fn prev(&self, slot: u32) -> Option<u32> {
        let node = self.nodes.get(position(slot))?;
        (node.occupied && node.prev != NONE).then_some(node.prev)
    }

    /// Values in list order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.slots().filter_map(|slot| self.get(slot))
    }

    /// Occupied slots in list order.
    pub(crate) fn slots(&self) -> impl Iterator<Item = u32> + '_ {
        core::iter::successors(self.front(), |&slot| self.next(slot))
    }

    /// Stores `value` at the back of the list and returns its slot, or hands the value back
    /// when every slot is taken.
    #[inline]
    pub(crate) fn push_back(&mut self, value: T) -> Result<u32, T> {
        self.insert_before(NONE, value)
    }

    /// Stores `value` just before the occupied slot `before` (at the back when `before` is
    /// [`NONE`]) and returns its slot, or hands the value back when every slot is taken or
    /// `before` is not occupied.
    #[inline]
    pub(crate) fn insert_before(&mut self, before: u32, value: T) -> Result<u32, T> {
        let prev = if before == NONE {
            loaded(self.back)
        } else {
            match self.nodes.get(position(before)) {
                Some(node) if node.occupied => node.prev,
                _ => return Err(value),
            }
        };
        let Some(slot) = self.take_vacant() else {
            return Err(value);
        };
        let Some(node) = self.nodes.get_mut(position(slot)) else {
            return Err(value);
        };
        // Field by field: building a whole `Node` first and assigning it copied the value
        // twice (a token entry is over 160 bytes, a job entry more), where this copies it once.
        node.prev = prev;
        node.next = before;
        node.occupied = true;
        node.value = value;
        self.set_next(prev, slot);
        self.set_prev(before, slot);
        self.len = self.len.saturating_add(1);
        Ok(slot)
    }

    /// Removes the value at `slot`, if occupied, and frees the slot.
    pub(crate) fn remove(&mut self, slot: u32) -> Option<T> {
        let node = self.nodes.get_mut(position(slot))?;
        if !node.occupied {
            return None;
        }
        node.occupied = false;
        let value = core::mem::replace(&mut node.value, T::VACANT);
        self.release(slot);
        Some(value)
    }

    /// Drops the value at `slot` in place, if occupied, and frees the slot: for a caller that
    /// does not want the value, without moving it out first.
    pub(crate) fn discard(&mut self, slot: u32) -> bool {
        match self.nodes.get_mut(position(slot)) {
            // The value stays as it is, unseen: `occupied` is what counts.
            Some(node) if node.occupied => node.occupied = false,
            _ => return false,
        }
        self.release(slot);
        true
    }

    /// Unlinks the (just emptied) `slot` from the list and puts it on the free list.
    fn release(&mut self, slot: u32) {
        let Some(node) = self.nodes.get_mut(position(slot)) else {
            return;
        };
        let (prev, next) = (node.prev, node.next);
        node.prev = NONE;
        node.next = loaded(self.free);
        self.free = stored(slot);
        self.set_next(prev, next);
        self.set_prev(next, prev);
        self.len = self.len.saturating_sub(1);
    }

    /// Threads the list through `order`, which must name every occupied slot exactly once
    /// (a restore that sorted the slots by some key). O(len).
    #[cfg(feature = "serde")]
    pub(crate) fn relink(&mut self, order: impl Iterator<Item = u32>) {
        let mut prev = NONE;
        for slot in order {
            if let Some(node) = self.nodes.get_mut(position(slot)) {
                node.prev = prev;
            }
            self.set_next(prev, slot);
            prev = slot;
        }
        self.set_next(prev, NONE);
        self.back = stored(prev);
    }

    /// A vacant slot, taken off the free list or from the never-used tail.
    fn take_vacant(&mut self) -> Option<u32> {
        if loaded(self.free) != NONE {
            let slot = loaded(self.free);
            self.free = stored(self.nodes.get(position(slot))?.next);
            return Some(slot);
        }
        if position(self.fresh) < N {
            let slot = self.fresh;
            self.fresh = self.fresh.saturating_add(1);
            return Some(slot);
        }
        None
    }

    /// Points `slot`'s `next` at `next`; `slot == NONE` means the list's front.
    fn set_next(&mut self, slot: u32, next: u32) {
        match self.nodes.get_mut(position(slot)) {
            Some(node) => node.next = next,
            None => self.front = stored(next),
        }
    }

    /// Points `slot`'s `prev` at `prev`; `slot == NONE` means the list's back.
    fn set_prev(&mut self, slot: u32, prev: u32) {
        match self.nodes.get_mut(position(slot)) {
            Some(node) => node.prev = prev,
            None => self.back = stored(prev),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may panic: that is how they fail
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    impl Vacant for u8 {
        const VACANT: u8 = 0;
    }

    #[test]
    fn keeps_order_and_reuses_slots() {
        let mut slab: ListSlab<u8, 3> = ListSlab::new();
        let a = slab.push_back(1).unwrap();
        let b = slab.push_back(2).unwrap();
        let c = slab.push_back(3).unwrap();
        assert_eq!(slab.push_back(4), Err(4));
        assert!(slab.is_full());
        assert_eq!(slab.remove(b), Some(2));
        assert_eq!(slab.remove(b), None);
        assert_eq!(slab.iter().copied().collect::<Vec<_>>(), [1, 3]);
        let d = slab.insert_before(c, 9).unwrap();
        assert_eq!(d, b, "the freed slot is reused");
        assert_eq!(slab.iter().copied().collect::<Vec<_>>(), [1, 9, 3]);
        assert_eq!(slab.prev(c), Some(d));
        slab.remove(a);
        slab.remove(c);
        assert_eq!((slab.front(), slab.back()), (Some(d), Some(d)));
        slab.clear();
        assert_eq!(slab.len(), 0);
        assert_eq!(slab.iter().count(), 0);
        assert_eq!(slab.push_back(7), Ok(0));
    }
}
