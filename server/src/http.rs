//! The HTTP side: axum routes, authentication, parameters, and the hand-off to the engine.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use tokio::sync::oneshot;
use trail_backfill::api::{Action, ApiError, Caller, Reply, parse_request};
use trail_backfill::{AccountId, Region, Timestamp};

use crate::auth::{self, Nonces, Signed};
use crate::engine::{self, Answer, Work};
use crate::keys::{Keys, Role};
use crate::metrics::Metrics;

/// The largest body accepted (a form body; the SDK sends parameters in the query).
pub const MAX_BODY: usize = 64 * 1024;
/// The most parameters a request may carry (query and form together).
pub const MAX_PARAMS: usize = 64;
/// The API version served.
pub const VERSION: &str = "2020-07-06";

/// What every handler shares.
pub struct Shared {
    /// The access keys.
    pub keys: Keys,
    /// Nonces seen in the last 15 minutes.
    pub nonces: Mutex<Nonces>,
    /// The engine's queue.
    pub engine: Mutex<Sender<Work>>,
    /// The region of a request without `RegionId`.
    pub region: Region,
    /// `HostId` of error answers.
    pub host_id: String,
    /// Counters.
    pub metrics: &'static Metrics,
    /// RequestIds: a random prefix per process, then a counter.
    pub request_prefix: u64,
    /// The counter.
    pub request_counter: AtomicU64,
}

type App = &'static Shared;

/// The routes.
pub fn router(shared: App) -> Router {
    Router::new()
        .route("/", any(api))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics))
        .route("/debug/digest", get(debug_digest))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(shared)
}

async fn metrics(State(shared): State<App>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        shared.metrics.render(),
    )
        .into_response()
}

/// The SHA-256 of the scheduler's snapshot bytes, for the crash test; loopback callers only.
async fn debug_digest(
    State(shared): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    if !peer.ip().is_loopback() {
        return StatusCode::FORBIDDEN.into_response();
    }
    let (reply, answer) = oneshot::channel();
    if send(shared, Work::Digest { reply }).is_err() {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    match answer.await {
        Ok(digest) => format!("{digest}\n").into_response(),
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

fn send(shared: App, work: Work) -> Result<(), ()> {
    let sender = shared.engine.lock().map_err(|_| ())?.clone();
    sender.send(work).map_err(|_| ())
}

/// A refusal before the request reaches the API mapping (authentication, transport).
#[derive(Clone, Copy)]
struct Refusal {
    status: u16,
    code: &'static str,
    message: &'static str,
}

const fn refusal(status: u16, code: &'static str, message: &'static str) -> Refusal {
    Refusal {
        status,
        code,
        message,
    }
}

fn json_answer(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "application/json;charset=utf-8")],
        body,
    )
        .into_response()
}

async fn api(
    State(shared): State<App>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let counter = shared.request_counter.fetch_add(1, Ordering::Relaxed);
    let request_id = request_id(shared.request_prefix, counter);
    let (status, body) = match handle(shared, &method, &uri, &headers, &body, &request_id).await {
        Ok(answer) => (answer.status, answer.body),
        Err(Failure::Refused(refusal)) => {
            let mut out = String::new();
            out.push_str("{\"RequestId\":\"");
            out.push_str(&request_id);
            out.push_str("\",\"HostId\":\"");
            out.push_str(&shared.host_id);
            out.push_str("\",\"HttpStatus\":");
            out.push_str(&refusal.status.to_string());
            out.push_str(",\"Code\":\"");
            out.push_str(refusal.code);
            out.push_str("\",\"Message\":\"");
            out.push_str(refusal.message);
            out.push_str("\"}");
            (refusal.status, out)
        }
        Err(Failure::Api(status, body)) => (status, body),
    };
    shared.metrics.request(status, started.elapsed());
    json_answer(status, body)
}

enum Failure {
    Refused(Refusal),
    Api(u16, String),
}

impl From<Refusal> for Failure {
    fn from(refusal: Refusal) -> Failure {
        Failure::Refused(refusal)
    }
}

