//! A mock resolver with predictable SQL for the builder tests.
#![allow(dead_code)]

use chrono::{TimeZone, Utc};
use pocketbun_filter::*;

/// Sunday 2024-02-11 13:45:07.123Z.
pub fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 2, 11, 13, 45, 7).unwrap() + chrono::Duration::milliseconds(123)
}

pub fn opts() -> BuildOptions {
    BuildOptions::at(now())
}

pub fn many(column: &str) -> MultiMatch {
    MultiMatch {
        target_alias: "`t`".into(),
        from_table: "`t`".into(),
        from_alias: "`__mm_t`".into(),
        value: format!("`__mm_many`.`{column}`"),
        joins: vec![MultiMatchJoin {
            table: "`many`".into(),
            alias: "`__mm_many`".into(),
            on: Some("`__mm_many`.`t` = `__mm_t`.`id`".into()),
        }],
        params: vec![],
    }
}

pub const MANY_SUB: &str = "SELECT `__mm_many`.`x` as `multiMatchValue` FROM `t` `__mm_t` LEFT JOIN `many` `__mm_many` ON `__mm_many`.`t` = `__mm_t`.`id` WHERE `__mm_t`.`id` = `t`.`id`";

#[derive(Default)]
pub struct Mock {
    /// Resolve `null` as a column (to prove the resolver is asked first).
    pub null_is_field: bool,
    /// Bind a value before failing on `true` (to prove the fallback drops it).
    pub bind_then_fail: bool,
    pub seen: Vec<String>,
}

impl FieldResolver for Mock {
    fn resolve(&mut self, ident: &str, params: &mut Params) -> Result<Resolved, FilterError> {
        self.seen.push(ident.to_string());
        let r = match ident {
            "a" | "b" | "c" | "title" | "created" | "lat" | "lon" | "views" => {
                Resolved::sql(quote_ident(ident))
            }
            "null" if self.null_is_field => Resolved::sql("`null`"),
            "true" if self.bind_then_fail => {
                params.bind("junk");
                return Err(FilterError::invalid("no such field"));
            }
            "many.x" => Resolved::sql("`many_x`").with_multi_match(many("x")),
            "many.y" => Resolved::sql("`many_y`").with_multi_match(many("y")),
            "mmjson" => Resolved::sql("`mmjson`")
                .with_null_fallback(NullFallback::Disabled)
                .with_multi_match(many("j")),
            "mmparam" => {
                let local = params.reserve();
                let mut mm = many("v");
                mm.joins.push(MultiMatchJoin {
                    table: format!("json_each({local})"),
                    alias: "`__mm_je`".into(),
                    on: None,
                });
                mm.params
                    .push((local, SqlValue::Text("[\"local\"]".into())));
                Resolved::sql("`mmparam`").with_multi_match(mm)
            }
            "badmm" => Resolved::sql("`badmm`").with_multi_match(MultiMatch::default()),
            "req.text" => Resolved::value(params, "hello"),
            "req.empty" => Resolved::value(params, ""),
            "req.nullv" => Resolved::value(params, SqlValue::Null),
            "req.int" => Resolved::value(params, 5i64),
            "req.missing" => Resolved::sql("NULL"),
            "req.lower" => {
                let r = Resolved::value(params, "HeLLo");
                Resolved {
                    sql: format!("LOWER({})", r.sql),
                    ..r
                }
            }
            "isset" => Resolved::sql("TRUE"),
            "email" => Resolved::sql("`email`")
                .with_after_build(|s| format!("(({s}) AND (`t`.`emailVisibility` = TRUE))")),
            "enforced" => Resolved::sql("`enforced`").with_null_fallback(NullFallback::Enforced),
            "emptysql" => Resolved::sql(""),
            "unbound" => Resolved {
                params: vec![":nope".into()],
                ..Resolved::sql(":nope")
            },
            _ if ident.starts_with("json.") => {
                Resolved::sql(format!("JSON_EXTRACT(`json`, '$.{}')", &ident[5..]))
                    .with_null_fallback(NullFallback::Disabled)
            }
            _ => return Err(FilterError::invalid(format!("unknown field {ident:?}"))),
        };
        Ok(r)
    }

    fn rowid(&mut self) -> String {
        "`t`._rowid_".into()
    }
}

/// Parses and builds with a fresh bag.
pub fn build(src: &str) -> Result<(String, Params), FilterError> {
    build_with(src, &mut Mock::default())
}

pub fn build_with(src: &str, r: &mut Mock) -> Result<(String, Params), FilterError> {
    let expr = parse(src)?;
    let mut params = Params::new();
    let sql = build_where(&expr, r, &mut params, &opts())?;
    Ok((sql, params))
}

pub fn sql(src: &str) -> String {
    build(src).unwrap_or_else(|e| panic!("{src:?}: {e}")).0
}

pub fn build_err(src: &str) -> FilterError {
    match build(src) {
        Ok((s, _)) => panic!("{src:?} built: {s}"),
        Err(e) => e,
    }
}
