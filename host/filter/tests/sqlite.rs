//! Runs generated SQL against an in-memory SQLite database to prove it is valid and that the
//! operator semantics (NULL/empty handling, LIKE, any/all multi-match, functions) hold.

use chrono::{TimeZone, Utc};
use pocketbun_filter::*;
use rusqlite::types::Value;
use rusqlite::{Connection, ToSql};

const SCHEMA: &str = "
CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT, age NUMERIC);
CREATE TABLE posts (
  id TEXT PRIMARY KEY, title TEXT, views NUMERIC, tags JSON, rel JSON, meta JSON,
  created TEXT, email TEXT, emailVisibility BOOLEAN, lon NUMERIC, lat NUMERIC
);
INSERT INTO users VALUES ('u1', 'Ann', 30), ('u2', 'Bob', 40);
INSERT INTO posts VALUES
 ('p1', 'Hello World', 10, '[\"a\",\"b\"]', '[\"u1\",\"u2\"]', '{\"a\":{\"b\":1},\"s\":\"x\"}',
  '2024-01-01 10:00:00.000Z', 'a@x.io', 1, 23.32, 42.69),
 ('p2', '', 5, '[\"a\"]', '[\"u1\"]', NULL, '2024-06-01 00:00:00.000Z', 'b@x.io', 0, 0, 0),
 ('p3', NULL, 0, '[]', '[]', '{\"a\":null}', '', '', 0, NULL, NULL),
 ('p4', '100% sure_thing', 7.5, 'c', '[\"u2\"]', '{\"a\":{\"b\":2}}',
  '2025-03-04 05:06:07.000Z', 'd@x.io', 1, -0.12, 51.5);
";

fn db() -> Connection {
    let db = Connection::open_in_memory().unwrap();
    add_math_functions(&db);
    db.execute_batch(SCHEMA).unwrap();
    db
}

/// The bundled SQLite of `libsqlite3-sys` is built without SQLITE_ENABLE_MATH_FUNCTIONS
/// (PocketBase's driver has them), so register the ones `geoDistance` needs.
fn add_math_functions(db: &Connection) {
    use rusqlite::functions::FunctionFlags;
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    type MathFn = (&'static str, fn(f64) -> f64);
    let funcs: [MathFn; 4] = [
        ("acos", f64::acos),
        ("cos", f64::cos),
        ("sin", f64::sin),
        ("radians", f64::to_radians),
    ];
    for (name, f) in funcs {
        db.create_scalar_function(name, 1, flags, move |ctx| {
            let v: Option<f64> = ctx.get(0)?;
            // like SQLite's own math functions: NULL in, NULL (or NaN domain errors) out
            Ok(v.map(f).filter(|r| !r.is_nan()))
        })
        .unwrap();
    }
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 12, 31, 12, 0, 0).unwrap()
}

fn array_or_wrap(col: &str) -> String {
    format!("CASE WHEN iif(json_valid({col}), json_type({col})='array', FALSE) THEN {col} ELSE json_array({col}) END")
}

/// A small hand-written resolver for the `posts` table, shaped like PocketBase's.
#[derive(Default)]
struct Posts {
    auth: Option<String>,
    body_title: Option<String>,
    body_tags: Option<Vec<String>>,
    joins: Vec<String>,
}

impl Posts {
    fn join(&mut self, sql: String) {
        if !self.joins.contains(&sql) {
            self.joins.push(sql);
        }
    }

    fn mm(&self, value: String, joins: Vec<MultiMatchJoin>) -> MultiMatch {
        MultiMatch {
            target_alias: "`posts`".into(),
            from_table: "`posts`".into(),
            from_alias: "`__mm_posts`".into(),
            value,
            joins,
            params: vec![],
        }
    }
}

