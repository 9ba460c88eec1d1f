//! Contract tests for full tables (SPEC sections 2, 3 step 5/6) and for "a call that returns
//! `Err` changes nothing at all".

use trail_backfill::*;

mod common;
use common::{hz, name, spec};

const A: AccountId = AccountId(1001);
const B: AccountId = AccountId(2002);
const C: AccountId = AccountId(3003);
const D: AccountId = AccountId(4004);

fn snap_json<const T: usize, const J: usize, const K: usize>(s: &JobScheduler<T, J, K>) -> String {
    serde_json::to_string(s).unwrap()
}

fn snap_bytes<const T: usize, const J: usize, const K: usize>(
    s: &JobScheduler<T, J, K>,
) -> Vec<u8> {
    postcard::to_allocvec(s).unwrap()
}

/// Runs `f`, expects `Err(expected)`, and checks that nothing at all changed: snapshot bytes
/// (JSON and postcard), logical equality, stats, clock and next id.
fn expect_err<const T: usize, const J: usize, const K: usize, R: std::fmt::Debug>(
    s: &mut JobScheduler<T, J, K>,
    expected: Error,
    f: impl FnOnce(&mut JobScheduler<T, J, K>) -> Result<R, Error>,
) {
    let json = snap_json(s);
    let bytes = snap_bytes(s);
    let copy = s.clone();
    let stats = s.stats();
    let clock = s.clock();
    let next = s.next_job_id();
    assert_eq!(f(s).unwrap_err(), expected);
    assert_eq!(snap_json(s), json, "{expected:?} changed the JSON snapshot");
    assert_eq!(
        snap_bytes(s),
        bytes,
        "{expected:?} changed the postcard snapshot"
    );
    assert_eq!(*s, copy, "{expected:?} changed the scheduler");
    assert_eq!(s.stats(), stats, "{expected:?} moved the stats");
    assert_eq!(s.clock(), clock, "{expected:?} moved the clock");
    assert_eq!(s.next_job_id(), next, "{expected:?} consumed an id");
    assert!(s.check_invariants().is_ok());
}

