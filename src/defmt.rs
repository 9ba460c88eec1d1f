//! The `defmt` feature: [`defmt::Format`] for every public value type, so firmware can log
//! commands, effects, jobs and errors with `defmt::info!("{}", effect)`.
//!
//! Written by hand, one impl per type, in this one file (as heapless does), so the types' own
//! files carry no defmt attributes. The output reads like `Debug`, with two differences: value
//! types print as their `Display` does (`JobId` as `16602`, `Region` as `cn-hangzhou`,
//! `Timestamp` as `2021-05-27T07:15:03Z`), and [`Config`] hides its `hash_seed`.
//!
//! Every `match` and every destructuring names all variants and fields, without `..`: a variant
//! or field added later fails to compile here until it is logged too.
//!
//! Format strings are interned by defmt, so a log record carries only the values: an enum
//! variant costs its index, a `Timestamp` its date and time fields (13 bytes).

use defmt::{Format, Formatter, write};

use crate::command::{Command, Effect};
use crate::config::Config;
use crate::error::{Error, Ineligibility, Parameter, Table};
use crate::ids::{AccountId, ClientToken, JobId, Region, TrailName};
use crate::invariants::{Index, InvariantViolation};
use crate::job::{CreateJob, Job, JobCreated, JobOutcome, JobStatus};
use crate::lease::{FailureReason, Lease, TimeoutReport};
use crate::scheduler::{Stats, Transition};
use crate::time::{CivilTime, ParseErrorKind, ParseTimestampError, Timestamp};
use crate::trail::{Trail, TrailKind, TrailSpec};

// ----- values

impl Format for AccountId {
    fn format(&self, f: Formatter<'_>) {
        write!(f, "{=u64}", self.0);
    }
}

impl Format for JobId {
    fn format(&self, f: Formatter<'_>) {
        write!(f, "{=u64}", self.0);
    }
}

/// ISO-8601, as `Display` prints it. The calendar arithmetic runs on the device (a few
/// divisions) so that the host shows a date, not a count of seconds.
impl Format for Timestamp {
    fn format(&self, f: Formatter<'_>) {
        let CivilTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
        } = CivilTime::from_unix_secs(self.0);
        write!(
            f,
            "{=u64:04}-{=u8:02}-{=u8:02}T{=u8:02}:{=u8:02}:{=u8:02}Z",
            year, month, day, hour, minute, second
        );
    }
}

impl Format for ParseTimestampError {
    fn format(&self, f: Formatter<'_>) {
        match self.kind {
            ParseErrorKind::Syntax => write!(f, "ParseTimestampError(Syntax)"),
            ParseErrorKind::FieldOutOfRange => write!(f, "ParseTimestampError(FieldOutOfRange)"),
            ParseErrorKind::BeforeEpoch => write!(f, "ParseTimestampError(BeforeEpoch)"),
            ParseErrorKind::AfterMax => write!(f, "ParseTimestampError(AfterMax)"),
        }
    }
}

impl Format for Region {
    fn format(&self, f: Formatter<'_>) {
        write!(f, "{=str}", self.as_str());
    }
}

impl Format for TrailName {
    fn format(&self, f: Formatter<'_>) {
        write!(f, "{=str}", self.as_str());
    }
}

impl Format for ClientToken {
    fn format(&self, f: Formatter<'_>) {
        write!(f, "{=str}", self.as_str());
    }
}

// ----- jobs

impl Format for JobStatus {
    fn format(&self, f: Formatter<'_>) {
        match self {
            JobStatus::Initializing => write!(f, "Initializing"),
            JobStatus::Delivering => write!(f, "Delivering"),
            JobStatus::Completed => write!(f, "Completed"),
            JobStatus::Failed => write!(f, "Failed"),
        }
    }
}

impl Format for JobOutcome {
    fn format(&self, f: Formatter<'_>) {
        match self {
            JobOutcome::Completed => write!(f, "Completed"),
            JobOutcome::Failed => write!(f, "Failed"),
        }
    }
}

