//! Snapshots, reloads, and the comparison of everything observable with the model.

use crate::model::{self, Model};
use crate::steps::{ReloadVia, scheduler_job_regions};
use crate::{ACCOUNTS, OCCASIONAL_ACCOUNT};
use trail_backfill::{AccountId, Config, JobScheduler};

pub fn snapshot<const T: usize, const J: usize, const K: usize>(
    s: &JobScheduler<T, J, K>,
) -> Vec<u8> {
    postcard::to_allocvec(s).expect("a scheduler always serializes")
}

/// Replaces `s` by a scheduler loaded from its own snapshot, and checks that the loaded one is
/// equal and serializes to the same bytes.
pub fn reload<const T: usize, const J: usize, const K: usize>(
    s: &mut JobScheduler<T, J, K>,
    via: ReloadVia,
) {
    let bytes = snapshot(s);
    let loaded: JobScheduler<T, J, K> = match via {
        ReloadVia::PostcardValue => postcard::from_bytes(&bytes).expect("postcard reload"),
        ReloadVia::JsonValue => {
            let text = serde_json::to_string(s).expect("json snapshot");
            serde_json::from_str(&text).expect("json reload")
        }
        ReloadVia::PostcardRestore => {
            // Start from another config and some state: restore must replace all of it.
            let mut target = JobScheduler::<T, J, K>::new(Config {
                first_job_id: 500,
                token_ttl_secs: 1,
                ..Config::DEFAULT
            });
            target
                .restore(&mut postcard::Deserializer::from_bytes(&bytes))
                .expect("postcard restore");
            target
        }
        ReloadVia::JsonRestore => {
            let text = serde_json::to_string(s).expect("json snapshot");
            let mut target = s.clone();
            target
                .restore(&mut serde_json::Deserializer::from_str(&text))
                .expect("json restore");
            target
        }
    };
    assert_eq!(&loaded, s, "reloaded scheduler differs ({via:?})");
    assert_eq!(
        snapshot(&loaded),
        bytes,
        "reloaded scheduler serializes differently ({via:?})"
    );
    *s = loaded;
}

/// Compares everything observable of the scheduler with the model.
pub fn assert_same_state<const T: usize, const J: usize, const K: usize>(
    s: &JobScheduler<T, J, K>,
    model: &Model,
) {
    if let Err(violation) = s.check_invariants() {
        panic!("check_invariants: {violation}");
    }
    model.check().expect("model self-check");
    assert_eq!(s.config(), model.config(), "config");
    assert_eq!(model::Stats::of(&s.stats()), model.stats(), "stats");
    assert_eq!(s.clock(), model.clock(), "clock");
    assert_eq!(s.next_job_id(), model.next_job_id(), "next_job_id");
    assert_eq!(
        s.trails().cloned().collect::<Vec<_>>(),
        model.trails().cloned().collect::<Vec<_>>(),
        "trails()"
    );
    assert_eq!(
        s.jobs().cloned().collect::<Vec<_>>(),
        model.jobs().cloned().collect::<Vec<_>>(),
        "jobs()"
    );
    for account in ACCOUNTS
        .into_iter()
        .chain([OCCASIONAL_ACCOUNT])
        .map(AccountId)
    {
        assert_eq!(
            s.active_job(account),
            model.active_job(account),
            "active_job({account:?})"
        );
        let page = s.list_jobs(account, 1, 100).expect("valid page");
        let (total, jobs) = model.list_jobs(account, 1, 100).expect("valid page");
        assert_eq!(
            page.total_count, total,
            "list_jobs({account:?}).total_count"
        );
        assert_eq!(
            page.jobs().cloned().collect::<Vec<_>>(),
            jobs,
            "list_jobs({account:?})"
        );
    }
    assert_eq!(
        trail_backfill::MAX_REGIONS,
        model::workers::MAX_REGIONS,
        "MAX_REGIONS"
    );
    assert_eq!(s.poll_timeout(), model.poll_timeout(), "poll_timeout()");
    assert_eq!(
        s.regions().cloned().collect::<Vec<_>>(),
        model.regions().cloned().collect::<Vec<_>>(),
        "regions()"
    );
    for job in model.jobs() {
        assert_eq!(s.job(job.account, job.id), Some(job), "job({:?})", job.id);
        assert_eq!(
            scheduler_job_regions(s, job.account, job.id),
            model.job_regions(job.account, job.id),
            "job_regions({:?})",
            job.id
        );
        for other in ACCOUNTS
            .into_iter()
            .chain([OCCASIONAL_ACCOUNT])
            .map(AccountId)
        {
            if other != job.account {
                assert_eq!(s.job(other, job.id), None, "another account's job");
                assert!(
                    s.job_regions(other, job.id).is_none(),
                    "another account's job_regions"
                );
            }
        }
    }
}
