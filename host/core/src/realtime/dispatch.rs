//! Fan-out of committed record changes to the subscribed clients.
//!
//! Per change, the matching subscriptions are grouped by what decides their outcome: the bound
//! auth record, the rule that applies (listRule for `coll/*`, viewRule for `coll/id`) and the
//! subscription options (`@request.query/headers`, `filter`). Each group is decided once:
//! superusers, locked (`null`) and public (`""`) rules, and simple rules and `filter` options
//! (see [`memrule`]) in memory, everything else with one SQL check per group, all groups of a
//! change in a single reader job (the rule runs against a snapshot of the record, so deletes
//! are checked like creates). Payloads are
//! rendered once per distinct view (visibility, expand, fields) and shared by every client
//! that sees the same thing.

use rusqlite::Connection;
use std::collections::HashMap;
use std::sync::Arc;

use super::{auth_key, memrule, Action, Broker, Client, Message, RecordChange, Subscription, Topic};
use crate::app::App;
use crate::fields_picker::FieldsPicker;
use crate::model::{Collection, RuleKind};
use crate::record::expand::{expand_records, ExpandTree};
use crate::record::rules::RequestInfo;
use crate::record::service::{snapshot_matches, SnapshotExpr};
use crate::record::{Record, Visibility};

/// Runs the dispatcher until the broker's change queue closes.
pub async fn run(app: Arc<App>) {
    let Some(mut rx) = app.realtime.take_receiver() else { return };
    while let Some(changes) = rx.recv().await {
        for change in changes {
            dispatch(&app, change).await;
        }
    }
}

/// A set of subscriptions that see one change identically.
struct Group {
    auth: Option<Arc<Record>>,
    kind: RuleKind,
    sub: Arc<Subscription>,
    targets: Vec<(Arc<Client>, Arc<str>)>,
    allowed: bool,
    manager: bool,
}

/// A database check for one group: the rule (if not decided in memory), the `filter` option
/// and, for auth records, the manageRule (email visibility).
struct Check {
    group: usize,
    req: RequestInfo,
    rule: Option<String>,
    filter: Option<String>,
    filter_hidden: bool,
    manage: Option<String>,
}

fn request_info(auth: &Option<Arc<Record>>, sub: &Subscription) -> RequestInfo {
    RequestInfo {
        auth: auth.as_deref().cloned(),
        method: "GET".into(),
        context: "realtime".into(),
        query: sub.query.clone(),
        headers: sub.headers.clone(),
        body: Default::default(),
    }
}

fn collection_matches(c: &Collection, name: &str) -> bool {
    name == c.name || name == c.id
}

/// Delivers one committed change to every client allowed to see it, keeping the clients'
/// auth in step with auth record changes in PocketBase's order: an updated auth record is
/// bound before the update is delivered, a deleted one is unbound only after its delete
/// event was checked with the auth (so its owner still hears about it).
pub async fn dispatch(app: &App, change: RecordChange) {
    let broker: &Broker = &app.realtime;
    let rec = change.record.clone();
    let is_auth = rec.collection.is_auth();
    if is_auth && change.action == Action::Update {
        broker.refresh_auth(&rec);
    }
    let action = change.action;
    fan_out(app, change).await;
    if is_auth && action == Action::Delete {
        broker.unset_auth_record(&rec.collection.name, rec.id());
    }
}

