//! The durable store: a command log and the latest snapshot in one redb database.
//!
//! - `log`: `index -> postcard((Command, now))`, one entry per command that the scheduler
//!   accepted, in the order it applied them. Indexes start at 1 and never repeat.
//! - `meta`: `config` (postcard of the scheduler's `Config`, written once when the database is
//!   created: it holds the hash seed, a secret), and `snapshot` (8 bytes little-endian: the
//!   index of the last command it contains, then the scheduler's postcard bytes).
//!
//! Every write is one redb transaction committed with `Durability::Immediate` (fsync), so a
//! commit that returned is on disk, and a crash at any moment leaves either all of a batch or
//! none of it. Writing a snapshot drops the log entries it contains in the same transaction
//! (unless the store keeps the whole log, for `--verify-replay`).

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use trail_backfill::{Command, Config, Timestamp};

/// Any storage error, with its context.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("log");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

/// The database file's name inside the data directory.
pub const FILE: &str = "trail-backfill.redb";

/// The command log and snapshots.
pub struct Store {
    db: Database,
    last_index: u64,
    keep_log: bool,
}

/// What is stored, read back at start.
pub struct Recovered {
    /// The latest snapshot: the index of the last command it contains, and its bytes.
    pub snapshot: Option<(u64, Vec<u8>)>,
    /// The log entries after the snapshot, in order.
    pub log: Vec<(u64, Command, Timestamp)>,
}

