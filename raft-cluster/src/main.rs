//! The story: three replicas of one `JobScheduler` under tikv's Raft, through a leader crash,
//! a log compaction, a snapshot catch-up, and a worker whose lease runs out.
//!
//! ```sh
//! cargo run -p trail-backfill-raft-cluster
//! ```
//!
//! The cluster itself is this package's library (`src/lib.rs`); `tests/replication.rs` drives
//! the same cluster over a lossy, reordering network.

use trail_backfill::{
    AccountId, ClientToken, Command, CreateJob, Effect, JobId, JobOutcome, JobStatus, Lease,
    Region, TrailKind, TrailName, TrailSpec,
};
use trail_backfill_raft_cluster::{
    Applied, CLOCK_SKEW, Cluster, Event, Network, describe, describe_result, digest,
};

/// The cluster, and how many of its own `HandleTimeout` entries the transcript has shown.
struct Story {
    cluster: Cluster,
    timeouts_shown: usize,
}

impl Story {
    /// Proposes `command` through the leader, runs until it is applied, prints the line.
    fn request(&mut self, command: &Command) -> Applied {
        let answer = self
            .cluster
            .request(command, 100)
            .expect("the request is committed");
        self.show_timeouts(Some(answer.index));
        print_line(&self.cluster, &answer);
        answer
    }

    fn run_requests(&mut self, commands: &[Command]) {
        for command in commands {
            self.request(command);
        }
    }

    /// Prints the `HandleTimeout` entries the leaders proposed on their own, applied before
    /// log index `before` (all of them: `None`).
    fn show_timeouts(&mut self, before: Option<u64>) {
        while let Some(&request) = self.cluster.timeout_requests.get(self.timeouts_shown) {
            let Some(answer) = self.cluster.answer(request) else {
                break;
            };
            if before.is_some_and(|index| answer.index > index) {
                break;
            }
            print_line(&self.cluster, answer);
            self.timeouts_shown += 1;
        }
    }

    /// The lease a claim answered with.
    fn lease(answer: &Applied) -> Lease {
        match answer.result {
            Ok(Effect::JobClaimed(Some(lease))) => lease,
            ref other => panic!("expected a lease, got {other:?}"),
        }
    }
}

fn print_line(cluster: &Cluster, answer: &Applied) {
    let leader = cluster.leader().map_or(0, |i| i + 1);
    println!(
        "round {:>3}: index {:>2}  node {leader} at {}  {:<52} -> {}",
        cluster.round,
        answer.index,
        answer.at,
        describe(&answer.command),
        describe_result(&answer.result)
    );
}

