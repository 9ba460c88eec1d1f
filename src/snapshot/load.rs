//! Reading a snapshot straight into a scheduler that was just reset: the fields in any order
//! (self-describing formats), each table entry by entry, and the reason of a refusal kept as
//! a [`SnapshotError`] beside the format's own error.

use core::cell::Cell;
use core::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::error::{SnapshotError, SnapshotTable};
use super::jobs::{Layout, learn_region, next_job};
use super::records::ConfigV1;
use super::{FORMAT_VERSION_1, SNAPSHOT_FORMAT_VERSION};
use crate::config::Config;
use crate::ids::Region;
use crate::job_table::JobsRefused;
use crate::scheduler::JobScheduler;
use crate::time::Timestamp;
use crate::token::{TokenRecord, TokenRefused};
use crate::trail::Trail;

/// Where a refusal's reason is kept: the first one noted wins, so the most precise reason
/// (noted where the refusal happened) survives the layers that pass the error on.
pub(super) struct Reason(Cell<Option<SnapshotError>>);

impl Reason {
    pub(super) fn new() -> Self {
        Reason(Cell::new(None))
    }

    fn note(&self, reason: SnapshotError) {
        if self.0.get().is_none() {
            self.0.set(Some(reason));
        }
    }

    /// Notes `reason` and makes the format's error for it.
    pub(super) fn refuse<E: de::Error>(&self, reason: SnapshotError) -> E {
        self.note(reason);
        E::custom(reason)
    }

    /// Passes a format's error on, noting that it happened while reading `field`.
    fn reading<T, E>(&self, field: &'static str, result: Result<T, E>) -> Result<T, E> {
        if result.is_err() {
            self.note(SnapshotError::Malformed { field });
        }
        result
    }

    pub(super) fn get(&self) -> SnapshotError {
        self.0
            .get()
            .unwrap_or(SnapshotError::Malformed { field: "snapshot" })
    }
}

/// The "version" of jobs met in a self-describing snapshot before its `format_version`: each
/// job record is told apart by its keys (`jobs.rs`, `Layout::Either`).
const ANY_VERSION: u32 = u32::MAX;

/// Reads a snapshot's fields straight into a scheduler that was just reset.
pub(super) struct SnapshotVisitor<'a, const TRAILS: usize, const JOBS: usize, const TOKENS: usize> {
    pub(super) scheduler: &'a mut JobScheduler<TRAILS, JOBS, TOKENS>,
    pub(super) reason: &'a Reason,
}

