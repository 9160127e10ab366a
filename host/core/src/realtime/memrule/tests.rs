//! The in-memory evaluation must agree with the SQL check on a record snapshot.

use rusqlite::Connection;
use serde_json::{json, Value};
use std::sync::Arc;

use super::{evaluate, evaluate_filter};
use crate::model::{Collection, CollectionType, Field, FieldType};
use crate::record::rules::RequestInfo;
use crate::record::service::{snapshot_matches, SnapshotExpr};
use crate::record::Record;
use crate::schema_cache::Schema;

fn field(kind: FieldType, name: &str, opts: Value) -> Field {
    let mut f = Field::new(kind, name);
    if let Value::Object(m) = opts {
        f.opts.extend(m);
    }
    f
}

fn schema() -> Schema {
    let mut users = Collection::new_with_id(CollectionType::Auth, "users", "_pb_users_auth_");
    users.fields.push(field(FieldType::Text, "name", json!({})));
    users.fields.push(field(FieldType::Number, "level", json!({})));
    let mut notes = Collection::new_with_id(CollectionType::Base, "notes", "pbc_notes");
    notes.fields.push(field(FieldType::Text, "title", json!({})));
    notes.fields.push(field(FieldType::Number, "views", json!({})));
    notes.fields.push(field(FieldType::Bool, "published", json!({})));
    notes.fields.push(field(FieldType::Relation, "owner", json!({"collectionId": "_pb_users_auth_", "maxSelect": 1})));
    notes.fields.push(field(FieldType::Select, "tags", json!({"maxSelect": 3, "values": ["a", "b"]})));
    notes.fields.push(field(FieldType::Json, "meta", json!({})));
    let mut secret = field(FieldType::Text, "secret", json!({}));
    secret.hidden = true;
    notes.fields.push(secret);
    Schema::new(vec![users, notes], 1)
}

fn record(c: &Arc<Collection>, values: Value) -> Record {
    let mut rec = Record::new(c.clone());
    for (k, v) in values.as_object().cloned().unwrap_or_default() {
        rec.values.insert(k, v);
    }
    rec
}

const SIMPLE: &[&str] = &[
    "",
    "@request.auth.id != \"\"",
    "@request.auth.id = \"\"",
    "owner = @request.auth.id",
    "owner != @request.auth.id",
    "@request.auth.id != \"\" && owner = @request.auth.id",
    "owner = @request.auth.id || published = true",
    "published = true && views > 10 || title = \"x\"",
    "(published = false || views >= 10) && title != \"\"",
    "views = 0",
    "views != 0",
    "views < 5.5",
    "views <= 5",
    "title > \"m\"",
    "title = null",
    "title != null",
    "owner = null",
    "null = null",
    "views = \"10\"",
    "title = 10",
    "@request.auth.collectionName = \"users\"",
    "@request.auth.verified = true",
    "@request.auth.emailVisibility = false",
    "@request.auth.email = title",
];

const NOT_SIMPLE: &[&str] = &[
    "owner.name = \"x\"",
    "tags ?= \"a\"",
    "tags = \"a\"",
    "meta.x = 1",
    "title ~ \"x\"",
    "@collection.users.id = owner",
    "@request.method = \"GET\"",
    "title:lower = \"x\"",
    "created > @now",
    // auth fields other than id/email/verified/… are joined from the auth collection's table
    "@request.auth.name = title",
    "@request.auth.level > views",
];

#[test]
fn simple_rules_agree_with_sql() {
    let schema = schema();
    let (notes, users) = (schema.find("notes").unwrap(), schema.find("users").unwrap());
    let conn = Connection::open_in_memory().unwrap();
    let records = [
        json!({"id": "n1", "title": "x", "views": 0, "published": true, "owner": "u1", "secret": "s"}),
        json!({"id": "n2", "title": "zebra", "views": 11, "published": false, "owner": ""}),
        json!({"id": "n3", "title": "", "views": 5, "published": false, "owner": "u2"}),
        json!({"id": "n4", "title": "10", "views": 10, "published": true, "owner": "u1"}),
    ];
    let auths = [
        None,
        Some(record(&users, json!({"id": "u1", "name": "x", "level": 3, "verified": true, "email": "x", "emailVisibility": false}))),
        Some(record(&users, json!({"id": "u2", "name": "zebra", "level": 20, "verified": false, "email": "a@b.c", "emailVisibility": true}))),
    ];
    for values in &records {
        let rec = record(&notes, values.clone());
        for auth in &auths {
            let req = RequestInfo { auth: auth.clone(), method: "GET".into(), context: "realtime".into(), ..Default::default() };
            for rule in SIMPLE.iter().filter(|r| !r.is_empty()) {
                let sql = snapshot_matches(&conn, &schema, &rec, &req, rule, SnapshotExpr::Rule).unwrap_or_else(|e| panic!("{rule}: {e}"));
                let mem = evaluate(rule, &rec, auth.as_ref());
                assert_eq!(mem, Some(sql), "rule {rule:?} on {values} for {:?}", auth.as_ref().map(|a| a.id().to_string()));
            }
        }
    }
}

#[test]
fn other_rules_are_left_to_sql() {
    let schema = schema();
    let rec = record(&schema.find("notes").unwrap(), json!({"id": "n1"}));
    let auth = record(&schema.find("users").unwrap(), json!({"id": "u1", "name": "x"}));
    for rule in NOT_SIMPLE {
        assert_eq!(evaluate(rule, &rec, Some(&auth)), None, "{rule}");
    }
}

/// Realtime `options.filter`: decided in memory exactly as the SQL filter check decides it,
/// hidden fields only for superusers (otherwise left to SQL, which rejects them).
#[test]
fn simple_filters_agree_with_sql() {
    let schema = schema();
    let (notes, users) = (schema.find("notes").unwrap(), schema.find("users").unwrap());
    let conn = Connection::open_in_memory().unwrap();
    let auth = Some(record(&users, json!({"id": "u1", "name": "x", "verified": true, "email": "x", "emailVisibility": false})));
    let hidden = ["secret = \"s\"", "secret != \"\" && views >= 0"];
    for values in [json!({"id": "n1", "title": "x", "views": 0, "published": true, "owner": "u1", "secret": "s"}), json!({"id": "n2", "title": "", "views": 7})] {
        let rec = record(&notes, values.clone());
        let req = RequestInfo { auth: auth.clone(), method: "GET".into(), context: "realtime".into(), ..Default::default() };
        for allow_hidden in [false, true] {
            for filter in SIMPLE.iter().filter(|r| !r.is_empty()).chain(hidden.iter()) {
                let sql = snapshot_matches(&conn, &schema, &rec, &req, filter, SnapshotExpr::Filter { allow_hidden });
                let mem = evaluate_filter(filter, &rec, auth.as_ref(), allow_hidden);
                if hidden.contains(filter) && !allow_hidden {
                    assert_eq!(mem, None, "{filter}: hidden fields are left to SQL");
                    assert!(sql.is_err(), "{filter}: SQL rejects hidden fields for non-superusers");
                    continue;
                }
                let sql = sql.unwrap_or_else(|e| panic!("{filter}: {e}"));
                assert_eq!(mem, Some(sql), "filter {filter:?} on {values} (allow_hidden {allow_hidden})");
            }
        }
    }
    assert_eq!(evaluate_filter(&"views > 1 && ".repeat(1000), &record(&notes, json!({"id": "n"})), None, true), None, "too long");
}
