//! The reference HTTP host of `trail-backfill`: the ActionTrail delivery-history-job API for the
//! official Alibaba Cloud SDKs, signed requests (ACS3-HMAC-SHA256), a durable redb command log
//! with group commit and snapshots, timers, and recovery after a crash. The binary is
//! `trail-backfill-server`; `trail-backfill-load` measures it. See `server/README.md`.

pub mod auth;
pub mod engine;
pub mod http;
pub mod keys;
pub mod metrics;
pub mod store;
