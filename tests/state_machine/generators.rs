//! The reference machine: the state a case carries, and the strategies that generate steps
//! from it. Generation follows the state (trails first, then logging, then jobs, then
//! workers) and names jobs, leases and due times symbolically, so shrunk cases are short and
//! readable.

use crate::model::Model;
use crate::steps::{
    Cmd, JobAction, JobRef, LeaseAction, LeaseRef, Op, Outcome, ReloadVia, Step, When, World,
};
use crate::{
    ACCOUNTS, NAMES, OCCASIONAL_ACCOUNT, REGIONS, REPORT_REGIONS, TOKENS, name, region,
    report_region, token,
};
use proptest::prelude::*;
use proptest::sample::select;
use proptest_state_machine::ReferenceStateMachine;
use trail_backfill::{
    AccountId, Command, Config, CreateJob, JobId, JobOutcome, JobStatus, Region, Timestamp, Trail,
    TrailKind, TrailName, TrailSpec,
};

/// The reference state: the model (and the leases workers remember), the host's clock and
/// the model's answer to the last step.
#[derive(Clone)]
pub struct RefState {
    pub world: World,
    pub accounts: usize,
    pub host_now: u64,
    /// Whether workers drive this case (most cases); the others mostly use the direct
    /// transitions of section 3, so that jobs live long and tables fill with active jobs.
    pub workers: bool,
    /// Steps played into the model before the case starts (resolved), which the system under
    /// test plays too: a catalogue of regions filled to near `MAX_REGIONS`, say.
    pub prelude: Vec<Step>,
    /// The last step, resolved: what the system under test runs.
    pub last_step: Option<Step>,
    pub last: Outcome,
}

/// Short, for proptest's report: the initial state is all a shrunk case needs.
impl std::fmt::Debug for RefState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "capacities {:?}, {:?}, accounts {:?}, host time {}, {} jobs, {} trails, \
             prelude of {} steps ({} regions known), workers {}",
            self.world.model.capacities(),
            self.world.model.config(),
            &ACCOUNTS[..self.accounts],
            self.host_now,
            self.world.model.jobs().count(),
            self.world.model.trails().count(),
            self.prelude.len(),
            self.world.model.regions().count(),
            self.workers,
        )
    }
}

/// The reference machine, for capacities (trails, jobs, tokens).
pub struct Reference<const T: usize, const J: usize, const K: usize>;

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
        worker_settings_strategy(),
    )
        .prop_map(
            |(ttl, retention, grace, max_trails, first_job_id, hash_seed, workers)| Config {
                token_ttl_secs: ttl,
                retention_secs: retention,
                grace_secs: grace,
                max_trails_per_account: max_trails,
                first_job_id,
                hash_seed,
                lease_secs: workers.0,
                max_attempts: workers.1,
                retry_backoff_secs: workers.2,
                max_backoff_secs: workers.3,
                max_job_secs: workers.4,
            },
        )
}

/// (lease_secs, max_attempts, retry_backoff_secs, max_backoff_secs, max_job_secs): mostly
/// small, so that leases run out, retries wait, last attempts fail and deadlines pass within
/// a case of 100 steps of a few seconds each; sometimes the defaults; sometimes the edges (0
/// acts as 1, above `u32::MAX` acts as `u32::MAX`, saturating sums).
fn worker_settings_strategy() -> impl Strategy<Value = (u64, u64, u64, u64, u64)> {
    (
        prop_oneof![
            2 => Just(0u64),
            12 => 1u64..=20,
            1 => Just(Config::DEFAULT.lease_secs),
            1 => Just(u64::MAX),
        ],
        prop_oneof![
            2 => Just(0u64),
            12 => 1u64..=4,
            1 => Just(Config::DEFAULT.max_attempts),
            1 => Just(u64::from(u32::MAX) + 1),
            1 => Just(u64::MAX),
        ],
        prop_oneof![
            2 => Just(0u64),
            12 => 1u64..=10,
            1 => Just(Config::DEFAULT.retry_backoff_secs),
            1 => Just(u64::MAX / 3),
        ],
        prop_oneof![
            2 => Just(0u64),
            12 => 1u64..=30,
            1 => Just(Config::DEFAULT.max_backoff_secs),
            1 => Just(u64::MAX),
        ],
        prop_oneof![
            1 => Just(0u64),
            4 => 1u64..=20,
            10 => 21u64..=200,
            3 => Just(Config::DEFAULT.max_job_secs),
            1 => Just(u64::MAX),
        ],
    )
}

