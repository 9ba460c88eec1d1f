//! Reading a request: its [`Action`], then its parameters by name, each checked as the API
//! checks it, into an [`ApiRequest`].

use crate::command::Command;

use crate::ids::{AccountId, ClientToken, JobId, Region, TrailName};
use crate::job::{CreateJob, JobOutcome, JobStatus};
use crate::lease::Lease;
use crate::time::Timestamp;
use crate::trail::{TrailKind, TrailSpec};

use super::error::ApiError;

/// The default `PageNumber` of `ListDeliveryHistoryJobs`.
pub const DEFAULT_PAGE_NUMBER: u32 = 1;
/// The default `PageSize` of `ListDeliveryHistoryJobs`.
pub const DEFAULT_PAGE_SIZE: u32 = 20;

/// The actions of the API, each named as its variant (`Action::CreateTrail` is
/// `"CreateTrail"`).
///
/// # Examples
///
/// ```
/// use trail_backfill::api::{Action, ApiError};
///
/// assert_eq!(Action::from_name("GetDeliveryHistoryJob"), Ok(Action::GetDeliveryHistoryJob));
/// assert_eq!(Action::GetDeliveryHistoryJob.name(), "GetDeliveryHistoryJob");
/// assert_eq!(Action::from_name("DescribeTrails"), Err(ApiError::UnknownAction("DescribeTrails")));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action {
    /// `CreateTrail`: `Name`; optional `IsOrganizationTrail` (boolean, default false) and
    /// `SlsProjectArn` (the trail delivers to Simple Log Service when it is present).
    CreateTrail,
    /// `DeleteTrail`: `Name`.
    DeleteTrail,
    /// `StartLogging`: `Name`.
    StartLogging,
    /// `StopLogging`: `Name`.
    StopLogging,
    /// `CreateDeliveryHistoryJob`: `TrailName`; optional `ClientToken`.
    CreateDeliveryHistoryJob,
    /// `GetDeliveryHistoryJob`: `JobId`.
    GetDeliveryHistoryJob,
    /// `ListDeliveryHistoryJobs`: optional `PageNumber` (default 1) and `PageSize` (default 20).
    ListDeliveryHistoryJobs,
    /// `DeleteDeliveryHistoryJob`: `JobId`.
    DeleteDeliveryHistoryJob,
    /// `StartDeliveryHistoryJob` (the direct transition): `JobId`.
    StartDeliveryHistoryJob,
    /// `CompleteDeliveryHistoryJob` (the direct transition): `JobId`, `Outcome`.
    CompleteDeliveryHistoryJob,
    /// `ClaimDeliveryHistoryJob`: optional `JobId` (without it, the next claimable job of any
    /// account).
    ClaimDeliveryHistoryJob,
    /// `HeartbeatDeliveryHistoryJob`: `JobId`, `Attempt`; optional `Delivered` (default 0).
    HeartbeatDeliveryHistoryJob,
    /// `ReportDeliveryHistoryJobRegion`: `JobId`, `Attempt`, `Region`, `Status` (0 to 3).
    ReportDeliveryHistoryJobRegion,
    /// `FinishDeliveryHistoryJob`: `JobId`, `Attempt`, `Outcome`.
    FinishDeliveryHistoryJob,
    /// `StopDeliveryHistoryJob`: `JobId`.
    StopDeliveryHistoryJob,
    /// `HandleTimeouts`: no parameter (the host's timer, as an action).
    HandleTimeouts,
}

impl Action {
    /// Every action, in the order above.
    pub const ALL: [Action; 16] = [
        Action::CreateTrail,
        Action::DeleteTrail,
        Action::StartLogging,
        Action::StopLogging,
        Action::CreateDeliveryHistoryJob,
        Action::GetDeliveryHistoryJob,
        Action::ListDeliveryHistoryJobs,
        Action::DeleteDeliveryHistoryJob,
        Action::StartDeliveryHistoryJob,
        Action::CompleteDeliveryHistoryJob,
        Action::ClaimDeliveryHistoryJob,
        Action::HeartbeatDeliveryHistoryJob,
        Action::ReportDeliveryHistoryJobRegion,
        Action::FinishDeliveryHistoryJob,
        Action::StopDeliveryHistoryJob,
        Action::HandleTimeouts,
    ];

