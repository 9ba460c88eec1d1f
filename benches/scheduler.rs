//! Benchmarks of the scheduler against a std reference, at half-full and full tables, and of
//! the worker protocol (the worker cycle, and `handle_timeout` expiring leases).
//!
//! `cargo bench --bench scheduler` measures; `cargo bench -- --test` runs each once (CI).
//! Large schedulers live in `static`s (reset and restored in place), never on the stack.

mod workload;

use std::hint::black_box;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
};
use trail_backfill::{
    AccountId, ClientToken, Config, CreateJob, JobId, JobOutcome, JobScheduler, Lease, Timestamp,
    TrailKind, TrailSpec,
};
use workload::model::{Model, Stats};
use workload::realistic::{self, Cycle, Realistic, Worker};
use workload::std_worker::{self, QueuedModel};
use workload::{ACCOUNTS, Backend, Fill, Workload, account, token};

type Small = JobScheduler<ACCOUNTS, 1024, 1024>;
type Large = JobScheduler<ACCOUNTS, 65536, 65536>;

static SMALL: Mutex<Small> = Mutex::new(JobScheduler::new(Config::DEFAULT));
static LARGE: Mutex<Large> = Mutex::new(JobScheduler::new(Config::DEFAULT));
/// The target of the in-place restores.
static LARGE_RESTORED: Mutex<Large> = Mutex::new(JobScheduler::new(Config::DEFAULT));
/// The scheduler of the realistic workload (issue 11): 4,096 accounts. All zero bytes, reset
/// before use.
static REALISTIC: Mutex<JobScheduler<{ realistic::ACCOUNTS }, 65536, 65536>> =
    Mutex::new(JobScheduler::new(Config::ZERO));

const FILLS: [Fill; 2] = [Fill::Half, Fill::Full];

fn plain_token(index: usize) -> ClientToken {
    token("123e4567", index)
}

/// Times `iters` cycles in batches, doing the untimed fill upkeep between batches.
fn timed_cycles(workload: &mut Workload, backend: &mut impl Backend, iters: u64) -> Duration {
    timed(workload, backend, iters, Workload::cycle)
}

/// Times `iters` runs of `step` in batches, doing the untimed fill upkeep between batches.
fn timed<B: Backend>(
    workload: &mut Workload,
    backend: &mut B,
    iters: u64,
    step: impl Fn(&mut Workload, &mut B) -> JobId,
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let batch = left.min(workload.batch());
        let start = Instant::now();
        for _ in 0..batch {
            black_box(step(workload, backend));
        }
        total += start.elapsed();
        workload.restore_fill(backend, batch as usize);
        left -= batch;
    }
    total
}

/// The full cycle on the crate and on the std reference, at half-full and full tables.
fn cycle_at<const J: usize>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    scheduler: &mut JobScheduler<ACCOUNTS, J, J>,
) {
    for fill in FILLS {
        let mut workload = Workload::new(fill, J, plain_token);
        scheduler.reset(workload.config);
        workload.prepare(scheduler);
        let id = BenchmarkId::new(format!("crate/{}", fill.name()), J);
        group.bench_function(id, |b| {
            b.iter_custom(|iters| timed_cycles(&mut workload, scheduler, iters))
        });
        scheduler.check_invariants().unwrap();

        let mut workload = Workload::new(fill, J, plain_token);
        let mut reference = Model::new(workload.config, ACCOUNTS, J, J);
        workload.prepare(&mut reference);
        let id = BenchmarkId::new(format!("std-reference/{}", fill.name()), J);
        group.bench_function(id, |b| {
            b.iter_custom(|iters| timed_cycles(&mut workload, &mut reference, iters))
        });
    }

    // The worker cycle (create, claim_next, heartbeat, finish_job), full tables only (the
    // std reference's worker cycle is measured in the realistic-worker group).
    let mut workload = Workload::new(Fill::Full, J, plain_token);
    scheduler.reset(workload.config);
    workload.prepare(scheduler);
    let id = BenchmarkId::new("worker/full", J);
    group.bench_function(id, |b| {
        b.iter_custom(|iters| timed(&mut workload, scheduler, iters, Workload::worker_cycle))
    });
    assert_eq!(scheduler.stats().leased_jobs, 0);
    scheduler.check_invariants().unwrap();
}

