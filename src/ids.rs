//! Identifiers and validated names: [`AccountId`], [`JobId`], [`Region`], [`TrailName`],
//! [`ClientToken`].
//!
//! The string types are fixed-capacity (no allocation) and can only hold values that pass
//! their `new` check, so every value in a table is known to be valid.

use core::fmt;

use crate::error::{Error, Parameter};

/// The caller's cloud account (the API's `AccountId`, for example `1512666876910001`).
///
/// Any `u64` is a valid account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AccountId(pub u64);

/// A delivery history job's id (the API's `JobId`, for example `16602`).
///
/// Assigned by the scheduler: [`Config::first_job_id`](crate::Config::first_job_id) for the
/// first job, then one more for each job created. An id is never reused, not even after the job
/// was deleted or evicted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct JobId(pub u64);

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Defines a validated, fixed-capacity ASCII string type.
///
/// The three name types differ only in their capacity, their rule and their error, so the
/// shared shape lives here once; each rule is a plain function below.
macro_rules! validated_str {
    (
        $(#[$doc:meta])*
        $name:ident, max_len = $max:literal, rule = $rule:path, error = $error:expr, expecting = $expecting:literal
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(heapless::String<$max, u8>);

        impl $name {
            /// The longest value accepted, in bytes (all accepted characters are ASCII).
            pub const MAX_LEN: usize = $max;

            /// Validates `value` and stores it.
            ///
            /// # Errors
            #[doc = concat!("`", stringify!($error), "` when `value` breaks the rule above.")]
            pub fn new(value: &str) -> Result<Self, Error> {
                if !$rule(value) {
                    return Err($error);
                }
                let mut stored = heapless::String::new();
                // The rule bounds the length by MAX_LEN, so this cannot fail; the error path
                // stays for safety rather than a panic.
                stored.push_str(value).map_err(|_| $error)?;
                Ok(Self(stored))
            }

            /// The value as a string slice.
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }

            /// The empty string, which breaks the rule: only a placeholder in vacant table
            /// slots, never stored as a value.
            pub(crate) const VACANT: Self = Self(heapless::String::new());
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl TryFrom<&str> for $name {
            type Error = Error;

            fn try_from(value: &str) -> Result<Self, Error> {
                Self::new(value)
            }
        }

        impl core::str::FromStr for $name {
            type Err = Error;

            fn from_str(value: &str) -> Result<Self, Error> {
                Self::new(value)
            }
        }

        #[cfg(feature = "serde")]
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        /// Validates as `new` does, from borrowed or owned strings alike.
        #[cfg(feature = "serde")]
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl serde::de::Visitor<'_> for Visitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    // `visit_borrowed_str` and `visit_string` forward here by default.
                    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<$name, E> {
                        $name::new(value).map_err(|_| {
                            E::invalid_value(serde::de::Unexpected::Str(value), &self)
                        })
                    }
                }
                deserializer.deserialize_str(Visitor)
            }
        }
    };
}

validated_str! {
    /// A region id such as `cn-hangzhou` or `ap-southeast-1`.
    ///
    /// Rule: 1 to 32 characters, each `a-z`, `0-9` or `-`.
    ///
    /// # Examples
    ///
    /// ```
    /// use trail_backfill::{Error, Parameter, Region};
    ///
    /// assert_eq!(Region::new("cn-hangzhou")?.as_str(), "cn-hangzhou");
    /// assert_eq!(Region::new("CN"), Err(Error::InvalidParameterValue(Parameter::Region)));
    /// # Ok::<(), Error>(())
    /// ```
    Region, max_len = 32, rule = is_valid_region,
    error = Error::InvalidParameterValue(Parameter::Region),
    expecting = "a region id of 1-32 characters a-z, 0-9, -"
}

validated_str! {
    /// A trail's name, unique per account and region.
    ///
    /// Rule (ActionTrail's): 6 to 36 characters; the first is `a-z`, the others `a-z`, `0-9`,
    /// `-` or `_`.
    ///
    /// # Examples
    ///
    /// ```
    /// use trail_backfill::{Error, TrailName};
    ///
    /// assert_eq!(TrailName::new("trail-name")?.as_str(), "trail-name");
    /// assert_eq!(TrailName::new("trail"), Err(Error::InvalidTrailName)); // 5 characters
    /// assert_eq!(TrailName::new("1trail"), Err(Error::InvalidTrailName));
    /// # Ok::<(), Error>(())
    /// ```
    TrailName, max_len = 36, rule = is_valid_trail_name,
    error = Error::InvalidTrailName,
    expecting = "a trail name of 6-36 characters a-z, 0-9, -, _ starting with a-z"
}

validated_str! {
    /// The idempotency token of a `CreateDeliveryHistoryJob` request (the API's `ClientToken`).
    ///
    /// Rule: 1 to 64 printable ASCII characters (`0x20` to `0x7E`). Tokens are case-sensitive.
    ///
    /// # Examples
    ///
    /// ```
    /// use trail_backfill::{ClientToken, Error, Parameter};
    ///
    /// let token = ClientToken::new("123e4567-e89b-12d3-a456-42665544****")?;
    /// assert_ne!(token, ClientToken::new("123E4567-E89B-12D3-A456-42665544****")?);
    /// assert_eq!(ClientToken::new(""), Err(Error::InvalidParameterValue(Parameter::ClientToken)));
    /// # Ok::<(), Error>(())
    /// ```
    ClientToken, max_len = 64, rule = is_valid_client_token,
    error = Error::InvalidParameterValue(Parameter::ClientToken),
    expecting = "a client token of 1-64 printable ASCII characters"
}

