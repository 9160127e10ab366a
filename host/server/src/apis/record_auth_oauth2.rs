//! `auth-with-oauth2` and the OAuth2 part of `auth-methods`.
//!
//! Implemented so far: the request checks (collection enabled, form validation). The provider
//! adapters and the code exchange are not implemented yet: a valid request is answered with a
//! 400 that says so instead of pretending the provider failed.

use axum::body::Body;
use axum::extract::Path;
use pocketbun_core::model::Collection;
use pocketbun_core::{ApiError, FieldError, ValidationErrors};
use serde_json::Value;

use super::record_auth::{auth_collection, form_str};
use crate::http::context::Ctx;
use crate::http::error::HttpResult;
use crate::http::form::{read_form, LOAD_FAILED};

/// The providers listed by `auth-methods` (none until the provider adapters exist).
pub fn provider_list(_ctx: &Ctx, _c: &Collection) -> Vec<Value> {
    vec![]
}

fn provider_configured(c: &Collection, name: &str) -> bool {
    c.option("oauth2", "providers")
        .as_array()
        .is_some_and(|ps| ps.iter().any(|p| p.get("name").and_then(Value::as_str) == Some(name)))
}

pub async fn auth_with_oauth2(ctx: Ctx, Path(coll): Path<String>, body: Body) -> HttpResult {
    let c = auth_collection(&ctx, &coll)?;
    if c.option("oauth2", "enabled").as_bool() != Some(true) {
        return Err(ApiError::forbidden("The collection is not configured to allow OAuth2 authentication.").into());
    }
    let input = read_form(&ctx, body).await?;
    let (provider, code) = (form_str(&input, "provider"), form_str(&input, "code"));
    let mut errs = ValidationErrors::new();
    if provider.is_empty() {
        errs.add("provider", FieldError::required());
    } else if provider.chars().count() > 100 {
        errs.add("provider", FieldError::new("validation_length_too_long", "The length must be no more than 100.").param("max", 100));
    } else if !provider_configured(&c, &provider) {
        errs.add(
            "provider",
            FieldError::new("validation_invalid_provider", format!("Provider with name {provider} is missing or is not enabled."))
                .param("name", provider.clone()),
        );
    }
    if code.is_empty() {
        errs.add("code", FieldError::required());
    }
    errs.into_result(LOAD_FAILED)?;
    Err(ApiError::bad_request("OAuth2 code exchange is not implemented yet.").into())
}
