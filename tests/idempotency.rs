//! Contract tests for SPEC section 3, check 1 and commit step 6: client tokens, replays,
//! mismatches, the TTL boundary, scoping, and the token cache's eviction order.

use trail_backfill::*;

mod common;
use common::{bj, hz, logging_trail, name, region, snap, token};

type Sched = JobScheduler<8, 8, 8>;

const A: AccountId = AccountId(1001);
const B: AccountId = AccountId(2002);

const TTL: u64 = 100;

fn config() -> Config {
    Config {
        token_ttl_secs: TTL,
        ..Config::DEFAULT
    }
}

fn req(account: AccountId, r: &Region, n: &str, tok: Option<&str>) -> CreateJob {
    CreateJob {
        account,
        region: r.clone(),
        trail_name: name(n),
        client_token: tok.map(token),
    }
}

/// Creates a job with a token and finishes it at the same instant, so the account is free again.
fn create_and_finish<const T: usize, const J: usize, const K: usize>(
    s: &mut JobScheduler<T, J, K>,
    account: AccountId,
    r: &Region,
    n: &str,
    tok: &str,
    now: u64,
) -> JobId {
    let out = s
        .create_job(&req(account, r, n, Some(tok)), Timestamp(now))
        .unwrap();
    assert!(!out.replayed, "{tok} at {now} should create a new job");
    s.complete_job(account, out.job_id, JobOutcome::Completed, Timestamp(now))
        .unwrap();
    out.job_id
}

/// Expects a replay of `expected` that changes nothing at all.
fn expect_replay<const T: usize, const J: usize, const K: usize>(
    s: &mut JobScheduler<T, J, K>,
    request: &CreateJob,
    now: u64,
    expected: JobId,
) {
    let before = snap(s);
    let stats = s.stats();
    let clock = s.clock();
    let next = s.next_job_id();
    assert_eq!(
        s.create_job(request, Timestamp(now)),
        Ok(JobCreated {
            job_id: expected,
            replayed: true
        })
    );
    assert_eq!(snap(s), before, "a replay changed the scheduler");
    assert_eq!(s.stats(), stats);
    assert_eq!(s.clock(), clock, "a replay moved the clock");
    assert_eq!(s.next_job_id(), next);
}

fn expect_err<const T: usize, const J: usize, const K: usize, R: std::fmt::Debug>(
    s: &mut JobScheduler<T, J, K>,
    expected: Error,
    f: impl FnOnce(&mut JobScheduler<T, J, K>) -> Result<R, Error>,
) {
    let before = snap(s);
    let stats = s.stats();
    let clock = s.clock();
    assert_eq!(f(s).unwrap_err(), expected);
    assert_eq!(snap(s), before);
    assert_eq!(s.stats(), stats);
    assert_eq!(s.clock(), clock);
}

#[test]
fn replay_returns_the_same_job_and_changes_nothing() {
    let mut s = Sched::new(config());
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let r = req(A, &hz(), "trail-one", Some("tok-1"));
    let out = s.create_job(&r, Timestamp(20)).unwrap();
    assert_eq!(
        out,
        JobCreated {
            job_id: JobId(1),
            replayed: false
        }
    );
    assert_eq!(s.stats().tokens, 1);
    expect_replay(&mut s, &r, 20, out.job_id);
    expect_replay(&mut s, &r, 21, out.job_id);
    expect_replay(&mut s, &r, 20 + TTL - 1, out.job_id);
    assert_eq!(s.stats().jobs, 1);
}

#[test]
fn replay_after_the_job_finished_was_deleted_or_the_trail_is_gone() {
    let mut s = Sched::new(config());
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let r = req(A, &hz(), "trail-one", Some("tok-1"));
    let id = s.create_job(&r, Timestamp(20)).unwrap().job_id;
    s.start_job(A, id, Timestamp(21)).unwrap();
    expect_replay(&mut s, &r, 22, id);
    s.complete_job(A, id, JobOutcome::Failed, Timestamp(23))
        .unwrap();
    expect_replay(&mut s, &r, 24, id);
    s.delete_job(A, id).unwrap();
    assert!(s.job(A, id).is_none());
    assert_eq!(
        s.stats().tokens,
        1,
        "token records naming a deleted job stay"
    );
    expect_replay(&mut s, &r, 25, id);
    s.delete_trail(A, &hz(), &name("trail-one")).unwrap();
    expect_replay(&mut s, &r, 26, id);
}

