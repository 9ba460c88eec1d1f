//! A `no_std`, allocation-free, deterministic state machine for the **data backfill tasks**
//! ("delivery history jobs") of an audit-trail service, modelled on Alibaba Cloud ActionTrail's
//! `CreateDeliveryHistoryJob` family: re-deliver the last 90 days of a trail's events into a
//! log store.
//!
//! The rules are small but easy to get wrong under retries and concurrency: the trail must
//! exist, belong to the caller, be a single-account trail that delivers to Simple Log Service
//! and is logging; only one task may run per account at a time; a `ClientToken` makes creation
//! idempotent; and errors carry the API's exact codes. A host service (an API server, firmware
//! with no heap, a Raft-replicated service) embeds one [`JobScheduler`], feeds it requests and
//! the current time, and turns its answers into API responses.
//!
//! # The contract
//!
//! - **Deterministic.** The core never reads a clock (time is the `now` argument), draws no
//!   random number (the hash key is [`Config::hash_seed`]) and does no I/O: the same calls
//!   give the same answers and the same state on every machine, which is what replicas need.
//! - **Allocation-free and bounded.** Capacities are const generics:
//!   `size_of::<JobScheduler<TRAILS, JOBS, TOKENS>>()` is all the memory it ever uses, and
//!   [`JobScheduler::new`] is `const`, so a large one can live in a `static`. Every operation
//!   stays fast when its table is full (the job table runs full on purpose: it evicts the
//!   oldest finished job).
//! - **Never panics.** Bad input is an [`Error`]; `unsafe`, `unwrap`, indexing that can
//!   panic and overflowing arithmetic are denied in this crate.
//! - **An error changes nothing.** Each transition checks everything first and only then
//!   commits, so an `Err` leaves the scheduler, clock included, exactly as it was.
//!
//! # A host loop
//!
//! ```
//! use trail_backfill::*;
//!
//! // A small scheduler: 16 trails, 64 jobs, 64 token records.
//! let mut scheduler: JobScheduler<16, 64, 64> = JobScheduler::new(Config {
//!     hash_seed: 0x5eed_1234, // the host's own secret
//!     ..Config::DEFAULT
//! });
//! let account = AccountId(1512666876910001);
//! let region = Region::new("cn-hangzhou")?;
//! let name = TrailName::new("trail-name")?;
//! let at = |secs: u64| Timestamp(1_622_099_703 + secs); // 2021-05-27T07:15:03Z onwards
//!
//! // Every request is a Command applied at the time the host read from its clock.
//! let requests = [
//!     Command::CreateTrail {
//!         account,
//!         region: region.clone(),
//!         spec: TrailSpec { name: name.clone(), kind: TrailKind::SingleAccount, delivers_to_sls: true },
//!     },
//!     Command::StartLogging { account, region: region.clone(), name: name.clone() },
//!     Command::CreateJob(CreateJob {
//!         account,
//!         region: region.clone(),
//!         trail_name: name.clone(),
//!         client_token: Some(ClientToken::new("123e4567-e89b-12d3-a456-42665544****")?),
//!     }),
//!     Command::CreateJob(CreateJob {
//!         account,
//!         region: region.clone(),
//!         trail_name: name.clone(),
//!         client_token: None,
//!     }),
//!     Command::StartJob { account, job: JobId(1) },
//!     Command::CompleteJob { account, job: JobId(1), outcome: JobOutcome::Completed },
//! ];
//! for (second, request) in (0..).zip(&requests) {
//!     match scheduler.apply(request, at(second)) {
//!         Ok(effect) => println!("200 {effect:?}"),
//!         Err(error) => println!("{} {} {error}", error.http_status(), error.code()),
//!     }
//! }
//! // The second CreateJob was refused: the first job was still running.
//! let job = scheduler.job(account, JobId(1)).expect("created above");
//! assert_eq!(job.status, JobStatus::Completed);
//! assert_eq!(job.window_start.to_string(), "2021-02-26T07:15:05Z");
//! assert_eq!(scheduler.stats().jobs, 1);
//! scheduler.check_invariants().expect("the scheduler keeps its invariants");
//! # Ok::<(), Error>(())
//! ```
//!
//! # A tour of the crate
//!
//! - Values: [`AccountId`], [`JobId`], [`Timestamp`], and the validated names [`Region`],
//!   [`TrailName`], [`ClientToken`].
//! - Trails: [`Trail`], [`TrailSpec`], [`TrailKind`]; jobs: [`Job`], [`JobStatus`],
//!   [`JobOutcome`], [`CreateJob`], [`JobCreated`], [`JobPage`].
//! - [`JobScheduler`]: queries, trail and job transitions, [`Stats`], [`Transition`], and
//!   [`JobScheduler::check_invariants`] ([`InvariantViolation`]).
//! - [`Command`] and [`Effect`] for logs and replication ([`JobScheduler::apply`]).
//! - [`Error`] ([`Parameter`], [`Ineligibility`], [`Table`]) with `code()`, `http_status()`
//!   and the API's messages; [`Config`].
//!
//! # Features
//!
//! - `serde` (off by default): `Serialize + Deserialize` for every public type. Value types
//!   validate when deserialized. A [`JobScheduler`] serializes as a versioned snapshot in
//!   canonical order (trails by key, jobs by id, token records oldest first), so equal states
//!   give equal bytes; loading checks every invariant, and `JobScheduler::restore` loads in
//!   place, for schedulers too large for the stack.
//! - `defmt` (off by default): `defmt::Format` for every public value type (ids, names,
//!   [`Timestamp`] as ISO-8601, jobs, trails, [`Command`], [`Effect`], [`Error`], ...), for
//!   logging on microcontrollers. [`Config`] never sends its `hash_seed`, only whether it
//!   is the public default or the host's `<secret>`, as its `Debug` does.
//!   The library needs no global logger; the firmware that logs provides one.
//! - `std` (off by default): `TryFrom<std::time::SystemTime> for Timestamp` (whole seconds
//!   since the epoch, the fraction dropped), for hosts that read the system clock. The crate
//!   stays `#![no_std]` and links `std` for this conversion only; the core still reads no
//!   clock.
//!
//! - `api` (off by default): the [`api`] module, the ActionTrail API's requests and answers
//!   written once for every host: action names and text parameters into a [`Command`] or a
//!   query ([`api::parse_request`]), effects, jobs, pages and errors out as the API's JSON
//!   ([`api::Reply`]), into any `core::fmt::Write`. No dependency, no allocation.
//!
//! Without any feature, [`Timestamp`] parses (`FromStr`) exactly the ISO-8601 text its
//! `Display` prints, with [`ParseTimestampError`] for anything else.
//!
//! # Minimum supported Rust version
//!
//! Rust 1.88 (heapless 0.9's), edition 2024.

