//! Secret scrubbing applied by every writer before it renders anything.
//!
//! Reports end up as CI artefacts and PR comments, so nothing a SUT or the
//! simulator sent as a credential may reach them. [`Redactor::redact_report`]
//! walks *every* string in the report (through its serde form, so a string
//! field added to the model later is covered without touching this file)
//! and replaces:
//!
//! * every registered secret string ([`Redactor::with_secret`]);
//! * `Bearer …` / `Basic …` credentials;
//! * `Authorization:` header values, to the end of the line or quote;
//! * values of `access_token`, `refresh_token`, `id_token`, `client_secret`,
//!   `client_assertion`, `password` in `k=v`, `k: v` and `"k": "v"` forms
//!   (quotes may be backslash-escaped, as in a JSON body quoted in JSON),
//!   and of `code` in the `code=` and `"code":` forms only (so `status code:
//!   500` survives);
//! * JWT-looking strings: base64url segments joined by dots whose first
//!   segment starts with `eyJ` (base64 of `{"`). A bare three-segment rule
//!   would also eat host names and version numbers.
//!
//! with [`REDACTED`].

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::{Regex, RegexSet};

use crate::model::RunReport;

/// The replacement text.
pub const REDACTED: &str = "[REDACTED]";

/// Replaces secrets in text with [`REDACTED`].
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Literal secrets, longest first so a secret containing another is
    /// replaced whole.
    secrets: Vec<String>,
}

