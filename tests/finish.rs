//! Contract tests for SPEC section 9, ending a leased job: `finish_job` (and its `Unchanged`
//! rule on finished jobs), `stop_job`, `complete_job` on a leased job, `Stats::leased_jobs`.

#[path = "common/workers.rs"]
mod workers;

use trail_backfill::*;
use workers::*;

// ------------------------------------------------------------------ finish_job

#[test]
fn finish_job_completes_and_a_retried_finish_is_unchanged() {
    let mut s = Sched::new(defaults());
    let id = new_job(&mut s, A, T0);
    let lease = claim(&mut s, A, id, T0);
    beat(&mut s, &lease, 42, T0 + 10);
    assert_eq!(
        changed(&mut s, T0 + 20, |s| s.finish_job(
            &lease,
            JobOutcome::Completed,
            Timestamp(T0 + 20)
        )),
        Ok(Transition::Changed)
    );
    let j = job(&s, A, id);
    assert_finished(&j, JobStatus::Completed, None);
    assert_eq!(j.updated_at, Timestamp(T0 + 20));
    assert_eq!((j.attempt, j.delivered), (1, 42));
    assert_eq!(s.stats().leased_jobs, 0);
    assert_eq!(s.stats().active_jobs, 0);
    assert!(s.active_job(A).is_none());
    assert_eq!(s.poll_timeout(), None);
    // At-least-once delivery of the finish is safe; the other outcome is LeaseLost.
    expect_unchanged(&mut s, |s| {
        s.finish_job(&lease, JobOutcome::Completed, Timestamp(T0 + 30))
    });
    expect_err(&mut s, Error::LeaseLost, |s| {
        s.finish_job(&lease, JobOutcome::Failed, Timestamp(T0 + 30))
    });
    let other_attempt = Lease {
        attempt: 2,
        ..lease
    };
    expect_err(&mut s, Error::LeaseLost, |s| {
        s.finish_job(&other_attempt, JobOutcome::Completed, Timestamp(T0 + 30))
    });
    expect_err(&mut s, Error::JobNotFound, |s| {
        s.finish_job(
            &Lease {
                account: B,
                ..lease
            },
            JobOutcome::Completed,
            Timestamp(T0 + 30),
        )
    });
    // The account may create its next job.
    let next = new_job(&mut s, A, T0 + 40);
    assert_ne!(next, id);
}

#[test]
fn finish_job_failed_is_reported() {
    let mut s = Sched::new(defaults());
    let id = new_job(&mut s, A, T0);
    let lease = claim_next(&mut s, T0);
    assert_eq!(
        changed(&mut s, T0 + 5, |s| s.finish_job(
            &lease,
            JobOutcome::Failed,
            Timestamp(T0 + 5)
        )),
        Ok(Transition::Changed)
    );
    let j = job(&s, A, id);
    assert_finished(&j, JobStatus::Failed, Some(FailureReason::Reported));
    assert_eq!(j.updated_at, Timestamp(T0 + 5));
    expect_unchanged(&mut s, |s| {
        s.finish_job(&lease, JobOutcome::Failed, Timestamp(T0 + 6))
    });
    expect_err(&mut s, Error::LeaseLost, |s| {
        s.finish_job(&lease, JobOutcome::Completed, Timestamp(T0 + 6))
    });
}

#[test]
fn finish_job_on_an_active_job_needs_the_lease_held() {
    let mut s = Sched::new(defaults());
    let id = new_job(&mut s, A, T0);
    let never_claimed = Lease {
        account: A,
        job: id,
        attempt: 0,
        expires_at: Timestamp(T0),
    };
    expect_err(&mut s, Error::LeaseLost, |s| {
        s.finish_job(&never_claimed, JobOutcome::Completed, Timestamp(T0 + 1))
    });
    let first = Lease {
        attempt: 1,
        ..never_claimed
    };
    expect_err(&mut s, Error::LeaseLost, |s| {
        s.finish_job(&first, JobOutcome::Completed, Timestamp(T0 + 1))
    });
    assert_eq!(job(&s, A, id).status, JobStatus::Initializing);
}

#[test]
fn a_finish_that_lost_the_race_to_a_stop_is_unchanged_when_failed() {
    let mut s = Sched::new(defaults());
    let id = new_job(&mut s, A, T0);
    let lease = claim_next(&mut s, T0);
    assert_eq!(
        changed(&mut s, T0 + 50, |s| s.stop_job(A, id, Timestamp(T0 + 50))),
        Ok(Transition::Changed)
    );
    let j = job(&s, A, id);
    assert_finished(&j, JobStatus::Failed, Some(FailureReason::Stopped));
    assert_eq!(j.updated_at, Timestamp(T0 + 50));
    assert_eq!(s.stats().leased_jobs, 0);
    expect_unchanged(&mut s, |s| {
        s.finish_job(&lease, JobOutcome::Failed, Timestamp(T0 + 60))
    });
    assert_eq!(job(&s, A, id).failure, Some(FailureReason::Stopped));
    expect_err(&mut s, Error::LeaseLost, |s| {
        s.finish_job(&lease, JobOutcome::Completed, Timestamp(T0 + 60))
    });
    expect_err(&mut s, Error::LeaseLost, |s| {
        s.heartbeat(&lease, 1, Timestamp(T0 + 60))
    });
}