async fn fan_out(app: &App, change: RecordChange) {
    let broker: &Broker = &app.realtime;
    let rec = change.record.clone();
    let c = rec.collection.clone();
    if c.is_view() {
        return;
    }

    // 1. group the matching subscriptions
    let mut groups: Vec<Group> = vec![];
    let mut index: HashMap<(Arc<str>, bool, Arc<str>), usize> = HashMap::new();
    for client in broker.clients() {
        let st = client.state.lock();
        for sub in &st.subscriptions {
            let kind = match &sub.topic {
                Topic::Collection(name) if collection_matches(&c, name) => RuleKind::List,
                Topic::Record(name, id) if id == rec.id() && collection_matches(&c, name) => RuleKind::View,
                _ => continue,
            };
            let key = (st.auth_key.clone(), kind == RuleKind::List, sub.options_key.clone());
            let gi = *index.entry(key).or_insert_with(|| {
                groups.push(Group { auth: st.auth.clone(), kind, sub: sub.clone(), targets: vec![], allowed: false, manager: false });
                groups.len() - 1
            });
            groups[gi].targets.push((client.clone(), sub.key.clone()));
        }
    }
    if groups.is_empty() {
        return;
    }

    // 2. decide access: in memory where possible, the rest in one reader job
    let mut checks: Vec<Check> = vec![];
    for (gi, g) in groups.iter_mut().enumerate() {
        let superuser = g.auth.as_ref().is_some_and(|a| a.collection.is_superusers());
        let filter = Some(g.sub.query_str("filter").to_string()).filter(|f| !f.trim().is_empty());
        if !superuser {
            if let Some(f) = &filter {
                if f.contains("@collection.") || f.contains("@request.") {
                    continue; // not allowed for non-superusers
                }
            }
        }
        let mut rule = if superuser {
            None
        } else {
            match c.rule(g.kind) {
                None => continue,
                Some(r) if r.trim().is_empty() => None,
                Some(r) => Some(r.to_string()),
            }
        };
        if let Some(r) = &rule {
            match memrule::evaluate(r, &rec, g.auth.as_deref()) {
                Some(false) => continue,
                Some(true) => rule = None,
                None => {}
            }
        }
        let mut filter = filter;
        if let Some(f) = &filter {
            match memrule::evaluate_filter(f, &rec, g.auth.as_deref(), superuser) {
                Some(false) => continue,
                Some(true) => filter = None,
                None => {}
            }
        }
        let mut manage = if c.is_auth() && !superuser && g.auth.is_some() {
            c.rule(RuleKind::Manage).filter(|r| !r.trim().is_empty()).map(str::to_string)
        } else {
            None
        };
        if let Some(decided) = manage.as_deref().and_then(|m| memrule::evaluate(m, &rec, g.auth.as_deref())) {
            g.manager = decided;
            manage = None;
        }
        if rule.is_none() && filter.is_none() && manage.is_none() {
            g.allowed = true;
            continue;
        }
        checks.push(Check { group: gi, req: request_info(&g.auth, &g.sub), rule, filter, filter_hidden: superuser, manage });
    }
    if !checks.is_empty() {
        let snapshot = rec.clone();
        let schema = app.schema();
        let results = app
            .data
            .read(move |conn| {
                let matches = |req: &RequestInfo, src: &str, kind: SnapshotExpr| {
                    snapshot_matches(conn, &schema, &snapshot, req, src, kind).unwrap_or_else(|e| {
                        tracing::debug!("realtime rule error: {e}");
                        false
                    })
                };
                Ok(checks
                    .iter()
                    .map(|ch| {
                        let ok = ch.rule.as_deref().is_none_or(|r| matches(&ch.req, r, SnapshotExpr::Rule))
                            && ch.filter.as_deref().is_none_or(|f| matches(&ch.req, f, SnapshotExpr::Filter { allow_hidden: ch.filter_hidden }));
                        let manager = ok && ch.manage.as_deref().is_some_and(|m| matches(&ch.req, m, SnapshotExpr::Rule));
                        (ch.group, ok, ch.manage.is_some().then_some(manager))
                    })
                    .collect::<Vec<_>>())
            })
            .await
            .unwrap_or_default();
        for (gi, ok, manager) in results {
            groups[gi].allowed = ok;
            if let Some(m) = manager {
                groups[gi].manager = m;
            }
        }
    }

    // 3. render each distinct view once
    let mut views: HashMap<(bool, bool, String, String, String), Option<Arc<str>>> = HashMap::new();
    let mut expand_jobs: Vec<((bool, bool, String, String, String), RequestInfo, Visibility, String)> = vec![];
    let mut group_view: Vec<Option<(bool, bool, String, String, String)>> = vec![None; groups.len()];
    for (gi, g) in groups.iter().enumerate().filter(|(_, g)| g.allowed) {
        let superuser = g.auth.as_ref().is_some_and(|a| a.collection.is_superusers());
        let owner = g.manager || g.auth.as_ref().is_some_and(|a| a.id() == rec.id());
        let vis = Visibility { superuser, owner };
        let expand = g.sub.query_str("expand").to_string();
        let fields = g.sub.query_str("fields").to_string();
        // an expansion depends on what the subscriber may view
        let who = if expand.trim().is_empty() { String::new() } else { auth_key(g.auth.as_deref()) };
        let key = (superuser, owner, expand.clone(), fields.clone(), who);
        group_view[gi] = Some(key.clone());
        if views.contains_key(&key) {
            continue;
        }
        if ExpandTree::parse(&expand).is_empty() {
            let json = rec.to_json(vis);
            views.insert(key, payload(json, &fields, change.action));
        } else {
            views.insert(key.clone(), None);
            expand_jobs.push((key, request_info(&g.auth, &g.sub), vis, fields));
        }
    }
    if !expand_jobs.is_empty() {
        let schema = app.schema();
        let snapshot = rec.clone();
        let action = change.action;
        let rendered = app
            .data
            .read(move |conn| {
                Ok(expand_jobs
                    .into_iter()
                    .map(|(key, req, vis, fields)| {
                        let json = expanded_json(conn, &schema, &snapshot, &req, vis);
                        (key, payload(json, &fields, action))
                    })
                    .collect::<Vec<_>>())
            })
            .await
            .unwrap_or_default();
        for (key, data) in rendered {
            views.insert(key, data);
        }
    }

    // 4. queue the messages (a client whose queue is full is discarded)
    for (gi, g) in groups.into_iter().enumerate() {
        let Some(key) = &group_view[gi] else { continue };
        let Some(Some(data)) = views.get(key) else { continue };
        for (client, name) in g.targets {
            let _ = broker.send(&client, Message { name, data: data.clone() });
        }
    }
}


fn payload(mut json: serde_json::Value, fields: &str, action: Action) -> Option<Arc<str>> {
    if !fields.trim().is_empty() {
        match FieldsPicker::parse(fields) {
            Ok(Some(p)) => p.apply(&mut json, false),
            Ok(None) => {}
            Err(_) => return None,
        }
    }
    Some(Arc::from(format!("{{\"record\":{json},\"action\":\"{}\"}}", action.as_str())))
}

fn expanded_json(conn: &Connection, schema: &crate::schema_cache::Schema, rec: &Record, req: &RequestInfo, vis: Visibility) -> serde_json::Value {
    let mut copy = Record::new(rec.collection.clone());
    copy.values = rec.values.clone();
    copy.original = rec.original.clone();
    let tree = ExpandTree::parse(req.query.get("expand").and_then(|v| v.as_str()).unwrap_or_default());
    let mut recs = [copy];
    expand_records(conn, schema, req, &mut recs, &tree);
    recs[0].to_json(vis)
}

