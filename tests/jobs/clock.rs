//! The clock, invariants through a lifecycle, and edge cases of ids and names.

use super::*;

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
