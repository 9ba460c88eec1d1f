//! Restoring snapshots that are refused, crafted or out of order: a refused restore empties
//! the scheduler but keeps its next job id (even when the deserializer panics part-way), each
//! refusal says what was wrong (as a typed `SnapshotError` too, for postcard), and any order
//! of records loads in O(n log n).

use std::io::Read;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use serde_json::Value;
use trail_backfill::*;

type Sched = JobScheduler<4, 16, 16>;

fn hz() -> Region {
    Region::new("cn-hangzhou").unwrap()
}

fn name() -> TrailName {
    TrailName::new("trail-name").unwrap()
}

fn request(account: u64, token: Option<&str>) -> CreateJob {
    CreateJob {
        account: AccountId(account),
        region: hz(),
        trail_name: name(),
        client_token: token.map(|token| ClientToken::new(token).unwrap()),
    }
}

/// Two accounts with a logging trail each; jobs 1 and 2 finished, 3 active; two tokens.
fn busy() -> Sched {
    let mut s = Sched::new(Config::DEFAULT);
    for account in [1, 2] {
        let spec = TrailSpec {
            name: name(),
            kind: TrailKind::SingleAccount,
            delivers_to_sls: true,
        };
        s.create_trail(AccountId(account), &hz(), &spec, Timestamp(10))
            .unwrap();
        s.start_logging(AccountId(account), &hz(), &name(), Timestamp(10))
            .unwrap();
    }
    let first = s.create_job(&request(1, Some("a")), Timestamp(20)).unwrap();
    s.complete_job(
        AccountId(1),
        first.job_id,
        JobOutcome::Completed,
        Timestamp(21),
    )
    .unwrap();
    let second = s.create_job(&request(2, Some("b")), Timestamp(22)).unwrap();
    s.complete_job(
        AccountId(2),
        second.job_id,
        JobOutcome::Failed,
        Timestamp(23),
    )
    .unwrap();
    s.create_job(&request(1, None), Timestamp(24)).unwrap();
    s
}

fn is_empty(s: &Sched) -> bool {
    s.stats() == Stats::default() && s.trails().count() == 0 && s.clock() == Timestamp(0)
}

#[test]
fn a_refused_restore_keeps_the_next_job_id() {
    let mut s = busy();
    assert_eq!(s.next_job_id(), JobId(4));
    assert!(
        s.restore(&mut serde_json::Deserializer::from_str(
            "{\"format_version\": 9}"
        ))
        .is_err()
    );
    assert!(is_empty(&s));
    assert_eq!(s.next_job_id(), JobId(4), "ids 1 to 3 were given out");
    // The host sets the scheduler up again: the next job gets id 4, never 1 again.
    let spec = TrailSpec {
        name: name(),
        kind: TrailKind::SingleAccount,
        delivers_to_sls: true,
    };
    s.create_trail(AccountId(1), &hz(), &spec, Timestamp(30))
        .unwrap();
    s.start_logging(AccountId(1), &hz(), &name(), Timestamp(30))
        .unwrap();
    assert_eq!(
        s.create_job(&request(1, None), Timestamp(31))
            .unwrap()
            .job_id,
        JobId(4)
    );
    s.check_invariants().unwrap();
}

/// Hands out a valid snapshot's bytes, then panics part-way through it.
struct PanicsAfter<'a> {
    bytes: &'a [u8],
    left: usize,
}

impl Read for PanicsAfter<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            panic!("the storage under the deserializer failed");
        }
        let n = buf.len().min(self.left).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        self.left -= n;
        Ok(n)
    }
}

#[test]
fn a_deserializer_that_panics_part_way_leaves_the_scheduler_empty() {
    let text = serde_json::to_string(&busy()).unwrap();
    // Panic inside the jobs, after the trails were loaded.
    let cut = text.find("\"jobs\"").unwrap() + 40;
    let mut s = busy();
    let other = Sched::new(Config::DEFAULT);
    other.check_invariants().unwrap();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let reader = PanicsAfter {
            bytes: text.as_bytes(),
            left: cut,
        };
        let _ = s.restore(&mut serde_json::Deserializer::from_reader(reader));
    }));
    assert!(outcome.is_err(), "the reader panicked");
    assert!(is_empty(&s), "never half-loaded: {s:?}");
    assert_eq!(s.next_job_id(), JobId(4));
    s.check_invariants().unwrap();
    // And it loads the whole snapshot afterwards.
    s.restore(&mut serde_json::Deserializer::from_str(&text))
        .unwrap();
    assert_eq!(s, busy());
}

