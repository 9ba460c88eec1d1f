//! Contract tests for SPEC section 9 through the rest of the API: the new `Command` variants
//! and `Effect`s of `apply` (section 5), their serde forms, and snapshots (version 2, with
//! leases, backoffs, failure reasons, regions and the catalogue; version 1 still loads).

#[path = "common/workers.rs"]
mod workers;

use trail_backfill::*;
use workers::*;

// ---------------------------------------------------------------------- apply

/// The method that a section-9 `command` names, with its `Ok` value wrapped as SPEC's table
/// says; the commands of sections 2 and 3 that the scripts below use, likewise.
fn via_method(s: &mut Sched, command: &Command, now: Timestamp) -> Result<Effect, Error> {
    match command {
        Command::CreateTrail {
            account,
            region,
            spec,
        } => s
            .create_trail(*account, region, spec, now)
            .map(|()| Effect::TrailCreated),
        Command::StartLogging {
            account,
            region,
            name,
        } => s
            .start_logging(*account, region, name, now)
            .map(Effect::LoggingStarted),
        Command::CreateJob(request) => s.create_job(request, now).map(Effect::JobCreated),
        Command::StartJob { account, job } => {
            s.start_job(*account, *job, now).map(Effect::JobStarted)
        }
        Command::CompleteJob {
            account,
            job,
            outcome,
        } => s
            .complete_job(*account, *job, *outcome, now)
            .map(Effect::JobCompleted),
        Command::ClaimNext => Ok(Effect::JobClaimed(s.claim_next(now))),
        Command::ClaimJob { account, job } => s
            .claim_job(*account, *job, now)
            .map(|l| Effect::JobClaimed(Some(l))),
        Command::Heartbeat { lease, delivered } => s
            .heartbeat(lease, *delivered, now)
            .map(Effect::LeaseExtended),
        Command::ReportRegion {
            lease,
            region,
            status,
        } => s
            .report_region(lease, region, *status, now)
            .map(Effect::RegionReported),
        Command::FinishJob { lease, outcome } => {
            s.finish_job(lease, *outcome, now).map(Effect::JobFinished)
        }
        Command::StopJob { account, job } => {
            s.stop_job(*account, *job, now).map(Effect::JobStopped)
        }
        Command::HandleTimeout => Ok(Effect::TimeoutsHandled(s.handle_timeout(now))),
        other => panic!("not used by these scripts: {other:?}"),
    }
}

/// Runs `command` on both twins, checks that they agree (answer, bytes, equality,
/// invariants) and that an error changed nothing; returns the effect.
fn step(m: &mut Sched, a: &mut Sched, command: &Command, now: u64) -> Result<Effect, Error> {
    let before = bytes(a);
    let clock = a.clock();
    let expected = via_method(m, command, Timestamp(now));
    let got = a.apply(command, Timestamp(now));
    assert_eq!(got, expected, "{command:?} at {now}");
    assert_eq!(
        bytes(a),
        bytes(m),
        "state differs after {command:?} at {now}"
    );
    assert_eq!(*a, *m);
    inv(a);
    if got.is_err() {
        assert_eq!(
            bytes(a),
            before,
            "an error changed the scheduler: {command:?}"
        );
        assert_eq!(a.clock(), clock);
    }
    got
}

fn claimed(e: Result<Effect, Error>) -> Option<Lease> {
    match e {
        Ok(Effect::JobClaimed(l)) => l,
        other => panic!("expected JobClaimed, got {other:?}"),
    }
}

fn handled(e: Result<Effect, Error>) -> (u32, u32) {
    match e {
        Ok(Effect::TimeoutsHandled(r)) => (r.leases_expired, r.jobs_failed),
        other => panic!("expected TimeoutsHandled, got {other:?}"),
    }
}

fn setup_commands(account: AccountId) -> [Command; 3] {
    [
        Command::CreateTrail {
            account,
            region: hz(),
            spec: TrailSpec {
                name: trail_name(),
                kind: TrailKind::SingleAccount,
                delivers_to_sls: true,
            },
        },
        Command::StartLogging {
            account,
            region: hz(),
            name: trail_name(),
        },
        Command::CreateJob(CreateJob {
            account,
            region: hz(),
            trail_name: trail_name(),
            client_token: None,
        }),
    ]
}

