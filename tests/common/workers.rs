//! Shared helpers of the worker-protocol contract tests (SPEC section 9): `tests/leases.rs`,
//! `tests/timeouts.rs`, `tests/regions.rs` and `tests/workers_apply.rs` include this file with
//! `#[path = "common/workers.rs"] mod workers;`.
//!
//! Every helper that mutates checks what SPEC promises about every call: `check_invariants()`
//! holds afterwards; a call that changed something leaves `clock() == max(now, clock before)`;
//! an error, an `Unchanged` answer or "nothing to do" leaves the whole scheduler (its postcard
//! snapshot bytes, its clock, its stats) exactly as it was.

#![allow(dead_code)]

use std::fmt::Debug;

use trail_backfill::*;

/// Small capacities, as the brief asks.
pub type Sched = JobScheduler<4, 8, 8>;

pub const A: AccountId = AccountId(1001);
pub const B: AccountId = AccountId(2002);
pub const C: AccountId = AccountId(3003);
pub const D: AccountId = AccountId(4004);

/// A base time well above every duration the tests use.
pub const T0: u64 = 1_000_000;

pub fn region(s: &str) -> Region {
    Region::new(s).unwrap()
}

pub fn hz() -> Region {
    region("cn-hangzhou")
}

pub fn trail_name() -> TrailName {
    TrailName::new("worker-trail").unwrap()
}

/// `Config::DEFAULT`: lease 300 s, 3 attempts, backoff 60 s doubling up to 3600 s, 86 400 s
/// per job.
pub fn defaults() -> Config {
    Config::DEFAULT
}

/// The default config with other worker settings.
pub fn workers(
    lease_secs: u64,
    max_attempts: u64,
    retry_backoff_secs: u64,
    max_backoff_secs: u64,
    max_job_secs: u64,
) -> Config {
    Config {
        lease_secs,
        max_attempts,
        retry_backoff_secs,
        max_backoff_secs,
        max_job_secs,
        ..Config::DEFAULT
    }
}

pub fn bytes<const T: usize, const J: usize, const K: usize>(s: &JobScheduler<T, J, K>) -> Vec<u8> {
    postcard::to_allocvec(s).unwrap()
}

pub fn inv<const T: usize, const J: usize, const K: usize>(s: &JobScheduler<T, J, K>) {
    if let Err(e) = s.check_invariants() {
        panic!("invariant broken: {e:?}");
    }
}

/// Creates (once) a logging, eligible trail of `account` in cn-hangzhou, then a job on it.
pub fn new_job<const T: usize, const J: usize, const K: usize>(
    s: &mut JobScheduler<T, J, K>,
    account: AccountId,
    now: u64,
) -> JobId {
    let r = hz();
    if s.trail(account, &r, &trail_name()).is_none() {
        let spec = TrailSpec {
            name: trail_name(),
            kind: TrailKind::SingleAccount,
            delivers_to_sls: true,
        };
        s.create_trail(account, &r, &spec, Timestamp(now)).unwrap();
        s.start_logging(account, &r, &trail_name(), Timestamp(now))
            .unwrap();
    }
    let request = CreateJob {
        account,
        region: r,
        trail_name: trail_name(),
        client_token: None,
    };
    let out = s.create_job(&request, Timestamp(now)).unwrap();
    assert!(!out.replayed);
    inv(s);
    out.job_id
}

/// A copy of the job (panics when it is not there).
pub fn job<const T: usize, const J: usize, const K: usize>(
    s: &JobScheduler<T, J, K>,
    account: AccountId,
    id: JobId,
) -> Job {
    s.job(account, id).cloned().expect("the job exists")
}

/// The job's regions as (id, status) pairs, in `job_regions` order.
pub fn regions<const T: usize, const J: usize, const K: usize>(
    s: &JobScheduler<T, J, K>,
    account: AccountId,
    id: JobId,
) -> Vec<(String, JobStatus)> {
    s.job_regions(account, id)
        .expect("job_regions of an existing job is Some")
        .map(|(r, st)| (r.as_str().to_owned(), st))
        .collect()
}

/// The pairs as `regions` returns them, from literals.
pub fn pairs(list: &[(&str, JobStatus)]) -> Vec<(String, JobStatus)> {
    list.iter().map(|(r, st)| ((*r).to_owned(), *st)).collect()
}

/// The scheduler's region catalogue.
pub fn catalogue<const T: usize, const J: usize, const K: usize>(
    s: &JobScheduler<T, J, K>,
) -> Vec<String> {
    s.regions().map(|r| r.as_str().to_owned()).collect()
}

/// The lease the job holds now, built from its public fields.
pub fn lease_of<const T: usize, const J: usize, const K: usize>(
    s: &JobScheduler<T, J, K>,
    account: AccountId,
    id: JobId,
) -> Lease {
    let j = job(s, account, id);
    Lease {
        account,
        job: id,
        attempt: j.attempt,
        expires_at: j.lease_expires_at.expect("the job is leased"),
    }
}

/// Runs a call that must change the scheduler: afterwards the clock is `max(now, clock before)`
/// and the invariants hold.
pub fn changed<const T: usize, const J: usize, const K: usize, R>(
    s: &mut JobScheduler<T, J, K>,
    now: u64,
    f: impl FnOnce(&mut JobScheduler<T, J, K>) -> R,
) -> R {
    let before = s.clock();
    let out = f(s);
    assert_eq!(
        s.clock(),
        Timestamp(before.0.max(now)),
        "a call that changes something sets the clock to max(now, clock)"
    );
    inv(s);
    out
}