fn cycle(c: &mut Criterion) {
    let mut group = c.benchmark_group("cycle");
    group.throughput(Throughput::Elements(1));
    cycle_at(&mut group, &mut SMALL.lock().unwrap());
    cycle_at(&mut group, &mut LARGE.lock().unwrap());
    group.finish();
}

/// The realistic workload (4,096 accounts, UUID tokens, requests built from strings in the
/// timed loop) at half-full and full 65,536-entry tables, on the crate and on the std
/// reference: group `realistic-direct` for the direct cycle, `realistic-worker` for the
/// worker cycle (whose std reference is the model with a claim queue, `QueuedModel`).
fn realistic_cycles(c: &mut Criterion) {
    let mut scheduler = REALISTIC.lock().unwrap();
    for cycle in [Cycle::Direct, Cycle::Worker] {
        let mut group = c.benchmark_group(format!("realistic-{}", cycle.name()));
        group.throughput(Throughput::Elements(1));
        for fill in FILLS {
            realistic_at(&mut group, &mut scheduler, cycle, fill);
        }
        group.finish();
    }
}

/// One cycle at one fill, on the crate and then on the std reference; each checked after.
fn realistic_at<const J: usize>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    scheduler: &mut JobScheduler<{ realistic::ACCOUNTS }, J, J>,
    cycle: Cycle,
    fill: Fill,
) {
    let mut workload = Realistic::new(fill, J);
    scheduler.reset(workload.config);
    workload.prepare(scheduler);
    let id = BenchmarkId::new(format!("crate/{}", fill.name()), J);
    group.bench_function(id, |b| {
        b.iter_custom(|iters| workload.timed(scheduler, cycle, iters))
    });
    let stats = scheduler.stats();
    assert!(workload.expected_fill().contains(&stats.jobs), "{stats:?}");
    assert!(
        workload.expected_fill().contains(&stats.tokens),
        "{stats:?}"
    );
    assert_eq!((stats.active_jobs, stats.leased_jobs), (0, 0));
    scheduler.check_invariants().unwrap();

    let workload = Realistic::new(fill, J);
    let model = Model::new(workload.config, realistic::ACCOUNTS, J, J);
    match cycle {
        // The direct cycle never claims: the model as it is.
        Cycle::Direct => realistic_reference(group, cycle, workload, model),
        // The worker cycle: the model with the claim queue of a std host, shown first to
        // answer as the model's own `claim_next` on the same workload.
        Cycle::Worker => {
            std_worker::check_against_model(fill, J, CHECKED_ROUNDS, CHECKED_CYCLES);
            realistic_reference(group, cycle, workload, QueuedModel::new(model))
        }
    }
}

/// Before the worker cycle's std reference is timed, it is run against the plain model for
/// `CHECKED_ROUNDS` rounds of `CHECKED_CYCLES` cycles (fill upkeep between rounds): one or
/// two seconds per fill (filling two models, then the plain model's `claim_next` scans every
/// job), so a short run.
const CHECKED_ROUNDS: usize = 2;
const CHECKED_CYCLES: usize = 256;

/// A std reference of the realistic groups: the worker protocol, and what is checked after.
trait Reference: Worker {
    fn stats(&self) -> Stats;
    fn check(&self) -> Result<(), String>;
}

impl Reference for Model {
    fn stats(&self) -> Stats {
        Model::stats(self)
    }
    fn check(&self) -> Result<(), String> {
        Model::check(self)
    }
}

impl Reference for QueuedModel {
    fn stats(&self) -> Stats {
        self.model().stats()
    }
    fn check(&self) -> Result<(), String> {
        QueuedModel::check(self)
    }
}

