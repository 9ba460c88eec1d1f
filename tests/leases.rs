//! Contract tests for SPEC section 9, leases: `claim_next`, `claim_job` (and the order of its
//! checks), `heartbeat`, fencing (`LeaseLost`), `start_job` (never leases), the new errors.
//! Ending a leased job is in `tests/finish.rs`.

#[path = "common/workers.rs"]
mod workers;

use trail_backfill::*;
use workers::*;

// ------------------------------------------------------------------ claim_next

#[test]
fn a_new_job_is_not_leased_and_claim_next_leases_it() {
    let mut s = Sched::new(defaults());
    let id = new_job(&mut s, A, T0);
    let j = job(&s, A, id);
    // "attempt (0 before the first claim)", "not_before (created_at at first)".
    assert_eq!(j.status, JobStatus::Initializing);
    assert_waiting(&j, 0, T0);
    assert_eq!(j.delivered, 0);
    assert_eq!(regions(&s, A, id), pairs(&[]));
    assert_eq!(s.stats().leased_jobs, 0);

    let lease = claim_next(&mut s, T0 + 10);
    // "attempt += 1; Initializing -> Delivering; lease_expires_at = min(now + lease_secs,
    // deadline); updated_at = now".
    assert_eq!(
        lease,
        Lease {
            account: A,
            job: id,
            attempt: 1,
            expires_at: Timestamp(T0 + 310),
        }
    );
    let j = job(&s, A, id);
    assert_eq!(j.status, JobStatus::Delivering);
    assert_eq!(j.attempt, 1);
    assert_eq!(j.lease_expires_at, Some(Timestamp(T0 + 310)));
    assert_eq!(j.updated_at, Timestamp(T0 + 10));
    assert_eq!(j.created_at, Timestamp(T0));
    assert_eq!(j.failure, None);
    assert_eq!(s.stats().leased_jobs, 1);
    assert_eq!(s.stats().active_jobs, 1);
    assert_eq!(s.active_job(A).map(|j| j.id), Some(id));

    // A leased job is not claimed again, and "None if there is none, and nothing changes".
    claim_none(&mut s, T0 + 20);
    claim_none(&mut s, T0 + 10_000);
}

#[test]
fn claim_next_on_an_empty_or_finished_scheduler_changes_nothing() {
    let mut s = Sched::new(defaults());
    claim_none(&mut s, T0);
    assert_eq!(s.clock(), Timestamp(0), "the clock did not move");
    let id = new_job(&mut s, A, T0);
    s.complete_job(A, id, JobOutcome::Completed, Timestamp(T0 + 5))
        .unwrap();
    claim_none(&mut s, T0 + 100);
    assert_eq!(s.clock(), Timestamp(T0 + 5));
}

#[test]
fn claim_next_takes_the_smallest_not_before_then_the_smallest_id() {
    let mut s = Sched::new(defaults());
    let j1 = new_job(&mut s, A, T0);
    let j2 = new_job(&mut s, B, T0);
    let j3 = new_job(&mut s, C, T0 + 5);
    // The call's time is max(now, clock()) = T0 + 5: all three are claimable; j1 and j2 tie on
    // not_before (T0), so the smaller id wins.
    let first = claim_next(&mut s, T0);
    assert_eq!((first.job, first.attempt), (j1, 1));
    assert_eq!(
        first.expires_at,
        Timestamp(T0 + 305),
        "the clamped time, T0 + 5"
    );
    assert_eq!(job(&s, A, j1).updated_at, Timestamp(T0 + 5));
    // j1's lease runs out: it waits until T0 + 305 + 60.
    assert_eq!(timeouts(&mut s, T0 + 305), (1, 0));
    assert_waiting(&job(&s, A, j1), 1, T0 + 365);
    // Now j2 (not_before T0) and j3 (T0 + 5) come before j1 (T0 + 365), whatever the ids.
    assert_eq!(claim_next(&mut s, T0 + 400).job, j2);
    assert_eq!(claim_next(&mut s, T0 + 400).job, j3);
    let again = claim_next(&mut s, T0 + 400);
    assert_eq!((again.job, again.attempt), (j1, 2));
    assert_eq!(again.expires_at, Timestamp(T0 + 700));
    claim_none(&mut s, T0 + 400);
    assert_eq!(s.stats().leased_jobs, 3);
}

