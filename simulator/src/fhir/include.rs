//! `_include` and `_revinclude`: the reference search parameters of the US
//! Core types ngsim renders, as one table, and their parsing.
//!
//! A value is `Source:param` or `Source:param:Target` (FHIR R4 search §3.1.1.5.5),
//! or `*` for every reference parameter of the searched type. A value is
//! served when the profile's CapabilityStatement declares it (the type's
//! `include`/`revinclude` lists, where `*` covers every parameter of the
//! table) and the table knows it as a reference parameter. Anything else
//! (an undeclared value, a declared value that is not a reference parameter
//! such as NextGen Office's `CarePlan:category`, `:iterate`) is unsupported.

use serde_json::Value;

/// One reference search parameter: `source` resources point at `targets`
/// through the elements at `paths` (dotted; arrays are walked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefParam {
    /// The resource type that holds the reference.
    pub source: &'static str,
    /// The search parameter name.
    pub name: &'static str,
    /// Element paths holding `Reference`s.
    pub paths: &'static [&'static str],
    /// Types the parameter may point at.
    pub targets: &'static [&'static str],
}

const fn r(
    source: &'static str,
    name: &'static str,
    paths: &'static [&'static str],
    targets: &'static [&'static str],
) -> RefParam {
    RefParam {
        source,
        name,
        paths,
        targets,
    }
}

const PATIENT: &[&str] = &["Patient"];
const PRACTITIONER: &[&str] = &["Practitioner"];
const ENCOUNTER: &[&str] = &["Encounter"];
const ORGANIZATION: &[&str] = &["Organization"];
const LOCATION: &[&str] = &["Location"];
const ACTORS: &[&str] = &["Practitioner", "PractitionerRole", "Organization"];

/// The reference search parameters (FHIR R4 and US Core) over the elements
/// ngsim renders.
pub const TABLE: &[RefParam] = &[
    r("AllergyIntolerance", "patient", &["patient"], PATIENT),
    r("AllergyIntolerance", "recorder", &["recorder"], ACTORS),
    r("Appointment", "patient", &["participant.actor"], PATIENT),
    r(
        "Appointment",
        "practitioner",
        &["participant.actor"],
        PRACTITIONER,
    ),
    r("Appointment", "location", &["participant.actor"], LOCATION),
    r("CarePlan", "patient", &["subject"], PATIENT),
    r("CarePlan", "subject", &["subject"], PATIENT),
    r("CarePlan", "goal", &["goal"], &["Goal"]),
    r("CarePlan", "condition", &["addresses"], &["Condition"]),
    r("CareTeam", "patient", &["subject"], PATIENT),
    r("CareTeam", "subject", &["subject"], PATIENT),
    r("CareTeam", "participant", &["participant.member"], ACTORS),
    r("Condition", "patient", &["subject"], PATIENT),
    r("Condition", "subject", &["subject"], PATIENT),
    r("Condition", "asserter", &["asserter"], ACTORS),
    r("Condition", "encounter", &["encounter"], ENCOUNTER),
    r("Consent", "patient", &["patient"], PATIENT),
    r("Consent", "organization", &["organization"], ORGANIZATION),
    r("Coverage", "patient", &["beneficiary"], PATIENT),
    r("Coverage", "beneficiary", &["beneficiary"], PATIENT),
    r("Coverage", "payor", &["payor"], ORGANIZATION),
    r("Device", "patient", &["patient"], PATIENT),
    r("DiagnosticReport", "patient", &["subject"], PATIENT),
    r("DiagnosticReport", "subject", &["subject"], PATIENT),
    r("DiagnosticReport", "performer", &["performer"], ACTORS),
    r("DiagnosticReport", "result", &["result"], &["Observation"]),
    r("DiagnosticReport", "encounter", &["encounter"], ENCOUNTER),
    r("DocumentReference", "patient", &["subject"], PATIENT),
    r("DocumentReference", "subject", &["subject"], PATIENT),
    r("DocumentReference", "author", &["author"], ACTORS),
    r(
        "DocumentReference",
        "encounter",
        &["context.encounter"],
        ENCOUNTER,
    ),
    r("Encounter", "patient", &["subject"], PATIENT),
    r("Encounter", "subject", &["subject"], PATIENT),
    r(
        "Encounter",
        "practitioner",
        &["participant.individual"],
        PRACTITIONER,
    ),
    r(
        "Encounter",
        "participant",
        &["participant.individual"],
        &["Practitioner", "PractitionerRole", "RelatedPerson"],
    ),
    r("Encounter", "location", &["location.location"], LOCATION),
    r(
        "Encounter",
        "service-provider",
        &["serviceProvider"],
        ORGANIZATION,
    ),
    r("Goal", "patient", &["subject"], PATIENT),
    r("Goal", "subject", &["subject"], PATIENT),
    r("Group", "member", &["member.entity"], PATIENT),
    r("Immunization", "patient", &["patient"], PATIENT),
    r("Immunization", "performer", &["performer.actor"], ACTORS),
    r("Immunization", "location", &["location"], LOCATION),
    r(
        "Location",
        "organization",
        &["managingOrganization"],
        ORGANIZATION,
    ),
    r("MedicationRequest", "patient", &["subject"], PATIENT),
    r("MedicationRequest", "subject", &["subject"], PATIENT),
    r(
        "MedicationRequest",
        "medication",
        &["medicationReference"],
        &["Medication"],
    ),
    r("MedicationRequest", "requester", &["requester"], ACTORS),
    r("MedicationRequest", "encounter", &["encounter"], ENCOUNTER),
    r("MedicationStatement", "patient", &["subject"], PATIENT),
    r("MedicationStatement", "subject", &["subject"], PATIENT),
    r(
        "MedicationStatement",
        "medication",
        &["medicationReference"],
        &["Medication"],
    ),
    r("Observation", "patient", &["subject"], PATIENT),
    r("Observation", "subject", &["subject"], PATIENT),
    r("Observation", "performer", &["performer"], ACTORS),
    r("Observation", "encounter", &["encounter"], ENCOUNTER),
    r("Organization", "partof", &["partOf"], ORGANIZATION),
    r(
        "Patient",
        "general-practitioner",
        &["generalPractitioner"],
        ACTORS,
    ),
    r(
        "Patient",
        "organization",
        &["managingOrganization"],
        ORGANIZATION,
    ),
    r(
        "PractitionerRole",
        "practitioner",
        &["practitioner"],
        PRACTITIONER,
    ),
    r(
        "PractitionerRole",
        "organization",
        &["organization"],
        ORGANIZATION,
    ),
    r("PractitionerRole", "location", &["location"], LOCATION),
    r("Procedure", "patient", &["subject"], PATIENT),
    r("Procedure", "subject", &["subject"], PATIENT),
    r("Procedure", "performer", &["performer.actor"], ACTORS),
    r("Procedure", "encounter", &["encounter"], ENCOUNTER),
    r("ServiceRequest", "patient", &["subject"], PATIENT),
    r("ServiceRequest", "subject", &["subject"], PATIENT),
    r("ServiceRequest", "requester", &["requester"], ACTORS),
    r("ServiceRequest", "encounter", &["encounter"], ENCOUNTER),
    r("Specimen", "patient", &["subject"], PATIENT),
    r("Specimen", "subject", &["subject"], PATIENT),
    r("Provenance", "target", &["target"], &["*"]),
    r("Provenance", "agent", &["agent.who"], ACTORS),
];

