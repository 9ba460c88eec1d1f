//! Model-based test: random sequences of every operation, played into `JobScheduler` and into
//! the reference model of `tests/model/`, compared after every step.
//!
//! After every step: the answer equals the model's; every job (`jobs()`), every trail
//! (`trails()`), `active_job` of every account, `job` and `list_jobs` of every account,
//! `stats()`, `clock()` and `next_job_id()` equal the model's; `check_invariants()` is `Ok`; and
//! a call that must change nothing (an error, a replay, an `Unchanged` answer, a query) leaves
//! the postcard bytes of the scheduler identical. A `Reload` step swaps the scheduler for its
//! own snapshot (postcard or JSON, by value or restored in place), so everything that follows
//! also checks that snapshots lose nothing.
//!
//! - `scheduler_matches_model_{tiny,crowded,mixed}`: three capacity sets, 1,000 cases of up to
//!   100 steps each by default (`PROPTEST_CASES=N` overrides).
//! - `same_commands_same_bytes`: determinism, same number of cases.
//! - `generator_reaches_every_situation`: a census of what the generator reaches (run with
//!   `--nocapture` to see it); fails if a situation the tests rely on is never reached.
//!
//! Generation follows the state (trails first, then logging, then jobs) and names jobs
//! symbolically (`JobRef`), so shrunk cases are short and readable. A failing seed is kept in
//! `tests/state_machine.proptest-regressions` and replayed first on the next run.

mod model;

use model::Model;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence};
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use trail_backfill::{
    AccountId, ClientToken, Command, Config, CreateJob, Effect, Error, Job, JobCreated, JobId,
    JobOutcome, JobScheduler, Region, Table, Timestamp, Trail, TrailKind, TrailName, TrailSpec,
    Transition,
};

// ------------------------------------------------------------------ the value pools

/// Accounts of a case: the first 2 to 4 of these, and now and then `OCCASIONAL_ACCOUNT`
/// (so that 5 accounts can compete for a job table of 4).
const ACCOUNTS: [u64; 4] = [7, 8, 1 << 40, u64::MAX];
const OCCASIONAL_ACCOUNT: u64 = 99;
const REGIONS: [&str; 2] = ["cn-hangzhou", "ap-southeast-1"];
const NAMES: [&str; 4] = ["trail-a", "trail_b", "audit-log-2", "backfill"];
const TOKENS: [&str; 4] = ["tok-1", "Tok-1", "retry #2 ~", "x"];

fn region(i: usize) -> Region {
    Region::new(REGIONS[i]).expect("valid region")
}
fn name(i: usize) -> TrailName {
    TrailName::new(NAMES[i]).expect("valid trail name")
}
fn token(i: usize) -> ClientToken {
    ClientToken::new(TOKENS[i]).expect("valid client token")
}

// ------------------------------------------------------------------ steps and answers

/// One step: an operation at a host time (which may run backwards).
#[derive(Clone)]
struct Step {
    now: Timestamp,
    op: Op,
}

/// One line per step, even in proptest's `{:#?}` report of a shrunk case.
impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at {}: {:?}", self.now.0, self.op)
    }
}

/// A job, named the way a shrunk case stays meaningful: job ids are absolute, so "job 3"
/// means nothing once the shrinker drops the steps that created jobs 1 and 2, while "the
/// account's active job" still does. Resolved against the model before each step.
#[derive(Clone, Copy, Debug)]
enum JobRef {
    /// The account's active job; else its newest; else the next id (no such job).
    Active,
    /// The account's k-th newest job; else the next id.
    Newest(usize),
    /// This id, whoever owns it.
    Id(JobId),
}

/// What to do with a job.
#[derive(Clone, Copy, Debug)]
enum JobAction {
    Start,
    Complete(JobOutcome),
    Delete,
}

/// A mutation as generated: a command, or a job command with a symbolic job.
#[derive(Clone)]
enum Cmd {
    Concrete(Command),
    OnJob {
        action: JobAction,
        account: AccountId,
        job: JobRef,
    },
}

impl std::fmt::Debug for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cmd::Concrete(command) => write!(f, "{command:?}"),
            Cmd::OnJob {
                action,
                account,
                job,
            } => write!(f, "{action:?} {{ account: {account:?}, job: {job:?} }}"),
        }
    }
}

/// Every operation of the scheduler.
#[derive(Clone, Debug)]
enum Op {
    /// A mutation through its own method.
    Call(Cmd),
    /// A mutation through `apply`.
    Apply(Cmd),
    Job {
        account: AccountId,
        job: JobRef,
    },
    ActiveJob {
        account: AccountId,
    },
    ListJobs {
        account: AccountId,
        page_number: u32,
        page_size: u32,
    },
    Trail {
        account: AccountId,
        region: Region,
        name: TrailName,
    },
    /// Replace the scheduler by its own snapshot (the model is untouched).
    Reload(ReloadVia),
}

#[derive(Clone, Copy, Debug)]
enum ReloadVia {
    PostcardValue,
    PostcardRestore,
    JsonValue,
    JsonRestore,
}

