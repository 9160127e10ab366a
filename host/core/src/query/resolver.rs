//! The record field resolver (PocketBase's `RecordFieldResolver` + its runner): resolves one
//! identifier of a filter/rule to SQL, registering the LEFT JOINs it needs on the resolver
//! and describing multi-valued paths with a multi-match sub-query.

use std::sync::Arc;

use pocketbun_filter::{quote_ident, FieldResolver, FilterError, MultiMatch, MultiMatchJoin, NullFallback, Params, Resolved, SqlValue};

use super::sqlutil::{col, columnify, has_single_column_unique_index, json_array_length, json_each, json_extract};
use crate::model::{Collection, Field, FieldType};
use crate::record::rules::RequestInfo;
use crate::schema_cache::Schema;

/// Max relation hops in one path.
pub const MAX_NESTED_RELS: usize = 6;

/// Fields of the auth record resolved without joining its collection.
const PLAIN_AUTH_FIELDS: [&str; 6] = ["id", "collectionId", "collectionName", "email", "emailVisibility", "verified"];

/// One `LEFT JOIN` (raw SQL parts; aliases unquoted).
#[derive(Debug, Clone, PartialEq)]
pub struct Join {
    pub table: String,
    pub alias: String,
    pub on: Option<String>,
}

impl Join {
    pub fn sql(&self) -> String {
        match &self.on {
            Some(on) => format!("LEFT JOIN {} {} ON {}", self.table, quote_ident(&self.alias), on),
            None => format!("LEFT JOIN {} {}", self.table, quote_ident(&self.alias)),
        }
    }
}

pub(crate) fn err(msg: impl Into<String>) -> FilterError {
    FilterError::invalid(msg.into())
}

/// Resolves identifiers against a base collection (see the module docs).
pub struct RecordResolver<'a> {
    pub(crate) schema: &'a Schema,
    pub(crate) base: Arc<Collection>,
    /// Table the base rows come from (the collection, or a CTE holding an unsaved record).
    pub(crate) base_table: String,
    /// Alias of the base table in the statement.
    pub(crate) base_alias: String,
    pub(crate) request: &'a RequestInfo,
    /// Hidden fields (and collections with a locked listRule) are usable only when set.
    pub allow_hidden: bool,
    pub(crate) joins: Vec<Join>,
    /// Joined collections whose listRule must constrain the query (client filters only).
    pub(crate) rule_joins: Vec<(Arc<Collection>, String)>,
    pub(crate) alias_suffix: String,
    pub(crate) counter: usize,
}

impl<'a> RecordResolver<'a> {
    pub fn new(schema: &'a Schema, base: &Collection, request: &'a RequestInfo, allow_hidden: bool) -> Self {
        let base_arc = schema.find(&base.id).filter(|c| c.name == base.name).unwrap_or_else(|| Arc::new(base.clone()));
        Self {
            schema,
            base_table: base.name.clone(),
            base_alias: base.name.clone(),
            base: base_arc,
            request,
            allow_hidden,
            joins: vec![],
            rule_joins: vec![],
            alias_suffix: String::new(),
            counter: 0,
        }
    }

    /// Resolves the base collection from another table/alias (a CTE or a join alias).
    pub fn with_base_alias(mut self, table: &str, alias: &str) -> Self {
        self.base_table = table.to_string();
        self.base_alias = alias.to_string();
        self
    }

    pub fn joins(&self) -> &[Join] {
        &self.joins
    }

    pub(crate) fn load_collection(&self, name_or_id: &str) -> Option<Arc<Collection>> {
        if name_or_id == self.base.name || name_or_id == self.base.id {
            return Some(self.base.clone());
        }
        self.schema.find(name_or_id)
    }

    /// Registers (or replaces, by alias) a join. Joining a collection outside superuser
    /// context requires its listRule to be non-null; the rule then constrains the query.
    pub(crate) fn register_join(&mut self, table: String, alias: String, on: Option<String>, coll: Option<&Arc<Collection>>) -> Result<(), FilterError> {
        if !self.allow_hidden {
            if let Some(c) = coll {
                if c.list_rule.is_none() {
                    return Err(err(format!("{:?} fields can be accessed only when allowHiddenFields is enabled or by superusers", c.name)));
                }
                match self.rule_joins.iter_mut().find(|(_, a)| *a == alias) {
                    Some(existing) => existing.0 = c.clone(),
                    None => self.rule_joins.push((c.clone(), alias.clone())),
                }
            }
        }
        let join = Join { table, alias, on };
        match self.joins.iter_mut().find(|j| j.alias == join.alias) {
            Some(existing) => *existing = join,
            None => self.joins.push(join),
        }
        Ok(())
    }

