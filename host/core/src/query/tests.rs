use rusqlite::Connection;
use serde_json::json;

use super::{CompiledQuery, QueryCompiler};
use crate::model::{Collection, CollectionType, Field, FieldType};
use crate::record::rules::RequestInfo;
use crate::record::Record;
use crate::schema_cache::Schema;

fn field(kind: FieldType, name: &str, opts: serde_json::Value) -> Field {
    let mut f = Field::new(kind, name);
    if let serde_json::Value::Object(m) = opts {
        f.opts.extend(m);
    }
    f
}

fn schema() -> Schema {
    let mut users = Collection::new_with_id(CollectionType::Auth, "users", "_pb_users_auth_");
    users.fields.push(field(FieldType::Text, "name", json!({})));
    users.fields.push(field(FieldType::Relation, "manager", json!({"collectionId": "_pb_users_auth_", "maxSelect": 1})));
    users.list_rule = Some("id = @request.auth.id".into());
    let mut posts = Collection::new_with_id(CollectionType::Base, "posts", "pbc_posts");
    posts.fields.push(field(FieldType::Text, "title", json!({})));
    posts.fields.push(field(FieldType::Json, "meta", json!({})));
    posts.fields.push(field(FieldType::Select, "tags", json!({"maxSelect": 5, "values": ["go", "js"]})));
    posts.fields.push(field(FieldType::Relation, "author", json!({"collectionId": "_pb_users_auth_", "maxSelect": 1})));
    posts.fields.push(field(FieldType::Relation, "coauthors", json!({"collectionId": "_pb_users_auth_", "maxSelect": 9})));
    posts.indexes = vec!["CREATE INDEX idx_title ON posts (title)".into(), "CREATE INDEX idx_author ON posts (author)".into()];
    let mut comments = Collection::new_with_id(CollectionType::Base, "comments", "pbc_comments");
    comments.fields.push(field(FieldType::Relation, "post", json!({"collectionId": "pbc_posts", "maxSelect": 1})));
    comments.fields.push(field(FieldType::Text, "body", json!({})));
    Schema::new(vec![users, posts, comments], 1)
}

fn compile(rule: Option<&str>, filter: &str, sort: &str, req: &RequestInfo, superuser: bool) -> CompiledQuery {
    let s = schema();
    let posts = s.find("posts").unwrap();
    let mut q = QueryCompiler::new(&s, &posts, req, "t");
    if let Some(r) = rule {
        q.add_rule(r).unwrap();
    }
    q.set_allow_hidden(superuser);
    if !filter.is_empty() {
        q.add_filter(filter).unwrap();
    }
    if !sort.is_empty() {
        q.add_sort(sort).unwrap();
    }
    q.finish().unwrap()
}

fn user_request(id: &str) -> RequestInfo {
    let s = schema();
    let mut rec = Record::new(s.find("users").unwrap());
    rec.values.insert("id".into(), json!(id));
    RequestInfo { auth: Some(rec), ..Default::default() }
}

#[test]
fn single_relation_path_joins_once() {
    let c = compile(None, "author.name = 'a' && author.manager.name = 'b'", "", &RequestInfo::default(), true);
    assert_eq!(
        c.joins,
        vec![
            "LEFT JOIN `users` `posts_author` ON `posts_author`.`id` = `posts`.`author`",
            "LEFT JOIN `users` `posts_author_manager` ON `posts_author_manager`.`id` = `posts_author`.`manager`",
        ]
    );
    assert_eq!(c.conditions, vec!["(`posts_author`.`name` = :t0 AND `posts_author_manager`.`name` = :t1)"]);
    assert_eq!(c.params.0.len(), 2);
}

#[test]
fn relation_id_needs_no_join() {
    let c = compile(None, "author.id = 'x'", "", &RequestInfo::default(), true);
    assert!(c.joins.is_empty());
    assert_eq!(c.conditions, vec!["`posts`.`author` = :t0"]);
}

#[test]
fn multi_relation_all_vs_any() {
    let all = compile(None, "coauthors.name = 'a'", "", &RequestInfo::default(), true);
    assert!(all.joins[0].starts_with("LEFT JOIN json_each("), "{:?}", all.joins);
    assert!(all.conditions[0].contains("NOT EXISTS (SELECT 1 FROM (SELECT `__mm_posts_coauthors`.`name` as `multiMatchValue`"), "{}", all.conditions[0]);
    let any = compile(None, "coauthors.name ?= 'a'", "", &RequestInfo::default(), true);
    assert_eq!(any.conditions, vec!["`posts_coauthors`.`name` = :t0"]);
}

#[test]
fn back_relation_and_collection_alias() {
    let c = compile(None, "comments_via_post.body ?= 'x' && @collection.users:u.name = title", "", &RequestInfo::default(), true);
    assert_eq!(c.joins[0], "LEFT JOIN `comments` `posts_comments_via_post` ON `posts_comments_via_post`.`post` = `posts`.`id`");
    assert_eq!(c.joins[1], "LEFT JOIN `users` `__collection_alias_u`");
}

#[test]
fn json_paths_bind_the_path_and_sort() {
    let c = compile(None, "meta.a.0 = 1", "meta.a.b,-id", &RequestInfo::default(), true);
    assert!(c.conditions[0].contains("JSON_EXTRACT(`posts`.`meta`, :t0)"), "{}", c.conditions[0]);
    let paths: Vec<String> = c.params.0.iter().map(|(_, v)| format!("{v:?}")).collect();
    assert!(paths.iter().any(|p| p.contains("$.a[0]")), "{paths:?}");
    assert_eq!(c.order_by.len(), 2);
    assert!(c.order_by[0].ends_with(" ASC") && c.order_by[1] == "`posts`.`id` DESC", "{:?}", c.order_by);
}

