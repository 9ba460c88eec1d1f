//! Snapshots (feature `serde`): a [`JobScheduler`] as a versioned, canonical record of its
//! logical state, and loading one back, by value or in place.
//!
//! A snapshot holds `format_version`, `config`, `clock`, `next_job_id`, the two eviction
//! counters, then the trails by key, the jobs by id (each as `{ job, regions }`, its regions
//! as `(region, status)` pairs in byte order of the region ids), the token records oldest
//! first, and the region catalogue in byte order. It is written in that canonical order, never
//! in hash-table order, so it depends only on the logical state: schedulers fed the same
//! commands and times give the same bytes, whatever their hash seed did to their internal
//! layout.
//!
//! Version 1 (before the worker protocol) still loads: its config gets `Config::DEFAULT`'s
//! worker settings, and its jobs `attempt` 0, no lease, `not_before = created_at`,
//! `delivered` 0, no regions, and `failure = Some(Reported)` when `Failed`. In a
//! self-describing format, a version-1 snapshot must name its `format_version` before its
//! jobs (both canonical and sorted-key JSON do); jobs met before any version are read as the
//! current version.
//!
//! Loading validates every value (names are checked as their `new` does) and then every
//! invariant of SPEC section 6, and rejects a snapshot that breaks one or whose format version
//! is unknown, for no other reason (the host's storage guards the bytes: there is no
//! checksum). Self-describing formats (JSON) may list the fields in any order (a round trip
//! through `serde_json::Value` sorts them): tables read before the config are re-indexed
//! for its hash seed when it arrives. Fields this version does not know are skipped.

use core::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::config::Config;
use crate::ids::{AccountId, JobId, Region, TrailName};
use crate::job::{Job, JobStatus};
use crate::lease::FailureReason;
use crate::listed::Listed;
use crate::regions::{MAX_REGIONS, RegionStatuses};
use crate::scheduler::JobScheduler;
use crate::time::Timestamp;
use crate::token::TokenRecord;
use crate::trail::Trail;

/// The snapshot format this build writes. Bump it when the layout changes, and keep reading
/// the old ones: this build also reads version 1.
pub const SNAPSHOT_FORMAT_VERSION: u32 = 2;

/// The first format, before the worker protocol: still read.
const FORMAT_VERSION_1: u32 = 1;

const FIELDS: &[&str] = &[
    "format_version",
    "config",
    "clock",
    "next_job_id",
    "jobs_evicted",
    "tokens_evicted_live",
    "trails",
    "jobs",
    "tokens",
    "regions",
];

/// A job as a version-2 snapshot lists it: the job and its regions.
struct JobRecord<'a, const JOBS: usize> {
    job: &'a Job,
    regions: &'a RegionStatuses,
    catalogue: &'a crate::regions::RegionCatalogue,
}

impl<const JOBS: usize> Serialize for JobRecord<'_, JOBS> {
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
struct JobRecordIn {
    job: Job,
    regions: heapless::Vec<(Region, JobStatus), MAX_REGIONS>,
}

/// A job as version 1 wrote it.
#[derive(Deserialize)]
#[serde(rename = "Job")]
struct JobV1 {
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
struct ConfigV1 {
    token_ttl_secs: u64,
    retention_secs: u64,
    grace_secs: u64,
    max_trails_per_account: u32,
    first_job_id: u64,
    hash_seed: u64,
}

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

impl<const TRAILS: usize, const JOBS: usize, const TOKENS: usize> Serialize
    for JobScheduler<TRAILS, JOBS, TOKENS>
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut snapshot = serializer.serialize_struct("JobScheduler", FIELDS.len())?;
        snapshot.serialize_field("format_version", &SNAPSHOT_FORMAT_VERSION)?;
        snapshot.serialize_field("config", &self.config)?;
        snapshot.serialize_field("clock", &self.clock)?;
        snapshot.serialize_field("next_job_id", &self.next_job_id)?;
        snapshot.serialize_field("jobs_evicted", &self.jobs_evicted)?;
        snapshot.serialize_field("tokens_evicted_live", &self.tokens_evicted_live)?;
        let trails = Listed::new(self.trails.len(), || self.trails.iter());
        snapshot.serialize_field("trails", &trails)?;
        let jobs = Listed::new(self.jobs.len(), || {
            self.jobs
                .iter_with_regions()
                .map(|(job, regions)| JobRecord::<JOBS> {
                    job,
                    regions,
                    catalogue: &self.regions,
                })
        });
        snapshot.serialize_field("jobs", &jobs)?;
        let tokens = Listed::new(self.tokens.len(), || self.tokens.iter());
        snapshot.serialize_field("tokens", &tokens)?;
        snapshot.serialize_field(
            "regions",
            &Listed::new(self.regions.len(), || self.regions()),
        )?;
        snapshot.end()
    }
}

