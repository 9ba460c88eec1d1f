//! Writing JSON with no allocation: string escaping into any [`fmt::Write`].

use core::fmt::{self, Write};

/// A [`fmt::Write`] that escapes what it is given as the inside of a JSON string, exactly as
/// `serde_json` does: `"` and `\` escaped, `\b \f \n \r \t` by name, other control characters
/// as `\u00xx` (lowercase hex), everything else (UTF-8 included) as it is.
pub(crate) struct Escaped<'w, W: Write + ?Sized>(pub(crate) &'w mut W);

impl<W: Write + ?Sized> Write for Escaped<'_, W> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let mut rest = text;
        while let Some(at) = rest.find(|c: char| c == '"' || c == '\\' || c < ' ') {
            let (plain, tail) = rest.split_at(at);
            self.0.write_str(plain)?;
            let mut chars = tail.chars();
            let Some(c) = chars.next() else { break };
            match c {
                '"' => self.0.write_str("\\\"")?,
                '\\' => self.0.write_str("\\\\")?,
                '\u{8}' => self.0.write_str("\\b")?,
                '\u{c}' => self.0.write_str("\\f")?,
                '\n' => self.0.write_str("\\n")?,
                '\r' => self.0.write_str("\\r")?,
                '\t' => self.0.write_str("\\t")?,
                other => write!(self.0, "\\u{:04x}", u32::from(other))?,
            }
            rest = chars.as_str();
        }
        self.0.write_str(rest)
    }
}

/// Writes `value` (anything `Display`) as a JSON string: quoted and escaped.
pub(crate) fn string<W: Write + ?Sized>(out: &mut W, value: &dyn fmt::Display) -> fmt::Result {
    out.write_char('"')?;
    write!(Escaped(out), "{value}")?;
    out.write_char('"')
}

/// Writes `,"Name":`: every field after the first (`RequestId`) starts with a comma.
pub(crate) fn key<W: Write + ?Sized>(out: &mut W, name: &str) -> fmt::Result {
    out.write_str(",\"")?;
    out.write_str(name)?;
    out.write_str("\":")
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Buffer {
        bytes: [u8; 64],
        len: usize,
    }

    impl Write for Buffer {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
            self.bytes
                .get_mut(self.len..end)
                .ok_or(fmt::Error)?
                .copy_from_slice(s.as_bytes());
            self.len = end;
            Ok(())
        }
    }

    #[test]
    fn escapes_as_serde_json_does() {
        let mut out = Buffer {
            bytes: [0; 64],
            len: 0,
        };
        assert!(string(&mut out, &"a\"b\\c\n\u{1}\u{7f}é").is_ok());
        let written = out.bytes.get(..out.len).unwrap_or_default();
        assert_eq!(written, "\"a\\\"b\\\\c\\n\\u0001\u{7f}é\"".as_bytes());
    }
}
