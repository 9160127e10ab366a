//! A realtime client as the realtime hooks see it (`e.client` in `onRealtimeConnectRequest`,
//! `onRealtimeSubscribeRequest`, `onRealtimeMessageSend`) and how the changes a handler made
//! to it are applied back to the broker.
//!
//! The event carries `{id, subscriptions: {key: {query, headers}}, store, discarded, outbox}`.
//! The store holds PocketBase's reserved keys too (`auth`, `pbRealtimeClientIP`), read-only:
//! the auth binding changes only through a subscribe request, as in PocketBase.

use serde_json::{json, Map, Value};
use std::sync::Arc;

use super::{Broker, Client, Message};

/// PocketBase's client store key of the bound auth record.
pub const AUTH_KEY: &str = "auth";
/// PocketBase's client store key of the IP that opened the stream.
pub const IP_KEY: &str = "pbRealtimeClientIP";

/// The client's state as hook event data.
pub fn to_json(client: &Client) -> Value {
    let st = client.state.lock();
    let subs: Map<String, Value> = st
        .subscriptions
        .iter()
        .map(|s| (s.key.to_string(), json!({"query": s.query, "headers": s.headers})))
        .collect();
    let mut store = st.store.clone();
    store.insert(AUTH_KEY.into(), st.auth.as_deref().map(crate::app_api::full_json).unwrap_or(Value::Null));
    store.insert(IP_KEY.into(), Value::String(client.ip.clone()));
    json!({"id": &*client.id, "subscriptions": subs, "store": store, "discarded": false, "outbox": []})
}

/// Applies what handlers did to `e.client`: subscriptions (the auth stays bound), store
/// values, queued messages (`e.client.send(...)`) and `discard()`.
pub fn apply(broker: &Broker, client: &Arc<Client>, ev: &Value) {
    let Some(c) = ev.as_object() else { return };
    if let Some(Value::Object(subs)) = c.get("subscriptions") {
        let keys: Vec<String> = subs.keys().cloned().collect();
        let unchanged = {
            let st = client.state.lock();
            st.subscriptions.len() == keys.len() && st.subscriptions.iter().zip(&keys).all(|(s, k)| &*s.key == k.as_str())
        };
        if !unchanged {
            let auth = client.state.lock().auth.as_deref().cloned();
            broker.set_subscriptions(client, auth, &keys);
        }
    }
    if let Some(Value::Object(store)) = c.get("store") {
        let mut store = store.clone();
        store.remove(AUTH_KEY);
        store.remove(IP_KEY);
        client.state.lock().store = store;
    }
    if let Some(Value::Array(out)) = c.get("outbox") {
        for m in out {
            let name = m.get("name").and_then(Value::as_str).unwrap_or_default();
            let data = message_data(m.get("data"));
            let _ = broker.send(client, Message { name: Arc::from(name), data: Arc::from(data) });
        }
    }
    if c.get("discarded").and_then(Value::as_bool) == Some(true) {
        broker.unregister(&client.id);
    }
}

/// A message's data as hooks may set it: a string, bytes (an array of numbers, as Go's
/// `[]byte` appears in JS) or any other JSON value (sent as JSON).
pub fn message_data(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) if items.iter().all(|b| b.as_u64().is_some_and(|n| n < 256)) => {
            String::from_utf8_lossy(&items.iter().filter_map(|b| b.as_u64().map(|n| n as u8)).collect::<Vec<u8>>()).into_owned()
        }
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handler_changes_are_applied() {
        let b = Broker::default();
        let (c, mut rx) = b.register("1.2.3.4".into()).unwrap();
        b.set_subscriptions(&c, None, &["posts/*".into()]);
        let mut ev = to_json(&c);
        assert_eq!(ev["store"][IP_KEY], "1.2.3.4");
        assert!(ev["subscriptions"]["posts/*"].is_object());
        ev["subscriptions"] = json!({"posts/*": {}, "notes?options={\"query\":{\"fields\":\"id\"}}": {}});
        ev["store"]["seen"] = json!(3);
        ev["store"][IP_KEY] = json!("forged");
        ev["outbox"] = json!([{"name": "hello", "data": [104, 105]}]);
        apply(&b, &c, &ev);
        let st = c.state.lock();
        assert_eq!(st.subscriptions.len(), 2);
        assert_eq!(st.subscriptions[1].query_str("fields"), "id");
        assert_eq!(st.store.get("seen"), Some(&json!(3)));
        assert!(!st.store.contains_key(IP_KEY), "reserved keys are not stored");
        drop(st);
        let m = rx.try_recv().unwrap();
        assert_eq!((&*m.name, &*m.data), ("hello", "hi"));
        apply(&b, &c, &json!({"discarded": true}));
        assert!(b.client(&c.id).is_none());
    }

    #[test]
    fn message_data_forms() {
        assert_eq!(message_data(Some(&json!("x"))), "x");
        assert_eq!(message_data(Some(&json!({"a": 1}))), "{\"a\":1}");
        assert_eq!(message_data(None), "");
    }
}
