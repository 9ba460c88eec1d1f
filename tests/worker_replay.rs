//! Contract tests for SPEC section 9's replay tool (`examples/replay/`): the worker actions
//! (`ClaimDeliveryHistoryJob`, `HeartbeatDeliveryHistoryJob`, `ReportDeliveryHistoryJobRegion`,
//! `FinishDeliveryHistoryJob`, `StopDeliveryHistoryJob`, `HandleTimeouts`) with
//! `Config::DEFAULT`'s worker settings, and the new fields of `GetDeliveryHistoryJob`.

#[allow(dead_code, unused_imports)]
#[path = "../examples/replay/main.rs"]
mod replay;

use serde_json::{Value, json};

const ACCOUNT: u64 = 7;

/// Plays request lines one at a time, answering each as parsed JSON.
struct Host {
    scheduler: Box<replay::Scheduler>,
    line: u64,
}

impl Host {
    fn new() -> Self {
        Host {
            scheduler: replay::new_scheduler(),
            line: 0,
        }
    }

    /// One request at `at` (ISO-8601) of `account`, `Action` `action`, plus `extra` fields.
    fn ask(&mut self, at: &str, account: u64, action: &str, extra: Value) -> Value {
        let mut request = json!({
            "At": at,
            "AccountId": account,
            "RegionId": "cn-hangzhou",
            "Action": action,
        });
        for (k, v) in extra.as_object().expect("an object").iter() {
            request[k] = v.clone();
        }
        self.line += 1;
        let text = request.to_string();
        let answer = replay::respond(&mut self.scheduler, self.line, text.as_bytes())
            .expect("a request gets an answer");
        let value: Value = serde_json::from_str(&answer).expect("the answer is JSON");
        assert!(value["RequestId"].is_string(), "{answer}");
        if let Err(e) = self.scheduler.check_invariants() {
            panic!("after {text}: {e}");
        }
        value
    }

    fn ok(&mut self, at: &str, action: &str, extra: Value) -> Value {
        let answer = self.ask(at, ACCOUNT, action, extra);
        assert!(answer.get("Code").is_none(), "{action}: {answer}");
        answer
    }

    fn err(&mut self, at: &str, action: &str, extra: Value, status: u64, code: &str) {
        let answer = self.ask(at, ACCOUNT, action, extra);
        assert_eq!(answer["HttpStatus"], status, "{action}: {answer}");
        assert_eq!(answer["Code"], code, "{action}: {answer}");
        assert!(answer["Message"].is_string(), "{answer}");
    }

    /// A logging trail of ACCOUNT and a job on it; returns the job id.
    fn job(&mut self, at: &str) -> u64 {
        if self.line == 0 {
            let trail = json!({"Name": "trail-name", "SlsProjectArn": "p"});
            self.ok(at, "CreateTrail", trail);
            self.ok(at, "StartLogging", json!({"Name": "trail-name"}));
        }
        let created = self.ok(
            at,
            "CreateDeliveryHistoryJob",
            json!({"TrailName": "trail-name"}),
        );
        created["JobId"].as_u64().expect("a job id")
    }
}

/// A time answer: ISO-8601 like every other time the tool prints.
fn assert_time(v: &Value, iso: &str) {
    assert_eq!(v, &json!(iso), "expected {iso}");
}

