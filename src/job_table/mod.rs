//! The job table: fixed slots for jobs, in id order, with the indexes that keep every
//! operation fast when the table is full (its normal state, since it evicts on purpose).
//!
//! - `entries`: the jobs, on a list in ascending id order (new ids are always the largest, so
//!   creation appends); snapshots walk it.
//! - `by_id`: an [`IdIndex`] from job id to slot (`GetDeliveryHistoryJob`, start, complete):
//!   `id mod N` first, which new and evicted ids walk through in order, and the scheduler's
//!   keyed hash of the id for ids whose place was taken (a client decides which of its jobs it
//!   deletes, so it could keep ids that share a place).
//! - the finished list and `finished`, a [`MinTree`] (`finished.rs`): the finished job with the
//!   smallest id (the one to evict) in O(1) however old the active jobs are; jobs that finish
//!   in id order cost O(1), the others O(log N).
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
use crate::id_index::IdIndex;
use crate::ids::{AccountId, JobId};
use crate::job::Job;
use crate::lease::deadline;
use crate::min_tree::{EMPTY, MinTree};
use crate::regions::RegionStatuses;
use crate::slab::{ListSlab, NONE, Vacant, loaded, stored};
use crate::time::Timestamp;
use crate::worker_queues::{Place, WorkerQueues};

mod check;
mod finished;
mod fresh;
#[cfg(feature = "serde")]
mod restore;

#[cfg(feature = "serde")]
pub(crate) use restore::JobsRefused;
#[cfg(test)]
mod tests;

/// A stored job. The links come first and then the job, whose hot fields lead (`repr(C)`),
/// so that a transition touches the front of the entry only.
#[derive(Debug, Clone)]
#[repr(C)]
struct JobEntry {
    /// The same account's next older job (smaller id), or [`NONE`]. Not kept up to date for
    /// the account's oldest job (whose older neighbour was evicted or removed): every walk
    /// towards older jobs counts its steps with the account's job count, so it never follows
    /// that link, and an eviction, which always takes an account's oldest job, need not write
    /// to the next job of that account, a cache miss in a large table.
    older: u32,
    /// The same account's next newer job (larger id), or [`NONE`].
    newer: u32,
    /// The neighbours on the fresh list (`fresh.rs`) while fresh, on the finished list
    /// (`finished.rs`) once finished, or [`NONE`].
    fresh_prev: u32,
    fresh_next: u32,
    /// The slot of its account's record in `accounts`, so that finishing or evicting the job
    /// needs no lookup of the account.
    account_slot: u32,
    job: Job,
    /// Its statuses per region, over the scheduler's region catalogue.
    regions: RegionStatuses,
}

impl Vacant for JobEntry {
    const VACANT: JobEntry = JobEntry {
        older: 0,
        newer: 0,
        fresh_prev: 0,
        fresh_next: 0,
        account_slot: 0,
        job: Job {
            id: JobId(0),
            account: AccountId(0),
            status: crate::job::JobStatus::Initializing,
            failure: None,
            attempt: 0,
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
            not_before: Timestamp(0),
            lease_expires_at: None,
            delivered: 0,
            window_start: Timestamp(0),
            window_end: Timestamp(0),
            region: crate::ids::Region::VACANT,
            trail_name: crate::ids::TrailName::VACANT,
        },
        regions: RegionStatuses::NONE,
    };
}

