//! Loading, validating and resolving profile files.

use std::path::{Path, PathBuf};

use super::{Profile, builtin_names, builtin_source};
use crate::toml_located::{self, LocatedError};

/// The JSON Schema of the version-profile format (also shipped as
/// `profiles/schema/version-profile.schema.json`).
pub fn json_schema() -> &'static str {
    include_str!("../../../profiles/schema/version-profile.schema.json")
}

/// Validate one profile file's TOML text against the JSON Schema.
///
/// Returns one message per violation (JSON pointer and reason).
pub fn validate_against_schema(toml_text: &str) -> Result<(), Vec<String>> {
    let value: toml::Value = toml::from_str(toml_text).map_err(|e| vec![e.to_string()])?;
    let json = serde_json::to_value(&value).map_err(|e| vec![e.to_string()])?;
    let schema: serde_json::Value =
        serde_json::from_str(json_schema()).map_err(|e| vec![format!("schema: {e}")])?;
    let validator = jsonschema::validator_for(&schema).map_err(|e| vec![format!("schema: {e}")])?;
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| format!("{}: {}", e.instance_path(), e))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// A profile that could not be loaded. The message names the file, the line and
/// column, the key path and, where there is a fixed set, the allowed values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The file could not be read.
    #[error("cannot read profile `{path}`: {source}")]
    Read {
        /// File path.
        path: PathBuf,
        /// I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Bad TOML, an unknown key or a bad value, located in its file.
    #[error(transparent)]
    Invalid(#[from] LocatedError),
    /// `inherits` names no known profile.
    #[error("{file}: `inherits = \"{parent}\"` names an unknown profile (known profiles: {known})")]
    UnknownParent {
        /// File label.
        file: String,
        /// The unknown name.
        parent: String,
        /// Known names, comma-separated.
        known: String,
    },
    /// The `inherits` chain loops.
    #[error("profile inheritance cycle: {}", .0.join(" -> "))]
    Cycle(Vec<String>),
    /// No built-in profile has this name, and no such file exists.
    #[error(
        "unknown profile `{name}` (built-in profiles: {known}; or give a path to a .toml file)"
    )]
    Unknown {
        /// The name given.
        name: String,
        /// Known names.
        known: String,
    },
}

/// Resolves profile names and files, following `inherits`.
#[derive(Debug, Default, Clone)]
pub struct ProfileLoader {
    /// Extra directories searched for `<name>.toml` (a file's own directory is
    /// always searched for its parent first).
    pub search_dirs: Vec<PathBuf>,
}

struct Layer {
    file: String,
    table: toml::Table,
    inherits: Option<String>,
}

impl ProfileLoader {
    /// Load a built-in profile by name, or a file by path.
    pub fn load(&self, name_or_path: &str) -> Result<Profile, ProfileError> {
        let looks_like_path = name_or_path.ends_with(".toml") || name_or_path.contains('/');
        if looks_like_path || builtin_source(name_or_path).is_none() {
            let p = Path::new(name_or_path);
            if p.exists() {
                return self.load_file(p);
            }
            if looks_like_path {
                return Err(ProfileError::Read {
                    path: p.to_owned(),
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
                });
            }
            return Err(ProfileError::Unknown {
                name: name_or_path.to_owned(),
                known: known(),
            });
        }
        self.resolve_chain(self.builtin_layer(name_or_path)?, None)
    }

    /// Load a profile file (and its `inherits` chain).
    pub fn load_file(&self, path: &Path) -> Result<Profile, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Read {
            path: path.to_owned(),
            source,
        })?;
        let layer = parse_layer(&path.display().to_string(), &text)?;
        self.resolve_chain(layer, path.parent())
    }

    /// Load a profile from text with a label for messages.
    pub fn load_str(&self, label: &str, text: &str) -> Result<Profile, ProfileError> {
        self.resolve_chain(parse_layer(label, text)?, None)
    }

    fn builtin_layer(&self, name: &str) -> Result<Layer, ProfileError> {
        let (file, text) = builtin_source(name).ok_or_else(|| ProfileError::Unknown {
            name: name.to_owned(),
            known: known(),
        })?;
        parse_layer(file, text)
    }

    fn parent_layer(
        &self,
        child: &Layer,
        dir: Option<&Path>,
        parent: &str,
    ) -> Result<Layer, ProfileError> {
        let dirs = dir
            .into_iter()
            .chain(self.search_dirs.iter().map(PathBuf::as_path));
        for d in dirs {
            let candidate = d.join(format!("{parent}.toml"));
            if candidate.exists() {
                let text =
                    std::fs::read_to_string(&candidate).map_err(|source| ProfileError::Read {
                        path: candidate.clone(),
                        source,
                    })?;
                return parse_layer(&candidate.display().to_string(), &text);
            }
        }
        if builtin_source(parent).is_some() {
            return self.builtin_layer(parent);
        }
        Err(ProfileError::UnknownParent {
            file: child.file.clone(),
            parent: parent.to_owned(),
            known: known(),
        })
    }

    fn resolve_chain(&self, first: Layer, dir: Option<&Path>) -> Result<Profile, ProfileError> {
        let mut names = vec![layer_name(&first)];
        let mut chain = vec![first];
        while let Some(parent) = chain.last().and_then(|l| l.inherits.clone()) {
            if names.contains(&parent) {
                names.push(parent);
                return Err(ProfileError::Cycle(names));
            }
            let layer = self.parent_layer(chain.last().expect("non-empty"), dir, &parent)?;
            names.push(parent);
            chain.push(layer);
        }
        let mut merged = toml::Table::new();
        for layer in chain.iter().rev() {
            deep_merge(&mut merged, layer.table.clone());
        }
        merged.remove("inherits");
        let label = chain[0].file.clone();
        let profile: Profile = toml::Value::Table(merged)
            .try_into()
            .map_err(|e: toml::de::Error| toml_located::locate(&label, "", None, &e))?;
        Ok(profile)
    }
}

fn layer_name(l: &Layer) -> String {
    l.table
        .get("name")
        .and_then(|v| v.as_str())
        .unwrap_or(&l.file)
        .to_owned()
}

fn known() -> String {
    builtin_names().collect::<Vec<_>>().join(", ")
}

/// Parse and validate one file on its own: syntax, unknown keys and value types
/// are reported against this file's text, with line, column and key path.
fn parse_layer(file: &str, text: &str) -> Result<Layer, ProfileError> {
    let _: Profile = toml_located::from_str(file, text)?;
    let table: toml::Table =
        toml::from_str(text).map_err(|e| toml_located::locate(file, text, None, &e))?;
    let inherits = table
        .get("inherits")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    Ok(Layer {
        file: file.to_owned(),
        table,
        inherits,
    })
}

/// Tables merge key by key; any other value in `over` replaces the one in `base`.
fn deep_merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => deep_merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}
