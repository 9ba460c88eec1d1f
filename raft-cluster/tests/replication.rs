//! Three `JobScheduler` replicas under tikv's Raft, over a network that drops, delays and
//! reorders messages by a seeded schedule, with a leader that crashes in the middle (the others
//! elect a new one) and comes back far enough behind to be brought up to date by a Raft
//! snapshot (the scheduler's postcard snapshot, restored in place).
//!
//! The cluster itself (storage, `Ready` handling, snapshots, network) is this package's
//! library: one copy of the code, shared with the story in `src/main.rs`.
//!
//! The clients speak the worker protocol too: workers claim jobs (`ClaimNext`, `ClaimJob`) and
//! use the leases they got from earlier answers (`Heartbeat`, `ReportRegion`, `FinishJob`), some
//! of them stale by then; callers stop jobs (`StopJob`); and the leader proposes
//! `HandleTimeout` on its own when its clock reaches `poll_timeout()`.
//!
//! Checked for every seed:
//! - every committed command was applied exactly once, in log order, by every live replica:
//!   each replica's history, per process lifetime, applies index after index with no gap and
//!   no repeat, starting from the snapshot it loaded (its own after a restart, or the leader's
//!   Raft snapshot), and ends at the commit index;
//! - all replicas answered every command the same (`Result<Effect, Error>` per log index), and
//!   so does one plain scheduler fed the committed log in order;
//! - all replicas end byte-identical (postcard) and `check_invariants()` holds.
//!
//! Bounded: every phase has a fixed number of rounds, and the final settling is capped.

use std::collections::BTreeMap;

use trail_backfill::{
    AccountId, ClientToken, Command, CreateJob, Effect, JobId, JobOutcome, JobStatus, Lease,
    Region, Trail, TrailKind, TrailName, TrailSpec,
};
use trail_backfill_raft_cluster::{
    Cluster, Event, Network, Observed, Scheduler, XorShift, new_scheduler, snapshot_bytes,
};

/// How many leases the workers remember (the newest ones).
const LEASES: usize = 8;

/// Random client and worker requests over a few accounts, regions, trails and tokens.
struct Workload {
    rng: XorShift,
    regions: Vec<Region>,
    names: Vec<TrailName>,
    tokens: Vec<ClientToken>,
    /// The leases that claims answered with, newest last (some lost by now).
    leases: Vec<Lease>,
    /// The log index up to which answers were read for leases.
    read_up_to: u64,
}

impl Workload {
    fn new(seed: u64) -> Self {
        Workload {
            rng: XorShift::new(!seed),
            regions: ["cn-hangzhou", "ap-southeast-1"]
                .map(|r| Region::new(r).unwrap())
                .to_vec(),
            names: ["trail-name", "audit-trail", "backup_trail"]
                .map(|n| TrailName::new(n).unwrap())
                .to_vec(),
            tokens: ["tok-a", "tok-b", "tok-c"]
                .map(|t| ClientToken::new(t).unwrap())
                .to_vec(),
            leases: Vec::new(),
            read_up_to: 0,
        }
    }

    /// Learns the leases of the claims applied since the last call (what the workers heard).
    fn learn(&mut self, observed: &Observed) {
        for (&index, applied) in observed.by_index.range(self.read_up_to + 1..) {
            if let Ok(Effect::JobClaimed(Some(lease))) = applied.result {
                self.leases.push(lease);
                if self.leases.len() > LEASES {
                    self.leases.remove(0);
                }
            }
            self.read_up_to = index;
        }
    }