// The rules test every byte against a class (one table lookup, no early exit), not with a
// chain of comparisons that branches per byte: a restore validates hundreds of thousands of
// names, and the chains cost it about a tenth of its time.

/// `a-z`.
const LOWER: u8 = 1;
/// `0-9`.
const DIGIT: u8 = 1 << 1;
/// `-`.
const DASH: u8 = 1 << 2;
/// `_`.
const UNDERSCORE: u8 = 1 << 3;
/// Printable ASCII, `0x20` to `0x7E`.
const PRINTABLE: u8 = 1 << 4;

/// The classes `byte` belongs to.
const fn classes_of(byte: u8) -> u8 {
    match byte {
        b'a'..=b'z' => LOWER | PRINTABLE,
        b'0'..=b'9' => DIGIT | PRINTABLE,
        b'-' => DASH | PRINTABLE,
        b'_' => UNDERSCORE | PRINTABLE,
        0x20..=0x7e => PRINTABLE,
        _ => 0,
    }
}

/// Every byte's classes, looked up (the compiler leaves a `match` as a chain of comparisons).
static BYTE_CLASSES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0usize;
    while byte < 256 {
        // Evaluated at compile time, where an index out of range fails the build.
        #[allow(clippy::indexing_slicing)]
        {
            table[byte] = classes_of(byte as u8);
        }
        byte = byte.saturating_add(1);
    }
    table
};

/// The classes `byte` belongs to, from [`BYTE_CLASSES`].
fn byte_class(byte: u8) -> u8 {
    // A `u8` indexes a 256-entry table: always in range (the check compiles away).
    BYTE_CLASSES.get(usize::from(byte)).copied().unwrap_or(0)
}

/// Whether every byte of `bytes` is in one of the classes of `allowed`.
fn all_in(bytes: &[u8], allowed: u8) -> bool {
    bytes
        .iter()
        .fold(true, |ok, &byte| ok & (byte_class(byte) & allowed != 0))
}

fn is_valid_region(value: &str) -> bool {
    (1..=Region::MAX_LEN).contains(&value.len()) && all_in(value.as_bytes(), LOWER | DIGIT | DASH)
}

fn is_valid_trail_name(value: &str) -> bool {
    let bytes = value.as_bytes();
    (6..=TrailName::MAX_LEN).contains(&bytes.len())
        && bytes
            .first()
            .is_some_and(|&first| byte_class(first) & LOWER != 0)
        && all_in(bytes, LOWER | DIGIT | DASH | UNDERSCORE)
}

fn is_valid_client_token(value: &str) -> bool {
    (1..=ClientToken::MAX_LEN).contains(&value.len()) && all_in(value.as_bytes(), PRINTABLE)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rules as their docs state them, written plainly, byte by byte.
    fn plain_region(value: &str) -> bool {
        (1..=32).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    }

    fn plain_trail_name(value: &str) -> bool {
        let mut bytes = value.bytes();
        (6..=36).contains(&value.len())
            && bytes.next().is_some_and(|b| b.is_ascii_lowercase())
            && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    }

    fn plain_client_token(value: &str) -> bool {
        (1..=64).contains(&value.len()) && value.bytes().all(|b| (0x20..=0x7E).contains(&b))
    }

    #[test]
    fn the_byte_classes_give_the_documented_rules_for_every_byte() {
        for byte in 0..=u8::MAX {
            for place in [0, 7] {
                let mut value = [b'a'; 8];
                if let Some(slot) = value.get_mut(place) {
                    *slot = byte;
                }
                // Bytes above 0x7f do not make a `str` on their own: test them in pairs.
                let Ok(text) = core::str::from_utf8(&value) else {
                    continue;
                };
                assert_eq!(is_valid_region(text), plain_region(text), "{byte:#x}");
                assert_eq!(
                    is_valid_trail_name(text),
                    plain_trail_name(text),
                    "{byte:#x}"
                );
                assert_eq!(
                    is_valid_client_token(text),
                    plain_client_token(text),
                    "{byte:#x}"
                );
            }
        }
        for text in [
            "é-region",
            "trail-namé",
            "tokén",
            "",
            "a",
            "abcde",
            "abcdef",
        ] {
            assert_eq!(is_valid_region(text), plain_region(text), "{text}");
            assert_eq!(is_valid_trail_name(text), plain_trail_name(text), "{text}");
            assert_eq!(
                is_valid_client_token(text),
                plain_client_token(text),
                "{text}"
            );
        }
        for len in 0..=70 {
            let text = "a".repeat(len);
            assert_eq!(is_valid_region(&text), plain_region(&text), "{len}");
            assert_eq!(is_valid_trail_name(&text), plain_trail_name(&text), "{len}");
            assert_eq!(
                is_valid_client_token(&text),
                plain_client_token(&text),
                "{len}"
            );
        }
    }
}
