//! Replays a log of ActionTrail-style API requests against a [`JobScheduler`] and prints the
//! API's answers: the crate used the way a host service uses it.
//!
//! ```text
//! cargo run --example replay                      # the built-in scenario (examples/scenario.jsonl)
//! cargo run --example replay -- requests.jsonl    # a file
//! cargo run --example replay -- - < requests.jsonl  # standard input
//! cargo run --example replay -- --summary --snapshot state.bin requests.jsonl
//! ```
//!
//! # Input
//!
//! One JSON object a line, one API request each. Every request carries the common parameters
//! `At` (the host's clock, `YYYY-MM-DDTHH:MM:SSZ`, UTC), `AccountId` (an integer), `RegionId`
//! and `Action`; the other parameters depend on the action:
//!
//! | `Action` | parameters |
//! |---|---|
//! | `CreateTrail` | `Name`; optional `IsOrganizationTrail` (boolean, default `false`) and `SlsProjectArn` (a string: the trail delivers to Simple Log Service when it is present) |
//! | `DeleteTrail`, `StartLogging`, `StopLogging` | `Name` |
//! | `CreateDeliveryHistoryJob` | `TrailName`; optional `ClientToken` |
//! | `GetDeliveryHistoryJob`, `DeleteDeliveryHistoryJob` | `JobId` (an integer) |
//! | `ListDeliveryHistoryJobs` | optional `PageNumber` (default 1) and `PageSize` (default 20) |
//! | `StartDeliveryHistoryJob` | `JobId` (the delivery worker picks the job up) |
//! | `CompleteDeliveryHistoryJob` | `JobId`, `Outcome` (`Completed` or `Failed`) |
//!
//! ```text
//! {"At": "2021-05-27T07:15:03Z", "AccountId": 1512666876910001, "RegionId": "cn-hangzhou", "Action": "CreateDeliveryHistoryJob", "TrailName": "trail-name", "ClientToken": "123e4567-e89b-12d3-a456-42665544****"}
//! ```
//!
//! Blank lines and lines whose first non-blank character is `#` are skipped (they are
//! comments), but they still count in the line numbers. A `null` parameter counts as absent;
//! parameters the action does not use are ignored.
//!
//! # Output
//!
//! One compact JSON object a line on standard output, one for every request, in the API's
//! shapes. The `RequestId` is built from the request's line number (it ends in it), so the
//! output is the same, byte for byte, on every run:
//!
//! ```text
//! {"RequestId":"C4CA37B7-F8AD-8AFF-80AE-000000000013","JobId":16602}
//! {"RequestId":"808475F0-2EE3-7363-5D71-000000000017","HttpStatus":404,"Code":"TrailNotFoundException","Message":"The specified Trail does not exist."}
//! {"RequestId":"A208C12C-F0C7-B709-0CAA-000000000025","JobId":16602,"JobStatus":0,"TrailName":"trail-name","HomeRegion":"cn-hangzhou","CreatedTime":"2021-05-27T07:15:03Z","StartTime":"2021-02-26T07:15:03Z","EndTime":"2021-05-27T07:10:00Z","UpdatedTime":"2021-05-27T07:15:03Z"}
//! ```
//!
//! | `Action` | answer fields after `RequestId` |
//! |---|---|
//! | `CreateTrail` | `Name`, `HomeRegion` |
//! | `DeleteTrail`, `DeleteDeliveryHistoryJob` | none |
//! | `StartLogging`, `StopLogging` | `Changed` (false when the trail already was in that state) |
//! | `CreateDeliveryHistoryJob` | `JobId` (the same one again when a `ClientToken` is replayed) |
//! | `GetDeliveryHistoryJob` | `JobId`, `JobStatus` (0 initializing, 1 delivering, 2 completed, 3 failed), `TrailName`, `HomeRegion`, `CreatedTime`, `StartTime` and `EndTime` (the events to re-deliver), `UpdatedTime` |
//! | `ListDeliveryHistoryJobs` | `DeliveryHistoryJobs` (objects as above, newest first), `PageNumber`, `PageSize`, `TotalCount` |
//! | `StartDeliveryHistoryJob`, `CompleteDeliveryHistoryJob` | `JobId`, `JobStatus`, `Changed` |
//!
//! A request that fails gets `HttpStatus`, `Code` and `Message`, and replay goes on with the
//! next line. The scheduler's errors answer as the API does (`Error::code`,
//! `Error::http_status`, its `Display`); a line that is not a JSON object, or lacks or
//! garbles a parameter, gets a 400 `InvalidParameterValue` or `MissingParameter`, an unknown
//! action a 400 `InvalidAction`.
//!
//! # Options
//!
//! - `--restore FILE` starts from a snapshot instead of an empty scheduler (loaded in place).
//! - `--snapshot FILE` writes the final state as a snapshot: the scheduler's `postcard` bytes.
//!   A snapshot depends only on the state, so a log replayed in two parts (the second with
//!   `--restore` and `--first-line`) ends with the same bytes as the whole log in one go.
//! - `--first-line N` numbers the first input line `N` (default 1), for the second part of a
//!   split log, so that its RequestIds are those of the whole log.
//! - `--summary` ends with a table of the trails and jobs on standard error.
//!
//! The exit status is 0 whatever the requests' answers; it is 1 only when reading the input
//! or the snapshot, or writing the output or the snapshot, fails, and 2 for bad arguments.

