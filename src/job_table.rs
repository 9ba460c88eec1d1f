//! The job table: fixed slots for jobs, in id order, with the indexes that keep every
//! operation fast when the table is full (its normal state, since it evicts on purpose).
//!
//! - `entries`: the jobs, on a list in ascending id order (new ids are always the largest, so
//!   creation appends); snapshots walk it.
//! - `by_id`: an index from job id to slot (`GetDeliveryHistoryJob`, start, complete). Ids
//!   are assigned in sequence by the scheduler, not chosen by clients, so the id itself is
//!   the hash: consecutive ids land in consecutive buckets, and the job evicted to make room
//!   (about `N` ids older) shares its bucket's cache line with the new one.
//! - `finished`: a [`MinTree`] holding each finished job's id, so the finished job with the
//!   smallest id (the one to evict) is found in O(log N) however old the active jobs are.
//! - `accounts`: one record per account that has jobs: its active job (the one-active-job
//!   rule is an O(1) check) and both ends of its own id-ordered list of jobs
//!   (`ListDeliveryHistoryJobs` walks only the caller's jobs, newest first).
//! - `queues`: the worker protocol's [`WorkerQueues`]: which unleased job `claim_next` takes,
//!   and which active job is due first (`poll_timeout`, `handle_timeout`).
//!
//! Every change to a stored job goes through [`JobTable::update`], which brings each index up
//! to date from the job itself (its [`Place`] before and after), so no transition can forget
//! one.

use crate::hash_index::HashIndex;
use crate::hashing::KeyHasher;
use crate::ids::{AccountId, JobId};
use crate::invariants::{Index, InvariantViolation};
use crate::job::Job;
use crate::lease::deadline;
use crate::min_tree::{EMPTY, MinTree};
use crate::regions::RegionStatuses;
use crate::slab::{ListSlab, NONE};
use crate::time::Timestamp;
use crate::worker_queues::{Place, WorkerQueues};

#[derive(Debug, Clone)]
struct JobEntry {
    job: Job,
    /// Its statuses per region, over the scheduler's region catalogue.
    regions: RegionStatuses,
    /// The same account's next older job (smaller id), or [`NONE`].
    older: u32,
    /// The same account's next newer job (larger id), or [`NONE`].
    newer: u32,
}

/// What the table knows about one account that has at least one job.
#[derive(Debug, Clone)]
struct AccountJobs {
    account: AccountId,
    /// The account's active job, or [`NONE`]. After the scheduler's own transitions it is
    /// the account's newest job, since no job can be created while one is active.
    active: u32,
    oldest: u32,
    newest: u32,
    count: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct JobTable<const N: usize> {
    entries: ListSlab<JobEntry, N>,
    by_id: HashIndex<N>,
    finished: MinTree<u64, N>,
    /// Accounts never outnumber jobs, so `N` records always suffice.
    accounts: ListSlab<AccountJobs, N>,
    by_account: HashIndex<N>,
    active: usize,
    /// Active jobs that a worker holds.
    leased: usize,
    queues: WorkerQueues<N>,
    hasher: KeyHasher,
    /// The config's `max_job_secs`, which places deadlines in the due queue.
    max_job_secs: u64,
}

impl<const N: usize> JobTable<N> {
    pub(crate) const fn new(hasher: KeyHasher, max_job_secs: u64) -> Self {
        JobTable {
            entries: ListSlab::new(),
            by_id: HashIndex::new(),
            finished: MinTree::new(),
            accounts: ListSlab::new(),
            by_account: HashIndex::new(),
            active: 0,
            leased: 0,
            queues: WorkerQueues::new(),
            hasher,
            max_job_secs,
        }
    }

    /// Empties the table in place and rekeys its hashes.
    pub(crate) fn clear(&mut self, hasher: KeyHasher, max_job_secs: u64) {
        self.entries.clear();
        self.by_id.clear();
        self.finished.clear();
        self.accounts.clear();
        self.by_account.clear();
        self.active = 0;
        self.leased = 0;
        self.queues.clear();
        self.hasher = hasher;
        self.max_job_secs = max_job_secs;
    }

