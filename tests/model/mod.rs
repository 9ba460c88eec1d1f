//! A reference model of `trail-backfill`: SPEC.md written a second time with plain std
//! collections, for clarity, not speed.
//!
//! It shares no code with `src/` beyond the public value types, so a bug in the crate and the
//! same bug here would have to be written twice. The state-machine test
//! (`tests/state_machine/`) plays random operations into both and compares every answer and
//! the whole observable state after every step; the benchmarks reuse it as the std baseline:
//!
//! ```ignore
//! #[path = "../tests/model/mod.rs"]
//! mod model;
//! let mut m = model::Model::new(trail_backfill::Config::DEFAULT, 16, 64, 64);
//! ```
//!
//! Capacities are runtime numbers here (`trails`, `jobs`, `tokens`), where the crate uses const
//! generics; `Model` otherwise offers the scheduler's methods with the same names, arguments
//! and answers (queries hand back references or owned values; `list_jobs` answers
//! `(total_count, jobs of the page)`).
//!
//! Data layout (each line is one rule of SPEC.md, nothing more):
//! - trails: `BTreeMap<(account, region, name), Trail>`, so iteration is key order;
//! - jobs: `BTreeMap<job id, Job>`, so iteration is ascending id, and "newest first" is `.rev()`;
//! - active jobs: `BTreeMap<account, JobId>` (SPEC: at most one per account);
//! - finished job ids: `BTreeSet<u64>`, so "the finished job with the smallest id" is `first()`;
//! - token records: `BTreeMap<(account, region, token), (sequence, record)>` for lookup, and
//!   `BTreeMap<sequence, key>` for the first-in first-out order (smallest sequence = oldest);
//! - each job's reported regions: `BTreeMap<job id, BTreeMap<region id, status>>`, so a job's
//!   regions iterate in byte order (SPEC section 9);
//! - the region catalogue: `BTreeMap<region id, Region>`, byte order, never shrinks.
//!
//! The worker protocol of SPEC section 9 (leases, retries, deadlines, stop, regions) lives in
//! `workers.rs`; this file keeps sections 1 to 6.
//!
//! `Stats`, `Effect` and `TimeoutReport` are `#[non_exhaustive]` in the crate, so the model
//! answers with its own plain copies of them (same names, same fields), and `Stats::of`,
//! `Effect::of` and `TimeoutReport::of` turn the crate's values into the model's for comparison.
//!
//! Only `std` and `trail_backfill` are used: no test-only dependency.

#![allow(dead_code)]

pub mod rules;
pub mod workers;

pub use workers::TimeoutReport;

use std::collections::{BTreeMap, BTreeSet};

use trail_backfill::{
    AccountId, ClientToken, Command, Config, CreateJob, Error, FailureReason, Ineligibility, Job,
    JobCreated, JobId, JobOutcome, JobStatus, Lease, Parameter, Region, Table, Timestamp, Trail,
    TrailKind, TrailName, TrailSpec, Transition,
};

/// Key of a trail: (account, region, trail name).
type TrailKey = (u64, String, String);
/// Key of a token record: (account, region, client token).
type TokenKey = (u64, String, String);

/// One idempotency record of the token cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// The caller's account.
    pub account: AccountId,
    /// The region of the `create_job` call.
    pub region: Region,
    /// The client token.
    pub token: ClientToken,
    /// The job that the call created.
    pub job_id: JobId,
    /// The trail name of the call (a replay must name the same one).
    pub trail_name: TrailName,
    /// The (clamped) time of the call.
    pub recorded_at: Timestamp,
}

/// SPEC section 5's `Stats`, as a plain struct (the crate's is `#[non_exhaustive]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    pub trails: usize,
    pub jobs: usize,
    pub active_jobs: usize,
    pub tokens: usize,
    pub jobs_evicted: u64,
    pub tokens_evicted_live: u64,
    /// SPEC section 9.
    pub leased_jobs: usize,
}

impl Stats {
    /// The crate's `Stats`, field by field.
    pub fn of(stats: &trail_backfill::Stats) -> Self {
        Stats {
            trails: stats.trails,
            jobs: stats.jobs,
            active_jobs: stats.active_jobs,
            tokens: stats.tokens,
            jobs_evicted: stats.jobs_evicted,
            tokens_evicted_live: stats.tokens_evicted_live,
            leased_jobs: stats.leased_jobs,
        }
    }
}

