//! Contract tests for SPEC section 3: the job lifecycle (create, start, complete, delete),
//! the create_job check order, event windows, paging, ids and the clock.

use trail_backfill::*;

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

// ---------------------------------------------------------------- create_job

#[test]
fn created_job_has_the_api_example_window() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-name", T_API);
    let out = s
        .create_job(&req(A, &hz(), "trail-name"), Timestamp(T_API))
        .unwrap();
    assert_eq!(
        out,
        JobCreated {
            job_id: JobId(1),
            replayed: false
        }
    );
    let job = s.job(A, JobId(1)).unwrap();
    assert_eq!(job.id, JobId(1));
    assert_eq!(job.account, A);
    assert_eq!(job.region, hz());
    assert_eq!(job.trail_name, name("trail-name"));
    assert_eq!(job.status, JobStatus::Initializing);
    assert_eq!(job.created_at, Timestamp(T_API));
    assert_eq!(job.updated_at, Timestamp(T_API));
    assert_eq!(job.window_start.to_string(), "2021-02-26T07:15:03Z");
    assert_eq!(job.window_end.to_string(), "2021-05-27T07:20:03Z");
    assert_eq!(job.window_start, Timestamp(T_API - 7_776_000));
    assert_eq!(job.window_end, Timestamp(T_API + 300));
    assert_eq!(s.clock(), Timestamp(T_API));
    let st = s.stats();
    assert_eq!((st.jobs, st.active_jobs), (1, 1));
    assert_eq!(s.active_job(A).map(|j| j.id), Some(JobId(1)));
    assert!(s.check_invariants().is_ok());
}

#[test]
fn window_start_saturates_at_small_times() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-name", 10);
    let id = create(&mut s, A, "trail-name", 100);
    let job = s.job(A, id).unwrap();
    assert_eq!(job.window_start, Timestamp(0));
    assert_eq!(job.window_end, Timestamp(310));
}

#[test]
fn window_end_is_never_before_window_start() {
    // Logging started long before the retention window: window_end = window_start.
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-name", 0);
    let id = create(&mut s, A, "trail-name", 10_000_000);
    let job = s.job(A, id).unwrap();
    assert_eq!(job.window_start, Timestamp(10_000_000 - 7_776_000));
    assert_eq!(job.window_end, Timestamp(10_000_000 - 7_776_000));
}

#[test]
fn window_uses_the_config_and_logging_since_at_creation() {
    let mut s = Sched::new(Config {
        retention_secs: 1_000,
        grace_secs: 50,
        ..Config::DEFAULT
    });
    logging_trail(&mut s, A, &hz(), "trail-name", 5_000);
    let id = create(&mut s, A, "trail-name", 5_500);
    let job = s.job(A, id).unwrap().clone();
    assert_eq!(job.window_start, Timestamp(4_500));
    assert_eq!(job.window_end, Timestamp(5_050));
    // Restarting logging later does not move an existing job's window.
    s.stop_logging(A, &hz(), &name("trail-name"), Timestamp(6_000))
        .unwrap();
    s.start_logging(A, &hz(), &name("trail-name"), Timestamp(7_000))
        .unwrap();
    assert_eq!(s.job(A, id).unwrap().window_start, job.window_start);
    assert_eq!(s.job(A, id).unwrap().window_end, job.window_end);
}

#[test]
fn window_end_between_logging_and_grace() {
    // logging_since + grace is inside [window_start, created_at + grace].
    let mut s = Sched::new(Config {
        retention_secs: 1_000,
        grace_secs: 50,
        ..Config::DEFAULT
    });
    logging_trail(&mut s, A, &hz(), "trail-name", 4_000);
    let id = create(&mut s, A, "trail-name", 4_500);
    let job = s.job(A, id).unwrap();
    assert_eq!(job.window_start, Timestamp(3_500));
    assert_eq!(job.window_end, Timestamp(4_050));
}

#[test]
fn zero_retention_starts_the_window_at_creation() {
    let mut s = Sched::new(Config {
        retention_secs: 0,
        grace_secs: 0,
        ..Config::DEFAULT
    });
    logging_trail(&mut s, A, &hz(), "trail-name", 100);
    let id = create(&mut s, A, "trail-name", 200);
    let job = s.job(A, id).unwrap();
    assert_eq!(job.window_start, Timestamp(200));
    assert_eq!(job.window_end, Timestamp(200));
    // window_start == created_at is allowed (SPEC 6.7: window_start <= created_at).
    s.check_invariants().unwrap();
}

#[test]
fn window_end_saturates_near_u64_max() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-name", u64::MAX - 10);
    let id = create(&mut s, A, "trail-name", u64::MAX - 5);
    let job = s.job(A, id).unwrap();
    assert_eq!(job.window_start, Timestamp(u64::MAX - 5 - 7_776_000));
    assert_eq!(job.window_end, Timestamp(u64::MAX));
    assert!(s.check_invariants().is_ok());
}