/// The std reference's run of the realistic workload, from empty, at its fill; checked after.
fn realistic_reference(
    group: &mut BenchmarkGroup<'_, WallTime>,
    cycle: Cycle,
    mut workload: Realistic,
    mut reference: impl Reference,
) {
    let fill = workload.fill;
    workload.prepare(&mut reference);
    let id = BenchmarkId::new(format!("std-reference/{}", fill.name()), workload.capacity);
    group.bench_function(id, |b| {
        b.iter_custom(|iters| workload.timed(&mut reference, cycle, iters))
    });
    let stats = reference.stats();
    assert!(workload.expected_fill().contains(&stats.jobs), "{stats:?}");
    assert!(
        workload.expected_fill().contains(&stats.tokens),
        "{stats:?}"
    );
    assert_eq!((stats.active_jobs, stats.leased_jobs), (0, 0));
    reference.check().unwrap();
}

/// A replayed `create_job` (token hit) and a refused one (`JobAlreadyRunning`).
fn create_outcomes_at<const J: usize>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    scheduler: &mut JobScheduler<ACCOUNTS, J, J>,
) {
    for fill in FILLS {
        let mut workload = Workload::new(fill, J, plain_token);
        scheduler.reset(workload.config);
        workload.prepare(scheduler);
        let now = Timestamp(workload.now + 1);
        let running = CreateJob {
            account: account(0),
            region: workload.region.clone(),
            trail_name: workload.trail.clone(),
            client_token: Some(token("replayed", 0)),
        };
        let created = scheduler.create_job(&running, now).unwrap();
        let id = BenchmarkId::new(format!("replayed/{}", fill.name()), J);
        group.bench_function(id, |b| {
            b.iter(|| {
                let replay = scheduler.create_job(black_box(&running), now).unwrap();
                assert_eq!(replay.job_id, created.job_id);
            })
        });
        let refused = CreateJob {
            client_token: Some(token("refused0", 0)),
            ..running.clone()
        };
        let id = BenchmarkId::new(format!("refused/{}", fill.name()), J);
        group.bench_function(id, |b| {
            b.iter(|| scheduler.create_job(black_box(&refused), now).unwrap_err())
        });
    }
}

fn create_outcomes(c: &mut Criterion) {
    let mut group = c.benchmark_group("create_job");
    group.throughput(Throughput::Elements(1));
    create_outcomes_at(&mut group, &mut SMALL.lock().unwrap());
    create_outcomes_at(&mut group, &mut LARGE.lock().unwrap());
    group.finish();
}

/// A 20-job page for one account whose 40 jobs sit in a full table of other accounts' jobs.
fn list_at<const J: usize>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    scheduler: &mut JobScheduler<ACCOUNTS, J, J>,
) {
    let mut workload = Workload::new(Fill::Full, J, plain_token);
    scheduler.reset(workload.config);
    workload.prepare(scheduler); // full of jobs of all accounts
    let caller = account(0);
    let mut now = workload.now;
    // Make room by evicting, then give the caller 40 jobs spread through the table.
    for round in 0..J {
        now += 1;
        let owner = if round % (J / 40) == 0 && round < 40 * (J / 40) {
            caller
        } else {
            account(1 + round % (ACCOUNTS - 1))
        };
        let request = CreateJob {
            account: owner,
            client_token: None,
            ..workload.requests[0].clone()
        };
        let JobId(id) = scheduler
            .create_job(&request, Timestamp(now))
            .unwrap()
            .job_id;
        scheduler
            .complete_job(owner, JobId(id), JobOutcome::Completed, Timestamp(now))
            .unwrap();
    }
    let page = scheduler.list_jobs(caller, 1, 20).unwrap();
    assert_eq!((page.total_count, page.jobs().count()), (40, 20));
    group.bench_function(BenchmarkId::new("page-of-20", J), |b| {
        b.iter(|| {
            let page = scheduler.list_jobs(black_box(caller), 1, 20).unwrap();
            page.jobs().map(|job| job.id.0).sum::<u64>()
        })
    });
}

fn list(c: &mut Criterion) {
    let mut group = c.benchmark_group("list_jobs");
    group.throughput(Throughput::Elements(20));
    list_at(&mut group, &mut SMALL.lock().unwrap());
    list_at(&mut group, &mut LARGE.lock().unwrap());
    group.finish();
}

