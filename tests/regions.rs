//! Contract tests for SPEC section 9, per-region statuses: `report_region` (forward only,
//! `Unchanged`, its errors in order), the region catalogue (`MAX_REGIONS`, `regions()`),
//! `job_regions` (byte order, `None` as `job()`), and what finishing and retrying do to regions.

#[path = "common/workers.rs"]
mod workers;

use trail_backfill::*;
use workers::*;

use JobStatus::{Completed, Delivering, Failed, Initializing};
use Transition::{Changed, Unchanged};

fn leased(config: Config) -> (Sched, JobId, Lease) {
    let mut s = Sched::new(config);
    let id = new_job(&mut s, A, T0);
    let lease = claim_next(&mut s, T0);
    (s, id, lease)
}

#[test]
fn a_region_moves_only_forward_to_completed() {
    let (mut s, id, l) = leased(defaults());
    assert_eq!(regions(&s, A, id), pairs(&[]));
    // A region new to the job is reported, even as Initializing.
    report(&mut s, &l, "cn-beijing", Initializing, T0 + 1, Changed);
    assert_eq!(regions(&s, A, id), pairs(&[("cn-beijing", Initializing)]));
    assert_eq!(job(&s, A, id).updated_at, Timestamp(T0 + 1));
    report(&mut s, &l, "cn-beijing", Initializing, T0 + 2, Unchanged);
    report(&mut s, &l, "cn-beijing", Delivering, T0 + 3, Changed);
    assert_eq!(job(&s, A, id).updated_at, Timestamp(T0 + 3));
    report(&mut s, &l, "cn-beijing", Initializing, T0 + 4, Unchanged);
    report(&mut s, &l, "cn-beijing", Delivering, T0 + 4, Unchanged);
    report(&mut s, &l, "cn-beijing", Completed, T0 + 5, Changed);
    report(&mut s, &l, "cn-beijing", Initializing, T0 + 6, Unchanged);
    report(&mut s, &l, "cn-beijing", Delivering, T0 + 6, Unchanged);
    report(&mut s, &l, "cn-beijing", Completed, T0 + 6, Unchanged);
    expect_err(&mut s, Error::InvalidJobStatus { status: Completed }, |s| {
        s.report_region(&l, &region("cn-beijing"), Failed, Timestamp(T0 + 7))
    });
    assert_eq!(regions(&s, A, id), pairs(&[("cn-beijing", Completed)]));
    assert_eq!(job(&s, A, id).updated_at, Timestamp(T0 + 5));
    // The job itself is untouched by its regions.
    assert_eq!(job(&s, A, id).status, Delivering);
    assert_eq!(lease_of(&s, A, id), l);
}

#[test]
fn a_region_moves_only_forward_to_failed() {
    let (mut s, id, l) = leased(defaults());
    // Straight from nothing to Delivering, then to Failed.
    report(&mut s, &l, "us-west-1", Delivering, T0 + 1, Changed);
    report(&mut s, &l, "us-west-1", Failed, T0 + 2, Changed);
    report(&mut s, &l, "us-west-1", Failed, T0 + 3, Unchanged);
    report(&mut s, &l, "us-west-1", Delivering, T0 + 3, Unchanged);
    report(&mut s, &l, "us-west-1", Initializing, T0 + 3, Unchanged);
    expect_err(&mut s, Error::InvalidJobStatus { status: Failed }, |s| {
        s.report_region(&l, &region("us-west-1"), Completed, Timestamp(T0 + 4))
    });
    // Straight from nothing to a final status, and from Initializing to a final status.
    report(&mut s, &l, "eu-central-1", Completed, T0 + 5, Changed);
    report(&mut s, &l, "ap-south-1", Initializing, T0 + 6, Changed);
    report(&mut s, &l, "ap-south-1", Failed, T0 + 7, Changed);
    assert_eq!(
        regions(&s, A, id),
        pairs(&[
            ("ap-south-1", Failed),
            ("eu-central-1", Completed),
            ("us-west-1", Failed),
        ])
    );
}

