//! Alibaba Cloud's V3 request signature (`ACS3-HMAC-SHA256`), checked on every request.
//!
//! The client builds a canonical request
//!
//! ```text
//! METHOD \n CANONICAL_URI \n CANONICAL_QUERY \n CANONICAL_HEADERS \n SIGNED_HEADERS \n HASHED_PAYLOAD
//! ```
//!
//! where the query's pairs are sorted by name and RFC 3986-encoded (only `A-Z a-z 0-9 - _ . ~`
//! left as is, space as `%20`), the canonical headers are the signed ones, lowercased, values
//! trimmed, `name:value\n` sorted by name, and the hashed payload is the `x-acs-content-sha256`
//! header (hex of the body's SHA-256). It signs `ACS3-HMAC-SHA256\n` + hex(sha256(canonical
//! request)) with HMAC-SHA256 under the key's secret and sends
//! `Authorization: ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=a;b;c,Signature=<hex>`.
//!
//! The server rebuilds the same canonical request from what it received (the query decoded
//! then re-encoded canonically, so `+` and `%20` agree) and compares the HMAC in constant time
//! (`Mac::verify_slice`).

use std::collections::HashMap;
use std::fmt::Write as _;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The only algorithm accepted.
pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// How far `x-acs-date` may be from the server's clock, and how long a nonce is remembered.
pub const WINDOW_SECS: u64 = 15 * 60;

/// The parsed `Authorization` header.
#[derive(Debug, PartialEq, Eq)]
pub struct Authorization<'a> {
    /// The AccessKeyId.
    pub key_id: &'a str,
    /// The signed header names, lowercase, as listed (`;`-separated).
    pub signed_headers: &'a str,
    /// The signature, hex.
    pub signature: &'a str,
}

/// Parses `ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..`.
pub fn parse_authorization(value: &str) -> Option<Authorization<'_>> {
    let rest = value.strip_prefix(ALGORITHM)?.strip_prefix(' ')?;
    let (mut key_id, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (name, value) = part.trim().split_once('=')?;
        match name {
            "Credential" => key_id = Some(value),
            "SignedHeaders" => signed_headers = Some(value),
            "Signature" => signature = Some(value),
            _ => return None,
        }
    }
    Some(Authorization {
        key_id: key_id.filter(|k| !k.is_empty())?,
        signed_headers: signed_headers?,
        signature: signature?,
    })
}

/// RFC 3986 encoding: every byte but `A-Z a-z 0-9 - _ . ~` as `%XX` (uppercase hex).
pub fn rfc3986(out: &mut String, raw: &str) {
    for byte in raw.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
}

/// Decodes one `application/x-www-form-urlencoded` component (`+` is a space). `None` on a
/// bad escape or on bytes that are not UTF-8.
pub fn form_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Splits and decodes a query string or a form body into pairs. `None` when a component does
/// not decode.
pub fn parse_pairs(raw: &str) -> Option<Vec<(String, String)>> {
    raw.split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            Some((form_decode(name)?, form_decode(value)?))
        })
        .collect()
}

/// The canonical query string of decoded pairs: sorted by name (then value), each side
/// RFC 3986-encoded, `name=value` joined with `&`.
pub fn canonical_query(pairs: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = pairs.iter().collect();
    sorted.sort();
    let mut out = String::new();
    for (i, (name, value)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        rfc3986(&mut out, name);
        out.push('=');
        rfc3986(&mut out, value);
    }
    out
}

/// The request as the signature sees it.
pub struct Signed<'a> {
    /// `GET`, `POST`, ..
    pub method: &'a str,
    /// The path as sent (already encoded by the client), `/` when empty.
    pub path: &'a str,
    /// The query's decoded pairs.
    pub query: &'a [(String, String)],
    /// Every header as `(lowercase name, value)`; a name may repeat.
    pub headers: &'a [(String, String)],
    /// The `SignedHeaders` list.
    pub signed_headers: &'a str,
    /// The `x-acs-content-sha256` value.
    pub hashed_payload: &'a str,
}

