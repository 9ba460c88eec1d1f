//! Contract tests for the value types of SPEC section 1: `Region`, `TrailName`,
//! `ClientToken`, `Timestamp` (ISO-8601 `Display`), `JobStatus` codes and the derives.

use std::collections::HashSet;
use std::hash::Hash;

use trail_backfill::*;

fn region_err() -> Error {
    Error::InvalidParameterValue(Parameter::Region)
}

fn token_err() -> Error {
    Error::InvalidParameterValue(Parameter::ClientToken)
}

fn iso(secs: u64) -> std::string::String {
    Timestamp(secs).to_string()
}

// ---------------------------------------------------------------- Region

#[test]
fn region_accepts_real_region_ids() {
    for s in ["cn-hangzhou", "ap-southeast-1", "us-west-1", "eu-central-1"] {
        let r = Region::new(s).unwrap();
        assert_eq!(r.as_str(), s);
        assert_eq!(r.to_string(), s);
    }
}

#[test]
fn region_length_bounds_are_1_and_32() {
    assert_eq!(Region::new(""), Err(region_err()));
    assert_eq!(Region::new("a").unwrap().as_str(), "a");
    let max = "a".repeat(32);
    assert_eq!(Region::new(&max).unwrap().as_str(), max);
    assert_eq!(Region::new(&"a".repeat(33)), Err(region_err()));
    assert_eq!(Region::new(&"a".repeat(1000)), Err(region_err()));
}

#[test]
fn region_allows_lowercase_digits_and_dash_anywhere() {
    for s in [
        "-",
        "0",
        "123",
        "-cn-",
        "9-z",
        "abcdefghijklmnopqrstuvwxyz-01234",
    ] {
        assert_eq!(Region::new(s).unwrap().as_str(), s, "{s:?} is valid");
    }
}

#[test]
fn region_rejects_other_characters() {
    for s in [
        "CN-hangzhou",
        "cn_hangzhou",
        "cn hangzhou",
        "cn.hangzhou",
        "cn-hangzhou\n",
        " cn",
        "é",
        "cn-杭州",
        "cn/x",
        "\0",
    ] {
        assert_eq!(Region::new(s), Err(region_err()), "{s:?} is invalid");
    }
}

#[test]
fn region_rejects_multibyte_within_32_bytes_worth_of_chars() {
    // 31 ASCII chars + one 2-byte char: 32 chars, but not of the allowed set.
    let s = format!("{}é", "a".repeat(31));
    assert_eq!(Region::new(&s), Err(region_err()));
}

// ---------------------------------------------------------------- TrailName

#[test]
fn trail_name_length_bounds_are_6_and_36() {
    assert_eq!(TrailName::new("abcde"), Err(Error::InvalidTrailName));
    assert_eq!(TrailName::new("abcdef").unwrap().as_str(), "abcdef");
    let max = format!("a{}", "b".repeat(35));
    assert_eq!(max.len(), 36);
    assert_eq!(TrailName::new(&max).unwrap().as_str(), max);
    let too_long = format!("a{}", "b".repeat(36));
    assert_eq!(TrailName::new(&too_long), Err(Error::InvalidTrailName));
    assert_eq!(TrailName::new(""), Err(Error::InvalidTrailName));
    assert_eq!(TrailName::new("a"), Err(Error::InvalidTrailName));
}

#[test]
fn trail_name_first_char_must_be_lowercase_letter() {
    for s in [
        "1trail",
        "-trail",
        "_trail",
        "Atrail",
        " trail",
        "étrail",
        "Trail-name",
    ] {
        assert_eq!(TrailName::new(s), Err(Error::InvalidTrailName), "{s:?}");
    }
    for s in [
        "atrail",
        "ztrail",
        "trail-name",
        "a12345",
        "a-----",
        "a_____",
    ] {
        assert_eq!(TrailName::new(s).unwrap().as_str(), s, "{s:?}");
    }
}

#[test]
fn trail_name_rest_allows_lowercase_digits_dash_underscore_only() {
    assert!(TrailName::new("abc-def_ghi-0123456789").is_ok());
    assert!(TrailName::new("a-z_09").is_ok());
    for s in [
        "trail.name",
        "trail name",
        "trailName",
        "trail/name",
        "trail-nam\u{e9}",
        "trail+name",
        "trail-name\n",
        "trail\0name",
    ] {
        assert_eq!(TrailName::new(s), Err(Error::InvalidTrailName), "{s:?}");
    }
}

#[test]
fn trail_name_display_and_as_str_agree() {
    let n = TrailName::new("trail-name").unwrap();
    assert_eq!(n.as_str(), "trail-name");
    assert_eq!(n.to_string(), "trail-name");
}

