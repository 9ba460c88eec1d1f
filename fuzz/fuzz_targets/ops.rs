//! `ops`: an arbitrary sequence of operations with times, played into a small scheduler and
//! into the reference model of `tests/model/`; after every step the answers must agree, the
//! whole observable state must agree (jobs, trails, regions of every job, the region
//! catalogue, `poll_timeout`, stats, clock), and `check_invariants()` must be `Ok`; an error
//! must leave the snapshot bytes unchanged.
//!
//! The worker protocol (SPEC section 9) is played too: leases are built from the model's view
//! of a job (its current attempt, shifted by a small delta to make stale or unknown ones),
//! times can jump to the next due time, and the worker settings are small so that leases run
//! out, jobs retry and deadlines pass.
//!
//! Value types come from small index tables, so most operations are valid and the fuzzer
//! spends its time on the scheduler, not on the parsers (the `parse` target does those).

#![no_main]

#[path = "../../tests/model/mod.rs"]
mod model;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use trail_backfill::{
    AccountId, ClientToken, Command, Config, CreateJob, JobId, JobOutcome, JobScheduler, JobStatus,
    Lease, Region, Timestamp, TrailKind, TrailName, TrailSpec,
};

const ACCOUNTS: [u64; 3] = [1, 2, u64::MAX];
const REGIONS: [&str; 2] = ["cn-hangzhou", "ap-southeast-1"];
const NAMES: [&str; 3] = ["trail-a", "trail_b", "backfill"];
const TOKENS: [&str; 3] = ["tok-1", "Tok-1", "x"];
/// Regions workers report (the catalogue holds 64: this many cannot overflow it; the model
/// test's prelude does that).
const REPORT_REGIONS: [&str; 4] = ["cn-hangzhou", "ap-southeast-1", "eu-central-1", "a"];
const STATUSES: [JobStatus; 4] = [
    JobStatus::Initializing,
    JobStatus::Delivering,
    JobStatus::Completed,
    JobStatus::Failed,
];

type Scheduler = JobScheduler<4, 6, 3>;

#[derive(Arbitrary, Debug)]
enum TimeStep {
    Same,
    Forward(u8),
    Jump(u32),
    Back(u8),
    /// `poll_timeout()` plus a small signed offset (nothing due: no move).
    Due(i8),
}

/// A lease a worker presents: the job's current attempt (as the model sees it) shifted by
/// `delta`, presented by `account`.
#[derive(Arbitrary, Debug)]
struct LeaseSpec {
    account: u8,
    job: u8,
    delta: i8,
}

