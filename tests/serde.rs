//! Contract tests for the `serde` feature (SPEC sections 5 and 7): round trips of every value
//! type and of the scheduler, validation while deserializing, rejection of snapshots that break
//! an invariant, canonical (deterministic) bytes, and `restore` in place.

use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use trail_backfill::*;

mod common;
use common::{hz, name, region, spec};

type Sched = JobScheduler<8, 8, 8>;

// Distinctive numbers, so that editing a snapshot by value cannot hit an unrelated field.
const A: AccountId = AccountId(555_000_111);
const B: AccountId = AccountId(777_000_222);
const FIRST_ID: u64 = 900_000_001;

fn config() -> Config {
    Config {
        token_ttl_secs: 1_000,
        first_job_id: FIRST_ID,
        hash_seed: 0x5EED_0000_1234_5678,
        ..Config::DEFAULT
    }
}

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap()
}

fn bytes<T: Serialize>(v: &T) -> Vec<u8> {
    postcard::to_allocvec(v).unwrap()
}

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(v: &T) {
    let text = json(v);
    let back: T = serde_json::from_str(&text).unwrap();
    assert_eq!(&back, v, "JSON {text}");
    let value: T = serde_json::from_value(serde_json::to_value(v).unwrap()).unwrap();
    assert_eq!(&value, v, "JSON value");
    let raw = bytes(v);
    let back: T = postcard::from_bytes(&raw).unwrap();
    assert_eq!(&back, v, "postcard");
}

fn logging_trail(s: &mut Sched, account: AccountId, n: &str, now: u64) {
    s.create_trail(account, &hz(), &spec(n), Timestamp(now))
        .unwrap();
    s.start_logging(account, &hz(), &name(n), Timestamp(now))
        .unwrap();
}

fn req(account: AccountId, n: &str, tok: Option<&str>) -> CreateJob {
    CreateJob {
        account,
        region: hz(),
        trail_name: name(n),
        client_token: tok.map(|t| ClientToken::new(t).unwrap()),
    }
}

/// A scheduler with something in every table and every counter moved.
fn busy() -> Sched {
    let mut s = Sched::new(config());
    logging_trail(&mut s, A, "trail-aaa", 100);
    logging_trail(&mut s, B, "trail-bbb", 100);
    s.create_trail(
        A,
        &region("cn-beijing"),
        &spec("idle-trail"),
        Timestamp(101),
    )
    .unwrap();
    let a1 = s
        .create_job(&req(A, "trail-aaa", Some("tok-1")), Timestamp(110))
        .unwrap()
        .job_id;
    s.start_job(A, a1, Timestamp(120)).unwrap();
    s.complete_job(A, a1, JobOutcome::Completed, Timestamp(130))
        .unwrap();
    let a2 = s
        .create_job(&req(A, "trail-aaa", Some("tok-2")), Timestamp(140))
        .unwrap()
        .job_id;
    s.complete_job(A, a2, JobOutcome::Failed, Timestamp(150))
        .unwrap();
    s.delete_job(A, a2).unwrap();
    s.create_job(&req(A, "trail-aaa", None), Timestamp(160))
        .unwrap();
    s.create_job(&req(B, "trail-bbb", Some("tok-1")), Timestamp(170))
        .unwrap();
    s
}

/// A scheduler where the job table has evicted and the token cache has evicted live records.
fn churned() -> JobScheduler<4, 2, 2> {
    let mut s = JobScheduler::<4, 2, 2>::new(config());
    s.create_trail(A, &hz(), &spec("trail-aaa"), Timestamp(10))
        .unwrap();
    s.start_logging(A, &hz(), &name("trail-aaa"), Timestamp(10))
        .unwrap();
    for (i, tok) in ["t1", "t2", "t3", "t4"].into_iter().enumerate() {
        let now = 20 + i as u64;
        let id = s
            .create_job(&req(A, "trail-aaa", Some(tok)), Timestamp(now))
            .unwrap()
            .job_id;
        s.complete_job(A, id, JobOutcome::Completed, Timestamp(now))
            .unwrap();
    }
    let st = s.stats();
    assert_eq!(st.jobs_evicted, 2);
    assert_eq!(st.tokens_evicted_live, 2);
    s
}

// ---------------------------------------------------------------- value types

#[test]
fn value_types_round_trip() {
    round_trip(&AccountId(0));
    round_trip(&AccountId(u64::MAX));
    round_trip(&JobId(16_602));
    round_trip(&Timestamp(1_622_099_703));
    round_trip(&Timestamp(u64::MAX));
    round_trip(&hz());
    round_trip(&Region::new(&"z".repeat(32)).unwrap());
    round_trip(&name("trail-name"));
    round_trip(&TrailName::new(&format!("a{}", "_".repeat(35))).unwrap());
    round_trip(&ClientToken::new("123e4567-e89b-12d3-a456-42665544****").unwrap());
    round_trip(&ClientToken::new(" \"\\'{}[]~").unwrap());
    round_trip(&ClientToken::new(&"x".repeat(64)).unwrap());
    for st in [
        JobStatus::Initializing,
        JobStatus::Delivering,
        JobStatus::Completed,
        JobStatus::Failed,
    ] {
        round_trip(&st);
    }
    round_trip(&JobOutcome::Completed);
    round_trip(&JobOutcome::Failed);
    round_trip(&Transition::Changed);
    round_trip(&Transition::Unchanged);
    round_trip(&TrailKind::SingleAccount);
    round_trip(&TrailKind::Organization);
    for r in [
        Ineligibility::OrganizationTrail,
        Ineligibility::NoSlsDelivery,
        Ineligibility::NotLogging,
    ] {
        round_trip(&r);
    }
    for p in [
        Parameter::Region,
        Parameter::ClientToken,
        Parameter::PageNumber,
        Parameter::PageSize,
    ] {
        round_trip(&p);
    }
    round_trip(&Table::Trails);
    round_trip(&Table::Jobs);
    round_trip(&Config::DEFAULT);
    round_trip(&config());
    round_trip(&spec("trail-name"));
    round_trip(&req(A, "trail-name", Some("tok")));
    round_trip(&req(A, "trail-name", None));
    round_trip(&JobCreated {
        job_id: JobId(7),
        replayed: true,
    });
    round_trip(&Error::JobAlreadyRunning { active: JobId(3) });
    round_trip(&Error::TrailNotEligible(Ineligibility::NoSlsDelivery));
}

