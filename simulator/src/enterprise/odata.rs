//! The OData v3 subset NextGen's Enterprise API accepts: `$filter` (`eq ne gt ge lt le`,
//! `and`, `or`, `not`, parentheses, `substringof`/`startswith`/`endswith`; literals
//! `'str'`, `guid'…'`, `datetime'…'`, numbers, booleans, `null`), `$orderby`,
//! `$top`, `$skip`, `$expand`, `$inlinecount` and `$count`.
//!
//! The parser never panics; every syntax error names its 0-based character
//! position. [`Expr`]'s `Display` is canonical and re-parses to the same tree.

use std::cmp::Ordering;
use std::fmt;

use serde_json::Value;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `eq`
    Eq,
    /// `ne`
    Ne,
    /// `gt`
    Gt,
    /// `ge`
    Ge,
    /// `lt`
    Lt,
    /// `le`
    Le,
}

impl CmpOp {
    fn parse(s: &str) -> Option<CmpOp> {
        Some(match s.to_ascii_lowercase().as_str() {
            "eq" => CmpOp::Eq,
            "ne" => CmpOp::Ne,
            "gt" => CmpOp::Gt,
            "ge" => CmpOp::Ge,
            "lt" => CmpOp::Lt,
            "le" => CmpOp::Le,
            _ => return None,
        })
    }

    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "eq",
            CmpOp::Ne => "ne",
            CmpOp::Gt => "gt",
            CmpOp::Ge => "ge",
            CmpOp::Lt => "lt",
            CmpOp::Le => "le",
        }
    }

    /// The operator with its operands swapped (`5 lt x` is `x gt 5`).
    fn flipped(self) -> CmpOp {
        match self {
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            o => o,
        }
    }

    fn holds(self, ord: Ordering) -> bool {
        match self {
            CmpOp::Eq => ord == Ordering::Equal,
            CmpOp::Ne => ord != Ordering::Equal,
            CmpOp::Gt => ord == Ordering::Greater,
            CmpOp::Ge => ord != Ordering::Less,
            CmpOp::Lt => ord == Ordering::Less,
            CmpOp::Le => ord != Ordering::Greater,
        }
    }
}

/// A literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `'text'` (quotes doubled inside).
    Str(String),
    /// `guid'…'`.
    Guid(String),
    /// `datetime'…'`.
    DateTime(String),
    /// A number.
    Number(f64),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Str(s) => f.write_str(&quote(s)),
            Literal::Guid(s) => write!(f, "guid{}", quote(s)),
            Literal::DateTime(s) => write!(f, "datetime{}", quote(s)),
            Literal::Number(n) => write!(f, "{n}"),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Null => f.write_str("null"),
        }
    }
}

/// A string function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    /// `substringof('needle', prop)`
    SubstringOf,
    /// `startswith(prop, 'prefix')`
    StartsWith,
    /// `endswith(prop, 'suffix')`
    EndsWith,
}

/// A `$filter` expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `prop op literal`.
    Cmp {
        /// Property name (`/` separates navigation steps).
        prop: String,
        /// Operator.
        op: CmpOp,
        /// Literal.
        lit: Literal,
    },
    /// A string function call.
    Call {
        /// Function.
        func: Func,
        /// Property.
        prop: String,
        /// String argument.
        arg: String,
    },
    /// `a and b`.
    And(Box<Expr>, Box<Expr>),
    /// `a or b`.
    Or(Box<Expr>, Box<Expr>),
    /// `not a`.
    Not(Box<Expr>),
}