/// The scalar fields, set on the scheduler once every table is in.
#[derive(Default)]
struct Scalars {
    clock: Option<Timestamp>,
    next_job_id: Option<u64>,
    jobs_evicted: Option<u64>,
    tokens_evicted_live: Option<u64>,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Field {
    FormatVersion,
    Config,
    Clock,
    NextJobId,
    JobsEvicted,
    TokensEvictedLive,
    Trails,
    Jobs,
    Tokens,
    Regions,
    /// A field this version does not know: skipped (only the scheduler's rules may reject).
    #[serde(other)]
    Unknown,
}

impl<const TRAILS: usize, const JOBS: usize, const TOKENS: usize>
    SnapshotVisitor<'_, TRAILS, JOBS, TOKENS>
{
    fn check_version<E: de::Error>(&self, version: u32) -> Result<u32, E> {
        if version == SNAPSHOT_FORMAT_VERSION || version == FORMAT_VERSION_1 {
            Ok(version)
        } else {
            Err(self.reason.refuse(SnapshotError::UnknownVersion(version)))
        }
    }

    /// Sets the scalars and indexes the jobs once every field is in.
    fn finish<E: de::Error>(self, scalars: Scalars) -> Result<(), E> {
        let scheduler = self.scheduler;
        let missing = |name| {
            self.reason.note(SnapshotError::Malformed { field: name });
            E::missing_field(name)
        };
        scheduler.clock = scalars.clock.ok_or_else(|| missing("clock"))?;
        scheduler.next_job_id = scalars.next_job_id.ok_or_else(|| missing("next_job_id"))?;
        scheduler.jobs_evicted = scalars
            .jobs_evicted
            .ok_or_else(|| missing("jobs_evicted"))?;
        scheduler.tokens_evicted_live = scalars
            .tokens_evicted_live
            .ok_or_else(|| missing("tokens_evicted_live"))?;
        let (hasher, max_job_secs) = (scheduler.hasher, scheduler.config.max_job_secs);
        scheduler
            .jobs
            .finish_restore(hasher, max_job_secs)
            .map_err(|refused| {
                self.reason.refuse(match refused {
                    JobsRefused::DuplicateId(job) => SnapshotError::DuplicateJob(job),
                    JobsRefused::SecondActiveJob(account, job) => {
                        SnapshotError::SecondActiveJob { account, job }
                    }
                })
            })
    }
}

impl<'de, const TRAILS: usize, const JOBS: usize, const TOKENS: usize> Visitor<'de>
    for SnapshotVisitor<'_, TRAILS, JOBS, TOKENS>
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a trail-backfill JobScheduler snapshot")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let reason = self.reason;
        let version: u32 = element(
            &mut seq,
            reason,
            0,
            SNAPSHOT_FORMAT_VERSION,
            "format_version",
        )?;
        let version = self.check_version(version)?;
        let config: Config = if version == FORMAT_VERSION_1 {
            element::<ConfigV1, _>(&mut seq, reason, 1, version, "config")?.into()
        } else {
            element(&mut seq, reason, 1, version, "config")?
        };
        self.scheduler.rekey(config);
        let scalars = Scalars {
            clock: Some(element(&mut seq, reason, 2, version, "clock")?),
            next_job_id: Some(element(&mut seq, reason, 3, version, "next_job_id")?),
            jobs_evicted: Some(element(&mut seq, reason, 4, version, "jobs_evicted")?),
            tokens_evicted_live: Some(element(
                &mut seq,
                reason,
                5,
                version,
                "tokens_evicted_live",
            )?),
        };
        let scheduler = &mut *self.scheduler;
        let tables = [(6, "trails"), (7, "jobs"), (8, "tokens"), (9, "regions")];
        let count = if version == FORMAT_VERSION_1 { 3 } else { 4 };
        for (index, field) in tables.into_iter().take(count) {
            let seed = TableSeed {
                scheduler: &mut *scheduler,
                reason,
                table: field,
                version,
            };
            reason
                .reading(field, seq.next_element_seed(seed))?
                .ok_or_else(|| missing_element(reason, index, version, field))?;
        }
        SnapshotVisitor { scheduler, reason }.finish(scalars)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let reason = self.reason;
        let mut scalars = Scalars::default();
        let mut version = None;
        let mut config_seen = false;
        // trails, jobs, tokens, regions; a version-1 snapshot has no regions.
        let mut tables_seen = [false; 4];
        let duplicate = |field| {
            reason.note(SnapshotError::Malformed { field });
            de::Error::duplicate_field(field)
        };
        while let Some(field) = reason.reading("snapshot", map.next_key::<Field>())? {
            match field {
                Field::FormatVersion => {
                    if version.is_some() {
                        return Err(duplicate("format_version"));
                    }
                    let read = reason.reading("format_version", map.next_value::<u32>())?;
                    version = Some(self.check_version(read)?);
                }
                Field::Config => {
                    if config_seen {
                        return Err(duplicate("config"));
                    }
                    self.scheduler
                        .rekey(reason.reading("config", map.next_value())?);
                    config_seen = true;
                }
                Field::Clock => scalar(&mut map, reason, &mut scalars.clock, "clock")?,
                Field::NextJobId => {
                    scalar(&mut map, reason, &mut scalars.next_job_id, "next_job_id")?
                }
                Field::JobsEvicted => {
                    scalar(&mut map, reason, &mut scalars.jobs_evicted, "jobs_evicted")?
                }
                Field::TokensEvictedLive => scalar(
                    &mut map,
                    reason,
                    &mut scalars.tokens_evicted_live,
                    "tokens_evicted_live",
                )?,
                Field::Unknown => {
                    reason.reading("snapshot", map.next_value::<de::IgnoredAny>())?;
                }
                Field::Trails | Field::Jobs | Field::Tokens | Field::Regions => {
                    let (index, name) = match field {
                        Field::Trails => (0, "trails"),
                        Field::Jobs => (1, "jobs"),
                        Field::Tokens => (2, "tokens"),
                        _ => (3, "regions"),
                    };
                    match tables_seen.get_mut(index) {
                        Some(seen) if !*seen => *seen = true,
                        _ => return Err(duplicate(name)),
                    }
                    let seed = TableSeed {
                        scheduler: &mut *self.scheduler,
                        reason,
                        table: name,
                        // Jobs met before any version are told apart by their shape.
                        version: version.unwrap_or(ANY_VERSION),
                    };
                    reason.reading(name, map.next_value_seed(seed))?;
                }
            }
        }
        let missing = |field| {
            reason.note(SnapshotError::Malformed { field });
            de::Error::missing_field(field)
        };
        let version = version.ok_or_else(|| missing("format_version"))?;
        if !config_seen {
            return Err(missing("config"));
        }
        let names = ["trails", "jobs", "tokens", "regions"];
        let required = if version == FORMAT_VERSION_1 { 3 } else { 4 };
        for (seen, name) in tables_seen.iter().zip(names).take(required) {
            if !seen {
                return Err(missing(name));
            }
        }
        self.finish(scalars)
    }
}

