//! `complete_job`.

use super::*;

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
