//! FHIR search-parameter semantics over rendered resources: token
//! (`system|code`, `code`, `|code`, `system|`), date (prefixes `eq ne lt le gt
//! ge sa eb ap` at year, month, day or time precision), reference (`123`,
//! `Patient/123`, absolute), string (case- and accent-insensitive starts-with,
//! `:exact`), `_id` and `_lastUpdated`.

use serde_json::Value;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// The type of a search parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Token.
    Token,
    /// Date.
    Date,
    /// Reference.
    Reference,
    /// String.
    String,
}

/// Where a search parameter looks in a resource of `ty`, or `None` if ngsim
/// does not know the parameter for that type.
pub fn definition(ty: &str, name: &str) -> Option<(Kind, &'static [&'static str])> {
    use Kind::*;
    let d: (Kind, &'static [&'static str]) = match (ty, name) {
        (_, "_id") => (Token, &["id"]),
        (_, "_lastUpdated") => (Date, &["meta.lastUpdated"]),
        ("Patient", "identifier") => (Token, &["identifier"]),
        ("Patient", "name") => (String, &["name"]),
        ("Patient", "given") => (String, &["name.given"]),
        ("Patient", "family") => (String, &["name.family"]),
        ("Patient", "gender") => (Token, &["gender"]),
        ("Patient", "birthdate") => (Date, &["birthDate"]),
        ("Patient" | "Organization" | "Location", "address") => (String, &["address"]),
        ("Patient" | "Organization" | "Location", "address-city") => (String, &["address.city"]),
        ("Patient" | "Organization" | "Location", "address-state") => (String, &["address.state"]),
        ("Patient" | "Organization" | "Location", "address-postalcode") => {
            (String, &["address.postalCode"])
        }
        ("Organization", "address-country") => (String, &["address.country"]),
        ("Practitioner" | "Organization", "identifier") => (Token, &["identifier"]),
        ("Practitioner" | "Organization" | "Location" | "Group", "name") => (String, &["name"]),
        ("PractitionerRole", "specialty") => (Token, &["specialty"]),
        ("PractitionerRole", "practitioner") => (Reference, &["practitioner"]),
        ("PractitionerRole", "practitioner.identifier") => (Token, &["practitioner.identifier"]),
        ("PractitionerRole", "practitioner.name") => (String, &["practitioner.display"]),
        ("AllergyIntolerance" | "Immunization" | "Device" | "Consent", "patient") => {
            (Reference, &["patient"])
        }
        ("Coverage", "patient") => (Reference, &["beneficiary"]),
        ("Appointment", "patient") => (Reference, &["participant.actor"]),
        (_, "patient") => (Reference, &["subject"]),
        ("Provenance", "target") => (Reference, &["target"]),
        ("AllergyIntolerance", "clinical-status") => (Token, &["clinicalStatus"]),
        ("AllergyIntolerance", "date") => (Date, &["recordedDate"]),
        ("Condition", "clinical-status") => (Token, &["clinicalStatus"]),
        ("Condition", "onset-date" | "date") => (Date, &["onsetDateTime"]),
        ("Goal", "lifecycle-status") => (Token, &["lifecycleStatus"]),
        ("Goal", "target-date") => (Date, &["target.dueDate"]),
        ("Goal", "date") => (Date, &["startDate"]),
        ("MedicationRequest", "intent") => (Token, &["intent"]),
        ("MedicationRequest", "authoredon" | "date") => (Date, &["authoredOn"]),
        ("MedicationRequest" | "Encounter" | "Procedure", "encounter") => {
            (Reference, &["encounter"])
        }
        ("Observation" | "DiagnosticReport", "date") => (Date, &["effectiveDateTime"]),
        ("Encounter", "date") => (Date, &["period"]),
        ("Encounter", "class") => (Token, &["class"]),
        ("Encounter", "identifier") => (Token, &["identifier"]),
        ("Immunization", "date") => (Date, &["occurrenceDateTime"]),
        ("Procedure", "date") => (Date, &["performedDateTime"]),
        ("DocumentReference", "date") => (Date, &["date"]),
        ("DocumentReference", "period") => (Date, &["context.period"]),
        ("CarePlan", "date") => (Date, &["period"]),
        ("Device", "date") => (Date, &["meta.lastUpdated"]),
        ("Appointment", "date") => (Date, &["start"]),
        ("ServiceRequest", "authored") => (Date, &["authoredOn"]),
        (_, "category") => (Token, &["category"]),
        (_, "code") => (Token, &["code"]),
        (_, "status") => (Token, &["status"]),
        (_, "type") => (Token, &["type"]),
        _ => return None,
    };
    Some(d)
}

