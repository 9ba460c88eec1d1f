//! How a snapshot lists a job (version 2: the job and its regions), and the records of
//! version 1 that this build still reads.

use core::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::config::Config;
use crate::ids::{AccountId, JobId, Region, TrailName};
use crate::job::{Job, JobStatus};
use crate::lease::FailureReason;
use crate::listed::Listed;
use crate::regions::{MAX_REGIONS, RegionCatalogue, RegionStatuses};
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

/// A job record read from a version-2 snapshot.
#[derive(Deserialize)]
pub(super) struct JobRecordIn {
    pub(super) job: Job,
    pub(super) regions: heapless::Vec<(Region, JobStatus), MAX_REGIONS>,
}

/// A job record of either version, told apart by its keys: `{ job, regions }` is version 2,
/// the job's own fields version 1. Only self-describing formats (JSON) can do this; it reads
/// the jobs of a snapshot that names its `format_version` after them.
// Lives on the stack for one record at a time; boxing the larger variant would allocate.
#[allow(clippy::large_enum_variant)]
pub(super) enum AnyJobRecord {
    V1(JobV1),
    V2(JobRecordIn),
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum AnyField {
    Job,
    Regions,
    Id,
    Account,
    Region,
    TrailName,
    Status,
    CreatedAt,
    UpdatedAt,
    WindowStart,
    WindowEnd,
    #[serde(other)]
    Other,
}

impl<'de> Deserialize<'de> for AnyJobRecord {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(AnyJobVisitor)
    }
}

struct AnyJobVisitor;

/// Reads one field into `slot`, refusing it the second time.
fn once<'de, T: Deserialize<'de>, A: MapAccess<'de>>(
    map: &mut A,
    slot: &mut Option<T>,
    name: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

impl<'de> Visitor<'de> for AnyJobVisitor {
    type Value = AnyJobRecord;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a job record")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AnyJobRecord, A::Error> {
        let (mut job, mut regions) = (None, None);
        let (mut id, mut account, mut region, mut trail_name, mut status) =
            (None, None, None, None, None);
        let (mut created_at, mut updated_at, mut window_start, mut window_end) =
            (None, None, None, None);
        while let Some(field) = map.next_key::<AnyField>()? {
            match field {
                AnyField::Job => once(&mut map, &mut job, "job")?,
                AnyField::Regions => once(&mut map, &mut regions, "regions")?,
                AnyField::Id => once(&mut map, &mut id, "id")?,
                AnyField::Account => once(&mut map, &mut account, "account")?,
                AnyField::Region => once(&mut map, &mut region, "region")?,
                AnyField::TrailName => once(&mut map, &mut trail_name, "trail_name")?,
                AnyField::Status => once(&mut map, &mut status, "status")?,
                AnyField::CreatedAt => once(&mut map, &mut created_at, "created_at")?,
                AnyField::UpdatedAt => once(&mut map, &mut updated_at, "updated_at")?,
                AnyField::WindowStart => once(&mut map, &mut window_start, "window_start")?,
                AnyField::WindowEnd => once(&mut map, &mut window_end, "window_end")?,
                AnyField::Other => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        if let Some(job) = job {
            let regions = regions.ok_or_else(|| de::Error::missing_field("regions"))?;
            return Ok(AnyJobRecord::V2(JobRecordIn { job, regions }));
        }
        let missing = de::Error::missing_field;
        Ok(AnyJobRecord::V1(JobV1 {
            id: id.ok_or_else(|| missing("job"))?,
            account: account.ok_or_else(|| missing("account"))?,
            region: region.ok_or_else(|| missing("region"))?,
            trail_name: trail_name.ok_or_else(|| missing("trail_name"))?,
            status: status.ok_or_else(|| missing("status"))?,
            created_at: created_at.ok_or_else(|| missing("created_at"))?,
            updated_at: updated_at.ok_or_else(|| missing("updated_at"))?,
            window_start: window_start.ok_or_else(|| missing("window_start"))?,
            window_end: window_end.ok_or_else(|| missing("window_end"))?,
        }))
    }
}

/// A job as version 1 wrote it.
#[derive(Deserialize)]
#[serde(rename = "Job")]
pub(super) struct JobV1 {
    id: JobId,
    account: AccountId,
    region: Region,
    trail_name: TrailName,
    status: JobStatus,
    created_at: Timestamp,
    updated_at: Timestamp,
    window_start: Timestamp,
    window_end: Timestamp,
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
