//! Reading a FHIR request's parameters, shared by searches and Bulk kick-offs:
//! the query string as pairs, and a body read under the profile's size limit.

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, Uri};

use super::outcome::FhirError;

/// The query string's parameters, percent-decoded, in order.
pub(crate) fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default()
}

/// The whole body, or 413 `too-costly` when it exceeds `max_bytes`.
pub(crate) async fn limited_body(body: Body, max_bytes: u64) -> Result<Bytes, FhirError> {
    let limit = usize::try_from(max_bytes).unwrap_or(usize::MAX);
    axum::body::to_bytes(body, limit).await.map_err(|_| {
        FhirError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-costly",
            format!("The request body exceeds {limit} bytes"),
        )
    })
}