/// Values at a dotted path; arrays are flattened at every step.
pub fn collect<'a>(v: &'a Value, path: &str, out: &mut Vec<&'a Value>) {
    any_at(v, path, &mut |x| {
        out.push(x);
        false
    });
}

/// Whether `f` holds for any value at a dotted path (arrays flattened),
/// stopping at the first hit. Allocation-free: searches run it per resource.
pub fn any_at<'a>(v: &'a Value, path: &str, f: &mut dyn FnMut(&'a Value) -> bool) -> bool {
    fn walk<'a>(v: &'a Value, path: &str, f: &mut dyn FnMut(&'a Value) -> bool) -> bool {
        if let Value::Array(a) = v {
            return a.iter().any(|x| walk(x, path, f));
        }
        if path.is_empty() {
            return f(v);
        }
        let (seg, rest) = path.split_once('.').unwrap_or((path, ""));
        v.get(seg).is_some_and(|next| walk(next, rest, f))
    }
    walk(v, path, f)
}

// ------------------------------------------------------------------ strings

/// Lower-case and strip common Latin accents.
pub fn fold(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => 'a',
            'ç' | 'ć' | 'č' => 'c',
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' => 'e',
            'ì' | 'í' | 'î' | 'ï' | 'ī' => 'i',
            'ñ' | 'ń' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => 'o',
            'ù' | 'ú' | 'û' | 'ü' | 'ū' => 'u',
            'ý' | 'ÿ' => 'y',
            'š' | 'ś' => 's',
            'ž' | 'ź' | 'ż' => 'z',
            other => other,
        })
        .collect()
}

fn string_leaves<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| string_leaves(x, out)),
        Value::Object(o) => {
            for (k, x) in o {
                if k != "use" && k != "type" && k != "period" {
                    string_leaves(x, out);
                }
            }
        }
        _ => {}
    }
}

fn string_match(v: &Value, wanted: &str, exact: bool) -> bool {
    let mut leaves = Vec::new();
    string_leaves(v, &mut leaves);
    if exact {
        return leaves.contains(&wanted);
    }
    let w = fold(wanted);
    leaves.iter().any(|s| {
        let f = fold(s);
        f.starts_with(&w) || f.split([' ', ',', '-']).any(|word| word.starts_with(&w))
    })
}

// ------------------------------------------------------------------ tokens

fn token_match(v: &Value, wanted: &str) -> bool {
    let (sys, code) = match wanted.split_once('|') {
        Some((s, c)) => (Some(s), c),
        None => (None, wanted),
    };
    let check = |system: Option<&str>, value: Option<&str>| -> bool {
        let sys_ok = match sys {
            None => true,
            Some("") => system.is_none(),
            Some(s) => system == Some(s),
        };
        sys_ok && (code.is_empty() || value == Some(code))
    };
    match v {
        Value::String(s) => check(None, Some(s)),
        Value::Bool(b) => check(None, Some(if *b { "true" } else { "false" })),
        Value::Object(o) => {
            if let Some(Value::Array(codings)) = o.get("coding") {
                return codings.iter().any(|c| token_match(c, wanted));
            }
            let system = o.get("system").and_then(Value::as_str);
            let value = o
                .get("code")
                .or_else(|| o.get("value"))
                .and_then(Value::as_str);
            check(system, value)
        }
        _ => false,
    }
}

// ------------------------------------------------------------------ references

fn reference_match(v: &Value, wanted: &str) -> bool {
    let Some(r) = v.get("reference").and_then(Value::as_str) else {
        return false;
    };
    // Absolute URLs and relative `Type/id` compare on their last two segments.
    fn tail(s: &str) -> (Option<&str>, &str) {
        let mut parts = s.rsplit('/');
        let id = parts.next().unwrap_or("");
        (parts.next(), id)
    }
    let (rt, rid) = tail(r);
    let (wt, wid) = tail(wanted.trim_end_matches('/'));
    rid == wid && (wt.is_none() || wt == rt)
}

