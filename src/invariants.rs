//! [`InvariantViolation`]: what [`JobScheduler::check_invariants`](crate::JobScheduler::check_invariants)
//! and snapshot loading report when a state breaks SPEC section 6.
//!
//! The scheduler's own transitions never produce such a state; the check exists for tests,
//! fuzzers, and snapshots from storage. Each table checks its own rules (`check` in
//! `trail.rs`, `job_table.rs`, `token.rs`); the scheduler adds the ones that span tables.

use core::fmt;

use crate::ids::{AccountId, JobId};

/// An internal index of the scheduler, named by [`InvariantViolation::IndexMismatch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Index {
    /// Trails in key order.
    TrailOrder,
    /// The hash index of trail keys.
    TrailKeys,
    /// Jobs in id order.
    JobOrder,
    /// The hash index of job ids.
    JobIds,
    /// The finished jobs ordered for eviction.
    FinishedJobs,
    /// The count of active jobs.
    ActiveJobs,
    /// The per-account records (active job, the account's jobs in order).
    Accounts,
    /// The token records and their hash index.
    Tokens,
}

/// A broken invariant (SPEC section 6), with what it concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum InvariantViolation {
    /// Invariant 1: an account has more than one active job.
    SecondActiveJob {
        /// The account.
        account: AccountId,
    },
    /// Invariant 2: a job id is not below the next id to assign.
    JobIdNotBelowNext {
        /// The job.
        job: JobId,
    },
    /// Invariant 2: two jobs share an id (or jobs are not held in id order).
    DuplicateJobId {
        /// The job.
        job: JobId,
    },
    /// Invariant 3: an account has more than `max_trails_per_account` trails in a region.
    TrailLimitExceeded {
        /// The account.
        account: AccountId,
    },
    /// Invariant 3: two trails share a key.
    DuplicateTrail {
        /// The account.
        account: AccountId,
    },
    /// Invariant 4: a token record names a job id not below the next id to assign.
    TokenJobIdNotBelowNext {
        /// The job id the record names.
        job: JobId,
    },
    /// Invariant 4: two token records share a key.
    DuplicateToken {
        /// The account.
        account: AccountId,
    },
    /// Invariant 4: token records are not in non-decreasing `recorded_at` order.
    TokensOutOfOrder,
    /// Invariant 4: the next id to assign is below `first_job_id`.
    NextJobIdBelowFirst,
    /// Invariant 5: an internal index disagrees with its table.
    IndexMismatch(Index),
    /// Invariant 6: a table holds more entries than its capacity.
    OverCapacity,
    /// Invariant 7: a stored time is later than `clock()`.
    TimeAfterClock,
    /// Invariant 7: a job's `window_start` is after its `created_at`.
    WindowStartAfterCreation {
        /// The job.
        job: JobId,
    },
    /// Invariant 7: a job's `updated_at` is before its `created_at`.
    UpdatedBeforeCreation {
        /// The job.
        job: JobId,
    },
    /// Invariant 7: a job has an earlier `created_at` than a job with a smaller id.
    CreatedOutOfOrder {
        /// The job.
        job: JobId,
    },
}

impl fmt::Display for InvariantViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvariantViolation::SecondActiveJob { account } => {
                write!(f, "account {account} has more than one active job")
            }
            InvariantViolation::JobIdNotBelowNext { job } => {
                write!(f, "job {job} is not below the next job id")
            }
            InvariantViolation::DuplicateJobId { job } => {
                write!(f, "job id {job} is duplicated or out of order")
            }
            InvariantViolation::TrailLimitExceeded { account } => {
                write!(f, "account {account} has too many trails in a region")
            }
            InvariantViolation::DuplicateTrail { account } => {
                write!(f, "account {account} has two trails with one key")
            }
            InvariantViolation::TokenJobIdNotBelowNext { job } => {
                write!(
                    f,
                    "a token record names job {job}, not below the next job id"
                )
            }
            InvariantViolation::DuplicateToken { account } => {
                write!(f, "account {account} has two token records with one key")
            }
            InvariantViolation::TokensOutOfOrder => {
                f.write_str("token records are not in recorded_at order")
            }
            InvariantViolation::NextJobIdBelowFirst => {
                f.write_str("the next job id is below first_job_id")
            }
            InvariantViolation::IndexMismatch(index) => {
                write!(f, "the internal index {index:?} disagrees with its table")
            }
            InvariantViolation::OverCapacity => f.write_str("a table exceeds its capacity"),
            InvariantViolation::TimeAfterClock => {
                f.write_str("a stored time is later than the scheduler's clock")
            }
            InvariantViolation::WindowStartAfterCreation { job } => {
                write!(f, "job {job} has window_start after created_at")
            }
            InvariantViolation::UpdatedBeforeCreation { job } => {
                write!(f, "job {job} has updated_at before created_at")
            }
            InvariantViolation::CreatedOutOfOrder { job } => {
                write!(f, "job {job} was created before a job with a smaller id")
            }
        }
    }
}

impl core::error::Error for InvariantViolation {}