// ---------------------------------------------------------------- ClientToken

#[test]
fn client_token_length_bounds_are_1_and_64() {
    assert_eq!(ClientToken::new(""), Err(token_err()));
    assert_eq!(ClientToken::new("x").unwrap().as_str(), "x");
    let max = "t".repeat(64);
    assert_eq!(ClientToken::new(&max).unwrap().as_str(), max);
    assert_eq!(ClientToken::new(&"t".repeat(65)), Err(token_err()));
}

#[test]
fn client_token_accepts_every_printable_ascii_char() {
    let all: std::string::String = (0x20u8..=0x7E).map(char::from).collect();
    assert_eq!(all.len(), 95);
    let (a, b) = all.split_at(64);
    assert_eq!(ClientToken::new(a).unwrap().as_str(), a);
    assert_eq!(ClientToken::new(b).unwrap().as_str(), b);
    for c in 0x20u8..=0x7E {
        let s = std::string::String::from(char::from(c));
        assert_eq!(ClientToken::new(&s).unwrap().as_str(), s, "byte {c:#x}");
    }
    // The API example.
    assert!(ClientToken::new("123e4567-e89b-12d3-a456-42665544****").is_ok());
    // A token of spaces only is printable ASCII.
    assert!(ClientToken::new(" ").is_ok());
}

#[test]
fn client_token_rejects_control_and_non_ascii() {
    for c in (0x00u8..0x20).chain([0x7F]) {
        let s = format!("ok{}ok", char::from(c));
        assert_eq!(ClientToken::new(&s), Err(token_err()), "byte {c:#x}");
    }
    for s in ["caf\u{e9}", "\u{80}", "token-\u{4e2d}", "\u{1F600}"] {
        assert_eq!(ClientToken::new(s), Err(token_err()), "{s:?}");
    }
}

#[test]
fn client_token_is_case_sensitive() {
    let lower = ClientToken::new("abc-token").unwrap();
    let upper = ClientToken::new("ABC-TOKEN").unwrap();
    assert_ne!(lower, upper);
    assert_eq!(upper.as_str(), "ABC-TOKEN");
    assert_eq!(lower.to_string(), "abc-token");
    assert_eq!(lower, ClientToken::new("abc-token").unwrap());
}

// ---------------------------------------------------------------- Timestamp

#[test]
fn timestamp_epoch() {
    assert_eq!(iso(0), "1970-01-01T00:00:00Z");
    assert_eq!(iso(1), "1970-01-01T00:00:01Z");
    assert_eq!(iso(59), "1970-01-01T00:00:59Z");
    assert_eq!(iso(3_599), "1970-01-01T00:59:59Z");
    assert_eq!(iso(86_399), "1970-01-01T23:59:59Z");
    assert_eq!(iso(86_400), "1970-01-02T00:00:00Z");
}

#[test]
fn timestamp_api_example() {
    assert_eq!(iso(1_622_099_703), "2021-05-27T07:15:03Z");
    assert_eq!(iso(1_614_323_703), "2021-02-26T07:15:03Z");
}

#[test]
fn timestamp_leap_days() {
    assert_eq!(iso(68_212_800), "1972-02-29T12:00:00Z");
    assert_eq!(iso(1_582_934_399), "2020-02-28T23:59:59Z");
    assert_eq!(iso(1_582_934_400), "2020-02-29T00:00:00Z");
    assert_eq!(iso(1_709_168_523), "2024-02-29T01:02:03Z");
    // 2000 is a leap year (divisible by 400).
    assert_eq!(iso(951_868_799), "2000-02-29T23:59:59Z");
    assert_eq!(iso(951_868_800), "2000-03-01T00:00:00Z");
    // 2100 is not (divisible by 100, not by 400).
    assert_eq!(iso(4_107_542_399), "2100-02-28T23:59:59Z");
    assert_eq!(iso(4_107_542_400), "2100-03-01T00:00:00Z");
    // 2400 is.
    assert_eq!(iso(13_574_563_200), "2400-02-29T00:00:00Z");
    // Day 366 of a leap year, then new year.
    assert_eq!(iso(1_609_459_199), "2020-12-31T23:59:59Z");
    assert_eq!(iso(1_609_459_200), "2021-01-01T00:00:00Z");
    assert_eq!(iso(946_684_799), "1999-12-31T23:59:59Z");
}

#[test]
fn timestamp_year_9999_and_10000() {
    assert_eq!(iso(253_402_300_799), "9999-12-31T23:59:59Z");
    assert_eq!(iso(253_402_300_800), "10000-01-01T00:00:00Z");
}

