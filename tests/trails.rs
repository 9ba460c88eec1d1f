//! Contract tests for SPEC section 2: trails (create, delete, start/stop logging, lookup),
//! their errors in check order, and how they move the clock.

use trail_backfill::*;

mod common;
use common::{hz, name, region, snap, spec};

type Sched = JobScheduler<8, 8, 8>;

const A: AccountId = AccountId(1001);
const B: AccountId = AccountId(2002);

/// Runs `f`, expects `Err(expected)`, and checks that nothing at all changed.
fn expect_err<const T: usize, const J: usize, const K: usize, R: std::fmt::Debug>(
    s: &mut JobScheduler<T, J, K>,
    expected: Error,
    f: impl FnOnce(&mut JobScheduler<T, J, K>) -> Result<R, Error>,
) {
    let before = snap(s);
    let clock = s.clock();
    let stats = s.stats();
    let copy = s.clone();
    assert_eq!(f(s).unwrap_err(), expected);
    assert_eq!(s.clock(), clock, "an error moved the clock");
    assert_eq!(s.stats(), stats, "an error moved the stats");
    assert_eq!(*s, copy, "an error changed the scheduler");
    assert_eq!(snap(s), before, "an error changed the snapshot");
}

fn with_config(config: Config) -> Sched {
    Sched::new(config)
}

#[test]
fn new_trail_is_stored_and_not_logging() {
    let mut s = Sched::new(Config::DEFAULT);
    let sp = TrailSpec {
        name: name("trail-name"),
        kind: TrailKind::Organization,
        delivers_to_sls: false,
    };
    s.create_trail(A, &hz(), &sp, Timestamp(100)).unwrap();
    let t = s.trail(A, &hz(), &name("trail-name")).unwrap();
    assert_eq!(t.account, A);
    assert_eq!(t.region, hz());
    assert_eq!(t.name, name("trail-name"));
    assert_eq!(t.kind, TrailKind::Organization);
    assert!(!t.delivers_to_sls);
    assert_eq!(t.logging_since, None);
    assert_eq!(s.stats().trails, 1);
    assert_eq!(s.clock(), Timestamp(100));
    assert!(s.check_invariants().is_ok());
}

#[test]
fn lookup_is_by_account_region_and_name() {
    let mut s = Sched::new(Config::DEFAULT);
    s.create_trail(A, &hz(), &spec("trail-one"), Timestamp(1))
        .unwrap();
    assert!(s.trail(A, &hz(), &name("trail-one")).is_some());
    assert!(s.trail(B, &hz(), &name("trail-one")).is_none());
    assert!(
        s.trail(A, &region("cn-beijing"), &name("trail-one"))
            .is_none()
    );
    assert!(s.trail(A, &hz(), &name("trail-two")).is_none());
}

#[test]
fn duplicate_trail_is_rejected_and_changes_nothing() {
    let mut s = Sched::new(Config::DEFAULT);
    s.create_trail(A, &hz(), &spec("trail-one"), Timestamp(10))
        .unwrap();
    let other_kind = TrailSpec {
        kind: TrailKind::Organization,
        ..spec("trail-one")
    };
    expect_err(&mut s, Error::TrailAlreadyExists, |s| {
        s.create_trail(A, &hz(), &other_kind, Timestamp(500))
    });
    assert_eq!(
        s.trail(A, &hz(), &name("trail-one")).unwrap().kind,
        TrailKind::SingleAccount
    );
}

#[test]
fn same_name_is_fine_in_another_region_or_account() {
    let mut s = Sched::new(Config::DEFAULT);
    s.create_trail(A, &hz(), &spec("trail-one"), Timestamp(1))
        .unwrap();
    s.create_trail(A, &region("cn-beijing"), &spec("trail-one"), Timestamp(2))
        .unwrap();
    s.create_trail(B, &hz(), &spec("trail-one"), Timestamp(3))
        .unwrap();
    assert_eq!(s.stats().trails, 3);
}

