//! OperationOutcome bodies and FHIR error responses.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The FHIR JSON media type.
pub const FHIR_JSON: &str = "application/fhir+json";

#[derive(Serialize)]
struct Outcome<'a> {
    #[serde(rename = "resourceType")]
    resource_type: &'static str,
    issue: [Issue<'a>; 1],
}

#[derive(Serialize)]
struct Issue<'a> {
    severity: &'a str,
    code: &'a str,
    diagnostics: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    expression: Option<[&'a str; 1]>,
}

/// An OperationOutcome with one issue, as JSON text.
pub fn json(severity: &str, code: &str, diagnostics: &str, expression: Option<&str>) -> String {
    serde_json::to_string(&Outcome {
        resource_type: "OperationOutcome",
        issue: [Issue {
            severity,
            code,
            diagnostics,
            expression: expression.map(|e| [e]),
        }],
    })
    .unwrap_or_default()
}

/// A FHIR error: status plus a one-issue OperationOutcome.
#[derive(Debug, Clone)]
pub struct FhirError {
    /// HTTP status.
    pub status: StatusCode,
    /// Issue type code (`not-found`, `forbidden`, `invalid`, …).
    pub code: &'static str,
    /// Diagnostics text.
    pub diagnostics: String,
}

impl FhirError {
    /// Build an error.
    pub fn new(status: StatusCode, code: &'static str, d: impl Into<String>) -> FhirError {
        FhirError {
            status,
            code,
            diagnostics: d.into(),
        }
    }
}

impl IntoResponse for FhirError {
    fn into_response(self) -> Response {
        fhir_response(
            self.status,
            json("error", self.code, &self.diagnostics, None),
        )
    }
}

/// A response with the FHIR JSON content type.
pub fn fhir_response(status: StatusCode, body: impl Into<axum::body::Body>) -> Response {
    let mut r = Response::new(body.into());
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/fhir+json;charset=utf-8"),
    );
    r
}
