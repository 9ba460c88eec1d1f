//! [`Error`]: every refusal of the API, with its exact code, HTTP status and message.
//!
//! Business outcomes are values with fixed codes (as TigerBeetle's result codes are), so a host
//! answers exactly as ActionTrail does with `code()`, `http_status()` and `Display`.

use core::fmt;

use crate::ids::JobId;
use crate::job::JobStatus;
use crate::time::Timestamp;

/// The request parameter that an [`Error::InvalidParameterValue`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Parameter {
    /// `RegionId`: 1 to 32 characters `a-z`, `0-9`, `-`.
    Region,
    /// `ClientToken`: 1 to 64 printable ASCII characters.
    ClientToken,
    /// `PageNumber`: at least 1.
    PageNumber,
    /// `PageSize`: 1 to 100.
    PageSize,
}

impl Parameter {
    /// The parameter's name in the API (`RegionId`, `ClientToken`, `PageNumber`, `PageSize`).
    pub const fn api_name(self) -> &'static str {
        match self {
            Parameter::Region => "RegionId",
            Parameter::ClientToken => "ClientToken",
            Parameter::PageNumber => "PageNumber",
            Parameter::PageSize => "PageSize",
        }
    }
}

/// Why a trail cannot feed a backfill task ([`Error::TrailNotEligible`]).
///
/// The seed document's limits: the trail must be a single-account trail that delivers events
/// to Simple Log Service; and it must be logging, or there would be nothing to re-deliver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Ineligibility {
    /// The trail is a multi-account (organization) trail.
    OrganizationTrail,
    /// The trail does not deliver to Simple Log Service (SLS).
    NoSlsDelivery,
    /// The trail is not logging.
    NotLogging,
}

/// The fixed-capacity table that a [`Error::CapacityExhausted`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Table {
    /// The trail table (`TRAILS` entries).
    Trails,
    /// The job table (`JOBS` entries), or the job id space.
    Jobs,
    /// The catalogue of regions that workers reported ([`MAX_REGIONS`](crate::MAX_REGIONS)).
    Regions,
}

/// Every error the scheduler returns. A call that returns one changes nothing.
///
/// # Examples
///
/// ```
/// use trail_backfill::Error;
///
/// let error = Error::TrailNotFound;
/// assert_eq!(error.code(), "TrailNotFoundException");
/// assert_eq!(error.http_status(), 404);
/// assert_eq!(error.to_string(), "The specified Trail does not exist.");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Error {
    /// A trail name breaks the naming rule of [`TrailName`](crate::TrailName).
    InvalidTrailName,
    /// A parameter's value breaks its rule.
    InvalidParameterValue(Parameter),
    /// A trail of that name already exists for the account in the region.
    TrailAlreadyExists,
    /// The account already has `max_trails_per_account` trails in the region.
    TrailLimitExceeded,
    /// No such trail for this account and region.
    TrailNotFound,
    /// The trail cannot feed a backfill task.
    TrailNotEligible(Ineligibility),
    /// The account already has an active (initializing or delivering) job.
    JobAlreadyRunning {
        /// The account's active job.
        active: JobId,
    },
    /// The client token was used for a request with other parameters.
    IdempotentParameterMismatch,
    /// No such job for this account.
    JobNotFound,
    /// The job's status does not allow the transition.
    InvalidJobStatus {
        /// The job's current status.
        status: JobStatus,
    },
    /// The job is still active, so it cannot be deleted.
    JobNotFinished,
    /// A fixed-capacity table is full (or job ids are exhausted): try again later.
    CapacityExhausted(Table),
    /// The worker's lease is no longer held: the job finished, its lease ran out and
    /// `handle_timeout` ended it, or another attempt holds it now. The worker must stop.
    LeaseLost,
    /// The job cannot be claimed yet (or any more).
    JobNotClaimable {
        /// Until when: the end of its current lease, the end of its retry backoff, or its
        /// deadline (which has passed).
        until: Timestamp,
    },
}

