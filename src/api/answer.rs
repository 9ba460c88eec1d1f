//! Writing the API's answers: one compact JSON object, in the API's shapes, fields in a fixed
//! order, into any [`fmt::Write`] with no allocation.

use core::fmt::{self, Write};

use crate::command::{Command, Effect};
use crate::ids::Region;
use crate::job::{Job, JobPage, JobStatus};
use crate::lease::Lease;
use crate::scheduler::{JobScheduler, Transition};
use crate::time::Timestamp;

use super::error::ApiError;
use super::json::{key, string};
use super::request::ApiRequest;

/// What every answer starts with: `{"RequestId": ..`, then `"HostId": ..` when given. The
/// host makes the ids (the API's are UUIDs); strings are escaped, whatever they hold.
///
/// The `write_*` methods each write one whole answer object (no newline after it).
///
/// # Examples
///
/// ```
/// use trail_backfill::api::{ApiError, Reply};
///
/// let mut out = String::new();
/// let reply = Reply { request_id: "5709BA31", host_id: Some("actiontrail.cn-hangzhou.aliyuncs.com") };
/// reply.write_error(&mut out, &ApiError::MissingParameter("JobId"))?;
/// assert_eq!(
///     out,
///     r#"{"RequestId":"5709BA31","HostId":"actiontrail.cn-hangzhou.aliyuncs.com","HttpStatus":400,"Code":"MissingParameter","Message":"The input parameter \"JobId\" that is mandatory for processing this request is not supplied."}"#
/// );
/// # Ok::<(), core::fmt::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reply<'a> {
    /// `RequestId`, the first field of every answer.
    pub request_id: &'a str,
    /// `HostId`, right after it when `Some` (the API puts it in its error answers).
    pub host_id: Option<&'a str>,
}

