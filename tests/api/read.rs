//! Reading requests: every action from text parameters, and every refusal.

use super::*;

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
