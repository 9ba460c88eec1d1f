//! The `api` module: every action read from text parameters, every refusal of a request, every
//! answer shape written as valid JSON, and none of it allocating.

use std::fmt::Write;

use serde_json::{Value, json};
use trail_backfill::api::{
    Action, ApiError, ApiRequest, Caller, ParameterType, Reply, parse_request, respond,
};
use trail_backfill::{
    AccountId, ClientToken, Command, Config, CreateJob, Effect, Error, JobCreated, JobId,
    JobOutcome, JobScheduler, JobStatus, Lease, Parameter, Region, TimeoutReport, Timestamp,
    TrailKind, TrailName, TrailSpec, Transition,
};

#[path = "../counting/mod.rs"]
mod counting;
use counting::{CountingAllocator, allocations_during};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

mod read;
mod write;

/// A fixed buffer that is a `fmt::Write`, for writing with no allocation.
struct Buffer {
    bytes: [u8; 2048],
    len: usize,
}

impl Buffer {
    fn new() -> Buffer {
        Buffer {
            bytes: [0; 2048],
            len: 0,
        }
    }
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).expect("UTF-8")
    }
}

impl Write for Buffer {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        self.bytes
            .get_mut(self.len..end)
            .ok_or(std::fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

// The requests the tests read and answer.

// Reading requests

const ACCOUNT: AccountId = AccountId(1512666876910001);

fn hangzhou() -> Region {
    Region::new("cn-hangzhou").unwrap()
}

fn name(text: &str) -> TrailName {
    TrailName::new(text).unwrap()
}

/// Parses with the account and region as parameters (as the replay tool's lines carry them).
fn parse(action: &str, params: &[(&str, &str)]) -> Result<ApiRequest, ApiError<'static>> {
    let mut all = vec![
        ("AccountId", "1512666876910001"),
        ("RegionId", "cn-hangzhou"),
    ];
    all.extend_from_slice(params);
    let action = Action::from_name(action).map_err(|_| ApiError::InvalidParameter("Action"))?;
    parse_request(action, all.into_iter(), &Caller::default())
}

fn command(action: &str, params: &[(&str, &str)]) -> Command {
    match parse(action, params) {
        Ok(ApiRequest::Command(command)) => command,
        other => panic!("{action}: {other:?}"),
    }
}

fn lease(job: u64, attempt: u32) -> Lease {
    Lease {
        account: ACCOUNT,
        job: JobId(job),
        attempt,
        expires_at: Timestamp(0),
    }
}
