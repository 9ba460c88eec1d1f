//! Contract tests for account isolation: another account's jobs and trails are invisible
//! (`JobNotFound`, `TrailNotFound`, `None`), and accounts do not affect each other.

use trail_backfill::*;

mod common;
use common::{bj, hz, logging_trail, name, snap, spec};

type Sched = JobScheduler<8, 8, 8>;

const A: AccountId = AccountId(1001);
const B: AccountId = AccountId(2002);

fn expect_err<R: std::fmt::Debug>(
    s: &mut Sched,
    expected: Error,
    f: impl FnOnce(&mut Sched) -> Result<R, Error>,
) {
    let before = snap(s);
    let clock = s.clock();
    assert_eq!(f(s).unwrap_err(), expected);
    assert_eq!(snap(s), before);
    assert_eq!(s.clock(), clock);
}

fn req(account: AccountId, r: &Region, n: &str, tok: Option<&str>) -> CreateJob {
    CreateJob {
        account,
        region: r.clone(),
        trail_name: name(n),
        client_token: tok.map(|t| ClientToken::new(t).unwrap()),
    }
}

fn create(s: &mut Sched, account: AccountId, r: &Region, n: &str, now: u64) -> JobId {
    s.create_job(&req(account, r, n, None), Timestamp(now))
        .unwrap()
        .job_id
}

/// Everything B could do to A's job `id` answers as if it did not exist.
fn assert_invisible_to(s: &mut Sched, other: AccountId, id: JobId) {
    assert!(s.job(other, id).is_none());
    assert!(s.active_job(other).is_none());
    let page = s.list_jobs(other, 1, 100).unwrap();
    assert_eq!(page.total_count, 0);
    assert_eq!(page.jobs().count(), 0);
    expect_err(s, Error::JobNotFound, |s| {
        s.start_job(other, id, Timestamp(500))
    });
    for outcome in [JobOutcome::Completed, JobOutcome::Failed] {
        expect_err(s, Error::JobNotFound, |s| {
            s.complete_job(other, id, outcome, Timestamp(500))
        });
    }
    expect_err(s, Error::JobNotFound, |s| s.delete_job(other, id));
    expect_err(s, Error::JobNotFound, |s| {
        s.apply(
            &Command::StartJob {
                account: other,
                job: id,
            },
            Timestamp(500),
        )
    });
    expect_err(s, Error::JobNotFound, |s| {
        s.apply(
            &Command::CompleteJob {
                account: other,
                job: id,
                outcome: JobOutcome::Completed,
            },
            Timestamp(500),
        )
    });
    expect_err(s, Error::JobNotFound, |s| {
        s.apply(
            &Command::DeleteJob {
                account: other,
                job: id,
            },
            Timestamp(500),
        )
    });
}

#[test]
fn another_account_cannot_see_an_initializing_job() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let id = create(&mut s, A, &hz(), "trail-one", 20);
    // Not JobNotFinished: deleting reveals nothing.
    assert_invisible_to(&mut s, B, id);
    assert_eq!(s.job(A, id).unwrap().status, JobStatus::Initializing);
}

#[test]
fn another_account_cannot_see_a_delivering_job() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let id = create(&mut s, A, &hz(), "trail-one", 20);
    s.start_job(A, id, Timestamp(30)).unwrap();
    assert_invisible_to(&mut s, B, id);
    assert_eq!(s.job(A, id).unwrap().status, JobStatus::Delivering);
}

#[test]
fn another_account_cannot_see_or_delete_a_finished_job() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let id = create(&mut s, A, &hz(), "trail-one", 20);
    s.complete_job(A, id, JobOutcome::Completed, Timestamp(30))
        .unwrap();
    // Not InvalidJobStatus, not Unchanged: JobNotFound.
    assert_invisible_to(&mut s, B, id);
    assert_eq!(s.job(A, id).unwrap().status, JobStatus::Completed);
    assert_eq!(s.delete_job(A, id).unwrap().id, id);
}

