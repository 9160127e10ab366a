//! `POST /api/sql` — the superuser SQL console.

use axum::body::Body;
use pocketbun_core::sql_console::{self, MAX_QUERY_LENGTH};
use pocketbun_core::{ApiError, FieldError, ValidationErrors};

use crate::http::context::Ctx;
use crate::http::error::HttpResult;
use crate::http::form::read_form;
use crate::http::json::json_picked;

pub async fn run(ctx: Ctx, body: Body) -> HttpResult {
    ctx.require_superuser()?;
    let input = read_form(&ctx, body).await?;
    let query = input.get("query").and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let mut errs = ValidationErrors::new();
    if query.trim().is_empty() {
        errs.add("query", FieldError::required());
    } else if query.chars().count() > MAX_QUERY_LENGTH {
        errs.add(
            "query",
            FieldError::new("validation_length_out_of_range", format!("The length must be between 1 and {MAX_QUERY_LENGTH}."))
                .param("max", MAX_QUERY_LENGTH)
                .param("min", 1),
        );
    }
    errs.into_result("An error occurred while validating the submitted data.")?;
    let result = sql_console::run(&ctx.app, query).await.map_err(|e| ApiError::bad_request(e.message))?;
    json_picked(ctx.fields(), result, false)
}
