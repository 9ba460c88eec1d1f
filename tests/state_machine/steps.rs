//! Steps as generated (with symbolic jobs, leases and times), their resolution against the
//! model, and how one resolved step runs on the model and on the scheduler.

use crate::compare::reload;
use crate::model::{self, Model};
use trail_backfill::{
    AccountId, Command, Error, Job, JobCreated, JobId, JobOutcome, JobScheduler, JobStatus, Lease,
    Region, Timestamp, Trail, TrailName, Transition,
};

// ------------------------------------------------------------------ steps

/// One step: an operation at a host time (which may run backwards).
#[derive(Clone)]
pub struct Step {
    pub when: When,
    pub op: Op,
}

/// One line per step, even in proptest's `{:#?}` report of a shrunk case.
impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at {:?}: {:?}", self.when, self.op)
    }
}

/// A host time. Due times are named symbolically, like jobs, so that a shrunk case still
/// lands exactly on (or beside) the time that mattered.
#[derive(Clone, Copy)]
pub enum When {
    /// This time.
    At(u64),
    /// `poll_timeout() + delta` (saturating); the host's last time when nothing is due.
    Due(i8),
    /// The earliest lease end `+ delta`; else as `Due`.
    LeaseEnd(i8),
    /// The earliest `not_before` of a job waiting for a retry, `+ delta`; else as `Due`.
    Retry(i8),
}

impl std::fmt::Debug for When {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            When::At(t) => write!(f, "{t}"),
            When::Due(d) => write!(f, "due{d:+}"),
            When::LeaseEnd(d) => write!(f, "lease_end{d:+}"),
            When::Retry(d) => write!(f, "retry{d:+}"),
        }
    }
}

impl When {
    /// The time, once resolved.
    pub fn at(self) -> Timestamp {
        match self {
            When::At(t) => Timestamp(t),
            _ => panic!("steps are resolved before they run"),
        }
    }
}

/// A job, named the way a shrunk case stays meaningful: job ids are absolute, so "job 3"
/// means nothing once the shrinker drops the steps that created jobs 1 and 2, while "the
/// account's active job" still does. Resolved against the model before each step.
#[derive(Clone, Copy, Debug)]
pub enum JobRef {
    /// The account's active job; else its newest; else the next id (no such job).
    Active,
    /// The account's k-th newest job; else the next id.
    Newest(usize),
    /// This id, whoever owns it.
    Id(JobId),
}

/// A lease a worker presents, named symbolically too.
#[derive(Clone, Copy, Debug)]
pub enum LeaseRef {
    /// The job's current attempt shifted by `delta` (0: the lease held, if the job is leased;
    /// negative: a stale attempt; positive: one never granted). `expires_at` is the job's
    /// lease end, or nonsense when `odd_expiry` (checks must look at the job, not at it).
    Of {
        account: AccountId,
        job: JobRef,
        delta: i8,
        odd_expiry: bool,
    },
    /// The k-th newest lease a claim granted in this case, exactly as the worker kept it.
    Granted(usize),
    /// `owner`'s active (or newest) job with its current attempt, presented by `account`.
    Foreign {
        owner: AccountId,
        account: AccountId,
    },
}

/// What to do with a job.
#[derive(Clone, Copy, Debug)]
pub enum JobAction {
    Start,
    Complete(JobOutcome),
    Delete,
    Claim,
    Stop,
}

/// What a worker does with its lease.
#[derive(Clone, Debug)]
pub enum LeaseAction {
    Heartbeat { delivered: u64 },
    Report { region: Region, status: JobStatus },
    Finish(JobOutcome),
}

/// A mutation as generated: a command, or a command with a symbolic job or lease.
#[derive(Clone)]
pub enum Cmd {
    Concrete(Command),
    OnJob {
        action: JobAction,
        account: AccountId,
        job: JobRef,
    },
    OnLease {
        action: LeaseAction,
        lease: LeaseRef,
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
            Cmd::OnLease { action, lease } => write!(f, "{action:?} {{ lease: {lease:?} }}"),
        }
    }
}

