//! How a snapshot lists a job (version 2: the job and its regions), and the records of
//! version 1 that this build still reads.

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

use crate::config::Config;
use crate::ids::{AccountId, JobId, Region, TrailName};
use crate::job::{Job, JobStatus};
use crate::lease::FailureReason;
use crate::listed::Listed;
use crate::regions::{RegionCatalogue, RegionStatuses};
use crate::time::Timestamp;

/// A job as a version-2 snapshot lists it: `{ job, regions }`, its regions as `(region,
/// status)` pairs in byte order of the region ids.
pub(super) struct JobRecord<'a> {
    pub(super) job: &'a Job,
    pub(super) regions: &'a RegionStatuses,
    pub(super) catalogue: &'a RegionCatalogue,
}

impl Serialize for JobRecord<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut record = serializer.serialize_struct("JobRecord", 2)?;
        record.serialize_field("job", self.job)?;
        let regions = Listed::counted(|| self.regions.iter(self.catalogue));
        record.serialize_field("regions", &regions)?;
        record.end()
    }
}

/// A job as version 1 wrote it.
#[derive(Deserialize)]
#[serde(rename = "Job")]
pub(super) struct JobV1 {
    pub(super) id: JobId,
    pub(super) account: AccountId,
    pub(super) region: Region,
    pub(super) trail_name: TrailName,
    pub(super) status: JobStatus,
    pub(super) created_at: Timestamp,
    pub(super) updated_at: Timestamp,
    pub(super) window_start: Timestamp,
    pub(super) window_end: Timestamp,
}

/// A version-1 job gets what a job had before the worker protocol: no attempt, no lease,
/// claimable from its creation, nothing delivered, and `Reported` as the reason of a failure.
impl From<JobV1> for Job {
    fn from(v1: JobV1) -> Job {
        Job {
            id: v1.id,
            account: v1.account,
            region: v1.region,
            trail_name: v1.trail_name,
            status: v1.status,
            created_at: v1.created_at,
            updated_at: v1.updated_at,
            window_start: v1.window_start,
            window_end: v1.window_end,
            attempt: 0,
            lease_expires_at: None,
            not_before: v1.created_at,
            delivered: 0,
            failure: (v1.status == JobStatus::Failed).then_some(FailureReason::Reported),
        }
    }
}

/// A config as version 1 wrote it, for formats that are not self-describing (postcard);
/// self-describing ones read [`Config`] with the missing worker settings defaulted.
#[derive(Deserialize)]
#[serde(rename = "Config")]
pub(super) struct ConfigV1 {
    token_ttl_secs: u64,
    retention_secs: u64,
    grace_secs: u64,
    max_trails_per_account: u32,
    first_job_id: u64,
    hash_seed: u64,
}

/// A version-1 config gets `Config::DEFAULT`'s worker settings.
impl From<ConfigV1> for Config {
    fn from(v1: ConfigV1) -> Config {
        Config {
            token_ttl_secs: v1.token_ttl_secs,
            retention_secs: v1.retention_secs,
            grace_secs: v1.grace_secs,
            max_trails_per_account: v1.max_trails_per_account,
            first_job_id: v1.first_job_id,
            hash_seed: v1.hash_seed,
            ..Config::DEFAULT
        }
    }
}