#[test]
fn replay_while_another_job_is_active() {
    let mut s = Sched::new(config());
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let first = create_and_finish(&mut s, A, &hz(), "trail-one", "tok-1", 20);
    let second = s
        .create_job(&req(A, &hz(), "trail-one", Some("tok-2")), Timestamp(21))
        .unwrap()
        .job_id;
    assert_ne!(first, second);
    expect_replay(
        &mut s,
        &req(A, &hz(), "trail-one", Some("tok-1")),
        22,
        first,
    );
    expect_replay(
        &mut s,
        &req(A, &hz(), "trail-one", Some("tok-2")),
        22,
        second,
    );
}

#[test]
fn replay_when_the_trail_stopped_logging() {
    let mut s = Sched::new(config());
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let r = req(A, &hz(), "trail-one", Some("tok-1"));
    let id = s.create_job(&r, Timestamp(20)).unwrap().job_id;
    s.stop_logging(A, &hz(), &name("trail-one"), Timestamp(21))
        .unwrap();
    expect_replay(&mut s, &r, 22, id);
}

#[test]
fn other_trail_name_under_a_live_token_is_a_mismatch() {
    let mut s = Sched::new(config());
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    logging_trail(&mut s, A, &hz(), "trail-two", 10);
    create_and_finish(&mut s, A, &hz(), "trail-one", "tok-1", 20);
    expect_err(&mut s, Error::IdempotentParameterMismatch, |s| {
        s.create_job(&req(A, &hz(), "trail-two", Some("tok-1")), Timestamp(30))
    });
    // Also when the other trail does not exist: check 1 comes first.
    expect_err(&mut s, Error::IdempotentParameterMismatch, |s| {
        s.create_job(
            &req(A, &hz(), "missing-trail", Some("tok-1")),
            Timestamp(30),
        )
    });
    // At the last live second too.
    expect_err(&mut s, Error::IdempotentParameterMismatch, |s| {
        s.create_job(
            &req(A, &hz(), "trail-two", Some("tok-1")),
            Timestamp(20 + TTL - 1),
        )
    });
}

#[test]
fn token_expires_at_exactly_ttl() {
    let mut s = Sched::new(config());
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let r = req(A, &hz(), "trail-one", Some("tok-1"));
    let first = create_and_finish(&mut s, A, &hz(), "trail-one", "tok-1", 1_000);
    expect_replay(&mut s, &r, 1_000 + TTL - 1, first);
    let out = s.create_job(&r, Timestamp(1_000 + TTL)).unwrap();
    assert!(!out.replayed);
    assert_ne!(out.job_id, first);
    assert_eq!(out.job_id, JobId(first.0 + 1));
    // The expired record for the key was replaced: one record, now naming the new job.
    assert_eq!(s.stats().tokens, 1);
    assert_eq!(s.stats().tokens_evicted_live, 0);
    expect_replay(&mut s, &r, 1_000 + TTL + 1, out.job_id);
    expect_replay(&mut s, &r, 1_000 + 2 * TTL - 1, out.job_id);
    assert!(s.check_invariants().is_ok());
}

#[test]
fn expired_token_with_another_trail_name_is_not_a_mismatch() {
    let mut s = Sched::new(config());
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    logging_trail(&mut s, A, &hz(), "trail-two", 10);
    create_and_finish(&mut s, A, &hz(), "trail-one", "tok-1", 100);
    let out = s
        .create_job(
            &req(A, &hz(), "trail-two", Some("tok-1")),
            Timestamp(100 + TTL),
        )
        .unwrap();
    assert!(!out.replayed);
    assert_eq!(s.job(A, out.job_id).unwrap().trail_name, name("trail-two"));
}

#[test]
fn ttl_is_measured_on_the_clamped_clock() {
    let mut s = Sched::new(config());
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    logging_trail(&mut s, B, &hz(), "trail-one", 10);
    let r = req(A, &hz(), "trail-one", Some("tok-1"));
    let first = create_and_finish(&mut s, A, &hz(), "trail-one", "tok-1", 100);
    // Another account's change pushes the clock to the expiry instant.
    create_and_finish(&mut s, B, &hz(), "trail-one", "other", 100 + TTL);
    // A host clock that steps back does not revive the token.
    let out = s.create_job(&r, Timestamp(150)).unwrap();
    assert!(!out.replayed);
    assert_ne!(out.job_id, first);
    assert_eq!(
        s.job(A, out.job_id).unwrap().created_at,
        Timestamp(100 + TTL)
    );
}

