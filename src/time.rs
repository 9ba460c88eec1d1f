//! [`Timestamp`]: time as the host supplies it, its ISO-8601 rendering and parsing.
//!
//! The core never reads a clock: every call that needs the time takes `now: Timestamp`.

use core::fmt;
use core::str::FromStr;

/// Seconds since the Unix epoch (1970-01-01T00:00:00Z), UTC, as supplied by the host.
///
/// `Display` renders ISO-8601 as the API does (`2021-05-27T07:15:03Z`) without allocating.
/// Years past 9999 print all their digits, so every `u64` has a rendering. Width, fill and
/// alignment apply to the whole rendering as they do to a `str` (left-aligned unless told
/// otherwise; a precision cuts the text short, as for a `str`).
///
/// [`FromStr`] parses exactly what `Display` prints, and nothing else, so
/// `t.to_string().parse() == Ok(t)` for every `t`.
///
/// # Examples
///
/// ```
/// use trail_backfill::Timestamp;
///
/// let created = Timestamp(1_622_099_703);
/// assert_eq!(created.to_string(), "2021-05-27T07:15:03Z");
/// assert_eq!(Timestamp(u64::MAX).to_string(), "584554051223-11-09T07:00:15Z");
/// assert_eq!(format!("[{created:>22}]"), "[  2021-05-27T07:15:03Z]");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// The Unix epoch, `1970-01-01T00:00:00Z`.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// `self + secs`, saturating at `Timestamp(u64::MAX)` (every addition of times and durations
    /// in this crate saturates).
    #[must_use]
    pub const fn saturating_add_secs(self, secs: u64) -> Timestamp {
        Timestamp(self.0.saturating_add(secs))
    }

    /// `self - secs`, saturating at the epoch.
    #[must_use]
    pub const fn saturating_sub_secs(self, secs: u64) -> Timestamp {
        Timestamp(self.0.saturating_sub(secs))
    }
}

/// The longest rendering, in bytes: `Timestamp(u64::MAX)`'s, with its 12-digit year.
const RENDERED_LEN_MAX: usize = "584554051223-11-09T07:00:15Z".len();

/// The year of the epoch: a rendering with an earlier year names no `Timestamp`.
const EPOCH_YEAR: u64 = 1970;

/// Seconds in a day; the Unix time scale has no leap seconds.
const SECS_PER_DAY: u64 = 86_400;

/// A civil (proleptic Gregorian) date and time of day, UTC.
pub(crate) struct CivilTime {
    pub(crate) year: u64,
    /// 1..=12.
    pub(crate) month: u8,
    /// 1..=31.
    pub(crate) day: u8,
    /// 0..=23.
    pub(crate) hour: u8,
    /// 0..=59.
    pub(crate) minute: u8,
    /// 0..=59 (no leap second: Unix time has none).
    pub(crate) second: u8,
}

impl CivilTime {
    /// Converts seconds since the epoch with Howard Hinnant's `civil_from_days`, in unsigned
    /// arithmetic because the epoch is the earliest time a `Timestamp` can hold.
    // Bounds, for the reviewer: days <= u64::MAX / 86_400 < 2^48, so `days + 719_468`,
    // `era * 400` and every product below stay far under 2^64; the subtractions are of a value's
    // own parts (`doe >= doe / 1460 - ...`, `doy >= 365 * yoe + ...`), which the algorithm
    // guarantees non-negative; every divisor is a non-zero constant.
    #[allow(clippy::arithmetic_side_effects)]
    pub(crate) fn from_unix_secs(secs: u64) -> Self {
        let days = secs / SECS_PER_DAY;
        let second_of_day = secs % SECS_PER_DAY;
        let z = days + 719_468; // days since 0000-03-01
        let era = z / 146_097;
        let doe = z % 146_097; // day of era, 0..=146_096
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // 0..=365, from March 1st
        let mp = (5 * doy + 2) / 153; // 0..=11, March = 0
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + u64::from(month <= 2);
        CivilTime {
            year,
            month: small(month),
            day: small(day),
            hour: small(second_of_day / 3_600),
            minute: small(second_of_day % 3_600 / 60),
            second: small(second_of_day % 60),
        }
    }