/// Loads by value: meant for small capacities (the value is built on the stack). Large
/// schedulers use [`JobScheduler::restore`] on one in a `static` or a `Box`.
impl<'de, const TRAILS: usize, const JOBS: usize, const TOKENS: usize> Deserialize<'de>
    for JobScheduler<TRAILS, JOBS, TOKENS>
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut scheduler = JobScheduler::new(Config::DEFAULT);
        scheduler.restore(deserializer)?;
        Ok(scheduler)
    }
}

impl<const TRAILS: usize, const JOBS: usize, const TOKENS: usize>
    JobScheduler<TRAILS, JOBS, TOKENS>
{
    /// Loads a snapshot into this scheduler in place (feature `serde`), without building a
    /// scheduler on the stack: a `JobScheduler<4096, 65536, 65536>` of several MiB restores
    /// on a 2 MiB thread.
    ///
    /// On success the scheduler holds the snapshot's state and config. On error it is left
    /// empty, as `new` with the config it had before the call, never half-loaded.
    ///
    /// # Errors
    ///
    /// The deserializer's error, with a message that says what was wrong: malformed input, an
    /// invalid value (a region, trail name or client token that breaks its rule), an unknown
    /// `format_version`, more entries than a capacity, or a broken invariant.
    ///
    /// # Examples
    ///
    /// ```
    /// use trail_backfill::*;
    ///
    /// let mut original: JobScheduler<4, 8, 8> = JobScheduler::new(Config::DEFAULT);
    /// let spec = TrailSpec {
    ///     name: TrailName::new("trail-name")?,
    ///     kind: TrailKind::SingleAccount,
    ///     delivers_to_sls: true,
    /// };
    /// original.create_trail(AccountId(1), &Region::new("cn-hangzhou")?, &spec, Timestamp(5))?;
    /// let bytes = postcard::to_allocvec(&original).expect("serializes");
    ///
    /// let mut restored: JobScheduler<4, 8, 8> = JobScheduler::new(Config::DEFAULT);
    /// restored
    ///     .restore(&mut postcard::Deserializer::from_bytes(&bytes))
    ///     .expect("a valid snapshot");
    /// assert_eq!(restored, original);
    /// # Ok::<(), Error>(())
    /// ```
    pub fn restore<'de, D: Deserializer<'de>>(&mut self, deserializer: D) -> Result<(), D::Error> {
        let config_before = self.config;
        self.reset(config_before);
        let loaded = deserializer
            .deserialize_struct("JobScheduler", FIELDS, SnapshotVisitor { scheduler: self })
            .and_then(|()| {
                self.check_invariants_with(false).map_err(|violation| {
                    de::Error::custom(format_args!("snapshot breaks an invariant: {violation}"))
                })
            });
        if loaded.is_err() {
            self.reset(config_before);
        }
        loaded
    }
}

/// Reads a snapshot's fields straight into a scheduler that was just reset.
struct SnapshotVisitor<'a, const TRAILS: usize, const JOBS: usize, const TOKENS: usize> {
    scheduler: &'a mut JobScheduler<TRAILS, JOBS, TOKENS>,
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
    /// A field this version does not know: skipped (only the rules of SPEC may reject).
    #[serde(other)]
    Unknown,
}

fn check_version<E: de::Error>(version: u32) -> Result<u32, E> {
    if version == SNAPSHOT_FORMAT_VERSION || version == FORMAT_VERSION_1 {
        Ok(version)
    } else {
        Err(E::custom(format_args!(
            "unknown snapshot format_version {version}: this build reads versions {FORMAT_VERSION_1} to {SNAPSHOT_FORMAT_VERSION}"
        )))
    }
}

