//! The `api` module: every action read from text parameters, every refusal of a request, every
//! answer shape written as valid JSON, and none of it allocating.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt::Write;

use serde_json::{Value, json};
use trail_backfill::api::{
    Action, ApiError, ApiRequest, Caller, ParameterType, Reply, parse_request, respond,
};
use trail_backfill::{
    AccountId, ClientToken, Command, Config, CreateJob, Effect, Error, JobCreated, JobId,
    JobOutcome, JobScheduler, JobStatus, Lease, Parameter, Region, TimeoutReport, Timestamp,
    TrailKind, TrailName, TrailSpec, Transition,
};

// ---------------------------------------------------------------------------------------------
// A counting allocator, as in tests/no_alloc.rs: per thread, only while watched.

struct CountingAllocator;

thread_local! {
    static WATCHED: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn note_allocation() {
    if WATCHED.try_with(Cell::get).unwrap_or(false) {
        let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
    }
}

// SAFETY: every method forwards to the system allocator unchanged; counting touches only
// const-initialized thread-locals, which do not allocate.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn allocations_during(body: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    WATCHED.with(|watched| watched.set(true));
    body();
    WATCHED.with(|watched| watched.set(false));
    ALLOCATIONS.with(Cell::get) - before
}

/// A fixed buffer that is a `fmt::Write`, for writing with no allocation.
struct Buffer {
    bytes: [u8; 2048],
    len: usize,
}

impl Buffer {
    fn new() -> Buffer {
        Buffer {
            bytes: [0; 2048],
            len: 0,
        }
    }
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).expect("UTF-8")
    }
}

