//! The request hooks shared by the API families (`onRecordsListRequest`,
//! `onCollectionCreateRequest`, `onSettingsUpdateRequest`, ...): each wraps its endpoint's
//! action. Handlers may change the event before `e.next()`, stop the chain by throwing (the
//! error is the response) or answer themselves without `e.next()`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pocketbun_core::ApiError;
use pocketbun_wasm::{CoreError, DefaultAction, PluginHost};
use serde_json::{Map, Value};
use std::sync::Arc;

use crate::http::context::Ctx;
use crate::http::error::{HttpError, HttpResult};
use crate::plugin_hooks::api_error;
use crate::plugins::{request_event, to_response};

/// How a request hook chain ended.
pub enum Ended {
    /// A handler wrote the response itself.
    Answered(Response),
    /// The chain ran through `e.next()`: the event as it came back.
    Next(Value),
    /// A handler neither called `e.next()` nor answered: an empty 200, like an unwritten
    /// Go response.
    Stopped,
}

impl Ended {
    /// The response: the handler's own, an empty 200, or `next` of the final event.
    pub fn respond(self, next: impl FnOnce(Value) -> HttpResult) -> HttpResult {
        match self {
            Ended::Answered(res) => Ok(res),
            Ended::Stopped => Ok(StatusCode::OK.into_response()),
            Ended::Next(ev) => next(ev),
        }
    }
}

/// The plugin host when it has handlers of hook `name` for any of `tags` (an empty `tags`
/// matches the untagged subscriptions).
pub fn subscribed(ctx: &Ctx, name: &str, tags: &[&str]) -> Option<Arc<PluginHost>> {
    ctx.plugins.clone().filter(|h| h.has_hooks(name, tags))
}

pub fn core_err(e: ApiError) -> CoreError {
    CoreError { status: e.status, message: e.message, data: e.data }
}

/// A default action that leaves the event as it is (hooks around a response).
pub fn identity() -> DefaultAction {
    Box::new(|ev| Box::pin(async move { Ok(ev) }))
}

/// Runs the handlers of `name` with `event` plus the request (`path` and its parsed `body`).
#[allow(clippy::too_many_arguments)]
pub async fn run(ctx: &Ctx, host: &PluginHost, name: &str, tags: &[&str], path: String, body: &Map<String, Value>, mut event: Map<String, Value>, default: DefaultAction) -> Result<Ended, HttpError> {
    event.insert("request".into(), request_event(ctx, path, body));
    let outcome = host.run_hook(name, tags, Value::Object(event), default).await.map_err(|e| HttpError(api_error(e)))?;
    Ok(match (outcome.response, outcome.default_ran) {
        (Some(res), _) => Ended::Answered(to_response(res)),
        (None, true) => Ended::Next(outcome.event),
        (None, false) => Ended::Stopped,
    })
}