/// SPEC section 5's `Effect`, as a plain enum: the same variants, with the model's
/// `TimeoutReport` (the crate's is `#[non_exhaustive]` and cannot be built here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    TrailCreated,
    TrailDeleted,
    LoggingStarted(Transition),
    LoggingStopped(Transition),
    JobCreated(JobCreated),
    JobStarted(Transition),
    JobCompleted(Transition),
    JobDeleted(Job),
    JobClaimed(Option<Lease>),
    LeaseExtended(Timestamp),
    RegionReported(Transition),
    JobFinished(Transition),
    JobStopped(Transition),
    TimeoutsHandled(TimeoutReport),
}

impl Effect {
    /// The crate's `Effect`, variant by variant. Panics on a variant the model does not know
    /// (a new one must be added here, and to the model).
    pub fn of(effect: &trail_backfill::Effect) -> Self {
        use trail_backfill::Effect as E;
        match effect {
            E::TrailCreated => Effect::TrailCreated,
            E::TrailDeleted => Effect::TrailDeleted,
            E::LoggingStarted(t) => Effect::LoggingStarted(*t),
            E::LoggingStopped(t) => Effect::LoggingStopped(*t),
            E::JobCreated(c) => Effect::JobCreated(*c),
            E::JobStarted(t) => Effect::JobStarted(*t),
            E::JobCompleted(t) => Effect::JobCompleted(*t),
            E::JobDeleted(job) => Effect::JobDeleted(job.clone()),
            E::JobClaimed(lease) => Effect::JobClaimed(*lease),
            E::LeaseExtended(t) => Effect::LeaseExtended(*t),
            E::RegionReported(t) => Effect::RegionReported(*t),
            E::JobFinished(t) => Effect::JobFinished(*t),
            E::JobStopped(t) => Effect::JobStopped(*t),
            E::TimeoutsHandled(report) => Effect::TimeoutsHandled(TimeoutReport::of(report)),
            other => panic!("an Effect the model does not know: {other:?}"),
        }
    }
}

/// The reference model of `JobScheduler`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    config: Config,
    trails_capacity: usize,
    jobs_capacity: usize,
    tokens_capacity: usize,

    clock: Timestamp,
    next_job_id: u64,
    jobs_evicted: u64,
    tokens_evicted_live: u64,

    trails: BTreeMap<TrailKey, Trail>,
    jobs: BTreeMap<u64, Job>,
    active: BTreeMap<u64, JobId>,
    finished: BTreeSet<u64>,
    tokens: BTreeMap<TokenKey, (u64, TokenRecord)>,
    token_order: BTreeMap<u64, TokenKey>,
    next_token_sequence: u64,

    /// SPEC section 9: each job's reported regions (region id -> (region, status)); a job
    /// without a report has no entry.
    job_regions: BTreeMap<u64, BTreeMap<String, (Region, JobStatus)>>,
    /// SPEC section 9: every region the scheduler has learned, for good.
    catalogue: BTreeMap<String, Region>,
}

fn trail_key(account: AccountId, region: &Region, name: &TrailName) -> TrailKey {
    (
        account.0,
        region.as_str().to_owned(),
        name.as_str().to_owned(),
    )
}

fn token_key(account: AccountId, region: &Region, token: &ClientToken) -> TokenKey {
    (
        account.0,
        region.as_str().to_owned(),
        token.as_str().to_owned(),
    )
}

fn is_active(status: JobStatus) -> bool {
    matches!(status, JobStatus::Initializing | JobStatus::Delivering)
}

impl Model {
    /// An empty model with these capacities (trail table, job table, token cache).
    pub fn new(config: Config, trails: usize, jobs: usize, tokens: usize) -> Self {
        assert!(
            trails > 0 && jobs > 0 && tokens > 0,
            "capacities must be positive"
        );
        Model {
            next_job_id: config.first_job_id,
            config,
            trails_capacity: trails,
            jobs_capacity: jobs,
            tokens_capacity: tokens,
            clock: Timestamp(0),
            jobs_evicted: 0,
            tokens_evicted_live: 0,
            trails: BTreeMap::new(),
            jobs: BTreeMap::new(),
            active: BTreeMap::new(),
            finished: BTreeSet::new(),
            tokens: BTreeMap::new(),
            token_order: BTreeMap::new(),
            next_token_sequence: 0,
            job_regions: BTreeMap::new(),
            catalogue: BTreeMap::new(),
        }
    }

