//! The simulated network: a seeded fault schedule (loss, delay, reordering, partitions).

use raft::prelude::Message;

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
}

/// How the simulated network treats each message: dropped when it leaves or reaches an
/// isolated node, or with `drop_percent` probability, otherwise delivered `1..=max_delay`
/// rounds later (different delays reorder messages).
#[derive(Debug, Clone)]
pub struct Network {
    /// The seeded schedule.
    pub rng: XorShift,
    /// Percent of messages lost.
    pub drop_percent: u64,
    /// Longest delay, in rounds (at least 1).
    pub max_delay: u64,
    /// Raft ids of nodes cut off from the others (a partition).
    pub isolated: Vec<u64>,
}

impl Network {
    /// Every message arrives, one round later, in order.
    pub fn reliable() -> Self {
        Network {
            rng: XorShift::new(0),
            drop_percent: 0,
            max_delay: 1,
            isolated: Vec::new(),
        }
    }

    /// Drops, delays and reorders messages by a seeded schedule.
    pub fn lossy(seed: u64, drop_percent: u64, max_delay: u64) -> Self {
        Network {
            rng: XorShift::new(seed),
            drop_percent,
            max_delay: max_delay.max(1),
            isolated: Vec::new(),
        }
    }

    /// `None`: dropped; `Some(rounds)`: delivered that many rounds from now.
    pub(crate) fn schedule(&mut self, message: &Message) -> Option<u64> {
        if self.isolated.contains(&message.from) || self.isolated.contains(&message.to) {
            return None;
        }
        if self.drop_percent > 0 && self.rng.percent(self.drop_percent) {
            return None;
        }
        Some(1 + self.rng.below(self.max_delay.max(1)))
    }
}

/// A message on its way.
pub(crate) struct InFlight {
    pub(crate) due: u64,
    pub(crate) seq: u64,
    pub(crate) message: Message,
}

/// Counters of the simulated network.
#[derive(Debug, Default, Clone, Copy)]
pub struct NetStats {
    /// Messages handed to the network.
    pub sent: u64,
    /// Messages lost (dropped, or sent to a node that was down on arrival).
    pub lost: u64,
    /// Raft snapshots delivered.
    pub snapshots_delivered: u64,
    /// Messages delivered after a message that was sent later on the same link.
    pub reordered: u64,
}
