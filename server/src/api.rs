//! TEMPORARY stand-in for `trail_backfill::api` (feature `api`), which is landing on main:
//! the same names and signatures, a few actions only, so that the HTTP, auth, storage and
//! recovery code builds and runs now. Deleted when the library's module lands.
#![allow(dead_code, missing_docs)]

use std::fmt::{self, Write};

use trail_backfill::{
    AccountId, ClientToken, Command, CreateJob, Effect, Error, JobId, JobScheduler, Region,
    Timestamp, TrailKind, TrailName, TrailSpec,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    CreateTrail,
    StartLogging,
    CreateDeliveryHistoryJob,
    GetDeliveryHistoryJob,
    StartDeliveryHistoryJob,
    CompleteDeliveryHistoryJob,
    ClaimDeliveryHistoryJob,
    HeartbeatDeliveryHistoryJob,
    ReportDeliveryHistoryJobRegion,
    FinishDeliveryHistoryJob,
    HandleTimeouts,
}

impl Action {
    pub fn from_name(name: &str) -> Result<Action, ApiError<'_>> {
        Ok(match name {
            "CreateTrail" => Action::CreateTrail,
            "StartLogging" => Action::StartLogging,
            "CreateDeliveryHistoryJob" => Action::CreateDeliveryHistoryJob,
            "GetDeliveryHistoryJob" => Action::GetDeliveryHistoryJob,
            "ClaimDeliveryHistoryJob" => Action::ClaimDeliveryHistoryJob,
            "FinishDeliveryHistoryJob" => Action::FinishDeliveryHistoryJob,
            "HeartbeatDeliveryHistoryJob" => Action::HeartbeatDeliveryHistoryJob,
            _ => return Err(ApiError::UnknownAction(name)),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiError<'a> {
    Scheduler(Error),
    MissingParameter(&'a str),
    InvalidParameter(&'a str),
    UnknownAction(&'a str),
}

impl ApiError<'_> {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Scheduler(e) => e.code(),
            ApiError::MissingParameter(_) => "MissingParameter",
            ApiError::InvalidParameter(_) => "InvalidParameterValue",
            ApiError::UnknownAction(_) => "InvalidAction.NotFound",
        }
    }
    pub fn http_status(&self) -> u16 {
        match self {
            ApiError::Scheduler(e) => e.http_status(),
            ApiError::UnknownAction(_) => 404,
            _ => 400,
        }
    }
}

impl From<Error> for ApiError<'_> {
    fn from(e: Error) -> Self {
        ApiError::Scheduler(e)
    }
}

pub struct Caller<'r> {
    pub account: Option<AccountId>,
    pub default_region: Option<&'r Region>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiRequest {
    Command(Command),
    GetJob { account: AccountId, job: JobId },
}

pub fn parse_request<'a, I>(
    action: Action,
    params: I,
    caller: &Caller<'_>,
) -> Result<ApiRequest, ApiError<'a>>
where
    I: Iterator<Item = (&'a str, &'a str)> + Clone,
{
    let get = |name: &str| params.clone().find(|(n, _)| *n == name).map(|(_, v)| v);
    let int = |name: &'static str| -> Result<u64, ApiError<'a>> {
        get(name)
            .ok_or(ApiError::MissingParameter(name))?
            .parse()
            .map_err(|_| ApiError::InvalidParameter(name))
    };
    let account = match caller.account {
        Some(a) => a,
        None => AccountId(int("AccountId")?),
    };
    let region = match get("RegionId") {
        Some(r) => Region::new(r)?,
        None => caller
            .default_region
            .ok_or(ApiError::MissingParameter("RegionId"))?
            .clone(),
    };
    let name = |n: &'static str| -> Result<TrailName, ApiError<'a>> {
        Ok(TrailName::new(
            get(n).ok_or(ApiError::MissingParameter(n))?,
        )?)
    };
    let lease = || -> Result<trail_backfill::Lease, ApiError<'a>> {
        Ok(trail_backfill::Lease {
            account,
            job: JobId(int("JobId")?),
            attempt: u32::try_from(int("Attempt")?)
                .map_err(|_| ApiError::InvalidParameter("Attempt"))?,
            expires_at: Timestamp(0),
        })
    };
    Ok(ApiRequest::Command(match action {
        Action::CreateTrail => Command::CreateTrail {
            account,
            region,
            spec: TrailSpec {
                name: name("Name")?,
                kind: if get("IsOrganizationTrail").is_some_and(|v| v.eq_ignore_ascii_case("true"))
                {
                    TrailKind::Organization
                } else {
                    TrailKind::SingleAccount
                },
                delivers_to_sls: get("SlsProjectArn").is_some(),
            },
        },
        Action::StartLogging => Command::StartLogging {
            account,
            region,
            name: name("Name")?,
        },
        Action::CreateDeliveryHistoryJob => Command::CreateJob(CreateJob {
            account,
            region,
            trail_name: name("TrailName")?,
            client_token: get("ClientToken").map(ClientToken::new).transpose()?,
        }),
        Action::GetDeliveryHistoryJob => {
            return Ok(ApiRequest::GetJob {
                account,
                job: JobId(int("JobId")?),
            });
        }
        Action::ClaimDeliveryHistoryJob => match get("JobId") {
            None => Command::ClaimNext,
            Some(_) => Command::ClaimJob {
                account,
                job: JobId(int("JobId")?),
            },
        },
        Action::FinishDeliveryHistoryJob => Command::FinishJob {
            lease: lease()?,
            outcome: match get("Outcome") {
                Some("Completed") => trail_backfill::JobOutcome::Completed,
                Some("Failed") => trail_backfill::JobOutcome::Failed,
                _ => return Err(ApiError::InvalidParameter("Outcome")),
            },
        },
        Action::HeartbeatDeliveryHistoryJob => Command::Heartbeat { lease: lease()?, delivered: 0 },
        _ => return Err(ApiError::UnknownAction("?")),
    }))
}