    /// Rebuilds the account index with another hash function, and the due queue with another
    /// deadline (a snapshot's config may arrive after its jobs).
    #[cfg(feature = "serde")]
    pub(crate) fn rekey(&mut self, hasher: KeyHasher, max_job_secs: u64) {
        self.hasher = hasher;
        self.by_account.clear();
        for slot in self.accounts.slots() {
            if let Some(record) = self.accounts.get(slot) {
                self.by_account.insert(hasher.id(record.account.0), slot);
            }
        }
        self.max_job_secs = max_job_secs;
        // Deadlines move with `max_job_secs`: place every job again, in id order (which keeps
        // the fresh list's links O(1) each).
        self.queues.clear();
        for slot in self.entries.slots() {
            let place = self.place(self.job_at(slot));
            let entries = &self.entries;
            let id_of = |slot| entries.get(slot).map(|entry: &JobEntry| entry.job.id.0);
            self.queues.moved(slot, Place::Nowhere, place, id_of);
        }
    }

    /// Which worker queue a job waits in, from its own fields.
    fn place(&self, job: Option<&Job>) -> Place {
        let Some(job) = job.filter(|job| job.is_active()) else {
            return Place::Nowhere;
        };
        let deadline = deadline(job, self.max_job_secs);
        match job.lease_expires_at {
            Some(end) => Place::Leased {
                due: (end.min(deadline).0, job.id.0),
            },
            None if job.not_before == job.created_at => Place::Fresh,
            None => Place::Backoff {
                claim: (job.not_before.0, job.id.0),
                due: (deadline.0, job.id.0),
            },
        }
    }

    /// Moves the job at `slot` between worker queues.
    fn move_in_queues(&mut self, slot: u32, before: Place, after: Place) {
        let entries = &self.entries;
        let id_of = |slot| entries.get(slot).map(|entry: &JobEntry| entry.job.id.0);
        self.queues.moved(slot, before, after, id_of);
    }

    /// The hash function of the account index (the scheduler checks it is its own).
    pub(crate) fn hasher(&self) -> KeyHasher {
        self.hasher
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn is_full(&self) -> bool {
        self.entries.is_full()
    }

    pub(crate) fn active_count(&self) -> usize {
        self.active
    }

    pub(crate) fn leased_count(&self) -> usize {
        self.leased
    }

    /// The slot of the claimable job with the smallest `(not_before, id)`: active, not leased,
    /// `not_before <= now` and its deadline after `now`. Jobs past their deadline that
    /// `handle_timeout` has not failed yet are stepped over, at O(log N) each.
    pub(crate) fn next_claimable(&self, now: Timestamp) -> Option<u32> {
        let before_deadline = |slot| {
            self.job_at(slot)
                .is_some_and(|job| deadline(job, self.max_job_secs) > now)
        };
        // Fresh jobs past their deadline are the oldest ones: skipped at O(1) each.
        let fresh = self.queues.fresh().find(|&slot| before_deadline(slot));
        let fresh = fresh.and_then(|slot| {
            let job = self.job_at(slot)?;
            Some((slot, (job.not_before.0, job.id.0)))
        });
        let backoff = self.queues.first_backoff(before_deadline);
        let (slot, (not_before, _)) = match (fresh, backoff) {
            (Some(fresh), Some(backoff)) => {
                if backoff.1 < fresh.1 {
                    backoff
                } else {
                    fresh
                }
            }
            (fresh, backoff) => fresh.or(backoff)?,
        };
        (not_before <= now.0).then_some(slot)
    }

    /// The slot of the active job due first, and its due time (its lease's end while leased,
    /// else its deadline).
    pub(crate) fn next_due(&self) -> Option<(u32, Timestamp)> {
        let fresh = self.queues.first_fresh().and_then(|slot| {
            let job = self.job_at(slot)?;
            Some((slot, (deadline(job, self.max_job_secs).0, job.id.0)))
        });
        let (slot, (due, _)) = match (fresh, self.queues.first_due()) {
            (Some(fresh), Some(other)) => {
                if other.1 < fresh.1 {
                    other
                } else {
                    fresh
                }
            }
            (fresh, other) => fresh.or(other)?,
        };
        Some((slot, Timestamp(due)))
    }

    /// The region statuses of the job at `slot`.
    pub(crate) fn regions_at(&self, slot: u32) -> Option<&RegionStatuses> {
        self.entries.get(slot).map(|entry| &entry.regions)
    }

    /// Jobs in ascending id order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Job> + '_ {
        self.entries.iter().map(|entry| &entry.job)
    }