#[test]
fn ttl_addition_saturates() {
    let mut s = Sched::new(Config {
        token_ttl_secs: u64::MAX,
        ..Config::DEFAULT
    });
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let r = req(A, &hz(), "trail-one", Some("tok-1"));
    let first = create_and_finish(&mut s, A, &hz(), "trail-one", "tok-1", 1_000);
    // recorded_at + ttl saturates at u64::MAX: live up to u64::MAX - 1.
    expect_replay(&mut s, &r, u64::MAX - 1, first);
}

#[test]
fn tokens_are_case_sensitive() {
    let mut s = Sched::new(config());
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let lower = create_and_finish(&mut s, A, &hz(), "trail-one", "token", 20);
    let upper = create_and_finish(&mut s, A, &hz(), "trail-one", "TOKEN", 21);
    assert_ne!(lower, upper);
    assert_eq!(s.stats().tokens, 2);
}

#[test]
fn tokens_are_scoped_per_account_and_region() {
    let mut s = Sched::new(config());
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    logging_trail(&mut s, A, &bj(), "trail-one", 10);
    logging_trail(&mut s, B, &hz(), "trail-one", 10);
    let a_hz = create_and_finish(&mut s, A, &hz(), "trail-one", "shared", 20);
    let a_bj = create_and_finish(&mut s, A, &bj(), "trail-one", "shared", 21);
    let b_hz = create_and_finish(&mut s, B, &hz(), "trail-one", "shared", 22);
    assert_eq!(
        [a_hz.0, a_bj.0, b_hz.0],
        [1, 2, 3],
        "three distinct jobs, none replayed"
    );
    assert_eq!(s.stats().tokens, 3);
    expect_replay(
        &mut s,
        &req(A, &hz(), "trail-one", Some("shared")),
        30,
        a_hz,
    );
    expect_replay(
        &mut s,
        &req(A, &bj(), "trail-one", Some("shared")),
        30,
        a_bj,
    );
    expect_replay(
        &mut s,
        &req(B, &hz(), "trail-one", Some("shared")),
        30,
        b_hz,
    );
}

#[test]
fn another_accounts_token_is_no_mismatch() {
    let mut s = Sched::new(config());
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    logging_trail(&mut s, B, &hz(), "trail-two", 10);
    create_and_finish(&mut s, A, &hz(), "trail-one", "shared", 20);
    let out = s
        .create_job(&req(B, &hz(), "trail-two", Some("shared")), Timestamp(21))
        .unwrap();
    assert!(!out.replayed);
}

#[test]
fn failed_calls_are_not_recorded() {
    let mut s = Sched::new(config());
    let spec = TrailSpec {
        name: name("trail-one"),
        kind: TrailKind::SingleAccount,
        delivers_to_sls: true,
    };
    s.create_trail(A, &hz(), &spec, Timestamp(10)).unwrap();
    let r = req(A, &hz(), "trail-one", Some("tok-1"));
    // Not logging yet: the call fails and leaves no record.
    expect_err(
        &mut s,
        Error::TrailNotEligible(Ineligibility::NotLogging),
        |s| s.create_job(&r, Timestamp(20)),
    );
    assert_eq!(s.stats().tokens, 0);
    // Trail not found under the same token: still no record, so no mismatch later either.
    expect_err(&mut s, Error::TrailNotFound, |s| {
        s.create_job(
            &req(A, &hz(), "missing-trail", Some("tok-1")),
            Timestamp(21),
        )
    });
    assert_eq!(s.stats().tokens, 0);
    // Fix the cause and retry with the same token: it succeeds.
    s.start_logging(A, &hz(), &name("trail-one"), Timestamp(22))
        .unwrap();
    let out = s.create_job(&r, Timestamp(23)).unwrap();
    assert!(!out.replayed);
    assert_eq!(s.stats().tokens, 1);
}

#[test]
fn failed_call_while_running_is_not_recorded() {
    let mut s = Sched::new(config());
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let running = s
        .create_job(&req(A, &hz(), "trail-one", None), Timestamp(20))
        .unwrap()
        .job_id;
    let r = req(A, &hz(), "trail-one", Some("tok-1"));
    expect_err(&mut s, Error::JobAlreadyRunning { active: running }, |s| {
        s.create_job(&r, Timestamp(21))
    });
    s.complete_job(A, running, JobOutcome::Completed, Timestamp(22))
        .unwrap();
    let out = s.create_job(&r, Timestamp(23)).unwrap();
    assert!(!out.replayed);
    assert_ne!(out.job_id, running);
}

