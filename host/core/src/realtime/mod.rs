//! Realtime (SSE) subscriptions: the broker of connected clients and their subscriptions,
//! record change capture ([`capture`]) and the rule-checked fan-out ([`dispatch`]).
//!
//! Every client has a bounded queue of outgoing messages: a client that does not keep up is
//! discarded (its stream ends, the SDK reconnects) instead of slowing down the writer or the
//! other clients.

pub mod capture;
pub mod dispatch;
pub mod hook_client;
pub mod memrule;

use parking_lot::{Mutex, RwLock};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Notify};

use crate::record::Record;
pub use capture::{Action, RecordChange};

/// Broker limits and timeouts.
#[derive(Debug, Clone)]
pub struct Config {
    /// Messages a client may have waiting before it is discarded as too slow.
    pub queue: usize,
    /// Connected clients at most (new connections get a 503 beyond it).
    pub max_clients: usize,
    /// Subscriptions per client at most (PocketBase's form limit).
    pub max_subscriptions: usize,
    /// The connection ends after this long without a message.
    pub idle_timeout: Duration,
    /// The connection ends after this long regardless.
    pub max_lifetime: Duration,
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

impl Default for Config {
    fn default() -> Self {
        Self {
            queue: env_num("POCKETBUN_REALTIME_QUEUE", 512).max(1) as usize,
            max_clients: env_num("POCKETBUN_REALTIME_MAX_CLIENTS", 100_000) as usize,
            max_subscriptions: 1000,
            idle_timeout: Duration::from_secs(env_num("POCKETBUN_REALTIME_IDLE_TIMEOUT", 5 * 60)),
            max_lifetime: Duration::from_secs(env_num("POCKETBUN_REALTIME_MAX_LIFETIME", 30 * 60)),
        }
    }
}

/// One SSE message: the event name and its (single line JSON) data.
#[derive(Debug, Clone)]
pub struct Message {
    pub name: Arc<str>,
    pub data: Arc<str>,
}

/// What a subscription key listens to.
#[derive(Debug, Clone, PartialEq)]
pub enum Topic {
    /// `coll` or `coll/*`: every record of the collection (listRule).
    Collection(String),
    /// `coll/id`: one record (viewRule).
    Record(String, String),
    /// Anything else (`@oauth2`, custom topics): only explicitly sent messages.
    Other,
}

/// A parsed subscription key.
#[derive(Debug)]
pub struct Subscription {
    /// The full key (the SSE event name).
    pub key: Arc<str>,
    pub topic: Topic,
    /// `options.query` (values as strings).
    pub query: Map<String, Value>,
    /// `options.headers` (names in lower snake case, values as strings).
    pub headers: Map<String, Value>,
    /// Canonical form of the options (groups subscribers with identical request data).
    pub options_key: Arc<str>,
}

fn value_to_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl Subscription {
    pub fn parse(key: &str) -> Subscription {
        let (base, raw_query) = match key.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (key, None),
        };
        let topic = match base.split_once('/') {
            None if !base.is_empty() && !base.starts_with('@') => Topic::Collection(base.to_string()),
            Some((coll, "*")) if !coll.is_empty() => Topic::Collection(coll.to_string()),
            Some((coll, id)) if !coll.is_empty() && !id.is_empty() => Topic::Record(coll.to_string(), id.to_string()),
            _ => Topic::Other,
        };
        let mut query = Map::new();
        let mut headers = Map::new();
        if let Some(raw) = raw_query {
            let options = form_urlencoded::parse(raw.as_bytes()).find(|(k, _)| k == "options").map(|(_, v)| v.into_owned());
            if let Some(Ok(Value::Object(opts))) = options.map(|o| serde_json::from_str::<Value>(&o)) {
                if let Some(Value::Object(q)) = opts.get("query") {
                    for (k, v) in q {
                        query.insert(k.clone(), Value::String(value_to_string(v)));
                    }
                }
                if let Some(Value::Object(h)) = opts.get("headers") {
                    for (k, v) in h {
                        headers.insert(k.to_ascii_lowercase().replace('-', "_"), Value::String(value_to_string(v)));
                    }
                }
            }
        }
        let options_key: Arc<str> = if query.is_empty() && headers.is_empty() {
            Arc::from("")
        } else {
            Arc::from(format!("{}\u{0}{}", Value::Object(query.clone()), Value::Object(headers.clone())))
        };
        Subscription { key: Arc::from(key), topic, query, headers, options_key }
    }