#[test]
fn records_commands_effects_and_stats_round_trip() {
    let s = busy();
    for t in s.trails() {
        round_trip(t);
    }
    for j in s.jobs() {
        round_trip(j);
    }
    round_trip(&s.stats());
    round_trip(&churned().stats());
    let job = s.jobs().next().unwrap().clone();
    let commands = [
        Command::CreateTrail {
            account: A,
            region: hz(),
            spec: spec("trail-aaa"),
        },
        Command::DeleteTrail {
            account: A,
            region: hz(),
            name: name("trail-aaa"),
        },
        Command::StartLogging {
            account: A,
            region: hz(),
            name: name("trail-aaa"),
        },
        Command::StopLogging {
            account: B,
            region: hz(),
            name: name("trail-bbb"),
        },
        Command::CreateJob(req(A, "trail-aaa", Some("tok"))),
        Command::StartJob {
            account: A,
            job: JobId(1),
        },
        Command::CompleteJob {
            account: A,
            job: JobId(1),
            outcome: JobOutcome::Failed,
        },
        Command::DeleteJob {
            account: A,
            job: JobId(1),
        },
    ];
    for c in &commands {
        round_trip(c);
    }
    let effects = [
        Effect::TrailCreated,
        Effect::TrailDeleted,
        Effect::LoggingStarted(Transition::Changed),
        Effect::LoggingStopped(Transition::Unchanged),
        Effect::JobCreated(JobCreated {
            job_id: JobId(2),
            replayed: false,
        }),
        Effect::JobStarted(Transition::Changed),
        Effect::JobCompleted(Transition::Unchanged),
        Effect::JobDeleted(job),
    ];
    for e in &effects {
        round_trip(e);
    }
}

/// Feeds `text` to `T` three ways: borrowed JSON, JSON with an escape (a transient string),
/// and an owned `String` (serde_json::Value), plus postcard (borrowed bytes).
fn parse_all_ways<T: DeserializeOwned + Debug>(text: &str) -> [Result<T, ()>; 4] {
    let borrowed = serde_json::from_str::<T>(&json(&text)).map_err(|_| ());
    // Escape the first character as \uXXXX so serde_json cannot hand out a borrowed str.
    let mut chars = text.chars();
    let escaped = match chars.next() {
        Some(c) if (c as u32) < 0x1_0000 => {
            format!("\"\\u{:04x}{}", c as u32, &json(&chars.as_str())[1..])
        }
        _ => json(&text),
    };
    let transient = serde_json::from_str::<T>(&escaped).map_err(|_| ());
    let owned = serde_json::from_value::<T>(Value::String(text.to_owned())).map_err(|_| ());
    let raw = bytes(&text);
    let post = postcard::from_bytes::<T>(&raw).map_err(|_| ());
    [borrowed, transient, owned, post]
}

fn assert_parses<T: DeserializeOwned + Debug + PartialEq>(text: &str, expected: &T) {
    for (i, r) in parse_all_ways::<T>(text).into_iter().enumerate() {
        assert_eq!(r.as_ref(), Ok(expected), "{text:?} way {i}");
    }
}

fn assert_rejected<T: DeserializeOwned + Debug>(text: &str) {
    for (i, r) in parse_all_ways::<T>(text).into_iter().enumerate() {
        assert!(r.is_err(), "{text:?} way {i} was accepted: {r:?}");
    }
}

#[test]
fn valid_strings_deserialize_from_any_string_kind() {
    assert_parses("cn-hangzhou", &hz());
    assert_parses("trail-name", &name("trail-name"));
    assert_parses("Tok en~1", &ClientToken::new("Tok en~1").unwrap());
}

#[test]
fn invalid_regions_are_rejected() {
    for bad in [
        "",
        "CN-hangzhou",
        "cn_hangzhou",
        "cn hz",
        &"a".repeat(33),
        "é",
    ] {
        assert_rejected::<Region>(bad);
    }
}

#[test]
fn invalid_trail_names_are_rejected() {
    for bad in [
        "short",
        "Trail-name",
        "1trail-name",
        "trail.name",
        &format!("a{}", "b".repeat(36)),
    ] {
        assert_rejected::<TrailName>(bad);
    }
}

#[test]
fn invalid_client_tokens_are_rejected() {
    for bad in ["", "tab\there", "del\u{7f}", "caf\u{e9}", &"x".repeat(65)] {
        assert_rejected::<ClientToken>(bad);
    }
}

#[test]
fn invalid_strings_inside_records_are_rejected() {
    let request = req(A, "trail-aaa", Some("tok-1"));
    let text = json(&request);
    assert!(serde_json::from_str::<CreateJob>(&text).is_ok());
    for (from, to) in [
        ("\"trail-aaa\"", "\"Trail-AAA\""),
        ("\"cn-hangzhou\"", "\"CN\""),
        ("\"tok-1\"", "\"\""),
    ] {
        assert!(text.contains(from), "{text} lacks {from}");
        let edited = text.replace(from, to);
        assert!(
            serde_json::from_str::<CreateJob>(&edited).is_err(),
            "accepted {edited}"
        );
        let value: Value = serde_json::from_str(&edited).unwrap();
        assert!(serde_json::from_value::<CreateJob>(value).is_err());
    }
    let spec_text = json(&spec("trail-aaa")).replace("trail-aaa", "x");
    assert!(serde_json::from_str::<TrailSpec>(&spec_text).is_err());
}

// ---------------------------------------------------------------- scheduler snapshots

#[test]
fn scheduler_round_trips_through_json_and_postcard() {
    let s = busy();
    assert!(s.check_invariants().is_ok());
    let text = json(&s);
    let back: Sched = serde_json::from_str(&text).unwrap();
    assert_eq!(back, s);
    assert_eq!(
        json(&back),
        text,
        "a restored scheduler serializes as the original"
    );
    assert_eq!(back.stats(), s.stats());
    assert_eq!(back.clock(), s.clock());
    assert_eq!(back.config(), s.config());
    assert_eq!(back.next_job_id(), s.next_job_id());
    assert!(back.check_invariants().is_ok());

    let raw = bytes(&s);
    let back: Sched = postcard::from_bytes(&raw).unwrap();
    assert_eq!(back, s);
    assert_eq!(bytes(&back), raw);

    let c = churned();
    let back: JobScheduler<4, 2, 2> = postcard::from_bytes(&bytes(&c)).unwrap();
    assert_eq!(back, c);
    assert_eq!(back.stats(), c.stats());
    let back: JobScheduler<4, 2, 2> = serde_json::from_str(&json(&c)).unwrap();
    assert_eq!(back, c);
}

