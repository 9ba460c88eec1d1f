//! SPEC section 9 written a second time: leases, fencing, retries with backoff, deadlines,
//! stop, per-region statuses, `poll_timeout` and `handle_timeout`.
//!
//! Everything here is a plain scan over the model's `BTreeMap`s: `claim_next` looks at every
//! job, `poll_timeout` and `handle_timeout` compute each active job's due time afresh. The
//! crate keeps indexes for these; the model keeps none, so the indexes have nothing here to
//! agree with by accident.

use trail_backfill::{
    AccountId, Error, FailureReason, Job, JobId, JobOutcome, JobStatus, Lease, Region, Table,
    Timestamp, Transition,
};

use super::{Model, is_active};

/// SPEC section 9: "at most `MAX_REGIONS` (64, a public const) are known".
pub const MAX_REGIONS: usize = 64;

/// SPEC section 9's `TimeoutReport`, as a plain struct (the crate's is `#[non_exhaustive]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeoutReport {
    /// Leases ended by running out (not those of jobs failed by their deadline).
    pub leases_expired: u32,
    /// Jobs that became `Failed`.
    pub jobs_failed: u32,
}

impl TimeoutReport {
    /// The crate's report, field by field.
    pub fn of(report: &trail_backfill::TimeoutReport) -> Self {
        TimeoutReport {
            leases_expired: report.leases_expired,
            jobs_failed: report.jobs_failed,
        }
    }
}

/// Where a region stands in its one-way order `Initializing -> Delivering -> final`.
fn rank(status: JobStatus) -> u8 {
    match status {
        JobStatus::Initializing => 0,
        JobStatus::Delivering => 1,
        JobStatus::Completed | JobStatus::Failed => 2,
    }
}

fn outcome_status(outcome: JobOutcome) -> JobStatus {
    match outcome {
        JobOutcome::Completed => JobStatus::Completed,
        JobOutcome::Failed => JobStatus::Failed,
    }
}

impl Model {
    // ------------------------------------------------------------ settings and due times

    /// `lease_secs` 0 acts as 1.
    fn lease_secs(&self) -> u64 {
        self.config.lease_secs.max(1)
    }