#[test]
fn apply_does_what_the_worker_methods_do() {
    let mut m = Sched::new(defaults());
    let mut a = Sched::new(defaults());
    let (m, a) = (&mut m, &mut a);
    for c in setup_commands(A).iter().chain(&setup_commands(B)) {
        step(m, a, c, T0).unwrap();
    }
    let (ja, jb) = (JobId(1), JobId(2));
    let la = claimed(step(m, a, &Command::ClaimNext, T0 + 1)).unwrap();
    assert_eq!(
        (la.job, la.attempt, la.expires_at),
        (ja, 1, Timestamp(T0 + 301))
    );
    let claim_b = Command::ClaimJob {
        account: B,
        job: jb,
    };
    let lb = claimed(step(m, a, &claim_b, T0 + 2)).expect("ClaimJob answers Some");
    assert_eq!(lb.job, jb);
    assert_eq!(
        step(m, a, &claim_b, T0 + 3),
        Err(Error::JobNotClaimable {
            until: Timestamp(T0 + 302)
        })
    );
    assert_eq!(claimed(step(m, a, &Command::ClaimNext, T0 + 3)), None);
    let beat = Command::Heartbeat {
        lease: la,
        delivered: 10,
    };
    assert_eq!(
        step(m, a, &beat, T0 + 100),
        Ok(Effect::LeaseExtended(Timestamp(T0 + 400)))
    );
    assert_eq!(a.stats().leased_jobs, 2);
    let rep = |lease, r: &str, status| Command::ReportRegion {
        lease,
        region: region(r),
        status,
    };
    assert_eq!(
        step(
            m,
            a,
            &rep(la, "cn-beijing", JobStatus::Delivering),
            T0 + 110
        ),
        Ok(Effect::RegionReported(Transition::Changed))
    );
    assert_eq!(
        step(
            m,
            a,
            &rep(la, "cn-beijing", JobStatus::Initializing),
            T0 + 120
        ),
        Ok(Effect::RegionReported(Transition::Unchanged))
    );
    assert_eq!(
        step(m, a, &rep(lb, "cn-beijing", JobStatus::Completed), T0 + 130),
        Ok(Effect::RegionReported(Transition::Changed))
    );
    let stale = Lease { attempt: 2, ..la };
    assert_eq!(
        step(
            m,
            a,
            &rep(stale, "cn-beijing", JobStatus::Completed),
            T0 + 140
        ),
        Err(Error::LeaseLost)
    );
    // B's lease (T0 + 302) runs out; A's (T0 + 400) does not.
    assert_eq!(
        handled(step(m, a, &Command::HandleTimeout, T0 + 350)),
        (1, 0)
    );
    assert_eq!(
        handled(step(m, a, &Command::HandleTimeout, T0 + 360)),
        (0, 0)
    );
    assert_eq!(job(a, B, jb).not_before, Timestamp(T0 + 362));
    let finish = |lease, outcome| Command::FinishJob { lease, outcome };
    assert_eq!(
        step(m, a, &finish(la, JobOutcome::Completed), T0 + 370),
        Ok(Effect::JobFinished(Transition::Changed))
    );
    assert_eq!(
        step(m, a, &finish(la, JobOutcome::Completed), T0 + 380),
        Ok(Effect::JobFinished(Transition::Unchanged))
    );
    assert_eq!(
        step(m, a, &finish(la, JobOutcome::Failed), T0 + 380),
        Err(Error::LeaseLost)
    );
    let stop = |account, job| Command::StopJob { account, job };
    assert_eq!(step(m, a, &stop(A, jb), T0 + 390), Err(Error::JobNotFound));
    assert_eq!(
        step(m, a, &stop(B, jb), T0 + 390),
        Ok(Effect::JobStopped(Transition::Changed))
    );
    assert_eq!(
        step(m, a, &stop(B, jb), T0 + 400),
        Ok(Effect::JobStopped(Transition::Unchanged))
    );
    assert_eq!(
        step(m, a, &claim_b, T0 + 400),
        Err(Error::InvalidJobStatus {
            status: JobStatus::Failed
        })
    );
    assert_eq!(job(a, B, jb).failure, Some(FailureReason::Stopped));
    assert_eq!(job(a, A, ja).failure, None);
    assert_eq!(
        regions(a, B, jb),
        pairs(&[("cn-beijing", JobStatus::Completed)])
    );
    assert_eq!(a.clock(), Timestamp(T0 + 390));
    assert_eq!(a.stats().leased_jobs, 0);
    assert_eq!(a.poll_timeout(), None);
}

