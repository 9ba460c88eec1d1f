//! `start_job`.

use super::*;

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