#[test]
fn a_retry_and_a_fresh_job_with_the_same_not_before_go_by_id() {
    let mut s = Sched::new(workers(300, 3, 0, 3600, 86_400));
    let old = new_job(&mut s, A, T0);
    claim_next(&mut s, T0);
    assert_eq!(timeouts(&mut s, T0 + 300), (1, 0));
    assert_waiting(&job(&s, A, old), 1, T0 + 300);
    let fresh = new_job(&mut s, B, T0 + 300); // not_before T0 + 300 too, larger id
    let later = new_job(&mut s, C, T0 + 301);
    assert_eq!(claim_next(&mut s, T0 + 400).job, old);
    assert_eq!(claim_next(&mut s, T0 + 400).job, fresh);
    assert_eq!(claim_next(&mut s, T0 + 400).job, later);
    claim_none(&mut s, T0 + 400);
}

#[test]
fn claim_next_waits_for_not_before() {
    let mut s = Sched::new(defaults());
    let id = new_job(&mut s, A, T0);
    claim_next(&mut s, T0);
    assert_eq!(timeouts(&mut s, T0 + 300), (1, 0));
    assert_waiting(&job(&s, A, id), 1, T0 + 360);
    claim_none(&mut s, T0 + 359);
    let lease = claim_next(&mut s, T0 + 360);
    assert_eq!((lease.job, lease.attempt), (id, 2));
}

#[test]
fn claim_next_and_claim_job_need_the_deadline_after_now() {
    let mut s = Sched::new(workers(300, 3, 60, 3600, 1000));
    let id = new_job(&mut s, A, T0);
    // The deadline T0 + 1000 is not after T0 + 1000.
    {
        let mut late = s.clone();
        claim_none(&mut late, T0 + 1000);
        expect_err(
            &mut late,
            Error::JobNotClaimable {
                until: Timestamp(T0 + 1000),
            },
            |s| s.claim_job(A, id, Timestamp(T0 + 1000)),
        );
    }
    // One second earlier it is claimable, and the lease stops at the deadline.
    let lease = claim_next(&mut s, T0 + 999);
    assert_eq!(lease.expires_at, Timestamp(T0 + 1000));
    assert_eq!(job(&s, A, id).lease_expires_at, Some(Timestamp(T0 + 1000)));
}

// ------------------------------------------------------------------- claim_job

#[test]
fn claim_job_not_found_and_finished_come_first() {
    let mut s = Sched::new(defaults());
    let id = new_job(&mut s, A, T0);
    expect_err(&mut s, Error::JobNotFound, |s| {
        s.claim_job(B, id, Timestamp(T0))
    });
    expect_err(&mut s, Error::JobNotFound, |s| {
        s.claim_job(A, JobId(id.0 + 1), Timestamp(T0))
    });
    s.complete_job(A, id, JobOutcome::Completed, Timestamp(T0 + 1))
        .unwrap();
    expect_err(
        &mut s,
        Error::InvalidJobStatus {
            status: JobStatus::Completed,
        },
        |s| s.claim_job(A, id, Timestamp(T0 + 2)),
    );
    let id2 = new_job(&mut s, A, T0 + 3);
    s.stop_job(A, id2, Timestamp(T0 + 4)).unwrap();
    expect_err(
        &mut s,
        Error::InvalidJobStatus {
            status: JobStatus::Failed,
        },
        |s| s.claim_job(A, id2, Timestamp(T0 + 5)),
    );
    // Another account's finished job is still not found.
    expect_err(&mut s, Error::JobNotFound, |s| {
        s.claim_job(B, id2, Timestamp(T0 + 5))
    });
}

