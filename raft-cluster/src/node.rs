//! A replica: a Raft node plus its scheduler.

use std::collections::{BTreeMap, BTreeSet};

use raft::prelude::{Entry, EntryType, Message, Snapshot};
use raft::{RawNode, StateRole};
use trail_backfill::{Command, Effect, Error, Timestamp};

use crate::codec::{decode_entry, encode_snapshot, restore_snapshot};
use crate::storage::Disk;
use crate::{NODE_IDS, Scheduler, new_scheduler};
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
    /// Durable: survives [`Cluster::crash`](crate::Cluster::crash).
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
    pub(crate) fn new(id: u64) -> Self {
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

    pub(crate) fn crash(&mut self) {
        self.raft = None;
        self.scheduler = new_scheduler();
        self.applied = 0;
        self.events.push(Event::Crashed);
    }

    pub(crate) fn restart(&mut self) {
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
    pub(crate) fn handle_ready(
        &mut self,
        observed: &mut Observed,
        compact_every: u64,
    ) -> Vec<Message> {
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
    pub(crate) fn observe(&mut self, applied: &Applied) {
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
