//! Field paths: `SEG[occ]-field[rep].component.subcomponent`.
//!
//! Every index is 1-based. Examples: `PID-3`, `PID-3[2].1`, `OBX[5]-5`,
//! `MSH-9.2`, `IN1-49[1].4.2`. Without `[rep]` a path with a component
//! addresses the first repetition, and a path without a component addresses
//! the whole field (every repetition).

use super::error::PathError;

/// A parsed field path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Path {
    /// Segment id, e.g. `*b"PID"`.
    pub segment: [u8; 3],
    /// 1-based occurrence of the segment (`OBX[5]`), 1 by default.
    pub occurrence: usize,
    /// 1-based field number, HL7 numbering (MSH-1 is the field separator).
    pub field: usize,
    /// 1-based repetition, if given.
    pub repetition: Option<usize>,
    /// 1-based component, if given.
    pub component: Option<usize>,
    /// 1-based subcomponent, if given (requires a component).
    pub subcomponent: Option<usize>,
}

struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn eat(&mut self, b: u8) -> bool {
        if self.s.get(self.pos) == Some(&b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, b: u8, expected: &'static str) -> Result<(), PathError> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(PathError::Expected {
                expected,
                offset: self.pos,
            })
        }
    }

    fn index(&mut self) -> Result<usize, PathError> {
        let start = self.pos;
        let mut value: usize = 0;
        while let Some(&d) = self.s.get(self.pos).filter(|b| b.is_ascii_digit()) {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(usize::from(d - b'0')))
                .filter(|v| *v <= u32::MAX as usize)
                .ok_or(PathError::BadIndex { offset: start })?;
            self.pos += 1;
        }
        if self.pos == start || value == 0 {
            return Err(PathError::BadIndex { offset: start });
        }
        Ok(value)
    }

    fn bracketed(&mut self) -> Result<Option<usize>, PathError> {
        if !self.eat(b'[') {
            return Ok(None);
        }
        let n = self.index()?;
        self.expect(b']', "`]`")?;
        Ok(Some(n))
    }
}

impl Path {
    /// Parses a path string.
    pub fn parse(s: &str) -> Result<Self, PathError> {
        let bytes = s.as_bytes();
        let segment: [u8; 3] = bytes
            .get(..3)
            .and_then(|id| id.try_into().ok())
            .filter(|id: &[u8; 3]| {
                id.iter()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            })
            .ok_or(PathError::BadSegment { offset: 0 })?;
        let mut c = Cursor { s: bytes, pos: 3 };
        let occurrence = c.bracketed()?.unwrap_or(1);
        c.expect(b'-', "`-`")?;
        let field = c.index()?;
        let repetition = c.bracketed()?;
        let component = if c.eat(b'.') { Some(c.index()?) } else { None };
        let subcomponent = if component.is_some() && c.eat(b'.') {
            Some(c.index()?)
        } else {
            None
        };
        if c.pos != bytes.len() {
            return Err(PathError::Trailing { offset: c.pos });
        }
        Ok(Self {
            segment,
            occurrence,
            field,
            repetition,
            component,
            subcomponent,
        })
    }
}

impl std::str::FromStr for Path {
    type Err = PathError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.segment))?;
        if self.occurrence != 1 {
            write!(f, "[{}]", self.occurrence)?;
        }
        write!(f, "-{}", self.field)?;
        if let Some(r) = self.repetition {
            write!(f, "[{r}]")?;
        }
        if let Some(c) = self.component {
            write!(f, ".{c}")?;
        }
        if let Some(s) = self.subcomponent {
            write!(f, ".{s}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_forms() {
        let p = Path::parse("PID-3[2].1").unwrap();
        assert_eq!(
            (p.segment, p.occurrence, p.field, p.repetition, p.component),
            (*b"PID", 1, 3, Some(2), Some(1))
        );
        let p = Path::parse("OBX[5]-5").unwrap();
        assert_eq!((p.occurrence, p.field, p.component), (5, 5, None));
        let p = Path::parse("MSH-9.2").unwrap();
        assert_eq!((p.field, p.repetition, p.component), (9, None, Some(2)));
        let p = Path::parse("IN1-49[1].4.2").unwrap();
        assert_eq!(p.subcomponent, Some(2));
        assert_eq!(p.to_string(), "IN1-49[1].4.2");
    }

    #[test]
    fn reports_errors_with_offsets() {
        assert_eq!(
            Path::parse("pid-3"),
            Err(PathError::BadSegment { offset: 0 })
        );
        assert_eq!(
            Path::parse("PID3"),
            Err(PathError::Expected {
                expected: "`-`",
                offset: 3
            })
        );
        assert_eq!(Path::parse("PID-0"), Err(PathError::BadIndex { offset: 4 }));
        assert_eq!(Path::parse("PID-"), Err(PathError::BadIndex { offset: 4 }));
        assert_eq!(
            Path::parse("OBX[5-5"),
            Err(PathError::Expected {
                expected: "`]`",
                offset: 5
            })
        );
        assert_eq!(
            Path::parse("PID-3.1x"),
            Err(PathError::Trailing { offset: 7 })
        );
        assert_eq!(
            Path::parse("PID-99999999999999999999"),
            Err(PathError::BadIndex { offset: 4 })
        );
    }
}
