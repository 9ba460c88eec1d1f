//! A deployment of four schedulers, each request routed by `shard_for(account, 4)`, enforces
//! every rule exactly as one scheduler does for the same request stream.
//!
//! A seeded random stream of commands over 12 accounts, 2 regions, 3 trail names and 3 client
//! tokens, with time moving forward (several requests may share a second), is applied to one
//! scheduler and to the account's shard. Every answer must be the same, and at checkpoints and
//! at the end every account's trails, jobs (`jobs()`, `list_jobs` page by page, `job`) and
//! active job must be the same.
//!
//! **Job ids.** Each shard numbers its own jobs from `first_job_id`, so the same job has one id
//! in the single scheduler and another in its shard. The test keeps a bijection between the two,
//! built only from `JobCreated` answers that are new in both deployments (a new id in one and
//! not the other is a failure, as is any id the map cannot place), translates the ids in each
//! command from the single scheduler's numbering into the shard's, and translates the shard's
//! answers back before comparing. An id the shard never issued (another shard's job, or one
//! not issued yet) becomes an id the shard can never reach, so the shard must answer
//! `JobNotFound` exactly where the single scheduler does (there the job belongs to another
//! account, or does not exist).
//!
//! **Capacities.** The tables are large enough that nothing is ever evicted or refused for
//! capacity, and the test checks it: when a table is full the two deployments would rightly
//! differ, because the single scheduler's job table and token cache are shared by all accounts
//! (it evicts the finished job with the smallest id, or the oldest token record, of *any*
//! account) while a shard's are shared only by its own accounts. So a job or a replayable token
//! that one deployment has evicted the other may still have. Sharding multiplies capacity; it
//! keeps the rules, not the eviction order.
//!
//! **Workers.** The stream speaks the worker protocol too, scoped to an account: `ClaimJob`,
//! `Heartbeat`, `ReportRegion` and `FinishJob` with leases that earlier claims answered with
//! (the account's newest mostly, sometimes a stale or made-up attempt), and `StopJob`. Leases
//! carry job ids, translated like every other id. `HandleTimeout` acts on every account at once:
//! it goes to every shard, and the sum of the shards' reports must be the single scheduler's
//! report (each job's due time depends only on that job, so the same jobs expire or fail).
//! `ClaimNext` is left out: it claims the job with the smallest `(not_before, id)` over *all*
//! accounts, so the single scheduler's pick depends on other accounts' jobs, and no one shard
//! can answer it alone (a host would ask every shard and keep the earliest, which needs a peek
//! the API does not offer).
//!
//! **Time.** Per-scheduler clocks differ (each shard's `clock()` is its own latest change), but
//! since the host's time never goes back, `max(now, clock())` is `now` in both deployments. A
//! host whose time went back would see the single scheduler clamp to a time set by another
//! account's request, which a shard may not have seen.

use std::collections::BTreeMap;

use trail_backfill::{
    AccountId, ClientToken, Command, Config, CreateJob, Effect, Error, Job, JobCreated, JobId,
    JobOutcome, JobScheduler, JobStatus, Lease, Region, TimeoutReport, Timestamp, Trail, TrailKind,
    TrailName, TrailSpec, shard_for,
};

mod common;
use common::{XorShift, name, region, token};

const SHARDS: usize = 4;
const JOBS: usize = 512;
const TOKENS: usize = 512;
type Scheduler = JobScheduler<128, JOBS, TOKENS>;

const CONFIG: Config = Config {
    token_ttl_secs: 400,
    grace_secs: 300,
    max_trails_per_account: 2,
    hash_seed: 0x5a4d_0000_0000_0004,
    // Short leases and deadlines, so that within a run leases run out, jobs are retried and
    // some fail by their deadline.
    lease_secs: 30,
    max_attempts: 2,
    retry_backoff_secs: 15,
    max_backoff_secs: 60,
    max_job_secs: 600,
    ..Config::DEFAULT
};

/// Ids that a shard never reaches: where a command names a job the shard did not issue.
const FOREIGN: u64 = 1 << 40;

/// One scheduler, and four shards with the id bijection between them.
struct Deployment {
    single: Box<Scheduler>,
    shards: Vec<Box<Scheduler>>,
    /// Shard-local id -> the single scheduler's id, per shard.
    to_single: Vec<BTreeMap<JobId, JobId>>,
    /// The single scheduler's id -> (shard, shard-local id).
    to_shard: BTreeMap<JobId, (usize, JobId)>,
    /// Largest number of jobs and token records the single scheduler ever held.
    peak_jobs: usize,
    peak_tokens: usize,
}

