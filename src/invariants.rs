//! [`InvariantViolation`]: what [`JobScheduler::check_invariants`](crate::JobScheduler::check_invariants)
//! and snapshot loading report when a state breaks one of the scheduler's invariants.
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
    /// The worker protocol's queues (claimable jobs, due times) and the count of leased jobs.
    WorkerQueues,
    /// The region catalogue and the jobs' region statuses over it.
    Regions,
}

/// Whether an invariant check verifies the internal indexes (invariant 5) or takes them on
/// trust.
///
/// A snapshot holds no index: a restore builds every one from the tables it has just read,
/// so only the values it read can break a rule, and the indexes can disagree with the tables
/// only through a bug in that build. Verifying them again cost about a third of a restore
/// (each job's id looked up, each account's list walked, each token key found again), so a
/// restore trusts them; [`JobScheduler::check_invariants`](crate::JobScheduler::check_invariants),
/// which tests and fuzzers call after every step (after a restore too), verifies them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Indexes {
    /// Every index, and every stored hash, is checked against the tables.
    Verified,
    /// Just built from the tables by a restore: only the values are checked.
    #[cfg(feature = "serde")]
    Restored,
}

/// A broken invariant, with what it concerns. The scheduler's own transitions never break
/// one; [`JobScheduler::check_invariants`](crate::JobScheduler::check_invariants) and
/// snapshot loading look for them. The variants name the invariant they guard:
///
/// 1. At most one active job per account.
/// 2. Every job id is below the next id to assign, and ids are unique.
/// 3. Per account and region, at most `max_trails_per_account` trails; trail keys are unique.
/// 4. Every token record names a job id below the next id to assign; records are unique per
///    key and held in non-decreasing `recorded_at` order; the next id is at least
///    `first_job_id`.
/// 5. The internal indexes agree with the tables.
/// 6. Sizes never exceed the capacities.
/// 7. No stored time (`created_at`, `updated_at`, `logging_since`, a token's `recorded_at`)
///    is later than the clock (`window_end` may lie up to `grace_secs` ahead);
///    `window_start <= created_at`, `created_at <= updated_at`, `window_start <=
///    window_end`; a larger id never has an earlier `created_at`.
/// 8. A job is leased only while active, with `attempt >= 1` and a lease that ends by its
///    deadline; `attempt <= max(max_attempts, 1)`; a `Failed` job has a failure reason and
///    no other job has one; a finished job has no region still initializing or delivering;
///    at most [`MAX_REGIONS`](crate::MAX_REGIONS) regions are known.
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
    /// Invariant 7: a job's `window_end` is before its `window_start`.
    WindowEndsBeforeStart {
        /// The job.
        job: JobId,
    },
    /// Invariant 8: a job is leased while finished, or with attempt 0, or its lease ends
    /// after its deadline.
    InvalidLease {
        /// The job.
        job: JobId,
    },
    /// Invariant 8: a job's `attempt` exceeds `max(max_attempts, 1)`.
    TooManyAttempts {
        /// The job.
        job: JobId,
    },
    /// Invariant 8: a `Failed` job without a failure reason, or another job with one.
    FailureReasonMismatch {
        /// The job.
        job: JobId,
    },
    /// Invariant 8: a finished job has a region still initializing or delivering.
    UnfinishedRegion {
        /// The job.
        job: JobId,
    },
    /// Invariant 8: more than `MAX_REGIONS` distinct regions are known.
    TooManyRegions,
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
            InvariantViolation::WindowEndsBeforeStart { job } => {
                write!(f, "job {job} has window_end before window_start")
            }
            InvariantViolation::InvalidLease { job } => write!(
                f,
                "job {job} is leased while finished, with attempt 0, or past its deadline"
            ),
            InvariantViolation::TooManyAttempts { job } => {
                write!(f, "job {job} has more attempts than max_attempts")
            }
            InvariantViolation::FailureReasonMismatch { job } => write!(
                f,
                "job {job} has a failure reason without being failed, or is failed without one"
            ),
            InvariantViolation::UnfinishedRegion { job } => {
                write!(f, "job {job} has finished but a region of it has not")
            }
            InvariantViolation::TooManyRegions => {
                f.write_str("more regions are known than MAX_REGIONS")
            }
        }
    }
}

impl core::error::Error for InvariantViolation {}

/// Each check of `check_invariants` must fire on the state it guards against. The scheduler's
/// transitions never build such states, so these tests corrupt its internals directly.
#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may panic: that is how they fail
mod tests {
    use super::*;
    use crate::hashing::KeyHasher;
    use crate::{
        ClientToken, Config, CreateJob, JobOutcome, JobScheduler, JobStatus, Region, Timestamp,
        TrailKind, TrailName, TrailSpec,
    };

    type Scheduler = JobScheduler<4, 8, 8>;

    /// Account 1 with two trails and two jobs (1 completed, 2 active, both with tokens).
    fn busy() -> Scheduler {
        let mut scheduler = Scheduler::new(Config::DEFAULT);
        let region = Region::new("cn-hangzhou").unwrap();
        for name in ["trail-one", "trail-two"] {
            let spec = TrailSpec {
                name: TrailName::new(name).unwrap(),
                kind: TrailKind::SingleAccount,
                delivers_to_sls: true,
            };
            scheduler
                .create_trail(AccountId(1), &region, &spec, Timestamp(10))
                .unwrap();
            scheduler
                .start_logging(AccountId(1), &region, &spec.name, Timestamp(10))
                .unwrap();
        }
        for (token, at) in [("first", 20), ("second", 30)] {
            let request = CreateJob {
                account: AccountId(1),
                region: region.clone(),
                trail_name: TrailName::new("trail-one").unwrap(),
                client_token: Some(ClientToken::new(token).unwrap()),
            };
            let job = scheduler
                .create_job(&request, Timestamp(at))
                .unwrap()
                .job_id;
            if at == 20 {
                scheduler
                    .complete_job(AccountId(1), job, JobOutcome::Completed, Timestamp(25))
                    .unwrap();
            }
        }
        scheduler.check_invariants().unwrap();
        scheduler
    }

