//! Keyed hashing of table keys.
//!
//! Trail names and client tokens come from untrusted clients: hashed with a public function, a
//! client could pick keys that all land in one bucket and make every lookup walk a long chain
//! (HashDoS). They are hashed with SipHash-1-3 (the function std's `HashMap` uses), keyed from
//! [`Config::hash_seed`](crate::Config::hash_seed). Account ids are not chosen by clients
//! (accounts are authenticated), so a keyed bijective mixer is enough for them and much
//! cheaper. Job ids are assigned here in sequence and go first to the place `id mod N`
//! ([`IdIndex`](crate::id_index::IdIndex)); but a client decides which of its jobs it deletes,
//! so the ids it keeps (every multiple of the capacity, say) could all want one place: those
//! whose place is taken go through the same keyed mixer. Hashes only place
//! entries in tables: no answer and no snapshot byte depends on them.

use core::hash::Hasher;

use siphasher::sip::SipHasher13;

use crate::ids::{AccountId, ClientToken, Region, TrailName};

/// The hash functions of one scheduler, keyed from its config's `hash_seed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyHasher {
    key0: u64,
    /// The second key word, stored as its difference from seed 0's so that a scheduler built
    /// with seed 0 (in a `static`) is all zero bytes; [`KeyHasher::key1`] adds it back.
    key1_from_zero: u64,
}

/// What is mixed into the seed to derive the second key word.
const SECOND_KEY: u64 = 0x9e37_79b9_7f4a_7c15;

/// The second key word of seed 0.
const KEY1_OF_ZERO: u64 = mix64(SECOND_KEY);

impl KeyHasher {
    pub(crate) const fn new(seed: u64) -> Self {
        KeyHasher {
            key0: seed,
            // A second, different key word derived from the seed (splitmix64 of it).
            key1_from_zero: mix64(seed ^ SECOND_KEY) ^ KEY1_OF_ZERO,
        }
    }

    const fn key1(&self) -> u64 {
        self.key1_from_zero ^ KEY1_OF_ZERO
    }

    /// SipHash-1-3 of `(account, region, name)`, for trail keys and token keys alike. Region
    /// bytes are ASCII, so the `0xff` separator makes the encoding prefix-free.
    ///
    /// Four writes, not one of the parts copied into a buffer: the buffer saved instructions
    /// inside the hasher but cost more time (zeroing it and copying short parts), measured as
    /// 53 against 40 ns for a replayed `create_job`.
    #[inline]
    fn scoped_name(&self, account: AccountId, region: &Region, name: &str) -> u64 {
        let mut hasher = SipHasher13::new_with_keys(self.key0, self.key1());
        hasher.write(&account.0.to_le_bytes());
        hasher.write(region.as_str().as_bytes());
        hasher.write_u8(0xff);
        hasher.write(name.as_bytes());
        hasher.finish()
    }

    /// The hash of a trail key `(account, region, name)`.
    pub(crate) fn trail_key(&self, account: AccountId, region: &Region, name: &TrailName) -> u64 {
        self.scoped_name(account, region, name.as_str())
    }

    /// The hash of a token key `(account, region, token)`.
    pub(crate) fn token_key(
        &self,
        account: AccountId,
        region: &Region,
        token: &ClientToken,
    ) -> u64 {
        self.scoped_name(account, region, token.as_str())
    }

    /// A keyed mix of a server-side `u64` key (an account id).
    pub(crate) const fn id(&self, id: u64) -> u64 {
        mix64(id ^ self.key1())
    }
}

/// The splitmix64 finalizer: a bijection on `u64` whose output bits all depend on all input
/// bits, so consecutive ids spread evenly over buckets.
const fn mix64(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may panic: that is how they fail
mod tests {
    use super::*;
    use crate::ids::{ClientToken, TrailName};

    fn region(value: &str) -> Region {
        Region::new(value).unwrap()
    }

    #[test]
    fn every_part_of_a_key_and_the_seed_change_the_hash() {
        let hasher = KeyHasher::new(7);
        let base = hasher.scoped_name(AccountId(1), &region("cn-hangzhou"), "trail-name");
        for other in [
            hasher.scoped_name(AccountId(2), &region("cn-hangzhou"), "trail-name"),
            hasher.scoped_name(AccountId(1), &region("cn-shanghai"), "trail-name"),
            hasher.scoped_name(AccountId(1), &region("cn-hangzhou"), "trail-nam3"),
            KeyHasher::new(8).scoped_name(AccountId(1), &region("cn-hangzhou"), "trail-name"),
        ] {
            assert_ne!(base, other);
        }
        // The separator keeps (region, name) pairs apart when their concatenations agree.
        assert_ne!(
            hasher.scoped_name(AccountId(1), &region("ab"), "cdefgh"),
            hasher.scoped_name(AccountId(1), &region("abc"), "defgh")
        );
    }

    #[test]
    fn the_functions_are_the_documented_ones() {
        // splitmix64's finalizer, checked against an independent implementation.
        assert_eq!(mix64(1), 0x5692_161d_100b_05e5);
        assert_eq!(mix64(0x1234), 0xbbab_031d_6fc0_f336);
        assert_eq!(mix64(0xdead_beef), 0x4e06_2702_ec92_9eea);
        // Pinned: a change here silently reshuffles every table (not an answer, but a layout
        // that benchmarks and HashDoS resistance were measured with).
        let hasher = KeyHasher::new(0x5eed);
        let region = region("cn-hangzhou");
        let trail = hasher.trail_key(
            AccountId(1),
            &region,
            &TrailName::new("trail-name").unwrap(),
        );
        let token = hasher.token_key(
            AccountId(1),
            &region,
            &ClientToken::new("trail-name").unwrap(),
        );
        assert_eq!(
            trail, token,
            "both hash (account, region, string) the same way"
        );
        assert_eq!(trail, PINNED_SCOPED_NAME);
        let other = hasher.token_key(
            AccountId(1),
            &region,
            &ClientToken::new("Trail-name").unwrap(),
        );
        assert_ne!(token, other);
    }

    const PINNED_SCOPED_NAME: u64 = 5_267_090_564_410_590_078;

    #[test]
    fn ids_mix_into_distinct_well_spread_values() {
        let hasher = KeyHasher::new(3);
        assert_ne!(hasher.id(1), hasher.id(2));
        assert_ne!(hasher.id(1), KeyHasher::new(4).id(1));
        // Consecutive ids land in all 16 buckets of a mod-16 table, roughly evenly.
        let mut buckets = [0u32; 16];
        for id in 0..1_600u64 {
            let bucket = usize::try_from(hasher.id(id) % 16).unwrap();
            if let Some(count) = buckets.get_mut(bucket) {
                *count = count.saturating_add(1);
            }
        }
        assert!(
            buckets.iter().all(|&count| (60..140).contains(&count)),
            "{buckets:?}"
        );
    }
}