/// Reads a scalar field of a map into `slot`, refusing it the second time.
fn scalar<'de, T: Deserialize<'de>, A: MapAccess<'de>>(
    map: &mut A,
    reason: &Reason,
    slot: &mut Option<T>,
    field: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        reason.note(SnapshotError::Malformed { field });
        return Err(de::Error::duplicate_field(field));
    }
    *slot = Some(reason.reading(field, map.next_value())?);
    Ok(())
}

/// Element `index` of a snapshot in a sequence format, named `field`.
fn element<'de, T: Deserialize<'de>, A: SeqAccess<'de>>(
    seq: &mut A,
    reason: &Reason,
    index: usize,
    version: u32,
    field: &'static str,
) -> Result<T, A::Error> {
    reason
        .reading(field, seq.next_element())?
        .ok_or_else(|| missing_element(reason, index, version, field))
}

/// The error for a sequence that ends before element `index`.
fn missing_element<E: de::Error>(
    reason: &Reason,
    index: usize,
    version: u32,
    field: &'static str,
) -> E {
    reason.note(SnapshotError::Malformed { field });
    let expected = if version == FORMAT_VERSION_1 {
        "9 snapshot fields"
    } else {
        "10 snapshot fields"
    };
    E::invalid_length(index, &expected)
}

/// Reads one table's list straight into the scheduler's table, entry by entry.
struct TableSeed<'a, const TRAILS: usize, const JOBS: usize, const TOKENS: usize> {
    scheduler: &'a mut JobScheduler<TRAILS, JOBS, TOKENS>,
    reason: &'a Reason,
    /// The snapshot field: `trails`, `jobs`, `tokens` or `regions`.
    table: &'static str,
    /// The format version, which decides how jobs are laid out.
    version: u32,
}

impl<'de, const TRAILS: usize, const JOBS: usize, const TOKENS: usize> DeserializeSeed<'de>
    for TableSeed<'_, TRAILS, JOBS, TOKENS>
{
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, const TRAILS: usize, const JOBS: usize, const TOKENS: usize> Visitor<'de>
    for TableSeed<'_, TRAILS, JOBS, TOKENS>
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let records = if self.table == "tokens" {
            "token records"
        } else {
            self.table
        };
        write!(f, "a list of {records}")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let TableSeed {
            scheduler,
            reason,
            table,
            version,
        } = self;
        let over = |table, capacity| reason.refuse(SnapshotError::OverCapacity { table, capacity });
        match table {
            "trails" => {
                while let Some(trail) = seq.next_element::<Trail>()? {
                    let hash =
                        scheduler
                            .hasher
                            .trail_key(trail.account, &trail.region, &trail.name);
                    let (account, region, name) = (trail.account, &trail.region, &trail.name);
                    // A duplicate is a duplicate, even in a full table.
                    if scheduler.trails.find(hash, account, region, name).is_some() {
                        return Err(reason.refuse(SnapshotError::DuplicateTrail { account }));
                    }
                    if scheduler.trails.is_full() {
                        return Err(over(SnapshotTable::Trails, TRAILS));
                    }
                    if let Err(trail) = scheduler.trails.insert(hash, trail) {
                        return Err(reason.refuse(SnapshotError::DuplicateTrail {
                            account: trail.account,
                        }));
                    }
                }
            }
            "jobs" => {
                let layout = match version {
                    FORMAT_VERSION_1 => Layout::V1,
                    ANY_VERSION => Layout::Either,
                    _ => Layout::V2,
                };
                while let Some((job, regions)) = next_job(&mut seq, scheduler, reason, layout)? {
                    if let Err(job) = scheduler.jobs.push_restored(job, regions) {
                        // A duplicate is a duplicate, even in a full table (found on this
                        // error path only, at O(n log n)).
                        return Err(match scheduler.jobs.duplicate_id(job.id) {
                            Some(id) => reason.refuse(SnapshotError::DuplicateJob(id)),
                            None => over(SnapshotTable::Jobs, JOBS),
                        });
                    }
                }
            }
            "tokens" => {
                while let Some(record) = seq.next_element::<TokenRecord>()? {
                    let hash =
                        scheduler
                            .hasher
                            .token_key(record.account, &record.region, &record.token);
                    let account = record.account;
                    match scheduler.tokens.restore(hash, record) {
                        Ok(()) => {}
                        Err(TokenRefused::DuplicateKey) => {
                            return Err(reason.refuse(SnapshotError::DuplicateToken { account }));
                        }
                        Err(TokenRefused::Full) => return Err(over(SnapshotTable::Tokens, TOKENS)),
                    }
                }
            }
            _ => {
                while let Some(region) = seq.next_element::<Region>()? {
                    learn_region(scheduler, reason, &region)?;
                }
            }
        }
        Ok(())
    }
}