/// The answer of one step, comparable between the scheduler and the model.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    Nothing,
    Unit(Result<(), Error>),
    Transition(Result<Transition, Error>),
    Created(Result<JobCreated, Error>),
    Deleted(Result<Job, Error>),
    Effect(Result<Effect, Error>),
    Job(Option<Job>),
    Trail(Option<Trail>),
    /// (total_count, page_number, page_size, the page's jobs)
    Page(Result<(u32, u32, u32, Vec<Job>), Error>),
}

impl Outcome {
    /// SPEC: an error, a replay or an `Unchanged` answer leaves the whole scheduler as it was.
    fn must_change_nothing(&self) -> bool {
        match self {
            Outcome::Nothing | Outcome::Job(_) | Outcome::Trail(_) | Outcome::Page(_) => true,
            Outcome::Unit(r) => r.is_err(),
            Outcome::Transition(r) => !matches!(r, Ok(Transition::Changed)),
            Outcome::Created(r) => !matches!(
                r,
                Ok(JobCreated {
                    replayed: false,
                    ..
                })
            ),
            Outcome::Deleted(r) => r.is_err(),
            Outcome::Effect(r) => match r {
                Err(_) => true,
                Ok(Effect::LoggingStarted(t) | Effect::LoggingStopped(t)) => {
                    *t == Transition::Unchanged
                }
                Ok(Effect::JobStarted(t) | Effect::JobCompleted(t)) => *t == Transition::Unchanged,
                Ok(Effect::JobCreated(created)) => created.replayed,
                Ok(_) => false,
            },
        }
    }

    fn is_err(&self) -> bool {
        match self {
            Outcome::Unit(r) => r.is_err(),
            Outcome::Transition(r) => r.is_err(),
            Outcome::Created(r) => r.is_err(),
            Outcome::Deleted(r) => r.is_err(),
            Outcome::Effect(r) => r.is_err(),
            Outcome::Page(r) => r.is_err(),
            _ => false,
        }
    }
}

/// The job `job` names for `account`, in the model's current state.
fn resolve_job(model: &Model, account: AccountId, job: JobRef) -> JobId {
    let newest = |k: usize| {
        model
            .jobs()
            .rev()
            .filter(|j| j.account == account)
            .nth(k)
            .map(|j| j.id)
    };
    match job {
        JobRef::Active => model
            .active_job(account)
            .map(|j| j.id)
            .or_else(|| newest(0))
            .unwrap_or(model.next_job_id()),
        JobRef::Newest(k) => newest(k).unwrap_or(model.next_job_id()),
        JobRef::Id(id) => id,
    }
}

fn resolve_cmd(model: &Model, cmd: &Cmd) -> Cmd {
    match cmd {
        Cmd::Concrete(_) => cmd.clone(),
        Cmd::OnJob {
            action,
            account,
            job,
        } => {
            let (account, job) = (*account, resolve_job(model, *account, *job));
            Cmd::Concrete(match *action {
                JobAction::Start => Command::StartJob { account, job },
                JobAction::Complete(outcome) => Command::CompleteJob {
                    account,
                    job,
                    outcome,
                },
                JobAction::Delete => Command::DeleteJob { account, job },
            })
        }
    }
}

/// The step with every symbolic job replaced by its id in the model's current state.
fn resolve(model: &Model, step: &Step) -> Step {
    let op = match &step.op {
        Op::Call(cmd) => Op::Call(resolve_cmd(model, cmd)),
        Op::Apply(cmd) => Op::Apply(resolve_cmd(model, cmd)),
        Op::Job { account, job } => Op::Job {
            account: *account,
            job: JobRef::Id(resolve_job(model, *account, *job)),
        },
        other => other.clone(),
    };
    Step { now: step.now, op }
}

/// A resolved command.
fn concrete(cmd: &Cmd) -> &Command {
    match cmd {
        Cmd::Concrete(command) => command,
        Cmd::OnJob { .. } => panic!("steps are resolved before they run"),
    }
}

/// A resolved job.
fn job_id(job: &JobRef) -> JobId {
    match job {
        JobRef::Id(id) => *id,
        _ => panic!("steps are resolved before they run"),
    }
}

