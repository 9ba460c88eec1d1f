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
//! self-describing format the fields may come in any order: jobs met before the
//! `format_version` are told apart by their keys.
//!
//! Loading validates every value (names are checked as their `new` does) and then every
//! invariant of the scheduler, and rejects a snapshot that breaks one or whose format version
//! is unknown, for no other reason (the host's storage guards the bytes: there is no
//! checksum). Self-describing formats (JSON) may list the fields in any order (a round trip
//! through `serde_json::Value` sorts them): tables read before the config are re-indexed
//! for its hash seed when it arrives. Fields this version does not know are skipped.

mod error;
mod jobs;
mod load;
mod records;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::config::Config;
use crate::invariants::Indexes;
use crate::listed::Listed;
use crate::scheduler::JobScheduler;

pub use error::{SnapshotError, SnapshotTable};
use load::{Reason, SnapshotVisitor};
use records::JobRecord;

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
                .map(|(job, regions)| JobRecord {
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
    /// Loading costs O(n log n) at most whatever the order of the records (O(n) for a
    /// canonical snapshot). On success the scheduler holds the snapshot's state and config. On
    /// error it is left empty, as `new` with the config it had before the call, except that
    /// its next job id stays where it was, so no id it gave out is ever given again; never
    /// half-loaded, even when the deserializer panics part-way (a guard empties it while
    /// unwinding).
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
        self.load(deserializer).map_err(|(error, _)| error)
    }

    /// [`restore`](Self::restore) with the reason of a refusal as a [`SnapshotError`] value,
    /// whatever the format: postcard, for one, reports every custom error as "Serde
    /// Deserialization Error". Everything else is as `restore`.
    ///
    /// # Errors
    ///
    /// Why the snapshot was refused; the scheduler is then empty, its next job id kept.
    ///
    /// # Examples
    ///
    /// ```
    /// use trail_backfill::*;
    ///
    /// let mut small: JobScheduler<1, 4, 4> = JobScheduler::new(Config::DEFAULT);
    /// let mut two: JobScheduler<2, 4, 4> = JobScheduler::new(Config::DEFAULT);
    /// let spec = |name: &str| TrailSpec {
    ///     name: TrailName::new(name).expect("valid"),
    ///     kind: TrailKind::SingleAccount,
    ///     delivers_to_sls: true,
    /// };
    /// let region = Region::new("cn-hangzhou")?;
    /// two.create_trail(AccountId(1), &region, &spec("trail-one"), Timestamp(5))?;
    /// two.create_trail(AccountId(1), &region, &spec("trail-two"), Timestamp(5))?;
    /// let bytes = postcard::to_allocvec(&two).expect("serializes");
    /// let refused = small.restore_typed(&mut postcard::Deserializer::from_bytes(&bytes));
    /// assert_eq!(
    ///     refused,
    ///     Err(SnapshotError::OverCapacity { table: SnapshotTable::Trails, capacity: 1 })
    /// );
    /// # Ok::<(), Error>(())
    /// ```
    pub fn restore_typed<'de, D: Deserializer<'de>>(
        &mut self,
        deserializer: D,
    ) -> Result<(), SnapshotError> {
        self.load(deserializer).map_err(|(_, reason)| reason)
    }

    /// Loads a snapshot in place; on error (or a panic in the deserializer) leaves the
    /// scheduler empty with its config and next job id from before the call.
    fn load<'de, D: Deserializer<'de>>(
        &mut self,
        deserializer: D,
    ) -> Result<(), (D::Error, SnapshotError)> {
        let reason = Reason::new();
        let mut guard = EmptiedUnlessLoaded::new(self);
        let scheduler = &mut *guard.scheduler;
        let visitor = SnapshotVisitor {
            scheduler,
            reason: &reason,
        };
        let loaded = deserializer
            .deserialize_struct("JobScheduler", FIELDS, visitor)
            .and_then(|()| {
                guard
                    .scheduler
                    .check_invariants_with(Indexes::Restored)
                    .map_err(|violation| reason.refuse(SnapshotError::Invariant(violation)))
            });
        match loaded {
            Ok(()) => {
                guard.loaded = true;
                Ok(())
            }
            Err(error) => Err((error, reason.get())),
        }
    }
}

/// Empties the scheduler when dropped before the load succeeded, by an error or while
/// unwinding from a panic in the deserializer: a scheduler is never left half-loaded. Its
/// config and next job id are those from before the load, so no id it gave out is given
/// again.
struct EmptiedUnlessLoaded<'a, const TRAILS: usize, const JOBS: usize, const TOKENS: usize> {
    scheduler: &'a mut JobScheduler<TRAILS, JOBS, TOKENS>,
    config: Config,
    next_job_id: u64,
    loaded: bool,
}

impl<'a, const TRAILS: usize, const JOBS: usize, const TOKENS: usize>
    EmptiedUnlessLoaded<'a, TRAILS, JOBS, TOKENS>
{
    /// Empties the scheduler (keeping its config) for a load.
    fn new(scheduler: &'a mut JobScheduler<TRAILS, JOBS, TOKENS>) -> Self {
        let (config, next_job_id) = (scheduler.config, scheduler.next_job_id);
        scheduler.reset(config);
        EmptiedUnlessLoaded {
            scheduler,
            config,
            next_job_id,
            loaded: false,
        }
    }
}

impl<const TRAILS: usize, const JOBS: usize, const TOKENS: usize> Drop
    for EmptiedUnlessLoaded<'_, TRAILS, JOBS, TOKENS>
{
    fn drop(&mut self) {
        if !self.loaded {
            self.scheduler.reset(self.config);
            self.scheduler.next_job_id = self.next_job_id;
        }
    }
}