impl Expr {
    fn fmt_child(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::And(..) | Expr::Or(..) => write!(f, "({self})"),
            _ => write!(f, "{self}"),
        }
    }

    /// The left operand of `and`/`or`: parenthesised only where re-parsing
    /// needs it, so a long left-associative chain prints flat and its
    /// canonical form nests no deeper than the input did (`MAX_DEPTH`).
    fn fmt_left(&self, f: &mut fmt::Formatter<'_>, parent_is_and: bool) -> fmt::Result {
        match self {
            Expr::Or(..) if parent_is_and => write!(f, "({self})"),
            _ => write!(f, "{self}"),
        }
    }

    /// Every property the expression mentions.
    pub fn properties(&self) -> Vec<&str> {
        match self {
            Expr::Cmp { prop, .. } | Expr::Call { prop, .. } => vec![prop.as_str()],
            Expr::And(a, b) | Expr::Or(a, b) => {
                let mut v = a.properties();
                v.extend(b.properties());
                v
            }
            Expr::Not(a) => a.properties(),
        }
    }

    /// Whether the expression mentions `prop` (case-insensitive).
    pub fn mentions(&self, prop: &str) -> bool {
        self.properties()
            .iter()
            .any(|p| p.eq_ignore_ascii_case(prop))
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Cmp { prop, op, lit } => write!(f, "{prop} {} {lit}", op.as_str()),
            Expr::Call { func, prop, arg } => match func {
                Func::SubstringOf => write!(f, "substringof({}, {prop})", quote(arg)),
                Func::StartsWith => write!(f, "startswith({prop}, {})", quote(arg)),
                Func::EndsWith => write!(f, "endswith({prop}, {})", quote(arg)),
            },
            Expr::And(a, b) => {
                a.fmt_left(f, true)?;
                f.write_str(" and ")?;
                b.fmt_child(f)
            }
            Expr::Or(a, b) => {
                a.fmt_left(f, false)?;
                f.write_str(" or ")?;
                b.fmt_child(f)
            }
            Expr::Not(a) => {
                f.write_str("not ")?;
                a.fmt_child(f)
            }
        }
    }
}

/// A syntax error with its 0-based character position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Character position in the filter text.
    pub position: usize,
    /// What was expected or found.
    pub message: String,
}

impl SyntaxError {
    /// The message NextGen-style clients see, quoting the input.
    pub fn describe(&self, option: &str, input: &str) -> String {
        format!(
            "The query specified in the URI is not valid. Syntax error in {option} at position {} in '{input}': {}.",
            self.position, self.message
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Lit(Literal),
    LParen,
    RParen,
    Comma,
    End,
}

struct Lexer<'a> {
    chars: Vec<char>,
    pos: usize,
    _src: &'a str,
}

const MAX_DEPTH: usize = 64;
const MAX_TERMS: usize = 512;

impl<'a> Lexer<'a> {
    fn new(src: &'a str) -> Self {
        Lexer {
            chars: src.chars().collect(),
            pos: 0,
            _src: src,
        }
    }

    fn err<T>(&self, at: usize, message: impl Into<String>) -> Result<T, SyntaxError> {
        Err(SyntaxError {
            position: at,
            message: message.into(),
        })
    }

    fn skip_ws(&mut self) {
        while self.pos < self.chars.len() && self.chars[self.pos].is_whitespace() {
            self.pos += 1;
        }
    }