#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

#[cfg(feature = "api")]
pub mod api;
mod command;
mod config;
#[cfg(feature = "defmt")]
mod defmt;
mod error;
mod hash_index;
mod hashing;
mod id_index;
mod ids;
mod invariants;
mod job;
mod job_table;
mod lease;
mod listed;
mod min_tree;
mod regions;
mod scheduler;
mod shard;
mod slab;
#[cfg(feature = "serde")]
mod snapshot;
#[cfg(feature = "std")]
mod std_time;
mod time;
mod token;
mod trail;
mod worker;
mod worker_queues;

pub use command::{Command, Effect};
pub use config::Config;
pub use error::{Error, Ineligibility, Parameter, Table};
pub use ids::{AccountId, ClientToken, JobId, Region, TrailName};
pub use invariants::{Index, InvariantViolation};
pub use job::{CreateJob, Job, JobCreated, JobOutcome, JobPage, JobStatus};
pub use lease::{FailureReason, Lease, TimeoutReport};
pub use regions::MAX_REGIONS;
pub use scheduler::{JobScheduler, Stats, Transition};
pub use shard::shard_for;
#[cfg(feature = "serde")]
pub use snapshot::{SNAPSHOT_FORMAT_VERSION, SnapshotError, SnapshotTable};
pub use time::{ParseTimestampError, Timestamp};
pub use trail::{Trail, TrailKind, TrailSpec};

/// The README's examples, compiled and run as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme {}
