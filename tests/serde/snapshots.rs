//! Scheduler snapshots: round trips through JSON and postcard, and capacity rules.

use super::*;

#[test]
fn scheduler_round_trips_through_json_and_postcard() {
    let s = busy();
    assert!(s.check_invariants().is_ok());
    let text = json(&s);
    let back: Sched = serde_json::from_str(&text).unwrap();
    assert_eq!(back, s);
    assert_eq!(
        json(&back),
        text,
        "a restored scheduler serializes as the original"
    );
    assert_eq!(back.stats(), s.stats());
    assert_eq!(back.clock(), s.clock());
    assert_eq!(back.config(), s.config());
    assert_eq!(back.next_job_id(), s.next_job_id());
    assert!(back.check_invariants().is_ok());

    let raw = bytes(&s);
    let back: Sched = postcard::from_bytes(&raw).unwrap();
    assert_eq!(back, s);
    assert_eq!(bytes(&back), raw);

    let c = churned();
    let back: JobScheduler<4, 2, 2> = postcard::from_bytes(&bytes(&c)).unwrap();
    assert_eq!(back, c);
    assert_eq!(back.stats(), c.stats());
    let back: JobScheduler<4, 2, 2> = serde_json::from_str(&json(&c)).unwrap();
    assert_eq!(back, c);
}

#[test]
fn empty_scheduler_round_trips() {
    let s = Sched::new(Config::DEFAULT);
    let back: Sched = serde_json::from_str(&json(&s)).unwrap();
    assert_eq!(back, s);
    let back: Sched = postcard::from_bytes(&bytes(&s)).unwrap();
    assert_eq!(back, s);
}

#[test]
fn restored_scheduler_behaves_like_the_original() {
    let mut original = busy();
    let mut restored: Sched = postcard::from_bytes(&bytes(&original)).unwrap();
    // Token replay, the running-job check, id assignment and paging all carry over.
    for s in [&mut original, &mut restored] {
        assert_eq!(
            s.create_job(&req(A, "trail-aaa", Some("tok-1")), Timestamp(180)),
            Ok(JobCreated {
                job_id: JobId(FIRST_ID),
                replayed: true
            })
        );
        let active = s.active_job(A).unwrap().id;
        assert_eq!(
            s.create_job(&req(A, "trail-aaa", None), Timestamp(180)),
            Err(Error::JobAlreadyRunning { active })
        );
        s.complete_job(A, active, JobOutcome::Completed, Timestamp(190))
            .unwrap();
        let next = s
            .create_job(&req(A, "trail-aaa", Some("tok-9")), Timestamp(200))
            .unwrap();
        assert_eq!(next.job_id, JobId(FIRST_ID + 4));
    }
    assert_eq!(json(&original), json(&restored));
}

#[test]
fn snapshot_keeps_config_and_capacity_rules_with_extreme_values() {
    // Valid snapshots are accepted whatever their values: full tables, ids near exhaustion,
    // expired tokens, saturated windows, clock at u64::MAX.
    let mut s = JobScheduler::<2, 2, 2>::new(Config {
        first_job_id: u64::MAX - 3,
        token_ttl_secs: 5,
        ..Config::DEFAULT
    });
    s.create_trail(A, &hz(), &spec("trail-aaa"), Timestamp(u64::MAX - 100))
        .unwrap();
    s.create_trail(B, &hz(), &spec("trail-bbb"), Timestamp(u64::MAX - 100))
        .unwrap();
    s.start_logging(A, &hz(), &name("trail-aaa"), Timestamp(u64::MAX - 50))
        .unwrap();
    for (i, tok) in ["t1", "t2"].into_iter().enumerate() {
        let id = s
            .create_job(
                &req(A, "trail-aaa", Some(tok)),
                Timestamp(u64::MAX - 40 + i as u64),
            )
            .unwrap()
            .job_id;
        s.complete_job(A, id, JobOutcome::Failed, Timestamp(u64::MAX - 30))
            .unwrap();
    }
    s.stop_logging(A, &hz(), &name("trail-aaa"), Timestamp(u64::MAX))
        .unwrap();
    assert!(s.check_invariants().is_ok());
    let back: JobScheduler<2, 2, 2> = serde_json::from_str(&json(&s)).unwrap();
    assert_eq!(back, s);
    let back: JobScheduler<2, 2, 2> = postcard::from_bytes(&bytes(&s)).unwrap();
    assert_eq!(back, s);
}

#[test]
fn truncated_postcard_snapshot_is_rejected() {
    let raw = bytes(&busy());
    for cut in [0, 1, raw.len() / 2, raw.len() - 1] {
        assert!(
            postcard::from_bytes::<Sched>(&raw[..cut]).is_err(),
            "accepted {cut} of {} bytes",
            raw.len()
        );
    }
}

#[test]
fn snapshot_larger_than_the_capacity_is_rejected() {
    let s = busy();
    assert!(s.stats().jobs > 2);
    assert!(serde_json::from_str::<JobScheduler<8, 2, 8>>(&json(&s)).is_err());
    assert!(postcard::from_bytes::<JobScheduler<8, 2, 8>>(&bytes(&s)).is_err());
    assert!(s.stats().trails > 2);
    assert!(serde_json::from_str::<JobScheduler<2, 8, 8>>(&json(&s)).is_err());
    assert!(s.stats().tokens > 1);
    assert!(serde_json::from_str::<JobScheduler<8, 8, 1>>(&json(&s)).is_err());
    // The same snapshot fits a larger scheduler.
    let bigger: JobScheduler<16, 16, 16> = serde_json::from_str(&json(&s)).unwrap();
    assert_same_content(&bigger, &s);
}