/// Every operation of the scheduler.
#[derive(Clone, Debug)]
pub enum Op {
    /// A mutation through its own method.
    Call(Cmd),
    /// A mutation through `apply`.
    Apply(Cmd),
    Job {
        account: AccountId,
        job: JobRef,
    },
    JobRegions {
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
pub enum ReloadVia {
    PostcardValue,
    PostcardRestore,
    JsonValue,
    JsonRestore,
}

// ------------------------------------------------------------------ answers

/// The answer of one step, comparable between the scheduler and the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Nothing,
    Unit(Result<(), Error>),
    Transition(Result<Transition, Error>),
    Created(Result<JobCreated, Error>),
    Deleted(Result<Job, Error>),
    /// `claim_next`.
    Claimed(Option<Lease>),
    /// `claim_job`.
    Leased(Result<Lease, Error>),
    /// `heartbeat`.
    Extended(Result<Timestamp, Error>),
    /// `handle_timeout`.
    Timeouts(model::TimeoutReport),
    Effect(Result<model::Effect, Error>),
    Job(Option<Job>),
    Regions(Option<Vec<(Region, JobStatus)>>),
    Trail(Option<Trail>),
    /// (total_count, page_number, page_size, the page's jobs)
    Page(Result<(u32, u32, u32, Vec<Job>), Error>),
}

fn effect_changes_nothing(effect: &model::Effect) -> bool {
    use model::Effect as E;
    match effect {
        E::LoggingStarted(t)
        | E::LoggingStopped(t)
        | E::JobStarted(t)
        | E::JobCompleted(t)
        | E::RegionReported(t)
        | E::JobFinished(t)
        | E::JobStopped(t) => *t == Transition::Unchanged,
        E::JobCreated(created) => created.replayed,
        E::JobClaimed(lease) => lease.is_none(),
        E::TimeoutsHandled(report) => *report == model::TimeoutReport::default(),
        E::TrailCreated | E::TrailDeleted | E::JobDeleted(_) | E::LeaseExtended(_) => false,
    }
}

impl Outcome {
    /// SPEC: an error, a replay, an `Unchanged` answer, a claim of nothing, a
    /// `handle_timeout` with nothing due or a query leaves the whole scheduler as it was.
    pub fn must_change_nothing(&self) -> bool {
        match self {
            Outcome::Nothing
            | Outcome::Job(_)
            | Outcome::Regions(_)
            | Outcome::Trail(_)
            | Outcome::Page(_) => true,
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
            Outcome::Claimed(lease) => lease.is_none(),
            Outcome::Leased(r) => r.is_err(),
            Outcome::Extended(r) => r.is_err(),
            Outcome::Timeouts(report) => *report == model::TimeoutReport::default(),
            Outcome::Effect(r) => r.as_ref().map_or(true, effect_changes_nothing),
        }
    }

    pub fn error(&self) -> Option<Error> {
        match self {
            Outcome::Unit(Err(e))
            | Outcome::Transition(Err(e))
            | Outcome::Created(Err(e))
            | Outcome::Deleted(Err(e))
            | Outcome::Leased(Err(e))
            | Outcome::Extended(Err(e))
            | Outcome::Effect(Err(e))
            | Outcome::Page(Err(e)) => Some(*e),
            _ => None,
        }
    }

    pub fn is_err(&self) -> bool {
        self.error().is_some()
    }
}

// ------------------------------------------------------------------ the world of a case

/// The model, and what workers remember: the leases claims granted (newest last).
#[derive(Clone, Debug)]
pub struct World {
    pub model: Model,
    pub granted: Vec<Lease>,
}

/// How many granted leases workers remember.
const REMEMBERED_LEASES: usize = 8;

impl World {
    pub fn new(model: Model) -> Self {
        World {
            model,
            granted: Vec::new(),
        }
    }

