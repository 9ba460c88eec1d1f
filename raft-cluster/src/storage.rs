//! The disk: in-memory Raft storage that survives a node's crash.

use std::cell::RefCell;
use std::rc::Rc;

use raft::prelude::{ConfState, Entry, HardState, Snapshot};
use raft::{GetEntriesContext, RaftState, Storage, StorageError};

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
    pub(crate) fn with_voters(voters: &[u64]) -> Self {
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

    pub(crate) fn append(&self, entries: &[Entry]) {
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

    pub(crate) fn set_hard_state(&self, hard_state: &HardState) {
        self.0.borrow_mut().hard_state = hard_state.clone();
    }

    pub(crate) fn set_commit(&self, commit: u64) {
        self.0.borrow_mut().hard_state.commit = commit;
    }

    /// Replaces the log by a snapshot received from the leader.
    pub(crate) fn apply_snapshot(&self, snapshot: Snapshot) {
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
    pub(crate) fn compact(&self, index: u64, data: Vec<u8>) {
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
