//! Contract tests for SPEC section 9, time: `poll_timeout`, `handle_timeout` (lease expiry,
//! exponential backoff from the lease's end, the last attempt, deadlines), saturation at
//! `u64::MAX`, the settings that "act as" others, and late heartbeats.

#[path = "common/workers.rs"]
mod workers;

use trail_backfill::*;
use workers::*;

// ---------------------------------------------------------------- poll_timeout

#[test]
fn poll_timeout_is_the_earliest_lease_end_or_deadline_of_the_active_jobs() {
    let mut s = Sched::new(defaults());
    assert_eq!(s.poll_timeout(), None);
    let a = new_job(&mut s, A, T0);
    // Not leased: only the deadline, created_at + 86 400.
    assert_eq!(s.poll_timeout(), Some(Timestamp(T0 + 86_400)));
    let lease = claim_next(&mut s, T0);
    assert_eq!(s.poll_timeout(), Some(Timestamp(T0 + 300)));
    let b = new_job(&mut s, B, T0 + 10);
    assert_eq!(s.poll_timeout(), Some(Timestamp(T0 + 300)));
    beat(&mut s, &lease, 0, T0 + 100);
    assert_eq!(s.poll_timeout(), Some(Timestamp(T0 + 400)));
    // The lease runs out: a waiting job is due at its deadline only (not at its not_before).
    assert_eq!(timeouts(&mut s, T0 + 400), (1, 0));
    assert_eq!(job(&s, A, a).not_before, Timestamp(T0 + 460));
    assert_eq!(s.poll_timeout(), Some(Timestamp(T0 + 86_400)));
    s.stop_job(A, a, Timestamp(T0 + 500)).unwrap();
    assert_eq!(s.poll_timeout(), Some(Timestamp(T0 + 10 + 86_400)));
    s.complete_job(B, b, JobOutcome::Completed, Timestamp(T0 + 600))
        .unwrap();
    assert_eq!(s.poll_timeout(), None, "no active job: None");
}

// ------------------------------------------------------------ handle_timeout

#[test]
fn nothing_due_changes_nothing_not_even_the_clock() {
    let mut s = Sched::new(defaults());
    nothing_due(&mut s, u64::MAX);
    assert_eq!(s.clock(), Timestamp(0));
    let id = new_job(&mut s, A, T0);
    claim_next(&mut s, T0);
    nothing_due(&mut s, T0 + 299);
    nothing_due(&mut s, T0 + 1);
    nothing_due(&mut s, 0);
    assert_eq!(s.clock(), Timestamp(T0));
    assert_eq!(job(&s, A, id).lease_expires_at, Some(Timestamp(T0 + 300)));
}

#[test]
fn an_expired_lease_waits_for_a_backoff_from_the_lease_end() {
    let mut s = Sched::new(defaults());
    let id = new_job(&mut s, A, T0);
    let lease = claim_next(&mut s, T0);
    report(
        &mut s,
        &lease,
        "cn-beijing",
        JobStatus::Delivering,
        T0 + 1,
        Transition::Changed,
    );
    report(
        &mut s,
        &lease,
        "cn-shanghai",
        JobStatus::Completed,
        T0 + 2,
        Transition::Changed,
    );
    // Handled late: the backoff counts from the lease end (T0 + 300), updated_at is the call's.
    assert_eq!(timeouts(&mut s, T0 + 450), (1, 0));
    let j = job(&s, A, id);
    assert_eq!(
        j.status,
        JobStatus::Delivering,
        "its status stays Delivering"
    );
    assert_waiting(&j, 1, T0 + 360);
    assert_eq!(j.updated_at, Timestamp(T0 + 450));
    assert_eq!(s.clock(), Timestamp(T0 + 450));
    assert_eq!(s.stats().leased_jobs, 0);
    assert_eq!(
        regions(&s, A, id),
        pairs(&[
            ("cn-beijing", JobStatus::Initializing),
            ("cn-shanghai", JobStatus::Completed),
        ])
    );
    // Still active: it holds the account's slot.
    assert_eq!(s.active_job(A).map(|j| j.id), Some(id));
    assert_eq!(s.stats().active_jobs, 1);
    let request = CreateJob {
        account: A,
        region: hz(),
        trail_name: trail_name(),
        client_token: None,
    };
    expect_err(&mut s, Error::JobAlreadyRunning { active: id }, |s| {
        s.create_job(&request, Timestamp(T0 + 460))
    });
}