#[test]
fn auth_relation_joins_auth_collection() {
    let c = compile(Some("@request.auth.manager.name = 'boss' && author = @request.auth.id"), "", "", &user_request("u1"), false);
    assert!(c.joins[0].starts_with("LEFT JOIN `users` `__auth_users` ON `__auth_users`.`id` = :t"), "{:?}", c.joins);
    assert!(c.conditions[0].contains("`posts`.`author` = :t"), "{}", c.conditions[0]);
}

#[test]
fn list_rule_of_related_collection_applies_to_client_filters() {
    let c = compile(None, "author.name = 'a'", "", &user_request("u1"), false);
    assert_eq!(c.conditions.len(), 2);
    assert!(c.conditions[1].contains("`posts_author`.`id` = ''"), "{}", c.conditions[1]);
    // superusers skip it
    let su = compile(None, "author.name = 'a'", "", &user_request("u1"), true);
    assert_eq!(su.conditions.len(), 1);
}

#[test]
fn email_needs_visibility_for_non_superusers() {
    let s = schema();
    let users = s.find("users").unwrap();
    let req = RequestInfo::default();
    let mut q = QueryCompiler::new(&s, &users, &req, "t");
    q.set_allow_hidden(false);
    q.add_filter("email != ''").unwrap();
    let c = q.finish().unwrap();
    assert!(c.conditions[0].contains(" AND `users`.`emailVisibility` = TRUE)"), "{}", c.conditions[0]);
}

fn plan(c: &CompiledQuery) -> String {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(
        "CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT, manager TEXT, email TEXT, emailVisibility BOOLEAN);
         CREATE TABLE posts (id TEXT PRIMARY KEY, title TEXT, meta JSON, tags JSON, author TEXT, coauthors JSON);
         CREATE INDEX idx_title ON posts (title);
         CREATE INDEX idx_author ON posts (author);",
    )
    .unwrap();
    let sql = format!(
        "EXPLAIN QUERY PLAN SELECT DISTINCT `posts`.* FROM `posts` `posts` {} WHERE {}",
        c.joins.join(" "),
        c.conditions.iter().map(|c| format!("({c})")).collect::<Vec<_>>().join(" AND ")
    );
    let mut stmt = conn.prepare(&sql).unwrap();
    let refs = c.params.as_refs();
    let rows = stmt.query_map(refs.as_slice(), |r| r.get::<_, String>(3)).unwrap();
    rows.map(|r| r.unwrap()).collect::<Vec<_>>().join("\n")
}

#[test]
fn indexed_equality_uses_the_index() {
    let c = compile(None, "title = 'hello'", "", &RequestInfo::default(), true);
    let p = plan(&c);
    assert!(p.contains("USING INDEX idx_title"), "{p}");
}

#[test]
fn owner_rule_uses_the_relation_index() {
    let c = compile(Some("author = @request.auth.id"), "", "", &user_request("u1"), false);
    let p = plan(&c);
    assert!(p.contains("USING INDEX idx_author"), "{p}");
}

fn body_request(body: serde_json::Value) -> RequestInfo {
    let serde_json::Value::Object(m) = body else { unreachable!() };
    RequestInfo { body: m, ..Default::default() }
}

#[test]
fn body_changed_expands_to_isset_and_compare() {
    let c = compile(Some("@request.body.title:changed = false"), "", "", &body_request(json!({"title": "x"})), false);
    assert_eq!(c.conditions, vec!["(((TRUE = 1 AND :t0 IS NOT `posts`.`title`)) IS 0)"]);
    // on a plain field the modifier is ignored, as in PocketBase
    let plain = compile(Some("title:changed = false"), "", "", &body_request(json!({})), false);
    assert_eq!(plain.conditions, vec!["`posts`.`title` = 0"]);
}

#[test]
fn body_relation_and_each() {
    let req = body_request(json!({"author": "u1", "tags": ["go", "js"]}));
    let c = compile(Some("@request.body.author.name = 'a' && @request.body.tags:each ?= 'go'"), "", "", &req, false);
    assert!(c.joins[0].starts_with("LEFT JOIN `users` `__data_users_author` ON `__data_users_author`.`id` IN (:t"), "{:?}", c.joins);
    assert!(c.joins[1].starts_with("LEFT JOIN json_each(:t"), "{:?}", c.joins);
    assert!(c.params.0.iter().any(|(_, v)| format!("{v:?}").contains(r#"[\"go\",\"js\"]"#)), "{:?}", c.params);
}

#[test]
fn invalid_paths_are_errors() {
    let s = schema();
    let posts = s.find("posts").unwrap();
    let req = RequestInfo::default();
    for bad in ["title.x = 1", "nope = 1", "title:bogus = 1", "@request.foo = 1", "@collection.nope.id = 1", "a.b.c.d.e.f.g.h = 1"] {
        let mut q = QueryCompiler::new(&s, &posts, &req, "t");
        assert!(q.add_rule(bad).is_err(), "{bad}");
    }
    // unknown @request fields are NULL, not errors
    let mut q = QueryCompiler::new(&s, &posts, &req, "t");
    q.add_rule("@request.body.nope.x = 1 && @request.auth.whatever = 1").unwrap();
}
