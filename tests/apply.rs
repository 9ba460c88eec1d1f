//! Contract tests for `Command`/`apply` (SPEC section 5): `apply` does exactly what the
//! matching method does, and `Effect` carries that method's `Ok` value. Checked on twin
//! schedulers, compared by serialization, with `check_invariants()` after every step.

use trail_backfill::*;

mod common;
use common::{hz, name, region, snap};

type Sched = JobScheduler<4, 4, 4>;

const A: AccountId = AccountId(1001);
const B: AccountId = AccountId(2002);

fn spec(s: &str, kind: TrailKind, sls: bool) -> TrailSpec {
    TrailSpec {
        name: name(s),
        kind,
        delivers_to_sls: sls,
    }
}

fn config() -> Config {
    Config {
        token_ttl_secs: 50,
        retention_secs: 1_000,
        grace_secs: 7,
        max_trails_per_account: 2,
        first_job_id: 10,
        ..Config::DEFAULT
    }
}

/// The method that `command` names, with its `Ok` value wrapped as SPEC's table says.
fn via_method(s: &mut Sched, command: &Command, now: Timestamp) -> Result<Effect, Error> {
    #[allow(unreachable_patterns)]
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
        other => panic!("command not in SPEC section 5: {other:?}"),
    }
}

/// Runs `command` on both twins and checks they agree; returns the effect.
fn step(
    by_method: &mut Sched,
    by_apply: &mut Sched,
    command: &Command,
    now: u64,
) -> Result<Effect, Error> {
    let expected = via_method(by_method, command, Timestamp(now));
    let got = by_apply.apply(command, Timestamp(now));
    assert_eq!(got, expected, "{command:?} at {now}");
    assert_eq!(
        snap(by_apply),
        snap(by_method),
        "state differs after {command:?} at {now}"
    );
    assert_eq!(*by_apply, *by_method);
    assert_eq!(by_apply.stats(), by_method.stats());
    assert_eq!(by_apply.clock(), by_method.clock());
    by_method.check_invariants().unwrap();
    by_apply.check_invariants().unwrap();
    got
}

fn create_job(account: AccountId, trail: &str, tok: Option<&str>) -> Command {
    Command::CreateJob(CreateJob {
        account,
        region: hz(),
        trail_name: name(trail),
        client_token: tok.map(|t| ClientToken::new(t).unwrap()),
    })
}