    /// Seconds since the epoch, with Howard Hinnant's `days_from_civil`; `None` past
    /// `u64::MAX` seconds. The fields must be in range (as [`Timestamp::from_str`] checks) and
    /// `year >= 1970`.
    fn to_unix_secs(&self) -> Option<u64> {
        // Checked throughout, although only the last steps can overflow (for years near
        // 584 554 051 223): the field ranges bound every other step far below 2^64.
        let month = u64::from(self.month);
        // Count years from March, so that February's leap day ends the year.
        let year = if month <= 2 {
            self.year.checked_sub(1)?
        } else {
            self.year
        };
        let era = year / 400;
        let yoe = year % 400; // year of era, 0..=399
        let mp = month.checked_add(9)? % 12; // 0..=11, March = 0
        let doy = (mp.checked_mul(153)?.checked_add(2)? / 5) // day of year, 0..=365
            .checked_add(u64::from(self.day))?
            .checked_sub(1)?;
        let doe = yoe // day of era, 0..=146_096
            .checked_mul(365)?
            .checked_add(yoe / 4)?
            .checked_sub(yoe / 100)?
            .checked_add(doy)?;
        let days = era // days since 1970-01-01 (0000-03-01 is 719 468 days before it)
            .checked_mul(146_097)?
            .checked_add(doe)?
            .checked_sub(719_468)?;
        let second_of_day = u64::from(self.hour)
            .checked_mul(3_600)?
            .checked_add(u64::from(self.minute).checked_mul(60)?)?
            .checked_add(u64::from(self.second))?;
        days.checked_mul(SECS_PER_DAY)?.checked_add(second_of_day)
    }

    /// Writes `YYYY-MM-DDTHH:MM:SSZ`, the year in at least four digits.
    fn write_to(&self, out: &mut impl fmt::Write) -> fmt::Result {
        write!(
            out,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// Narrows a field that `from_unix_secs` bounds below 60 (so the fallback never happens).
fn small(value: u64) -> u8 {
    u8::try_from(value).unwrap_or(u8::MAX)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let civil = CivilTime::from_unix_secs(self.0);
        if f.width().is_none() && f.precision().is_none() {
            return civil.write_to(f);
        }
        // Padding applies to the whole text, so render it first, on the stack.
        let mut rendered = heapless::String::<RENDERED_LEN_MAX>::new();
        civil.write_to(&mut rendered)?;
        f.pad(&rendered)
    }
}

/// Why a string is not a [`Timestamp`]'s rendering (see [`Timestamp`]'s `FromStr`).
///
/// Its `Display` says which rule the string broke, in lowercase, as `core`'s parse errors do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ParseTimestampError {
    pub(crate) kind: ParseErrorKind,
}

/// The rule a string broke; private so that the rules can be refined without a breaking change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ParseErrorKind {
    /// Not of the form `YYYY-MM-DDTHH:MM:SSZ` (wrong length, separator, case, or a non-digit).
    Syntax,
    /// A month, day, hour, minute or second out of its range (February 29th in a common year).
    FieldOutOfRange,
    /// A year before 1970.
    BeforeEpoch,
    /// Later than `Timestamp(u64::MAX)`.
    AfterMax,
}

impl ParseTimestampError {
    const fn new(kind: ParseErrorKind) -> Self {
        ParseTimestampError { kind }
    }

    /// The message of [`Display`](fmt::Display).
    const fn message(&self) -> &'static str {
        match self.kind {
            ParseErrorKind::Syntax => "invalid timestamp syntax, expected YYYY-MM-DDTHH:MM:SSZ",
            ParseErrorKind::FieldOutOfRange => "timestamp field out of range",
            ParseErrorKind::BeforeEpoch => "timestamp before the Unix epoch",
            ParseErrorKind::AfterMax => "timestamp later than u64::MAX seconds",
        }
    }
}

impl fmt::Display for ParseTimestampError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl core::error::Error for ParseTimestampError {}

/// Parses exactly what `Display` prints: `YYYY-MM-DDTHH:MM:SSZ`, UTC.
///
/// The rules, all of them `Display`'s:
/// - the year has four digits, or more without a leading zero for years past 9999, and is
///   1970 or later; no sign;
/// - month `01`-`12`, day `01` to the month's last (February 29th only in leap years), hour
///   `00`-`23`, minute and second `00`-`59` (Unix time has no leap second);
/// - an uppercase `T` and `Z` (RFC 3339 also allows lowercase; `Display` never prints it, so
///   it is refused, and every accepted string has one `Timestamp`);
/// - no spaces, no fraction of a second, no other offset than `Z`;
/// - at most `Timestamp(u64::MAX)`, `584554051223-11-09T07:00:15Z`.
///
/// It neither allocates nor panics.
///
/// # Errors
///
/// [`ParseTimestampError`] when the string breaks a rule above.
///
/// # Examples
///
/// ```
/// use trail_backfill::Timestamp;
///
/// let created: Timestamp = "2021-05-27T07:15:03Z".parse()?;
/// assert_eq!(created, Timestamp(1_622_099_703));
/// assert_eq!("584554051223-11-09T07:00:15Z".parse(), Ok(Timestamp(u64::MAX)));
/// assert!("584554051223-11-09T07:00:16Z".parse::<Timestamp>().is_err()); // past u64::MAX
/// assert!("2021-02-29T00:00:00Z".parse::<Timestamp>().is_err()); // not a leap year
/// assert!("2021-05-27T07:15:03".parse::<Timestamp>().is_err()); // no Z
/// assert!("2021-05-27t07:15:03z".parse::<Timestamp>().is_err()); // lowercase
/// assert!("1969-12-31T23:59:59Z".parse::<Timestamp>().is_err()); // before the epoch
/// # Ok::<(), trail_backfill::ParseTimestampError>(())
/// ```
impl FromStr for Timestamp {
    type Err = ParseTimestampError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        const SYNTAX: ParseTimestampError = ParseTimestampError::new(ParseErrorKind::Syntax);
        const RANGE: ParseTimestampError =
            ParseTimestampError::new(ParseErrorKind::FieldOutOfRange);
        const AFTER_MAX: ParseTimestampError = ParseTimestampError::new(ParseErrorKind::AfterMax);