impl Store {
    /// Opens (or creates) the database in `dir`. With `keep_log`, snapshots do not drop the
    /// log, so that the whole history can be replayed from scratch and compared.
    pub fn open(dir: &Path, keep_log: bool) -> Result<Store, Error> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the data directory {}: {e}", dir.display()))?;
        let path = dir.join(FILE);
        let db = Database::create(&path)
            .map_err(|e| format!("cannot open the database {}: {e}", path.display()))?;
        let tx = db.begin_write()?;
        tx.open_table(LOG)?;
        tx.open_table(META)?;
        tx.commit()?;
        let mut store = Store {
            db,
            last_index: 0,
            keep_log,
        };
        store.last_index = store.scan_last_index()?;
        Ok(store)
    }

    fn scan_last_index(&self) -> Result<u64, Error> {
        let tx = self.db.begin_read()?;
        let log = tx.open_table(LOG)?;
        let from_log = log.last()?.map(|(k, _)| k.value());
        let from_snapshot = self.snapshot()?.map(|(index, _)| index);
        Ok(from_log.max(from_snapshot).unwrap_or(0))
    }

    /// The index of the last command stored.
    pub fn last_index(&self) -> u64 {
        self.last_index
    }

    /// The scheduler's config: the stored one, or `make()`'s, stored now (the first start).
    pub fn config(&mut self, make: impl FnOnce() -> Config) -> Result<Config, Error> {
        {
            let tx = self.db.begin_read()?;
            let meta = tx.open_table(META)?;
            if let Some(bytes) = meta.get("config")? {
                return Ok(postcard::from_bytes(bytes.value())
                    .map_err(|e| format!("the stored config does not load: {e}"))?);
            }
        }
        let config = make();
        let tx = self.db.begin_write()?;
        {
            let mut meta = tx.open_table(META)?;
            meta.insert("config", postcard::to_allocvec(&config)?.as_slice())?;
        }
        tx.commit()?;
        Ok(config)
    }

    /// The latest snapshot, if any.
    pub fn snapshot(&self) -> Result<Option<(u64, Vec<u8>)>, Error> {
        let tx = self.db.begin_read()?;
        let meta = tx.open_table(META)?;
        let Some(value) = meta.get("snapshot")? else {
            return Ok(None);
        };
        let bytes = value.value();
        let (index, rest) = bytes
            .split_first_chunk::<8>()
            .ok_or("the stored snapshot is truncated")?;
        Ok(Some((u64::from_le_bytes(*index), rest.to_vec())))
    }

    /// The log entries with an index above `after`, in order.
    pub fn log_after(&self, after: u64) -> Result<Vec<(u64, Command, Timestamp)>, Error> {
        let tx = self.db.begin_read()?;
        let log = tx.open_table(LOG)?;
        let mut out = Vec::new();
        for entry in log.range(after.saturating_add(1)..)? {
            let (index, bytes) = entry?;
            let (command, now): (Command, Timestamp) = postcard::from_bytes(bytes.value())
                .map_err(|e| format!("log entry {} does not load: {e}", index.value()))?;
            out.push((index.value(), command, now));
        }
        Ok(out)
    }

    /// The latest snapshot and the log after it.
    pub fn recover(&self) -> Result<Recovered, Error> {
        let snapshot = self.snapshot()?;
        let after = snapshot.as_ref().map_or(0, |(index, _)| *index);
        let log = self.log_after(after)?;
        Ok(Recovered { snapshot, log })
    }

    /// Appends a batch of commands in one durable transaction (the group commit): when this
    /// returns `Ok`, every entry is on disk.
    pub fn append(&mut self, entries: &[(Command, Timestamp)]) -> Result<(), Error> {
        if entries.is_empty() {
            return Ok(());
        }
        let tx = self.db.begin_write()?;
        let mut index = self.last_index;
        {
            let mut log = tx.open_table(LOG)?;
            for entry in entries {
                index += 1;
                log.insert(index, postcard::to_allocvec(entry)?.as_slice())?;
            }
        }
        tx.commit()?;
        self.last_index = index;
        Ok(())
    }

    /// Stores a snapshot holding every command up to the last one appended, and drops the log
    /// before it (unless the store keeps the log).
    pub fn write_snapshot(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let index = self.last_index;
        let mut value = Vec::with_capacity(bytes.len() + 8);
        value.extend_from_slice(&index.to_le_bytes());
        value.extend_from_slice(bytes);
        let tx = self.db.begin_write()?;
        {
            let mut meta = tx.open_table(META)?;
            meta.insert("snapshot", value.as_slice())?;
            if !self.keep_log {
                let mut log = tx.open_table(LOG)?;
                log.retain_in(..=index, |_, _| false)?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// How many log entries are stored.
    pub fn log_len(&self) -> Result<u64, Error> {
        let tx = self.db.begin_read()?;
        Ok(tx.open_table(LOG)?.len()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trail_backfill::AccountId;

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "trail-backfill-store-{name}-{}-{}",
            std::process::id(),
            crate::keys::random_hex(4)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn command(job: u64) -> Command {
        Command::StopJob {
            account: AccountId(7),
            job: trail_backfill::JobId(job),
        }
    }

    #[test]
    fn log_snapshot_and_recovery() {
        let dir = temp_dir("basic");
        {
            let mut store = Store::open(&dir, false).unwrap();
            let config = store
                .config(|| Config {
                    hash_seed: 99,
                    ..Config::DEFAULT
                })
                .unwrap();
            assert_eq!(config.hash_seed, 99);
            store
                .append(&[(command(1), Timestamp(10)), (command(2), Timestamp(11))])
                .unwrap();
            store.write_snapshot(b"snap").unwrap();
            assert_eq!(store.log_len().unwrap(), 0);
            store.append(&[(command(3), Timestamp(12))]).unwrap();
            assert_eq!(store.last_index(), 3);
        }
        // Reopened: the same config (not the new maker's), the snapshot and the tail.
        let mut store = Store::open(&dir, false).unwrap();
        assert_eq!(store.last_index(), 3);
        assert_eq!(store.config(|| Config::DEFAULT).unwrap().hash_seed, 99);
        let recovered = store.recover().unwrap();
        assert_eq!(recovered.snapshot, Some((2, b"snap".to_vec())));
        assert_eq!(recovered.log, vec![(3, command(3), Timestamp(12))]);
        // A snapshot with nothing after it: the next index still follows the last one.
        store.write_snapshot(b"snap2").unwrap();
        drop(store);
        let mut store = Store::open(&dir, false).unwrap();
        assert_eq!(store.last_index(), 3);
        store.append(&[(command(4), Timestamp(13))]).unwrap();
        assert_eq!(store.recover().unwrap().log[0].0, 4);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn keep_log_keeps_the_whole_history() {
        let dir = temp_dir("keep");
        let mut store = Store::open(&dir, true).unwrap();
        store.append(&[(command(1), Timestamp(10))]).unwrap();
        store.write_snapshot(b"s").unwrap();
        store.append(&[(command(2), Timestamp(11))]).unwrap();
        assert_eq!(store.log_after(0).unwrap().len(), 2);
        assert_eq!(store.recover().unwrap().log.len(), 1);
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