#[test]
fn a_job_through_claim_heartbeat_regions_retry_and_finish() {
    let mut h = Host::new();
    let id = h.job("2021-05-27T07:00:00Z");
    let claimed = h.ok("2021-05-27T07:00:10Z", "ClaimDeliveryHistoryJob", json!({}));
    assert_eq!(claimed["JobId"], id);
    assert_eq!(claimed["AccountId"], ACCOUNT);
    assert_eq!(claimed["Attempt"], 1);
    assert_time(&claimed["LeaseExpiresAt"], "2021-05-27T07:05:10Z");
    // Nothing left to claim: "JobId": null (AccountId is present but ignored).
    let none = h.ask(
        "2021-05-27T07:00:11Z",
        8,
        "ClaimDeliveryHistoryJob",
        json!({}),
    );
    assert!(none.get("Code").is_none(), "{none}");
    assert_eq!(none.get("JobId"), Some(&Value::Null), "{none}");
    h.err(
        "2021-05-27T07:00:12Z",
        "ClaimDeliveryHistoryJob",
        json!({"JobId": id}),
        409,
        "DeliveryHistoryJobNotClaimable",
    );
    let beat = h.ok(
        "2021-05-27T07:01:00Z",
        "HeartbeatDeliveryHistoryJob",
        json!({"JobId": id, "Attempt": 1, "Delivered": 5}),
    );
    assert_time(&beat["LeaseExpiresAt"], "2021-05-27T07:06:00Z");
    h.err(
        "2021-05-27T07:01:01Z",
        "HeartbeatDeliveryHistoryJob",
        json!({"JobId": id, "Attempt": 2}),
        409,
        "DeliveryHistoryJobLeaseLost",
    );
    let region = json!({"JobId": id, "Attempt": 1, "Region": "cn-beijing", "Status": 1});
    let first = h.ok(
        "2021-05-27T07:01:02Z",
        "ReportDeliveryHistoryJobRegion",
        region.clone(),
    );
    assert_eq!(first["Changed"], true);
    let again = h.ok(
        "2021-05-27T07:01:03Z",
        "ReportDeliveryHistoryJobRegion",
        region,
    );
    assert_eq!(again["Changed"], false);
    let got = h.ok(
        "2021-05-27T07:01:04Z",
        "GetDeliveryHistoryJob",
        json!({"JobId": id}),
    );
    assert_eq!(got["JobStatus"], 1);
    assert_eq!(
        got["Status"],
        json!([{"Region": "cn-beijing", "Status": 1}])
    );
    assert_eq!(got["Attempt"], 1);
    assert_eq!(got["Delivered"], 5);
    assert!(got.get("FailureReason").is_none(), "{got}");
    // The lease runs out at 07:06:00; the next due time is the deadline, a day after creation.
    let handled = h.ok("2021-05-27T07:06:00Z", "HandleTimeouts", json!({}));
    assert_eq!(handled["LeasesExpired"], 1);
    assert_eq!(handled["JobsFailed"], 0);
    assert_time(&handled["NextTimeout"], "2021-05-28T07:00:00Z");
    let got = h.ok(
        "2021-05-27T07:06:01Z",
        "GetDeliveryHistoryJob",
        json!({"JobId": id}),
    );
    assert_eq!(
        got["Status"],
        json!([{"Region": "cn-beijing", "Status": 0}])
    );
    assert_eq!(got["JobStatus"], 1);
    // Retry after 60 s, from the lease end.
    let none = h.ok("2021-05-27T07:06:59Z", "ClaimDeliveryHistoryJob", json!({}));
    assert_eq!(none.get("JobId"), Some(&Value::Null), "{none}");
    let second = h.ok(
        "2021-05-27T07:07:00Z",
        "ClaimDeliveryHistoryJob",
        json!({"JobId": id}),
    );
    assert_eq!(second["Attempt"], 2);
    assert_time(&second["LeaseExpiresAt"], "2021-05-27T07:12:00Z");
    let finish = json!({"JobId": id, "Attempt": 2, "Outcome": "Failed"});
    let done = h.ok(
        "2021-05-27T07:08:00Z",
        "FinishDeliveryHistoryJob",
        finish.clone(),
    );
    assert_eq!(done["Changed"], true);
    let retried = h.ok("2021-05-27T07:08:01Z", "FinishDeliveryHistoryJob", finish);
    assert_eq!(retried["Changed"], false);
    let got = h.ok(
        "2021-05-27T07:08:02Z",
        "GetDeliveryHistoryJob",
        json!({"JobId": id}),
    );
    assert_eq!(got["JobStatus"], 3);
    assert_eq!(got["FailureReason"], "Reported");
    assert_eq!(
        got["Status"],
        json!([{"Region": "cn-beijing", "Status": 3}])
    );
    let stop = h.ok(
        "2021-05-27T07:08:03Z",
        "StopDeliveryHistoryJob",
        json!({"JobId": id}),
    );
    assert_eq!(stop["Changed"], false);
    let handled = h.ok("2021-05-27T07:08:04Z", "HandleTimeouts", json!({}));
    assert_eq!(handled["LeasesExpired"], 0);
    assert_eq!(handled["JobsFailed"], 0);
    assert_eq!(handled.get("NextTimeout"), Some(&Value::Null), "{handled}");
    // The list items have no Status.
    let list = h.ok("2021-05-27T07:08:05Z", "ListDeliveryHistoryJobs", json!({}));
    let items = list["DeliveryHistoryJobs"].as_array().expect("a list");
    assert_eq!(items.len(), 1);
    assert!(items[0].get("Status").is_none(), "{list}");
}

