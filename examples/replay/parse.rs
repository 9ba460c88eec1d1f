//! Reading a request line: the replay tool's own fields (`Action`, `At`), then the action's
//! parameters handed to `trail_backfill::api` as text, after their JSON types are checked.

use serde_json::{Map, Value};
use trail_backfill::Timestamp;
use trail_backfill::api::{self, Action, ApiError, ApiRequest, Caller, ParameterType};

/// A request line, read: when it happened and what it asks.
pub struct Request {
    pub at: Timestamp,
    pub request: ApiRequest,
}

/// Reads a request line's object, checking `Action`, `At`, then the action's parameters (the
/// API's `AccountId` and `RegionId` first) as `api::parse_request` does. A parameter of the
/// wrong JSON type (`"JobId": "16602"`) is refused as an invalid value before the others are
/// checked; `null` counts as absent, and parameters the action does not read are ignored.
pub fn parse(object: &Map<String, Value>) -> Result<Request, ApiError<'_>> {
    let action = Action::from_name(string(object, "Action")?)?;
    let at = parse_at(string(object, "At")?).ok_or(ApiError::invalid_value("At"))?;
    let mut params: Vec<(&str, String)> = Vec::new();
    for &(name, kind) in action.parameters() {
        let Some(value) = object.get(name).filter(|value| !value.is_null()) else {
            continue;
        };
        let text = match (kind, value) {
            (ParameterType::Text, Value::String(text)) => text.clone(),
            (ParameterType::Integer, Value::Number(number)) => number.to_string(),
            (ParameterType::Boolean, Value::Bool(flag)) => flag.to_string(),
            _ => return Err(ApiError::invalid_value(name)),
        };
        params.push((name, text));
    }
    let pairs = params.iter().map(|(name, text)| (*name, text.as_str()));
    // Every line names its account and region: nothing comes from outside the line.
    let request = api::parse_request(action, pairs, &Caller::default())?;
    Ok(Request { at, request })
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

/// A required string field of the line; anything else is an invalid value.
fn string<'a>(object: &'a Map<String, Value>, name: &'static str) -> Result<&'a str, ApiError<'a>> {
    match object.get(name) {
        None | Some(Value::Null) => Err(ApiError::MissingParameter(name)),
        Some(Value::String(text)) => Ok(text),
        Some(_) => Err(ApiError::invalid_value(name)),
    }
}