#[test]
fn huge_config_durations_saturate() {
    let mut s = Sched::new(Config {
        retention_secs: u64::MAX,
        grace_secs: u64::MAX,
        token_ttl_secs: u64::MAX,
        ..Config::DEFAULT
    });
    logging_trail(&mut s, A, &hz(), "trail-name", 1_000);
    let out = s
        .create_job(
            &CreateJob {
                client_token: Some(ClientToken::new("tok").unwrap()),
                ..req(A, &hz(), "trail-name")
            },
            Timestamp(2_000),
        )
        .unwrap();
    let job = s.job(A, out.job_id).unwrap();
    assert_eq!(job.window_start, Timestamp(0));
    assert_eq!(job.window_end, Timestamp(u64::MAX));
    assert!(s.check_invariants().is_ok());
}

#[test]
fn check_2_trail_not_found() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-name", 10);
    logging_trail(&mut s, B, &hz(), "b-trail", 10);
    expect_err(&mut s, Error::TrailNotFound, |s| {
        s.create_job(&req(A, &hz(), "no-such-trail"), Timestamp(20))
    });
    expect_err(&mut s, Error::TrailNotFound, |s| {
        s.create_job(&req(A, &region("cn-beijing"), "trail-name"), Timestamp(20))
    });
    // Another account's trail of the same name does not count.
    expect_err(&mut s, Error::TrailNotFound, |s| {
        s.create_job(&req(A, &hz(), "b-trail"), Timestamp(20))
    });
    expect_err(&mut s, Error::TrailNotFound, |s| {
        s.create_job(&req(C, &hz(), "trail-name"), Timestamp(20))
    });
}

#[test]
fn check_3_ineligibility_reasons_in_order() {
    let mut s = Sched::new(Config::DEFAULT);
    let mk = |kind, sls| TrailSpec {
        name: name("trail-x"),
        kind,
        delivers_to_sls: sls,
    };
    let cases = [
        (
            TrailKind::Organization,
            false,
            false,
            Ineligibility::OrganizationTrail,
        ),
        (
            TrailKind::Organization,
            true,
            true,
            Ineligibility::OrganizationTrail,
        ),
        (
            TrailKind::Organization,
            false,
            true,
            Ineligibility::OrganizationTrail,
        ),
        (
            TrailKind::SingleAccount,
            false,
            false,
            Ineligibility::NoSlsDelivery,
        ),
        (
            TrailKind::SingleAccount,
            false,
            true,
            Ineligibility::NoSlsDelivery,
        ),
        (
            TrailKind::SingleAccount,
            true,
            false,
            Ineligibility::NotLogging,
        ),
    ];
    for (i, (kind, sls, logging, reason)) in cases.into_iter().enumerate() {
        let account = AccountId(100 + i as u64);
        s.create_trail(account, &hz(), &mk(kind, sls), Timestamp(10))
            .unwrap();
        if logging {
            s.start_logging(account, &hz(), &name("trail-x"), Timestamp(10))
                .unwrap();
        }
        expect_err(&mut s, Error::TrailNotEligible(reason), |s| {
            s.create_job(&req(account, &hz(), "trail-x"), Timestamp(20))
        });
    }
}

#[test]
fn stopped_trail_is_not_logging() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-name", 10);
    s.stop_logging(A, &hz(), &name("trail-name"), Timestamp(20))
        .unwrap();
    expect_err(
        &mut s,
        Error::TrailNotEligible(Ineligibility::NotLogging),
        |s| s.create_job(&req(A, &hz(), "trail-name"), Timestamp(30)),
    );
}

#[test]
fn check_4_one_active_job_per_account() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    logging_trail(&mut s, A, &hz(), "trail-two", 10);
    logging_trail(&mut s, A, &region("cn-beijing"), "trail-one", 10);
    let first = create(&mut s, A, "trail-one", 20);
    for (r, n) in [
        (hz(), "trail-one"),
        (hz(), "trail-two"),
        (region("cn-beijing"), "trail-one"),
    ] {
        expect_err(&mut s, Error::JobAlreadyRunning { active: first }, |s| {
            s.create_job(&req(A, &r, n), Timestamp(30))
        });
    }
    // Still running once started.
    s.start_job(A, first, Timestamp(40)).unwrap();
    expect_err(&mut s, Error::JobAlreadyRunning { active: first }, |s| {
        s.create_job(&req(A, &hz(), "trail-two"), Timestamp(50))
    });
    // Finished: a new job may start.
    s.complete_job(A, first, JobOutcome::Completed, Timestamp(60))
        .unwrap();
    let second = create(&mut s, A, "trail-two", 70);
    assert_eq!(second, JobId(first.0 + 1));
}

