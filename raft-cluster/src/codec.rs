//! Log entries and snapshots: the bytes that travel through Raft.

use serde::Deserialize as _;
use trail_backfill::{Command, Timestamp};

use crate::Scheduler;

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
