//! Access keys: who may call, and as whom.
//!
//! ```toml
//! [[key]]
//! id = "LTAI-customer-1"
//! secret = "..."
//! account = 1512666876910001   # a customer key: its requests act as this account
//!
//! [[key]]
//! id = "LTAI-worker-1"
//! secret = "..."
//! worker = true                # may call the worker actions, for the request's AccountId
//! ```

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use trail_backfill::AccountId;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The customer actions, as this account.
    Customer(AccountId),
    /// The worker actions, for any account.
    Worker,
}

/// One key. `Debug` never shows the secret.
#[derive(Clone)]
pub struct Key {
    /// The AccessKeyId.
    pub id: String,
    /// The AccessKeySecret.
    pub secret: String,
    /// What it may do.
    pub role: Role,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("id", &self.id)
            .field("secret", &"<secret>")
            .field("role", &self.role)
            .finish()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    key: Vec<KeyEntry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyEntry {
    id: String,
    secret: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<u64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    worker: bool,
}

/// The keys, by id.
#[derive(Debug, Default)]
pub struct Keys {
    by_id: HashMap<String, Key>,
}

impl Keys {
    /// Parses a keys file's text.
    pub fn parse(text: &str) -> Result<Keys, String> {
        let file: KeyFile = toml::from_str(text).map_err(|e| format!("keys: {e}"))?;
        let mut keys = Keys::default();
        for entry in file.key {
            let role = match (entry.account, entry.worker) {
                (Some(account), false) => Role::Customer(AccountId(account)),
                (None, true) => Role::Worker,
                _ => {
                    return Err(format!(
                        "keys: key {:?} needs exactly one of `account = <u64>` or `worker = true`",
                        entry.id
                    ));
                }
            };
            if entry.id.is_empty() || entry.secret.is_empty() {
                return Err("keys: every key needs a non-empty id and secret".to_owned());
            }
            let key = Key {
                id: entry.id.clone(),
                secret: entry.secret,
                role,
            };
            if keys.by_id.insert(entry.id.clone(), key).is_some() {
                return Err(format!("keys: key id {:?} appears twice", entry.id));
            }
        }
        Ok(keys)
    }

    /// Reads a keys file.
    pub fn load(path: &Path) -> Result<Keys, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("keys: cannot read {}: {e}", path.display()))?;
        Keys::parse(&text)
    }

    /// A key by id.
    pub fn get(&self, id: &str) -> Option<&Key> {
        self.by_id.get(id)
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// Random bytes from the operating system, as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the operating system's random source failed");
    hex::encode(buf)
}

/// A keys file with one customer key (for `account`) and one worker key, random secrets.
pub fn generate(account: u64) -> String {
    let file = KeyFile {
        key: vec![
            KeyEntry {
                id: format!("LTAI{}", random_hex(8)),
                secret: random_hex(16),
                account: Some(account),
                worker: false,
            },
            KeyEntry {
                id: format!("LTAIw{}", random_hex(8)),
                secret: random_hex(16),
                account: None,
                worker: true,
            },
        ],
    };
    toml::to_string(&file).expect("a keys file serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_customer_and_worker_keys() {
        let keys = Keys::parse(
            "[[key]]\nid = \"a\"\nsecret = \"s1\"\naccount = 7\n\n[[key]]\nid = \"w\"\nsecret = \"s2\"\nworker = true\n",
        )
        .unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys.get("a").unwrap().role, Role::Customer(AccountId(7)));
        assert_eq!(keys.get("w").unwrap().role, Role::Worker);
        assert!(keys.get("x").is_none());
        assert!(!format!("{:?}", keys.get("a").unwrap()).contains("s1"));
    }

    #[test]
    fn refuses_ambiguous_or_duplicate_keys() {
        assert!(Keys::parse("[[key]]\nid = \"a\"\nsecret = \"s\"\n").is_err());
        assert!(
            Keys::parse("[[key]]\nid = \"a\"\nsecret = \"s\"\naccount = 1\nworker = true\n")
                .is_err()
        );
        assert!(
            Keys::parse("[[key]]\nid = \"a\"\nsecret = \"s\"\naccount = 1\n[[key]]\nid = \"a\"\nsecret = \"t\"\naccount = 2\n")
                .is_err()
        );
        assert!(
            Keys::parse("[[key]]\nid = \"a\"\nsecret = \"s\"\naccount = 1\nextra = 1\n").is_err()
        );
    }

    #[test]
    fn generated_files_parse() {
        let keys = Keys::parse(&generate(42)).unwrap();
        assert_eq!(keys.len(), 2);
        let roles: Vec<Role> = keys.by_id.values().map(|k| k.role).collect();
        assert!(roles.contains(&Role::Customer(AccountId(42))));
        assert!(roles.contains(&Role::Worker));
    }
}
