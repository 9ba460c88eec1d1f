//! The answers: one JSON object a line, in the API's shapes, fields in the order printed.

use serde::Serialize;
use trail_backfill::{Error, Job, JobStatus, Lease, Region, TimeoutReport, Timestamp};

/// A response line: the RequestId, then the reply's fields.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response<'a> {
    pub request_id: String,
    #[serde(flatten)]
    pub reply: &'a Reply,
}

/// The fields of a reply, in the order they are printed.
#[derive(Debug, Serialize)]
#[serde(untagged, rename_all_fields = "PascalCase")]
pub enum Reply {
    /// `CreateTrail`.
    Trail { name: String, home_region: String },
    /// `DeleteTrail`, `DeleteDeliveryHistoryJob`: the RequestId alone.
    Done {},
    /// `StartLogging`, `StopLogging`, and the worker protocol's
    /// `ReportDeliveryHistoryJobRegion`, `FinishDeliveryHistoryJob`, `StopDeliveryHistoryJob`:
    /// whether the call changed anything.
    Changed { changed: bool },
    /// `CreateDeliveryHistoryJob`.
    Created { job_id: u64 },
    /// `GetDeliveryHistoryJob`.
    Job(JobDetail),
    /// `ListDeliveryHistoryJobs`.
    Page {
        delivery_history_jobs: Vec<JobView>,
        page_number: u32,
        page_size: u32,
        total_count: u32,
    },
    /// `StartDeliveryHistoryJob`, `CompleteDeliveryHistoryJob`.
    Worker {
        job_id: u64,
        job_status: u8,
        changed: bool,
    },
    /// `ClaimDeliveryHistoryJob`: the lease, or `"JobId": null` when there is nothing to
    /// claim.
    Claimed {
        job_id: Option<u64>,
        #[serde(flatten)]
        lease: Option<LeaseView>,
    },
    /// `HeartbeatDeliveryHistoryJob`: the lease's new end.
    Extended { lease_expires_at: String },
    /// `HandleTimeouts`, with `poll_timeout()` after the call.
    Timeouts {
        leases_expired: u32,
        jobs_failed: u32,
        next_timeout: Option<String>,
    },
    /// Any failed request.
    Error(Failure),
}

impl Reply {
    /// The answer to a claim.
    pub fn claimed(lease: Option<Lease>) -> Reply {
        Reply::Claimed {
            job_id: lease.map(|lease| lease.job.0),
            lease: lease.map(|lease| LeaseView {
                account_id: lease.account.0,
                attempt: lease.attempt,
                lease_expires_at: lease.expires_at.to_string(),
            }),
        }
    }

    /// The answer to `HandleTimeouts`: what it did, and when to call it next.
    pub fn timeouts(report: TimeoutReport, next: Option<Timestamp>) -> Reply {
        Reply::Timeouts {
            leases_expired: report.leases_expired,
            jobs_failed: report.jobs_failed,
            next_timeout: next.map(|time| time.to_string()),
        }
    }
}

/// A granted lease, after its `JobId`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LeaseView {
    account_id: u64,
    attempt: u32,
    lease_expires_at: String,
}

/// A job as `GetDeliveryHistoryJob` and `ListDeliveryHistoryJobs` show it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct JobView {
    job_id: u64,
    job_status: u8,
    trail_name: String,
    home_region: String,
    created_time: String,
    start_time: String,
    end_time: String,
    updated_time: String,
}

impl From<&Job> for JobView {
    fn from(job: &Job) -> JobView {
        JobView {
            job_id: job.id.0,
            job_status: job.status.code(),
            trail_name: job.trail_name.as_str().to_owned(),
            home_region: job.region.as_str().to_owned(),
            created_time: job.created_at.to_string(),
            start_time: job.window_start.to_string(),
            end_time: job.window_end.to_string(),
            updated_time: job.updated_at.to_string(),
        }
    }
}

/// A job as `GetDeliveryHistoryJob` shows it: the list's fields, then the worker protocol's
/// (the API's `Status` list of regions, always present), and `FailureReason` when it failed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct JobDetail {
    #[serde(flatten)]
    job: JobView,
    status: Vec<RegionView>,
    attempt: u32,
    delivered: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_reason: Option<&'static str>,
}

impl JobDetail {
    /// The job and its regions (in `job_regions` order: by region id).
    pub fn new<'a>(job: &Job, regions: impl Iterator<Item = (&'a Region, JobStatus)>) -> Self {
        JobDetail {
            job: JobView::from(job),
            status: regions
                .map(|(region, status)| RegionView {
                    region: region.as_str().to_owned(),
                    status: status.code(),
                })
                .collect(),
            attempt: job.attempt,
            delivered: job.delivered,
            failure_reason: job.failure.map(|reason| reason.name()),
        }
    }
}

/// One region of a job's `Status` list.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RegionView {
    region: String,
    status: u8,
}

/// An error answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Failure {
    http_status: u16,
    code: &'static str,
    message: String,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure {
            http_status: error.http_status(),
            code: error.code(),
            message: error.to_string(),
        }
    }
}

impl Failure {
    pub fn missing(name: &str) -> Failure {
        Failure {
            http_status: 400,
            code: "MissingParameter",
            message: format!(
                "The input parameter \"{name}\" that is mandatory for processing this request is not supplied."
            ),
        }
    }

    pub fn invalid(name: &str) -> Failure {
        Failure {
            http_status: 400,
            code: "InvalidParameterValue",
            // The same words as the scheduler's own `InvalidParameterValue`.
            message: format!("The specified parameter {name} is invalid."),
        }
    }

    pub fn invalid_action(name: &str) -> Failure {
        Failure {
            http_status: 400,
            code: "InvalidAction",
            message: format!("The specified action \"{name}\" is not valid."),
        }
    }

    pub fn malformed(why: String) -> Failure {
        Failure {
            http_status: 400,
            code: "InvalidParameterValue",
            message: why,
        }
    }
}
