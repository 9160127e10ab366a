//! A small hook through which non-realtime code (the OAuth2 redirect) talks to realtime
//! clients without depending on the realtime broker.
//!
//! The realtime implementation registers itself once with [`register`]; until then (or when
//! realtime is not built in) every call is a no-op and [`client`] finds nothing, so
//! `/api/oauth2-redirect` answers with its failure redirect.

use parking_lot::RwLock;
use std::sync::{Arc, OnceLock};

/// What `/api/oauth2-redirect` needs from the realtime broker.
pub trait RealtimeClients: Send + Sync {
    /// The client with this id if it exists, is not discarded and is subscribed to `topic`;
    /// returns the IP it connected from (`None` for clients registered without one).
    fn subscribed_client(&self, client_id: &str, topic: &str) -> Option<Option<String>>;
    /// Sends a message `{name: topic, data}` (data is raw JSON) to the client.
    fn send(&self, client_id: &str, topic: &str, data: &str);
    /// Removes the client's subscription to `topic`.
    fn unsubscribe(&self, client_id: &str, topic: &str);
}

fn slot() -> &'static RwLock<Option<Arc<dyn RealtimeClients>>> {
    static S: OnceLock<RwLock<Option<Arc<dyn RealtimeClients>>>> = OnceLock::new();
    S.get_or_init(|| RwLock::new(None))
}

/// Registers (or replaces) the process' realtime broker.
pub fn register(broker: Arc<dyn RealtimeClients>) {
    *slot().write() = Some(broker);
}

/// The registered broker, if any.
pub fn broker() -> Option<Arc<dyn RealtimeClients>> {
    slot().read().clone()
}
