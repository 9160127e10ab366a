//! `/api/realtime`: the SSE stream (`GET`) and the subscriptions of a client (`POST`).

use axum::body::Body;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::BytesMut;
use futures_util::stream;
use pocketbun_core::realtime::{Broker, Client, Message};
use pocketbun_core::{ApiError, FieldError, ValidationErrors};
use serde_json::Value;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::http::context::Ctx;
use crate::http::error::{HttpError, HttpResult};
use crate::http::form::read_form;
use crate::http::json::no_content;
use crate::realtime_hooks::{self, MessageHook};
use crate::request_hooks::Ended;

/// Unregisters the client when its stream is dropped (disconnect, timeout, discard).
struct Registration {
    broker: Arc<Broker>,
    client: Arc<Client>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.broker.unregister(&self.client.id);
    }
}

/// Messages written to the socket in one frame at most (a client that fell behind catches up
/// with fewer, larger writes).
const MAX_BATCH: usize = 64;

struct StreamState {
    reg: Registration,
    rx: mpsc::Receiver<Message>,
    /// PB_CONNECT, sent first.
    first: Option<Message>,
    idle: std::time::Duration,
    /// Ends the stream after `idle` without a message (moved to `last_write + idle` when it
    /// fires early, instead of being reset on every frame: a timer-wheel update per message
    /// shows up in the fan-out profile).
    idle_timer: std::pin::Pin<Box<tokio::time::Sleep>>,
    last_write: Instant,
    max_lifetime: std::pin::Pin<Box<tokio::time::Sleep>>,
    /// `onRealtimeMessageSend` handlers, when there are any at connect time.
    message_hook: Option<MessageHook>,
}

impl StreamState {
    /// The next frame: PB_CONNECT, then up to [`MAX_BATCH`] queued messages; None ends the
    /// stream (discarded client, timeouts, a message hook that threw).
    async fn next_frame(&mut self) -> Option<bytes::Bytes> {
        let client = self.reg.client.clone();
        let first = match self.first.take() {
            Some(m) => m,
            None => loop {
                tokio::select! {
                    biased;
                    _ = client.closed.notified() => return None,
                    m = self.rx.recv() => break m?,
                    _ = self.idle_timer.as_mut() => {
                        // writes only note their time; the timer catches up when it fires
                        let deadline = self.last_write + self.idle;
                        if Instant::now() >= deadline {
                            return None;
                        }
                        self.idle_timer.as_mut().reset(deadline);
                    }
                    _ = self.max_lifetime.as_mut() => return None,
                }
            },
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            let Ok(m) = self.rx.try_recv() else { break };
            batch.push(m);
        }
        let mut buf = BytesMut::new();
        for m in batch {
            let m = match &self.message_hook {
                None => m,
                Some(hook) => match hook.run(&self.reg.broker, &client, m).await {
                    Ok(Some(m)) => m,
                    Ok(None) => continue,
                    Err(()) => return None,
                },
            };
            push_sse_event(&mut buf, &client.id, &m.name, &m.data);
        }
        self.last_write = Instant::now();
        Some(buf.freeze())
    }
}

/// Appends one SSE event as axum's `Event` renders it (`id: …\nevent: …\ndata: …\n\n`, a
/// line break in the data continues it on a new `data: ` line).
fn push_sse_event(buf: &mut BytesMut, client_id: &str, name: &str, data: &str) {
    buf.reserve(client_id.len() + name.len() + data.len() + 24);
    buf.extend_from_slice(b"id: ");
    buf.extend_from_slice(client_id.as_bytes());
    buf.extend_from_slice(b"\nevent: ");
    buf.extend_from_slice(name.as_bytes());
    buf.extend_from_slice(b"\ndata: ");
    let bytes = data.as_bytes();
    let mut last = 0;
    for i in bytes.iter().enumerate().filter(|(_, b)| matches!(b, b'\n' | b'\r')).map(|(i, _)| i) {
        buf.extend_from_slice(&bytes[last..=i]);
        buf.extend_from_slice(b"data: ");
        last = i + 1;
    }
    buf.extend_from_slice(&bytes[last..]);
    buf.extend_from_slice(b"\n\n");
}