/// The model's answer to one (resolved) step.
fn run_model(model: &mut Model, step: &Step) -> Outcome {
    let now = step.now;
    match &step.op {
        Op::Call(cmd) => match concrete(cmd) {
            Command::CreateTrail {
                account,
                region,
                spec,
            } => Outcome::Unit(model.create_trail(*account, region, spec, now)),
            Command::DeleteTrail {
                account,
                region,
                name,
            } => Outcome::Unit(model.delete_trail(*account, region, name)),
            Command::StartLogging {
                account,
                region,
                name,
            } => Outcome::Transition(model.start_logging(*account, region, name, now)),
            Command::StopLogging {
                account,
                region,
                name,
            } => Outcome::Transition(model.stop_logging(*account, region, name, now)),
            Command::CreateJob(request) => Outcome::Created(model.create_job(request, now)),
            Command::StartJob { account, job } => {
                Outcome::Transition(model.start_job(*account, *job, now))
            }
            Command::CompleteJob {
                account,
                job,
                outcome,
            } => Outcome::Transition(model.complete_job(*account, *job, *outcome, now)),
            Command::DeleteJob { account, job } => {
                Outcome::Deleted(model.delete_job(*account, *job))
            }
            other => panic!("not generated: {other:?}"),
        },
        Op::Apply(cmd) => Outcome::Effect(model.apply(concrete(cmd), now)),
        Op::Job { account, job } => Outcome::Job(model.job(*account, job_id(job)).cloned()),
        Op::ActiveJob { account } => Outcome::Job(model.active_job(*account).cloned()),
        Op::ListJobs {
            account,
            page_number,
            page_size,
        } => Outcome::Page(
            model
                .list_jobs(*account, *page_number, *page_size)
                .map(|(total, jobs)| (total, *page_number, *page_size, jobs)),
        ),
        Op::Trail {
            account,
            region,
            name,
        } => Outcome::Trail(model.trail(*account, region, name).cloned()),
        Op::Reload(_) => Outcome::Nothing,
    }
}

/// The scheduler's answer to one (resolved) step.
fn run_scheduler<const T: usize, const J: usize, const K: usize>(
    s: &mut JobScheduler<T, J, K>,
    step: &Step,
) -> Outcome {
    let now = step.now;
    match &step.op {
        Op::Call(cmd) => match concrete(cmd) {
            Command::CreateTrail {
                account,
                region,
                spec,
            } => Outcome::Unit(s.create_trail(*account, region, spec, now)),
            Command::DeleteTrail {
                account,
                region,
                name,
            } => Outcome::Unit(s.delete_trail(*account, region, name)),
            Command::StartLogging {
                account,
                region,
                name,
            } => Outcome::Transition(s.start_logging(*account, region, name, now)),
            Command::StopLogging {
                account,
                region,
                name,
            } => Outcome::Transition(s.stop_logging(*account, region, name, now)),
            Command::CreateJob(request) => Outcome::Created(s.create_job(request, now)),
            Command::StartJob { account, job } => {
                Outcome::Transition(s.start_job(*account, *job, now))
            }
            Command::CompleteJob {
                account,
                job,
                outcome,
            } => Outcome::Transition(s.complete_job(*account, *job, *outcome, now)),
            Command::DeleteJob { account, job } => Outcome::Deleted(s.delete_job(*account, *job)),
            other => panic!("not generated: {other:?}"),
        },
        Op::Apply(cmd) => Outcome::Effect(s.apply(concrete(cmd), now)),
        Op::Job { account, job } => Outcome::Job(s.job(*account, job_id(job)).cloned()),
        Op::ActiveJob { account } => Outcome::Job(s.active_job(*account).cloned()),
        Op::ListJobs {
            account,
            page_number,
            page_size,
        } => Outcome::Page(s.list_jobs(*account, *page_number, *page_size).map(|page| {
            (
                page.total_count,
                page.page_number,
                page.page_size,
                page.jobs().cloned().collect(),
            )
        })),
        Op::Trail {
            account,
            region,
            name,
        } => Outcome::Trail(s.trail(*account, region, name).cloned()),
        Op::Reload(via) => {
            reload(s, *via);
            Outcome::Nothing
        }
    }
}

fn snapshot<const T: usize, const J: usize, const K: usize>(s: &JobScheduler<T, J, K>) -> Vec<u8> {
    postcard::to_allocvec(s).expect("a scheduler always serializes")
}

/// Replaces `s` by a scheduler loaded from its own snapshot, and checks that the loaded one is
/// equal and serializes to the same bytes.
fn reload<const T: usize, const J: usize, const K: usize>(
    s: &mut JobScheduler<T, J, K>,
    via: ReloadVia,
) {
    let bytes = snapshot(s);
    let loaded: JobScheduler<T, J, K> = match via {
        ReloadVia::PostcardValue => postcard::from_bytes(&bytes).expect("postcard reload"),
        ReloadVia::JsonValue => {
            let text = serde_json::to_string(s).expect("json snapshot");
            serde_json::from_str(&text).expect("json reload")
        }
        ReloadVia::PostcardRestore => {
            // Start from another config and some state: restore must replace all of it.
            let mut target = JobScheduler::<T, J, K>::new(Config {
                first_job_id: 500,
                token_ttl_secs: 1,
                ..Config::DEFAULT
            });
            target
                .restore(&mut postcard::Deserializer::from_bytes(&bytes))
                .expect("postcard restore");
            target
        }
        ReloadVia::JsonRestore => {
            let text = serde_json::to_string(s).expect("json snapshot");
            let mut target = s.clone();
            target
                .restore(&mut serde_json::Deserializer::from_str(&text))
                .expect("json restore");
            target
        }
    };
    assert_eq!(&loaded, s, "reloaded scheduler differs ({via:?})");
    assert_eq!(
        snapshot(&loaded),
        bytes,
        "reloaded scheduler serializes differently ({via:?})"
    );
    *s = loaded;
}