    /// A lease to act with: mostly one a claim answered with (the newest, often still held),
    /// sometimes one that never was (another attempt, or another account).
    fn lease(&mut self, account: AccountId, job: JobId) -> Lease {
        let mut lease = match self.leases.len() as u64 {
            0 => Lease {
                account,
                job,
                attempt: 1,
                expires_at: trail_backfill::Timestamp(0),
            },
            n if self.rng.percent(60) => self.leases[n as usize - 1],
            n => self.leases[self.rng.below(n) as usize],
        };
        if self.rng.percent(10) {
            lease.attempt += 1;
        }
        if self.rng.percent(5) {
            lease.account = account;
        }
        lease
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.rng.below(items.len() as u64) as usize].clone()
    }

    /// A request; job ids are drawn near the leader's `next_job_id` (what clients have seen),
    /// and half the time the account, region and trail name are those of a trail the leader
    /// knows (so that jobs get created, and workers have jobs to run).
    fn command(&mut self, leader: &Scheduler) -> Command {
        let mut account = AccountId(100 + self.rng.below(5));
        let mut region = self.pick(&self.regions.clone());
        let mut name = self.pick(&self.names.clone());
        let trails: Vec<&Trail> = leader.trails().collect();
        if !trails.is_empty() && self.rng.percent(50) {
            let trail = trails[self.rng.below(trails.len() as u64) as usize];
            (account, region, name) = (trail.account, trail.region.clone(), trail.name.clone());
        }
        let job = JobId(1 + self.rng.below(leader.next_job_id().0 + 1));
        // For the worker commands, mostly a job that is running (claimable, or someone's).
        let active: Vec<(AccountId, JobId)> = leader
            .jobs()
            .filter(|job| matches!(job.status, JobStatus::Initializing | JobStatus::Delivering))
            .map(|job| (job.account, job.id))
            .collect();
        let (worker_account, worker_job) = if !active.is_empty() && self.rng.percent(70) {
            active[self.rng.below(active.len() as u64) as usize]
        } else {
            (account, job)
        };
        match self.rng.below(100) {
            0..=11 => Command::CreateTrail {
                account,
                region,
                spec: TrailSpec {
                    name,
                    kind: if self.rng.percent(90) {
                        TrailKind::SingleAccount
                    } else {
                        TrailKind::Organization
                    },
                    delivers_to_sls: self.rng.percent(90),
                },
            },
            12..=14 => Command::DeleteTrail {
                account,
                region,
                name,
            },
            15..=26 => Command::StartLogging {
                account,
                region,
                name,
            },
            27..=29 => Command::StopLogging {
                account,
                region,
                name,
            },
            30..=54 => {
                let client_token = if self.rng.percent(60) {
                    Some(self.pick(&self.tokens.clone()))
                } else {
                    None
                };
                Command::CreateJob(CreateJob {
                    account,
                    region,
                    trail_name: name,
                    client_token,
                })
            }
            55..=69 => Command::StartJob { account, job },
            70..=77 => Command::CompleteJob {
                account,
                job,
                outcome: if self.rng.percent(70) {
                    JobOutcome::Completed
                } else {
                    JobOutcome::Failed
                },
            },
            78..=81 => Command::DeleteJob { account, job },
            82..=84 => Command::ClaimNext,
            85..=86 => Command::ClaimJob {
                account: worker_account,
                job: worker_job,
            },
            87..=91 => Command::Heartbeat {
                lease: self.lease(account, job),
                delivered: self.rng.below(10_000),
            },
            92..=95 => Command::ReportRegion {
                lease: self.lease(account, job),
                // A region workers report but no trail lives in, now and then.
                region: if self.rng.percent(20) {
                    Region::new("eu-central-1").unwrap()
                } else {
                    region
                },
                status: [
                    JobStatus::Initializing,
                    JobStatus::Delivering,
                    JobStatus::Completed,
                    JobStatus::Failed,
                ][self.rng.below(4) as usize],
            },
            96..=98 => Command::FinishJob {
                lease: self.lease(account, job),
                outcome: if self.rng.percent(80) {
                    JobOutcome::Completed
                } else {
                    JobOutcome::Failed
                },
            },
            _ => Command::StopJob {
                account: worker_account,
                job: worker_job,
            },
        }
    }
}

/// Runs `rounds` rounds, proposing a random request through the leader in most of them.
/// Records each new (term, leader) seen in `leaders`.
fn drive(
    cluster: &mut Cluster,
    load: &mut Workload,
    rounds: u64,
    proposed: &mut Vec<u64>,
    leaders: &mut Vec<(u64, usize)>,
) {
    for _ in 0..rounds {
        if let Some(leader) = cluster.leader() {
            let seen = (cluster.nodes[leader].term(), leader);
            if leaders.last() != Some(&seen) {
                leaders.push(seen);
            }
        }
        load.learn(&cluster.observed);
        if load.rng.percent(60)
            && let Some(leader) = cluster.leader()
        {
            let command = load.command(&cluster.nodes[leader].scheduler);
            if let Some(request) = cluster.propose(&command) {
                proposed.push(request);
            }
        }
        cluster.step();
    }
}

/// What one seeded run saw, for the summary line.
#[derive(Debug)]
#[allow(dead_code)] // read through Debug
struct Summary {
    seed: u64,
    rounds: u64,
    commit: u64,
    committed_commands: usize,
    proposed: usize,
    leaders: Vec<(u64, usize)>,
    messages: u64,
    lost: u64,
    reordered: u64,
    raft_snapshots: u64,
    /// Committed answers by command and outcome ("Heartbeat Ok", "FinishJob LeaseLost", ..).
    answers: BTreeMap<String, usize>,
    /// Over the committed `HandleTimeout` entries: (entries, leases expired, jobs failed).
    timeouts: (usize, u64, u64),
}