#[test]
fn job_regions_are_in_byte_order() {
    let (mut s, id, l) = leased(defaults());
    // '-' (0x2d) < '0' (0x30) < 'a' (0x61); a prefix comes first.
    for (i, r) in [
        "cn-shanghai",
        "a0",
        "aa",
        "cn",
        "a-b",
        "cn-hangzhou",
        "b",
        "a",
    ]
    .iter()
    .enumerate()
    {
        report(&mut s, &l, r, Delivering, T0 + 1 + i as u64, Changed);
    }
    let expected = [
        "a",
        "a-b",
        "a0",
        "aa",
        "b",
        "cn",
        "cn-hangzhou",
        "cn-shanghai",
    ];
    let got: Vec<String> = regions(&s, A, id).into_iter().map(|(r, _)| r).collect();
    assert_eq!(got, expected);
    assert_eq!(
        catalogue(&s),
        expected,
        "the catalogue is in byte order too"
    );
}

#[test]
fn job_regions_is_none_as_job_is() {
    let (mut s, id, l) = leased(defaults());
    report(&mut s, &l, "cn-beijing", Delivering, T0 + 1, Changed);
    assert!(s.job_regions(A, id).is_some());
    assert!(
        s.job_regions(B, id).is_none(),
        "another account's job is not revealed"
    );
    assert!(s.job_regions(A, JobId(id.0 + 1)).is_none());
    let other = new_job(&mut s, B, T0 + 2);
    assert_eq!(regions(&s, B, other), pairs(&[]));
    assert!(s.job_regions(A, other).is_none());
    // A deleted job has no regions to show.
    s.complete_job(A, id, JobOutcome::Completed, Timestamp(T0 + 3))
        .unwrap();
    s.delete_job(A, id).unwrap();
    inv(&s);
    assert!(s.job_regions(A, id).is_none());
    // The catalogue keeps the region for good.
    assert_eq!(catalogue(&s), ["cn-beijing"]);
}

#[test]
fn report_region_errors_come_in_order() {
    let (mut s, id, l) = leased(defaults());
    report(&mut s, &l, "cn-beijing", Completed, T0 + 1, Changed);
    let r = region("cn-beijing");
    // JobNotFound: no such job for lease.account.
    expect_err(&mut s, Error::JobNotFound, |s| {
        s.report_region(
            &Lease { account: B, ..l },
            &r,
            Delivering,
            Timestamp(T0 + 2),
        )
    });
    expect_err(&mut s, Error::JobNotFound, |s| {
        s.report_region(
            &Lease {
                job: JobId(id.0 + 3),
                ..l
            },
            &r,
            Delivering,
            Timestamp(T0 + 2),
        )
    });
    // LeaseLost comes before InvalidJobStatus and before Unchanged.
    let stale = Lease { attempt: 2, ..l };
    expect_err(&mut s, Error::LeaseLost, |s| {
        s.report_region(&stale, &r, Failed, Timestamp(T0 + 2))
    });
    expect_err(&mut s, Error::LeaseLost, |s| {
        s.report_region(&stale, &r, Completed, Timestamp(T0 + 2))
    });
    // A finished job: its lease is not held.
    s.finish_job(&l, JobOutcome::Completed, Timestamp(T0 + 3))
        .unwrap();
    expect_err(&mut s, Error::LeaseLost, |s| {
        s.report_region(&l, &r, Completed, Timestamp(T0 + 4))
    });
    expect_err(&mut s, Error::LeaseLost, |s| {
        s.report_region(&l, &region("cn-new"), Delivering, Timestamp(T0 + 4))
    });
    // An active job that is not leased.
    let b = new_job(&mut s, B, T0 + 5);
    let never = Lease {
        account: B,
        job: b,
        attempt: 0,
        expires_at: Timestamp(T0 + 5),
    };
    expect_err(&mut s, Error::LeaseLost, |s| {
        s.report_region(&never, &r, Delivering, Timestamp(T0 + 6))
    });
    assert_eq!(
        catalogue(&s),
        ["cn-beijing"],
        "no error adds to the catalogue"
    );
}

/// "r-00" .. : distinct regions whose byte order is their number's order.
fn nth(i: usize) -> String {
    format!("r-{i:02}")
}