use std::fmt;
use std::fs;
use std::io::{self, BufRead, Write};
use std::process::ExitCode;

use serde::Serialize;
use serde_json::{Map, Value};
use trail_backfill::{
    AccountId, ClientToken, Config, CreateJob, Error, Job, JobId, JobOutcome, JobScheduler,
    Parameter, Region, Timestamp, TrailKind, TrailName, TrailSpec, Transition,
};

/// The built-in scenario, replayed when no input is named.
pub const SCENARIO: &str = include_str!("scenario.jsonl");

/// A scheduler of modest size: 64 trails, 256 jobs, 256 idempotency records.
pub type Scheduler = JobScheduler<64, 256, 256>;

/// The defaults, with a fixed hash key, and job ids starting where the seed page's sample
/// answer (`"JobId": 16602`) does.
pub const CONFIG: Config = Config {
    first_job_id: 16_602,
    hash_seed: 0x7472_6169_6c2d_6266,
    ..Config::DEFAULT
};

/// An empty scheduler, on the heap.
pub fn new_scheduler() -> Box<Scheduler> {
    Box::new(Scheduler::new(CONFIG))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = run(
        &args,
        &mut io::stdin().lock(),
        &mut io::stdout().lock(),
        &mut io::stderr().lock(),
    );
    ExitCode::from(code)
}

// ---------------------------------------------------------------------------------------------
// The command line

const USAGE: &str =
    "usage: replay [--restore FILE] [--snapshot FILE] [--first-line N] [--summary] [INPUT | -]";

/// What the command line asks for.
#[derive(Debug, Default)]
struct Options {
    /// `None`: the built-in scenario; `Some("-")`: standard input.
    input: Option<String>,
    restore: Option<String>,
    snapshot: Option<String>,
    first_line: Option<u64>,
    summary: bool,
    help: bool,
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut options = Options::default();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .cloned()
                .ok_or_else(|| format!("{arg} needs a value"))
        };
        match arg.as_str() {
            "--restore" => options.restore = Some(value()?),
            "--snapshot" => options.snapshot = Some(value()?),
            "--first-line" => {
                let text = value()?;
                let n = text
                    .parse()
                    .map_err(|_| format!("--first-line wants a number, not {text:?}"))?;
                options.first_line = Some(n);
            }
            "--summary" => options.summary = true,
            "-h" | "--help" => options.help = true,
            option if option.starts_with('-') && option != "-" => {
                return Err(format!("unknown option {option}"));
            }
            input if options.input.is_none() => options.input = Some(input.to_owned()),
            extra => return Err(format!("more than one input ({extra})")),
        }
    }
    Ok(options)
}

