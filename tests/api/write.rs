//! Writing answers: every answer shape as valid JSON, written without allocating.

use super::*;

// Writing answers

/// Writes with `write` into a String and parses the result back: every answer is JSON.
fn written(write: impl FnOnce(&mut String) -> std::fmt::Result) -> Value {
    let mut out = String::new();
    write(&mut out).expect("a String takes anything");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

const REPLY: Reply<'static> = Reply {
    request_id: "5709BA31-DFE2-649C-AF86-000000000078",
    host_id: None,
};

#[test]
fn every_effect_answers_in_the_api_shape() {
    let rid = REPLY.request_id;
    let create = command(
        "CreateTrail",
        &[("Name", "trail-name"), ("SlsProjectArn", "p")],
    );
    let start = command("StartDeliveryHistoryJob", &[("JobId", "16602")]);
    let complete = command(
        "CompleteDeliveryHistoryJob",
        &[("JobId", "16602"), ("Outcome", "Failed")],
    );
    let until = Timestamp(1_622_099_703);
    let granted = Lease {
        expires_at: until,
        ..lease(16602, 2)
    };
    let mut report = TimeoutReport::default();
    report.leases_expired = 1;
    report.jobs_failed = 2;
    let cases: Vec<(&Command, Effect, Option<Timestamp>, Value)> = vec![
        (
            &create,
            Effect::TrailCreated,
            None,
            json!({"RequestId": rid, "Name": "trail-name", "HomeRegion": "cn-hangzhou"}),
        ),
        (
            &Command::ClaimNext,
            Effect::TrailDeleted,
            None,
            json!({"RequestId": rid}),
        ),
        (
            &start,
            Effect::LoggingStarted(Transition::Changed),
            None,
            json!({"RequestId": rid, "Changed": true}),
        ),
        (
            &start,
            Effect::LoggingStopped(Transition::Unchanged),
            None,
            json!({"RequestId": rid, "Changed": false}),
        ),
        (
            &start,
            Effect::JobCreated(JobCreated {
                job_id: JobId(16602),
                replayed: true,
            }),
            None,
            json!({"RequestId": rid, "JobId": 16602}),
        ),
        (
            &start,
            Effect::JobStarted(Transition::Changed),
            None,
            json!({"RequestId": rid, "JobId": 16602, "JobStatus": 1, "Changed": true}),
        ),
        (
            &complete,
            Effect::JobCompleted(Transition::Unchanged),
            None,
            json!({"RequestId": rid, "JobId": 16602, "JobStatus": 3, "Changed": false}),
        ),
        (
            &Command::ClaimNext,
            Effect::JobClaimed(Some(granted)),
            None,
            json!({"RequestId": rid, "JobId": 16602, "AccountId": ACCOUNT.0, "Attempt": 2,
                   "LeaseExpiresAt": "2021-05-27T07:15:03Z"}),
        ),
        (
            &Command::ClaimNext,
            Effect::JobClaimed(None),
            None,
            json!({"RequestId": rid, "JobId": null}),
        ),
        (
            &Command::ClaimNext,
            Effect::LeaseExtended(until),
            None,
            json!({"RequestId": rid, "LeaseExpiresAt": "2021-05-27T07:15:03Z"}),
        ),
        (
            &Command::ClaimNext,
            Effect::RegionReported(Transition::Changed),
            None,
            json!({"RequestId": rid, "Changed": true}),
        ),
        (
            &Command::ClaimNext,
            Effect::JobFinished(Transition::Changed),
            None,
            json!({"RequestId": rid, "Changed": true}),
        ),
        (
            &Command::ClaimNext,
            Effect::JobStopped(Transition::Unchanged),
            None,
            json!({"RequestId": rid, "Changed": false}),
        ),
        (
            &Command::HandleTimeout,
            Effect::TimeoutsHandled(report),
            Some(until),
            json!({"RequestId": rid, "LeasesExpired": 1, "JobsFailed": 2,
                   "NextTimeout": "2021-05-27T07:15:03Z"}),
        ),
        (
            &Command::HandleTimeout,
            Effect::TimeoutsHandled(report),
            None,
            json!({"RequestId": rid, "LeasesExpired": 1, "JobsFailed": 2, "NextTimeout": null}),
        ),
    ];
    for (command, effect, next, expected) in cases {
        let answer = written(|out| REPLY.write_effect(out, command, &effect, next));
        assert_eq!(answer, expected, "{effect:?}");
    }
    // The exact bytes of one answer: compact, fields in order.
    let mut out = String::new();
    REPLY
        .write_effect(
            &mut out,
            &Command::HandleTimeout,
            &Effect::TimeoutsHandled(report),
            None,
        )
        .unwrap();
    assert_eq!(
        out,
        format!(r#"{{"RequestId":"{rid}","LeasesExpired":1,"JobsFailed":2,"NextTimeout":null}}"#)
    );
}

/// A scheduler with one trail and two jobs: 16602 stopped after a worker reported two regions
/// and 1,200 events, 16603 new.
fn scheduler_with_jobs() -> Box<JobScheduler<4, 8, 8>> {
    let mut scheduler = Box::new(JobScheduler::new(Config {
        first_job_id: 16602,
        ..Config::DEFAULT
    }));
    let now = Timestamp(1_622_099_703);
    let spec = TrailSpec {
        name: name("trail-name"),
        kind: TrailKind::SingleAccount,
        delivers_to_sls: true,
    };
    scheduler
        .create_trail(ACCOUNT, &hangzhou(), &spec, now)
        .unwrap();
    scheduler
        .start_logging(ACCOUNT, &hangzhou(), &spec.name, now)
        .unwrap();
    let request = CreateJob {
        account: ACCOUNT,
        region: hangzhou(),
        trail_name: spec.name.clone(),
        client_token: None,
    };
    scheduler.create_job(&request, now).unwrap();
    let lease = scheduler.claim_next(now).unwrap();
    scheduler
        .report_region(
            &lease,
            &Region::new("cn-shanghai").unwrap(),
            JobStatus::Delivering,
            now,
        )
        .unwrap();
    scheduler
        .report_region(&lease, &hangzhou(), JobStatus::Completed, now)
        .unwrap();
    scheduler.heartbeat(&lease, 1200, now).unwrap();
    scheduler.stop_job(ACCOUNT, lease.job, now).unwrap();
    scheduler.create_job(&request, now).unwrap();
    scheduler
}

#[test]
fn jobs_pages_and_errors_answer_in_the_api_shape() {
    let scheduler = scheduler_with_jobs();
    let rid = REPLY.request_id;
    let job = scheduler.job(ACCOUNT, JobId(16602)).unwrap();
    let regions = scheduler.job_regions(ACCOUNT, JobId(16602)).unwrap();
    let answer = written(|out| REPLY.write_job(out, job, regions));
    let times = json!({
        "CreatedTime": "2021-05-27T07:15:03Z",
        "StartTime": "2021-02-26T07:15:03Z",
        "EndTime": "2021-05-27T07:20:03Z",
        "UpdatedTime": "2021-05-27T07:15:03Z",
    });
    let mut expected = json!({
        "RequestId": rid, "JobId": 16602, "JobStatus": 3, "TrailName": "trail-name",
        "HomeRegion": "cn-hangzhou",
        "Status": [{"Region": "cn-hangzhou", "Status": 2}, {"Region": "cn-shanghai", "Status": 3}],
        "Attempt": 1, "Delivered": 1200, "FailureReason": "Stopped",
    });
    expected
        .as_object_mut()
        .unwrap()
        .extend(times.as_object().unwrap().clone());
    assert_eq!(answer, expected);

    let fresh = scheduler.job(ACCOUNT, JobId(16603)).unwrap();
    let answer = written(|out| REPLY.write_job(out, fresh, std::iter::empty()));
    assert_eq!(answer["Status"], json!([]));
    assert!(answer.get("FailureReason").is_none(), "{answer}");

    let page = scheduler.list_jobs(ACCOUNT, 1, 20).unwrap();
    let answer = written(|out| REPLY.write_job_page(out, &page));
    assert_eq!(answer["TotalCount"], 2);
    assert_eq!(
        (&answer["PageNumber"], &answer["PageSize"]),
        (&json!(1), &json!(20))
    );
    let listed = answer["DeliveryHistoryJobs"].as_array().unwrap();
    let ids: Vec<&Value> = listed.iter().map(|job| &job["JobId"]).collect();
    assert_eq!(ids, [&json!(16603), &json!(16602)]);
    let keys: Vec<&String> = listed[1].as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 8, "list items have no Status: {keys:?}");
    let past_the_end = scheduler.list_jobs(ACCOUNT, 9, 20).unwrap();
    let answer = written(|out| REPLY.write_job_page(out, &past_the_end));
    assert_eq!(answer["DeliveryHistoryJobs"], json!([]));

    // Errors, with a HostId, and with strings that need escaping.
    let reply = Reply {
        request_id: "id \"1\"",
        host_id: Some("host\\1\n"),
    };
    let error = ApiError::UnknownAction("Describe\"Trails\u{1}");
    let answer = written(|out| reply.write_error(out, &error));
    assert_eq!(
        answer,
        json!({"RequestId": "id \"1\"", "HostId": "host\\1\n", "HttpStatus": 404,
               "Code": "InvalidAction.NotFound",
               "Message": "The specified action \"Describe\"Trails\u{1}\" is not valid."})
    );
    let mut out = String::new();
    REPLY
        .write_error(
            &mut out,
            &ApiError::Scheduler(Error::JobNotClaimable {
                until: Timestamp(0),
            }),
        )
        .unwrap();
    assert_eq!(
        out,
        format!(
            r#"{{"RequestId":"{rid}","HttpStatus":409,"Code":"DeliveryHistoryJobNotClaimable","Message":"The delivery history job cannot be claimed (until 1970-01-01T00:00:00Z)."}}"#
        )
    );
}