/// Compares everything observable of the scheduler with the model.
fn assert_same_state<const T: usize, const J: usize, const K: usize>(
    s: &JobScheduler<T, J, K>,
    model: &Model,
) {
    if let Err(violation) = s.check_invariants() {
        panic!("check_invariants: {violation}");
    }
    model.check().expect("model self-check");
    assert_eq!(s.config(), model.config(), "config");
    assert_eq!(s.stats(), model.stats(), "stats");
    assert_eq!(s.clock(), model.clock(), "clock");
    assert_eq!(s.next_job_id(), model.next_job_id(), "next_job_id");
    assert_eq!(
        s.trails().cloned().collect::<Vec<_>>(),
        model.trails().cloned().collect::<Vec<_>>(),
        "trails()"
    );
    assert_eq!(
        s.jobs().cloned().collect::<Vec<_>>(),
        model.jobs().cloned().collect::<Vec<_>>(),
        "jobs()"
    );
    for account in ACCOUNTS
        .into_iter()
        .chain([OCCASIONAL_ACCOUNT])
        .map(AccountId)
    {
        assert_eq!(
            s.active_job(account),
            model.active_job(account),
            "active_job({account:?})"
        );
        let page = s.list_jobs(account, 1, 100).expect("valid page");
        let (total, jobs) = model.list_jobs(account, 1, 100).expect("valid page");
        assert_eq!(
            page.total_count, total,
            "list_jobs({account:?}).total_count"
        );
        assert_eq!(
            page.jobs().cloned().collect::<Vec<_>>(),
            jobs,
            "list_jobs({account:?})"
        );
    }
    for job in model.jobs() {
        assert_eq!(s.job(job.account, job.id), Some(job), "job({:?})", job.id);
        for other in ACCOUNTS
            .into_iter()
            .chain([OCCASIONAL_ACCOUNT])
            .map(AccountId)
        {
            if other != job.account {
                assert_eq!(s.job(other, job.id), None, "another account's job");
            }
        }
    }
}

// ------------------------------------------------------------------ the reference machine

/// The reference state: the model, the host's clock and the model's answer to the last step.
#[derive(Clone)]
struct RefState {
    model: Model,
    accounts: usize,
    host_now: u64,
    /// The last step, resolved: what the system under test runs.
    last_step: Option<Step>,
    last: Outcome,
}

/// Short, for proptest's report: the initial state is all a shrunk case needs.
impl std::fmt::Debug for RefState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "capacities {:?}, {:?}, accounts {:?}, host time {}, {} jobs, {} trails",
            self.model.capacities(),
            self.model.config(),
            &ACCOUNTS[..self.accounts],
            self.host_now,
            self.model.jobs().count(),
            self.model.trails().count(),
        )
    }
}

/// The reference machine, for capacities (trails, jobs, tokens).
struct Reference<const T: usize, const J: usize, const K: usize>;

fn config_strategy() -> impl Strategy<Value = Config> {
    (
        prop_oneof![
            1 => Just(0u64),
            8 => 3u64..=20,
            3 => 100u64..=400,
            2 => Just(u64::MAX),
        ],
        prop_oneof![Just(Config::DEFAULT.retention_secs), Just(50u64)],
        prop_oneof![Just(300u64), Just(0u64), Just(7u64)],
        prop_oneof![1 => Just(0u32), 6 => Just(1u32), 8 => Just(2u32), 8 => Just(3u32)],
        prop_oneof![
            14 => Just(1u64),
            4 => Just(0u64),
            2 => Just(u64::MAX - 6),
            1 => Just(u64::MAX),
        ],
        any::<u64>(),
    )
        .prop_map(
            |(ttl, retention, grace, max_trails, first_job_id, hash_seed)| Config {
                token_ttl_secs: ttl,
                retention_secs: retention,
                grace_secs: grace,
                max_trails_per_account: max_trails,
                first_job_id,
                hash_seed,
                ..Config::DEFAULT
            },
        )
}

fn account_strategy(accounts: usize) -> BoxedStrategy<AccountId> {
    prop_oneof![
        20 => (0..accounts).prop_map(|i| AccountId(ACCOUNTS[i])),
        3 => Just(AccountId(OCCASIONAL_ACCOUNT)),
    ]
    .boxed()
}

fn time_strategy(host_now: u64, ttl: u64) -> BoxedStrategy<u64> {
    let big = ttl.clamp(1, 1_000);
    prop_oneof![
        3 => Just(host_now),
        12 => (1u64..=4).prop_map(move |d| host_now.saturating_add(d)),
        1 => (big..=big * 3).prop_map(move |d| host_now.saturating_add(d)),
        1 => (1u64..=30).prop_map(move |d| host_now.saturating_sub(d)),
    ]
    .boxed()
}