    /// The action's name in the API.
    pub const fn name(self) -> &'static str {
        match self {
            Action::CreateTrail => "CreateTrail",
            Action::DeleteTrail => "DeleteTrail",
            Action::StartLogging => "StartLogging",
            Action::StopLogging => "StopLogging",
            Action::CreateDeliveryHistoryJob => "CreateDeliveryHistoryJob",
            Action::GetDeliveryHistoryJob => "GetDeliveryHistoryJob",
            Action::ListDeliveryHistoryJobs => "ListDeliveryHistoryJobs",
            Action::DeleteDeliveryHistoryJob => "DeleteDeliveryHistoryJob",
            Action::StartDeliveryHistoryJob => "StartDeliveryHistoryJob",
            Action::CompleteDeliveryHistoryJob => "CompleteDeliveryHistoryJob",
            Action::ClaimDeliveryHistoryJob => "ClaimDeliveryHistoryJob",
            Action::HeartbeatDeliveryHistoryJob => "HeartbeatDeliveryHistoryJob",
            Action::ReportDeliveryHistoryJobRegion => "ReportDeliveryHistoryJobRegion",
            Action::FinishDeliveryHistoryJob => "FinishDeliveryHistoryJob",
            Action::StopDeliveryHistoryJob => "StopDeliveryHistoryJob",
            Action::HandleTimeouts => "HandleTimeouts",
        }
    }

    /// The action named `name` (case-sensitive, as the API's names are).
    ///
    /// # Errors
    ///
    /// [`ApiError::UnknownAction`] (404 `InvalidAction.NotFound`) when no action has that name.
    pub fn from_name(name: &str) -> Result<Action, ApiError<'_>> {
        Action::ALL
            .into_iter()
            .find(|action| action.name() == name)
            .ok_or(ApiError::UnknownAction(name))
    }

    /// The parameters the action reads, in the order [`parse_request`] checks them, each with
    /// its type: `AccountId` and `RegionId` first (every action reads them, unless the
    /// [`Caller`] supplies them), then the action's own.
    pub const fn parameters(self) -> &'static [(&'static str, ParameterType)] {
        use ParameterType::{Boolean, Integer, Text};
        match self {
            Action::CreateTrail => &[
                ACCOUNT,
                REGION,
                ("Name", Text),
                ("IsOrganizationTrail", Boolean),
                ("SlsProjectArn", Text),
            ],
            Action::DeleteTrail | Action::StartLogging | Action::StopLogging => {
                &[ACCOUNT, REGION, ("Name", Text)]
            }
            Action::CreateDeliveryHistoryJob => {
                &[ACCOUNT, REGION, ("TrailName", Text), ("ClientToken", Text)]
            }
            Action::ListDeliveryHistoryJobs => &[
                ACCOUNT,
                REGION,
                ("PageNumber", Integer),
                ("PageSize", Integer),
            ],
            Action::GetDeliveryHistoryJob
            | Action::DeleteDeliveryHistoryJob
            | Action::StartDeliveryHistoryJob
            | Action::ClaimDeliveryHistoryJob
            | Action::StopDeliveryHistoryJob => &[ACCOUNT, REGION, ("JobId", Integer)],
            Action::CompleteDeliveryHistoryJob => {
                &[ACCOUNT, REGION, ("JobId", Integer), ("Outcome", Text)]
            }
            Action::HeartbeatDeliveryHistoryJob => &[
                ACCOUNT,
                REGION,
                ("JobId", Integer),
                ("Attempt", Integer),
                ("Delivered", Integer),
            ],
            Action::ReportDeliveryHistoryJobRegion => &[
                ACCOUNT,
                REGION,
                ("JobId", Integer),
                ("Attempt", Integer),
                ("Region", Text),
                ("Status", Integer),
            ],
            Action::FinishDeliveryHistoryJob => &[
                ACCOUNT,
                REGION,
                ("JobId", Integer),
                ("Attempt", Integer),
                ("Outcome", Text),
            ],
            Action::HandleTimeouts => &[ACCOUNT, REGION],
        }
    }
}

const ACCOUNT: (&str, ParameterType) = ("AccountId", ParameterType::Integer);
const REGION: (&str, ParameterType) = ("RegionId", ParameterType::Text);