    pub fn query_str(&self, name: &str) -> &str {
        self.query.get(name).and_then(Value::as_str).unwrap_or_default()
    }
}

#[derive(Debug, Default)]
pub struct ClientState {
    /// The auth record bound at the last subscribe request (see [`ClientState::set_auth`]).
    pub auth: Option<Arc<Record>>,
    /// [`auth_key`] of `auth`, kept with it so the fan-out groups clients without formatting.
    pub auth_key: Arc<str>,
    pub subscriptions: Vec<Arc<Subscription>>,
    /// Values plugins keep on the client (`e.client.set(key, value)` in realtime hooks).
    pub store: Map<String, Value>,
}

impl ClientState {
    pub fn set_auth(&mut self, auth: Option<Arc<Record>>) {
        self.auth_key = Arc::from(auth_key(auth.as_deref()));
        self.auth = auth;
    }
}

/// A connected SSE client.
pub struct Client {
    pub id: Arc<str>,
    /// The real IP that opened the stream.
    pub ip: String,
    tx: mpsc::Sender<Message>,
    /// Signalled when the broker discards the client (the stream then ends).
    pub closed: Notify,
    pub state: Mutex<ClientState>,
}

impl Client {
    /// Queues a message; false when the client is gone or too slow (it is then discarded).
    fn enqueue(&self, msg: Message) -> Result<(), mpsc::error::TrySendError<Message>> {
        self.tx.try_send(msg)
    }

    pub fn has_subscription(&self, key: &str) -> bool {
        self.state.lock().subscriptions.iter().any(|s| &*s.key == key)
    }

    pub fn auth_key(&self) -> String {
        auth_key(self.state.lock().auth.as_deref())
    }
}

pub(crate) fn auth_key(auth: Option<&Record>) -> String {
    match auth {
        Some(a) => format!("{}/{}", a.collection.id, a.id()),
        None => String::new(),
    }
}

/// Why a message could not be queued.
#[derive(Debug, PartialEq)]
pub enum SendError {
    NotFound,
    Dropped,
}

pub struct Broker {
    pub config: Config,
    clients: RwLock<HashMap<Arc<str>, Arc<Client>>>,
    events_tx: mpsc::UnboundedSender<Vec<RecordChange>>,
    events_rx: Mutex<Option<mpsc::UnboundedReceiver<Vec<RecordChange>>>>,
    shutdown: Notify,
    shutting_down: std::sync::atomic::AtomicBool,
}

impl Default for Broker {
    fn default() -> Self {
        Self::new(Config::default())
    }
}

impl Broker {
    pub fn new(config: Config) -> Self {
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        Self {
            config,
            clients: RwLock::new(HashMap::new()),
            events_tx,
            events_rx: Mutex::new(Some(events_rx)),
            shutdown: Notify::new(),
            shutting_down: Default::default(),
        }
    }

    /// The capture sink: queues committed changes for the dispatcher (never blocks).
    pub(crate) fn publish(&self, changes: Vec<RecordChange>) {
        if self.clients.read().is_empty() {
            return;
        }
        let _ = self.events_tx.send(changes);
    }

    /// The dispatcher's end of the change queue (once).
    pub fn take_receiver(&self) -> Option<mpsc::UnboundedReceiver<Vec<RecordChange>>> {
        self.events_rx.lock().take()
    }