#[test]
fn a_repeated_token_record_is_called_a_duplicate() {
    let mut v: Value = serde_json::to_value(busy()).unwrap();
    let tokens = v["tokens"].as_array_mut().unwrap();
    let first = tokens[0].clone();
    tokens.insert(1, first);
    let text = v.to_string();
    let error = serde_json::from_str::<Sched>(&text)
        .unwrap_err()
        .to_string();
    assert!(error.contains("listed twice"), "{error}");
    assert!(!error.contains("capacity"), "{error}");
    let mut s = Sched::new(Config::DEFAULT);
    assert_eq!(
        s.restore_typed(&mut serde_json::Deserializer::from_str(&text)),
        Err(SnapshotError::DuplicateToken {
            account: AccountId(1)
        })
    );
}

#[test]
fn a_window_that_ends_before_it_starts_is_refused() {
    let mut v: Value = serde_json::to_value(busy()).unwrap();
    let job = &mut v["jobs"][0]["job"];
    let created = job["created_at"].as_u64().unwrap();
    job["window_start"] = Value::from(created);
    job["window_end"] = Value::from(created - 1);
    let mut s = Sched::new(Config::DEFAULT);
    assert_eq!(
        s.restore_typed(&mut serde_json::Deserializer::from_str(&v.to_string())),
        Err(SnapshotError::Invariant(
            InvariantViolation::WindowEndsBeforeStart { job: JobId(1) }
        ))
    );
    assert!(is_empty(&s));
}

#[test]
fn postcard_refusals_come_with_their_reason() {
    let bytes = postcard::to_allocvec(&busy()).unwrap();
    let mut tiny: JobScheduler<1, 16, 16> = JobScheduler::new(Config::DEFAULT);
    assert_eq!(
        tiny.restore_typed(&mut postcard::Deserializer::from_bytes(&bytes)),
        Err(SnapshotError::OverCapacity {
            table: SnapshotTable::Trails,
            capacity: 1
        })
    );
    let mut s = Sched::new(Config::DEFAULT);
    assert_eq!(
        s.restore_typed(&mut postcard::Deserializer::from_bytes(
            &bytes[..bytes.len() - 5]
        )),
        Err(SnapshotError::Malformed { field: "tokens" })
    );
    let mut unknown = bytes.clone();
    unknown[0] = 9; // the format version, a one-byte varint
    assert_eq!(
        s.restore_typed(&mut postcard::Deserializer::from_bytes(&unknown)),
        Err(SnapshotError::UnknownVersion(9))
    );
    assert_eq!(
        SnapshotError::UnknownVersion(9).to_string(),
        "unknown snapshot format_version 9: this build reads versions 1 to 2"
    );
    // A valid snapshot loads through the same entry point.
    s.restore_typed(&mut postcard::Deserializer::from_bytes(&bytes))
        .unwrap();
    assert_eq!(s, busy());
}

#[test]
fn records_in_any_order_load_as_the_canonical_snapshot() {
    let original = busy();
    let mut v: Value = serde_json::to_value(&original).unwrap();
    v["jobs"].as_array_mut().unwrap().reverse();
    v["trails"].as_array_mut().unwrap().reverse();
    let back: Sched = serde_json::from_value(v).unwrap();
    assert_eq!(back, original);
    assert_eq!(
        serde_json::to_string(&back).unwrap(),
        serde_json::to_string(&original).unwrap()
    );
    back.check_invariants().unwrap();
}

// ----- cost: a snapshot listing 16,384 jobs newest first loads about as fast as in order

type Wide = JobScheduler<2, 16384, 2>;
static WIDE: std::sync::Mutex<Wide> = std::sync::Mutex::new(Wide::new(Config::DEFAULT));

/// The quickest of `runs` runs of `work`.
fn quickest(runs: usize, mut work: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed()
        })
        .min()
        .unwrap()
}

#[test]
fn a_snapshot_listing_its_jobs_newest_first_loads_about_as_fast() {
    let mut s = WIDE.lock().unwrap();
    s.reset(Config::DEFAULT);
    let spec = TrailSpec {
        name: name(),
        kind: TrailKind::SingleAccount,
        delivers_to_sls: true,
    };
    s.create_trail(AccountId(1), &hz(), &spec, Timestamp(1))
        .unwrap();
    s.start_logging(AccountId(1), &hz(), &name(), Timestamp(1))
        .unwrap();
    for second in 0..16_384u64 {
        let job = s
            .create_job(&request(1, None), Timestamp(second))
            .unwrap()
            .job_id;
        s.complete_job(AccountId(1), job, JobOutcome::Completed, Timestamp(second))
            .unwrap();
    }
    let canonical = postcard::to_allocvec(&*s).unwrap();
    let mut v: Value = serde_json::to_value(&*s).unwrap();
    v["jobs"].as_array_mut().unwrap().reverse();
    let canonical_json = serde_json::to_string(&*s).unwrap();
    let reversed_json = v.to_string();
    let in_order = quickest(3, || {
        s.restore(&mut serde_json::Deserializer::from_str(&canonical_json))
            .unwrap();
    });
    let newest_first = quickest(3, || {
        s.restore(&mut serde_json::Deserializer::from_str(&reversed_json))
            .unwrap();
    });
    assert_eq!(
        postcard::to_allocvec(&*s).unwrap(),
        canonical,
        "same state either way"
    );
    // Before, inserting each job in id order walked the list: about 100x at this size.
    let ratio = newest_first.as_secs_f64() / in_order.as_secs_f64();
    assert!(
        ratio < 4.0,
        "newest first {newest_first:?}, in order {in_order:?}: {ratio:.1}x"
    );
}