pub fn account_strategy(accounts: usize) -> BoxedStrategy<AccountId> {
    prop_oneof![
        20 => (0..accounts).prop_map(|i| AccountId(ACCOUNTS[i])),
        3 => Just(AccountId(OCCASIONAL_ACCOUNT)),
    ]
    .boxed()
}

/// The host's time for the next step: mostly a few seconds on; now and then past a token's
/// TTL, back in time, on (or beside) the next due time or the end of a backoff, or far past
/// every lease and deadline.
fn time_strategy(state: &RefState) -> BoxedStrategy<When> {
    let host_now = state.host_now;
    let model = &state.world.model;
    let big = model.config().token_ttl_secs.clamp(1, 1_000);
    let near = prop_oneof![
        3 => Just(host_now),
        12 => (1u64..=4).prop_map(move |d| host_now.saturating_add(d)),
        1 => (1u64..=30).prop_map(move |d| host_now.saturating_sub(d)),
    ]
    .prop_map(When::At);
    // Past a token's TTL.
    let big = (big..=big * 3).prop_map(move |d| When::At(host_now.saturating_add(d)));
    let lease = model.config().lease_secs.clamp(1, 10_000);
    let job = model.config().max_job_secs.clamp(1, 100_000);
    let far = prop_oneof![
        (lease..=lease * 3).prop_map(move |d| host_now.saturating_add(d)),
        (job..=job.saturating_mul(2)).prop_map(move |d| host_now.saturating_add(d)),
        Just(host_now.saturating_add(1_000_000)),
    ]
    .prop_map(When::At);
    let leased = model.stats().leased_jobs > 0;
    let waiting = model
        .jobs()
        .any(|j| j.status == JobStatus::Delivering && j.lease_expires_at.is_none());
    // Jumps kill every active job by its deadline: rarer while jobs are active, so that
    // leases run out and jobs retry before that.
    let jump = if model.stats().active_jobs > 0 { 1 } else { 3 };
    prop_oneof![
        32 => near,
        jump => big,
        1 => (-2i8..=2).prop_map(When::Due),
        (if leased { 4 } else { 1 }) => (-2i8..=2).prop_map(When::LeaseEnd),
        (if waiting { 3 } else { 1 }) => (-1i8..=1).prop_map(When::Retry),
        jump => far,
    ]
    .boxed()
}

/// (account, job): mostly the account's active or a recent job; else any recent id under any
/// account (so that another account's job is asked for too).
pub fn job_strategy(state: &RefState) -> BoxedStrategy<(AccountId, JobRef)> {
    let model = &state.world.model;
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
    let model = &state.world.model;
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
        .world
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
    let model = &state.world.model;
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
    // Direct transitions less often than before the worker protocol: leased jobs must live
    // long enough for their leases to run out.
    let (start_job, complete_job) = if active > 0 { (3, 4) } else { (1, 1) };
    let delete_job = if jobs > 0 { 2 } else { 1 };
    let create_job = if free { 14 } else { 3 };
    // A job table full of active jobs: another account's trail, logging and job now reach
    // `CapacityExhausted(Jobs)` with nothing to evict.
    let all_active = active >= model.capacities().1;
    let (create_trail, start_logging, create_job) = if all_active {
        (create_trail * 2, start_logging * 3, create_job * 2)
    } else {
        (create_trail, start_logging, create_job)
    };
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
    let direct = prop_oneof![
        start_job => job.clone().prop_map(on_job(JobAction::Start)),
        complete_job => (job.clone(), outcome).prop_map(move |(job, outcome)| {
            on_job(JobAction::Complete(outcome))(job)
        }),
        delete_job => job.prop_map(on_job(JobAction::Delete)),
    ];
    let (workers, workers_weight) = worker_strategy(state);
    prop_oneof![
        (create_trail + start_logging + create_job + 2) => concrete.prop_map(Cmd::Concrete),
        (start_job + complete_job + delete_job) => direct,
        workers_weight => workers,
    ]
    .boxed()
}