#[test]
fn check_order_trail_before_eligibility_before_running() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    s.create_trail(A, &hz(), &spec("idle-trail"), Timestamp(10))
        .unwrap();
    let first = create(&mut s, A, "trail-one", 20);
    // With an active job: a missing trail is TrailNotFound, a non-logging one is not eligible.
    expect_err(&mut s, Error::TrailNotFound, |s| {
        s.create_job(&req(A, &hz(), "missing-trail"), Timestamp(30))
    });
    expect_err(
        &mut s,
        Error::TrailNotEligible(Ineligibility::NotLogging),
        |s| s.create_job(&req(A, &hz(), "idle-trail"), Timestamp(30)),
    );
    expect_err(&mut s, Error::JobAlreadyRunning { active: first }, |s| {
        s.create_job(&req(A, &hz(), "trail-one"), Timestamp(30))
    });
}

#[test]
fn check_5_capacity_after_running_check() {
    let mut s = JobScheduler::<8, 2, 8>::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    logging_trail(&mut s, B, &hz(), "trail-one", 10);
    logging_trail(&mut s, C, &hz(), "trail-one", 10);
    s.create_trail(C, &hz(), &spec("idle-trail"), Timestamp(10))
        .unwrap();
    let a = create(&mut s, A, "trail-one", 20);
    create(&mut s, B, "trail-one", 20);
    expect_err(&mut s, Error::CapacityExhausted(Table::Jobs), |s| {
        s.create_job(&req(C, &hz(), "trail-one"), Timestamp(30))
    });
    expect_err(&mut s, Error::JobAlreadyRunning { active: a }, |s| {
        s.create_job(&req(A, &hz(), "trail-one"), Timestamp(30))
    });
    expect_err(
        &mut s,
        Error::TrailNotEligible(Ineligibility::NotLogging),
        |s| s.create_job(&req(C, &hz(), "idle-trail"), Timestamp(30)),
    );
    expect_err(&mut s, Error::TrailNotFound, |s| {
        s.create_job(&req(C, &hz(), "missing-trail"), Timestamp(30))
    });
}

#[test]
fn check_1_idempotency_comes_before_everything() {
    let mut s = JobScheduler::<8, 1, 8>::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let tok = ClientToken::new("token-1").unwrap();
    let with_tok = |n: &str| CreateJob {
        client_token: Some(tok.clone()),
        ..req(A, &hz(), n)
    };
    let first = s.create_job(&with_tok("trail-one"), Timestamp(20)).unwrap();
    // The job is active (check 4 would fail), the table is full (check 5 would fail):
    // the replay still answers first.
    let before = snap(&s);
    assert_eq!(
        s.create_job(&with_tok("trail-one"), Timestamp(30)),
        Ok(JobCreated {
            job_id: first.job_id,
            replayed: true
        })
    );
    assert_eq!(snap(&s), before);
    // Another trail name under the same token: mismatch, even though it does not exist (check 2).
    expect_err(&mut s, Error::IdempotentParameterMismatch, |s| {
        s.create_job(&with_tok("missing-trail"), Timestamp(30))
    });
}

#[test]
fn commit_assigns_consecutive_ids_from_first_job_id() {
    let mut s = Sched::new(Config {
        first_job_id: 16_602,
        ..Config::DEFAULT
    });
    assert_eq!(s.next_job_id(), JobId(16_602));
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    logging_trail(&mut s, B, &hz(), "trail-one", 10);
    let a = create(&mut s, A, "trail-one", 20);
    let b = create(&mut s, B, "trail-one", 20);
    assert_eq!((a, b), (JobId(16_602), JobId(16_603)));
    assert_eq!(s.next_job_id(), JobId(16_604));
}

#[test]
fn ids_are_never_reused_after_deletion() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let first = create(&mut s, A, "trail-one", 20);
    s.complete_job(A, first, JobOutcome::Completed, Timestamp(30))
        .unwrap();
    s.delete_job(A, first).unwrap();
    let second = create(&mut s, A, "trail-one", 40);
    assert_eq!(first, JobId(1));
    assert_eq!(second, JobId(2));
    assert!(s.job(A, first).is_none());
}

