//! The job table's invariants (1, 2, 5, 6, 7 and 8): each job's fields, and every index
//! against the jobs.

use super::*;
use crate::invariants::{Index, Indexes, InvariantViolation};

impl<const N: usize> JobTable<N> {
    /// Invariants 1, 2, 5, 6, 7 and 8 for jobs (`max_attempts` is the limit in force, and
    /// `regions_known` the size of the region catalogue).
    #[cfg(test)]
    pub(crate) fn check(
        &self,
        next_id: u64,
        clock: Timestamp,
        grace_secs: u64,
        max_attempts: u32,
        regions_known: usize,
    ) -> Result<(), InvariantViolation> {
        let indexes = Indexes::Verified;
        self.check_with(
            next_id,
            clock,
            grace_secs,
            max_attempts,
            regions_known,
            indexes,
        )
    }

    /// [`check`](Self::check), with the indexes verified against the jobs or, just after a
    /// restore built them from the jobs, trusted (see [`Indexes`]).
    pub(crate) fn check_with(
        &self,
        next_id: u64,
        clock: Timestamp,
        grace_secs: u64,
        max_attempts: u32,
        regions_known: usize,
        indexes: Indexes,
    ) -> Result<(), InvariantViolation> {
        let verify = indexes == Indexes::Verified;
        let mut previous: Option<&Job> = None;
        let (mut active, mut leased) = (0usize, 0usize);
        let (mut fresh, mut backoff) = (0usize, 0usize);
        let mut listed_finished = 0usize;
        for slot in self.entries.slots() {
            let Some(job) = self.job_at(slot) else {
                return Err(InvariantViolation::IndexMismatch(Index::JobOrder));
            };
            let id = job.id;
            if let Some(previous) = previous {
                if previous.id >= id {
                    return Err(InvariantViolation::DuplicateJobId { job: id });
                }
                if previous.created_at > job.created_at {
                    return Err(InvariantViolation::CreatedOutOfOrder { job: id });
                }
            }
            if id.0 >= next_id {
                return Err(InvariantViolation::JobIdNotBelowNext { job: id });
            }
            // `window_end` may lie ahead of the clock, by at most the grace period.
            let window_end_max = clock.saturating_add_secs(grace_secs);
            if job.created_at > clock || job.updated_at > clock || job.window_end > window_end_max {
                return Err(InvariantViolation::TimeAfterClock);
            }
            if job.window_start > job.created_at {
                return Err(InvariantViolation::WindowStartAfterCreation { job: id });
            }
            if job.created_at > job.updated_at {
                return Err(InvariantViolation::UpdatedBeforeCreation { job: id });
            }
            if job.window_start > job.window_end {
                return Err(InvariantViolation::WindowEndsBeforeStart { job: id });
            }
            self.check_worker_fields(slot, job, max_attempts, regions_known)?;
            if !verify {
                previous = Some(job);
                continue;
            }
            match self.place(Some(job)) {
                Place::Fresh => fresh = fresh.saturating_add(1),
                Place::Backoff { .. } => backoff = backoff.saturating_add(1),
                Place::Leased { .. } => leased = leased.saturating_add(1),
                Place::Nowhere => {}
            }
            self.check_queued(slot, job)?;
            if self.slot_of(id) != Some(slot) {
                return Err(InvariantViolation::IndexMismatch(Index::JobIds));
            }
            // A finished job is either on the finished list or in the tree, under its id.
            let leaf = self.finished.get(slot);
            let misplaced = if job.is_active() {
                leaf != EMPTY
            } else {
                let listed = self.is_listed_finished(slot);
                listed_finished = listed_finished.saturating_add(usize::from(listed));
                listed == (leaf != EMPTY) || (!listed && leaf != id.0)
            };
            if misplaced {
                return Err(InvariantViolation::IndexMismatch(Index::FinishedJobs));
            }
            if job.is_active() {
                active = active.saturating_add(1);
            }
            previous = Some(job);
        }
        if self.entries.len() > N {
            return Err(InvariantViolation::IndexMismatch(Index::JobOrder));
        }
        if !verify {
            return Ok(());
        }
        if self.entries.slots().count() != self.entries.len() {
            return Err(InvariantViolation::IndexMismatch(Index::JobOrder));
        }
        if self.by_id.count() != self.entries.len() || !self.by_id.overflow_count_is_true() {
            return Err(InvariantViolation::IndexMismatch(Index::JobIds));
        }
        let oldest = self.oldest_finished().and_then(|slot| self.job_at(slot));
        if !self.finished.is_consistent()
            || !self.finished_list_is_sound(listed_finished)
            || oldest.map(|job| job.id)
                != self.iter().find(|job| !job.is_active()).map(|job| job.id)
        {
            return Err(InvariantViolation::IndexMismatch(Index::FinishedJobs));
        }
        let finished = self.finished.count_set().saturating_add(listed_finished);
        if finished != self.entries.len().saturating_sub(active) {
            return Err(InvariantViolation::IndexMismatch(Index::FinishedJobs));
        }
        if active != self.active {
            return Err(InvariantViolation::IndexMismatch(Index::ActiveJobs));
        }
        if leased != self.leased
            || !self.queues.is_consistent(backoff, leased)
            || !self.fresh_list_is_sound(fresh)
        {
            return Err(InvariantViolation::IndexMismatch(Index::WorkerQueues));
        }
        self.check_accounts()
    }