#[test]
fn empty_scheduler_round_trips() {
    let s = Sched::new(Config::DEFAULT);
    let back: Sched = serde_json::from_str(&json(&s)).unwrap();
    assert_eq!(back, s);
    let back: Sched = postcard::from_bytes(&bytes(&s)).unwrap();
    assert_eq!(back, s);
}

#[test]
fn restored_scheduler_behaves_like_the_original() {
    let mut original = busy();
    let mut restored: Sched = postcard::from_bytes(&bytes(&original)).unwrap();
    // Token replay, the running-job check, id assignment and paging all carry over.
    for s in [&mut original, &mut restored] {
        assert_eq!(
            s.create_job(&req(A, "trail-aaa", Some("tok-1")), Timestamp(180)),
            Ok(JobCreated {
                job_id: JobId(FIRST_ID),
                replayed: true
            })
        );
        let active = s.active_job(A).unwrap().id;
        assert_eq!(
            s.create_job(&req(A, "trail-aaa", None), Timestamp(180)),
            Err(Error::JobAlreadyRunning { active })
        );
        s.complete_job(A, active, JobOutcome::Completed, Timestamp(190))
            .unwrap();
        let next = s
            .create_job(&req(A, "trail-aaa", Some("tok-9")), Timestamp(200))
            .unwrap();
        assert_eq!(next.job_id, JobId(FIRST_ID + 4));
    }
    assert_eq!(json(&original), json(&restored));
}

#[test]
fn snapshot_keeps_config_and_capacity_rules_with_extreme_values() {
    // Valid snapshots are accepted whatever their values: full tables, ids near exhaustion,
    // expired tokens, saturated windows, clock at u64::MAX.
    let mut s = JobScheduler::<2, 2, 2>::new(Config {
        first_job_id: u64::MAX - 3,
        token_ttl_secs: 5,
        ..Config::DEFAULT
    });
    s.create_trail(A, &hz(), &spec("trail-aaa"), Timestamp(u64::MAX - 100))
        .unwrap();
    s.create_trail(B, &hz(), &spec("trail-bbb"), Timestamp(u64::MAX - 100))
        .unwrap();
    s.start_logging(A, &hz(), &name("trail-aaa"), Timestamp(u64::MAX - 50))
        .unwrap();
    for (i, tok) in ["t1", "t2"].into_iter().enumerate() {
        let id = s
            .create_job(
                &req(A, "trail-aaa", Some(tok)),
                Timestamp(u64::MAX - 40 + i as u64),
            )
            .unwrap()
            .job_id;
        s.complete_job(A, id, JobOutcome::Failed, Timestamp(u64::MAX - 30))
            .unwrap();
    }
    s.stop_logging(A, &hz(), &name("trail-aaa"), Timestamp(u64::MAX))
        .unwrap();
    assert!(s.check_invariants().is_ok());
    let back: JobScheduler<2, 2, 2> = serde_json::from_str(&json(&s)).unwrap();
    assert_eq!(back, s);
    let back: JobScheduler<2, 2, 2> = postcard::from_bytes(&bytes(&s)).unwrap();
    assert_eq!(back, s);
}

#[test]
fn truncated_postcard_snapshot_is_rejected() {
    let raw = bytes(&busy());
    for cut in [0, 1, raw.len() / 2, raw.len() - 1] {
        assert!(
            postcard::from_bytes::<Sched>(&raw[..cut]).is_err(),
            "accepted {cut} of {} bytes",
            raw.len()
        );
    }
}

#[test]
fn snapshot_larger_than_the_capacity_is_rejected() {
    let s = busy();
    assert!(s.stats().jobs > 2);
    assert!(serde_json::from_str::<JobScheduler<8, 2, 8>>(&json(&s)).is_err());
    assert!(postcard::from_bytes::<JobScheduler<8, 2, 8>>(&bytes(&s)).is_err());
    assert!(s.stats().trails > 2);
    assert!(serde_json::from_str::<JobScheduler<2, 8, 8>>(&json(&s)).is_err());
    assert!(s.stats().tokens > 1);
    assert!(serde_json::from_str::<JobScheduler<8, 8, 1>>(&json(&s)).is_err());
    // The same snapshot fits a larger scheduler.
    let bigger: JobScheduler<16, 16, 16> = serde_json::from_str(&json(&s)).unwrap();
    assert_same_content(&bigger, &s);
}

// ------------------------------------------------- edited snapshots that break invariants

// The edits work on the JSON text, not on a `serde_json::Value`: a `Value` map sorts its keys,
// which would change the field order of the snapshot as well as the edited value.

/// Replaces every JSON number equal to `from` by `to`; returns the edited text and the count.
fn edit_numbers(text: &str, from: u64, to: u64) -> (String, usize) {
    let from = from.to_string();
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut count = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let in_number_position = start > 0 && matches!(bytes[start - 1], b':' | b'[' | b',');
            if in_number_position && text[start..i] == from {
                out.extend_from_slice(to.to_string().as_bytes());
                count += 1;
            } else {
                out.extend_from_slice(&bytes[start..i]);
            }
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    (String::from_utf8(out).unwrap(), count)
}

/// Replaces every JSON string equal to `from` by `to`.
fn edit_strings(text: &str, from: &str, to: &str) -> (String, usize) {
    let (from, to) = (json(&from), json(&to));
    (text.replace(&from, &to), text.matches(&from).count())
}

/// Replaces every `"key":old` by `"key":new` (values given as JSON text).
fn edit_field(text: &str, key: &str, old: &str, new: &str) -> (String, usize) {
    let from = format!("\"{key}\":{old}");
    let to = format!("\"{key}\":{new}");
    (text.replace(&from, &to), text.matches(&from).count())
}