impl<const TRAILS: usize, const JOBS: usize, const TOKENS: usize>
    SnapshotVisitor<'_, TRAILS, JOBS, TOKENS>
{
    fn finish(self, scalars: Scalars) -> Result<(), &'static str> {
        let scheduler = self.scheduler;
        scheduler.clock = scalars.clock.ok_or("clock")?;
        scheduler.next_job_id = scalars.next_job_id.ok_or("next_job_id")?;
        scheduler.jobs_evicted = scalars.jobs_evicted.ok_or("jobs_evicted")?;
        scheduler.tokens_evicted_live = scalars.tokens_evicted_live.ok_or("tokens_evicted_live")?;
        Ok(())
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
        let expected = |version| {
            if version == FORMAT_VERSION_1 {
                "9 snapshot fields"
            } else {
                "10 snapshot fields"
            }
        };
        let version = seq
            .next_element::<u32>()?
            .ok_or_else(|| de::Error::invalid_length(0, &expected(SNAPSHOT_FORMAT_VERSION)))?;
        let version = check_version(version)?;
        let missing = |index: usize| de::Error::invalid_length(index, &expected(version));
        let config: Config = if version == FORMAT_VERSION_1 {
            seq.next_element::<ConfigV1>()?
                .ok_or_else(|| missing(1))?
                .into()
        } else {
            seq.next_element()?.ok_or_else(|| missing(1))?
        };
        self.scheduler.rekey(config);
        let scalars = Scalars {
            clock: Some(seq.next_element()?.ok_or_else(|| missing(2))?),
            next_job_id: Some(seq.next_element()?.ok_or_else(|| missing(3))?),
            jobs_evicted: Some(seq.next_element()?.ok_or_else(|| missing(4))?),
            tokens_evicted_live: Some(seq.next_element()?.ok_or_else(|| missing(5))?),
        };
        let scheduler = &mut *self.scheduler;
        seq.next_element_seed(TableSeed::Trails(scheduler))?
            .ok_or_else(|| missing(6))?;
        seq.next_element_seed(TableSeed::Jobs(scheduler, version))?
            .ok_or_else(|| missing(7))?;
        seq.next_element_seed(TableSeed::Tokens(scheduler))?
            .ok_or_else(|| missing(8))?;
        if version != FORMAT_VERSION_1 {
            seq.next_element_seed(TableSeed::Regions(scheduler))?
                .ok_or_else(|| missing(9))?;
        }
        self.finish(scalars).map_err(de::Error::missing_field)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut scalars = Scalars::default();
        let mut version = None;
        let mut config_seen = false;
        // trails, jobs, tokens, regions; a version-1 snapshot has no regions.
        let mut tables_seen = [false; 4];
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::FormatVersion => {
                    if version.is_some() {
                        return Err(de::Error::duplicate_field("format_version"));
                    }
                    version = Some(check_version(map.next_value::<u32>()?)?);
                }
                Field::Config => {
                    if config_seen {
                        return Err(de::Error::duplicate_field("config"));
                    }
                    self.scheduler.rekey(map.next_value()?);
                    config_seen = true;
                }
                Field::Clock => set_once(&mut scalars.clock, "clock", map.next_value()?)?,
                Field::NextJobId => {
                    set_once(&mut scalars.next_job_id, "next_job_id", map.next_value()?)?
                }
                Field::JobsEvicted => {
                    set_once(&mut scalars.jobs_evicted, "jobs_evicted", map.next_value()?)?
                }
                Field::TokensEvictedLive => set_once(
                    &mut scalars.tokens_evicted_live,
                    "tokens_evicted_live",
                    map.next_value()?,
                )?,
                Field::Unknown => {
                    map.next_value::<de::IgnoredAny>()?;
                }
                Field::Trails | Field::Jobs | Field::Tokens | Field::Regions => {
                    let scheduler = &mut *self.scheduler;
                    let read_as = version.unwrap_or(SNAPSHOT_FORMAT_VERSION);
                    let (index, name, seed) = match field {
                        Field::Trails => (0, "trails", TableSeed::Trails(scheduler)),
                        Field::Jobs => (1, "jobs", TableSeed::Jobs(scheduler, read_as)),
                        Field::Tokens => (2, "tokens", TableSeed::Tokens(scheduler)),
                        _ => (3, "regions", TableSeed::Regions(scheduler)),
                    };
                    match tables_seen.get_mut(index) {
                        Some(seen) if !*seen => *seen = true,
                        _ => return Err(de::Error::duplicate_field(name)),
                    }
                    map.next_value_seed(seed)?;
                }
            }
        }
        let Some(version) = version else {
            return Err(de::Error::missing_field("format_version"));
        };
        if !config_seen {
            return Err(de::Error::missing_field("config"));
        }
        let names = ["trails", "jobs", "tokens", "regions"];
        let required = if version == FORMAT_VERSION_1 { 3 } else { 4 };
        for (seen, name) in tables_seen.iter().zip(names).take(required) {
            if !seen {
                return Err(de::Error::missing_field(name));
            }
        }
        self.finish(scalars).map_err(de::Error::missing_field)
    }
}

