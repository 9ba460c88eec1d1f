//! Setup helpers that the test files shared by copying: a seeded random generator, value
//! constructors, and trail setup. Each test file that uses them has `mod common;`.

// Each test file is its own crate and uses only part of this module.
#![allow(dead_code)]

use trail_backfill::{
    AccountId, ClientToken, JobScheduler, Region, Timestamp, TrailKind, TrailName, TrailSpec,
};

/// A small xorshift64* generator: seeded, deterministic, no dependency.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator from any seed (0 included).
    pub fn new(seed: u64) -> Self {
        // splitmix64 of the seed: nearby seeds give unrelated streams (never the zero state).
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        XorShift((z ^ (z >> 31)) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..bound` (`bound > 0`).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }

    /// True with probability `percent` / 100.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One of `items` (not empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// A valid region.
pub fn region(s: &str) -> Region {
    Region::new(s).unwrap()
}

/// cn-hangzhou.
pub fn hz() -> Region {
    region("cn-hangzhou")
}

/// cn-beijing.
pub fn bj() -> Region {
    region("cn-beijing")
}

/// A valid trail name.
pub fn name(s: &str) -> TrailName {
    TrailName::new(s).unwrap()
}

/// A valid client token.
pub fn token(s: &str) -> ClientToken {
    ClientToken::new(s).unwrap()
}

/// An eligible trail: single-account, delivering to Simple Log Service.
pub fn spec(s: &str) -> TrailSpec {
    TrailSpec {
        name: name(s),
        kind: TrailKind::SingleAccount,
        delivers_to_sls: true,
    }
}

/// The scheduler's JSON snapshot.
pub fn snap<const T: usize, const J: usize, const K: usize>(s: &JobScheduler<T, J, K>) -> String {
    serde_json::to_string(s).unwrap()
}

/// Creates the eligible trail `n` in `r` and starts its logging, at `now`.
pub fn logging_trail<const T: usize, const J: usize, const K: usize>(
    s: &mut JobScheduler<T, J, K>,
    account: AccountId,
    r: &Region,
    n: &str,
    now: u64,
) {
    s.create_trail(account, r, &spec(n), Timestamp(now))
        .unwrap();
    s.start_logging(account, r, &name(n), Timestamp(now))
        .unwrap();
}
