//! Model-based test: random sequences of every operation, played into `JobScheduler` and into
//! the reference model of `tests/model/`, compared after every step.
//!
//! After every step: the answer equals the model's; every job (`jobs()`, with the worker
//! fields of SPEC section 9), `job_regions` of every job, every trail (`trails()`),
//! `active_job` of every account, `job` and `list_jobs` of every account, the region catalogue
//! (`regions()`), `poll_timeout()`, `stats()`, `clock()` and `next_job_id()` equal the model's;
//! `check_invariants()` is `Ok`; and a call that must change nothing (an error, a replay, an
//! `Unchanged` answer, a claim of nothing, a `handle_timeout` with nothing due, a query)
//! leaves the postcard bytes of the scheduler identical. A `Reload` step swaps the scheduler
//! for its own snapshot (postcard or JSON, by value or restored in place), so everything that
//! follows also checks that snapshots lose nothing.
//!
//! - `scheduler_matches_model_{tiny,crowded,mixed}`: three capacity sets, 1,000 cases of up to
//!   100 steps each by default (`PROPTEST_CASES=N` overrides).
//! - `same_commands_same_bytes`: determinism, same number of cases.
//! - `generator_reaches_every_situation`: a census of what the generator reaches (run with
//!   `--nocapture` to see it); fails if a situation the tests rely on is never reached.
//!
//! The files: `steps.rs` (steps with symbolic jobs, leases and times; running one on the model
//! and on the scheduler), `generators.rs` (the reference machine and its strategies),
//! `compare.rs` (snapshots and the whole-state comparison), `coverage.rs` (the census).
//!
//! Generation follows the state (trails first, then logging, then jobs, then workers) and
//! names jobs (`JobRef`), leases (`LeaseRef`) and due times (`When`) symbolically, so shrunk
//! cases are short and readable. Worker settings are small in most cases (leases of a few
//! seconds, a few attempts, short backoffs and deadlines), so that leases run out, retries
//! wait, last attempts fail and deadlines pass within one case. A failing seed is kept in
//! `tests/state_machine/main.proptest-regressions` and replayed first on the next run.

#[path = "../model/mod.rs"]
mod model;

mod compare;
mod coverage;
mod generators;
mod steps;

use compare::{assert_same_state, snapshot};
use generators::{RefState, Reference};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence};
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use steps::{Op, Outcome, Step, run_scheduler};
use trail_backfill::{ClientToken, Config, JobScheduler, Region, TrailName};

// ------------------------------------------------------------------ the value pools

/// Accounts of a case: the first 2 to 4 of these, and now and then `OCCASIONAL_ACCOUNT`
/// (so that 5 accounts can compete for a job table of 4).
pub const ACCOUNTS: [u64; 4] = [7, 8, 1 << 40, u64::MAX];
pub const OCCASIONAL_ACCOUNT: u64 = 99;
pub const REGIONS: [&str; 2] = ["cn-hangzhou", "ap-southeast-1"];
pub const NAMES: [&str; 4] = ["trail-a", "trail_b", "audit-log-2", "backfill"];
pub const TOKENS: [&str; 4] = ["tok-1", "Tok-1", "retry #2 ~", "x"];

pub fn region(i: usize) -> Region {
    Region::new(REGIONS[i]).expect("valid region")
}
pub fn name(i: usize) -> TrailName {
    TrailName::new(NAMES[i]).expect("valid trail name")
}
pub fn token(i: usize) -> ClientToken {
    ClientToken::new(TOKENS[i]).expect("valid client token")
}

/// How many regions workers report from (`report_region`).
pub const REPORT_REGIONS: usize = 70;

/// The i-th region a worker reports: a few real names, then `r-05` ... `r-69`, enough to
/// overflow the catalogue (`MAX_REGIONS`).
pub fn report_region(i: usize) -> Region {
    const FEW: [&str; 5] = [
        "cn-hangzhou",
        "ap-southeast-1",
        "cn-beijing",
        "eu-central-1",
        "us-west-1",
    ];
    let id = match FEW.get(i) {
        Some(few) => (*few).to_owned(),
        None => format!("r-{i:02}"),
    };
    Region::new(&id).expect("valid region")
}

// ------------------------------------------------------------------ the system under test

/// The scheduler under test.
struct Sut<const T: usize, const J: usize, const K: usize> {
    scheduler: JobScheduler<T, J, K>,
}

impl<const T: usize, const J: usize, const K: usize> StateMachineTest for Sut<T, J, K> {
    type SystemUnderTest = Self;
    type Reference = Reference<T, J, K>;

    fn init_test(ref_state: &RefState) -> Self {
        let mut scheduler = JobScheduler::new(*ref_state.world.model.config());
        play_prelude(&mut scheduler, ref_state);
        assert_same_state(&scheduler, &ref_state.world.model);
        Sut { scheduler }
    }