    /// The job `job` names for `account`, in the model's current state.
    pub fn job(&self, account: AccountId, job: JobRef) -> JobId {
        let model = &self.model;
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

    /// The lease `lease` names, in the model's current state.
    pub fn lease(&self, lease: LeaseRef) -> Lease {
        let of = |owner: AccountId, account: AccountId, job: JobRef, delta: i8, odd: bool| {
            let id = self.job(owner, job);
            // Any job of that id, whoever owns it: a lease presented by the wrong account.
            let found = self.model.jobs().find(|j| j.id == id);
            let attempt = found.map_or(1, |j| j.attempt);
            let attempt = if delta < 0 {
                attempt.saturating_sub(u32::from(delta.unsigned_abs()))
            } else {
                attempt.saturating_add(u32::from(delta.unsigned_abs()))
            };
            let expires_at = match (odd, found.and_then(|j| j.lease_expires_at)) {
                (false, Some(end)) => end,
                (false, None) => self.model.clock(),
                (true, _) => Timestamp(u64::MAX),
            };
            Lease {
                account,
                job: id,
                attempt,
                expires_at,
            }
        };
        match lease {
            LeaseRef::Of {
                account,
                job,
                delta,
                odd_expiry,
            } => of(account, account, job, delta, odd_expiry),
            LeaseRef::Granted(k) => match self.granted.len() {
                0 => of(AccountId(0), AccountId(0), JobRef::Active, 0, false),
                n => self.granted[n - 1 - k % n],
            },
            LeaseRef::Foreign { owner, account } => of(owner, account, JobRef::Active, 0, false),
        }
    }

    /// The time `when` names.
    fn time(&self, when: When, host_now: u64) -> u64 {
        let shift = |t: u64, d: i8| {
            if d < 0 {
                t.saturating_sub(u64::from(d.unsigned_abs()))
            } else {
                t.saturating_add(u64::from(d.unsigned_abs()))
            }
        };
        let due = || self.model.poll_timeout().map(|t| t.0);
        match when {
            When::At(t) => t,
            When::Due(d) => due().map_or(host_now, |t| shift(t, d)),
            When::LeaseEnd(d) => self
                .model
                .jobs()
                .filter_map(|j| j.lease_expires_at)
                .min()
                .map(|t| t.0)
                .or_else(due)
                .map_or(host_now, |t| shift(t, d)),
            When::Retry(d) => self
                .model
                .jobs()
                .filter(|j| {
                    j.status == JobStatus::Delivering
                        && j.lease_expires_at.is_none()
                        && j.not_before > j.created_at
                })
                .map(|j| j.not_before.0)
                .min()
                .or_else(due)
                .map_or(host_now, |t| shift(t, d)),
        }
    }

    fn resolve_cmd(&self, cmd: &Cmd) -> Cmd {
        match cmd {
            Cmd::Concrete(_) => cmd.clone(),
            Cmd::OnJob {
                action,
                account,
                job,
            } => {
                let (account, job) = (*account, self.job(*account, *job));
                Cmd::Concrete(match *action {
                    JobAction::Start => Command::StartJob { account, job },
                    JobAction::Complete(outcome) => Command::CompleteJob {
                        account,
                        job,
                        outcome,
                    },
                    JobAction::Delete => Command::DeleteJob { account, job },
                    JobAction::Claim => Command::ClaimJob { account, job },
                    JobAction::Stop => Command::StopJob { account, job },
                })
            }
            Cmd::OnLease { action, lease } => {
                let lease = self.lease(*lease);
                Cmd::Concrete(match action.clone() {
                    LeaseAction::Heartbeat { delivered } => Command::Heartbeat { lease, delivered },
                    LeaseAction::Report { region, status } => Command::ReportRegion {
                        lease,
                        region,
                        status,
                    },
                    LeaseAction::Finish(outcome) => Command::FinishJob { lease, outcome },
                })
            }
        }
    }

    /// The step with every symbolic job, lease and time replaced by its value in the model's
    /// current state (`host_now`: the host's time of the previous step).
    pub fn resolve(&self, step: &Step, host_now: u64) -> Step {
        let op = match &step.op {
            Op::Call(cmd) => Op::Call(self.resolve_cmd(cmd)),
            Op::Apply(cmd) => Op::Apply(self.resolve_cmd(cmd)),
            Op::Job { account, job } => Op::Job {
                account: *account,
                job: JobRef::Id(self.job(*account, *job)),
            },
            Op::JobRegions { account, job } => Op::JobRegions {
                account: *account,
                job: JobRef::Id(self.job(*account, *job)),
            },
            other => other.clone(),
        };
        Step {
            when: When::At(self.time(step.when, host_now)),
            op,
        }
    }

    /// Runs a resolved step on the model, and remembers the lease a claim grants.
    pub fn run(&mut self, step: &Step) -> Outcome {
        let outcome = run_model(&mut self.model, step);
        let granted = match &outcome {
            Outcome::Claimed(Some(lease))
            | Outcome::Leased(Ok(lease))
            | Outcome::Effect(Ok(model::Effect::JobClaimed(Some(lease)))) => Some(*lease),
            _ => None,
        };
        if let Some(lease) = granted {
            if self.granted.len() == REMEMBERED_LEASES {
                self.granted.remove(0);
            }
            self.granted.push(lease);
        }
        outcome
    }
}

/// A resolved command.
pub fn concrete(cmd: &Cmd) -> &Command {
    match cmd {
        Cmd::Concrete(command) => command,
        _ => panic!("steps are resolved before they run"),
    }
}

/// A resolved job.
fn job_id(job: &JobRef) -> JobId {
    match job {
        JobRef::Id(id) => *id,
        _ => panic!("steps are resolved before they run"),
    }
}

/// The command of a resolved step, if it is a mutation.
pub fn command_of(step: &Step) -> Option<&Command> {
    match &step.op {
        Op::Call(cmd) | Op::Apply(cmd) => Some(concrete(cmd)),
        _ => None,
    }
}

// ------------------------------------------------------------------ running a step

/// The model's answer to one (resolved) step.
fn run_model(model: &mut Model, step: &Step) -> Outcome {
    let now = step.when.at();
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
            Command::ClaimNext => Outcome::Claimed(model.claim_next(now)),
            Command::ClaimJob { account, job } => {
                Outcome::Leased(model.claim_job(*account, *job, now))
            }
            Command::Heartbeat { lease, delivered } => {
                Outcome::Extended(model.heartbeat(lease, *delivered, now))
            }
            Command::ReportRegion {
                lease,
                region,
                status,
            } => Outcome::Transition(model.report_region(lease, region, *status, now)),
            Command::FinishJob { lease, outcome } => {
                Outcome::Transition(model.finish_job(lease, *outcome, now))
            }
            Command::StopJob { account, job } => {
                Outcome::Transition(model.stop_job(*account, *job, now))
            }
            Command::HandleTimeout => Outcome::Timeouts(model.handle_timeout(now)),
            other => panic!("a command this test does not generate: {other:?}"),
        },
        Op::Apply(cmd) => Outcome::Effect(model.apply(concrete(cmd), now)),
        Op::Job { account, job } => Outcome::Job(model.job(*account, job_id(job)).cloned()),
        Op::JobRegions { account, job } => {
            Outcome::Regions(model.job_regions(*account, job_id(job)))
        }
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

/// `job_regions` of the scheduler, owned.
pub fn scheduler_job_regions<const T: usize, const J: usize, const K: usize>(
    s: &JobScheduler<T, J, K>,
    account: AccountId,
    job: JobId,
) -> Option<Vec<(Region, JobStatus)>> {
    s.job_regions(account, job).map(|regions| {
        regions
            .map(|(region, status)| (region.clone(), status))
            .collect()
    })
}

/// The scheduler's answer to one (resolved) step.
pub fn run_scheduler<const T: usize, const J: usize, const K: usize>(
    s: &mut JobScheduler<T, J, K>,
    step: &Step,
) -> Outcome {
    let now = step.when.at();
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
            Command::ClaimNext => Outcome::Claimed(s.claim_next(now)),
            Command::ClaimJob { account, job } => Outcome::Leased(s.claim_job(*account, *job, now)),
            Command::Heartbeat { lease, delivered } => {
                Outcome::Extended(s.heartbeat(lease, *delivered, now))
            }
            Command::ReportRegion {
                lease,
                region,
                status,
            } => Outcome::Transition(s.report_region(lease, region, *status, now)),
            Command::FinishJob { lease, outcome } => {
                Outcome::Transition(s.finish_job(lease, *outcome, now))
            }
            Command::StopJob { account, job } => {
                Outcome::Transition(s.stop_job(*account, *job, now))
            }
            Command::HandleTimeout => {
                Outcome::Timeouts(model::TimeoutReport::of(&s.handle_timeout(now)))
            }
            other => panic!("a command this test does not generate: {other:?}"),
        },
        Op::Apply(cmd) => Outcome::Effect(
            s.apply(concrete(cmd), now)
                .map(|effect| model::Effect::of(&effect)),
        ),
        Op::Job { account, job } => Outcome::Job(s.job(*account, job_id(job)).cloned()),
        Op::JobRegions { account, job } => {
            Outcome::Regions(scheduler_job_regions(s, *account, job_id(job)))
        }
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
