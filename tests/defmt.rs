//! The `defmt` feature: every public value type implements `defmt::Format`, and what it sends
//! is right where it matters (a `Timestamp`'s date fields, strings, and no `hash_seed`).
//!
//! defmt sends indices of interned format strings and the raw argument bytes; a real host
//! decodes them with the ELF. Here a capture logger collects the argument bytes, which is
//! enough to check which values a record carries.

#![cfg(feature = "defmt")]

use std::sync::Mutex;

use trail_backfill::*;

/// What the logger received (unencoded: encoding is the logger's job, and this one skips it).
static RECEIVED: Mutex<Vec<u8>> = Mutex::new(Vec::new());
/// One record at a time: tests run on several threads, a defmt logger serves one.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[defmt::global_logger]
struct Capture;

// SAFETY: `capture` holds ONE_AT_A_TIME around every record, so acquire/release never nest
// or race; write only appends to a Mutex-guarded buffer.
unsafe impl defmt::Logger for Capture {
    fn acquire() {}
    unsafe fn flush() {}
    unsafe fn release() {}
    unsafe fn write(bytes: &[u8]) {
        RECEIVED.lock().unwrap().extend_from_slice(bytes);
    }
}

defmt::timestamp!("");

/// The bytes of one record that prints `value`.
fn capture<T: defmt::Format>(value: &T) -> Vec<u8> {
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    RECEIVED.lock().unwrap().clear();
    defmt::println!("{}", value);
    std::mem::take(&mut *RECEIVED.lock().unwrap())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

fn region() -> Region {
    Region::new("cn-hangzhou").unwrap()
}

fn trail_name() -> TrailName {
    TrailName::new("trail-name").unwrap()
}

fn lease() -> Lease {
    Lease {
        account: AccountId(7),
        job: JobId(16602),
        attempt: 1,
        expires_at: Timestamp(1_622_100_003),
    }
}

fn job() -> Job {
    Job {
        id: JobId(16602),
        account: AccountId(1512666876910001),
        region: region(),
        trail_name: trail_name(),
        status: JobStatus::Failed,
        created_at: Timestamp(1_622_099_703),
        updated_at: Timestamp(1_622_099_703),
        window_start: Timestamp(1_614_323_703),
        window_end: Timestamp(1_622_099_703),
        attempt: 3,
        lease_expires_at: Some(Timestamp(1_622_100_003)),
        not_before: Timestamp(0),
        delivered: 42,
        failure: Some(FailureReason::LeaseExpired),
    }
}

#[test]
fn config_never_sends_its_hash_seed() {
    let config = Config {
        hash_seed: 0x0123_4567_89ab_cdef,
        first_job_id: 0x1122_3344_5566_7788,
        ..Config::DEFAULT
    };
    let bytes = capture(&config);
    assert!(contains(&bytes, &0x1122_3344_5566_7788u64.to_le_bytes()));
    assert!(!contains(&bytes, &0x0123_4567_89ab_cdefu64.to_le_bytes()));
    assert!(!contains(&bytes, &0x89ab_cdefu32.to_le_bytes()));
    // Whether the seed is the public default is told by an interned string: no seed bytes.
    let public = capture(&Config::DEFAULT);
    assert!(!contains(&public, &Config::DEFAULT.hash_seed.to_le_bytes()));
    assert_eq!(public.len(), bytes.len());
}

#[test]
fn timestamp_sends_its_calendar_fields() {
    // 584554051223-11-09T07:00:15Z: the year as a u64, then month, day, hour, minute, second.
    let mut expected = 584_554_051_223u64.to_le_bytes().to_vec();
    expected.extend_from_slice(&[11, 9, 7, 0, 15]);
    assert!(contains(&capture(&Timestamp(u64::MAX)), &expected));

    let mut expected = 2021u64.to_le_bytes().to_vec();
    expected.extend_from_slice(&[5, 27, 7, 15, 3]);
    assert!(contains(&capture(&Timestamp(1_622_099_703)), &expected));
}

#[test]
fn names_send_their_text() {
    assert!(contains(&capture(&region()), b"cn-hangzhou"));
    assert!(contains(&capture(&trail_name()), b"trail-name"));
    let token = ClientToken::new("123e4567-e89b-12d3-a456-42665544****").unwrap();
    assert!(contains(
        &capture(&token),
        b"123e4567-e89b-12d3-a456-42665544****"
    ));
    let bytes = capture(&job());
    assert!(contains(&bytes, b"cn-hangzhou") && contains(&bytes, b"trail-name"));
    assert!(contains(&bytes, &16602u64.to_le_bytes()));
}

/// One value of every public type formats (and a mistake in a format string would have failed
/// to compile).
#[test]
fn every_public_type_formats() {
    fn formats<T: defmt::Format>(value: T) {
        assert!(!capture(&value).is_empty());
    }
    let spec = TrailSpec {
        name: trail_name(),
        kind: TrailKind::SingleAccount,
        delivers_to_sls: true,
    };
    let create = CreateJob {
        account: AccountId(1),
        region: region(),
        trail_name: trail_name(),
        client_token: None,
    };
    formats(AccountId(1));
    formats(JobId(1));
    formats(Timestamp(0));
    formats("x".parse::<Timestamp>().unwrap_err());
    formats(region());
    formats(trail_name());
    formats(ClientToken::new("t").unwrap());
    formats(JobStatus::Delivering);
    formats(JobOutcome::Completed);
    formats(job());
    formats(Trail {
        account: AccountId(1),
        region: region(),
        name: trail_name(),
        kind: TrailKind::Organization,
        delivers_to_sls: false,
        logging_since: None,
    });
    formats(TrailKind::SingleAccount);
    formats(spec.clone());
    formats(create.clone());
    formats(JobCreated {
        job_id: JobId(1),
        replayed: true,
    });
    formats(Error::JobNotClaimable {
        until: Timestamp(5),
    });
    formats(Error::InvalidParameterValue(Parameter::PageSize));
    formats(Parameter::Region);
    formats(Ineligibility::NotLogging);
    formats(Table::Jobs);
    formats(Transition::Changed);
    formats(JobScheduler::<1, 1, 1>::new(Config::DEFAULT).stats());
    formats(Config::DEFAULT);
    formats(lease());
    formats(FailureReason::DeadlineExceeded);
    formats(TimeoutReport::default());
    formats(Command::CreateTrail {
        account: AccountId(1),
        region: region(),
        spec,
    });
    formats(Command::CreateJob(create));
    formats(Command::Heartbeat {
        lease: lease(),
        delivered: 3,
    });
    formats(Command::HandleTimeout);
    formats(Effect::JobClaimed(Some(lease())));
    formats(Effect::JobDeleted(job()));
    formats(InvariantViolation::IndexMismatch(Index::Tokens));
    formats(InvariantViolation::SecondActiveJob {
        account: AccountId(1),
    });
    formats(Index::WorkerQueues);
}

#[cfg(feature = "serde")]
#[test]
fn snapshot_errors_format() {
    let bytes = capture(&SnapshotError::Malformed { field: "jobs" });
    assert!(contains(&bytes, b"jobs"));
    assert!(!capture(&SnapshotError::Invariant(InvariantViolation::OverCapacity)).is_empty());
    assert!(!capture(&SnapshotTable::Tokens).is_empty());
}