    pub(crate) fn next_id(&mut self) -> usize {
        self.counter += 1;
        self.counter
    }
}

impl FieldResolver for RecordResolver<'_> {
    fn resolve(&mut self, identifier: &str, params: &mut Params) -> Result<Resolved, FilterError> {
        check_allowed(identifier)?;
        let mut runner = Runner::new(self, params, identifier);
        runner.run()
    }

    fn rowid(&mut self) -> String {
        format!("{}._rowid_", quote_ident(&self.base_alias))
    }
}

/// PocketBase's allowed field patterns.
fn check_allowed(name: &str) -> Result<(), FilterError> {
    let word = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let path_ok = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':')) && s.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
    let ok = if let Some(rest) = name.strip_prefix("@request.") {
        match rest.split_once('.') {
            None => rest == "context" || rest == "method",
            Some((ns, tail)) => matches!(ns, "auth" | "body" | "query" | "headers") && !tail.is_empty() && path_ok(tail),
        }
    } else if let Some(rest) = name.strip_prefix("@collection.") {
        match rest.split_once('.') {
            Some((coll, tail)) => {
                let (n, alias) = coll.split_once(':').unwrap_or((coll, "x"));
                word(n) && word(alias) && path_ok(tail)
            }
            None => false,
        }
    } else {
        name.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') && path_ok(name)
    };
    if ok {
        Ok(())
    } else {
        Err(err(format!("failed to resolve field {name:?}")))
    }
}

/// Splits `name:modifier`, validating the modifier.
pub(crate) fn split_modifier(combined: &str) -> Result<(&str, &str), FilterError> {
    let parts: Vec<&str> = combined.split(':').collect();
    if parts.len() != 2 {
        return Ok((combined, ""));
    }
    match parts[1] {
        "isset" | "each" | "length" | "lower" | "changed" => Ok((parts[0], parts[1])),
        _ => Err(err(format!("unknown modifier in {combined:?}"))),
    }
}

fn is_multi_valuer(f: &Field) -> bool {
    matches!(f.kind, FieldType::Select | FieldType::Relation | FieldType::File)
}

/// One identifier resolution (PocketBase's `runner`).
pub(crate) struct Runner<'r, 'a> {
    pub(crate) r: &'r mut RecordResolver<'a>,
    pub(crate) params: &'r mut Params,
    pub(crate) field_name: String,
    pub(crate) props: Vec<String>,
    pub(crate) coll: Arc<Collection>,
    pub(crate) alias: String,
    nullify_missing: bool,
    pub(crate) with_mm: bool,
    pub(crate) mm_alias: String,
    pub(crate) mm: MultiMatch,
}

impl<'r, 'a> Runner<'r, 'a> {
    fn new(r: &'r mut RecordResolver<'a>, params: &'r mut Params, field_name: &str) -> Self {
        let props: Vec<String> = field_name.split('.').map(str::to_string).collect();
        let alias = r.base_alias.clone();
        let mm_alias = format!("__mm_{alias}");
        let mm = MultiMatch {
            target_alias: quote_ident(&alias),
            from_table: quote_ident(&r.base_table),
            from_alias: quote_ident(&mm_alias),
            ..Default::default()
        };
        Self {
            nullify_missing: props[0] == "@request",
            coll: r.base.clone(),
            r,
            params,
            field_name: field_name.to_string(),
            props,
            alias,
            with_mm: false,
            mm_alias,
            mm,
        }
    }

    fn run(&mut self) -> Result<Resolved, FilterError> {
        match self.props[0].as_str() {
            "@collection" => self.process_collection_field(),
            "@request" => self.process_request_field(),
            _ => self.process_props(),
        }
    }

    fn null() -> Result<Resolved, FilterError> {
        Ok(Resolved::sql("NULL"))
    }