impl Format for Job {
    fn format(&self, f: Formatter<'_>) {
        let Job {
            id,
            account,
            region,
            trail_name,
            status,
            created_at,
            updated_at,
            window_start,
            window_end,
            attempt,
            lease_expires_at,
            not_before,
            delivered,
            failure,
        } = self;
        write!(
            f,
            "Job {{ id: {}, account: {}, region: {}, trail_name: {}, status: {}, \
             created_at: {}, updated_at: {}, window_start: {}, window_end: {}, attempt: {=u32}, \
             lease_expires_at: {}, not_before: {}, delivered: {=u64}, failure: {} }}",
            id,
            account,
            region,
            trail_name,
            status,
            created_at,
            updated_at,
            window_start,
            window_end,
            attempt,
            lease_expires_at,
            not_before,
            delivered,
            failure
        );
    }
}

impl Format for CreateJob {
    fn format(&self, f: Formatter<'_>) {
        let CreateJob {
            account,
            region,
            trail_name,
            client_token,
        } = self;
        write!(
            f,
            "CreateJob {{ account: {}, region: {}, trail_name: {}, client_token: {} }}",
            account, region, trail_name, client_token
        );
    }
}

impl Format for JobCreated {
    fn format(&self, f: Formatter<'_>) {
        let JobCreated { job_id, replayed } = self;
        write!(
            f,
            "JobCreated {{ job_id: {}, replayed: {=bool} }}",
            job_id, replayed
        );
    }
}

impl Format for Lease {
    fn format(&self, f: Formatter<'_>) {
        let Lease {
            account,
            job,
            attempt,
            expires_at,
        } = self;
        write!(
            f,
            "Lease {{ account: {}, job: {}, attempt: {=u32}, expires_at: {} }}",
            account, job, attempt, expires_at
        );
    }
}

impl Format for FailureReason {
    fn format(&self, f: Formatter<'_>) {
        match self {
            FailureReason::Reported => write!(f, "Reported"),
            FailureReason::LeaseExpired => write!(f, "LeaseExpired"),
            FailureReason::DeadlineExceeded => write!(f, "DeadlineExceeded"),
            FailureReason::Stopped => write!(f, "Stopped"),
        }
    }
}

impl Format for TimeoutReport {
    fn format(&self, f: Formatter<'_>) {
        let TimeoutReport {
            leases_expired,
            jobs_failed,
        } = self;
        write!(
            f,
            "TimeoutReport {{ leases_expired: {=u32}, jobs_failed: {=u32} }}",
            leases_expired, jobs_failed
        );
    }
}

// ----- trails

impl Format for TrailKind {
    fn format(&self, f: Formatter<'_>) {
        match self {
            TrailKind::SingleAccount => write!(f, "SingleAccount"),
            TrailKind::Organization => write!(f, "Organization"),
        }
    }
}

impl Format for TrailSpec {
    fn format(&self, f: Formatter<'_>) {
        let TrailSpec {
            name,
            kind,
            delivers_to_sls,
        } = self;
        write!(
            f,
            "TrailSpec {{ name: {}, kind: {}, delivers_to_sls: {=bool} }}",
            name, kind, delivers_to_sls
        );
    }
}

impl Format for Trail {
    fn format(&self, f: Formatter<'_>) {
        let Trail {
            account,
            region,
            name,
            kind,
            delivers_to_sls,
            logging_since,
        } = self;
        write!(
            f,
            "Trail {{ account: {}, region: {}, name: {}, kind: {}, delivers_to_sls: {=bool}, \
             logging_since: {} }}",
            account, region, name, kind, delivers_to_sls, logging_since
        );
    }
}

// ----- the scheduler's answers and settings

impl Format for Transition {
    fn format(&self, f: Formatter<'_>) {
        match self {
            Transition::Changed => write!(f, "Changed"),
            Transition::Unchanged => write!(f, "Unchanged"),
        }
    }
}

impl Format for Stats {
    fn format(&self, f: Formatter<'_>) {
        let Stats {
            trails,
            jobs,
            active_jobs,
            tokens,
            jobs_evicted,
            tokens_evicted_live,
            leased_jobs,
        } = self;
        write!(
            f,
            "Stats {{ trails: {=usize}, jobs: {=usize}, active_jobs: {=usize}, tokens: {=usize}, \
             jobs_evicted: {=u64}, tokens_evicted_live: {=u64}, leased_jobs: {=usize} }}",
            trails, jobs, active_jobs, tokens, jobs_evicted, tokens_evicted_live, leased_jobs
        );
    }
}