    /// The next token and its start position.
    fn next(&mut self) -> Result<(Tok, usize), SyntaxError> {
        self.skip_ws();
        let start = self.pos;
        let Some(&c) = self.chars.get(self.pos) else {
            return Ok((Tok::End, start));
        };
        match c {
            '(' => {
                self.pos += 1;
                Ok((Tok::LParen, start))
            }
            ')' => {
                self.pos += 1;
                Ok((Tok::RParen, start))
            }
            ',' => {
                self.pos += 1;
                Ok((Tok::Comma, start))
            }
            '\'' => {
                let s = self.string()?;
                Ok((Tok::Lit(Literal::Str(s)), start))
            }
            c if c.is_ascii_digit() || c == '-' => self.number(start),
            c if c.is_alphabetic() || c == '_' => {
                while self.pos < self.chars.len()
                    && (self.chars[self.pos].is_alphanumeric()
                        || self.chars[self.pos] == '_'
                        || self.chars[self.pos] == '/'
                        || self.chars[self.pos] == '.')
                {
                    self.pos += 1;
                }
                let word: String = self.chars[start..self.pos].iter().collect();
                if self.chars.get(self.pos) == Some(&'\'') {
                    let kind = word.to_ascii_lowercase();
                    let body_at = self.pos + 1;
                    let s = self.string()?;
                    return match kind.as_str() {
                        "guid" => {
                            if uuid::Uuid::parse_str(&s).is_err() {
                                return self.err(body_at, format!("'{s}' is not a valid guid"));
                            }
                            Ok((Tok::Lit(Literal::Guid(s)), start))
                        }
                        "datetime" | "datetimeoffset" => {
                            if normalize_datetime(&s).is_none() {
                                return self.err(body_at, format!("'{s}' is not a valid datetime"));
                            }
                            Ok((Tok::Lit(Literal::DateTime(s)), start))
                        }
                        _ => self.err(start, format!("unknown literal prefix '{word}'")),
                    };
                }
                match word.as_str() {
                    "true" => Ok((Tok::Lit(Literal::Bool(true)), start)),
                    "false" => Ok((Tok::Lit(Literal::Bool(false)), start)),
                    "null" => Ok((Tok::Lit(Literal::Null), start)),
                    _ => Ok((Tok::Ident(word), start)),
                }
            }
            other => self.err(start, format!("unexpected character '{other}'")),
        }
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.chars.get(self.pos) {
                None => return self.err(open, "unterminated string literal"),
                Some('\'') if self.chars.get(self.pos + 1) == Some(&'\'') => {
                    out.push('\'');
                    self.pos += 2;
                }
                Some('\'') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(&c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn number(&mut self, start: usize) -> Result<(Tok, usize), SyntaxError> {
        if self.chars[self.pos] == '-' {
            self.pos += 1;
        }
        let digits_from = self.pos;
        while self.pos < self.chars.len()
            && (self.chars[self.pos].is_ascii_digit() || self.chars[self.pos] == '.')
        {
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        if self.pos == digits_from {
            return self.err(start, "expected a number after '-'");
        }
        // OData v3 type suffixes (1.5M, 2L, 3d, 4f) carry no meaning here.
        if let Some(c) = self.chars.get(self.pos) {
            if matches!(c, 'm' | 'M' | 'l' | 'L' | 'd' | 'D' | 'f' | 'F') {
                self.pos += 1;
            }
        }
        match text.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok((Tok::Lit(Literal::Number(n)), start)),
            _ => self.err(start, format!("'{text}' is not a valid number")),
        }
    }
}

struct Parser<'a> {
    lx: Lexer<'a>,
    tok: Tok,
    at: usize,
    depth: usize,
    terms: usize,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Result<Self, SyntaxError> {
        let mut lx = Lexer::new(src);
        let (tok, at) = lx.next()?;
        Ok(Parser {
            lx,
            tok,
            at,
            depth: 0,
            terms: 0,
        })
    }

    fn bump(&mut self) -> Result<(Tok, usize), SyntaxError> {
        let (t, a) = self.lx.next()?;
        let old_tok = std::mem::replace(&mut self.tok, t);
        let old_at = std::mem::replace(&mut self.at, a);
        Ok((old_tok, old_at))
    }

    fn err<T>(&self, message: impl Into<String>) -> Result<T, SyntaxError> {
        Err(SyntaxError {
            position: self.at,
            message: message.into(),
        })
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(&self.tok, Tok::Ident(w) if w.eq_ignore_ascii_case(kw))
    }

    fn or(&mut self) -> Result<Expr, SyntaxError> {
        let mut left = self.and()?;
        while self.is_kw("or") {
            self.bump()?;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, SyntaxError> {
        let mut left = self.unary()?;
        while self.is_kw("and") {
            self.bump()?;
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, SyntaxError> {
        self.depth += 1;
        self.terms += 1;
        if self.depth > MAX_DEPTH {
            return self.err("expression nested too deeply");
        }
        if self.terms > MAX_TERMS {
            return self.err("expression has too many terms");
        }
        let r = if self.is_kw("not") {
            self.bump()?;
            self.unary().map(|e| Expr::Not(Box::new(e)))
        } else {
            self.primary()
        };
        self.depth -= 1;
        r
    }

    fn expect(&mut self, want: Tok, what: &str) -> Result<(), SyntaxError> {
        if self.tok == want {
            self.bump()?;
            Ok(())
        } else {
            self.err(format!("expected {what}"))
        }
    }

    fn string_arg(&mut self) -> Result<String, SyntaxError> {
        match self.bump()? {
            (Tok::Lit(Literal::Str(s)), _) => Ok(s),
            (_, at) => Err(SyntaxError {
                position: at,
                message: "expected a string literal".into(),
            }),
        }
    }

    fn prop_arg(&mut self) -> Result<String, SyntaxError> {
        match self.bump()? {
            (Tok::Ident(p), _) if !is_keyword(&p) => Ok(p),
            (_, at) => Err(SyntaxError {
                position: at,
                message: "expected a property name".into(),
            }),
        }
    }

    fn primary(&mut self) -> Result<Expr, SyntaxError> {
        match self.tok.clone() {
            Tok::LParen => {
                self.bump()?;
                let e = self.or()?;
                self.expect(Tok::RParen, "')'")?;
                Ok(e)
            }
            Tok::Ident(word) if !is_keyword(&word) => {
                let lower = word.to_ascii_lowercase();
                self.bump()?;
                if self.tok == Tok::LParen {
                    let func = match lower.as_str() {
                        "substringof" => Func::SubstringOf,
                        "startswith" => Func::StartsWith,
                        "endswith" => Func::EndsWith,
                        _ => {
                            return Err(SyntaxError {
                                position: self.at.saturating_sub(word.chars().count()),
                                message: format!("unknown function '{word}'"),
                            });
                        }
                    };
                    self.bump()?;
                    let (prop, arg) = if func == Func::SubstringOf {
                        let arg = self.string_arg()?;
                        self.expect(Tok::Comma, "','")?;
                        (self.prop_arg()?, arg)
                    } else {
                        let prop = self.prop_arg()?;
                        self.expect(Tok::Comma, "','")?;
                        (prop, self.string_arg()?)
                    };
                    self.expect(Tok::RParen, "')'")?;
                    // A bare call is a boolean; `eq true` is allowed after it.
                    if let Some(op) = self.op_here() {
                        self.bump()?;
                        let lit = self.literal()?;
                        let call = Expr::Call { func, prop, arg };
                        return match (op, lit) {
                            (CmpOp::Eq, Literal::Bool(true))
                            | (CmpOp::Ne, Literal::Bool(false)) => Ok(call),
                            (CmpOp::Eq, Literal::Bool(false))
                            | (CmpOp::Ne, Literal::Bool(true)) => Ok(Expr::Not(Box::new(call))),
                            _ => self
                                .err("a function result can only be compared with true or false"),
                        };
                    }
                    return Ok(Expr::Call { func, prop, arg });
                }
                let Some(op) = self.op_here() else {
                    return self.err(format!(
                        "expected a comparison operator (eq, ne, gt, ge, lt, le) after '{word}'"
                    ));
                };
                self.bump()?;
                let lit = self.literal()?;
                Ok(Expr::Cmp {
                    prop: word,
                    op,
                    lit,
                })
            }
            Tok::Lit(lit) => {
                // `literal op prop`: normalised to `prop op' literal`.
                self.bump()?;
                let Some(op) = self.op_here() else {
                    return self.err("expected a comparison operator");
                };
                self.bump()?;
                let prop = self.prop_arg()?;
                Ok(Expr::Cmp {
                    prop,
                    op: op.flipped(),
                    lit,
                })
            }
            Tok::End => self.err("expected an expression but the filter ended"),
            Tok::RParen => self.err("unexpected ')'"),
            Tok::Comma => self.err("unexpected ','"),
            Tok::Ident(w) => self.err(format!("unexpected keyword '{w}'")),
        }
    }

    fn op_here(&self) -> Option<CmpOp> {
        match &self.tok {
            Tok::Ident(w) => CmpOp::parse(w),
            _ => None,
        }
    }

    fn literal(&mut self) -> Result<Literal, SyntaxError> {
        match self.tok.clone() {
            Tok::Lit(l) => {
                self.bump()?;
                Ok(l)
            }
            Tok::End => self.err("expected a literal but the filter ended"),
            _ => self.err("expected a literal"),
        }
    }
}

fn is_keyword(w: &str) -> bool {
    ["and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le"]
        .iter()
        .any(|k| w.eq_ignore_ascii_case(k))
}

/// Parse a `$filter` value.
pub fn parse_filter(src: &str) -> Result<Expr, SyntaxError> {
    let mut p = Parser::new(src)?;
    let e = p.or()?;
    if p.tok != Tok::End {
        return p.err("unexpected text after the end of the expression");
    }
    Ok(e)
}

/// One `$orderby` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderKey {
    /// Property.
    pub prop: String,
    /// Descending.
    pub desc: bool,
}

/// Parse an `$orderby` value: `prop [asc|desc], …`.
pub fn parse_orderby(src: &str) -> Result<Vec<OrderKey>, SyntaxError> {
    let mut out = Vec::new();
    let mut offset = 0;
    for part in src.split(',') {
        let lead = part.len() - part.trim_start().len();
        let words: Vec<&str> = part.split_whitespace().collect();
        let at = src[..offset + lead].chars().count();
        let err = |m: &str| SyntaxError {
            position: at,
            message: m.to_owned(),
        };
        match words.as_slice() {
            [p] | [p, _] if !valid_ident(p) => return Err(err("expected a property name")),
            [p] => out.push(OrderKey {
                prop: (*p).to_owned(),
                desc: false,
            }),
            [p, dir] => {
                let desc = match dir.to_ascii_lowercase().as_str() {
                    "asc" => false,
                    "desc" => true,
                    _ => return Err(err("expected 'asc' or 'desc' after the property")),
                };
                out.push(OrderKey {
                    prop: (*p).to_owned(),
                    desc,
                });
            }
            [] => return Err(err("expected a property name")),
            _ => return Err(err("expected 'property [asc|desc]'")),
        }
        offset += part.len() + 1;
    }
    Ok(out)
}

fn valid_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '/' || c == '.')
}

/// A property a filter or ordering names but the items do not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownProperty(pub String);

/// Look a property up case-insensitively (`/` walks into nested objects).
pub fn lookup<'v>(item: &'v Value, prop: &str) -> Option<&'v Value> {
    let mut cur = item;
    for step in prop.split('/') {
        let obj = cur.as_object()?;
        cur = obj.get(step).or_else(|| {
            obj.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(step))
                .map(|(_, v)| v)
        })?;
    }
    Some(cur)
}

/// `YYYY-MM-DDTHH:MM:SS` for a date or date-time text, ignoring fractions and zones.
pub fn normalize_datetime(s: &str) -> Option<String> {
    let s = s.trim();
    let b = s.as_bytes();
    let date_ok = b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit);
    if !date_ok {
        return None;
    }
    let (mo, d) = (&s[5..7], &s[8..10]);
    if !("01"..="12").contains(&mo) || !("01"..="31").contains(&d) {
        return None;
    }
    if b.len() == 10 {
        return Some(format!("{}T00:00:00", &s[..10]));
    }
    if b[10] != b'T' && b[10] != b' ' {
        return None;
    }
    let t = &s[11..];
    let tb = t.as_bytes();
    let two = |i: usize| tb.len() >= i + 2 && tb[i..i + 2].iter().all(u8::is_ascii_digit);
    if !(two(0) && tb.get(2) == Some(&b':') && two(3)) {
        return None;
    }
    let secs = if tb.get(5) == Some(&b':') && two(6) {
        &t[6..8]
    } else {
        "00"
    };
    Some(format!("{}T{}:{}", &s[..10], &t[..5], secs))
}