/// (account, job): mostly the account's active or a recent job; else any recent id under any
/// account (so that another account's job is asked for too).
fn job_strategy(state: &RefState) -> BoxedStrategy<(AccountId, JobRef)> {
    let model = &state.model;
    let first = model.config().first_job_id;
    let span = model
        .next_job_id()
        .0
        .saturating_sub(first)
        .saturating_add(2)
        .min(1_000);
    let any_job = (
        account_strategy(state.accounts),
        (0..span).prop_map(move |k| JobRef::Id(JobId(first.saturating_add(k)))),
    );
    let mut owners: Vec<AccountId> = model.jobs().map(|j| j.account).collect();
    owners.sort_by_key(|a| a.0);
    owners.dedup();
    let active: Vec<AccountId> = owners
        .iter()
        .copied()
        .filter(|&a| model.active_job(a).is_some())
        .collect();
    match (owners.is_empty(), active.is_empty()) {
        (true, _) => any_job.boxed(),
        (false, true) => prop_oneof![
            3 => (select(owners), 0..3usize).prop_map(|(a, k)| (a, JobRef::Newest(k))),
            1 => any_job,
        ]
        .boxed(),
        (false, false) => prop_oneof![
            5 => select(active).prop_map(|a| (a, JobRef::Active)),
            2 => (select(owners), 0..3usize).prop_map(|(a, k)| (a, JobRef::Newest(k))),
            1 => any_job,
        ]
        .boxed(),
    }
}

type TrailKey = (AccountId, Region, TrailName);

/// Any trail key of the pools, the first names more often.
fn random_trail_key(accounts: usize) -> BoxedStrategy<TrailKey> {
    (
        account_strategy(accounts),
        0..REGIONS.len(),
        prop_oneof![3 => 0..2usize, 1 => 0..NAMES.len()],
    )
        .prop_map(|(account, r, n)| (account, region(r), name(n)))
        .boxed()
}

/// Which trails `trail_key_strategy` prefers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Prefer {
    /// Any trail that exists.
    Existing,
    /// A trail that is not logging.
    NotLogging,
    /// A trail a job can be created from.
    Eligible,
    /// An eligible trail of an account without an active job: `create_job` succeeds.
    EligibleAndFree,
}

/// Mostly a trail that exists and fits `prefer`; else any key of the pools.
fn trail_key_strategy(state: &RefState, prefer: Prefer) -> BoxedStrategy<TrailKey> {
    let model = &state.model;
    let fits = |t: &Trail, prefer: Prefer| {
        let eligible =
            t.kind == TrailKind::SingleAccount && t.delivers_to_sls && t.logging_since.is_some();
        match prefer {
            Prefer::Existing => true,
            Prefer::NotLogging => t.logging_since.is_none(),
            Prefer::Eligible => eligible,
            Prefer::EligibleAndFree => eligible && model.active_job(t.account).is_none(),
        }
    };
    let candidates = |prefer: Prefer| -> Vec<TrailKey> {
        model
            .trails()
            .filter(|t| fits(t, prefer))
            .map(|t| (t.account, t.region.clone(), t.name.clone()))
            .collect()
    };
    let mut existing = candidates(prefer);
    if existing.is_empty() {
        existing = candidates(Prefer::Existing);
    }
    let random = random_trail_key(state.accounts);
    if existing.is_empty() {
        random
    } else {
        prop_oneof![6 => select(existing), 1 => random].boxed()
    }
}

fn create_job_strategy(state: &RefState) -> BoxedStrategy<CreateJob> {
    let fresh = (
        prop_oneof![
            4 => trail_key_strategy(state, Prefer::EligibleAndFree),
            1 => trail_key_strategy(state, Prefer::Eligible),
            1 => trail_key_strategy(state, Prefer::Existing),
        ],
        prop_oneof![1 => Just(None), 4 => (0..TOKENS.len()).prop_map(Some)],
    )
        .prop_map(|((account, region, trail_name), t)| CreateJob {
            account,
            region,
            trail_name,
            client_token: t.map(token),
        });
    // A retry of an earlier call with a token: same trail (a replay while the record lives)
    // or another one (a mismatch).
    let retries: Vec<CreateJob> = state
        .model
        .token_records()
        .map(|r| CreateJob {
            account: r.account,
            region: r.region.clone(),
            trail_name: r.trail_name.clone(),
            client_token: Some(r.token.clone()),
        })
        .collect();
    if retries.is_empty() {
        fresh.boxed()
    } else {
        let retry = (
            select(retries),
            prop_oneof![4 => Just(None), 1 => (0..NAMES.len()).prop_map(Some)],
        )
            .prop_map(|(mut request, other_name)| {
                if let Some(n) = other_name {
                    request.trail_name = name(n);
                }
                request
            });
        prop_oneof![3 => fresh, 1 => retry].boxed()
    }
}