impl Deployment {
    fn new() -> Self {
        Deployment {
            single: Box::new(Scheduler::new(CONFIG)),
            shards: (0..SHARDS)
                .map(|_| Box::new(Scheduler::new(CONFIG)))
                .collect(),
            to_single: vec![BTreeMap::new(); SHARDS],
            to_shard: BTreeMap::new(),
            peak_jobs: 0,
            peak_tokens: 0,
        }
    }

    /// The shard's id for the single scheduler's `job`, as seen from `shard`.
    fn shard_id(&self, shard: usize, job: JobId) -> JobId {
        match self.to_shard.get(&job) {
            Some(&(s, id)) if s == shard => id,
            _ => JobId(FOREIGN + job.0),
        }
    }

    /// The single scheduler's id for `shard`'s `job`.
    fn single_id(&self, shard: usize, job: JobId) -> JobId {
        *self.to_single[shard]
            .get(&job)
            .unwrap_or_else(|| panic!("shard {shard} answered with job {job:?} it never created"))
    }

    fn translate_command(&self, shard: usize, command: &Command) -> Command {
        let mut command = command.clone();
        match &mut command {
            Command::StartJob { job, .. }
            | Command::CompleteJob { job, .. }
            | Command::DeleteJob { job, .. }
            | Command::ClaimJob { job, .. }
            | Command::StopJob { job, .. } => *job = self.shard_id(shard, *job),
            Command::Heartbeat { lease, .. }
            | Command::ReportRegion { lease, .. }
            | Command::FinishJob { lease, .. } => lease.job = self.shard_id(shard, lease.job),
            _ => {}
        }
        command
    }

    fn translate_job(&self, shard: usize, job: &Job) -> Job {
        Job {
            id: self.single_id(shard, job.id),
            ..job.clone()
        }
    }

    /// The shard's answer in the single scheduler's numbering; a job new in both joins the map.
    fn translate_result(
        &mut self,
        shard: usize,
        result: Result<Effect, Error>,
        single: &Result<Effect, Error>,
    ) -> Result<Effect, Error> {
        match result {
            Ok(Effect::JobCreated(JobCreated {
                job_id,
                replayed: false,
            })) => {
                let Ok(Effect::JobCreated(JobCreated {
                    job_id: single_id,
                    replayed: false,
                })) = *single
                else {
                    panic!(
                        "the shard created job {job_id:?}, the single scheduler answered {single:?}"
                    );
                };
                assert!(self.to_single[shard].insert(job_id, single_id).is_none());
                assert!(self.to_shard.insert(single_id, (shard, job_id)).is_none());
                Ok(Effect::JobCreated(JobCreated {
                    job_id: single_id,
                    replayed: false,
                }))
            }
            Ok(Effect::JobCreated(JobCreated {
                job_id,
                replayed: true,
            })) => Ok(Effect::JobCreated(JobCreated {
                job_id: self.single_id(shard, job_id),
                replayed: true,
            })),
            Ok(Effect::JobDeleted(job)) => Ok(Effect::JobDeleted(self.translate_job(shard, &job))),
            Ok(Effect::JobClaimed(Some(lease))) => Ok(Effect::JobClaimed(Some(Lease {
                job: self.single_id(shard, lease.job),
                ..lease
            }))),
            Err(Error::JobAlreadyRunning { active }) => Err(Error::JobAlreadyRunning {
                active: self.single_id(shard, active),
            }),
            other => other,
        }
    }

    /// Applies `command` to both deployments and checks that they answer the same.
    fn apply(&mut self, command: &Command, now: Timestamp) -> Result<Effect, Error> {
        let expected = self.single.apply(command, now);
        if *command == Command::HandleTimeout {
            // Every account's jobs: every shard, and the reports add up.
            let mut sum = TimeoutReport::default();
            for shard in &mut self.shards {
                let Ok(Effect::TimeoutsHandled(report)) = shard.apply(command, now) else {
                    panic!("HandleTimeout always answers TimeoutsHandled");
                };
                sum.leases_expired += report.leases_expired;
                sum.jobs_failed += report.jobs_failed;
            }
            assert_eq!(Ok(Effect::TimeoutsHandled(sum)), expected, "at {now}");
            return expected;
        }
        let shard = shard_for(account_of(command), SHARDS);
        let routed = self.translate_command(shard, command);
        let answer = self.shards[shard].apply(&routed, now);
        let answer = self.translate_result(shard, answer, &expected);
        assert_eq!(answer, expected, "{command:?} at {now} (shard {shard})");
        let stats = self.single.stats();
        self.peak_jobs = self.peak_jobs.max(stats.jobs);
        self.peak_tokens = self.peak_tokens.max(stats.tokens);
        expected
    }