#[test]
fn trail_limit_is_per_account_and_region() {
    let mut s = with_config(Config {
        max_trails_per_account: 2,
        ..Config::DEFAULT
    });
    s.create_trail(A, &hz(), &spec("trail-one"), Timestamp(1))
        .unwrap();
    s.create_trail(A, &hz(), &spec("trail-two"), Timestamp(2))
        .unwrap();
    expect_err(&mut s, Error::TrailLimitExceeded, |s| {
        s.create_trail(A, &hz(), &spec("trail-three"), Timestamp(3))
    });
    // Another region of the same account, and another account in the same region, are free.
    s.create_trail(A, &region("cn-beijing"), &spec("trail-three"), Timestamp(4))
        .unwrap();
    s.create_trail(A, &region("cn-beijing"), &spec("trail-four"), Timestamp(4))
        .unwrap();
    s.create_trail(B, &hz(), &spec("trail-three"), Timestamp(5))
        .unwrap();
    s.create_trail(B, &hz(), &spec("trail-four"), Timestamp(5))
        .unwrap();
    expect_err(&mut s, Error::TrailLimitExceeded, |s| {
        s.create_trail(B, &hz(), &spec("trail-five"), Timestamp(6))
    });
    // Deleting one frees a place.
    s.delete_trail(A, &hz(), &name("trail-one")).unwrap();
    s.create_trail(A, &hz(), &spec("trail-three"), Timestamp(7))
        .unwrap();
    assert_eq!(s.stats().trails, 6);
    assert!(s.check_invariants().is_ok());
}

#[test]
fn default_trail_limit_is_five() {
    let mut s = Sched::new(Config::DEFAULT);
    for n in ["trail-1", "trail-2", "trail-3", "trail-4", "trail-5"] {
        s.create_trail(A, &hz(), &spec(n), Timestamp(1)).unwrap();
    }
    expect_err(&mut s, Error::TrailLimitExceeded, |s| {
        s.create_trail(A, &hz(), &spec("trail-6"), Timestamp(2))
    });
}

#[test]
fn zero_trail_limit_refuses_every_trail() {
    let mut s = with_config(Config {
        max_trails_per_account: 0,
        ..Config::DEFAULT
    });
    expect_err(&mut s, Error::TrailLimitExceeded, |s| {
        s.create_trail(A, &hz(), &spec("trail-one"), Timestamp(1))
    });
}

#[test]
fn already_exists_is_checked_before_the_limit() {
    let mut s = with_config(Config {
        max_trails_per_account: 1,
        ..Config::DEFAULT
    });
    s.create_trail(A, &hz(), &spec("trail-one"), Timestamp(1))
        .unwrap();
    expect_err(&mut s, Error::TrailAlreadyExists, |s| {
        s.create_trail(A, &hz(), &spec("trail-one"), Timestamp(2))
    });
    expect_err(&mut s, Error::TrailLimitExceeded, |s| {
        s.create_trail(A, &hz(), &spec("trail-two"), Timestamp(2))
    });
}

#[test]
fn capacity_exhausted_when_trail_table_is_full() {
    let mut s = JobScheduler::<2, 4, 4>::new(Config::DEFAULT);
    s.create_trail(A, &hz(), &spec("trail-one"), Timestamp(1))
        .unwrap();
    s.create_trail(B, &hz(), &spec("trail-one"), Timestamp(2))
        .unwrap();
    expect_err(&mut s, Error::CapacityExhausted(Table::Trails), |s| {
        s.create_trail(AccountId(3), &hz(), &spec("trail-one"), Timestamp(3))
    });
    // Check order on a full table: duplicate first, then limit, then capacity.
    expect_err(&mut s, Error::TrailAlreadyExists, |s| {
        s.create_trail(A, &hz(), &spec("trail-one"), Timestamp(3))
    });
    s.delete_trail(B, &hz(), &name("trail-one")).unwrap();
    s.create_trail(AccountId(3), &hz(), &spec("trail-one"), Timestamp(4))
        .unwrap();
    assert_eq!(s.stats().trails, 2);
}