fn cmp_values(field: &Value, lit: &Literal) -> Option<Ordering> {
    match (field, lit) {
        (Value::Null, Literal::Null) => Some(Ordering::Equal),
        (Value::Null, _) | (_, Literal::Null) => None,
        (Value::String(s), Literal::DateTime(d)) => {
            Some(normalize_datetime(s)?.cmp(&normalize_datetime(d)?))
        }
        (Value::String(s), Literal::Str(l) | Literal::Guid(l)) => {
            Some(s.to_lowercase().cmp(&l.to_lowercase()))
        }
        (Value::Number(n), Literal::Number(l)) => n.as_f64()?.partial_cmp(l),
        (Value::String(s), Literal::Number(l)) => s.trim().parse::<f64>().ok()?.partial_cmp(l),
        (Value::Number(n), Literal::Str(l)) => Some(n.to_string().cmp(l)),
        (Value::Bool(b), Literal::Bool(l)) => Some(b.cmp(l)),
        _ => None,
    }
}

/// Evaluate a filter on one item.
pub fn eval(e: &Expr, item: &Value) -> Result<bool, UnknownProperty> {
    let get = |prop: &str| lookup(item, prop).ok_or_else(|| UnknownProperty(prop.to_owned()));
    Ok(match e {
        Expr::Cmp { prop, op, lit } => {
            let field = get(prop)?;
            match cmp_values(field, lit) {
                Some(ord) => op.holds(ord),
                // null ne 'x' holds; every other comparison with a null or a
                // mismatched type is false, as in SQL.
                None => *op == CmpOp::Ne && (field.is_null() != matches!(lit, Literal::Null)),
            }
        }
        Expr::Call { func, prop, arg } => {
            let field = get(prop)?;
            let Some(s) = field.as_str() else {
                return Ok(false);
            };
            let (s, arg) = (s.to_lowercase(), arg.to_lowercase());
            match func {
                Func::SubstringOf => s.contains(&arg),
                Func::StartsWith => s.starts_with(&arg),
                Func::EndsWith => s.ends_with(&arg),
            }
        }
        Expr::And(a, b) => eval(a, item)? && eval(b, item)?,
        Expr::Or(a, b) => eval(a, item)? || eval(b, item)?,
        Expr::Not(a) => !eval(a, item)?,
    })
}