fn run(seed: u64) -> Summary {
    let mut cluster = Cluster::new(Network::lossy(seed, 15, 4), 6);
    let mut load = Workload::new(seed);
    let mut proposed = Vec::new();
    let mut leaders = Vec::new();

    // A leader, then traffic.
    cluster
        .run_until_leader(300)
        .unwrap_or_else(|| panic!("seed {seed}: no first leader"));
    drive(&mut cluster, &mut load, 80, &mut proposed, &mut leaders);

    // The leader is cut off for a while: the others elect a new one, while it may still take
    // proposals that can never commit (the new leader's log overwrites them).
    let cut_off = cluster.leader().expect("a leader") as u64 + 1;
    cluster.network.isolated.push(cut_off);
    // However the losses fall, the partition lasts until the others have a leader (bounded).
    for _ in 0..300 {
        if cluster
            .leader()
            .is_some_and(|leader| leader as u64 + 1 != cut_off)
        {
            break;
        }
        drive(&mut cluster, &mut load, 1, &mut proposed, &mut leaders);
    }
    drive(&mut cluster, &mut load, 60, &mut proposed, &mut leaders);
    cluster.network.isolated.clear();
    drive(&mut cluster, &mut load, 40, &mut proposed, &mut leaders);

    // The leader of the moment crashes; traffic goes on; someone else must take over.
    let crashed = cluster
        .run_until_leader(300)
        .unwrap_or_else(|| panic!("seed {seed}: no leader to crash"));
    let crashed_log_end = cluster.nodes[crashed].disk.last_index();
    cluster.crash(crashed);
    drive(&mut cluster, &mut load, 150, &mut proposed, &mut leaders);
    let second = cluster
        .run_until_leader(300)
        .unwrap_or_else(|| panic!("seed {seed}: no leader after the crash"));
    assert_ne!(second, crashed, "seed {seed}: a crashed node cannot lead");

    // The crashed node comes back, far behind: the leader has compacted its log past it.
    assert!(
        cluster.nodes[second].disk.first_index() > crashed_log_end + 1,
        "seed {seed}: the leader's log should have moved past the crashed node's"
    );
    cluster.restart(crashed);
    drive(&mut cluster, &mut load, 100, &mut proposed, &mut leaders);

    // Heal the network and let everyone catch up.
    cluster.network.drop_percent = 0;
    cluster.network.max_delay = 1;
    assert!(
        cluster.settle(1_000),
        "seed {seed}: the cluster did not settle (round {})",
        cluster.round
    );
    assert!(
        leaders.len() >= 3,
        "seed {seed}: expected at least two leader changes, saw {leaders:?}"
    );

    let leader = cluster.leader().expect("settled means led");
    let commit = cluster.nodes[leader].commit();
    let observed = &cluster.observed;

    // The committed log: every index 1..=commit is a command or a leader's empty entry.
    for index in 1..=commit {
        assert!(
            observed.by_index.contains_key(&index) != observed.empty.contains(&index),
            "seed {seed}: index {index} is neither a command nor an empty entry (or both)"
        );
    }
    assert_eq!(
        observed
            .by_index
            .keys()
            .next_back()
            .copied()
            .max(observed.empty.last().copied()),
        Some(commit)
    );
    // Each request at most once in the log, and only requests that were proposed: by a client,
    // or by a leader whose clock reached `poll_timeout()` (`HandleTimeout`, nothing else).
    assert_eq!(observed.by_request.len(), observed.by_index.len());
    for (request, index) in &observed.by_request {
        let by_leader = cluster.timeout_requests.binary_search(request).is_ok();
        assert!(proposed.binary_search(request).is_ok() != by_leader);
        if by_leader {
            assert_eq!(observed.by_index[index].command, Command::HandleTimeout);
        }
    }

    // Every live replica applied every committed entry once, in order, per process lifetime.
    for node in &cluster.nodes {
        assert!(node.is_up(), "seed {seed}: node {} is down", node.id);
        // `applied`: the last index the running process reflects. `Applied(i)` must be the
        // next index: so within one process lifetime no entry is applied twice or skipped.
        let mut applied = 0u64;
        for event in &node.events {
            match *event {
                Event::Applied(index) => {
                    assert_eq!(index, applied + 1, "seed {seed}: node {}", node.id);
                    applied = index;
                }
                Event::RaftSnapshot(index) => {
                    assert!(index > applied, "seed {seed}: node {}", node.id);
                    applied = index;
                }
                Event::Compacted(index) => assert_eq!(index, applied),
                Event::Crashed => applied = 0,
                Event::Restarted(from) => applied = from,
            }
        }
        assert_eq!(applied, commit, "seed {seed}: node {}", node.id);
        assert_eq!(node.applied, commit);
        // Its answers match the cluster's, index by index, for everything it applied itself.
        for (index, record) in &node.records {
            assert_eq!(
                observed.by_index.get(index),
                Some(record),
                "seed {seed}: node {} at {index}",
                node.id
            );
        }
    }

    // The crashed node was brought up to date by a Raft snapshot, restored in place.
    let after_restart: Vec<&Event> = cluster.nodes[crashed]
        .events
        .iter()
        .skip_while(|event| !matches!(event, Event::Restarted(_)))
        .collect();
    assert!(
        after_restart
            .iter()
            .any(|event| matches!(event, Event::RaftSnapshot(_))),
        "seed {seed}: node {} caught up without a Raft snapshot",
        crashed + 1
    );

    // One plain scheduler fed the committed log answers the same and ends in the same state.
    let mut reference = new_scheduler();
    for (index, record) in &observed.by_index {
        assert_eq!(
            reference.apply(&record.command, record.at),
            record.result,
            "seed {seed}: index {index}"
        );
    }
    let expected = snapshot_bytes(&reference);
    for node in &cluster.nodes {
        assert_eq!(
            snapshot_bytes(&node.scheduler),
            expected,
            "seed {seed}: node {} differs",
            node.id
        );
        assert_eq!(node.scheduler.check_invariants(), Ok(()));
        assert_eq!(*node.scheduler, *reference);
    }

    // The faults really happened.
    assert!(cluster.net.lost > 0 && cluster.net.reordered > 0);
    assert!(
        observed.by_index.len() >= 100,
        "seed {seed}: too few commands"
    );

    // What the commands answered: the worker protocol ran, leases ran out, and each
    // `HandleTimeout` the leader proposed was due when it proposed it.
    let mut answers = BTreeMap::new();
    let mut timeouts = (0, 0, 0);
    for applied in observed.by_index.values() {
        let command = format!("{:?}", applied.command);
        let command = command
            .split([' ', '(', '{'])
            .next()
            .unwrap_or_default()
            .to_owned();
        let outcome = match &applied.result {
            Ok(Effect::JobClaimed(None)) => "None",
            Ok(_) => "Ok",
            Err(error) => error.code(),
        };
        *answers.entry(format!("{command} {outcome}")).or_default() += 1;
        if let Ok(Effect::TimeoutsHandled(report)) = applied.result {
            timeouts.0 += 1;
            timeouts.1 += u64::from(report.leases_expired);
            timeouts.2 += u64::from(report.jobs_failed);
        }
    }

    Summary {
        seed,
        rounds: cluster.round,
        commit,
        committed_commands: observed.by_index.len(),
        proposed: proposed.len(),
        leaders,
        messages: cluster.net.sent,
        lost: cluster.net.lost,
        reordered: cluster.net.reordered,
        raft_snapshots: cluster.net.snapshots_delivered,
        answers,
        timeouts,
    }
}