#[test]
fn a_finish_after_the_last_lease_expired_is_unchanged_when_failed() {
    let mut s = Sched::new(workers(300, 1, 60, 3600, 86_400));
    let id = new_job(&mut s, A, T0);
    let lease = claim_next(&mut s, T0);
    assert_eq!(timeouts(&mut s, T0 + 300), (1, 1));
    assert_finished(
        &job(&s, A, id),
        JobStatus::Failed,
        Some(FailureReason::LeaseExpired),
    );
    expect_unchanged(&mut s, |s| {
        s.finish_job(&lease, JobOutcome::Failed, Timestamp(T0 + 301))
    });
    expect_err(&mut s, Error::LeaseLost, |s| {
        s.finish_job(&lease, JobOutcome::Completed, Timestamp(T0 + 301))
    });
}

#[test]
fn a_finish_on_a_job_completed_directly_compares_the_attempt() {
    let mut s = Sched::new(defaults());
    let id = new_job(&mut s, A, T0);
    s.complete_job(A, id, JobOutcome::Completed, Timestamp(T0 + 1))
        .unwrap();
    let zero = Lease {
        account: A,
        job: id,
        attempt: 0,
        expires_at: Timestamp(T0),
    };
    // "whatever finished it": same status, same attempt (0).
    expect_unchanged(&mut s, |s| {
        s.finish_job(&zero, JobOutcome::Completed, Timestamp(T0 + 2))
    });
    expect_err(&mut s, Error::LeaseLost, |s| {
        s.finish_job(
            &Lease { attempt: 1, ..zero },
            JobOutcome::Completed,
            Timestamp(T0 + 2),
        )
    });
}

// --------------------------------------------------------- complete_job, stop

#[test]
fn complete_job_on_a_leased_job_ends_the_lease() {
    for outcome in [JobOutcome::Completed, JobOutcome::Failed] {
        let mut s = Sched::new(defaults());
        let id = new_job(&mut s, A, T0);
        let lease = claim_next(&mut s, T0);
        assert_eq!(s.stats().leased_jobs, 1);
        assert_eq!(
            changed(&mut s, T0 + 7, |s| s.complete_job(
                A,
                id,
                outcome,
                Timestamp(T0 + 7)
            )),
            Ok(Transition::Changed)
        );
        let j = job(&s, A, id);
        let (status, failure) = match outcome {
            JobOutcome::Completed => (JobStatus::Completed, None),
            JobOutcome::Failed => (JobStatus::Failed, Some(FailureReason::Reported)),
        };
        assert_finished(&j, status, failure);
        assert_eq!(j.updated_at, Timestamp(T0 + 7));
        assert_eq!(j.attempt, 1);
        assert_eq!(s.stats().leased_jobs, 0);
        assert_eq!(s.poll_timeout(), None);
        expect_err(&mut s, Error::LeaseLost, |s| {
            s.heartbeat(&lease, 1, Timestamp(T0 + 8))
        });
        // The worker's own finish with the same outcome is a harmless retry.
        expect_unchanged(&mut s, |s| s.finish_job(&lease, outcome, Timestamp(T0 + 8)));
        // Nothing is left to time out.
        nothing_due(&mut s, u64::MAX);
    }
}

#[test]
fn stop_job_fails_an_active_job_and_is_unchanged_on_a_finished_one() {
    let mut s = Sched::new(defaults());
    // Not yet claimed.
    let a = new_job(&mut s, A, T0);
    assert_eq!(
        changed(&mut s, T0 + 1, |s| s.stop_job(A, a, Timestamp(T0 + 1))),
        Ok(Transition::Changed)
    );
    let j = job(&s, A, a);
    assert_finished(&j, JobStatus::Failed, Some(FailureReason::Stopped));
    assert_eq!(j.updated_at, Timestamp(T0 + 1));
    assert!(s.active_job(A).is_none());
    expect_unchanged(&mut s, |s| s.stop_job(A, a, Timestamp(T0 + 2)));
    // complete_job with the same outcome is Unchanged and keeps the reason.
    expect_unchanged(&mut s, |s| {
        s.complete_job(A, a, JobOutcome::Failed, Timestamp(T0 + 2))
    });
    assert_eq!(job(&s, A, a).failure, Some(FailureReason::Stopped));
    expect_err(
        &mut s,
        Error::InvalidJobStatus {
            status: JobStatus::Failed,
        },
        |s| s.complete_job(A, a, JobOutcome::Completed, Timestamp(T0 + 2)),
    );
    // A job waiting for a retry (active, not leased).
    let b = new_job(&mut s, B, T0 + 3);
    claim(&mut s, B, b, T0 + 3);
    assert_eq!(timeouts(&mut s, T0 + 303), (1, 0));
    assert_eq!(
        changed(&mut s, T0 + 310, |s| s.stop_job(B, b, Timestamp(T0 + 310))),
        Ok(Transition::Changed)
    );
    assert_finished(
        &job(&s, B, b),
        JobStatus::Failed,
        Some(FailureReason::Stopped),
    );
    // A completed job stays completed.
    let c = new_job(&mut s, C, T0 + 320);
    s.complete_job(C, c, JobOutcome::Completed, Timestamp(T0 + 321))
        .unwrap();
    expect_unchanged(&mut s, |s| s.stop_job(C, c, Timestamp(T0 + 322)));
    assert_finished(&job(&s, C, c), JobStatus::Completed, None);
    // Not found: another account's job, or no such job.
    expect_err(&mut s, Error::JobNotFound, |s| {
        s.stop_job(D, c, Timestamp(T0 + 323))
    });
    expect_err(&mut s, Error::JobNotFound, |s| {
        s.stop_job(C, JobId(c.0 + 1), Timestamp(T0 + 323))
    });
    assert_eq!(s.stats().active_jobs, 0);
}

