//! Contract tests for `Timestamp`'s text forms: `FromStr` parses exactly what `Display` prints
//! (round trip for every `u64`, canonical forms only), `Display` honours width, fill and
//! alignment, and, with the `std` feature, `TryFrom<SystemTime>`.

use proptest::prelude::*;
use trail_backfill::{ParseTimestampError, Timestamp};

fn parse(text: &str) -> Result<Timestamp, ParseTimestampError> {
    text.parse()
}

fn message(text: &str) -> String {
    match parse(text) {
        Ok(t) => panic!("{text:?} parsed as {t:?}"),
        Err(error) => error.to_string(),
    }
}

// ---------------------------------------------------------------- FromStr: accepted

#[test]
fn parses_known_instants() {
    for (text, secs) in [
        ("1970-01-01T00:00:00Z", 0),
        ("1970-01-01T00:00:01Z", 1),
        ("1970-12-31T23:59:59Z", 31_535_999),
        ("2000-02-29T00:00:00Z", 951_782_400),
        ("2021-05-27T07:15:03Z", 1_622_099_703),
        ("2038-01-19T03:14:08Z", 1 << 31),
        ("9999-12-31T23:59:59Z", 253_402_300_799),
        ("10000-01-01T00:00:00Z", 253_402_300_800),
        ("584554051223-11-09T07:00:15Z", u64::MAX),
        ("584554051223-11-09T07:00:14Z", u64::MAX - 1),
    ] {
        assert_eq!(parse(text), Ok(Timestamp(secs)), "{text}");
        assert_eq!(Timestamp(secs).to_string(), text);
    }
}

#[test]
fn leap_days_only_in_leap_years() {
    for year in [1972, 2000, 2004, 2024, 2400, 10_000] {
        let text = format!("{year}-02-29T12:00:00Z");
        let t = parse(&text).unwrap();
        assert_eq!(t.to_string(), text);
        assert_eq!(
            parse(&format!("{year}-03-01T12:00:00Z")).unwrap().0 - t.0,
            86_400
        );
    }
    for year in [1970, 1971, 2021, 2100, 2200, 2300, 10_100] {
        assert_eq!(
            message(&format!("{year}-02-29T00:00:00Z")),
            "timestamp field out of range",
            "{year}"
        );
    }
}

#[test]
fn every_month_ends_on_its_last_day() {
    for (month, last) in [
        (1, 31),
        (2, 28),
        (3, 31),
        (4, 30),
        (5, 31),
        (6, 30),
        (7, 31),
        (8, 31),
        (9, 30),
        (10, 31),
        (11, 30),
        (12, 31),
    ] {
        let text = format!("2023-{month:02}-{last:02}T23:59:59Z");
        let t = parse(&text).unwrap();
        assert_eq!(t.to_string(), text);
        // One second later is the first of the next month.
        assert!(
            t.saturating_add_secs(1)
                .to_string()
                .ends_with("-01T00:00:00Z")
        );
        let past = format!("2023-{month:02}-{:02}T00:00:00Z", last + 1);
        assert_eq!(message(&past), "timestamp field out of range", "{past}");
    }
}

// ---------------------------------------------------------------- FromStr: refused

#[test]
fn refuses_past_u64_max() {
    for text in [
        "584554051223-11-09T07:00:16Z",
        "584554051223-11-10T00:00:00Z",
        "584554051223-12-01T00:00:00Z",
        "584554051224-01-01T00:00:00Z",
        "999999999999-12-31T23:59:59Z",
        "18446744073709551615-01-01T00:00:00Z", // a year of u64::MAX
        "18446744073709551616-01-01T00:00:00Z", // a year past u64::MAX
        "99999999999999999999999999999999-01-01T00:00:00Z",
    ] {
        assert_eq!(
            message(text),
            "timestamp later than u64::MAX seconds",
            "{text}"
        );
    }
}

#[test]
fn refuses_years_before_the_epoch() {
    for text in [
        "1969-12-31T23:59:59Z",
        "0000-01-01T00:00:00Z",
        "0001-03-01T00:00:00Z",
        "1600-02-29T00:00:00Z",
    ] {
        assert_eq!(message(text), "timestamp before the Unix epoch", "{text}");
    }
}

