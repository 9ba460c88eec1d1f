//! The worker protocol's values and timing rules: [`Lease`], [`FailureReason`],
//! [`TimeoutReport`], and the arithmetic of lease ends, deadlines and retry backoff.
//!
//! A remote worker claims a job and gets a [`Lease`]; `(job, attempt)` is its fencing token, so
//! a worker that stalled and came back after another worker took over is refused
//! ([`Error::LeaseLost`](crate::Error::LeaseLost)) instead of finishing a job that is no longer
//! its own. The methods live in `worker.rs`; the rules of time live here, in one place.

use crate::config::Config;
use crate::ids::{AccountId, JobId};
use crate::job::Job;
use crate::time::Timestamp;

/// A worker's claim on a job, granted by `claim_next` or `claim_job`.
///
/// `(job, attempt)` is the fencing token: the lease is **held** while its job is active and
/// leased with that same attempt. `expires_at` is what the scheduler granted, for the worker's
/// information (heartbeat before it); the checks look at the job, not at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Lease {
    /// The account that owns the job.
    pub account: AccountId,
    /// The leased job.
    pub job: JobId,
    /// Which lease of the job this is: 1 for the first claim, +1 per claim.
    pub attempt: u32,
    /// When the lease runs out unless a heartbeat extends it.
    pub expires_at: Timestamp,
}

/// Why a job failed: `Some` in [`Job::failure`] exactly when the job is `Failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
// Discriminants from 1, so that `None` of an `Option<FailureReason>` is a zero byte: an empty
// job table is then all zero bytes (a scheduler in a `static` lands in `.bss`).
#[repr(u8)]
pub enum FailureReason {
    /// A worker (`finish_job`) or the host (`complete_job`) reported the failure.
    Reported = 1,
    /// The lease of its last attempt ran out.
    LeaseExpired,
    /// It was still active at its deadline (`created_at + max_job_secs`).
    DeadlineExceeded,
    /// The caller stopped it (`stop_job`).
    Stopped,
}

impl FailureReason {
    /// The variant's name, as the API's `FailureReason` shows it (`"LeaseExpired"`).
    pub const fn name(self) -> &'static str {
        match self {
            FailureReason::Reported => "Reported",
            FailureReason::LeaseExpired => "LeaseExpired",
            FailureReason::DeadlineExceeded => "DeadlineExceeded",
            FailureReason::Stopped => "Stopped",
        }
    }
}

/// What one `handle_timeout` call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct TimeoutReport {
    /// Leases ended by running out (saturating). A job failed by its deadline counts only in
    /// `jobs_failed`, even when its lease ended at the same time.
    pub leases_expired: u32,
    /// Jobs that became `Failed`: on the last attempt, or at the deadline (saturating).
    pub jobs_failed: u32,
}

impl TimeoutReport {
    /// Whether the call changed nothing.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.leases_expired == 0 && self.jobs_failed == 0
    }
}

/// A job's deadline: `created_at + max_job_secs`, saturating.
pub(crate) const fn deadline(job: &Job, max_job_secs: u64) -> Timestamp {
    job.created_at.saturating_add_secs(max_job_secs)
}

/// The end of a lease granted or extended at `now`: `min(now + lease_secs, deadline)`.
pub(crate) fn lease_end(job: &Job, config: &Config, now: Timestamp) -> Timestamp {
    now.saturating_add_secs(config.effective_lease_secs())
        .min(deadline(job, config.max_job_secs))
}

/// When a job whose lease of attempt `attempt` ended at `lease_end` may be claimed again:
/// `lease_end + min(retry_backoff_secs * 2^(attempt - 1), max_backoff_secs)`, saturating.
/// The backoff counts from the lease's end, not from the time the host noticed it.
pub(crate) fn retry_at(config: &Config, attempt: u32, lease_end: Timestamp) -> Timestamp {
    let doublings = attempt.saturating_sub(1);
    let factor = 1u64.checked_shl(doublings).unwrap_or(u64::MAX);
    let backoff = config
        .retry_backoff_secs
        .saturating_mul(factor)
        .min(config.max_backoff_secs);
    lease_end.saturating_add_secs(backoff)
}

/// Whether `lease` is held: its job (already found for `lease.account`) is active and leased to
/// that same attempt.
pub(crate) fn is_held(job: &Job, lease: &Lease) -> bool {
    job.is_active() && job.lease_expires_at.is_some() && job.attempt == lease.attempt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_lease_end_up_to_the_cap() {
        let config = Config {
            retry_backoff_secs: 60,
            max_backoff_secs: 3_600,
            ..Config::DEFAULT
        };
        let end = Timestamp(1_000);
        assert_eq!(retry_at(&config, 1, end), Timestamp(1_060));
        assert_eq!(retry_at(&config, 2, end), Timestamp(1_120));
        assert_eq!(retry_at(&config, 3, end), Timestamp(1_240));
        assert_eq!(retry_at(&config, 7, end), Timestamp(4_600));
        assert_eq!(retry_at(&config, u32::MAX, end), Timestamp(4_600));
        // Attempt 0 (never leased) waits the base backoff; saturation at the end of time.
        assert_eq!(retry_at(&config, 0, end), Timestamp(1_060));
        assert_eq!(
            retry_at(&config, 2, Timestamp(u64::MAX - 1)),
            Timestamp(u64::MAX)
        );
        let uncapped = Config {
            max_backoff_secs: u64::MAX,
            ..config
        };
        assert_eq!(retry_at(&uncapped, 80, end), Timestamp(u64::MAX));
    }
}
