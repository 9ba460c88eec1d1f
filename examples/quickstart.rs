//! The seed document's story, one response per line: create a trail, start logging, create a
//! data backfill task (with the seed's `ClientToken`), retry it, and watch the rules answer.
//!
//! Run it with `cargo run --example quickstart`.

use trail_backfill::{
    AccountId, ClientToken, Command, Config, CreateJob, Effect, Error, JobId, JobOutcome,
    JobScheduler, Region, Timestamp, TrailKind, TrailName, TrailSpec,
};

fn main() -> Result<(), Error> {
    let mut scheduler: Box<JobScheduler<16, 64, 64>> = Box::new(JobScheduler::new(Config {
        hash_seed: 0x0123_4567_89ab_cdef,
        ..Config::DEFAULT
    }));
    let account = AccountId(1_512_666_876_910_001);
    let region = Region::new("cn-hangzhou")?;
    let trail = TrailName::new("trail-name")?;
    let token = ClientToken::new("123e4567-e89b-12d3-a456-42665544****")?;
    let create_job = |trail_name: &TrailName, client_token: Option<&ClientToken>| {
        Command::CreateJob(CreateJob {
            account,
            region: region.clone(),
            trail_name: trail_name.clone(),
            client_token: client_token.cloned(),
        })
    };
    let start = Timestamp(1_622_099_703); // 2021-05-27T07:15:03Z
    let steps = [
        Command::CreateTrail {
            account,
            region: region.clone(),
            spec: TrailSpec {
                name: trail.clone(),
                kind: TrailKind::SingleAccount,
                delivers_to_sls: true,
            },
        },
        Command::StartLogging {
            account,
            region: region.clone(),
            name: trail.clone(),
        },
        create_job(&trail, Some(&token)),
        create_job(&trail, Some(&token)), // a retry: the same JobId comes back
        create_job(&TrailName::new("no-such-trail")?, None),
        create_job(&trail, None), // refused: the first job is still running
        Command::StartJob {
            account,
            job: JobId(1),
        },
        Command::CompleteJob {
            account,
            job: JobId(1),
            outcome: JobOutcome::Completed,
        },
        create_job(&trail, None), // allowed now
    ];
    for (second, command) in (0..).zip(&steps) {
        let now = start.saturating_add_secs(second);
        let answer = match scheduler.apply(command, now) {
            Ok(Effect::JobCreated(created)) => {
                format!("200 JobId={} replayed={}", created.job_id, created.replayed)
            }
            Ok(effect) => format!("200 {effect:?}"),
            Err(error) => format!("{} {}: {error}", error.http_status(), error.code()),
        };
        println!("{now}  {:<13} {answer}", name_of(command));
    }
    let job = scheduler.job(account, JobId(1)).ok_or(Error::JobNotFound)?;
    println!(
        "job {} is {} and re-delivered events from {} to {}",
        job.id, job.status, job.window_start, job.window_end
    );
    Ok(())
}

fn name_of(command: &Command) -> &'static str {
    match command {
        Command::CreateTrail { .. } => "CreateTrail",
        Command::DeleteTrail { .. } => "DeleteTrail",
        Command::StartLogging { .. } => "StartLogging",
        Command::StopLogging { .. } => "StopLogging",
        Command::CreateJob(_) => "CreateJob",
        Command::StartJob { .. } => "StartJob",
        Command::CompleteJob { .. } => "CompleteJob",
        Command::DeleteJob { .. } => "DeleteJob",
        Command::ClaimNext => "ClaimNext",
        Command::ClaimJob { .. } => "ClaimJob",
        Command::Heartbeat { .. } => "Heartbeat",
        Command::ReportRegion { .. } => "ReportRegion",
        Command::FinishJob { .. } => "FinishJob",
        Command::StopJob { .. } => "StopJob",
        Command::HandleTimeout => "HandleTimeout",
        _ => "a command newer than this example",
    }
}