    fn process_collection_field(&mut self) -> Result<Resolved, FilterError> {
        if self.props.len() < 3 {
            return Err(err(format!("invalid @collection field path in {:?}", self.field_name)));
        }
        let (name, alias) = match self.props[1].split_once(':') {
            Some((n, a)) => (n.to_string(), Some(a.to_string())),
            None => (self.props[1].clone(), None),
        };
        let coll = self.r.load_collection(&name).ok_or_else(|| err(format!("failed to load collection {name:?}")))?;
        self.alias = match alias.filter(|a| !a.is_empty()) {
            Some(a) => columnify(&format!("__collection_alias_{a}")) + &self.r.alias_suffix,
            None => columnify(&format!("__collection_{}", coll.name)) + &self.r.alias_suffix,
        };
        self.with_mm = true;
        self.r.register_join(quote_ident(&coll.name), self.alias.clone(), None, Some(&coll))?;
        self.mm_alias = format!("__mm_{}", self.alias);
        self.mm.joins.push(MultiMatchJoin { table: quote_ident(&coll.name), alias: quote_ident(&self.mm_alias), on: None });
        self.coll = coll;
        self.props.drain(..2);
        self.process_props()
    }

    /// `@request.auth.<field…>` of a non-plain field: joins the auth collection.
    pub(crate) fn process_auth_field(&mut self) -> Result<Resolved, FilterError> {
        let Some(auth) = self.r.request.auth.as_ref() else { return Self::null() };
        if self.props.len() == 3 && PLAIN_AUTH_FIELDS.contains(&self.props[2].as_str()) {
            let path: Vec<String> = self.props[1..].to_vec();
            return self.static_field(&path);
        }
        let auth_id = auth.id().to_string();
        let coll = self.r.load_collection(&auth.collection.id).unwrap_or_else(|| auth.collection.clone());
        self.alias = format!("__auth_{}{}", columnify(&coll.name), self.r.alias_suffix);
        let p = self.params.bind(SqlValue::Text(auth_id.clone()));
        let on = format!("{} = {p}", col(&self.alias, "id"));
        self.r.register_join(quote_ident(&coll.name), self.alias.clone(), Some(on), Some(&coll))?;
        self.mm_alias = format!("__mm_{}", self.alias);
        let p2 = self.params.reserve();
        self.mm.params.push((p2.clone(), SqlValue::Text(auth_id)));
        self.mm.joins.push(MultiMatchJoin {
            table: quote_ident(&coll.name),
            alias: quote_ident(&self.mm_alias),
            on: Some(format!("{} = {p2}", col(&self.mm_alias, "id"))),
        });
        self.coll = coll;
        self.props.drain(..2);
        self.process_props()
    }

    pub(crate) fn process_props(&mut self) -> Result<Resolved, FilterError> {
        let total = self.props.len();
        for i in 0..total {
            let prop = self.props[i].clone();
            let coll = self.coll.clone();
            if i == total - 1 {
                return self.finalize(&coll, &prop);
            }
            let field = coll.field(&prop);
            if let Some(f) = field {
                if f.hidden && !self.r.allow_hidden {
                    return Err(err(format!("non-filterable field {prop:?}")));
                }
                if matches!(f.kind, FieldType::Json | FieldType::GeoPoint) {
                    return Ok(self.json_path(&prop, i));
                }
            }
            if i >= MAX_NESTED_RELS {
                return Err(err(format!("max nested relations reached for field {prop:?}")));
            }
            match field {
                None => {
                    if let Some(res) = self.back_relation(&coll, &prop)? {
                        return Ok(res);
                    }
                }
                Some(f) => {
                    if f.kind != FieldType::Relation {
                        return Err(err(format!("field {prop:?} is not a valid relation")));
                    }
                    let f = f.clone();
                    if !f.is_multiple() && i == total - 2 && self.props[i + 1] == "id" {
                        return self.finalize(&coll, &f.name);
                    }
                    self.direct_relation(&f)?;
                }
            }
        }
        Err(err(format!("failed to resolve field {:?}", self.field_name)))
    }

