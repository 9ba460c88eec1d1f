//! Reading a request line: its action, its common parameters, and the action's own
//! parameters by name, each checked as the API checks it.

use serde_json::{Map, Value};
use trail_backfill::{
    AccountId, Error, JobId, JobOutcome, JobStatus, Lease, Parameter, Region, Timestamp, TrailName,
};

use super::answer::Failure;

/// The actions a request line can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    CreateTrail,
    DeleteTrail,
    StartLogging,
    StopLogging,
    CreateDeliveryHistoryJob,
    GetDeliveryHistoryJob,
    ListDeliveryHistoryJobs,
    DeleteDeliveryHistoryJob,
    StartDeliveryHistoryJob,
    CompleteDeliveryHistoryJob,
    ClaimDeliveryHistoryJob,
    HeartbeatDeliveryHistoryJob,
    ReportDeliveryHistoryJobRegion,
    FinishDeliveryHistoryJob,
    StopDeliveryHistoryJob,
    HandleTimeouts,
}

impl Action {
    const ALL: [Action; 16] = [
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

    /// The action named `name`: each variant is named as its action.
    fn from_name(name: &str) -> Option<Action> {
        Action::ALL
            .into_iter()
            .find(|action| format!("{action:?}") == name)
    }
}

/// A request line, its common parameters checked.
pub struct Request<'a> {
    pub action: Action,
    pub at: Timestamp,
    pub account: AccountId,
    pub region: Region,
    pub params: Params<'a>,
}

impl<'a> Request<'a> {
    /// Checks the common parameters, in the order `Action`, `At`, `AccountId`, `RegionId`.
    pub fn parse(object: &'a Map<String, Value>) -> Result<Request<'a>, Failure> {
        let params = Params(object);
        let name = params.string("Action")?;
        let action = Action::from_name(name).ok_or_else(|| Failure::invalid_action(name))?;
        let at = parse_at(params.string("At")?).ok_or_else(|| Failure::invalid("At"))?;
        let account = AccountId(params.integer("AccountId")?);
        let region =
            params.string_or("RegionId", Error::InvalidParameterValue(Parameter::Region))?;
        let region = Region::new(region)?;
        Ok(Request {
            action,
            at,
            account,
            region,
            params,
        })
    }

    /// The trail named by parameter `name` (`Name` or `TrailName`).
    pub fn trail_name(&self, name: &'static str) -> Result<TrailName, Failure> {
        Ok(TrailName::new(
            self.params.string_or(name, Error::InvalidTrailName)?,
        )?)
    }

    pub fn job_id(&self) -> Result<JobId, Failure> {
        Ok(JobId(self.params.integer("JobId")?))
    }

    /// `Outcome`: `Completed` or `Failed`.
    pub fn outcome(&self) -> Result<JobOutcome, Failure> {
        match self.params.string("Outcome")? {
            "Completed" => Ok(JobOutcome::Completed),
            "Failed" => Ok(JobOutcome::Failed),
            _ => Err(Failure::invalid("Outcome")),
        }
    }

    /// The lease a worker action speaks for, from the line's `AccountId`, `JobId` and
    /// `Attempt` (checked in that order).
    pub fn lease(&self) -> Result<Lease, Failure> {
        let job = self.job_id()?;
        let attempt = self.params.integer("Attempt")?;
        let attempt = u32::try_from(attempt).map_err(|_| Failure::invalid("Attempt"))?;
        Ok(Lease {
            account: self.account,
            job,
            attempt,
            // The scheduler checks `(job, attempt)` against the job, never `expires_at` (it is
            // what the scheduler granted, for the worker's information), so any value does.
            expires_at: Timestamp(0),
        })
    }

    /// `Region` of a region report: the same rules as `RegionId`.
    pub fn reported_region(&self) -> Result<Region, Failure> {
        let text = self.params.string("Region")?;
        Region::new(text).map_err(|_| Failure::invalid("Region"))
    }

    /// `Status` of a region report: a job status code, 0 to 3.
    pub fn status(&self) -> Result<JobStatus, Failure> {
        u8::try_from(self.params.integer("Status")?)
            .ok()
            .and_then(JobStatus::from_code)
            .ok_or_else(|| Failure::invalid("Status"))
    }
}

/// The parameters of a request, read by name.
pub struct Params<'a>(&'a Map<String, Value>);

impl Params<'_> {
    /// The parameter, unless it is absent or `null`.
    pub fn get(&self, name: &'static str) -> Option<&Value> {
        self.0.get(name).filter(|value| !value.is_null())
    }

    fn required(&self, name: &'static str) -> Result<&Value, Failure> {
        self.get(name).ok_or_else(|| Failure::missing(name))
    }

    /// A required string; anything else is `InvalidParameterValue`.
    pub fn string(&self, name: &'static str) -> Result<&str, Failure> {
        self.required(name)?
            .as_str()
            .ok_or_else(|| Failure::invalid(name))
    }

    /// A required string; anything else is answered with the scheduler's own `error`.
    fn string_or(&self, name: &'static str, error: Error) -> Result<&str, Failure> {
        Ok(self.required(name)?.as_str().ok_or(error)?)
    }

    /// A required non-negative integer.
    pub fn integer(&self, name: &'static str) -> Result<u64, Failure> {
        self.required(name)?
            .as_u64()
            .ok_or_else(|| Failure::invalid(name))
    }

    /// An optional page parameter: `error` unless it is an integer that fits a `u32`.
    pub fn page(&self, name: &'static str, default: u32, error: Error) -> Result<u32, Failure> {
        match self.get(name) {
            None => Ok(default),
            Some(value) => Ok(value
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or(error)?),
        }
    }

    /// An optional non-negative integer.
    pub fn optional_integer(&self, name: &'static str) -> Result<Option<u64>, Failure> {
        self.get(name)
            .map(|value| value.as_u64().ok_or_else(|| Failure::invalid(name)))
            .transpose()
    }

    /// An optional boolean, `false` when absent.
    pub fn flag(&self, name: &'static str) -> Result<bool, Failure> {
        match self.get(name) {
            None => Ok(false),
            Some(value) => value.as_bool().ok_or_else(|| Failure::invalid(name)),
        }
    }

    /// Whether an optional string parameter is present.
    pub fn has_string(&self, name: &'static str) -> Result<bool, Failure> {
        match self.get(name) {
            None => Ok(false),
            Some(value) if value.is_string() => Ok(true),
            Some(_) => Err(Failure::invalid(name)),
        }
    }
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ` (UTC, years 1970 to 9999, no leap seconds).
pub fn parse_at(text: &str) -> Option<Timestamp> {
    // `d` stands for an ASCII digit; every other byte must be there as it is.
    const SHAPE: &[u8] = b"dddd-dd-ddTdd:dd:ddZ";
    let bytes = text.as_bytes();
    let shaped = bytes.len() == SHAPE.len()
        && bytes.iter().zip(SHAPE).all(|(&byte, &shape)| match shape {
            b'd' => byte.is_ascii_digit(),
            _ => byte == shape,
        });
    if !shaped {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<u64>().ok();
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    let valid = year >= 1970
        && (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60;
    valid.then(|| {
        Timestamp(days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second)
    })
}

fn days_in_month(year: u64, month: u64) -> u64 {
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date (year 1970 or later) of the proleptic Gregorian calendar:
/// Howard Hinnant's `days_from_civil`, with years starting on March 1st so that the leap day
/// ends a year.
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year % 400; // 0..=399
    let month_from_march = (month + 9) % 12; // March is 0, February 11
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1; // 0..=365
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468 // 719 468 days from 0000-03-01 to 1970-01-01
}