// ------------------------------------------------------------------ dates

/// A half-open time range `[lo, hi)` in Unix seconds.
pub type Range = (i64, i64);

fn ym(y: i32, m: u8) -> Option<Date> {
    Date::from_calendar_date(y, Month::try_from(m).ok()?, 1).ok()
}

fn start_of(d: Date) -> i64 {
    PrimitiveDateTime::new(d, Time::MIDNIGHT)
        .assume_utc()
        .unix_timestamp()
}

/// Parse a FHIR date, dateTime or instant into the range it denotes.
pub fn parse_range(s: &str) -> Option<Range> {
    let s = s.trim();
    if s.len() == 4 {
        let y: i32 = s.parse().ok()?;
        return Some((start_of(ym(y, 1)?), start_of(ym(y + 1, 1)?)));
    }
    if s.len() == 7 {
        let y: i32 = s[..4].parse().ok()?;
        let m: u8 = s[5..7].parse().ok()?;
        let next = if m == 12 {
            ym(y + 1, 1)?
        } else {
            ym(y, m + 1)?
        };
        return Some((start_of(ym(y, m)?), start_of(next)));
    }
    if s.len() == 10 {
        let d = Date::parse(
            s,
            &time::macros::format_description!("[year]-[month]-[day]"),
        )
        .ok()?;
        return Some((start_of(d), start_of(d) + 86_400));
    }
    let t = OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .or_else(|| {
            // `YYYY-MM-DDThh:mm` with an offset or none (taken as UTC).
            let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
            PrimitiveDateTime::parse(s.get(..16)?, &fmt)
                .ok()
                .map(|p| p.assume_offset(UtcOffset::UTC))
        })?;
    let lo = t.unix_timestamp();
    Some((lo, lo + 1))
}

fn value_range(v: &Value) -> Option<Range> {
    match v {
        Value::String(s) => parse_range(s),
        Value::Object(o) => {
            let lo = o
                .get("start")
                .and_then(Value::as_str)
                .and_then(parse_range)
                .map(|r| r.0)
                .unwrap_or(i64::MIN);
            let hi = o
                .get("end")
                .and_then(Value::as_str)
                .and_then(parse_range)
                .map(|r| r.1)
                .unwrap_or(i64::MAX);
            Some((lo, hi))
        }
        _ => None,
    }
}

/// A date comparison prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    /// eq
    Eq,
    /// ne
    Ne,
    /// lt
    Lt,
    /// le
    Le,
    /// gt
    Gt,
    /// ge
    Ge,
    /// sa
    Sa,
    /// eb
    Eb,
    /// ap
    Ap,
}

/// Split a date search value into its prefix and range.
pub fn parse_date_value(s: &str) -> Option<(Prefix, Range)> {
    let (p, rest) = match s.get(..2) {
        Some("eq") => (Prefix::Eq, &s[2..]),
        Some("ne") => (Prefix::Ne, &s[2..]),
        Some("lt") => (Prefix::Lt, &s[2..]),
        Some("le") => (Prefix::Le, &s[2..]),
        Some("gt") => (Prefix::Gt, &s[2..]),
        Some("ge") => (Prefix::Ge, &s[2..]),
        Some("sa") => (Prefix::Sa, &s[2..]),
        Some("eb") => (Prefix::Eb, &s[2..]),
        Some("ap") => (Prefix::Ap, &s[2..]),
        _ => (Prefix::Eq, s),
    };
    Some((p, parse_range(rest)?))
}

fn date_match(r: Range, p: Prefix, s: Range, now: i64) -> bool {
    match p {
        Prefix::Eq => r.0 >= s.0 && r.1 <= s.1,
        Prefix::Ne => !(r.0 >= s.0 && r.1 <= s.1),
        Prefix::Lt => r.0 < s.0,
        Prefix::Le => r.0 < s.1,
        Prefix::Gt => r.1 > s.1,
        Prefix::Ge => r.1 > s.0,
        Prefix::Sa => r.0 >= s.1,
        Prefix::Eb => r.1 <= s.0,
        Prefix::Ap => {
            let slack = ((now - s.0).abs() / 10).max(86_400);
            r.0 < s.1.saturating_add(slack) && r.1 > s.0.saturating_sub(slack)
        }
    }
}

// ------------------------------------------------------------------ criteria

