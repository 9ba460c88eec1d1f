//! The idempotency-token cache: `ClientToken` records per account and region, with a TTL, in
//! first-in first-out order.
//!
//! A record `(account, region, token) -> (job_id, trail_name, recorded_at)` is **live** while
//! `now < recorded_at + token_ttl_secs` (saturating). While live, a `create_job` with the same
//! token and trail name replays the original answer; with another trail name it is refused
//! (`IdempotentParameterMismatch`). Records leave only when a new record needs their key
//! (an expired record for the same key) or their room (the oldest record, when full); expired
//! records are otherwise kept. Since time never goes back inside the scheduler, records are
//! held in `recorded_at` order and the expired ones are always the oldest.

use crate::hash_index::HashIndex;
use crate::ids::{AccountId, ClientToken, JobId, Region, TrailName};
use crate::invariants::{Index, InvariantViolation};
use crate::slab::{ListSlab, Vacant};
use crate::time::Timestamp;

/// One remembered `create_job` that carried a client token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct TokenRecord {
    pub(crate) account: AccountId,
    pub(crate) region: Region,
    pub(crate) token: ClientToken,
    pub(crate) job_id: JobId,
    pub(crate) trail_name: TrailName,
    pub(crate) recorded_at: Timestamp,
}

impl TokenRecord {
    /// Whether the record still makes requests idempotent at `now`.
    pub(crate) fn is_live(&self, now: Timestamp, ttl_secs: u64) -> bool {
        now < self.recorded_at.saturating_add_secs(ttl_secs)
    }

    fn has_key(&self, account: AccountId, region: &Region, token: &ClientToken) -> bool {
        self.account == account && self.region == *region && self.token == *token
    }
}

#[derive(Debug, Clone)]
struct Entry {
    record: TokenRecord,
    /// The key's hash, kept so that evicting this record needs no rehash.
    hash: u64,
}

impl Vacant for Entry {
    const VACANT: Entry = Entry {
        record: TokenRecord {
            account: AccountId(0),
            region: Region::VACANT,
            token: ClientToken::VACANT,
            job_id: JobId(0),
            trail_name: TrailName::VACANT,
            recorded_at: Timestamp(0),
        },
        hash: 0,
    };
}

/// Where a key stands in the cache: [`TokenCache::lookup`].
#[derive(Debug)]
pub(crate) enum TokenLookup<'a> {
    /// A live record holds the key: a `create_job` with it replays (or mismatches).
    Live(&'a TokenRecord),
    /// An expired record holds the key: it leaves when the next record for the key comes.
    Expired(ExpiredSlot),
    /// No record holds the key.
    Absent,
}

/// The slot of an expired record that [`TokenCache::lookup`] found, for
/// [`TokenCache::record`] to replace without looking it up again.
#[derive(Debug)]
pub(crate) struct ExpiredSlot(u32);

/// What [`TokenCache::record`] had to remove to make room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Recorded {
    /// The oldest record was removed while still live (`Stats::tokens_evicted_live`).
    pub(crate) evicted_live: bool,
}

#[derive(Debug)]
pub(crate) struct TokenCache<const N: usize> {
    /// Records in `recorded_at` order, oldest at the front.
    entries: ListSlab<Entry, N>,
    by_key: HashIndex<N>,
}

/// Why a snapshot's token record was not stored.
#[cfg(feature = "serde")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenRefused {
    /// A record for the same `(account, region, token)` is already there.
    DuplicateKey,
    /// The cache is full.
    Full,
}

/// `clone_from` copies in place: a large cache never goes through the stack.
impl<const N: usize> Clone for TokenCache<N> {
    fn clone(&self) -> Self {
        TokenCache {
            entries: self.entries.clone(),
            by_key: self.by_key.clone(),
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.entries.clone_from(&source.entries);
        self.by_key.clone_from(&source.by_key);
    }
}

impl<const N: usize> TokenCache<N> {
    pub(crate) const fn new() -> Self {
        TokenCache {
            entries: ListSlab::new(),
            by_key: HashIndex::new(),
        }
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.by_key.clear();
    }

