//! Zero allocation, shown: a counting global allocator watches 10,000 mixed operations
//! (mutations, queries, a snapshot into a fixed buffer and an in-place restore) and sees none.

use trail_backfill::{
    AccountId, ClientToken, Command, Config, CreateJob, Effect, JobId, JobOutcome, JobScheduler,
    JobStatus, Lease, Region, Timestamp, TrailKind, TrailName, TrailSpec, Transition,
};

#[path = "counting/mod.rs"]
mod counting;
use counting::{CountingAllocator, allocations_during};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

#[test]
fn the_counter_sees_an_allocation() {
    let counted = allocations_during(|| drop(std::hint::black_box(Box::new(7u64))));
    assert_eq!(counted, 1, "without this, a zero below would prove nothing");
}

type Scheduler = JobScheduler<16, 32, 16>;

/// Random commands over 6 accounts, 2 regions, 3 trail names and 8 tokens. Building one
/// allocates nothing (the names are fixed-capacity), so they are made inside the watched
/// loop, aimed at recent job ids so that starts, completions and deletions often succeed.
struct Commands {
    regions: [Region; 2],
    names: [TrailName; 3],
    tokens: Vec<ClientToken>,
    /// The last leases granted (a fixed ring: pushing to a `Vec` would allocate), so that
    /// heartbeats, region reports and finishes name real leases, some of them stale.
    leases: [Option<Lease>; 4],
    state: u64,
    now: u64,
}

impl Commands {
    fn new() -> Self {
        Commands {
            regions: [
                Region::new("cn-hangzhou").unwrap(),
                Region::new("ap-southeast-1").unwrap(),
            ],
            names: ["trail-name", "audit-trail", "backup_trail"]
                .map(|n| TrailName::new(n).unwrap()),
            tokens: (0..8)
                .map(|i| ClientToken::new(&format!("token-{i}")).unwrap())
                .collect(),
            leases: [None; 4],
            state: 0x2545_f491_4f6c_dd1d,
            now: 1_622_099_703,
        }
    }

    /// A number below `bound` (xorshift64).
    fn next(&mut self, bound: u64) -> u64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state % bound
    }

    /// Remembers the lease a claim granted.
    fn granted(&mut self, effect: &Effect) {
        if let Effect::JobClaimed(Some(lease)) = effect {
            let place = self.next(4) as usize;
            self.leases[place] = Some(*lease);
        }
    }

    /// A worker command: claims, heartbeats, region reports, finishes, stops and timeouts.
    fn worker_command(&mut self, account: AccountId, job: JobId) -> Command {
        let lease = self.leases[self.next(4) as usize];
        let region = self.regions[self.next(2) as usize].clone();
        match (self.next(7), lease) {
            (0, _) | (2..=4, None) => Command::ClaimNext,
            (1, _) => Command::ClaimJob { account, job },
            (2, Some(lease)) => Command::Heartbeat {
                lease,
                delivered: self.next(1_000),
            },
            (3, Some(lease)) => Command::ReportRegion {
                lease,
                region,
                status: JobStatus::from_code(self.next(4) as u8).unwrap(),
            },
            (4, Some(lease)) => Command::FinishJob {
                lease,
                outcome: if self.next(3) == 0 {
                    JobOutcome::Failed
                } else {
                    JobOutcome::Completed
                },
            },
            (5, _) => Command::StopJob { account, job },
            _ => Command::HandleTimeout,
        }
    }

    fn command(&mut self, scheduler: &Scheduler) -> (Command, Timestamp) {
        self.now += self.next(400);
        let account = AccountId(self.next(6));
        let region = self.regions[self.next(2) as usize].clone();
        let name = self.names[self.next(3) as usize].clone();
        // Mostly the account's active job, else a recent id (often another account's).
        let recent = JobId(scheduler.next_job_id().0.saturating_sub(1 + self.next(6)));
        let job = match scheduler.active_job(account) {
            Some(active) if self.next(4) != 0 => active.id,
            _ => recent,
        };
        let token_index = self.next(8) as usize;
        let token = (self.next(3) != 0).then(|| self.tokens[token_index].clone());
        let command = match self.next(14) {
            10..=13 => self.worker_command(account, job),
            0 => Command::CreateTrail {
                account,
                region,
                spec: TrailSpec {
                    name,
                    kind: TrailKind::SingleAccount,
                    delivers_to_sls: self.next(8) != 0,
                },
            },
            1 => Command::DeleteTrail {
                account,
                region,
                name,
            },
            2 | 3 => Command::StartLogging {
                account,
                region,
                name,
            },
            4 => Command::StopLogging {
                account,
                region,
                name,
            },
            5 | 6 => Command::CreateJob(CreateJob {
                account,
                region,
                trail_name: name,
                client_token: token,
            }),
            7 => Command::StartJob { account, job },
            8 => Command::CompleteJob {
                account,
                job,
                outcome: if self.next(4) == 0 {
                    JobOutcome::Failed
                } else {
                    JobOutcome::Completed
                },
            },
            _ => Command::DeleteJob { account, job },
        };
        (command, Timestamp(self.now))
    }
}