#[test]
fn every_command_matches_its_method() {
    let mut m = Sched::new(config());
    let mut a = Sched::new(config());
    let create_trail = |acc, n: &str| Command::CreateTrail {
        account: acc,
        region: hz(),
        spec: spec(n, TrailKind::SingleAccount, true),
    };
    let start_logging = |acc, n: &str| Command::StartLogging {
        account: acc,
        region: hz(),
        name: name(n),
    };
    let stop_logging = |acc, n: &str| Command::StopLogging {
        account: acc,
        region: hz(),
        name: name(n),
    };
    let delete_trail = |acc, n: &str| Command::DeleteTrail {
        account: acc,
        region: hz(),
        name: name(n),
    };

    assert_eq!(
        step(&mut m, &mut a, &create_trail(A, "trail-one"), 100),
        Ok(Effect::TrailCreated)
    );
    assert_eq!(
        step(&mut m, &mut a, &create_trail(A, "trail-one"), 101),
        Err(Error::TrailAlreadyExists)
    );
    step(&mut m, &mut a, &create_trail(A, "trail-two"), 102).unwrap();
    assert_eq!(
        step(&mut m, &mut a, &create_trail(A, "trail-three"), 103),
        Err(Error::TrailLimitExceeded)
    );
    assert_eq!(
        step(&mut m, &mut a, &start_logging(A, "trail-one"), 104),
        Ok(Effect::LoggingStarted(Transition::Changed))
    );
    assert_eq!(
        step(&mut m, &mut a, &start_logging(A, "trail-one"), 105),
        Ok(Effect::LoggingStarted(Transition::Unchanged))
    );
    assert_eq!(
        step(&mut m, &mut a, &stop_logging(A, "trail-two"), 106),
        Ok(Effect::LoggingStopped(Transition::Unchanged))
    );
    assert_eq!(
        step(&mut m, &mut a, &start_logging(B, "trail-one"), 106),
        Err(Error::TrailNotFound)
    );
    let created = step(
        &mut m,
        &mut a,
        &create_job(A, "trail-one", Some("tok-1")),
        110,
    );
    assert_eq!(
        created,
        Ok(Effect::JobCreated(JobCreated {
            job_id: JobId(10),
            replayed: false
        }))
    );
    assert_eq!(
        step(
            &mut m,
            &mut a,
            &create_job(A, "trail-one", Some("tok-1")),
            111
        ),
        Ok(Effect::JobCreated(JobCreated {
            job_id: JobId(10),
            replayed: true
        }))
    );
    assert_eq!(
        step(
            &mut m,
            &mut a,
            &create_job(A, "trail-two", Some("tok-1")),
            111
        ),
        Err(Error::IdempotentParameterMismatch)
    );
    assert_eq!(
        step(&mut m, &mut a, &create_job(A, "trail-two", None), 111),
        Err(Error::TrailNotEligible(Ineligibility::NotLogging))
    );
    assert_eq!(
        step(&mut m, &mut a, &create_job(A, "trail-one", None), 111),
        Err(Error::JobAlreadyRunning { active: JobId(10) })
    );
    let start = Command::StartJob {
        account: A,
        job: JobId(10),
    };
    assert_eq!(
        step(&mut m, &mut a, &start, 120),
        Ok(Effect::JobStarted(Transition::Changed))
    );
    assert_eq!(
        step(&mut m, &mut a, &start, 121),
        Ok(Effect::JobStarted(Transition::Unchanged))
    );
    let delete = Command::DeleteJob {
        account: A,
        job: JobId(10),
    };
    assert_eq!(
        step(&mut m, &mut a, &delete, 122),
        Err(Error::JobNotFinished)
    );
    let complete = |outcome| Command::CompleteJob {
        account: A,
        job: JobId(10),
        outcome,
    };
    assert_eq!(
        step(&mut m, &mut a, &complete(JobOutcome::Completed), 130),
        Ok(Effect::JobCompleted(Transition::Changed))
    );
    assert_eq!(
        step(&mut m, &mut a, &complete(JobOutcome::Completed), 131),
        Ok(Effect::JobCompleted(Transition::Unchanged))
    );
    assert_eq!(
        step(&mut m, &mut a, &complete(JobOutcome::Failed), 131),
        Err(Error::InvalidJobStatus {
            status: JobStatus::Completed
        })
    );
    assert_eq!(
        step(&mut m, &mut a, &start, 131),
        Err(Error::InvalidJobStatus {
            status: JobStatus::Completed
        })
    );
    let job = m.job(A, JobId(10)).unwrap().clone();
    assert_eq!(
        step(&mut m, &mut a, &delete, 140),
        Ok(Effect::JobDeleted(job))
    );
    assert_eq!(step(&mut m, &mut a, &delete, 141), Err(Error::JobNotFound));
    assert_eq!(
        step(&mut m, &mut a, &stop_logging(A, "trail-one"), 150),
        Ok(Effect::LoggingStopped(Transition::Changed))
    );
    assert_eq!(
        step(&mut m, &mut a, &delete_trail(A, "trail-one"), 160),
        Ok(Effect::TrailDeleted)
    );
    assert_eq!(
        step(&mut m, &mut a, &delete_trail(A, "trail-one"), 161),
        Err(Error::TrailNotFound)
    );
}

#[test]
fn commands_without_a_time_do_not_move_the_clock_through_apply() {
    // delete_trail and delete_job take no time, so apply's `now` must not move the clock.
    let mut m = Sched::new(config());
    let mut a = Sched::new(config());
    let setup = [
        Command::CreateTrail {
            account: A,
            region: hz(),
            spec: spec("trail-one", TrailKind::SingleAccount, true),
        },
        Command::StartLogging {
            account: A,
            region: hz(),
            name: name("trail-one"),
        },
        create_job(A, "trail-one", None),
        Command::CompleteJob {
            account: A,
            job: JobId(10),
            outcome: JobOutcome::Failed,
        },
    ];
    for c in &setup {
        step(&mut m, &mut a, c, 100).unwrap();
    }
    step(
        &mut m,
        &mut a,
        &Command::DeleteJob {
            account: A,
            job: JobId(10),
        },
        5_000,
    )
    .unwrap();
    assert_eq!(a.clock(), Timestamp(100));
    step(
        &mut m,
        &mut a,
        &Command::DeleteTrail {
            account: A,
            region: hz(),
            name: name("trail-one"),
        },
        6_000,
    )
    .unwrap();
    assert_eq!(a.clock(), Timestamp(100));
}

