//! Restore in place: from JSON and postcard, into busy or larger schedulers, and refusals.

use super::*;

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
pub(crate) fn assert_same_content<
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
pub(crate) static BIG: std::sync::Mutex<Big> = std::sync::Mutex::new(Big::new(Config::DEFAULT));

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
pub(crate) fn replace_bytes(raw: &[u8], from: &[u8], to: &[u8]) -> (Vec<u8>, usize) {
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
