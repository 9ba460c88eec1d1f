//! `check` and `check_accounts` guard states that the table's own operations never build, so
//! these tests corrupt its records directly and expect each rule to fire.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests may panic: that is how they fail

use super::*;
use crate::ids::{Region, TrailName};
use crate::invariants::{Index, InvariantViolation};

use crate::job::JobStatus;

fn job(id: u64, account: u64, status: JobStatus) -> Job {
    Job {
        id: JobId(id),
        account: AccountId(account),
        region: Region::new("cn-hangzhou").unwrap(),
        trail_name: TrailName::new("trail-name").unwrap(),
        status,
        created_at: Timestamp(id),
        updated_at: Timestamp(id),
        window_start: Timestamp(0),
        window_end: Timestamp(id),
        attempt: 0,
        lease_expires_at: None,
        not_before: Timestamp(id),
        delivered: 0,
        failure: (status == JobStatus::Failed).then_some(crate::lease::FailureReason::Reported),
    }
}

/// Account 1: jobs 1 (completed), 3 (completed), 4 (active); account 2: job 2 (failed).
fn table() -> JobTable<8> {
    let mut table = JobTable::new(KeyHasher::new(5), 86_400);
    for (id, account, status) in [
        (1, 1, JobStatus::Completed),
        (2, 2, JobStatus::Failed),
        (3, 1, JobStatus::Completed),
        (4, 1, JobStatus::Delivering),
    ] {
        table
            .insert(job(id, account, status), RegionStatuses::NONE)
            .unwrap();
    }
    table.check(5, Timestamp(10), 0, 3, 0).unwrap();
    table
}

fn record_of(table: &mut JobTable<8>, account: u64) -> &mut AccountJobs {
    let slot = table.account_slot(AccountId(account)).unwrap();
    table.accounts.get_mut(slot).unwrap()
}

fn broken(corrupt: impl FnOnce(&mut JobTable<8>)) -> InvariantViolation {
    let mut table = table();
    corrupt(&mut table);
    table.check_accounts().unwrap_err()
}

/// Ids that a client can leave behind (create, complete, delete every job whose id is not a
/// multiple of the capacity) must not chain in one bucket: the id index hashes ids with the
/// scheduler's key instead of taking them as they are.
#[test]
fn ids_that_are_all_multiples_of_the_capacity_spread_over_the_buckets() {
    let mut table: JobTable<64> = JobTable::new(KeyHasher::new(5), 86_400);
    for k in 1..=64u64 {
        table
            .insert(job(k * 64, 1, JobStatus::Completed), RegionStatuses::NONE)
            .unwrap();
    }
    // 64 keys in 64 buckets: a chain of 8 has odds below 1e-5 for a random function.
    assert!(
        table.by_id.longest_chain() < 8,
        "longest chain {}",
        table.by_id.longest_chain()
    );
    table
        .check(64 * 64 + 1, Timestamp(10_000), 0, 3, 0)
        .unwrap();
}

#[test]
fn refuses_a_second_active_job_in_one_account() {
    let mut table = table();
    assert_eq!(
        table
            .insert(job(5, 1, JobStatus::Initializing), RegionStatuses::NONE)
            .unwrap_err()
            .id,
        JobId(5)
    );
    // Behind the table's back: job 3 active again.
    let slot = table.slot_of(JobId(3)).unwrap();
    table.entries.get_mut(slot).unwrap().job.status = JobStatus::Initializing;
    assert_eq!(
        table.check_accounts(),
        Err(InvariantViolation::SecondActiveJob {
            account: AccountId(1)
        })
    );
}

