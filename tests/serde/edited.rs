//! Edited snapshots that break an invariant are rejected; harmless edits are accepted.

use super::*;

// The edits work on the JSON text, not on a `serde_json::Value`: a `Value` map sorts its keys,
// which would change the field order of the snapshot as well as the edited value.

/// Replaces every JSON number equal to `from` by `to`; returns the edited text and the count.
pub(crate) fn edit_numbers(text: &str, from: u64, to: u64) -> (String, usize) {
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
pub(crate) fn edit_strings(text: &str, from: &str, to: &str) -> (String, usize) {
    let (from, to) = (json(&from), json(&to));
    (text.replace(&from, &to), text.matches(&from).count())
}

/// Replaces every `"key":old` by `"key":new` (values given as JSON text).
pub(crate) fn edit_field(text: &str, key: &str, old: &str, new: &str) -> (String, usize) {
    let from = format!("\"{key}\":{old}");
    let to = format!("\"{key}\":{new}");
    (text.replace(&from, &to), text.matches(&from).count())
}

/// Checks that an edited snapshot is rejected by value, and by `restore`, which then leaves
/// the target empty (as `new` with its own config) but for its next job id, which stays
/// where it was so that no id is given out twice.
pub(crate) fn assert_snapshot_rejected(text: &str, what: &str) {
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
pub(crate) fn two_active() -> Sched {
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
pub(crate) fn timeline() -> Sched {
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
