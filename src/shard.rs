//! [`shard_for`]: which independent scheduler (shard, Raft group) serves an account.
//!
//! Every rule of this crate is per account: the one-active-job rule, job ids' visibility, trails
//! (keyed by account first) and client tokens (scoped to account and region). So accounts can be
//! split across independent schedulers, each replicated on its own. A deployment of `n` shards
//! gives every answer that one scheduler would, provided that each account's requests all go
//! to `shard_for(account, n)` and that
//!
//! - the host's time never goes back (one scheduler clamps a late request to a time set by
//!   another account's request, which that account's shard never saw), and
//! - no table fills up (eviction takes the oldest finished job or token of its own table, so
//!   of its own shard).
//!
//! Job ids are then unique per shard, not globally: give each shard its own `first_job_id`
//! range, or qualify ids by shard, if clients must not see equal ids. `tests/sharding.rs`
//! compares a four-shard deployment with one scheduler, answer by answer.

use crate::ids::AccountId;

/// The shard, in `0..shards`, that serves `account`; `0` when `shards` is 0.
///
/// The function is Lamping and Veach's *jump consistent hash* of the account id, after a
/// splitmix64 finalizer spreads sequential ids: it is fixed by its definition, not by a
/// library's choice of hasher, so it gives the same answer on every platform and in every
/// version of this crate (a change would be a breaking change, and is tested against fixed
/// values). Going from `n` to `n + 1` shards moves only about `1 / (n + 1)` of the accounts,
/// all to the new shard.
///
/// # Examples
///
/// ```
/// use trail_backfill::{AccountId, shard_for};
///
/// let shard = shard_for(AccountId(1512666876910001), 4);
/// assert!(shard < 4);
/// assert_eq!(shard, shard_for(AccountId(1512666876910001), 4)); // stable
/// assert_eq!(shard_for(AccountId(7), 1), 0);
/// ```
#[must_use]
pub fn shard_for(account: AccountId, shards: usize) -> usize {
    let buckets = i64::try_from(shards).unwrap_or(i64::MAX);
    if buckets <= 1 {
        return 0;
    }
    let mut key = splitmix64(account.0);
    let (mut bucket, mut next) = (-1i64, 0i64);
    while next < buckets {
        bucket = next;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        // (bucket + 1) * 2^31 / ((key >> 33) + 1): the next bucket this key would jump to.
        let divisor = ((key >> 33) as f64) + 1.0; // below 2^31 + 1: exact as f64
        let jump = ((bucket as f64) + 1.0) * (2_147_483_648.0 / divisor);
        // `jump` is positive and finite; the cast saturates above i64::MAX, ending the loop.
        next = jump as i64;
    }
    usize::try_from(bucket).unwrap_or(0)
}

/// The splitmix64 finalizer, so that consecutive account ids land on unrelated shards.
const fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)] // tests may panic: that is how they fail
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    #[test]
    fn answers_are_fixed_across_versions_and_platforms() {
        // Pinned values: if this test changes, shards would move between deployments.
        let pinned: Vec<usize> = (0..8).map(|a| shard_for(AccountId(a), 10)).collect();
        assert_eq!(pinned, PINNED);
        assert_eq!(shard_for(AccountId(u64::MAX), 1_000), PINNED_MAX);
    }

    const PINNED: [usize; 8] = [8, 9, 0, 4, 7, 3, 5, 8];
    const PINNED_MAX: usize = 650;

    #[test]
    fn stays_in_range_and_moves_few_accounts_when_growing() {
        assert_eq!(shard_for(AccountId(5), 0), 0);
        let (mut moved, total) = (0, 10_000u64);
        for account in 0..total {
            let before = shard_for(AccountId(account), 9);
            let after = shard_for(AccountId(account), 10);
            assert!(before < 9 && after < 10);
            if before != after {
                assert_eq!(after, 9, "a moved account goes to the new shard");
                moved += 1;
            }
        }
        // About 1/10 of the accounts move.
        assert!((800..1_200).contains(&moved), "{moved} moved");
        let mut counts = [0u32; 10];
        for account in 0..total {
            counts[shard_for(AccountId(account), 10)] += 1;
        }
        assert!(
            counts.iter().all(|&c| (850..1_150).contains(&c)),
            "{counts:?}"
        );
    }
}