    /// Every account's trails, jobs and active job, in both deployments.
    fn check_same_state(&self, accounts: &[AccountId]) {
        for &account in accounts {
            let s = shard_for(account, SHARDS);
            let shard = &self.shards[s];
            let trails = |scheduler: &Scheduler| -> Vec<Trail> {
                scheduler
                    .trails()
                    .filter(|trail| trail.account == account)
                    .cloned()
                    .collect()
            };
            assert_eq!(trails(shard), trails(&self.single), "{account:?} trails");

            let single_jobs: Vec<Job> = self
                .single
                .jobs()
                .filter(|job| job.account == account)
                .cloned()
                .collect();
            let shard_jobs: Vec<Job> = shard
                .jobs()
                .filter(|job| job.account == account)
                .map(|job| self.translate_job(s, job))
                .collect();
            assert_eq!(shard_jobs, single_jobs, "{account:?} jobs()");

            assert_eq!(
                shard
                    .active_job(account)
                    .map(|job| self.translate_job(s, job)),
                self.single.active_job(account).cloned(),
                "{account:?} active job"
            );

            for page_size in [1u32, 3, 100] {
                let mut page_number = 1;
                loop {
                    let expected = self.single.list_jobs(account, page_number, page_size);
                    let answer = shard.list_jobs(account, page_number, page_size);
                    let (expected, answer) = (expected.unwrap(), answer.unwrap());
                    assert_eq!(answer.total_count, expected.total_count);
                    let expected: Vec<Job> = expected.jobs().cloned().collect();
                    let answer: Vec<Job> = answer
                        .jobs()
                        .map(|job| self.translate_job(s, job))
                        .collect();
                    assert_eq!(
                        answer, expected,
                        "{account:?} page {page_number}/{page_size}"
                    );
                    if expected.is_empty() {
                        break;
                    }
                    page_number += 1;
                }
            }

            // Every id the single scheduler issued, looked up as this account, with the
            // regions its workers reported.
            for id in 1..self.single.next_job_id().0 {
                let job = JobId(id);
                assert_eq!(
                    shard
                        .job(account, self.shard_id(s, job))
                        .map(|job| self.translate_job(s, job)),
                    self.single.job(account, job).cloned(),
                    "{account:?} job {id}"
                );
                let regions = |scheduler: &Scheduler, job| -> Option<Vec<(Region, JobStatus)>> {
                    scheduler.job_regions(account, job).map(|regions| {
                        regions
                            .map(|(region, status)| (region.clone(), status))
                            .collect()
                    })
                };
                assert_eq!(
                    regions(shard, self.shard_id(s, job)),
                    regions(&self.single, job),
                    "{account:?} job {id} regions"
                );
            }
        }
    }
}

fn account_of(command: &Command) -> AccountId {
    match command {
        Command::CreateTrail { account, .. }
        | Command::DeleteTrail { account, .. }
        | Command::StartLogging { account, .. }
        | Command::StopLogging { account, .. }
        | Command::StartJob { account, .. }
        | Command::CompleteJob { account, .. }
        | Command::DeleteJob { account, .. }
        | Command::ClaimJob { account, .. }
        | Command::StopJob { account, .. } => *account,
        Command::Heartbeat { lease, .. }
        | Command::ReportRegion { lease, .. }
        | Command::FinishJob { lease, .. } => lease.account,
        Command::CreateJob(request) => request.account,
        // HandleTimeout goes to every shard (`Deployment::apply`); ClaimNext is not generated.
        other => panic!("{other:?} acts on no single account: this test does not generate it"),
    }
}

struct Stream {
    rng: XorShift,
    accounts: Vec<AccountId>,
    regions: Vec<Region>,
    names: Vec<TrailName>,
    tokens: Vec<ClientToken>,
    /// The leases claims answered with (the single scheduler's numbering), newest last.
    leases: Vec<Lease>,
}

impl Stream {
    /// Remembers the lease of a claim's answer, for later worker commands.
    fn learn(&mut self, answer: &Result<Effect, Error>) {
        if let Ok(Effect::JobClaimed(Some(lease))) = answer {
            self.leases.push(*lease);
        }
    }