/// Snapshot of a full 65,536-job scheduler to postcard bytes, and restore in place.
fn snapshot(c: &mut Criterion) {
    let mut scheduler = LARGE.lock().unwrap();
    let mut workload = Workload::new(Fill::Full, 65536, plain_token);
    scheduler.reset(workload.config);
    workload.prepare(&mut *scheduler);
    let bytes = postcard::to_allocvec(&*scheduler).unwrap();
    let mut buffer = vec![0u8; bytes.len()];
    let mut restored = LARGE_RESTORED.lock().unwrap();
    // Once before timing, so that the check at the end holds when a filter skips the timing.
    restored
        .restore(&mut postcard::Deserializer::from_bytes(&bytes))
        .unwrap();

    let mut group = c.benchmark_group("snapshot");
    group.sample_size(10);
    group.throughput(Throughput::Elements(scheduler.stats().jobs as u64));
    group.bench_function(BenchmarkId::new("to-postcard", 65536), |b| {
        b.iter(|| postcard::to_slice(&*scheduler, &mut buffer).unwrap().len())
    });
    group.bench_function(BenchmarkId::new("restore-in-place", 65536), |b| {
        b.iter(|| {
            restored
                .restore(&mut postcard::Deserializer::from_bytes(black_box(&bytes)))
                .unwrap()
        })
    });
    group.finish();
    assert!(
        *restored == *scheduler,
        "the restored scheduler equals the original"
    );
}

/// 64-bit FNV-1a, unkeyed: what a hand-written table might use, and what an attacker can
/// target.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Client tokens whose FNV-1a hashes all share their low 12 bits.
fn colliding_tokens(count: usize) -> Vec<ClientToken> {
    (0u64..)
        .map(|i| format!("dos-{i:016x}"))
        .filter(|candidate| fnv1a(candidate.as_bytes()) & 0xfff == 0)
        .take(count)
        .map(|candidate| ClientToken::new(&candidate).unwrap())
        .collect()
}

/// The full cycle with tokens built to collide under an unkeyed hash, against ordinary ones.
fn hash_flooding(c: &mut Criterion) {
    let mut scheduler = SMALL.lock().unwrap();
    let colliding = colliding_tokens(2 * 1024);
    let mut group = c.benchmark_group("hash-flooding");
    group.throughput(Throughput::Elements(1));
    for (name, tokens) in [
        ("ordinary-tokens", None),
        ("fnv-colliding-tokens", Some(&colliding)),
    ] {
        let mut workload = Workload::new(Fill::Full, 1024, |i| match tokens {
            Some(tokens) => tokens[i].clone(),
            None => plain_token(i),
        });
        scheduler.reset(workload.config);
        workload.prepare(&mut *scheduler);
        group.bench_function(BenchmarkId::new(name, 1024), |b| {
            b.iter_custom(|iters| timed_cycles(&mut workload, &mut *scheduler, iters))
        });
    }
    group.finish();
}

/// How many leases `handle_timeout` expires per call, of how many.
const EXPIRING: usize = 1_000;
const LEASED: usize = 65_536;

/// Where the `handle_timeout` benchmark stands: 65,536 leased jobs of as many accounts, in 65
/// cohorts of 1,000 leases that end one second apart, plus 536 long-running jobs whose
/// workers heartbeat every second.
struct Leases {
    /// The jobs of each cohort: cohort `k` is due at `now` when `step % 65 == k`.
    cohorts: Vec<Vec<(AccountId, JobId)>>,
    /// The long-running jobs' leases.
    long_running: Vec<Lease>,
    step: usize,
    /// The time of the next `handle_timeout` call.
    now: u64,
}

impl Leases {
    const COHORTS: usize = LEASED / EXPIRING;

    /// Leases of `COHORTS` seconds, retried at once (no backoff), never failing (no last
    /// attempt, no deadline): each call expires one cohort, which is claimed again at once.
    const CONFIG: Config = Config {
        lease_secs: Self::COHORTS as u64,
        retry_backoff_secs: 0,
        max_attempts: u64::MAX,
        max_job_secs: u64::MAX,
        hash_seed: 0x6265_6e63_6873_6565,
        ..Config::DEFAULT
    };