    fn json_path(&mut self, prop: &str, i: usize) -> Resolved {
        let mut path = String::new();
        for (j, p) in self.props[i + 1..].iter().enumerate() {
            let clean = columnify(p);
            if p.parse::<i64>().is_ok() {
                path.push('[');
                path.push_str(&clean);
                path.push(']');
            } else {
                if j > 0 {
                    path.push('.');
                }
                path.push_str(&clean);
            }
        }
        if !path.is_empty() && !path.starts_with('[') {
            path.insert(0, '.');
        }
        let p1 = self.params.bind(SqlValue::Text(format!("${path}")));
        let p2 = self.params.bind(SqlValue::Text(format!("$.pb{path}")));
        let mut res = Resolved::sql(json_extract(&col(&self.alias, prop), &p1, &p2)).with_null_fallback(NullFallback::Disabled);
        if self.with_mm {
            self.mm.value = json_extract(&col(&self.mm_alias, prop), &p1, &p2);
            res = res.with_multi_match(self.mm.clone());
        }
        res
    }

    /// `collection_via_field`; `Ok(Some(NULL))` when unresolvable inside `@request`.
    fn back_relation(&mut self, coll: &Arc<Collection>, prop: &str) -> Result<Option<Resolved>, FilterError> {
        let missing = |nullify: bool, msg: String| if nullify { Ok(Some(Resolved::sql("NULL"))) } else { Err(err(msg)) };
        let word = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let Some(pos) = prop.rfind("_via_").filter(|&p| word(&prop[..p]) && word(&prop[p + 5..])) else {
            return missing(self.nullify_missing, format!("failed to resolve field {prop:?}"));
        };
        let (back_name, back_field_name) = (&prop[..pos], &prop[pos + 5..]);
        let Some(back) = self.r.load_collection(back_name) else {
            return missing(self.nullify_missing, format!("failed to load back relation field {prop:?} collection"));
        };
        let Some(bf) = back.field(back_field_name).cloned() else {
            return missing(self.nullify_missing, format!("missing back relation field {back_field_name:?}"));
        };
        if bf.kind != FieldType::Relation {
            return missing(self.nullify_missing, format!("invalid back relation field {back_field_name:?}"));
        }
        if bf.hidden && !self.r.allow_hidden {
            return Err(err(format!("non-filterable back relation field {:?}", bf.name)));
        }
        if bf.opt_str("collectionId") != coll.id {
            return missing(self.nullify_missing, format!("invalid collection reference of a back relation field {:?}", bf.name));
        }
        let clean_prop = columnify(prop);
        let suffix = self.r.alias_suffix.clone();
        let new_alias = format!("{}_{clean_prop}{suffix}", self.alias);
        let table = quote_ident(&back.name);
        let multiple = bf.is_multiple();
        let on = if multiple {
            let je = format!("__je_{new_alias}");
            format!(
                "{} IN (SELECT {} FROM {} {})",
                col(&self.alias, "id"),
                col(&je, "value"),
                json_each(&col(&new_alias, &bf.name)),
                quote_ident(&je)
            )
        } else {
            format!("{} = {}", col(&new_alias, &bf.name), col(&self.alias, "id"))
        };
        self.r.register_join(table.clone(), new_alias.clone(), Some(on), Some(&back))?;
        self.alias = new_alias;

        if multiple {
            self.with_mm = true;
        } else if !self.with_mm {
            self.with_mm = !has_single_column_unique_index(&back.indexes, &bf.name);
        }
        let new_alias2 = format!("{}_{clean_prop}{suffix}", self.mm_alias);
        let on2 = if multiple {
            let je2 = format!("__je_{new_alias2}");
            format!(
                "{} IN (SELECT {} FROM {} {})",
                col(&self.mm_alias, "id"),
                col(&je2, "value"),
                json_each(&col(&new_alias2, &bf.name)),
                quote_ident(&je2)
            )
        } else {
            format!("{} = {}", col(&new_alias2, &bf.name), col(&self.mm_alias, "id"))
        };
        self.mm.joins.push(MultiMatchJoin { table, alias: quote_ident(&new_alias2), on: Some(on2) });
        self.mm_alias = new_alias2;
        self.coll = back;
        Ok(None)
    }

