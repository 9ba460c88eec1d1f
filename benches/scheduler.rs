//! Benchmarks of the scheduler against a std reference, at half-full and full tables.
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
use trail_backfill::{ClientToken, Config, CreateJob, JobId, JobOutcome, JobScheduler, Timestamp};
use workload::{ACCOUNTS, Backend, Fill, Workload, account, model::Model, token};

type Small = JobScheduler<ACCOUNTS, 1024, 1024>;
type Large = JobScheduler<ACCOUNTS, 65536, 65536>;

static SMALL: Mutex<Small> = Mutex::new(JobScheduler::new(Config::DEFAULT));
static LARGE: Mutex<Large> = Mutex::new(JobScheduler::new(Config::DEFAULT));
/// The target of the in-place restores.
static LARGE_RESTORED: Mutex<Large> = Mutex::new(JobScheduler::new(Config::DEFAULT));

const FILLS: [Fill; 2] = [Fill::Half, Fill::Full];

fn plain_token(index: usize) -> ClientToken {
    token("123e4567", index)
}

/// Times `iters` cycles in batches, doing the untimed fill upkeep between batches.
fn timed_cycles(workload: &mut Workload, backend: &mut impl Backend, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let batch = left.min(workload.batch());
        let start = Instant::now();
        for _ in 0..batch {
            black_box(workload.cycle(backend));
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
}

fn cycle(c: &mut Criterion) {
    let mut group = c.benchmark_group("cycle");
    group.throughput(Throughput::Elements(1));
    cycle_at(&mut group, &mut SMALL.lock().unwrap());
    cycle_at(&mut group, &mut LARGE.lock().unwrap());
    group.finish();
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

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = cycle, create_outcomes, list, snapshot, hash_flooding
}
criterion_main!(benches);