#[test]
fn limit_is_checked_before_capacity() {
    let mut s = JobScheduler::<2, 4, 4>::new(Config {
        max_trails_per_account: 2,
        ..Config::DEFAULT
    });
    s.create_trail(A, &hz(), &spec("trail-one"), Timestamp(1))
        .unwrap();
    s.create_trail(A, &hz(), &spec("trail-two"), Timestamp(1))
        .unwrap();
    expect_err(&mut s, Error::TrailLimitExceeded, |s| {
        s.create_trail(A, &hz(), &spec("trail-three"), Timestamp(2))
    });
    expect_err(&mut s, Error::CapacityExhausted(Table::Trails), |s| {
        s.create_trail(A, &region("cn-beijing"), &spec("trail-three"), Timestamp(2))
    });
}

#[test]
fn delete_trail_removes_it() {
    let mut s = Sched::new(Config::DEFAULT);
    s.create_trail(A, &hz(), &spec("trail-one"), Timestamp(1))
        .unwrap();
    s.create_trail(A, &hz(), &spec("trail-two"), Timestamp(1))
        .unwrap();
    s.delete_trail(A, &hz(), &name("trail-one")).unwrap();
    assert!(s.trail(A, &hz(), &name("trail-one")).is_none());
    assert!(s.trail(A, &hz(), &name("trail-two")).is_some());
    assert_eq!(s.stats().trails, 1);
    expect_err(&mut s, Error::TrailNotFound, |s| {
        s.delete_trail(A, &hz(), &name("trail-one"))
    });
    // Re-creating it works and starts fresh (not logging).
    s.start_logging(A, &hz(), &name("trail-two"), Timestamp(2))
        .unwrap();
    s.create_trail(A, &hz(), &spec("trail-one"), Timestamp(3))
        .unwrap();
    assert_eq!(
        s.trail(A, &hz(), &name("trail-one")).unwrap().logging_since,
        None
    );
}

#[test]
fn delete_trail_of_another_account_or_region_is_not_found() {
    let mut s = Sched::new(Config::DEFAULT);
    s.create_trail(A, &hz(), &spec("trail-one"), Timestamp(1))
        .unwrap();
    expect_err(&mut s, Error::TrailNotFound, |s| {
        s.delete_trail(B, &hz(), &name("trail-one"))
    });
    expect_err(&mut s, Error::TrailNotFound, |s| {
        s.delete_trail(A, &region("cn-beijing"), &name("trail-one"))
    });
    assert!(s.trail(A, &hz(), &name("trail-one")).is_some());
}

#[test]
fn delete_trail_leaves_its_jobs_untouched() {
    let mut s = Sched::new(Config::DEFAULT);
    s.create_trail(A, &hz(), &spec("trail-one"), Timestamp(1))
        .unwrap();
    s.start_logging(A, &hz(), &name("trail-one"), Timestamp(2))
        .unwrap();
    let created = s
        .create_job(
            &CreateJob {
                account: A,
                region: hz(),
                trail_name: name("trail-one"),
                client_token: None,
            },
            Timestamp(3),
        )
        .unwrap();
    let job_before = s.job(A, created.job_id).unwrap().clone();
    s.delete_trail(A, &hz(), &name("trail-one")).unwrap();
    assert_eq!(s.job(A, created.job_id), Some(&job_before));
    assert_eq!(s.active_job(A).map(|j| j.id), Some(created.job_id));
    assert_eq!(
        s.start_job(A, created.job_id, Timestamp(4)),
        Ok(Transition::Changed)
    );
    assert!(s.check_invariants().is_ok());
}