impl FieldResolver for Posts {
    fn resolve(&mut self, ident: &str, params: &mut Params) -> Result<Resolved, FilterError> {
        Ok(match ident {
            "id" | "title" | "views" | "created" | "lon" | "lat" | "tags" | "rel" => {
                Resolved::sql(format!("`posts`.{}", quote_ident(ident)))
            }
            "email" => Resolved::sql("`posts`.`email`")
                .with_after_build(|s| format!("(({s}) AND (`posts`.`emailVisibility` = TRUE))")),
            _ if ident.starts_with("meta.") => {
                Resolved::sql(format!("JSON_EXTRACT(`posts`.`meta`, '$.{}')", &ident[5..]))
                    .with_null_fallback(NullFallback::Disabled)
            }
            "tags:each" => {
                self.join(format!("LEFT JOIN json_each({}) `__je_tags`", array_or_wrap("`posts`.`tags`")));
                let mm = self.mm(
                    "`__mm_je_tags`.`value`".into(),
                    vec![MultiMatchJoin {
                        table: format!("json_each({})", array_or_wrap("`__mm_posts`.`tags`")),
                        alias: "`__mm_je_tags`".into(),
                        on: None,
                    }],
                );
                Resolved::sql("`__je_tags`.`value`").with_multi_match(mm)
            }
            "tags:length" => Resolved::sql(
                "json_array_length(CASE WHEN iif(json_valid(`posts`.`tags`), json_type(`posts`.`tags`)='array', FALSE) THEN `posts`.`tags` ELSE (CASE WHEN `posts`.`tags` = '' OR `posts`.`tags` IS NULL THEN json_array() ELSE json_array(`posts`.`tags`) END) END)",
            ),
            "rel.name" | "rel.age" | "rel.id" => {
                let col = &ident[4..];
                self.join("LEFT JOIN json_each(`posts`.`rel`) `__je_rel`".into());
                self.join("LEFT JOIN `users` `posts_rel` ON `posts_rel`.`id` = `__je_rel`.`value`".into());
                let mm = self.mm(
                    format!("`__mm_rel`.`{col}`"),
                    vec![
                        MultiMatchJoin {
                            table: "json_each(`__mm_posts`.`rel`)".into(),
                            alias: "`__mm_je_rel`".into(),
                            on: None,
                        },
                        MultiMatchJoin {
                            table: "`users`".into(),
                            alias: "`__mm_rel`".into(),
                            on: Some("`__mm_rel`.`id` = `__mm_je_rel`.`value`".into()),
                        },
                    ],
                );
                Resolved::sql(format!("`posts_rel`.`{col}`")).with_multi_match(mm)
            }
            "@request.auth.id" => match &self.auth {
                Some(id) => Resolved::value(params, id.as_str()),
                None => Resolved::sql("NULL"),
            },
            "@request.body.title" => match &self.body_title {
                Some(t) => Resolved::value(params, t.as_str()),
                None => Resolved::sql("NULL"),
            },
            "@request.body.title:isset" => Resolved::sql(if self.body_title.is_some() { "TRUE" } else { "FALSE" }),
            "@request.body.title:changed" => {
                // PocketBase expands this into a sub-filter and splices it in after the build
                let sub = parse("@request.body.title:isset = true && @request.body.title != title")?;
                let sub_sql = build_where(&sub, self, params, &BuildOptions::at(now()))?;
                let placeholder = "@changed@title".to_string();
                Resolved::sql(placeholder.clone())
                    .with_null_fallback(NullFallback::Disabled)
                    .with_after_build(move |s| s.replace(&placeholder, &sub_sql))
            }
            "@request.body.tags:each" => {
                let items = self.body_tags.clone().unwrap_or_default();
                let json = format!(
                    "[{}]",
                    items.iter().map(|t| format!("\"{t}\"")).collect::<Vec<_>>().join(",")
                );
                let r = Resolved::value(params, json.clone());
                // the value feeds the JOIN, not the WHERE expression (like PocketBase)
                self.join(format!("LEFT JOIN json_each({}) `__dataEach_je_tags`", r.sql));
                let local = params.reserve();
                let mut mm = self.mm(
                    "`__mm_dataEach`.`value`".into(),
                    vec![MultiMatchJoin { table: format!("json_each({local})"), alias: "`__mm_dataEach`".into(), on: None }],
                );
                mm.params.push((local, SqlValue::Text(json)));
                Resolved { sql: "`__dataEach_je_tags`.`value`".into(), ..r }.with_multi_match(mm)
            }
            _ => return Err(FilterError::invalid(format!("unknown field {ident:?}"))),
        })
    }