/// Checks that an edited snapshot is rejected by value, and by `restore`, which then leaves
/// the target empty (as `new` with its own config) but for its next job id, which stays
/// where it was so that no id is given out twice.
fn assert_snapshot_rejected(text: &str, what: &str) {
    assert!(
        serde_json::from_str::<Sched>(text).is_err(),
        "{what}: snapshot accepted: {text}"
    );
    let own = Config {
        first_job_id: 5,
        ..Config::DEFAULT
    };
    let mut target = Sched::new(own);
    logging_trail(&mut target, AccountId(9), "own-trail", 3);
    target
        .create_job(&req(AccountId(9), "own-trail", Some("own")), Timestamp(4))
        .unwrap();
    let err = target
        .restore(&mut serde_json::Deserializer::from_str(text))
        .unwrap_err();
    assert!(!err.to_string().is_empty());
    assert_eq!(
        target.next_job_id(),
        JobId(6),
        "{what}: the next id is kept"
    );
    assert_eq!(target.config(), &own);
    assert_eq!(target.trails().count(), 0, "{what}: emptied");
    assert_eq!(target.jobs().count(), 0, "{what}: emptied");
    assert_eq!(target.stats(), Stats::default(), "{what}: emptied");
    assert_eq!(target.clock(), Timestamp(0));
    assert_eq!(target.stats().jobs, 0);
    assert_eq!(target.stats().trails, 0);
    assert_eq!(target.stats().tokens, 0);
    assert!(target.check_invariants().is_ok());
}

/// A and B, one trail each in the same region, each with an active job; no tokens.
fn two_active() -> Sched {
    let mut s = Sched::new(config());
    logging_trail(&mut s, A, "trail-aaa", 100);
    logging_trail(&mut s, B, "trail-bbb", 100);
    s.create_job(&req(A, "trail-aaa", None), Timestamp(110))
        .unwrap();
    s.create_job(&req(B, "trail-bbb", None), Timestamp(111))
        .unwrap();
    s
}

#[test]
fn unedited_snapshot_text_is_accepted() {
    // The control for the tests below: the untouched text passes the same paths.
    for text in [json(&busy()), json(&two_active())] {
        let back: Sched = serde_json::from_str(&text).unwrap();
        assert_eq!(json(&back), text);
        let mut target = Sched::new(Config::DEFAULT);
        target
            .restore(&mut serde_json::Deserializer::from_str(&text))
            .unwrap();
        assert_eq!(json(&target), text);
    }
}

#[test]
fn snapshot_with_reordered_fields_is_accepted() {
    // SPEC 5: a snapshot is rejected for a broken invariant, a broken value rule or an unknown
    // format version "and for no other reason". A JSON object whose fields come in another
    // order (here: the version field moved last) holds the same values.
    let s = busy();
    let text = json(&s);
    let v: Value = serde_json::from_str(&text).unwrap();
    // The first field of the text, when it is a scalar (such as a version number).
    let (first, rest) = text[1..].split_once(',').unwrap();
    assert!(
        !first.contains(['{', '[']),
        "first field is not a scalar: {first}"
    );
    let moved = format!("{{{},{first}}}", &rest[..rest.len() - 1]);
    assert_ne!(moved, text);
    match serde_json::from_str::<Sched>(&moved) {
        Ok(back) => assert_eq!(back, s),
        Err(e) => panic!("reordered snapshot rejected: {e}"),
    }
    // Through serde_json::Value, which sorts the keys.
    match serde_json::from_value::<Sched>(v.clone()) {
        Ok(back) => assert_eq!(back, s),
        Err(e) => panic!("snapshot from a Value rejected: {e}"),
    }
    let mut target = Sched::new(Config::DEFAULT);
    if let Err(e) = target.restore(&mut serde_json::Deserializer::from_str(&moved)) {
        panic!("restore of a reordered snapshot failed: {e}");
    }
    assert_eq!(target, s);
}

#[test]
fn snapshot_with_two_active_jobs_for_one_account_is_rejected() {
    let text = json(&two_active());
    // Hand B's trail and job to A: A then has two active jobs.
    let (edited, n) = edit_numbers(&text, B.0, A.0);
    assert!(n >= 2, "{text}");
    assert_snapshot_rejected(&edited, "two active jobs");
}

#[test]
fn snapshot_with_a_finished_job_made_active_is_rejected() {
    let mut s = Sched::new(config());
    logging_trail(&mut s, A, "trail-aaa", 100);
    let first = s
        .create_job(&req(A, "trail-aaa", None), Timestamp(110))
        .unwrap()
        .job_id;
    s.complete_job(A, first, JobOutcome::Completed, Timestamp(120))
        .unwrap();
    s.create_job(&req(A, "trail-aaa", None), Timestamp(130))
        .unwrap();
    let text = json(&s);
    let (edited, n) = edit_field(
        &text,
        "status",
        &json(&JobStatus::Completed),
        &json(&JobStatus::Delivering),
    );
    assert_eq!(n, 1, "{text}");
    assert_snapshot_rejected(&edited, "finished job made active");
}

#[test]
fn snapshot_with_duplicate_job_ids_is_rejected() {
    let mut s = two_active();
    s.complete_job(A, JobId(FIRST_ID), JobOutcome::Completed, Timestamp(120))
        .unwrap();
    let text = json(&s);
    let (edited, n) = edit_numbers(&text, FIRST_ID + 1, FIRST_ID);
    assert!(n >= 1, "{text}");
    assert_snapshot_rejected(&edited, "duplicate ids");
}

#[test]
fn snapshot_with_a_job_id_at_or_above_the_next_id_is_rejected() {
    let s = two_active();
    assert_eq!(s.next_job_id(), JobId(FIRST_ID + 2));
    let text = json(&s);
    let (edited, n) = edit_numbers(&text, FIRST_ID + 2, FIRST_ID + 1);
    assert!(n >= 1, "{text}");
    assert_snapshot_rejected(&edited, "next id not above every job id");
}

#[test]
fn snapshot_with_a_token_naming_a_future_job_is_rejected() {
    let mut s = Sched::new(config());
    logging_trail(&mut s, A, "trail-aaa", 100);
    s.create_job(&req(A, "trail-aaa", Some("tok-1")), Timestamp(110))
        .unwrap();
    let text = json(&s);
    // The job and the token record both name FIRST_ID; move both past the next id.
    let (edited, n) = edit_numbers(&text, FIRST_ID, FIRST_ID + 50);
    assert!(n >= 2, "{text}");
    assert_snapshot_rejected(&edited, "ids at or above next id");
}

#[test]
fn snapshot_with_first_job_id_above_next_id_is_rejected() {
    let text = json(&two_active());
    let (edited, n) = edit_field(
        &text,
        "first_job_id",
        &FIRST_ID.to_string(),
        &(FIRST_ID + 1_000).to_string(),
    );
    assert_eq!(n, 1, "{text}");
    assert_snapshot_rejected(&edited, "first_job_id above next id");
}