#[test]
fn respond_carries_out_requests_and_answers_with_the_status() {
    let mut scheduler = scheduler_with_jobs();
    let now = Timestamp(1_622_100_000);
    let mut run = |action: &str, params: &[(&str, &str)]| {
        let request = parse(action, params).unwrap();
        let mut out = String::new();
        let status = respond(&mut scheduler, &request, now, &REPLY, &mut out).unwrap();
        (status, serde_json::from_str::<Value>(&out).unwrap())
    };
    let (status, answer) = run("GetDeliveryHistoryJob", &[("JobId", "16603")]);
    assert_eq!((status, &answer["JobStatus"]), (200, &json!(0)));
    let (status, answer) = run("GetDeliveryHistoryJob", &[("JobId", "1")]);
    assert_eq!(
        (status, &answer["Code"]),
        (404, &json!("DeliveryHistoryJobNotFound"))
    );
    let (status, answer) = run("ListDeliveryHistoryJobs", &[("PageSize", "101")]);
    assert_eq!(
        (status, &answer["Code"]),
        (400, &json!("InvalidParameterValue"))
    );
    let (status, answer) = run("ClaimDeliveryHistoryJob", &[]);
    assert_eq!(
        (status, &answer["JobId"], &answer["Attempt"]),
        (200, &json!(16603), &json!(1))
    );
    let (status, answer) = run("HandleTimeouts", &[]);
    assert_eq!(status, 200);
    assert_eq!(answer["NextTimeout"], "2021-05-27T07:25:00Z");
    let (status, answer) = run("DeleteDeliveryHistoryJob", &[("JobId", "16603")]);
    assert_eq!(
        (status, &answer["Code"]),
        (409, &json!("DeliveryHistoryJobNotFinished"))
    );
}

