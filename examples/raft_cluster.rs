//! Three replicas of one `JobScheduler`, kept in step by tikv's `raft` crate.
//!
//! ```sh
//! cargo run --example raft_cluster
//! ```
//!
//! Each replica is a Raft node (the `raft` crate's sans-IO [`RawNode`], as TiKV uses it) over
//! an in-memory "disk" ([`Disk`]: log entries, hard state, latest snapshot) plus its own boxed
//! [`JobScheduler`]. Everything runs in one thread, driven round by round: a round delivers the
//! messages due, ticks every live node, and handles every node's `Ready`. No sleeps, no
//! threads, no wall clock: the run is the same on every machine.
//!
//! What a host must do, and what this file does:
//!
//! - **Put `now` in the log.** A client request becomes one log entry whose data is
//!   `postcard((Command, Timestamp))`, the timestamp read from the *leader's* clock when it
//!   proposed ([`Cluster::propose`]). Replicas never read their own clock: they apply the entry's
//!   timestamp, so they all compute the same answers (the scheduler also clamps time that goes
//!   back, which happens here on purpose: node 3's clock runs 40 s behind node 1's).
//! - **Apply in log order, once.** Committed entries are applied in index order, each once per
//!   process ([`Node`] asserts it); the leader's empty entries only advance the applied index.
//! - **Snapshot and restore.** Every [`Cluster::compact_every`] applied entries a node stores a
//!   Raft snapshot whose data is `postcard((applied_index, scheduler))` and drops the log
//!   before it. A follower that falls behind the leader's first log index receives that
//!   snapshot and loads it in place with [`JobScheduler::restore`]. A node that restarts
//!   rebuilds its scheduler from its own latest snapshot and replays its log from there.
//!
//! `tests/raft_replication.rs` includes this file as a module and drives the same cluster over
//! a lossy, reordering network.

// This file is also a module of `tests/raft_replication.rs`; each side uses part of it.
#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::rc::Rc;

use raft::prelude::{ConfState, Entry, EntryType, HardState, Message, MessageType, Snapshot};
use raft::{
    GetEntriesContext, RaftState, RawNode, SnapshotStatus, StateRole, Storage, StorageError,
};
use serde::Deserialize as _;
use trail_backfill::{
    AccountId, ClientToken, Command, CreateJob, Effect, Error, JobId, JobOutcome, JobScheduler,
    Region, Timestamp, TrailKind, TrailName, TrailSpec,
};

/// The replicated state machine: small capacities, boxed.
pub type Scheduler = JobScheduler<16, 32, 32>;

/// Every replica's scheduler config (a snapshot carries it too).
pub const SCHEDULER_CONFIG: trail_backfill::Config = trail_backfill::Config {
    token_ttl_secs: 600,
    hash_seed: 0x7261_6674_5eed_0001,
    ..trail_backfill::Config::DEFAULT
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

// ---------------------------------------------------------------------------------------------
// Log entries and snapshots: the bytes that travel through Raft.

/// A log entry's data: the command and the leader's timestamp.
pub fn encode_entry(command: &Command, at: Timestamp) -> Vec<u8> {
    postcard::to_allocvec(&(command, at)).expect("a Command always serializes")
}

/// The inverse of [`encode_entry`].
pub fn decode_entry(data: &[u8]) -> Result<(Command, Timestamp), postcard::Error> {
    postcard::from_bytes(data)
}

/// A Raft snapshot's data: the applied index it was taken at, then the scheduler's canonical
/// postcard snapshot.
pub fn encode_snapshot(applied: u64, scheduler: &Scheduler) -> Vec<u8> {
    postcard::to_allocvec(&(applied, scheduler)).expect("a scheduler always serializes")
}

/// Loads [`encode_snapshot`] bytes into `scheduler` in place; returns the applied index.
pub fn restore_snapshot(data: &[u8], scheduler: &mut Scheduler) -> Result<u64, postcard::Error> {
    let mut deserializer = postcard::Deserializer::from_bytes(data);
    let applied = u64::deserialize(&mut deserializer)?;
    scheduler.restore(&mut deserializer)?;
    if deserializer.finalize()?.is_empty() {
        Ok(applied)
    } else {
        Err(postcard::Error::DeserializeBadEncoding)
    }
}

/// The scheduler's postcard snapshot (what "byte-identical" compares).
pub fn snapshot_bytes(scheduler: &Scheduler) -> Vec<u8> {
    postcard::to_allocvec(scheduler).expect("a scheduler always serializes")
}

/// FNV-1a (64 bit) of the scheduler's postcard snapshot: a digest that is the same on every
/// platform and Rust version.
pub fn digest(scheduler: &Scheduler) -> u64 {
    snapshot_bytes(scheduler)
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        })
}

