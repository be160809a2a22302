//! JSON Schemas for write bodies (`fixtures/enterprise/*.schema.json`), compiled
//! once. Body keys are first matched case-insensitively to the schema's
//! property names (ASP.NET model binding ignores case), then validated; the
//! first error becomes a 400 whose message names the field.

use std::sync::LazyLock;

use serde_json::{Map, Value};

use super::error::ApiError;

/// A write body's schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// `POST /persons`.
    PersonCreate,
    /// `PUT`/`PATCH /persons/{personId}`.
    PersonUpdate,
    /// `POST /appointments`.
    AppointmentCreate,
    /// `POST /appointments/{appointmentId}/reschedule`.
    AppointmentReschedule,
    /// `POST /appointments/{appointmentId}/cancel`.
    AppointmentCancel,
    /// `POST /persons/{personId}/chart/encounters`.
    EncounterCreate,
    /// `POST /persons/{personId}/chart/problems`.
    ProblemCreate,
    /// `POST /persons/{personId}/chart/charges`.
    ChargeCreate,
}

const SOURCES: &[(Body, &str)] = &[
    (
        Body::PersonCreate,
        include_str!("../../../fixtures/enterprise/person-create.schema.json"),
    ),
    (
        Body::PersonUpdate,
        include_str!("../../../fixtures/enterprise/person-update.schema.json"),
    ),
    (
        Body::AppointmentCreate,
        include_str!("../../../fixtures/enterprise/appointment-create.schema.json"),
    ),
    (
        Body::AppointmentReschedule,
        include_str!("../../../fixtures/enterprise/appointment-reschedule.schema.json"),
    ),
    (
        Body::AppointmentCancel,
        include_str!("../../../fixtures/enterprise/appointment-cancel.schema.json"),
    ),
    (
        Body::EncounterCreate,
        include_str!("../../../fixtures/enterprise/encounter-create.schema.json"),
    ),
    (
        Body::ProblemCreate,
        include_str!("../../../fixtures/enterprise/problem-create.schema.json"),
    ),
    (
        Body::ChargeCreate,
        include_str!("../../../fixtures/enterprise/charge-create.schema.json"),
    ),
];

struct Compiled {
    body: Body,
    schema: Value,
    validator: jsonschema::Validator,
}

static COMPILED: LazyLock<Vec<Compiled>> = LazyLock::new(|| {
    SOURCES
        .iter()
        .map(|(body, text)| {
            // The schemas are embedded and checked by tests; a broken one is a
            // build defect, not a runtime condition.
            let schema: Value = serde_json::from_str(text).expect("embedded schema is JSON");
            let validator = jsonschema::validator_for(&schema).expect("embedded schema compiles");
            Compiled {
                body: *body,
                schema,
                validator,
            }
        })
        .collect()
});

/// The schema text for a body (for `ngsim` tooling and docs).
pub fn source(body: Body) -> &'static str {
    SOURCES
        .iter()
        .find(|(b, _)| *b == body)
        .map(|(_, s)| *s)
        .unwrap_or("{}")
}

/// Rename top-level keys to the schema's casing, then validate. Returns the
/// canonicalised object.
pub fn validate(body: Body, value: Value) -> Result<Map<String, Value>, ApiError> {
    let Some(c) = COMPILED.iter().find(|c| c.body == body) else {
        return Err(ApiError::bad_request("The request is invalid."));
    };
    let Value::Object(obj) = value else {
        return Err(ApiError::bad_request(
            "The request is invalid.\r\nThe request body must be a JSON object.",
        ));
    };
    let names: Vec<&String> = c
        .schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().collect())
        .unwrap_or_default();
    let mut canon = Map::new();
    for (k, v) in obj {
        let key = names
            .iter()
            .find(|n| n.eq_ignore_ascii_case(&k))
            .map(|n| (*n).clone())
            .unwrap_or(k);
        canon.insert(key, v);
    }
    let instance = Value::Object(canon);
    if let Some(e) = c.validator.iter_errors(&instance).next() {
        let path = e.instance_path().to_string();
        let field = path.trim_start_matches('/');
        let msg = if field.is_empty() {
            format!("The request is invalid.\r\n{e}")
        } else {
            format!("The request is invalid.\r\n{field}: {e}")
        };
        return Err(ApiError::BadRequest(msg));
    }
    match instance {
        Value::Object(m) => Ok(m),
        _ => Err(ApiError::bad_request("The request is invalid.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_compiles() {
        assert_eq!(COMPILED.len(), SOURCES.len());
    }

    #[test]
    fn errors_name_the_field() {
        let e = validate(
            Body::PersonCreate,
            serde_json::json!({"lastName": "X", "FirstName": "Y", "DateOfBirth": "1990-01-01"}),
        )
        .unwrap_err();
        assert!(
            matches!(&e, ApiError::BadRequest(m) if m.contains("Sex")),
            "{e:?}"
        );
        let e = validate(
            Body::PersonCreate,
            serde_json::json!({"LastName": "X", "FirstName": "Y", "DateOfBirth": "01/02/1990", "Sex": "M"}),
        )
        .unwrap_err();
        assert!(
            matches!(&e, ApiError::BadRequest(m) if m.contains("DateOfBirth")),
            "{e:?}"
        );
        let ok = validate(
            Body::PersonCreate,
            serde_json::json!({"lastname": "X", "firstname": "Y", "dateofbirth": "1990-01-01", "sex": "F"}),
        )
        .unwrap();
        assert!(ok.contains_key("LastName"));
    }
}