#[test]
fn job_ids_stop_before_u64_max() {
    let mut s = Sched::new(Config {
        first_job_id: u64::MAX - 2,
        ..Config::DEFAULT
    });
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let a = create(&mut s, A, "trail-one", 20);
    assert_eq!(a, JobId(u64::MAX - 2));
    s.complete_job(A, a, JobOutcome::Completed, Timestamp(21))
        .unwrap();
    let b = create(&mut s, A, "trail-one", 22);
    assert_eq!(b, JobId(u64::MAX - 1));
    s.complete_job(A, b, JobOutcome::Failed, Timestamp(23))
        .unwrap();
    expect_err(&mut s, Error::CapacityExhausted(Table::Jobs), |s| {
        s.create_job(&req(A, &hz(), "trail-one"), Timestamp(24))
    });
    // Earlier checks still come first.
    expect_err(&mut s, Error::TrailNotFound, |s| {
        s.create_job(&req(A, &hz(), "missing-trail"), Timestamp(24))
    });
    // Other operations keep working.
    assert!(s.delete_job(A, a).is_ok());
    assert!(s.check_invariants().is_ok());
}

#[test]
fn job_ids_exhausted_from_the_start() {
    let mut s = Sched::new(Config {
        first_job_id: u64::MAX,
        ..Config::DEFAULT
    });
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    expect_err(&mut s, Error::CapacityExhausted(Table::Jobs), |s| {
        s.create_job(&req(A, &hz(), "trail-one"), Timestamp(20))
    });
    let mut s = Sched::new(Config {
        first_job_id: u64::MAX - 1,
        ..Config::DEFAULT
    });
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    assert_eq!(create(&mut s, A, "trail-one", 20), JobId(u64::MAX - 1));
    s.complete_job(A, JobId(u64::MAX - 1), JobOutcome::Completed, Timestamp(21))
        .unwrap();
    expect_err(&mut s, Error::CapacityExhausted(Table::Jobs), |s| {
        s.create_job(&req(A, &hz(), "trail-one"), Timestamp(22))
    });
}

#[test]
fn exhausted_ids_are_checked_after_running_job() {
    let mut s = Sched::new(Config {
        first_job_id: u64::MAX - 1,
        ..Config::DEFAULT
    });
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let a = create(&mut s, A, "trail-one", 20);
    expect_err(&mut s, Error::JobAlreadyRunning { active: a }, |s| {
        s.create_job(&req(A, &hz(), "trail-one"), Timestamp(30))
    });
}

// ---------------------------------------------------------------- start_job

#[test]
fn start_job_moves_to_delivering() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let id = create(&mut s, A, "trail-one", 20);
    assert_eq!(s.start_job(A, id, Timestamp(30)), Ok(Transition::Changed));
    let job = s.job(A, id).unwrap();
    assert_eq!(job.status, JobStatus::Delivering);
    assert_eq!(job.created_at, Timestamp(20));
    assert_eq!(job.updated_at, Timestamp(30));
    assert_eq!(s.clock(), Timestamp(30));
    assert_eq!(s.active_job(A).map(|j| j.id), Some(id));
    assert_eq!(s.stats().active_jobs, 1);
    // Already delivering: Unchanged, nothing moves.
    expect_unchanged(&mut s, |s| s.start_job(A, id, Timestamp(40)));
    assert_eq!(s.job(A, id).unwrap().updated_at, Timestamp(30));
}

#[test]
fn start_job_errors() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let id = create(&mut s, A, "trail-one", 20);
    expect_err(&mut s, Error::JobNotFound, |s| {
        s.start_job(A, JobId(99), Timestamp(30))
    });
    s.complete_job(A, id, JobOutcome::Completed, Timestamp(30))
        .unwrap();
    expect_err(
        &mut s,
        Error::InvalidJobStatus {
            status: JobStatus::Completed,
        },
        |s| s.start_job(A, id, Timestamp(40)),
    );
    let id2 = create(&mut s, A, "trail-one", 50);
    s.start_job(A, id2, Timestamp(55)).unwrap();
    s.complete_job(A, id2, JobOutcome::Failed, Timestamp(60))
        .unwrap();
    expect_err(
        &mut s,
        Error::InvalidJobStatus {
            status: JobStatus::Failed,
        },
        |s| s.start_job(A, id2, Timestamp(70)),
    );
}

// ---------------------------------------------------------------- complete_job

#[test]
fn complete_job_from_delivering() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let id = create(&mut s, A, "trail-one", 20);
    s.start_job(A, id, Timestamp(30)).unwrap();
    assert_eq!(
        s.complete_job(A, id, JobOutcome::Completed, Timestamp(40)),
        Ok(Transition::Changed)
    );
    let job = s.job(A, id).unwrap();
    assert_eq!(job.status, JobStatus::Completed);
    assert_eq!(job.updated_at, Timestamp(40));
    assert_eq!(job.created_at, Timestamp(20));
    assert!(s.active_job(A).is_none());
    let st = s.stats();
    assert_eq!((st.jobs, st.active_jobs), (1, 0));
    assert_eq!(s.clock(), Timestamp(40));
    // Same outcome again: Unchanged (at-least-once completions).
    expect_unchanged(&mut s, |s| {
        s.complete_job(A, id, JobOutcome::Completed, Timestamp(50))
    });
    // The other outcome: InvalidJobStatus with the current status.
    expect_err(
        &mut s,
        Error::InvalidJobStatus {
            status: JobStatus::Completed,
        },
        |s| s.complete_job(A, id, JobOutcome::Failed, Timestamp(60)),
    );
}

