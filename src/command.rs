//! [`Command`] and [`Effect`]: every mutation as one value, for logs, replication and replay.
//!
//! A replicated host appends `(Command, now)` to its log and every replica calls
//! [`JobScheduler::apply`] in log order: the same log gives the same answers and the same
//! state everywhere.

use crate::error::Error;
use crate::ids::{AccountId, JobId, Region, TrailName};
use crate::job::{CreateJob, Job, JobCreated, JobOutcome, JobStatus};
use crate::lease::{Lease, TimeoutReport};
use crate::scheduler::{JobScheduler, Transition};
use crate::time::Timestamp;
use crate::trail::TrailSpec;

/// One mutation of the scheduler, with the arguments of the matching method.
///
/// A serialized `Command` is a log entry (a Raft entry, a write-ahead log record): its variant
/// index is a wire format, so new variants are only ever appended, and the enum is
/// `#[non_exhaustive]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Command {
    /// [`JobScheduler::create_trail`].
    CreateTrail {
        /// The caller.
        account: AccountId,
        /// The trail's home region.
        region: Region,
        /// The trail to create.
        spec: TrailSpec,
    },
    /// [`JobScheduler::delete_trail`].
    DeleteTrail {
        /// The caller.
        account: AccountId,
        /// The trail's home region.
        region: Region,
        /// The trail's name.
        name: TrailName,
    },
    /// [`JobScheduler::start_logging`].
    StartLogging {
        /// The caller.
        account: AccountId,
        /// The trail's home region.
        region: Region,
        /// The trail's name.
        name: TrailName,
    },
    /// [`JobScheduler::stop_logging`].
    StopLogging {
        /// The caller.
        account: AccountId,
        /// The trail's home region.
        region: Region,
        /// The trail's name.
        name: TrailName,
    },
    /// [`JobScheduler::create_job`].
    CreateJob(CreateJob),
    /// [`JobScheduler::start_job`].
    StartJob {
        /// The caller.
        account: AccountId,
        /// The job.
        job: JobId,
    },
    /// [`JobScheduler::complete_job`].
    CompleteJob {
        /// The caller.
        account: AccountId,
        /// The job.
        job: JobId,
        /// How it ended.
        outcome: JobOutcome,
    },
    /// [`JobScheduler::delete_job`].
    DeleteJob {
        /// The caller.
        account: AccountId,
        /// The job.
        job: JobId,
    },
    /// [`JobScheduler::claim_next`].
    ClaimNext,
    /// [`JobScheduler::claim_job`].
    ClaimJob {
        /// The job's account.
        account: AccountId,
        /// The job.
        job: JobId,
    },
    /// [`JobScheduler::heartbeat`].
    Heartbeat {
        /// The worker's lease.
        lease: Lease,
        /// Events delivered so far.
        delivered: u64,
    },
    /// [`JobScheduler::report_region`].
    ReportRegion {
        /// The worker's lease.
        lease: Lease,
        /// The region reported.
        region: Region,
        /// Its status there.
        status: JobStatus,
    },
    /// [`JobScheduler::finish_job`].
    FinishJob {
        /// The worker's lease.
        lease: Lease,
        /// How the job ended.
        outcome: JobOutcome,
    },
    /// [`JobScheduler::stop_job`].
    StopJob {
        /// The caller.
        account: AccountId,
        /// The job.
        job: JobId,
    },
    /// [`JobScheduler::handle_timeout`]: a replicated host proposes it at
    /// [`JobScheduler::poll_timeout`], so that every replica applies the same time-driven
    /// changes at the same point of the log.
    HandleTimeout,
}

/// The `Ok` value of the method a [`Command`] ran.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Effect {
    /// The trail was created.
    TrailCreated,
    /// The trail was deleted.
    TrailDeleted,
    /// Logging started, or already was.
    LoggingStarted(Transition),
    /// Logging stopped, or already was.
    LoggingStopped(Transition),
    /// A job was created, or a token replayed.
    JobCreated(JobCreated),
    /// The job started delivering, or already was.
    JobStarted(Transition),
    /// The job finished, or already had with that outcome.
    JobCompleted(Transition),
    /// The job was deleted; here it is.
    JobDeleted(Job),
    /// A job was claimed (`None`: nothing to claim, from [`Command::ClaimNext`]).
    JobClaimed(Option<Lease>),
    /// The lease was extended until this time.
    LeaseExtended(Timestamp),
    /// The region's status was set, or already was as far.
    RegionReported(Transition),
    /// The job finished through its lease, or already had.
    JobFinished(Transition),
    /// The job was stopped, or had already finished.
    JobStopped(Transition),
    /// What `handle_timeout` did.
    TimeoutsHandled(TimeoutReport),
}

impl<const TRAILS: usize, const JOBS: usize, const TOKENS: usize>
    JobScheduler<TRAILS, JOBS, TOKENS>
{
    /// Runs `command` exactly as its method would, at `now`. Commands whose method takes no
    /// time ([`Command::DeleteTrail`], [`Command::DeleteJob`]) ignore `now`.
    ///
    /// # Errors
    ///
    /// The errors of the matching method; as there, an error changes nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use trail_backfill::*;
    ///
    /// let mut scheduler: JobScheduler<4, 4, 4> = JobScheduler::new(Config::DEFAULT);
    /// let command = Command::StartJob { account: AccountId(1), job: JobId(9) };
    /// assert_eq!(scheduler.apply(&command, Timestamp(10)), Err(Error::JobNotFound));
    /// ```
    pub fn apply(&mut self, command: &Command, now: Timestamp) -> Result<Effect, Error> {
        match command {
            Command::CreateTrail {
                account,
                region,
                spec,
            } => self
                .create_trail(*account, region, spec, now)
                .map(|()| Effect::TrailCreated),
            Command::DeleteTrail {
                account,
                region,
                name,
            } => self
                .delete_trail(*account, region, name)
                .map(|()| Effect::TrailDeleted),
            Command::StartLogging {
                account,
                region,
                name,
            } => self
                .start_logging(*account, region, name, now)
                .map(Effect::LoggingStarted),
            Command::StopLogging {
                account,
                region,
                name,
            } => self
                .stop_logging(*account, region, name, now)
                .map(Effect::LoggingStopped),
            Command::CreateJob(request) => self.create_job(request, now).map(Effect::JobCreated),
            Command::StartJob { account, job } => {
                self.start_job(*account, *job, now).map(Effect::JobStarted)
            }
            Command::CompleteJob {
                account,
                job,
                outcome,
            } => self
                .complete_job(*account, *job, *outcome, now)
                .map(Effect::JobCompleted),
            Command::DeleteJob { account, job } => {
                self.delete_job(*account, *job).map(Effect::JobDeleted)
            }
            Command::ClaimNext => Ok(Effect::JobClaimed(self.claim_next(now))),
            Command::ClaimJob { account, job } => self
                .claim_job(*account, *job, now)
                .map(|lease| Effect::JobClaimed(Some(lease))),
            Command::Heartbeat { lease, delivered } => self
                .heartbeat(lease, *delivered, now)
                .map(Effect::LeaseExtended),
            Command::ReportRegion {
                lease,
                region,
                status,
            } => self
                .report_region(lease, region, *status, now)
                .map(Effect::RegionReported),
            Command::FinishJob { lease, outcome } => self
                .finish_job(lease, *outcome, now)
                .map(Effect::JobFinished),
            Command::StopJob { account, job } => {
                self.stop_job(*account, *job, now).map(Effect::JobStopped)
            }
            Command::HandleTimeout => Ok(Effect::TimeoutsHandled(self.handle_timeout(now))),
        }
    }
}
