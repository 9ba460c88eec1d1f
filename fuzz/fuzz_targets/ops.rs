//! `ops`: an arbitrary sequence of operations with times, played into a small scheduler and
//! into the reference model of `tests/model/`; after every step the answers must agree and
//! `check_invariants()` must be `Ok`; an error must leave the snapshot bytes unchanged.
//!
//! Value types come from small index tables, so most operations are valid and the fuzzer
//! spends its time on the scheduler, not on the parsers (the `parse` target does those).

#![no_main]

#[path = "../../tests/model/mod.rs"]
mod model;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use trail_backfill::{
    AccountId, ClientToken, Command, Config, CreateJob, JobId, JobOutcome, JobScheduler, Region,
    Timestamp, TrailKind, TrailName, TrailSpec,
};

const ACCOUNTS: [u64; 3] = [1, 2, u64::MAX];
const REGIONS: [&str; 2] = ["cn-hangzhou", "ap-southeast-1"];
const NAMES: [&str; 3] = ["trail-a", "trail_b", "backfill"];
const TOKENS: [&str; 3] = ["tok-1", "Tok-1", "x"];

type Scheduler = JobScheduler<4, 6, 3>;

#[derive(Arbitrary, Debug)]
enum TimeStep {
    Same,
    Forward(u8),
    Jump(u32),
    Back(u8),
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
}

#[derive(Arbitrary, Debug)]
struct Input {
    token_ttl_secs: u8,
    max_trails_per_account: u8,
    first_job_id: u8,
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
        assert_eq!(scheduler.stats(), model.stats());
        assert_eq!(scheduler.clock(), model.clock());
        assert!(scheduler.jobs().eq(model.jobs()));
        assert!(scheduler.trails().eq(model.trails()));
    }
});

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
    }
}