pub async fn connect(ctx: Ctx) -> Response {
    let broker = ctx.app.realtime.clone();
    let Some((client, rx)) = broker.register(ctx.real_ip()) else {
        let msg = if broker.is_shutting_down() { "The server is shutting down." } else { "Too many realtime clients." };
        return HttpError(ApiError::new(503, msg)).into_response();
    };
    let reg = Registration { broker: broker.clone(), client: client.clone() };
    let (mut idle, mut max_lifetime) = (broker.config.idle_timeout, broker.config.max_lifetime);
    if let Some(host) = realtime_hooks::subscribed(&ctx, realtime_hooks::CONNECT) {
        match realtime_hooks::connect(&ctx, &host, &broker, &client, idle, max_lifetime).await {
            Ok((Ended::Next(_), timeouts)) => (idle, max_lifetime) = timeouts,
            Ok((Ended::Answered(res), _)) => return res,
            Ok((Ended::Stopped, _)) => return sse_headers(StatusCode::OK.into_response()),
            Err(e) => return e.into_response(),
        }
    }
    tracing::debug!("realtime connection established: {}", client.id);
    let connect = Message { name: Arc::from("PB_CONNECT"), data: Arc::from(format!("{{\"clientId\":\"{}\"}}", client.id)) };
    let state = StreamState {
        first: Some(connect),
        rx,
        idle,
        idle_timer: Box::pin(tokio::time::sleep(idle)),
        last_write: Instant::now(),
        max_lifetime: Box::pin(tokio::time::sleep(max_lifetime)),
        message_hook: MessageHook::new(&ctx),
        reg,
    };
    let events = stream::unfold(state, |mut st| async move { st.next_frame().await.map(|frame| (Ok::<_, Infallible>(frame), st)) });
    sse_headers(Body::from_stream(events).into_response())
}

fn sse_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(HeaderName::from_static("x-accel-buffering"), HeaderValue::from_static("no"));
    res
}

pub async fn subscribe(ctx: Ctx, body: Body) -> HttpResult {
    let input = read_form(&ctx, body).await?;
    let client_id = match input.get("clientId") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(ApiError::bad_request("An error occurred while loading the submitted data.").into()),
    };
    let subscriptions: Vec<String> = match input.get("subscriptions") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for it in items {
                match it {
                    Value::String(s) => out.push(s.clone()),
                    _ => return Err(ApiError::bad_request("An error occurred while loading the submitted data.").into()),
                }
            }
            out
        }
        // a single string (form bodies)
        Some(Value::String(s)) => vec![s.clone()],
        Some(_) => return Err(ApiError::bad_request("An error occurred while loading the submitted data.").into()),
    };
    let broker = ctx.app.realtime.clone();
    let mut errs = ValidationErrors::new();
    if client_id.is_empty() {
        errs.add("clientId", FieldError::required());
    } else if client_id.chars().count() > 255 {
        errs.add(
            "clientId",
            FieldError::new("validation_length_out_of_range", "The length must be between 1 and 255.").param("min", 1).param("max", 255),
        );
    }
    let max = broker.config.max_subscriptions;
    if subscriptions.len() > max {
        errs.add(
            "subscriptions",
            FieldError::new("validation_length_too_long", format!("The length must be no more than {max}.")).param("max", max),
        );
    } else {
        let mut nested = ValidationErrors::new();
        for (i, s) in subscriptions.iter().enumerate() {
            if s.chars().count() > 2500 {
                nested.add(i.to_string(), FieldError::new("validation_length_too_long", "The length must be no more than 2500.").param("max", 2500));
            }
        }
        if !nested.is_empty() {
            errs.nest("subscriptions", nested);
        }
    }
    errs.into_result("Something went wrong while processing your request.")?;

    let client = broker.client(&client_id).ok_or_else(|| ApiError::not_found("Missing or invalid client id."))?;
    if !client.ip.is_empty() && client.ip != ctx.real_ip() {
        return Err(ApiError::bad_request("Invalid realtime client.").into());
    }
    {
        let st = client.state.lock();
        if let Some(bound) = &st.auth {
            let same = ctx.auth.as_ref().is_some_and(|a| a.id() == bound.id() && a.collection.id == bound.collection.id);
            if !same {
                return Err(ApiError::forbidden("The current and the previous request authorization don't match.").into());
            }
        }
    }
    if let Some(host) = realtime_hooks::subscribed(&ctx, realtime_hooks::SUBSCRIBE) {
        return realtime_hooks::subscribe(&ctx, &host, &broker, &client, &subscriptions).await?.respond(|_| Ok(no_content()));
    }
    broker.set_subscriptions(&client, ctx.auth.clone(), &subscriptions);
    Ok(no_content())
}