fn main() {
    let mut story = Story {
        cluster: Cluster::new(Network::reliable(), 8),
        timeouts_shown: 0,
    };
    let hangzhou = Region::new("cn-hangzhou").expect("valid");
    let singapore = Region::new("ap-southeast-1").expect("valid");
    let (alice, bob) = (AccountId(1512666876910001), AccountId(1512666876910002));
    let trail = TrailName::new("trail-name").expect("valid");
    let audit = TrailName::new("audit-trail").expect("valid");
    let spec = |name: &TrailName| TrailSpec {
        name: name.clone(),
        kind: TrailKind::SingleAccount,
        delivers_to_sls: true,
    };
    let create_job = |account, region: &Region, name: &TrailName, token: Option<&str>| {
        Command::CreateJob(CreateJob {
            account,
            region: region.clone(),
            trail_name: name.clone(),
            client_token: token.map(|t| ClientToken::new(t).expect("valid")),
        })
    };

    let first = story
        .cluster
        .run_until_leader(100)
        .expect("a leader is elected");
    println!(
        "round {:>3}: node {} leads (term {})",
        story.cluster.round,
        first + 1,
        story.cluster.nodes[first].term()
    );

    // Phase 1: through the first leader.
    let phase1 = vec![
        Command::CreateTrail {
            account: alice,
            region: hangzhou.clone(),
            spec: spec(&trail),
        },
        Command::StartLogging {
            account: alice,
            region: hangzhou.clone(),
            name: trail.clone(),
        },
        Command::CreateTrail {
            account: bob,
            region: singapore.clone(),
            spec: spec(&audit),
        },
        Command::StartLogging {
            account: bob,
            region: singapore.clone(),
            name: audit.clone(),
        },
        create_job(alice, &hangzhou, &trail, Some("req-alice-1")),
        create_job(alice, &hangzhou, &trail, Some("req-alice-1")),
        create_job(alice, &hangzhou, &trail, None),
        create_job(bob, &singapore, &audit, Some("req-bob-1")),
        Command::StartJob {
            account: alice,
            job: JobId(1),
        },
    ];
    story.run_requests(&phase1);
    assert!(story.cluster.settle(100), "the cluster settles");

    // The leader stops; the others elect a new one.
    story.cluster.crash(first);
    println!(
        "round {:>3}: node {} stops (its log ends at index {})",
        story.cluster.round,
        first + 1,
        story.cluster.nodes[first].disk.last_index()
    );
    let second = story.cluster.run_until_leader(200).expect("a new leader");
    println!(
        "round {:>3}: node {} leads (term {}); its clock reads {}, {} s off node {}'s",
        story.cluster.round,
        second + 1,
        story.cluster.nodes[second].term(),
        story.cluster.local_clock(second),
        CLOCK_SKEW[second] - CLOCK_SKEW[first],
        first + 1,
    );

    // Phase 2, through the new leader. Workers: one claims the next job (alice's), reports on
    // it and finishes it; another claims bob's job and dies.
    let alice_lease = Story::lease(&story.request(&Command::ClaimNext));
    let bob_lease = Story::lease(&story.request(&Command::ClaimJob {
        account: bob,
        job: JobId(2),
    }));
    story.run_requests(&[
        Command::Heartbeat {
            lease: alice_lease,
            delivered: 1_200,
        },
        Command::ReportRegion {
            lease: alice_lease,
            region: hangzhou.clone(),
            status: JobStatus::Delivering,
        },
        Command::ReportRegion {
            lease: alice_lease,
            region: singapore.clone(),
            status: JobStatus::Completed,
        },
        Command::FinishJob {
            lease: alice_lease,
            outcome: JobOutcome::Completed,
        },
    ]);
    // Bob's worker is silent: its lease runs out, and the leader proposes HandleTimeout.
    story.cluster.run(40);
    story.show_timeouts(None);
    let regions: Vec<String> = story.cluster.nodes[second]
        .scheduler
        .job_regions(alice, JobId(1))
        .expect("job 1 exists")
        .map(|(region, status)| format!("{region} {status:?}"))
        .collect();
    println!(
        "round {:>3}: job 1's regions: {}",
        story.cluster.round,
        regions.join(", ")
    );
    // Another worker takes bob's job over; the dead one's lease is fenced off.
    let retry = story.request(&Command::ClaimJob {
        account: bob,
        job: JobId(2),
    });
    Story::lease(&retry);
    story.request(&Command::Heartbeat {
        lease: bob_lease,
        delivered: 10,
    });

    // Enough traffic for the leader to compact its log past node 1's end.
    let mut phase2 = vec![
        create_job(alice, &hangzhou, &trail, Some("req-alice-2")),
        Command::StartJob {
            account: bob,
            job: JobId(2),
        },
        Command::StartJob {
            account: bob,
            job: JobId(1),
        },
    ];
    for round in 0..4u64 {
        let job = JobId(3 + round);
        phase2.push(Command::StartJob {
            account: alice,
            job,
        });
        phase2.push(Command::CompleteJob {
            account: alice,
            job,
            outcome: if round % 2 == 0 {
                JobOutcome::Completed
            } else {
                JobOutcome::Failed
            },
        });
        phase2.push(create_job(alice, &hangzhou, &trail, None));
    }
    story.run_requests(&phase2);
    assert!(story.cluster.settle(100));
    let created = story.cluster.nodes[second]
        .scheduler
        .job(alice, JobId(3))
        .expect("created above");
    println!(
        "round {:>3}: job 3 was created at {} (the scheduler's clock: time never goes back)",
        story.cluster.round, created.created_at
    );
    println!(
        "round {:>3}: node {} compacted its log: it starts at index {} (snapshot at {})",
        story.cluster.round,
        second + 1,
        story.cluster.nodes[second].disk.first_index(),
        story.cluster.nodes[second].disk.snapshot_index()
    );

    // The old leader comes back: it rebuilds its scheduler from its own disk, then is too far
    // behind for the leader's log and gets a Raft snapshot.
    story.cluster.restart(first);
    assert!(story.cluster.settle(200), "the old leader catches up");
    let events: Vec<String> = story.cluster.nodes[first]
        .events
        .iter()
        .skip_while(|event| **event != Event::Crashed)
        .filter(|event| matches!(event, Event::Restarted(_) | Event::RaftSnapshot(_)))
        .map(|event| format!("{event:?}"))
        .collect();
    println!(
        "round {:>3}: node {} is back: {} ; applied {}",
        story.cluster.round,
        first + 1,
        events.join(", "),
        story.cluster.nodes[first].applied
    );

    // Phase 3: a few more, everyone up. Bob cancels his job.
    let phase3 = vec![
        Command::StopJob {
            account: bob,
            job: JobId(2),
        },
        Command::DeleteJob {
            account: bob,
            job: JobId(2),
        },
        Command::StopLogging {
            account: alice,
            region: hangzhou.clone(),
            name: trail.clone(),
        },
        create_job(alice, &hangzhou, &trail, Some("req-alice-2")),
    ];
    story.run_requests(&phase3);
    assert!(story.cluster.settle(100));
    story.show_timeouts(None);

    let cluster = &story.cluster;
    println!(
        "round {:>3}: {} messages sent, {} lost (to a stopped node), {} Raft snapshot(s) delivered",
        cluster.round, cluster.net.sent, cluster.net.lost, cluster.net.snapshots_delivered
    );
    let mut digests = Vec::new();
    for node in &cluster.nodes {
        node.scheduler
            .check_invariants()
            .expect("every replica keeps its invariants");
        let digest = digest(&node.scheduler);
        digests.push(digest);
        println!(
            "node {}: applied {:>3}  clock {}  jobs {}  digest {digest:016x}",
            node.id,
            node.applied,
            node.scheduler.clock(),
            node.scheduler.stats().jobs
        );
    }
    assert!(digests.windows(2).all(|pair| pair[0] == pair[1]));
    println!("all replicas equal: yes");
}
