//! Jobs (delivery history jobs, "data backfill tasks"): [`Job`], [`JobStatus`],
//! [`JobOutcome`], the `create_job` request and answer ([`CreateJob`], [`JobCreated`]), and a
//! page of `ListDeliveryHistoryJobs` ([`JobPage`]).

use core::fmt;

use crate::ids::{AccountId, ClientToken, JobId, Region, TrailName};
use crate::job_table::JobTable;
use crate::lease::FailureReason;
use crate::listed::Listed;
use crate::time::Timestamp;

/// A job's status, with the API's numeric codes (`status as u8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[repr(u8)]
pub enum JobStatus {
    /// Created, not yet delivering (code 0). Active.
    Initializing = 0,
    /// Re-delivering events (code 1). Active.
    Delivering = 1,
    /// Finished successfully (code 2).
    Completed = 2,
    /// Finished unsuccessfully (code 3).
    Failed = 3,
}

impl JobStatus {
    /// The API's numeric code (`JobStatus` in `GetDeliveryHistoryJob`), 0 to 3.
    #[must_use]
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The status with the API's numeric `code`, if any.
    #[must_use]
    pub const fn from_code(code: u8) -> Option<JobStatus> {
        match code {
            0 => Some(JobStatus::Initializing),
            1 => Some(JobStatus::Delivering),
            2 => Some(JobStatus::Completed),
            3 => Some(JobStatus::Failed),
            _ => None,
        }
    }

    /// Whether a job in this status is active (initializing or delivering): an account has at
    /// most one active job.
    #[must_use]
    pub const fn is_active(self) -> bool {
        matches!(self, JobStatus::Initializing | JobStatus::Delivering)
    }

    /// The status's name in lowercase words, for messages.
    pub const fn name(self) -> &'static str {
        match self {
            JobStatus::Initializing => "initializing",
            JobStatus::Delivering => "delivering",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
        }
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a worker reports that a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum JobOutcome {
    /// Every event of the window was re-delivered.
    Completed,
    /// The delivery failed.
    Failed,
}

impl JobOutcome {
    /// The status a job ends in with this outcome.
    #[must_use]
    pub const fn status(self) -> JobStatus {
        match self {
            JobOutcome::Completed => JobStatus::Completed,
            JobOutcome::Failed => JobStatus::Failed,
        }
    }
}

/// A delivery history job, as `GetDeliveryHistoryJob` shows it.
///
/// The fields that every transition reads come first and the names last (`repr(C)` keeps
/// this order), so that a transition touches one or two cache lines of a job, not three.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[repr(C)]
pub struct Job {
    /// The job's id.
    pub id: JobId,
    /// The account that created it.
    pub account: AccountId,
    /// Its status.
    pub status: JobStatus,
    /// Why it failed: `Some` exactly when its status is `Failed`.
    pub failure: Option<FailureReason>,
    /// How many leases it was granted (0 before its first claim).
    pub attempt: u32,
    /// When it was created.
    pub created_at: Timestamp,
    /// When its status last changed (its creation at first).
    pub updated_at: Timestamp,
    /// From when it may be claimed: its creation at first, the end of a retry backoff after a
    /// lease ran out.
    pub not_before: Timestamp,
    /// When its lease ends, while a worker holds one (`None` when not leased).
    pub lease_expires_at: Option<Timestamp>,
    /// Events delivered so far, as the worker's heartbeats reported (never decreases).
    pub delivered: u64,
    /// The start of the re-delivered event window (the API's `StartTime`):
    /// `created_at - retention_secs`, saturating.
    pub window_start: Timestamp,
    /// The end of the window (the API's `EndTime`):
    /// `max(window_start, logging_since + grace_secs)` with the trail's `logging_since` at
    /// creation.
    pub window_end: Timestamp,
    /// The home region of its trail.
    pub region: Region,
    /// The trail whose events it re-delivers.
    pub trail_name: TrailName,
}

impl Job {
    /// Whether the job is active (initializing or delivering).
    #[must_use]
    pub const fn is_active(&self) -> bool {
        self.status.is_active()
    }

