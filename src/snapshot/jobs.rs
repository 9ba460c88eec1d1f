//! Reading a snapshot's job records straight into the scheduler: each job with its region
//! statuses resolved against the catalogue as they are read, so that a record never needs a
//! list of 64 region names on the stack (moving such a record around cost more than the rest
//! of a restore).

use core::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use super::error::{SnapshotError, SnapshotTable};
use super::load::Reason;
use super::records::JobV1;
use crate::ids::{JobId, Region};
use crate::job::{Job, JobStatus};
use crate::regions::{MAX_REGIONS, RegionStatuses};
use crate::scheduler::JobScheduler;

/// How the job records of a snapshot are laid out.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Layout {
    /// Version 1: the job's own fields.
    V1,
    /// Version 2: `{ job, regions }`.
    V2,
    /// Not known yet (a self-describing snapshot whose `format_version` comes later): told
    /// apart by each record's keys.
    Either,
}

/// The next job of a list, with its region statuses.
pub(super) fn next_job<
    'de,
    A: SeqAccess<'de>,
    const TRAILS: usize,
    const JOBS: usize,
    const TOKENS: usize,
>(
    seq: &mut A,
    scheduler: &mut JobScheduler<TRAILS, JOBS, TOKENS>,
    reason: &Reason,
    layout: Layout,
) -> Result<Option<(Job, RegionStatuses)>, A::Error> {
    if layout == Layout::V1 {
        return Ok(seq
            .next_element::<JobV1>()?
            .map(|job| (Job::from(job), RegionStatuses::NONE)));
    }
    seq.next_element_seed(RecordSeed {
        scheduler,
        reason,
        layout,
    })
}

/// The catalogue index of `region`, learned if new (a job's regions may be read before the
/// catalogue: the catalogue is their union).
pub(super) fn learn_region<
    E: de::Error,
    const TRAILS: usize,
    const JOBS: usize,
    const TOKENS: usize,
>(
    scheduler: &mut JobScheduler<TRAILS, JOBS, TOKENS>,
    reason: &Reason,
    region: &Region,
) -> Result<u8, E> {
    scheduler.regions.learn(region).ok_or_else(|| {
        reason.refuse(SnapshotError::OverCapacity {
            table: SnapshotTable::Regions,
            capacity: MAX_REGIONS,
        })
    })
}

/// One job record, version 2 or (with [`Layout::Either`]) version 1.
struct RecordSeed<'a, const TRAILS: usize, const JOBS: usize, const TOKENS: usize> {
    scheduler: &'a mut JobScheduler<TRAILS, JOBS, TOKENS>,
    reason: &'a Reason,
    layout: Layout,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum RecordField {
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

impl<'de, const TRAILS: usize, const JOBS: usize, const TOKENS: usize> DeserializeSeed<'de>
    for RecordSeed<'_, TRAILS, JOBS, TOKENS>
{
    type Value = (Job, RegionStatuses);

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        if self.layout == Layout::Either {
            deserializer.deserialize_map(self)
        } else {
            deserializer.deserialize_struct("JobRecord", &["job", "regions"], self)
        }
    }
}

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