#[test]
fn complete_job_from_initializing_as_failed() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let id = create(&mut s, A, "trail-one", 20);
    assert_eq!(
        s.complete_job(A, id, JobOutcome::Failed, Timestamp(25)),
        Ok(Transition::Changed)
    );
    let job = s.job(A, id).unwrap();
    assert_eq!(job.status, JobStatus::Failed);
    assert_eq!(job.updated_at, Timestamp(25));
    assert!(s.active_job(A).is_none());
    expect_unchanged(&mut s, |s| {
        s.complete_job(A, id, JobOutcome::Failed, Timestamp(30))
    });
    expect_err(
        &mut s,
        Error::InvalidJobStatus {
            status: JobStatus::Failed,
        },
        |s| s.complete_job(A, id, JobOutcome::Completed, Timestamp(30)),
    );
}

#[test]
fn complete_job_from_initializing_as_completed() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let id = create(&mut s, A, "trail-one", 20);
    assert_eq!(
        s.complete_job(A, id, JobOutcome::Completed, Timestamp(25)),
        Ok(Transition::Changed)
    );
    assert_eq!(s.job(A, id).unwrap().status, JobStatus::Completed);
}

#[test]
fn complete_unknown_job_is_not_found() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let id = create(&mut s, A, "trail-one", 20);
    expect_err(&mut s, Error::JobNotFound, |s| {
        s.complete_job(A, JobId(id.0 + 1), JobOutcome::Completed, Timestamp(30))
    });
    expect_err(&mut s, Error::JobNotFound, |s| {
        s.complete_job(A, JobId(0), JobOutcome::Failed, Timestamp(30))
    });
    expect_err(&mut s, Error::JobNotFound, |s| {
        s.complete_job(A, JobId(u64::MAX), JobOutcome::Failed, Timestamp(30))
    });
}

// ---------------------------------------------------------------- delete_job

#[test]
fn delete_job_returns_the_finished_job() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let id = create(&mut s, A, "trail-one", 20);
    s.start_job(A, id, Timestamp(30)).unwrap();
    s.complete_job(A, id, JobOutcome::Completed, Timestamp(40))
        .unwrap();
    let stored = s.job(A, id).unwrap().clone();
    let deleted = s.delete_job(A, id).unwrap();
    assert_eq!(deleted, stored);
    assert_eq!(deleted.status, JobStatus::Completed);
    assert!(s.job(A, id).is_none());
    assert_eq!(s.stats().jobs, 0);
    assert_eq!(s.clock(), Timestamp(40), "delete_job takes no time");
    expect_err(&mut s, Error::JobNotFound, |s| s.delete_job(A, id));
    assert_eq!(s.list_jobs(A, 1, 10).unwrap().total_count, 0);
}

#[test]
fn delete_active_job_is_not_finished() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let id = create(&mut s, A, "trail-one", 20);
    expect_err(&mut s, Error::JobNotFinished, |s| s.delete_job(A, id));
    s.start_job(A, id, Timestamp(30)).unwrap();
    expect_err(&mut s, Error::JobNotFinished, |s| s.delete_job(A, id));
    expect_err(&mut s, Error::JobNotFound, |s| s.delete_job(A, JobId(77)));
}

#[test]
fn delete_failed_job() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let id = create(&mut s, A, "trail-one", 20);
    s.complete_job(A, id, JobOutcome::Failed, Timestamp(30))
        .unwrap();
    assert_eq!(s.delete_job(A, id).unwrap().status, JobStatus::Failed);
}

// ---------------------------------------------------------------- queries

#[test]
fn active_job_follows_the_lifecycle() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    assert!(s.active_job(A).is_none());
    let id = create(&mut s, A, "trail-one", 20);
    assert_eq!(s.active_job(A).unwrap().status, JobStatus::Initializing);
    s.start_job(A, id, Timestamp(30)).unwrap();
    assert_eq!(s.active_job(A).unwrap().status, JobStatus::Delivering);
    s.complete_job(A, id, JobOutcome::Completed, Timestamp(40))
        .unwrap();
    assert!(s.active_job(A).is_none());
    let id2 = create(&mut s, A, "trail-one", 50);
    assert_eq!(s.active_job(A).unwrap().id, id2);
}