#[test]
fn claim_job_not_claimable_checks_lease_then_not_before_then_deadline() {
    let mut s = Sched::new(workers(300, 3, 60, 3600, 1000));
    let id = new_job(&mut s, A, T0); // deadline T0 + 1000
    let lease = claim(&mut s, A, id, T0);
    assert_eq!(
        (lease.account, lease.job, lease.attempt, lease.expires_at),
        (A, id, 1, Timestamp(T0 + 300))
    );
    let leased = |until| Error::JobNotClaimable {
        until: Timestamp(until),
    };
    // Leased: until = the lease's end, even once that has passed, and even past the deadline.
    expect_err(&mut s, leased(T0 + 300), |s| {
        s.claim_job(A, id, Timestamp(T0 + 10))
    });
    expect_err(&mut s, leased(T0 + 300), |s| {
        s.claim_job(A, id, Timestamp(T0 + 350))
    });
    expect_err(&mut s, leased(T0 + 300), |s| {
        s.claim_job(A, id, Timestamp(T0 + 5000))
    });
    // A heartbeat at T0 + 690 stretches the lease to T0 + 990; it runs out and the job waits
    // until T0 + 990 + 60 = T0 + 1050, past its deadline.
    assert_eq!(beat(&mut s, &lease, 0, T0 + 690), Timestamp(T0 + 990));
    assert_eq!(timeouts(&mut s, T0 + 995), (1, 0));
    assert_waiting(&job(&s, A, id), 1, T0 + 1050);
    // not_before is checked before the deadline.
    expect_err(&mut s, leased(T0 + 1050), |s| {
        s.claim_job(A, id, Timestamp(T0 + 996))
    });
    expect_err(&mut s, leased(T0 + 1050), |s| {
        s.claim_job(A, id, Timestamp(T0 + 1020))
    });
    // At not_before, only the deadline is left: until = the deadline.
    expect_err(&mut s, leased(T0 + 1000), |s| {
        s.claim_job(A, id, Timestamp(T0 + 1050))
    });
    claim_none(&mut s, T0 + 1060);
    assert_eq!(timeouts(&mut s, T0 + 1060), (0, 1));
    assert_finished(
        &job(&s, A, id),
        JobStatus::Failed,
        Some(FailureReason::DeadlineExceeded),
    );
}

#[test]
fn claim_job_uses_the_clamped_time_and_a_waiting_job_can_be_claimed_by_id() {
    let mut s = Sched::new(defaults());
    let a = new_job(&mut s, A, T0);
    new_job(&mut s, B, T0 + 100); // clock: T0 + 100
    let lease = claim(&mut s, A, a, T0);
    assert_eq!(lease.expires_at, Timestamp(T0 + 400));
    assert_eq!(job(&s, A, a).updated_at, Timestamp(T0 + 100));
    assert_eq!(timeouts(&mut s, T0 + 400), (1, 0));
    // not_before = T0 + 460: claimable by id from then on, attempt 2.
    let second = claim(&mut s, A, a, T0 + 460);
    assert_eq!(
        (second.attempt, second.expires_at),
        (2, Timestamp(T0 + 760))
    );
    assert_eq!(job(&s, A, a).status, JobStatus::Delivering);
}

#[test]
fn start_job_never_leases_and_a_started_job_can_still_be_claimed() {
    let mut s = Sched::new(defaults());
    let id = new_job(&mut s, A, T0);
    assert_eq!(
        changed(&mut s, T0 + 1, |s| s.start_job(A, id, Timestamp(T0 + 1))),
        Ok(Transition::Changed)
    );
    let j = job(&s, A, id);
    assert_eq!(j.status, JobStatus::Delivering);
    assert_waiting(&j, 0, T0);
    assert_eq!(s.stats().leased_jobs, 0);
    expect_err(&mut s, Error::LeaseLost, |s| {
        s.heartbeat(
            &Lease {
                account: A,
                job: id,
                attempt: 0,
                expires_at: Timestamp(T0 + 301),
            },
            0,
            Timestamp(T0 + 2),
        )
    });
    // "a Delivering job stays so".
    let lease = claim_next(&mut s, T0 + 2);
    assert_eq!((lease.job, lease.attempt), (id, 1));
    assert_eq!(job(&s, A, id).status, JobStatus::Delivering);
    // start_job on the leased job: already Delivering, Unchanged; the lease is untouched.
    expect_unchanged(&mut s, |s| s.start_job(A, id, Timestamp(T0 + 3)));
    assert_eq!(lease_of(&s, A, id), lease);
}