fn command_strategy(state: &RefState) -> BoxedStrategy<Cmd> {
    let accounts = state.accounts;
    let key = trail_key_strategy(state, Prefer::Existing);
    let spec = (
        prop_oneof![3 => 0..2usize, 1 => 0..NAMES.len()],
        prop_oneof![6 => Just(TrailKind::SingleAccount), 1 => Just(TrailKind::Organization)],
        prop_oneof![6 => Just(true), 1 => Just(false)],
    )
        .prop_map(|(n, kind, delivers_to_sls)| TrailSpec {
            name: name(n),
            kind,
            delivers_to_sls,
        });
    let job = job_strategy(state);
    let outcome = prop_oneof![3 => Just(JobOutcome::Completed), 2 => Just(JobOutcome::Failed)];
    // Weights follow the state, so that sequences reach jobs quickly: trails first, then
    // logging, then jobs and their transitions.
    let model = &state.model;
    let trails = model.trails().count();
    let eligible: Vec<&Trail> = model
        .trails()
        .filter(|t| {
            t.kind == TrailKind::SingleAccount && t.delivers_to_sls && t.logging_since.is_some()
        })
        .collect();
    let free = eligible
        .iter()
        .any(|t| model.active_job(t.account).is_none());
    let jobs = model.jobs().count();
    let active = model.stats().active_jobs;
    // Accounts of the case without a trail: new trails go there first, so that several
    // accounts compete for the job table.
    let bare: Vec<AccountId> = ACCOUNTS[..accounts]
        .iter()
        .map(|&a| AccountId(a))
        .filter(|&a| model.trails().all(|t| t.account != a))
        .collect();
    let create_trail = if trails < 2 {
        12
    } else if bare.is_empty() {
        2
    } else {
        5
    };
    let trail_owner = if bare.is_empty() {
        account_strategy(accounts)
    } else {
        prop_oneof![3 => select(bare), 1 => account_strategy(accounts)].boxed()
    };
    let start_logging = if eligible.is_empty() { 10 } else { 2 };
    let (start_job, complete_job) = if active > 0 { (4, 8) } else { (1, 1) };
    let delete_job = if jobs > 0 { 2 } else { 1 };
    let create_job = if free { 14 } else { 3 };
    let on_job = move |action: JobAction| {
        move |(account, job): (AccountId, JobRef)| Cmd::OnJob {
            action,
            account,
            job,
        }
    };
    let concrete = prop_oneof![
        create_trail => (trail_owner, 0..REGIONS.len(), spec).prop_map(
            |(account, r, spec)| Command::CreateTrail { account, region: region(r), spec }
        ),
        1 => key.clone().prop_map(|(account, region, name)| Command::DeleteTrail {
            account, region, name
        }),
        start_logging => trail_key_strategy(state, Prefer::NotLogging).prop_map(
            |(account, region, name)| Command::StartLogging { account, region, name }
        ),
        1 => key.prop_map(|(account, region, name)| Command::StopLogging {
            account, region, name
        }),
        create_job => create_job_strategy(state).prop_map(Command::CreateJob),
    ];
    prop_oneof![
        (create_trail + start_logging + create_job + 2) => concrete.prop_map(Cmd::Concrete),
        start_job => job.clone().prop_map(on_job(JobAction::Start)),
        complete_job => (job.clone(), outcome).prop_map(move |(job, outcome)| {
            on_job(JobAction::Complete(outcome))(job)
        }),
        delete_job => job.prop_map(on_job(JobAction::Delete)),
    ]
    .boxed()
}

fn op_strategy(state: &RefState) -> BoxedStrategy<Op> {
    let accounts = state.accounts;
    let command = command_strategy(state);
    prop_oneof![
        12 => command.clone().prop_map(Op::Call),
        4 => command.prop_map(Op::Apply),
        1 => job_strategy(state).prop_map(|(account, job)| Op::Job { account, job }),
        1 => account_strategy(accounts).prop_map(|account| Op::ActiveJob { account }),
        1 => (
            account_strategy(accounts),
            0u32..=3,
            prop_oneof![Just(0u32), 1u32..=3, Just(100u32), Just(101u32), Just(u32::MAX)],
        )
            .prop_map(|(account, page_number, page_size)| Op::ListJobs {
                account, page_number, page_size
            }),
        1 => trail_key_strategy(state, Prefer::Existing)
            .prop_map(|(account, region, name)| Op::Trail { account, region, name }),
        1 => prop_oneof![
            Just(ReloadVia::PostcardValue),
            Just(ReloadVia::PostcardRestore),
            Just(ReloadVia::JsonValue),
            Just(ReloadVia::JsonRestore),
        ]
        .prop_map(Op::Reload),
    ]
    .boxed()
}

impl<const T: usize, const J: usize, const K: usize> ReferenceStateMachine for Reference<T, J, K> {
    type State = RefState;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<RefState> {
        (
            config_strategy(),
            prop_oneof![1 => Just(2usize), 1 => Just(3usize), 3 => Just(4usize)],
            prop_oneof![Just(1_000u64), Just(1_700_000_000u64), Just(u64::MAX - 300)],
        )
            .prop_map(|(config, accounts, host_now)| RefState {
                model: Model::new(config, T, J, K),
                accounts,
                host_now,
                last_step: None,
                last: Outcome::Nothing,
            })
            .boxed()
    }

    fn transitions(state: &RefState) -> BoxedStrategy<Step> {
        (
            time_strategy(state.host_now, state.model.config().token_ttl_secs),
            op_strategy(state),
        )
            .prop_map(|(now, op)| Step {
                now: Timestamp(now),
                op,
            })
            .boxed()
    }

