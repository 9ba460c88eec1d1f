//! Carrying out a request: one function per action, each the scheduler method it names.

use serde_json::Value;
use trail_backfill::{
    AccountId, ClientToken, CreateJob, Error, JobId, Parameter, TrailKind, TrailSpec, Transition,
};

use super::Scheduler;
use super::answer::{Failure, JobDetail, JobView, Reply};
use super::parse::{Action, Request};

/// Parses one request line and carries it out.
pub fn handle(scheduler: &mut Scheduler, line: &[u8]) -> Result<Reply, Failure> {
    let value: Value = serde_json::from_slice(line)
        .map_err(|e| Failure::malformed(format!("The request is not valid JSON: {e}.")))?;
    let object = value
        .as_object()
        .ok_or_else(|| Failure::malformed("The request is not a JSON object.".to_owned()))?;
    let request = Request::parse(object)?;
    let s = scheduler;
    match request.action {
        Action::CreateTrail => create_trail(s, &request),
        Action::DeleteTrail => delete_trail(s, &request),
        Action::StartLogging => start_logging(s, &request),
        Action::StopLogging => stop_logging(s, &request),
        Action::CreateDeliveryHistoryJob => create_job(s, &request),
        Action::GetDeliveryHistoryJob => get_job(s, &request),
        Action::ListDeliveryHistoryJobs => list_jobs(s, &request),
        Action::DeleteDeliveryHistoryJob => delete_job(s, &request),
        Action::StartDeliveryHistoryJob => start_job(s, &request),
        Action::CompleteDeliveryHistoryJob => complete_job(s, &request),
        Action::ClaimDeliveryHistoryJob => claim_job(s, &request),
        Action::HeartbeatDeliveryHistoryJob => heartbeat(s, &request),
        Action::ReportDeliveryHistoryJobRegion => report_region(s, &request),
        Action::FinishDeliveryHistoryJob => finish_job(s, &request),
        Action::StopDeliveryHistoryJob => stop_job(s, &request),
        Action::HandleTimeouts => handle_timeouts(s, &request),
    }
}

fn create_trail(s: &mut Scheduler, r: &Request) -> Result<Reply, Failure> {
    let name = r.trail_name("Name")?;
    let kind = match r.params.flag("IsOrganizationTrail")? {
        true => TrailKind::Organization,
        false => TrailKind::SingleAccount,
    };
    let delivers_to_sls = r.params.has_string("SlsProjectArn")?;
    let spec = TrailSpec {
        name,
        kind,
        delivers_to_sls,
    };
    s.create_trail(r.account, &r.region, &spec, r.at)?;
    Ok(Reply::Trail {
        name: spec.name.as_str().to_owned(),
        home_region: r.region.as_str().to_owned(),
    })
}

fn delete_trail(s: &mut Scheduler, r: &Request) -> Result<Reply, Failure> {
    s.delete_trail(r.account, &r.region, &r.trail_name("Name")?)?;
    Ok(Reply::Done {})
}

fn start_logging(s: &mut Scheduler, r: &Request) -> Result<Reply, Failure> {
    let transition = s.start_logging(r.account, &r.region, &r.trail_name("Name")?, r.at)?;
    Ok(changed(transition))
}

fn stop_logging(s: &mut Scheduler, r: &Request) -> Result<Reply, Failure> {
    let transition = s.stop_logging(r.account, &r.region, &r.trail_name("Name")?, r.at)?;
    Ok(changed(transition))
}

fn create_job(s: &mut Scheduler, r: &Request) -> Result<Reply, Failure> {
    let trail_name = r.trail_name("TrailName")?;
    let client_token = match r.params.get("ClientToken") {
        None => None,
        Some(token) => {
            Some(ClientToken::new(token.as_str().ok_or(
                Error::InvalidParameterValue(Parameter::ClientToken),
            )?)?)
        }
    };
    let request = CreateJob {
        account: r.account,
        region: r.region.clone(),
        trail_name,
        client_token,
    };
    let created = s.create_job(&request, r.at)?;
    Ok(Reply::Created {
        job_id: created.job_id.0,
    })
}