// ------------------------------------------------------------------- heartbeat

#[test]
fn heartbeat_extends_the_lease_and_keeps_the_largest_delivered() {
    let mut s = Sched::new(workers(300, 3, 60, 3600, 1000));
    let id = new_job(&mut s, A, T0);
    let lease = claim(&mut s, A, id, T0);
    assert_eq!(beat(&mut s, &lease, 50, T0 + 100), Timestamp(T0 + 400));
    let j = job(&s, A, id);
    assert_eq!(j.lease_expires_at, Some(Timestamp(T0 + 400)));
    assert_eq!(j.delivered, 50);
    assert_eq!(j.updated_at, Timestamp(T0 + 100));
    // delivered never decreases.
    assert_eq!(beat(&mut s, &lease, 20, T0 + 150), Timestamp(T0 + 450));
    assert_eq!(job(&s, A, id).delivered, 50);
    assert_eq!(beat(&mut s, &lease, 70, T0 + 160), Timestamp(T0 + 460));
    assert_eq!(job(&s, A, id).delivered, 70);
    // A time behind the clock counts as the clock.
    assert_eq!(beat(&mut s, &lease, 0, T0), Timestamp(T0 + 460));
    // Checks look at the job, not at the lease's expires_at.
    let forged = Lease {
        expires_at: Timestamp(0),
        ..lease
    };
    assert_eq!(beat(&mut s, &forged, 71, T0 + 200), Timestamp(T0 + 500));
    assert_eq!(job(&s, A, id).delivered, 71);
    // Never past the deadline T0 + 1000.
    assert_eq!(beat(&mut s, &lease, 71, T0 + 800), Timestamp(T0 + 1000));
    assert_eq!(job(&s, A, id).lease_expires_at, Some(Timestamp(T0 + 1000)));
    assert_eq!(
        beat(&mut s, &lease, u64::MAX, T0 + 999),
        Timestamp(T0 + 1000)
    );
    assert_eq!(job(&s, A, id).delivered, u64::MAX);
}

#[test]
fn heartbeat_not_found_comes_before_lease_lost() {
    let mut s = Sched::new(defaults());
    let id = new_job(&mut s, A, T0);
    let lease = claim(&mut s, A, id, T0);
    let other_account = Lease {
        account: B,
        ..lease
    };
    expect_err(&mut s, Error::JobNotFound, |s| {
        s.heartbeat(&other_account, 1, Timestamp(T0 + 1))
    });
    let no_job = Lease {
        job: JobId(id.0 + 7),
        ..lease
    };
    expect_err(&mut s, Error::JobNotFound, |s| {
        s.heartbeat(&no_job, 1, Timestamp(T0 + 1))
    });
    let wrong_attempt = Lease {
        attempt: 2,
        ..lease
    };
    expect_err(&mut s, Error::LeaseLost, |s| {
        s.heartbeat(&wrong_attempt, 1, Timestamp(T0 + 1))
    });
    // Finished: LeaseLost for the owner, JobNotFound for anyone else.
    s.complete_job(A, id, JobOutcome::Completed, Timestamp(T0 + 2))
        .unwrap();
    expect_err(&mut s, Error::LeaseLost, |s| {
        s.heartbeat(&lease, 1, Timestamp(T0 + 3))
    });
    expect_err(&mut s, Error::JobNotFound, |s| {
        s.heartbeat(&other_account, 1, Timestamp(T0 + 3))
    });
}