impl Reply<'_> {
    /// `{"RequestId":"..."[,"HostId":"..."]`: the object left open.
    fn open<W: Write + ?Sized>(&self, out: &mut W) -> fmt::Result {
        out.write_str("{\"RequestId\":")?;
        string(out, &self.request_id)?;
        if let Some(host_id) = self.host_id {
            key(out, "HostId")?;
            string(out, &host_id)?;
        }
        Ok(())
    }

    /// An error answer: `HttpStatus`, `Code`, `Message` (the status is in the body too, as the
    /// replay tool has always printed it; a server also sends it as the response's status).
    pub fn write_error<W: Write + ?Sized>(&self, out: &mut W, error: &ApiError<'_>) -> fmt::Result {
        self.open(out)?;
        key(out, "HttpStatus")?;
        write!(out, "{}", error.http_status())?;
        key(out, "Code")?;
        string(out, &error.code())?;
        key(out, "Message")?;
        string(out, error)?;
        out.write_char('}')
    }

    /// The answer to a mutation that succeeded: `effect`, what
    /// [`JobScheduler::apply`] returned for `command`. The fields, after `RequestId`:
    ///
    /// | `Effect` | fields |
    /// |---|---|
    /// | `TrailCreated` | `Name`, `HomeRegion` (from `command`) |
    /// | `TrailDeleted`, `JobDeleted` | none |
    /// | `LoggingStarted`, `LoggingStopped`, `RegionReported`, `JobFinished`, `JobStopped` | `Changed` |
    /// | `JobCreated` | `JobId` (the same one again when a `ClientToken` is replayed) |
    /// | `JobStarted`, `JobCompleted` | `JobId` (from `command`), `JobStatus` (the job's after the call: `1` after a start, the outcome's after a completion), `Changed` |
    /// | `JobClaimed` | `JobId`, `AccountId`, `Attempt`, `LeaseExpiresAt`; `"JobId":null` alone when there was nothing to claim |
    /// | `LeaseExtended` | `LeaseExpiresAt` |
    /// | `TimeoutsHandled` | `LeasesExpired`, `JobsFailed`, `NextTimeout` (`next_timeout`, the scheduler's `poll_timeout()` after the call, or `null`) |
    ///
    /// `next_timeout` is read for `TimeoutsHandled` only. A field that comes from `command`
    /// is left out when `command` is not the one that gave `effect`.
    pub fn write_effect<W: Write + ?Sized>(
        &self,
        out: &mut W,
        command: &Command,
        effect: &Effect,
        next_timeout: Option<Timestamp>,
    ) -> fmt::Result {
        self.open(out)?;
        match effect {
            Effect::TrailCreated => {
                if let Command::CreateTrail { region, spec, .. } = command {
                    key(out, "Name")?;
                    string(out, &spec.name.as_str())?;
                    key(out, "HomeRegion")?;
                    string(out, &region.as_str())?;
                }
            }
            Effect::TrailDeleted | Effect::JobDeleted(_) => {}
            Effect::LoggingStarted(transition)
            | Effect::LoggingStopped(transition)
            | Effect::RegionReported(transition)
            | Effect::JobFinished(transition)
            | Effect::JobStopped(transition) => changed(out, *transition)?,
            Effect::JobCreated(created) => {
                key(out, "JobId")?;
                write!(out, "{}", created.job_id.0)?;
            }
            Effect::JobStarted(transition) | Effect::JobCompleted(transition) => {
                let job = match command {
                    Command::StartJob { job, .. } => Some((job, JobStatus::Delivering)),
                    Command::CompleteJob { job, outcome, .. } => Some((job, outcome.status())),
                    _ => None,
                };
                if let Some((job, status)) = job {
                    key(out, "JobId")?;
                    write!(out, "{}", job.0)?;
                    key(out, "JobStatus")?;
                    write!(out, "{}", status.code())?;
                }
                changed(out, *transition)?;
            }
            Effect::JobClaimed(lease) => claimed(out, lease.as_ref())?,
            Effect::LeaseExtended(until) => {
                key(out, "LeaseExpiresAt")?;
                string(out, until)?;
            }
            Effect::TimeoutsHandled(report) => {
                key(out, "LeasesExpired")?;
                write!(out, "{}", report.leases_expired)?;
                key(out, "JobsFailed")?;
                write!(out, "{}", report.jobs_failed)?;
                key(out, "NextTimeout")?;
                match next_timeout {
                    Some(time) => string(out, &time)?,
                    None => out.write_str("null")?,
                }
            }
        }
        out.write_char('}')
    }

    /// The answer to `GetDeliveryHistoryJob`: the job's fields as
    /// [`write_job_page`](Reply::write_job_page) lists them, then `Status` (the job's
    /// `regions`, in the order given: [`JobScheduler::job_regions`] gives them by region id;
    /// `[{"Region":"cn-hangzhou","Status":1},..]`, possibly empty), `Attempt`, `Delivered`,
    /// and `FailureReason` (the [`FailureReason`](crate::FailureReason)'s name) when the job
    /// failed.
    pub fn write_job<'r, W: Write + ?Sized>(
        &self,
        out: &mut W,
        job: &Job,
        regions: impl Iterator<Item = (&'r Region, JobStatus)>,
    ) -> fmt::Result {
        self.open(out)?;
        job_fields(out, job)?;
        key(out, "Status")?;
        out.write_char('[')?;
        for (index, (region, status)) in regions.enumerate() {
            if index > 0 {
                out.write_char(',')?;
            }
            out.write_str("{\"Region\":")?;
            string(out, &region.as_str())?;
            key(out, "Status")?;
            write!(out, "{}}}", status.code())?;
        }
        out.write_char(']')?;
        key(out, "Attempt")?;
        write!(out, "{}", job.attempt)?;
        key(out, "Delivered")?;
        write!(out, "{}", job.delivered)?;
        if let Some(reason) = job.failure {
            key(out, "FailureReason")?;
            string(out, &reason.name())?;
        }
        out.write_char('}')
    }

    /// The answer to `ListDeliveryHistoryJobs`: `DeliveryHistoryJobs` (the page's jobs, newest
    /// first, each `{"JobId","JobStatus","TrailName","HomeRegion","CreatedTime","StartTime",
    /// "EndTime","UpdatedTime"}`, times in ISO-8601, `StartTime`/`EndTime` the event window),
    /// `PageNumber`, `PageSize`, `TotalCount`.
    pub fn write_job_page<W: Write + ?Sized, const JOBS: usize>(
        &self,
        out: &mut W,
        page: &JobPage<'_, JOBS>,
    ) -> fmt::Result {
        self.open(out)?;
        key(out, "DeliveryHistoryJobs")?;
        out.write_char('[')?;
        for (index, job) in page.jobs().enumerate() {
            if index > 0 {
                out.write_char(',')?;
            }
            out.write_char('{')?;
            // `job_fields` starts each field with a comma: drop the first one.
            job_fields(&mut SkipFirstComma(out, true), job)?;
            out.write_char('}')?;
        }
        out.write_char(']')?;
        key(out, "PageNumber")?;
        write!(out, "{}", page.page_number)?;
        key(out, "PageSize")?;
        write!(out, "{}", page.page_size)?;
        key(out, "TotalCount")?;
        write!(out, "{}", page.total_count)?;
        out.write_char('}')
    }
}

/// `,"Changed":true|false`.
fn changed<W: Write + ?Sized>(out: &mut W, transition: Transition) -> fmt::Result {
    key(out, "Changed")?;
    out.write_str(match transition {
        Transition::Changed => "true",
        Transition::Unchanged => "false",
    })
}

