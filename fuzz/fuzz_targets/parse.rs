//! `parse`: arbitrary strings into `Region::new`, `TrailName::new` and `ClientToken::new`.
//! No panic; a string is accepted exactly when it satisfies SPEC section 1 (the rules written
//! a second time in `tests/model/`); an accepted value gives its string back; serde
//! deserialization validates exactly as `new` does. The first 8 bytes also make a `Timestamp`
//! whose `Display` must match the model's ISO-8601 rendering.

#![no_main]

#[path = "../../tests/model/mod.rs"]
mod model;

#[path = "../checks/parse.rs"]
mod parse;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| parse::parse_checks(data));