    fn rowid(&mut self) -> String {
        "`posts`._rowid_".into()
    }
}

fn to_value(v: &SqlValue) -> Value {
    match v {
        SqlValue::Null => Value::Null,
        SqlValue::Integer(i) => Value::Integer(*i),
        SqlValue::Real(f) => Value::Real(*f),
        SqlValue::Text(s) => Value::Text(s.clone()),
    }
}

fn query(db: &Connection, filter: &str, sort: &str, r: &mut Posts) -> Vec<String> {
    let expr = parse(filter).unwrap_or_else(|e| panic!("{filter:?}: {e}"));
    let mut params = Params::new();
    let where_sql = build_where(&expr, r, &mut params, &BuildOptions::at(now()))
        .unwrap_or_else(|e| panic!("{filter:?}: {e}"));
    let order = build_order_by(&parse_sort(sort).unwrap(), r, &mut params).unwrap();
    let order = if order.is_empty() {
        "`posts`.`id` ASC".to_string()
    } else {
        order
    };
    let sql = format!(
        "SELECT DISTINCT `posts`.`id` FROM `posts` {} WHERE ({where_sql}) ORDER BY {order}",
        r.joins.join(" ")
    );
    let mut stmt = db
        .prepare(&sql)
        .unwrap_or_else(|e| panic!("{filter:?}: {e}\n{sql}"));
    let used = params.used_in(&sql);
    assert_eq!(
        stmt.parameter_count(),
        used.len(),
        "every placeholder is bound: {sql}"
    );
    let values: Vec<(&str, Value)> = used.iter().map(|(n, v)| (*n, to_value(v))).collect();
    let refs: Vec<(&str, &dyn ToSql)> = values.iter().map(|(n, v)| (*n, v as &dyn ToSql)).collect();
    let rows = stmt
        .query_map(&refs[..], |row| row.get::<_, String>(0))
        .unwrap_or_else(|e| panic!("{filter:?}: {e}\n{sql}"));
    rows.map(|r| r.unwrap()).collect()
}

fn ids(db: &Connection, filter: &str) -> Vec<String> {
    query(db, filter, "", &mut Posts::default())
}

#[track_caller]
fn check(db: &Connection, filter: &str, want: &[&str]) {
    assert_eq!(ids(db, filter), want, "{filter}");
}

#[test]
fn equality_and_null_handling() {
    let db = db();
    check(&db, "title = ''", &["p2", "p3"]);
    check(&db, "title = null", &["p2", "p3"]);
    check(&db, "title != ''", &["p1", "p4"]);
    check(&db, "title != null", &["p1", "p4"]);
    check(&db, "'' = title", &["p2", "p3"]);
    check(&db, "title = 'Hello World'", &["p1"]);
    check(&db, "title = 'hello world'", &[]);
    check(&db, "title != 'Hello World'", &["p2", "p3", "p4"]);
    check(&db, "title = created", &["p3"]);
    check(&db, "null = ''", &["p1", "p2", "p3", "p4"]);
    check(&db, "null != ''", &[]);
    check(&db, "views = 0", &["p3"]);
    check(&db, "views = 7.5", &["p4"]);
    check(&db, "views = '10'", &["p1"]);
}

#[test]
fn ordering_comparisons_and_groups() {
    let db = db();
    check(&db, "views > 6", &["p1", "p4"]);
    check(&db, "views >= 10 || views < 1", &["p1", "p3"]);
    check(&db, "views <= 5 && views > 0", &["p2"]);
    check(
        &db,
        "views > 1 && (title = '' || title ~ 'hello')",
        &["p1", "p2"],
    );
    // no precedence in the language, SQLite's AND-before-OR applies
    check(&db, "views = 0 || views = 5 && title = 'x'", &["p3"]);
}