/// The canonical request of the V3 signature.
pub fn canonical_request(request: &Signed<'_>) -> String {
    let mut out = String::new();
    out.push_str(request.method);
    out.push('\n');
    out.push_str(if request.path.is_empty() {
        "/"
    } else {
        request.path
    });
    out.push('\n');
    out.push_str(&canonical_query(request.query));
    out.push('\n');
    for name in request.signed_headers.split(';') {
        let mut values: Vec<&str> = request
            .headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.trim())
            .collect();
        values.sort_unstable();
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(request.signed_headers);
    out.push('\n');
    out.push_str(request.hashed_payload);
    out
}

/// `ACS3-HMAC-SHA256\n` + hex(sha256(canonical request)).
pub fn string_to_sign(canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

/// The signature a client with `secret` sends, hex (for clients: the load generator, tests).
pub fn sign(secret: &str, request: &Signed<'_>) -> String {
    let mut mac = mac(secret);
    mac.update(string_to_sign(&canonical_request(request)).as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `signature` (hex) is `request`'s under `secret`, compared in constant time.
pub fn verify(secret: &str, request: &Signed<'_>, signature: &str) -> bool {
    let Ok(claimed) = hex::decode(signature) else {
        return false;
    };
    let mut mac = mac(secret);
    mac.update(string_to_sign(&canonical_request(request)).as_bytes());
    mac.verify_slice(&claimed).is_ok()
}

fn mac(secret: &str) -> Hmac<Sha256> {
    // HMAC takes a key of any length: this cannot fail.
    <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!())
}

/// Whether the signed header list is well formed and covers what must be signed: `host` and
/// every `x-acs-*` header the request carries (the action, the date, the nonce and the
/// payload hash decide what the request means). Names must be lowercase and sorted, as the
/// canonical form lists them.
pub fn covers_required(signed_headers: &str, headers: &[(String, String)]) -> bool {
    let names: Vec<&str> = signed_headers.split(';').collect();
    if names
        .iter()
        .any(|n| n.is_empty() || n.bytes().any(|b| b.is_ascii_uppercase()))
    {
        return false;
    }
    if !names.windows(2).all(|w| w[0] < w[1]) {
        return false;
    }
    let must = headers
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| n.starts_with("x-acs-"))
        .chain([
            "host",
            "x-acs-date",
            "x-acs-signature-nonce",
            "x-acs-content-sha256",
        ]);
    must.into_iter().all(|n| names.contains(&n))
}

/// The hex SHA-256 of a body, as `x-acs-content-sha256` carries it.
pub fn payload_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// Nonces seen within the window, per key id, so that a captured request cannot be replayed.
#[derive(Default)]
pub struct Nonces {
    seen: HashMap<(String, String), u64>,
    next_sweep: u64,
}

impl Nonces {
    /// Records `nonce` at `now` (seconds); `false` when it was already seen within the window.
    pub fn insert(&mut self, key_id: &str, nonce: &str, now: u64) -> bool {
        if now >= self.next_sweep {
            self.seen
                .retain(|_, at| at.saturating_add(WINDOW_SECS) > now);
            self.next_sweep = now.saturating_add(10);
        }
        let entry = (key_id.to_owned(), nonce.to_owned());
        match self.seen.get(&entry) {
            Some(&at) if at.saturating_add(WINDOW_SECS) > now => false,
            _ => {
                self.seen.insert(entry, now);
                true
            }
        }
    }

    /// How many nonces are remembered.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether none is remembered.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// A request the official Python SDK (alibabacloud_tea_openapi 0.4.6) signed with
    /// AccessKeyId `AKID` and secret `SECRET`, captured on a local listener.
    #[test]
    fn verifies_a_request_signed_by_the_python_sdk() {
        let query = parse_pairs("ClientToken=tok+en%2F%2B%2A~x&TrailName=trail-name").unwrap();
        assert_eq!(query[0].1, "tok en/+*~x");
        let headers = headers(&[
            ("accept-encoding", "identity"),
            ("host", "127.0.0.1:18999"),
            ("x-acs-version", "2020-07-06"),
            ("x-acs-action", "CreateDeliveryHistoryJob"),
            (
                "user-agent",
                "AlibabaCloud (Linux; x86_64) Python/3.11.7 Core/0.4.3 TeaDSL/2",
            ),
            ("x-acs-date", "2026-12-02T05:36:06Z"),
            ("x-acs-signature-nonce", "80e8bb747174f7bce6ab041180c83c02"),
            ("accept", "application/json"),
            (
                "x-acs-content-sha256",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ),
            ("x-acs-credentials-provider", "static_ak"),
        ]);
        let authorization = "ACS3-HMAC-SHA256 Credential=AKID,SignedHeaders=accept;host;user-agent;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=64998d49e6eda4d707a4f2ee4c533318b29f447762791b67444102e710263fbc";
        let auth = parse_authorization(authorization).unwrap();
        assert_eq!(auth.key_id, "AKID");
        assert!(covers_required(auth.signed_headers, &headers));
        let signed = Signed {
            method: "POST",
            path: "/",
            query: &query,
            headers: &headers,
            signed_headers: auth.signed_headers,
            hashed_payload: &payload_hash(b""),
        };
        assert!(verify("SECRET", &signed, auth.signature));
        assert_eq!(sign("SECRET", &signed), auth.signature);
        assert!(!verify("SECRET2", &signed, auth.signature));
        assert!(!verify("SECRET", &signed, "zz"));
        // Any change to what is signed breaks it: the method, a parameter, a header.
        let post = Signed {
            method: "GET",
            ..signed
        };
        assert!(!verify("SECRET", &post, auth.signature));
        let other = parse_pairs("ClientToken=tok+en%2F%2B%2A~y&TrailName=trail-name").unwrap();
        let changed = Signed {
            method: "POST",
            query: &other,
            ..post
        };
        assert!(!verify("SECRET", &changed, auth.signature));
    }

    #[test]
    fn canonical_query_sorts_and_encodes_as_rfc3986() {
        let pairs = parse_pairs("b=%7E+x&a=1&a%20b=*").unwrap();
        assert_eq!(canonical_query(&pairs), "a=1&a%20b=%2A&b=~%20x");
        assert_eq!(canonical_query(&[]), "");
        assert_eq!(parse_pairs("a=%zz"), None);
        assert_eq!(parse_pairs("a=%ff"), None);
        assert_eq!(parse_pairs("a=%C3%A9").unwrap()[0].1, "é");
        let mut out = String::new();
        rfc3986(&mut out, "é/ ");
        assert_eq!(out, "%C3%A9%2F%20");
    }

    #[test]
    fn authorization_header_forms() {
        assert_eq!(
            parse_authorization("ACS3-HMAC-SHA1 Credential=a,SignedHeaders=h,Signature=s"),
            None
        );
        assert_eq!(
            parse_authorization("ACS3-HMAC-SHA256 Credential=,SignedHeaders=h,Signature=s"),
            None
        );
        assert_eq!(
            parse_authorization("ACS3-HMAC-SHA256 Credential=a,Signature=s"),
            None
        );
        assert_eq!(
            parse_authorization("ACS3-HMAC-SHA256 Credential=a,SignedHeaders=h,Signature=s,X=1"),
            None
        );
        let h = headers(&[("host", "x"), ("x-acs-action", "A")]);
        assert!(!covers_required(
            "host;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce",
            &h
        ));
        assert!(covers_required(
            "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce",
            &h
        ));
        assert!(!covers_required(
            "x-acs-action;host;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce",
            &h
        ));
        assert!(!covers_required(
            "Host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce",
            &h
        ));
    }

    #[test]
    fn nonces_are_refused_within_the_window_only() {
        let mut nonces = Nonces::default();
        assert!(nonces.insert("k", "n", 1_000));
        assert!(!nonces.insert("k", "n", 1_000 + WINDOW_SECS - 1));
        assert!(nonces.insert("other", "n", 1_000));
        assert!(nonces.insert("k", "n", 1_000 + WINDOW_SECS));
        assert!(nonces.insert("k", "m", 10_000));
        assert_eq!(nonces.len(), 1); // the sweep dropped the old ones
        assert!(!nonces.is_empty());
    }
}
