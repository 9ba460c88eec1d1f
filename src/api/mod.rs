//! The ActionTrail API's requests and answers, written once for every host (feature `api`).
//!
//! A host (an HTTP server, the replay tool) speaks the API: actions named in PascalCase
//! (`CreateDeliveryHistoryJob`), parameters as text (`JobId=16602`), answers as JSON objects
//! with PascalCase fields, [`JobStatus`](crate::JobStatus) as its numeric code and times in
//! ISO-8601. This module is that mapping, so that every host answers alike:
//!
//! 1. [`Action::from_name`] reads the action, [`parse_request`] its parameters (`(name, value)`
//!    pairs) into an [`ApiRequest`]: a [`Command`](crate::Command) for every mutation, or a
//!    query with its arguments. The [`Caller`] supplies what the host knows from outside the
//!    parameters (the account from the signature, the region from the endpoint).
//! 2. The host applies the command (or asks the query), and a [`Reply`] writes the answer
//!    JSON into any [`core::fmt::Write`]: [`Reply::write_effect`], [`Reply::write_job`],
//!    [`Reply::write_job_page`], [`Reply::write_error`]. [`respond`] does both for a host that
//!    owns its scheduler.
//! 3. Every refusal is an [`ApiError`], with the API's `code()` and `http_status()`: the
//!    scheduler's [`Error`](crate::Error)s and the request's own (`MissingParameter`,
//!    `InvalidParameterValue`, `InvalidAction.NotFound`).
//!
//! Like the rest of the crate it is `no_std`, allocates nothing and never panics: errors
//! borrow the names they cite from the request, answers are written piece by piece, and
//! strings are escaped on the way (a `ClientToken` may hold `"` or `\`).
//!
//! # Examples
//!
//! ```
//! use trail_backfill::api::{respond, parse_request, Action, Caller, Reply};
//! use trail_backfill::{AccountId, Config, JobScheduler, Region, Timestamp};
//!
//! let mut scheduler: Box<JobScheduler<4, 8, 8>> = Box::new(JobScheduler::new(Config::DEFAULT));
//! let hangzhou = Region::new("cn-hangzhou").unwrap();
//! let caller = Caller { account: Some(AccountId(7)), default_region: Some(&hangzhou) };
//! let now = Timestamp(1_622_099_703);
//! let mut answers = Vec::new();
//! let requests: [(&str, &[(&str, &str)]); 4] = [
//!     ("CreateTrail", &[("Name", "trail-name"), ("SlsProjectArn", "acs:log:cn-hangzhou:7:project/p")]),
//!     ("StartLogging", &[("Name", "trail-name")]),
//!     ("CreateDeliveryHistoryJob", &[("TrailName", "trail-name"), ("ClientToken", "t-1")]),
//!     ("GetDeliveryHistoryJob", &[("JobId", "1")]),
//! ];
//! for (number, (action, params)) in requests.into_iter().enumerate() {
//!     let request_id = number.to_string();
//!     let reply = Reply { request_id: &request_id, host_id: None };
//!     let mut out = String::new();
//!     let parsed = Action::from_name(action)
//!         .and_then(|action| parse_request(action, params.iter().copied(), &caller));
//!     match parsed {
//!         Ok(request) => { respond(&mut scheduler, &request, now, &reply, &mut out)?; }
//!         Err(error) => reply.write_error(&mut out, &error)?,
//!     }
//!     answers.push(out);
//! }
//! assert_eq!(answers[0], r#"{"RequestId":"0","Name":"trail-name","HomeRegion":"cn-hangzhou"}"#);
//! assert_eq!(answers[2], r#"{"RequestId":"2","JobId":1}"#);
//! assert!(answers[3].starts_with(r#"{"RequestId":"3","JobId":1,"JobStatus":0,"TrailName":"trail-name","#));
//! # Ok::<(), core::fmt::Error>(())
//! ```

mod answer;
mod error;
mod json;
mod request;

pub use answer::{Reply, respond};
pub use error::ApiError;
pub use request::{
    Action, ApiRequest, Caller, DEFAULT_PAGE_NUMBER, DEFAULT_PAGE_SIZE, ParameterType,
    parse_request,
};