    fn violation(corrupt: impl FnOnce(&mut Scheduler)) -> InvariantViolation {
        let mut scheduler = busy();
        corrupt(&mut scheduler);
        scheduler.check_invariants().unwrap_err()
    }

    #[test]
    fn each_scalar_rule_is_checked() {
        assert_eq!(
            violation(|s| s.config.first_job_id = 10),
            InvariantViolation::NextJobIdBelowFirst
        );
        assert_eq!(
            violation(|s| s.next_job_id = 2),
            InvariantViolation::JobIdNotBelowNext { job: JobId(2) }
        );
        assert_eq!(
            violation(|s| s.config.max_trails_per_account = 1),
            InvariantViolation::TrailLimitExceeded {
                account: AccountId(1)
            }
        );
        assert_eq!(
            violation(|s| s.clock = Timestamp(12)),
            InvariantViolation::TimeAfterClock
        );
        assert_eq!(
            violation(|s| s.config.grace_secs = 0),
            InvariantViolation::TimeAfterClock,
            "window_end lies grace_secs past logging_since, so past the clock without grace"
        );
    }

    #[test]
    fn a_config_seed_that_does_not_key_the_tables_is_caught() {
        assert_eq!(
            violation(|s| s.config.hash_seed ^= 1),
            InvariantViolation::IndexMismatch(Index::Accounts)
        );
    }

    #[test]
    fn indexes_that_disagree_with_their_tables_are_caught() {
        // Another hash key: the stored indexes no longer find the trails.
        assert_eq!(
            violation(|s| s.hasher = KeyHasher::new(99)),
            InvariantViolation::IndexMismatch(Index::TrailKeys)
        );
        // A finished job turned active behind the indexes' back.
        let reactivated = violation(|s| {
            let slot = s.jobs.slot_of(JobId(1)).unwrap();
            s.jobs.update(slot, |job, _| {
                job.status = JobStatus::Delivering;
                job.updated_at = Timestamp(30);
            });
        });
        assert_eq!(
            reactivated,
            InvariantViolation::IndexMismatch(Index::FinishedJobs)
        );
        // A job updated after the clock.
        let late = violation(|s| {
            let slot = s.jobs.slot_of(JobId(2)).unwrap();
            s.jobs.update(slot, |job, _| {
                job.status = JobStatus::Delivering;
                job.updated_at = Timestamp(31);
            });
        });
        assert_eq!(late, InvariantViolation::TimeAfterClock);
        // A trail renamed in place: its key no longer matches its place in the order.
        let renamed = violation(|s| {
            let region = Region::new("cn-hangzhou").unwrap();
            let hash =
                s.hasher
                    .trail_key(AccountId(1), &region, &TrailName::new("trail-one").unwrap());
            let slot = s
                .trails
                .find(
                    hash,
                    AccountId(1),
                    &region,
                    &TrailName::new("trail-one").unwrap(),
                )
                .unwrap();
            s.trails.get_mut(slot).unwrap().name = TrailName::new("trail-two").unwrap();
        });
        assert!(
            matches!(
                renamed,
                InvariantViolation::DuplicateTrail { .. } | InvariantViolation::IndexMismatch(_)
            ),
            "{renamed:?}"
        );
    }

    #[test]
    fn every_violation_has_its_own_message() {
        let all = [
            InvariantViolation::SecondActiveJob {
                account: AccountId(1),
            },
            InvariantViolation::JobIdNotBelowNext { job: JobId(1) },
            InvariantViolation::DuplicateJobId { job: JobId(1) },
            InvariantViolation::TrailLimitExceeded {
                account: AccountId(1),
            },
            InvariantViolation::DuplicateTrail {
                account: AccountId(1),
            },
            InvariantViolation::TokenJobIdNotBelowNext { job: JobId(1) },
            InvariantViolation::DuplicateToken {
                account: AccountId(1),
            },
            InvariantViolation::TokensOutOfOrder,
            InvariantViolation::NextJobIdBelowFirst,
            InvariantViolation::IndexMismatch(Index::Tokens),
            InvariantViolation::OverCapacity,
            InvariantViolation::TimeAfterClock,
            InvariantViolation::WindowStartAfterCreation { job: JobId(1) },
            InvariantViolation::UpdatedBeforeCreation { job: JobId(1) },
            InvariantViolation::CreatedOutOfOrder { job: JobId(1) },
        ];
        let mut messages: [heapless::String<96>; 15] = Default::default();
        for (violation, message) in all.iter().zip(messages.iter_mut()) {
            core::fmt::write(message, format_args!("{violation}")).unwrap();
            assert!(message.len() > 10, "{violation:?}: {message}");
        }
        for (i, a) in messages.iter().enumerate() {
            for b in messages.iter().skip(i + 1) {
                assert_ne!(a, b);
            }
        }
    }
}