#[derive(Arbitrary, Debug)]
enum Operation {
    CreateTrail {
        account: u8,
        region: u8,
        name: u8,
        flags: u8,
    },
    DeleteTrail {
        account: u8,
        region: u8,
        name: u8,
    },
    StartLogging {
        account: u8,
        region: u8,
        name: u8,
    },
    StopLogging {
        account: u8,
        region: u8,
        name: u8,
    },
    CreateJob {
        account: u8,
        region: u8,
        name: u8,
        token: Option<u8>,
    },
    StartJob {
        account: u8,
        job: u8,
    },
    CompleteJob {
        account: u8,
        job: u8,
        failed: bool,
    },
    DeleteJob {
        account: u8,
        job: u8,
    },
    Job {
        account: u8,
        job: u8,
    },
    ActiveJob {
        account: u8,
    },
    ListJobs {
        account: u8,
        page_number: u8,
        page_size: u8,
    },
    Reload,
    ClaimNext,
    ClaimJob {
        account: u8,
        job: u8,
    },
    Heartbeat {
        lease: LeaseSpec,
        delivered: u16,
    },
    ReportRegion {
        lease: LeaseSpec,
        region: u8,
        status: u8,
    },
    FinishJob {
        lease: LeaseSpec,
        failed: bool,
    },
    StopJob {
        account: u8,
        job: u8,
    },
    HandleTimeout,
    JobRegions {
        account: u8,
        job: u8,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    token_ttl_secs: u8,
    max_trails_per_account: u8,
    first_job_id: u8,
    lease_secs: u8,
    max_attempts: u8,
    retry_backoff_secs: u8,
    max_backoff_secs: u8,
    max_job_secs: u16,
    start: u64,
    steps: Vec<(TimeStep, bool, Operation)>,
}

fn account(i: u8) -> AccountId {
    AccountId(ACCOUNTS[usize::from(i) % ACCOUNTS.len()])
}
fn region(i: u8) -> Region {
    Region::new(REGIONS[usize::from(i) % REGIONS.len()]).unwrap()
}
fn name(i: u8) -> TrailName {
    TrailName::new(NAMES[usize::from(i) % NAMES.len()]).unwrap()
}
fn token(i: u8) -> ClientToken {
    ClientToken::new(TOKENS[usize::from(i) % TOKENS.len()]).unwrap()
}

fuzz_target!(|input: Input| {
    let first_job_id = match input.first_job_id {
        250..=255 => u64::MAX - u64::from(255 - input.first_job_id),
        n => u64::from(n),
    };
    let config = Config {
        token_ttl_secs: u64::from(input.token_ttl_secs % 32),
        max_trails_per_account: u32::from(input.max_trails_per_account % 4),
        first_job_id,
        retention_secs: 100,
        grace_secs: 5,
        lease_secs: u64::from(input.lease_secs % 32),
        max_attempts: match input.max_attempts {
            255 => u64::MAX,
            n => u64::from(n % 6),
        },
        retry_backoff_secs: u64::from(input.retry_backoff_secs % 16),
        max_backoff_secs: u64::from(input.max_backoff_secs),
        max_job_secs: match input.max_job_secs {
            u16::MAX => u64::MAX,
            n => u64::from(n % 512),
        },
        ..Config::DEFAULT
    };
    let mut scheduler = Scheduler::new(config);
    let mut model = model::Model::new(config, 4, 6, 3);
    let mut now = input.start;
    let job = |j: u8| JobId(first_job_id.saturating_add(u64::from(j % 12)));

    for (time, via_apply, operation) in input.steps.iter().take(256) {
        now = match *time {
            TimeStep::Same => now,
            TimeStep::Forward(d) => now.saturating_add(u64::from(d % 8)),
            TimeStep::Jump(d) => now.saturating_add(u64::from(d)),
            TimeStep::Back(d) => now.saturating_sub(u64::from(d)),
            TimeStep::Due(d) => match model.poll_timeout() {
                Some(due) if d < 0 => due.0.saturating_sub(u64::from(d.unsigned_abs())),
                Some(due) => due.0.saturating_add(u64::from(d.unsigned_abs())),
                None => now,
            },
        };
        // The lease a worker presents, from the model's view of the job.
        let lease = |spec: &LeaseSpec| {
            let id = job(spec.job);
            let found = model.jobs().find(|j| j.id == id);
            let attempt = found.map_or(1, |j| j.attempt);
            Lease {
                account: account(spec.account),
                job: id,
                attempt: if spec.delta < 0 {
                    attempt.saturating_sub(u32::from(spec.delta.unsigned_abs() % 4))
                } else {
                    attempt.saturating_add(u32::from(spec.delta.unsigned_abs() % 4 / 3))
                },
                expires_at: found
                    .and_then(|j| j.lease_expires_at)
                    .unwrap_or(Timestamp(u64::from(spec.job))),
            }
        };
        let t = Timestamp(now);
        let command = match *operation {
            Operation::CreateTrail {
                account: a,
                region: r,
                name: n,
                flags,
            } => Some(Command::CreateTrail {
                account: account(a),
                region: region(r),
                spec: TrailSpec {
                    name: name(n),
                    kind: if flags % 8 == 7 {
                        TrailKind::Organization
                    } else {
                        TrailKind::SingleAccount
                    },
                    delivers_to_sls: flags % 8 != 6,
                },
            }),
            Operation::DeleteTrail {
                account: a,
                region: r,
                name: n,
            } => Some(Command::DeleteTrail {
                account: account(a),
                region: region(r),
                name: name(n),
            }),
            Operation::StartLogging {
                account: a,
                region: r,
                name: n,
            } => Some(Command::StartLogging {
                account: account(a),
                region: region(r),
                name: name(n),
            }),
            Operation::StopLogging {
                account: a,
                region: r,
                name: n,
            } => Some(Command::StopLogging {
                account: account(a),
                region: region(r),
                name: name(n),
            }),
            Operation::CreateJob {
                account: a,
                region: r,
                name: n,
                token: k,
            } => Some(Command::CreateJob(CreateJob {
                account: account(a),
                region: region(r),
                trail_name: name(n),
                client_token: k.map(token),
            })),
            Operation::StartJob { account: a, job: j } => Some(Command::StartJob {
                account: account(a),
                job: job(j),
            }),
            Operation::CompleteJob {
                account: a,
                job: j,
                failed,
            } => Some(Command::CompleteJob {
                account: account(a),
                job: job(j),
                outcome: if failed {
                    JobOutcome::Failed
                } else {
                    JobOutcome::Completed
                },
            }),
            Operation::DeleteJob { account: a, job: j } => Some(Command::DeleteJob {
                account: account(a),
                job: job(j),
            }),
            Operation::Job { account: a, job: j } => {
                assert_eq!(
                    scheduler.job(account(a), job(j)),
                    model.job(account(a), job(j))
                );
                None
            }
            Operation::ActiveJob { account: a } => {
                assert_eq!(
                    scheduler.active_job(account(a)),
                    model.active_job(account(a))
                );
                None
            }
            Operation::ListJobs {
                account: a,
                page_number,
                page_size,
            } => {
                let (n, size) = (u32::from(page_number % 4), u32::from(page_size));
                let got = scheduler
                    .list_jobs(account(a), n, size)
                    .map(|page| (page.total_count, page.jobs().cloned().collect::<Vec<_>>()));
                assert_eq!(got, model.list_jobs(account(a), n, size));
                None
            }
            Operation::ClaimNext => Some(Command::ClaimNext),
            Operation::ClaimJob { account: a, job: j } => Some(Command::ClaimJob {
                account: account(a),
                job: job(j),
            }),
            Operation::Heartbeat {
                lease: ref l,
                delivered,
            } => Some(Command::Heartbeat {
                lease: lease(l),
                delivered: u64::from(delivered),
            }),
            Operation::ReportRegion {
                lease: ref l,
                region: r,
                status,
            } => Some(Command::ReportRegion {
                lease: lease(l),
                region: Region::new(REPORT_REGIONS[usize::from(r) % REPORT_REGIONS.len()]).unwrap(),
                status: STATUSES[usize::from(status) % STATUSES.len()],
            }),
            Operation::FinishJob {
                lease: ref l,
                failed,
            } => Some(Command::FinishJob {
                lease: lease(l),
                outcome: if failed {
                    JobOutcome::Failed
                } else {
                    JobOutcome::Completed
                },
            }),
            Operation::StopJob { account: a, job: j } => Some(Command::StopJob {
                account: account(a),
                job: job(j),
            }),
            Operation::HandleTimeout => Some(Command::HandleTimeout),
            Operation::JobRegions { account: a, job: j } => {
                assert_eq!(
                    job_regions(&scheduler, account(a), job(j)),
                    model.job_regions(account(a), job(j))
                );
                None
            }
            Operation::Reload => {
                let bytes = postcard::to_allocvec(&scheduler).unwrap();
                let loaded: Scheduler = postcard::from_bytes(&bytes).unwrap();
                assert_eq!(loaded, scheduler);
                assert_eq!(postcard::to_allocvec(&loaded).unwrap(), bytes);
                scheduler = loaded;
                None
            }
        };
        if let Some(command) = command {
            let before = postcard::to_allocvec(&scheduler).unwrap();
            // `apply` and the methods must agree; the model answers through `apply`, which
            // the model test checks against its methods.
            let got = if *via_apply {
                scheduler.apply(&command, t)
            } else {
                call(&mut scheduler, &command, t)
            };
            let expected = model.apply(&command, t);
            let got = got.map(|effect| model::Effect::of(&effect));
            assert_eq!(got, expected, "{command:?} at {t:?}");
            if got.is_err() {
                assert_eq!(
                    postcard::to_allocvec(&scheduler).unwrap(),
                    before,
                    "an Err changed state"
                );
            }
        }
        if let Err(violation) = scheduler.check_invariants() {
            panic!("invariant broken: {violation}");
        }
        assert_eq!(model::Stats::of(&scheduler.stats()), model.stats());
        assert_eq!(scheduler.clock(), model.clock());
        assert_eq!(scheduler.poll_timeout(), model.poll_timeout());
        assert!(scheduler.jobs().eq(model.jobs()));
        assert!(scheduler.trails().eq(model.trails()));
        assert!(scheduler.regions().eq(model.regions()));
        for j in model.jobs() {
            assert_eq!(
                job_regions(&scheduler, j.account, j.id),
                model.job_regions(j.account, j.id)
            );
        }
    }
});

/// `job_regions` of the scheduler, owned.
fn job_regions(s: &Scheduler, a: AccountId, j: JobId) -> Option<Vec<(Region, JobStatus)>> {
    s.job_regions(a, j)
        .map(|regions| regions.map(|(r, status)| (r.clone(), status)).collect())
}

/// The method that `command` names, its answer wrapped as `apply` would.
fn call(
    s: &mut Scheduler,
    command: &Command,
    now: Timestamp,
) -> Result<trail_backfill::Effect, trail_backfill::Error> {
    use trail_backfill::Effect;
    match command {
        Command::CreateTrail {
            account,
            region,
            spec,
        } => s
            .create_trail(*account, region, spec, now)
            .map(|()| Effect::TrailCreated),
        Command::DeleteTrail {
            account,
            region,
            name,
        } => s
            .delete_trail(*account, region, name)
            .map(|()| Effect::TrailDeleted),
        Command::StartLogging {
            account,
            region,
            name,
        } => s
            .start_logging(*account, region, name, now)
            .map(Effect::LoggingStarted),
        Command::StopLogging {
            account,
            region,
            name,
        } => s
            .stop_logging(*account, region, name, now)
            .map(Effect::LoggingStopped),
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
        Command::DeleteJob { account, job } => s.delete_job(*account, *job).map(Effect::JobDeleted),
        Command::ClaimNext => Ok(Effect::JobClaimed(s.claim_next(now))),
        Command::ClaimJob { account, job } => s
            .claim_job(*account, *job, now)
            .map(|lease| Effect::JobClaimed(Some(lease))),
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
        other => panic!("a command this target does not play: {other:?}"),
    }
}
