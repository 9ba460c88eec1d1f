//! The `parse` target's checks, shared by `fuzz/fuzz_targets/parse.rs` and
//! `tests/fuzz_regressions.rs` (both include this file with `#[path]` and have the reference
//! model at `crate::model`).

use trail_backfill::{ClientToken, Error, Parameter, Region, Timestamp, TrailName};

use crate::model;

/// No panic; a string is accepted exactly when the model's rule accepts it; an accepted value
/// gives its string back; serde validates as `new` does; `Timestamp` renders as the model does.
pub fn parse_checks(data: &[u8]) {
    if let Some(bytes) = data.get(..8) {
        let t = Timestamp(u64::from_le_bytes(bytes.try_into().expect("8 bytes")));
        assert_eq!(t.to_string(), model::rules::format_timestamp(t));
        assert_eq!(
            t.to_string().parse::<Timestamp>(),
            Ok(t),
            "parses what it prints"
        );
    }
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    // Any string: no panic, and whatever parses prints back exactly (one string per time).
    if let Ok(t) = s.parse::<Timestamp>() {
        assert_eq!(t.to_string(), s, "{s:?} parsed to {t:?}");
    }
    let quoted = serde_json::to_string(s).expect("serializes");

    let region = Region::new(s);
    match &region {
        Ok(r) => assert_eq!(r.as_str(), s),
        Err(e) => assert_eq!(*e, Error::InvalidParameterValue(Parameter::Region)),
    }
    assert_eq!(
        region.is_ok(),
        model::rules::region_is_valid(s),
        "Region::new({s:?})"
    );
    assert_eq!(serde_json::from_str::<Region>(&quoted).ok(), region.ok());

    let name = TrailName::new(s);
    match &name {
        Ok(n) => assert_eq!(n.as_str(), s),
        Err(e) => assert_eq!(*e, Error::InvalidTrailName),
    }
    assert_eq!(
        name.is_ok(),
        model::rules::trail_name_is_valid(s),
        "TrailName::new({s:?})"
    );
    assert_eq!(serde_json::from_str::<TrailName>(&quoted).ok(), name.ok());

    let token = ClientToken::new(s);
    match &token {
        Ok(t) => assert_eq!(t.as_str(), s),
        Err(e) => assert_eq!(*e, Error::InvalidParameterValue(Parameter::ClientToken)),
    }
    assert_eq!(
        token.is_ok(),
        model::rules::client_token_is_valid(s),
        "ClientToken::new({s:?})"
    );
    assert_eq!(
        serde_json::from_str::<ClientToken>(&quoted).ok(),
        token.ok()
    );
}