/// Regions workers report: a few, or (in a case whose prelude filled the catalogue) any of
/// `REPORT_REGIONS`, so that the catalogue overflows.
fn report_region_strategy(state: &RefState) -> BoxedStrategy<Region> {
    let few = prop_oneof![3 => 0..2usize, 1 => 2..5usize].prop_map(report_region);
    if state.prelude.is_empty() {
        few.boxed()
    } else {
        prop_oneof![1 => few, 1 => (0..REPORT_REGIONS).prop_map(report_region)].boxed()
    }
}

/// A lease a worker presents: mostly the one an active job's worker holds; else a stale or
/// unknown attempt, a lease a claim granted earlier (perhaps lost since), another account's
/// lease, or the lease of a finished job.
fn lease_strategy(state: &RefState) -> BoxedStrategy<LeaseRef> {
    let model = &state.world.model;
    let accounts = state.accounts;
    let leased: Vec<AccountId> = model
        .jobs()
        .filter(|j| j.lease_expires_at.is_some())
        .map(|j| j.account)
        .collect();
    let of = |job: BoxedStrategy<(AccountId, JobRef)>| {
        (
            job,
            prop_oneof![8 => Just(0i8), 3 => -2i8..=-1, 1 => Just(1i8)],
            prop_oneof![6 => Just(false), 1 => Just(true)],
        )
            .prop_map(|((account, job), delta, odd_expiry)| LeaseRef::Of {
                account,
                job,
                delta,
                odd_expiry,
            })
    };
    let any = of(job_strategy(state));
    let foreign = (account_strategy(accounts), account_strategy(accounts))
        .prop_map(|(owner, account)| LeaseRef::Foreign { owner, account });
    let granted = (0..4usize).prop_map(LeaseRef::Granted);
    let granted_weight = if state.world.granted.is_empty() { 1 } else { 4 };
    if leased.is_empty() {
        prop_oneof![4 => any, granted_weight => granted, 1 => foreign].boxed()
    } else {
        let held = of(select(leased).prop_map(|a| (a, JobRef::Active)).boxed());
        prop_oneof![
            10 => held,
            3 => any,
            granted_weight => granted,
            1 => foreign,
        ]
        .boxed()
    }
}