#[test]
fn another_account_with_its_own_jobs_still_cannot_reach_ours() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    logging_trail(&mut s, B, &hz(), "trail-one", 10);
    let a = create(&mut s, A, &hz(), "trail-one", 20);
    let b = create(&mut s, B, &hz(), "trail-one", 21);
    assert!(s.job(B, a).is_none());
    assert!(s.job(A, b).is_none());
    assert_eq!(s.active_job(A).unwrap().id, a);
    assert_eq!(s.active_job(B).unwrap().id, b);
    let ids: Vec<JobId> = s
        .list_jobs(B, 1, 100)
        .unwrap()
        .jobs()
        .map(|j| j.id)
        .collect();
    assert_eq!(ids, vec![b]);
    expect_err(&mut s, Error::JobNotFound, |s| {
        s.start_job(B, a, Timestamp(30))
    });
    expect_err(&mut s, Error::JobNotFound, |s| {
        s.complete_job(A, b, JobOutcome::Failed, Timestamp(30))
    });
}

#[test]
fn another_accounts_trail_of_the_same_name_is_not_found() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    assert!(s.trail(B, &hz(), &name("trail-one")).is_none());
    expect_err(&mut s, Error::TrailNotFound, |s| {
        s.create_job(&req(B, &hz(), "trail-one", None), Timestamp(20))
    });
    expect_err(&mut s, Error::TrailNotFound, |s| {
        s.start_logging(B, &hz(), &name("trail-one"), Timestamp(20))
    });
    expect_err(&mut s, Error::TrailNotFound, |s| {
        s.stop_logging(B, &hz(), &name("trail-one"), Timestamp(20))
    });
    expect_err(&mut s, Error::TrailNotFound, |s| {
        s.delete_trail(B, &hz(), &name("trail-one"))
    });
    // B creating its own trail of that name is not TrailAlreadyExists.
    s.create_trail(B, &hz(), &spec("trail-one"), Timestamp(30))
        .unwrap();
    // And B's trail is not logging even though A's is.
    assert_eq!(
        s.trail(B, &hz(), &name("trail-one")).unwrap().logging_since,
        None
    );
    assert_eq!(
        s.trail(A, &hz(), &name("trail-one")).unwrap().logging_since,
        Some(Timestamp(10))
    );
    // Stopping B's does not stop A's.
    s.start_logging(B, &hz(), &name("trail-one"), Timestamp(40))
        .unwrap();
    s.stop_logging(B, &hz(), &name("trail-one"), Timestamp(50))
        .unwrap();
    assert!(
        s.trail(A, &hz(), &name("trail-one"))
            .unwrap()
            .logging_since
            .is_some()
    );
    // Deleting B's does not delete A's.
    s.delete_trail(B, &hz(), &name("trail-one")).unwrap();
    assert!(s.trail(A, &hz(), &name("trail-one")).is_some());
}

#[test]
fn one_active_job_per_account_across_regions_and_trails() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    logging_trail(&mut s, A, &hz(), "trail-two", 10);
    logging_trail(&mut s, A, &bj(), "trail-three", 10);
    logging_trail(&mut s, B, &bj(), "trail-three", 10);
    let a = create(&mut s, A, &bj(), "trail-three", 20);
    for (r, n) in [
        (hz(), "trail-one"),
        (hz(), "trail-two"),
        (bj(), "trail-three"),
    ] {
        expect_err(&mut s, Error::JobAlreadyRunning { active: a }, |s| {
            s.create_job(&req(A, &r, n, Some("fresh")), Timestamp(30))
        });
    }
    // B is not blocked by A's active job, and is told about its own only.
    let b = create(&mut s, B, &bj(), "trail-three", 31);
    assert_eq!(s.stats().active_jobs, 2);
    expect_err(&mut s, Error::JobAlreadyRunning { active: b }, |s| {
        s.create_job(&req(B, &bj(), "trail-three", None), Timestamp(32))
    });
    // Finishing B's job does not free A.
    s.complete_job(B, b, JobOutcome::Completed, Timestamp(33))
        .unwrap();
    expect_err(&mut s, Error::JobAlreadyRunning { active: a }, |s| {
        s.create_job(&req(A, &hz(), "trail-one", None), Timestamp(34))
    });
    assert!(s.check_invariants().is_ok());
}