#[test]
fn like() {
    let db = db();
    check(&db, "title ~ 'world'", &["p1"]);
    check(&db, "title ~ 'O W'", &["p1"]);
    check(&db, "title ~ '100%'", &["p4"]);
    check(&db, "title ~ 'sure%'", &[]);
    check(&db, "title ~ '100\\%'", &["p4"]);
    check(&db, "title ~ '%0\\% s%'", &["p4"]);
    check(&db, "title ~ '_'", &["p4"]);
    check(&db, "title ~ 'e_t'", &["p4"]);
    check(&db, "title ~ 'o_w'", &[]);
    check(&db, "title !~ 'world'", &["p2", "p4"]);
    check(&db, "'Hello World!' ~ title", &["p1", "p2"]);
    check(&db, "tags ~ 'b'", &["p1"]);
}

#[test]
fn json_paths() {
    let db = db();
    check(&db, "meta.a.b = 1", &["p1"]);
    check(&db, "meta.a.b = null", &["p2", "p3"]);
    check(&db, "meta.a.b > 1", &["p4"]);
    check(&db, "meta.s != 'x'", &["p2", "p3", "p4"]);
}

#[test]
fn multi_valued_each() {
    let db = db();
    check(&db, "tags:each ?= 'a'", &["p1", "p2"]);
    check(&db, "tags:each = 'a'", &["p2"]);
    check(&db, "tags:each = 'c'", &["p4"]);
    check(&db, "tags:each != 'a'", &["p3", "p4"]);
    check(&db, "tags:each ?!= 'a'", &["p1", "p3", "p4"]);
    check(&db, "tags:each ?~ 'B'", &["p1"]);
    check(&db, "tags:each ~ 'a'", &["p2"]);
    check(&db, "tags:length = 2", &["p1"]);
    check(&db, "tags:length = 0", &["p3"]);
    check(&db, "tags:length = 1", &["p2", "p4"]);
    // raw JSON text of a multi-value column
    check(&db, "tags ?= 'a'", &[]);
}

#[test]
fn multi_valued_relations() {
    let db = db();
    check(&db, "rel.name ?= 'Bob'", &["p1", "p4"]);
    check(&db, "rel.name = 'Ann'", &["p2"]);
    check(&db, "rel.name != 'Ann'", &["p3", "p4"]);
    check(&db, "rel.age > 35", &["p4"]);
    check(&db, "rel.age ?> 35", &["p1", "p4"]);
    check(&db, "rel.age >= 30", &["p1", "p2", "p4"]);
    // both conditions look at the same joined row (one join alias per path), as in PocketBase
    check(&db, "rel.id ?= 'u1' && rel.id ?= 'u2'", &[]);
    check(&db, "rel.id ?= 'u1' || rel.id ?= 'u2'", &["p1", "p2", "p4"]);
    // many vs many: every left value against every right value
    // p3 has neither: NULL/empty compares equal to NULL/empty
    check(&db, "rel.name = tags:each", &["p3"]);
    check(&db, "rel.name != tags:each", &["p1", "p2", "p4"]);
    check(&db, "rel.age ?> views", &["p1", "p2", "p4"]);
    check(&db, "rel.age > views && rel.age < 35", &["p2"]);
}

#[test]
fn datetime_macros_and_strftime() {
    let db = db();
    check(&db, "created > '2024-03-01'", &["p2", "p4"]);
    check(&db, "created > @now", &["p4"]);
    check(
        &db,
        "created >= @yearStart && created <= @yearEnd",
        &["p1", "p2"],
    );
    check(&db, "created < @todayStart && created != ''", &["p1", "p2"]);
    check(&db, "strftime('%Y', created) = '2024'", &["p1", "p2"]);
    check(&db, "strftime('%Y', created) = @year", &[]);
    check(
        &db,
        "strftime('%Y-%m', created, '+1 month') = '2024-02'",
        &["p1"],
    );
    check(&db, "strftime('%Y', created) = ''", &["p3"]);
    check(
        &db,
        "strftime('%Y', '2024-05-05') = '2024'",
        &["p1", "p2", "p3", "p4"],
    );
}