    /// Invariant 8 for one job: its lease, attempts, failure reason and regions (its place in
    /// the claim and due queues is an index, checked by the caller).
    fn check_worker_fields(
        &self,
        slot: u32,
        job: &Job,
        max_attempts: u32,
        regions_known: usize,
    ) -> Result<(), InvariantViolation> {
        let id = job.id;
        if let Some(end) = job.lease_expires_at
            && (!job.is_active() || job.attempt == 0 || end > deadline(job, self.max_job_secs))
        {
            return Err(InvariantViolation::InvalidLease { job: id });
        }
        if job.attempt > max_attempts {
            return Err(InvariantViolation::TooManyAttempts { job: id });
        }
        if job.failure.is_some() != (job.status == crate::job::JobStatus::Failed) {
            return Err(InvariantViolation::FailureReasonMismatch { job: id });
        }
        let regions = self.regions_at(slot).copied().unwrap_or_default();
        if !regions.within(regions_known) {
            return Err(InvariantViolation::IndexMismatch(Index::Regions));
        }
        if !job.is_active() && regions.has_unfinished() {
            return Err(InvariantViolation::UnfinishedRegion { job: id });
        }
        Ok(())
    }

    /// Invariant 5 for one job: its place in the claim and due queues and on the fresh list.
    fn check_queued(&self, slot: u32, job: &Job) -> Result<(), InvariantViolation> {
        let place = self.place(Some(job));
        if !self.queues.holds(slot, place) || self.is_listed_fresh(slot) != (place == Place::Fresh)
        {
            return Err(InvariantViolation::IndexMismatch(Index::WorkerQueues));
        }
        Ok(())
    }

    /// Every account record lists exactly its account's jobs in id order, with at most one
    /// active job (invariant 1), the newest.
    pub(super) fn check_accounts(&self) -> Result<(), InvariantViolation> {
        let mut listed = 0usize;
        for record_slot in self.accounts.slots() {
            let Some(record) = self.accounts.get(record_slot) else {
                return Err(InvariantViolation::IndexMismatch(Index::Accounts));
            };
            let account = record.account;
            if self.account_slot(account) != Some(record_slot) || record.count == 0 {
                return Err(InvariantViolation::IndexMismatch(Index::Accounts));
            }
            let mut count = 0u32;
            let mut active = NONE;
            let mut newer = NONE;
            let mut slot = record.newest;
            // Counted steps: the oldest job's `older` link is not kept (`JobEntry::older`).
            while count < record.count
                && let Some(entry) = self.entries.get(slot)
            {
                let wrong_order = self
                    .job_at(newer)
                    .is_some_and(|newer| newer.id <= entry.job.id);
                if entry.job.account != account
                    || entry.newer != newer
                    || entry.account_slot != record_slot
                    || wrong_order
                {
                    return Err(InvariantViolation::IndexMismatch(Index::Accounts));
                }
                if entry.job.is_active() {
                    if active != NONE {
                        return Err(InvariantViolation::SecondActiveJob { account });
                    }
                    active = slot;
                }
                count = count.saturating_add(1);
                newer = slot;
                slot = entry.older;
            }
            if count != record.count || newer != record.oldest || active != record.active {
                return Err(InvariantViolation::IndexMismatch(Index::Accounts));
            }
            listed = listed.saturating_add(usize::try_from(count).unwrap_or(usize::MAX));
        }
        if listed != self.entries.len() || self.by_account.count() != self.accounts.len() {
            return Err(InvariantViolation::IndexMismatch(Index::Accounts));
        }
        Ok(())
    }
}