/// Total order of JSON values for `$orderby`: nulls first, then numbers,
/// booleans and strings (case-insensitive).
pub fn order_values(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    fn rank(v: Option<&Value>) -> u8 {
        match v {
            None | Some(Value::Null) => 0,
            Some(Value::Bool(_)) => 1,
            Some(Value::Number(_)) => 2,
            Some(Value::String(_)) => 3,
            Some(_) => 4,
        }
    }
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Some(Value::String(x)), Some(Value::String(y))) => x.to_lowercase().cmp(&y.to_lowercase()),
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nextgen_filters() {
        let e = parse_filter(
            "appointmentDate ge datetime'2026-07-01T00:00:00' and (personId eq guid'8f5b1c9e-0000-4000-8000-000000000001' or isCancelled eq false)",
        )
        .unwrap();
        assert_eq!(
            e.to_string(),
            "appointmentDate ge datetime'2026-07-01T00:00:00' and (personId eq guid'8f5b1c9e-0000-4000-8000-000000000001' or isCancelled eq false)"
        );
        assert_eq!(parse_filter(&e.to_string()).unwrap(), e);
        let e = parse_filter("substringof('o''b', lastName) and 5 lt age").unwrap();
        assert_eq!(e.to_string(), "substringof('o''b', lastName) and age gt 5");
    }

    /// Found by the `odata_filter` fuzz target: a flat chain of `and`s (or
    /// `not`s) printed one parenthesis level per term, so its canonical form
    /// broke `MAX_DEPTH` and no longer parsed.
    #[test]
    fn canonical_form_of_long_chains_reparses() {
        let chain = vec!["a eq 1"; MAX_DEPTH + 10].join(" and ");
        let nots = format!("{}a eq 1", "not ".repeat(MAX_DEPTH - 4));
        let mixed = "a eq 1 or b eq 2 and c eq 3 or (d eq 4 or e eq 5) and not (f eq 6 and g eq 7)";
        for src in [chain.as_str(), nots.as_str(), mixed] {
            let e = parse_filter(src).unwrap();
            assert_eq!(parse_filter(&e.to_string()), Ok(e), "{src}");
        }
        assert_eq!(
            parse_filter(mixed).unwrap().to_string(),
            "a eq 1 or (b eq 2 and c eq 3) or ((d eq 4 or e eq 5) and not (f eq 6 and g eq 7))"
        );
    }

    #[test]
    fn errors_name_the_position() {
        assert_eq!(parse_filter("lastName eq").unwrap_err().position, 11);
        assert_eq!(parse_filter("lastName xx 'a'").unwrap_err().position, 9);
        assert_eq!(parse_filter("(a eq 1").unwrap_err().position, 7);
        assert_eq!(parse_filter("a eq 'x").unwrap_err().position, 5);
        assert_eq!(parse_filter("a eq guid'nope'").unwrap_err().position, 10);
        assert_eq!(parse_filter("a eq 1 b").unwrap_err().position, 7);
    }

    #[test]
    fn evaluates_on_json() {
        let item = serde_json::json!({"lastName": "O'Brien", "appointmentDate": "2026-07-02T00:00:00", "isKept": true, "duration": 20});
        let t = |f: &str| eval(&parse_filter(f).unwrap(), &item).unwrap();
        assert!(t("LastName eq 'o''brien'"));
        assert!(t("appointmentDate gt datetime'2026-07-01'"));
        assert!(!t("appointmentDate lt datetime'2026-07-01T23:59'"));
        assert!(t("isKept eq true and duration ge 20"));
        assert!(t("not (duration gt 20)"));
        assert!(eval(&parse_filter("nope eq 1").unwrap(), &item).is_err());
    }

    #[test]
    fn orderby() {
        assert_eq!(
            parse_orderby("lastName desc, firstName").unwrap(),
            vec![
                OrderKey {
                    prop: "lastName".into(),
                    desc: true
                },
                OrderKey {
                    prop: "firstName".into(),
                    desc: false
                }
            ]
        );
        assert_eq!(parse_orderby("a, b sideways").unwrap_err().position, 3);
    }
}