#[test]
fn jobs_without_token_are_never_replays() {
    let mut s = Sched::new(config());
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let r = req(A, &hz(), "trail-one", None);
    let first = s.create_job(&r, Timestamp(20)).unwrap();
    s.complete_job(A, first.job_id, JobOutcome::Completed, Timestamp(21))
        .unwrap();
    let second = s.create_job(&r, Timestamp(22)).unwrap();
    assert!(!second.replayed);
    assert_ne!(first.job_id, second.job_id);
    assert_eq!(s.stats().tokens, 0);
}

#[test]
fn expired_records_are_kept_and_counted() {
    let mut s = Sched::new(config());
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    create_and_finish(&mut s, A, &hz(), "trail-one", "tok-1", 20);
    create_and_finish(&mut s, A, &hz(), "trail-one", "tok-2", 21);
    // Long after expiry, other work (without tokens) does not purge them.
    let id = s
        .create_job(&req(A, &hz(), "trail-one", None), Timestamp(10_000))
        .unwrap()
        .job_id;
    s.complete_job(A, id, JobOutcome::Completed, Timestamp(10_001))
        .unwrap();
    assert_eq!(s.stats().tokens, 2);
    assert!(s.check_invariants().is_ok());
}

#[test]
fn eviction_a_removes_the_expired_record_of_the_same_key() {
    // Capacity 3, two records; re-using the older, expired key must not grow the cache.
    let mut s = JobScheduler::<8, 8, 3>::new(config());
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    create_and_finish(&mut s, A, &hz(), "trail-one", "tok-a", 10);
    create_and_finish(&mut s, A, &hz(), "trail-one", "tok-b", 20);
    assert_eq!(s.stats().tokens, 2);
    let again = create_and_finish(&mut s, A, &hz(), "trail-one", "tok-a", 150);
    assert_eq!(s.stats().tokens, 2, "the expired tok-a record was replaced");
    assert_eq!(s.stats().tokens_evicted_live, 0);
    expect_replay(
        &mut s,
        &req(A, &hz(), "trail-one", Some("tok-a")),
        151,
        again,
    );
    assert!(s.check_invariants().is_ok());
}

#[test]
fn eviction_a_on_a_full_cache_replaces_without_evicting_others() {
    let mut s = JobScheduler::<8, 8, 2>::new(config());
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    create_and_finish(&mut s, A, &hz(), "trail-one", "tok-a", 10);
    let b = create_and_finish(&mut s, A, &hz(), "trail-one", "tok-b", 60);
    // At 115, tok-a is expired (10 + 100 <= 115) and tok-b is live (60 + 100 > 115).
    // Re-using tok-a removes its own expired record (a): tok-b stays, nothing live is evicted.
    let a2 = create_and_finish(&mut s, A, &hz(), "trail-one", "tok-a", 115);
    assert_eq!(s.stats().tokens, 2);
    assert_eq!(s.stats().tokens_evicted_live, 0);
    expect_replay(&mut s, &req(A, &hz(), "trail-one", Some("tok-b")), 116, b);
    expect_replay(&mut s, &req(A, &hz(), "trail-one", Some("tok-a")), 116, a2);
}

#[test]
fn eviction_b_drops_the_oldest_live_record_and_counts_it() {
    let mut s = JobScheduler::<8, 8, 2>::new(config());
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    create_and_finish(&mut s, A, &hz(), "trail-one", "tok-1", 10);
    let t2 = create_and_finish(&mut s, A, &hz(), "trail-one", "tok-2", 20);
    let t3 = create_and_finish(&mut s, A, &hz(), "trail-one", "tok-3", 30);
    let st = s.stats();
    assert_eq!(st.tokens, 2);
    assert_eq!(st.tokens_evicted_live, 1, "tok-1 was still live at 30");
    expect_replay(&mut s, &req(A, &hz(), "trail-one", Some("tok-2")), 31, t2);
    expect_replay(&mut s, &req(A, &hz(), "trail-one", Some("tok-3")), 31, t3);
    // tok-1 is forgotten: using it again creates a new job (and evicts tok-2, live).
    let t1b = create_and_finish(&mut s, A, &hz(), "trail-one", "tok-1", 32);
    assert_eq!(t1b, JobId(t3.0 + 1));
    assert_eq!(s.stats().tokens_evicted_live, 2);
    expect_replay(&mut s, &req(A, &hz(), "trail-one", Some("tok-3")), 33, t3);
    assert!(s.check_invariants().is_ok());
}

