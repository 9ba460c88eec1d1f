//! [`WorkerQueues`]: the job table's indexes for the worker protocol, over its slots.
//!
//! `claim_next` needs the unleased active job with the smallest `(not_before, id)`, and
//! `poll_timeout` the active job due first (lease end while leased, else deadline). Most jobs
//! never see a lease run out, so the queues split active jobs three ways, by what the job's
//! own fields say ([`Place`]):
//!
//! - **fresh** (never retried: `not_before == created_at`): a list in id order. Creation
//!   times never decrease with ids, so id order is also claim order and deadline order:
//!   creating or finishing such a job costs O(1), with no tree to repair. This is the whole
//!   cost of the direct path (`start_job`, `complete_job`).
//! - **backoff** (unleased, waiting for a retry): in a [`MinTree`] by `(not_before, id)`
//!   for claims, and in the due tree by `(deadline, id)`.
//! - **leased**: in the due tree by `(lease end, id)`.
//!
//! Each answer takes the smaller of the list's head and the trees' minimum.

use crate::min_tree::{MinTree, TreeKey};
use crate::slab::{NONE, position};

/// A key of the claim and due trees: `(time, job id)`, ties going to the smaller id.
pub(crate) type TimeKey = (u64, u64);

/// Which queue an active job waits in, derived from the job alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// Finished, or no job: in no queue.
    Nowhere,
    /// Never retried (`not_before == created_at`) and not leased: in the fresh list.
    Fresh,
    /// Waiting for a retry: claimable by `claim`, due by `due` (its deadline).
    Backoff { claim: TimeKey, due: TimeKey },
    /// Held by a worker: due by `due` (its lease's end).
    Leased { due: TimeKey },
}

impl Place {
    fn claim_key(self) -> TimeKey {
        match self {
            Place::Backoff { claim, .. } => claim,
            _ => TimeKey::EMPTY,
        }
    }

    fn due_key(self) -> TimeKey {
        match self {
            Place::Backoff { due, .. } | Place::Leased { due } => due,
            _ => TimeKey::EMPTY,
        }
    }
}

#[derive(Debug)]
pub(crate) struct WorkerQueues<const N: usize> {
    /// The fresh list: each slot's neighbours ([`NONE`] at the ends, or when not listed).
    fresh_prev: [u32; N],
    fresh_next: [u32; N],
    fresh_head: u32,
    fresh_tail: u32,
    /// Jobs waiting for a retry, by `(not_before, id)`.
    backoff: MinTree<TimeKey, N>,
    /// Jobs in backoff by `(deadline, id)` and leased jobs by `(lease end, id)`.
    due: MinTree<TimeKey, N>,
}

/// `clone_from` copies in place: large queues never go through the stack.
impl<const N: usize> Clone for WorkerQueues<N> {
    fn clone(&self) -> Self {
        WorkerQueues {
            fresh_prev: self.fresh_prev,
            fresh_next: self.fresh_next,
            backoff: self.backoff.clone(),
            due: self.due.clone(),
            ..*self
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.fresh_prev.clone_from(&source.fresh_prev);
        self.fresh_next.clone_from(&source.fresh_next);
        self.fresh_head = source.fresh_head;
        self.fresh_tail = source.fresh_tail;
        self.backoff.clone_from(&source.backoff);
        self.due.clone_from(&source.due);
    }
}

impl<const N: usize> WorkerQueues<N> {
    pub(crate) const fn new() -> Self {
        WorkerQueues {
            fresh_prev: [NONE; N],
            fresh_next: [NONE; N],
            fresh_head: NONE,
            fresh_tail: NONE,
            backoff: MinTree::new(),
            due: MinTree::new(),
        }
    }

    pub(crate) fn clear(&mut self) {
        self.fresh_prev.fill(NONE);
        self.fresh_next.fill(NONE);
        self.fresh_head = NONE;
        self.fresh_tail = NONE;
        self.backoff.clear();
        self.due.clear();
    }