#[test]
fn refuses_fields_out_of_range() {
    for text in [
        "2021-00-10T00:00:00Z",
        "2021-13-10T00:00:00Z",
        "2021-99-10T00:00:00Z",
        "2021-05-00T00:00:00Z",
        "2021-04-31T00:00:00Z",
        "2021-05-32T00:00:00Z",
        "2021-05-27T24:00:00Z",
        "2021-05-27T07:60:00Z",
        "2021-05-27T07:15:60Z", // Unix time has no leap second
        "2016-12-31T23:59:60Z",
    ] {
        assert_eq!(message(text), "timestamp field out of range", "{text}");
    }
}

#[test]
fn refuses_what_display_never_prints() {
    let syntax = "invalid timestamp syntax, expected YYYY-MM-DDTHH:MM:SSZ";
    for text in [
        "",
        "Z",
        "2021-05-27T07:15:03",       // no Z
        "2021-05-27T07:15:03z",      // lowercase z
        "2021-05-27t07:15:03Z",      // lowercase t
        "2021-05-27 07:15:03Z",      // a space for T
        "2021-05-27T07:15:03+00:00", // an offset
        "2021-05-27T07:15:03.000Z",  // a fraction
        "2021-05-27T07:15:03ZZ",
        " 2021-05-27T07:15:03Z",
        "2021-05-27T07:15:03Z ",
        "2021-05-27T07:15:03Z\n",
        "+2021-05-27T07:15:03Z", // a sign
        "-2021-05-27T07:15:03Z",
        "+12021-05-27T07:15:03Z",
        "2021-+5-27T07:15:03Z",
        "2021-05-27T07:15:+3Z",
        "2021-5-27T07:15:03Z", // unpadded fields
        "2021-05-7T07:15:03Z",
        "2021-05-27T7:15:03Z",
        "202-05-27T07:15:03Z", // a year of fewer than four digits
        "21-05-27T07:15:03Z",
        "-05-27T07:15:03Z",
        "02021-05-27T07:15:03Z", // a leading zero past four digits
        "010000-01-01T00:00:00Z",
        "2021/05/27T07:15:03Z",
        "2021-05-27T07-15-03Z",
        "2O21-05-27T07:15:03Z",             // a letter O
        "２０２１-05-27T07:15:03Z",         // full-width digits
        "2021-05-27T07:15:03\u{5a}\u{301}", // Z with a combining accent
        "1622099703",                       // the seconds themselves
    ] {
        assert_eq!(message(text), syntax, "{text:?}");
    }
}

#[test]
fn the_error_is_a_small_value() {
    let error = parse("nope").unwrap_err();
    let copy = error;
    assert_eq!(copy, error);
    assert_eq!(error, parse("also nope").unwrap_err());
    assert_ne!(error, parse("1969-01-01T00:00:00Z").unwrap_err());
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(error);
    assert_eq!(
        boxed.to_string(),
        "invalid timestamp syntax, expected YYYY-MM-DDTHH:MM:SSZ"
    );
    assert!(format!("{error:?}").starts_with("ParseTimestampError"));
    assert!(std::mem::size_of::<ParseTimestampError>() <= 1);
}

// ---------------------------------------------------------------- Display: width, fill, alignment

#[test]
fn display_honours_width_fill_and_alignment() {
    let t = Timestamp(1_622_099_703);
    assert_eq!(format!("{t}"), "2021-05-27T07:15:03Z");
    assert_eq!(format!("{:>25}", t), "     2021-05-27T07:15:03Z");
    assert_eq!(format!("{:<25}|", t), "2021-05-27T07:15:03Z     |");
    assert_eq!(format!("{:25}|", t), "2021-05-27T07:15:03Z     |"); // as a str: left
    assert_eq!(format!("{:*<25}", t), "2021-05-27T07:15:03Z*****");
    assert_eq!(format!("{:->25}", t), "-----2021-05-27T07:15:03Z");
    assert_eq!(format!("{:^26}", t), "   2021-05-27T07:15:03Z   ");
    assert_eq!(format!("{:_^25}", t), "__2021-05-27T07:15:03Z___");
    assert_eq!(format!("{:>1$}", t, 22), "  2021-05-27T07:15:03Z");
    // A width at or below the length changes nothing.
    assert_eq!(format!("{:>20}", t), "2021-05-27T07:15:03Z");
    assert_eq!(format!("{:>5}", t), "2021-05-27T07:15:03Z");
    // The longest rendering pads too.
    assert_eq!(
        format!("{:>30}", Timestamp(u64::MAX)),
        "  584554051223-11-09T07:00:15Z"
    );
    assert_eq!(
        format!("{:.<30}", Timestamp(u64::MAX)),
        "584554051223-11-09T07:00:15Z.."
    );
    // Like JobId's: the same padding as the value's own text.
    let id = trail_backfill::JobId(16602);
    assert_eq!(format!("{:>8}", id), "   16602");
    assert_eq!(format!("{:*<8}", id), "16602***");
}

