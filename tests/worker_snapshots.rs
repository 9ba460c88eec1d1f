//! Contract tests for SPEC section 9's snapshots: version 2 carries the new job fields, each
//! job's regions and the region catalogue, round trips through JSON and postcard (equal
//! scheduler, same bytes, same answers afterwards), rejects snapshots that break invariant 8,
//! and a version-1 snapshot still loads with the documented defaults.

#[path = "common/workers.rs"]
mod workers;

use trail_backfill::*;
use workers::*;

use JobStatus::{Completed, Delivering, Failed, Initializing};

/// Every kind of job at once (deadline 5000 s):
/// - A: leased on its second attempt, 99 delivered, two regions;
/// - B: waiting for a retry (not_before T0 + 460), regions Initializing and Completed;
/// - C: Failed (Reported) with regions, then a new Initializing job;
/// - D: Failed (DeadlineExceeded), Completed, and Failed (Stopped).
fn busy() -> Sched {
    let mut s = Sched::new(workers(300, 3, 60, 3600, 5000));
    let d1 = new_job(&mut s, D, T0 - 4500); // deadline T0 + 500
    let a1 = new_job(&mut s, A, T0 + 100);
    let b1 = new_job(&mut s, B, T0 + 100);
    let c1 = new_job(&mut s, C, T0 + 100);
    let la = claim(&mut s, A, a1, T0 + 100);
    let lb = claim(&mut s, B, b1, T0 + 100);
    let lc = claim(&mut s, C, c1, T0 + 100);
    use Transition::Changed;
    report(&mut s, &lc, "cn-beijing", Completed, T0 + 110, Changed);
    report(&mut s, &lc, "cn-shanghai", Delivering, T0 + 120, Changed);
    changed(&mut s, T0 + 150, |s| {
        s.finish_job(&lc, JobOutcome::Failed, Timestamp(T0 + 150))
    })
    .unwrap();
    new_job(&mut s, C, T0 + 200);
    report(&mut s, &lb, "cn-hangzhou", Delivering, T0 + 210, Changed);
    report(&mut s, &lb, "us-east-1", Completed, T0 + 220, Changed);
    beat(&mut s, &la, 77, T0 + 300);
    assert_eq!(timeouts(&mut s, T0 + 400), (1, 0)); // b1
    assert_eq!(timeouts(&mut s, T0 + 600), (1, 1)); // a1's lease, d1's deadline
    let d2 = new_job(&mut s, D, T0 + 650);
    s.complete_job(D, d2, JobOutcome::Completed, Timestamp(T0 + 660))
        .unwrap();
    let d3 = new_job(&mut s, D, T0 + 670);
    s.stop_job(D, d3, Timestamp(T0 + 680)).unwrap();
    let la2 = claim(&mut s, A, a1, T0 + 700);
    assert_eq!(la2.attempt, 2);
    report(
        &mut s,
        &la2,
        "ap-southeast-1",
        Delivering,
        T0 + 710,
        Changed,
    );
    report(&mut s, &la2, "cn-beijing", Initializing, T0 + 720, Changed);
    beat(&mut s, &la2, 99, T0 + 800);
    inv(&s);
    // The state the tests below expect.
    assert_eq!(
        job(&s, D, d1).failure,
        Some(FailureReason::DeadlineExceeded)
    );
    assert_eq!(job(&s, C, c1).failure, Some(FailureReason::Reported));
    assert_eq!(job(&s, D, d3).failure, Some(FailureReason::Stopped));
    assert_eq!(s.stats().leased_jobs, 1);
    assert_eq!(s.stats().active_jobs, 3);
    s
}

/// Every observable of section 9 for every job, to compare two schedulers.
fn observe(s: &Sched) -> Vec<String> {
    let mut out: Vec<String> = s
        .jobs()
        .map(|j| {
            format!(
                "{j:?} {:?} {:?}",
                regions(s, j.account, j.id),
                s.job(j.account, j.id).map(|x| x.id)
            )
        })
        .collect();
    out.push(format!(
        "{:?} {:?} {:?} {:?}",
        s.stats(),
        s.poll_timeout(),
        s.clock(),
        catalogue(s)
    ));
    out
}

