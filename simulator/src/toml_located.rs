//! TOML deserialisation whose errors say where: file, line, column, the dotted
//! key path, and serde's "expected one of …" list of allowed values. Shared by
//! every TOML format ngsim reads (profiles, client registries, scenarios,
//! SUT manifests), so they all report errors the same way.

use serde::de::DeserializeOwned;

/// A located error in a TOML file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {}{message}", position(*.line, *.column), key_prefix(.key))]
pub struct LocatedError {
    /// File label.
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// 1-based column (0 when unknown).
    pub column: usize,
    /// Dotted key path, when known.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

fn position(line: usize, column: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(":{line}:{column}")
    }
}

fn key_prefix(key: &Option<String>) -> String {
    match key {
        Some(k) if !k.is_empty() && k != "." => format!("key `{k}`: "),
        _ => String::new(),
    }
}

/// Deserialise `text` into `T`, locating any error in `file`.
pub fn from_str<T: DeserializeOwned>(file: &str, text: &str) -> Result<T, LocatedError> {
    let de = toml::Deserializer::parse(text).map_err(|e| locate(file, text, None, &e))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        locate(file, text, Some(key), e.inner())
    })
}

/// Turn a toml error into a located one.
pub fn locate(file: &str, text: &str, key: Option<String>, e: &toml::de::Error) -> LocatedError {
    let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((0, 0));
    LocatedError {
        file: file.to_owned(),
        line,
        column,
        key,
        message: e.message().trim().replace('\n', " "),
    }
}

/// A located error that is not a deserialisation error (a semantic check).
pub fn at_key(file: &str, key: &str, message: impl Into<String>) -> LocatedError {
    LocatedError {
        file: file.to_owned(),
        line: 0,
        column: 0,
        key: Some(key.to_owned()),
        message: message.into(),
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}