/// What a parameter's text must be. Over HTTP every parameter is text; a host whose requests
/// are typed (JSON bodies: the replay tool) checks the types with this before it hands the
/// values over as text, and answers a mismatch with [`ApiError::invalid_value`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParameterType {
    /// A string (a name, a region, a token, an outcome).
    Text,
    /// A non-negative decimal integer: ASCII digits only, no sign.
    Integer,
    /// `true` or `false`, in any case (`True`, `FALSE`: the official SDK sends `False`).
    Boolean,
}

/// Who is calling, as the host knows it from outside the parameters.
///
/// A server takes the account from the request's signature and the region from its endpoint;
/// the replay tool has both as parameters of its lines and leaves this empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Caller<'r> {
    /// The calling account. `Some`: every `AccountId` parameter is ignored (a caller cannot
    /// speak for another account). `None`: the `AccountId` parameter is mandatory.
    pub account: Option<AccountId>,
    /// The region of the endpoint: used when the request has no `RegionId` parameter. `None`:
    /// `RegionId` is mandatory.
    pub default_region: Option<&'r Region>,
}

/// A request, read and checked: a mutation for [`JobScheduler::apply`](crate::JobScheduler::apply)
/// (or a replicated log), or a query with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiRequest {
    /// A mutation: every action but the two queries. `HandleTimeouts` is
    /// [`Command::HandleTimeout`]; `ClaimDeliveryHistoryJob` is [`Command::ClaimJob`] with a
    /// `JobId` and [`Command::ClaimNext`] without one.
    Command(Command),
    /// `GetDeliveryHistoryJob`: [`JobScheduler::job`](crate::JobScheduler::job) and
    /// [`JobScheduler::job_regions`](crate::JobScheduler::job_regions).
    GetJob {
        /// The caller.
        account: AccountId,
        /// The job asked for.
        job: JobId,
    },
    /// `ListDeliveryHistoryJobs`: [`JobScheduler::list_jobs`](crate::JobScheduler::list_jobs)
    /// (which checks the ranges of the page parameters).
    ListJobs {
        /// The caller.
        account: AccountId,
        /// `PageNumber`, default [`DEFAULT_PAGE_NUMBER`].
        page_number: u32,
        /// `PageSize`, default [`DEFAULT_PAGE_SIZE`].
        page_size: u32,
    },
}