#[test]
fn the_backoff_doubles_per_attempt_and_the_last_attempt_fails() {
    let mut s = Sched::new(defaults()); // 3 attempts, 60 s doubling
    let id = new_job(&mut s, A, T0);
    let first = claim_next(&mut s, T0);
    assert_eq!(first.expires_at, Timestamp(T0 + 300));
    nothing_due(&mut s, T0 + 299);
    assert_eq!(timeouts(&mut s, T0 + 300), (1, 0));
    assert_waiting(&job(&s, A, id), 1, T0 + 360);
    claim_none(&mut s, T0 + 359);
    let second = claim_next(&mut s, T0 + 360);
    assert_eq!(
        (second.attempt, second.expires_at),
        (2, Timestamp(T0 + 660))
    );
    report(
        &mut s,
        &second,
        "cn-beijing",
        JobStatus::Delivering,
        T0 + 400,
        Transition::Changed,
    );
    assert_eq!(timeouts(&mut s, T0 + 660), (1, 0));
    assert_waiting(&job(&s, A, id), 2, T0 + 660 + 120);
    let third = claim_next(&mut s, T0 + 780);
    assert_eq!((third.attempt, third.expires_at), (3, Timestamp(T0 + 1080)));
    report(
        &mut s,
        &third,
        "cn-beijing",
        JobStatus::Delivering,
        T0 + 800,
        Transition::Changed,
    );
    // attempt (3) >= max_attempts (3): Failed with LeaseExpired; counts in both.
    assert_eq!(timeouts(&mut s, T0 + 1100), (1, 1));
    let j = job(&s, A, id);
    assert_finished(&j, JobStatus::Failed, Some(FailureReason::LeaseExpired));
    assert_eq!(j.updated_at, Timestamp(T0 + 1100));
    assert_eq!(j.attempt, 3);
    assert_eq!(
        regions(&s, A, id),
        pairs(&[("cn-beijing", JobStatus::Failed)])
    );
    assert!(s.active_job(A).is_none());
    assert_eq!(s.poll_timeout(), None);
    new_job(&mut s, A, T0 + 1200);
}

#[test]
fn the_backoff_is_capped_by_max_backoff_secs() {
    let mut s = Sched::new(workers(10, 10, 100, 250, u64::MAX));
    let id = new_job(&mut s, A, T0);
    let mut now = T0;
    for (attempt, backoff) in [(1, 100), (2, 200), (3, 250), (4, 250), (5, 250)] {
        let lease = claim_next(&mut s, now);
        assert_eq!(lease.attempt, attempt);
        now += 10;
        assert_eq!(lease.expires_at, Timestamp(now));
        assert_eq!(timeouts(&mut s, now), (1, 0));
        assert_waiting(&job(&s, A, id), attempt, now + backoff);
        claim_none(&mut s, now + backoff - 1);
        now += backoff;
    }
}

#[test]
fn the_backoff_does_not_overflow_for_many_attempts() {
    // 2^(attempt - 1) passes u64 at attempt 65; the cap of 10 s still applies.
    let mut s = Sched::new(workers(1, 80, 1, 10, u64::MAX));
    let id = new_job(&mut s, A, T0);
    let mut now = T0;
    for attempt in 1..80u32 {
        let lease = claim_next(&mut s, now);
        assert_eq!(lease.attempt, attempt);
        now += 1;
        assert_eq!(timeouts(&mut s, now), (1, 0));
        let backoff = 1u64.checked_shl(attempt - 1).unwrap_or(u64::MAX).min(10);
        assert_waiting(&job(&s, A, id), attempt, now + backoff);
        now += backoff;
    }
    claim_next(&mut s, now);
    assert_eq!(timeouts(&mut s, now + 1), (1, 1));
    assert_finished(
        &job(&s, A, id),
        JobStatus::Failed,
        Some(FailureReason::LeaseExpired),
    );
    assert_eq!(job(&s, A, id).attempt, 80);
}

