//! Unit tests of the scheduler's logical equality and `Debug`.

#![allow(clippy::unwrap_used)] // tests may panic: that is how they fail

extern crate std;
use super::*;
use crate::ids::ClientToken;
use std::format;

type Scheduler = JobScheduler<4, 4, 4>;

/// A scheduler with one trail, one finished job, one active job and two token records.
fn busy() -> Scheduler {
    let mut scheduler = Scheduler::new(Config::DEFAULT);
    let region = Region::new("cn-hangzhou").unwrap();
    let spec = TrailSpec {
        name: TrailName::new("trail-name").unwrap(),
        kind: TrailKind::SingleAccount,
        delivers_to_sls: true,
    };
    scheduler
        .create_trail(AccountId(1), &region, &spec, Timestamp(1))
        .unwrap();
    scheduler
        .start_logging(AccountId(1), &region, &spec.name, Timestamp(1))
        .unwrap();
    for token in ["first", "second"] {
        let request = CreateJob {
            account: AccountId(1),
            region: region.clone(),
            trail_name: spec.name.clone(),
            client_token: Some(ClientToken::new(token).unwrap()),
        };
        let job = scheduler.create_job(&request, Timestamp(5)).unwrap().job_id;
        if token == "first" {
            scheduler
                .complete_job(AccountId(1), job, JobOutcome::Completed, Timestamp(6))
                .unwrap();
        }
    }
    scheduler
}

#[test]
fn equality_sees_every_part_of_the_logical_state() {
    let base = busy();
    assert_eq!(base, busy());
    let changes: [fn(&mut Scheduler); 8] = [
        |s| s.config.token_ttl_secs = 1,
        |s| s.clock = Timestamp(99),
        |s| s.next_job_id = 9,
        |s| s.jobs_evicted = 1,
        |s| s.tokens_evicted_live = 1,
        |s| {
            let region = Region::new("cn-hangzhou").unwrap();
            s.stop_logging(
                AccountId(1),
                &region,
                &TrailName::new("trail-name").unwrap(),
                Timestamp(6),
            )
            .unwrap();
        },
        |s| {
            s.delete_job(AccountId(1), JobId(1)).unwrap();
        },
        |s| {
            let mut other = Scheduler::new(Config::DEFAULT);
            core::mem::swap(&mut other.tokens, &mut s.tokens);
        },
    ];
    for (index, change) in changes.iter().enumerate() {
        let mut changed = busy();
        change(&mut changed);
        assert_ne!(changed, base, "change {index} went unseen");
    }
}

#[test]
fn debug_shows_the_logical_state() {
    let shown = format!("{:?}", busy());
    for part in [
        "config",
        "clock: Timestamp(6)",
        "next_job_id: 3",
        "trail-name",
        "JobId(2)",
        "second",
    ] {
        assert!(shown.contains(part), "{part} missing from {shown}");
    }
}