#[test]
fn a_busy_scheduler_round_trips_through_json_and_postcard() {
    let s = busy();
    let text = serde_json::to_string(&s).unwrap();
    let raw = bytes(&s);
    let from_json: Sched = serde_json::from_str(&text).unwrap();
    let from_postcard: Sched = postcard::from_bytes(&raw).unwrap();
    for back in [&from_json, &from_postcard] {
        assert_eq!(*back, s);
        assert_eq!(serde_json::to_string(back).unwrap(), text);
        assert_eq!(bytes(back), raw);
        assert_eq!(observe(back), observe(&s));
        inv(back);
    }
    assert_eq!(
        regions(&from_postcard, A, JobId(2)),
        pairs(&[("ap-southeast-1", Delivering), ("cn-beijing", Initializing)])
    );
    assert_eq!(
        regions(&from_json, B, JobId(3)),
        pairs(&[("cn-hangzhou", Initializing), ("us-east-1", Completed)])
    );
    assert_eq!(
        regions(&from_json, C, JobId(4)),
        pairs(&[("cn-beijing", Completed), ("cn-shanghai", Failed)])
    );
    assert_eq!(
        catalogue(&from_postcard),
        [
            "ap-southeast-1",
            "cn-beijing",
            "cn-hangzhou",
            "cn-shanghai",
            "us-east-1"
        ]
    );
    let a = job(&from_json, A, JobId(2));
    assert_eq!(
        (a.attempt, a.lease_expires_at, a.delivered, a.not_before),
        (2, Some(Timestamp(T0 + 1100)), 99, Timestamp(T0 + 660))
    );
    let b = job(&from_postcard, B, JobId(3));
    assert_waiting(&b, 1, T0 + 460);
    assert_eq!(SNAPSHOT_FORMAT_VERSION, 2);
}

#[test]
fn a_restored_scheduler_answers_as_the_original() {
    let mut original = busy();
    let mut restored = Sched::new(Config {
        first_job_id: 500,
        ..Config::DEFAULT
    });
    new_job(&mut restored, A, 5);
    restored
        .restore(&mut postcard::Deserializer::from_bytes(&bytes(&original)))
        .unwrap();
    assert_eq!(restored, original);
    for s in [&mut original, &mut restored] {
        // A's old lease is still held; B's retry is due; the old one of A is fenced.
        let la = lease_of(s, A, JobId(2));
        assert_eq!(beat(s, &la, 100, T0 + 900), Timestamp(T0 + 1200));
        let stale = Lease { attempt: 1, ..la };
        expect_err(s, Error::LeaseLost, |s| {
            s.heartbeat(&stale, 1, Timestamp(T0 + 900))
        });
        // c2 (not_before T0 + 200) comes before b1 (T0 + 460).
        let lc = claim_next(s, T0 + 900);
        assert_eq!((lc.job, lc.attempt), (JobId(5), 1));
        let lb = claim_next(s, T0 + 900);
        assert_eq!((lb.job, lb.attempt), (JobId(3), 2));
        claim_none(s, T0 + 900);
        report(
            s,
            &lb,
            "us-east-1",
            Completed,
            T0 + 910,
            Transition::Unchanged,
        );
        expect_err(s, Error::InvalidJobStatus { status: Completed }, |s| {
            s.report_region(&lb, &region("us-east-1"), Failed, Timestamp(T0 + 910))
        });
        assert_eq!(timeouts(s, T0 + 1200), (3, 0));
        expect_err(s, Error::LeaseLost, |s| {
            s.finish_job(&lb, JobOutcome::Completed, Timestamp(T0 + 1300))
        });
        assert_eq!(timeouts(s, T0 + 5100), (0, 2));
        assert_eq!(s.poll_timeout(), Some(Timestamp(T0 + 5200)));
    }
    assert_eq!(bytes(&restored), bytes(&original));
    assert_eq!(observe(&restored), observe(&original));
}

#[test]
fn a_snapshot_in_another_order_loads_and_saves_canonically() {
    // SPEC 5 rejects a snapshot only for an invariant, a value or a version; SPEC 7 loads the
    // records in any order. Jobs newest first, each job's regions and the catalogue reversed.
    let s = busy();
    let text = serde_json::to_string(&s).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut reversed_lists = 0;
    let jobs = v["jobs"].as_array_mut().expect("a jobs list");
    jobs.reverse();
    for j in jobs.iter_mut() {
        if let Some(list) = j.get_mut("regions").and_then(|r| r.as_array_mut()) {
            reversed_lists += usize::from(list.len() > 1);
            list.reverse();
        }
    }
    assert!(
        reversed_lists >= 3,
        "jobs carry their regions as lists: {text}"
    );
    v["regions"]
        .as_array_mut()
        .expect("the catalogue as a list")
        .reverse();
    let shuffled = v.to_string();
    assert_ne!(shuffled, text);
    let back: Sched = serde_json::from_str(&shuffled).unwrap();
    assert_eq!(back, s);
    assert_eq!(serde_json::to_string(&back).unwrap(), text);
    assert_eq!(observe(&back), observe(&s));
    let mut in_place = Sched::new(defaults());
    in_place
        .restore(&mut serde_json::Deserializer::from_str(&shuffled))
        .unwrap();
    assert_eq!(bytes(&in_place), bytes(&s));
}