#[test]
fn the_backoff_product_and_sum_saturate() {
    const HALF: u64 = 1 << 62;
    let mut s = Sched::new(workers(1, 5, HALF, u64::MAX, u64::MAX));
    let id = new_job(&mut s, A, 0);
    claim_next(&mut s, 0);
    assert_eq!(timeouts(&mut s, 1), (1, 0));
    assert_waiting(&job(&s, A, id), 1, 1 + HALF);
    claim_next(&mut s, 1 + HALF);
    assert_eq!(timeouts(&mut s, 2 + HALF), (1, 0));
    assert_waiting(&job(&s, A, id), 2, 2 + HALF + 2 * HALF);
    claim_next(&mut s, 2 + 3 * HALF);
    // 2^62 * 4 saturates to u64::MAX (a wrapping product would be 0), and so does the sum.
    assert_eq!(timeouts(&mut s, 3 + 3 * HALF), (1, 0));
    assert_waiting(&job(&s, A, id), 3, u64::MAX);
    claim_none(&mut s, u64::MAX - 1);
    expect_err(
        &mut s,
        Error::JobNotClaimable {
            until: Timestamp(u64::MAX),
        },
        |s| s.claim_job(A, id, Timestamp(u64::MAX - 1)),
    );
    // The deadline, created_at + u64::MAX, saturates at u64::MAX.
    assert_eq!(s.poll_timeout(), Some(Timestamp(u64::MAX)));
    nothing_due(&mut s, u64::MAX - 1);
    assert_eq!(timeouts(&mut s, u64::MAX), (0, 1));
    assert_finished(
        &job(&s, A, id),
        JobStatus::Failed,
        Some(FailureReason::DeadlineExceeded),
    );
    assert_eq!(s.clock(), Timestamp(u64::MAX));
}

#[test]
fn a_zero_backoff_makes_the_job_claimable_at_the_lease_end() {
    let mut s = Sched::new(workers(300, 3, 0, 3600, 86_400));
    let id = new_job(&mut s, A, T0);
    claim_next(&mut s, T0);
    assert_eq!(timeouts(&mut s, T0 + 300), (1, 0));
    assert_waiting(&job(&s, A, id), 1, T0 + 300);
    let lease = claim_next(&mut s, T0 + 300);
    assert_eq!((lease.attempt, lease.expires_at), (2, Timestamp(T0 + 600)));
}

#[test]
fn lease_times_saturate() {
    let mut s = Sched::new(workers(u64::MAX, 3, 60, 3600, u64::MAX));
    let id = new_job(&mut s, A, T0);
    let lease = claim_next(&mut s, T0);
    assert_eq!(lease.expires_at, Timestamp(u64::MAX));
    assert_eq!(beat(&mut s, &lease, 1, T0 + 5), Timestamp(u64::MAX));
    assert_eq!(s.poll_timeout(), Some(Timestamp(u64::MAX)));
    // At u64::MAX both the lease end and the deadline are due: the deadline wins.
    assert_eq!(timeouts(&mut s, u64::MAX), (0, 1));
    assert_finished(
        &job(&s, A, id),
        JobStatus::Failed,
        Some(FailureReason::DeadlineExceeded),
    );
}

// ------------------------------------------------------- settings that "act as"

#[test]
fn max_attempts_zero_acts_as_one() {
    let mut s = Sched::new(workers(300, 0, 60, 3600, 86_400));
    let id = new_job(&mut s, A, T0);
    let lease = claim_next(&mut s, T0);
    assert_eq!(lease.attempt, 1, "a job can still be claimed once");
    assert_eq!(timeouts(&mut s, T0 + 300), (1, 1));
    assert_finished(
        &job(&s, A, id),
        JobStatus::Failed,
        Some(FailureReason::LeaseExpired),
    );
}