    /// Jobs in ascending id order, with their region statuses.
    #[cfg(feature = "serde")]
    pub(crate) fn iter_with_regions(&self) -> impl Iterator<Item = (&Job, &RegionStatuses)> + '_ {
        self.entries
            .iter()
            .map(|entry| (&entry.job, &entry.regions))
    }

    pub(crate) fn job_at(&self, slot: u32) -> Option<&Job> {
        self.entries.get(slot).map(|entry| &entry.job)
    }

    /// The slot of job `id`, whoever owns it.
    pub(crate) fn slot_of(&self, id: JobId) -> Option<u32> {
        self.by_id.find(id.0, |slot| {
            self.job_at(slot).is_some_and(|job| job.id == id)
        })
    }

    /// The slot of job `id` if `account` owns it: another account's job is not found.
    pub(crate) fn slot_owned_by(&self, account: AccountId, id: JobId) -> Option<u32> {
        self.slot_of(id)
            .filter(|&slot| self.job_at(slot).is_some_and(|job| job.account == account))
    }

    fn account_slot(&self, account: AccountId) -> Option<u32> {
        self.by_account.find(self.hasher.id(account.0), |slot| {
            self.accounts
                .get(slot)
                .is_some_and(|record| record.account == account)
        })
    }

    fn account(&self, account: AccountId) -> Option<&AccountJobs> {
        self.accounts.get(self.account_slot(account)?)
    }

    pub(crate) fn active_of(&self, account: AccountId) -> Option<&Job> {
        self.job_at(self.account(account)?.active)
    }

    /// How many jobs `account` has.
    pub(crate) fn count_of(&self, account: AccountId) -> u32 {
        self.account(account).map_or(0, |record| record.count)
    }

    /// The slot of `account`'s newest job.
    pub(crate) fn newest_of(&self, account: AccountId) -> Option<u32> {
        let newest = self.account(account)?.newest;
        (newest != NONE).then_some(newest)
    }

    /// The slot of the same account's next older job.
    pub(crate) fn older_of_account(&self, slot: u32) -> Option<u32> {
        let older = self.entries.get(slot)?.older;
        (older != NONE).then_some(older)
    }

    /// The slot of the finished job with the smallest id: the next to evict.
    pub(crate) fn oldest_finished(&self) -> Option<u32> {
        let (slot, _) = self.finished.min()?;
        // The tree only ever names finished jobs; checking costs nothing and keeps a
        // corrupted tree from evicting an active job.
        self.job_at(slot)
            .is_some_and(|job| !job.is_active())
            .then_some(slot)
    }