fn set_once<T, E: de::Error>(slot: &mut Option<T>, name: &'static str, value: T) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(name));
    }
    *slot = Some(value);
    Ok(())
}

/// Reads one table's list straight into the scheduler's table, entry by entry.
enum TableSeed<'a, const TRAILS: usize, const JOBS: usize, const TOKENS: usize> {
    Trails(&'a mut JobScheduler<TRAILS, JOBS, TOKENS>),
    /// The jobs, in the layout of this format version.
    Jobs(&'a mut JobScheduler<TRAILS, JOBS, TOKENS>, u32),
    Tokens(&'a mut JobScheduler<TRAILS, JOBS, TOKENS>),
    /// The region catalogue.
    Regions(&'a mut JobScheduler<TRAILS, JOBS, TOKENS>),
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
        f.write_str(match self {
            TableSeed::Trails(_) => "a list of trails",
            TableSeed::Jobs(..) => "a list of jobs",
            TableSeed::Tokens(_) => "a list of token records",
            TableSeed::Regions(_) => "a list of regions",
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        match self {
            TableSeed::Trails(scheduler) => {
                while let Some(trail) = seq.next_element::<Trail>()? {
                    if scheduler.trails.is_full() {
                        return Err(over_capacity("trails", TRAILS));
                    }
                    let hash =
                        scheduler
                            .hasher
                            .trail_key(trail.account, &trail.region, &trail.name);
                    if let Err(trail) = scheduler.trails.insert(hash, trail) {
                        return Err(de::Error::custom(format_args!(
                            "snapshot breaks an invariant: trail {} of account {} in {} is listed twice",
                            trail.name, trail.account, trail.region
                        )));
                    }
                }
            }
            TableSeed::Jobs(scheduler, version) => loop {
                let (job, regions) = if version == FORMAT_VERSION_1 {
                    match seq.next_element::<JobV1>()? {
                        Some(job) => (Job::from(job), RegionStatuses::NONE),
                        None => break,
                    }
                } else {
                    match seq.next_element::<JobRecordIn>()? {
                        Some(record) => {
                            let mut statuses = RegionStatuses::NONE;
                            for (region, status) in &record.regions {
                                let index = learn_region(scheduler, region)?;
                                if statuses.get(index).is_some() {
                                    return Err(de::Error::custom(format_args!(
                                        "job {} lists region {region} twice",
                                        record.job.id
                                    )));
                                }
                                statuses.set(index, *status);
                            }
                            (record.job, statuses)
                        }
                        None => break,
                    }
                };
                if scheduler.jobs.is_full() {
                    return Err(over_capacity("jobs", JOBS));
                }
                if let Err(job) = scheduler.jobs.insert(job, regions) {
                    return Err(de::Error::custom(format_args!(
                        "snapshot breaks an invariant: job {} repeats an id or is a second active job of account {}",
                        job.id, job.account
                    )));
                }
            },
            TableSeed::Tokens(scheduler) => {
                while let Some(record) = seq.next_element::<TokenRecord>()? {
                    if scheduler.tokens.is_full() {
                        return Err(over_capacity("token records", TOKENS));
                    }
                    let hash =
                        scheduler
                            .hasher
                            .token_key(record.account, &record.region, &record.token);
                    if !scheduler.tokens.restore(hash, record) {
                        return Err(over_capacity("token records", TOKENS));
                    }
                }
            }
            TableSeed::Regions(scheduler) => {
                while let Some(region) = seq.next_element::<Region>()? {
                    learn_region(scheduler, &region)?;
                }
            }
        }
        Ok(())
    }
}

/// The catalogue index of `region`, learned if new (a job's regions may be read before the
/// catalogue: the catalogue is their union).
fn learn_region<E: de::Error, const TRAILS: usize, const JOBS: usize, const TOKENS: usize>(
    scheduler: &mut JobScheduler<TRAILS, JOBS, TOKENS>,
    region: &Region,
) -> Result<u8, E> {
    scheduler.regions.learn(region).ok_or_else(|| {
        E::custom(format_args!(
            "snapshot breaks an invariant: it names more than {MAX_REGIONS} regions"
        ))
    })
}

fn over_capacity<E: de::Error>(what: &str, capacity: usize) -> E {
    E::custom(format_args!(
        "snapshot breaks an invariant: it holds more {what} than this scheduler's capacity of {capacity}"
    ))
}
