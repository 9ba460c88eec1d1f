//! [`Config`]: the scheduler's rules that a host may tune.

use core::fmt;

/// The scheduler's tunable rules. Plain public fields, so hosts write
/// `Config { token_ttl_secs: 60, ..Config::DEFAULT }`.
///
/// A config is part of a snapshot: replicas that share one compute the same answers.
///
/// # Examples
///
/// ```
/// use trail_backfill::Config;
///
/// let config = Config { token_ttl_secs: 3_600, hash_seed: 0x5eed, ..Config::DEFAULT };
/// assert_eq!(config.retention_secs, 90 * 86_400);
/// assert_eq!(Config::default(), Config::DEFAULT);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Config {
    /// How long a `ClientToken` record makes `create_job` idempotent, in seconds: a record made
    /// at `t` is live while `now < t + token_ttl_secs`. Default one day (86 400).
    pub token_ttl_secs: u64,
    /// How far back a backfill task re-delivers events, in seconds: `window_start =
    /// created_at - retention_secs`. Default 90 days (7 776 000), ActionTrail's retention.
    pub retention_secs: u64,
    /// How far past the start of logging a task's window ends, in seconds: `window_end =
    /// max(window_start, logging_since + grace_secs)`. Default 300.
    pub grace_secs: u64,
    /// How many trails one account may have in one region. Default 5.
    pub max_trails_per_account: u32,
    /// The id of the first job created; later jobs count up from it. Default 1.
    pub first_job_id: u64,
    /// The key of the hash that indexes client-controlled strings (trail names, client tokens),
    /// so that clients cannot predict which keys collide (HashDoS). Every host should set its
    /// own secret value; replicas of one state machine must share it. It changes no answer,
    /// only the tables' internal layout; as part of the config it is written into snapshots,
    /// so keep snapshots as private as the seed.
    pub hash_seed: u64,
    /// How long a worker's lease lasts from its claim or its latest heartbeat, in seconds
    /// (never past the job's deadline). 0 acts as 1. Default 300.
    #[cfg_attr(feature = "serde", serde(default = "defaults::lease_secs"))]
    pub lease_secs: u64,
    /// How many leases a job may be granted: when the lease of the last attempt runs out, the
    /// job fails with `FailureReason::LeaseExpired`. 0 acts as 1, and values above `u32::MAX`
    /// as `u32::MAX`. Default 3.
    #[cfg_attr(feature = "serde", serde(default = "defaults::max_attempts"))]
    pub max_attempts: u64,
    /// The wait before the first retry after a lease ran out, in seconds; it doubles with each
    /// attempt (`retry_backoff_secs * 2^(attempt - 1)`), up to `max_backoff_secs`. Default 60.
    #[cfg_attr(feature = "serde", serde(default = "defaults::retry_backoff_secs"))]
    pub retry_backoff_secs: u64,
    /// The longest wait before a retry, in seconds. Default 3 600.
    #[cfg_attr(feature = "serde", serde(default = "defaults::max_backoff_secs"))]
    pub max_backoff_secs: u64,
    /// How long a job may stay active, in seconds: at `created_at + max_job_secs` (its
    /// deadline) `handle_timeout` fails it with `FailureReason::DeadlineExceeded`. Default one
    /// day (86 400).
    #[cfg_attr(feature = "serde", serde(default = "defaults::max_job_secs"))]
    pub max_job_secs: u64,
}

impl Config {
    /// The defaults: tokens live one day, 90 days of retention, 300 s of grace, 5 trails per
    /// account and region, ids from 1, a fixed public hash seed (replace it); leases of 300 s,
    /// 3 attempts, retries after 60 s doubling up to an hour, and a one-day deadline per job.
    pub const DEFAULT: Config = Config {
        token_ttl_secs: 86_400,
        retention_secs: 7_776_000,
        grace_secs: 300,
        max_trails_per_account: 5,
        first_job_id: 1,
        hash_seed: 0x7261_696c_6261_636b,
        lease_secs: 300,
        max_attempts: 3,
        retry_backoff_secs: 60,
        max_backoff_secs: 3_600,
        max_job_secs: 86_400,
    };

    /// Every setting 0: a placeholder for a scheduler in a `static`, which then is all zero
    /// bytes and lands in `.bss` (no flash image, no copy at start-up). Give it the real config
    /// with [`JobScheduler::reset`](crate::JobScheduler::reset) before the first request: with
    /// this one no trail can be created (`max_trails_per_account` is 0).
    ///
    /// ```
    /// use trail_backfill::{Config, JobScheduler};
    ///
    /// static SCHEDULER: JobScheduler<64, 1024, 1024> = JobScheduler::new(Config::ZERO);
    /// assert_eq!(SCHEDULER.stats().jobs, 0);
    /// ```
    pub const ZERO: Config = Config {
        token_ttl_secs: 0,
        retention_secs: 0,
        grace_secs: 0,
        max_trails_per_account: 0,
        first_job_id: 0,
        hash_seed: 0,
        lease_secs: 0,
        max_attempts: 0,
        retry_backoff_secs: 0,
        max_backoff_secs: 0,
        max_job_secs: 0,
    };

    /// The lease length in force: [`lease_secs`](Self::lease_secs), with 0 acting as 1.
    #[must_use]
    pub const fn effective_lease_secs(&self) -> u64 {
        if self.lease_secs == 0 {
            1
        } else {
            self.lease_secs
        }
    }

    /// The attempt limit in force: [`max_attempts`](Self::max_attempts) within `1..=u32::MAX`.
    #[must_use]
    pub const fn effective_max_attempts(&self) -> u32 {
        if self.max_attempts == 0 {
            1
        } else if self.max_attempts > u32::MAX as u64 {
            u32::MAX
        } else {
            self.max_attempts as u32
        }
    }
}

/// The worker settings that a version-1 snapshot's config lacks: `Config::DEFAULT`'s.
#[cfg(feature = "serde")]
mod defaults {
    use super::Config;

    pub(super) fn lease_secs() -> u64 {
        Config::DEFAULT.lease_secs
    }
    pub(super) fn max_attempts() -> u64 {
        Config::DEFAULT.max_attempts
    }
    pub(super) fn retry_backoff_secs() -> u64 {
        Config::DEFAULT.retry_backoff_secs
    }
    pub(super) fn max_backoff_secs() -> u64 {
        Config::DEFAULT.max_backoff_secs
    }
    pub(super) fn max_job_secs() -> u64 {
        Config::DEFAULT.max_job_secs
    }
}

/// Shows every setting but the `hash_seed`, a secret key: only whether it is still the public
/// default (`<public default>`) or the host's own (`<secret>`).
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seed = if self.hash_seed == Config::DEFAULT.hash_seed {
            format_args!("<public default>")
        } else {
            format_args!("<secret>")
        };
        f.debug_struct("Config")
            .field("token_ttl_secs", &self.token_ttl_secs)
            .field("retention_secs", &self.retention_secs)
            .field("grace_secs", &self.grace_secs)
            .field("max_trails_per_account", &self.max_trails_per_account)
            .field("first_job_id", &self.first_job_id)
            .field("hash_seed", &seed)
            .field("lease_secs", &self.lease_secs)
            .field("max_attempts", &self.max_attempts)
            .field("retry_backoff_secs", &self.retry_backoff_secs)
            .field("max_backoff_secs", &self.max_backoff_secs)
            .field("max_job_secs", &self.max_job_secs)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::DEFAULT
    }
}