    /// Room for `N` slot numbers, lent to a restore that sorts the job slots; the queues are
    /// rebuilt after it, so whatever it leaves there is cleared by [`clear`](Self::clear).
    #[cfg(feature = "serde")]
    pub(crate) fn scratch(&mut self) -> &mut [u32; N] {
        &mut self.fresh_next
    }

    /// Moves `slot` from `before` to `after`, touching only what differs. `id_of` gives the
    /// job id in a slot, to keep the fresh list in id order.
    pub(crate) fn moved(
        &mut self,
        slot: u32,
        before: Place,
        after: Place,
        id_of: impl Fn(u32) -> Option<u64>,
    ) {
        if before == after {
            return;
        }
        match (before == Place::Fresh, after == Place::Fresh) {
            (true, false) => self.unlink_fresh(slot),
            (false, true) => self.link_fresh(slot, id_of),
            _ => {}
        }
        if before.claim_key() != after.claim_key() {
            self.backoff.set(slot, after.claim_key());
        }
        if before.due_key() != after.due_key() {
            self.due.set(slot, after.due_key());
        }
    }

    fn prev(&self, slot: u32) -> u32 {
        self.fresh_prev.get(position(slot)).copied().unwrap_or(NONE)
    }

    fn next(&self, slot: u32) -> u32 {
        self.fresh_next.get(position(slot)).copied().unwrap_or(NONE)
    }

    fn set_links(&mut self, slot: u32, prev: u32, next: u32) {
        if let Some(link) = self.fresh_prev.get_mut(position(slot)) {
            *link = prev;
        }
        if let Some(link) = self.fresh_next.get_mut(position(slot)) {
            *link = next;
        }
    }

    /// Links `slot` into the fresh list in id order. New jobs have the largest id, so the
    /// walk back from the tail stops at once.
    fn link_fresh(&mut self, slot: u32, id_of: impl Fn(u32) -> Option<u64>) {
        let id = id_of(slot);
        let mut after = self.fresh_tail;
        while after != NONE && id_of(after) > id {
            after = self.prev(after);
        }
        let before = if after == NONE {
            self.fresh_head
        } else {
            self.next(after)
        };
        self.set_links(slot, after, before);
        match self.fresh_next.get_mut(position(after)) {
            Some(link) => *link = slot,
            None => self.fresh_head = slot,
        }
        match self.fresh_prev.get_mut(position(before)) {
            Some(link) => *link = slot,
            None => self.fresh_tail = slot,
        }
    }

    fn unlink_fresh(&mut self, slot: u32) {
        let (prev, next) = (self.prev(slot), self.next(slot));
        match self.fresh_next.get_mut(position(prev)) {
            Some(link) => *link = next,
            None => self.fresh_head = next,
        }
        match self.fresh_prev.get_mut(position(next)) {
            Some(link) => *link = prev,
            None => self.fresh_tail = prev,
        }
        self.set_links(slot, NONE, NONE);
    }

    /// The fresh jobs' slots in id order.
    pub(crate) fn fresh(&self) -> impl Iterator<Item = u32> + '_ {
        let first = (self.fresh_head != NONE).then_some(self.fresh_head);
        core::iter::successors(first, |&slot| {
            let next = self.next(slot);
            (next != NONE).then_some(next)
        })
    }

    /// The first fresh job's slot.
    pub(crate) fn first_fresh(&self) -> Option<u32> {
        (self.fresh_head != NONE).then_some(self.fresh_head)
    }

    /// The job in backoff with the smallest `(not_before, id)` among those `accept` takes.
    pub(crate) fn first_backoff(&self, accept: impl Fn(u32) -> bool) -> Option<(u32, TimeKey)> {
        self.backoff.min_where(accept)
    }

    /// The job in backoff or leased that is due first.
    pub(crate) fn first_due(&self) -> Option<(u32, TimeKey)> {
        self.due.min()
    }