    /// Records held, live or expired.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Rebuilds the hash index with another hash function (a snapshot's config may arrive
    /// after its token records).
    #[cfg(feature = "serde")]
    pub(crate) fn rekey(&mut self, hash_of: impl Fn(&TokenRecord) -> u64) {
        self.by_key.clear();
        let mut next = self.entries.front();
        while let Some(slot) = next {
            if let Some(entry) = self.entries.get_mut(slot) {
                entry.hash = hash_of(&entry.record);
                self.by_key.insert(entry.hash, slot);
            }
            next = self.entries.next(slot);
        }
    }

    /// Records oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &TokenRecord> + '_ {
        self.entries.iter().map(|entry| &entry.record)
    }

    fn find(
        &self,
        hash: u64,
        account: AccountId,
        region: &Region,
        token: &ClientToken,
    ) -> Option<u32> {
        self.by_key.find(hash, |slot| {
            self.entries
                .get(slot)
                .is_some_and(|entry| entry.record.has_key(account, region, token))
        })
    }

    /// Where this key stands at `now`; `hash` is the key's
    /// [`token_key`](crate::hashing::KeyHasher::token_key) hash.
    pub(crate) fn lookup(
        &self,
        hash: u64,
        account: AccountId,
        region: &Region,
        token: &ClientToken,
        now: Timestamp,
        ttl_secs: u64,
    ) -> TokenLookup<'_> {
        let Some(slot) = self.find(hash, account, region, token) else {
            return TokenLookup::Absent;
        };
        match self.entries.get(slot) {
            Some(entry) if entry.record.is_live(now, ttl_secs) => TokenLookup::Live(&entry.record),
            Some(_) => TokenLookup::Expired(ExpiredSlot(slot)),
            None => TokenLookup::Absent,
        }
    }

    /// The record for this key if it is live at `now` (see [`lookup`](Self::lookup)).
    #[cfg(test)]
    pub(crate) fn live(
        &self,
        hash: u64,
        account: AccountId,
        region: &Region,
        token: &ClientToken,
        now: Timestamp,
        ttl_secs: u64,
    ) -> Option<&TokenRecord> {
        match self.lookup(hash, account, region, token, now, ttl_secs) {
            TokenLookup::Live(record) => Some(record),
            _ => None,
        }
    }

    /// Stores `record` (made at `now`, the latest time yet), in `create_job`'s order: (a) the
    /// expired record for the same key, which [`lookup`](Self::lookup) found just before
    /// (nothing changed the cache since), leaves; (b) if still full, the oldest record leaves;
    /// (c) the new record joins at the back. The caller has checked that no live record holds
    /// the key.
    pub(crate) fn record(
        &mut self,
        hash: u64,
        record: TokenRecord,
        ttl_secs: u64,
        expired: Option<ExpiredSlot>,
    ) -> Recorded {
        let now = record.recorded_at;
        if let Some(ExpiredSlot(slot)) = expired {
            self.discard(slot);
        }
        let mut evicted_live = false;
        if self.entries.is_full()
            && let Some(oldest) = self.entries.front()
        {
            // Read in place: the evicted record itself is of no use.
            evicted_live = self
                .entries
                .get(oldest)
                .is_some_and(|entry| entry.record.is_live(now, ttl_secs));
            self.discard(oldest);
        }
        // Room was made above, so this cannot fail.
        if let Ok(slot) = self.entries.push_back(Entry { record, hash }) {
            self.by_key.insert(hash, slot);
        }
        Recorded { evicted_live }
    }

    #[cfg(feature = "serde")]
    /// Appends a record from a snapshot; refused (and nothing stored) when the key is taken
    /// or the cache is full.
    pub(crate) fn restore(&mut self, hash: u64, record: TokenRecord) -> Result<(), TokenRefused> {
        if self
            .find(hash, record.account, &record.region, &record.token)
            .is_some()
        {
            return Err(TokenRefused::DuplicateKey);
        }
        let slot = self
            .entries
            .push_back(Entry { record, hash })
            .map_err(|_| TokenRefused::Full)?;
        self.by_key.insert(hash, slot);
        Ok(())
    }

    /// Drops the record at `slot` from the index and the slab.
    fn discard(&mut self, slot: u32) {
        if let Some(entry) = self.entries.get(slot) {
            self.by_key.remove(entry.hash, slot);
            self.entries.discard(slot);
        }
    }

    /// Invariants 4 to 7 for tokens: records unique per key and indexed, in `recorded_at`
    /// order, no later than `clock`, naming ids below `next_id`.
    ///
    /// `hash_of` recomputes each record's hash to check the stored one and the index; `None`
    /// trusts the stored hashes and the index (just built by a restore from the same records,
    /// which refused a repeated key as it came).
    pub(crate) fn check(
        &self,
        next_id: u64,
        clock: Timestamp,
        hash_of: Option<&dyn Fn(&TokenRecord) -> u64>,
    ) -> Result<(), InvariantViolation> {
        let mut previous: Option<Timestamp> = None;
        for slot in self.entries.slots() {
            let Some(entry) = self.entries.get(slot) else {
                return Err(InvariantViolation::IndexMismatch(Index::Tokens));
            };
            let record = &entry.record;
            if record.job_id.0 >= next_id {
                return Err(InvariantViolation::TokenJobIdNotBelowNext { job: record.job_id });
            }
            if previous.is_some_and(|previous| previous > record.recorded_at) {
                return Err(InvariantViolation::TokensOutOfOrder);
            }
            if record.recorded_at > clock {
                return Err(InvariantViolation::TimeAfterClock);
            }
            previous = Some(record.recorded_at);
            let Some(hash_of) = hash_of else {
                continue;
            };
            let hash = entry.hash;
            if hash_of(record) != hash {
                return Err(InvariantViolation::IndexMismatch(Index::Tokens));
            }
            // With a duplicate key, the index finds the same first slot for both records.
            if self.find(hash, record.account, &record.region, &record.token) != Some(slot) {
                return Err(InvariantViolation::DuplicateToken {
                    account: record.account,
                });
            }
        }
        if hash_of.is_none() {
            return Ok(());
        }
        if self.entries.slots().count() != self.entries.len()
            || self.by_key.count() != self.entries.len()
        {
            return Err(InvariantViolation::IndexMismatch(Index::Tokens));
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may panic: that is how they fail
mod tests {
    use super::*;

    fn record(account: u64, region: &str, token: &str, job: u64) -> TokenRecord {
        TokenRecord {
            account: AccountId(account),
            region: Region::new(region).unwrap(),
            token: ClientToken::new(token).unwrap(),
            job_id: JobId(job),
            trail_name: TrailName::new("trail-name").unwrap(),
            recorded_at: Timestamp(10),
        }
    }

    #[test]
    fn keys_that_share_a_hash_are_told_apart() {
        // Force every key into one chain with one tag: only the key comparison tells them apart.
        let mut cache: TokenCache<4> = TokenCache::new();
        let records = [
            record(1, "cn-hangzhou", "tok", 1),
            record(2, "cn-hangzhou", "tok", 2),
            record(1, "cn-shanghai", "tok", 3),
            record(1, "cn-hangzhou", "TOK", 4),
        ];
        for r in &records {
            cache.record(7, r.clone(), 100, None);
        }
        for r in &records {
            let found = cache.live(7, r.account, &r.region, &r.token, Timestamp(20), 100);
            assert_eq!(found.map(|found| found.job_id), Some(r.job_id));
        }
        let missing = ClientToken::new("other").unwrap();
        let region = Region::new("cn-hangzhou").unwrap();
        assert!(
            cache
                .live(7, AccountId(1), &region, &missing, Timestamp(20), 100)
                .is_none()
        );
        assert_eq!(cache.check(5, Timestamp(20), Some(&|_| 7)), Ok(()));
    }
}