    /// A lease of `account`'s: mostly its newest, sometimes an older one or another attempt of
    /// it (lost), or one made up for `job` when the account never claimed one.
    fn lease(&mut self, account: AccountId, job: JobId, now: Timestamp) -> Lease {
        let own: Vec<Lease> = self
            .leases
            .iter()
            .filter(|lease| lease.account == account)
            .copied()
            .collect();
        let mut lease = match own.last() {
            Some(&newest) if self.rng.percent(80) => newest,
            Some(_) => *self.rng.pick(&own),
            None => Lease {
                account,
                job,
                attempt: 1,
                expires_at: now,
            },
        };
        if self.rng.percent(10) {
            lease.attempt += 1;
        }
        lease
    }

    fn command(&mut self, single: &Scheduler, now: Timestamp) -> Command {
        let account = *self.rng.pick(&self.accounts);
        let region = self.rng.pick(&self.regions).clone();
        let name = self.rng.pick(&self.names).clone();
        // Mostly one of the account's own jobs; sometimes any id, another account's or unknown.
        let own: Vec<JobId> = single
            .jobs()
            .filter(|job| job.account == account)
            .map(|job| job.id)
            .collect();
        let job = if !own.is_empty() && self.rng.percent(50) {
            own[own.len() - 1] // the newest: often the active one
        } else if !own.is_empty() && self.rng.percent(70) {
            *self.rng.pick(&own)
        } else {
            JobId(1 + self.rng.below(single.next_job_id().0 + 2))
        };
        match self.rng.below(120) {
            0..=9 => Command::CreateTrail {
                account,
                region,
                spec: TrailSpec {
                    name,
                    kind: if self.rng.percent(85) {
                        TrailKind::SingleAccount
                    } else {
                        TrailKind::Organization
                    },
                    delivers_to_sls: self.rng.percent(85),
                },
            },
            10..=12 => Command::DeleteTrail {
                account,
                region,
                name,
            },
            13..=24 => Command::StartLogging {
                account,
                region,
                name,
            },
            25..=28 => Command::StopLogging {
                account,
                region,
                name,
            },
            29..=53 => Command::CreateJob(CreateJob {
                account,
                region,
                trail_name: name,
                client_token: if self.rng.percent(60) {
                    Some(self.rng.pick(&self.tokens).clone())
                } else {
                    None
                },
            }),
            54..=68 => Command::StartJob { account, job },
            69..=88 => Command::CompleteJob {
                account,
                job,
                outcome: if self.rng.percent(75) {
                    JobOutcome::Completed
                } else {
                    JobOutcome::Failed
                },
            },
            89..=99 => Command::DeleteJob { account, job },
            100..=103 => Command::ClaimJob { account, job },
            104..=108 => Command::Heartbeat {
                lease: self.lease(account, job, now),
                delivered: self.rng.below(1_000_000),
            },
            109..=112 => Command::ReportRegion {
                lease: self.lease(account, job, now),
                region: if self.rng.percent(80) {
                    region
                } else {
                    common::region("eu-central-1")
                },
                status: *self.rng.pick(&[
                    JobStatus::Initializing,
                    JobStatus::Delivering,
                    JobStatus::Completed,
                    JobStatus::Failed,
                ]),
            },
            113..=115 => Command::FinishJob {
                lease: self.lease(account, job, now),
                outcome: if self.rng.percent(75) {
                    JobOutcome::Completed
                } else {
                    JobOutcome::Failed
                },
            },
            116..=118 => Command::StopJob { account, job },
            _ => Command::HandleTimeout,
        }
    }
}