#[test]
fn max_attempts_two_retries_once() {
    let mut s = Sched::new(workers(300, 2, 60, 3600, 86_400));
    let id = new_job(&mut s, A, T0);
    claim_next(&mut s, T0);
    assert_eq!(timeouts(&mut s, T0 + 300), (1, 0));
    claim_next(&mut s, T0 + 360);
    assert_eq!(timeouts(&mut s, T0 + 660), (1, 1));
    assert_finished(
        &job(&s, A, id),
        JobStatus::Failed,
        Some(FailureReason::LeaseExpired),
    );
}

#[test]
fn lease_secs_zero_acts_as_one() {
    let mut s = Sched::new(workers(0, 3, 60, 3600, 86_400));
    let id = new_job(&mut s, A, T0);
    let lease = claim_next(&mut s, T0);
    assert_eq!(lease.expires_at, Timestamp(T0 + 1));
    assert_eq!(beat(&mut s, &lease, 0, T0 + 5), Timestamp(T0 + 6));
    assert_eq!(job(&s, A, id).lease_expires_at, Some(Timestamp(T0 + 6)));
    assert_eq!(s.poll_timeout(), Some(Timestamp(T0 + 6)));
}

#[test]
fn max_attempts_above_u32_max_acts_as_u32_max() {
    // Reaching attempt u32::MAX by claims takes 2^32 leases; a snapshot gets there at once.
    for max_attempts in [u64::MAX, u64::from(u32::MAX) + 1, u64::from(u32::MAX)] {
        let mut s = Sched::new(workers(300, max_attempts, 60, 3600, 86_400));
        let id = new_job(&mut s, A, T0);
        claim_next(&mut s, T0);
        let text = serde_json::to_string(&s).unwrap();
        let edited = text.replace("\"attempt\":1", &format!("\"attempt\":{}", u32::MAX));
        assert_eq!(
            edited.matches(&format!("\"attempt\":{}", u32::MAX)).count(),
            1,
            "the snapshot names the job's attempt `attempt`: {text}"
        );
        let mut s: Sched = serde_json::from_str(&edited).expect("a valid snapshot");
        inv(&s);
        assert_eq!(job(&s, A, id).attempt, u32::MAX);
        // The lease of attempt u32::MAX runs out: that was the last attempt.
        assert_eq!(
            timeouts(&mut s, T0 + 300),
            (1, 1),
            "max_attempts {max_attempts}"
        );
        assert_finished(
            &job(&s, A, id),
            JobStatus::Failed,
            Some(FailureReason::LeaseExpired),
        );
    }
}

// ------------------------------------------------------------------- deadlines

#[test]
fn the_deadline_fails_the_job_and_counts_only_in_jobs_failed() {
    let mut s = Sched::new(workers(300, 3, 60, 3600, 1000));
    let id = new_job(&mut s, A, T0);
    let lease = claim_next(&mut s, T0 + 800);
    // min(now + lease_secs, deadline): the lease ends with the deadline.
    assert_eq!(lease.expires_at, Timestamp(T0 + 1000));
    report(
        &mut s,
        &lease,
        "cn-beijing",
        JobStatus::Delivering,
        T0 + 801,
        Transition::Changed,
    );
    report(
        &mut s,
        &lease,
        "cn-hangzhou",
        JobStatus::Initializing,
        T0 + 802,
        Transition::Changed,
    );
    report(
        &mut s,
        &lease,
        "cn-shanghai",
        JobStatus::Completed,
        T0 + 803,
        Transition::Changed,
    );
    assert_eq!(s.poll_timeout(), Some(Timestamp(T0 + 1000)));
    nothing_due(&mut s, T0 + 999);
    assert_eq!(timeouts(&mut s, T0 + 1000), (0, 1));
    let j = job(&s, A, id);
    assert_finished(&j, JobStatus::Failed, Some(FailureReason::DeadlineExceeded));
    assert_eq!(j.updated_at, Timestamp(T0 + 1000));
    assert_eq!(s.stats().leased_jobs, 0);
    assert_eq!(
        regions(&s, A, id),
        pairs(&[
            ("cn-beijing", JobStatus::Failed),
            ("cn-hangzhou", JobStatus::Failed),
            ("cn-shanghai", JobStatus::Completed),
        ])
    );
    assert!(s.active_job(A).is_none());
    expect_err(&mut s, Error::LeaseLost, |s| {
        s.heartbeat(&lease, 1, Timestamp(T0 + 1001))
    });
}