#[test]
fn trail_limits_are_per_account() {
    let mut s = Sched::new(Config {
        max_trails_per_account: 1,
        ..Config::DEFAULT
    });
    s.create_trail(A, &hz(), &spec("trail-one"), Timestamp(1))
        .unwrap();
    s.create_trail(B, &hz(), &spec("trail-two"), Timestamp(1))
        .unwrap();
    expect_err(&mut s, Error::TrailLimitExceeded, |s| {
        s.create_trail(A, &hz(), &spec("trail-two"), Timestamp(2))
    });
}

#[test]
fn tokens_of_one_account_do_not_leak_to_another() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    logging_trail(&mut s, B, &hz(), "trail-one", 10);
    let a = s
        .create_job(&req(A, &hz(), "trail-one", Some("tok")), Timestamp(20))
        .unwrap();
    let b = s
        .create_job(&req(B, &hz(), "trail-one", Some("tok")), Timestamp(21))
        .unwrap();
    assert!(!b.replayed);
    assert_ne!(a.job_id, b.job_id);
    assert_eq!(s.job(B, b.job_id).unwrap().account, B);
}

#[test]
fn accounts_are_independent_through_a_full_story() {
    // The same story for A alone, and for A with B busy in parallel, leaves A's view identical.
    let story = |s: &mut Sched| -> Vec<Job> {
        let a1 = s
            .create_job(&req(A, &hz(), "trail-one", None), Timestamp(100))
            .unwrap()
            .job_id;
        s.start_job(A, a1, Timestamp(110)).unwrap();
        s.complete_job(A, a1, JobOutcome::Completed, Timestamp(120))
            .unwrap();
        let a2 = s
            .create_job(&req(A, &hz(), "trail-one", None), Timestamp(130))
            .unwrap()
            .job_id;
        s.start_job(A, a2, Timestamp(140)).unwrap();
        s.list_jobs(A, 1, 100).unwrap().jobs().cloned().collect()
    };
    let mut alone = Sched::new(Config::DEFAULT);
    logging_trail(&mut alone, A, &hz(), "trail-one", 10);
    let mut shared = Sched::new(Config::DEFAULT);
    logging_trail(&mut shared, A, &hz(), "trail-one", 10);
    logging_trail(&mut shared, B, &hz(), "trail-one", 10);
    let b = create(&mut shared, B, &hz(), "trail-one", 50);
    let alone_jobs = story(&mut alone);
    let shared_jobs = story(&mut shared);
    // Ids differ (one shared counter), everything else about A's jobs matches.
    assert_eq!(alone_jobs.len(), shared_jobs.len());
    for (x, y) in alone_jobs.iter().zip(&shared_jobs) {
        assert_eq!(x.account, y.account);
        assert_eq!(x.status, y.status);
        assert_eq!(x.created_at, y.created_at);
        assert_eq!(x.updated_at, y.updated_at);
        assert_eq!(x.window_start, y.window_start);
        assert_eq!(x.window_end, y.window_end);
    }
    // B's job is untouched by all of A's work.
    let bj_job = shared.job(B, b).unwrap();
    assert_eq!(bj_job.status, JobStatus::Initializing);
    assert_eq!(bj_job.updated_at, Timestamp(50));
}

#[test]
fn extreme_account_ids_are_ordinary() {
    let mut s = Sched::new(Config::DEFAULT);
    for acc in [AccountId(0), AccountId(u64::MAX)] {
        logging_trail(&mut s, acc, &hz(), "trail-one", 10);
        let id = create(&mut s, acc, &hz(), "trail-one", 20);
        assert_eq!(s.active_job(acc).unwrap().id, id);
    }
    assert!(s.job(AccountId(0), JobId(2)).is_none());
    assert!(s.job(AccountId(u64::MAX), JobId(1)).is_none());
    assert!(s.check_invariants().is_ok());
}
