//! [`SnapshotError`]: why a snapshot was refused, as a value, whatever the format.
//!
//! Formats such as postcard drop the message of a custom error ("Serde Deserialization
//! Error"), so [`JobScheduler::restore_typed`](crate::JobScheduler::restore_typed) hands the
//! host this instead.

use core::fmt;

use crate::ids::{AccountId, JobId};
use crate::invariants::InvariantViolation;

/// Which records of a snapshot a [`SnapshotError::OverCapacity`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SnapshotTable {
    /// The trails.
    Trails,
    /// The jobs.
    Jobs,
    /// The token records.
    Tokens,
    /// The region catalogue (at most [`MAX_REGIONS`](crate::MAX_REGIONS)).
    Regions,
}

impl SnapshotTable {
    const fn name(self) -> &'static str {
        match self {
            SnapshotTable::Trails => "trails",
            SnapshotTable::Jobs => "jobs",
            SnapshotTable::Tokens => "token records",
            SnapshotTable::Regions => "regions",
        }
    }
}

/// Why a snapshot was refused. A refused snapshot leaves the scheduler empty (its next job id
/// kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SnapshotError {
    /// The format itself refused the input while reading `field`: malformed or truncated
    /// bytes, a value of the wrong type, a name that breaks its rule (a region, trail name or
    /// client token), or a field missing or repeated. The format's own error says more.
    Malformed {
        /// The snapshot field being read (`"snapshot"` before any).
        field: &'static str,
    },
    /// The snapshot's `format_version` is not one this build reads.
    UnknownVersion(u32),
    /// The snapshot holds more records than the scheduler's capacity.
    OverCapacity {
        /// Which records.
        table: SnapshotTable,
        /// The capacity.
        capacity: usize,
    },
    /// Two trails share a key.
    DuplicateTrail {
        /// The trails' account.
        account: AccountId,
    },
    /// Two jobs share an id.
    DuplicateJob(JobId),
    /// An account has two active jobs.
    SecondActiveJob {
        /// The account.
        account: AccountId,
        /// The second active job, by id.
        job: JobId,
    },
    /// Two token records share a key.
    DuplicateToken {
        /// The records' account.
        account: AccountId,
    },
    /// A job lists one region twice.
    RegionListedTwice(JobId),
    /// The loaded state breaks an invariant.
    Invariant(InvariantViolation),
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotError::Malformed { field } => {
                write!(f, "the snapshot is malformed (reading {field})")
            }
            SnapshotError::UnknownVersion(version) => write!(
                f,
                "unknown snapshot format_version {version}: this build reads versions 1 to {}",
                super::SNAPSHOT_FORMAT_VERSION
            ),
            SnapshotError::OverCapacity { table, capacity } => write!(
                f,
                "the snapshot holds more {} than this scheduler's capacity of {capacity}",
                table.name()
            ),
            SnapshotError::DuplicateTrail { account } => write!(
                f,
                "snapshot breaks an invariant: a trail of account {account} is listed twice"
            ),
            SnapshotError::DuplicateJob(job) => {
                write!(f, "snapshot breaks an invariant: job {job} is listed twice")
            }
            SnapshotError::SecondActiveJob { account, job } => write!(
                f,
                "snapshot breaks an invariant: job {job} is a second active job of account {account}"
            ),
            SnapshotError::DuplicateToken { account } => write!(
                f,
                "snapshot breaks an invariant: a token record of account {account} is listed twice"
            ),
            SnapshotError::RegionListedTwice(job) => {
                write!(f, "job {job} lists a region twice")
            }
            SnapshotError::Invariant(violation) => {
                write!(f, "snapshot breaks an invariant: {violation}")
            }
        }
    }
}

impl core::error::Error for SnapshotError {}