/// Every field but `hash_seed`, which is a secret (it keys the hash that defends the tables
/// against HashDoS) and would otherwise end up in every log that prints the config. As `Debug`
/// does, it shows only whether the seed is still the public default or the host's own.
impl Format for Config {
    fn format(&self, f: Formatter<'_>) {
        let Config {
            token_ttl_secs,
            retention_secs,
            grace_secs,
            max_trails_per_account,
            first_job_id,
            hash_seed,
            lease_secs,
            max_attempts,
            retry_backoff_secs,
            max_backoff_secs,
            max_job_secs,
        } = self;
        // Interned, so the record carries an index, not the text.
        let (public, secret) = (
            defmt::intern!("<public default>"),
            defmt::intern!("<secret>"),
        );
        let seed = if *hash_seed == Config::DEFAULT.hash_seed {
            public
        } else {
            secret
        };
        write!(
            f,
            "Config {{ token_ttl_secs: {=u64}, retention_secs: {=u64}, grace_secs: {=u64}, \
             max_trails_per_account: {=u32}, first_job_id: {=u64}, hash_seed: {=istr}, \
             lease_secs: {=u64}, max_attempts: {=u64}, retry_backoff_secs: {=u64}, \
             max_backoff_secs: {=u64}, max_job_secs: {=u64} }}",
            token_ttl_secs,
            retention_secs,
            grace_secs,
            max_trails_per_account,
            first_job_id,
            seed,
            lease_secs,
            max_attempts,
            retry_backoff_secs,
            max_backoff_secs,
            max_job_secs
        );
    }
}

// ----- commands and effects

impl Format for Command {
    fn format(&self, f: Formatter<'_>) {
        match self {
            Command::CreateTrail {
                account,
                region,
                spec,
            } => write!(
                f,
                "CreateTrail {{ account: {}, region: {}, spec: {} }}",
                account, region, spec
            ),
            Command::DeleteTrail {
                account,
                region,
                name,
            } => write!(
                f,
                "DeleteTrail {{ account: {}, region: {}, name: {} }}",
                account, region, name
            ),
            Command::StartLogging {
                account,
                region,
                name,
            } => write!(
                f,
                "StartLogging {{ account: {}, region: {}, name: {} }}",
                account, region, name
            ),
            Command::StopLogging {
                account,
                region,
                name,
            } => write!(
                f,
                "StopLogging {{ account: {}, region: {}, name: {} }}",
                account, region, name
            ),
            Command::CreateJob(request) => write!(f, "CreateJob({})", request),
            Command::StartJob { account, job } => {
                write!(f, "StartJob {{ account: {}, job: {} }}", account, job)
            }
            Command::CompleteJob {
                account,
                job,
                outcome,
            } => write!(
                f,
                "CompleteJob {{ account: {}, job: {}, outcome: {} }}",
                account, job, outcome
            ),
            Command::DeleteJob { account, job } => {
                write!(f, "DeleteJob {{ account: {}, job: {} }}", account, job)
            }
            Command::ClaimNext => write!(f, "ClaimNext"),
            Command::ClaimJob { account, job } => {
                write!(f, "ClaimJob {{ account: {}, job: {} }}", account, job)
            }
            Command::Heartbeat { lease, delivered } => write!(
                f,
                "Heartbeat {{ lease: {}, delivered: {=u64} }}",
                lease, delivered
            ),
            Command::ReportRegion {
                lease,
                region,
                status,
            } => write!(
                f,
                "ReportRegion {{ lease: {}, region: {}, status: {} }}",
                lease, region, status
            ),
            Command::FinishJob { lease, outcome } => {
                write!(f, "FinishJob {{ lease: {}, outcome: {} }}", lease, outcome)
            }
            Command::StopJob { account, job } => {
                write!(f, "StopJob {{ account: {}, job: {} }}", account, job)
            }
            Command::HandleTimeout => write!(f, "HandleTimeout"),
        }
    }
}