/// Runs a call that must change nothing at all (bytes, clock, stats), and returns its answer.
pub fn unchanged_state<const T: usize, const J: usize, const K: usize, R>(
    s: &mut JobScheduler<T, J, K>,
    f: impl FnOnce(&mut JobScheduler<T, J, K>) -> R,
) -> R {
    let before = bytes(s);
    let clock = s.clock();
    let stats = s.stats();
    let out = f(s);
    assert_eq!(s.clock(), clock, "the clock moved");
    assert_eq!(s.stats(), stats, "the stats moved");
    assert_eq!(bytes(s), before, "the snapshot bytes changed");
    inv(s);
    out
}

/// Expects `Err(expected)` and checks that nothing at all changed.
pub fn expect_err<const T: usize, const J: usize, const K: usize, R: Debug>(
    s: &mut JobScheduler<T, J, K>,
    expected: Error,
    f: impl FnOnce(&mut JobScheduler<T, J, K>) -> Result<R, Error>,
) {
    let got = unchanged_state(s, f);
    assert_eq!(got.unwrap_err(), expected);
}

/// Expects `Ok(Unchanged)` and checks that nothing at all changed.
pub fn expect_unchanged<const T: usize, const J: usize, const K: usize>(
    s: &mut JobScheduler<T, J, K>,
    f: impl FnOnce(&mut JobScheduler<T, J, K>) -> Result<Transition, Error>,
) {
    let got = unchanged_state(s, f);
    assert_eq!(got, Ok(Transition::Unchanged));
}

/// `claim_next` that must claim: checks the lease and the clock.
pub fn claim_next<const T: usize, const J: usize, const K: usize>(
    s: &mut JobScheduler<T, J, K>,
    now: u64,
) -> Lease {
    changed(s, now, |s| s.claim_next(Timestamp(now))).expect("a job to claim")
}

/// `claim_next` that must find nothing, and change nothing, clock included.
pub fn claim_none<const T: usize, const J: usize, const K: usize>(
    s: &mut JobScheduler<T, J, K>,
    now: u64,
) {
    let got = unchanged_state(s, |s| s.claim_next(Timestamp(now)));
    assert_eq!(got, None, "claim_next at {now}");
}

/// `claim_job` that must succeed.
pub fn claim<const T: usize, const J: usize, const K: usize>(
    s: &mut JobScheduler<T, J, K>,
    account: AccountId,
    id: JobId,
    now: u64,
) -> Lease {
    changed(s, now, |s| s.claim_job(account, id, Timestamp(now))).unwrap()
}

/// `heartbeat` that must succeed; returns the new lease end.
pub fn beat<const T: usize, const J: usize, const K: usize>(
    s: &mut JobScheduler<T, J, K>,
    lease: &Lease,
    delivered: u64,
    now: u64,
) -> Timestamp {
    changed(s, now, |s| s.heartbeat(lease, delivered, Timestamp(now))).unwrap()
}

/// `handle_timeout`; returns `(leases_expired, jobs_failed)`. When it reports nothing, the
/// scheduler must be exactly as it was; otherwise the clock is the call's time.
pub fn timeouts<const T: usize, const J: usize, const K: usize>(
    s: &mut JobScheduler<T, J, K>,
    now: u64,
) -> (u32, u32) {
    let before = bytes(s);
    let clock = s.clock();
    let report = s.handle_timeout(Timestamp(now));
    inv(s);
    let counts = (report.leases_expired, report.jobs_failed);
    if counts == (0, 0) {
        assert_eq!(s.clock(), clock, "nothing due: the clock must not move");
        assert_eq!(bytes(s), before, "nothing due: nothing changes");
    } else {
        assert_eq!(s.clock(), Timestamp(clock.0.max(now)));
    }
    counts
}

/// `handle_timeout` at a time when nothing is due.
pub fn nothing_due<const T: usize, const J: usize, const K: usize>(
    s: &mut JobScheduler<T, J, K>,
    now: u64,
) {
    let before = bytes(s);
    assert_eq!(timeouts(s, now), (0, 0), "handle_timeout at {now}");
    assert_eq!(bytes(s), before);
}

/// `report_region` that must answer `expected`, checking the clock rule both ways.
pub fn report<const T: usize, const J: usize, const K: usize>(
    s: &mut JobScheduler<T, J, K>,
    lease: &Lease,
    r: &str,
    status: JobStatus,
    now: u64,
    expected: Transition,
) {
    let r = region(r);
    match expected {
        Transition::Changed => {
            let got = changed(s, now, |s| {
                s.report_region(lease, &r, status, Timestamp(now))
            });
            assert_eq!(got, Ok(Transition::Changed), "{r:?} -> {status:?}");
        }
        Transition::Unchanged => {
            expect_unchanged(s, |s| s.report_region(lease, &r, status, Timestamp(now)));
        }
    }
}

/// Checks the fields SPEC section 9 adds for a job that is active and not leased.
pub fn assert_waiting(j: &Job, attempt: u32, not_before: u64) {
    assert!(
        matches!(j.status, JobStatus::Initializing | JobStatus::Delivering),
        "{j:?}"
    );
    assert_eq!(j.attempt, attempt, "{j:?}");
    assert_eq!(j.lease_expires_at, None, "{j:?}");
    assert_eq!(j.not_before, Timestamp(not_before), "{j:?}");
    assert_eq!(j.failure, None, "{j:?}");
}

/// Checks a finished job: its status, its failure reason (Some exactly when Failed), no lease.
pub fn assert_finished(j: &Job, status: JobStatus, failure: Option<FailureReason>) {
    assert_eq!(j.status, status, "{j:?}");
    assert_eq!(j.failure, failure, "{j:?}");
    assert_eq!(j.failure.is_some(), status == JobStatus::Failed, "{j:?}");
    assert_eq!(
        j.lease_expires_at, None,
        "a finished job holds no lease: {j:?}"
    );
}
