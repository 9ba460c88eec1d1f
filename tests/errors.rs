//! Contract tests for SPEC section 4: every `Error` variant's `code()`, `http_status()` and
//! `Display`, and the `core::error::Error` impl.

use std::collections::HashSet;

use trail_backfill::*;

fn all_errors() -> Vec<Error> {
    vec![
        Error::InvalidTrailName,
        Error::InvalidParameterValue(Parameter::Region),
        Error::InvalidParameterValue(Parameter::ClientToken),
        Error::InvalidParameterValue(Parameter::PageNumber),
        Error::InvalidParameterValue(Parameter::PageSize),
        Error::TrailAlreadyExists,
        Error::TrailLimitExceeded,
        Error::TrailNotFound,
        Error::TrailNotEligible(Ineligibility::OrganizationTrail),
        Error::TrailNotEligible(Ineligibility::NoSlsDelivery),
        Error::TrailNotEligible(Ineligibility::NotLogging),
        Error::JobAlreadyRunning { active: JobId(42) },
        Error::IdempotentParameterMismatch,
        Error::JobNotFound,
        Error::InvalidJobStatus {
            status: JobStatus::Completed,
        },
        Error::InvalidJobStatus {
            status: JobStatus::Failed,
        },
        Error::JobNotFinished,
        Error::CapacityExhausted(Table::Trails),
        Error::CapacityExhausted(Table::Jobs),
    ]
}

fn expected(e: &Error) -> (&'static str, u16) {
    match e {
        Error::InvalidTrailName => ("InvalidTrailNameException", 400),
        Error::InvalidParameterValue(_) => ("InvalidParameterValue", 400),
        Error::TrailAlreadyExists => ("TrailAlreadyExistsException", 400),
        Error::TrailLimitExceeded => ("MaximumNumberOfTrailsExceededException", 403),
        Error::TrailNotFound => ("TrailNotFoundException", 404),
        Error::TrailNotEligible(_) => ("TrailNotEligibleException", 400),
        Error::JobAlreadyRunning { .. } => ("DeliveryHistoryJobAlreadyRunning", 409),
        Error::IdempotentParameterMismatch => ("IdempotentParameterMismatch", 400),
        Error::JobNotFound => ("DeliveryHistoryJobNotFound", 404),
        Error::InvalidJobStatus { .. } => ("InvalidDeliveryHistoryJobStatus", 409),
        Error::JobNotFinished => ("DeliveryHistoryJobNotFinished", 409),
        Error::CapacityExhausted(_) => ("ServiceUnavailable", 503),
        other => panic!("variant not in SPEC section 4: {other:?}"),
    }
}

fn squash(s: &str) -> std::string::String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[test]
fn codes_match_the_api_table() {
    for e in all_errors() {
        let (code, _) = expected(&e);
        assert_eq!(e.code(), code, "{e:?}");
    }
}

#[test]
fn http_statuses_match_the_api_table() {
    for e in all_errors() {
        let (_, status) = expected(&e);
        assert_eq!(e.http_status(), status, "{e:?}");
    }
}

#[test]
fn individual_codes_spelled_out() {
    // Spelled out once more without the table helper, so a typo in both cannot hide.
    assert_eq!(Error::TrailNotFound.code(), "TrailNotFoundException");
    assert_eq!(Error::TrailNotFound.http_status(), 404);
    assert_eq!(
        Error::CapacityExhausted(Table::Jobs).code(),
        "ServiceUnavailable"
    );
    assert_eq!(Error::CapacityExhausted(Table::Trails).http_status(), 503);
    assert_eq!(
        Error::TrailLimitExceeded.code(),
        "MaximumNumberOfTrailsExceededException"
    );
    assert_eq!(Error::TrailLimitExceeded.http_status(), 403);
    assert_eq!(
        Error::JobAlreadyRunning { active: JobId(1) }.http_status(),
        409
    );
}

#[test]
fn trail_not_found_message_is_the_api_wording() {
    assert_eq!(
        Error::TrailNotFound.to_string(),
        "The specified Trail does not exist."
    );
}