#[test]
fn geo_distance() {
    let db = db();
    check(&db, "geoDistance(lon, lat, 23.3, 42.7) < 5", &["p1"]);
    check(&db, "geoDistance(lon, lat, -0.1276, 51.5072) < 10", &["p4"]);
    check(
        &db,
        "geoDistance(lon, lat, 23.3, 42.7) > 1000",
        &["p2", "p4"],
    );
    check(&db, "geoDistance(lon, lat, 0, 0) = null", &["p3"]);
    check(&db, "geoDistance(lon, lat, 0, 0) < 1", &["p2"]);
}

#[test]
fn request_values_and_after_build() {
    let db = db();
    let mut guest = Posts::default();
    assert!(query(&db, "@request.auth.id != ''", "", &mut guest).is_empty());
    let mut user = Posts {
        auth: Some("u1".into()),
        ..Posts::default()
    };
    assert_eq!(query(&db, "@request.auth.id != ''", "", &mut user).len(), 4);
    let mut user = Posts {
        auth: Some("u2".into()),
        ..Posts::default()
    };
    assert_eq!(
        query(&db, "rel.id ?= @request.auth.id", "", &mut user),
        ["p1", "p4"]
    );

    check(&db, "email = 'a@x.io'", &["p1"]);
    check(&db, "email = 'b@x.io'", &[]);
    check(&db, "email ~ '@x.io'", &["p1", "p4"]);
}

#[test]
fn nested_build_for_changed_modifier() {
    let db = db();
    let mut r = Posts {
        body_title: Some("Hello World".into()),
        ..Posts::default()
    };
    assert_eq!(
        query(&db, "@request.body.title:changed = true", "", &mut r),
        ["p2", "p3", "p4"]
    );
    let mut r = Posts {
        body_title: Some("Hello World".into()),
        ..Posts::default()
    };
    assert_eq!(
        query(&db, "@request.body.title:changed = false", "", &mut r),
        ["p1"]
    );
    let mut r = Posts::default();
    assert_eq!(
        query(&db, "@request.body.title:changed = false", "", &mut r).len(),
        4
    );
}

#[test]
fn body_each_with_join_and_private_params() {
    let db = db();
    let tags = |v: &[&str]| Posts {
        body_tags: Some(v.iter().map(|s| s.to_string()).collect()),
        ..Posts::default()
    };
    assert_eq!(
        query(
            &db,
            "@request.body.tags:each ?= 'x'",
            "",
            &mut tags(&["x", "y"])
        )
        .len(),
        4
    );
    assert!(query(
        &db,
        "@request.body.tags:each = 'x'",
        "",
        &mut tags(&["x", "y"])
    )
    .is_empty());
    assert_eq!(
        query(
            &db,
            "@request.body.tags:each = 'x'",
            "",
            &mut tags(&["x", "x"])
        )
        .len(),
        4
    );
    assert_eq!(
        query(
            &db,
            "@request.body.tags:each ?= title",
            "",
            &mut tags(&["Hello World"])
        ),
        ["p1"]
    );
}

#[test]
fn sorting() {
    let db = db();
    let mut r = Posts::default();
    assert_eq!(
        query(&db, "id != ''", "-views", &mut r),
        ["p1", "p4", "p2", "p3"]
    );
    assert_eq!(
        query(&db, "id != ''", "title,-id", &mut Posts::default()),
        ["p3", "p2", "p4", "p1"]
    );
    assert_eq!(
        query(&db, "id != ''", "-@rowid", &mut Posts::default()),
        ["p4", "p3", "p2", "p1"]
    );
    assert_eq!(
        query(&db, "id != ''", "@random", &mut Posts::default()).len(),
        4
    );
}

#[test]
fn every_operator_runs() {
    let db = db();
    let ops = [
        "=", "!=", "~", "!~", "<", "<=", ">", ">=", "?=", "?!=", "?~", "?!~", "?<", "?<=", "?>",
        "?>=",
    ];
    let operands = [
        "title",
        "''",
        "null",
        "'a'",
        "1",
        "rel.name",
        "tags:each",
        "meta.a.b",
        "@now",
        "strftime('%Y', created)",
    ];
    for op in ops {
        for l in operands {
            for r in operands {
                ids(&db, &format!("{l} {op} {r}"));
            }
        }
    }
}