/// One parsed search criterion: any of `values` must match (comma = OR).
#[derive(Debug, Clone)]
pub struct Criterion {
    /// Parameter name as given (without modifier).
    pub name: String,
    /// Parameter type.
    pub kind: Kind,
    /// Where to look.
    pub paths: &'static [&'static str],
    /// `:exact` on a string parameter.
    pub exact: bool,
    /// Alternatives.
    pub values: Vec<String>,
}

/// Why a criterion could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CriterionError {
    /// The parameter is unknown for the type.
    Unknown,
    /// The modifier is not supported.
    Modifier(String),
    /// A value is malformed.
    Value(String),
}

impl Criterion {
    /// Parse `name[:modifier]=value[,value…]` for resource type `ty`.
    pub fn parse(ty: &str, key: &str, value: &str) -> Result<Criterion, CriterionError> {
        let (name, modifier) = match key.split_once(':') {
            Some((n, m)) => (n, Some(m)),
            None => (key, None),
        };
        let (kind, paths) = definition(ty, name).ok_or(CriterionError::Unknown)?;
        let exact = match (modifier, kind) {
            (None, _) => false,
            (Some("exact"), Kind::String) => true,
            (Some(m), _) => return Err(CriterionError::Modifier(m.to_owned())),
        };
        let values: Vec<String> = value.split(',').map(str::to_owned).collect();
        if kind == Kind::Date {
            for v in &values {
                if parse_date_value(v).is_none() {
                    return Err(CriterionError::Value(v.clone()));
                }
            }
        }
        Ok(Criterion {
            name: name.to_owned(),
            kind,
            paths,
            exact,
            values,
        })
    }

    /// Whether the resource matches.
    pub fn matches(&self, resource: &Value, now: i64) -> bool {
        self.values.iter().any(|want| {
            let date_want = match self.kind {
                Kind::Date => parse_date_value(want),
                _ => None,
            };
            self.paths.iter().any(|p| {
                any_at(resource, p, &mut |v| match self.kind {
                    Kind::Token => token_match(v, want),
                    Kind::String => string_match(v, want, self.exact),
                    Kind::Reference => reference_match(v, want),
                    Kind::Date => match (value_range(v), date_want) {
                        (Some(r), Some((p, s))) => date_match(r, p, s, now),
                        _ => false,
                    },
                })
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn date_prefixes_and_precision() {
        let obs = json!({"effectiveDateTime": "2024-05-10T10:00:00Z"});
        let c = |v: &str| {
            Criterion::parse("Observation", "date", v)
                .unwrap()
                .matches(&obs, 0)
        };
        assert!(c("2024") && c("2024-05") && c("2024-05-10") && c("eq2024-05"));
        assert!(!c("2024-06") && c("ne2024-06"));
        assert!(c("gt2024-05-09") && !c("gt2024-05-10") && c("ge2024-05-10"));
        assert!(c("lt2024-05-11") && !c("lt2024-05-10") && c("le2024-05-10"));
        assert!(c("sa2024-05-09") && c("eb2024-05-11") && !c("sa2024-05-10"));
        assert!(c("ap2024-05-11"));
    }

    #[test]
    fn tokens_references_and_strings() {
        let obs = json!({
            "category": [{"coding": [{"system": "http://x", "code": "laboratory"}]}],
            "subject": {"reference": "Patient/123"},
            "status": "final",
        });
        let m = |k: &str, v: &str| {
            Criterion::parse("Observation", k, v)
                .unwrap()
                .matches(&obs, 0)
        };
        assert!(m("category", "laboratory") && m("category", "http://x|laboratory"));
        assert!(!m("category", "|laboratory") && m("category", "http://x|"));
        assert!(m("status", "final") && m("status", "|final") && m("status", "amended,final"));
        assert!(m("patient", "123") && m("patient", "Patient/123"));
        assert!(m("patient", "http://h/fhir/Patient/123") && !m("patient", "Group/123"));
        let pt = json!({"name": [{"use": "official", "family": "Núñez", "given": ["José"]}]});
        let s = |k: &str, v: &str| Criterion::parse("Patient", k, v).unwrap().matches(&pt, 0);
        assert!(s("name", "nun") && s("family", "NUÑ") && s("given", "jose"));
        assert!(s("name:exact", "Núñez") && !s("name:exact", "nunez") && !s("name", "official"));
    }
}
