//! `POST /api/collections/{c}/auth-with-password`.

use axum::body::Body;
use axum::extract::Path;
use pocketbun_core::auth::hasher;
use pocketbun_core::record::persist;
use pocketbun_core::{ApiError, FieldError, ValidationErrors};

use serde_json::{Map, Value};

use super::record_auth::{auth_collection, auth_response, form_str, read_text_form};
use crate::auth_hooks::{self as hooks, RequestHook};
use crate::http::context::Ctx;
use crate::http::error::HttpResult;

pub async fn auth_with_password(ctx: Ctx, Path(coll): Path<String>, body: Body) -> HttpResult {
    let c = auth_collection(&ctx, &coll)?;
    if !c.option("passwordAuth", "enabled").as_bool().unwrap_or(false) {
        return Err(ApiError::forbidden("The collection is not configured to allow password authentication.").into());
    }
    let input = read_text_form(&ctx, body, &["identity", "password", "identityField"]).await?;
    let (identity, pass, identity_field) = (form_str(&input, "identity"), form_str(&input, "password"), form_str(&input, "identityField"));
    let mut errs = ValidationErrors::new();
    for (key, v) in [("identity", &identity), ("password", &pass)] {
        if v.is_empty() {
            errs.add(key, FieldError::required());
        } else if let Some(e) = pocketbun_core::auth::form::length(v, 1, 255) {
            errs.add(key, e);
        }
    }
    let mut fields = c.identity_fields();
    if !identity_field.is_empty() && !fields.contains(&identity_field) {
        errs.add("identityField", FieldError::new("validation_in_invalid", "Must be a valid value."));
    }
    errs.into_result("An error occurred while validating the submitted data.")?;
    if !identity_field.is_empty() {
        fields = vec![identity_field.clone()];
    } else if let Some(pos) = fields.iter().position(|f| f == "email") {
        let email = fields.remove(pos);
        fields.insert(0, email);
    }
    let c2 = c.clone();
    let ident = identity.clone();
    let found = ctx
        .app
        .data
        .read(move |conn| {
            for f in &fields {
                if f == "email" && !pocketbun_core::validate::is_email(&ident) {
                    continue;
                }
                if let Some(r) = persist::find_by_identity(conn, &c2, f, &ident)? {
                    return Ok(Some(r));
                }
            }
            Ok(None)
        })
        .await?;
    let hook = RequestHook { name: hooks::AUTH_WITH_PASSWORD, collection: &c };
    let event: Map<String, Value> = [("identity", identity), ("identityField", identity_field), ("password", pass)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), Value::String(v)))
        .collect();
    let (ctx2, input2) = (ctx.clone(), input.clone());
    hooks::around_auth(&ctx, hook, "auth-with-password", &input, found, event, move |flow| async move {
        let failed = || ApiError::bad_request("Failed to authenticate.");
        let pass = flow.str("password");
        let Some(rec) = flow.record else {
            // spend comparable time on unknown identities (no user enumeration by timing)
            hasher::verify_dummy(pass).await;
            return Err(failed().into());
        };
        if !hasher::verify(pass, rec.get_str("password").to_string()).await {
            return Err(failed().into());
        }
        auth_response(&ctx2, rec, None, "password", &input2, None).await
    })
    .await
}
