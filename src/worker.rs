//! The worker protocol (leases, fencing, retries, deadlines, stop, per-region statuses) as
//! methods of [`JobScheduler`].
//!
//! A remote worker claims a job ([`claim_next`](JobScheduler::claim_next),
//! [`claim_job`](JobScheduler::claim_job)) and gets a [`Lease`], which it keeps alive with
//! [`heartbeat`](JobScheduler::heartbeat), reports regions with
//! [`report_region`](JobScheduler::report_region), and ends with
//! [`finish_job`](JobScheduler::finish_job). The host learns from
//! [`poll_timeout`](JobScheduler::poll_timeout) when to call
//! [`handle_timeout`](JobScheduler::handle_timeout), the only call in which time alone changes
//! anything: a lease that ran out is retried after a backoff, the last attempt fails, and so
//! does a job past its deadline. The caller may [`stop_job`](JobScheduler::stop_job) at any
//! time. Each method checks everything first and only then commits, as the rest of the
//! scheduler does; the arithmetic of time lives in `lease.rs`.

use crate::error::{Error, Table};
use crate::ids::{AccountId, JobId, Region};
use crate::job::{JobOutcome, JobStatus};
use crate::lease::{FailureReason, Lease, TimeoutReport, deadline, is_held, lease_end, retry_at};
use crate::scheduler::{JobScheduler, Transition};
use crate::time::Timestamp;

/// How far a region's status has come: a region only moves forward, `Initializing ->
/// Delivering -> Completed or Failed`.
const fn progress(status: JobStatus) -> u8 {
    match status {
        JobStatus::Initializing => 0,
        JobStatus::Delivering => 1,
        JobStatus::Completed | JobStatus::Failed => 2,
    }
}

