//! `Guid`: a GUID held inline as 36 ASCII bytes.
//!
//! Record ids and the references between records are GUIDs. Holding them as
//! `String` made the allocator the largest cost of chart generation (about
//! 60% of it); an inline `Copy` id costs a 36-byte copy instead. It derefs to
//! `str` and serialises as a plain string, so renderers treat it as one.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

use serde::{Serialize, Serializer};

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Guid([u8; 36]);

impl Guid {
    /// Wrap 36 bytes that are known to be a lower-case hex GUID.
    pub(crate) fn from_ascii(bytes: [u8; 36]) -> Guid {
        Guid(bytes)
    }

    /// Parse any string in GUID shape (`8-4-4-4-12` hex digits), normalised to
    /// lower case. It need not have been minted by a practice.
    pub fn parse(s: &str) -> Option<Guid> {
        let b = s.as_bytes();
        if b.len() != 36 {
            return None;
        }
        let mut out = [0u8; 36];
        for (k, (&c, o)) in b.iter().zip(out.iter_mut()).enumerate() {
            let dash = matches!(k, 8 | 13 | 18 | 23);
            *o = match c {
                b'-' if dash => b'-',
                b'0'..=b'9' | b'a'..=b'f' if !dash => c,
                b'A'..=b'F' if !dash => c.to_ascii_lowercase(),
                _ => return None,
            };
        }
        Some(Guid(out))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII is ever stored, so this cannot fail.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl Deref for Guid {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Guid {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Guid {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for Guid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl From<Guid> for String {
    fn from(g: Guid) -> String {
        g.as_str().to_string()
    }
}

impl PartialEq<str> for Guid {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Guid {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Guid {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Guid> for str {
    fn eq(&self, other: &Guid) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Guid> for &str {
    fn eq(&self, other: &Guid) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Guid> for String {
    fn eq(&self, other: &Guid) -> bool {
        self == other.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_normalises_and_rejects() {
        let g = Guid::parse("0123ABCD-0002-4001-8000-00000000002A").unwrap();
        assert_eq!(g, "0123abcd-0002-4001-8000-00000000002a");
        assert_eq!(
            serde_json::to_string(&g).unwrap(),
            "\"0123abcd-0002-4001-8000-00000000002a\""
        );
        assert!(Guid::parse("0123abcd-0002-4001-8000-00000000002").is_none());
        assert!(Guid::parse("0123abcd-0002-4001-8000+00000000002a").is_none());
        assert!(Guid::parse("é123abcd-0002-4001-8000-00000000002").is_none());
    }
}
