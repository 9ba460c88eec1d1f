//! Contract tests for the `serde` feature (SPEC sections 5 and 7): round trips of every value
//! type and of the scheduler, validation while deserializing, rejection of snapshots that break
//! an invariant, canonical (deterministic) bytes, and `restore` in place.

use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use trail_backfill::*;

#[path = "../common/mod.rs"]
mod common;
use common::{hz, name, region, spec};

type Sched = JobScheduler<8, 8, 8>;

// Distinctive numbers, so that editing a snapshot by value cannot hit an unrelated field.
const A: AccountId = AccountId(555_000_111);
const B: AccountId = AccountId(777_000_222);
const FIRST_ID: u64 = 900_000_001;

fn config() -> Config {
    Config {
        token_ttl_secs: 1_000,
        first_job_id: FIRST_ID,
        hash_seed: 0x5EED_0000_1234_5678,
        ..Config::DEFAULT
    }
}

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap()
}

fn bytes<T: Serialize>(v: &T) -> Vec<u8> {
    postcard::to_allocvec(v).unwrap()
}

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(v: &T) {
    let text = json(v);
    let back: T = serde_json::from_str(&text).unwrap();
    assert_eq!(&back, v, "JSON {text}");
    let value: T = serde_json::from_value(serde_json::to_value(v).unwrap()).unwrap();
    assert_eq!(&value, v, "JSON value");
    let raw = bytes(v);
    let back: T = postcard::from_bytes(&raw).unwrap();
    assert_eq!(&back, v, "postcard");
}

fn logging_trail(s: &mut Sched, account: AccountId, n: &str, now: u64) {
    s.create_trail(account, &hz(), &spec(n), Timestamp(now))
        .unwrap();
    s.start_logging(account, &hz(), &name(n), Timestamp(now))
        .unwrap();
}

fn req(account: AccountId, n: &str, tok: Option<&str>) -> CreateJob {
    CreateJob {
        account,
        region: hz(),
        trail_name: name(n),
        client_token: tok.map(|t| ClientToken::new(t).unwrap()),
    }
}

/// A scheduler with something in every table and every counter moved.
fn busy() -> Sched {
    let mut s = Sched::new(config());
    logging_trail(&mut s, A, "trail-aaa", 100);
    logging_trail(&mut s, B, "trail-bbb", 100);
    s.create_trail(
        A,
        &region("cn-beijing"),
        &spec("idle-trail"),
        Timestamp(101),
    )
    .unwrap();
    let a1 = s
        .create_job(&req(A, "trail-aaa", Some("tok-1")), Timestamp(110))
        .unwrap()
        .job_id;
    s.start_job(A, a1, Timestamp(120)).unwrap();
    s.complete_job(A, a1, JobOutcome::Completed, Timestamp(130))
        .unwrap();
    let a2 = s
        .create_job(&req(A, "trail-aaa", Some("tok-2")), Timestamp(140))
        .unwrap()
        .job_id;
    s.complete_job(A, a2, JobOutcome::Failed, Timestamp(150))
        .unwrap();
    s.delete_job(A, a2).unwrap();
    s.create_job(&req(A, "trail-aaa", None), Timestamp(160))
        .unwrap();
    s.create_job(&req(B, "trail-bbb", Some("tok-1")), Timestamp(170))
        .unwrap();
    s
}

/// A scheduler where the job table has evicted and the token cache has evicted live records.
fn churned() -> JobScheduler<4, 2, 2> {
    let mut s = JobScheduler::<4, 2, 2>::new(config());
    s.create_trail(A, &hz(), &spec("trail-aaa"), Timestamp(10))
        .unwrap();
    s.start_logging(A, &hz(), &name("trail-aaa"), Timestamp(10))
        .unwrap();
    for (i, tok) in ["t1", "t2", "t3", "t4"].into_iter().enumerate() {
        let now = 20 + i as u64;
        let id = s
            .create_job(&req(A, "trail-aaa", Some(tok)), Timestamp(now))
            .unwrap()
            .job_id;
        s.complete_job(A, id, JobOutcome::Completed, Timestamp(now))
            .unwrap();
    }
    let st = s.stats();
    assert_eq!(st.jobs_evicted, 2);
    assert_eq!(st.tokens_evicted_live, 2);
    s
}

mod determinism;
mod edited;
mod restore;
mod snapshots;
mod values;

#[allow(unused_imports)] // each module takes what it needs from the others
use {determinism::*, edited::*, restore::*, snapshots::*, values::*};

fn script() -> Vec<(Command, u64)> {
    let t = |n: &str| Command::CreateTrail {
        account: A,
        region: hz(),
        spec: spec(n),
    };
    let l = |acc, n: &str| Command::StartLogging {
        account: acc,
        region: hz(),
        name: name(n),
    };
    vec![
        (t("trail-ccc"), 10),
        (t("trail-aaa"), 11),
        (
            Command::CreateTrail {
                account: B,
                region: hz(),
                spec: spec("trail-bbb"),
            },
            12,
        ),
        (l(A, "trail-aaa"), 13),
        (l(B, "trail-bbb"), 14),
        (Command::CreateJob(req(B, "trail-bbb", Some("tb"))), 15),
        (Command::CreateJob(req(A, "trail-aaa", Some("ta"))), 16),
        (
            Command::CompleteJob {
                account: B,
                job: JobId(FIRST_ID),
                outcome: JobOutcome::Completed,
            },
            17,
        ),
        (Command::CreateJob(req(B, "trail-bbb", Some("tc"))), 18),
        (
            Command::DeleteTrail {
                account: A,
                region: hz(),
                name: name("trail-ccc"),
            },
            19,
        ),
    ]
}