#[test]
fn start_and_stop_logging_transitions() {
    let mut s = Sched::new(Config::DEFAULT);
    let n = name("trail-one");
    s.create_trail(A, &hz(), &spec("trail-one"), Timestamp(10))
        .unwrap();
    assert_eq!(
        s.start_logging(A, &hz(), &n, Timestamp(20)),
        Ok(Transition::Changed)
    );
    assert_eq!(
        s.trail(A, &hz(), &n).unwrap().logging_since,
        Some(Timestamp(20))
    );
    assert_eq!(s.clock(), Timestamp(20));

    // Already logging: Unchanged, the original start time stays, the clock stays.
    let before = snap(&s);
    assert_eq!(
        s.start_logging(A, &hz(), &n, Timestamp(30)),
        Ok(Transition::Unchanged)
    );
    assert_eq!(
        s.trail(A, &hz(), &n).unwrap().logging_since,
        Some(Timestamp(20))
    );
    assert_eq!(s.clock(), Timestamp(20));
    assert_eq!(snap(&s), before);

    assert_eq!(
        s.stop_logging(A, &hz(), &n, Timestamp(40)),
        Ok(Transition::Changed)
    );
    assert_eq!(s.trail(A, &hz(), &n).unwrap().logging_since, None);
    assert_eq!(s.clock(), Timestamp(40));

    let before = snap(&s);
    assert_eq!(
        s.stop_logging(A, &hz(), &n, Timestamp(50)),
        Ok(Transition::Unchanged)
    );
    assert_eq!(s.clock(), Timestamp(40));
    assert_eq!(snap(&s), before);

    // Restarting records the new time.
    assert_eq!(
        s.start_logging(A, &hz(), &n, Timestamp(60)),
        Ok(Transition::Changed)
    );
    assert_eq!(
        s.trail(A, &hz(), &n).unwrap().logging_since,
        Some(Timestamp(60))
    );
}

#[test]
fn stop_logging_on_a_new_trail_is_unchanged() {
    let mut s = Sched::new(Config::DEFAULT);
    s.create_trail(A, &hz(), &spec("trail-one"), Timestamp(10))
        .unwrap();
    let before = snap(&s);
    assert_eq!(
        s.stop_logging(A, &hz(), &name("trail-one"), Timestamp(99)),
        Ok(Transition::Unchanged)
    );
    assert_eq!(snap(&s), before);
    assert_eq!(s.clock(), Timestamp(10));
}

#[test]
fn logging_on_missing_trail_is_not_found() {
    let mut s = Sched::new(Config::DEFAULT);
    s.create_trail(A, &hz(), &spec("trail-one"), Timestamp(10))
        .unwrap();
    expect_err(&mut s, Error::TrailNotFound, |s| {
        s.start_logging(A, &hz(), &name("trail-two"), Timestamp(20))
    });
    expect_err(&mut s, Error::TrailNotFound, |s| {
        s.stop_logging(A, &hz(), &name("trail-two"), Timestamp(20))
    });
    expect_err(&mut s, Error::TrailNotFound, |s| {
        s.start_logging(B, &hz(), &name("trail-one"), Timestamp(20))
    });
    expect_err(&mut s, Error::TrailNotFound, |s| {
        s.start_logging(A, &region("cn-beijing"), &name("trail-one"), Timestamp(20))
    });
}

#[test]
fn clock_starts_at_zero_and_follows_changes() {
    let mut s = Sched::new(Config::DEFAULT);
    assert_eq!(s.clock(), Timestamp(0));
    s.create_trail(A, &hz(), &spec("trail-one"), Timestamp(1_000))
        .unwrap();
    assert_eq!(s.clock(), Timestamp(1_000));
    s.create_trail(A, &hz(), &spec("trail-two"), Timestamp(2_000))
        .unwrap();
    assert_eq!(s.clock(), Timestamp(2_000));
}

