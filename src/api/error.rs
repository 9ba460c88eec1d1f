//! [`ApiError`]: every refusal an API host answers, the scheduler's [`Error`]s and the request
//! errors that happen before the scheduler is asked (a missing, invalid or repeated parameter,
//! an unknown action, a body that is not a request).

use core::fmt;

use crate::error::{Error, Parameter};

/// Why a request was refused: either by the scheduler ([`ApiError::Scheduler`]) or while
/// reading it. It borrows the parameter or action name (or message) from the request, so
/// that it needs no allocation; write it at once with [`Reply::write_error`](super::Reply::write_error).
///
/// Like [`Error`], it has the API's `code()`, `http_status()` and a one-sentence message
/// (`Display`).
///
/// # Examples
///
/// ```
/// use trail_backfill::api::ApiError;
///
/// let error = ApiError::MissingParameter("JobId");
/// assert_eq!((error.code(), error.http_status()), ("MissingParameter", 400));
/// assert_eq!(
///     error.to_string(),
///     "The input parameter \"JobId\" that is mandatory for processing this request is not supplied."
/// );
/// // A trail name that is invalid is the scheduler's own error.
/// assert_eq!(ApiError::invalid_value("Name"), ApiError::Scheduler(trail_backfill::Error::InvalidTrailName));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiError<'a> {
    /// The scheduler refused the request (or a value type refused a parameter, as
    /// [`Error::InvalidTrailName`] or [`Error::InvalidParameterValue`]).
    Scheduler(Error),
    /// A mandatory parameter is absent: 400 `MissingParameter`, naming it.
    MissingParameter(&'a str),
    /// A parameter's value is not what the action takes (not an integer, out of range, an
    /// unknown outcome, ...): 400 `InvalidParameterValue`, naming it. Parameters whose
    /// refusal is a scheduler [`Error`] are never reported this way: see
    /// [`ApiError::invalid_value`].
    InvalidParameter(&'a str),
    /// A parameter given more than once (`?JobId=1&JobId=2`): 400 `InvalidParameterValue`,
    /// naming it. The request is refused rather than one value picked.
    RepeatedParameter(&'a str),
    /// No such action: 404 `InvalidAction.NotFound`, naming it, as the API answers a name it
    /// does not know.
    UnknownAction(&'a str),
    /// The request is not a request at all (a body that is not JSON, say): 400
    /// `InvalidParameterValue`, the text being the whole message.
    MalformedRequest(&'a str),
}

impl<'a> ApiError<'a> {
    /// The error for an invalid value of parameter `name`: the scheduler's own error where the
    /// crate has one (`Name` and `TrailName`: [`Error::InvalidTrailName`]; `RegionId`,
    /// `ClientToken`, `PageNumber`, `PageSize`: [`Error::InvalidParameterValue`]), else
    /// [`ApiError::InvalidParameter`]. A host that checks a parameter's type itself (the
    /// replay tool checks JSON types) uses this, so that its answer is the module's.
    pub fn invalid_value(name: &'a str) -> ApiError<'a> {
        match name {
            "Name" | "TrailName" => ApiError::Scheduler(Error::InvalidTrailName),
            "RegionId" => ApiError::Scheduler(Error::InvalidParameterValue(Parameter::Region)),
            "ClientToken" => {
                ApiError::Scheduler(Error::InvalidParameterValue(Parameter::ClientToken))
            }
            "PageNumber" => {
                ApiError::Scheduler(Error::InvalidParameterValue(Parameter::PageNumber))
            }
            "PageSize" => ApiError::Scheduler(Error::InvalidParameterValue(Parameter::PageSize)),
            _ => ApiError::InvalidParameter(name),
        }
    }

    /// The API's error code: [`Error::code`] for a scheduler error, else `MissingParameter`,
    /// `InvalidParameterValue` or `InvalidAction.NotFound`.
    pub const fn code(&self) -> &'static str {
        match self {
            ApiError::Scheduler(error) => error.code(),
            ApiError::MissingParameter(_) => "MissingParameter",
            ApiError::InvalidParameter(_)
            | ApiError::RepeatedParameter(_)
            | ApiError::MalformedRequest(_) => "InvalidParameterValue",
            ApiError::UnknownAction(_) => "InvalidAction.NotFound",
        }
    }

    /// The HTTP status: [`Error::http_status`] for a scheduler error, 404 for an unknown
    /// action, else 400.
    pub const fn http_status(&self) -> u16 {
        match self {
            ApiError::Scheduler(error) => error.http_status(),
            ApiError::UnknownAction(_) => 404,
            ApiError::MissingParameter(_)
            | ApiError::InvalidParameter(_)
            | ApiError::RepeatedParameter(_)
            | ApiError::MalformedRequest(_) => 400,
        }
    }
}

impl From<Error> for ApiError<'_> {
    fn from(error: Error) -> Self {
        ApiError::Scheduler(error)
    }
}

/// The message: one plain sentence (a scheduler error's is its own `Display`).
impl fmt::Display for ApiError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Scheduler(error) => fmt::Display::fmt(error, f),
            ApiError::MissingParameter(name) => write!(
                f,
                "The input parameter \"{name}\" that is mandatory for processing this request is not supplied."
            ),
            // The same words as the scheduler's own `InvalidParameterValue`.
            ApiError::InvalidParameter(name) => {
                write!(f, "The specified parameter {name} is invalid.")
            }
            ApiError::RepeatedParameter(name) => {
                write!(f, "The parameter \"{name}\" is specified more than once.")
            }
            ApiError::UnknownAction(name) => {
                write!(f, "The specified action \"{name}\" is not valid.")
            }
            ApiError::MalformedRequest(message) => f.write_str(message),
        }
    }
}

impl core::error::Error for ApiError<'_> {}