#[test]
fn a_stale_worker_is_fenced_out_after_a_retry() {
    let mut s = Sched::new(defaults());
    let id = new_job(&mut s, A, T0);
    let old = claim(&mut s, A, id, T0);
    // The old worker stalls; its lease runs out and is ended.
    assert_eq!(timeouts(&mut s, T0 + 300), (1, 0));
    // In the backoff the job is active but not leased: the old lease is not held.
    expect_err(&mut s, Error::LeaseLost, |s| {
        s.heartbeat(&old, 5, Timestamp(T0 + 310))
    });
    expect_err(&mut s, Error::LeaseLost, |s| {
        s.finish_job(&old, JobOutcome::Completed, Timestamp(T0 + 310))
    });
    expect_err(&mut s, Error::LeaseLost, |s| {
        s.report_region(&old, &hz(), JobStatus::Delivering, Timestamp(T0 + 310))
    });
    let new = claim_next(&mut s, T0 + 360);
    assert_eq!((new.job, new.attempt), (id, 2));
    // Leased to another attempt: still lost for the old worker, held for the new one.
    expect_err(&mut s, Error::LeaseLost, |s| {
        s.heartbeat(&old, 5, Timestamp(T0 + 370))
    });
    expect_err(&mut s, Error::LeaseLost, |s| {
        s.finish_job(&old, JobOutcome::Failed, Timestamp(T0 + 370))
    });
    assert_eq!(beat(&mut s, &new, 9, T0 + 370), Timestamp(T0 + 670));
    assert_eq!(
        changed(&mut s, T0 + 380, |s| s.finish_job(
            &new,
            JobOutcome::Completed,
            Timestamp(T0 + 380)
        )),
        Ok(Transition::Changed)
    );
    // The old worker's finish stays refused: its attempt is not the job's.
    expect_err(&mut s, Error::LeaseLost, |s| {
        s.finish_job(&old, JobOutcome::Completed, Timestamp(T0 + 390))
    });
}

// ---------------------------------------------------------------------- errors

#[test]
fn new_errors_have_their_codes_statuses_and_messages() {
    let lost = Error::LeaseLost;
    assert_eq!(lost.code(), "DeliveryHistoryJobLeaseLost");
    assert_eq!(lost.http_status(), 409);
    assert!(!lost.to_string().trim().is_empty());
    let until = Timestamp(1_622_099_703);
    let not_claimable = Error::JobNotClaimable { until };
    assert_eq!(not_claimable.code(), "DeliveryHistoryJobNotClaimable");
    assert_eq!(not_claimable.http_status(), 409);
    let msg = not_claimable.to_string();
    assert!(
        msg.contains("2021-05-27T07:15:03Z") || msg.contains("1622099703"),
        "the message says until when: {msg}"
    );
    assert_ne!(
        Error::JobNotClaimable {
            until: Timestamp(1)
        },
        not_claimable
    );
    let regions = Error::CapacityExhausted(Table::Regions);
    assert_eq!(regions.code(), "ServiceUnavailable");
    assert_eq!(regions.http_status(), 503);
    assert_eq!(
        regions.to_string(),
        "The service is unavailable. Please try again later."
    );
    // Error and Lease are Copy.
    fn copy<T: Copy>(_: T) {}
    copy(not_claimable);
    copy(Lease {
        account: A,
        job: JobId(1),
        attempt: 1,
        expires_at: until,
    });
    let _: &dyn core::error::Error = &lost;
}

#[test]
fn worker_defaults_are_the_specs() {
    let c = Config::DEFAULT;
    assert_eq!(
        (
            c.lease_secs,
            c.max_attempts,
            c.retry_backoff_secs,
            c.max_backoff_secs,
            c.max_job_secs
        ),
        (300, 3, 60, 3_600, 86_400)
    );
    assert_eq!(Config::default(), Config::DEFAULT);
    assert_eq!(MAX_REGIONS, 64);
}
