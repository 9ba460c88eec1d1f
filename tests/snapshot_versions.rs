//! Snapshot format versions: a version-1 snapshot (written by the crate before the worker
//! protocol, kept in `tests/fixtures/`) still loads, JSON or postcard, with the worker fields
//! SPEC section 9 gives it; and version 2 carries every new field.

use trail_backfill::*;

type Sched = JobScheduler<8, 8, 8>;

const V1_JSON: &str = include_str!("fixtures/snapshot-v1.json");
const V1_POSTCARD: &[u8] = include_bytes!("fixtures/snapshot-v1.postcard");

fn hz() -> Region {
    Region::new("cn-hangzhou").unwrap()
}

#[test]
fn a_version_1_snapshot_loads_from_json_and_postcard_alike() {
    let from_json: Sched = serde_json::from_str(V1_JSON).unwrap();
    let from_postcard: Sched = postcard::from_bytes(V1_POSTCARD).unwrap();
    assert_eq!(from_json, from_postcard);
    from_json.check_invariants().unwrap();

    // Its config keeps its own settings and gets the default worker settings.
    let config = from_json.config();
    assert_eq!((config.hash_seed, config.token_ttl_secs), (42, 3_600));
    assert_eq!(config.lease_secs, Config::DEFAULT.lease_secs);
    assert_eq!(config.max_attempts, Config::DEFAULT.max_attempts);
    assert_eq!(
        config.retry_backoff_secs,
        Config::DEFAULT.retry_backoff_secs
    );
    assert_eq!(config.max_backoff_secs, Config::DEFAULT.max_backoff_secs);
    assert_eq!(config.max_job_secs, Config::DEFAULT.max_job_secs);

    // Jobs 1 (completed), 2 (failed), 3 (delivering) and 4 (initializing), as written.
    let statuses: Vec<_> = from_json.jobs().map(|job| (job.id.0, job.status)).collect();
    assert_eq!(
        statuses,
        [
            (1, JobStatus::Completed),
            (2, JobStatus::Failed),
            (3, JobStatus::Delivering),
            (4, JobStatus::Initializing),
        ]
    );
    for job in from_json.jobs() {
        assert_eq!(job.attempt, 0, "job {}", job.id);
        assert_eq!(job.lease_expires_at, None);
        assert_eq!(job.not_before, job.created_at);
        assert_eq!(job.delivered, 0);
        let reason = (job.status == JobStatus::Failed).then_some(FailureReason::Reported);
        assert_eq!(job.failure, reason, "job {}", job.id);
        assert_eq!(
            from_json.job_regions(job.account, job.id).unwrap().count(),
            0
        );
    }
    assert_eq!(from_json.regions().count(), 0);
    assert_eq!(from_json.stats().leased_jobs, 0);
    assert_eq!(from_json.next_job_id(), JobId(5));
}

#[test]
fn a_loaded_version_1_snapshot_runs_the_worker_protocol_and_writes_version_2() {
    let mut scheduler: Sched = postcard::from_bytes(V1_POSTCARD).unwrap();
    let clock = scheduler.clock();
    // Job 3 was created first among the active ones: it is claimed first.
    let lease = scheduler.claim_next(clock).unwrap();
    assert_eq!((lease.job, lease.attempt), (JobId(3), 1));
    scheduler
        .report_region(&lease, &hz(), JobStatus::Delivering, clock)
        .unwrap();
    let json = serde_json::to_value(&scheduler).unwrap();
    assert_eq!(json["format_version"], SNAPSHOT_FORMAT_VERSION);
    assert_eq!(SNAPSHOT_FORMAT_VERSION, 2);
    assert_eq!(json["regions"], serde_json::json!(["cn-hangzhou"]));
    let back: Sched = serde_json::from_value(json).unwrap();
    assert_eq!(back, scheduler);
    let again: Sched = postcard::from_bytes(&postcard::to_allocvec(&scheduler).unwrap()).unwrap();
    assert_eq!(again, scheduler);
    assert_eq!(
        again
            .job_regions(lease.account, lease.job)
            .unwrap()
            .collect::<Vec<_>>(),
        [(&hz(), JobStatus::Delivering)]
    );
}

#[test]
fn unknown_versions_are_refused_and_name_the_versions_read() {
    let text = V1_JSON.replacen("\"format_version\": 1", "\"format_version\": 3", 1);
    let error = serde_json::from_str::<Sched>(&text)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("unknown snapshot format_version 3") && error.contains("versions 1 to 2"),
        "{error}"
    );
}

#[test]
fn a_version_2_job_record_that_lists_a_region_twice_is_refused() {
    let mut scheduler: Sched = postcard::from_bytes(V1_POSTCARD).unwrap();
    let lease = scheduler.claim_next(scheduler.clock()).unwrap();
    scheduler
        .report_region(&lease, &hz(), JobStatus::Delivering, scheduler.clock())
        .unwrap();
    let text = serde_json::to_string(&scheduler).unwrap();
    let doubled = text.replacen(
        "[\"cn-hangzhou\",\"Delivering\"]",
        "[\"cn-hangzhou\",\"Delivering\"],[\"cn-hangzhou\",\"Completed\"]",
        1,
    );
    assert_ne!(doubled, text);
    let error = serde_json::from_str::<Sched>(&doubled)
        .unwrap_err()
        .to_string();
    assert!(error.contains("job 3 lists a region twice"), "{error}");
}

/// JSON fields may come in any order: jobs met before the `format_version` are told apart by
/// their keys, for a version-1 snapshot as for a version-2 one.
#[test]
fn the_format_version_may_come_after_the_jobs() {
    let expected: Sched = postcard::from_bytes(V1_POSTCARD).unwrap();
    for text in [
        V1_JSON.to_owned(),
        serde_json::to_string(&expected).unwrap(),
    ] {
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let object = v.as_object().unwrap();
        let mut reordered = String::from("{");
        for (key, value) in object.iter().filter(|(key, _)| *key != "format_version") {
            reordered += &format!("{}:{},", serde_json::to_string(key).unwrap(), value);
        }
        reordered += &format!("\"format_version\":{}}}", object["format_version"]);
        assert!(reordered.ends_with(&format!(
            "\"format_version\":{}}}",
            object["format_version"]
        )));
        let loaded: Sched = serde_json::from_str(&reordered).unwrap();
        assert_eq!(loaded, expected);
    }
}