/// The whole program, with its streams passed in: returns the exit status.
pub fn run(
    args: &[String],
    stdin: &mut dyn BufRead,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> u8 {
    let options = match parse_args(args) {
        Ok(options) => options,
        Err(message) => {
            let _ = writeln!(stderr, "replay: {message}\n{USAGE}");
            return 2;
        }
    };
    if options.help {
        return match writeln!(stdout, "{USAGE}") {
            Ok(()) => 0,
            Err(_) => 1,
        };
    }
    match run_options(&options, stdin, stdout, stderr) {
        Ok(()) => 0,
        Err(message) => {
            let _ = writeln!(stderr, "replay: {message}");
            1
        }
    }
}

fn run_options(
    options: &Options,
    stdin: &mut dyn BufRead,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<(), String> {
    let mut scheduler = new_scheduler();
    if let Some(path) = &options.restore {
        let bytes = fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        restore_snapshot(&mut scheduler, &bytes)
            .map_err(|e| format!("cannot restore {path}: {e}"))?;
    }

    let first_line = options.first_line.unwrap_or(1);
    let result = match options.input.as_deref() {
        None => replay(&mut scheduler, &mut SCENARIO.as_bytes(), first_line, stdout),
        Some("-") => replay(&mut scheduler, stdin, first_line, stdout),
        Some(path) => {
            let file = fs::File::open(path).map_err(|e| format!("cannot open {path}: {e}"))?;
            replay(
                &mut scheduler,
                &mut io::BufReader::new(file),
                first_line,
                stdout,
            )
        }
    };
    result.map_err(|e| e.to_string())?;

    if let Some(path) = &options.snapshot {
        fs::write(path, snapshot(&scheduler)).map_err(|e| format!("cannot write {path}: {e}"))?;
    }
    if options.summary {
        write_summary(&scheduler, stderr).map_err(|e| format!("cannot write the summary: {e}"))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Snapshots

/// The scheduler's snapshot: its `postcard` bytes.
pub fn snapshot(scheduler: &Scheduler) -> Vec<u8> {
    postcard::to_allocvec(scheduler).expect("a scheduler always serializes")
}

/// Loads a snapshot into `scheduler`, in place. Bytes after the snapshot are an error too; on
/// any error the scheduler's content is not to be used.
pub fn restore_snapshot(scheduler: &mut Scheduler, bytes: &[u8]) -> Result<(), String> {
    let mut deserializer = postcard::Deserializer::from_bytes(bytes);
    scheduler
        .restore(&mut deserializer)
        .map_err(|e| e.to_string())?;
    match deserializer.finalize() {
        Ok([]) => Ok(()),
        Ok(rest) => Err(format!("{} bytes after the snapshot", rest.len())),
        Err(e) => Err(e.to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// Replaying lines

/// Why a replay stopped: only reading or writing can stop it.
#[derive(Debug)]
pub enum Fatal {
    /// The input could not be read.
    Read(io::Error),
    /// The output could not be written.
    Write(io::Error),
}

impl fmt::Display for Fatal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fatal::Read(e) => write!(f, "cannot read the input: {e}"),
            Fatal::Write(e) => write!(f, "cannot write the output: {e}"),
        }
    }
}

/// Answers every request of `input`, whose first line is numbered `first_line`, on `out`.
pub fn replay(
    scheduler: &mut Scheduler,
    input: &mut dyn BufRead,
    first_line: u64,
    out: &mut dyn Write,
) -> Result<(), Fatal> {
    let mut line = Vec::new();
    let mut number = first_line;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line).map_err(Fatal::Read)? == 0 {
            break;
        }
        if let Some(response) = respond(scheduler, number, &line) {
            writeln!(out, "{response}").map_err(Fatal::Write)?;
        }
        number = number.saturating_add(1);
    }
    out.flush().map_err(Fatal::Write)
}

/// The response line to input line number `number`, or `None` for a blank or comment line.
pub fn respond(scheduler: &mut Scheduler, number: u64, line: &[u8]) -> Option<String> {
    let line = line.trim_ascii();
    if line.is_empty() || line.starts_with(b"#") {
        return None;
    }
    let reply = handle(scheduler, line).unwrap_or_else(Reply::Error);
    let response = Response {
        request_id: request_id(number),
        reply: &reply,
    };
    Some(serde_json::to_string(&response).expect("a response always serializes"))
}

/// A RequestId for the request on line `number`: shaped like the API's UUIDs, the same on
/// every run, and ending in the line number so that an answer points back at its request.
pub fn request_id(number: u64) -> String {
    let hash = splitmix64(number);
    let more = splitmix64(hash);
    format!(
        "{:08X}-{:04X}-{:04X}-{:04X}-{:012}",
        hash >> 32,
        (hash >> 16) & 0xFFFF,
        hash & 0xFFFF,
        more >> 48,
        number % 1_000_000_000_000
    )
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

// ---------------------------------------------------------------------------------------------
// Requests

/// The actions a request line can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
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
}

impl Action {
    const ALL: [Action; 10] = [
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
    ];

    /// The action named `name`: each variant is named as its action.
    fn from_name(name: &str) -> Option<Action> {
        Action::ALL
            .into_iter()
            .find(|action| format!("{action:?}") == name)
    }
}

/// A request line, its common parameters checked.
struct Request<'a> {
    action: Action,
    at: Timestamp,
    account: AccountId,
    region: Region,
    params: Params<'a>,
}

impl<'a> Request<'a> {
    /// Checks the common parameters, in the order `Action`, `At`, `AccountId`, `RegionId`.
    fn parse(object: &'a Map<String, Value>) -> Result<Request<'a>, Failure> {
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
    fn trail_name(&self, name: &'static str) -> Result<TrailName, Failure> {
        Ok(TrailName::new(
            self.params.string_or(name, Error::InvalidTrailName)?,
        )?)
    }

    fn job_id(&self) -> Result<JobId, Failure> {
        Ok(JobId(self.params.integer("JobId")?))
    }
}

/// The parameters of a request, read by name.
struct Params<'a>(&'a Map<String, Value>);

impl Params<'_> {
    /// The parameter, unless it is absent or `null`.
    fn get(&self, name: &'static str) -> Option<&Value> {
        self.0.get(name).filter(|value| !value.is_null())
    }

    fn required(&self, name: &'static str) -> Result<&Value, Failure> {
        self.get(name).ok_or_else(|| Failure::missing(name))
    }

    /// A required string; anything else is `InvalidParameterValue`.
    fn string(&self, name: &'static str) -> Result<&str, Failure> {
        self.required(name)?
            .as_str()
            .ok_or_else(|| Failure::invalid(name))
    }

    /// A required string; anything else is answered with the scheduler's own `error`.
    fn string_or(&self, name: &'static str, error: Error) -> Result<&str, Failure> {
        Ok(self.required(name)?.as_str().ok_or(error)?)
    }

    /// A required non-negative integer.
    fn integer(&self, name: &'static str) -> Result<u64, Failure> {
        self.required(name)?
            .as_u64()
            .ok_or_else(|| Failure::invalid(name))
    }

    /// An optional page parameter: `error` unless it is an integer that fits a `u32`.
    fn page(&self, name: &'static str, default: u32, error: Error) -> Result<u32, Failure> {
        match self.get(name) {
            None => Ok(default),
            Some(value) => Ok(value
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or(error)?),
        }
    }

    /// An optional boolean, `false` when absent.
    fn flag(&self, name: &'static str) -> Result<bool, Failure> {
        match self.get(name) {
            None => Ok(false),
            Some(value) => value.as_bool().ok_or_else(|| Failure::invalid(name)),
        }
    }

    /// Whether an optional string parameter is present.
    fn has_string(&self, name: &'static str) -> Result<bool, Failure> {
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

// ---------------------------------------------------------------------------------------------
// Responses

/// A response line: the RequestId, then the reply's fields.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Response<'a> {
    request_id: String,
    #[serde(flatten)]
    reply: &'a Reply,
}

/// The fields of a reply, in the order they are printed.
#[derive(Debug, Serialize)]
#[serde(untagged, rename_all_fields = "PascalCase")]
enum Reply {
    /// `CreateTrail`.
    Trail { name: String, home_region: String },
    /// `DeleteTrail`, `DeleteDeliveryHistoryJob`: the RequestId alone.
    Done {},
    /// `StartLogging`, `StopLogging`.
    Logging { changed: bool },
    /// `CreateDeliveryHistoryJob`.
    Created { job_id: u64 },
    /// `GetDeliveryHistoryJob`.
    Job(JobView),
    /// `ListDeliveryHistoryJobs`.
    Page {
        delivery_history_jobs: Vec<JobView>,
        page_number: u32,
        page_size: u32,
        total_count: u32,
    },
    /// `StartDeliveryHistoryJob`, `CompleteDeliveryHistoryJob`.
    Worker {
        job_id: u64,
        job_status: u8,
        changed: bool,
    },
    /// Any failed request.
    Error(Failure),
}

/// A job as `GetDeliveryHistoryJob` and `ListDeliveryHistoryJobs` show it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct JobView {
    job_id: u64,
    job_status: u8,
    trail_name: String,
    home_region: String,
    created_time: String,
    start_time: String,
    end_time: String,
    updated_time: String,
}

impl From<&Job> for JobView {
    fn from(job: &Job) -> JobView {
        JobView {
            job_id: job.id.0,
            job_status: job.status.code(),
            trail_name: job.trail_name.as_str().to_owned(),
            home_region: job.region.as_str().to_owned(),
            created_time: job.created_at.to_string(),
            start_time: job.window_start.to_string(),
            end_time: job.window_end.to_string(),
            updated_time: job.updated_at.to_string(),
        }
    }
}

/// An error answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Failure {
    http_status: u16,
    code: &'static str,
    message: String,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure {
            http_status: error.http_status(),
            code: error.code(),
            message: error.to_string(),
        }
    }
}