impl Format for Effect {
    fn format(&self, f: Formatter<'_>) {
        match self {
            Effect::TrailCreated => write!(f, "TrailCreated"),
            Effect::TrailDeleted => write!(f, "TrailDeleted"),
            Effect::LoggingStarted(transition) => write!(f, "LoggingStarted({})", transition),
            Effect::LoggingStopped(transition) => write!(f, "LoggingStopped({})", transition),
            Effect::JobCreated(created) => write!(f, "JobCreated({})", created),
            Effect::JobStarted(transition) => write!(f, "JobStarted({})", transition),
            Effect::JobCompleted(transition) => write!(f, "JobCompleted({})", transition),
            Effect::JobDeleted(job) => write!(f, "JobDeleted({})", job),
            Effect::JobClaimed(lease) => write!(f, "JobClaimed({})", lease),
            Effect::LeaseExtended(until) => write!(f, "LeaseExtended({})", until),
            Effect::RegionReported(transition) => write!(f, "RegionReported({})", transition),
            Effect::JobFinished(transition) => write!(f, "JobFinished({})", transition),
            Effect::JobStopped(transition) => write!(f, "JobStopped({})", transition),
            Effect::TimeoutsHandled(report) => write!(f, "TimeoutsHandled({})", report),
        }
    }
}

// ----- errors

impl Format for Parameter {
    fn format(&self, f: Formatter<'_>) {
        match self {
            Parameter::Region => write!(f, "Region"),
            Parameter::ClientToken => write!(f, "ClientToken"),
            Parameter::PageNumber => write!(f, "PageNumber"),
            Parameter::PageSize => write!(f, "PageSize"),
        }
    }
}

impl Format for Ineligibility {
    fn format(&self, f: Formatter<'_>) {
        match self {
            Ineligibility::OrganizationTrail => write!(f, "OrganizationTrail"),
            Ineligibility::NoSlsDelivery => write!(f, "NoSlsDelivery"),
            Ineligibility::NotLogging => write!(f, "NotLogging"),
        }
    }
}

impl Format for Table {
    fn format(&self, f: Formatter<'_>) {
        match self {
            Table::Trails => write!(f, "Trails"),
            Table::Jobs => write!(f, "Jobs"),
            Table::Regions => write!(f, "Regions"),
        }
    }
}

impl Format for Error {
    fn format(&self, f: Formatter<'_>) {
        match self {
            Error::InvalidTrailName => write!(f, "InvalidTrailName"),
            Error::InvalidParameterValue(parameter) => {
                write!(f, "InvalidParameterValue({})", parameter)
            }
            Error::TrailAlreadyExists => write!(f, "TrailAlreadyExists"),
            Error::TrailLimitExceeded => write!(f, "TrailLimitExceeded"),
            Error::TrailNotFound => write!(f, "TrailNotFound"),
            Error::TrailNotEligible(reason) => write!(f, "TrailNotEligible({})", reason),
            Error::JobAlreadyRunning { active } => {
                write!(f, "JobAlreadyRunning {{ active: {} }}", active)
            }
            Error::IdempotentParameterMismatch => write!(f, "IdempotentParameterMismatch"),
            Error::JobNotFound => write!(f, "JobNotFound"),
            Error::InvalidJobStatus { status } => {
                write!(f, "InvalidJobStatus {{ status: {} }}", status)
            }
            Error::JobNotFinished => write!(f, "JobNotFinished"),
            Error::CapacityExhausted(table) => write!(f, "CapacityExhausted({})", table),
            Error::LeaseLost => write!(f, "LeaseLost"),
            Error::JobNotClaimable { until } => {
                write!(f, "JobNotClaimable {{ until: {} }}", until)
            }
        }
    }
}

// ----- snapshots (with `serde`)

#[cfg(feature = "serde")]
impl Format for crate::SnapshotTable {
    fn format(&self, f: Formatter<'_>) {
        use crate::SnapshotTable;
        match self {
            SnapshotTable::Trails => write!(f, "Trails"),
            SnapshotTable::Jobs => write!(f, "Jobs"),
            SnapshotTable::Tokens => write!(f, "Tokens"),
            SnapshotTable::Regions => write!(f, "Regions"),
        }
    }
}

