//! [`Listed`]: a list shown or serialized straight from the tables, without collecting it.
//!
//! Debug output and snapshots list entries that live in linked slots; `Listed` walks them with
//! a fresh iterator each time, so nothing is copied and nothing allocated.

use core::fmt;

/// `len` entries, yielded by a fresh iterator from `items` each time.
pub(crate) struct Listed<F> {
    // Only serialization needs the length up front.
    #[cfg_attr(not(feature = "serde"), allow(dead_code))]
    len: usize,
    items: F,
}

impl<F: Fn() -> I, I: Iterator> Listed<F> {
    /// A list whose length is known.
    pub(crate) fn new(len: usize, items: F) -> Self {
        Listed { len, items }
    }

    /// A short list whose length is counted by walking it once more.
    pub(crate) fn counted(items: F) -> Self {
        Listed {
            len: items().count(),
            items,
        }
    }
}

impl<F: Fn() -> I, I: Iterator<Item = T>, T: fmt::Debug> fmt::Debug for Listed<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries((self.items)()).finish()
    }
}

#[cfg(feature = "serde")]
impl<F: Fn() -> I, I: Iterator<Item = T>, T: serde::Serialize> serde::Serialize for Listed<F> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        // Formats such as postcard write the length first, so it must be exact.
        let mut seq = serializer.serialize_seq(Some(self.len))?;
        for item in (self.items)() {
            seq.serialize_element(&item)?;
        }
        seq.end()
    }
}