#[test]
fn snapshot_over_the_trail_limit_is_rejected() {
    let mut s = Sched::new(config());
    logging_trail(&mut s, A, "trail-aaa", 100);
    logging_trail(&mut s, A, "trail-bbb", 100);
    let text = json(&s);
    let (edited, n) = edit_field(&text, "max_trails_per_account", "5", "1");
    assert_eq!(n, 1, "{text}");
    assert_snapshot_rejected(&edited, "two trails, limit one");
}

#[test]
fn snapshot_with_duplicate_trail_keys_is_rejected() {
    let mut s = Sched::new(config());
    logging_trail(&mut s, A, "trail-aaa", 100);
    logging_trail(&mut s, A, "trail-bbb", 100);
    let text = json(&s);
    let (edited, n) = edit_strings(&text, "trail-bbb", "trail-aaa");
    assert!(n >= 1, "{text}");
    assert_snapshot_rejected(&edited, "duplicate trail keys");
}

#[test]
fn snapshot_with_times_after_the_clock_is_rejected() {
    let mut s = two_active();
    // The last change is stop_logging at a distinctive time, stored only as the clock.
    let t = 7_777_777_777;
    s.stop_logging(A, &hz(), &name("trail-aaa"), Timestamp(t))
        .unwrap();
    assert_eq!(s.clock(), Timestamp(t));
    let text = json(&s);
    let (edited, n) = edit_numbers(&text, t, 105);
    assert_eq!(n, 1, "{text}");
    assert_snapshot_rejected(&edited, "created_at after the clock");
}

#[test]
fn snapshot_with_invalid_value_types_is_rejected() {
    let text = json(&busy());
    for (from, to) in [
        ("trail-aaa", "Trail-AAA"),
        ("cn-hangzhou", "CN-HANGZHOU"),
        ("tok-1", ""),
        ("trail-bbb", "bbb"),
    ] {
        let (edited, n) = edit_strings(&text, from, to);
        assert!(n >= 1, "{from} not found in {text}");
        assert_snapshot_rejected(&edited, &format!("{from} -> {to:?}"));
    }
}

#[test]
fn snapshot_with_an_unknown_format_version_is_rejected() {
    let text = json(&busy());
    let v: Value = serde_json::from_str(&text).unwrap();
    let Value::Object(map) = &v else {
        panic!("a scheduler snapshot is expected to be a JSON object: {text}");
    };
    let keys: Vec<&String> = map
        .keys()
        .filter(|k| k.to_ascii_lowercase().contains("version"))
        .collect();
    assert_eq!(keys.len(), 1, "expected one format version field in {text}");
    let old = map[keys[0]].to_string();
    let (edited, n) = edit_field(&text, keys[0], &old, "250");
    assert_eq!(n, 1);
    assert_snapshot_rejected(&edited, "unknown version");
}

/// A scheduler whose every stored time is a distinct number, so one field can be edited.
fn timeline() -> Sched {
    let mut s = Sched::new(Config {
        retention_secs: 1_000,
        grace_secs: 300,
        ..config()
    });
    s.create_trail(A, &hz(), &spec("trail-aaa"), Timestamp(1_000_001))
        .unwrap();
    s.start_logging(A, &hz(), &name("trail-aaa"), Timestamp(1_000_002))
        .unwrap();
    s.create_trail(B, &hz(), &spec("trail-bbb"), Timestamp(1_000_003))
        .unwrap();
    s.start_logging(B, &hz(), &name("trail-bbb"), Timestamp(1_000_004))
        .unwrap();
    let j1 = s
        .create_job(&req(A, "trail-aaa", Some("tok-1")), Timestamp(1_000_010))
        .unwrap()
        .job_id;
    s.start_job(A, j1, Timestamp(1_000_020)).unwrap();
    s.complete_job(A, j1, JobOutcome::Completed, Timestamp(1_000_030))
        .unwrap();
    let j2 = s
        .create_job(&req(A, "trail-aaa", Some("tok-2")), Timestamp(1_000_040))
        .unwrap()
        .job_id;
    assert_eq!(
        s.job(A, j2).unwrap().window_end,
        Timestamp(1_000_302),
        "logging_since + grace"
    );
    s.stop_logging(A, &hz(), &name("trail-aaa"), Timestamp(1_000_050))
        .unwrap();
    assert_eq!(s.clock(), Timestamp(1_000_050));
    assert!(s.check_invariants().is_ok());
    s
}

#[test]
fn snapshots_breaking_time_and_token_invariants_are_rejected() {
    let text = json(&timeline());
    assert_eq!(
        serde_json::from_str::<Sched>(&text).map(|x| json(&x)).ok(),
        Some(text.clone())
    );
    let cases: [(&str, &str, &str, usize, &str); 9] = [
        (
            "created_at",
            "1000010",
            "1000031",
            1,
            "created_at after updated_at",
        ),
        (
            "window_start",
            "999010",
            "1000011",
            1,
            "window_start after created_at",
        ),
        (
            "created_at",
            "1000040",
            "1000009",
            1,
            "a larger id created earlier",
        ),
        (
            "window_end",
            "1000302",
            "1000351",
            2,
            "window_end beyond clock + grace",
        ),
        (
            "updated_at",
            "1000040",
            "1000051",
            1,
            "updated_at after the clock",
        ),
        (
            "logging_since",
            "1000004",
            "1000051",
            1,
            "logging_since after the clock",
        ),
        (
            "recorded_at",
            "1000010",
            "1000045",
            1,
            "token records out of order",
        ),
        (
            "recorded_at",
            "1000040",
            "1000051",
            1,
            "recorded_at after the clock",
        ),
        (
            "token",
            "\"tok-2\"",
            "\"tok-1\"",
            1,
            "two records for one key",
        ),
    ];
    for (key, old, new, count, what) in cases {
        let (edited, n) = edit_field(&text, key, old, new);
        assert_eq!(n, count, "{what}: \"{key}\":{old} in {text}");
        assert_snapshot_rejected(&edited, what);
    }
}