    /// Whether a worker holds a lease on it.
    #[must_use]
    pub const fn is_leased(&self) -> bool {
        self.lease_expires_at.is_some()
    }
}

/// A `CreateDeliveryHistoryJob` request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CreateJob {
    /// The caller.
    pub account: AccountId,
    /// The trail's home region (the request's `RegionId`).
    pub region: Region,
    /// The trail whose events to re-deliver.
    pub trail_name: TrailName,
    /// The idempotency token, if the client sent one.
    pub client_token: Option<ClientToken>,
}

/// The answer to a successful [`CreateJob`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct JobCreated {
    /// The created job's id, or the original job's for a replay.
    pub job_id: JobId,
    /// True when the client token matched an earlier request: nothing was created.
    pub replayed: bool,
}

/// One page of an account's jobs, newest (largest id) first: the answer to
/// `ListDeliveryHistoryJobs`. It borrows the scheduler; [`JobPage::jobs`] walks the page.
pub struct JobPage<'a, const JOBS: usize> {
    /// How many jobs the account has in all.
    pub total_count: u32,
    /// The page asked for, from 1.
    pub page_number: u32,
    /// The most jobs a page holds, 1 to 100.
    pub page_size: u32,
    pub(crate) table: &'a JobTable<JOBS>,
    /// The page's first (newest) job, `None` when the page is past the end.
    pub(crate) first: Option<u32>,
    /// How many jobs the page shows: at most `page_size`, and no more than are left from
    /// `first` to the account's oldest job (the walk counts its steps rather than look for
    /// the end of the list).
    pub(crate) len: usize,
}

impl<'a, const JOBS: usize> JobPage<'a, JOBS> {
    /// The page's jobs, newest first; empty past the last page.
    pub fn jobs(&self) -> impl Iterator<Item = &'a Job> + 'a {
        let table = self.table;
        let mut left = self.len;
        core::iter::successors(self.first, move |&slot| {
            // Never asks the oldest job for an older one (`older_of_account`).
            left = left.saturating_sub(1);
            (left > 0).then(|| table.older_of_account(slot)).flatten()
        })
        .take(self.len)
        .filter_map(move |slot| table.job_at(slot))
    }
}

impl<const JOBS: usize> Clone for JobPage<'_, JOBS> {
    fn clone(&self) -> Self {
        JobPage { ..*self }
    }
}

impl<const JOBS: usize> fmt::Debug for JobPage<'_, JOBS> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobPage")
            .field("total_count", &self.total_count)
            .field("page_number", &self.page_number)
            .field("page_size", &self.page_size)
            .field("jobs", &Listed::counted(|| self.jobs()))
            .finish()
    }
}

/// Pages are equal when they show the same numbers and the same jobs.
impl<const JOBS: usize> PartialEq for JobPage<'_, JOBS> {
    fn eq(&self, other: &Self) -> bool {
        self.total_count == other.total_count
            && self.page_number == other.page_number
            && self.page_size == other.page_size
            && self.jobs().eq(other.jobs())
    }
}

impl<const JOBS: usize> Eq for JobPage<'_, JOBS> {}

/// Serializes as `{ total_count, page_number, page_size, jobs: [..] }`. (A page borrows the
/// scheduler, so it has no `Deserialize`; deserialize its jobs as a list of [`Job`].)
#[cfg(feature = "serde")]
impl<const JOBS: usize> serde::Serialize for JobPage<'_, JOBS> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut page = serializer.serialize_struct("JobPage", 4)?;
        page.serialize_field("total_count", &self.total_count)?;
        page.serialize_field("page_number", &self.page_number)?;
        page.serialize_field("page_size", &self.page_size)?;
        page.serialize_field("jobs", &Listed::counted(|| self.jobs()))?;
        page.end()
    }
}
