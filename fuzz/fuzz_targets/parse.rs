//! `parse`: arbitrary strings into `Region::new`, `TrailName::new` and `ClientToken::new`.
//! No panic; a string is accepted exactly when it satisfies SPEC section 1 (the rules written
//! a second time in `tests/model/`); an accepted value gives its string back; serde
//! deserialization validates exactly as `new` does. The first 8 bytes also make a `Timestamp`
//! whose `Display` must match the model's ISO-8601 rendering.

#![no_main]

#[path = "../../tests/model/mod.rs"]
mod model;

use libfuzzer_sys::fuzz_target;
use trail_backfill::{ClientToken, Error, Parameter, Region, Timestamp, TrailName};

fuzz_target!(|data: &[u8]| {
    if let Some(bytes) = data.get(..8) {
        let t = Timestamp(u64::from_le_bytes(bytes.try_into().unwrap()));
        assert_eq!(t.to_string(), model::format_timestamp(t));
    }
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let quoted = serde_json::to_string(s).unwrap();

    let region = Region::new(s);
    match &region {
        Ok(r) => assert_eq!(r.as_str(), s),
        Err(e) => assert_eq!(*e, Error::InvalidParameterValue(Parameter::Region)),
    }
    assert_eq!(
        region.is_ok(),
        model::region_is_valid(s),
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
        model::trail_name_is_valid(s),
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
        model::client_token_is_valid(s),
        "ClientToken::new({s:?})"
    );
    assert_eq!(
        serde_json::from_str::<ClientToken>(&quoted).ok(),
        token.ok()
    );
});