#[test]
fn apply_through_deadlines_and_last_attempts() {
    let config = workers(100, 1, 60, 3600, 1000);
    let mut m = Sched::new(config);
    let mut a = Sched::new(config);
    let (m, a) = (&mut m, &mut a);
    for c in setup_commands(A)
        .iter()
        .chain(&setup_commands(B))
        .chain(&setup_commands(C))
    {
        step(m, a, c, T0).unwrap();
    }
    step(
        m,
        a,
        &Command::StartJob {
            account: C,
            job: JobId(3),
        },
        T0 + 1,
    )
    .unwrap();
    let la = claimed(step(m, a, &Command::ClaimNext, T0 + 1)).unwrap();
    assert_eq!(la.job, JobId(1));
    assert_eq!(
        handled(step(m, a, &Command::HandleTimeout, T0 + 101)),
        (1, 1)
    );
    assert_eq!(
        job(a, A, JobId(1)).failure,
        Some(FailureReason::LeaseExpired)
    );
    let command = Command::CompleteJob {
        account: C,
        job: JobId(3),
        outcome: JobOutcome::Failed,
    };
    step(m, a, &command, T0 + 200).unwrap();
    assert_eq!(job(a, C, JobId(3)).failure, Some(FailureReason::Reported));
    assert_eq!(
        handled(step(m, a, &Command::HandleTimeout, T0 + 999)),
        (0, 0)
    );
    assert_eq!(
        handled(step(m, a, &Command::HandleTimeout, T0 + 1000)),
        (0, 1)
    );
    assert_eq!(
        job(a, B, JobId(2)).failure,
        Some(FailureReason::DeadlineExceeded)
    );
    assert_eq!(claimed(step(m, a, &Command::ClaimNext, T0 + 1001)), None);
}

// ---------------------------------------------------------------------- serde

fn round_trip<T>(v: &T)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let text = serde_json::to_string(v).unwrap();
    assert_eq!(&serde_json::from_str::<T>(&text).unwrap(), v, "{text}");
    let raw = postcard::to_allocvec(v).unwrap();
    assert_eq!(&postcard::from_bytes::<T>(&raw).unwrap(), v);
}

fn sample_lease() -> Lease {
    Lease {
        account: A,
        job: JobId(7),
        attempt: 3,
        expires_at: Timestamp(u64::MAX),
    }
}

fn new_commands() -> [Command; 7] {
    let lease = sample_lease();
    [
        Command::ClaimNext,
        Command::ClaimJob {
            account: A,
            job: JobId(7),
        },
        Command::Heartbeat {
            lease,
            delivered: 12,
        },
        Command::ReportRegion {
            lease,
            region: hz(),
            status: JobStatus::Completed,
        },
        Command::FinishJob {
            lease,
            outcome: JobOutcome::Failed,
        },
        Command::StopJob {
            account: A,
            job: JobId(7),
        },
        Command::HandleTimeout,
    ]
}

#[test]
fn new_commands_effects_and_values_round_trip() {
    for c in &new_commands() {
        round_trip(c);
    }
    round_trip(&sample_lease());
    for r in [
        FailureReason::Reported,
        FailureReason::LeaseExpired,
        FailureReason::DeadlineExceeded,
        FailureReason::Stopped,
    ] {
        round_trip(&r);
    }
    round_trip(&Error::LeaseLost);
    round_trip(&Error::JobNotClaimable {
        until: Timestamp(5),
    });
    round_trip(&Error::CapacityExhausted(Table::Regions));
    let mut s = Sched::new(defaults());
    new_job(&mut s, A, T0);
    let report = s.handle_timeout(Timestamp(T0 + 86_400));
    assert_eq!((report.leases_expired, report.jobs_failed), (0, 1));
    round_trip(&report);
    round_trip(&s.stats());
    for e in [
        Effect::JobClaimed(None),
        Effect::JobClaimed(Some(sample_lease())),
        Effect::LeaseExtended(Timestamp(9)),
        Effect::RegionReported(Transition::Unchanged),
        Effect::JobFinished(Transition::Changed),
        Effect::JobStopped(Transition::Unchanged),
        Effect::TimeoutsHandled(report),
    ] {
        round_trip(&e);
    }
}

#[test]
fn new_command_variants_are_appended() {
    // A serialized Command is a Raft log entry: the eight commands of sections 2 and 3 keep
    // their indexes 0..=7 and the new ones come after them.
    let mut indexes: Vec<u8> = new_commands()
        .iter()
        .map(|c| postcard::to_allocvec(c).unwrap()[0])
        .collect();
    indexes.sort_unstable();
    assert_eq!(indexes, (8..=14).collect::<Vec<u8>>());
    let delete = Command::DeleteJob {
        account: A,
        job: JobId(1),
    };
    assert_eq!(postcard::to_allocvec(&delete).unwrap()[0], 7);
}

#[test]
fn new_commands_validate_their_values_when_deserialized() {
    let good = Command::ReportRegion {
        lease: sample_lease(),
        region: region("cn-beijing"),
        status: JobStatus::Delivering,
    };
    let text = serde_json::to_string(&good).unwrap();
    assert_eq!(serde_json::from_str::<Command>(&text).unwrap(), good);
    for bad in ["CN-Beijing", "", "cn_beijing"] {
        let edited = text.replace("\"cn-beijing\"", &format!("{bad:?}"));
        assert_ne!(edited, text);
        assert!(
            serde_json::from_str::<Command>(&edited).is_err(),
            "accepted {edited}"
        );
    }
}