fn five_finished_jobs() -> Sched {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    for i in 0..5u64 {
        let id = create(&mut s, A, "trail-one", 20 + i);
        s.complete_job(A, id, JobOutcome::Completed, Timestamp(20 + i))
            .unwrap();
    }
    s
}

#[test]
fn list_jobs_pages_newest_first() {
    let s = five_finished_jobs();
    assert_eq!(page_ids(&s, A, 1, 2), (5, vec![5, 4]));
    assert_eq!(page_ids(&s, A, 2, 2), (5, vec![3, 2]));
    assert_eq!(page_ids(&s, A, 3, 2), (5, vec![1]));
    assert_eq!(page_ids(&s, A, 4, 2), (5, vec![]));
    assert_eq!(page_ids(&s, A, u32::MAX, 100), (5, vec![]));
    assert_eq!(page_ids(&s, A, u32::MAX, 1), (5, vec![]));
}

#[test]
fn list_jobs_page_size_bounds() {
    let s = five_finished_jobs();
    assert_eq!(page_ids(&s, A, 1, 1), (5, vec![5]));
    assert_eq!(page_ids(&s, A, 5, 1), (5, vec![1]));
    assert_eq!(page_ids(&s, A, 6, 1), (5, vec![]));
    assert_eq!(page_ids(&s, A, 1, 100), (5, vec![5, 4, 3, 2, 1]));
    assert_eq!(page_ids(&s, A, 2, 100), (5, vec![]));
    assert_eq!(
        s.list_jobs(A, 1, 0).err(),
        Some(Error::InvalidParameterValue(Parameter::PageSize))
    );
    assert_eq!(
        s.list_jobs(A, 1, 101).err(),
        Some(Error::InvalidParameterValue(Parameter::PageSize))
    );
    assert_eq!(
        s.list_jobs(A, 1, u32::MAX).err(),
        Some(Error::InvalidParameterValue(Parameter::PageSize))
    );
}

#[test]
fn list_jobs_page_number_checked_first() {
    let s = five_finished_jobs();
    for size in [0, 1, 100, 101] {
        assert_eq!(
            s.list_jobs(A, 0, size).err(),
            Some(Error::InvalidParameterValue(Parameter::PageNumber)),
            "page_size {size}"
        );
    }
    // An account without jobs gets the same validation.
    assert_eq!(
        s.list_jobs(B, 0, 10).err(),
        Some(Error::InvalidParameterValue(Parameter::PageNumber))
    );
    assert_eq!(
        s.list_jobs(B, 1, 0).err(),
        Some(Error::InvalidParameterValue(Parameter::PageSize))
    );
}

#[test]
fn list_jobs_only_the_accounts_jobs() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    logging_trail(&mut s, B, &hz(), "trail-one", 10);
    let mut a_ids = vec![];
    for i in 0..3u64 {
        let a = create(&mut s, A, "trail-one", 20 + i);
        let b = create(&mut s, B, "trail-one", 20 + i);
        s.complete_job(A, a, JobOutcome::Completed, Timestamp(20 + i))
            .unwrap();
        s.complete_job(B, b, JobOutcome::Failed, Timestamp(20 + i))
            .unwrap();
        a_ids.push(a.0);
    }
    a_ids.reverse();
    assert_eq!(page_ids(&s, A, 1, 100), (3, a_ids.clone()));
    assert_eq!(page_ids(&s, A, 1, 2), (3, a_ids[..2].to_vec()));
    assert_eq!(page_ids(&s, A, 2, 2), (3, a_ids[2..].to_vec()));
    assert_eq!(page_ids(&s, C, 1, 10), (0, vec![]));
    let page = s.list_jobs(B, 1, 100).unwrap();
    assert!(page.jobs().all(|j| j.account == B));
    assert_eq!(page.total_count, 3);
}

#[test]
fn list_jobs_includes_active_and_finished() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let first = create(&mut s, A, "trail-one", 20);
    s.complete_job(A, first, JobOutcome::Completed, Timestamp(30))
        .unwrap();
    let second = create(&mut s, A, "trail-one", 40);
    let page = s.list_jobs(A, 1, 10).unwrap();
    let statuses: Vec<(JobId, JobStatus)> = page.jobs().map(|j| (j.id, j.status)).collect();
    assert_eq!(
        statuses,
        vec![
            (second, JobStatus::Initializing),
            (first, JobStatus::Completed)
        ]
    );
}

#[test]
fn jobs_iterate_by_ascending_id() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    logging_trail(&mut s, B, &hz(), "trail-one", 10);
    let a = create(&mut s, A, "trail-one", 20);
    let b = create(&mut s, B, "trail-one", 21);
    s.complete_job(A, a, JobOutcome::Completed, Timestamp(22))
        .unwrap();
    let a2 = create(&mut s, A, "trail-one", 23);
    let ids: Vec<JobId> = s.jobs().map(|j| j.id).collect();
    assert_eq!(ids, vec![a, b, a2]);
}