    /// Stores `job` with its region statuses; hands it back when the table is full, its id is
    /// taken, or it is active while its account already has an active job.
    ///
    /// Jobs are kept in id order. Creation always brings the largest id, so it appends in
    /// O(1); a restored snapshot in canonical order does too, and any other order still
    /// loads, only more slowly.
    // Handing the value back when full is heapless's convention; boxing would allocate.
    #[allow(clippy::result_large_err)]
    pub(crate) fn insert(&mut self, job: Job, regions: RegionStatuses) -> Result<u32, Job> {
        if self.is_full() {
            return Err(job);
        }
        let account_slot = self.account_slot(job.account);
        let record = account_slot.and_then(|slot| self.accounts.get(slot));
        if job.is_active() && record.is_some_and(|record| record.active != NONE) {
            return Err(job);
        }
        // Where the job goes in the global id order, and in its account's.
        let Ok(before) = self.position_before(job.id, self.entries.back(), |table, slot| {
            table.entries.prev(slot)
        }) else {
            return Err(job);
        };
        let account_newest = record.map_or(NONE, |record| record.newest);
        let account_start = (account_newest != NONE).then_some(account_newest);
        let Ok(account_newer) = self.position_before(job.id, account_start, |table, slot| {
            table.older_of_account(slot)
        }) else {
            return Err(job);
        };
        // `account_newer` is the account's oldest job newer than this one; its older
        // neighbour (or the account's newest, when appending) becomes this job's older one.
        let account_older = if account_newer == NONE {
            account_newest
        } else {
            self.entries
                .get(account_newer)
                .map_or(NONE, |entry| entry.older)
        };

        let account_slot = match account_slot {
            Some(slot) => slot,
            None => {
                let fresh = AccountJobs {
                    account: job.account,
                    active: NONE,
                    oldest: NONE,
                    newest: NONE,
                    count: 0,
                };
                let Ok(slot) = self.accounts.push_back(fresh) else {
                    return Err(job); // cannot happen: accounts never outnumber jobs
                };
                self.by_account.insert(self.hasher.id(job.account.0), slot);
                slot
            }
        };
        let (id, is_active, is_leased) = (job.id, job.is_active(), job.is_leased());
        let entry = JobEntry {
            job,
            regions,
            older: account_older,
            newer: account_newer,
        };
        let slot = match self.entries.insert_before(before, entry) {
            Ok(slot) => slot,
            Err(entry) => return Err(entry.job),
        };
        self.by_id.insert(id.0, slot);
        if let Some(entry) = self.entries.get_mut(account_older) {
            entry.newer = slot;
        }
        if let Some(entry) = self.entries.get_mut(account_newer) {
            entry.older = slot;
        }
        if let Some(record) = self.accounts.get_mut(account_slot) {
            if account_older == NONE {
                record.oldest = slot;
            }
            if account_newer == NONE {
                record.newest = slot;
            }
            record.count = record.count.saturating_add(1);
            if is_active {
                record.active = slot;
            }
        }
        if is_active {
            self.active = self.active.saturating_add(1);
        } else {
            self.finished.set(slot, id.0);
        }
        if is_leased {
            self.leased = self.leased.saturating_add(1);
        }
        let place = self.place(self.job_at(slot));
        self.move_in_queues(slot, Place::Nowhere, place);
        Ok(slot)
    }

    /// Walks from `start` towards smaller ids with `step`, and returns the slot that a job `id` must be inserted
    /// before ([`NONE`]: at the end). `Err` when `id` is already there.
    fn position_before(
        &self,
        id: JobId,
        start: Option<u32>,
        step: impl Fn(&Self, u32) -> Option<u32>,
    ) -> Result<u32, ()> {
        let mut before = NONE;
        let mut current = start;
        while let Some(slot) = current {
            let Some(existing) = self.job_at(slot) else {
                break;
            };
            if existing.id == id {
                return Err(());
            }
            if existing.id < id {
                break;
            }
            before = slot;
            current = step(self, slot);
        }
        Ok(before)
    }