#[test]
fn stop_and_the_last_attempt_through_the_tool() {
    let mut h = Host::new();
    let first = h.job("2021-05-27T07:00:00Z");
    let got = h.ok(
        "2021-05-27T07:00:01Z",
        "GetDeliveryHistoryJob",
        json!({"JobId": first}),
    );
    assert_eq!(got["Status"], json!([]), "always present, possibly empty");
    assert_eq!(got["Attempt"], 0);
    assert_eq!(got["Delivered"], 0);
    let stop = h.ok(
        "2021-05-27T07:00:02Z",
        "StopDeliveryHistoryJob",
        json!({"JobId": first}),
    );
    assert_eq!(stop["Changed"], true);
    let got = h.ok(
        "2021-05-27T07:00:03Z",
        "GetDeliveryHistoryJob",
        json!({"JobId": first}),
    );
    assert_eq!(got["JobStatus"], 3);
    assert_eq!(got["FailureReason"], "Stopped");
    h.err(
        "2021-05-27T07:00:04Z",
        "StopDeliveryHistoryJob",
        json!({"JobId": first + 100}),
        404,
        "DeliveryHistoryJobNotFound",
    );
    // Three attempts (the default), each lease 300 s, backoffs 60 s then 120 s.
    let id = h.job("2021-05-27T08:00:00Z");
    let mut at = [
        "2021-05-27T08:00:00Z",
        "2021-05-27T08:06:00Z",
        "2021-05-27T08:13:00Z",
    ]
    .iter();
    let ends = [
        "2021-05-27T08:05:00Z",
        "2021-05-27T08:11:00Z",
        "2021-05-27T08:18:00Z",
    ];
    for (attempt, end) in (1..=3).zip(ends) {
        let claimed = h.ok(at.next().unwrap(), "ClaimDeliveryHistoryJob", json!({}));
        assert_eq!(
            (claimed["JobId"].as_u64(), claimed["Attempt"].as_u64()),
            (Some(id), Some(attempt))
        );
        assert_time(&claimed["LeaseExpiresAt"], end);
        let handled = h.ok(end, "HandleTimeouts", json!({}));
        assert_eq!(handled["LeasesExpired"], 1);
        assert_eq!(handled["JobsFailed"], u64::from(attempt == 3));
    }
    let got = h.ok(
        "2021-05-27T08:20:00Z",
        "GetDeliveryHistoryJob",
        json!({"JobId": id}),
    );
    assert_eq!(got["FailureReason"], "LeaseExpired");
    assert_eq!(got["Attempt"], 3);
    h.err(
        "2021-05-27T08:20:01Z",
        "FinishDeliveryHistoryJob",
        json!({"JobId": id, "Attempt": 3, "Outcome": "Completed"}),
        409,
        "DeliveryHistoryJobLeaseLost",
    );
}

#[test]
fn worker_actions_check_their_parameters() {
    let mut h = Host::new();
    let id = h.job("2021-05-27T07:00:00Z");
    h.ok("2021-05-27T07:00:01Z", "ClaimDeliveryHistoryJob", json!({}));
    let bad = |h: &mut Host, action: &str, extra: Value| {
        let answer = h.ask("2021-05-27T07:00:02Z", ACCOUNT, action, extra);
        assert_eq!(answer["HttpStatus"], 400, "{action}: {answer}");
        let code = answer["Code"].as_str().unwrap_or_default().to_owned();
        assert!(
            code == "MissingParameter" || code == "InvalidParameterValue",
            "{action}: {answer}"
        );
    };
    bad(&mut h, "HeartbeatDeliveryHistoryJob", json!({"JobId": id}));
    bad(&mut h, "HeartbeatDeliveryHistoryJob", json!({"Attempt": 1}));
    bad(
        &mut h,
        "FinishDeliveryHistoryJob",
        json!({"JobId": id, "Attempt": 1}),
    );
    bad(
        &mut h,
        "FinishDeliveryHistoryJob",
        json!({"JobId": id, "Attempt": 1, "Outcome": "Done"}),
    );
    bad(
        &mut h,
        "ReportDeliveryHistoryJobRegion",
        json!({"JobId": id, "Attempt": 1, "Region": "cn-beijing", "Status": 4}),
    );
    bad(
        &mut h,
        "ReportDeliveryHistoryJobRegion",
        json!({"JobId": id, "Attempt": 1, "Region": "CN_Beijing", "Status": 1}),
    );
    bad(&mut h, "StopDeliveryHistoryJob", json!({}));
    // None of them changed the job; Delivered defaults to 0 and never decreases.
    let beat = json!({"JobId": id, "Attempt": 1, "Delivered": 9});
    h.ok("2021-05-27T07:00:03Z", "HeartbeatDeliveryHistoryJob", beat);
    let beat = json!({"JobId": id, "Attempt": 1});
    let answer = h.ok("2021-05-27T07:00:04Z", "HeartbeatDeliveryHistoryJob", beat);
    assert_time(&answer["LeaseExpiresAt"], "2021-05-27T07:05:04Z");
    let got = h.ok(
        "2021-05-27T07:00:05Z",
        "GetDeliveryHistoryJob",
        json!({"JobId": id}),
    );
    assert_eq!(got["Delivered"], 9);
    assert_eq!(got["Status"], json!([]));
    assert_eq!(got["Attempt"], 1);
    assert_eq!(got["JobStatus"], 1);
    // Another account's job: not found, for every worker action.
    for (action, extra) in [
        ("ClaimDeliveryHistoryJob", json!({"JobId": id})),
        (
            "HeartbeatDeliveryHistoryJob",
            json!({"JobId": id, "Attempt": 1}),
        ),
        ("StopDeliveryHistoryJob", json!({"JobId": id})),
        (
            "FinishDeliveryHistoryJob",
            json!({"JobId": id, "Attempt": 1, "Outcome": "Completed"}),
        ),
    ] {
        let answer = h.ask("2021-05-27T07:00:06Z", 8, action, extra);
        assert_eq!(
            answer["Code"], "DeliveryHistoryJobNotFound",
            "{action}: {answer}"
        );
        assert_eq!(answer["HttpStatus"], 404);
    }
}