impl Error {
    /// The API's error code, for example `TrailNotFoundException`.
    pub const fn code(&self) -> &'static str {
        match self {
            Error::InvalidTrailName => "InvalidTrailNameException",
            Error::InvalidParameterValue(_) => "InvalidParameterValue",
            Error::TrailAlreadyExists => "TrailAlreadyExistsException",
            Error::TrailLimitExceeded => "MaximumNumberOfTrailsExceededException",
            Error::TrailNotFound => "TrailNotFoundException",
            Error::TrailNotEligible(_) => "TrailNotEligibleException",
            Error::JobAlreadyRunning { .. } => "DeliveryHistoryJobAlreadyRunning",
            Error::IdempotentParameterMismatch => "IdempotentParameterMismatch",
            Error::JobNotFound => "DeliveryHistoryJobNotFound",
            Error::InvalidJobStatus { .. } => "InvalidDeliveryHistoryJobStatus",
            Error::JobNotFinished => "DeliveryHistoryJobNotFinished",
            Error::CapacityExhausted(_) => "ServiceUnavailable",
            Error::LeaseLost => "DeliveryHistoryJobLeaseLost",
            Error::JobNotClaimable { .. } => "DeliveryHistoryJobNotClaimable",
        }
    }

    /// The HTTP status the API answers with, for example `404`.
    pub const fn http_status(&self) -> u16 {
        match self {
            Error::InvalidTrailName
            | Error::InvalidParameterValue(_)
            | Error::TrailAlreadyExists
            | Error::TrailNotEligible(_)
            | Error::IdempotentParameterMismatch => 400,
            Error::TrailLimitExceeded => 403,
            Error::TrailNotFound | Error::JobNotFound => 404,
            Error::JobAlreadyRunning { .. }
            | Error::InvalidJobStatus { .. }
            | Error::JobNotFinished
            | Error::LeaseLost
            | Error::JobNotClaimable { .. } => 409,
            Error::CapacityExhausted(_) => 503,
        }
    }
}

/// The message a host returns with the code: one plain sentence. `TrailNotFound` and
/// `CapacityExhausted` use the API's own words.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidTrailName => f.write_str("The specified trail name is invalid."),
            Error::InvalidParameterValue(parameter) => write!(
                f,
                "The specified parameter {} is invalid.",
                parameter.api_name()
            ),
            Error::TrailAlreadyExists => f.write_str("The specified trail already exists."),
            Error::TrailLimitExceeded => {
                f.write_str("The maximum number of trails in this region has been reached.")
            }
            Error::TrailNotFound => f.write_str("The specified Trail does not exist."),
            Error::TrailNotEligible(reason) => f.write_str(match reason {
                Ineligibility::OrganizationTrail => {
                    "The specified trail is a multi-account trail; a backfill task needs a single-account trail."
                }
                Ineligibility::NoSlsDelivery => {
                    "The specified trail does not deliver events to Simple Log Service."
                }
                Ineligibility::NotLogging => "The specified trail is not logging.",
            }),
            Error::JobAlreadyRunning { active } => write!(
                f,
                "A data backfill task is already running in this account (JobId {active})."
            ),
            Error::IdempotentParameterMismatch => f.write_str(
                "The client token was already used for a request with other parameters.",
            ),
            Error::JobNotFound => f.write_str("The specified delivery history job does not exist."),
            Error::InvalidJobStatus { status } => write!(
                f,
                "The operation is not allowed while the delivery history job is {}.",
                status.name()
            ),
            Error::JobNotFinished => {
                f.write_str("The specified delivery history job has not finished.")
            }
            Error::CapacityExhausted(_) => {
                f.write_str("The service is unavailable. Please try again later.")
            }
            Error::LeaseLost => f.write_str(
                "The lease on the delivery history job is no longer held by this worker.",
            ),
            Error::JobNotClaimable { until } => write!(
                f,
                "The delivery history job cannot be claimed (until {until})."
            ),
        }
    }
}

impl core::error::Error for Error {}