/// The table entry for `source:name`.
pub fn lookup(source: &str, name: &str) -> Option<&'static RefParam> {
    TABLE.iter().find(|p| p.source == source && p.name == name)
}

/// A parsed, supported `_include` or `_revinclude`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Include {
    /// The reference parameter.
    pub param: &'static RefParam,
    /// The `:Target` restriction, if given.
    pub target: Option<&'static str>,
}

impl Include {
    /// Whether a reference to a `ty` resource is followed.
    pub fn follows(&self, ty: &str) -> bool {
        match self.target {
            Some(t) => t == ty,
            None => self.param.targets.iter().any(|t| *t == "*" || *t == ty),
        }
    }
}

/// Parse `value` of `_include` on a search of `ty` against the profile's
/// declared list: `None` when unsupported.
pub fn parse_include(ty: &str, value: &str, declared: &[String]) -> Option<Vec<Include>> {
    if value == "*" {
        if !declared.iter().any(|d| d == "*") {
            return None;
        }
        return Some(
            TABLE
                .iter()
                .filter(|p| p.source == ty)
                .map(|param| Include {
                    param,
                    target: None,
                })
                .collect(),
        );
    }
    let inc = parse_one(value)?;
    let wildcard = declared.iter().any(|d| d == "*");
    let named = declared
        .iter()
        .any(|d| d == value || d == &format!("{}:{}", inc.param.source, inc.param.name));
    (inc.param.source == ty && (named || wildcard)).then(|| vec![inc])
}

/// Parse `value` of `_revinclude` on a search of `ty`: `None` when
/// unsupported (undeclared, unknown, or not able to point at `ty`).
pub fn parse_revinclude(ty: &str, value: &str, declared: &[String]) -> Option<Include> {
    let inc = parse_one(value)?;
    let named = declared
        .iter()
        .any(|d| d == value || d == &format!("{}:{}", inc.param.source, inc.param.name));
    (named && inc.follows(ty)).then_some(inc)
}

