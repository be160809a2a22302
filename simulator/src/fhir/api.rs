//! Read and search handlers.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::outcome::FhirError;
use crate::profile::Profile;
use crate::server::{AppState, NoteSlot};

pub(super) async fn type_level(
    _state: &AppState,
    _p: &Profile,
    _slot: &NoteSlot,
    ty: &str,
    _post_search: bool,
    req: Request,
) -> Response {
    let (parts, _body) = req.into_parts();
    if let Err(e) = crate::auth::Bearer::from_parts(&parts, _state) {
        return e.into_response();
    }
    FhirError::new(
        StatusCode::NOT_FOUND,
        "not-supported",
        format!("{ty} is not served"),
    )
    .into_response()
}

pub(super) async fn instance_level(
    _state: &AppState,
    _p: &Profile,
    _slot: &NoteSlot,
    ty: &str,
    _id: &str,
    _req: Request,
) -> Response {
    FhirError::new(
        StatusCode::NOT_FOUND,
        "not-supported",
        format!("{ty} is not served"),
    )
    .into_response()
}