#[test]
fn window_end_up_to_grace_ahead_of_the_clock_is_accepted() {
    // The boundary of the rule above: exactly clock + grace is fine.
    let text = json(&timeline());
    let (edited, n) = edit_field(&text, "window_end", "1000302", "1000350");
    assert_eq!(n, 2);
    let back: Sched = serde_json::from_str(&edited).unwrap();
    assert!(back.check_invariants().is_ok());
}

#[test]
fn hash_seed_changes_no_answer_and_no_other_byte() {
    let seeds = [0u64, 1, 0x5EED_0000_1234_5678, u64::MAX];
    let mut texts = vec![];
    let mut answers = vec![];
    for seed in seeds {
        let mut s = Sched::new(Config {
            hash_seed: seed,
            ..config()
        });
        let mut got = vec![];
        for (c, now) in script() {
            got.push(s.apply(&c, Timestamp(now)));
        }
        let text = json(&s);
        let (text, n) = edit_field(&text, "hash_seed", &seed.to_string(), "0");
        assert_eq!(n, 1);
        texts.push(text);
        answers.push(got);
    }
    for i in 1..seeds.len() {
        assert_eq!(answers[i], answers[0]);
        assert_eq!(texts[i], texts[0]);
    }
}

// ---------------------------------------------------------------- determinism

fn script() -> Vec<(Command, u64)> {
    let t = |n: &str| Command::CreateTrail {
        account: A,
        region: hz(),
        spec: spec(n),
    };
    let l = |acc, n: &str| Command::StartLogging {
        account: acc,
        region: hz(),
        name: name(n),
    };
    vec![
        (t("trail-ccc"), 10),
        (t("trail-aaa"), 11),
        (
            Command::CreateTrail {
                account: B,
                region: hz(),
                spec: spec("trail-bbb"),
            },
            12,
        ),
        (l(A, "trail-aaa"), 13),
        (l(B, "trail-bbb"), 14),
        (Command::CreateJob(req(B, "trail-bbb", Some("tb"))), 15),
        (Command::CreateJob(req(A, "trail-aaa", Some("ta"))), 16),
        (
            Command::CompleteJob {
                account: B,
                job: JobId(FIRST_ID),
                outcome: JobOutcome::Completed,
            },
            17,
        ),
        (Command::CreateJob(req(B, "trail-bbb", Some("tc"))), 18),
        (
            Command::DeleteTrail {
                account: A,
                region: hz(),
                name: name("trail-ccc"),
            },
            19,
        ),
    ]
}

#[test]
fn same_commands_give_identical_bytes() {
    let mut one = Sched::new(config());
    let mut two = Sched::new(config());
    for (c, now) in script() {
        let x = one.apply(&c, Timestamp(now));
        let y = two.apply(&c, Timestamp(now));
        assert_eq!(x, y);
        assert_eq!(json(&one), json(&two));
        assert_eq!(bytes(&one), bytes(&two));
    }
    assert_eq!(one.stats().jobs, 3);
}

#[test]
fn same_logical_state_from_different_histories_gives_identical_bytes() {
    let make = |names: &[&str], delete: Option<&str>| {
        let mut s = Sched::new(config());
        for n in names {
            s.create_trail(A, &hz(), &spec(n), Timestamp(50)).unwrap();
        }
        if let Some(n) = delete {
            s.delete_trail(A, &hz(), &name(n)).unwrap();
        }
        s
    };
    let x = make(&["trail-aaa", "trail-bbb", "trail-ccc"], None);
    let y = make(&["trail-ccc", "trail-aaa", "trail-bbb"], None);
    let z = make(
        &["trail-bbb", "trail-zzz", "trail-ccc", "trail-aaa"],
        Some("trail-zzz"),
    );
    assert_eq!(x, y);
    assert_eq!(x, z);
    assert_eq!(json(&x), json(&y));
    assert_eq!(json(&x), json(&z));
    assert_eq!(bytes(&x), bytes(&y));
    assert_eq!(bytes(&x), bytes(&z));
}

#[test]
fn snapshot_lists_trails_by_key_and_jobs_by_id() {
    let mut s = Sched::new(config());
    for n in ["trail-ccc", "trail-aaa", "trail-bbb"] {
        s.create_trail(A, &hz(), &spec(n), Timestamp(1)).unwrap();
    }
    let text = json(&s);
    let pos = |n: &str| text.find(n).unwrap();
    assert!(pos("trail-aaa") < pos("trail-bbb"));
    assert!(pos("trail-bbb") < pos("trail-ccc"));
}

// ---------------------------------------------------------------- restore in place

#[test]
fn restore_in_place_from_json_and_postcard() {
    let original = busy();
    let other = Config {
        token_ttl_secs: 1,
        ..Config::DEFAULT
    };

    let mut target = Sched::new(other);
    logging_trail(&mut target, AccountId(9), "own-trail", 3);
    target
        .restore(&mut serde_json::Deserializer::from_str(&json(&original)))
        .unwrap();
    assert_eq!(target, original);
    assert_eq!(
        target.config(),
        &config(),
        "the snapshot's config is loaded"
    );
    assert_eq!(json(&target), json(&original));
    assert!(
        target
            .trail(AccountId(9), &hz(), &name("own-trail"))
            .is_none()
    );

    let raw = bytes(&original);
    let mut target = Sched::new(other);
    target
        .restore(&mut postcard::Deserializer::from_bytes(&raw))
        .unwrap();
    assert_eq!(target, original);
    assert_eq!(bytes(&target), raw);
    assert!(target.check_invariants().is_ok());
}

#[test]
fn restore_replaces_a_busy_scheduler_completely() {
    let mut target = busy();
    let empty = Sched::new(Config::DEFAULT);
    target
        .restore(&mut postcard::Deserializer::from_bytes(&bytes(&empty)))
        .unwrap();
    assert_eq!(target, empty);
    assert_eq!(target.stats().jobs, 0);
    assert_eq!(target.clock(), Timestamp(0));
}

#[test]
fn failed_restore_from_postcard_leaves_the_scheduler_empty() {
    let raw = bytes(&busy());
    let own = Config {
        grace_secs: 1,
        ..Config::DEFAULT
    };
    let mut target = Sched::new(own);
    logging_trail(&mut target, AccountId(9), "own-trail", 3);
    assert!(
        target
            .restore(&mut postcard::Deserializer::from_bytes(
                &raw[..raw.len() / 2]
            ))
            .is_err()
    );
    assert_eq!(target, Sched::new(own));
    assert_eq!(target.config(), &own);
}