#[test]
fn timestamp_u64_max() {
    assert_eq!(iso(u64::MAX), "584554051223-11-09T07:00:15Z");
    assert_eq!(iso(u64::MAX - 15), "584554051223-11-09T07:00:00Z");
}

#[test]
fn timestamp_display_works_through_format_args() {
    // Display must go through the formatter (no allocation needed by the caller either).
    let s = format!("[{}]", Timestamp(1_622_099_703));
    assert_eq!(s, "[2021-05-27T07:15:03Z]");
}

// ---------------------------------------------------------------- JobStatus and derives

#[test]
fn job_status_codes() {
    assert_eq!(JobStatus::Initializing as u8, 0);
    assert_eq!(JobStatus::Delivering as u8, 1);
    assert_eq!(JobStatus::Completed as u8, 2);
    assert_eq!(JobStatus::Failed as u8, 3);
}

#[test]
fn newtypes_expose_their_value() {
    assert_eq!(AccountId(7).0, 7);
    assert_eq!(JobId(16_602).0, 16_602);
    assert_eq!(Timestamp(5).0, 5);
    assert_ne!(AccountId(1), AccountId(2));
    assert_ne!(JobId(1), JobId(2));
    assert_ne!(Timestamp(1), Timestamp(2));
}

fn assert_copy<T: Copy>() {}
fn assert_hash<T: Hash + Eq>() {}
fn assert_ord<T: Ord>() {}
fn assert_common<T: std::fmt::Debug + Clone + PartialEq + Eq>() {}

#[test]
fn copy_types_listed_in_spec_are_copy() {
    assert_copy::<AccountId>();
    assert_copy::<JobId>();
    assert_copy::<Timestamp>();
    assert_copy::<JobStatus>();
    assert_copy::<JobOutcome>();
    assert_copy::<Transition>();
    assert_copy::<TrailKind>();
    assert_copy::<Ineligibility>();
    assert_copy::<Parameter>();
    assert_copy::<Table>();
    assert_copy::<Error>();
}

#[test]
fn common_derives_on_public_types() {
    assert_common::<AccountId>();
    assert_common::<Region>();
    assert_common::<TrailName>();
    assert_common::<ClientToken>();
    assert_common::<Timestamp>();
    assert_common::<JobId>();
    assert_common::<Config>();
    assert_common::<TrailSpec>();
    assert_common::<Trail>();
    assert_common::<Job>();
    assert_common::<CreateJob>();
    assert_common::<JobCreated>();
    assert_common::<Command>();
    assert_common::<Effect>();
    assert_common::<Stats>();
    assert_common::<Error>();
    assert_common::<JobScheduler<2, 2, 2>>();
    assert_common::<JobStatus>();
    assert_common::<JobOutcome>();
    assert_common::<Transition>();
    assert_common::<TrailKind>();
    assert_common::<Ineligibility>();
    assert_common::<Parameter>();
    assert_common::<Table>();
    assert_common::<InvariantViolation>();
    // JobPage borrows the scheduler; it is public too.
    fn common_value<T: std::fmt::Debug + Clone + PartialEq + Eq>(_: &T) {}
    let s = JobScheduler::<2, 2, 2>::new(Config::DEFAULT);
    let page = s.list_jobs(AccountId(1), 1, 1).unwrap();
    common_value(&page);
    assert_eq!(page.clone(), page);
    assert_eq!(page.total_count, 0);
}

#[test]
fn hashable_types_hash_consistently() {
    assert_hash::<AccountId>();
    assert_hash::<JobId>();
    assert_hash::<Timestamp>();
    assert_hash::<JobStatus>();
    assert_hash::<JobOutcome>();
    assert_hash::<Transition>();
    assert_hash::<TrailKind>();
    assert_hash::<Ineligibility>();
    assert_hash::<Parameter>();
    assert_hash::<Table>();
    assert_hash::<Region>();
    assert_hash::<TrailName>();
    assert_hash::<ClientToken>();
    assert_ord::<Region>();
    assert_ord::<TrailName>();
    assert_ord::<ClientToken>();

    let set: HashSet<ClientToken> = ["a", "A", "a"]
        .into_iter()
        .map(|s| ClientToken::new(s).unwrap())
        .collect();
    assert_eq!(set.len(), 2, "case-sensitive tokens hash apart");
    let ids: HashSet<JobId> = [JobId(1), JobId(2), JobId(1)].into_iter().collect();
    assert_eq!(ids.len(), 2);
    let statuses: HashSet<JobStatus> = [
        JobStatus::Initializing,
        JobStatus::Delivering,
        JobStatus::Completed,
        JobStatus::Failed,
    ]
    .into_iter()
    .collect();
    assert_eq!(statuses.len(), 4);
}

