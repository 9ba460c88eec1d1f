//! Loading a snapshot's jobs: O(n log n) whatever order the snapshot lists them in.
//!
//! Jobs are first stored as they come, with no index; [`JobTable::finish_restore`] then puts
//! the slots in id order (a sort, skipped when they already are, as in a canonical snapshot),
//! refuses repeated ids and second active jobs, and builds every index in one pass in id
//! order, which is the order in which each index appends in O(1). Inserting one by one in id
//! order instead would walk the list for every job listed out of order: O(n²) for a snapshot
//! listing its jobs newest first.
//!
//! Finished jobs come in id order to the indexing pass, so all of them join the finished list
//! (`finished.rs`) at its tail in O(1) and the eviction tree stays empty.

use super::*;

/// Why a snapshot's jobs cannot be loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobsRefused {
    /// Two jobs share an id.
    DuplicateId(JobId),
    /// An account has two active jobs; the second by id is named.
    SecondActiveJob(AccountId, JobId),
}

impl<const N: usize> JobTable<N> {
    /// Stores a snapshot's job as it comes, without indexing it; hands it back when the table
    /// is full. [`finish_restore`](Self::finish_restore) must follow.
    // Handing the value back when full is heapless's convention; boxing would allocate.
    #[allow(clippy::result_large_err)]
    pub(crate) fn push_restored(&mut self, job: Job, regions: RegionStatuses) -> Result<(), Job> {
        let entry = JobEntry {
            job,
            regions,
            older: NONE,
            newer: NONE,
            fresh_prev: NONE,
            fresh_next: NONE,
            account_slot: NONE,
        };
        self.entries
            .push_back(entry)
            .map(|_| ())
            .map_err(|entry| entry.job)
    }

    /// Orders the stored jobs by id and builds every index for `hasher` and `max_job_secs`
    /// (a snapshot's config may come after its jobs).
    ///
    /// The table must have been cleared before the jobs were pushed: its indexes are then
    /// still empty (clearing them again would write megabytes for nothing).
    pub(crate) fn finish_restore(
        &mut self,
        hasher: KeyHasher,
        max_job_secs: u64,
    ) -> Result<(), JobsRefused> {
        self.hasher = hasher;
        self.max_job_secs = max_job_secs;
        self.sort_by_id();
        self.fresh_head = stored(NONE);
        self.fresh_tail = stored(NONE);
        self.finished_head = stored(NONE);
        self.finished_tail = stored(NONE);
        self.active = 0;
        self.leased = 0;
        let mut previous: Option<JobId> = None;
        let mut cursor = self.entries.front();
        while let Some(slot) = cursor {
            cursor = self.entries.next(slot);
            let Some(job) = self.job_at(slot) else {
                continue;
            };
            let (id, account, is_active) = (job.id, job.account, job.is_active());
            if let Some(entry) = self.entries.get_mut(slot) {
                // Rebuilt below in id order, so that each link is an append.
                (entry.fresh_prev, entry.fresh_next) = (NONE, NONE);
            }
            if previous == Some(id) {
                return Err(JobsRefused::DuplicateId(id));
            }
            previous = Some(id);
            let account_slot = match self.account_slot(account) {
                Some(slot) => slot,
                // Cannot fail: accounts never outnumber jobs.
                None => self
                    .new_account(account)
                    .ok_or(JobsRefused::SecondActiveJob(account, id))?,
            };
            let has_active = self
                .accounts
                .get(account_slot)
                .is_some_and(|record| record.active != NONE);
            if is_active && has_active {
                return Err(JobsRefused::SecondActiveJob(account, id));
            }
            self.index_new(slot, account_slot);
        }
        Ok(())
    }

    /// A job id that the stored jobs and `incoming` repeat, if any (the error path of a
    /// restore whose table is full: is the extra job a duplicate, or one too many?). Sorts the
    /// stored jobs by id, which `finish_restore` would do anyway.
    pub(crate) fn duplicate_id(&mut self, incoming: JobId) -> Option<JobId> {
        self.sort_by_id();
        let ids = || self.entries.iter().map(|entry| entry.job.id);
        ids()
            .zip(ids().skip(1))
            .find(|(a, b)| a == b)
            .map(|(a, _)| a)
            .or_else(|| ids().find(|&id| id == incoming))
    }

    /// Threads the job list in id order: O(n) when it already is, O(n log n) otherwise.
    fn sort_by_id(&mut self) {
        // One walk over the jobs (15 MB at full scale), not two zipped ones.
        let mut previous: Option<JobId> = None;
        let in_order = self.entries.iter().all(|entry| {
            let in_order = previous.is_none_or(|previous| previous < entry.job.id);
            previous = Some(entry.job.id);
            in_order
        });
        if in_order {
            return;
        }
        let len = self.entries.len();
        let entries = &self.entries;
        let scratch = self.by_id.scratch();
        for (place, slot) in scratch.iter_mut().zip(entries.slots()) {
            *place = slot;
        }
        let Some(order) = scratch.get_mut(..len) else {
            return; // cannot happen: len <= N
        };
        order.sort_unstable_by_key(|&slot| entries.get(slot).map(|entry| entry.job.id));
        self.entries.relink(order.iter().copied());
        // The id index is built next, from empty.
        self.by_id.clear();
    }
}