impl Vacant for AccountJobs {
    const VACANT: AccountJobs = AccountJobs {
        account: AccountId(0),
        active: 0,
        oldest: 0,
        newest: 0,
        count: 0,
    };
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

#[derive(Debug)]
pub(crate) struct JobTable<const N: usize> {
    entries: ListSlab<JobEntry, N>,
    by_id: IdIndex<N>,
    finished: MinTree<u64, N>,
    /// Accounts never outnumber jobs, so `N` records always suffice.
    accounts: ListSlab<AccountJobs, N>,
    by_account: HashIndex<N>,
    active: usize,
    /// Active jobs that a worker holds.
    leased: usize,
    queues: WorkerQueues<N>,
    /// The ends of the fresh list (`fresh.rs`).
    fresh_head: u32,
    fresh_tail: u32,
    /// The ends of the finished list (`finished.rs`).
    finished_head: u32,
    finished_tail: u32,
    hasher: KeyHasher,
    /// The config's `max_job_secs`, which places deadlines in the due queue.
    max_job_secs: u64,
}

/// `clone_from` copies table by table in place: a large table never goes through the stack.
impl<const N: usize> Clone for JobTable<N> {
    fn clone(&self) -> Self {
        JobTable {
            entries: self.entries.clone(),
            by_id: self.by_id.clone(),
            finished: self.finished.clone(),
            accounts: self.accounts.clone(),
            by_account: self.by_account.clone(),
            queues: self.queues.clone(),
            ..*self
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.entries.clone_from(&source.entries);
        self.by_id.clone_from(&source.by_id);
        self.finished.clone_from(&source.finished);
        self.accounts.clone_from(&source.accounts);
        self.by_account.clone_from(&source.by_account);
        self.active = source.active;
        self.leased = source.leased;
        self.queues.clone_from(&source.queues);
        self.fresh_head = source.fresh_head;
        self.fresh_tail = source.fresh_tail;
        self.finished_head = source.finished_head;
        self.finished_tail = source.finished_tail;
        self.hasher = source.hasher;
        self.max_job_secs = source.max_job_secs;
    }
}

impl<const N: usize> JobTable<N> {
    pub(crate) const fn new(hasher: KeyHasher, max_job_secs: u64) -> Self {
        JobTable {
            entries: ListSlab::new(),
            by_id: IdIndex::new(),
            finished: MinTree::new(),
            accounts: ListSlab::new(),
            by_account: HashIndex::new(),
            active: 0,
            leased: 0,
            queues: WorkerQueues::new(),
            fresh_head: stored(NONE),
            fresh_tail: stored(NONE),
            finished_head: stored(NONE),
            finished_tail: stored(NONE),
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
        self.fresh_head = stored(NONE);
        self.fresh_tail = stored(NONE);
        self.finished_head = stored(NONE);
        self.finished_tail = stored(NONE);
        self.hasher = hasher;
        self.max_job_secs = max_job_secs;
    }

    /// Which worker queue a job waits in, from its own fields.
    #[inline]
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

    /// Moves the job at `slot` between the fresh list and the worker queues' trees.
    #[inline]
    fn move_in_queues(&mut self, slot: u32, before: Place, after: Place) {
        match (before == Place::Fresh, after == Place::Fresh) {
            (true, false) => self.unlink_fresh(slot),
            (false, true) => self.link_fresh(slot),
            _ => {}
        }
        self.queues.moved(slot, before, after);
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
    ///
    /// A job whose attempts are used up (`attempt >= max_attempts`, which only a crafted
    /// snapshot can hold: the last lease running out fails the job) is stepped over too, so
    /// that no claim ever breaks `attempt <= max_attempts`.
    pub(crate) fn next_claimable(&self, now: Timestamp, max_attempts: u32) -> Option<u32> {
        let before_deadline = |slot| {
            self.job_at(slot).is_some_and(|job| {
                deadline(job, self.max_job_secs) > now && job.attempt < max_attempts
            })
        };
        // Fresh jobs past their deadline are the oldest ones: skipped at O(1) each.
        let fresh = self.fresh_slots().find(|&slot| before_deadline(slot));
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
        let head = loaded(self.fresh_head);
        let first_fresh = (head != NONE).then_some(head);
        let fresh = first_fresh.and_then(|slot| {
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
        let hash = || self.hasher.id(id.0);
        self.by_id.find(id.0, hash, |slot| {
            self.job_at(slot).is_some_and(|job| job.id == id)
        })
    }

    /// The slot of job `id` and the job, if `account` owns it: another account's job is not
    /// found.
    pub(crate) fn owned(&self, account: AccountId, id: JobId) -> Option<(u32, &Job)> {
        let slot = self.slot_of(id)?;
        let job = self.job_at(slot).filter(|job| job.account == account)?;
        Some((slot, job))
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

    /// The slot of `account`'s oldest job.
    pub(crate) fn oldest_of(&self, account: AccountId) -> Option<u32> {
        let oldest = self.account(account)?.oldest;
        (oldest != NONE).then_some(oldest)
    }

    /// The slot of the same account's next newer job.
    pub(crate) fn newer_of_account(&self, slot: u32) -> Option<u32> {
        let newer = self.entries.get(slot)?.newer;
        (newer != NONE).then_some(newer)
    }

    /// The slot of the same account's next older job. Not to be asked of the account's
    /// oldest job (see `JobEntry::older`): callers count their steps.
    pub(crate) fn older_of_account(&self, slot: u32) -> Option<u32> {
        let older = self.entries.get(slot)?.older;
        (older != NONE).then_some(older)
    }

    /// Stores a new job with its region statuses, after every stored job (creation always
    /// brings the largest id); hands it back when the table is full, its id is not the
    /// largest, or it is active while its account already has an active job.
    // Handing the value back when full is heapless's convention; boxing would allocate.
    #[allow(clippy::result_large_err)]
    #[inline]
    pub(crate) fn insert(&mut self, job: Job, regions: RegionStatuses) -> Result<u32, Job> {
        let last_id = self
            .entries
            .back()
            .and_then(|slot| self.job_at(slot))
            .map(|last| last.id);
        if self.is_full() || last_id.is_some_and(|last| last >= job.id) {
            return Err(job);
        }
        let account_slot = match self.account_slot(job.account) {
            Some(slot) => slot,
            None => match self.new_account(job.account) {
                Some(slot) => slot,
                None => return Err(job), // cannot happen: accounts never outnumber jobs
            },
        };
        if job.is_active()
            && self
                .accounts
                .get(account_slot)
                .is_some_and(|record| record.active != NONE)
        {
            return Err(job);
        }
        let entry = JobEntry {
            job,
            regions,
            older: NONE,
            newer: NONE,
            fresh_prev: NONE,
            fresh_next: NONE,
            account_slot,
        };
        let slot = match self.entries.push_back(entry) {
            Ok(slot) => slot,
            Err(entry) => return Err(entry.job),
        };
        self.index_new(slot, account_slot);
        Ok(slot)
    }

    /// A record for an account that has no job yet.
    fn new_account(&mut self, account: AccountId) -> Option<u32> {
        let fresh = AccountJobs {
            account,
            active: NONE,
            oldest: NONE,
            newest: NONE,
            count: 0,
        };
        let slot = self.accounts.push_back(fresh).ok()?;
        self.by_account.insert(self.hasher.id(account.0), slot);
        Some(slot)
    }

    /// Indexes the job at `slot`, which has the largest id of its account: the id index, the
    /// account's list (at its newest end) and active job, the eviction order, the lease count
    /// and the worker queues.
    fn index_new(&mut self, slot: u32, account_slot: u32) {
        let Some(job) = self.job_at(slot) else {
            return;
        };
        let (id, is_active, is_leased) = (job.id, job.is_active(), job.is_leased());
        let place = self.place(Some(job));
        let hasher = self.hasher;
        self.by_id.insert(id.0, slot, || hasher.id(id.0));
        let Some(record) = self.accounts.get_mut(account_slot) else {
            return;
        };
        let older = record.newest;
        record.newest = slot;
        if record.oldest == NONE {
            record.oldest = slot;
        }
        record.count = record.count.saturating_add(1);
        if is_active {
            record.active = slot;
        }
        if let Some(entry) = self.entries.get_mut(older) {
            entry.newer = slot;
        }
        if let Some(entry) = self.entries.get_mut(slot) {
            entry.older = older;
            entry.newer = NONE;
            entry.account_slot = account_slot;
        }
        if is_active {
            self.active = self.active.saturating_add(1);
        } else {
            self.add_finished(slot, id);
        }
        if is_leased {
            self.leased = self.leased.saturating_add(1);
        }
        self.move_in_queues(slot, Place::Nowhere, place);
    }

    /// Removes the job at `slot` from every index and returns it.
    pub(crate) fn remove(&mut self, slot: u32) -> Option<Job> {
        self.unindex(slot);
        self.entries.remove(slot).map(|entry| entry.job)
    }

    /// Removes the job at `slot` from every index and drops it (an eviction, which has no
    /// use for the job: dropping it in place saves moving a whole record out).
    pub(crate) fn evict(&mut self, slot: u32) {
        self.unindex(slot);
        self.entries.discard(slot);
    }

    /// Takes the job at `slot` out of every index but the slab.
    fn unindex(&mut self, slot: u32) {
        let Some(entry) = self.entries.get(slot) else {
            return;
        };
        let (id, account, account_slot, newer, is_active) = (
            entry.job.id,
            entry.job.account,
            entry.account_slot,
            entry.newer,
            entry.job.is_active(),
        );
        if entry.job.is_leased() {
            self.leased = self.leased.saturating_sub(1);
        }
        let place = self.place(Some(&entry.job));
        let is_oldest = self
            .accounts
            .get(account_slot)
            .is_some_and(|record| record.oldest == slot);
        // The oldest job's `older` link is not kept (see `JobEntry::older`).
        let older = if is_oldest { NONE } else { entry.older };
        self.move_in_queues(slot, place, Place::Nowhere);
        if let Some(entry) = self.entries.get_mut(older) {
            entry.newer = newer;
        }
        if !is_oldest && let Some(entry) = self.entries.get_mut(newer) {
            entry.older = older;
        }
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
        let hasher = self.hasher;
        self.by_id.remove(id.0, slot, || hasher.id(id.0));
        if !is_active {
            self.remove_finished(slot);
        }
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
        let (id, account_slot) = (entry.job.id, entry.account_slot);
        match (was_leased, is_leased) {
            (false, true) => self.leased = self.leased.saturating_add(1),
            (true, false) => self.leased = self.leased.saturating_sub(1),
            _ => {}
        }
        let after = self.place(self.job_at(slot));
        self.move_in_queues(slot, before, after);
        if was_active && !is_active {
            self.active = self.active.saturating_sub(1);
            self.add_finished(slot, id);
            if let Some(record) = self.accounts.get_mut(account_slot) {
                record.active = NONE;
            }
        }
        Some(answer)
    }
}