pub struct Reply<'a> {
    pub request_id: &'a str,
    pub host_id: Option<&'a str>,
}

impl Reply<'_> {
    pub fn write_error<W: Write + ?Sized>(&self, out: &mut W, error: &ApiError<'_>) -> fmt::Result {
        write!(
            out,
            "{{\"RequestId\":\"{}\",\"HttpStatus\":{},\"Code\":\"{}\",\"Message\":\"{}\"}}",
            self.request_id,
            error.http_status(),
            error.code(),
            "stub"
        )
    }

    pub fn write_effect<W: Write + ?Sized>(
        &self,
        out: &mut W,
        _command: &Command,
        effect: &Effect,
        _next: Option<Timestamp>,
    ) -> fmt::Result {
        match effect {
            Effect::JobCreated(created) => write!(out, "{{\"RequestId\":\"{}\",\"JobId\":{}}}", self.request_id, created.job_id.0),
            Effect::JobClaimed(Some(l)) => write!(out, "{{\"RequestId\":\"{}\",\"JobId\":{},\"AccountId\":{},\"Attempt\":{}}}", self.request_id, l.job.0, l.account.0, l.attempt),
            Effect::JobClaimed(None) => write!(out, "{{\"RequestId\":\"{}\",\"JobId\":null}}", self.request_id),
            _ => write!(out, "{{\"RequestId\":\"{}\"}}", self.request_id),
        }
    }
}

pub fn respond<W, const T: usize, const J: usize, const K: usize>(
    scheduler: &mut JobScheduler<T, J, K>,
    request: &ApiRequest,
    now: Timestamp,
    reply: &Reply<'_>,
    out: &mut W,
) -> Result<u16, fmt::Error>
where
    W: Write + ?Sized,
{
    let error = match request {
        ApiRequest::Command(command) => match scheduler.apply(command, now) {
            Ok(Effect::JobCreated(created)) => {
                write!(
                    out,
                    "{{\"RequestId\":\"{}\",\"JobId\":{}}}",
                    reply.request_id, created.job_id.0
                )?;
                return Ok(200);
            }
            Ok(Effect::JobClaimed(lease)) => {
                match lease {
                    Some(l) => write!(
                        out,
                        "{{\"RequestId\":\"{}\",\"JobId\":{},\"AccountId\":{},\"Attempt\":{}}}",
                        reply.request_id, l.job.0, l.account.0, l.attempt
                    )?,
                    None => write!(
                        out,
                        "{{\"RequestId\":\"{}\",\"JobId\":null}}",
                        reply.request_id
                    )?,
                }
                return Ok(200);
            }
            Ok(_) => {
                write!(out, "{{\"RequestId\":\"{}\"}}", reply.request_id)?;
                return Ok(200);
            }
            Err(e) => e,
        },
        ApiRequest::GetJob { account, job } => match scheduler.job(*account, *job) {
            Some(job) => {
                write!(
                    out,
                    "{{\"RequestId\":\"{}\",\"JobId\":{},\"JobStatus\":{}}}",
                    reply.request_id,
                    job.id.0,
                    job.status.code()
                )?;
                return Ok(200);
            }
            None => Error::JobNotFound,
        },
    };
    let error = ApiError::Scheduler(error);
    reply.write_error(out, &error)?;
    Ok(error.http_status())
}
