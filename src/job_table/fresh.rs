//! The fresh list: the active jobs that were never leased out and timed out (`not_before ==
//! created_at`, [`Place::Fresh`]), in id order, threaded through the job entries themselves
//! so that creating and finishing a job touch no memory beyond its own entry. Its ends are
//! [`stored`] (0 for none), so that an empty table is all zero bytes.
//!
//! Creation times never decrease with ids, so id order is also the order in which fresh jobs
//! are claimed (`(not_before, id)`) and fall due (their deadlines).

use super::*;

impl<const N: usize> JobTable<N> {
    fn fresh_links(&self, slot: u32) -> (u32, u32) {
        self.entries
            .get(slot)
            .map_or((NONE, NONE), |entry| (entry.fresh_prev, entry.fresh_next))
    }

    fn set_fresh_prev(&mut self, slot: u32, prev: u32) {
        match self.entries.get_mut(slot) {
            Some(entry) => entry.fresh_prev = prev,
            None => self.fresh_tail = stored(prev),
        }
    }

    fn set_fresh_next(&mut self, slot: u32, next: u32) {
        match self.entries.get_mut(slot) {
            Some(entry) => entry.fresh_next = next,
            None => self.fresh_head = stored(next),
        }
    }

    /// Links `slot` into the fresh list in id order. A new job has the largest id, so the
    /// walk back from the tail stops at once.
    pub(super) fn link_fresh(&mut self, slot: u32) {
        let id = self.job_at(slot).map(|job| job.id);
        let mut after = loaded(self.fresh_tail);
        while let Some(job) = self.job_at(after)
            && Some(job.id) > id
        {
            after = self.fresh_links(after).0;
        }
        let before = if after == NONE {
            loaded(self.fresh_head)
        } else {
            self.fresh_links(after).1
        };
        if let Some(entry) = self.entries.get_mut(slot) {
            entry.fresh_prev = after;
            entry.fresh_next = before;
        }
        self.set_fresh_next(after, slot);
        self.set_fresh_prev(before, slot);
    }

    pub(super) fn unlink_fresh(&mut self, slot: u32) {
        let (prev, next) = self.fresh_links(slot);
        self.set_fresh_next(prev, next);
        self.set_fresh_prev(next, prev);
        if let Some(entry) = self.entries.get_mut(slot) {
            entry.fresh_prev = NONE;
            entry.fresh_next = NONE;
        }
    }

    /// The fresh jobs' slots in id order.
    pub(super) fn fresh_slots(&self) -> impl Iterator<Item = u32> + '_ {
        let head = loaded(self.fresh_head);
        let first = (head != NONE).then_some(head);
        core::iter::successors(first, |&slot| {
            let next = self.fresh_links(slot).1;
            (next != NONE).then_some(next)
        })
    }

    /// Whether `slot` is on the fresh list (for the invariant check). Only active jobs can be:
    /// a finished job's links belong to the finished list (`finished.rs`).
    pub(super) fn is_listed_fresh(&self, slot: u32) -> bool {
        self.job_at(slot).is_some_and(Job::is_active)
            && (loaded(self.fresh_head) == slot || self.fresh_links(slot).0 != NONE)
    }

    /// Whether the fresh list holds `count` jobs in strictly increasing id order, with
    /// consistent back links (for the invariant check).
    pub(super) fn fresh_list_is_sound(&self, count: usize) -> bool {
        let mut listed = 0usize;
        let mut previous: Option<JobId> = None;
        let mut last = NONE;
        for slot in self.fresh_slots().take(N.saturating_add(1)) {
            let id = self.job_at(slot).map(|job| job.id);
            if id.is_none() || previous >= id || self.fresh_links(slot).0 != last {
                return false;
            }
            previous = id;
            last = slot;
            listed = listed.saturating_add(1);
        }
        listed == count && last == loaded(self.fresh_tail)
    }
}