#[test]
fn reading_and_answering_allocate_nothing() {
    let mut scheduler = scheduler_with_jobs();
    let now = Timestamp(1_622_100_000);
    let requests: [(&str, &[(&str, &str)]); 8] = [
        ("GetDeliveryHistoryJob", &[("JobId", "16602")]),
        ("ListDeliveryHistoryJobs", &[("PageSize", "10")]),
        ("ClaimDeliveryHistoryJob", &[]),
        (
            "HeartbeatDeliveryHistoryJob",
            &[("JobId", "16603"), ("Attempt", "1")],
        ),
        ("HandleTimeouts", &[]),
        (
            "CreateDeliveryHistoryJob",
            &[("TrailName", "trail-name"), ("ClientToken", "t\"1")],
        ),
        ("StopDeliveryHistoryJob", &[("JobId", "16603")]),
        ("GetDeliveryHistoryJob", &[("JobId", "x")]),
    ];
    let region = hangzhou();
    let caller = Caller {
        account: Some(ACCOUNT),
        default_region: Some(&region),
    };
    let mut buffer = Buffer::new();
    let mut statuses = [0_u16; 8];
    let count = allocations_during(|| {
        for (index, (action, params)) in requests.iter().enumerate() {
            buffer.len = 0;
            let reply = Reply {
                request_id: "r",
                host_id: Some("h"),
            };
            let parsed = Action::from_name(action)
                .and_then(|action| parse_request(action, params.iter().copied(), &caller));
            statuses[index] = match parsed {
                Ok(request) => respond(&mut scheduler, &request, now, &reply, &mut buffer).unwrap(),
                Err(error) => {
                    reply.write_error(&mut buffer, &error).unwrap();
                    error.http_status()
                }
            };
        }
    });
    assert_eq!(count, 0);
    assert_eq!(statuses, [200, 200, 200, 200, 200, 409, 200, 400]);
    assert!(
        buffer
            .as_str()
            .contains("\"Code\":\"InvalidParameterValue\"")
    );
}
