//! PocketBase's per-method auth request hooks (`onRecordAuthWithPasswordRequest`,
//! `onRecordRequestOTPRequest`, `onRecordConfirmVerificationRequest`, ...); the file hooks
//! (apis/files.rs) use the same wrapper.
//!
//! As in PocketBase, each hook fires after the endpoint validated its form and found the
//! record, and wraps the endpoint's action (for sign-ins, that includes the common auth
//! response and so `onRecordAuthRequest`). Handlers may change `e.record` and the other
//! event keys before `e.next()` (the action uses them), throw to abort with that error, or
//! answer themselves.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pocketbun_core::app_api;
use pocketbun_core::db::DbScope;
use pocketbun_core::model::Collection;
use pocketbun_core::record::{hooked, Record};
use pocketbun_core::{ApiResult, App};
use pocketbun_wasm::DefaultAction;
use serde_json::{Map, Value};
use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::http::context::Ctx;
use crate::http::error::HttpResult;
use crate::record_hooks;
use crate::request_hooks::{core_err, Ended};

pub const AUTH_WITH_PASSWORD: &str = "record-auth-with-password-request";
pub const AUTH_REFRESH: &str = "record-auth-refresh-request";
pub const AUTH_WITH_OTP: &str = "record-auth-with-otp-request";
pub const AUTH_WITH_OAUTH2: &str = "record-auth-with-oauth2-request";
pub const REQUEST_OTP: &str = "record-request-otp-request";
pub const REQUEST_PASSWORD_RESET: &str = "record-request-password-reset-request";
pub const CONFIRM_PASSWORD_RESET: &str = "record-confirm-password-reset-request";
pub const REQUEST_VERIFICATION: &str = "record-request-verification-request";
pub const CONFIRM_VERIFICATION: &str = "record-confirm-verification-request";
pub const REQUEST_EMAIL_CHANGE: &str = "record-request-email-change-request";
pub const CONFIRM_EMAIL_CHANGE: &str = "record-confirm-email-change-request";

/// What an endpoint's action gets: the record and the event keys as the handlers left them
/// (without hooks: as the endpoint passed them).
pub struct Flow {
    pub record: Option<Record>,
    pub event: Map<String, Value>,
}

impl Flow {
    pub fn str(&self, key: &str) -> String {
        self.event.get(key).map(pocketbun_core::record::values::to_text).unwrap_or_default()
    }
}

/// One endpoint's hook: its name and the collection (the tags).
pub struct RequestHook<'a> {
    pub name: &'static str,
    pub collection: &'a Arc<Collection>,
}

/// `around` for the auth endpoint `/api/collections/{c}/{action}`.
pub async fn around_auth<F, Fut>(
    ctx: &Ctx,
    hook: RequestHook<'_>,
    action: &str,
    body: &Map<String, Value>,
    record: Option<Record>,
    fields: Map<String, Value>,
    act: F,
) -> HttpResult
where
    F: FnOnce(Flow) -> Fut + Send + 'static,
    Fut: Future<Output = HttpResult> + Send + 'static,
{
    let path = format!("/api/collections/{}/{action}", hook.collection.name);
    around(ctx, hook, &path, body, record, fields, act).await
}

/// Runs `act` inside the hook (directly when nobody subscribed). `fields` are the event's
/// keys besides `record`, `collection` and the request (of `path`).
pub async fn around<F, Fut>(ctx: &Ctx, hook: RequestHook<'_>, path: &str, body: &Map<String, Value>, record: Option<Record>, fields: Map<String, Value>, act: F) -> HttpResult
where
    F: FnOnce(Flow) -> Fut + Send + 'static,
    Fut: Future<Output = HttpResult> + Send + 'static,
{
    let c = hook.collection;
    let Some(host) = record_hooks::subscribed(ctx, hook.name, c) else {
        return act(Flow { record, event: fields }).await;
    };
    let mut event = fields;
    event.insert("record".into(), record.as_ref().map(app_api::full_json).unwrap_or(Value::Null));
    let answer: Arc<Mutex<Option<Response>>> = Arc::default();
    let default: DefaultAction = {
        let (app, c, answer) = (ctx.app.clone(), c.clone(), answer.clone());
        Box::new(move |ev: Value| {
            Box::pin(async move {
                let record = record_from_event(&app, &c, record, &ev).await.map_err(core_err)?;
                let event = ev.as_object().cloned().unwrap_or_default();
                let res = act(Flow { record, event }).await.map_err(|e| core_err(e.0))?;
                if let Ok(mut slot) = answer.lock() {
                    *slot = Some(res);
                }
                Ok(ev)
            })
        })
    };
    match record_hooks::run(ctx, &host, hook.name, c, path.to_string(), body, event, default).await? {
        Ended::Answered(res) => Ok(res),
        Ended::Stopped => Ok(StatusCode::OK.into_response()),
        Ended::Next(_) => Ok(answer.lock().ok().and_then(|mut s| s.take()).unwrap_or_else(|| StatusCode::OK.into_response())),
    }
}

/// The record as the handlers left `e.record`: the original with their changes, another
/// record of the collection they put there (by id), or none.
async fn record_from_event(app: &Arc<App>, c: &Arc<Collection>, original: Option<Record>, ev: &Value) -> ApiResult<Option<Record>> {
    let Some(data) = ev.get("record").and_then(Value::as_object) else { return Ok(None) };
    let id = data.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
    let mut rec = match original.filter(|r| r.id() == id) {
        Some(r) => r,
        None if id.is_empty() => return Ok(None),
        None => app_api::find_by_id(&DbScope::Pool(app.data.clone()), c.clone(), id).await?,
    };
    hooked::apply_hook_values(&mut rec, data).await?;
    Ok(Some(rec))
}