    /// Removes the job at `slot` from every index and returns it.
    pub(crate) fn remove(&mut self, slot: u32) -> Option<Job> {
        let entry = self.entries.get(slot)?;
        let (id, account, older, newer) =
            (entry.job.id, entry.job.account, entry.older, entry.newer);
        if entry.job.is_leased() {
            self.leased = self.leased.saturating_sub(1);
        }
        let place = self.place(Some(&entry.job));
        self.move_in_queues(slot, place, Place::Nowhere);
        if let Some(entry) = self.entries.get_mut(older) {
            entry.newer = newer;
        }
        if let Some(entry) = self.entries.get_mut(newer) {
            entry.older = older;
        }
        if let Some(account_slot) = self.account_slot(account) {
            let mut now_empty = false;
            if let Some(record) = self.accounts.get_mut(account_slot) {
                if record.oldest == slot {
                    record.oldest = newer;
                }
                if record.newest == slot {
                    record.newest = older;
                }
                if record.active == slot {
                    record.active = NONE;
                    self.active = self.active.saturating_sub(1);
                }
                record.count = record.count.saturating_sub(1);
                now_empty = record.count == 0;
            }
            if now_empty {
                self.by_account
                    .remove(self.hasher.id(account.0), account_slot);
                self.accounts.remove(account_slot);
            }
        }
        self.by_id.remove(id.0, slot);
        self.finished.set(slot, EMPTY);
        self.entries.remove(slot).map(|entry| entry.job)
    }

    /// Changes the job at `slot` (and its region statuses) with `change`, then brings every
    /// index up to date from the job itself: a job that finished frees its account's active
    /// slot and becomes a candidate for eviction; the lease count and the claim and due queues
    /// follow its lease, `not_before` and status. A finished job never becomes active again:
    /// callers only move jobs forward.
    pub(crate) fn update<R>(
        &mut self,
        slot: u32,
        change: impl FnOnce(&mut Job, &mut RegionStatuses) -> R,
    ) -> Option<R> {
        let before = self.place(self.job_at(slot));
        let entry = self.entries.get_mut(slot)?;
        let (was_active, was_leased) = (entry.job.is_active(), entry.job.is_leased());
        let answer = change(&mut entry.job, &mut entry.regions);
        let (is_active, is_leased) = (entry.job.is_active(), entry.job.is_leased());
        let (id, account) = (entry.job.id, entry.job.account);
        match (was_leased, is_leased) {
            (false, true) => self.leased = self.leased.saturating_add(1),
            (true, false) => self.leased = self.leased.saturating_sub(1),
            _ => {}
        }
        let after = self.place(self.job_at(slot));
        self.move_in_queues(slot, before, after);
        if was_active && !is_active {
            self.active = self.active.saturating_sub(1);
            self.finished.set(slot, id.0);
            if let Some(account_slot) = self.account_slot(account)
                && let Some(record) = self.accounts.get_mut(account_slot)
            {
                record.active = NONE;
            }
        }
        Some(answer)
    }