#[test]
fn account_records_that_disagree_with_the_jobs_are_caught() {
    let mismatch = InvariantViolation::IndexMismatch(Index::Accounts);
    assert_eq!(
        broken(|t| record_of(t, 1).count = 2),
        mismatch,
        "count too small"
    );
    assert_eq!(
        broken(|t| record_of(t, 1).count = 4),
        mismatch,
        "count too large"
    );
    assert_eq!(
        broken(|t| record_of(t, 1).active = NONE),
        mismatch,
        "active forgotten"
    );
    assert_eq!(
        broken(|t| record_of(t, 1).oldest = t.slot_of(JobId(3)).unwrap_or(NONE)),
        mismatch,
        "wrong oldest"
    );
    assert_eq!(
        broken(|t| {
            let slot = t.slot_of(JobId(3)).unwrap();
            t.entries.get_mut(slot).unwrap().job.account = AccountId(2);
        }),
        mismatch,
        "a job listed under another account"
    );
    assert_eq!(
        broken(|t| {
            let slot = t.slot_of(JobId(1)).unwrap();
            t.entries.get_mut(slot).unwrap().newer = NONE;
        }),
        mismatch,
        "a broken back link"
    );
    assert_eq!(
        broken(|t| {
            let (one, three) = (t.slot_of(JobId(1)).unwrap(), t.slot_of(JobId(3)).unwrap());
            t.entries.get_mut(one).unwrap().job.id = JobId(9);
            t.entries.get_mut(three).unwrap().job.id = JobId(1);
        }),
        mismatch,
        "jobs out of id order"
    );
    assert_eq!(
        broken(|t| {
            let slot = t.account_slot(AccountId(2)).unwrap();
            t.by_account.remove(t.hasher.id(2), slot);
        }),
        mismatch,
        "an account missing from the index"
    );
    assert_eq!(
        broken(|t| {
            let slot = t.account_slot(AccountId(2)).unwrap();
            t.accounts.get_mut(slot).unwrap().count = 0;
        }),
        mismatch,
        "an empty record"
    );
    assert_eq!(
        broken(|t| {
            let slot = t.account_slot(AccountId(2)).unwrap();
            t.by_account.insert(t.hasher.id(7), slot);
        }),
        mismatch,
        "an index entry too many"
    );
}

#[test]
fn a_job_left_out_of_every_account_list_is_caught() {
    let mut table = table();
    // Unlink job 2 from account 2's record: the only job of that account.
    let record = record_of(&mut table, 2);
    record.count = 0;
    let slot = table.account_slot(AccountId(2)).unwrap();
    table.by_account.remove(table.hasher.id(2), slot);
    table.accounts.remove(slot);
    assert_eq!(
        table.check_accounts(),
        Err(InvariantViolation::IndexMismatch(Index::Accounts))
    );
}

/// Marks the job at `slot` finished, as the scheduler's transitions do.
fn finish(table: &mut JobTable<8>, slot: u32) {
    table
        .update(slot, |job, _| job.status = JobStatus::Completed)
        .unwrap();
}

/// Jobs that finish out of id order go to the tree, the others to the finished list; the
/// next to evict is always the smallest finished id of both, and removing a job from either
/// keeps every index sound.
#[test]
fn jobs_finishing_out_of_order_are_evicted_by_id() {
    let mut table: JobTable<8> = JobTable::new(KeyHasher::new(5), 86_400);
    // Four accounts, one active job each: ids 1 to 4.
    let slots: [u32; 4] = core::array::from_fn(|index| {
        let id = index as u64 + 1;
        table
            .insert(job(id, id, JobStatus::Delivering), RegionStatuses::NONE)
            .unwrap()
    });
    let check = |table: &JobTable<8>| table.check(5, Timestamp(10), 0, 3, 0).unwrap();
    // 3 finishes first (listed), then 4 (listed after it), then 1 and 2 (out of order: tree).
    for index in [2, 3, 0, 1] {
        finish(&mut table, slots[index]);
        check(&table);
    }
    assert!(table.is_listed_finished(slots[2]) && table.is_listed_finished(slots[3]));
    assert_eq!(table.finished.get(slots[0]), 1);
    assert_eq!(table.finished.get(slots[1]), 2);
    // Evicted by id: 1 and 2 from the tree, then 3 and 4 from the list.
    for expected in 1..=4u64 {
        let oldest = table.oldest_finished().unwrap();
        assert_eq!(table.job_at(oldest).unwrap().id, JobId(expected));
        table.evict(oldest);
        check(&table);
    }
    assert_eq!(table.oldest_finished(), None);
}

/// Deleting a finished job from the middle of the finished list relinks its neighbours.
#[test]
fn deleting_a_listed_job_relinks_the_finished_list() {
    let mut table = table(); // 1, 2, 3 finished in id order (listed), 4 active
    let two = table.slot_of(JobId(2)).unwrap();
    assert!(table.is_listed_finished(two));
    assert_eq!(table.remove(two).unwrap().id, JobId(2));
    table.check(5, Timestamp(10), 0, 3, 0).unwrap();
    let oldest = table.oldest_finished().unwrap();
    table.evict(oldest);
    let next = table.oldest_finished().unwrap();
    assert_eq!(table.job_at(next).unwrap().id, JobId(3));
    table.check(5, Timestamp(10), 0, 3, 0).unwrap();
}