/// The account a command acts for (0 for the account-less ones).
fn account_of(command: &Command) -> AccountId {
    match command {
        Command::CreateJob(request) => request.account,
        Command::StartJob { account, .. }
        | Command::CompleteJob { account, .. }
        | Command::DeleteJob { account, .. }
        | Command::ClaimJob { account, .. }
        | Command::StopJob { account, .. } => *account,
        Command::Heartbeat { lease, .. }
        | Command::ReportRegion { lease, .. }
        | Command::FinishJob { lease, .. } => lease.account,
        _ => AccountId(0),
    }
}

#[test]
fn ten_thousand_mixed_operations_allocate_nothing() {
    let mut commands = Commands::new();
    // Short leases and deadlines, so that leases run out, jobs retry and time out.
    let config = Config {
        lease_secs: 900,
        retry_backoff_secs: 300,
        max_job_secs: 4 * 3_600,
        ..Config::DEFAULT
    };
    let mut scheduler: Box<Scheduler> = Box::new(JobScheduler::new(config));
    let mut restored: Box<Scheduler> = Box::new(JobScheduler::new(config));
    let mut effects = [0u32; 8];
    let mut buffer = vec![0u8; 64 * 1024];
    let (mut successes, mut checksum) = (0u32, 0u64);

    let counted = allocations_during(|| {
        for step in 0..10_000u64 {
            let (command, now) = commands.command(&scheduler);
            if let Ok(effect) = scheduler.apply(&command, now) {
                successes += 1;
                commands.granted(&effect);
                let kind = match effect {
                    Effect::JobClaimed(Some(_)) => 0,
                    Effect::LeaseExtended(_) => 1,
                    Effect::RegionReported(Transition::Changed) => 2,
                    Effect::JobFinished(Transition::Changed) => 3,
                    Effect::JobStopped(Transition::Changed) => 4,
                    Effect::TimeoutsHandled(report) if report.leases_expired > 0 => 5,
                    Effect::TimeoutsHandled(report) if report.jobs_failed > 0 => 6,
                    _ => 7,
                };
                effects[kind] += 1;
            }
            checksum += scheduler.poll_timeout().map_or(0, |due| due.0 % 7);
            if let Some(regions) = scheduler.job_regions(account_of(&command), JobId(step % 40)) {
                checksum += regions
                    .map(|(_, status)| u64::from(status.code()))
                    .sum::<u64>();
            }
            let account = AccountId(step % 6);
            if let Ok(page) = scheduler.list_jobs(account, 1, 20) {
                checksum +=
                    page.jobs().map(|job| job.id.0).sum::<u64>() + u64::from(page.total_count);
            }
            checksum += scheduler.active_job(account).map_or(0, |job| job.id.0);
            checksum += scheduler
                .job(account, JobId(step % 40))
                .map_or(0, |job| job.created_at.0);
            checksum += scheduler.stats().jobs as u64;
            if step % 1_000 == 0 {
                scheduler.check_invariants().unwrap();
                let bytes = postcard::to_slice(&*scheduler, &mut buffer).unwrap();
                restored
                    .restore(&mut postcard::Deserializer::from_bytes(bytes))
                    .unwrap();
                assert!(*restored == *scheduler);
            }
        }
    });

    assert_eq!(counted, 0, "the scheduler allocated {counted} times");
    // The run did real work: many commands succeeded and many jobs were created.
    assert!(successes > 1_000, "only {successes} commands succeeded");
    let created = scheduler.next_job_id().0 - 1;
    assert!(created > 100, "only {created} jobs were created");
    assert!(checksum > 0);
    // Every worker operation took effect many times: claims, heartbeats, region reports,
    // finishes, stops, expired leases and jobs failed by their deadline.
    assert!(effects[..7].iter().all(|&n| n >= 5), "{effects:?}");
    assert!(scheduler.stats().jobs > 0 && scheduler.stats().trails > 0);
}