/// The worker protocol of SPEC section 9, and its weight among the commands: heavier while
/// jobs are active.
fn worker_strategy(state: &RefState) -> (BoxedStrategy<Cmd>, u32) {
    let model = &state.world.model;
    let active = model.stats().active_jobs;
    let leased = model.stats().leased_jobs;
    let now = Timestamp(state.host_now.max(model.clock().0));
    let claimable = model.jobs().any(|j| {
        matches!(j.status, JobStatus::Initializing | JobStatus::Delivering)
            && j.lease_expires_at.is_none()
            && j.not_before <= now
    });
    let waiting: Vec<AccountId> = model
        .jobs()
        .filter(|j| {
            j.status == JobStatus::Delivering && j.lease_expires_at.is_none() && j.not_before > now
        })
        .map(|j| j.account)
        .collect();
    // A claim of a job waiting for its retry (refused while the backoff lasts).
    let (claim_waiting, claim_waiting_weight) = if waiting.is_empty() {
        (Just(AccountId(ACCOUNTS[0])).boxed(), 0)
    } else {
        (select(waiting.clone()).boxed(), 2)
    };
    let waiting = !waiting.is_empty();
    let claim_next = if claimable { 6 } else { 1 };
    let claim_job = if claimable || waiting { 4 } else { 1 };
    let (heartbeat, report, finish) = if leased > 0 { (6, 8, 3) } else { (1, 1, 1) };
    let stop = if active > 0 { 2 } else { 1 };
    let timeout = if model.poll_timeout().is_some() { 5 } else { 1 };
    let on_job = move |action: JobAction| {
        move |(account, job): (AccountId, JobRef)| Cmd::OnJob {
            action,
            account,
            job,
        }
    };
    let lease = lease_strategy(state);
    let status = prop_oneof![
        2 => Just(JobStatus::Initializing),
        4 => Just(JobStatus::Delivering),
        3 => Just(JobStatus::Completed),
        2 => Just(JobStatus::Failed),
    ];
    let outcome = prop_oneof![3 => Just(JobOutcome::Completed), 2 => Just(JobOutcome::Failed)];
    let delivered = prop_oneof![3 => 0u64..=1_000, 1 => Just(u64::MAX)];
    // A region a leased job finished, reported again with the other final status: refused.
    let conflicts: Vec<(AccountId, Region, JobStatus)> = model
        .jobs()
        .filter(|j| j.lease_expires_at.is_some())
        .flat_map(|j| {
            let regions = model.job_regions(j.account, j.id).unwrap_or_default();
            regions
                .into_iter()
                .filter_map(move |(region, status)| match status {
                    JobStatus::Completed => Some((j.account, region, JobStatus::Failed)),
                    JobStatus::Failed => Some((j.account, region, JobStatus::Completed)),
                    _ => None,
                })
        })
        .collect();
    let conflict = if conflicts.is_empty() {
        (Just(Cmd::Concrete(Command::HandleTimeout)).boxed(), 0)
    } else {
        let conflict = select(conflicts).prop_map(|(account, region, status)| Cmd::OnLease {
            action: LeaseAction::Report { region, status },
            lease: LeaseRef::Of {
                account,
                job: JobRef::Active,
                delta: 0,
                odd_expiry: false,
            },
        });
        (conflict.boxed(), 1)
    };
    let strategy = prop_oneof![
        conflict.1 => conflict.0,
        claim_waiting_weight => claim_waiting.prop_map(|account| Cmd::OnJob {
            action: JobAction::Claim,
            account,
            job: JobRef::Active,
        }),
        claim_next => Just(Cmd::Concrete(Command::ClaimNext)),
        claim_job => job_strategy(state).prop_map(on_job(JobAction::Claim)),
        heartbeat => (lease.clone(), delivered).prop_map(|(lease, delivered)| Cmd::OnLease {
            action: LeaseAction::Heartbeat { delivered },
            lease,
        }),
        report => (lease.clone(), report_region_strategy(state), status).prop_map(
            |(lease, region, status)| Cmd::OnLease {
                action: LeaseAction::Report { region, status },
                lease,
            }
        ),
        finish => (lease, outcome).prop_map(|(lease, outcome)| Cmd::OnLease {
            action: LeaseAction::Finish(outcome),
            lease,
        }),
        stop => job_strategy(state).prop_map(on_job(JobAction::Stop)),
        timeout => Just(Cmd::Concrete(Command::HandleTimeout)),
    ]
    .boxed();
    let weight = match (state.workers, active > 0 || leased > 0) {
        (false, _) => 1,
        (true, true) => 30,
        (true, false) => 6,
    };
    (strategy, weight)
}

