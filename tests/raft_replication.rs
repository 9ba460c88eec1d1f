//! Three `JobScheduler` replicas under tikv's Raft, over a network that drops, delays and
//! reorders messages by a seeded schedule, with a leader that crashes in the middle (the others
//! elect a new one) and comes back far enough behind to be brought up to date by a Raft
//! snapshot (the scheduler's postcard snapshot, restored in place).
//!
//! The cluster itself (storage, `Ready` handling, snapshots, network) is
//! `examples/raft_cluster.rs`, included here as a module: one copy of the code.
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

// The example's file has `#![allow(dead_code)]`: each side uses part of it.
#[path = "../examples/raft_cluster.rs"]
mod raft_cluster;

use raft_cluster::{Cluster, Event, Network, XorShift, new_scheduler, snapshot_bytes};
use trail_backfill::{
    AccountId, ClientToken, Command, CreateJob, JobId, JobOutcome, Region, TrailKind, TrailName,
    TrailSpec,
};

/// Random client requests over a few accounts, regions, trails and tokens.
struct Workload {
    rng: XorShift,
    regions: Vec<Region>,
    names: Vec<TrailName>,
    tokens: Vec<ClientToken>,
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
        }
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.rng.below(items.len() as u64) as usize].clone()
    }

    /// A request; job ids are drawn near `next_job_id` (what clients have seen).
    fn command(&mut self, next_job_id: u64) -> Command {
        let account = AccountId(100 + self.rng.below(5));
        let region = self.pick(&self.regions.clone());
        let name = self.pick(&self.names.clone());
        let job = JobId(1 + self.rng.below(next_job_id + 1));
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
            70..=89 => Command::CompleteJob {
                account,
                job,
                outcome: if self.rng.percent(70) {
                    JobOutcome::Completed
                } else {
                    JobOutcome::Failed
                },
            },
            _ => Command::DeleteJob { account, job },
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
        if load.rng.percent(60)
            && let Some(leader) = cluster.leader()
        {
            let next = cluster.nodes[leader].scheduler.next_job_id().0;
            let command = load.command(next);
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
    // Each request at most once in the log, and only requests that were proposed.
    assert_eq!(observed.by_request.len(), observed.by_index.len());
    for request in observed.by_request.keys() {
        assert!(proposed.binary_search(request).is_ok());
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
    }
}

#[test]
fn replicas_agree_under_loss_reordering_a_leader_change_and_a_snapshot_catch_up() {
    for seed in 1..=16 {
        let summary = run(seed);
        println!("{summary:?}");
    }
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