struct Patterns {
    /// All the patterns below at once: most strings match none, and one
    /// scan to find that out is several times cheaper than one per pattern.
    any: RegexSet,
    /// `(prefix)(secret)` pairs: the prefix is kept, the secret replaced.
    keyed: Vec<Regex>,
    jwt: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        // `\b` is ASCII-only (`(?-u:\b)`) so the fast DFA engines apply to
        // non-ASCII text too; the keys it delimits are ASCII anyway.
        let re = |s: &str| Regex::new(&s.replace(r"\b", r"(?-u:\b)")).expect("redaction pattern compiles");
        // An optional quote, possibly backslash-escaped: JSON bodies quoted
        // inside JSON or log lines arrive as `\"access_token\":\"…\"`.
        const Q: &str = r#"(?:\\?["'])?"#;
        let keyed = vec![
            // Authorization header (or JSON key) value up to end of line/quote.
            re(&format!(r#"(?i)(\b(?:proxy-)?authorization\b{Q}\s*[:=]\s*{Q})([^"'\\\r\n]+)"#)),
            // Token-bearing parameters in form, query, header or JSON form.
            re(
                &format!(r#"(?i)(\b(?:access_token|refresh_token|id_token|client_secret|client_assertion|password)\b{Q}\s*[:=]\s*{Q})([^\s"'&,;}}\\]+)"#),
            ),
            // `code` only as a form/query parameter or JSON key.
            re(r#"(?i)(\bcode=|\\?"code\\?"\s*:\s*\\?")([^\s"'&,;}\\]+)"#),
            // Credentials after an auth scheme.
            re(r"(?i)(\b(?:bearer|basic)\s+)([A-Za-z0-9\-._~+/]+=*)"),
        ];
        let jwt = re(r"eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){2,4}");
        let any = RegexSet::new(keyed.iter().chain([&jwt]).map(Regex::as_str))
            .expect("redaction patterns compile as a set");
        Patterns { any, keyed, jwt }
    })
}

impl Redactor {
    /// A redactor with only the built-in patterns.
    pub fn new() -> Self {
        Self::default()
    }

    /// Also redacts this exact string (a client secret, a private key, a
    /// password from the SUT's config). Empty strings are ignored.
    pub fn with_secret(mut self, secret: impl Into<String>) -> Self {
        self.add_secret(secret);
        self
    }

    /// Registers a secret in place; see [`with_secret`](Self::with_secret).
    pub fn add_secret(&mut self, secret: impl Into<String>) {
        let secret = secret.into();
        if secret.is_empty() || self.secrets.contains(&secret) {
            return;
        }
        self.secrets.push(secret);
        self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    /// Returns `text` with every secret replaced.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = Cow::Owned(out.replace(secret.as_str(), REDACTED));
            }
        }
        let p = patterns();
        if !p.any.is_match(&out) {
            return out;
        }
        for re in &p.keyed {
            if let Cow::Owned(s) = re.replace_all(&out, |c: &regex::Captures<'_>| {
                if &c[2] == REDACTED {
                    c[0].to_owned()
                } else {
                    format!("{}{REDACTED}", &c[1])
                }
            }) {
                out = Cow::Owned(s);
            }
        }
        if let Cow::Owned(s) = p.jwt.replace_all(&out, REDACTED) {
            out = Cow::Owned(s);
        }
        out
    }

    /// Returns a copy of `report` with every string redacted.
    pub fn redact_report(&self, report: &RunReport) -> RunReport {
        let mut value = serde_json::to_value(report).expect("a RunReport always serialises");
        self.redact_value(&mut value);
        serde_json::from_value(value).expect("redaction only rewrites string values")
    }

    fn redact_value(&self, value: &mut serde_json::Value) {
        use serde_json::Value;
        match value {
            Value::String(s) => {
                if let Cow::Owned(r) = self.redact(s) {
                    *s = r;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_value(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.redact_value(v)),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWT: &str = "eyJhbGciOiJSUzM4NCJ9.eyJzdWIiOiJhYmMifQ.c2lnbmF0dXJl";

    fn r(text: &str) -> String {
        Redactor::new()
            .with_secret("s3cr3t-value")
            .redact(text)
            .into_owned()
    }

    #[test]
    fn bearer_and_authorization() {
        assert_eq!(r("Bearer abc.def-123"), "Bearer [REDACTED]");
        assert_eq!(
            r("GET /Patient Authorization: Bearer abc123\nnext"),
            "GET /Patient Authorization: [REDACTED]\nnext"
        );
        assert_eq!(
            r(r#"{"authorization":"Basic dXNlcjpwYXNz"}"#),
            r#"{"authorization":"[REDACTED]"}"#
        );
    }

    #[test]
    fn token_parameters() {
        assert_eq!(
            r("grant_type=authorization_code&code=xyz789&client_secret=hunter2"),
            "grant_type=authorization_code&code=[REDACTED]&client_secret=[REDACTED]"
        );
        assert_eq!(
            r(r#"{"access_token": "tok1", "refresh_token":"tok2"}"#),
            r#"{"access_token": "[REDACTED]", "refresh_token":"[REDACTED]"}"#
        );
        assert_eq!(r("client_assertion: abc"), "client_assertion: [REDACTED]");
        assert_eq!(r(r#""code": "c0de""#), r#""code": "[REDACTED]""#);
        assert_eq!(
            r(r#"body {\"access_token\":\"tok3\",\"code\":\"c4\"}"#),
            r#"body {\"access_token\":\"[REDACTED]\",\"code\":\"[REDACTED]\"}"#
        );
        assert_eq!(
            r(r#"{\"Authorization\": \"Bearer tok5\"}"#),
            r#"{\"Authorization\": \"[REDACTED]\"}"#
        );
    }

    #[test]
    fn jwts_and_registered_secrets() {
        assert_eq!(
            r(&format!("assertion {JWT} sent")),
            "assertion [REDACTED] sent"
        );
        assert_eq!(r("pw is s3cr3t-value!"), "pw is [REDACTED]!");
    }

    #[test]
    fn leaves_ordinary_text_alone() {
        for text in [
            "HTTP status code: 500",
            "MSA|AA|MSG00001",
            "GET https://fhir.example.org/r4/Patient?_id=1",
            "version 1.2.3 of fhir.nextgen.com",
            "error_code=42 and the token endpoint",
        ] {
            assert_eq!(r(text), text);
        }
    }
}
