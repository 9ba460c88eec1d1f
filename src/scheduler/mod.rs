//! [`JobScheduler`]: the state machine. It sequences the checks of each request, asking the
//! tables yes-or-no questions without changing them, and only then tells each table what to
//! commit. That order is how "an error changes nothing" holds by construction.

use crate::config::Config;
use crate::error::{Error, Ineligibility, Parameter, Table};
use crate::hashing::KeyHasher;
use crate::ids::{AccountId, JobId, Region, TrailName};
use crate::invariants::{Index, Indexes, InvariantViolation};
use crate::job::{CreateJob, Job, JobCreated, JobOutcome, JobPage, JobStatus};
use crate::job_table::JobTable;
use crate::lease::FailureReason;
use crate::regions::{RegionCatalogue, RegionStatuses};
use crate::time::Timestamp;
use crate::token::{TokenCache, TokenLookup, TokenRecord};
use crate::trail::{Trail, TrailKind, TrailSpec, TrailTable};

mod value;

/// Whether a call that succeeded changed anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Transition {
    /// The state changed (and the clock moved to the call's time).
    Changed,
    /// The state already was as asked: nothing changed, not even the clock.
    Unchanged,
}

/// Sizes and counters of a scheduler, for monitoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct Stats {
    /// Trails stored.
    pub trails: usize,
    /// Jobs stored, active or finished.
    pub jobs: usize,
    /// Jobs initializing or delivering.
    pub active_jobs: usize,
    /// Token records held, live or expired.
    pub tokens: usize,
    /// Finished jobs evicted to make room for new ones (saturating).
    pub jobs_evicted: u64,
    /// Token records evicted while still live, to make room for new ones (saturating). A
    /// non-zero value means the token cache is too small for the request rate and TTL.
    pub tokens_evicted_live: u64,
    /// Active jobs that a worker holds a lease on.
    #[cfg_attr(feature = "serde", serde(default))]
    pub leased_jobs: usize,
}

/// The backfill-task state machine: trails, jobs and idempotency tokens in fixed-capacity
/// tables of `TRAILS`, `JOBS` and `TOKENS` entries.
///
/// `size_of::<JobScheduler<..>>()` is all the memory it ever uses; [`new`](Self::new) is
/// `const`, so a large scheduler can live in a `static`. Every method that stores or compares a
/// time takes `now`; the scheduler uses `max(now, clock())` (see [`clock`](Self::clock)).
///
/// Equality is logical: two schedulers are equal when they have the same config, clock, next
/// id, counters, trails, jobs and token records, whatever their internal slot layout.
///
/// # Examples
///
/// ```
/// use trail_backfill::*;
///
/// let mut scheduler: JobScheduler<8, 16, 16> = JobScheduler::new(Config::DEFAULT);
/// let (account, region) = (AccountId(1512666876910001), Region::new("cn-hangzhou")?);
/// let spec = TrailSpec {
///     name: TrailName::new("trail-name")?,
///     kind: TrailKind::SingleAccount,
///     delivers_to_sls: true,
/// };
/// let now = Timestamp(1_622_099_700);
/// scheduler.create_trail(account, &region, &spec, now)?;
/// scheduler.start_logging(account, &region, &spec.name, now)?;
/// let request = CreateJob {
///     account,
///     region: region.clone(),
///     trail_name: spec.name.clone(),
///     client_token: Some(ClientToken::new("123e4567-e89b-12d3-a456-42665544****")?),
/// };
/// let created = scheduler.create_job(&request, now)?;
/// assert_eq!(created, JobCreated { job_id: JobId(1), replayed: false });
/// // A retry with the same token gets the same job back.
/// assert_eq!(scheduler.create_job(&request, now)?.job_id, JobId(1));
/// assert_eq!(scheduler.active_job(account).map(|job| job.id), Some(JobId(1)));
/// # Ok::<(), Error>(())
/// ```
pub struct JobScheduler<const TRAILS: usize, const JOBS: usize, const TOKENS: usize> {
    pub(crate) config: Config,
    pub(crate) hasher: KeyHasher,
    pub(crate) clock: Timestamp,
    pub(crate) next_job_id: u64,
    pub(crate) jobs_evicted: u64,
    pub(crate) tokens_evicted_live: u64,
    pub(crate) trails: TrailTable<TRAILS>,
    pub(crate) jobs: JobTable<JOBS>,
    pub(crate) tokens: TokenCache<TOKENS>,
    /// Every region a worker reported, for good (the bits of the jobs' region statuses).
    pub(crate) regions: RegionCatalogue,
}

