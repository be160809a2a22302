//! Kick-off parameters: query string (GET) or a `Parameters` body (POST),
//! validated into an export specification.

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::fhir::search::{Criterion, CriterionError};

/// The `_outputFormat` spellings the IG says a server SHALL accept.
pub const OUTPUT_FORMATS: &[&str] = &["application/fhir+ndjson", "application/ndjson", "ndjson"];

/// `includeAssociatedData` values ngsim serves (IG STU2 value set
/// `include-associated-data`): the latest Provenance of every exported resource.
pub const ASSOCIATED_PROVENANCE: &str = "LatestProvenanceResources";

/// The `includeAssociatedData` values the IG defines; any other value must
/// start with `_` (a server-defined value).
const ASSOCIATED_KNOWN: &[&str] = &[ASSOCIATED_PROVENANCE, "RelevantProvenanceResources"];

/// Raw kick-off parameters after merging repeats.
#[derive(Debug, Default, Clone)]
pub struct KickoffParams {
    /// `_outputFormat`.
    pub output_format: Option<String>,
    /// `_since`, parsed.
    pub since: Option<OffsetDateTime>,
    /// `_type` values (comma-joined and repeated forms merged), in order.
    pub types: Option<Vec<String>>,
    /// `_typeFilter`: per type, alternatives (OR) of criteria lists (AND).
    pub type_filters: Vec<(String, Vec<Criterion>)>,
    /// `patient` references (POST only).
    pub patients: Option<Vec<String>>,
    /// `_until` (STU3), parsed.
    pub until: Option<OffsetDateTime>,
    /// `_elements`: `(resource type or none for every type, element name)`.
    pub elements: Option<Vec<(Option<String>, String)>>,
    /// `includeAssociatedData=LatestProvenanceResources`.
    pub associated_provenance: bool,
    /// Parameters ignored under `Prefer: handling=lenient`.
    pub ignored: Vec<String>,
}

/// Why the parameters were refused (a 400 OperationOutcome).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    /// Issue code (`invalid`, `not-supported`).
    pub code: &'static str,
    /// Diagnostics.
    pub msg: String,
}

fn err(code: &'static str, msg: impl Into<String>) -> ParamError {
    ParamError {
        code,
        msg: msg.into(),
    }
}

/// `(name, value)` pairs of a POST `Parameters` body. `patient` values are
/// `valueReference.reference`; everything else takes the first `value[x]`.
pub fn pairs_from_parameters(body: &[u8]) -> Result<Vec<(String, String)>, ParamError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| err("invalid", format!("The body is not JSON: {e}")))?;
    if v["resourceType"] != "Parameters" {
        return Err(err(
            "invalid",
            "The POST body must be a Parameters resource",
        ));
    }
    let mut out = Vec::new();
    for p in v["parameter"].as_array().into_iter().flatten() {
        let Some(name) = p["name"].as_str() else {
            return Err(err("invalid", "Parameters.parameter without a name"));
        };
        let value = p
            .as_object()
            .into_iter()
            .flatten()
            .find(|(k, _)| k.starts_with("value"))
            .map(|(_, v)| v);
        let text = match value {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Object(o)) => match o.get("reference").and_then(Value::as_str) {
                Some(r) => r.to_owned(),
                None => {
                    return Err(err(
                        "invalid",
                        format!("Parameter {name} has no usable value"),
                    ));
                }
            },
            Some(other) => other.to_string(),
            None => return Err(err("invalid", format!("Parameter {name} has no value"))),
        };
        out.push((name.to_owned(), text));
    }
    Ok(out)
}