// ---------------------------------------------------------------------------------------------
// The disk: in-memory Raft storage that survives a node's crash.

#[derive(Default)]
struct DiskState {
    hard_state: HardState,
    conf_state: ConfState,
    /// The latest snapshot (metadata and data); entries follow its index.
    snapshot: Snapshot,
    /// Entries `snapshot index + 1 ..= last_index`.
    entries: Vec<Entry>,
}

impl DiskState {
    fn snapshot_index(&self) -> u64 {
        self.snapshot.get_metadata().index
    }

    fn first_index(&self) -> u64 {
        self.snapshot_index() + 1
    }

    fn last_index(&self) -> u64 {
        self.snapshot_index() + self.entries.len() as u64
    }

    fn term(&self, index: u64) -> raft::Result<u64> {
        if index == self.snapshot_index() {
            return Ok(self.snapshot.get_metadata().term);
        }
        if index < self.first_index() {
            return Err(raft::Error::Store(StorageError::Compacted));
        }
        match self.entries.get((index - self.first_index()) as usize) {
            Some(entry) => Ok(entry.term),
            None => Err(raft::Error::Store(StorageError::Unavailable)),
        }
    }
}

/// A node's durable storage: the Raft log, hard state and latest snapshot. It is shared (an
/// `Rc`) between the node's `RawNode` and the host code that persists each `Ready`, and it is
/// what survives a crash.
#[derive(Clone, Default)]
pub struct Disk(Rc<RefCell<DiskState>>);

impl Disk {
    fn with_voters(voters: &[u64]) -> Self {
        let disk = Disk::default();
        disk.0.borrow_mut().conf_state = ConfState {
            voters: voters.to_vec(),
            ..ConfState::default()
        };
        disk
    }

    /// The index of the latest snapshot (0 before the first).
    pub fn snapshot_index(&self) -> u64 {
        self.0.borrow().snapshot_index()
    }

    /// The first index still held in the log.
    pub fn first_index(&self) -> u64 {
        self.0.borrow().first_index()
    }

    /// The last index in the log.
    pub fn last_index(&self) -> u64 {
        self.0.borrow().last_index()
    }

    /// The latest snapshot's data.
    pub fn snapshot_data(&self) -> Vec<u8> {
        self.0.borrow().snapshot.data.to_vec()
    }

    fn append(&self, entries: &[Entry]) {
        let Some(first) = entries.first() else {
            return;
        };
        let mut disk = self.0.borrow_mut();
        assert!(
            first.index >= disk.first_index() && first.index <= disk.last_index() + 1,
            "appending at {} to a log holding {}..={}",
            first.index,
            disk.first_index(),
            disk.last_index()
        );
        // Entries from `first.index` on are replaced (a new leader overwrote them).
        let keep = (first.index - disk.first_index()) as usize;
        disk.entries.truncate(keep);
        disk.entries.extend_from_slice(entries);
    }

    fn set_hard_state(&self, hard_state: &HardState) {
        self.0.borrow_mut().hard_state = hard_state.clone();
    }

    fn set_commit(&self, commit: u64) {
        self.0.borrow_mut().hard_state.commit = commit;
    }

    /// Replaces the log by a snapshot received from the leader.
    fn apply_snapshot(&self, snapshot: Snapshot) {
        let mut disk = self.0.borrow_mut();
        let meta = snapshot.get_metadata();
        assert!(
            meta.index > disk.snapshot_index(),
            "stale snapshot {} over {}",
            meta.index,
            disk.snapshot_index()
        );
        disk.hard_state.term = disk.hard_state.term.max(meta.term);
        disk.hard_state.commit = disk.hard_state.commit.max(meta.index);
        disk.conf_state = meta.get_conf_state().clone();
        disk.entries.clear();
        disk.snapshot = snapshot;
    }