/// A small deterministic generator (xorshift), so the sequence is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// A random command, biased towards the trails and jobs that exist so most calls do something.
fn random_command(rng: &mut Rng, s: &Sched) -> Command {
    let accounts = [A, B, AccountId(3003)];
    let regions = ["cn-hangzhou", "cn-beijing"];
    let names = ["trail-one", "trail-two", "trail-three"];
    let tokens = [None, Some("t1"), Some("t2"), Some("t3"), Some("T1")];
    let trails: Vec<&Trail> = s.trails().collect();
    let jobs: Vec<&Job> = s.jobs().collect();
    let (account, r, n) = if !trails.is_empty() && rng.below(4) != 0 {
        let t = *rng.pick(&trails);
        (t.account, t.region.clone(), t.name.clone())
    } else {
        (
            *rng.pick(&accounts),
            region(rng.pick::<&str>(&regions)),
            name(rng.pick::<&str>(&names)),
        )
    };
    let (job_account, job) = if !jobs.is_empty() && rng.below(4) != 0 {
        let j = *rng.pick(&jobs);
        (j.account, j.id)
    } else {
        (*rng.pick(&accounts), JobId(8 + rng.below(12)))
    };
    match rng.below(10) {
        0 => Command::CreateTrail {
            account,
            region: r,
            spec: TrailSpec {
                name: n,
                kind: if rng.below(6) == 0 {
                    TrailKind::Organization
                } else {
                    TrailKind::SingleAccount
                },
                delivers_to_sls: rng.below(6) != 0,
            },
        },
        1 => Command::DeleteTrail {
            account,
            region: r,
            name: n,
        },
        2 | 3 => Command::StartLogging {
            account,
            region: r,
            name: n,
        },
        4 => Command::StopLogging {
            account,
            region: r,
            name: n,
        },
        5 | 6 => Command::CreateJob(CreateJob {
            account,
            region: r,
            trail_name: n,
            client_token: rng.pick(&tokens).map(|t| ClientToken::new(t).unwrap()),
        }),
        7 => Command::StartJob {
            account: job_account,
            job,
        },
        8 => Command::CompleteJob {
            account: job_account,
            job,
            outcome: if rng.below(2) == 0 {
                JobOutcome::Completed
            } else {
                JobOutcome::Failed
            },
        },
        _ => Command::DeleteJob {
            account: job_account,
            job,
        },
    }
}

#[test]
fn random_sequences_agree_step_by_step() {
    let mut seen = std::collections::BTreeSet::new();
    for seed in [1u64, 2, 3, 0xDEAD_BEEF, 0x1234_5678_9ABC] {
        let mut rng = Rng(seed);
        let mut m = Sched::new(config());
        let mut a = Sched::new(config());
        let mut now = 1_000u64;
        let mut oks = 0;
        for _ in 0..400 {
            // Mostly forward, sometimes backwards (a host clock stepping back).
            now = match rng.below(8) {
                0 => now.saturating_sub(rng.below(40)),
                _ => now + rng.below(20),
            };
            let cmd = random_command(&mut rng, &a);
            if let Ok(effect) = step(&mut m, &mut a, &cmd, now) {
                oks += 1;
                seen.insert(kind(&effect));
            }
        }
        assert!(
            oks > 100,
            "seed {seed}: the sequence should mostly do things"
        );
        let st = a.stats();
        assert!(st.trails <= 4 && st.jobs <= 4 && st.tokens <= 4);
        assert!(st.active_jobs <= 3);
    }
    // Every kind of effect, replays included, occurred somewhere.
    assert_eq!(seen.len(), 13, "{seen:?}");
}

fn kind(effect: &Effect) -> &'static str {
    #[allow(unreachable_patterns)]
    match effect {
        Effect::TrailCreated => "trail created",
        Effect::TrailDeleted => "trail deleted",
        Effect::LoggingStarted(Transition::Changed) => "logging started",
        Effect::LoggingStarted(Transition::Unchanged) => "logging already started",
        Effect::LoggingStopped(Transition::Changed) => "logging stopped",
        Effect::LoggingStopped(Transition::Unchanged) => "logging already stopped",
        Effect::JobCreated(JobCreated {
            replayed: false, ..
        }) => "job created",
        Effect::JobCreated(JobCreated { replayed: true, .. }) => "job replayed",
        Effect::JobStarted(Transition::Changed) => "job started",
        Effect::JobStarted(Transition::Unchanged) => "job already started",
        Effect::JobCompleted(Transition::Changed) => "job completed",
        Effect::JobCompleted(Transition::Unchanged) => "job already completed",
        Effect::JobDeleted(_) => "job deleted",
        other => panic!("effect not in SPEC section 5: {other:?}"),
    }
}