fn op_strategy(state: &RefState) -> BoxedStrategy<Op> {
    let accounts = state.accounts;
    let command = command_strategy(state);
    prop_oneof![
        12 => command.clone().prop_map(Op::Call),
        4 => command.prop_map(Op::Apply),
        1 => job_strategy(state).prop_map(|(account, job)| Op::Job { account, job }),
        1 => job_strategy(state).prop_map(|(account, job)| Op::JobRegions { account, job }),
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

/// Regions the prelude of a "full catalogue" case reports: with the few regions of
/// `report_region_strategy`, the case can overflow the catalogue within a few reports.
const PRELUDE_REGIONS: usize = 63;

/// A prelude that fills the region catalogue to `PRELUDE_REGIONS`: the first account's trail
/// and job, claimed, reporting one region after another. Runs on `world`; returns the steps,
/// resolved, for the system under test.
fn catalogue_prelude(world: &mut World, host_now: u64) -> Vec<Step> {
    let account = AccountId(ACCOUNTS[0]);
    let (region, name) = (region(0), name(0));
    let mut steps = vec![
        Op::Call(Cmd::Concrete(Command::CreateTrail {
            account,
            region: region.clone(),
            spec: TrailSpec {
                name: name.clone(),
                kind: TrailKind::SingleAccount,
                delivers_to_sls: true,
            },
        })),
        Op::Call(Cmd::Concrete(Command::StartLogging {
            account,
            region: region.clone(),
            name: name.clone(),
        })),
        Op::Call(Cmd::Concrete(Command::CreateJob(CreateJob {
            account,
            region,
            trail_name: name,
            client_token: None,
        }))),
        Op::Call(Cmd::OnJob {
            action: JobAction::Claim,
            account,
            job: JobRef::Active,
        }),
    ];
    steps.extend((5..5 + PRELUDE_REGIONS).map(|i| {
        Op::Call(Cmd::OnLease {
            action: LeaseAction::Report {
                region: report_region(i),
                status: JobStatus::Delivering,
            },
            lease: LeaseRef::Of {
                account,
                job: JobRef::Active,
                delta: 0,
                odd_expiry: false,
            },
        })
    }));
    steps
        .into_iter()
        .map(|op| {
            let step = world.resolve(
                &Step {
                    when: When::At(host_now),
                    op,
                },
                host_now,
            );
            world.run(&step);
            step
        })
        .collect()
}

impl<const T: usize, const J: usize, const K: usize> ReferenceStateMachine for Reference<T, J, K> {
    type State = RefState;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<RefState> {
        (
            config_strategy(),
            prop_oneof![1 => Just(2usize), 1 => Just(3usize), 3 => Just(4usize)],
            prop_oneof![Just(1_000u64), Just(1_700_000_000u64), Just(u64::MAX - 300)],
            prop_oneof![5 => Just(false), 1 => Just(true)],
            prop_oneof![3 => Just(true), 1 => Just(false)],
        )
            .prop_map(
                |(mut config, accounts, host_now, fill_catalogue, workers)| {
                    if !workers && config.max_job_secs != u64::MAX {
                        // Jobs of the direct transitions live long: tables fill with active jobs.
                        config.max_job_secs = Config::DEFAULT.max_job_secs;
                    }
                    if fill_catalogue {
                        // The prelude needs a trail, a job id and a deadline after its start.
                        config.max_trails_per_account = config.max_trails_per_account.max(1);
                        config.first_job_id = config.first_job_id.min(u64::MAX - 6);
                        config.max_job_secs = config.max_job_secs.max(1);
                    }
                    let mut world = World::new(Model::new(config, T, J, K));
                    let prelude = if fill_catalogue {
                        catalogue_prelude(&mut world, host_now)
                    } else {
                        Vec::new()
                    };
                    RefState {
                        world,
                        accounts,
                        workers,
                        host_now,
                        prelude,
                        last_step: None,
                        last: Outcome::Nothing,
                    }
                },
            )
            .boxed()
    }

    fn transitions(state: &RefState) -> BoxedStrategy<Step> {
        (time_strategy(state), op_strategy(state))
            .prop_map(|(when, op)| Step { when, op })
            .boxed()
    }

    fn apply(mut state: RefState, step: &Step) -> RefState {
        let step = state.world.resolve(step, state.host_now);
        state.last = state.world.run(&step);
        state.host_now = step.when.at().0;
        state.last_step = Some(step);
        state
    }
}
