//! The benchmark workload, shared by the crate and the std reference: many accounts, one
//! trail each, and the full cycle of a backfill task (`create_job` with a client token, then
//! `start_job`, then `complete_job`), at a chosen fill of the job table and token cache. The
//! crate alone also runs the worker cycle (`create_job`, `claim_next`, `heartbeat`,
//! `finish_job`).

use trail_backfill::{
    AccountId, ClientToken, Config, CreateJob, Error, Job, JobCreated, JobId, JobOutcome,
    JobScheduler, Region, Timestamp, TrailKind, TrailName, TrailSpec, Transition,
};

#[path = "../../tests/model/mod.rs"]
pub mod model;
pub mod realistic;
pub mod std_worker;

/// The operations the benchmarks drive, implemented by the crate and by the std reference.
pub trait Backend {
    fn create_trail(
        &mut self,
        a: AccountId,
        r: &Region,
        s: &TrailSpec,
        now: Timestamp,
    ) -> Result<(), Error>;
    fn start_logging(
        &mut self,
        a: AccountId,
        r: &Region,
        n: &TrailName,
        now: Timestamp,
    ) -> Result<Transition, Error>;
    fn create_job(&mut self, request: &CreateJob, now: Timestamp) -> Result<JobCreated, Error>;
    fn start_job(&mut self, a: AccountId, job: JobId, now: Timestamp) -> Result<Transition, Error>;
    fn complete_job(
        &mut self,
        a: AccountId,
        job: JobId,
        o: JobOutcome,
        now: Timestamp,
    ) -> Result<Transition, Error>;
    fn delete_job(&mut self, a: AccountId, job: JobId) -> Result<Job, Error>;
}

macro_rules! forward_backend {
    () => {
        fn create_trail(
            &mut self,
            a: AccountId,
            r: &Region,
            s: &TrailSpec,
            now: Timestamp,
        ) -> Result<(), Error> {
            Self::create_trail(self, a, r, s, now)
        }
        fn start_logging(
            &mut self,
            a: AccountId,
            r: &Region,
            n: &TrailName,
            now: Timestamp,
        ) -> Result<Transition, Error> {
            Self::start_logging(self, a, r, n, now)
        }
        fn create_job(&mut self, request: &CreateJob, now: Timestamp) -> Result<JobCreated, Error> {
            Self::create_job(self, request, now)
        }
        fn start_job(
            &mut self,
            a: AccountId,
            job: JobId,
            now: Timestamp,
        ) -> Result<Transition, Error> {
            Self::start_job(self, a, job, now)
        }
        fn complete_job(
            &mut self,
            a: AccountId,
            job: JobId,
            o: JobOutcome,
            now: Timestamp,
        ) -> Result<Transition, Error> {
            Self::complete_job(self, a, job, o, now)
        }
        fn delete_job(&mut self, a: AccountId, job: JobId) -> Result<Job, Error> {
            Self::delete_job(self, a, job)
        }
    };
}

impl<const T: usize, const J: usize, const K: usize> Backend for JobScheduler<T, J, K> {
    forward_backend!();
}

impl Backend for model::Model {
    forward_backend!();
}

/// How full the job table and token cache are kept while the cycle runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fill {
    /// Between 50% and 56%: the oldest jobs are deleted between timed batches, and tokens
    /// expire (TTL 1 s) so that each reused token replaces its own expired record.
    Half,
    /// 100%: every creation evicts the oldest finished job and the oldest token record.
    Full,
}

impl Fill {
    pub fn name(self) -> &'static str {
        match self {
            Fill::Half => "half",
            Fill::Full => "full",
        }
    }
}

pub const ACCOUNTS: usize = 256;

/// The requests of one run and where the cycle stands.
pub struct Workload {
    pub fill: Fill,
    pub capacity: usize,
    pub region: Region,
    pub trail: TrailName,
    /// One request per token of the pool; request `i` is for account `i % ACCOUNTS`.
    pub requests: Vec<CreateJob>,
    next_request: usize,
    /// The oldest job not yet deleted (for `Fill::Half`).
    oldest_job: u64,
    pub now: u64,
    pub config: Config,
}

pub fn account(index: usize) -> AccountId {
    AccountId(1_512_666_876_910_001 + index as u64)
}

pub fn token(prefix: &str, index: usize) -> ClientToken {
    ClientToken::new(&format!("{prefix}-{index:08}-e89b-12d3-a456-42665544")).unwrap()
}