        // Everything after the year has a fixed length: split there.
        let bytes = text.as_bytes();
        let year_len = bytes.len().checked_sub(TAIL_LEN).ok_or(SYNTAX)?;
        let (year_digits, tail) = bytes.split_at_checked(year_len).ok_or(SYNTAX)?;
        let [
            b'-',
            mo1,
            mo2,
            b'-',
            d1,
            d2,
            b'T',
            h1,
            h2,
            b':',
            mi1,
            mi2,
            b':',
            s1,
            s2,
            b'Z',
        ] = *tail
        else {
            return Err(SYNTAX);
        };
        // `{:04}` pads to four digits and a longer year starts with its first non-zero digit.
        let canonical_year = match year_digits {
            [] | [_] | [_, _] | [_, _, _] => false,
            [_, _, _, _] => true,
            [first, ..] => *first != b'0',
        };
        if !canonical_year {
            return Err(SYNTAX);
        }
        let year = year_digits.iter().try_fold(0u64, |year, &b| {
            let digit = digit(b).ok_or(SYNTAX)?;
            year.checked_mul(10)
                .and_then(|year| year.checked_add(u64::from(digit)))
                .ok_or(AFTER_MAX)
        })?;
        let civil = CivilTime {
            year,
            month: two_digits(mo1, mo2).ok_or(SYNTAX)?,
            day: two_digits(d1, d2).ok_or(SYNTAX)?,
            hour: two_digits(h1, h2).ok_or(SYNTAX)?,
            minute: two_digits(mi1, mi2).ok_or(SYNTAX)?,
            second: two_digits(s1, s2).ok_or(SYNTAX)?,
        };
        if !(1..=12).contains(&civil.month)
            || !(1..=days_in_month(civil.year, civil.month)).contains(&civil.day)
            || civil.hour > 23
            || civil.minute > 59
            || civil.second > 59
        {
            return Err(RANGE);
        }
        if civil.year < EPOCH_YEAR {
            return Err(ParseTimestampError::new(ParseErrorKind::BeforeEpoch));
        }
        civil.to_unix_secs().map(Timestamp).ok_or(AFTER_MAX)
    }
}

/// The length of a rendering after its year: `-MM-DDTHH:MM:SSZ`.
const TAIL_LEN: usize = "-MM-DDTHH:MM:SSZ".len();

/// The value of an ASCII decimal digit (`+`, spaces and non-ASCII digits are not digits).
fn digit(byte: u8) -> Option<u8> {
    byte.is_ascii_digit().then(|| byte.wrapping_sub(b'0'))
}

/// The value of two ASCII decimal digits, 0..=99.
fn two_digits(tens: u8, units: u8) -> Option<u8> {
    digit(tens)?.checked_mul(10)?.checked_add(digit(units)?)
}

/// The number of days in `month` (1..=12) of `year`, proleptic Gregorian.
fn days_in_month(year: u64, month: u8) -> u8 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn is_leap_year(year: u64) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)] // tests may panic: that is how they fail
mod tests {
    extern crate std;
    use super::Timestamp;
    use std::string::ToString;

    #[test]
    fn renders_known_instants() {
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(Timestamp(951_782_400).to_string(), "2000-02-29T00:00:00Z");
        assert_eq!(Timestamp(1_622_099_703).to_string(), "2021-05-27T07:15:03Z");
        assert_eq!(
            Timestamp(253_402_300_799).to_string(),
            "9999-12-31T23:59:59Z"
        );
        assert_eq!(
            Timestamp(253_402_300_800).to_string(),
            "10000-01-01T00:00:00Z"
        );
        assert_eq!(
            Timestamp(u64::MAX).to_string(),
            "584554051223-11-09T07:00:15Z"
        );
    }

    #[test]
    fn saturates() {
        assert_eq!(
            Timestamp(u64::MAX).saturating_add_secs(1),
            Timestamp(u64::MAX)
        );
        assert_eq!(Timestamp(5).saturating_sub_secs(10), Timestamp(0));
    }
}