#[test]
fn capacity_exhausted_message_is_the_api_wording_for_both_tables() {
    for t in [Table::Trails, Table::Jobs] {
        assert_eq!(
            Error::CapacityExhausted(t).to_string(),
            "The service is unavailable. Please try again later."
        );
    }
}

#[test]
fn invalid_trail_name_message_is_the_spec_wording() {
    assert_eq!(
        Error::InvalidTrailName.to_string(),
        "The specified trail name is invalid."
    );
}

#[test]
fn every_message_is_a_non_empty_single_line() {
    for e in all_errors() {
        let msg = e.to_string();
        assert!(!msg.trim().is_empty(), "{e:?} has an empty message");
        assert!(!msg.contains('\n'), "{e:?}: {msg:?} spans lines");
    }
}

#[test]
fn invalid_parameter_value_names_the_parameter() {
    let cases = [
        (Parameter::Region, "region"),
        (Parameter::ClientToken, "clienttoken"),
        (Parameter::PageNumber, "pagenumber"),
        (Parameter::PageSize, "pagesize"),
    ];
    let mut seen = HashSet::new();
    for (p, word) in cases {
        let msg = Error::InvalidParameterValue(p).to_string();
        assert!(
            squash(&msg).contains(word),
            "{p:?}: message {msg:?} does not name the parameter"
        );
        assert!(seen.insert(msg), "{p:?} shares its message");
    }
}

#[test]
fn trail_not_eligible_says_why() {
    let msgs: HashSet<_> = [
        Ineligibility::OrganizationTrail,
        Ineligibility::NoSlsDelivery,
        Ineligibility::NotLogging,
    ]
    .into_iter()
    .map(|r| Error::TrailNotEligible(r).to_string())
    .collect();
    assert_eq!(msgs.len(), 3, "each reason has its own message: {msgs:?}");
}

#[test]
fn distinct_variants_have_distinct_messages() {
    let unit = [
        Error::InvalidTrailName,
        Error::TrailAlreadyExists,
        Error::TrailLimitExceeded,
        Error::TrailNotFound,
        Error::IdempotentParameterMismatch,
        Error::JobNotFound,
        Error::JobNotFinished,
        Error::CapacityExhausted(Table::Jobs),
    ];
    let msgs: HashSet<_> = unit.iter().map(|e| e.to_string()).collect();
    assert_eq!(msgs.len(), unit.len());
}

#[test]
fn implements_core_error() {
    fn takes(e: &dyn core::error::Error) -> std::string::String {
        e.to_string()
    }
    for e in all_errors() {
        assert_eq!(takes(&e), e.to_string());
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(e);
        assert_eq!(boxed.to_string(), e.to_string());
    }
}

#[test]
fn question_mark_converts_into_boxed_error() {
    fn parse() -> Result<TrailName, Box<dyn std::error::Error>> {
        Ok(TrailName::new("BAD")?)
    }
    let err = parse().unwrap_err();
    assert_eq!(err.to_string(), Error::InvalidTrailName.to_string());
}

#[test]
fn error_is_copy_and_compares_by_payload() {
    let a = Error::JobAlreadyRunning { active: JobId(1) };
    let b = a;
    assert_eq!(a, b);
    assert_ne!(a, Error::JobAlreadyRunning { active: JobId(2) });
    assert_ne!(
        Error::CapacityExhausted(Table::Jobs),
        Error::CapacityExhausted(Table::Trails)
    );
    assert_ne!(
        Error::InvalidJobStatus {
            status: JobStatus::Completed
        },
        Error::InvalidJobStatus {
            status: JobStatus::Failed
        }
    );
}

#[test]
fn errors_round_trip_through_serde() {
    for e in all_errors() {
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<Error>(&json).unwrap(), e, "{json}");
        let bytes = postcard::to_allocvec(&e).unwrap();
        assert_eq!(postcard::from_bytes::<Error>(&bytes).unwrap(), e);
    }
}