impl Workload {
    /// A workload for a table of `capacity` jobs and tokens, with tokens from `tokens`.
    pub fn new(fill: Fill, capacity: usize, tokens: impl Fn(usize) -> ClientToken) -> Self {
        // Full: a pool of twice the capacity, so a token comes back only after its record
        // was evicted. Half: half the capacity, with records expired when they come back.
        let pool = match fill {
            Fill::Half => capacity / 2,
            Fill::Full => capacity * 2,
        };
        assert!(
            pool % ACCOUNTS == 0,
            "each account gets the same share of requests"
        );
        let region = Region::new("cn-hangzhou").unwrap();
        let trail = TrailName::new("trail-name").unwrap();
        let requests = (0..pool)
            .map(|i| CreateJob {
                account: account(i % ACCOUNTS),
                region: region.clone(),
                trail_name: trail.clone(),
                client_token: Some(tokens(i)),
            })
            .collect();
        let config = Config {
            token_ttl_secs: if fill == Fill::Half { 1 } else { 86_400 },
            hash_seed: 0x6265_6e63_6873_6565,
            ..Config::DEFAULT
        };
        Workload {
            fill,
            capacity,
            region,
            trail,
            requests,
            next_request: 0,
            oldest_job: config.first_job_id,
            now: 1_622_099_703,
            config,
        }
    }

    /// Creates the trails and runs the cycle until the tables reach the fill.
    pub fn prepare(&mut self, backend: &mut impl Backend) {
        let spec = TrailSpec {
            name: self.trail.clone(),
            kind: TrailKind::SingleAccount,
            delivers_to_sls: true,
        };
        for index in 0..ACCOUNTS {
            backend
                .create_trail(account(index), &self.region, &spec, Timestamp(self.now))
                .unwrap();
            backend
                .start_logging(
                    account(index),
                    &self.region,
                    &self.trail,
                    Timestamp(self.now),
                )
                .unwrap();
        }
        let cycles = match self.fill {
            Fill::Half => self.capacity / 2,
            Fill::Full => self.capacity,
        };
        for _ in 0..cycles {
            self.cycle(backend);
        }
    }

    /// The next request of the pool, and the next second.
    #[inline]
    fn next(&mut self) -> (&CreateJob, Timestamp) {
        let request = &self.requests[self.next_request];
        self.next_request += 1;
        if self.next_request == self.requests.len() {
            self.next_request = 0;
        }
        self.now += 1;
        (request, Timestamp(self.now))
    }

    /// One full cycle: create (with a token), start, complete.
    #[inline]
    pub fn cycle(&mut self, backend: &mut impl Backend) -> JobId {
        let (request, now) = self.next();
        let created = backend.create_job(request, now).unwrap();
        debug_assert!(!created.replayed);
        backend
            .start_job(request.account, created.job_id, now)
            .unwrap();
        backend
            .complete_job(request.account, created.job_id, JobOutcome::Completed, now)
            .unwrap();
        created.job_id
    }

    /// One worker cycle, as a remote worker drives it: create (with a token), `claim_next`
    /// (the new job: every other job has finished), one heartbeat, `finish_job`.
    #[inline]
    pub fn worker_cycle<const T: usize, const J: usize, const K: usize>(
        &mut self,
        scheduler: &mut JobScheduler<T, J, K>,
    ) -> JobId {
        let (request, now) = self.next();
        let created = scheduler.create_job(request, now).unwrap();
        debug_assert!(!created.replayed);
        let lease = scheduler.claim_next(now).unwrap();
        debug_assert_eq!(lease.job, created.job_id);
        scheduler.heartbeat(&lease, 1_000, now).unwrap();
        scheduler
            .finish_job(&lease, JobOutcome::Completed, now)
            .unwrap();
        created.job_id
    }

    /// Untimed work between timed batches: for `Fill::Half`, delete the oldest jobs so that
    /// the table is back at half full.
    pub fn restore_fill(&mut self, backend: &mut impl Backend, jobs: usize) {
        if self.fill == Fill::Half {
            for _ in 0..jobs {
                let index = (self.oldest_job - self.config.first_job_id) as usize;
                backend
                    .delete_job(account(index % ACCOUNTS), JobId(self.oldest_job))
                    .unwrap();
                self.oldest_job += 1;
            }
        }
    }

    /// How many cycles run in one timed batch: few enough that a half-full table stays near
    /// half full.
    pub fn batch(&self) -> u64 {
        (self.capacity / 16) as u64
    }
}
