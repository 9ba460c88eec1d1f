//! Which finished job goes first when the table must evict: the one with the smallest id.
//!
//! Jobs mostly finish in the order they were created, so a finished job whose id is larger
//! than every other finished job's on the list joins the *finished list*, in id order, at
//! its tail: O(1), touching only the job that finished before it (a moment ago, still in
//! cache). The list's head is then the next to evict, and evicting it touches the next one,
//! which sits beside it. A job that finishes out of order (an old job of a slow worker,
//! after younger ones finished) goes to the `finished` [`MinTree`] instead, in O(log N). The
//! next to evict is the smaller of the list's head and the tree's minimum.
//!
//! The list is threaded through the same two links as the fresh list (`fresh.rs`): a job is
//! on at most one of them, since fresh jobs are active and these are finished. Its ends are
//! [`stored`] (0 for none), so that an empty table is all zero bytes.

use super::*;

impl<const N: usize> JobTable<N> {
    fn list_links(&self, slot: u32) -> (u32, u32) {
        self.entries
            .get(slot)
            .map_or((NONE, NONE), |entry| (entry.fresh_prev, entry.fresh_next))
    }

    /// Records that the job at `slot`, with id `id`, has finished.
    pub(super) fn add_finished(&mut self, slot: u32, id: JobId) {
        let tail = loaded(self.finished_tail);
        if self.job_at(tail).is_some_and(|last| last.id >= id) {
            self.finished.set(slot, id.0);
            return;
        }
        if let Some(entry) = self.entries.get_mut(slot) {
            entry.fresh_prev = tail;
            entry.fresh_next = NONE;
        }
        match self.entries.get_mut(tail) {
            Some(entry) => entry.fresh_next = slot,
            None => self.finished_head = stored(slot),
        }
        self.finished_tail = stored(slot);
    }

    /// Forgets the finished job at `slot` (it is evicted or deleted).
    pub(super) fn remove_finished(&mut self, slot: u32) {
        if self.finished.get(slot) != EMPTY {
            self.finished.set(slot, EMPTY);
            return;
        }
        let (prev, next) = self.list_links(slot);
        match self.entries.get_mut(prev) {
            Some(entry) => entry.fresh_next = next,
            None => self.finished_head = stored(next),
        }
        match self.entries.get_mut(next) {
            Some(entry) => entry.fresh_prev = prev,
            None => self.finished_tail = stored(prev),
        }
        if let Some(entry) = self.entries.get_mut(slot) {
            entry.fresh_prev = NONE;
            entry.fresh_next = NONE;
        }
    }

    /// The slot of the finished job with the smallest id: the next to evict.
    pub(crate) fn oldest_finished(&self) -> Option<u32> {
        let head = loaded(self.finished_head);
        let listed = self.job_at(head).map(|job| (job.id.0, head));
        let tree = self.finished.min().map(|(slot, id)| (id, slot));
        let (_, slot) = match (listed, tree) {
            (Some(listed), Some(tree)) => listed.min(tree),
            (listed, tree) => listed.or(tree)?,
        };
        // Only finished jobs are listed or in the tree; checking costs nothing and keeps a
        // corrupted index from evicting an active job.
        self.job_at(slot)
            .is_some_and(|job| !job.is_active())
            .then_some(slot)
    }

    /// The finished list's slots in id order.
    fn finished_slots(&self) -> impl Iterator<Item = u32> + '_ {
        let head = loaded(self.finished_head);
        let first = (head != NONE).then_some(head);
        core::iter::successors(first, |&slot| {
            let next = self.list_links(slot).1;
            (next != NONE).then_some(next)
        })
    }

    /// Whether the finished job at `slot` is on the finished list (for the invariant check).
    pub(super) fn is_listed_finished(&self, slot: u32) -> bool {
        loaded(self.finished_head) == slot || self.list_links(slot).0 != NONE
    }

    /// Whether the finished list holds `count` finished jobs in strictly increasing id order,
    /// with consistent back links (for the invariant check).
    pub(super) fn finished_list_is_sound(&self, count: usize) -> bool {
        let mut listed = 0usize;
        let mut previous: Option<JobId> = None;
        let mut last = NONE;
        for slot in self.finished_slots().take(N.saturating_add(1)) {
            let Some(job) = self.job_at(slot) else {
                return false;
            };
            if job.is_active() || previous >= Some(job.id) || self.list_links(slot).0 != last {
                return false;
            }
            previous = Some(job.id);
            last = slot;
            listed = listed.saturating_add(1);
        }
        listed == count && last == loaded(self.finished_tail)
    }
}