#[test]
fn the_catalogue_holds_at_most_max_regions() {
    assert_eq!(MAX_REGIONS, 64);
    let (mut s, id, l) = leased(defaults());
    for i in 0..MAX_REGIONS {
        report(&mut s, &l, &nth(i), Delivering, T0 + 1, Changed);
    }
    assert_eq!(regions(&s, A, id).len(), MAX_REGIONS);
    let all: Vec<String> = (0..MAX_REGIONS).map(nth).collect();
    assert_eq!(catalogue(&s), all);
    // A region new to the scheduler: refused, and nothing changes.
    let extra = region(&nth(MAX_REGIONS));
    expect_err(&mut s, Error::CapacityExhausted(Table::Regions), |s| {
        s.report_region(&l, &extra, Delivering, Timestamp(T0 + 2))
    });
    expect_err(&mut s, Error::CapacityExhausted(Table::Regions), |s| {
        s.report_region(&l, &region("aaa"), Completed, Timestamp(T0 + 2))
    });
    // LeaseLost comes before CapacityExhausted.
    let stale = Lease { attempt: 9, ..l };
    expect_err(&mut s, Error::LeaseLost, |s| {
        s.report_region(&stale, &extra, Delivering, Timestamp(T0 + 2))
    });
    // Known regions still move.
    report(&mut s, &l, &nth(5), Completed, T0 + 3, Changed);
    // The catalogue outlives its jobs: a new job of another account can use every known
    // region, and still no new one.
    s.finish_job(&l, JobOutcome::Completed, Timestamp(T0 + 4))
        .unwrap();
    s.delete_job(A, id).unwrap();
    inv(&s);
    assert_eq!(catalogue(&s), all);
    let b = new_job(&mut s, B, T0 + 5);
    let lb = claim(&mut s, B, b, T0 + 5);
    report(&mut s, &lb, &nth(63), Delivering, T0 + 6, Changed);
    report(&mut s, &lb, &nth(0), Initializing, T0 + 7, Changed);
    expect_err(&mut s, Error::CapacityExhausted(Table::Regions), |s| {
        s.report_region(&lb, &extra, Delivering, Timestamp(T0 + 8))
    });
    assert_eq!(
        regions(&s, B, b),
        pairs(&[("r-00", Initializing), ("r-63", Delivering)])
    );
    // And across snapshots.
    let mut back: Sched = postcard::from_bytes(&bytes(&s)).unwrap();
    assert_eq!(catalogue(&back), all);
    expect_err(&mut back, Error::CapacityExhausted(Table::Regions), |s| {
        s.report_region(&lb, &extra, Delivering, Timestamp(T0 + 8))
    });
    report(&mut back, &lb, &nth(1), Delivering, T0 + 9, Changed);
}

#[test]
fn below_the_limit_a_new_region_joins_the_catalogue() {
    let (mut s, _id, l) = leased(defaults());
    for i in 0..MAX_REGIONS - 1 {
        report(&mut s, &l, &nth(i + 1), Initializing, T0 + 1, Changed);
    }
    // The 64th distinct region is accepted; it sorts first.
    report(&mut s, &l, "a-first", Delivering, T0 + 2, Changed);
    assert_eq!(catalogue(&s).len(), MAX_REGIONS);
    assert_eq!(catalogue(&s)[0], "a-first");
}

/// A job of account A with regions in every status, leased; returns it with its lease.
fn mixed(config: Config) -> (Sched, JobId, Lease) {
    let (mut s, id, l) = leased(config);
    report(&mut s, &l, "r-completed", Completed, T0 + 1, Changed);
    report(&mut s, &l, "r-delivering", Delivering, T0 + 1, Changed);
    report(&mut s, &l, "r-failed", Failed, T0 + 1, Changed);
    report(&mut s, &l, "r-initializing", Initializing, T0 + 1, Changed);
    (s, id, l)
}

fn after_finish(status: JobStatus) -> Vec<(String, JobStatus)> {
    pairs(&[
        ("r-completed", Completed),
        ("r-delivering", status),
        ("r-failed", Failed),
        ("r-initializing", status),
    ])
}

#[test]
fn finishing_gives_unfinished_regions_the_final_status() {
    // finish_job Completed / Failed
    for (outcome, status) in [
        (JobOutcome::Completed, Completed),
        (JobOutcome::Failed, Failed),
    ] {
        let (mut s, id, l) = mixed(defaults());
        changed(&mut s, T0 + 2, |s| {
            s.finish_job(&l, outcome, Timestamp(T0 + 2))
        })
        .unwrap();
        assert_eq!(regions(&s, A, id), after_finish(status));
        // complete_job, the operator's override
        let (mut s, id, _) = mixed(defaults());
        changed(&mut s, T0 + 2, |s| {
            s.complete_job(A, id, outcome, Timestamp(T0 + 2))
        })
        .unwrap();
        assert_eq!(regions(&s, A, id), after_finish(status));
    }
    // stop_job
    let (mut s, id, _) = mixed(defaults());
    changed(&mut s, T0 + 2, |s| s.stop_job(A, id, Timestamp(T0 + 2))).unwrap();
    assert_eq!(regions(&s, A, id), after_finish(Failed));
    // handle_timeout: the last lease runs out
    let (mut s, id, _) = mixed(workers(300, 1, 60, 3600, 86_400));
    assert_eq!(timeouts(&mut s, T0 + 300), (1, 1));
    assert_eq!(regions(&s, A, id), after_finish(Failed));
    // handle_timeout: the deadline
    let (mut s, id, _) = mixed(workers(300, 3, 60, 3600, 200));
    assert_eq!(timeouts(&mut s, T0 + 200), (0, 1));
    assert_eq!(regions(&s, A, id), after_finish(Failed));
    assert_eq!(
        job(&s, A, id).failure,
        Some(FailureReason::DeadlineExceeded)
    );
}

