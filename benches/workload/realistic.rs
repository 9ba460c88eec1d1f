//! A workload closer to production (issue 11): 4,096 accounts with one trail each, the trails
//! spread over a few regions, 36-character UUID client tokens, and every `create_job` request
//! built from `&str` inside the timed loop, as a host does (`Region::new`, `TrailName::new`,
//! `ClientToken::new` per request). The crate and the std reference get the same strings.
//!
//! Two cycles, each driven the same way on both backends:
//! - the *direct* cycle: `create_job` (with a fresh token), `start_job`, `complete_job`;
//! - the *worker* cycle: `create_job` (with a fresh token), `claim_next` (the new job: every
//!   other job has finished), one `heartbeat`, `finish_job`.
//!
//! The job table and token cache are kept at a [`Fill`], as in the 256-account workload.
//!
//! The std reference of the direct cycle is the model as it is; that of the worker cycle is
//! the model with the claim queue a std host would keep ([`super::std_worker`]), since the
//! model's own `claim_next` scans every job.

use std::hint::black_box;
use std::time::{Duration, Instant};

use trail_backfill::{
    AccountId, ClientToken, Config, CreateJob, Error, JobId, JobOutcome, JobScheduler, Lease,
    Region, Timestamp, TrailKind, TrailName, TrailSpec, Transition,
};

use super::{Backend, Fill, model::Model};

/// Accounts, one trail each.
pub const ACCOUNTS: usize = 4096;

/// The regions the trails live in: account `i`'s trail is in `REGIONS[i % REGIONS.len()]`.
pub const REGIONS: [&str; 5] = [
    "cn-hangzhou",
    "cn-shanghai",
    "cn-beijing",
    "ap-southeast-1",
    "us-west-1",
];

/// The length of a UUID client token.
pub const TOKEN_LEN: usize = 36;

/// The worker protocol, on the crate and on the std reference.
pub trait Worker: Backend {
    fn claim_next(&mut self, now: Timestamp) -> Option<Lease>;
    fn heartbeat(
        &mut self,
        lease: &Lease,
        delivered: u64,
        now: Timestamp,
    ) -> Result<Timestamp, Error>;
    fn finish_job(
        &mut self,
        lease: &Lease,
        outcome: JobOutcome,
        now: Timestamp,
    ) -> Result<Transition, Error>;
}

macro_rules! forward_worker {
    () => {
        fn claim_next(&mut self, now: Timestamp) -> Option<Lease> {
            Self::claim_next(self, now)
        }
        fn heartbeat(
            &mut self,
            lease: &Lease,
            delivered: u64,
            now: Timestamp,
        ) -> Result<Timestamp, Error> {
            Self::heartbeat(self, lease, delivered, now)
        }
        fn finish_job(
            &mut self,
            lease: &Lease,
            outcome: JobOutcome,
            now: Timestamp,
        ) -> Result<Transition, Error> {
            Self::finish_job(self, lease, outcome, now)
        }
    };
}

impl<const T: usize, const J: usize, const K: usize> Worker for JobScheduler<T, J, K> {
    forward_worker!();
}

impl Worker for Model {
    forward_worker!();
}

/// Which cycle a benchmark runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cycle {
    /// `create_job`, `start_job`, `complete_job`.
    Direct,
    /// `create_job`, `claim_next`, `heartbeat`, `finish_job`.
    Worker,
}

impl Cycle {
    pub fn name(self) -> &'static str {
        match self {
            Cycle::Direct => "direct",
            Cycle::Worker => "worker",
        }
    }
}

/// Account `index` (4,096 of them, from the same base as the 256-account workload).
pub fn account(index: usize) -> AccountId {
    AccountId(1_512_666_876_910_001 + index as u64)
}

/// SplitMix64's finaliser: a bijection of `u64`, so distinct counters give distinct tokens.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Client token `counter`: a version-4 UUID, `xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx` in
/// lowercase hex, its 64 mixed bits of `counter` first (so tokens are distinct).
pub fn uuid(counter: u64) -> String {
    let a = mix(counter);
    let b = mix(counter ^ 0x5555_5555_5555_5555);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        (a >> 4) & 0xfff,
        ((a & 0xf) << 8) | (b >> 56),
        b & 0xffff_ffff_ffff,
    )
}

/// The trail name of account `index` (11 to 20 characters, all different).
pub fn trail_name(index: usize) -> String {
    match index % 3 {
        0 => format!("audit-trail-{index}"),
        1 => format!("actiontrail-sls-{index:04}"),
        _ => format!("ops-trail-{index:x}"),
    }
}

/// The strings of one run and where the cycle stands.
pub struct Realistic {
    pub fill: Fill,
    pub capacity: usize,
    /// Account `i`'s trail name.
    ///
    /// All in one `String` (with the end of each), like the tokens: 4,096 separate `String`s
    /// would land wherever the allocator had room, so the cycle's cost would depend on what
    /// ran before in the process (a std reference leaves its heap fragmented) rather than on
    /// the backend measured.
    trail_names: String,
    trail_name_ends: Vec<usize>,
    /// The token pool, `TOKEN_LEN` bytes each, back to back; request `i` is for account
    /// `i % ACCOUNTS` with token `i`.
    tokens: String,
    pool: usize,
    next_request: usize,
    /// The oldest job not yet deleted (for `Fill::Half`).
    oldest_job: u64,
    pub now: u64,
    pub config: Config,
}

