//! `delete_job`.

use super::*;

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