#[test]
fn a_due_deadline_wins_over_an_earlier_lease_end() {
    let mut s = Sched::new(workers(300, 3, 60, 3600, 1000));
    let id = new_job(&mut s, A, T0);
    claim_next(&mut s, T0);
    assert_eq!(timeouts(&mut s, T0 + 5000), (0, 1));
    assert_finished(
        &job(&s, A, id),
        JobStatus::Failed,
        Some(FailureReason::DeadlineExceeded),
    );
    assert_eq!(job(&s, A, id).updated_at, Timestamp(T0 + 5000));
}

#[test]
fn unclaimed_and_waiting_jobs_fail_at_their_deadline() {
    let mut s = Sched::new(workers(300, 3, 60, 3600, 1000));
    let never = new_job(&mut s, A, T0);
    let waiting = new_job(&mut s, B, T0 + 100);
    claim(&mut s, B, waiting, T0 + 100);
    assert_eq!(timeouts(&mut s, T0 + 400), (1, 0));
    assert_eq!(s.poll_timeout(), Some(Timestamp(T0 + 1000)));
    assert_eq!(timeouts(&mut s, T0 + 1000), (0, 1));
    assert_finished(
        &job(&s, A, never),
        JobStatus::Failed,
        Some(FailureReason::DeadlineExceeded),
    );
    assert_eq!(job(&s, A, never).attempt, 0);
    assert_eq!(s.poll_timeout(), Some(Timestamp(T0 + 1100)));
    assert_eq!(timeouts(&mut s, T0 + 1100), (0, 1));
    assert_finished(
        &job(&s, B, waiting),
        JobStatus::Failed,
        Some(FailureReason::DeadlineExceeded),
    );
}

#[test]
fn max_job_secs_zero_makes_a_job_due_at_once() {
    let mut s = Sched::new(workers(300, 3, 60, 3600, 0));
    let id = new_job(&mut s, A, T0);
    assert_eq!(s.poll_timeout(), Some(Timestamp(T0)));
    claim_none(&mut s, T0);
    expect_err(
        &mut s,
        Error::JobNotClaimable {
            until: Timestamp(T0),
        },
        |s| s.claim_job(A, id, Timestamp(T0)),
    );
    assert_eq!(timeouts(&mut s, T0), (0, 1));
    assert_finished(
        &job(&s, A, id),
        JobStatus::Failed,
        Some(FailureReason::DeadlineExceeded),
    );
}

#[test]
fn claim_next_skips_jobs_past_their_deadline_not_yet_failed() {
    let mut s = Sched::new(workers(300, 3, 60, 3600, 1000));
    let old = new_job(&mut s, A, T0);
    let young = new_job(&mut s, B, T0 + 2000);
    let lease = claim_next(&mut s, T0 + 2000);
    assert_eq!(lease.job, young, "the job past its deadline is skipped");
    claim_none(&mut s, T0 + 2000);
    assert_eq!(job(&s, A, old).status, JobStatus::Initializing);
    assert_eq!(s.poll_timeout(), Some(Timestamp(T0 + 1000)));
    assert_eq!(timeouts(&mut s, T0 + 2000), (0, 1));
    assert_finished(
        &job(&s, A, old),
        JobStatus::Failed,
        Some(FailureReason::DeadlineExceeded),
    );
    assert_eq!(s.poll_timeout(), Some(Timestamp(T0 + 2300)));
}

// ----------------------------------------------------------------- one call, many

