//! NextGen's error shapes: ASP.NET Web API `{"message": …}` for 400/404/405/409/413/415,
//! plain text for 401, an empty body for 403 (and some 404s).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An Enterprise API error, rendered in NextGen's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 400 `{"message": …}`.
    BadRequest(String),
    /// 401 `text/plain` `invalid access token`.
    Unauthorized,
    /// 403 with an empty body (GSA-prohibited routes).
    Forbidden,
    /// 404: `Some` renders `{"message": …}`, `None` an empty body (NextGen does both).
    NotFound(Option<String>),
    /// 405 `{"message": …}` with `Allow`.
    MethodNotAllowed {
        /// The method used.
        method: String,
        /// The methods the route allows, comma separated.
        allow: String,
    },
    /// 409 `{"message": …}`.
    Conflict(String),
    /// 413 `{"message": …}`.
    PayloadTooLarge(String),
    /// 415 `{"message": …}`.
    UnsupportedMediaType(String),
}

impl ApiError {
    /// A 400 with this message.
    pub fn bad_request(msg: impl Into<String>) -> ApiError {
        ApiError::BadRequest(msg.into())
    }

    /// The 400 NextGen gives for an id that is not a GUID.
    pub fn bad_guid(value: &str) -> ApiError {
        ApiError::BadRequest(format!("The value '{value}' is not valid for Guid."))
    }

    /// The 400 for a missing, malformed or mismatched `x-ng-sessionid`.
    pub fn session(detail: &str) -> ApiError {
        ApiError::BadRequest(format!(
            "Invalid or missing session: {detail}. Call PUT users/me/login-defaults and send the x-ng-sessionid header it returns."
        ))
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        }
    }
}

/// `{"message": msg}` with a status.
pub fn message(status: StatusCode, msg: &str) -> Response {
    (status, axum::Json(json!({ "message": msg }))).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match self {
            ApiError::BadRequest(m)
            | ApiError::NotFound(Some(m))
            | ApiError::Conflict(m)
            | ApiError::PayloadTooLarge(m)
            | ApiError::UnsupportedMediaType(m) => message(status, &m),
            ApiError::Unauthorized => (
                status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "invalid access token",
            )
                .into_response(),
            ApiError::Forbidden | ApiError::NotFound(None) => status.into_response(),
            ApiError::MethodNotAllowed { method, allow } => {
                let mut r = message(
                    status,
                    &format!("The requested resource does not support http method '{method}'."),
                );
                // Empty when the route table does not know the route (axum's own
                // `Allow` is lost under the layers).
                if let Some(v) = HeaderValue::from_str(&allow)
                    .ok()
                    .filter(|_| !allow.is_empty())
                {
                    r.headers_mut().insert(header::ALLOW, v);
                }
                r
            }
        }
    }
}