/// Parse a FHIR `instant` (full date, time and zone).
pub fn parse_instant(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

fn split_csv(v: &str) -> impl Iterator<Item = String> + '_ {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Validate and merge kick-off pairs. `post` allows `patient`.
pub fn parse(
    pairs: &[(String, String)],
    post: bool,
    lenient: bool,
) -> Result<KickoffParams, ParamError> {
    let mut out = KickoffParams::default();
    let mut unsupported = Vec::new();
    for (k, v) in pairs {
        match k.as_str() {
            "_outputFormat" => {
                if !OUTPUT_FORMATS.contains(&v.as_str()) {
                    return Err(err(
                        "not-supported",
                        format!(
                            "_outputFormat {v} is not supported; use one of {}",
                            OUTPUT_FORMATS.join(", ")
                        ),
                    ));
                }
                out.output_format = Some(v.clone());
            }
            "_since" => {
                let t = parse_instant(v).ok_or_else(|| {
                    err(
                        "invalid",
                        format!(
                            "_since must be a FHIR instant (e.g. 2026-01-01T00:00:00Z), not {v}"
                        ),
                    )
                })?;
                out.since = Some(t);
            }
            "_type" => out.types.get_or_insert_with(Vec::new).extend(split_csv(v)),
            "_typeFilter" => {
                for f in split_csv(v) {
                    out.type_filters.push(parse_type_filter(&f)?);
                }
            }
            "patient" if post => out
                .patients
                .get_or_insert_with(Vec::new)
                .extend(split_csv(v)),
            "patient" => unsupported.push("patient (POST only)".to_owned()),
            "_until" => {
                let t = parse_instant(v).ok_or_else(|| {
                    err("invalid", format!("_until must be a FHIR instant, not {v}"))
                })?;
                out.until = Some(t);
            }
            "_elements" => {
                for e in split_csv(v) {
                    let parsed = parse_element(&e)?;
                    out.elements.get_or_insert_with(Vec::new).push(parsed);
                }
            }
            "includeAssociatedData" => {
                for a in split_csv(v) {
                    if a == ASSOCIATED_PROVENANCE {
                        out.associated_provenance = true;
                    } else if ASSOCIATED_KNOWN.contains(&a.as_str()) || a.starts_with('_') {
                        unsupported.push(format!("includeAssociatedData={a}"));
                    } else {
                        return Err(err(
                            "invalid",
                            format!(
                                "includeAssociatedData value {a} is not defined by the IG \
                                 (server-defined values start with _)"
                            ),
                        ));
                    }
                }
            }
            "organizeOutputBy" => unsupported.push(format!(
                "organizeOutputBy={v} (this server organizes output files by resource type only)"
            )),
            // STU3: a server that does not produce partial manifests may
            // ignore the request; every manifest here is complete.
            "allowPartialManifests" => {}
            other => unsupported.push(other.to_owned()),
        }
    }
    if !unsupported.is_empty() {
        if lenient {
            out.ignored = unsupported;
        } else {
            return Err(err(
                "not-supported",
                format!(
                    "Unsupported $export parameter(s): {} (send Prefer: handling=lenient to ignore them)",
                    unsupported.join(", ")
                ),
            ));
        }
    }
    if let Some(t) = &mut out.types {
        let mut seen = Vec::new();
        t.retain(|x| {
            let fresh = !seen.contains(x);
            seen.push(x.clone());
            fresh
        });
    }
    Ok(out)
}

/// One `_elements` item: `element` or `Type.element` (root elements only).
fn parse_element(e: &str) -> Result<(Option<String>, String), ParamError> {
    let (ty, name) = match e.split_once('.') {
        Some((t, n)) => (Some(t.to_owned()), n),
        None => (None, e),
    };
    let ok_name = !name.is_empty()
        && !name.contains('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '[' || c == ']');
    let ok_ty = ty
        .as_deref()
        .is_none_or(|t| t.chars().next().is_some_and(|c| c.is_ascii_uppercase()));
    if !(ok_name && ok_ty) {
        return Err(err(
            "invalid",
            format!("_elements item {e} must be element or Type.element (root elements only)"),
        ));
    }
    Ok((ty, name.to_owned()))
}

/// `Type?name=value&name=value`: every criterion must match.
fn parse_type_filter(f: &str) -> Result<(String, Vec<Criterion>), ParamError> {
    let (ty, query) = f.split_once('?').ok_or_else(|| {
        err(
            "invalid",
            format!("_typeFilter {f} must look like Type?param=value"),
        )
    })?;
    let mut crit = Vec::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        let c = Criterion::parse(ty, &k, &v).map_err(|e| match e {
            CriterionError::Unknown => err(
                "not-supported",
                format!("_typeFilter: search parameter {k} is not supported for {ty}"),
            ),
            CriterionError::Modifier(m) => err(
                "not-supported",
                format!("_typeFilter: modifier :{m} is not supported"),
            ),
            CriterionError::Value(val) => err(
                "invalid",
                format!("_typeFilter: invalid value {val} for {k}"),
            ),
        })?;
        crit.push(c);
    }
    if crit.is_empty() {
        return Err(err("invalid", format!("_typeFilter {f} has no criteria")));
    }
    Ok((ty.to_owned(), crit))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn repeated_and_joined_types_merge() {
        let p = parse(
            &kv(&[
                ("_type", "Patient,Observation"),
                ("_type", "Condition,Patient"),
            ]),
            false,
            false,
        )
        .unwrap();
        assert_eq!(
            p.types.unwrap(),
            ["Patient", "Observation", "Condition"].map(String::from)
        );
    }

    #[test]
    fn unknown_parameters_fail_unless_lenient() {
        let pairs = kv(&[("organizeOutputBy", "Patient"), ("foo", "1")]);
        let e = parse(&pairs, false, false).unwrap_err();
        assert_eq!(e.code, "not-supported");
        assert!(e.msg.contains("organizeOutputBy"), "{}", e.msg);
        let p = parse(&pairs, false, true).unwrap();
        assert_eq!(p.ignored.len(), 2);
        assert!(p.ignored[0].starts_with("organizeOutputBy=Patient"));
    }

    #[test]
    fn elements_until_and_associated_data() {
        let p = parse(
            &kv(&[
                ("_elements", "Observation.code,status"),
                ("_until", "2026-06-01T00:00:00Z"),
                ("includeAssociatedData", "LatestProvenanceResources"),
                ("allowPartialManifests", "true"),
            ]),
            false,
            false,
        )
        .unwrap();
        assert_eq!(
            p.elements.unwrap(),
            [
                (Some("Observation".to_owned()), "code".to_owned()),
                (None, "status".to_owned())
            ]
        );
        assert!(p.until.is_some() && p.associated_provenance);
        assert!(parse(&kv(&[("_elements", "Observation.code.text")]), false, false).is_err());
        let rel = kv(&[("includeAssociatedData", "RelevantProvenanceResources")]);
        assert_eq!(parse(&rel, false, false).unwrap_err().code, "not-supported");
        assert_eq!(parse(&rel, false, true).unwrap().ignored.len(), 1);
        let bogus = kv(&[("includeAssociatedData", "Everything")]);
        assert_eq!(parse(&bogus, false, true).unwrap_err().code, "invalid");
        let custom = kv(&[("includeAssociatedData", "_custom")]);
        assert_eq!(
            parse(&custom, false, false).unwrap_err().code,
            "not-supported"
        );
    }

    #[test]
    fn type_filters_and_instants() {
        let p = parse(
            &kv(&[
                ("_typeFilter", "Observation?category=laboratory"),
                ("_since", "2026-01-01T00:00:00Z"),
            ]),
            false,
            false,
        )
        .unwrap();
        assert_eq!(p.type_filters[0].0, "Observation");
        assert!(p.since.is_some());
        assert!(parse(&kv(&[("_since", "2026-01-01")]), false, false).is_err());
        assert!(parse(&kv(&[("_typeFilter", "Observation")]), false, false).is_err());
    }
}