    // ----------------------------------------------------------------- getters

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// (trails, jobs, tokens) capacities.
    pub fn capacities(&self) -> (usize, usize, usize) {
        (
            self.trails_capacity,
            self.jobs_capacity,
            self.tokens_capacity,
        )
    }

    /// The time of the latest call that changed state.
    pub fn clock(&self) -> Timestamp {
        self.clock
    }

    /// The id the next created job gets.
    pub fn next_job_id(&self) -> JobId {
        JobId(self.next_job_id)
    }

    /// Counters and sizes.
    pub fn stats(&self) -> Stats {
        Stats {
            trails: self.trails.len(),
            jobs: self.jobs.len(),
            active_jobs: self.active.len(),
            tokens: self.tokens.len(),
            jobs_evicted: self.jobs_evicted,
            tokens_evicted_live: self.tokens_evicted_live,
            leased_jobs: self
                .jobs
                .values()
                .filter(|job| job.lease_expires_at.is_some())
                .count(),
        }
    }

    /// Every trail, in key order (account, region, name).
    pub fn trails(&self) -> impl DoubleEndedIterator<Item = &Trail> + '_ {
        self.trails.values()
    }

    /// Every job, ascending id.
    pub fn jobs(&self) -> impl DoubleEndedIterator<Item = &Job> + '_ {
        self.jobs.values()
    }

    /// Every token record, oldest first (the cache's first-in first-out order).
    pub fn token_records(&self) -> impl Iterator<Item = &TokenRecord> + '_ {
        self.token_order.values().map(|key| &self.tokens[key].1)
    }

    /// The call's time: `max(now, clock())` (SPEC section 1).
    fn clamp(&self, now: Timestamp) -> Timestamp {
        Timestamp(now.0.max(self.clock.0))
    }

    fn is_live(&self, record: &TokenRecord, now: Timestamp) -> bool {
        now.0
            < record
                .recorded_at
                .0
                .saturating_add(self.config.token_ttl_secs)
    }

    // ----------------------------------------------------------------- trails

    /// SPEC section 2.
    pub fn create_trail(
        &mut self,
        account: AccountId,
        region: &Region,
        spec: &TrailSpec,
        now: Timestamp,
    ) -> Result<(), Error> {
        let now = self.clamp(now);
        let key = trail_key(account, region, &spec.name);
        if self.trails.contains_key(&key) {
            return Err(Error::TrailAlreadyExists);
        }
        let in_region = self
            .trails
            .keys()
            .filter(|k| k.0 == account.0 && k.1 == region.as_str())
            .count();
        if in_region as u64 >= self.config.max_trails_per_account as u64 {
            return Err(Error::TrailLimitExceeded);
        }
        if self.trails.len() >= self.trails_capacity {
            return Err(Error::CapacityExhausted(Table::Trails));
        }
        self.trails.insert(
            key,
            Trail {
                account,
                region: region.clone(),
                name: spec.name.clone(),
                kind: spec.kind,
                delivers_to_sls: spec.delivers_to_sls,
                logging_since: None,
            },
        );
        self.clock = now;
        Ok(())
    }

    /// SPEC section 2. Takes no time: the clock does not move.
    pub fn delete_trail(
        &mut self,
        account: AccountId,
        region: &Region,
        name: &TrailName,
    ) -> Result<(), Error> {
        match self.trails.remove(&trail_key(account, region, name)) {
            Some(_) => Ok(()),
            None => Err(Error::TrailNotFound),
        }
    }

    /// SPEC section 2.
    pub fn start_logging(
        &mut self,
        account: AccountId,
        region: &Region,
        name: &TrailName,
        now: Timestamp,
    ) -> Result<Transition, Error> {
        let now = self.clamp(now);
        let trail = self
            .trails
            .get_mut(&trail_key(account, region, name))
            .ok_or(Error::TrailNotFound)?;
        if trail.logging_since.is_some() {
            return Ok(Transition::Unchanged);
        }
        trail.logging_since = Some(now);
        self.clock = now;
        Ok(Transition::Changed)
    }

    /// SPEC section 2.
    pub fn stop_logging(
        &mut self,
        account: AccountId,
        region: &Region,
        name: &TrailName,
        now: Timestamp,
    ) -> Result<Transition, Error> {
        let now = self.clamp(now);
        let trail = self
            .trails
            .get_mut(&trail_key(account, region, name))
            .ok_or(Error::TrailNotFound)?;
        if trail.logging_since.is_none() {
            return Ok(Transition::Unchanged);
        }
        trail.logging_since = None;
        self.clock = now;
        Ok(Transition::Changed)
    }

    /// SPEC section 2.
    pub fn trail(&self, account: AccountId, region: &Region, name: &TrailName) -> Option<&Trail> {
        self.trails.get(&trail_key(account, region, name))
    }

    // ----------------------------------------------------------------- jobs

    /// SPEC section 3: the six checks, in order, then the commit.
    pub fn create_job(&mut self, request: &CreateJob, now: Timestamp) -> Result<JobCreated, Error> {
        let now = self.clamp(now);
        let account = request.account;

        // 1. Idempotency: a live record for (account, region, token).
        let live_record = request
            .client_token
            .as_ref()
            .and_then(|token| self.tokens.get(&token_key(account, &request.region, token)))
            .map(|(_, record)| record)
            .filter(|record| self.is_live(record, now));
        if let Some(record) = live_record {
            return if record.trail_name == request.trail_name {
                Ok(JobCreated {
                    job_id: record.job_id,
                    replayed: true,
                })
            } else {
                Err(Error::IdempotentParameterMismatch)
            };
        }

        // 2. The trail exists for this account and region.
        let trail = self
            .trails
            .get(&trail_key(account, &request.region, &request.trail_name))
            .ok_or(Error::TrailNotFound)?;

        // 3. Eligibility, in order.
        if trail.kind == TrailKind::Organization {
            return Err(Error::TrailNotEligible(Ineligibility::OrganizationTrail));
        }
        if !trail.delivers_to_sls {
            return Err(Error::TrailNotEligible(Ineligibility::NoSlsDelivery));
        }
        let logging_since = match trail.logging_since {
            Some(since) => since,
            None => return Err(Error::TrailNotEligible(Ineligibility::NotLogging)),
        };

        // 4. One active job per account.
        if let Some(&active) = self.active.get(&account.0) {
            return Err(Error::JobAlreadyRunning { active });
        }

        // 5. Room in the job table, and an id left.
        let table_full = self.jobs.len() >= self.jobs_capacity;
        if table_full && self.finished.is_empty() {
            return Err(Error::CapacityExhausted(Table::Jobs));
        }
        if self.next_job_id == u64::MAX {
            return Err(Error::CapacityExhausted(Table::Jobs));
        }

        // 6. Commit.
        if table_full {
            let smallest = *self.finished.first().expect("checked above");
            self.finished.remove(&smallest);
            self.jobs.remove(&smallest);
            self.job_regions.remove(&smallest);
            self.jobs_evicted = self.jobs_evicted.saturating_add(1);
        }
        let id = JobId(self.next_job_id);
        self.next_job_id += 1;
        let window_start = Timestamp(now.0.saturating_sub(self.config.retention_secs));
        let window_end = Timestamp(
            window_start
                .0
                .max(logging_since.0.saturating_add(self.config.grace_secs)),
        );
        self.jobs.insert(
            id.0,
            Job {
                id,
                account,
                region: request.region.clone(),
                trail_name: request.trail_name.clone(),
                status: JobStatus::Initializing,
                created_at: now,
                updated_at: now,
                window_start,
                window_end,
                // SPEC section 9: no lease yet, claimable at once, nothing delivered.
                attempt: 0,
                lease_expires_at: None,
                not_before: now,
                delivered: 0,
                failure: None,
            },
        );
        self.active.insert(account.0, id);

        if let Some(token) = &request.client_token {
            let key = token_key(account, &request.region, token);
            // (a) An expired record for the same key is removed (a live one answered in step 1).
            if let Some((sequence, _)) = self.tokens.remove(&key) {
                self.token_order.remove(&sequence);
            }
            // (b) A full cache drops its oldest record.
            if self.tokens.len() >= self.tokens_capacity {
                let (_, oldest_key) = self.token_order.pop_first().expect("cache is full");
                let (_, oldest) = self.tokens.remove(&oldest_key).expect("indexes agree");
                if self.is_live(&oldest, now) {
                    self.tokens_evicted_live = self.tokens_evicted_live.saturating_add(1);
                }
            }
            // (c) The new record joins at the back.
            let sequence = self.next_token_sequence;
            self.next_token_sequence += 1;
            self.token_order.insert(sequence, key.clone());
            self.tokens.insert(
                key,
                (
                    sequence,
                    TokenRecord {
                        account,
                        region: request.region.clone(),
                        token: token.clone(),
                        job_id: id,
                        trail_name: request.trail_name.clone(),
                        recorded_at: now,
                    },
                ),
            );
        }

        self.clock = now;
        Ok(JobCreated {
            job_id: id,
            replayed: false,
        })
    }

    fn own_job(&self, account: AccountId, job: JobId) -> Result<&Job, Error> {
        match self.jobs.get(&job.0) {
            Some(found) if found.account == account => Ok(found),
            _ => Err(Error::JobNotFound),
        }
    }

    /// SPEC section 3: `Initializing -> Delivering`.
    pub fn start_job(
        &mut self,
        account: AccountId,
        job: JobId,
        now: Timestamp,
    ) -> Result<Transition, Error> {
        let now = self.clamp(now);
        match self.own_job(account, job)?.status {
            JobStatus::Initializing => {}
            JobStatus::Delivering => return Ok(Transition::Unchanged),
            status => return Err(Error::InvalidJobStatus { status }),
        }
        let found = self.jobs.get_mut(&job.0).expect("found above");
        found.status = JobStatus::Delivering;
        found.updated_at = now;
        self.clock = now;
        Ok(Transition::Changed)
    }

    /// SPEC section 3: active -> `Completed` or `Failed`; frees the account's active slot.
    pub fn complete_job(
        &mut self,
        account: AccountId,
        job: JobId,
        outcome: JobOutcome,
        now: Timestamp,
    ) -> Result<Transition, Error> {
        let now = self.clamp(now);
        let target = match outcome {
            JobOutcome::Completed => JobStatus::Completed,
            JobOutcome::Failed => JobStatus::Failed,
        };
        let status = self.own_job(account, job)?.status;
        if !is_active(status) {
            return if status == target {
                Ok(Transition::Unchanged)
            } else {
                Err(Error::InvalidJobStatus { status })
            };
        }
        // SPEC section 9: a Failed outcome of complete_job is `Reported`; a leased job's
        // lease ends too (an operator override).
        let failure = (target == JobStatus::Failed).then_some(FailureReason::Reported);
        self.finish(job, target, failure, now);
        self.clock = now;
        Ok(Transition::Changed)
    }

    /// SPEC section 3: removes a finished job. Takes no time: the clock does not move.
    pub fn delete_job(&mut self, account: AccountId, job: JobId) -> Result<Job, Error> {
        if is_active(self.own_job(account, job)?.status) {
            return Err(Error::JobNotFinished);
        }
        self.finished.remove(&job.0);
        self.job_regions.remove(&job.0);
        Ok(self.jobs.remove(&job.0).expect("found above"))
    }

    /// SPEC section 3: GetDeliveryHistoryJob.
    pub fn job(&self, account: AccountId, job: JobId) -> Option<&Job> {
        self.own_job(account, job).ok()
    }

    /// SPEC section 3: the account's active job.
    pub fn active_job(&self, account: AccountId) -> Option<&Job> {
        self.active.get(&account.0).map(|id| &self.jobs[&id.0])
    }

    /// SPEC section 3: ListDeliveryHistoryJobs, as `(total_count, the page's jobs)`, newest first.
    pub fn list_jobs(
        &self,
        account: AccountId,
        page_number: u32,
        page_size: u32,
    ) -> Result<(u32, Vec<Job>), Error> {
        if page_number < 1 {
            return Err(Error::InvalidParameterValue(Parameter::PageNumber));
        }
        if !(1..=100).contains(&page_size) {
            return Err(Error::InvalidParameterValue(Parameter::PageSize));
        }
        let newest_first: Vec<&Job> = self
            .jobs
            .values()
            .rev()
            .filter(|job| job.account == account)
            .collect();
        let skip = u64::from(page_number - 1) * u64::from(page_size);
        let page = newest_first
            .iter()
            .skip(usize::try_from(skip).unwrap_or(usize::MAX))
            .take(page_size as usize)
            .map(|job| (*job).clone())
            .collect();
        Ok((newest_first.len() as u32, page))
    }

    // ----------------------------------------------------------------- apply

    /// SPEC section 5: `apply` does exactly what the matching method does.
    pub fn apply(&mut self, command: &Command, now: Timestamp) -> Result<Effect, Error> {
        match command {
            Command::CreateTrail {
                account,
                region,
                spec,
            } => self
                .create_trail(*account, region, spec, now)
                .map(|()| Effect::TrailCreated),
            Command::DeleteTrail {
                account,
                region,
                name,
            } => self
                .delete_trail(*account, region, name)
                .map(|()| Effect::TrailDeleted),
            Command::StartLogging {
                account,
                region,
                name,
            } => self
                .start_logging(*account, region, name, now)
                .map(Effect::LoggingStarted),
            Command::StopLogging {
                account,
                region,
                name,
            } => self
                .stop_logging(*account, region, name, now)
                .map(Effect::LoggingStopped),
            Command::CreateJob(request) => self.create_job(request, now).map(Effect::JobCreated),
            Command::StartJob { account, job } => {
                self.start_job(*account, *job, now).map(Effect::JobStarted)
            }
            Command::CompleteJob {
                account,
                job,
                outcome,
            } => self
                .complete_job(*account, *job, *outcome, now)
                .map(Effect::JobCompleted),
            Command::DeleteJob { account, job } => {
                self.delete_job(*account, *job).map(Effect::JobDeleted)
            }
            Command::ClaimNext => Ok(Effect::JobClaimed(self.claim_next(now))),
            Command::ClaimJob { account, job } => self
                .claim_job(*account, *job, now)
                .map(|lease| Effect::JobClaimed(Some(lease))),
            Command::Heartbeat { lease, delivered } => self
                .heartbeat(lease, *delivered, now)
                .map(Effect::LeaseExtended),
            Command::ReportRegion {
                lease,
                region,
                status,
            } => self
                .report_region(lease, region, *status, now)
                .map(Effect::RegionReported),
            Command::FinishJob { lease, outcome } => self
                .finish_job(lease, *outcome, now)
                .map(Effect::JobFinished),
            Command::StopJob { account, job } => {
                self.stop_job(*account, *job, now).map(Effect::JobStopped)
            }
            Command::HandleTimeout => Ok(Effect::TimeoutsHandled(self.handle_timeout(now))),
            other => panic!("a Command the model does not know: {other:?}"),
        }
    }

    // ----------------------------------------------------------------- self-check

    /// Checks the model's own indexes and SPEC section 6 on the model. A failure is a bug in
    /// the model (or in a test that drives it wrongly), never in the crate.
    pub fn check(&self) -> Result<(), String> {
        let fail = |what: &str| Err(format!("model: {what}"));
        let active: BTreeMap<u64, JobId> = self
            .jobs
            .values()
            .filter(|job| is_active(job.status))
            .map(|job| (job.account.0, job.id))
            .collect();
        if active != self.active
            || self
                .jobs
                .values()
                .filter(|job| is_active(job.status))
                .count()
                != active.len()
        {
            return fail("active index");
        }
        let finished: BTreeSet<u64> = self
            .jobs
            .values()
            .filter(|job| !is_active(job.status))
            .map(|job| job.id.0)
            .collect();
        if finished != self.finished {
            return fail("finished index");
        }
        if self.tokens.len() != self.token_order.len()
            || self
                .token_order
                .iter()
                .any(|(sequence, key)| self.tokens.get(key).map(|entry| entry.0) != Some(*sequence))
        {
            return fail("token order index");
        }
        if self.trails.len() > self.trails_capacity
            || self.jobs.len() > self.jobs_capacity
            || self.tokens.len() > self.tokens_capacity
        {
            return fail("capacity");
        }
        if self.next_job_id < self.config.first_job_id
            || self.jobs.keys().any(|id| *id >= self.next_job_id)
            || self.token_records().any(|r| r.job_id.0 >= self.next_job_id)
        {
            return fail("ids");
        }
        let records: Vec<&TokenRecord> = self.token_records().collect();
        if records
            .windows(2)
            .any(|pair| pair[0].recorded_at > pair[1].recorded_at)
            || records.iter().any(|r| r.recorded_at > self.clock)
        {
            return fail("token times");
        }
        let jobs: Vec<&Job> = self.jobs.values().collect();
        if jobs.iter().any(|job| {
            job.created_at > self.clock
                || job.updated_at > self.clock
                || job.created_at > job.updated_at
                || job.window_start > job.created_at
        }) || jobs
            .windows(2)
            .any(|pair| pair[0].created_at > pair[1].created_at)
        {
            return fail("job times");
        }
        if self
            .trails
            .values()
            .any(|t| t.logging_since.is_some_and(|since| since > self.clock))
        {
            return fail("trail times");
        }
        self.check_workers()
    }
}