/// Ids run up to `u64::MAX - 1`: `u64::MAX` is never assigned, so "next id" always fits.
const JOB_ID_END: u64 = u64::MAX;

impl<const TRAILS: usize, const JOBS: usize, const TOKENS: usize>
    JobScheduler<TRAILS, JOBS, TOKENS>
{
    // ----- construction and getters -----

    /// An empty scheduler with `config`. A capacity of 0 (or above `u32::MAX - 1`) fails to
    /// compile.
    ///
    /// # Examples
    ///
    /// ```
    /// use trail_backfill::{Config, JobScheduler};
    ///
    /// // In a static: no stack involved, whatever the size. With `Config::ZERO` an empty
    /// // scheduler is all zero bytes, so the static lands in `.bss`; `reset` it with the
    /// // real config before the first request.
    /// static SCHEDULER: JobScheduler<16, 64, 64> = JobScheduler::new(Config::ZERO);
    /// assert_eq!(SCHEDULER.stats().jobs, 0);
    /// ```
    ///
    /// A capacity of 0 is refused at compile time:
    ///
    /// ```compile_fail
    /// use trail_backfill::{Config, JobScheduler};
    ///
    /// let scheduler: JobScheduler<0, 4, 4> = JobScheduler::new(Config::DEFAULT);
    /// ```
    #[must_use]
    pub const fn new(config: Config) -> Self {
        const {
            assert!(
                TRAILS > 0 && JOBS > 0 && TOKENS > 0,
                "every capacity must be at least 1"
            );
        }
        let hasher = KeyHasher::new(config.hash_seed);
        JobScheduler {
            config,
            hasher,
            clock: Timestamp::EPOCH,
            next_job_id: config.first_job_id,
            jobs_evicted: 0,
            tokens_evicted_live: 0,
            trails: TrailTable::new(),
            jobs: JobTable::new(hasher, config.max_job_secs),
            tokens: TokenCache::new(),
            regions: RegionCatalogue::new(),
        }
    }

    /// Empties the scheduler in place and gives it `config`: the same state as
    /// `new(config)`, without building a scheduler on the stack.
    pub fn reset(&mut self, config: Config) {
        self.config = config;
        self.hasher = KeyHasher::new(config.hash_seed);
        self.clock = Timestamp::EPOCH;
        self.next_job_id = config.first_job_id;
        self.jobs_evicted = 0;
        self.tokens_evicted_live = 0;
        self.trails.clear();
        self.jobs.clear(self.hasher, config.max_job_secs);
        self.tokens.clear();
        self.regions.clear();
    }

    /// Gives the scheduler `config` and rebuilds the hash indexes for its `hash_seed`,
    /// keeping every entry (a snapshot may list its config after its tables).
    #[cfg(feature = "serde")]
    pub(crate) fn rekey(&mut self, config: Config) {
        let hasher = KeyHasher::new(config.hash_seed);
        self.config = config;
        self.hasher = hasher;
        self.trails
            .rekey(|trail| hasher.trail_key(trail.account, &trail.region, &trail.name));
        // The job table indexes its jobs once they are all in (`JobTable::finish_restore`).
        self.tokens
            .rekey(|record| hasher.token_key(record.account, &record.region, &record.token));
    }

    /// The scheduler's config.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The time of the latest call that changed the state (`Timestamp(0)` at first).
    ///
    /// Time never goes back inside the scheduler: a call uses `max(now, clock())` as its
    /// time for everything it stores or compares, so a host whose clock steps back (a replica
    /// taking over, say) still gets consistent answers. Errors, replays and `Unchanged`
    /// answers leave the clock where it was.
    #[must_use]
    pub fn clock(&self) -> Timestamp {
        self.clock
    }

    /// The id the next created job will get.
    #[must_use]
    pub fn next_job_id(&self) -> JobId {
        JobId(self.next_job_id)
    }

    /// Sizes and counters.
    #[must_use]
    pub fn stats(&self) -> Stats {
        Stats {
            trails: self.trails.len(),
            jobs: self.jobs.len(),
            active_jobs: self.jobs.active_count(),
            tokens: self.tokens.len(),
            jobs_evicted: self.jobs_evicted,
            tokens_evicted_live: self.tokens_evicted_live,
            leased_jobs: self.jobs.leased_count(),
        }
    }

    /// The call's time: `now`, or the clock if `now` is earlier.
    pub(crate) fn time(&self, now: Timestamp) -> Timestamp {
        now.max(self.clock)
    }

    // ----- queries -----

    /// The trail `(account, region, name)`.
    #[must_use]
    pub fn trail(&self, account: AccountId, region: &Region, name: &TrailName) -> Option<&Trail> {
        let hash = self.hasher.trail_key(account, region, name);
        self.trails
            .get(self.trails.find(hash, account, region, name)?)
    }

    /// Every trail, ordered by account, region and name.
    pub fn trails(&self) -> impl Iterator<Item = &Trail> + '_ {
        self.trails.iter()
    }

    /// Job `job` if `account` owns it (`GetDeliveryHistoryJob`). Another account's job is
    /// `None`, exactly as a missing one.
    #[must_use]
    pub fn job(&self, account: AccountId, job: JobId) -> Option<&Job> {
        self.jobs.owned(account, job).map(|(_, found)| found)
    }

    /// Every job, by ascending id.
    pub fn jobs(&self) -> impl Iterator<Item = &Job> + '_ {
        self.jobs.iter()
    }

    /// The account's active (initializing or delivering) job.
    #[must_use]
    pub fn active_job(&self, account: AccountId) -> Option<&Job> {
        self.jobs.active_of(account)
    }

    /// One page of the account's jobs, newest (largest id) first
    /// (`ListDeliveryHistoryJobs`). A page past the end is empty. The cost is
    /// O(min(skip, total - skip) + page_size) over the account's own jobs (the walk to the
    /// page starts from the nearer end of the account's list), whatever the table holds for
    /// other accounts.
    ///
    /// # Errors
    ///
    /// - [`Error::InvalidParameterValue`]`(`[`Parameter::PageNumber`]`)` when `page_number`
    ///   is 0 (checked first);
    /// - [`Error::InvalidParameterValue`]`(`[`Parameter::PageSize`]`)` when `page_size` is
    ///   not in `1..=100`.
    ///
    /// # Examples
    ///
    /// ```
    /// use trail_backfill::*;
    ///
    /// let scheduler: JobScheduler<4, 4, 4> = JobScheduler::new(Config::DEFAULT);
    /// let page = scheduler.list_jobs(AccountId(7), 1, 20)?;
    /// assert_eq!((page.total_count, page.jobs().count()), (0, 0));
    /// assert_eq!(
    ///     scheduler.list_jobs(AccountId(7), 1, 101).err(),
    ///     Some(Error::InvalidParameterValue(Parameter::PageSize))
    /// );
    /// # Ok::<(), Error>(())
    /// ```
    pub fn list_jobs(
        &self,
        account: AccountId,
        page_number: u32,
        page_size: u32,
    ) -> Result<JobPage<'_, JOBS>, Error> {
        if page_number < 1 {
            return Err(Error::InvalidParameterValue(Parameter::PageNumber));
        }
        if !(1..=100).contains(&page_size) {
            return Err(Error::InvalidParameterValue(Parameter::PageSize));
        }
        let total_count = self.jobs.count_of(account);
        let skip = u64::from(page_number.saturating_sub(1)).saturating_mul(u64::from(page_size));
        // The page's first job is the `skip`-th newest, which is the `total - 1 - skip`-th
        // oldest: walk from whichever end is nearer.
        let from_oldest = u64::from(total_count)
            .saturating_sub(1)
            .saturating_sub(skip);
        let first = if skip >= u64::from(total_count) {
            None
        } else if skip <= from_oldest {
            let mut slot = self.jobs.newest_of(account);
            for _ in 0..skip {
                slot = slot.and_then(|slot| self.jobs.older_of_account(slot));
            }
            slot
        } else {
            let mut slot = self.jobs.oldest_of(account);
            for _ in 0..from_oldest {
                slot = slot.and_then(|slot| self.jobs.newer_of_account(slot));
            }
            slot
        };
        let left = u64::from(total_count).saturating_sub(skip);
        let len = left.min(u64::from(page_size));
        Ok(JobPage {
            total_count,
            page_number,
            page_size,
            table: &self.jobs,
            first,
            len: usize::try_from(len).unwrap_or(0),
        })
    }

    // ----- trails -----

    /// Adds a trail for `account` in `region`, not logging (`CreateTrail`).
    ///
    /// # Errors
    ///
    /// In this order:
    /// - [`Error::TrailAlreadyExists`]: the account has a trail of that name in the region;
    /// - [`Error::TrailLimitExceeded`]: the account already has
    ///   [`Config::max_trails_per_account`] trails in the region;
    /// - [`Error::CapacityExhausted`]`(`[`Table::Trails`]`)`: the trail table is full.
    pub fn create_trail(
        &mut self,
        account: AccountId,
        region: &Region,
        spec: &TrailSpec,
        now: Timestamp,
    ) -> Result<(), Error> {
        let now = self.time(now);
        let hash = self.hasher.trail_key(account, region, &spec.name);
        if self
            .trails
            .find(hash, account, region, &spec.name)
            .is_some()
        {
            return Err(Error::TrailAlreadyExists);
        }
        let limit = usize::try_from(self.config.max_trails_per_account).unwrap_or(usize::MAX);
        if self.trails.count_in_region(account, region) >= limit {
            return Err(Error::TrailLimitExceeded);
        }
        if self.trails.is_full() {
            return Err(Error::CapacityExhausted(Table::Trails));
        }
        let trail = Trail {
            account,
            region: region.clone(),
            name: spec.name.clone(),
            kind: spec.kind,
            delivers_to_sls: spec.delivers_to_sls,
            logging_since: None,
        };
        self.trails
            .insert(hash, trail)
            .map_err(|_| Error::CapacityExhausted(Table::Trails))?;
        self.clock = now;
        Ok(())
    }

    /// Removes a trail (`DeleteTrail`). Jobs already created from it are untouched, and so
    /// are token records that name it. The call takes no time, so the clock does not move.
    ///
    /// # Errors
    ///
    /// [`Error::TrailNotFound`]: no such trail for this account and region.
    pub fn delete_trail(
        &mut self,
        account: AccountId,
        region: &Region,
        name: &TrailName,
    ) -> Result<(), Error> {
        let hash = self.hasher.trail_key(account, region, name);
        let slot = self
            .trails
            .find(hash, account, region, name)
            .ok_or(Error::TrailNotFound)?;
        self.trails.remove(hash, slot);
        Ok(())
    }

    /// Starts logging (`StartLogging`): `logging_since = Some(now)`. Already logging:
    /// `Ok(Transition::Unchanged)`, and `logging_since` keeps its first value.
    ///
    /// # Errors
    ///
    /// [`Error::TrailNotFound`]: no such trail for this account and region.
    pub fn start_logging(
        &mut self,
        account: AccountId,
        region: &Region,
        name: &TrailName,
        now: Timestamp,
    ) -> Result<Transition, Error> {
        self.set_logging(account, region, name, true, now)
    }

    /// Stops logging (`StopLogging`): `logging_since = None`. Already stopped:
    /// `Ok(Transition::Unchanged)`.
    ///
    /// # Errors
    ///
    /// [`Error::TrailNotFound`]: no such trail for this account and region.
    pub fn stop_logging(
        &mut self,
        account: AccountId,
        region: &Region,
        name: &TrailName,
        now: Timestamp,
    ) -> Result<Transition, Error> {
        self.set_logging(account, region, name, false, now)
    }

    /// Starts or stops logging unless the trail already is in that state; a change happens
    /// at the call's time, which the clock moves to.
    fn set_logging(
        &mut self,
        account: AccountId,
        region: &Region,
        name: &TrailName,
        logging: bool,
        now: Timestamp,
    ) -> Result<Transition, Error> {
        let now = self.time(now);
        let hash = self.hasher.trail_key(account, region, name);
        let slot = self
            .trails
            .find(hash, account, region, name)
            .ok_or(Error::TrailNotFound)?;
        let trail = self.trails.get_mut(slot).ok_or(Error::TrailNotFound)?;
        if trail.logging_since.is_some() == logging {
            return Ok(Transition::Unchanged);
        }
        trail.logging_since = logging.then_some(now);
        self.clock = now;
        Ok(Transition::Changed)
    }

    // ----- jobs -----

    /// Creates a data backfill task for a trail (`CreateDeliveryHistoryJob`).
    ///
    /// The job starts `Initializing` with `created_at = updated_at = now` and the event
    /// window `window_start = now - retention_secs` (saturating), `window_end =
    /// max(window_start, logging_since + grace_secs)`. With a client token, the request is
    /// remembered for `token_ttl_secs`: a retry with the same token and trail name gets the
    /// same [`JobId`] back with `replayed: true` and changes nothing, even after the job
    /// finished or was deleted or evicted, or the trail is gone.
    ///
    /// When the job table is full, the finished job with the smallest id is evicted to make
    /// room ([`Stats::jobs_evicted`]). When the token cache is full, first an expired record
    /// for the same key, then the oldest record, leave ([`Stats::tokens_evicted_live`] counts
    /// the live ones).
    ///
    /// # Errors
    ///
    /// Checked in this order; the first that fails decides, and nothing changes:
    /// 1. [`Error::IdempotentParameterMismatch`]: a live record of the token names another
    ///    trail;
    /// 2. [`Error::TrailNotFound`]: no such trail for this account and region;
    /// 3. [`Error::TrailNotEligible`] with [`Ineligibility::OrganizationTrail`],
    ///    [`Ineligibility::NoSlsDelivery`] or [`Ineligibility::NotLogging`], in that order;
    /// 4. [`Error::JobAlreadyRunning`]: the account has an active job (in any region);
    /// 5. [`Error::CapacityExhausted`]`(`[`Table::Jobs`]`)`: the job table is full of active
    ///    jobs, or job ids are exhausted (the next would be `u64::MAX`).
    pub fn create_job(&mut self, request: &CreateJob, now: Timestamp) -> Result<JobCreated, Error> {
        let now = self.time(now);
        let CreateJob {
            account,
            ref region,
            ref trail_name,
            ref client_token,
        } = *request;

        // 1. Idempotency.
        let token = client_token.as_ref().map(|token| {
            let hash = self.hasher.token_key(account, region, token);
            (token, hash)
        });
        let mut expired = None;
        if let Some((token, hash)) = token {
            let ttl = self.config.token_ttl_secs;
            match self.tokens.lookup(hash, account, region, token, now, ttl) {
                TokenLookup::Live(record) if record.trail_name != *trail_name => {
                    return Err(Error::IdempotentParameterMismatch);
                }
                TokenLookup::Live(record) => {
                    return Ok(JobCreated {
                        job_id: record.job_id,
                        replayed: true,
                    });
                }
                TokenLookup::Expired(slot) => expired = Some(slot),
                TokenLookup::Absent => {}
            }
        }
        // 2. The trail.
        let trail_hash = self.hasher.trail_key(account, region, trail_name);
        let trail = self
            .trails
            .find(trail_hash, account, region, trail_name)
            .and_then(|slot| self.trails.get(slot))
            .ok_or(Error::TrailNotFound)?;
        // 3. Eligibility.
        let logging_since = eligible_since(trail)?;
        // 4. One active job per account.
        if let Some(active) = self.jobs.active_of(account) {
            return Err(Error::JobAlreadyRunning { active: active.id });
        }
        // 5. Room and an id.
        let id = self.next_job_id;
        if id == JOB_ID_END {
            return Err(Error::CapacityExhausted(Table::Jobs));
        }
        let evict = if self.jobs.is_full() {
            Some(
                self.jobs
                    .oldest_finished()
                    .ok_or(Error::CapacityExhausted(Table::Jobs))?,
            )
        } else {
            None
        };

        // 6. Commit: every check passed.
        let window_start = now.saturating_sub_secs(self.config.retention_secs);
        let window_end =
            window_start.max(logging_since.saturating_add_secs(self.config.grace_secs));
        let job = Job {
            id: JobId(id),
            account,
            region: region.clone(),
            trail_name: trail_name.clone(),
            status: JobStatus::Initializing,
            created_at: now,
            updated_at: now,
            window_start,
            window_end,
            attempt: 0,
            lease_expires_at: None,
            not_before: now,
            delivered: 0,
            failure: None,
        };
        if let Some(slot) = evict {
            self.jobs.evict(slot);
            self.jobs_evicted = self.jobs_evicted.saturating_add(1);
        }
        // Cannot fail: the checks above made room and found no active job for the account, and
        // the id is above every stored one. The error path stays rather than a panic.
        self.jobs
            .insert(job, RegionStatuses::NONE)
            .map_err(|_| Error::CapacityExhausted(Table::Jobs))?;
        self.next_job_id = id.saturating_add(1);
        if let Some((token, hash)) = token {
            let record = TokenRecord {
                account,
                region: region.clone(),
                token: token.clone(),
                job_id: JobId(id),
                trail_name: trail_name.clone(),
                recorded_at: now,
            };
            let ttl = self.config.token_ttl_secs;
            let recorded = self.tokens.record(hash, record, ttl, expired);
            if recorded.evicted_live {
                self.tokens_evicted_live = self.tokens_evicted_live.saturating_add(1);
            }
        }
        self.clock = now;
        Ok(JobCreated {
            job_id: JobId(id),
            replayed: false,
        })
    }

    /// The host starts delivering a job itself (the direct path): `Initializing ->
    /// Delivering`, `updated_at = now`. Already delivering: `Ok(Transition::Unchanged)`. It
    /// never grants a lease: remote workers use [`claim_next`](Self::claim_next) or
    /// [`claim_job`](Self::claim_job).
    ///
    /// # Errors
    ///
    /// - [`Error::JobNotFound`]: no such job for this account;
    /// - [`Error::InvalidJobStatus`] with the job's status: the job has finished.
    pub fn start_job(
        &mut self,
        account: AccountId,
        job: JobId,
        now: Timestamp,
    ) -> Result<Transition, Error> {
        let now = self.time(now);
        let (slot, found) = self.jobs.owned(account, job).ok_or(Error::JobNotFound)?;
        let status = found.status;
        match status {
            JobStatus::Initializing => {
                self.jobs.update(slot, |job, _| {
                    job.status = JobStatus::Delivering;
                    job.updated_at = now;
                });
                self.clock = now;
                Ok(Transition::Changed)
            }
            JobStatus::Delivering => Ok(Transition::Unchanged),
            JobStatus::Completed | JobStatus::Failed => Err(Error::InvalidJobStatus { status }),
        }
    }

    /// The host reports the end of a job (the direct path, or an operator overriding a
    /// worker): active -> `Completed` or `Failed` (with [`FailureReason::Reported`]),
    /// `updated_at = now`, its regions still initializing or delivering take that status, a
    /// lease on it ends, and the account may create its next job. Already finished with the
    /// same outcome: `Ok(Transition::Unchanged)`, so at-least-once delivery of completions is
    /// safe.
    ///
    /// # Errors
    ///
    /// - [`Error::JobNotFound`]: no such job for this account;
    /// - [`Error::InvalidJobStatus`] with the job's status: it finished with the other outcome.
    pub fn complete_job(
        &mut self,
        account: AccountId,
        job: JobId,
        outcome: JobOutcome,
        now: Timestamp,
    ) -> Result<Transition, Error> {
        let now = self.time(now);
        let (slot, found) = self.jobs.owned(account, job).ok_or(Error::JobNotFound)?;
        let status = found.status;
        if status == outcome.status() {
            return Ok(Transition::Unchanged);
        }
        if !status.is_active() {
            return Err(Error::InvalidJobStatus { status });
        }
        self.end_job(slot, outcome.status(), FailureReason::Reported, now);
        Ok(Transition::Changed)
    }

    /// Removes a finished job and returns it. Token records that name it stay, so a retry
    /// of its creation still replays its id. The call takes no time, so the clock does not
    /// move.
    ///
    /// # Errors
    ///
    /// - [`Error::JobNotFound`]: no such job for this account;
    /// - [`Error::JobNotFinished`]: the job is active.
    pub fn delete_job(&mut self, account: AccountId, job: JobId) -> Result<Job, Error> {
        let (slot, found) = self.jobs.owned(account, job).ok_or(Error::JobNotFound)?;
        if found.is_active() {
            return Err(Error::JobNotFinished);
        }
        self.jobs.remove(slot).ok_or(Error::JobNotFound)
    }

    // ----- invariants -----

    /// Checks every invariant of the scheduler in O(size), the eight that
    /// [`InvariantViolation`] lists: at most one active job per account; ids unique and below
    /// the next id; trail limits and unique keys; token records unique, ordered and naming
    /// past ids; the internal indexes agree with the tables; sizes within capacity; no stored
    /// time after [`clock`](Self::clock), windows and creation times in order; leases,
    /// attempts, failure reasons and regions consistent with each job's status.
    ///
    /// # Errors
    ///
    /// The first [`InvariantViolation`] found.
    pub fn check_invariants(&self) -> Result<(), InvariantViolation> {
        self.check_invariants_with(Indexes::Verified)
    }

    /// [`check_invariants`](Self::check_invariants), with the indexes and stored hashes
    /// verified, or trusted just after a restore built them from the tables it read (see
    /// [`Indexes`]).
    pub(crate) fn check_invariants_with(&self, indexes: Indexes) -> Result<(), InvariantViolation> {
        if self.next_job_id < self.config.first_job_id {
            return Err(InvariantViolation::NextJobIdBelowFirst);
        }
        if self.trails.len() > TRAILS || self.jobs.len() > JOBS || self.tokens.len() > TOKENS {
            return Err(InvariantViolation::OverCapacity);
        }
        let hasher = self.hasher;
        self.trails
            .check(self.config.max_trails_per_account, |trail| {
                hasher.trail_key(trail.account, &trail.region, &trail.name)
            })?;
        if self
            .trails()
            .any(|trail| trail.logging_since.is_some_and(|since| since > self.clock))
        {
            return Err(InvariantViolation::TimeAfterClock);
        }
        if self.jobs.hasher() != hasher || hasher != KeyHasher::new(self.config.hash_seed) {
            return Err(InvariantViolation::IndexMismatch(Index::Accounts));
        }
        if self.regions.len() > crate::regions::MAX_REGIONS {
            return Err(InvariantViolation::TooManyRegions);
        }
        if !self.regions.is_consistent() {
            return Err(InvariantViolation::IndexMismatch(Index::Regions));
        }
        self.jobs.check_with(
            self.next_job_id,
            self.clock,
            self.config.grace_secs,
            self.config.effective_max_attempts(),
            self.regions.len(),
            indexes,
        )?;
        let token_hash =
            |record: &TokenRecord| hasher.token_key(record.account, &record.region, &record.token);
        let verify: Option<&dyn Fn(&TokenRecord) -> u64> =
            (indexes == Indexes::Verified).then_some(&token_hash);
        self.tokens.check(self.next_job_id, self.clock, verify)
    }
}

/// When the trail started logging, if it can feed a backfill task (the eligibility check of
/// `create_job`, its reasons in order).
fn eligible_since(trail: &Trail) -> Result<Timestamp, Error> {
    if trail.kind == TrailKind::Organization {
        return Err(Error::TrailNotEligible(Ineligibility::OrganizationTrail));
    }
    if !trail.delivers_to_sls {
        return Err(Error::TrailNotEligible(Ineligibility::NoSlsDelivery));
    }
    trail
        .logging_since
        .ok_or(Error::TrailNotEligible(Ineligibility::NotLogging))
}

#[cfg(test)]
mod tests;