#[test]
fn an_unchanged_finish_leaves_the_regions_alone() {
    let (mut s, id, l) = mixed(defaults());
    s.finish_job(&l, JobOutcome::Completed, Timestamp(T0 + 2))
        .unwrap();
    expect_unchanged(&mut s, |s| s.stop_job(A, id, Timestamp(T0 + 3)));
    expect_unchanged(&mut s, |s| {
        s.finish_job(&l, JobOutcome::Completed, Timestamp(T0 + 3))
    });
    assert_eq!(regions(&s, A, id), after_finish(Completed));
}

#[test]
fn a_retry_sets_delivering_regions_back_to_initializing() {
    let (mut s, id, _) = mixed(defaults());
    assert_eq!(timeouts(&mut s, T0 + 300), (1, 0));
    assert_eq!(
        regions(&s, A, id),
        pairs(&[
            ("r-completed", Completed),
            ("r-delivering", Initializing),
            ("r-failed", Failed),
            ("r-initializing", Initializing),
        ])
    );
    // The next attempt reports them again, forward from Initializing.
    let l2 = claim_next(&mut s, T0 + 360);
    assert_eq!(l2.attempt, 2);
    report(&mut s, &l2, "r-delivering", Delivering, T0 + 361, Changed);
    report(&mut s, &l2, "r-completed", Delivering, T0 + 362, Unchanged);
    changed(&mut s, T0 + 363, |s| {
        s.finish_job(&l2, JobOutcome::Completed, Timestamp(T0 + 363))
    })
    .unwrap();
    assert_eq!(regions(&s, A, id), after_finish(Completed));
}

#[test]
fn regions_are_per_job() {
    let mut s = Sched::new(defaults());
    let a = new_job(&mut s, A, T0);
    let b = new_job(&mut s, B, T0);
    let la = claim(&mut s, A, a, T0);
    let lb = claim(&mut s, B, b, T0);
    report(&mut s, &la, "cn-beijing", Completed, T0 + 1, Changed);
    // The same region of another job starts afresh.
    report(&mut s, &lb, "cn-beijing", Failed, T0 + 2, Changed);
    report(&mut s, &lb, "cn-hangzhou", Delivering, T0 + 3, Changed);
    assert_eq!(regions(&s, A, a), pairs(&[("cn-beijing", Completed)]));
    assert_eq!(
        regions(&s, B, b),
        pairs(&[("cn-beijing", Failed), ("cn-hangzhou", Delivering)])
    );
    assert_eq!(catalogue(&s), ["cn-beijing", "cn-hangzhou"]);
    // A's lease does not reach B's job.
    expect_err(&mut s, Error::JobNotFound, |s| {
        s.report_region(&Lease { job: b, ..la }, &hz(), Completed, Timestamp(T0 + 4))
    });
}

#[test]
fn an_evicted_job_leaves_the_catalogue_alone() {
    // Two job slots: the third job evicts the finished job with the smallest id.
    let mut s: JobScheduler<4, 2, 4> = JobScheduler::new(defaults());
    let a = new_job(&mut s, A, T0);
    let l = claim_next(&mut s, T0);
    report(&mut s, &l, "cn-beijing", Delivering, T0 + 1, Changed);
    changed(&mut s, T0 + 2, |s| {
        s.finish_job(&l, JobOutcome::Completed, Timestamp(T0 + 2))
    })
    .unwrap();
    new_job(&mut s, B, T0 + 3);
    new_job(&mut s, C, T0 + 4);
    assert!(s.job(A, a).is_none(), "evicted");
    assert!(s.job_regions(A, a).is_none());
    assert_eq!(catalogue(&s), ["cn-beijing"]);
    assert_eq!(s.stats().jobs_evicted, 1);
}