#[test]
fn replicas_agree_under_loss_reordering_a_leader_change_and_a_snapshot_catch_up() {
    let mut answers: BTreeMap<String, usize> = BTreeMap::new();
    let mut timeouts = (0, 0, 0);
    for seed in 1..=16 {
        let summary = run(seed);
        println!("{summary:?}");
        for (answer, count) in &summary.answers {
            *answers.entry(answer.clone()).or_default() += count;
        }
        timeouts.0 += summary.timeouts.0;
        timeouts.1 += summary.timeouts.1;
        timeouts.2 += summary.timeouts.2;
    }
    // Over all seeds, every worker command succeeded somewhere and was refused somewhere.
    println!("{answers:?}; HandleTimeout (entries, leases expired, jobs failed): {timeouts:?}");
    for answer in [
        "ClaimNext Ok",
        "ClaimNext None",
        "ClaimJob Ok",
        "ClaimJob DeliveryHistoryJobNotClaimable",
        "Heartbeat Ok",
        "Heartbeat DeliveryHistoryJobLeaseLost",
        "ReportRegion Ok",
        "ReportRegion DeliveryHistoryJobLeaseLost",
        "FinishJob Ok",
        "FinishJob DeliveryHistoryJobLeaseLost",
        "StopJob Ok",
        "HandleTimeout Ok",
    ] {
        assert!(answers.get(answer).copied().unwrap_or(0) > 0, "no {answer}");
    }
    assert!(timeouts.1 > 0, "no lease ran out: {timeouts:?}");
    assert!(timeouts.2 > 0, "no job failed by a timeout: {timeouts:?}");
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let digests = |seed| {
        let mut cluster = Cluster::new(Network::lossy(seed, 20, 3), 5);
        let mut load = Workload::new(seed);
        let mut proposed = Vec::new();
        cluster.run_until_leader(300).expect("a leader");
        drive(&mut cluster, &mut load, 80, &mut proposed, &mut Vec::new());
        assert!(cluster.settle(1_000));
        let bytes: Vec<Vec<u8>> = cluster
            .nodes
            .iter()
            .map(|node| snapshot_bytes(&node.scheduler))
            .collect();
        (cluster.round, cluster.net.sent, proposed, bytes)
    };
    assert_eq!(digests(42), digests(42));
}