/// Reads the request of `action` from its parameters, `(name, value)` pairs as text (a query
/// string's or a form's, decoded), into an [`ApiRequest`]. No allocation, no panic.
///
/// Names are case-sensitive, as the API's are; parameters the action does not read are
/// ignored. The checks run in the order of [`Action::parameters`], and the first that fails
/// decides:
///
/// Errors cite parameter names as this module spells them (`'static`), so they borrow
/// nothing from `params`.
///
/// - `AccountId` (unless `caller.account` is given) and `RegionId` (unless absent and
///   `caller.default_region` is given), then the action's own parameters;
/// - a mandatory parameter that is absent: [`ApiError::MissingParameter`];
/// - a parameter read that appears more than once: [`ApiError::RepeatedParameter`];
/// - a value that is invalid: [`ApiError::invalid_value`] of its name (a trail name is
///   [`Error::InvalidTrailName`](crate::Error::InvalidTrailName), a region or token [`Error::InvalidParameterValue`](crate::Error::InvalidParameterValue), as the
///   value types check them). Integers are ASCII digits (`u64`; `Attempt`, `PageNumber` and
///   `PageSize` must fit a `u32`); booleans are `true` or `false` in any case; `Outcome` is
///   `Completed` or `Failed`; `Status` is a [`JobStatus`] code, 0 to 3. `SlsProjectArn` counts
///   by its presence.
///
/// The ranges the scheduler checks (`PageNumber >= 1`, `PageSize <= 100`) are left to it.
/// A worker action's [`Lease`] is built from the account, `JobId` and `Attempt`; its
/// `expires_at` is `Timestamp(0)` (the scheduler checks `(job, attempt)` only).
///
/// # Errors
///
/// As above; never anything else.
///
/// # Examples
///
/// ```
/// use trail_backfill::api::{parse_request, Action, ApiError, ApiRequest, Caller};
/// use trail_backfill::{AccountId, Command, Region, TrailKind};
///
/// let hangzhou = Region::new("cn-hangzhou")?;
/// // A server: the account from the signature, the region from the endpoint.
/// let caller = Caller { account: Some(AccountId(7)), default_region: Some(&hangzhou) };
/// let params = [("Name", "trail-name"), ("IsOrganizationTrail", "False"), ("SlsProjectArn", "acs:log:...")];
/// let request = parse_request(Action::CreateTrail, params.into_iter(), &caller)?;
/// let ApiRequest::Command(Command::CreateTrail { account, region, spec }) = request else {
///     unreachable!()
/// };
/// assert_eq!((account, region, spec.kind), (AccountId(7), hangzhou.clone(), TrailKind::SingleAccount));
/// assert!(spec.delivers_to_sls);
///
/// let params = [("JobId", "16602"), ("JobId", "16603")];
/// let refused = parse_request(Action::GetDeliveryHistoryJob, params.into_iter(), &caller);
/// assert_eq!(refused, Err(ApiError::RepeatedParameter("JobId")));
///
/// let refused = parse_request(Action::DeleteDeliveryHistoryJob, [].into_iter(), &caller);
/// assert_eq!(refused, Err(ApiError::MissingParameter("JobId")));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse_request<'n, 'v, I>(
    action: Action,
    params: I,
    caller: &Caller<'_>,
) -> Result<ApiRequest, ApiError<'static>>
where
    I: Iterator<Item = (&'n str, &'v str)> + Clone,
{
    let params = Params(params);
    let account = match caller.account {
        Some(account) => account,
        None => AccountId(params.integer("AccountId")?),
    };
    let region = match (params.optional("RegionId")?, caller.default_region) {
        (Some(text), _) => Region::new(text)?,
        (None, Some(region)) => region.clone(),
        (None, None) => return Err(ApiError::MissingParameter("RegionId")),
    };
    let command = match action {
        Action::CreateTrail => {
            let name = params.trail_name("Name")?;
            let kind = match params.optional_boolean("IsOrganizationTrail")? {
                Some(true) => TrailKind::Organization,
                Some(false) | None => TrailKind::SingleAccount,
            };
            let delivers_to_sls = params.optional("SlsProjectArn")?.is_some();
            let spec = TrailSpec {
                name,
                kind,
                delivers_to_sls,
            };
            Command::CreateTrail {
                account,
                region,
                spec,
            }
        }
        Action::DeleteTrail => Command::DeleteTrail {
            account,
            region,
            name: params.trail_name("Name")?,
        },
        Action::StartLogging => Command::StartLogging {
            account,
            region,
            name: params.trail_name("Name")?,
        },
        Action::StopLogging => Command::StopLogging {
            account,
            region,
            name: params.trail_name("Name")?,
        },
        Action::CreateDeliveryHistoryJob => {
            let trail_name = params.trail_name("TrailName")?;
            let client_token = match params.optional("ClientToken")? {
                Some(token) => Some(ClientToken::new(token)?),
                None => None,
            };
            Command::CreateJob(CreateJob {
                account,
                region,
                trail_name,
                client_token,
            })
        }
        Action::GetDeliveryHistoryJob => {
            return Ok(ApiRequest::GetJob {
                account,
                job: params.job_id()?,
            });
        }
        Action::ListDeliveryHistoryJobs => {
            return Ok(ApiRequest::ListJobs {
                account,
                page_number: params
                    .optional_u32("PageNumber")?
                    .unwrap_or(DEFAULT_PAGE_NUMBER),
                page_size: params
                    .optional_u32("PageSize")?
                    .unwrap_or(DEFAULT_PAGE_SIZE),
            });
        }
        Action::DeleteDeliveryHistoryJob => Command::DeleteJob {
            account,
            job: params.job_id()?,
        },
        Action::StartDeliveryHistoryJob => Command::StartJob {
            account,
            job: params.job_id()?,
        },
        Action::CompleteDeliveryHistoryJob => Command::CompleteJob {
            account,
            job: params.job_id()?,
            outcome: params.outcome()?,
        },
        Action::ClaimDeliveryHistoryJob => match params.optional_integer("JobId")? {
            Some(job) => Command::ClaimJob {
                account,
                job: JobId(job),
            },
            None => Command::ClaimNext,
        },
        Action::HeartbeatDeliveryHistoryJob => Command::Heartbeat {
            lease: params.lease(account)?,
            delivered: params.optional_integer("Delivered")?.unwrap_or(0),
        },
        Action::ReportDeliveryHistoryJobRegion => Command::ReportRegion {
            lease: params.lease(account)?,
            region: params.reported_region()?,
            status: params.status()?,
        },
        Action::FinishDeliveryHistoryJob => Command::FinishJob {
            lease: params.lease(account)?,
            outcome: params.outcome()?,
        },
        Action::StopDeliveryHistoryJob => Command::StopJob {
            account,
            job: params.job_id()?,
        },
        Action::HandleTimeouts => Command::HandleTimeout,
    };
    Ok(ApiRequest::Command(command))
}