// ------------------------------------------------------------ rejected snapshots

/// One job of account A, leased (attempt 1, lease end T0 + 300, deadline T0 + 86 400).
fn one_leased() -> Sched {
    let mut s = Sched::new(defaults());
    new_job(&mut s, A, T0);
    claim_next(&mut s, T0);
    s
}

/// Replaces the only occurrence of `from` in `text`.
fn edit(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from:?} once in {text}");
    text.replace(from, to)
}

fn accepted(text: &str) {
    serde_json::from_str::<Sched>(text).unwrap_or_else(|e| panic!("{e}: {text}"));
}

fn rejected(text: &str, what: &str) {
    assert!(
        serde_json::from_str::<Sched>(text).is_err(),
        "{what}: accepted {text}"
    );
    let mut target = Sched::new(defaults());
    new_job(&mut target, B, 3);
    assert!(
        target
            .restore(&mut serde_json::Deserializer::from_str(text))
            .is_err(),
        "{what}"
    );
    assert_eq!(
        target.stats().jobs,
        0,
        "{what}: a failed restore leaves it empty"
    );
    inv(&target);
}

#[test]
fn snapshots_breaking_invariant_8_are_rejected() {
    let text = serde_json::to_string(&one_leased()).unwrap();
    accepted(&text);
    // Leased only while active.
    rejected(
        &edit(&text, "\"Delivering\"", "\"Completed\""),
        "a finished job holding a lease",
    );
    // attempt >= 1 while leased, and attempt <= max(max_attempts, 1).
    rejected(
        &edit(&text, "\"attempt\":1", "\"attempt\":0"),
        "leased with attempt 0",
    );
    rejected(
        &edit(&text, "\"attempt\":1", "\"attempt\":4"),
        "attempt above max_attempts",
    );
    // The lease ends no later than the deadline.
    let end = format!("\"lease_expires_at\":{}", T0 + 300);
    accepted(&edit(
        &text,
        &end,
        &format!("\"lease_expires_at\":{}", T0 + 86_400),
    ));
    rejected(
        &edit(
            &text,
            &end,
            &format!("\"lease_expires_at\":{}", T0 + 86_401),
        ),
        "a lease past the deadline",
    );

    // A Failed job has a reason, and no other job has one.
    let mut s = Sched::new(defaults());
    let id = new_job(&mut s, A, T0);
    s.complete_job(A, id, JobOutcome::Failed, Timestamp(T0 + 1))
        .unwrap();
    let failed = serde_json::to_string(&s).unwrap();
    accepted(&failed);
    rejected(
        &edit(&failed, "\"Reported\"", "null"),
        "Failed without a reason",
    );
    let completed = edit(&failed, "\"Failed\"", "\"Completed\"");
    rejected(&completed, "Completed with a reason");

    // A finished job has no region still Initializing or Delivering.
    let mut s = Sched::new(defaults());
    let id = new_job(&mut s, A, T0);
    let l = claim_next(&mut s, T0);
    s.report_region(&l, &region("zz-region"), Completed, Timestamp(T0 + 1))
        .unwrap();
    s.finish_job(&l, JobOutcome::Completed, Timestamp(T0 + 2))
        .unwrap();
    assert_eq!(regions(&s, A, id), pairs(&[("zz-region", Completed)]));
    let text = serde_json::to_string(&s).unwrap();
    accepted(&text);
    // The region's status: the "Completed" right after "zz-region" (not the catalogue's entry).
    let found: Vec<usize> = text
        .match_indices("zz-region")
        .filter_map(|(at, _)| {
            let k = text[at..].find("\"Completed\"")?;
            (k < 40).then_some(at + k)
        })
        .collect();
    assert_eq!(found.len(), 1, "one (region, status) pair in {text}");
    let mut broken = text.clone();
    broken.replace_range(found[0]..found[0] + "\"Completed\"".len(), "\"Delivering\"");
    rejected(&broken, "a finished job with a Delivering region");
}