    /// Fills `scheduler` (emptied first) with 65,536 leased jobs: one per account, each
    /// account's trail deleted once its job exists so that the trail table stays small.
    fn prepare<const T: usize, const J: usize, const K: usize>(
        scheduler: &mut JobScheduler<T, J, K>,
    ) -> Leases {
        assert!(J >= LEASED);
        scheduler.reset(Self::CONFIG);
        let start = 1_622_099_703;
        let region = trail_backfill::Region::new("cn-hangzhou").unwrap();
        let spec = TrailSpec {
            name: trail_backfill::TrailName::new("trail-name").unwrap(),
            kind: TrailKind::SingleAccount,
            delivers_to_sls: true,
        };
        let now = Timestamp(start);
        let mut jobs = Vec::with_capacity(LEASED);
        for index in 0..LEASED {
            let owner = account(index);
            scheduler.create_trail(owner, &region, &spec, now).unwrap();
            scheduler
                .start_logging(owner, &region, &spec.name, now)
                .unwrap();
            let request = CreateJob {
                account: owner,
                region: region.clone(),
                trail_name: spec.name.clone(),
                client_token: None,
            };
            jobs.push((owner, scheduler.create_job(&request, now).unwrap().job_id));
            scheduler.delete_trail(owner, &region, &spec.name).unwrap();
        }
        // Cohort k is claimed at start + k and its leases end at start + k + COHORTS; the
        // long-running jobs are claimed with the last cohort.
        let mut jobs = jobs.into_iter();
        let mut cohorts = Vec::with_capacity(Self::COHORTS);
        for k in 0..Self::COHORTS {
            let cohort: Vec<_> = jobs.by_ref().take(EXPIRING).collect();
            for &(owner, job) in &cohort {
                scheduler
                    .claim_job(owner, job, Timestamp(start + k as u64))
                    .unwrap();
            }
            cohorts.push(cohort);
        }
        let last = Timestamp(start + Self::COHORTS as u64 - 1);
        let long_running = jobs
            .map(|(owner, job)| scheduler.claim_job(owner, job, last).unwrap())
            .collect();
        assert_eq!(scheduler.stats().leased_jobs, LEASED);
        Leases {
            cohorts,
            long_running,
            step: 0,
            now: start + Self::COHORTS as u64,
        }
    }

    /// The untimed upkeep after a call at `now` that expired the due cohort: it is claimed
    /// again (its leases end `COHORTS` seconds later, last of all), and the long-running
    /// jobs heartbeat. The next call, a second later, finds the same state shifted by a
    /// second: 65,536 leases, of which the next cohort's 1,000 are due.
    fn upkeep<const T: usize, const J: usize, const K: usize>(
        &mut self,
        scheduler: &mut JobScheduler<T, J, K>,
    ) {
        let now = Timestamp(self.now);
        for &(owner, job) in &self.cohorts[self.step % Self::COHORTS] {
            scheduler.claim_job(owner, job, now).unwrap();
        }
        for lease in &self.long_running {
            scheduler.heartbeat(lease, 0, now).unwrap();
        }
        self.step += 1;
        self.now += 1;
    }
}

/// `handle_timeout` expiring 1,000 leases of 65,536, each call from the same state (up to a
/// shift of time); only the call is timed.
fn timeouts(c: &mut Criterion) {
    let mut scheduler = LARGE.lock().unwrap();
    let mut leases = Leases::prepare(&mut *scheduler);
    let mut group = c.benchmark_group("handle_timeout");
    group.throughput(Throughput::Elements(EXPIRING as u64));
    let id = BenchmarkId::new(format!("expire-{EXPIRING}-leases-of"), LEASED);
    group.bench_function(id, |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let now = Timestamp(leases.now);
                let start = Instant::now();
                let report = scheduler.handle_timeout(black_box(now));
                total += start.elapsed();
                assert_eq!(
                    (report.leases_expired, report.jobs_failed),
                    (EXPIRING as u32, 0)
                );
                leases.upkeep(&mut *scheduler);
            }
            total
        })
    });
    group.finish();
    assert_eq!(scheduler.stats().leased_jobs, LEASED);
    scheduler.check_invariants().unwrap();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = cycle, create_outcomes, list, snapshot, hash_flooding, timeouts, realistic_cycles
}
criterion_main!(benches);
