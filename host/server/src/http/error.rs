//! Turning core errors into PocketBase's JSON error responses.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pocketbun_core::ApiError;

/// Newtype so core errors can be returned from axum handlers.
#[derive(Debug)]
pub struct HttpError(pub ApiError);

impl From<ApiError> for HttpError {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::BAD_REQUEST);
        super::json::raw_json(status, self.0.to_json().to_string())
    }
}

pub type HttpResult<T = Response> = Result<T, HttpError>;