// ---------------------------------------------------------------- clock

#[test]
fn clock_clamps_job_times_when_time_goes_back() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 1_000);
    // Host clock steps back.
    let id = create(&mut s, A, "trail-one", 500);
    let job = s.job(A, id).unwrap().clone();
    assert_eq!(job.created_at, Timestamp(1_000));
    assert_eq!(job.updated_at, Timestamp(1_000));
    assert_eq!(job.window_end, Timestamp(1_300));
    assert_eq!(s.clock(), Timestamp(1_000));
    s.start_job(A, id, Timestamp(200)).unwrap();
    assert_eq!(s.job(A, id).unwrap().updated_at, Timestamp(1_000));
    s.complete_job(A, id, JobOutcome::Completed, Timestamp(2_000))
        .unwrap();
    assert_eq!(s.clock(), Timestamp(2_000));
    // A later job never has an earlier created_at.
    let id2 = create(&mut s, A, "trail-one", 1_500);
    assert_eq!(s.job(A, id2).unwrap().created_at, Timestamp(2_000));
    assert_eq!(
        s.job(A, id2).unwrap().window_start,
        Timestamp(0),
        "2000 - 90 days saturates"
    );
    assert!(s.check_invariants().is_ok());
}

#[test]
fn clock_unchanged_by_errors_replays_unchanged_and_queries() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 100);
    let tok = CreateJob {
        client_token: Some(ClientToken::new("tok").unwrap()),
        ..req(A, &hz(), "trail-one")
    };
    let id = s.create_job(&tok, Timestamp(200)).unwrap().job_id;
    s.start_job(A, id, Timestamp(300)).unwrap();
    assert_eq!(s.clock(), Timestamp(300));

    // Replay.
    let before = snap(&s);
    assert_eq!(
        s.create_job(&tok, Timestamp(400)),
        Ok(JobCreated {
            job_id: id,
            replayed: true
        })
    );
    assert_eq!(s.clock(), Timestamp(300));
    assert_eq!(snap(&s), before);
    // Unchanged.
    expect_unchanged(&mut s, |s| s.start_job(A, id, Timestamp(500)));
    expect_unchanged(&mut s, |s| {
        s.start_logging(A, &hz(), &name("trail-one"), Timestamp(500))
    });
    // Errors.
    expect_err(&mut s, Error::JobAlreadyRunning { active: id }, |s| {
        s.create_job(&req(A, &hz(), "trail-one"), Timestamp(600))
    });
    expect_err(&mut s, Error::JobNotFound, |s| {
        s.start_job(A, JobId(99), Timestamp(600))
    });
    expect_err(&mut s, Error::JobNotFinished, |s| s.delete_job(A, id));
    // Queries.
    let _ = s.list_jobs(A, 1, 10).unwrap().total_count;
    let _ = s.active_job(A);
    let _ = s.job(A, id);
    assert_eq!(s.clock(), Timestamp(300));
    assert_eq!(snap(&s), before);
}

#[test]
fn invariants_hold_through_a_lifecycle() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    logging_trail(&mut s, B, &region("cn-beijing"), "trail-two", 10);
    assert!(s.check_invariants().is_ok());
    let a = create(&mut s, A, "trail-one", 20);
    let b = s
        .create_job(&req(B, &region("cn-beijing"), "trail-two"), Timestamp(21))
        .unwrap()
        .job_id;
    assert!(s.check_invariants().is_ok());
    s.start_job(A, a, Timestamp(22)).unwrap();
    s.complete_job(B, b, JobOutcome::Failed, Timestamp(23))
        .unwrap();
    s.delete_job(B, b).unwrap();
    s.complete_job(A, a, JobOutcome::Completed, Timestamp(24))
        .unwrap();
    assert!(s.check_invariants().is_ok());
    let st = s.stats();
    assert_eq!((st.trails, st.jobs, st.active_jobs), (2, 1, 0));
}

#[test]
fn first_job_id_zero_is_a_valid_id() {
    let mut s = Sched::new(Config {
        first_job_id: 0,
        ..Config::DEFAULT
    });
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let id = create(&mut s, A, "trail-one", 20);
    assert_eq!(id, JobId(0));
    assert_eq!(s.job(A, JobId(0)).unwrap().id, JobId(0));
    assert_eq!(s.start_job(A, id, Timestamp(21)), Ok(Transition::Changed));
    s.complete_job(A, id, JobOutcome::Completed, Timestamp(22))
        .unwrap();
    assert_eq!(create(&mut s, A, "trail-one", 23), JobId(1));
    assert!(s.check_invariants().is_ok());
}

