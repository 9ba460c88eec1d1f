//! One-line descriptions of commands and answers, for the story's transcript.

use std::fmt::Write as _;

use trail_backfill::{Command, Effect, Error};

/// One line describing a command.
pub fn describe(command: &Command) -> String {
    match command {
        Command::CreateTrail {
            account,
            region,
            spec,
        } => format!("CreateTrail {} {} {}", account.0, region, spec.name),
        Command::DeleteTrail {
            account,
            region,
            name,
        } => format!("DeleteTrail {} {} {}", account.0, region, name),
        Command::StartLogging {
            account,
            region,
            name,
        } => format!("StartLogging {} {} {}", account.0, region, name),
        Command::StopLogging {
            account,
            region,
            name,
        } => format!("StopLogging {} {} {}", account.0, region, name),
        Command::CreateJob(request) => {
            let mut line = format!(
                "CreateJob {} {} {}",
                request.account.0, request.region, request.trail_name
            );
            if let Some(token) = &request.client_token {
                let _ = write!(line, " token={token}");
            }
            line
        }
        Command::StartJob { account, job } => format!("StartJob {} job {}", account.0, job.0),
        Command::CompleteJob {
            account,
            job,
            outcome,
        } => format!("CompleteJob {} job {} {:?}", account.0, job.0, outcome),
        Command::DeleteJob { account, job } => format!("DeleteJob {} job {}", account.0, job.0),
        Command::ClaimNext => "ClaimNext".to_owned(),
        Command::ClaimJob { account, job } => format!("ClaimJob {} job {}", account.0, job.0),
        Command::Heartbeat { lease, delivered } => format!(
            "Heartbeat {} job {} attempt {} delivered {delivered}",
            lease.account.0, lease.job.0, lease.attempt
        ),
        Command::ReportRegion {
            lease,
            region,
            status,
        } => format!(
            "ReportRegion {} job {} attempt {} {region} {status:?}",
            lease.account.0, lease.job.0, lease.attempt
        ),
        Command::FinishJob { lease, outcome } => format!(
            "FinishJob {} job {} attempt {} {outcome:?}",
            lease.account.0, lease.job.0, lease.attempt
        ),
        Command::StopJob { account, job } => format!("StopJob {} job {}", account.0, job.0),
        Command::HandleTimeout => "HandleTimeout".to_owned(),
        other => format!("{other:?}"),
    }
}

/// One line describing an answer.
pub fn describe_result(result: &Result<Effect, Error>) -> String {
    match result {
        Ok(Effect::JobCreated(created)) if created.replayed => {
            format!("200 JobId {} (replayed)", created.job_id.0)
        }
        Ok(Effect::JobCreated(created)) => format!("200 JobId {}", created.job_id.0),
        Ok(Effect::JobDeleted(job)) => format!("200 deleted job {}", job.id.0),
        Ok(Effect::JobClaimed(Some(lease))) => format!(
            "200 leased job {} attempt {} until {}",
            lease.job.0, lease.attempt, lease.expires_at
        ),
        Ok(Effect::JobClaimed(None)) => "200 nothing to claim".to_owned(),
        Ok(Effect::LeaseExtended(until)) => format!("200 lease until {until}"),
        Ok(Effect::TimeoutsHandled(report)) => format!(
            "200 {} lease(s) expired, {} job(s) failed",
            report.leases_expired, report.jobs_failed
        ),
        Ok(effect) => format!("200 {effect:?}"),
        Err(error) => format!("{} {}", error.http_status(), error.code()),
    }
}