fn parse_one(value: &str) -> Option<Include> {
    let mut parts = value.split(':');
    let source = parts.next()?;
    let name = parts.next()?;
    let target = parts.next();
    if parts.next().is_some() {
        return None;
    }
    let param = lookup(source, name)?;
    let target = match target {
        None => None,
        Some(t) => {
            let known = param.targets.iter().copied().find(|x| *x == t);
            let any = param.targets.contains(&"*");
            Some(known.or_else(|| any.then(|| known_type(t)).flatten())?)
        }
    };
    Some(Include { param, target })
}

/// A `'static` spelling of a known resource type name (for `Provenance:target:X`).
fn known_type(t: &str) -> Option<&'static str> {
    TABLE.iter().map(|p| p.source).find(|s| *s == t)
}

/// Every reference (`Type/id`, split) `resource` holds through `param`.
pub fn references<'a>(resource: &'a Value, param: &RefParam) -> Vec<(&'a str, &'a str)> {
    let mut out = Vec::new();
    for path in param.paths {
        let mut nodes = vec![resource];
        for seg in path.split('.') {
            let mut next = Vec::new();
            for n in nodes {
                match n.get(seg) {
                    Some(Value::Array(a)) => next.extend(a.iter()),
                    Some(v) => next.push(v),
                    None => {}
                }
            }
            nodes = next;
        }
        for n in nodes {
            let Some(r) = n.get("reference").and_then(Value::as_str) else {
                continue;
            };
            let r = r.rsplit_once("/_history/").map_or(r, |(a, _)| a);
            let mut it = r.rsplitn(2, '/');
            if let (Some(id), Some(ty_part)) = (it.next(), it.next()) {
                let ty = ty_part.rsplit('/').next().unwrap_or(ty_part);
                out.push((ty, id));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decl(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn declared_reference_parameters_are_supported() {
        let d = decl(&["MedicationRequest:medication", "MedicationRequest:patient"]);
        let inc = parse_include("MedicationRequest", "MedicationRequest:medication", &d).unwrap();
        assert_eq!(inc[0].param.name, "medication");
        assert!(parse_include("MedicationRequest", "MedicationRequest:requester", &d).is_none());
        assert!(parse_include("Observation", "MedicationRequest:patient", &d).is_none());
    }

    #[test]
    fn a_declared_non_reference_parameter_is_unsupported() {
        let d = decl(&["CarePlan:category", "CarePlan:patient"]);
        assert!(parse_include("CarePlan", "CarePlan:category", &d).is_none());
        assert!(parse_include("CarePlan", "CarePlan:patient", &d).is_some());
    }

    #[test]
    fn wildcard_declared_covers_every_reference_parameter() {
        let d = decl(&["*"]);
        let all = parse_include("Encounter", "*", &d).unwrap();
        assert!(all.iter().any(|i| i.param.name == "practitioner"));
        assert!(parse_include("Encounter", "Encounter:location", &d).is_some());
        assert!(parse_include("Encounter", "*", &decl(&["Encounter:patient"])).is_none());
    }

    #[test]
    fn target_restriction_and_iterate() {
        let d = decl(&["Encounter:participant"]);
        let inc = parse_include("Encounter", "Encounter:participant:Practitioner", &d).unwrap();
        assert_eq!(inc[0].target, Some("Practitioner"));
        assert!(parse_include("Encounter", "Encounter:participant:Patient", &d).is_none());
        assert!(parse_include("Encounter", "Encounter:participant:Practitioner:x", &d).is_none());
    }

    #[test]
    fn revinclude_must_point_at_the_searched_type() {
        let d = decl(&["Provenance:target"]);
        assert!(parse_revinclude("Observation", "Provenance:target", &d).is_some());
        assert!(parse_revinclude("Observation", "Provenance:agent", &d).is_none());
        let d = decl(&["Observation:encounter"]);
        assert!(parse_revinclude("Encounter", "Observation:encounter", &d).is_some());
        assert!(parse_revinclude("Patient", "Observation:encounter", &d).is_none());
    }

    #[test]
    fn references_walk_arrays_and_nested_elements() {
        let enc = json!({
            "resourceType": "Encounter",
            "participant": [
                {"individual": {"reference": "Practitioner/p1"}},
                {"individual": {"reference": "https://x/fhir/Practitioner/p2/_history/3"}},
            ],
            "subject": {"reference": "Patient/a"},
        });
        let p = lookup("Encounter", "practitioner").unwrap();
        assert_eq!(
            references(&enc, p),
            vec![("Practitioner", "p1"), ("Practitioner", "p2")]
        );
        assert_eq!(
            references(&enc, lookup("Encounter", "patient").unwrap()),
            vec![("Patient", "a")]
        );
    }
}
