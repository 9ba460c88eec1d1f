//! `create_job`: the check order, event windows and ids.

use super::*;

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
