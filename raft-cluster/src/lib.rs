//! Three replicas of one `JobScheduler`, kept in step by tikv's `raft` crate.
//!
//! ```sh
//! cargo run -p trail-backfill-raft-cluster       # the story (src/main.rs)
//! cargo test -p trail-backfill-raft-cluster      # the replication test (tests/replication.rs)
//! ```
//!
//! Each replica is a Raft node (the `raft` crate's sans-IO [`RawNode`](raft::RawNode), as TiKV
//! uses it) over an in-memory "disk" ([`Disk`]: log entries, hard state, latest snapshot) plus
//! its own boxed [`JobScheduler`]. Everything runs in one thread, driven round by round: a round
//! delivers the messages due, ticks every live node, and handles every node's `Ready`. No
//! sleeps, no threads, no wall clock: the run is the same on every machine.
//!
//! What a host must do, and what this crate does:
//!
//! - **Put `now` in the log.** A client request becomes one log entry whose data is
//!   `postcard((Command, Timestamp))`, the timestamp read from the *leader's* clock when it
//!   proposed ([`Cluster::propose`]). Replicas never read their own clock: they apply the
//!   entry's timestamp, so they all compute the same answers (the scheduler also clamps time
//!   that goes back, which happens here on purpose: node 3's clock runs 40 s behind node 1's).
//! - **Put time-driven changes in the log too.** Leases run out and deadlines pass without
//!   any request: the leader proposes [`Command::HandleTimeout`](trail_backfill::Command::HandleTimeout) once its own clock reaches its
//!   scheduler's [`poll_timeout`](JobScheduler::poll_timeout), one at a time
//!   ([`Cluster::step`]), so every replica expires the same leases at the same log index.
//! - **Apply in log order, once.** Committed entries are applied in index order, each once per
//!   process ([`Node`] asserts it); the leader's empty entries only advance the applied index.
//! - **Snapshot and restore.** Every [`Cluster::compact_every`] applied entries a node stores a
//!   Raft snapshot whose data is `postcard((applied_index, scheduler))` and drops the log
//!   before it. A follower that falls behind the leader's first log index receives that
//!   snapshot and loads it in place with [`JobScheduler::restore`]. A node that restarts
//!   rebuilds its scheduler from its own latest snapshot and replays its log from there.
//!
//! The modules, by concept: [`codec`] (the bytes that travel through Raft), [`storage`] (the
//! disk), [`node`] (a replica: Raft node plus scheduler), [`network`] (the simulated network),
//! [`cluster`] (three nodes, a network and a clock), [`describe`](mod@describe) (one-line descriptions for
//! the story). `src/main.rs` tells the story; `tests/replication.rs` drives the same cluster
//! over a lossy, reordering network.

#![warn(missing_docs)]

pub mod cluster;
pub mod codec;
pub mod describe;
pub mod network;
pub mod node;
pub mod storage;

pub use cluster::Cluster;
pub use codec::{
    decode_entry, digest, encode_entry, encode_snapshot, restore_snapshot, snapshot_bytes,
};
pub use describe::{describe, describe_result};
pub use network::{NetStats, Network, XorShift};
pub use node::{Applied, Event, Node, Observed, raft_config};
pub use storage::Disk;

use trail_backfill::{Config, JobScheduler};

/// The replicated state machine: small capacities, boxed.
pub type Scheduler = JobScheduler<16, 32, 32>;

/// Every replica's scheduler config (a snapshot carries it too). The worker settings are short,
/// so that within a run of a few hundred simulated seconds leases run out, jobs are retried
/// after a backoff, and some pass their deadline.
pub const SCHEDULER_CONFIG: Config = Config {
    token_ttl_secs: 600,
    hash_seed: 0x7261_6674_5eed_0001,
    lease_secs: 20,
    max_attempts: 3,
    retry_backoff_secs: 10,
    max_backoff_secs: 40,
    max_job_secs: 400,
    ..Config::DEFAULT
};

/// The Raft ids of the three nodes; `nodes[i]` has id `i + 1`.
pub const NODE_IDS: [u64; 3] = [1, 2, 3];

/// The simulated wall clock at round 0: 2021-05-27T07:15:03Z. A round is one Raft tick, one
/// second of simulated time.
pub const EPOCH: u64 = 1_622_099_703;

/// How far each node's own clock is off (seconds). Only the leader's clock is ever read.
pub const CLOCK_SKEW: [i64; 3] = [0, 15, -40];

/// A fresh boxed scheduler.
pub fn new_scheduler() -> Box<Scheduler> {
    Box::new(Scheduler::new(SCHEDULER_CONFIG))
}