impl Failure {
    fn missing(name: &str) -> Failure {
        Failure {
            http_status: 400,
            code: "MissingParameter",
            message: format!(
                "The input parameter \"{name}\" that is mandatory for processing this request is not supplied."
            ),
        }
    }

    fn invalid(name: &str) -> Failure {
        Failure {
            http_status: 400,
            code: "InvalidParameterValue",
            // The same words as the scheduler's own `InvalidParameterValue`.
            message: format!("The specified parameter {name} is invalid."),
        }
    }

    fn invalid_action(name: &str) -> Failure {
        Failure {
            http_status: 400,
            code: "InvalidAction",
            message: format!("The specified action \"{name}\" is not valid."),
        }
    }

    fn malformed(why: String) -> Failure {
        Failure {
            http_status: 400,
            code: "InvalidParameterValue",
            message: why,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Actions

/// Parses one request line and carries it out.
fn handle(scheduler: &mut Scheduler, line: &[u8]) -> Result<Reply, Failure> {
    let value: Value = serde_json::from_slice(line)
        .map_err(|e| Failure::malformed(format!("The request is not valid JSON: {e}.")))?;
    let object = value
        .as_object()
        .ok_or_else(|| Failure::malformed("The request is not a JSON object.".to_owned()))?;
    let request = Request::parse(object)?;
    let s = scheduler;
    match request.action {
        Action::CreateTrail => create_trail(s, &request),
        Action::DeleteTrail => delete_trail(s, &request),
        Action::StartLogging => start_logging(s, &request),
        Action::StopLogging => stop_logging(s, &request),
        Action::CreateDeliveryHistoryJob => create_job(s, &request),
        Action::GetDeliveryHistoryJob => get_job(s, &request),
        Action::ListDeliveryHistoryJobs => list_jobs(s, &request),
        Action::DeleteDeliveryHistoryJob => delete_job(s, &request),
        Action::StartDeliveryHistoryJob => start_job(s, &request),
        Action::CompleteDeliveryHistoryJob => complete_job(s, &request),
    }
}

fn create_trail(s: &mut Scheduler, r: &Request) -> Result<Reply, Failure> {
    let name = r.trail_name("Name")?;
    let kind = match r.params.flag("IsOrganizationTrail")? {
        true => TrailKind::Organization,
        false => TrailKind::SingleAccount,
    };
    let delivers_to_sls = r.params.has_string("SlsProjectArn")?;
    let spec = TrailSpec {
        name,
        kind,
        delivers_to_sls,
    };
    s.create_trail(r.account, &r.region, &spec, r.at)?;
    Ok(Reply::Trail {
        name: spec.name.as_str().to_owned(),
        home_region: r.region.as_str().to_owned(),
    })
}

fn delete_trail(s: &mut Scheduler, r: &Request) -> Result<Reply, Failure> {
    s.delete_trail(r.account, &r.region, &r.trail_name("Name")?)?;
    Ok(Reply::Done {})
}

fn start_logging(s: &mut Scheduler, r: &Request) -> Result<Reply, Failure> {
    let transition = s.start_logging(r.account, &r.region, &r.trail_name("Name")?, r.at)?;
    Ok(Reply::Logging {
        changed: transition == Transition::Changed,
    })
}

fn stop_logging(s: &mut Scheduler, r: &Request) -> Result<Reply, Failure> {
    let transition = s.stop_logging(r.account, &r.region, &r.trail_name("Name")?, r.at)?;
    Ok(Reply::Logging {
        changed: transition == Transition::Changed,
    })
}

fn create_job(s: &mut Scheduler, r: &Request) -> Result<Reply, Failure> {
    let trail_name = r.trail_name("TrailName")?;
    let client_token = match r.params.get("ClientToken") {
        None => None,
        Some(token) => {
            Some(ClientToken::new(token.as_str().ok_or(
                Error::InvalidParameterValue(Parameter::ClientToken),
            )?)?)
        }
    };
    let request = CreateJob {
        account: r.account,
        region: r.region.clone(),
        trail_name,
        client_token,
    };
    let created = s.create_job(&request, r.at)?;
    Ok(Reply::Created {
        job_id: created.job_id.0,
    })
}

fn get_job(s: &mut Scheduler, r: &Request) -> Result<Reply, Failure> {
    let job = s.job(r.account, r.job_id()?).ok_or(Error::JobNotFound)?;
    Ok(Reply::Job(JobView::from(job)))
}

fn list_jobs(s: &mut Scheduler, r: &Request) -> Result<Reply, Failure> {
    let page_number = r.params.page(
        "PageNumber",
        1,
        Error::InvalidParameterValue(Parameter::PageNumber),
    )?;
    let page_size = r.params.page(
        "PageSize",
        20,
        Error::InvalidParameterValue(Parameter::PageSize),
    )?;
    let page = s.list_jobs(r.account, page_number, page_size)?;
    Ok(Reply::Page {
        delivery_history_jobs: page.jobs().map(JobView::from).collect(),
        page_number: page.page_number,
        page_size: page.page_size,
        total_count: page.total_count,
    })
}

fn delete_job(s: &mut Scheduler, r: &Request) -> Result<Reply, Failure> {
    s.delete_job(r.account, r.job_id()?)?;
    Ok(Reply::Done {})
}

fn start_job(s: &mut Scheduler, r: &Request) -> Result<Reply, Failure> {
    let id = r.job_id()?;
    let transition = s.start_job(r.account, id, r.at)?;
    Ok(worker_reply(s, r.account, id, transition))
}

fn complete_job(s: &mut Scheduler, r: &Request) -> Result<Reply, Failure> {
    let id = r.job_id()?;
    let outcome = match r.params.string("Outcome")? {
        "Completed" => JobOutcome::Completed,
        "Failed" => JobOutcome::Failed,
        _ => return Err(Failure::invalid("Outcome")),
    };
    let transition = s.complete_job(r.account, id, outcome, r.at)?;
    Ok(worker_reply(s, r.account, id, transition))
}

/// The worker's answer: the job's status after the call.
fn worker_reply(s: &Scheduler, account: AccountId, id: JobId, transition: Transition) -> Reply {
    Reply::Worker {
        job_id: id.0,
        job_status: s.job(account, id).map_or(0, |job| job.status.code()),
        changed: transition == Transition::Changed,
    }
}

// ---------------------------------------------------------------------------------------------
// The summary

/// Writes a table of the trails and jobs.
pub fn write_summary(s: &Scheduler, out: &mut dyn Write) -> io::Result<()> {
    let stats = s.stats();
    writeln!(
        out,
        "clock {}, next job id {}: {} trail(s), {} job(s) ({} active), {} token record(s), {} job(s) evicted",
        s.clock(),
        s.next_job_id(),
        stats.trails,
        stats.jobs,
        stats.active_jobs,
        stats.tokens,
        stats.jobs_evicted,
    )?;
    let trails = s.trails().map(|trail| {
        vec![
            trail.account.to_string(),
            trail.region.as_str().to_owned(),
            trail.name.as_str().to_owned(),
            match trail.kind {
                TrailKind::SingleAccount => "single-account".to_owned(),
                TrailKind::Organization => "organization".to_owned(),
            },
            if trail.delivers_to_sls { "yes" } else { "no" }.to_owned(),
            trail
                .logging_since
                .map_or_else(|| "-".to_owned(), |since| since.to_string()),
        ]
    });
    writeln!(out)?;
    write_table(
        out,
        &["ACCOUNT", "REGION", "TRAIL", "KIND", "SLS", "LOGGING SINCE"],
        trails.collect(),
    )?;
    let jobs = s.jobs().map(|job| {
        vec![
            job.id.to_string(),
            job.account.to_string(),
            job.region.as_str().to_owned(),
            job.trail_name.as_str().to_owned(),
            format!("{} {}", job.status.code(), job.status),
            job.created_at.to_string(),
            job.updated_at.to_string(),
            format!("{} .. {}", job.window_start, job.window_end),
        ]
    });
    writeln!(out)?;
    write_table(
        out,
        &[
            "JOB", "ACCOUNT", "REGION", "TRAIL", "STATUS", "CREATED", "UPDATED", "EVENTS",
        ],
        jobs.collect(),
    )
}

fn write_table(out: &mut dyn Write, header: &[&str], rows: Vec<Vec<String>>) -> io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|title| title.len()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    let header = header.iter().map(|title| title.to_string()).collect();
    for row in std::iter::once(header).chain(rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, &width)| format!("{cell:width$}"))
            .collect();
        writeln!(out, "{}", cells.join("  ").trim_end())?;
    }
    Ok(())
}
