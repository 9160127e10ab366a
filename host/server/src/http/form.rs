//! Bodies of the "form" endpoints (auth, settings, sql, …): PocketBase reports any unreadable
//! body there as "An error occurred while loading the submitted data.".

use axum::body::Body;
use pocketbun_core::ApiError;
use serde_json::{Map, Value};

use super::body::{parse_body, DEFAULT_BODY_LIMIT};
use super::context::Ctx;

pub const LOAD_FAILED: &str = "An error occurred while loading the submitted data.";

pub async fn read_form(ctx: &Ctx, body: Body) -> Result<Map<String, Value>, ApiError> {
    parse_body(&ctx.headers, body, DEFAULT_BODY_LIMIT)
        .await
        .map_err(|e| if e.status == 400 && e.message != "Unsupported Content-Type." { ApiError::bad_request(LOAD_FAILED) } else { e })
}