#[test]
fn eviction_b_of_an_expired_record_is_not_counted() {
    let mut s = JobScheduler::<8, 8, 2>::new(config());
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    create_and_finish(&mut s, A, &hz(), "trail-one", "tok-1", 10);
    let t2 = create_and_finish(&mut s, A, &hz(), "trail-one", "tok-2", 20);
    // At 110, tok-1 (recorded at 10) is exactly expired; tok-2 is live.
    create_and_finish(&mut s, A, &hz(), "trail-one", "tok-3", 110);
    let st = s.stats();
    assert_eq!(st.tokens, 2);
    assert_eq!(st.tokens_evicted_live, 0);
    expect_replay(&mut s, &req(A, &hz(), "trail-one", Some("tok-2")), 111, t2);
}

#[test]
fn eviction_b_at_the_last_live_second_is_counted() {
    let mut s = JobScheduler::<8, 8, 2>::new(config());
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    create_and_finish(&mut s, A, &hz(), "trail-one", "tok-1", 10);
    create_and_finish(&mut s, A, &hz(), "trail-one", "tok-2", 20);
    // At 109, tok-1 (recorded at 10) is still live.
    create_and_finish(&mut s, A, &hz(), "trail-one", "tok-3", 109);
    assert_eq!(s.stats().tokens_evicted_live, 1);
}

#[test]
fn cache_is_fifo_across_accounts_and_regions() {
    let mut s = JobScheduler::<8, 8, 2>::new(config());
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    logging_trail(&mut s, B, &bj(), "trail-one", 10);
    create_and_finish(&mut s, A, &hz(), "trail-one", "tok", 10);
    let b = create_and_finish(&mut s, B, &bj(), "trail-one", "tok", 11);
    let a2 = create_and_finish(&mut s, A, &hz(), "trail-one", "tok-2", 12);
    assert_eq!(s.stats().tokens_evicted_live, 1);
    // A's "tok" was the oldest and is gone; B's survives.
    expect_replay(&mut s, &req(B, &bj(), "trail-one", Some("tok")), 13, b);
    expect_replay(&mut s, &req(A, &hz(), "trail-one", Some("tok-2")), 13, a2);
    let fresh = s
        .create_job(&req(A, &hz(), "trail-one", Some("tok")), Timestamp(14))
        .unwrap();
    assert!(!fresh.replayed);
}

#[test]
fn replays_do_not_refresh_a_record() {
    // A replay changes nothing, so the record keeps its original recorded_at.
    let mut s = Sched::new(config());
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let r = req(A, &hz(), "trail-one", Some("tok-1"));
    let first = create_and_finish(&mut s, A, &hz(), "trail-one", "tok-1", 100);
    expect_replay(&mut s, &r, 150, first);
    expect_replay(&mut s, &r, 199, first);
    let out = s.create_job(&r, Timestamp(200)).unwrap();
    assert!(!out.replayed);
}

