//! [`Config`]: the scheduler's rules that a host may tune.

/// The scheduler's tunable rules. Plain public fields, so hosts write
/// `Config { token_ttl_secs: 60, ..Config::DEFAULT }`.
///
/// A config is part of a snapshot: replicas that share one compute the same answers.
///
/// # Examples
///
/// ```
/// use trail_backfill::Config;
///
/// let config = Config { token_ttl_secs: 3_600, hash_seed: 0x5eed, ..Config::DEFAULT };
/// assert_eq!(config.retention_secs, 90 * 86_400);
/// assert_eq!(Config::default(), Config::DEFAULT);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Config {
    /// How long a `ClientToken` record makes `create_job` idempotent, in seconds: a record made
    /// at `t` is live while `now < t + token_ttl_secs`. Default one day (86 400).
    pub token_ttl_secs: u64,
    /// How far back a backfill task re-delivers events, in seconds: `window_start =
    /// created_at - retention_secs`. Default 90 days (7 776 000), ActionTrail's retention.
    pub retention_secs: u64,
    /// How far past the start of logging a task's window ends, in seconds: `window_end =
    /// max(window_start, logging_since + grace_secs)`. Default 300.
    pub grace_secs: u64,
    /// How many trails one account may have in one region. Default 5.
    pub max_trails_per_account: u32,
    /// The id of the first job created; later jobs count up from it. Default 1.
    pub first_job_id: u64,
    /// The key of the hash that indexes client-controlled strings (trail names, client tokens),
    /// so that clients cannot predict which keys collide (HashDoS). Every host should set its
    /// own secret value; replicas of one state machine must share it. It changes no answer,
    /// only the tables' internal layout; as part of the config it is written into snapshots,
    /// so keep snapshots as private as the seed.
    pub hash_seed: u64,
}

impl Config {
    /// The defaults: tokens live one day, 90 days of retention, 300 s of grace, 5 trails per
    /// account and region, ids from 1, and a fixed public hash seed (replace it).
    pub const DEFAULT: Config = Config {
        token_ttl_secs: 86_400,
        retention_secs: 7_776_000,
        grace_secs: 300,
        max_trails_per_account: 5,
        first_job_id: 1,
        hash_seed: 0x7261_696c_6261_636b,
    };
}

impl Default for Config {
    fn default() -> Self {
        Config::DEFAULT
    }
}