impl Realistic {
    /// A workload for a table of `capacity` jobs and tokens.
    pub fn new(fill: Fill, capacity: usize) -> Self {
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
        let mut tokens = String::with_capacity(pool * TOKEN_LEN);
        for counter in 0..pool {
            let token = uuid(counter as u64);
            assert_eq!(token.len(), TOKEN_LEN);
            tokens.push_str(&token);
        }
        let config = Config {
            token_ttl_secs: if fill == Fill::Half { 1 } else { 86_400 },
            hash_seed: 0x6265_6e63_6873_6565,
            ..Config::DEFAULT
        };
        Realistic {
            fill,
            capacity,
            trail_names: (0..ACCOUNTS).map(trail_name).collect(),
            trail_name_ends: (0..ACCOUNTS)
                .scan(0, |end, index| {
                    *end += trail_name(index).len();
                    Some(*end)
                })
                .collect(),
            tokens,
            pool,
            next_request: 0,
            oldest_job: config.first_job_id,
            now: 1_622_099_703,
            config,
        }
    }

    /// Account `index`'s trail name.
    fn trail_name_of(&self, index: usize) -> &str {
        let start = index
            .checked_sub(1)
            .map_or(0, |before| self.trail_name_ends[before]);
        &self.trail_names[start..self.trail_name_ends[index]]
    }

    /// Creates the trails (logging) and runs the direct cycle until the tables reach the fill.
    pub fn prepare(&mut self, backend: &mut impl Backend) {
        let now = Timestamp(self.now);
        for index in 0..ACCOUNTS {
            let region = Region::new(REGIONS[index % REGIONS.len()]).unwrap();
            let spec = TrailSpec {
                name: TrailName::new(self.trail_name_of(index)).unwrap(),
                kind: TrailKind::SingleAccount,
                delivers_to_sls: true,
            };
            backend
                .create_trail(account(index), &region, &spec, now)
                .unwrap();
            backend
                .start_logging(account(index), &region, &spec.name, now)
                .unwrap();
        }
        let cycles = match self.fill {
            Fill::Half => self.capacity / 2,
            Fill::Full => self.capacity,
        };
        for _ in 0..cycles {
            self.direct(backend);
        }
    }

    /// The next request, built from its strings as a host does, and the next second.
    #[inline]
    fn next(&mut self) -> (CreateJob, Timestamp) {
        let index = self.next_request;
        self.next_request += 1;
        if self.next_request == self.pool {
            self.next_request = 0;
        }
        self.now += 1;
        let owner = index % ACCOUNTS;
        let token = &self.tokens[index * TOKEN_LEN..(index + 1) * TOKEN_LEN];
        let request = CreateJob {
            account: account(owner),
            region: Region::new(REGIONS[owner % REGIONS.len()]).unwrap(),
            trail_name: TrailName::new(self.trail_name_of(owner)).unwrap(),
            client_token: Some(ClientToken::new(token).unwrap()),
        };
        (request, Timestamp(self.now))
    }

    /// One direct cycle: create (with a token), start, complete.
    #[inline]
    pub fn direct(&mut self, backend: &mut impl Backend) -> JobId {
        let (request, now) = self.next();
        let created = backend.create_job(&request, now).unwrap();
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
    pub fn worker(&mut self, backend: &mut impl Worker) -> JobId {
        let (request, now) = self.next();
        let created = backend.create_job(&request, now).unwrap();
        debug_assert!(!created.replayed);
        let lease = backend.claim_next(now).unwrap();
        debug_assert_eq!(lease.job, created.job_id);
        backend.heartbeat(&lease, 1_000, now).unwrap();
        backend
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

    /// Times `iters` cycles in batches of `capacity / 16` (few enough that a half-full table
    /// stays near half full), doing the untimed fill upkeep between batches.
    pub fn timed(&mut self, backend: &mut impl Worker, cycle: Cycle, iters: u64) -> Duration {
        let mut total = Duration::ZERO;
        let mut left = iters;
        while left > 0 {
            let batch = left.min((self.capacity / 16) as u64);
            let start = Instant::now();
            match cycle {
                Cycle::Direct => {
                    for _ in 0..batch {
                        black_box(self.direct(backend));
                    }
                }
                Cycle::Worker => {
                    for _ in 0..batch {
                        black_box(self.worker(backend));
                    }
                }
            }
            total += start.elapsed();
            self.restore_fill(backend, batch as usize);
            left -= batch;
        }
        total
    }

    /// Jobs and tokens the tables should hold now: all `capacity` when full; between half
    /// and half plus one batch when half-full.
    pub fn expected_fill(&self) -> std::ops::RangeInclusive<usize> {
        match self.fill {
            Fill::Full => self.capacity..=self.capacity,
            Fill::Half => self.capacity / 2..=self.capacity / 2 + self.capacity / 16,
        }
    }
}