    /// Stores a snapshot of the state at `index` (already applied) and drops the log up to it.
    fn compact(&self, index: u64, data: Vec<u8>) {
        let mut disk = self.0.borrow_mut();
        assert!(index > disk.snapshot_index() && index <= disk.last_index());
        let term = disk.term(index).expect("the entry is in the log");
        let dropped = (index - disk.snapshot_index()) as usize;
        disk.entries.drain(..dropped);
        let conf_state = disk.conf_state.clone();
        let meta = disk.snapshot.mut_metadata();
        meta.index = index;
        meta.term = term;
        meta.set_conf_state(conf_state);
        disk.snapshot.data = data.into();
    }
}

impl Storage for Disk {
    fn initial_state(&self) -> raft::Result<RaftState> {
        let disk = self.0.borrow();
        Ok(RaftState::new(
            disk.hard_state.clone(),
            disk.conf_state.clone(),
        ))
    }

    fn entries(
        &self,
        low: u64,
        high: u64,
        max_size: impl Into<Option<u64>>,
        _context: GetEntriesContext,
    ) -> raft::Result<Vec<Entry>> {
        let disk = self.0.borrow();
        if low < disk.first_index() {
            return Err(raft::Error::Store(StorageError::Compacted));
        }
        if high > disk.last_index() + 1 {
            return Err(raft::Error::Store(StorageError::Unavailable));
        }
        let first = disk.first_index();
        let mut entries = disk.entries[(low - first) as usize..(high - first) as usize].to_vec();
        raft::util::limit_size(&mut entries, max_size.into());
        Ok(entries)
    }

    fn term(&self, index: u64) -> raft::Result<u64> {
        self.0.borrow().term(index)
    }

    fn first_index(&self) -> raft::Result<u64> {
        Ok(self.0.borrow().first_index())
    }

    fn last_index(&self) -> raft::Result<u64> {
        Ok(self.0.borrow().last_index())
    }

    /// The latest stored snapshot: its data is the scheduler at that index.
    fn snapshot(&self, request_index: u64, _to: u64) -> raft::Result<Snapshot> {
        let disk = self.0.borrow();
        if disk.snapshot_index() == 0 || disk.snapshot_index() < request_index {
            return Err(raft::Error::Store(
                StorageError::SnapshotTemporarilyUnavailable,
            ));
        }
        Ok(disk.snapshot.clone())
    }
}

// ---------------------------------------------------------------------------------------------
// A replica: a Raft node plus its scheduler.

/// One command as a replica applied it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The log index.
    pub index: u64,
    /// The term of the entry.
    pub term: u64,
    /// The request id the proposer put in the entry's context.
    pub request: u64,
    /// The command and the leader's timestamp, decoded from the entry.
    pub command: Command,
    /// The time the leader chose.
    pub at: Timestamp,
    /// What the scheduler answered.
    pub result: Result<Effect, Error>,
}

/// What happened to a node's state machine, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Applied log entry `index` (a command, or an empty entry of a new leader).
    Applied(u64),
    /// Loaded a Raft snapshot from the leader, taken at `index`, into the running scheduler.
    RaftSnapshot(u64),
    /// Compacted its own log: stored a snapshot at `index`.
    Compacted(u64),
    /// Crashed: the scheduler (memory) is gone, the disk stays.
    Crashed,
    /// Restarted from its disk: scheduler rebuilt from its own snapshot at `index` (0: none).
    Restarted(u64),
}

/// One replica.
pub struct Node {
    /// The Raft id.
    pub id: u64,
    /// Durable: survives [`Cluster::crash`].
    pub disk: Disk,
    /// `None` while crashed.
    pub raft: Option<RawNode<Disk>>,
    /// The state machine (memory: lost in a crash, rebuilt on restart).
    pub scheduler: Box<Scheduler>,
    /// The last log index reflected in `scheduler`.
    pub applied: u64,
    /// Everything that happened to the state machine, in order.
    pub events: Vec<Event>,
    /// Every command this node applied, by index (a replay after a restart must match).
    pub records: BTreeMap<u64, Applied>,
}

/// The Raft configuration of node `id`. Election timeouts differ per node and are not
/// randomized (the range holds one value), so elections are deterministic; pre-vote and
/// check-quorum are on, as in TiKV.
pub fn raft_config(id: u64, applied: u64) -> raft::Config {
    let election_tick = 10 + 4 * (id as usize - 1);
    raft::Config {
        id,
        election_tick,
        min_election_tick: election_tick,
        max_election_tick: election_tick + 1,
        heartbeat_tick: 3,
        applied,
        check_quorum: true,
        pre_vote: true,
        max_size_per_msg: 16 * 1024,
        max_inflight_msgs: 16,
        ..raft::Config::default()
    }
}