fn logging_trail<const T: usize, const J: usize, const K: usize>(
    s: &mut JobScheduler<T, J, K>,
    account: AccountId,
    n: &str,
    now: u64,
) {
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

fn create<const T: usize, const J: usize, const K: usize>(
    s: &mut JobScheduler<T, J, K>,
    account: AccountId,
    now: u64,
) -> JobId {
    let out = s
        .create_job(&req(account, "trail-one", None), Timestamp(now))
        .unwrap();
    assert!(!out.replayed);
    out.job_id
}

#[test]
fn full_job_table_evicts_the_finished_job_with_the_smallest_id() {
    let mut s = JobScheduler::<8, 3, 8>::new(Config::DEFAULT);
    for acc in [A, B, C, D] {
        logging_trail(&mut s, acc, "trail-one", 10);
    }
    let a = create(&mut s, A, 20); // stays active
    let b = create(&mut s, B, 21);
    let c = create(&mut s, C, 22);
    // Finish c first, then b: eviction goes by id, not by finishing time.
    s.complete_job(C, c, JobOutcome::Completed, Timestamp(23))
        .unwrap();
    s.complete_job(B, b, JobOutcome::Failed, Timestamp(24))
        .unwrap();
    assert_eq!(s.stats().jobs, 3);
    assert_eq!(s.stats().jobs_evicted, 0);

    let d = create(&mut s, D, 25);
    let st = s.stats();
    assert_eq!(st.jobs, 3);
    assert_eq!(st.jobs_evicted, 1);
    assert!(s.job(B, b).is_none(), "smallest finished id is evicted");
    assert!(s.job(A, a).is_some(), "active jobs are never evicted");
    assert!(s.job(C, c).is_some());
    assert!(s.job(D, d).is_some());
    assert_eq!(s.list_jobs(B, 1, 10).unwrap().total_count, 0);
    assert_eq!(s.jobs().map(|j| j.id).collect::<Vec<_>>(), vec![a, c, d]);
    assert!(s.check_invariants().is_ok());
}

#[test]
fn full_job_table_runs_continuously() {
    let mut s = JobScheduler::<4, 4, 4>::new(Config::DEFAULT);
    logging_trail(&mut s, A, "trail-one", 10);
    let mut ids = vec![];
    for i in 0..20u64 {
        let id = create(&mut s, A, 100 + i);
        s.complete_job(A, id, JobOutcome::Completed, Timestamp(100 + i))
            .unwrap();
        ids.push(id);
        assert!(s.check_invariants().is_ok());
    }
    let st = s.stats();
    assert_eq!(st.jobs, 4);
    assert_eq!(st.jobs_evicted, 16);
    let kept: Vec<JobId> = s.jobs().map(|j| j.id).collect();
    assert_eq!(kept, ids[16..].to_vec());
    let page: Vec<JobId> = s
        .list_jobs(A, 1, 100)
        .unwrap()
        .jobs()
        .map(|j| j.id)
        .collect();
    assert_eq!(page, ids[16..].iter().rev().copied().collect::<Vec<_>>());
}

#[test]
fn evicted_jobs_tokens_still_replay() {
    let mut s = JobScheduler::<4, 1, 4>::new(Config::DEFAULT);
    logging_trail(&mut s, A, "trail-one", 10);
    let first = s
        .create_job(&req(A, "trail-one", Some("tok-1")), Timestamp(20))
        .unwrap()
        .job_id;
    s.complete_job(A, first, JobOutcome::Completed, Timestamp(21))
        .unwrap();
    let second = create(&mut s, A, 22);
    assert!(s.job(A, first).is_none());
    assert_eq!(s.stats().jobs_evicted, 1);
    let before = snap_json(&s);
    assert_eq!(
        s.create_job(&req(A, "trail-one", Some("tok-1")), Timestamp(23)),
        Ok(JobCreated {
            job_id: first,
            replayed: true
        })
    );
    assert_eq!(snap_json(&s), before);
    assert_ne!(first, second);
}

#[test]
fn all_slots_active_is_capacity_exhausted() {
    let mut s = JobScheduler::<8, 2, 8>::new(Config::DEFAULT);
    for acc in [A, B, C] {
        logging_trail(&mut s, acc, "trail-one", 10);
    }
    create(&mut s, A, 20);
    let b = create(&mut s, B, 21);
    expect_err(&mut s, Error::CapacityExhausted(Table::Jobs), |s| {
        s.create_job(&req(C, "trail-one", Some("tok")), Timestamp(1_000))
    });
    // Not recorded under its token either; once a slot is finished, the same request works.
    s.start_job(B, b, Timestamp(30)).unwrap();
    s.complete_job(B, b, JobOutcome::Completed, Timestamp(31))
        .unwrap();
    let out = s
        .create_job(&req(C, "trail-one", Some("tok")), Timestamp(32))
        .unwrap();
    assert!(!out.replayed);
    assert_eq!(s.stats().jobs_evicted, 1);
    assert!(s.job(B, b).is_none());
}

#[test]
fn failing_create_job_on_a_full_table_evicts_nothing() {
    let mut s = JobScheduler::<8, 2, 8>::new(Config::DEFAULT);
    for acc in [A, B] {
        logging_trail(&mut s, acc, "trail-one", 10);
    }
    s.create_trail(B, &hz(), &spec("idle-trail"), Timestamp(10))
        .unwrap();
    let a1 = create(&mut s, A, 20);
    s.complete_job(A, a1, JobOutcome::Completed, Timestamp(21))
        .unwrap();
    let a2 = create(&mut s, A, 22);
    // Full: one finished (a1), one active (a2).
    expect_err(&mut s, Error::JobAlreadyRunning { active: a2 }, |s| {
        s.create_job(&req(A, "trail-one", None), Timestamp(30))
    });
    expect_err(&mut s, Error::TrailNotFound, |s| {
        s.create_job(&req(B, "missing-trail", None), Timestamp(30))
    });
    expect_err(
        &mut s,
        Error::TrailNotEligible(Ineligibility::NotLogging),
        |s| s.create_job(&req(B, "idle-trail", None), Timestamp(30)),
    );
    assert!(s.job(A, a1).is_some());
    assert_eq!(s.stats().jobs_evicted, 0);
}

#[test]
fn id_exhaustion_on_a_full_table_evicts_nothing() {
    let mut s = JobScheduler::<8, 1, 8>::new(Config {
        first_job_id: u64::MAX - 1,
        ..Config::DEFAULT
    });
    logging_trail(&mut s, A, "trail-one", 10);
    let a = create(&mut s, A, 20);
    s.complete_job(A, a, JobOutcome::Completed, Timestamp(21))
        .unwrap();
    expect_err(&mut s, Error::CapacityExhausted(Table::Jobs), |s| {
        s.create_job(&req(A, "trail-one", None), Timestamp(22))
    });
    assert!(s.job(A, a).is_some());
    assert_eq!(s.stats().jobs_evicted, 0);
}

#[test]
fn full_trail_table() {
    let mut s = JobScheduler::<3, 4, 4>::new(Config::DEFAULT);
    s.create_trail(A, &hz(), &spec("trail-one"), Timestamp(1))
        .unwrap();
    s.create_trail(A, &hz(), &spec("trail-two"), Timestamp(2))
        .unwrap();
    s.create_trail(B, &hz(), &spec("trail-one"), Timestamp(3))
        .unwrap();
    assert_eq!(s.stats().trails, 3);
    expect_err(&mut s, Error::CapacityExhausted(Table::Trails), |s| {
        s.create_trail(C, &hz(), &spec("trail-one"), Timestamp(100))
    });
    expect_err(&mut s, Error::CapacityExhausted(Table::Trails), |s| {
        s.create_trail(A, &hz(), &spec("trail-three"), Timestamp(100))
    });
    expect_err(&mut s, Error::TrailAlreadyExists, |s| {
        s.create_trail(A, &hz(), &spec("trail-two"), Timestamp(100))
    });
    // The full table keeps working for everything else.
    assert_eq!(
        s.start_logging(A, &hz(), &name("trail-two"), Timestamp(4)),
        Ok(Transition::Changed)
    );
    s.delete_trail(A, &hz(), &name("trail-one")).unwrap();
    s.create_trail(C, &hz(), &spec("trail-one"), Timestamp(5))
        .unwrap();
    assert_eq!(s.stats().trails, 3);
    assert!(s.check_invariants().is_ok());
}

#[test]
fn full_token_cache_keeps_working() {
    let mut s = JobScheduler::<4, 4, 1>::new(Config::DEFAULT);
    logging_trail(&mut s, A, "trail-one", 10);
    for (i, tok) in ["t1", "t2", "t3"].into_iter().enumerate() {
        let now = 20 + i as u64;
        let out = s
            .create_job(&req(A, "trail-one", Some(tok)), Timestamp(now))
            .unwrap();
        assert!(!out.replayed);
        s.complete_job(A, out.job_id, JobOutcome::Completed, Timestamp(now))
            .unwrap();
        assert_eq!(s.stats().tokens, 1);
    }
    assert_eq!(s.stats().tokens_evicted_live, 2);
}

/// Builds a scheduler where every error of the API can be provoked, then provokes each one
/// and checks that the state is byte-identical afterwards.
#[test]
fn every_error_changes_nothing() {
    let mut s = JobScheduler::<4, 3, 4>::new(Config {
        max_trails_per_account: 2,
        token_ttl_secs: 1_000,
        ..Config::DEFAULT
    });
    logging_trail(&mut s, A, "trail-one", 10);
    logging_trail(&mut s, B, "trail-one", 10);
    s.create_trail(A, &hz(), &spec("trail-two"), Timestamp(10))
        .unwrap();
    let org = TrailSpec {
        kind: TrailKind::Organization,
        ..spec("org-trail")
    };
    s.create_trail(C, &hz(), &org, Timestamp(10)).unwrap();
    // Trail table is now full (4).
    let a_done = s
        .create_job(&req(A, "trail-one", Some("tok-a")), Timestamp(20))
        .unwrap()
        .job_id;
    s.complete_job(A, a_done, JobOutcome::Failed, Timestamp(21))
        .unwrap();
    let a_run = create(&mut s, A, 22);
    s.start_job(A, a_run, Timestamp(23)).unwrap();
    let b_run = create(&mut s, B, 24);
    // Job table is now full (3) with one finished job.
    let t = Timestamp(5_000);

    expect_err(&mut s, Error::TrailAlreadyExists, |s| {
        s.create_trail(A, &hz(), &spec("trail-one"), t)
    });
    expect_err(&mut s, Error::TrailLimitExceeded, |s| {
        s.create_trail(A, &hz(), &spec("trail-three"), t)
    });
    expect_err(&mut s, Error::CapacityExhausted(Table::Trails), |s| {
        s.create_trail(D, &hz(), &spec("trail-one"), t)
    });
    expect_err(&mut s, Error::TrailNotFound, |s| {
        s.delete_trail(D, &hz(), &name("trail-one"))
    });
    expect_err(&mut s, Error::TrailNotFound, |s| {
        s.start_logging(D, &hz(), &name("trail-one"), t)
    });
    expect_err(&mut s, Error::TrailNotFound, |s| {
        s.stop_logging(D, &hz(), &name("trail-one"), t)
    });
    expect_err(&mut s, Error::TrailNotFound, |s| {
        s.create_job(&req(D, "trail-one", Some("tok-d")), t)
    });
    expect_err(
        &mut s,
        Error::TrailNotEligible(Ineligibility::OrganizationTrail),
        |s| s.create_job(&req(C, "org-trail", Some("tok-c")), t),
    );
    expect_err(
        &mut s,
        Error::TrailNotEligible(Ineligibility::NotLogging),
        |s| s.create_job(&req(A, "trail-two", Some("tok-x")), t),
    );
    expect_err(&mut s, Error::JobAlreadyRunning { active: a_run }, |s| {
        s.create_job(&req(A, "trail-one", Some("tok-y")), t)
    });
    expect_err(&mut s, Error::IdempotentParameterMismatch, |s| {
        s.create_job(&req(A, "trail-two", Some("tok-a")), Timestamp(25))
    });
    expect_err(&mut s, Error::JobNotFound, |s| s.start_job(A, b_run, t));
    expect_err(&mut s, Error::JobNotFound, |s| {
        s.complete_job(A, JobId(999), JobOutcome::Completed, t)
    });
    expect_err(&mut s, Error::JobNotFound, |s| s.delete_job(B, a_done));
    expect_err(
        &mut s,
        Error::InvalidJobStatus {
            status: JobStatus::Failed,
        },
        |s| s.start_job(A, a_done, t),
    );
    expect_err(
        &mut s,
        Error::InvalidJobStatus {
            status: JobStatus::Failed,
        },
        |s| s.complete_job(A, a_done, JobOutcome::Completed, t),
    );
    expect_err(&mut s, Error::JobNotFinished, |s| s.delete_job(A, a_run));
    expect_err(&mut s, Error::JobNotFinished, |s| s.delete_job(B, b_run));

    // After a completion frees B, B's next job evicts the finished job with the smallest id.
    s.complete_job(B, b_run, JobOutcome::Completed, Timestamp(30))
        .unwrap();
    create(&mut s, B, 31);
    assert_eq!(s.stats().jobs_evicted, 1);
    assert!(s.job(A, a_done).is_none());
    // Every error through apply changes nothing as well.
    let cmds = [
        (
            Command::CreateTrail {
                account: A,
                region: hz(),
                spec: spec("trail-one"),
            },
            Error::TrailAlreadyExists,
        ),
        (
            Command::DeleteTrail {
                account: D,
                region: hz(),
                name: name("trail-one"),
            },
            Error::TrailNotFound,
        ),
        (
            Command::StartLogging {
                account: D,
                region: hz(),
                name: name("trail-one"),
            },
            Error::TrailNotFound,
        ),
        (
            Command::StopLogging {
                account: D,
                region: hz(),
                name: name("trail-one"),
            },
            Error::TrailNotFound,
        ),
        (
            Command::CreateJob(req(A, "trail-one", None)),
            Error::JobAlreadyRunning { active: a_run },
        ),
        (
            Command::StartJob {
                account: D,
                job: a_run,
            },
            Error::JobNotFound,
        ),
        (
            Command::CompleteJob {
                account: D,
                job: a_run,
                outcome: JobOutcome::Failed,
            },
            Error::JobNotFound,
        ),
        (
            Command::DeleteJob {
                account: A,
                job: a_run,
            },
            Error::JobNotFinished,
        ),
    ];
    for (cmd, err) in cmds {
        expect_err(&mut s, err, |s| s.apply(&cmd, t));
    }
}

#[test]
fn capacity_error_with_a_token_evicts_no_token() {
    let mut s = JobScheduler::<8, 1, 1>::new(Config::DEFAULT);
    logging_trail(&mut s, A, "trail-one", 10);
    logging_trail(&mut s, B, "trail-one", 10);
    // The token cache is full with A's live record; the job table is full with A's active job.
    let a = s
        .create_job(&req(A, "trail-one", Some("tok-a")), Timestamp(20))
        .unwrap()
        .job_id;
    assert_eq!(s.stats().tokens, 1);
    expect_err(&mut s, Error::CapacityExhausted(Table::Jobs), |s| {
        s.create_job(&req(B, "trail-one", Some("tok-b")), Timestamp(22))
    });
    assert_eq!(s.stats().tokens_evicted_live, 0);
    assert_eq!(
        s.create_job(&req(A, "trail-one", Some("tok-a")), Timestamp(23)),
        Ok(JobCreated {
            job_id: a,
            replayed: true
        })
    );
}

/// A small deterministic generator (xorshift), so the sequence is the same on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct ModelJob {
    account: AccountId,
    status: JobStatus,
    created_at: u64,
    updated_at: u64,
}

