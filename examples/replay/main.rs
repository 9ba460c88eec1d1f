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
//! | `ClaimDeliveryHistoryJob` | optional `JobId`: that job (`claim_job`), or without it the next claimable job of any account (`claim_next`; the line's `AccountId` is then ignored) |
//! | `HeartbeatDeliveryHistoryJob` | `JobId`, `Attempt`; optional `Delivered` (events delivered so far, default 0) |
//! | `ReportDeliveryHistoryJobRegion` | `JobId`, `Attempt`, `Region` (a region id), `Status` (0 to 3, as `JobStatus`) |
//! | `FinishDeliveryHistoryJob` | `JobId`, `Attempt`, `Outcome` (`Completed` or `Failed`) |
//! | `StopDeliveryHistoryJob` | `JobId` (the caller cancels its job) |
//! | `HandleTimeouts` | none (the host's timer: leases that ran out, retries, deadlines) |
//!
//! The worker actions (`Heartbeat…`, `Report…Region`, `Finish…`) speak for the lease built
//! from the line's `AccountId`, `JobId` and `Attempt`: `(JobId, Attempt)` is the fencing token
//! that a claim answered, so a worker whose lease was lost is refused. The scheduler runs with
//! `Config::DEFAULT`'s worker settings: leases of 300 s, 3 attempts, a retry backoff of 60 s
//! doubling per attempt (counted from the lease's end, at most an hour), a day per job.
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
//! {"RequestId":"A208C12C-F0C7-B709-0CAA-000000000025","JobId":16602,"JobStatus":0,"TrailName":"trail-name","HomeRegion":"cn-hangzhou","CreatedTime":"2021-05-27T07:15:03Z","StartTime":"2021-02-26T07:15:03Z","EndTime":"2021-05-27T07:10:00Z","UpdatedTime":"2021-05-27T07:15:03Z","Status":[],"Attempt":0,"Delivered":0}
//! ```
//!
//! | `Action` | answer fields after `RequestId` |
//! |---|---|
//! | `CreateTrail` | `Name`, `HomeRegion` |
//! | `DeleteTrail`, `DeleteDeliveryHistoryJob` | none |
//! | `StartLogging`, `StopLogging` | `Changed` (false when the trail already was in that state) |
//! | `CreateDeliveryHistoryJob` | `JobId` (the same one again when a `ClientToken` is replayed) |
//! | `GetDeliveryHistoryJob` | `JobId`, `JobStatus` (0 initializing, 1 delivering, 2 completed, 3 failed), `TrailName`, `HomeRegion`, `CreatedTime`, `StartTime` and `EndTime` (the events to re-deliver), `UpdatedTime`, then `Status` (the regions workers reported, by region id: `[{"Region": "cn-hangzhou", "Status": 1}, ..]`, possibly empty), `Attempt` (leases granted so far), `Delivered` (events delivered, from heartbeats), and `FailureReason` (`Reported`, `LeaseExpired`, `DeadlineExceeded` or `Stopped`) when the job failed |
//! | `ListDeliveryHistoryJobs` | `DeliveryHistoryJobs` (objects of `GetDeliveryHistoryJob`'s fields up to `UpdatedTime`, newest first), `PageNumber`, `PageSize`, `TotalCount` |
//! | `StartDeliveryHistoryJob`, `CompleteDeliveryHistoryJob` | `JobId`, `JobStatus`, `Changed` |
//! | `ClaimDeliveryHistoryJob` | `JobId`, `AccountId`, `Attempt`, `LeaseExpiresAt`; `"JobId": null` alone when there is nothing to claim |
//! | `HeartbeatDeliveryHistoryJob` | `LeaseExpiresAt` (the lease's new end) |
//! | `ReportDeliveryHistoryJobRegion`, `FinishDeliveryHistoryJob`, `StopDeliveryHistoryJob` | `Changed` (false for a report of a status the region already passed, a repeated finish, a stop of a finished job) |
//! | `HandleTimeouts` | `LeasesExpired`, `JobsFailed`, `NextTimeout` (when to call it again: `poll_timeout()` after the call, or `null` when no job is active) |
//!
//! A request that fails gets `HttpStatus`, `Code` and `Message`, and replay goes on with the
//! next line. The scheduler's errors answer as the API does (`Error::code`,
//! `Error::http_status`, its `Display`); a line that is not a JSON object, or lacks or
//! garbles a parameter, gets a 400 `InvalidParameterValue` or `MissingParameter`, an unknown
//! action a 404 `InvalidAction.NotFound`. Parameters and answers are those of the library's
//! `api` module (feature `api`), which a server uses too: this tool only reads JSON lines,
//! checks the JSON types of the parameters (`"JobId": "16602"` is refused, a string where the
//! API takes an integer) and hands them to it as text.
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

use trail_backfill::api::{self, ApiError, Reply};
use trail_backfill::{Config, JobScheduler, TrailKind};

mod parse;

pub use parse::parse_at;

/// The built-in scenario, replayed when no input is named.
pub const SCENARIO: &str = include_str!("../scenario.jsonl");

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
    let request_id = request_id(number);
    let reply = Reply {
        request_id: &request_id,
        host_id: None,
    };
    let mut out = String::new();
    answer(scheduler, line, &reply, &mut out).expect("a String always takes the answer");
    Some(out)
}

/// Reads one request line, carries it out, and writes its answer (or its error) on `out`:
/// reading JSON is the tool's; the API's parameters and answers are `trail_backfill::api`'s.
fn answer(
    scheduler: &mut Scheduler,
    line: &[u8],
    reply: &Reply,
    out: &mut String,
) -> std::fmt::Result {
    let value: serde_json::Value = match serde_json::from_slice(line) {
        Ok(value) => value,
        Err(e) => {
            let message = format!("The request is not valid JSON: {e}.");
            return reply.write_error(out, &ApiError::MalformedRequest(&message));
        }
    };
    let Some(object) = value.as_object() else {
        let error = ApiError::MalformedRequest("The request is not a JSON object.");
        return reply.write_error(out, &error);
    };
    match parse::parse(object) {
        Ok(request) => api::respond(scheduler, &request.request, request.at, reply, out).map(drop),
        Err(error) => reply.write_error(out, &error),
    }
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
// The summary

/// Writes a table of the trails and jobs.
pub fn write_summary(s: &Scheduler, out: &mut dyn Write) -> io::Result<()> {
    let stats = s.stats();
    writeln!(
        out,
        "clock {}, next job id {}: {} trail(s), {} job(s) ({} active, {} leased), {} token record(s), {} job(s) evicted",
        s.clock(),
        s.next_job_id(),
        stats.trails,
        stats.jobs,
        stats.active_jobs,
        stats.leased_jobs,
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
            job.attempt.to_string(),
            match job.lease_expires_at {
                Some(end) => format!("until {end}"),
                None if job.is_active() && job.attempt > 0 => format!("retry {}", job.not_before),
                None => "-".to_owned(),
            },
            job.delivered.to_string(),
            job.failure.map_or("-", |reason| reason.name()).to_owned(),
        ]
    });
    writeln!(out)?;
    write_table(
        out,
        &[
            "JOB",
            "ACCOUNT",
            "REGION",
            "TRAIL",
            "STATUS",
            "CREATED",
            "UPDATED",
            "EVENTS",
            "ATTEMPT",
            "LEASE",
            "DELIVERED",
            "FAILURE",
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