    fn apply(mut sut: Self, ref_state: &RefState, _generated: Step) -> Self {
        let step = ref_state
            .last_step
            .clone()
            .expect("the reference ran the step");
        let before = snapshot(&sut.scheduler);
        let outcome = run_scheduler(&mut sut.scheduler, &step);
        assert_eq!(outcome, ref_state.last, "answer differs from the model");
        if outcome.must_change_nothing() {
            assert_eq!(
                snapshot(&sut.scheduler),
                before,
                "a call that must change nothing changed the snapshot ({outcome:?})"
            );
        }
        if outcome.is_err() {
            // Said separately because it is the SPEC's headline promise.
            assert_eq!(
                snapshot(&sut.scheduler),
                before,
                "an Err changed the scheduler"
            );
        }
        sut
    }

    fn check_invariants(sut: &Self, ref_state: &RefState) {
        assert_same_state(&sut.scheduler, &ref_state.world.model);
    }
}

/// Plays the case's prelude (already played into the model) into a scheduler.
fn play_prelude<const T: usize, const J: usize, const K: usize>(
    scheduler: &mut JobScheduler<T, J, K>,
    initial: &RefState,
) {
    for step in &initial.prelude {
        let outcome = run_scheduler(scheduler, step);
        assert!(!outcome.is_err(), "prelude step {step:?}: {outcome:?}");
    }
}

// ------------------------------------------------------------------ the tests

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000)
}

fn proptest_config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        // Every transition is a valid call; nothing is rejected.
        max_local_rejects: 65_536,
        // Integration tests have no lib.rs for the default `SourceParallel`: keep failing
        // seeds beside this file, in `tests/state_machine/main.proptest-regressions`.
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

prop_state_machine! {
    #![proptest_config(proptest_config())]

    /// The smallest tables: every table is full most of the time.
    #[test]
    fn scheduler_matches_model_tiny(sequential 1..100 => Sut<4, 4, 4>);

    /// Room for a trail per account but a job table no larger than the accounts: the job
    /// table fills with active jobs (nothing to evict).
    #[test]
    fn scheduler_matches_model_crowded(sequential 1..100 => Sut<8, 3, 5>);

    /// Larger tables, fewer tokens than jobs: token eviction of live records.
    #[test]
    fn scheduler_matches_model_mixed(sequential 1..100 => Sut<16, 12, 6>);
}

// ------------------------------------------------------------------ determinism

fn run_twin<const T: usize, const J: usize, const K: usize>(
    initial: &RefState,
    steps: &[Step],
    seen: Option<Arc<AtomicUsize>>,
) -> Result<(), TestCaseError> {
    let config = *initial.world.model.config();
    let mut a = JobScheduler::<T, J, K>::new(config);
    let mut b = JobScheduler::<T, J, K>::new(config);
    // The same commands under another hash key: same answers, same logical state.
    let mut c = JobScheduler::<T, J, K>::new(Config {
        hash_seed: config.hash_seed ^ 0x9e37_79b9_7f4a_7c15,
        ..config
    });
    for s in [&mut a, &mut b, &mut c] {
        play_prelude(s, initial);
    }
    // The model only resolves symbolic jobs, leases and times here.
    let mut world = initial.world.clone();
    let mut host_now = initial.host_now;
    for step in steps {
        let step = &world.resolve(step, host_now);
        world.run(step);
        host_now = step.when.at().0;
        // The shrinker first drops the steps a failing run never reached: count them.
        if let Some(seen) = &seen {
            seen.fetch_add(1, Ordering::SeqCst);
        }
        let (answer_a, answer_b, answer_c) = match step.op {
            // Only `b` reloads: a restored scheduler must go on exactly as the original.
            Op::Reload(_) => (
                Outcome::Nothing,
                run_scheduler(&mut b, step),
                Outcome::Nothing,
            ),
            _ => (
                run_scheduler(&mut a, step),
                run_scheduler(&mut b, step),
                run_scheduler(&mut c, step),
            ),
        };
        prop_assert_eq!(&answer_a, &answer_b);
        prop_assert_eq!(&answer_a, &answer_c);
        prop_assert_eq!(
            snapshot(&a),
            snapshot(&b),
            "snapshots differ after {:?}",
            step
        );
        prop_assert_eq!(model::Stats::of(&a.stats()), model::Stats::of(&c.stats()));
        prop_assert_eq!(a.clock(), c.clock());
        prop_assert_eq!(a.poll_timeout(), c.poll_timeout());
        prop_assert!(a.trails().eq(c.trails()));
        prop_assert!(a.jobs().eq(c.jobs()));
        prop_assert!(a.regions().eq(c.regions()));
    }
    Ok(())
}

proptest! {
    #![proptest_config(proptest_config())]

    /// The same random sequence applied to two schedulers gives identical postcard bytes after
    /// every step (one of them is reloaded from snapshots on the way), and a third scheduler
    /// with another `hash_seed` gives the same answers and the same logical state.
    #[test]
    fn same_commands_same_bytes(
        (initial, steps, seen) in Reference::<6, 8, 4>::sequential_strategy(1..100)
    ) {
        run_twin::<6, 8, 4>(&initial, &steps, seen)?;
    }
}

// ------------------------------------------------------------------ generator coverage

/// The generator reaches every situation this file claims to test. Prints the census with
/// `--nocapture`.
#[test]
fn generator_reaches_every_situation() {
    coverage::census_reaches_every_situation();
}