#[test]
fn leased_jobs_counts_the_leases_held() {
    let mut s = Sched::new(defaults());
    let a = new_job(&mut s, A, T0);
    let b = new_job(&mut s, B, T0);
    let c = new_job(&mut s, C, T0);
    let la = claim_next(&mut s, T0);
    let _lb = claim_next(&mut s, T0 + 100);
    assert_eq!((la.job, s.stats().leased_jobs), (a, 2));
    claim(&mut s, C, c, T0 + 200);
    assert_eq!(s.stats().leased_jobs, 3);
    assert_eq!(s.stats().active_jobs, 3);
    // a's lease runs out (T0 + 300); b's (T0 + 400) and c's (T0 + 500) are not due yet.
    assert_eq!(timeouts(&mut s, T0 + 350), (1, 0));
    assert_eq!(s.stats().leased_jobs, 2);
    s.stop_job(B, b, Timestamp(T0 + 360)).unwrap();
    assert_eq!(s.stats().leased_jobs, 1);
    s.finish_job(
        &lease_of(&s, C, c),
        JobOutcome::Completed,
        Timestamp(T0 + 370),
    )
    .unwrap();
    assert_eq!(s.stats().leased_jobs, 0);
    assert_eq!(s.stats().active_jobs, 1);
}

#[test]
fn direct_transitions_on_a_job_waiting_for_a_retry() {
    let mut s = Sched::new(defaults());
    let id = new_job(&mut s, A, T0);
    let lease = claim_next(&mut s, T0);
    assert_eq!(timeouts(&mut s, T0 + 300), (1, 0));
    // Already Delivering: start_job is Unchanged and does not lease.
    expect_unchanged(&mut s, |s| s.start_job(A, id, Timestamp(T0 + 310)));
    assert_waiting(&job(&s, A, id), 1, T0 + 360);
    // complete_job still finishes it (an operator override).
    assert_eq!(
        changed(&mut s, T0 + 320, |s| s.complete_job(
            A,
            id,
            JobOutcome::Failed,
            Timestamp(T0 + 320)
        )),
        Ok(Transition::Changed)
    );
    let j = job(&s, A, id);
    assert_finished(&j, JobStatus::Failed, Some(FailureReason::Reported));
    assert_eq!(j.updated_at, Timestamp(T0 + 320));
    assert_eq!(s.poll_timeout(), None);
    claim_none(&mut s, T0 + 400);
    // The worker of attempt 1 learns of it: same attempt, same status.
    expect_unchanged(&mut s, |s| {
        s.finish_job(&lease, JobOutcome::Failed, Timestamp(T0 + 400))
    });
}

#[test]
fn a_lease_past_its_end_still_reports_and_finishes_until_handled() {
    let mut s = Sched::new(defaults());
    let id = new_job(&mut s, A, T0);
    let lease = claim_next(&mut s, T0); // ends T0 + 300
    assert_eq!(
        changed(&mut s, T0 + 400, |s| s.report_region(
            &lease,
            &region("cn-beijing"),
            JobStatus::Delivering,
            Timestamp(T0 + 400)
        )),
        Ok(Transition::Changed)
    );
    assert_eq!(job(&s, A, id).lease_expires_at, Some(Timestamp(T0 + 300)));
    assert_eq!(
        changed(&mut s, T0 + 500, |s| s.finish_job(
            &lease,
            JobOutcome::Completed,
            Timestamp(T0 + 500)
        )),
        Ok(Transition::Changed)
    );
    assert_finished(&job(&s, A, id), JobStatus::Completed, None);
    assert_eq!(
        regions(&s, A, id),
        pairs(&[("cn-beijing", JobStatus::Completed)])
    );
    nothing_due(&mut s, T0 + 600);
}