    pub fn len(&self) -> usize {
        self.clients.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Registers a new client; None when the broker is full or shutting down.
    pub fn register(&self, ip: String) -> Option<(Arc<Client>, mpsc::Receiver<Message>)> {
        if self.shutting_down.load(Ordering::Relaxed) {
            return None;
        }
        let (tx, rx) = mpsc::channel(self.config.queue);
        let mut clients = self.clients.write();
        if clients.len() >= self.config.max_clients {
            return None;
        }
        let id: Arc<str> = loop {
            let id: Arc<str> = Arc::from(crate::util::random_string(40, crate::util::ALPHANUMERIC));
            if !clients.contains_key(&id) {
                break id;
            }
        };
        let client = Arc::new(Client { id: id.clone(), ip, tx, closed: Notify::new(), state: Mutex::new(ClientState::default()) });
        clients.insert(id, client.clone());
        capture::LISTENERS.fetch_add(1, Ordering::Relaxed);
        Some((client, rx))
    }

    /// Removes a client (its stream ends).
    pub fn unregister(&self, id: &str) {
        if let Some(c) = self.clients.write().remove(id) {
            capture::LISTENERS.fetch_sub(1, Ordering::Relaxed);
            c.closed.notify_one();
        }
    }

    pub fn client(&self, id: &str) -> Option<Arc<Client>> {
        self.clients.read().get(id).cloned()
    }

    /// Every connected client (a snapshot).
    pub fn clients(&self) -> Vec<Arc<Client>> {
        self.clients.read().values().cloned().collect()
    }

    /// Binds the auth and replaces all subscriptions of a client (PocketBase's subscribe).
    pub fn set_subscriptions(&self, client: &Client, auth: Option<Record>, keys: &[String]) {
        let mut subs: Vec<Arc<Subscription>> = vec![];
        for k in keys.iter().filter(|k| !k.trim().is_empty()) {
            if k.contains(['\n', '\r']) || subs.iter().any(|s| &*s.key == k.as_str()) {
                continue;
            }
            subs.push(Arc::new(Subscription::parse(k)));
        }
        let mut st = client.state.lock();
        st.set_auth(auth.map(Arc::new));
        st.subscriptions = subs;
    }

    /// Queues a message for one client; a client whose queue is full is discarded.
    pub fn send(&self, client: &Arc<Client>, msg: Message) -> Result<(), SendError> {
        match client.enqueue(msg) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::debug!("realtime client {} is too slow: discarded", client.id);
                self.unregister(&client.id);
                Err(SendError::Dropped)
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.unregister(&client.id);
                Err(SendError::Dropped)
            }
        }
    }

    /// Sends a message to a client by id (hooks, the OAuth2 redirect).
    pub fn send_to(&self, client_id: &str, name: &str, data: &Value) -> Result<(), SendError> {
        let client = self.client(client_id).ok_or(SendError::NotFound)?;
        self.send(&client, Message { name: Arc::from(name), data: Arc::from(data.to_string()) })
    }

    /// The OAuth2 all-in-one flow: delivers the redirect result to the client that waits on
    /// the `@oauth2` topic (`state` is its client id). NotFound when there is no such client
    /// or it is not subscribed to `@oauth2`.
    pub fn send_oauth2_result(&self, state: &str, data: &Value) -> Result<(), SendError> {
        let client = self.client(state).ok_or(SendError::NotFound)?;
        if !client.has_subscription(OAUTH2_TOPIC) {
            return Err(SendError::NotFound);
        }
        self.send(&client, Message { name: Arc::from(OAUTH2_TOPIC), data: Arc::from(data.to_string()) })
    }

    /// Auth record updated: bound clients get the fresh record, or become guests when its
    /// token key changed.
    pub fn refresh_auth(&self, rec: &Record) {
        for c in self.clients() {
            let mut st = c.state.lock();
            let Some(a) = &st.auth else { continue };
            if a.id() == rec.id() && a.collection.name == rec.collection.name {
                if a.get_str("tokenKey") != rec.get_str("tokenKey") {
                    st.set_auth(None);
                } else {
                    st.set_auth(Some(Arc::new(rec.clone())));
                }
            }
        }
    }

    /// Auth record deleted: bound clients become guests.
    pub fn unset_auth_record(&self, collection_name: &str, id: &str) {
        for c in self.clients() {
            let mut st = c.state.lock();
            if st.auth.as_ref().is_some_and(|a| a.id() == id && a.collection.name == collection_name) {
                st.set_auth(None);
            }
        }
    }

    /// Auth collection deleted or its token secret changed: bound clients become guests.
    pub fn unset_auth_collection(&self, collection_name: &str) {
        for c in self.clients() {
            let mut st = c.state.lock();
            if st.auth.as_ref().is_some_and(|a| a.collection.name == collection_name) {
                st.set_auth(None);
            }
        }
    }

    /// Ends every stream and refuses new ones (server shutdown).
    pub fn shutdown(&self) {
        self.shutting_down.store(true, Ordering::Relaxed);
        let ids: Vec<Arc<str>> = self.clients.read().keys().cloned().collect();
        for id in ids {
            self.unregister(&id);
        }
        self.shutdown.notify_waiters();
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Relaxed)
    }
}

pub const OAUTH2_TOPIC: &str = "@oauth2";