#[test]
fn replay_still_answers_after_ids_are_exhausted() {
    let mut s = Sched::new(Config {
        first_job_id: u64::MAX - 1,
        ..Config::DEFAULT
    });
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let with_tok = CreateJob {
        client_token: Some(ClientToken::new("last").unwrap()),
        ..req(A, &hz(), "trail-one")
    };
    let last = s.create_job(&with_tok, Timestamp(20)).unwrap().job_id;
    assert_eq!(last, JobId(u64::MAX - 1));
    s.complete_job(A, last, JobOutcome::Completed, Timestamp(21))
        .unwrap();
    assert_eq!(
        s.create_job(&with_tok, Timestamp(22)),
        Ok(JobCreated {
            job_id: last,
            replayed: true
        })
    );
    expect_err(&mut s, Error::CapacityExhausted(Table::Jobs), |s| {
        s.create_job(&req(A, &hz(), "trail-one"), Timestamp(22))
    });
}

#[test]
fn active_job_outlives_its_trail() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let id = create(&mut s, A, "trail-one", 20);
    s.delete_trail(A, &hz(), &name("trail-one")).unwrap();
    logging_trail(&mut s, A, &hz(), "trail-one", 30);
    expect_err(&mut s, Error::JobAlreadyRunning { active: id }, |s| {
        s.create_job(&req(A, &hz(), "trail-one"), Timestamp(40))
    });
    s.complete_job(A, id, JobOutcome::Completed, Timestamp(50))
        .unwrap();
    let next = create(&mut s, A, "trail-one", 60);
    // The new job's window uses the new trail's logging_since.
    assert_eq!(s.job(A, next).unwrap().window_end, Timestamp(330));
}

#[test]
fn long_names_differing_in_the_last_char_are_distinct_trails() {
    let mut s = Sched::new(Config::DEFAULT);
    let base = format!("a{}", "b".repeat(34));
    let x = format!("{base}x");
    let y = format!("{base}y");
    let long_region = region(&"r".repeat(32));
    logging_trail(&mut s, A, &long_region, &x, 10);
    s.create_trail(A, &long_region, &spec(&y), Timestamp(11))
        .unwrap();
    assert!(
        s.trail(A, &long_region, &name(&x))
            .unwrap()
            .logging_since
            .is_some()
    );
    assert!(
        s.trail(A, &long_region, &name(&y))
            .unwrap()
            .logging_since
            .is_none()
    );
    expect_err(
        &mut s,
        Error::TrailNotEligible(Ineligibility::NotLogging),
        |s| s.create_job(&req(A, &long_region, &y), Timestamp(12)),
    );
    let out = s
        .create_job(&req(A, &long_region, &x), Timestamp(12))
        .unwrap();
    assert_eq!(s.job(A, out.job_id).unwrap().trail_name.as_str(), x);
}

#[test]
fn pages_compare_by_their_numbers_and_jobs_and_show_them() {
    let a = AccountId(41);
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, a, &hz(), "trail-aaa", 10);
    for at in [20, 30, 40] {
        let job = create(&mut s, a, "trail-aaa", at);
        s.complete_job(a, job, JobOutcome::Completed, Timestamp(at + 1))
            .unwrap();
    }
    let page = |number, size| s.list_jobs(a, number, size).unwrap();
    assert_eq!(page(1, 2), page(1, 2));
    assert_eq!(page(1, 2).clone(), page(1, 2));
    assert_ne!(page(1, 2), page(2, 2), "other page number and jobs");
    assert_ne!(page(1, 2), page(1, 3), "other page size and jobs");
    assert_ne!(page(2, 1), page(2, 2), "same second job, other size");
    // Same numbers, other jobs: another account's first page of the same shape.
    let b = AccountId(42);
    let mut t = Sched::new(Config::DEFAULT);
    logging_trail(&mut t, a, &hz(), "trail-aaa", 10);
    logging_trail(&mut t, b, &hz(), "trail-aaa", 10);
    create(&mut t, b, "trail-aaa", 15);
    create(&mut t, a, "trail-aaa", 20);
    let (pa, pb) = (t.list_jobs(a, 1, 5).unwrap(), t.list_jobs(b, 1, 5).unwrap());
    assert_eq!((pa.total_count, pb.total_count), (1, 1));
    assert_ne!(pa, pb, "same numbers, other jobs");

    let shown = format!("{:?}", page(1, 2));
    for part in [
        "total_count: 3",
        "page_number: 1",
        "page_size: 2",
        "JobId(3)",
        "JobId(2)",
    ] {
        assert!(shown.contains(part), "{part} missing from {shown}");
    }
    assert!(!shown.contains("JobId(1)"), "{shown}");
}