#[test]
fn clock_never_goes_back_and_stored_times_are_clamped() {
    let mut s = Sched::new(Config::DEFAULT);
    s.create_trail(A, &hz(), &spec("trail-one"), Timestamp(1_000))
        .unwrap();
    // The host clock steps back: the trail starts logging at the clamped time.
    s.create_trail(A, &hz(), &spec("trail-two"), Timestamp(500))
        .unwrap();
    assert_eq!(s.clock(), Timestamp(1_000));
    s.start_logging(A, &hz(), &name("trail-two"), Timestamp(10))
        .unwrap();
    assert_eq!(s.clock(), Timestamp(1_000));
    assert_eq!(
        s.trail(A, &hz(), &name("trail-two")).unwrap().logging_since,
        Some(Timestamp(1_000))
    );
    assert!(s.check_invariants().is_ok());
}

#[test]
fn errors_do_not_move_the_clock() {
    let mut s = Sched::new(Config::DEFAULT);
    s.create_trail(A, &hz(), &spec("trail-one"), Timestamp(100))
        .unwrap();
    expect_err(&mut s, Error::TrailAlreadyExists, |s| {
        s.create_trail(A, &hz(), &spec("trail-one"), Timestamp(10_000))
    });
    expect_err(&mut s, Error::TrailNotFound, |s| {
        s.start_logging(B, &hz(), &name("trail-one"), Timestamp(10_000))
    });
    assert_eq!(s.clock(), Timestamp(100));
}

#[test]
fn delete_trail_takes_no_time_and_keeps_the_clock() {
    let mut s = Sched::new(Config::DEFAULT);
    s.create_trail(A, &hz(), &spec("trail-one"), Timestamp(100))
        .unwrap();
    s.delete_trail(A, &hz(), &name("trail-one")).unwrap();
    assert_eq!(s.clock(), Timestamp(100));
    assert_eq!(s.stats().trails, 0);
}

#[test]
fn trails_iterate_in_key_order() {
    let mut s = Sched::new(Config::DEFAULT);
    let keys = [
        (B, "cn-hangzhou", "trail-aaa"),
        (A, "cn-hangzhou", "trail-bbb"),
        (A, "ap-southeast-1", "trail-zzz"),
        (A, "cn-hangzhou", "trail-aaa"),
    ];
    for (a, r, n) in keys {
        s.create_trail(a, &region(r), &spec(n), Timestamp(1))
            .unwrap();
    }
    let got: Vec<(u64, String, String)> = s
        .trails()
        .map(|t| (t.account.0, t.region.to_string(), t.name.to_string()))
        .collect();
    let want = vec![
        (A.0, "ap-southeast-1".into(), "trail-zzz".into()),
        (A.0, "cn-hangzhou".into(), "trail-aaa".into()),
        (A.0, "cn-hangzhou".into(), "trail-bbb".into()),
        (B.0, "cn-hangzhou".into(), "trail-aaa".into()),
    ];
    assert_eq!(got, want);
}

#[test]
fn large_times_saturate_without_panicking() {
    let mut s = Sched::new(Config::DEFAULT);
    s.create_trail(A, &hz(), &spec("trail-one"), Timestamp(u64::MAX))
        .unwrap();
    s.start_logging(A, &hz(), &name("trail-one"), Timestamp(u64::MAX))
        .unwrap();
    assert_eq!(s.clock(), Timestamp(u64::MAX));
    assert_eq!(
        s.trail(A, &hz(), &name("trail-one")).unwrap().logging_since,
        Some(Timestamp(u64::MAX))
    );
    assert!(s.check_invariants().is_ok());
}

