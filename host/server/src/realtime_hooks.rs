//! PocketBase's realtime hooks: `onRealtimeConnectRequest`, `onRealtimeSubscribeRequest` and
//! `onRealtimeMessageSend`, with `e.client` (see `pocketbun_core::realtime::hook_client`).
//!
//! One difference from PocketBase, forced by the sandbox: there, the connect hook's
//! `e.next()` returns only when the SSE connection ends; here it returns once the stream is
//! set up (a pooled Wasm instance can't be held for the lifetime of a connection), so code
//! after `e.next()` runs at connect time.

use pocketbun_core::realtime::{hook_client, Broker, Client, Message};
use pocketbun_wasm::{DefaultAction, PluginHost};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Duration;

use crate::http::context::Ctx;
use crate::http::error::HttpError;
use crate::plugin_hooks::api_error;
use crate::plugins::request_event;
use crate::request_hooks::{self, identity, Ended};

pub const CONNECT: &str = "realtime-connect-request";
pub const SUBSCRIBE: &str = "realtime-subscribe-request";
pub const MESSAGE_SEND: &str = "realtime-message-send";

/// The plugin host when it has handlers of realtime hook `name` (untagged, as in PocketBase).
pub fn subscribed(ctx: &Ctx, name: &str) -> Option<Arc<PluginHost>> {
    request_hooks::subscribed(ctx, name, &[])
}

/// The event's `client` changes applied to the broker (before the default action and again
/// for what handlers did after `e.next()`).
fn apply_client(broker: &Broker, client: &Arc<Client>, ev: &mut Value) {
    if let Some(c) = ev.get_mut("client") {
        hook_client::apply(broker, client, c);
        // handlers after `e.next()` see the client as it is now (and an empty outbox)
        *c = hook_client::to_json(client);
    }
}

fn nanos(d: Duration) -> Value {
    json!(d.as_nanos() as u64)
}

fn duration(v: Option<&Value>, default: Duration) -> Duration {
    v.and_then(Value::as_f64).filter(|n| *n > 0.0).map(|n| Duration::from_nanos(n as u64)).unwrap_or(default)
}

/// `onRealtimeConnectRequest` (`e.client`, `e.idleTimeout`, `e.maxTimeout` in nanoseconds,
/// as Go's durations): `Next` carries the timeouts the handlers left.
pub async fn connect(ctx: &Ctx, host: &PluginHost, broker: &Arc<Broker>, client: &Arc<Client>, idle: Duration, max: Duration) -> Result<(Ended, (Duration, Duration)), HttpError> {
    let mut event = Map::new();
    event.insert("client".into(), hook_client::to_json(client));
    event.insert("idleTimeout".into(), nanos(idle));
    event.insert("maxTimeout".into(), nanos(max));
    let (b, c) = (broker.clone(), client.clone());
    let default: DefaultAction = Box::new(move |ev| {
        Box::pin(async move {
            let mut ev = ev;
            apply_client(&b, &c, &mut ev);
            Ok(ev)
        })
    });
    let mut ended = request_hooks::run(ctx, host, CONNECT, &[], "/api/realtime".into(), &Map::new(), event, default).await?;
    let mut timeouts = (idle, max);
    if let Ended::Next(ev) = &mut ended {
        apply_client(broker, client, ev);
        timeouts = (duration(ev.get("idleTimeout"), idle), duration(ev.get("maxTimeout"), max));
    }
    Ok((ended, timeouts))
}

/// `onRealtimeSubscribeRequest` (`e.client`, `e.subscriptions`): the default action binds the
/// request's auth and replaces the client's subscriptions with `e.subscriptions`.
pub async fn subscribe(ctx: &Ctx, host: &PluginHost, broker: &Arc<Broker>, client: &Arc<Client>, subscriptions: &[String]) -> Result<Ended, HttpError> {
    let body = json!({"clientId": &*client.id, "subscriptions": subscriptions});
    let mut event = Map::new();
    event.insert("client".into(), hook_client::to_json(client));
    event.insert("subscriptions".into(), json!(subscriptions));
    let (b, c, auth) = (broker.clone(), client.clone(), ctx.auth.clone());
    let default: DefaultAction = Box::new(move |ev| {
        Box::pin(async move {
            let mut ev = ev;
            apply_client(&b, &c, &mut ev);
            let subs: Vec<String> = ev
                .get("subscriptions")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            b.set_subscriptions(&c, auth, &subs);
            ev["client"] = hook_client::to_json(&c);
            Ok(ev)
        })
    });
    let mut ended = request_hooks::run(ctx, host, SUBSCRIBE, &[], "/api/realtime".into(), body.as_object().expect("object"), event, default).await?;
    if let Ended::Next(ev) = &mut ended {
        apply_client(broker, client, ev);
    }
    Ok(ended)
}

/// What `onRealtimeMessageSend` needs from the connect request, kept with the stream.
pub struct MessageHook {
    pub host: Arc<PluginHost>,
    pub request: Value,
}

impl MessageHook {
    pub fn new(ctx: &Ctx) -> Option<MessageHook> {
        subscribed(ctx, MESSAGE_SEND).map(|host| MessageHook { host, request: request_event(ctx, "/api/realtime".into(), &Map::new()) })
    }

    /// Runs the handlers for one outgoing message: `Ok(Some)` is what to write (handlers may
    /// change `e.message.name`/`data`), `Ok(None)` a message a handler held back (no
    /// `e.next()`), `Err` ends the connection (a handler threw, as a failed write in
    /// PocketBase).
    pub async fn run(&self, broker: &Broker, client: &Arc<Client>, msg: Message) -> Result<Option<Message>, ()> {
        let event = json!({
            "request": self.request,
            "client": hook_client::to_json(client),
            "message": {"name": &*msg.name, "data": &*msg.data},
        });
        let mut outcome = match self.host.run_hook(MESSAGE_SEND, &[], event, identity()).await {
            Ok(o) => o,
            Err(e) => {
                tracing::debug!("realtime message to {} not sent: {:?}", client.id, api_error(e).message);
                return Err(());
            }
        };
        apply_client(broker, client, &mut outcome.event);
        if !outcome.default_ran {
            return Ok(None);
        }
        let m = outcome.event.get("message");
        let name = m.and_then(|m| m.get("name")).and_then(Value::as_str).map(Arc::from).unwrap_or(msg.name);
        let data = Arc::from(hook_client::message_data(m.and_then(|m| m.get("data"))));
        Ok(Some(Message { name, data }))
    }
}