/// The parameters of a request, read by name.
struct Params<I>(I);

impl<'n, 'v, I> Params<I>
where
    I: Iterator<Item = (&'n str, &'v str)> + Clone,
{
    /// The parameter's value, if present once.
    fn optional(&self, name: &'static str) -> Result<Option<&'v str>, ApiError<'static>> {
        let mut values = self
            .0
            .clone()
            .filter(|&(key, _)| key == name)
            .map(|(_, value)| value);
        match (values.next(), values.next()) {
            (first, None) => Ok(first),
            (_, Some(_)) => Err(ApiError::RepeatedParameter(name)),
        }
    }

    fn required(&self, name: &'static str) -> Result<&'v str, ApiError<'static>> {
        self.optional(name)?.ok_or(ApiError::MissingParameter(name))
    }

    fn integer(&self, name: &'static str) -> Result<u64, ApiError<'static>> {
        parse_integer(self.required(name)?).ok_or(ApiError::invalid_value(name))
    }

    fn optional_integer(&self, name: &'static str) -> Result<Option<u64>, ApiError<'static>> {
        self.optional(name)?
            .map(|text| parse_integer(text).ok_or(ApiError::invalid_value(name)))
            .transpose()
    }

    fn optional_u32(&self, name: &'static str) -> Result<Option<u32>, ApiError<'static>> {
        self.optional(name)?
            .map(|text| {
                parse_integer(text)
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or(ApiError::invalid_value(name))
            })
            .transpose()
    }

    fn optional_boolean(&self, name: &'static str) -> Result<Option<bool>, ApiError<'static>> {
        self.optional(name)?
            .map(|text| parse_boolean(text).ok_or(ApiError::invalid_value(name)))
            .transpose()
    }

    fn trail_name(&self, name: &'static str) -> Result<TrailName, ApiError<'static>> {
        Ok(TrailName::new(self.required(name)?)?)
    }

    fn job_id(&self) -> Result<JobId, ApiError<'static>> {
        Ok(JobId(self.integer("JobId")?))
    }

    /// `Outcome`: `Completed` or `Failed`.
    fn outcome(&self) -> Result<JobOutcome, ApiError<'static>> {
        match self.required("Outcome")? {
            "Completed" => Ok(JobOutcome::Completed),
            "Failed" => Ok(JobOutcome::Failed),
            _ => Err(ApiError::invalid_value("Outcome")),
        }
    }

    /// The lease a worker action speaks for: `account`, `JobId`, `Attempt`.
    fn lease(&self, account: AccountId) -> Result<Lease, ApiError<'static>> {
        let job = self.job_id()?;
        let attempt = self.integer("Attempt")?;
        let attempt = u32::try_from(attempt).map_err(|_| ApiError::invalid_value("Attempt"))?;
        Ok(Lease {
            account,
            job,
            attempt,
            // The scheduler checks `(job, attempt)` against the job, never `expires_at`.
            expires_at: Timestamp(0),
        })
    }

    /// `Region` of a region report: the rules of `RegionId`, reported under its own name.
    fn reported_region(&self) -> Result<Region, ApiError<'static>> {
        Region::new(self.required("Region")?).map_err(|_| ApiError::invalid_value("Region"))
    }

    /// `Status` of a region report: a job status code, 0 to 3.
    fn status(&self) -> Result<JobStatus, ApiError<'static>> {
        parse_integer(self.required("Status")?)
            .and_then(|n| u8::try_from(n).ok())
            .and_then(JobStatus::from_code)
            .ok_or(ApiError::invalid_value("Status"))
    }
}

/// A non-negative decimal integer that fits a `u64`: ASCII digits only (no sign, no spaces).
fn parse_integer(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `true` or `false` in any case.
fn parse_boolean(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}
