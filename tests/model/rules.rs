//! The value rules of SPEC section 1, written again from its words, and `Timestamp`'s
//! rendering.

use std::fmt::Write as _;

use trail_backfill::Timestamp;

/// SPEC section 1: the rule `Region::new` enforces.
pub fn region_is_valid(s: &str) -> bool {
    (1..=32).contains(&s.chars().count())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// SPEC section 1: the rule `TrailName::new` enforces.
pub fn trail_name_is_valid(s: &str) -> bool {
    let mut chars = s.chars();
    (6..=36).contains(&s.chars().count())
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// SPEC section 1: the rule `ClientToken::new` enforces.
pub fn client_token_is_valid(s: &str) -> bool {
    (1..=64).contains(&s.chars().count()) && s.chars().all(|c| (' '..='~').contains(&c))
}

/// SPEC section 1: `Timestamp`'s ISO-8601 rendering, `2021-05-27T07:15:03Z`, written with
/// Howard Hinnant's civil-from-days algorithm in 128-bit arithmetic (years past 9999 print
/// all their digits).
pub fn format_timestamp(t: Timestamp) -> String {
    let days = i128::from(t.0 / 86_400);
    let secs = t.0 % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i128::from(month <= 2);
    let mut out = String::new();
    write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3_600,
        secs / 60 % 60,
        secs % 60
    )
    .expect("writing to a String");
    out
}