    fn apply(mut state: RefState, step: &Step) -> RefState {
        let step = resolve(&state.model, step);
        state.last = run_model(&mut state.model, &step);
        state.host_now = step.now.0;
        state.last_step = Some(step);
        state
    }
}

// ------------------------------------------------------------------ the system under test

/// The scheduler under test.
struct Sut<const T: usize, const J: usize, const K: usize> {
    scheduler: JobScheduler<T, J, K>,
}

impl<const T: usize, const J: usize, const K: usize> StateMachineTest for Sut<T, J, K> {
    type SystemUnderTest = Self;
    type Reference = Reference<T, J, K>;

    fn init_test(ref_state: &RefState) -> Self {
        Sut {
            scheduler: JobScheduler::new(*ref_state.model.config()),
        }
    }

    fn apply(mut sut: Self, ref_state: &RefState, _generated: Step) -> Self {
        let step = ref_state
            .last_step
            .clone()
            .expect("the reference ran the step");
        let before = snapshot(&sut.scheduler);
        let outcome = run_scheduler(&mut sut.scheduler, &step);
        assert_eq!(outcome, ref_state.last, "answer differs from the model");
        if outcome.must_change_nothing() {
            assert_eq!(
                snapshot(&sut.scheduler),
                before,
                "a call that must change nothing changed the snapshot ({outcome:?})"
            );
        }
        if outcome.is_err() {
            // Said separately because it is the SPEC's headline promise.
            assert_eq!(
                snapshot(&sut.scheduler),
                before,
                "an Err changed the scheduler"
            );
        }
        sut
    }

    fn check_invariants(sut: &Self, ref_state: &RefState) {
        assert_same_state(&sut.scheduler, &ref_state.model);
    }
}

// ------------------------------------------------------------------ the tests

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000)
}

fn proptest_config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        // Every transition is a valid call; nothing is rejected.
        max_local_rejects: 65_536,
        // Integration tests have no lib.rs for the default `SourceParallel`: keep failing
        // seeds beside this file, in `tests/state_machine.proptest-regressions`.
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

prop_state_machine! {
    #![proptest_config(proptest_config())]

    /// The smallest tables: every table is full most of the time.
    #[test]
    fn scheduler_matches_model_tiny(sequential 1..100 => Sut<4, 4, 4>);

    /// Room for a trail per account but a job table no larger than the accounts: the job
    /// table fills with active jobs (nothing to evict).
    #[test]
    fn scheduler_matches_model_crowded(sequential 1..100 => Sut<8, 3, 5>);

    /// Larger tables, fewer tokens than jobs: token eviction of live records.
    #[test]
    fn scheduler_matches_model_mixed(sequential 1..100 => Sut<16, 12, 6>);
}

// ------------------------------------------------------------------ determinism

fn run_twin<const T: usize, const J: usize, const K: usize>(
    initial: &RefState,
    steps: &[Step],
    seen: Option<Arc<AtomicUsize>>,
) -> Result<(), TestCaseError> {
    let config = *initial.model.config();
    let mut a = JobScheduler::<T, J, K>::new(config);
    let mut b = JobScheduler::<T, J, K>::new(config);
    // The same commands under another hash key: same answers, same logical state.
    let mut c = JobScheduler::<T, J, K>::new(Config {
        hash_seed: config.hash_seed ^ 0x9e37_79b9_7f4a_7c15,
        ..config
    });
    // The model only resolves symbolic jobs here.
    let mut model = initial.model.clone();
    for step in steps {
        let step = &resolve(&model, step);
        run_model(&mut model, step);
        // The shrinker first drops the steps a failing run never reached: count them.
        if let Some(seen) = &seen {
            seen.fetch_add(1, Ordering::SeqCst);
        }
        let (answer_a, answer_b, answer_c) = match step.op {
            // Only `b` reloads: a restored scheduler must go on exactly as the original.
            Op::Reload(_) => (
                Outcome::Nothing,
                run_scheduler(&mut b, step),
                Outcome::Nothing,
            ),
            _ => (
                run_scheduler(&mut a, step),
                run_scheduler(&mut b, step),
                run_scheduler(&mut c, step),
            ),
        };
        prop_assert_eq!(&answer_a, &answer_b);
        prop_assert_eq!(&answer_a, &answer_c);
        prop_assert_eq!(
            snapshot(&a),
            snapshot(&b),
            "snapshots differ after {:?}",
            step
        );
        prop_assert_eq!(a.stats(), c.stats());
        prop_assert_eq!(a.clock(), c.clock());
        prop_assert!(a.trails().eq(c.trails()));
        prop_assert!(a.jobs().eq(c.jobs()));
    }
    Ok(())
}

proptest! {
    #![proptest_config(proptest_config())]

    /// The same random sequence applied to two schedulers gives identical postcard bytes after
    /// every step (one of them is reloaded from snapshots on the way), and a third scheduler
    /// with another `hash_seed` gives the same answers and the same logical state.
    #[test]
    fn same_commands_same_bytes(
        (initial, steps, seen) in Reference::<6, 8, 4>::sequential_strategy(1..100)
    ) {
        run_twin::<6, 8, 4>(&initial, &steps, seen)?;
    }
}