#[test]
fn eviction_a_runs_before_b_when_the_same_key_is_not_the_oldest() {
    let mut s = JobScheduler::<8, 8, 2>::new(config());
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    create_and_finish(&mut s, A, &hz(), "trail-one", "tok-a", 10);
    create_and_finish(&mut s, A, &hz(), "trail-one", "tok-b", 20);
    // At 125 both are expired. (a) removes the tok-b record, the cache is no longer full,
    // so (b) evicts nothing: tok-a's expired record stays.
    let b2 = create_and_finish(&mut s, A, &hz(), "trail-one", "tok-b", 125);
    assert_eq!(s.stats().tokens, 2);
    assert_eq!(s.stats().tokens_evicted_live, 0);
    assert!(s.check_invariants().is_ok());
    expect_replay(&mut s, &req(A, &hz(), "trail-one", Some("tok-b")), 126, b2);
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

/// One record of the reference model: (account, region, token) -> (job, trail, recorded_at).
struct Record {
    key: (AccountId, &'static str, &'static str),
    job: JobId,
    trail: &'static str,
    recorded_at: u64,
}

#[test]
fn token_cache_matches_a_fifo_reference_model() {
    const CAP: usize = 4;
    let ttl = 30;
    let mut s = JobScheduler::<8, 8, CAP>::new(Config {
        token_ttl_secs: ttl,
        ..Config::DEFAULT
    });
    let accounts = [A, B];
    let regions = ["cn-hangzhou", "cn-beijing"];
    let trails = ["trail-one", "trail-two"];
    let tokens = ["t0", "t1", "t2", "t3", "t4", "T0", "t 0"];
    for acc in accounts {
        for r in regions {
            for n in trails {
                logging_trail(&mut s, acc, &region(r), n, 1);
            }
        }
    }
    let mut model: std::collections::VecDeque<Record> = Default::default();
    let mut evicted_live = 0u64;
    let mut next_id = 1u64;
    let mut rng = Rng(0x0DDB_A11C_AFE5);
    let mut now = 10u64;
    let (mut replays, mut mismatches, mut created) = (0, 0, 0);
    for step in 0..3_000 {
        now += rng.below(7);
        let acc = accounts[rng.below(2) as usize];
        let r = regions[rng.below(2) as usize];
        let tok = tokens[rng.below(tokens.len() as u64) as usize];
        let trail = trails[rng.below(2) as usize];
        let key = (acc, r, tok);
        let got = s.create_job(&req(acc, &region(r), trail, Some(tok)), Timestamp(now));

        let live = model
            .iter()
            .find(|rec| rec.key == key && now < rec.recorded_at + ttl);
        let expected = match live {
            Some(rec) if rec.trail == trail => Ok(JobCreated {
                job_id: rec.job,
                replayed: true,
            }),
            Some(_) => Err(Error::IdempotentParameterMismatch),
            None => {
                let job = JobId(next_id);
                next_id += 1;
                // (a) the expired record of the same key, (b) the oldest when full, (c) push.
                model.retain(|rec| rec.key != key);
                if model.len() == CAP {
                    let oldest = model.pop_front().unwrap();
                    if now < oldest.recorded_at + ttl {
                        evicted_live += 1;
                    }
                }
                model.push_back(Record {
                    key,
                    job,
                    trail,
                    recorded_at: now,
                });
                Ok(JobCreated {
                    job_id: job,
                    replayed: false,
                })
            }
        };
        assert_eq!(got, expected, "step {step} at {now}: {key:?} on {trail}");
        match got {
            Ok(JobCreated {
                job_id,
                replayed: false,
            }) => {
                created += 1;
                s.complete_job(acc, job_id, JobOutcome::Completed, Timestamp(now))
                    .unwrap();
            }
            Ok(_) => replays += 1,
            Err(_) => mismatches += 1,
        }
        let st = s.stats();
        assert_eq!(st.tokens, model.len(), "step {step}");
        assert_eq!(st.tokens_evicted_live, evicted_live, "step {step}");
        assert!(s.check_invariants().is_ok());
    }
    assert!(replays > 100 && mismatches > 100 && created > 100);
    assert!(evicted_live > 10, "live evictions exercised");
}

#[test]
fn zero_ttl_means_no_replay_ever() {
    let mut s = Sched::new(Config {
        token_ttl_secs: 0,
        ..Config::DEFAULT
    });
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let first = create_and_finish(&mut s, A, &hz(), "trail-one", "tok", 20);
    // Same instant: recorded_at + 0 <= now, so the record is already expired.
    let second = create_and_finish(&mut s, A, &hz(), "trail-one", "tok", 20);
    assert_ne!(first, second);
    // And no mismatch either.
    logging_trail(&mut s, A, &hz(), "trail-two", 20);
    create_and_finish(&mut s, A, &hz(), "trail-two", "tok", 20);
    assert_eq!(
        s.stats().tokens,
        1,
        "each expired same-key record was replaced"
    );
}

#[test]
fn long_tokens_differing_in_the_last_char_are_distinct_keys() {
    let mut s = Sched::new(config());
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let base = "k".repeat(63);
    let x = create_and_finish(&mut s, A, &hz(), "trail-one", &format!("{base}x"), 20);
    let y = create_and_finish(&mut s, A, &hz(), "trail-one", &format!("{base}y"), 21);
    assert_ne!(x, y);
    expect_replay(
        &mut s,
        &req(A, &hz(), "trail-one", Some(&format!("{base}x"))),
        22,
        x,
    );
    expect_replay(
        &mut s,
        &req(A, &hz(), "trail-one", Some(&format!("{base}y"))),
        22,
        y,
    );
}