impl<'de, const TRAILS: usize, const JOBS: usize, const TOKENS: usize> Visitor<'de>
    for RecordSeed<'_, TRAILS, JOBS, TOKENS>
{
    type Value = (Job, RegionStatuses);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a job record")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let job: Job = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(0, &"a job and its regions"))?;
        let regions = RegionsSeed {
            scheduler: self.scheduler,
            reason: self.reason,
        };
        let (statuses, repeated) = seq
            .next_element_seed(regions)?
            .ok_or_else(|| de::Error::invalid_length(1, &"a job and its regions"))?;
        if repeated {
            return Err(self.reason.refuse(SnapshotError::RegionListedTwice(job.id)));
        }
        Ok((job, statuses))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let RecordSeed {
            scheduler, reason, ..
        } = self;
        let mut job: Option<Job> = None;
        let mut regions: Option<(RegionStatuses, bool)> = None;
        // A version-1 record's fields, for `Layout::Either`.
        let (mut id, mut account, mut region, mut trail_name, mut status) =
            (None, None, None, None, None);
        let (mut created_at, mut updated_at, mut window_start, mut window_end) =
            (None, None, None, None);
        while let Some(field) = map.next_key::<RecordField>()? {
            match field {
                RecordField::Job => once(&mut map, &mut job, "job")?,
                RecordField::Regions => {
                    if regions.is_some() {
                        return Err(de::Error::duplicate_field("regions"));
                    }
                    regions = Some(map.next_value_seed(RegionsSeed {
                        scheduler: &mut *scheduler,
                        reason,
                    })?);
                }
                RecordField::Id => once(&mut map, &mut id, "id")?,
                RecordField::Account => once(&mut map, &mut account, "account")?,
                RecordField::Region => once(&mut map, &mut region, "region")?,
                RecordField::TrailName => once(&mut map, &mut trail_name, "trail_name")?,
                RecordField::Status => once(&mut map, &mut status, "status")?,
                RecordField::CreatedAt => once(&mut map, &mut created_at, "created_at")?,
                RecordField::UpdatedAt => once(&mut map, &mut updated_at, "updated_at")?,
                RecordField::WindowStart => once(&mut map, &mut window_start, "window_start")?,
                RecordField::WindowEnd => once(&mut map, &mut window_end, "window_end")?,
                RecordField::Other => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        let missing = de::Error::missing_field;
        if let Some(job) = job {
            let (statuses, repeated) = regions.ok_or_else(|| missing("regions"))?;
            if repeated {
                return Err(reason.refuse(SnapshotError::RegionListedTwice(job.id)));
            }
            return Ok((job, statuses));
        }
        let id: JobId = id.ok_or_else(|| missing("job"))?;
        let v1 = JobV1 {
            id,
            account: account.ok_or_else(|| missing("account"))?,
            region: region.ok_or_else(|| missing("region"))?,
            trail_name: trail_name.ok_or_else(|| missing("trail_name"))?,
            status: status.ok_or_else(|| missing("status"))?,
            created_at: created_at.ok_or_else(|| missing("created_at"))?,
            updated_at: updated_at.ok_or_else(|| missing("updated_at"))?,
            window_start: window_start.ok_or_else(|| missing("window_start"))?,
            window_end: window_end.ok_or_else(|| missing("window_end"))?,
        };
        Ok((Job::from(v1), RegionStatuses::NONE))
    }
}

/// A job's regions as `(region, status)` pairs, each learned into the catalogue as it comes;
/// answers the statuses and whether a region was listed twice (refused by the caller, which
/// knows the job's id).
struct RegionsSeed<'a, const TRAILS: usize, const JOBS: usize, const TOKENS: usize> {
    scheduler: &'a mut JobScheduler<TRAILS, JOBS, TOKENS>,
    reason: &'a Reason,
}

impl<'de, const TRAILS: usize, const JOBS: usize, const TOKENS: usize> DeserializeSeed<'de>
    for RegionsSeed<'_, TRAILS, JOBS, TOKENS>
{
    type Value = (RegionStatuses, bool);

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, const TRAILS: usize, const JOBS: usize, const TOKENS: usize> Visitor<'de>
    for RegionsSeed<'_, TRAILS, JOBS, TOKENS>
{
    type Value = (RegionStatuses, bool);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of (region, status) pairs")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut statuses = RegionStatuses::NONE;
        let mut repeated = false;
        while let Some((region, status)) = seq.next_element::<(Region, JobStatus)>()? {
            let index = learn_region(self.scheduler, self.reason, &region)?;
            repeated |= statuses.get(index).is_some();
            statuses.set(index, status);
        }
        Ok((statuses, repeated))
    }
}