/// The broker as seen by `/api/oauth2-redirect` (registered with `realtime_hook::register`).
impl crate::realtime_hook::RealtimeClients for Broker {
    fn subscribed_client(&self, client_id: &str, topic: &str) -> Option<Option<String>> {
        let client = self.client(client_id)?;
        client.has_subscription(topic).then(|| Some(client.ip.clone()).filter(|ip| !ip.is_empty()))
    }

    fn send(&self, client_id: &str, topic: &str, data: &str) {
        if let Some(client) = self.client(client_id) {
            let _ = Broker::send(self, &client, Message { name: Arc::from(topic), data: Arc::from(data) });
        }
    }

    fn unsubscribe(&self, client_id: &str, topic: &str) {
        if let Some(client) = self.client(client_id) {
            client.state.lock().subscriptions.retain(|s| &*s.key != topic);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_keys() {
        let s = Subscription::parse("posts");
        assert_eq!(s.topic, Topic::Collection("posts".into()));
        let s = Subscription::parse("posts/*?options=%7B%22query%22%3A%7B%22fields%22%3A%22id%22%2C%22n%22%3A1%7D%2C%22headers%22%3A%7B%22X-Token%22%3A%22a%22%7D%7D");
        assert_eq!(s.topic, Topic::Collection("posts".into()));
        assert_eq!(s.query_str("fields"), "id");
        assert_eq!(s.query_str("n"), "1");
        assert_eq!(s.headers.get("x_token"), Some(&Value::String("a".into())));
        let s = Subscription::parse("posts/abc?options={\"query\":{\"expand\":\"a b\"}}");
        assert_eq!(s.topic, Topic::Record("posts".into(), "abc".into()));
        assert_eq!(s.query_str("expand"), "a b");
        assert_eq!(Subscription::parse("@oauth2").topic, Topic::Other);
        assert_eq!(Subscription::parse("posts/").topic, Topic::Other);
    }

    #[test]
    fn auth_changes_unset_or_refresh_bound_clients() {
        use crate::model::{Collection, CollectionType};
        let users = Arc::new(Collection::new(CollectionType::Auth, "users"));
        let members = Arc::new(Collection::new(CollectionType::Auth, "members"));
        let user = |c: &Arc<Collection>, id: &str, token_key: &str| {
            let mut r = Record::new(c.clone());
            r.values.insert("id".into(), Value::String(id.into()));
            r.values.insert("tokenKey".into(), Value::String(token_key.into()));
            r
        };
        let b = Broker::default();
        let bind = |auth: Record| {
            let (c, rx) = b.register(String::new()).unwrap();
            b.set_subscriptions(&c, Some(auth), &["posts".into()]);
            (c, rx)
        };
        let (u1, _r1) = bind(user(&users, "u1", "k1"));
        let (u2, _r2) = bind(user(&users, "u2", "k2"));
        let (m1, _r3) = bind(user(&members, "m1", "k3"));
        assert_eq!(u1.auth_key(), format!("{}/u1", users.id));

        let mut renamed = user(&users, "u1", "k1");
        renamed.values.insert("name".into(), Value::String("new".into()));
        b.refresh_auth(&renamed);
        assert_eq!(u1.state.lock().auth.as_ref().map(|a| a.get_str("name").to_string()), Some("new".into()));
        b.refresh_auth(&user(&users, "u2", "changed"));
        assert!(u2.state.lock().auth.is_none(), "a new token key unsets the auth");
        assert_eq!(u2.auth_key(), "");

        b.unset_auth_collection("users");
        assert!(u1.state.lock().auth.is_none());
        assert!(m1.state.lock().auth.is_some(), "other collections keep their clients' auth");
        b.unset_auth_record("members", "m1");
        assert!(m1.state.lock().auth.is_none());
        assert_eq!(&*m1.state.lock().auth_key, "");
    }

    #[test]
    fn slow_client_is_dropped() {
        let b = Broker::new(Config { queue: 2, ..Config::default() });
        let (c, _rx) = b.register("1.2.3.4".into()).unwrap();
        let m = || Message { name: Arc::from("x"), data: Arc::from("{}") };
        assert!(b.send(&c, m()).is_ok());
        assert!(b.send(&c, m()).is_ok());
        assert_eq!(b.send(&c, m()), Err(SendError::Dropped));
        assert!(b.client(&c.id).is_none());
    }
}