fn logger() -> slog::Logger {
    slog::Logger::root(slog::Discard, slog::o!())
}

impl Node {
    fn new(id: u64) -> Self {
        let disk = Disk::with_voters(&NODE_IDS);
        let raft = RawNode::new(&raft_config(id, 0), disk.clone(), &logger())
            .expect("a valid raft config");
        Node {
            id,
            disk,
            raft: Some(raft),
            scheduler: new_scheduler(),
            applied: 0,
            events: Vec::new(),
            records: BTreeMap::new(),
        }
    }

    /// Whether the node is running.
    pub fn is_up(&self) -> bool {
        self.raft.is_some()
    }

    /// Whether the node is up and believes it leads.
    pub fn is_leader(&self) -> bool {
        self.raft
            .as_ref()
            .is_some_and(|raft| raft.raft.state == StateRole::Leader)
    }

    /// The node's current term (0 while down).
    pub fn term(&self) -> u64 {
        self.raft.as_ref().map_or(0, |raft| raft.raft.term)
    }

    /// The node's commit index (0 while down).
    pub fn commit(&self) -> u64 {
        self.raft
            .as_ref()
            .map_or(0, |raft| raft.raft.raft_log.committed)
    }

    fn crash(&mut self) {
        self.raft = None;
        self.scheduler = new_scheduler();
        self.applied = 0;
        self.events.push(Event::Crashed);
    }

    fn restart(&mut self) {
        assert!(!self.is_up(), "node {} is running", self.id);
        let from = self.disk.snapshot_index();
        if from > 0 {
            let applied = restore_snapshot(&self.disk.snapshot_data(), &mut self.scheduler)
                .expect("the node's own snapshot loads");
            assert_eq!(applied, from);
        }
        self.applied = from;
        self.events.push(Event::Restarted(from));
        // Raft hands out the committed entries after `from` again: they are replayed.
        let raft = RawNode::new(&raft_config(self.id, from), self.disk.clone(), &logger())
            .expect("a valid raft config");
        self.raft = Some(raft);
    }

    /// Applies one committed entry to the scheduler.
    fn apply_entry(&mut self, entry: &Entry, observed: &mut Observed) {
        assert_eq!(
            entry.index,
            self.applied + 1,
            "node {}: entries must be applied in log order, each once",
            self.id
        );
        assert_eq!(
            entry.get_entry_type(),
            EntryType::EntryNormal,
            "this cluster has fixed membership"
        );
        self.applied = entry.index;
        self.events.push(Event::Applied(entry.index));
        if entry.data.is_empty() {
            observed.empty.insert(entry.index); // the empty entry a new leader appends
            return;
        }
        let (command, at) = decode_entry(&entry.data).expect("entries are written by propose");
        let request = u64::from_le_bytes(
            entry.context[..]
                .try_into()
                .expect("propose puts the request id in the context"),
        );
        let result = self.scheduler.apply(&command, at);
        let applied = Applied {
            index: entry.index,
            term: entry.term,
            request,
            command,
            at,
            result,
        };
        if let Some(earlier) = self.records.get(&entry.index) {
            assert_eq!(earlier, &applied, "node {}: a replay differs", self.id);
        }
        observed.observe(&applied);
        self.records.insert(entry.index, applied);
    }

    /// Loads a snapshot from the leader into the running scheduler, in place.
    fn apply_raft_snapshot(&mut self, snapshot: &Snapshot) {
        let index = snapshot.get_metadata().index;
        assert!(index > self.applied, "node {}: stale snapshot", self.id);
        let applied = restore_snapshot(&snapshot.data, &mut self.scheduler)
            .expect("a snapshot from the leader loads");
        assert_eq!(applied, index, "the data says which index it was taken at");
        self.disk.apply_snapshot(snapshot.clone());
        self.applied = index;
        self.events.push(Event::RaftSnapshot(index));
    }