#[test]
fn restore_into_a_larger_capacity() {
    let c = churned();
    let mut target = JobScheduler::<8, 8, 8>::new(Config::DEFAULT);
    target
        .restore(&mut postcard::Deserializer::from_bytes(&bytes(&c)))
        .unwrap();
    assert_same_content(&target, &c);
}

/// Same logical content across capacities (capacities may or may not be in the bytes).
fn assert_same_content<
    const T1: usize,
    const J1: usize,
    const K1: usize,
    const T2: usize,
    const J2: usize,
    const K2: usize,
>(
    x: &JobScheduler<T1, J1, K1>,
    y: &JobScheduler<T2, J2, K2>,
) {
    assert_eq!(x.stats(), y.stats());
    assert_eq!(x.clock(), y.clock());
    assert_eq!(x.config(), y.config());
    assert_eq!(x.next_job_id(), y.next_job_id());
    assert_eq!(x.jobs().collect::<Vec<_>>(), y.jobs().collect::<Vec<_>>());
    assert_eq!(
        x.trails().collect::<Vec<_>>(),
        y.trails().collect::<Vec<_>>()
    );
    assert!(x.check_invariants().is_ok());
}

/// SPEC 7: a production-sized scheduler lives in a `static` and is restored in place on the
/// default (2 MiB in debug) test thread, without building it on the stack.
type Big = JobScheduler<4096, 65536, 65536>;
static BIG: std::sync::Mutex<Big> = std::sync::Mutex::new(Big::new(Config::DEFAULT));

#[test]
fn production_sized_scheduler_restores_in_place() {
    let small = busy();
    let text = json(&small);
    let raw = bytes(&small);
    let mut big = BIG.lock().unwrap();
    big.restore(&mut postcard::Deserializer::from_bytes(&raw))
        .unwrap();
    assert_eq!(json(&*big), text, "same logical state, same snapshot");
    assert_eq!(big.stats(), small.stats());
    assert!(big.check_invariants().is_ok());
    // It keeps working, then restores again from JSON, and a failed restore empties it.
    let active = big.active_job(A).unwrap().id;
    big.complete_job(A, active, JobOutcome::Completed, Timestamp(500))
        .unwrap();
    big.restore(&mut serde_json::Deserializer::from_str(&text))
        .unwrap();
    assert_eq!(json(&*big), text);
    assert!(
        big.restore(&mut postcard::Deserializer::from_bytes(
            &raw[..raw.len() - 3]
        ))
        .is_err()
    );
    assert_eq!(big.stats().jobs, 0);
    assert_eq!(big.stats().trails, 0);
    assert_eq!(big.clock(), Timestamp(0));
    assert_eq!(big.config(), &config(), "own config before the failed call");
}

#[test]
fn snapshot_with_awkward_token_text_round_trips() {
    let mut s = Sched::new(config());
    logging_trail(&mut s, A, "trail-aaa", 10);
    for (i, tok) in [" \"quoted\" ", "back\\slash", "{}[],:", "~`!@#$%^&*()"]
        .into_iter()
        .enumerate()
    {
        let id = s
            .create_job(&req(A, "trail-aaa", Some(tok)), Timestamp(20 + i as u64))
            .unwrap()
            .job_id;
        s.complete_job(A, id, JobOutcome::Completed, Timestamp(20 + i as u64))
            .unwrap();
    }
    let text = json(&s);
    let back: Sched = serde_json::from_str(&text).unwrap();
    assert_eq!(back, s);
    assert_eq!(json(&back), text);
    let back: Sched = postcard::from_bytes(&bytes(&s)).unwrap();
    assert_eq!(back, s);
    let mut back = back;
    assert_eq!(
        back.create_job(&req(A, "trail-aaa", Some("back\\slash")), Timestamp(30)),
        Ok(JobCreated {
            job_id: JobId(FIRST_ID + 1),
            replayed: true
        })
    );
}

#[test]
fn snapshot_with_an_unknown_field_is_accepted() {
    // SPEC 5 again: an extra field breaks no invariant, no value rule and no version.
    let s = busy();
    let mut v: Value = serde_json::from_str(&json(&s)).unwrap();
    v.as_object_mut().unwrap().insert(
        "written_by".into(),
        serde_json::json!({"host": "replica-2"}),
    );
    match serde_json::from_value::<Sched>(v) {
        Ok(back) => assert_eq!(back, s),
        Err(e) => panic!("snapshot with an extra field rejected: {e}"),
    }
}

#[test]
fn snapshot_tables_before_their_config_are_reindexed_for_its_seed() {
    // The config (and so the hash seed) may come after the tables; lookups must still work.
    let s = busy();
    let text = json(&s);
    let v: Value = serde_json::from_str(&text).unwrap();
    let object = v.as_object().unwrap();
    let mut reordered = String::from("{");
    for key in [
        "trails",
        "jobs",
        "tokens",
        "clock",
        "next_job_id",
        "jobs_evicted",
    ] {
        reordered += &format!("\"{key}\":{},", object[key]);
    }
    for key in ["tokens_evicted_live", "format_version", "regions", "config"] {
        reordered += &format!("\"{key}\":{},", object[key]);
    }
    reordered.pop();
    reordered.push('}');
    let back: Sched = serde_json::from_str(&reordered).unwrap();
    assert_eq!(back, s);
    assert_eq!(json(&back), text);
    back.check_invariants().unwrap();
    for trail in s.trails() {
        assert_eq!(
            back.trail(trail.account, &trail.region, &trail.name),
            Some(trail)
        );
    }
}

#[test]
fn snapshot_with_duplicate_token_keys_is_rejected() {
    // Two records for one (account, region, token): SPEC 6.4 says records are unique per key.
    let mut s = Sched::new(config());
    logging_trail(&mut s, A, "trail-aaa", 100);
    let first = s
        .create_job(&req(A, "trail-aaa", Some("tok-one")), Timestamp(101))
        .unwrap();
    s.complete_job(A, first.job_id, JobOutcome::Completed, Timestamp(102))
        .unwrap();
    s.create_job(&req(A, "trail-aaa", Some("tok-two")), Timestamp(103))
        .unwrap();
    let text = json(&s);
    let (edited, n) = edit_strings(&text, "tok-two", "tok-one");
    assert_eq!(n, 1, "{text}");
    assert_snapshot_rejected(&edited, "duplicate token keys");
}