    /// Whether `slot` is where `place` says (for the invariant check).
    pub(crate) fn holds(&self, slot: u32, place: Place) -> bool {
        let listed = self.prev(slot) != NONE || self.fresh_head == slot;
        listed == (place == Place::Fresh)
            && self.backoff.get(slot) == place.claim_key()
            && self.due.get(slot) == place.due_key()
    }

    /// Whether the structures are sound, given how many jobs are in each place (for the
    /// invariant check): the list in strictly increasing id order, each tree consistent.
    pub(crate) fn is_consistent(
        &self,
        fresh: usize,
        backoff: usize,
        leased: usize,
        id_of: impl Fn(u32) -> Option<u64>,
    ) -> bool {
        let mut listed = 0usize;
        let mut previous: Option<u64> = None;
        let mut last = NONE;
        for slot in self.fresh().take(N.saturating_add(1)) {
            let id = id_of(slot);
            if id.is_none() || previous >= id || self.prev(slot) != last {
                return false;
            }
            previous = id;
            last = slot;
            listed = listed.saturating_add(1);
        }
        listed == fresh
            && last == self.fresh_tail
            && self.backoff.is_consistent()
            && self.due.is_consistent()
            && self.backoff.count_set() == backoff
            && self.due.count_set() == backoff.saturating_add(leased)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may panic: that is how they fail
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    /// Slot `s` holds job id `100 - s`: slot order is the reverse of id order.
    fn id_of(slot: u32) -> Option<u64> {
        100u64.checked_sub(u64::from(slot))
    }

    fn listed(queues: &WorkerQueues<8>) -> Vec<u32> {
        queues.fresh().collect()
    }

    #[test]
    fn the_fresh_list_stays_in_id_order_whatever_the_insertion_order() {
        let mut queues: WorkerQueues<8> = WorkerQueues::new();
        for slot in [3, 7, 0, 5] {
            queues.moved(slot, Place::Nowhere, Place::Fresh, id_of);
        }
        assert_eq!(listed(&queues), [7, 5, 3, 0]);
        assert!(queues.is_consistent(4, 0, 0, id_of));
        queues.moved(5, Place::Fresh, Place::Nowhere, id_of);
        queues.moved(0, Place::Fresh, Place::Nowhere, id_of);
        assert_eq!(listed(&queues), [7, 3]);
        assert_eq!(queues.first_fresh(), Some(7));
        assert!(queues.holds(3, Place::Fresh) && queues.holds(5, Place::Nowhere));
        assert!(queues.is_consistent(2, 0, 0, id_of));
        assert!(!queues.is_consistent(3, 0, 0, id_of));
    }

    #[test]
    fn places_move_between_the_trees() {
        let mut queues: WorkerQueues<8> = WorkerQueues::new();
        let leased = Place::Leased { due: (50, 98) };
        queues.moved(2, Place::Nowhere, Place::Fresh, id_of);
        queues.moved(2, Place::Fresh, leased, id_of);
        assert_eq!(queues.first_fresh(), None);
        assert_eq!(queues.first_due(), Some((2, (50, 98))));
        let backoff = Place::Backoff {
            claim: (70, 98),
            due: (90, 98),
        };
        queues.moved(2, leased, backoff, id_of);
        assert_eq!(queues.first_due(), Some((2, (90, 98))));
        assert_eq!(queues.first_backoff(|_| true), Some((2, (70, 98))));
        assert_eq!(queues.first_backoff(|_| false), None);
        assert!(queues.holds(2, backoff) && !queues.holds(2, leased));
        assert!(queues.is_consistent(0, 1, 0, id_of));
        queues.moved(2, backoff, Place::Nowhere, id_of);
        assert_eq!(
            (queues.first_due(), queues.first_backoff(|_| true)),
            (None, None)
        );
        assert!(queues.is_consistent(0, 0, 0, id_of));
    }
}
