//! JSON responses, with `?fields=` picking applied to every 2xx body.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use pocketbun_core::fields_picker::FieldsPicker;
use pocketbun_core::ApiError;
use serde_json::Value;

use super::error::HttpResult;

pub fn raw_json(status: StatusCode, body: String) -> Response {
    let mut res = (status, body).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

/// A 200 JSON response with the request's `fields` parameter applied.
pub fn json_picked(fields: Option<&str>, mut body: Value, is_list: bool) -> HttpResult {
    if let Some(raw) = fields {
        if let Some(picker) = FieldsPicker::parse(raw).map_err(ApiError::bad_request)? {
            picker.apply(&mut body, is_list);
        }
    }
    Ok(raw_json(StatusCode::OK, body.to_string()))
}

pub fn json_ok(body: Value) -> Response {
    raw_json(StatusCode::OK, body.to_string())
}

pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}