/// A claim's fields: the lease, or `"JobId":null`.
fn claimed<W: Write + ?Sized>(out: &mut W, lease: Option<&Lease>) -> fmt::Result {
    key(out, "JobId")?;
    let Some(lease) = lease else {
        return out.write_str("null");
    };
    write!(out, "{}", lease.job.0)?;
    key(out, "AccountId")?;
    write!(out, "{}", lease.account.0)?;
    key(out, "Attempt")?;
    write!(out, "{}", lease.attempt)?;
    key(out, "LeaseExpiresAt")?;
    string(out, &lease.expires_at)
}

/// The fields a job shows in a list, each after a comma.
fn job_fields<W: Write + ?Sized>(out: &mut W, job: &Job) -> fmt::Result {
    key(out, "JobId")?;
    write!(out, "{}", job.id.0)?;
    key(out, "JobStatus")?;
    write!(out, "{}", job.status.code())?;
    key(out, "TrailName")?;
    string(out, &job.trail_name.as_str())?;
    key(out, "HomeRegion")?;
    string(out, &job.region.as_str())?;
    key(out, "CreatedTime")?;
    string(out, &job.created_at)?;
    key(out, "StartTime")?;
    string(out, &job.window_start)?;
    key(out, "EndTime")?;
    string(out, &job.window_end)?;
    key(out, "UpdatedTime")?;
    string(out, &job.updated_at)
}

/// Passes everything through but the first character, when it is a comma and `self.1` is set.
struct SkipFirstComma<'w, W: Write + ?Sized>(&'w mut W, bool);

impl<W: Write + ?Sized> Write for SkipFirstComma<'_, W> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let text = match (self.1, text.strip_prefix(',')) {
            (true, Some(rest)) => rest,
            _ => text,
        };
        if !text.is_empty() {
            self.1 = false;
        }
        self.0.write_str(text)
    }
}

/// Carries out `request` on `scheduler` at `now` and writes its answer (or its error) on
/// `out`: what a host that owns its scheduler does with each request. Returns the HTTP status
/// of the answer (200, or the error's).
///
/// Mutations go through [`JobScheduler::apply`] (a replicated host appends the
/// [`ApiRequest::Command`] to its log instead, and answers with
/// [`Reply::write_effect`] when it is applied); `HandleTimeouts` answers with the scheduler's
/// `poll_timeout()` after the call. Queries take no time.
///
/// # Errors
///
/// Only `out`'s: a refused request is an answer, not an error.
///
/// # Examples
///
/// ```
/// use trail_backfill::api::{respond, parse_request, Action, Caller, Reply};
/// use trail_backfill::{AccountId, Config, JobScheduler, Region, Timestamp};
///
/// let mut scheduler: Box<JobScheduler<4, 8, 8>> = Box::new(JobScheduler::new(Config::DEFAULT));
/// let hangzhou = Region::new("cn-hangzhou").unwrap();
/// let caller = Caller { account: Some(AccountId(7)), default_region: Some(&hangzhou) };
/// let request = parse_request(Action::StartLogging, [("Name", "trail-name")].into_iter(), &caller).unwrap();
/// let mut out = String::new();
/// let reply = Reply { request_id: "42", host_id: None };
/// let status = respond(&mut scheduler, &request, Timestamp(0), &reply, &mut out)?;
/// assert_eq!(status, 404);
/// assert_eq!(
///     out,
///     r#"{"RequestId":"42","HttpStatus":404,"Code":"TrailNotFoundException","Message":"The specified Trail does not exist."}"#
/// );
/// # Ok::<(), core::fmt::Error>(())
/// ```
pub fn respond<W, const TRAILS: usize, const JOBS: usize, const TOKENS: usize>(
    scheduler: &mut JobScheduler<TRAILS, JOBS, TOKENS>,
    request: &ApiRequest,
    now: Timestamp,
    reply: &Reply<'_>,
    out: &mut W,
) -> Result<u16, fmt::Error>
where
    W: Write + ?Sized,
{
    let refused = match request {
        ApiRequest::Command(command) => match scheduler.apply(command, now) {
            Ok(effect) => {
                let next_timeout = match effect {
                    Effect::TimeoutsHandled(_) => scheduler.poll_timeout(),
                    _ => None,
                };
                reply.write_effect(out, command, &effect, next_timeout)?;
                return Ok(200);
            }
            Err(error) => error,
        },
        ApiRequest::GetJob { account, job } => {
            match (
                scheduler.job(*account, *job),
                scheduler.job_regions(*account, *job),
            ) {
                (Some(found), Some(regions)) => {
                    reply.write_job(out, found, regions)?;
                    return Ok(200);
                }
                _ => crate::Error::JobNotFound,
            }
        }
        ApiRequest::ListJobs {
            account,
            page_number,
            page_size,
        } => match scheduler.list_jobs(*account, *page_number, *page_size) {
            Ok(page) => {
                reply.write_job_page(out, &page)?;
                return Ok(200);
            }
            Err(error) => error,
        },
    };
    let error = ApiError::Scheduler(refused);
    reply.write_error(out, &error)?;
    Ok(error.http_status())
}