#[test]
fn snapshot_with_jobs_out_of_id_order_loads_in_order() {
    // SPEC 5 rejects a snapshot only for invariants, values and versions: jobs listed in
    // another order are the same state, and come back in canonical order.
    let mut s = Sched::new(config());
    logging_trail(&mut s, A, "trail-aaa", 100);
    logging_trail(&mut s, B, "trail-bbb", 100);
    for at in [110, 120, 130] {
        for (account, trail) in [(A, "trail-aaa"), (B, "trail-bbb")] {
            let job = s
                .create_job(&req(account, trail, None), Timestamp(at))
                .unwrap()
                .job_id;
            s.complete_job(account, job, JobOutcome::Completed, Timestamp(at + 1))
                .unwrap();
        }
    }
    let mut v: Value = serde_json::from_str(&json(&s)).unwrap();
    v["jobs"].as_array_mut().unwrap().reverse();
    let back: Sched = serde_json::from_value(v).unwrap();
    assert_eq!(back, s);
    assert_eq!(json(&back), json(&s));
    for account in [A, B] {
        let ids = |x: &Sched| -> Vec<JobId> {
            x.list_jobs(account, 1, 10)
                .unwrap()
                .jobs()
                .map(|j| j.id)
                .collect()
        };
        assert_eq!(ids(&back), ids(&s), "{account:?}'s jobs, newest first");
    }
}

#[test]
fn malformed_snapshots_are_refused_with_messages_that_say_what_was_expected() {
    let err = serde_json::from_str::<Sched>("[1]")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("invalid length 1") && err.contains("9 snapshot fields"),
        "{err}"
    );
    let err = serde_json::from_str::<Sched>("17").unwrap_err().to_string();
    assert!(err.contains("JobScheduler snapshot"), "{err}");
    // A table that is not a list names what it should have been.
    let text = json(&busy());
    for (table, expected) in [
        ("trails", "a list of trails"),
        ("jobs", "a list of jobs"),
        ("tokens", "a list of token records"),
    ] {
        let mut v: Value = serde_json::from_str(&text).unwrap();
        v[table] = serde_json::json!(5);
        let err = serde_json::from_value::<Sched>(v).unwrap_err().to_string();
        assert!(err.contains(expected), "{table}: {err}");
    }
}

#[test]
fn snapshots_naming_a_field_twice_are_refused() {
    // A JSON object with a repeated key is not one state: which value would count?
    let text = json(&busy());
    for key in [
        "trails",
        "jobs",
        "tokens",
        "clock",
        "config",
        "format_version",
    ] {
        let v: Value = serde_json::from_str(&text).unwrap();
        let value = v[key].to_string();
        let doubled = format!("{},\"{key}\":{value}}}", &text[..text.len() - 1]);
        let err = serde_json::from_str::<Sched>(&doubled)
            .unwrap_err()
            .to_string();
        assert!(err.contains("duplicate field"), "{key}: {err}");
    }
}

#[test]
fn snapshots_larger_than_the_capacities_say_so() {
    // busy() fills a JobScheduler<8, 8, 8>; a smaller one cannot hold its tables.
    let text = json(&busy());
    let s = busy();
    let stats = s.stats();
    assert!(
        stats.trails > 1 && stats.jobs > 1 && stats.tokens > 1,
        "{stats:?}"
    );
    let err = serde_json::from_str::<JobScheduler<1, 8, 8>>(&text)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("capacity of 1") && err.contains("trails"),
        "{err}"
    );
    let err = serde_json::from_str::<JobScheduler<8, 1, 8>>(&text)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("capacity of 1") && err.contains("jobs"),
        "{err}"
    );
    let err = serde_json::from_str::<JobScheduler<8, 8, 1>>(&text)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("capacity of 1") && err.contains("token records"),
        "{err}"
    );
}

/// `raw` with every occurrence of `from` replaced by `to` (of the same length).
fn replace_bytes(raw: &[u8], from: &[u8], to: &[u8]) -> (Vec<u8>, usize) {
    assert_eq!(from.len(), to.len());
    let mut edited = raw.to_vec();
    let mut count = 0;
    let mut at = 0;
    while let Some(offset) = edited[at..].windows(from.len()).position(|w| w == from) {
        let start = at + offset;
        edited[start..start + to.len()].copy_from_slice(to);
        count += 1;
        at = start + to.len();
    }
    (edited, count)
}

/// A name whose bytes are not ASCII is refused from postcard: as invalid UTF-8 when they are
/// not UTF-8 (`0xff`), as a broken rule when they are (`é`), and the reason names the table
/// read. Pinned, errors and all, so that a change in how names are read (as bytes rather than
/// `str`, say) shows up here if it changes what a host sees.
#[test]
fn a_postcard_snapshot_with_a_non_ascii_name_is_refused_as_before() {
    let raw = bytes(&busy());
    let cases: [(&[u8], &[u8], &str, postcard::Error); 6] = [
        (
            b"trail-aaa",
            b"\xffrail-aaa",
            "trails",
            postcard::Error::DeserializeBadUtf8,
        ),
        (
            b"trail-aaa",
            b"\xc3\xa9ail-aaa",
            "trails",
            postcard::Error::SerdeDeCustom,
        ),
        (
            b"cn-beijing",
            b"cn-beijin\xff",
            "trails",
            postcard::Error::DeserializeBadUtf8,
        ),
        (
            b"cn-beijing",
            b"cn-beiji\xc3\xa9",
            "trails",
            postcard::Error::SerdeDeCustom,
        ),
        (
            b"tok-1",
            b"tok-\xff",
            "tokens",
            postcard::Error::DeserializeBadUtf8,
        ),
        (
            b"tok-1",
            b"tok\xc3\xa9",
            "tokens",
            postcard::Error::SerdeDeCustom,
        ),
    ];
    for (from, to, table, error) in cases {
        let (edited, count) = replace_bytes(&raw, from, to);
        assert!(count >= 1, "{from:?} not found");
        let mut target = Sched::new(Config::DEFAULT);
        let refused = target.restore(&mut postcard::Deserializer::from_bytes(&edited));
        assert_eq!(refused, Err(error), "{to:?}");
        assert_eq!(target, Sched::new(Config::DEFAULT));
        assert_eq!(
            target.restore_typed(&mut postcard::Deserializer::from_bytes(&edited)),
            Err(SnapshotError::Malformed { field: table }),
            "{to:?}"
        );
    }
}