    /// Handles every pending `Ready` (persist, apply, send), then compacts the log if it grew
    /// past `compact_every` applied entries. Returns the messages to send.
    fn handle_ready(&mut self, observed: &mut Observed, compact_every: u64) -> Vec<Message> {
        let mut outbox = Vec::new();
        let Some(mut raft) = self.raft.take() else {
            return outbox;
        };
        while raft.has_ready() {
            let mut ready = raft.ready();
            // A leader may send before it persists.
            outbox.extend(ready.take_messages());
            if !ready.snapshot().is_empty() {
                self.apply_raft_snapshot(ready.snapshot());
            }
            for entry in ready.take_committed_entries() {
                self.apply_entry(&entry, observed);
            }
            self.disk.append(ready.entries());
            if let Some(hard_state) = ready.hs() {
                self.disk.set_hard_state(hard_state);
            }
            // These go out only once the entries and hard state are persisted.
            outbox.extend(ready.take_persisted_messages());
            let mut light = raft.advance(ready);
            if let Some(commit) = light.commit_index() {
                self.disk.set_commit(commit);
            }
            outbox.extend(light.take_messages());
            for entry in light.take_committed_entries() {
                self.apply_entry(&entry, observed);
            }
            raft.advance_apply();
        }
        self.raft = Some(raft);
        if self.applied >= self.disk.snapshot_index() + compact_every.max(1) {
            self.disk
                .compact(self.applied, encode_snapshot(self.applied, &self.scheduler));
            self.events.push(Event::Compacted(self.applied));
        }
        outbox
    }
}

/// What any replica applied, by index: the first replica to apply an index records it, every
/// later one must agree (same request, command, time and result).
#[derive(Debug, Default)]
pub struct Observed {
    /// By log index.
    pub by_index: BTreeMap<u64, Applied>,
    /// Log index by request id.
    pub by_request: BTreeMap<u64, u64>,
    /// The indexes of empty entries (each new leader appends one).
    pub empty: BTreeSet<u64>,
}