#[test]
fn attempts_and_the_catalogue_are_bounded_in_snapshots() {
    // attempt <= max(max_attempts, 1): with max_attempts 0, attempt 1 is fine and 2 is not.
    let text = serde_json::to_string(&one_leased()).unwrap();
    let zero = edit(&text, "\"max_attempts\":3", "\"max_attempts\":0");
    accepted(&zero);
    rejected(
        &edit(&zero, "\"attempt\":1", "\"attempt\":2"),
        "attempt 2 with max_attempts 0",
    );
    // At most MAX_REGIONS distinct regions are known.
    let mut s = Sched::new(defaults());
    new_job(&mut s, A, T0);
    let l = claim_next(&mut s, T0);
    s.report_region(&l, &region("a-first"), Delivering, Timestamp(T0 + 1))
        .unwrap();
    let text = serde_json::to_string(&s).unwrap();
    let list = |n: usize| {
        let mut names = vec!["\"a-first\"".to_owned()];
        names.extend((1..n).map(|i| format!("\"r-{i:02}\"")));
        format!("[{}]", names.join(","))
    };
    let catalogue_of_one = list(1);
    assert!(text.ends_with(&format!("{catalogue_of_one}}}")), "{text}");
    let with = |n: usize| {
        let cut = text.len() - catalogue_of_one.len() - 1;
        format!("{}{}}}", &text[..cut], list(n))
    };
    accepted(&with(1));
    let full: Sched = serde_json::from_str(&with(MAX_REGIONS)).unwrap();
    assert_eq!(catalogue(&full).len(), MAX_REGIONS);
    rejected(&with(MAX_REGIONS + 1), "65 known regions");
}

// ------------------------------------------------------------------- version 1

#[test]
fn a_version_1_snapshot_still_loads() {
    let expected_config = Config {
        token_ttl_secs: 500,
        first_job_id: 10,
        hash_seed: 8_241_984_707_292_652_395,
        ..Config::DEFAULT
    };
    let from_json: Sched = serde_json::from_str(V1_JSON).unwrap();
    let from_postcard: Sched = postcard::from_bytes(V1_POSTCARD).unwrap();
    let mut in_place = Sched::new(defaults());
    in_place
        .restore(&mut serde_json::Deserializer::from_str(V1_JSON))
        .unwrap();
    assert_eq!(from_postcard, from_json);
    assert_eq!(in_place, from_json);
    let mut in_place = Sched::new(defaults());
    new_job(&mut in_place, D, 7);
    in_place
        .restore(&mut postcard::Deserializer::from_bytes(V1_POSTCARD))
        .unwrap();
    assert_eq!(in_place, from_json);
    let mut s = from_json;
    inv(&s);
    // Its config gets Config::DEFAULT's worker settings.
    assert_eq!(*s.config(), expected_config);
    assert_eq!(s.clock(), Timestamp(2600));
    // Its jobs: attempt 0, not leased, not_before = created_at, delivered 0, no regions,
    // failure = Some(Reported) when Failed.
    let ids: Vec<(AccountId, JobId, JobStatus, u64)> = s
        .jobs()
        .map(|j| (j.account, j.id, j.status, j.created_at.0))
        .collect();
    assert_eq!(
        ids,
        [
            (AccountId(1), JobId(10), Failed, 2000),
            (AccountId(2), JobId(11), Completed, 2200),
            (AccountId(3), JobId(12), Delivering, 2400),
            (AccountId(1), JobId(13), Initializing, 2600),
        ]
    );
    for (account, id, status, created) in ids {
        let j = job(&s, account, id);
        assert_eq!(j.attempt, 0);
        assert_eq!(j.lease_expires_at, None);
        assert_eq!(j.not_before, Timestamp(created));
        assert_eq!(j.delivered, 0);
        assert_eq!(regions(&s, account, id), pairs(&[]));
        let failure = (status == Failed).then_some(FailureReason::Reported);
        assert_eq!(j.failure, failure);
    }
    assert_eq!(catalogue(&s), Vec::<String>::new());
    assert_eq!(s.stats().leased_jobs, 0);
    assert_eq!(s.poll_timeout(), Some(Timestamp(2400 + 86_400)));
    // It runs: the oldest claimable job first; it saves as version 2 and loads again.
    let lease = claim_next(&mut s, 2700);
    assert_eq!(
        (lease.job, lease.attempt, lease.expires_at),
        (JobId(12), 1, Timestamp(3000))
    );
    let text = serde_json::to_string(&s).unwrap();
    assert!(text.contains("\"format_version\":2"), "{text}");
    let back: Sched = serde_json::from_str(&text).unwrap();
    assert_eq!(back, s);
    let back: Sched = postcard::from_bytes(&bytes(&s)).unwrap();
    assert_eq!(back, s);
}
/// A version-1 snapshot (JSON), written by the crate before SPEC section 9.
pub const V1_JSON: &str = r#"{"format_version":1,"config":{"token_ttl_secs":500,"retention_secs":7776000,"grace_secs":300,"max_trails_per_account":5,"first_job_id":10,"hash_seed":8241984707292652395},"clock":2600,"next_job_id":14,"jobs_evicted":0,"tokens_evicted_live":0,"trails":[{"account":1,"region":"cn-hangzhou","name":"trail-one","kind":"SingleAccount","delivers_to_sls":true,"logging_since":1000},{"account":2,"region":"cn-hangzhou","name":"trail-two","kind":"SingleAccount","delivers_to_sls":true,"logging_since":1000},{"account":3,"region":"cn-hangzhou","name":"trail-three","kind":"SingleAccount","delivers_to_sls":true,"logging_since":1000}],"jobs":[{"id":10,"account":1,"region":"cn-hangzhou","trail_name":"trail-one","status":"Failed","created_at":2000,"updated_at":2100,"window_start":0,"window_end":1300},{"id":11,"account":2,"region":"cn-hangzhou","trail_name":"trail-two","status":"Completed","created_at":2200,"updated_at":2300,"window_start":0,"window_end":1300},{"id":12,"account":3,"region":"cn-hangzhou","trail_name":"trail-three","status":"Delivering","created_at":2400,"updated_at":2500,"window_start":0,"window_end":1300},{"id":13,"account":1,"region":"cn-hangzhou","trail_name":"trail-one","status":"Initializing","created_at":2600,"updated_at":2600,"window_start":0,"window_end":1300}],"tokens":[{"account":2,"region":"cn-hangzhou","token":"tok","job_id":11,"trail_name":"trail-two","recorded_at":2200},{"account":3,"region":"cn-hangzhou","token":"tok","job_id":12,"trail_name":"trail-three","recorded_at":2400},{"account":1,"region":"cn-hangzhou","token":"tok","job_id":13,"trail_name":"trail-one","recorded_at":2600}]}"#;

