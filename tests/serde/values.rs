//! Value types: every public type round-trips, and strings are validated while deserializing.

use super::*;

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
pub(crate) fn parse_all_ways<T: DeserializeOwned + Debug>(text: &str) -> [Result<T, ()>; 4] {
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

pub(crate) fn assert_parses<T: DeserializeOwned + Debug + PartialEq>(text: &str, expected: &T) {
    for (i, r) in parse_all_ways::<T>(text).into_iter().enumerate() {
        assert_eq!(r.as_ref(), Ok(expected), "{text:?} way {i}");
    }
}

pub(crate) fn assert_rejected<T: DeserializeOwned + Debug>(text: &str) {
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