/// The API's RequestId shape: 32 uppercase hex digits as 8-4-4-4-12.
fn request_id(prefix: u64, counter: u64) -> String {
    let hex = format!("{prefix:016X}{counter:016X}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

async fn handle(
    shared: App,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    request_id: &str,
) -> Result<Answer, Failure> {
    // Headers as (lowercase name, value); a value that is not visible ASCII is left out (if it
    // was signed, the signature then fails).
    let header_list: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());

    let authorization = header("authorization")
        .and_then(auth::parse_authorization)
        .ok_or(refusal(
            400,
            "IncompleteSignature",
            "The request has no valid ACS3-HMAC-SHA256 Authorization header.",
        ))?;
    let key = shared.keys.get(authorization.key_id).ok_or(refusal(
        404,
        "InvalidAccessKeyId.NotFound",
        "Specified access key is not found.",
    ))?;

    let query = auth::parse_pairs(uri.query().unwrap_or("")).ok_or(refusal(
        400,
        "InvalidParameterValue",
        "The query string does not decode.",
    ))?;

    // The signature: every x-acs-* header and host signed, the payload hash the body's.
    let bad_signature = refusal(
        400,
        "SignatureDoesNotMatch",
        "The request signature does not conform to Aliyun standards.",
    );
    let hashed_payload = header("x-acs-content-sha256").ok_or(bad_signature)?;
    if !hashed_payload.eq_ignore_ascii_case(&auth::payload_hash(body))
        || !auth::covers_required(authorization.signed_headers, &header_list)
    {
        return Err(bad_signature.into());
    }
    let signed = Signed {
        method: method.as_str(),
        path: uri.path(),
        query: &query,
        headers: &header_list,
        signed_headers: authorization.signed_headers,
        hashed_payload,
    };
    if !auth::verify(&key.secret, &signed, authorization.signature) {
        tracing::debug!(key = %key.id, "signature does not match");
        return Err(bad_signature.into());
    }

    // Freshness: the date within 15 minutes of ours, the nonce not seen within them.
    let now = engine::now();
    let date = header("x-acs-date")
        .and_then(|d| d.parse::<Timestamp>().ok())
        .ok_or(refusal(
            400,
            "InvalidTimeStamp.Format",
            "Specified time stamp or date value is not well formatted.",
        ))?;
    if date.0.abs_diff(now.0) > auth::WINDOW_SECS {
        return Err(refusal(
            400,
            "InvalidTimeStamp.Expired",
            "Specified time stamp or date value is expired.",
        )
        .into());
    }
    let nonce = header("x-acs-signature-nonce")
        .filter(|n| !n.is_empty() && n.len() <= 128)
        .ok_or(refusal(
            400,
            "MissingSignatureNonce",
            "SignatureNonce is mandatory for this action.",
        ))?;
    let fresh = shared
        .nonces
        .lock()
        .map(|mut nonces| nonces.insert(&key.id, nonce, now.0))
        .unwrap_or(false);
    if !fresh {
        return Err(refusal(
            400,
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        )
        .into());
    }
    if header("x-acs-version").is_some_and(|v| v != VERSION) {
        return Err(refusal(
            400,
            "InvalidVersion",
            "Specified parameter Version is not valid.",
        )
        .into());
    }

    // Parameters: the query's, then a form body's.
    let mut params = query;
    let is_form =
        header("content-type").is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if is_form && !body.is_empty() {
        let text = std::str::from_utf8(body).ok();
        let form = text.and_then(auth::parse_pairs).ok_or(refusal(
            400,
            "InvalidParameterValue",
            "The form body does not decode.",
        ))?;
        params.extend(form);
    }
    if params.len() > MAX_PARAMS {
        return Err(refusal(
            400,
            "InvalidParameterValue",
            "The request has too many parameters.",
        )
        .into());
    }

    let reply = Reply {
        request_id,
        host_id: Some(&shared.host_id),
    };
    let api_error = |error: &ApiError<'_>| {
        let mut out = String::new();
        let _ = reply.write_error(&mut out, error);
        Failure::Api(error.http_status(), out)
    };
    let action_name = header("x-acs-action")
        .or_else(|| {
            params
                .iter()
                .find(|(n, _)| n == "Action")
                .map(|(_, v)| v.as_str())
        })
        .unwrap_or("");
    let action = Action::from_name(action_name).map_err(|e| api_error(&e))?;

    // Who may call it, and as whom.
    let worker_action = is_worker_action(action);
    let account = match (key.role, worker_action) {
        (Role::Customer(account), false) => Some(account),
        // A worker names the account in `AccountId`.
        (Role::Worker, true) => {
            // `claim_next` (a claim without JobId) and `HandleTimeouts` act on no account.
            let claim_next = action == Action::ClaimDeliveryHistoryJob
                && !params.iter().any(|(n, _)| n == "JobId");
            (claim_next || action == Action::HandleTimeouts).then_some(AccountId(0))
        }
        _ => {
            return Err(refusal(
                403,
                "Forbidden.RAM",
                "User not authorized to operate on the specified resource.",
            )
            .into());
        }
    };
    let caller = Caller {
        account,
        default_region: Some(&shared.region),
    };
    let pairs = params.iter().map(|(n, v)| (n.as_str(), v.as_str()));
    let request = parse_request(action, pairs, &caller).map_err(|e| api_error(&e))?;

    let (reply_to, answer) = oneshot::channel();
    let work = Work::Request {
        request,
        request_id: request_id.to_owned(),
        reply: reply_to,
    };
    let unavailable = refusal(
        503,
        "ServiceUnavailable",
        "The service is unavailable. Please try again later.",
    );
    if send(shared, work).is_err() {
        return Err(unavailable.into());
    }
    answer.await.map_err(|_| unavailable.into())
}

/// The actions of the delivery workers (a worker key); every other one is a customer's.
pub fn is_worker_action(action: Action) -> bool {
    matches!(
        action,
        Action::StartDeliveryHistoryJob
            | Action::CompleteDeliveryHistoryJob
            | Action::ClaimDeliveryHistoryJob
            | Action::HeartbeatDeliveryHistoryJob
            | Action::ReportDeliveryHistoryJobRegion
            | Action::FinishDeliveryHistoryJob
            | Action::HandleTimeouts
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_look_like_the_apis() {
        let id = request_id(0x0123_4567_89AB_CDEF, 5);
        assert_eq!(id, "01234567-89AB-CDEF-0000-000000000005");
        assert_ne!(request_id(1, 5), request_id(1, 6));
    }
}