#[test]
fn one_call_handles_every_due_job() {
    let mut s = Sched::new(workers(300, 2, 60, 3600, 2000));
    let c = new_job(&mut s, C, T0); // deadline T0 + 2000
    let a = new_job(&mut s, A, T0 + 1000);
    let b = new_job(&mut s, B, T0 + 1000);
    let d = new_job(&mut s, D, T0 + 1000);
    claim(&mut s, B, b, T0 + 1000);
    assert_eq!(timeouts(&mut s, T0 + 1300), (1, 0));
    claim(&mut s, B, b, T0 + 1400); // attempt 2 (the last), ends T0 + 1700
    claim(&mut s, A, a, T0 + 1500); // attempt 1, ends T0 + 1800
    let ld = claim(&mut s, D, d, T0 + 1500);
    beat(&mut s, &ld, 3, T0 + 1900); // ends T0 + 2200
    assert_eq!(s.stats().leased_jobs, 3);
    assert_eq!(s.poll_timeout(), Some(Timestamp(T0 + 1700)));
    assert_eq!(timeouts(&mut s, T0 + 2000), (2, 2));
    assert_finished(
        &job(&s, B, b),
        JobStatus::Failed,
        Some(FailureReason::LeaseExpired),
    );
    assert_finished(
        &job(&s, C, c),
        JobStatus::Failed,
        Some(FailureReason::DeadlineExceeded),
    );
    assert_waiting(&job(&s, A, a), 1, T0 + 1860);
    assert_eq!(job(&s, A, a).updated_at, Timestamp(T0 + 2000));
    assert_eq!(job(&s, D, d).lease_expires_at, Some(Timestamp(T0 + 2200)));
    assert_eq!(
        job(&s, D, d).updated_at,
        Timestamp(T0 + 1900),
        "not changed: not due"
    );
    assert_eq!(s.stats().leased_jobs, 1);
    assert_eq!(s.stats().active_jobs, 2);
    assert_eq!(s.poll_timeout(), Some(Timestamp(T0 + 2200)));
}

#[test]
fn handle_timeout_uses_the_clamped_time() {
    let mut s = Sched::new(defaults());
    let a = new_job(&mut s, A, T0);
    claim_next(&mut s, T0);
    new_job(&mut s, B, T0 + 500); // clock: T0 + 500, past a's lease end
    assert_eq!(timeouts(&mut s, 0), (1, 0));
    let j = job(&s, A, a);
    assert_waiting(&j, 1, T0 + 360);
    assert_eq!(j.updated_at, Timestamp(T0 + 500));
    assert_eq!(s.clock(), Timestamp(T0 + 500));
}

#[test]
fn a_late_heartbeat_still_extends_a_lease_whose_end_passed() {
    let mut s = Sched::new(defaults());
    let id = new_job(&mut s, A, T0);
    let lease = claim_next(&mut s, T0);
    assert_eq!(beat(&mut s, &lease, 5, T0 + 350), Timestamp(T0 + 650));
    assert_eq!(job(&s, A, id).lease_expires_at, Some(Timestamp(T0 + 650)));
    nothing_due(&mut s, T0 + 400);
    assert_eq!(s.poll_timeout(), Some(Timestamp(T0 + 650)));
    assert_eq!(timeouts(&mut s, T0 + 650), (1, 0));
    assert_waiting(&job(&s, A, id), 1, T0 + 710);
}

#[test]
fn a_heartbeat_past_the_deadline_gets_the_deadline() {
    let mut s = Sched::new(workers(300, 3, 60, 3600, 1000));
    let id = new_job(&mut s, A, T0);
    let lease = claim_next(&mut s, T0 + 600); // ends T0 + 900
    // Neither the lease end nor the deadline has been handled: the lease is still held, and
    // min(now + lease_secs, deadline) is the deadline.
    assert_eq!(beat(&mut s, &lease, 4, T0 + 2000), Timestamp(T0 + 1000));
    assert_eq!(job(&s, A, id).lease_expires_at, Some(Timestamp(T0 + 1000)));
    assert_eq!(job(&s, A, id).delivered, 4);
    assert_eq!(timeouts(&mut s, T0 + 2000), (0, 1));
    assert_finished(
        &job(&s, A, id),
        JobStatus::Failed,
        Some(FailureReason::DeadlineExceeded),
    );
}
