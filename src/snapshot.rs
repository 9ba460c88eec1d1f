//! Snapshots (feature `serde`): a [`JobScheduler`] as a versioned, canonical record of its
//! logical state, and loading one back, by value or in place.
//!
//! A snapshot holds `format_version`, `config`, `clock`, `next_job_id`, the two eviction
//! counters, then the trails by key, the jobs by id and the token records oldest first. It is
//! written in that canonical order, never in hash-table order, so it depends only on the
//! logical state: schedulers fed the same commands and times give the same bytes, whatever
//! their hash seed did to their internal layout.
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
use crate::job::Job;
use crate::listed::Listed;
use crate::scheduler::JobScheduler;
use crate::time::Timestamp;
use crate::token::TokenRecord;
use crate::trail::Trail;

/// The snapshot format this build writes and reads. Bump it when the layout changes, and
/// keep reading the old one.
pub const SNAPSHOT_FORMAT_VERSION: u32 = 1;

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
];

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
        snapshot.serialize_field("jobs", &Listed::new(self.jobs.len(), || self.jobs.iter()))?;
        let tokens = Listed::new(self.tokens.len(), || self.tokens.iter());
        snapshot.serialize_field("tokens", &tokens)?;
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
    /// A field this version does not know: skipped (only the rules of SPEC may reject).
    #[serde(other)]
    Unknown,
}

fn check_version<E: de::Error>(version: u32) -> Result<(), E> {
    if version == SNAPSHOT_FORMAT_VERSION {
        Ok(())
    } else {
        Err(E::custom(format_args!(
            "unknown snapshot format_version {version}: this build reads version {SNAPSHOT_FORMAT_VERSION}"
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
        let missing = |index: usize| de::Error::invalid_length(index, &"9 snapshot fields");
        check_version(seq.next_element::<u32>()?.ok_or_else(|| missing(0))?)?;
        let config: Config = seq.next_element()?.ok_or_else(|| missing(1))?;
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
        seq.next_element_seed(TableSeed::Jobs(scheduler))?
            .ok_or_else(|| missing(7))?;
        seq.next_element_seed(TableSeed::Tokens(scheduler))?
            .ok_or_else(|| missing(8))?;
        self.finish(scalars).map_err(de::Error::missing_field)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut scalars = Scalars::default();
        let (mut version_seen, mut config_seen) = (false, false);
        let mut tables_seen = [false; 3];
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::FormatVersion => {
                    if version_seen {
                        return Err(de::Error::duplicate_field("format_version"));
                    }
                    check_version(map.next_value::<u32>()?)?;
                    version_seen = true;
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
                Field::Trails | Field::Jobs | Field::Tokens => {
                    let scheduler = &mut *self.scheduler;
                    let (index, name, seed) = match field {
                        Field::Trails => (0, "trails", TableSeed::Trails(scheduler)),
                        Field::Jobs => (1, "jobs", TableSeed::Jobs(scheduler)),
                        _ => (2, "tokens", TableSeed::Tokens(scheduler)),
                    };
                    match tables_seen.get_mut(index) {
                        Some(seen) if !*seen => *seen = true,
                        _ => return Err(de::Error::duplicate_field(name)),
                    }
                    map.next_value_seed(seed)?;
                }
            }
        }
        if !version_seen {
            return Err(de::Error::missing_field("format_version"));
        }
        if !config_seen {
            return Err(de::Error::missing_field("config"));
        }
        for (seen, name) in tables_seen.iter().zip(["trails", "jobs", "tokens"]) {
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
    Jobs(&'a mut JobScheduler<TRAILS, JOBS, TOKENS>),
    Tokens(&'a mut JobScheduler<TRAILS, JOBS, TOKENS>),
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
            TableSeed::Jobs(_) => "a list of jobs",
            TableSeed::Tokens(_) => "a list of token records",
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
            TableSeed::Jobs(scheduler) => {
                while let Some(job) = seq.next_element::<Job>()? {
                    if scheduler.jobs.is_full() {
                        return Err(over_capacity("jobs", JOBS));
                    }
                    if let Err(job) = scheduler.jobs.insert(job) {
                        return Err(de::Error::custom(format_args!(
                            "snapshot breaks an invariant: job {} repeats an id or is a second active job of account {}",
                            job.id, job.account
                        )));
                    }
                }
            }
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
        }
        Ok(())
    }
}

fn over_capacity<E: de::Error>(what: &str, capacity: usize) -> E {
    E::custom(format_args!(
        "snapshot breaks an invariant: it holds more {what} than this scheduler's capacity of {capacity}"
    ))
}