impl Write for Buffer {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        self.bytes
            .get_mut(self.len..end)
            .ok_or(std::fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Reading requests

const ACCOUNT: AccountId = AccountId(1512666876910001);

fn hangzhou() -> Region {
    Region::new("cn-hangzhou").unwrap()
}

fn name(text: &str) -> TrailName {
    TrailName::new(text).unwrap()
}

/// Parses with the account and region as parameters (as the replay tool's lines carry them).
fn parse(action: &str, params: &[(&str, &str)]) -> Result<ApiRequest, ApiError<'static>> {
    let mut all = vec![
        ("AccountId", "1512666876910001"),
        ("RegionId", "cn-hangzhou"),
    ];
    all.extend_from_slice(params);
    let action = Action::from_name(action).map_err(|_| ApiError::InvalidParameter("Action"))?;
    parse_request(action, all.into_iter(), &Caller::default())
}

fn command(action: &str, params: &[(&str, &str)]) -> Command {
    match parse(action, params) {
        Ok(ApiRequest::Command(command)) => command,
        other => panic!("{action}: {other:?}"),
    }
}

fn lease(job: u64, attempt: u32) -> Lease {
    Lease {
        account: ACCOUNT,
        job: JobId(job),
        attempt,
        expires_at: Timestamp(0),
    }
}

#[test]
fn every_action_is_read_from_text_parameters() {
    let trail = [("Name", "trail-name")];
    assert_eq!(
        command(
            "CreateTrail",
            &[("Name", "trail-name"), ("SlsProjectArn", "acs:log:p")]
        ),
        Command::CreateTrail {
            account: ACCOUNT,
            region: hangzhou(),
            spec: TrailSpec {
                name: name("trail-name"),
                kind: TrailKind::SingleAccount,
                delivers_to_sls: true,
            },
        }
    );
    assert_eq!(
        command("DeleteTrail", &trail),
        Command::DeleteTrail {
            account: ACCOUNT,
            region: hangzhou(),
            name: name("trail-name")
        }
    );
    assert_eq!(
        command("StartLogging", &trail),
        Command::StartLogging {
            account: ACCOUNT,
            region: hangzhou(),
            name: name("trail-name")
        }
    );
    assert_eq!(
        command("StopLogging", &trail),
        Command::StopLogging {
            account: ACCOUNT,
            region: hangzhou(),
            name: name("trail-name")
        }
    );
    assert_eq!(
        command(
            "CreateDeliveryHistoryJob",
            &[("TrailName", "trail-name"), ("ClientToken", "a\"b\\c")]
        ),
        Command::CreateJob(CreateJob {
            account: ACCOUNT,
            region: hangzhou(),
            trail_name: name("trail-name"),
            client_token: Some(ClientToken::new("a\"b\\c").unwrap()),
        })
    );
    assert_eq!(
        command("CreateDeliveryHistoryJob", &[("TrailName", "trail-name")]),
        Command::CreateJob(CreateJob {
            account: ACCOUNT,
            region: hangzhou(),
            trail_name: name("trail-name"),
            client_token: None,
        })
    );
    assert_eq!(
        parse("GetDeliveryHistoryJob", &[("JobId", "16602")]),
        Ok(ApiRequest::GetJob {
            account: ACCOUNT,
            job: JobId(16602)
        })
    );
    assert_eq!(
        parse("ListDeliveryHistoryJobs", &[]),
        Ok(ApiRequest::ListJobs {
            account: ACCOUNT,
            page_number: 1,
            page_size: 20
        })
    );
    assert_eq!(
        parse(
            "ListDeliveryHistoryJobs",
            &[("PageNumber", "3"), ("PageSize", "100")]
        ),
        Ok(ApiRequest::ListJobs {
            account: ACCOUNT,
            page_number: 3,
            page_size: 100
        })
    );
    let job = [("JobId", "16602")];
    let on_job = |make: fn(AccountId, JobId) -> Command| make(ACCOUNT, JobId(16602));
    assert_eq!(
        command("DeleteDeliveryHistoryJob", &job),
        on_job(|account, job| Command::DeleteJob { account, job })
    );
    assert_eq!(
        command("StartDeliveryHistoryJob", &job),
        on_job(|account, job| Command::StartJob { account, job })
    );
    assert_eq!(
        command(
            "CompleteDeliveryHistoryJob",
            &[("JobId", "16602"), ("Outcome", "Failed")]
        ),
        Command::CompleteJob {
            account: ACCOUNT,
            job: JobId(16602),
            outcome: JobOutcome::Failed
        }
    );
    assert_eq!(
        command("ClaimDeliveryHistoryJob", &job),
        on_job(|account, job| Command::ClaimJob { account, job })
    );
    assert_eq!(command("ClaimDeliveryHistoryJob", &[]), Command::ClaimNext);
    assert_eq!(
        command(
            "HeartbeatDeliveryHistoryJob",
            &[("JobId", "16602"), ("Attempt", "2"), ("Delivered", "1200")]
        ),
        Command::Heartbeat {
            lease: lease(16602, 2),
            delivered: 1200
        }
    );
    assert_eq!(
        command(
            "HeartbeatDeliveryHistoryJob",
            &[("JobId", "16602"), ("Attempt", "2")]
        ),
        Command::Heartbeat {
            lease: lease(16602, 2),
            delivered: 0
        }
    );
    assert_eq!(
        command(
            "ReportDeliveryHistoryJobRegion",
            &[
                ("JobId", "16602"),
                ("Attempt", "1"),
                ("Region", "cn-shanghai"),
                ("Status", "2")
            ]
        ),
        Command::ReportRegion {
            lease: lease(16602, 1),
            region: Region::new("cn-shanghai").unwrap(),
            status: JobStatus::Completed
        }
    );
    assert_eq!(
        command(
            "FinishDeliveryHistoryJob",
            &[
                ("JobId", "16602"),
                ("Attempt", "1"),
                ("Outcome", "Completed")
            ]
        ),
        Command::FinishJob {
            lease: lease(16602, 1),
            outcome: JobOutcome::Completed
        }
    );
    assert_eq!(
        command("StopDeliveryHistoryJob", &job),
        on_job(|account, job| Command::StopJob { account, job })
    );
    assert_eq!(command("HandleTimeouts", &[]), Command::HandleTimeout);

    // Every action has a name that reads back, and parameters the action reads.
    for action in Action::ALL {
        assert_eq!(Action::from_name(action.name()), Ok(action));
        let params = action.parameters();
        assert_eq!(
            params[..2],
            [
                ("AccountId", ParameterType::Integer),
                ("RegionId", ParameterType::Text)
            ]
        );
    }
}

#[test]
fn booleans_are_read_in_any_case() {
    for (text, kind) in [
        ("true", TrailKind::Organization),
        ("True", TrailKind::Organization),
        ("TRUE", TrailKind::Organization),
        ("false", TrailKind::SingleAccount),
        ("False", TrailKind::SingleAccount),
        ("FALSE", TrailKind::SingleAccount),
    ] {
        let Command::CreateTrail { spec, .. } = command(
            "CreateTrail",
            &[("Name", "trail-name"), ("IsOrganizationTrail", text)],
        ) else {
            panic!("{text}")
        };
        assert_eq!(spec.kind, kind, "{text}");
        assert!(!spec.delivers_to_sls);
    }
    for bad in ["yes", "1", "", "truee"] {
        assert_eq!(
            parse(
                "CreateTrail",
                &[("Name", "trail-name"), ("IsOrganizationTrail", bad)]
            ),
            Err(ApiError::InvalidParameter("IsOrganizationTrail")),
            "{bad}"
        );
    }
}

#[test]
fn the_caller_supplies_the_account_and_the_default_region() {
    let shanghai = Region::new("cn-shanghai").unwrap();
    let caller = Caller {
        account: Some(AccountId(7)),
        default_region: Some(&shanghai),
    };
    // The signature's account wins over any AccountId parameter; the endpoint's region is the
    // default, a RegionId parameter overrides it.
    let params = [("AccountId", "8"), ("Name", "trail-name")];
    let request = parse_request(Action::StartLogging, params.into_iter(), &caller);
    assert_eq!(
        request,
        Ok(ApiRequest::Command(Command::StartLogging {
            account: AccountId(7),
            region: shanghai.clone(),
            name: name("trail-name")
        }))
    );
    let params = [("RegionId", "cn-hangzhou"), ("Name", "trail-name")];
    let Ok(ApiRequest::Command(Command::StartLogging { region, .. })) =
        parse_request(Action::StartLogging, params.into_iter(), &caller)
    else {
        panic!()
    };
    assert_eq!(region, hangzhou());

    let nobody = Caller::default();
    let params = [("Name", "trail-name")];
    assert_eq!(
        parse_request(Action::StartLogging, params.into_iter(), &nobody),
        Err(ApiError::MissingParameter("AccountId"))
    );
    let params = [("AccountId", "7"), ("Name", "trail-name")];
    assert_eq!(
        parse_request(Action::StartLogging, params.into_iter(), &nobody),
        Err(ApiError::MissingParameter("RegionId"))
    );
}

/// An action, its parameters, and the refusal they get.
type Refusal = (
    &'static str,
    &'static [(&'static str, &'static str)],
    ApiError<'static>,
);

#[test]
fn missing_invalid_and_repeated_parameters_and_unknown_actions_are_refused() {
    use ApiError::{InvalidParameter, MissingParameter, RepeatedParameter, Scheduler};
    let cases: &[Refusal] = &[
        ("CreateTrail", &[], MissingParameter("Name")),
        (
            "CreateTrail",
            &[("Name", "Trail")],
            Scheduler(Error::InvalidTrailName),
        ),
        (
            "CreateDeliveryHistoryJob",
            &[],
            MissingParameter("TrailName"),
        ),
        (
            "CreateDeliveryHistoryJob",
            &[("TrailName", "trail-name"), ("ClientToken", "tök")],
            Scheduler(Error::InvalidParameterValue(Parameter::ClientToken)),
        ),
        (
            "CreateDeliveryHistoryJob",
            &[("TrailName", "trail-name"), ("TrailName", "trail-name")],
            RepeatedParameter("TrailName"),
        ),
        ("GetDeliveryHistoryJob", &[], MissingParameter("JobId")),
        (
            "GetDeliveryHistoryJob",
            &[("JobId", "-1")],
            InvalidParameter("JobId"),
        ),
        (
            "GetDeliveryHistoryJob",
            &[("JobId", "+1")],
            InvalidParameter("JobId"),
        ),
        (
            "GetDeliveryHistoryJob",
            &[("JobId", "")],
            InvalidParameter("JobId"),
        ),
        (
            "GetDeliveryHistoryJob",
            &[("JobId", "1.5")],
            InvalidParameter("JobId"),
        ),
        (
            "GetDeliveryHistoryJob",
            &[("JobId", "18446744073709551616")],
            InvalidParameter("JobId"),
        ),
        (
            "ListDeliveryHistoryJobs",
            &[("PageSize", "4294967296")],
            Scheduler(Error::InvalidParameterValue(Parameter::PageSize)),
        ),
        (
            "ListDeliveryHistoryJobs",
            &[("PageNumber", "x")],
            Scheduler(Error::InvalidParameterValue(Parameter::PageNumber)),
        ),
        (
            "CompleteDeliveryHistoryJob",
            &[("JobId", "1"), ("Outcome", "Done")],
            InvalidParameter("Outcome"),
        ),
        (
            "CompleteDeliveryHistoryJob",
            &[("JobId", "1")],
            MissingParameter("Outcome"),
        ),
        (
            "ClaimDeliveryHistoryJob",
            &[("JobId", "1"), ("JobId", "1")],
            RepeatedParameter("JobId"),
        ),
        (
            "HeartbeatDeliveryHistoryJob",
            &[("JobId", "1")],
            MissingParameter("Attempt"),
        ),
        (
            "HeartbeatDeliveryHistoryJob",
            &[("JobId", "1"), ("Attempt", "4294967296")],
            InvalidParameter("Attempt"),
        ),
        (
            "HeartbeatDeliveryHistoryJob",
            &[("JobId", "1"), ("Attempt", "1"), ("Delivered", "-5")],
            InvalidParameter("Delivered"),
        ),
        (
            "ReportDeliveryHistoryJobRegion",
            &[
                ("JobId", "1"),
                ("Attempt", "1"),
                ("Region", "CN_Hangzhou"),
                ("Status", "1"),
            ],
            InvalidParameter("Region"),
        ),
        (
            "ReportDeliveryHistoryJobRegion",
            &[
                ("JobId", "1"),
                ("Attempt", "1"),
                ("Region", "cn-hangzhou"),
                ("Status", "4"),
            ],
            InvalidParameter("Status"),
        ),
        (
            "FinishDeliveryHistoryJob",
            &[("JobId", "1"), ("Attempt", "1"), ("Outcome", "completed")],
            InvalidParameter("Outcome"),
        ),
        ("StopDeliveryHistoryJob", &[], MissingParameter("JobId")),
    ];
    for (action, params, expected) in cases {
        assert_eq!(parse(action, params), Err(*expected), "{action} {params:?}");
    }
    // The common parameters, checked first.
    let params = [
        ("AccountId", "x"),
        ("RegionId", "cn-hangzhou"),
        ("Name", "Trail"),
    ];
    assert_eq!(
        parse_request(Action::StartLogging, params.into_iter(), &Caller::default()),
        Err(InvalidParameter("AccountId"))
    );
    let params = [("AccountId", "7"), ("RegionId", "CN_Hangzhou")];
    assert_eq!(
        parse_request(
            Action::HandleTimeouts,
            params.into_iter(),
            &Caller::default()
        ),
        Err(Scheduler(Error::InvalidParameterValue(Parameter::Region)))
    );
    let params = [
        ("AccountId", "7"),
        ("AccountId", "8"),
        ("RegionId", "cn-hangzhou"),
    ];
    assert_eq!(
        parse_request(
            Action::HandleTimeouts,
            params.into_iter(),
            &Caller::default()
        ),
        Err(RepeatedParameter("AccountId"))
    );
    // Parameters the action does not read are ignored, repeated or not.
    assert_eq!(
        command("HandleTimeouts", &[("JobId", "x"), ("JobId", "y")]),
        Command::HandleTimeout
    );

    let unknown = Action::from_name("DescribeTrails");
    assert_eq!(unknown, Err(ApiError::UnknownAction("DescribeTrails")));
    let error = unknown.unwrap_err();
    assert_eq!(
        (error.code(), error.http_status()),
        ("InvalidAction.NotFound", 404)
    );
    assert_eq!(
        Action::from_name("createtrail"),
        Err(ApiError::UnknownAction("createtrail"))
    );

    // Codes, statuses and messages.
    for (error, code, status, message) in [
        (
            MissingParameter("JobId"),
            "MissingParameter",
            400,
            "\"JobId\"",
        ),
        (
            InvalidParameter("JobId"),
            "InvalidParameterValue",
            400,
            "parameter JobId ",
        ),
        (
            RepeatedParameter("JobId"),
            "InvalidParameterValue",
            400,
            "more than once",
        ),
        (
            ApiError::MalformedRequest("Not JSON."),
            "InvalidParameterValue",
            400,
            "Not JSON.",
        ),
        (
            Scheduler(Error::TrailNotFound),
            "TrailNotFoundException",
            404,
            "Trail does not exist",
        ),
    ] {
        assert_eq!(
            (error.code(), error.http_status()),
            (code, status),
            "{error:?}"
        );
        assert!(error.to_string().contains(message), "{error}");
    }
    assert_eq!(
        ApiError::invalid_value("TrailName"),
        Scheduler(Error::InvalidTrailName)
    );
    assert_eq!(
        ApiError::invalid_value("Attempt"),
        InvalidParameter("Attempt")
    );
}

// ---------------------------------------------------------------------------------------------
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