/// The same scheduler as a version-1 postcard snapshot.
pub const V1_POSTCARD: &[u8] = &[
    1, 244, 3, 128, 206, 218, 3, 172, 2, 5, 10, 235, 198, 133, 147, 198, 173, 218, 176, 114, 168,
    20, 14, 0, 0, 3, 1, 11, 99, 110, 45, 104, 97, 110, 103, 122, 104, 111, 117, 9, 116, 114, 97,
    105, 108, 45, 111, 110, 101, 0, 1, 1, 232, 7, 2, 11, 99, 110, 45, 104, 97, 110, 103, 122, 104,
    111, 117, 9, 116, 114, 97, 105, 108, 45, 116, 119, 111, 0, 1, 1, 232, 7, 3, 11, 99, 110, 45,
    104, 97, 110, 103, 122, 104, 111, 117, 11, 116, 114, 97, 105, 108, 45, 116, 104, 114, 101, 101,
    0, 1, 1, 232, 7, 4, 10, 1, 11, 99, 110, 45, 104, 97, 110, 103, 122, 104, 111, 117, 9, 116, 114,
    97, 105, 108, 45, 111, 110, 101, 3, 208, 15, 180, 16, 0, 148, 10, 11, 2, 11, 99, 110, 45, 104,
    97, 110, 103, 122, 104, 111, 117, 9, 116, 114, 97, 105, 108, 45, 116, 119, 111, 2, 152, 17,
    252, 17, 0, 148, 10, 12, 3, 11, 99, 110, 45, 104, 97, 110, 103, 122, 104, 111, 117, 11, 116,
    114, 97, 105, 108, 45, 116, 104, 114, 101, 101, 1, 224, 18, 196, 19, 0, 148, 10, 13, 1, 11, 99,
    110, 45, 104, 97, 110, 103, 122, 104, 111, 117, 9, 116, 114, 97, 105, 108, 45, 111, 110, 101,
    0, 168, 20, 168, 20, 0, 148, 10, 3, 2, 11, 99, 110, 45, 104, 97, 110, 103, 122, 104, 111, 117,
    3, 116, 111, 107, 11, 9, 116, 114, 97, 105, 108, 45, 116, 119, 111, 152, 17, 3, 11, 99, 110,
    45, 104, 97, 110, 103, 122, 104, 111, 117, 3, 116, 111, 107, 12, 11, 116, 114, 97, 105, 108,
    45, 116, 104, 114, 101, 101, 224, 18, 1, 11, 99, 110, 45, 104, 97, 110, 103, 122, 104, 111,
    117, 3, 116, 111, 107, 13, 9, 116, 114, 97, 105, 108, 45, 111, 110, 101, 168, 20,
];