#[test]
fn string_types_order_like_their_text() {
    let a = TrailName::new("aaaaaa").unwrap();
    let b = TrailName::new("aaaaab").unwrap();
    assert!(a < b);
    let r1 = Region::new("ap-southeast-1").unwrap();
    let r2 = Region::new("cn-hangzhou").unwrap();
    assert!(r1 < r2);
}

#[test]
fn config_default_values() {
    let c = Config::DEFAULT;
    assert_eq!(c.token_ttl_secs, 86_400);
    assert_eq!(c.retention_secs, 7_776_000);
    assert_eq!(c.grace_secs, 300);
    assert_eq!(c.max_trails_per_account, 5);
    assert_eq!(c.first_job_id, 1);
    assert_eq!(Config::default(), Config::DEFAULT);
    // Struct-update syntax works (no #[non_exhaustive]).
    let custom = Config {
        token_ttl_secs: 60,
        ..Config::DEFAULT
    };
    assert_eq!(custom.token_ttl_secs, 60);
    assert_eq!(custom.retention_secs, 7_776_000);
}

#[test]
fn scheduler_new_is_const_and_usable_in_a_static() {
    static SCHED: JobScheduler<2, 2, 2> = JobScheduler::new(Config::DEFAULT);
    assert_eq!(SCHED.clock(), Timestamp(0));
    assert_eq!(SCHED.config(), &Config::DEFAULT);
    let st = SCHED.stats();
    assert_eq!(
        (st.trails, st.jobs, st.active_jobs, st.tokens),
        (0, 0, 0, 0)
    );
    assert_eq!((st.jobs_evicted, st.tokens_evicted_live), (0, 0));
    assert!(SCHED.check_invariants().is_ok());
}

#[test]
fn ids_display_as_their_numbers() {
    assert_eq!(AccountId(1512666876910001).to_string(), "1512666876910001");
    assert_eq!(JobId(16602).to_string(), "16602");
}

#[test]
fn status_codes_round_trip_and_statuses_have_names() {
    for (code, status, name) in [
        (0, JobStatus::Initializing, "initializing"),
        (1, JobStatus::Delivering, "delivering"),
        (2, JobStatus::Completed, "completed"),
        (3, JobStatus::Failed, "failed"),
    ] {
        assert_eq!(status.code(), code);
        assert_eq!(JobStatus::from_code(code), Some(status));
        assert_eq!(status.name(), name);
        assert_eq!(status.to_string(), name);
        assert_eq!(status.is_active(), code < 2);
    }
    assert_eq!(JobStatus::from_code(4), None);
    assert_eq!(JobOutcome::Completed.status(), JobStatus::Completed);
    assert_eq!(JobOutcome::Failed.status(), JobStatus::Failed);
}

#[test]
fn parameters_carry_their_api_names() {
    assert_eq!(Parameter::Region.api_name(), "RegionId");
    assert_eq!(Parameter::ClientToken.api_name(), "ClientToken");
    assert_eq!(Parameter::PageNumber.api_name(), "PageNumber");
    assert_eq!(Parameter::PageSize.api_name(), "PageSize");
    let message = Error::InvalidParameterValue(Parameter::PageSize).to_string();
    assert!(message.contains("PageSize"), "{message}");
}

/// The hash seed is a secret key: `Debug` of a config, or of a scheduler that shows its
/// config, says whether it was set but never prints it.
#[test]
fn debug_never_prints_the_hash_seed() {
    let seed: u64 = 0x5eed_cafe_f00d_1234;
    let config = Config {
        hash_seed: seed,
        ..Config::DEFAULT
    };
    let scheduler: JobScheduler<2, 2, 2> = JobScheduler::new(config);
    for shown in [
        format!("{config:?}"),
        format!("{config:#?}"),
        format!("{scheduler:?}"),
    ] {
        assert!(!shown.contains(&seed.to_string()), "{shown}");
        assert!(!shown.contains("5eedcafef00d1234"), "{shown}");
        assert!(shown.contains("hash_seed: <secret>"), "{shown}");
        assert!(shown.contains("lease_secs: 300"), "{shown}");
    }
    let default = format!("{:?}", Config::DEFAULT);
    assert!(default.contains("hash_seed: <public default>"), "{default}");
    assert!(
        !default.contains(&Config::DEFAULT.hash_seed.to_string()),
        "{default}"
    );
}
