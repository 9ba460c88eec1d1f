//! The `std` feature: [`Timestamp`] from a [`SystemTime`], for hosts that read the system clock.
//!
//! The core still never reads a clock; this only turns the host's reading into a `Timestamp`.

extern crate std;

use std::time::{SystemTime, SystemTimeError, UNIX_EPOCH};

use crate::time::Timestamp;

/// Whole seconds since the Unix epoch; the fraction of a second is dropped (truncated), so
/// `Timestamp` never runs ahead of the clock it was read from.
///
/// # Errors
///
/// [`SystemTimeError`] for a time before the epoch (its
/// [`duration`](SystemTimeError::duration) says how far before), which no `Timestamp` names.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
/// use trail_backfill::Timestamp;
///
/// let read = UNIX_EPOCH + Duration::from_millis(1_622_099_703_999);
/// assert_eq!(Timestamp::try_from(read)?, Timestamp(1_622_099_703));
///
/// let now = Timestamp::try_from(SystemTime::now())?; // what a host passes as `now`
/// assert!(now >= Timestamp(1_622_099_703));
///
/// assert!(Timestamp::try_from(UNIX_EPOCH - Duration::from_secs(1)).is_err());
/// # Ok::<(), std::time::SystemTimeError>(())
/// ```
impl TryFrom<SystemTime> for Timestamp {
    type Error = SystemTimeError;

    fn try_from(time: SystemTime) -> Result<Self, SystemTimeError> {
        // `as_secs` truncates; a `Duration` holds up to `u64::MAX` whole seconds, as does a
        // `Timestamp`, so no reading is out of range past the epoch.
        time.duration_since(UNIX_EPOCH)
            .map(|since_epoch| Timestamp(since_epoch.as_secs()))
    }
}