// ------------------------------------------------------------------ generator coverage

/// What one step of the model did, for the coverage census.
fn labels(before: &Model, after: &Model, step: &Step, outcome: &Outcome) -> Vec<String> {
    let mut out = Vec::new();
    let error = match outcome {
        Outcome::Unit(Err(e))
        | Outcome::Transition(Err(e))
        | Outcome::Created(Err(e))
        | Outcome::Deleted(Err(e))
        | Outcome::Effect(Err(e))
        | Outcome::Page(Err(e)) => Some(*e),
        _ => None,
    };
    if let Some(e) = error {
        let text = format!("{e:?}");
        let variant = text.split(" {").next().unwrap_or_default().to_owned();
        if e == Error::CapacityExhausted(Table::Jobs) {
            out.push(if after.next_job_id().0 == u64::MAX {
                "err: job ids exhausted".to_owned()
            } else {
                "err: job table full of active jobs".to_owned()
            });
        }
        out.push(format!("err: {variant}"));
    }
    match outcome {
        Outcome::Created(Ok(c)) | Outcome::Effect(Ok(Effect::JobCreated(c))) => {
            out.push(if c.replayed { "replay" } else { "job created" }.to_owned());
        }
        Outcome::Transition(Ok(Transition::Unchanged)) => out.push("unchanged".to_owned()),
        Outcome::Deleted(Ok(_)) | Outcome::Effect(Ok(Effect::JobDeleted(_))) => {
            out.push("job deleted".to_owned());
        }
        _ => {}
    }
    let (b, a) = (before.stats(), after.stats());
    if a.jobs_evicted > b.jobs_evicted {
        out.push("job evicted".to_owned());
    }
    if a.tokens_evicted_live > b.tokens_evicted_live {
        out.push("live token evicted".to_owned());
    }
    if a.tokens == b.tokens && a.jobs_evicted == b.jobs_evicted && a.tokens > 0 {
        let expired_replaced = before
            .token_records()
            .zip(after.token_records())
            .any(|(x, y)| x != y);
        if expired_replaced && a.active_jobs > b.active_jobs {
            out.push("token record replaced or rotated".to_owned());
        }
    }
    if !outcome.must_change_nothing() && step.now < before.clock() {
        out.push("clock clamped (time went back)".to_owned());
    }
    if after.clock() > before.clock() && step.now.0 == u64::MAX {
        out.push("time at u64::MAX".to_owned());
    }
    if matches!(step.op, Op::Reload(_)) {
        out.push("reload".to_owned());
    }
    if a.jobs == after.capacities().1 {
        out.push("job table full".to_owned());
    }
    if a.trails == after.capacities().0 {
        out.push("trail table full".to_owned());
    }
    out
}

/// The generator reaches every situation this file claims to test. Prints the census with
/// `--nocapture`.
#[test]
fn generator_reaches_every_situation() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use std::collections::BTreeMap;

    let mut census: BTreeMap<String, usize> = BTreeMap::new();
    let mut runner = TestRunner::deterministic();
    for case in 0..450 {
        let (initial, steps, _) = match case % 3 {
            0 => Reference::<4, 4, 4>::sequential_strategy(1..100)
                .new_tree(&mut runner)
                .expect("a sequence")
                .current(),
            1 => Reference::<8, 3, 5>::sequential_strategy(1..100)
                .new_tree(&mut runner)
                .expect("a sequence")
                .current(),
            _ => Reference::<16, 12, 6>::sequential_strategy(1..100)
                .new_tree(&mut runner)
                .expect("a sequence")
                .current(),
        };
        let mut model = initial.model;
        for step in &steps {
            let before = model.clone();
            let step = &resolve(&model, step);
            let outcome = run_model(&mut model, step);
            for label in labels(&before, &model, step, &outcome) {
                *census.entry(label).or_default() += 1;
            }
        }
    }
    for (label, count) in &census {
        println!("{count:>7}  {label}");
    }
    for needed in [
        "err: CapacityExhausted(Jobs)",
        "err: CapacityExhausted(Trails)",
        "err: IdempotentParameterMismatch",
        "err: InvalidJobStatus",
        "err: InvalidParameterValue(PageNumber)",
        "err: InvalidParameterValue(PageSize)",
        "err: JobAlreadyRunning",
        "err: JobNotFinished",
        "err: JobNotFound",
        "err: TrailAlreadyExists",
        "err: TrailLimitExceeded",
        "err: TrailNotEligible(NoSlsDelivery)",
        "err: TrailNotEligible(NotLogging)",
        "err: TrailNotEligible(OrganizationTrail)",
        "err: TrailNotFound",
        "err: job ids exhausted",
        "err: job table full of active jobs",
        "job created",
        "job deleted",
        "job evicted",
        "live token evicted",
        "replay",
        "unchanged",
        "clock clamped (time went back)",
        "reload",
        "job table full",
        "trail table full",
    ] {
        assert!(
            census.contains_key(needed),
            "the generator never reached {needed:?}"
        );
    }
}
