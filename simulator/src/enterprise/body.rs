//! Request bodies: the profile's size limit (413), JSON media type (415) and
//! syntax (400), in NextGen's error shape.

use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde_json::Value;

use super::error::ApiError;
use crate::server::AppState;

/// A JSON request body, parsed after the size and media-type checks.
#[derive(Debug, Clone)]
pub struct JsonBody(pub Value);

fn too_large(limit: u64) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "The request body is larger than the {limit} bytes this API accepts."
    ))
}

impl FromRequest<AppState> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let limit = state.profile().enterprise.max_body_bytes;
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit) {
            return Err(too_large(limit));
        }
        if let Some(ct) = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
        {
            let mime = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if !(mime == "application/json" || mime.ends_with("+json") || mime == "text/json") {
                return Err(ApiError::UnsupportedMediaType(format!(
                    "The request entity's media type '{mime}' is not supported for this resource."
                )));
            }
        }
        let cap = usize::try_from(limit).unwrap_or(usize::MAX);
        let bytes = axum::body::to_bytes(req.into_body(), cap)
            .await
            .map_err(|_| too_large(limit))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::bad_request(
                "The request is invalid.\r\nThe request body is required.",
            ));
        }
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| {
            ApiError::bad_request(format!(
                "The request is invalid.\r\nThe request body is not valid JSON: {e}."
            ))
        })
    }
}