fn get_job(s: &mut Scheduler, r: &Request) -> Result<Reply, Failure> {
    let id = r.job_id()?;
    let job = s.job(r.account, id).ok_or(Error::JobNotFound)?;
    let regions = s.job_regions(r.account, id).ok_or(Error::JobNotFound)?;
    Ok(Reply::Job(JobDetail::new(job, regions)))
}

fn list_jobs(s: &mut Scheduler, r: &Request) -> Result<Reply, Failure> {
    let page_number = r.params.page(
        "PageNumber",
        1,
        Error::InvalidParameterValue(Parameter::PageNumber),
    )?;
    let page_size = r.params.page(
        "PageSize",
        20,
        Error::InvalidParameterValue(Parameter::PageSize),
    )?;
    let page = s.list_jobs(r.account, page_number, page_size)?;
    Ok(Reply::Page {
        delivery_history_jobs: page.jobs().map(JobView::from).collect(),
        page_number: page.page_number,
        page_size: page.page_size,
        total_count: page.total_count,
    })
}

fn delete_job(s: &mut Scheduler, r: &Request) -> Result<Reply, Failure> {
    s.delete_job(r.account, r.job_id()?)?;
    Ok(Reply::Done {})
}

fn start_job(s: &mut Scheduler, r: &Request) -> Result<Reply, Failure> {
    let id = r.job_id()?;
    let transition = s.start_job(r.account, id, r.at)?;
    Ok(worker_reply(s, r.account, id, transition))
}

fn complete_job(s: &mut Scheduler, r: &Request) -> Result<Reply, Failure> {
    let id = r.job_id()?;
    let outcome = r.outcome()?;
    let transition = s.complete_job(r.account, id, outcome, r.at)?;
    Ok(worker_reply(s, r.account, id, transition))
}

// The worker protocol (leases). Every lease comes from the line: see `Request::lease`.

/// `claim_job` with a `JobId`, `claim_next` without one (the line's `AccountId` is then
/// ignored: the answer names the claimed job's account).
fn claim_job(s: &mut Scheduler, r: &Request) -> Result<Reply, Failure> {
    let lease = match r.params.optional_integer("JobId")? {
        Some(id) => Some(s.claim_job(r.account, JobId(id), r.at)?),
        None => s.claim_next(r.at),
    };
    Ok(Reply::claimed(lease))
}

fn heartbeat(s: &mut Scheduler, r: &Request) -> Result<Reply, Failure> {
    let lease = r.lease()?;
    let delivered = r.params.optional_integer("Delivered")?.unwrap_or(0);
    let expires_at = s.heartbeat(&lease, delivered, r.at)?;
    Ok(Reply::Extended {
        lease_expires_at: expires_at.to_string(),
    })
}

fn report_region(s: &mut Scheduler, r: &Request) -> Result<Reply, Failure> {
    let lease = r.lease()?;
    let region = r.reported_region()?;
    let status = r.status()?;
    let transition = s.report_region(&lease, &region, status, r.at)?;
    Ok(changed(transition))
}

fn finish_job(s: &mut Scheduler, r: &Request) -> Result<Reply, Failure> {
    let lease = r.lease()?;
    let outcome = r.outcome()?;
    Ok(changed(s.finish_job(&lease, outcome, r.at)?))
}

fn stop_job(s: &mut Scheduler, r: &Request) -> Result<Reply, Failure> {
    Ok(changed(s.stop_job(r.account, r.job_id()?, r.at)?))
}

/// What the host's timer does: `handle_timeout`, then `poll_timeout` for the next wake-up.
fn handle_timeouts(s: &mut Scheduler, r: &Request) -> Result<Reply, Failure> {
    let report = s.handle_timeout(r.at);
    Ok(Reply::timeouts(report, s.poll_timeout()))
}

fn changed(transition: Transition) -> Reply {
    Reply::Changed {
        changed: transition == Transition::Changed,
    }
}

/// The worker's answer: the job's status after the call.
fn worker_reply(s: &Scheduler, account: AccountId, id: JobId, transition: Transition) -> Reply {
    Reply::Worker {
        job_id: id.0,
        job_status: s.job(account, id).map_or(0, |job| job.status.code()),
        changed: transition == Transition::Changed,
    }
}