/// One seeded stream of `commands` requests; returns how many answers of each kind it got.
fn run(seed: u64, commands: usize) -> BTreeMap<&'static str, usize> {
    // 12 accounts, three per shard: the first ids from 1512666876910000 on that land there.
    let mut accounts = Vec::new();
    let mut served = [0usize; SHARDS];
    for id in 1_512_666_876_910_000.. {
        let account = AccountId(id);
        let shard = shard_for(account, SHARDS);
        if served[shard] < 3 {
            served[shard] += 1;
            accounts.push(account);
        }
        if accounts.len() == 12 {
            break;
        }
    }

    let mut stream = Stream {
        rng: XorShift::new(seed),
        accounts: accounts.clone(),
        regions: ["cn-hangzhou", "ap-southeast-1"].map(region).to_vec(),
        names: ["trail-name", "audit-trail", "backup_trail"]
            .map(name)
            .to_vec(),
        tokens: ["123e4567-e89b-12d3", "retry-token", "Retry-Token"]
            .map(token)
            .to_vec(),
        leases: Vec::new(),
    };
    let mut deployment = Deployment::new();
    let mut now = Timestamp(1_622_099_703);
    let mut answers: BTreeMap<&'static str, usize> = BTreeMap::new();
    for step in 0..commands {
        now = Timestamp(now.0 + stream.rng.below(4)); // 0..=3 s: some requests share a second
        let command = stream.command(&deployment.single, now);
        let answer = deployment.apply(&command, now);
        stream.learn(&answer);
        let key = match &answer {
            Ok(Effect::JobCreated(created)) if created.replayed => "JobCreated(replayed)",
            Ok(Effect::JobCreated(_)) => "JobCreated",
            Ok(Effect::JobClaimed(_)) => "JobClaimed",
            Ok(Effect::LeaseExtended(_)) => "LeaseExtended",
            Ok(Effect::RegionReported(_)) => "RegionReported",
            Ok(Effect::JobFinished(_)) => "JobFinished",
            Ok(Effect::JobStopped(_)) => "JobStopped",
            Ok(Effect::TimeoutsHandled(report)) => {
                *answers.entry("LeasesExpired").or_default() += report.leases_expired as usize;
                *answers.entry("TimeoutJobsFailed").or_default() += report.jobs_failed as usize;
                "TimeoutsHandled"
            }
            Ok(_) => "Ok",
            Err(error) => error.code(),
        };
        *answers.entry(key).or_default() += 1;
        if step % 500 == 499 {
            deployment.check_same_state(&accounts);
        }
    }
    deployment.check_same_state(&accounts);

    // Nothing was ever evicted or refused for capacity (see the module docs).
    let single = deployment.single.stats();
    assert!(
        deployment.peak_jobs < JOBS,
        "peak {} jobs",
        deployment.peak_jobs
    );
    assert!(
        deployment.peak_tokens < TOKENS,
        "peak {} tokens",
        deployment.peak_tokens
    );
    assert_eq!((single.jobs_evicted, single.tokens_evicted_live), (0, 0));
    assert!(!answers.contains_key("ServiceUnavailable"));

    // The shards together hold exactly what the single scheduler holds.
    let mut sum = (0, 0, 0, 0, 0, 0, 0);
    for shard in &deployment.shards {
        shard.check_invariants().unwrap();
        let stats = shard.stats();
        sum.0 += stats.trails;
        sum.1 += stats.jobs;
        sum.2 += stats.active_jobs;
        sum.3 += stats.tokens;
        sum.4 += stats.jobs_evicted;
        sum.5 += stats.tokens_evicted_live;
        sum.6 += stats.leased_jobs;
    }
    deployment.single.check_invariants().unwrap();
    assert_eq!(
        sum,
        (
            single.trails,
            single.jobs,
            single.active_jobs,
            single.tokens,
            single.jobs_evicted,
            single.tokens_evicted_live,
            single.leased_jobs
        )
    );
    assert_eq!(
        deployment.to_shard.len() as u64,
        deployment.single.next_job_id().0 - 1
    );

    // The stream exercised the rules, not just the happy path.
    for code in [
        "JobCreated",
        "JobCreated(replayed)",
        "Ok",
        "TrailAlreadyExistsException",
        "MaximumNumberOfTrailsExceededException",
        "TrailNotFoundException",
        "TrailNotEligibleException",
        "DeliveryHistoryJobAlreadyRunning",
        "IdempotentParameterMismatch",
        "DeliveryHistoryJobNotFound",
        "InvalidDeliveryHistoryJobStatus",
        "DeliveryHistoryJobNotFinished",
        "JobClaimed",
        "TimeoutsHandled",
        "DeliveryHistoryJobLeaseLost",
    ] {
        assert!(
            answers.get(code).copied().unwrap_or(0) > 0,
            "seed {seed}: no {code} in {answers:?}"
        );
    }
    println!(
        "seed {seed}: {answers:?}; peak {} jobs, {} token records",
        deployment.peak_jobs, deployment.peak_tokens
    );
    answers
}

#[test]
fn four_shards_answer_every_request_as_one_scheduler_does() {
    let mut answers: BTreeMap<&'static str, usize> = BTreeMap::new();
    for seed in 1..=5 {
        for (key, count) in run(seed, 5_000) {
            *answers.entry(key).or_default() += count;
        }
    }
    // The rarer worker answers, over all seeds: each worker command succeeded, leases ran
    // out, and jobs failed by a timeout (lease or deadline).
    for key in [
        "LeaseExtended",
        "RegionReported",
        "JobFinished",
        "JobStopped",
        "LeasesExpired",
        "TimeoutJobsFailed",
        "DeliveryHistoryJobNotClaimable",
    ] {
        assert!(
            answers.get(key).copied().unwrap_or(0) > 0,
            "no {key} in {answers:?}"
        );
    }
}
