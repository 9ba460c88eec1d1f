//! Fuzz inputs replayed as ordinary tests, so `cargo test` keeps checking what the fuzz
//! targets in `fuzz/` check, without cargo-fuzz or a nightly toolchain.
//!
//! - Every file under `fuzz/regressions/snapshot/` and `fuzz/seeds/snapshot/` goes through the
//!   `snapshot` target's checks; the seeds also go through every truncation and (postcard
//!   ones) every single-bit flip: each must be refused, or load into a scheduler that keeps its
//!   invariants and reloads to the same bytes.
//! - Every file under `fuzz/regressions/parse/` goes through the `parse` target's checks.
//!
//! `fuzz/regressions/<target>/` also keeps each target's corpus, minimized with `cargo fuzz cmin`
//! (CI's fuzz runs start from it).
//!
//! To keep a crash the fuzzer found: copy `fuzz/artifacts/<target>/crash-*` into
//! `fuzz/regressions/<target>/` (for `ops`, whose input is an `arbitrary` structure, write the
//! operations out as a test below instead: `cargo fuzz fmt ops <file>` prints them).

mod model;
#[path = "../fuzz/checks/parse.rs"]
mod parse;

use parse::parse_checks;

use std::path::{Path, PathBuf};

use trail_backfill::{
    AccountId, Config, JobScheduler, Region, Timestamp, TrailKind, TrailName, TrailSpec,
};

/// The `snapshot` target's scheduler.
type Scheduler = JobScheduler<4, 6, 3>;

fn files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .map(|entry| entry.expect("a readable directory").path())
            .filter(|path| path.is_file())
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

/// A scheduler with some state, to restore into: restore must replace or empty all of it.
fn busy() -> Scheduler {
    let config = Config {
        first_job_id: 40,
        token_ttl_secs: 9,
        ..Config::DEFAULT
    };
    let mut s = Scheduler::new(config);
    let spec = TrailSpec {
        name: TrailName::new("restore-target").expect("valid"),
        kind: TrailKind::SingleAccount,
        delivers_to_sls: true,
    };
    let region = Region::new("cn-beijing").expect("valid");
    s.create_trail(AccountId(3), &region, &spec, Timestamp(77))
        .expect("room");
    s
}

fn check_loaded(s: &Scheduler, what: &str) {
    if let Err(violation) = s.check_invariants() {
        panic!("{what}: a loaded snapshot breaks an invariant: {violation}");
    }
    let bytes = postcard::to_allocvec(s).expect("serializes");
    let again: Scheduler = postcard::from_bytes(&bytes).expect("own postcard snapshot reloads");
    assert_eq!(&again, s, "{what}");
    assert_eq!(
        postcard::to_allocvec(&again).expect("serializes"),
        bytes,
        "{what}"
    );
    let text = serde_json::to_string(s).expect("serializes");
    let again: Scheduler = serde_json::from_str(&text).expect("own json snapshot reloads");
    assert_eq!(&again, s, "{what}");
    assert_eq!(
        serde_json::to_string(&again).expect("serializes"),
        text,
        "{what}"
    );
}

/// The `snapshot` target's checks; returns how many of the four loads succeeded.
fn snapshot_checks(data: &[u8], what: &str) -> usize {
    let mut loaded = 0;
    if let Ok(s) = postcard::from_bytes::<Scheduler>(data) {
        check_loaded(&s, what);
        loaded += 1;
    }
    if let Ok(s) = serde_json::from_slice::<Scheduler>(data) {
        check_loaded(&s, what);
        loaded += 1;
    }
    let mut s = busy();
    let empty = Scheduler::new(*s.config());
    match s.restore(&mut postcard::Deserializer::from_bytes(data)) {
        Ok(()) => {
            check_loaded(&s, what);
            loaded += 1;
        }
        Err(_) => assert_eq!(s, empty, "{what}: a failed restore left state behind"),
    }
    let mut s = busy();
    match s.restore(&mut serde_json::Deserializer::from_slice(data)) {
        Ok(()) => {
            check_loaded(&s, what);
            loaded += 1;
        }
        Err(_) => assert_eq!(s, empty, "{what}: a failed restore left state behind"),
    }
    loaded
}

#[test]
fn snapshot_seeds_load_and_survive_damage() {
    let seeds = files("fuzz/seeds/snapshot");
    assert!(
        !seeds.is_empty(),
        "fuzz/seeds/snapshot holds the seed snapshots"
    );
    for path in seeds {
        let data = std::fs::read(&path).expect("readable");
        let what = path.display().to_string();
        // Each seed is a valid snapshot, postcard or JSON: by value and in place.
        assert_eq!(snapshot_checks(&data, &what), 2, "{what} loads");
        for end in 0..data.len() {
            snapshot_checks(&data[..end], &format!("{what} cut at {end}"));
        }
        // Bit flips in JSON mostly break its syntax: postcard is where they matter.
        let flips = if what.contains("postcard") {
            data.len() * 8
        } else {
            0
        };
        for bit in 0..flips {
            let mut damaged = data.clone();
            damaged[bit / 8] ^= 1 << (bit % 8);
            snapshot_checks(&damaged, &format!("{what} bit {bit} flipped"));
        }
    }
}

#[test]
fn snapshot_regressions() {
    for path in files("fuzz/regressions/snapshot") {
        let data = std::fs::read(&path).expect("readable");
        snapshot_checks(&data, &path.display().to_string());
    }
}

#[test]
fn parse_regressions() {
    for path in files("fuzz/regressions/parse") {
        parse_checks(&std::fs::read(&path).expect("readable"));
    }
}

/// The edges of SPEC section 1's rules, through the `parse` checks.
#[test]
fn parse_edges() {
    let long = |c: char, n: usize| c.to_string().repeat(n);
    for s in [
        String::new(),
        "a".into(),
        "-".into(),
        "cn-hangzhou".into(),
        "CN-hangzhou".into(),
        long('a', 32),
        long('a', 33),
        "abcde".into(),
        "abcdef".into(),
        "a_b-c9".into(),
        "9abcdef".into(),
        "_abcdef".into(),
        format!("a{}", long('b', 35)),
        format!("a{}", long('b', 36)),
        " ".into(),
        "~".into(),
        "\u{7f}".into(),
        "\t".into(),
        "é".into(),
        "tok\u{e9}n".into(),
        long('x', 64),
        long('x', 65),
        long('é', 20),
        "ａｂｃｄｅｆ".into(),
    ] {
        parse_checks(s.as_bytes());
    }
    for t in [0u64, 1_622_099_703, 951_782_400, 253_402_300_800, u64::MAX] {
        parse_checks(&t.to_le_bytes());
    }
}