/// A small deterministic generator (xorshift), so the sequence is the same on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The trail table against a plain reference model, through many creates and deletes
/// (a hash index must survive churn on a full table).
#[test]
fn trail_table_matches_a_reference_model_under_churn() {
    use std::collections::BTreeMap;
    const CAP: usize = 8;
    let limit = 3u32;
    let mut s = JobScheduler::<CAP, 2, 2>::new(Config {
        max_trails_per_account: limit,
        ..Config::DEFAULT
    });
    let accounts = [A, B, AccountId(0)];
    let regions = ["cn-hangzhou", "cn-beijing"];
    let names = [
        "trail-1", "trail-2", "trail-3", "trail-4", "trail-5", "trail-6",
    ];
    // (account, region, name) -> logging_since
    let mut model: BTreeMap<(u64, &str, &str), Option<u64>> = BTreeMap::new();
    let mut clock = 0u64;
    let mut now = 0u64;
    let mut rng = Rng(0xBADC_0DE5_EED5);
    let mut created = 0;
    for step in 0..4_000 {
        now = if rng.below(5) == 0 {
            now.saturating_sub(rng.below(20))
        } else {
            now + rng.below(5)
        };
        let t = now.max(clock);
        let acc = accounts[rng.below(3) as usize];
        let r = regions[rng.below(2) as usize];
        let n = names[rng.below(6) as usize];
        let key = (acc.0, r, n);
        let exists = model.contains_key(&key);
        match rng.below(4) {
            0 => {
                let got = s.create_trail(acc, &region(r), &spec(n), Timestamp(now));
                let in_region = model
                    .keys()
                    .filter(|(a, rr, _)| *a == acc.0 && *rr == r)
                    .count();
                let expected = if exists {
                    Err(Error::TrailAlreadyExists)
                } else if in_region >= limit as usize {
                    Err(Error::TrailLimitExceeded)
                } else if model.len() == CAP {
                    Err(Error::CapacityExhausted(Table::Trails))
                } else {
                    model.insert(key, None);
                    clock = t;
                    created += 1;
                    Ok(())
                };
                assert_eq!(got, expected, "step {step}: create {key:?}");
            }
            1 => {
                let got = s.delete_trail(acc, &region(r), &name(n));
                let expected = if model.remove(&key).is_some() {
                    Ok(())
                } else {
                    Err(Error::TrailNotFound)
                };
                assert_eq!(got, expected, "step {step}: delete {key:?}");
            }
            2 => {
                let got = s.start_logging(acc, &region(r), &name(n), Timestamp(now));
                let expected = match model.get_mut(&key) {
                    None => Err(Error::TrailNotFound),
                    Some(Some(_)) => Ok(Transition::Unchanged),
                    Some(since) => {
                        *since = Some(t);
                        clock = t;
                        Ok(Transition::Changed)
                    }
                };
                assert_eq!(got, expected, "step {step}: start {key:?}");
            }
            _ => {
                let got = s.stop_logging(acc, &region(r), &name(n), Timestamp(now));
                let expected = match model.get_mut(&key) {
                    None => Err(Error::TrailNotFound),
                    Some(None) => Ok(Transition::Unchanged),
                    Some(since) => {
                        *since = None;
                        clock = t;
                        Ok(Transition::Changed)
                    }
                };
                assert_eq!(got, expected, "step {step}: stop {key:?}");
            }
        }
        assert_eq!(s.clock(), Timestamp(clock), "step {step}");
        assert_eq!(s.stats().trails, model.len());
        let actual: Vec<(u64, String, String, Option<u64>)> = s
            .trails()
            .map(|t| {
                (
                    t.account.0,
                    t.region.to_string(),
                    t.name.to_string(),
                    t.logging_since.map(|x| x.0),
                )
            })
            .collect();
        let wanted: Vec<(u64, String, String, Option<u64>)> = model
            .iter()
            .map(|((a, r, n), l)| (*a, r.to_string(), n.to_string(), *l))
            .collect();
        assert_eq!(actual, wanted, "step {step}");
        for (&(a, r, n), l) in &model {
            let found = s.trail(AccountId(a), &region(r), &name(n)).unwrap();
            assert_eq!(found.logging_since.map(|x| x.0), *l);
        }
        assert!(s.check_invariants().is_ok(), "step {step}");
    }
    assert!(created > 100, "{created}");
}