impl<const TRAILS: usize, const JOBS: usize, const TOKENS: usize>
    JobScheduler<TRAILS, JOBS, TOKENS>
{
    // ----- queries -----

    /// Every region that workers have reported, in byte order of their ids: the scheduler's
    /// catalogue, kept for good (at most [`MAX_REGIONS`](crate::MAX_REGIONS)).
    pub fn regions(&self) -> impl Iterator<Item = &Region> + '_ {
        self.regions.iter().map(|(_, region)| region)
    }

    /// The job's reported regions with their statuses (the API's `Status` list), ordered by
    /// region id (byte order). `None` exactly when [`job`](Self::job) is `None`: a job of
    /// another account is not found.
    ///
    /// # Examples
    ///
    /// ```
    /// use trail_backfill::*;
    ///
    /// let scheduler: JobScheduler<4, 4, 4> = JobScheduler::new(Config::DEFAULT);
    /// assert!(scheduler.job_regions(AccountId(1), JobId(1)).is_none());
    /// ```
    #[must_use]
    pub fn job_regions(
        &self,
        account: AccountId,
        job: JobId,
    ) -> Option<impl Iterator<Item = (&Region, JobStatus)> + '_> {
        let (slot, _) = self.jobs.owned(account, job)?;
        Some(self.jobs.regions_at(slot)?.iter(&self.regions))
    }

    /// The earliest time at which [`handle_timeout`](Self::handle_timeout) would change
    /// something: the smallest, over the active jobs, of the lease's end (when leased) and the
    /// deadline (`created_at + max_job_secs`). `None` when no job is active. O(1).
    ///
    /// A host sleeps until then (or until a request arrives), then calls `handle_timeout`.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.jobs.next_due().map(|(_, due)| due)
    }

    // ----- claims -----

    /// Claims the next job for a worker: of the active jobs that no worker holds, whose
    /// `not_before <= now` and whose deadline is after `now`, the one with the smallest
    /// `(not_before, id)`. `None` when there is none, and then nothing changes.
    ///
    /// A claim increments the job's `attempt`, moves it `Initializing -> Delivering`, and
    /// leases it until `min(now + lease_secs, deadline)`, with `updated_at = now`. O(log n),
    /// plus O(log n) for each job past its deadline that `handle_timeout` has not failed yet.
    #[must_use = "a claimed job is leased: dropping the lease leaves the job waiting for its lease to run out"]
    pub fn claim_next(&mut self, now: Timestamp) -> Option<Lease> {
        let now = self.time(now);
        let max_attempts = self.config.effective_max_attempts();
        let slot = self.jobs.next_claimable(now, max_attempts)?;
        self.grant_lease(slot, now)
    }

    /// Claims job `job` of `account` for a worker, as [`claim_next`](Self::claim_next) would.
    ///
    /// # Errors
    ///
    /// In this order:
    /// - [`Error::JobNotFound`]: no such job for this account;
    /// - [`Error::InvalidJobStatus`] with the job's status: it has finished;
    /// - [`Error::JobNotClaimable`]: it is leased (`until` its lease's end, even if that has
    ///   passed), or waits for a retry (`until` its `not_before`), or its deadline is not
    ///   after `now` (`until` the deadline); also (`until` the deadline) when its attempts are
    ///   used up, which only a crafted snapshot can hold, since the last lease running out
    ///   fails the job.
    pub fn claim_job(
        &mut self,
        account: AccountId,
        job: JobId,
        now: Timestamp,
    ) -> Result<Lease, Error> {
        let now = self.time(now);
        let (slot, job) = self.jobs.owned(account, job).ok_or(Error::JobNotFound)?;
        if !job.is_active() {
            return Err(Error::InvalidJobStatus { status: job.status });
        }
        if let Some(until) = job.lease_expires_at {
            return Err(Error::JobNotClaimable { until });
        }
        if now < job.not_before {
            return Err(Error::JobNotClaimable {
                until: job.not_before,
            });
        }
        let until = deadline(job, self.config.max_job_secs);
        // Attempts used up (only a crafted snapshot holds such an unleased active job):
        // another claim would break `attempt <= max_attempts`, so it waits for its deadline.
        if until <= now || job.attempt >= self.config.effective_max_attempts() {
            return Err(Error::JobNotClaimable { until });
        }
        self.grant_lease(slot, now).ok_or(Error::JobNotFound)
    }

    /// Commits a claim of the job at `slot` (every check passed).
    fn grant_lease(&mut self, slot: u32, now: Timestamp) -> Option<Lease> {
        let config = self.config;
        let lease = self.jobs.update(slot, |job, _| {
            job.attempt = job.attempt.saturating_add(1);
            job.status = JobStatus::Delivering;
            let expires_at = lease_end(job, &config, now);
            job.lease_expires_at = Some(expires_at);
            job.updated_at = now;
            Lease {
                account: job.account,
                job: job.id,
                attempt: job.attempt,
                expires_at,
            }
        })?;
        self.clock = now;
        Some(lease)
    }

    // ----- a worker's reports -----

    /// The slot of the lease's job when the lease is held.
    fn held(&self, lease: &Lease) -> Result<u32, Error> {
        let (slot, job) = self
            .jobs
            .owned(lease.account, lease.job)
            .ok_or(Error::JobNotFound)?;
        if is_held(job, lease) {
            Ok(slot)
        } else {
            Err(Error::LeaseLost)
        }
    }

    /// A worker says it is alive: its lease now ends at `min(now + lease_secs, deadline)`,
    /// which is returned; the job's `delivered` becomes `max(delivered, reported)` and
    /// `updated_at = now`. A lease whose end has passed is still held until `handle_timeout`
    /// ends it, so a late heartbeat still extends it.
    ///
    /// # Errors
    ///
    /// - [`Error::JobNotFound`]: no such job for `lease.account`;
    /// - [`Error::LeaseLost`]: the lease is not held (the job finished, is not leased, or is
    ///   leased to another attempt). The worker must stop working on the job.
    pub fn heartbeat(
        &mut self,
        lease: &Lease,
        delivered: u64,
        now: Timestamp,
    ) -> Result<Timestamp, Error> {
        let now = self.time(now);
        let slot = self.held(lease)?;
        let config = self.config;
        let expires_at = self
            .jobs
            .update(slot, |job, _| {
                let expires_at = lease_end(job, &config, now);
                job.lease_expires_at = Some(expires_at);
                job.delivered = job.delivered.max(delivered);
                job.updated_at = now;
                expires_at
            })
            .ok_or(Error::JobNotFound)?;
        self.clock = now;
        Ok(expires_at)
    }

    /// A worker reports the job's status in one region (the API's `Status` list), with
    /// `updated_at = now`. A region moves only forward, `Initializing -> Delivering ->
    /// Completed or Failed`: reporting a status it has already passed, or its own, is
    /// `Ok(Transition::Unchanged)`. A region new to the scheduler joins its catalogue for good.
    ///
    /// # Errors
    ///
    /// In this order:
    /// - [`Error::JobNotFound`]: no such job for `lease.account`;
    /// - [`Error::LeaseLost`]: the lease is not held;
    /// - [`Error::CapacityExhausted`]`(`[`Table::Regions`]`)`: the region is new to the
    ///   scheduler and [`MAX_REGIONS`](crate::MAX_REGIONS) are known;
    /// - [`Error::InvalidJobStatus`] with the region's status: the region finished with the
    ///   other final status.
    pub fn report_region(
        &mut self,
        lease: &Lease,
        region: &Region,
        status: JobStatus,
        now: Timestamp,
    ) -> Result<Transition, Error> {
        let now = self.time(now);
        let slot = self.held(lease)?;
        if !self.regions.can_learn(region) {
            return Err(Error::CapacityExhausted(Table::Regions));
        }
        let current = self
            .regions
            .index_of(region)
            .and_then(|index| self.jobs.regions_at(slot)?.get(index));
        if let Some(current) = current {
            if current == status || progress(status) < progress(current) {
                return Ok(Transition::Unchanged);
            }
            if !current.is_active() {
                return Err(Error::InvalidJobStatus { status: current });
            }
        }
        let index = self
            .regions
            .learn(region)
            .ok_or(Error::CapacityExhausted(Table::Regions))?;
        self.jobs.update(slot, |job, regions| {
            regions.set(index, status);
            job.updated_at = now;
        });
        self.clock = now;
        Ok(Transition::Changed)
    }

    /// A worker reports the end of its job, through its lease: as
    /// [`complete_job`](Self::complete_job) (a `Failed` outcome records
    /// [`FailureReason::Reported`]). On a job already finished: `Ok(Transition::Unchanged)`
    /// when its status is the outcome's and `lease.attempt` equals its `attempt`, whatever
    /// finished it (a retried finish, or a finish that lost the race to a stop).
    ///
    /// # Errors
    ///
    /// - [`Error::JobNotFound`]: no such job for `lease.account`;
    /// - [`Error::LeaseLost`]: the lease is not held (and the job did not already finish
    ///   with this outcome at this attempt).
    pub fn finish_job(
        &mut self,
        lease: &Lease,
        outcome: JobOutcome,
        now: Timestamp,
    ) -> Result<Transition, Error> {
        let now = self.time(now);
        let (slot, job) = self
            .jobs
            .owned(lease.account, lease.job)
            .ok_or(Error::JobNotFound)?;
        if !job.is_active() {
            return if job.status == outcome.status() && job.attempt == lease.attempt {
                Ok(Transition::Unchanged)
            } else {
                Err(Error::LeaseLost)
            };
        }
        if !is_held(job, lease) {
            return Err(Error::LeaseLost);
        }
        self.end_job(slot, outcome.status(), FailureReason::Reported, now);
        Ok(Transition::Changed)
    }

    /// The caller cancels its job (`StopDeliveryHistoryJob`; CloudTrail's `StopImport`): an
    /// active job becomes `Failed` with [`FailureReason::Stopped`], its lease ends and the
    /// account may create its next job. A finished job: `Ok(Transition::Unchanged)`.
    ///
    /// # Errors
    ///
    /// [`Error::JobNotFound`]: no such job for this account.
    pub fn stop_job(
        &mut self,
        account: AccountId,
        job: JobId,
        now: Timestamp,
    ) -> Result<Transition, Error> {
        let now = self.time(now);
        let (slot, found) = self.jobs.owned(account, job).ok_or(Error::JobNotFound)?;
        if !found.is_active() {
            return Ok(Transition::Unchanged);
        }
        self.end_job(slot, JobStatus::Failed, FailureReason::Stopped, now);
        Ok(Transition::Changed)
    }

    /// Ends the active job at `slot` in `status` at `now`, by any path: its lease ends, it
    /// records `reason` when `Failed`, its unfinished regions take `status`, and the account's
    /// active slot frees (the table sees to that).
    pub(crate) fn end_job(
        &mut self,
        slot: u32,
        status: JobStatus,
        reason: FailureReason,
        now: Timestamp,
    ) {
        self.jobs.update(slot, |job, regions| {
            job.status = status;
            job.failure = (status == JobStatus::Failed).then_some(reason);
            job.lease_expires_at = None;
            job.updated_at = now;
            regions.finish(status);
        });
        self.clock = now;
    }

    // ----- time -----

    /// Applies every time-driven change due at `now`: each active job whose due time is `<=
    /// now`, in order of (due time, id).
    ///
    /// - Its deadline is due: it becomes `Failed` with [`FailureReason::DeadlineExceeded`].
    /// - Else its lease's end is due: the lease ends. On its last attempt (`attempt >=
    ///   max_attempts`) the job becomes `Failed` with [`FailureReason::LeaseExpired`];
    ///   otherwise it waits for a retry: `not_before = lease end + min(retry_backoff_secs *
    ///   2^(attempt - 1), max_backoff_secs)` (saturating), its delivering regions go back to
    ///   initializing, and it stays `Delivering`.
    ///
    /// Each job changed gets `updated_at = now`. With nothing due nothing changes, the clock
    /// included. O((k + 1) log n) for k due jobs.
    ///
    /// # Examples
    ///
    /// ```
    /// use trail_backfill::*;
    ///
    /// let mut scheduler: JobScheduler<4, 4, 4> = JobScheduler::new(Config::DEFAULT);
    /// assert_eq!(scheduler.poll_timeout(), None);
    /// let report = scheduler.handle_timeout(Timestamp(100));
    /// assert_eq!((report.leases_expired, report.jobs_failed), (0, 0));
    /// assert_eq!(scheduler.clock(), Timestamp(0));
    /// ```
    pub fn handle_timeout(&mut self, now: Timestamp) -> TimeoutReport {
        let now = self.time(now);
        let config = self.config;
        let mut report = TimeoutReport::default();
        while let Some((slot, due)) = self.jobs.next_due() {
            let Some(job) = self.jobs.job_at(slot).filter(|_| due <= now) else {
                break;
            };
            let lease_end = job.lease_expires_at;
            let last_attempt = job.attempt >= config.effective_max_attempts();
            if deadline(job, config.max_job_secs) <= now {
                self.end_job(
                    slot,
                    JobStatus::Failed,
                    FailureReason::DeadlineExceeded,
                    now,
                );
                report.jobs_failed = report.jobs_failed.saturating_add(1);
                continue;
            }
            // Not the deadline, so the lease's end is what is due.
            let Some(lease_end) = lease_end else {
                break; // cannot happen: an unleased job is due only at its deadline
            };
            report.leases_expired = report.leases_expired.saturating_add(1);
            if last_attempt {
                self.end_job(slot, JobStatus::Failed, FailureReason::LeaseExpired, now);
                report.jobs_failed = report.jobs_failed.saturating_add(1);
            } else {
                self.jobs.update(slot, |job, regions| {
                    job.lease_expires_at = None;
                    job.not_before = retry_at(&config, job.attempt, lease_end);
                    job.updated_at = now;
                    regions.restart();
                });
            }
        }
        if !report.is_empty() {
            self.clock = now;
        }
        report
    }
}