#[cfg(feature = "serde")]
impl Format for crate::SnapshotError {
    fn format(&self, f: Formatter<'_>) {
        use crate::SnapshotError;
        match self {
            SnapshotError::Malformed { field } => {
                write!(f, "Malformed {{ field: {=str} }}", field)
            }
            SnapshotError::UnknownVersion(version) => write!(f, "UnknownVersion({=u32})", version),
            SnapshotError::OverCapacity { table, capacity } => write!(
                f,
                "OverCapacity {{ table: {}, capacity: {=usize} }}",
                table, capacity
            ),
            SnapshotError::DuplicateTrail { account } => {
                write!(f, "DuplicateTrail {{ account: {} }}", account)
            }
            SnapshotError::DuplicateJob(job) => write!(f, "DuplicateJob({})", job),
            SnapshotError::SecondActiveJob { account, job } => write!(
                f,
                "SecondActiveJob {{ account: {}, job: {} }}",
                account, job
            ),
            SnapshotError::DuplicateToken { account } => {
                write!(f, "DuplicateToken {{ account: {} }}", account)
            }
            SnapshotError::RegionListedTwice(job) => write!(f, "RegionListedTwice({})", job),
            SnapshotError::Invariant(violation) => write!(f, "Invariant({})", violation),
        }
    }
}

// ----- invariants

impl Format for Index {
    fn format(&self, f: Formatter<'_>) {
        match self {
            Index::TrailOrder => write!(f, "TrailOrder"),
            Index::TrailKeys => write!(f, "TrailKeys"),
            Index::JobOrder => write!(f, "JobOrder"),
            Index::JobIds => write!(f, "JobIds"),
            Index::FinishedJobs => write!(f, "FinishedJobs"),
            Index::ActiveJobs => write!(f, "ActiveJobs"),
            Index::Accounts => write!(f, "Accounts"),
            Index::Tokens => write!(f, "Tokens"),
            Index::WorkerQueues => write!(f, "WorkerQueues"),
            Index::Regions => write!(f, "Regions"),
        }
    }
}

impl Format for InvariantViolation {
    fn format(&self, f: Formatter<'_>) {
        match self {
            InvariantViolation::SecondActiveJob { account } => {
                write!(f, "SecondActiveJob {{ account: {} }}", account)
            }
            InvariantViolation::JobIdNotBelowNext { job } => {
                write!(f, "JobIdNotBelowNext {{ job: {} }}", job)
            }
            InvariantViolation::DuplicateJobId { job } => {
                write!(f, "DuplicateJobId {{ job: {} }}", job)
            }
            InvariantViolation::TrailLimitExceeded { account } => {
                write!(f, "TrailLimitExceeded {{ account: {} }}", account)
            }
            InvariantViolation::DuplicateTrail { account } => {
                write!(f, "DuplicateTrail {{ account: {} }}", account)
            }
            InvariantViolation::TokenJobIdNotBelowNext { job } => {
                write!(f, "TokenJobIdNotBelowNext {{ job: {} }}", job)
            }
            InvariantViolation::DuplicateToken { account } => {
                write!(f, "DuplicateToken {{ account: {} }}", account)
            }
            InvariantViolation::TokensOutOfOrder => write!(f, "TokensOutOfOrder"),
            InvariantViolation::NextJobIdBelowFirst => write!(f, "NextJobIdBelowFirst"),
            InvariantViolation::IndexMismatch(index) => write!(f, "IndexMismatch({})", index),
            InvariantViolation::OverCapacity => write!(f, "OverCapacity"),
            InvariantViolation::TimeAfterClock => write!(f, "TimeAfterClock"),
            InvariantViolation::WindowStartAfterCreation { job } => {
                write!(f, "WindowStartAfterCreation {{ job: {} }}", job)
            }
            InvariantViolation::UpdatedBeforeCreation { job } => {
                write!(f, "UpdatedBeforeCreation {{ job: {} }}", job)
            }
            InvariantViolation::CreatedOutOfOrder { job } => {
                write!(f, "CreatedOutOfOrder {{ job: {} }}", job)
            }
            InvariantViolation::WindowEndsBeforeStart { job } => {
                write!(f, "WindowEndsBeforeStart {{ job: {} }}", job)
            }
            InvariantViolation::InvalidLease { job } => {
                write!(f, "InvalidLease {{ job: {} }}", job)
            }
            InvariantViolation::TooManyAttempts { job } => {
                write!(f, "TooManyAttempts {{ job: {} }}", job)
            }
            InvariantViolation::FailureReasonMismatch { job } => {
                write!(f, "FailureReasonMismatch {{ job: {} }}", job)
            }
            InvariantViolation::UnfinishedRegion { job } => {
                write!(f, "UnfinishedRegion {{ job: {} }}", job)
            }
            InvariantViolation::TooManyRegions => write!(f, "TooManyRegions"),
        }
    }
}