    /// Invariants 1, 2, 5, 6, 7 and 8 for jobs (`max_attempts` is the limit in force, and
    /// `regions_known` the size of the region catalogue).
    pub(crate) fn check(
        &self,
        next_id: u64,
        clock: Timestamp,
        grace_secs: u64,
        max_attempts: u32,
        regions_known: usize,
    ) -> Result<(), InvariantViolation> {
        let mut previous: Option<&Job> = None;
        let (mut active, mut leased) = (0usize, 0usize);
        let (mut fresh, mut backoff) = (0usize, 0usize);
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
            match self.place(Some(job)) {
                Place::Fresh => fresh = fresh.saturating_add(1),
                Place::Backoff { .. } => backoff = backoff.saturating_add(1),
                Place::Leased { .. } => leased = leased.saturating_add(1),
                Place::Nowhere => {}
            }
            if self.slot_of(id) != Some(slot) {
                return Err(InvariantViolation::IndexMismatch(Index::JobIds));
            }
            let expected_leaf = if job.is_active() { EMPTY } else { id.0 };
            if self.finished.get(slot) != expected_leaf {
                return Err(InvariantViolation::IndexMismatch(Index::FinishedJobs));
            }
            if job.is_active() {
                active = active.saturating_add(1);
            }
            previous = Some(job);
        }
        if self.entries.len() > N || self.entries.slots().count() != self.entries.len() {
            return Err(InvariantViolation::IndexMismatch(Index::JobOrder));
        }
        if self.by_id.count() != self.entries.len() {
            return Err(InvariantViolation::IndexMismatch(Index::JobIds));
        }
        if !self.finished.is_consistent()
            || self.finished.min().map(|(_, id)| id)
                != self.iter().find(|job| !job.is_active()).map(|job| job.id.0)
        {
            return Err(InvariantViolation::IndexMismatch(Index::FinishedJobs));
        }
        if self.finished.count_set() != self.entries.len().saturating_sub(active) {
            return Err(InvariantViolation::IndexMismatch(Index::FinishedJobs));
        }
        if active != self.active {
            return Err(InvariantViolation::IndexMismatch(Index::ActiveJobs));
        }
        let id_of = |slot| self.job_at(slot).map(|job| job.id.0);
        if leased != self.leased || !self.queues.is_consistent(fresh, backoff, leased, id_of) {
            return Err(InvariantViolation::IndexMismatch(Index::WorkerQueues));
        }
        self.check_accounts()
    }

    /// Invariant 8 for one job: its lease, attempts, failure reason and regions, and its place
    /// in the claim and due queues.
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
        if !self.queues.holds(slot, self.place(Some(job))) {
            return Err(InvariantViolation::IndexMismatch(Index::WorkerQueues));
        }
        Ok(())
    }

    /// Every account record lists exactly its account's jobs in id order, with at most one
    /// active job (invariant 1), the newest.
    fn check_accounts(&self) -> Result<(), InvariantViolation> {
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
            while let Some(entry) = self.entries.get(slot) {
                let wrong_order = self
                    .job_at(newer)
                    .is_some_and(|newer| newer.id <= entry.job.id);
                if entry.job.account != account || entry.newer != newer || wrong_order {
                    return Err(InvariantViolation::IndexMismatch(Index::Accounts));
                }
                if entry.job.is_active() {
                    if active != NONE {
                        return Err(InvariantViolation::SecondActiveJob { account });
                    }
                    active = slot;
                }
                count = count.saturating_add(1);
                if count > record.count {
                    break; // a cycle or a wrong count: reported below
                }
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

/// `check` and `check_accounts` guard states that the table's own operations never build, so
/// these tests corrupt its records directly and expect each rule to fire.
#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may panic: that is how they fail
mod tests {
    use super::*;
    use crate::ids::{Region, TrailName};

    use crate::job::JobStatus;

    fn job(id: u64, account: u64, status: JobStatus) -> Job {
        Job {
            id: JobId(id),
            account: AccountId(account),
            region: Region::new("cn-hangzhou").unwrap(),
            trail_name: TrailName::new("trail-name").unwrap(),
            status,
            created_at: Timestamp(id),
            updated_at: Timestamp(id),
            window_start: Timestamp(0),
            window_end: Timestamp(id),
            attempt: 0,
            lease_expires_at: None,
            not_before: Timestamp(id),
            delivered: 0,
            failure: (status == JobStatus::Failed).then_some(crate::lease::FailureReason::Reported),
        }
    }

    /// Account 1: jobs 1 (completed), 3 (completed), 4 (active); account 2: job 2 (failed).
    fn table() -> JobTable<8> {
        let mut table = JobTable::new(KeyHasher::new(5), 86_400);
        for (id, account, status) in [
            (1, 1, JobStatus::Completed),
            (2, 2, JobStatus::Failed),
            (3, 1, JobStatus::Completed),
            (4, 1, JobStatus::Delivering),
        ] {
            table
                .insert(job(id, account, status), RegionStatuses::NONE)
                .unwrap();
        }
        table.check(5, Timestamp(10), 0, 3, 0).unwrap();
        table
    }

    fn record_of(table: &mut JobTable<8>, account: u64) -> &mut AccountJobs {
        let slot = table.account_slot(AccountId(account)).unwrap();
        table.accounts.get_mut(slot).unwrap()
    }

    fn broken(corrupt: impl FnOnce(&mut JobTable<8>)) -> InvariantViolation {
        let mut table = table();
        corrupt(&mut table);
        table.check_accounts().unwrap_err()
    }

    #[test]
    fn refuses_a_second_active_job_in_one_account() {
        let mut table = table();
        assert_eq!(
            table
                .insert(job(5, 1, JobStatus::Initializing), RegionStatuses::NONE)
                .unwrap_err()
                .id,
            JobId(5)
        );
        // Behind the table's back: job 3 active again.
        let slot = table.slot_of(JobId(3)).unwrap();
        table.entries.get_mut(slot).unwrap().job.status = JobStatus::Initializing;
        assert_eq!(
            table.check_accounts(),
            Err(InvariantViolation::SecondActiveJob {
                account: AccountId(1)
            })
        );
    }

    #[test]
    fn account_records_that_disagree_with_the_jobs_are_caught() {
        let mismatch = InvariantViolation::IndexMismatch(Index::Accounts);
        assert_eq!(
            broken(|t| record_of(t, 1).count = 2),
            mismatch,
            "count too small"
        );
        assert_eq!(
            broken(|t| record_of(t, 1).count = 4),
            mismatch,
            "count too large"
        );
        assert_eq!(
            broken(|t| record_of(t, 1).active = NONE),
            mismatch,
            "active forgotten"
        );
        assert_eq!(
            broken(|t| record_of(t, 1).oldest = t.slot_of(JobId(3)).unwrap_or(NONE)),
            mismatch,
            "wrong oldest"
        );
        assert_eq!(
            broken(|t| {
                let slot = t.slot_of(JobId(3)).unwrap();
                t.entries.get_mut(slot).unwrap().job.account = AccountId(2);
            }),
            mismatch,
            "a job listed under another account"
        );
        assert_eq!(
            broken(|t| {
                let slot = t.slot_of(JobId(1)).unwrap();
                t.entries.get_mut(slot).unwrap().newer = NONE;
            }),
            mismatch,
            "a broken back link"
        );
        assert_eq!(
            broken(|t| {
                let (one, three) = (t.slot_of(JobId(1)).unwrap(), t.slot_of(JobId(3)).unwrap());
                t.entries.get_mut(one).unwrap().job.id = JobId(9);
                t.entries.get_mut(three).unwrap().job.id = JobId(1);
            }),
            mismatch,
            "jobs out of id order"
        );
        assert_eq!(
            broken(|t| {
                let slot = t.account_slot(AccountId(2)).unwrap();
                t.by_account.remove(t.hasher.id(2), slot);
            }),
            mismatch,
            "an account missing from the index"
        );
        assert_eq!(
            broken(|t| {
                let slot = t.account_slot(AccountId(2)).unwrap();
                t.accounts.get_mut(slot).unwrap().count = 0;
            }),
            mismatch,
            "an empty record"
        );
        assert_eq!(
            broken(|t| {
                let slot = t.account_slot(AccountId(2)).unwrap();
                t.by_account.insert(t.hasher.id(7), slot);
            }),
            mismatch,
            "an index entry too many"
        );
    }

    #[test]
    fn a_job_left_out_of_every_account_list_is_caught() {
        let mut table = table();
        // Unlink job 2 from account 2's record: the only job of that account.
        let record = record_of(&mut table, 2);
        record.count = 0;
        let slot = table.account_slot(AccountId(2)).unwrap();
        table.by_account.remove(table.hasher.id(2), slot);
        table.accounts.remove(slot);
        assert_eq!(
            table.check_accounts(),
            Err(InvariantViolation::IndexMismatch(Index::Accounts))
        );
    }
}