impl Observed {
    fn observe(&mut self, applied: &Applied) {
        match self.by_index.get(&applied.index) {
            Some(first) => assert_eq!(first, applied, "replicas disagree at {}", applied.index),
            None => {
                let again = self.by_request.insert(applied.request, applied.index);
                assert_eq!(again, None, "request {} committed twice", applied.request);
                self.by_index.insert(applied.index, applied.clone());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The network and the cluster.

/// A small xorshift64* generator: seeded, deterministic, no dependency.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator from any seed (0 included).
    pub fn new(seed: u64) -> Self {
        // splitmix64 of the seed: nearby seeds give unrelated streams (never the zero state).
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        XorShift((z ^ (z >> 31)) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..bound` (`bound > 0`).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }

    /// True with probability `percent` / 100.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// How the simulated network treats each message: dropped when it leaves or reaches an
/// isolated node, or with `drop_percent` probability, otherwise delivered `1..=max_delay`
/// rounds later (different delays reorder messages).
#[derive(Debug, Clone)]
pub struct Network {
    /// The seeded schedule.
    pub rng: XorShift,
    /// Percent of messages lost.
    pub drop_percent: u64,
    /// Longest delay, in rounds (at least 1).
    pub max_delay: u64,
    /// Raft ids of nodes cut off from the others (a partition).
    pub isolated: Vec<u64>,
}

impl Network {
    /// Every message arrives, one round later, in order.
    pub fn reliable() -> Self {
        Network {
            rng: XorShift::new(0),
            drop_percent: 0,
            max_delay: 1,
            isolated: Vec::new(),
        }
    }

    /// Drops, delays and reorders messages by a seeded schedule.
    pub fn lossy(seed: u64, drop_percent: u64, max_delay: u64) -> Self {
        Network {
            rng: XorShift::new(seed),
            drop_percent,
            max_delay: max_delay.max(1),
            isolated: Vec::new(),
        }
    }

    /// `None`: dropped; `Some(rounds)`: delivered that many rounds from now.
    fn schedule(&mut self, message: &Message) -> Option<u64> {
        if self.isolated.contains(&message.from) || self.isolated.contains(&message.to) {
            return None;
        }
        if self.drop_percent > 0 && self.rng.percent(self.drop_percent) {
            return None;
        }
        Some(1 + self.rng.below(self.max_delay.max(1)))
    }
}

struct InFlight {
    due: u64,
    seq: u64,
    message: Message,
}

/// Counters of the simulated network.
#[derive(Debug, Default, Clone, Copy)]
pub struct NetStats {
    /// Messages handed to the network.
    pub sent: u64,
    /// Messages lost (dropped, or sent to a node that was down on arrival).
    pub lost: u64,
    /// Raft snapshots delivered.
    pub snapshots_delivered: u64,
    /// Messages delivered after a message that was sent later on the same link.
    pub reordered: u64,
}

/// Three replicas, a network, and a clock.
pub struct Cluster {
    /// `nodes[i]` has Raft id `i + 1`.
    pub nodes: Vec<Node>,
    /// Rounds run so far (one Raft tick each, one second of simulated time).
    pub round: u64,
    /// The network's fault schedule (may be changed between rounds).
    pub network: Network,
    /// A node snapshots its scheduler and compacts its log every this many applied entries.
    pub compact_every: u64,
    /// What was applied, cluster-wide.
    pub observed: Observed,
    /// Network counters.
    pub net: NetStats,
    in_flight: Vec<InFlight>,
    seq: u64,
    /// The highest `seq` delivered per link (from, to).
    delivered_seq: BTreeMap<(u64, u64), u64>,
    next_request: u64,
}

impl Cluster {
    /// Three fresh nodes, all voters, over `network`.
    pub fn new(network: Network, compact_every: u64) -> Self {
        Cluster {
            nodes: NODE_IDS.iter().map(|&id| Node::new(id)).collect(),
            round: 0,
            network,
            compact_every,
            observed: Observed::default(),
            net: NetStats::default(),
            in_flight: Vec::new(),
            seq: 0,
            delivered_seq: BTreeMap::new(),
            next_request: 1,
        }
    }

    /// Node `i`'s own clock (only ever read when node `i` leads and proposes).
    pub fn local_clock(&self, i: usize) -> Timestamp {
        let secs = EPOCH as i64 + self.round as i64 + CLOCK_SKEW[i];
        Timestamp(secs as u64)
    }

    /// The node that leads: up, in the leader role, with the highest term (a deposed leader
    /// cut off from the others may still believe it leads).
    pub fn leader(&self) -> Option<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].is_leader())
            .max_by_key(|&i| self.nodes[i].term())
    }

    /// One round: deliver the messages due, tick every live node, handle every `Ready`.
    pub fn step(&mut self) {
        self.round += 1;
        let round = self.round;
        let (mut due, later): (Vec<_>, Vec<_>) =
            self.in_flight.drain(..).partition(|m| m.due <= round);
        self.in_flight = later;
        due.sort_by_key(|m| (m.due, m.seq));
        for InFlight { seq, message, .. } in due {
            let link = self
                .delivered_seq
                .entry((message.from, message.to))
                .or_default();
            if *link > seq {
                self.net.reordered += 1;
            }
            *link = (*link).max(seq);
            self.deliver(message);
        }
        for node in &mut self.nodes {
            if let Some(raft) = node.raft.as_mut() {
                raft.tick();
            }
        }
        self.pump();
    }

    /// Runs `rounds` rounds.
    pub fn run(&mut self, rounds: u64) {
        for _ in 0..rounds {
            self.step();
        }
    }

    /// Runs until some node leads (at most `max_rounds`); returns it.
    pub fn run_until_leader(&mut self, max_rounds: u64) -> Option<usize> {
        for _ in 0..max_rounds {
            if let Some(leader) = self.leader() {
                return Some(leader);
            }
            self.step();
        }
        self.leader()
    }

    /// Runs until a leader has committed its whole log and every live node has applied it
    /// (at most `max_rounds`). Returns whether it got there.
    pub fn settle(&mut self, max_rounds: u64) -> bool {
        for _ in 0..=max_rounds {
            if self.is_settled() {
                return true;
            }
            self.step();
        }
        false
    }

    fn is_settled(&self) -> bool {
        let Some(leader) = self.leader() else {
            return false;
        };
        let raft = self.nodes[leader].raft.as_ref().expect("the leader is up");
        let last = raft.raft.raft_log.last_index();
        raft.raft.raft_log.committed == last
            && self
                .nodes
                .iter()
                .filter(|node| node.is_up())
                .all(|node| node.applied == last && node.commit() == last)
    }

    /// Client request: the leader stamps `command` with its own clock and proposes
    /// `(command, time)`. Returns the request id, or `None` when no node leads or the leader
    /// refused the proposal.
    pub fn propose(&mut self, command: &Command) -> Option<u64> {
        let leader = self.leader()?;
        let at = self.local_clock(leader);
        let request = self.next_request;
        let raft = self.nodes[leader].raft.as_mut()?;
        raft.propose(request.to_le_bytes().to_vec(), encode_entry(command, at))
            .ok()?;
        self.next_request += 1;
        self.pump();
        Some(request)
    }

    /// The answer to a request, once some replica applied it.
    pub fn answer(&self, request: u64) -> Option<&Applied> {
        let index = self.observed.by_request.get(&request)?;
        self.observed.by_index.get(index)
    }

    /// Proposes `command` and runs until it is applied (at most `max_rounds`, proposing again
    /// only if the proposal was refused before it entered the log).
    pub fn request(&mut self, command: &Command, max_rounds: u64) -> Option<Applied> {
        let mut request = None;
        for _ in 0..max_rounds {
            if request.is_none() {
                request = self.propose(command);
            }
            if let Some(answer) = request.and_then(|request| self.answer(request)) {
                return Some(answer.clone());
            }
            self.step();
        }
        None
    }

    /// Stops node `i`: its memory (the Raft node and the scheduler) is gone, its disk stays.
    pub fn crash(&mut self, i: usize) {
        self.nodes[i].crash();
    }

    /// Restarts node `i` from its disk.
    pub fn restart(&mut self, i: usize) {
        self.nodes[i].restart();
        self.pump();
    }

    fn deliver(&mut self, message: Message) {
        let from = message.from as usize - 1;
        let is_snapshot = message.get_msg_type() == MessageType::MsgSnapshot;
        let to = message.to as usize - 1;
        let delivered = match self.nodes[to].raft.as_mut() {
            Some(raft) => {
                // Errors (a message for an unknown peer, say) are Raft's to ignore.
                let _ = raft.step(message);
                true
            }
            None => false,
        };
        if delivered && is_snapshot {
            self.net.snapshots_delivered += 1;
        }
        if !delivered {
            self.net.lost += 1;
        }
        if is_snapshot {
            self.report_snapshot(from, to, delivered);
        }
    }

    /// A leader must hear how a snapshot it sent fared, or it waits for it forever.
    fn report_snapshot(&mut self, from: usize, to: usize, delivered: bool) {
        if let Some(raft) = self.nodes[from].raft.as_mut() {
            let status = if delivered {
                SnapshotStatus::Finish
            } else {
                SnapshotStatus::Failure
            };
            raft.report_snapshot(to as u64 + 1, status);
        }
    }

    /// Handles every node's `Ready` until none is left, sending what they produce.
    fn pump(&mut self) {
        loop {
            let mut outbox = Vec::new();
            for node in &mut self.nodes {
                outbox.extend(node.handle_ready(&mut self.observed, self.compact_every));
            }
            if outbox.is_empty() {
                return;
            }
            for message in outbox {
                self.send(message);
            }
        }
    }

    fn send(&mut self, message: Message) {
        self.net.sent += 1;
        match self.network.schedule(&message) {
            Some(delay) => {
                self.seq += 1;
                self.in_flight.push(InFlight {
                    due: self.round + delay,
                    seq: self.seq,
                    message,
                });
            }
            None => {
                self.net.lost += 1;
                if message.get_msg_type() == MessageType::MsgSnapshot {
                    let (from, to) = (message.from as usize - 1, message.to as usize - 1);
                    self.report_snapshot(from, to, false);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The example's story.

/// One line describing a command.
pub fn describe(command: &Command) -> String {
    match command {
        Command::CreateTrail {
            account,
            region,
            spec,
        } => format!("CreateTrail {} {} {}", account.0, region, spec.name),
        Command::DeleteTrail {
            account,
            region,
            name,
        } => format!("DeleteTrail {} {} {}", account.0, region, name),
        Command::StartLogging {
            account,
            region,
            name,
        } => format!("StartLogging {} {} {}", account.0, region, name),
        Command::StopLogging {
            account,
            region,
            name,
        } => format!("StopLogging {} {} {}", account.0, region, name),
        Command::CreateJob(request) => {
            let mut line = format!(
                "CreateJob {} {} {}",
                request.account.0, request.region, request.trail_name
            );
            if let Some(token) = &request.client_token {
                let _ = write!(line, " token={token}");
            }
            line
        }
        Command::StartJob { account, job } => format!("StartJob {} job {}", account.0, job.0),
        Command::CompleteJob {
            account,
            job,
            outcome,
        } => format!("CompleteJob {} job {} {:?}", account.0, job.0, outcome),
        Command::DeleteJob { account, job } => format!("DeleteJob {} job {}", account.0, job.0),
        other => format!("{other:?}"),
    }
}

/// One line describing an answer.
pub fn describe_result(result: &Result<Effect, Error>) -> String {
    match result {
        Ok(Effect::JobCreated(created)) if created.replayed => {
            format!("200 JobId {} (replayed)", created.job_id.0)
        }
        Ok(Effect::JobCreated(created)) => format!("200 JobId {}", created.job_id.0),
        Ok(Effect::JobDeleted(job)) => format!("200 deleted job {}", job.id.0),
        Ok(effect) => format!("200 {effect:?}"),
        Err(error) => format!("{} {}", error.http_status(), error.code()),
    }
}

fn main() {
    let mut cluster = Cluster::new(Network::reliable(), 8);
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

    let first = cluster.run_until_leader(100).expect("a leader is elected");
    println!(
        "round {:>3}: node {} leads (term {})",
        cluster.round,
        first + 1,
        cluster.nodes[first].term()
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
    run_requests(&mut cluster, &phase1);
    assert!(cluster.settle(100), "the cluster settles");

    // The leader stops; the others elect a new one.
    cluster.crash(first);
    println!(
        "round {:>3}: node {} stops (its log ends at index {})",
        cluster.round,
        first + 1,
        cluster.nodes[first].disk.last_index()
    );
    let second = cluster.run_until_leader(200).expect("a new leader");
    println!(
        "round {:>3}: node {} leads (term {}); its clock reads {}, {} s off node {}'s",
        cluster.round,
        second + 1,
        cluster.nodes[second].term(),
        cluster.local_clock(second),
        CLOCK_SKEW[second] - CLOCK_SKEW[first],
        first + 1,
    );

    // Phase 2: through the new leader, enough for it to compact its log past node 1's end.
    let mut phase2 = vec![
        Command::CompleteJob {
            account: alice,
            job: JobId(1),
            outcome: JobOutcome::Completed,
        },
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
    run_requests(&mut cluster, &phase2);
    assert!(cluster.settle(100));
    let created = cluster.nodes[second]
        .scheduler
        .job(alice, JobId(3))
        .expect("created above");
    println!(
        "round {:>3}: job 3 was created at {} (the scheduler's clock: time never goes back)",
        cluster.round, created.created_at
    );
    println!(
        "round {:>3}: node {} compacted its log: it starts at index {} (snapshot at {})",
        cluster.round,
        second + 1,
        cluster.nodes[second].disk.first_index(),
        cluster.nodes[second].disk.snapshot_index()
    );

    // The old leader comes back: it rebuilds its scheduler from its own disk, then is too far
    // behind for the leader's log and gets a Raft snapshot.
    cluster.restart(first);
    assert!(cluster.settle(200), "the old leader catches up");
    let events: Vec<String> = cluster.nodes[first]
        .events
        .iter()
        .skip_while(|event| **event != Event::Crashed)
        .filter(|event| matches!(event, Event::Restarted(_) | Event::RaftSnapshot(_)))
        .map(|event| format!("{event:?}"))
        .collect();
    println!(
        "round {:>3}: node {} is back: {} ; applied {}",
        cluster.round,
        first + 1,
        events.join(", "),
        cluster.nodes[first].applied
    );

    // Phase 3: a few more, everyone up.
    let phase3 = vec![
        Command::CompleteJob {
            account: bob,
            job: JobId(2),
            outcome: JobOutcome::Completed,
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
    run_requests(&mut cluster, &phase3);
    assert!(cluster.settle(100));

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

fn run_requests(cluster: &mut Cluster, commands: &[Command]) {
    for command in commands {
        let answer = cluster
            .request(command, 100)
            .expect("the request is committed");
        let leader = cluster.leader().map_or(0, |i| i + 1);
        println!(
            "round {:>3}: index {:>2}  node {leader} at {}  {:<52} -> {}",
            cluster.round,
            answer.index,
            answer.at,
            describe(command),
            describe_result(&answer.result)
        );
    }
}