// ----- a duplicate is a duplicate, even in a full table

#[test]
fn a_repeated_trail_or_job_in_a_full_table_is_called_a_duplicate() {
    let mut one: JobScheduler<1, 1, 8> = JobScheduler::new(Config::DEFAULT);
    let spec = TrailSpec {
        name: name(),
        kind: TrailKind::SingleAccount,
        delivers_to_sls: true,
    };
    one.create_trail(AccountId(1), &hz(), &spec, Timestamp(10))
        .unwrap();
    one.start_logging(AccountId(1), &hz(), &name(), Timestamp(10))
        .unwrap();
    one.create_job(&request(1, None), Timestamp(11)).unwrap();
    let v: Value = serde_json::to_value(&one).unwrap();

    let mut trails_twice = v.clone();
    let trail = trails_twice["trails"][0].clone();
    trails_twice["trails"].as_array_mut().unwrap().push(trail);
    let mut target: JobScheduler<1, 1, 8> = JobScheduler::new(Config::DEFAULT);
    assert_eq!(
        target.restore_typed(&mut serde_json::Deserializer::from_str(
            &trails_twice.to_string()
        )),
        Err(SnapshotError::DuplicateTrail {
            account: AccountId(1)
        })
    );

    let mut jobs_twice = v.clone();
    let job = jobs_twice["jobs"][0].clone();
    jobs_twice["jobs"].as_array_mut().unwrap().push(job);
    assert_eq!(
        target.restore_typed(&mut serde_json::Deserializer::from_str(
            &jobs_twice.to_string()
        )),
        Err(SnapshotError::DuplicateJob(JobId(1)))
    );

    // One job too many (another id) is over capacity.
    let mut two_jobs = v;
    let mut other = two_jobs["jobs"][0].clone();
    other["job"]["id"] = Value::from(2);
    other["job"]["status"] = Value::from("Completed");
    two_jobs["jobs"].as_array_mut().unwrap().push(other);
    two_jobs["next_job_id"] = Value::from(3);
    assert_eq!(
        target.restore_typed(&mut serde_json::Deserializer::from_str(
            &two_jobs.to_string()
        )),
        Err(SnapshotError::OverCapacity {
            table: SnapshotTable::Jobs,
            capacity: 1
        })
    );
}

/// A crafted snapshot may hold an active, unleased job whose attempts are used up (the API
/// never builds one: the last lease running out fails the job). No claim may take it, or
/// `attempt <= max_attempts` would break: it waits for its deadline.
#[test]
fn a_job_whose_attempts_are_used_up_is_never_claimed_again() {
    let config = Config {
        max_attempts: 1,
        ..Config::DEFAULT
    };
    let mut s = Sched::new(config);
    let spec = TrailSpec {
        name: name(),
        kind: TrailKind::SingleAccount,
        delivers_to_sls: true,
    };
    s.create_trail(AccountId(1), &hz(), &spec, Timestamp(10))
        .unwrap();
    s.start_logging(AccountId(1), &hz(), &name(), Timestamp(10))
        .unwrap();
    s.create_job(&request(1, None), Timestamp(10)).unwrap();
    let mut v: Value = serde_json::to_value(&s).unwrap();
    let job = &mut v["jobs"][0]["job"];
    job["attempt"] = Value::from(1);
    job["status"] = Value::from("Delivering");
    job["not_before"] = Value::from(20);
    v["clock"] = Value::from(20);
    let mut crafted = Sched::new(Config::DEFAULT);
    crafted
        .restore(&mut serde_json::Deserializer::from_str(&v.to_string()))
        .unwrap();
    assert_eq!(crafted.claim_next(Timestamp(30)), None);
    let deadline = Timestamp(10 + Config::DEFAULT.max_job_secs);
    assert_eq!(
        crafted.claim_job(AccountId(1), JobId(1), Timestamp(30)),
        Err(Error::JobNotClaimable { until: deadline })
    );
    crafted.check_invariants().unwrap();
    let report = crafted.handle_timeout(deadline);
    assert_eq!(report.jobs_failed, 1);
    assert_eq!(
        crafted.job(AccountId(1), JobId(1)).unwrap().failure,
        Some(FailureReason::DeadlineExceeded)
    );
}
