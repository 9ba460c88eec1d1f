//! `snapshot`: arbitrary bytes fed to postcard and to serde_json deserialization of a small
//! `JobScheduler`, and to `restore` in place. Each must return `Err` (and `restore` must then
//! leave the scheduler empty, as `new` with its config before the call), or a scheduler whose
//! `check_invariants()` is `Ok` and which re-serializes and reloads to identical bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use trail_backfill::{
    AccountId, Config, JobScheduler, Region, Timestamp, TrailKind, TrailName, TrailSpec,
};

type Scheduler = JobScheduler<4, 6, 3>;

/// A scheduler with some state, to restore into: restore must replace or empty all of it.
fn busy() -> Scheduler {
    let config = Config {
        first_job_id: 40,
        token_ttl_secs: 9,
        ..Config::DEFAULT
    };
    let mut s = Scheduler::new(config);
    let spec = TrailSpec {
        name: TrailName::new("restore-target").unwrap(),
        kind: TrailKind::SingleAccount,
        delivers_to_sls: true,
    };
    s.create_trail(
        AccountId(3),
        &Region::new("cn-beijing").unwrap(),
        &spec,
        Timestamp(77),
    )
    .unwrap();
    s
}

fn check_loaded(s: &Scheduler) {
    if let Err(violation) = s.check_invariants() {
        panic!("a loaded snapshot breaks an invariant: {violation}");
    }
    let bytes = postcard::to_allocvec(s).unwrap();
    let again: Scheduler = postcard::from_bytes(&bytes).expect("own postcard snapshot reloads");
    assert_eq!(&again, s);
    assert_eq!(postcard::to_allocvec(&again).unwrap(), bytes);
    let text = serde_json::to_string(s).unwrap();
    let again: Scheduler = serde_json::from_str(&text).expect("own json snapshot reloads");
    assert_eq!(&again, s);
    assert_eq!(serde_json::to_string(&again).unwrap(), text);
    assert_eq!(postcard::to_allocvec(&again).unwrap(), bytes);
}

fuzz_target!(|data: &[u8]| {
    // By value.
    if let Ok(s) = postcard::from_bytes::<Scheduler>(data) {
        check_loaded(&s);
    }
    if let Ok(s) = serde_json::from_slice::<Scheduler>(data) {
        check_loaded(&s);
    }

    // In place.
    let mut s = busy();
    let empty = Scheduler::new(*s.config());
    match s.restore(&mut postcard::Deserializer::from_bytes(data)) {
        Ok(()) => check_loaded(&s),
        Err(_) => assert_eq!(s, empty, "a failed restore left state behind"),
    }
    let mut s = busy();
    match s.restore(&mut serde_json::Deserializer::from_slice(data)) {
        Ok(()) => check_loaded(&s),
        Err(_) => assert_eq!(s, empty, "a failed restore left state behind"),
    }
});