    /// `max_attempts` above `u32::MAX` acts as `u32::MAX`, and 0 as 1.
    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.config.max_attempts.max(1)).unwrap_or(u32::MAX)
    }

    /// A job's deadline: `created_at + max_job_secs`, saturating.
    pub fn deadline(&self, job: &Job) -> Timestamp {
        Timestamp(job.created_at.0.saturating_add(self.config.max_job_secs))
    }

    /// The lease end a claim or heartbeat at `now` grants: `min(now + lease_secs, deadline)`.
    fn lease_end(&self, job: &Job, now: Timestamp) -> Timestamp {
        Timestamp(
            now.0
                .saturating_add(self.lease_secs())
                .min(self.deadline(job).0),
        )
    }

    /// The earliest time `handle_timeout` would change an active job: the lease end (when
    /// leased) or the deadline, whichever comes first. `None` for a finished job.
    pub fn due_time(&self, job: &Job) -> Option<Timestamp> {
        if !is_active(job.status) {
            return None;
        }
        let deadline = self.deadline(job);
        Some(match job.lease_expires_at {
            Some(end) => end.min(deadline),
            None => deadline,
        })
    }

    /// The backoff after a lease of attempt `attempt` ran out:
    /// `min(retry_backoff_secs * 2^(attempt - 1), max_backoff_secs)`, saturating.
    pub fn backoff(&self, attempt: u32) -> u64 {
        let exponent = attempt.saturating_sub(1);
        let grown = if self.config.retry_backoff_secs == 0 {
            0
        } else if exponent >= 64 {
            u64::MAX
        } else {
            self.config
                .retry_backoff_secs
                .saturating_mul(1u64 << exponent)
        };
        grown.min(self.config.max_backoff_secs)
    }

    /// A lease is held while its job is active and leased with that same attempt.
    fn holds(job: &Job, lease: &Lease) -> bool {
        is_active(job.status) && job.lease_expires_at.is_some() && job.attempt == lease.attempt
    }

    // ------------------------------------------------------------ queries

    /// The region catalogue, in byte order.
    pub fn regions(&self) -> impl Iterator<Item = &Region> + '_ {
        self.catalogue.values()
    }

    /// SPEC section 9: the job's reported regions in byte order; `None` as `job()`.
    pub fn job_regions(&self, account: AccountId, job: JobId) -> Option<Vec<(Region, JobStatus)>> {
        self.job(account, job)?;
        Some(
            self.job_regions
                .get(&job.0)
                .map(|regions| regions.values().cloned().collect())
                .unwrap_or_default(),
        )
    }

    /// SPEC section 9: the smallest due time over the active jobs.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.jobs
            .values()
            .filter_map(|job| self.due_time(job))
            .min()
    }

    // ------------------------------------------------------------ the finishing rules

    /// Every path that finishes a job: status and failure reason, `updated_at`, the lease
    /// ends, unfinished regions take the final status, the account's slot is freed.
    pub(super) fn finish(
        &mut self,
        id: JobId,
        status: JobStatus,
        failure: Option<FailureReason>,
        now: Timestamp,
    ) {
        let job = self.jobs.get_mut(&id.0).expect("finish: the job exists");
        debug_assert!(is_active(job.status) && !is_active(status));
        job.status = status;
        job.failure = failure;
        job.updated_at = now;
        job.lease_expires_at = None;
        let account = job.account;
        if let Some(regions) = self.job_regions.get_mut(&id.0) {
            for (_, region_status) in regions.values_mut() {
                if is_active(*region_status) {
                    *region_status = status;
                }
            }
        }
        self.active.remove(&account.0);
        self.finished.insert(id.0);
    }

    /// A claim of job `id` at `now` (its checks passed).
    fn claim(&mut self, id: JobId, now: Timestamp) -> Lease {
        let end = self.lease_end(&self.jobs[&id.0], now);
        let job = self.jobs.get_mut(&id.0).expect("claim: the job exists");
        job.attempt = job.attempt.saturating_add(1);
        if job.status == JobStatus::Initializing {
            job.status = JobStatus::Delivering;
        }
        job.lease_expires_at = Some(end);
        job.updated_at = now;
        self.clock = now;
        Lease {
            account: job.account,
            job: id,
            attempt: job.attempt,
            expires_at: end,
        }
    }

    // ------------------------------------------------------------ the worker protocol

    /// SPEC section 9: of the active, unleased jobs with `not_before <= now` and a deadline
    /// after `now`, the smallest `(not_before, id)` is claimed; `None` changes nothing.
    pub fn claim_next(&mut self, now: Timestamp) -> Option<Lease> {
        let now = self.clamp(now);
        let id = self
            .jobs
            .values()
            .filter(|job| {
                is_active(job.status)
                    && job.lease_expires_at.is_none()
                    && job.not_before <= now
                    && self.deadline(job) > now
            })
            .min_by_key(|job| (job.not_before, job.id))
            .map(|job| job.id)?;
        Some(self.claim(id, now))
    }

    /// SPEC section 9: claims this job, or says why not.
    pub fn claim_job(
        &mut self,
        account: AccountId,
        job: JobId,
        now: Timestamp,
    ) -> Result<Lease, Error> {
        let now = self.clamp(now);
        let found = self.own_job(account, job)?;
        if !is_active(found.status) {
            return Err(Error::InvalidJobStatus {
                status: found.status,
            });
        }
        if let Some(until) = found.lease_expires_at {
            return Err(Error::JobNotClaimable { until });
        }
        if now < found.not_before {
            return Err(Error::JobNotClaimable {
                until: found.not_before,
            });
        }
        let deadline = self.deadline(found);
        if deadline <= now {
            return Err(Error::JobNotClaimable { until: deadline });
        }
        Ok(self.claim(job, now))
    }

    /// SPEC section 9: extends a held lease (even one whose end has passed).
    pub fn heartbeat(
        &mut self,
        lease: &Lease,
        delivered: u64,
        now: Timestamp,
    ) -> Result<Timestamp, Error> {
        let now = self.clamp(now);
        let found = self.own_job(lease.account, lease.job)?;
        if !Self::holds(found, lease) {
            return Err(Error::LeaseLost);
        }
        let end = self.lease_end(found, now);
        let job = self.jobs.get_mut(&lease.job.0).expect("found above");
        job.lease_expires_at = Some(end);
        job.delivered = job.delivered.max(delivered);
        job.updated_at = now;
        self.clock = now;
        Ok(end)
    }

    /// SPEC section 9: a region moves only forward; an old or equal status is `Unchanged`.
    pub fn report_region(
        &mut self,
        lease: &Lease,
        region: &Region,
        status: JobStatus,
        now: Timestamp,
    ) -> Result<Transition, Error> {
        let now = self.clamp(now);
        let found = self.own_job(lease.account, lease.job)?;
        if !Self::holds(found, lease) {
            return Err(Error::LeaseLost);
        }
        let key = region.as_str().to_owned();
        if !self.catalogue.contains_key(&key) && self.catalogue.len() >= MAX_REGIONS {
            return Err(Error::CapacityExhausted(Table::Regions));
        }
        let current = self
            .job_regions
            .get(&lease.job.0)
            .and_then(|regions| regions.get(&key))
            .map(|(_, status)| *status);
        if let Some(current) = current {
            if rank(current) == 2 && rank(status) == 2 && current != status {
                return Err(Error::InvalidJobStatus { status: current });
            }
            if rank(status) <= rank(current) {
                return Ok(Transition::Unchanged);
            }
        }
        self.catalogue.insert(key.clone(), region.clone());
        self.job_regions
            .entry(lease.job.0)
            .or_default()
            .insert(key, (region.clone(), status));
        self.jobs
            .get_mut(&lease.job.0)
            .expect("found above")
            .updated_at = now;
        self.clock = now;
        Ok(Transition::Changed)
    }

    /// SPEC section 9: `complete_job` through the lease; a retried finish is `Unchanged`.
    pub fn finish_job(
        &mut self,
        lease: &Lease,
        outcome: JobOutcome,
        now: Timestamp,
    ) -> Result<Transition, Error> {
        let now = self.clamp(now);
        let target = outcome_status(outcome);
        let found = self.own_job(lease.account, lease.job)?;
        if !is_active(found.status) {
            return if found.status == target && found.attempt == lease.attempt {
                Ok(Transition::Unchanged)
            } else {
                Err(Error::LeaseLost)
            };
        }
        if !Self::holds(found, lease) {
            return Err(Error::LeaseLost);
        }
        let failure = (target == JobStatus::Failed).then_some(FailureReason::Reported);
        self.finish(lease.job, target, failure, now);
        self.clock = now;
        Ok(Transition::Changed)
    }

    /// SPEC section 9: the caller cancels its job (`Failed` with `Stopped`).
    pub fn stop_job(
        &mut self,
        account: AccountId,
        job: JobId,
        now: Timestamp,
    ) -> Result<Transition, Error> {
        let now = self.clamp(now);
        if !is_active(self.own_job(account, job)?.status) {
            return Ok(Transition::Unchanged);
        }
        self.finish(job, JobStatus::Failed, Some(FailureReason::Stopped), now);
        self.clock = now;
        Ok(Transition::Changed)
    }

    /// SPEC section 9: every active job due at `now`, in (due time, id) order: past its
    /// deadline, it fails; else its lease ran out: it fails on its last attempt, or waits for
    /// a retry after a backoff counted from the lease end.
    pub fn handle_timeout(&mut self, now: Timestamp) -> TimeoutReport {
        let now = self.clamp(now);
        let mut due: Vec<(Timestamp, JobId)> = self
            .jobs
            .values()
            .filter_map(|job| self.due_time(job).map(|at| (at, job.id)))
            .filter(|(at, _)| *at <= now)
            .collect();
        due.sort();
        let mut report = TimeoutReport::default();
        if due.is_empty() {
            return report;
        }
        let max_attempts = self.max_attempts();
        for (_, id) in due {
            let job = &self.jobs[&id.0];
            if self.deadline(job) <= now {
                self.finish(
                    id,
                    JobStatus::Failed,
                    Some(FailureReason::DeadlineExceeded),
                    now,
                );
                report.jobs_failed = report.jobs_failed.saturating_add(1);
                continue;
            }
            let end = job
                .lease_expires_at
                .expect("due before its deadline: leased");
            report.leases_expired = report.leases_expired.saturating_add(1);
            if job.attempt >= max_attempts {
                self.finish(
                    id,
                    JobStatus::Failed,
                    Some(FailureReason::LeaseExpired),
                    now,
                );
                report.jobs_failed = report.jobs_failed.saturating_add(1);
                continue;
            }
            let not_before = Timestamp(end.0.saturating_add(self.backoff(job.attempt)));
            let job = self.jobs.get_mut(&id.0).expect("due jobs exist");
            job.lease_expires_at = None;
            job.not_before = not_before;
            job.updated_at = now;
            if let Some(regions) = self.job_regions.get_mut(&id.0) {
                for (_, status) in regions.values_mut() {
                    if *status == JobStatus::Delivering {
                        *status = JobStatus::Initializing;
                    }
                }
            }
        }
        self.clock = now;
        report
    }

    // ------------------------------------------------------------ self-check

    /// SPEC section 6, invariant 8, on the model.
    pub(super) fn check_workers(&self) -> Result<(), String> {
        let fail = |what: &str| Err(format!("model: {what}"));
        let max_attempts = self.max_attempts();
        for job in self.jobs.values() {
            if job.lease_expires_at.is_some_and(|end| {
                !is_active(job.status) || job.attempt < 1 || end > self.deadline(job)
            }) {
                return fail("lease of a job");
            }
            if job.attempt > max_attempts {
                return fail("attempt above max_attempts");
            }
            if job.failure.is_some() != (job.status == JobStatus::Failed) {
                return fail("failure reason without Failed, or Failed without one");
            }
            if job.not_before < job.created_at {
                return fail("not_before before created_at");
            }
            let regions = self.job_regions.get(&job.id.0);
            if !is_active(job.status)
                && regions.is_some_and(|r| r.values().any(|(_, status)| is_active(*status)))
            {
                return fail("a finished job with an unfinished region");
            }
        }
        if self
            .job_regions
            .keys()
            .any(|id| !self.jobs.contains_key(id))
            || self.job_regions.values().any(|regions| {
                regions.is_empty()
                    || regions.iter().any(|(key, (region, _))| {
                        key != region.as_str() || !self.catalogue.contains_key(key)
                    })
            })
        {
            return fail("job regions");
        }
        if self.catalogue.len() > MAX_REGIONS
            || self
                .catalogue
                .iter()
                .any(|(key, region)| key != region.as_str())
        {
            return fail("catalogue");
        }
        Ok(())
    }
}