    fn direct_relation(&mut self, f: &Field) -> Result<(), FilterError> {
        let rel = self
            .r
            .load_collection(f.opt_str("collectionId"))
            .ok_or_else(|| err(format!("failed to load field {:?} collection", f.name)))?;
        let suffix = self.r.alias_suffix.clone();
        let new_alias = format!("{}_{}{suffix}", self.alias, f.name);
        let table = quote_ident(&rel.name);
        let field_col = col(&self.alias, &f.name);
        if !f.is_multiple() {
            let on = format!("{} = {field_col}", col(&new_alias, "id"));
            self.r.register_join(table.clone(), new_alias.clone(), Some(on), Some(&rel))?;
        } else {
            let je = format!("__je_{new_alias}");
            self.r.register_join(json_each(&field_col), je.clone(), None, None)?;
            let on = format!("{} = {}", col(&new_alias, "id"), col(&je, "value"));
            self.r.register_join(table.clone(), new_alias.clone(), Some(on), Some(&rel))?;
        }
        self.alias = new_alias;

        if f.is_multiple() {
            self.with_mm = true;
        }
        let new_alias2 = format!("{}_{}", self.mm_alias, f.name);
        let field_col2 = col(&self.mm_alias, &f.name);
        if !f.is_multiple() {
            self.mm.joins.push(MultiMatchJoin {
                table,
                alias: quote_ident(&new_alias2),
                on: Some(format!("{} = {field_col2}", col(&new_alias2, "id"))),
            });
        } else {
            let je2 = format!("{}_{}_je", self.mm_alias, f.name);
            self.mm.joins.push(MultiMatchJoin { table: json_each(&field_col2), alias: quote_ident(&je2), on: None });
            self.mm.joins.push(MultiMatchJoin {
                table,
                alias: quote_ident(&new_alias2),
                on: Some(format!("{} = {}", col(&new_alias2, "id"), col(&je2, "value"))),
            });
        }
        self.mm_alias = new_alias2;
        self.coll = rel;
        Ok(())
    }

    fn finalize(&mut self, coll: &Arc<Collection>, prop: &str) -> Result<Resolved, FilterError> {
        let (name, modifier) = split_modifier(prop)?;
        let Some(field) = coll.field(name) else {
            if self.nullify_missing {
                return Self::null();
            }
            return Err(err(format!("unknown field {name:?}")));
        };
        if field.hidden && !self.r.allow_hidden {
            return Err(err(format!("non-filterable field {name:?}")));
        }
        let column = col(&self.alias, &field.name);
        let mm_column = col(&self.mm_alias, &field.name);
        let multi_valuer = is_multi_valuer(field);

        if modifier == "length" && multi_valuer {
            let mut res = Resolved::sql(json_array_length(&column));
            if self.with_mm {
                self.mm.value = json_array_length(&mm_column);
                res = res.with_multi_match(self.mm.clone());
            }
            return Ok(res);
        }
        if modifier == "each" && multi_valuer {
            let suffix = self.r.alias_suffix.clone();
            let je = format!("__je_{}_{}{suffix}", self.alias, field.name);
            self.r.register_join(json_each(&column), je.clone(), None, None)?;
            let mut res = Resolved::sql(col(&je, "value"));
            if field.is_multiple() {
                self.with_mm = true;
            }
            if self.with_mm {
                let je2 = format!("__je_{}_{}{suffix}", self.mm_alias, field.name);
                self.mm.joins.push(MultiMatchJoin { table: json_each(&mm_column), alias: quote_ident(&je2), on: None });
                self.mm.value = col(&je2, "value");
                res = res.with_multi_match(self.mm.clone());
            }
            return Ok(res);
        }

        let mut sql = column.clone();
        let mut nf = NullFallback::Auto;
        if self.with_mm {
            self.mm.value = mm_column.clone();
        }
        if field.kind == FieldType::Json {
            nf = NullFallback::Disabled;
            sql = json_extract(&column, "'$'", "'$.pb'");
            if self.with_mm {
                self.mm.value = json_extract(&mm_column, "'$'", "'$.pb'");
            }
        }
        if modifier == "lower" {
            sql = format!("LOWER({sql})");
            if self.with_mm {
                self.mm.value = format!("LOWER({})", self.mm.value);
            }
        }
        let mut res = Resolved::sql(sql).with_null_fallback(nf);
        if self.with_mm {
            res = res.with_multi_match(self.mm.clone());
        }
        if field.name == "email" && !self.r.allow_hidden && coll.is_auth() {
            let visible = col(&self.alias, "emailVisibility");
            res = res.with_after_build(move |expr| format!("({expr} AND {visible} = TRUE)"));
        }
        Ok(res)
    }
}
