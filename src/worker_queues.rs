//! [`WorkerQueues`]: the job table's trees for the worker protocol, over its slots.
//!
//! `claim_next` needs the unleased active job with the smallest `(not_before, id)`, and
//! `poll_timeout` the active job due first (lease end while leased, else deadline). Most jobs
//! never see a lease run out, so active jobs are split three ways by what the job's own
//! fields say ([`Place`]):
//!
//! - **fresh** (never retried: `not_before == created_at`): on a list in id order, threaded
//!   through the job entries (`job_table/fresh.rs`). Creation times never decrease with ids,
//!   so id order is also claim order and deadline order: creating or finishing such a job
//!   costs O(1) and touches no tree. This is the whole cost of the direct path.
//! - **backoff** (unleased, waiting for a retry): in a [`MinTree`] by `(not_before, id)` for
//!   claims, and in the due tree by `(deadline, id)`.
//! - **leased**: in the due tree by `(lease end, id)`.
//!
//! Each answer takes the smaller of the fresh list's head and the trees' minimum.

use crate::min_tree::{MinTree, TreeKey};

/// A key of the claim and due trees: `(time, job id)`, ties going to the smaller id.
pub(crate) type TimeKey = (u64, u64);

/// Which queue an active job waits in, derived from the job alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// Finished, or no job: in no queue.
    Nowhere,
    /// Never retried (`not_before == created_at`) and not leased: on the fresh list.
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

    /// Whether the job sits in a tree (fresh jobs and finished ones do not).
    fn in_trees(self) -> bool {
        matches!(self, Place::Backoff { .. } | Place::Leased { .. })
    }
}

#[derive(Debug)]
pub(crate) struct WorkerQueues<const N: usize> {
    /// Jobs waiting for a retry, by `(not_before, id)`.
    backoff: MinTree<TimeKey, N>,
    /// Jobs in backoff by `(deadline, id)` and leased jobs by `(lease end, id)`.
    due: MinTree<TimeKey, N>,
}

/// `clone_from` copies in place: large queues never go through the stack.
impl<const N: usize> Clone for WorkerQueues<N> {
    fn clone(&self) -> Self {
        WorkerQueues {
            backoff: self.backoff.clone(),
            due: self.due.clone(),
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.backoff.clone_from(&source.backoff);
        self.due.clone_from(&source.due);
    }
}

impl<const N: usize> WorkerQueues<N> {
    pub(crate) const fn new() -> Self {
        WorkerQueues {
            backoff: MinTree::new(),
            due: MinTree::new(),
        }
    }

    pub(crate) fn clear(&mut self) {
        self.backoff.clear();
        self.due.clear();
    }

    /// Moves `slot` from `before` to `after` in the trees, touching only what differs (the
    /// fresh list is the job table's).
    #[inline]
    pub(crate) fn moved(&mut self, slot: u32, before: Place, after: Place) {
        if !before.in_trees() && !after.in_trees() {
            return; // the direct path: fresh or finished jobs only
        }
        if before.claim_key() != after.claim_key() {
            self.backoff.set(slot, after.claim_key());
        }
        if before.due_key() != after.due_key() {
            self.due.set(slot, after.due_key());
        }
    }

    /// The job in backoff with the smallest `(not_before, id)` among those `accept` takes.
    pub(crate) fn first_backoff(&self, accept: impl Fn(u32) -> bool) -> Option<(u32, TimeKey)> {
        self.backoff.min_where(accept)
    }

    /// The job in backoff or leased that is due first.
    pub(crate) fn first_due(&self) -> Option<(u32, TimeKey)> {
        self.due.min()
    }

    /// Whether the trees hold `slot` where `place` says (for the invariant check).
    pub(crate) fn holds(&self, slot: u32, place: Place) -> bool {
        self.backoff.get(slot) == place.claim_key() && self.due.get(slot) == place.due_key()
    }

    /// Whether the trees are sound and hold `backoff` and `leased` jobs (for the invariant
    /// check).
    pub(crate) fn is_consistent(&self, backoff: usize, leased: usize) -> bool {
        self.backoff.is_consistent()
            && self.due.is_consistent()
            && self.backoff.count_set() == backoff
            && self.due.count_set() == backoff.saturating_add(leased)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_move_between_the_trees() {
        let mut queues: WorkerQueues<8> = WorkerQueues::new();
        let leased = Place::Leased { due: (50, 98) };
        queues.moved(2, Place::Fresh, leased);
        assert_eq!(queues.first_due(), Some((2, (50, 98))));
        let backoff = Place::Backoff {
            claim: (70, 98),
            due: (90, 98),
        };
        queues.moved(2, leased, backoff);
        assert_eq!(queues.first_due(), Some((2, (90, 98))));
        assert_eq!(queues.first_backoff(|_| true), Some((2, (70, 98))));
        assert_eq!(queues.first_backoff(|_| false), None);
        assert!(queues.holds(2, backoff) && !queues.holds(2, leased));
        assert!(queues.is_consistent(1, 0));
        queues.moved(2, backoff, Place::Nowhere);
        assert_eq!(
            (queues.first_due(), queues.first_backoff(|_| true)),
            (None, None)
        );
        assert!(queues.is_consistent(0, 0) && queues.holds(2, Place::Fresh));
    }
}