// ---------------------------------------------------------------- properties

proptest! {
    /// Every `u64` renders to a string that parses back to it.
    #[test]
    fn round_trips_every_u64(secs in any::<u64>()) {
        let t = Timestamp(secs);
        prop_assert_eq!(t.to_string().parse(), Ok(t));
    }

    /// The same, weighted to the interesting ends: this century, the 4-to-5-digit year step,
    /// and the last representable years.
    #[test]
    fn round_trips_at_the_edges(
        secs in prop_oneof![
            0u64..4_102_444_800,                          // 1970 to 2100
            253_402_300_000u64..253_402_301_000,          // around 10000-01-01
            (u64::MAX - 40_000_000)..=u64::MAX,           // the last year and more
        ]
    ) {
        let t = Timestamp(secs);
        prop_assert_eq!(t.to_string().parse(), Ok(t));
    }

    /// Any date and time with fields in range (years 1970 to 9999) parses, to the instant
    /// whose rendering is that same string.
    #[test]
    fn accepts_every_valid_date(
        year in 1970u64..=9999,
        month in 1u32..=12,
        day in 1u32..=31,
        hour in 0u32..24,
        minute in 0u32..60,
        second in 0u32..60,
    ) {
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let last = match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        let text = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z");
        match parse(&text) {
            Ok(t) => {
                prop_assert!(day <= last, "{} accepted", text);
                prop_assert_eq!(t.to_string(), text);
            }
            Err(_) => prop_assert!(day > last, "{} refused", text),
        }
    }

    /// Whatever parses is canonical: it renders back to the very same string. Strings of the
    /// right shape with arbitrary digits (and some other characters) never panic.
    #[test]
    fn whatever_parses_renders_back(
        text in "[0-9+ -]{0,14}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}[Zz]?"
    ) {
        if let Ok(t) = parse(&text) {
            prop_assert_eq!(t.to_string(), text);
        }
    }

    /// Arbitrary text never panics the parser.
    #[test]
    fn arbitrary_text_never_panics(text in ".{0,40}") {
        if let Ok(t) = parse(&text) {
            prop_assert_eq!(t.to_string(), text);
        }
    }

    /// Width and alignment pad the whole rendering, on either side.
    #[test]
    fn pads_like_a_str(secs in any::<u64>(), width in 0usize..40) {
        let t = Timestamp(secs);
        let text = t.to_string();
        prop_assert_eq!(format!("{t:>width$}"), format!("{text:>width$}"));
        prop_assert_eq!(format!("{t:*<width$}"), format!("{text:*<width$}"));
        prop_assert_eq!(format!("{t:^width$}"), format!("{text:^width$}"));
    }
}

// ---------------------------------------------------------------- std: SystemTime

#[cfg(feature = "std")]
mod system_time {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use trail_backfill::Timestamp;

    #[test]
    fn whole_seconds_since_the_epoch() {
        assert_eq!(Timestamp::try_from(UNIX_EPOCH).unwrap(), Timestamp(0));
        let t = UNIX_EPOCH + Duration::from_secs(1_622_099_703);
        assert_eq!(Timestamp::try_from(t).unwrap(), Timestamp(1_622_099_703));
    }

    #[test]
    fn truncates_sub_second_parts() {
        let base = UNIX_EPOCH + Duration::from_secs(1_622_099_703);
        for nanos in [1, 500_000_000, 999_999_999] {
            let t = base + Duration::from_nanos(nanos);
            assert_eq!(Timestamp::try_from(t).unwrap(), Timestamp(1_622_099_703));
        }
    }

    #[test]
    fn refuses_times_before_the_epoch() {
        let before = UNIX_EPOCH - Duration::from_nanos(1);
        let error = Timestamp::try_from(before).unwrap_err();
        assert_eq!(error.duration(), Duration::from_nanos(1));
        assert!(Timestamp::try_from(UNIX_EPOCH - Duration::from_secs(86_400)).is_err());
    }

    #[test]
    fn the_clock_is_after_the_epoch() {
        let now = Timestamp::try_from(SystemTime::now()).unwrap();
        assert!(now > Timestamp(1_600_000_000));
    }
}