fn is_active(status: JobStatus) -> bool {
    matches!(status, JobStatus::Initializing | JobStatus::Delivering)
}

/// The job table against a plain reference model: eviction, isolation, statuses, times, paging.
#[test]
fn full_job_table_matches_a_reference_model() {
    use std::collections::BTreeMap;
    const CAP: usize = 4;
    let accounts = [A, B, C];
    let mut s = JobScheduler::<4, CAP, 4>::new(Config::DEFAULT);
    for acc in accounts {
        logging_trail(&mut s, acc, "trail-one", 1);
    }
    let mut model: BTreeMap<u64, ModelJob> = BTreeMap::new();
    let mut next_id = 1u64;
    let mut evicted = 0u64;
    let mut clock = 1u64;
    let mut now = 10u64;
    let mut rng = Rng(0xC0FF_EE00_1234);
    let mut oks = 0;
    for step in 0..3_000 {
        now = if rng.below(6) == 0 {
            now.saturating_sub(rng.below(30))
        } else {
            now + rng.below(10)
        };
        let t = now.max(clock);
        // Mostly an existing job of its own account, sometimes anything (other accounts, gone ids).
        let (acc, id) = if !model.is_empty() && rng.below(4) != 0 {
            let pick = rng.below(model.len() as u64) as usize;
            let (id, j) = model.iter().nth(pick).unwrap();
            (j.account, *id)
        } else {
            (accounts[rng.below(3) as usize], 1 + rng.below(next_id + 1))
        };
        let own = model.get(&id).filter(|j| j.account == acc).copied();
        let (got, expected): (Result<String, Error>, Result<String, Error>) = match rng.below(4) {
            0 => {
                let got = s
                    .create_job(&req(acc, "trail-one", None), Timestamp(now))
                    .map(|c| format!("{c:?}"));
                let active = model
                    .iter()
                    .find(|(_, j)| j.account == acc && is_active(j.status))
                    .map(|(id, _)| *id);
                let expected = if let Some(active) = active {
                    Err(Error::JobAlreadyRunning {
                        active: JobId(active),
                    })
                } else if model.len() == CAP && !model.values().any(|j| !is_active(j.status)) {
                    Err(Error::CapacityExhausted(Table::Jobs))
                } else {
                    if model.len() == CAP {
                        let victim = *model.iter().find(|(_, j)| !is_active(j.status)).unwrap().0;
                        model.remove(&victim);
                        evicted += 1;
                    }
                    model.insert(
                        next_id,
                        ModelJob {
                            account: acc,
                            status: JobStatus::Initializing,
                            created_at: t,
                            updated_at: t,
                        },
                    );
                    next_id += 1;
                    clock = t;
                    Ok(format!(
                        "{:?}",
                        JobCreated {
                            job_id: JobId(next_id - 1),
                            replayed: false
                        }
                    ))
                };
                (got, expected)
            }
            1 => {
                let got = s
                    .start_job(acc, JobId(id), Timestamp(now))
                    .map(|x| format!("{x:?}"));
                let expected = match own.map(|j| j.status) {
                    None => Err(Error::JobNotFound),
                    Some(JobStatus::Initializing) => {
                        let j = model.get_mut(&id).unwrap();
                        j.status = JobStatus::Delivering;
                        j.updated_at = t;
                        clock = t;
                        Ok(format!("{:?}", Transition::Changed))
                    }
                    Some(JobStatus::Delivering) => Ok(format!("{:?}", Transition::Unchanged)),
                    Some(status) => Err(Error::InvalidJobStatus { status }),
                };
                (got, expected)
            }
            2 => {
                let (outcome, finished) = if rng.below(2) == 0 {
                    (JobOutcome::Completed, JobStatus::Completed)
                } else {
                    (JobOutcome::Failed, JobStatus::Failed)
                };
                let got = s
                    .complete_job(acc, JobId(id), outcome, Timestamp(now))
                    .map(|x| format!("{x:?}"));
                let expected = match own.map(|j| j.status) {
                    None => Err(Error::JobNotFound),
                    Some(st) if is_active(st) => {
                        let j = model.get_mut(&id).unwrap();
                        j.status = finished;
                        j.updated_at = t;
                        clock = t;
                        Ok(format!("{:?}", Transition::Changed))
                    }
                    Some(st) if st == finished => Ok(format!("{:?}", Transition::Unchanged)),
                    Some(status) => Err(Error::InvalidJobStatus { status }),
                };
                (got, expected)
            }
            _ => {
                let got = s.delete_job(acc, JobId(id)).map(|j| {
                    format!(
                        "{:?}",
                        ModelJob {
                            account: j.account,
                            status: j.status,
                            created_at: j.created_at.0,
                            updated_at: j.updated_at.0,
                        }
                    )
                });
                let expected = match own {
                    None => Err(Error::JobNotFound),
                    Some(j) if is_active(j.status) => Err(Error::JobNotFinished),
                    Some(j) => {
                        model.remove(&id);
                        Ok(format!("{j:?}"))
                    }
                };
                (got, expected)
            }
        };
        assert_eq!(
            got, expected,
            "step {step}: account {acc:?}, job {id}, now {now}"
        );
        if got.is_ok() {
            oks += 1;
        }
        // The whole observable state agrees with the model.
        assert_eq!(s.clock(), Timestamp(clock), "step {step}");
        let st = s.stats();
        assert_eq!(st.jobs, model.len());
        assert_eq!(st.jobs_evicted, evicted);
        assert_eq!(
            st.active_jobs,
            model.values().filter(|j| is_active(j.status)).count()
        );
        let actual: Vec<(u64, ModelJob)> = s
            .jobs()
            .map(|j| {
                (
                    j.id.0,
                    ModelJob {
                        account: j.account,
                        status: j.status,
                        created_at: j.created_at.0,
                        updated_at: j.updated_at.0,
                    },
                )
            })
            .collect();
        let wanted: Vec<(u64, ModelJob)> = model.iter().map(|(k, v)| (*k, *v)).collect();
        assert_eq!(actual, wanted, "step {step}");
        for acc in accounts {
            let page: Vec<u64> = s
                .list_jobs(acc, 1, 100)
                .unwrap()
                .jobs()
                .map(|j| j.id.0)
                .collect();
            let want: Vec<u64> = model
                .iter()
                .rev()
                .filter(|(_, j)| j.account == acc)
                .map(|(id, _)| *id)
                .collect();
            assert_eq!(page, want, "step {step}");
            assert_eq!(
                s.active_job(acc).map(|j| j.id.0),
                model
                    .iter()
                    .find(|(_, j)| j.account == acc && is_active(j.status))
                    .map(|(id, _)| *id)
            );
        }
        assert!(s.check_invariants().is_ok(), "step {step}");
    }
    assert!(oks > 500, "{oks}");
    assert!(evicted > 20, "{evicted}");
}
