//! Contract tests for SPEC section 3: the job lifecycle (create, start, complete, delete),
//! the create_job check order, event windows, paging, ids and the clock.

use trail_backfill::*;

#[path = "../common/mod.rs"]
mod common;
use common::{hz, name, region, snap, spec};

type Sched = JobScheduler<8, 8, 8>;

const A: AccountId = AccountId(1001);
const B: AccountId = AccountId(2002);
const C: AccountId = AccountId(3003);

/// 2021-05-27T07:15:03Z, the API example's creation time.
const T_API: u64 = 1_622_099_703;

/// Runs `f`, expects `Err(expected)`, and checks that nothing at all changed.
fn expect_err<const T: usize, const J: usize, const K: usize, R: std::fmt::Debug>(
    s: &mut JobScheduler<T, J, K>,
    expected: Error,
    f: impl FnOnce(&mut JobScheduler<T, J, K>) -> Result<R, Error>,
) {
    let before = snap(s);
    let clock = s.clock();
    let stats = s.stats();
    let next = s.next_job_id();
    assert_eq!(f(s).unwrap_err(), expected);
    assert_eq!(s.clock(), clock, "an error moved the clock");
    assert_eq!(s.stats(), stats, "an error moved the stats");
    assert_eq!(s.next_job_id(), next, "an error consumed a job id");
    assert_eq!(snap(s), before, "an error changed the snapshot");
}

/// Runs `f`, expects `Ok(Unchanged)`, and checks that nothing at all changed.
fn expect_unchanged<const T: usize, const J: usize, const K: usize>(
    s: &mut JobScheduler<T, J, K>,
    f: impl FnOnce(&mut JobScheduler<T, J, K>) -> Result<Transition, Error>,
) {
    let before = snap(s);
    let clock = s.clock();
    assert_eq!(f(s), Ok(Transition::Unchanged));
    assert_eq!(s.clock(), clock, "Unchanged moved the clock");
    assert_eq!(snap(s), before, "Unchanged changed the snapshot");
}

/// Creates a logging, eligible trail.
fn logging_trail<const T: usize, const J: usize, const K: usize>(
    s: &mut JobScheduler<T, J, K>,
    account: AccountId,
    r: &Region,
    n: &str,
    now: u64,
) {
    s.create_trail(account, r, &spec(n), Timestamp(now))
        .unwrap();
    assert_eq!(
        s.start_logging(account, r, &name(n), Timestamp(now)),
        Ok(Transition::Changed)
    );
}

fn req(account: AccountId, r: &Region, n: &str) -> CreateJob {
    CreateJob {
        account,
        region: r.clone(),
        trail_name: name(n),
        client_token: None,
    }
}

fn create<const T: usize, const J: usize, const K: usize>(
    s: &mut JobScheduler<T, J, K>,
    account: AccountId,
    n: &str,
    now: u64,
) -> JobId {
    let out = s
        .create_job(&req(account, &hz(), n), Timestamp(now))
        .unwrap();
    assert!(!out.replayed);
    out.job_id
}

fn page_ids<const T: usize, const J: usize, const K: usize>(
    s: &JobScheduler<T, J, K>,
    account: AccountId,
    number: u32,
    size: u32,
) -> (u32, Vec<u64>) {
    let page = s.list_jobs(account, number, size).unwrap();
    assert_eq!(page.page_number, number);
    assert_eq!(page.page_size, size);
    (page.total_count, page.jobs().map(|j| j.id.0).collect())
}

mod clock;
mod complete;
mod create;
mod delete;
mod queries;
mod start;
