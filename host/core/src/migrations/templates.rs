//! The JS migration files PocketBase's `migratecmd` writes, byte for byte: collection JSON
//! with sorted keys, indented by two spaces with a two-space prefix (Go's
//! `json.MarshalIndent(v, "  ", "  ")` without HTML escaping), timestamps and OAuth2
//! providers left out.

use serde_json::{Map, Value};

use crate::model::Collection;

const TYPES_DIRECTIVE: &str = "/// <reference path=\"../pb_data/types.d.ts\" />\n";

/// `migrate create NAME`.
pub fn js_blank() -> String {
    format!("{TYPES_DIRECTIVE}migrate((app) => {{\n  // add up queries...\n}}, (app) => {{\n  // add down queries...\n}})\n")
}

/// `migrate collections`: every collection, imported without deleting others.
pub fn js_snapshot(collections: &[&Collection]) -> String {
    let list = Value::Array(collections.iter().map(|c| template_json(c)).collect());
    format!(
        "{TYPES_DIRECTIVE}migrate((app) => {{\n  const snapshot = {};\n\n  return app.importCollections(snapshot, false);\n}}, (app) => {{\n  return null;\n}})\n",
        marshal(&list)
    )
}

/// The automigrate file for a change: create (no `old`), delete (no `new`) or update; `None`
/// when an update changed nothing.
pub fn js_diff(new: Option<&Collection>, old: Option<&Collection>) -> Option<String> {
    match (new, old) {
        (None, None) => None,
        (Some(n), None) => Some(js_create(n)),
        (None, Some(o)) => Some(js_delete(o)),
        (Some(n), Some(o)) => js_update(n, o),
    }
}

fn js_create(c: &Collection) -> String {
    format!(
        "{TYPES_DIRECTIVE}migrate((app) => {{\n  const collection = new Collection({});\n\n  return app.save(collection);\n}}, (app) => {{\n  const collection = app.findCollectionByNameOrId({});\n\n  return app.delete(collection);\n}})\n",
        marshal(&template_json(c)),
        go_quote(&c.id)
    )
}

fn js_delete(c: &Collection) -> String {
    format!(
        "{TYPES_DIRECTIVE}migrate((app) => {{\n  const collection = app.findCollectionByNameOrId({});\n\n  return app.delete(collection);\n}}, (app) => {{\n  const collection = new Collection({});\n\n  return app.save(collection);\n}})\n",
        go_quote(&c.id),
        marshal(&template_json(c))
    )
}

fn js_update(new: &Collection, old: &Collection) -> Option<String> {
    let new_map = as_map(sorted(without_providers(new.to_api_json())));
    let old_map = as_map(sorted(without_providers(old.to_api_json())));
    let (mut up, mut down) = (Vec::<String>::new(), Vec::<String>::new());
    const SKIP: &[&str] = &["fields", "created", "updated"];

    let up_diff = diff_maps(&old_map, &new_map, SKIP);
    if !up_diff.is_empty() {
        let down_diff = diff_maps(&new_map, &old_map, SKIP);
        up.push("// update collection data".into());
        up.push(format!("unmarshal({}, collection)\n", marshal(&Value::Object(up_diff))));
        down.push("// update collection data".into());
        down.push(format!("unmarshal({}, collection)\n", marshal(&Value::Object(down_diff))));
    }

    let fields_of = |m: &Map<String, Value>| m.get("fields").and_then(Value::as_array).cloned().unwrap_or_default();
    let (new_fields, old_fields) = (fields_of(&new_map), fields_of(&old_map));
    let id_of = |f: &Value| f.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
    let has = |list: &[Value], id: &str| list.iter().any(|f| id_of(f) == id);

    for (i, f) in old_fields.iter().enumerate() {
        let id = id_of(f);
        if has(&new_fields, &id) {
            continue;
        }
        up.push("// remove field".into());
        up.push(format!("collection.fields.removeById({})\n", go_quote(&id)));
        down.push("// add field".into());
        down.push(format!("collection.fields.addAt({i}, new Field({}))\n", marshal(f)));
    }
    for (i, f) in new_fields.iter().enumerate() {
        let id = id_of(f);
        if has(&old_fields, &id) {
            continue;
        }
        up.push("// add field".into());
        up.push(format!("collection.fields.addAt({i}, new Field({}))\n", marshal(f)));
        down.push("// remove field".into());
        down.push(format!("collection.fields.removeById({})\n", go_quote(&id)));
    }
    // changed fields (order-only changes are ignored, as in PocketBase)
    for (i, f) in new_fields.iter().enumerate() {
        let id = id_of(f);
        let Some((j, o)) = old_fields.iter().enumerate().find(|(_, o)| id_of(o) == id) else { continue };
        let (raw_new, raw_old) = (marshal(f), marshal(o));
        if raw_new == raw_old {
            continue;
        }
        up.push("// update field".into());
        up.push(format!("collection.fields.addAt({i}, new Field({raw_new}))\n"));
        down.push("// update field".into());
        down.push(format!("collection.fields.addAt({j}, new Field({raw_old}))\n"));
    }
    if up.is_empty() && down.is_empty() {
        return None;
    }
    let body = |parts: &[String]| parts.join("\n  ").trim().to_string();
    Some(format!(
        "{TYPES_DIRECTIVE}migrate((app) => {{\n  const collection = app.findCollectionByNameOrId({})\n\n  {}\n\n  return app.save(collection)\n}}, (app) => {{\n  const collection = app.findCollectionByNameOrId({})\n\n  {}\n\n  return app.save(collection)\n}})\n",
        go_quote(&old.id),
        body(&up),
        go_quote(&new.id),
        body(&down)
    ))
}

/// The collection as the templates show it: API JSON, sorted keys, no timestamps, no
/// OAuth2 providers.
fn template_json(c: &Collection) -> Value {
    let mut v = without_providers(c.to_api_json());
    if let Value::Object(m) = &mut v {
        m.remove("created");
        m.remove("updated");
    }
    // sorted last: `Map::remove` with preserve_order moves the last key into the hole
    sorted(v)
}

fn without_providers(mut v: Value) -> Value {
    if let Some(Value::Object(o)) = v.get_mut("oauth2") {
        o.remove("providers");
    }
    v
}

/// Go marshals maps with sorted keys.
fn sorted(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> = m.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sorted).collect()),
        other => other,
    }
}

fn as_map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// PocketBase's `diffMaps`: keys of `new` whose value changed (nested objects recursively,
/// only their changed keys), and `null` for keys that disappeared.
fn diff_maps(old: &Map<String, Value>, new: &Map<String, Value>, skip: &[&str]) -> Map<String, Value> {
    let mut diff = Map::new();
    for (k, v_new) in new {
        if skip.contains(&k.as_str()) {
            continue;
        }
        match old.get(k) {
            None => {
                diff.insert(k.clone(), v_new.clone());
            }
            Some(v_old) if v_old != v_new => match (v_old, v_new) {
                (Value::Object(o), Value::Object(n)) => {
                    let sub = diff_maps(o, n, &[]);
                    if !sub.is_empty() {
                        diff.insert(k.clone(), Value::Object(sub));
                    }
                }
                _ => {
                    diff.insert(k.clone(), v_new.clone());
                }
            },
            Some(_) => {}
        }
    }
    for k in old.keys() {
        if !diff.contains_key(k) && !skip.contains(&k.as_str()) && !new.contains_key(k) {
            diff.insert(k.clone(), Value::Null);
        }
    }
    as_map(sorted(Value::Object(diff)))
}

/// `json.MarshalIndent(v, "  ", "  ")`, with the HTML escapes undone like PocketBase's
/// `marhshalWithoutEscape` (serde_json does not escape `<>&` in the first place).
fn marshal(v: &Value) -> String {
    let pretty = serde_json::to_string_pretty(v).unwrap_or_else(|_| "null".into());
    pretty.replace('\n', "\n  ")
}

/// Go's `%q` for the ids (plain `[a-z0-9_]` in practice): a JSON string literal.
fn go_quote(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CollectionType, Field, FieldType};
    use serde_json::json;

    fn posts() -> Collection {
        let mut c = Collection::new_with_id(CollectionType::Base, "posts", "pbc_1");
        let mut title = Field::new(FieldType::Text, "title");
        title.id = "text1".into();
        c.fields.push(title);
        c.prepare_for_save(true, &|_| false);
        c
    }

    #[test]
    fn blank_template_matches_pocketbase() {
        assert_eq!(
            js_blank(),
            "/// <reference path=\"../pb_data/types.d.ts\" />\nmigrate((app) => {\n  // add up queries...\n}, (app) => {\n  // add down queries...\n})\n"
        );
    }

    #[test]
    fn create_template_has_sorted_keys_and_no_timestamps() {
        let out = js_diff(Some(&posts()), None).unwrap();
        assert!(out.starts_with("/// <reference path=\"../pb_data/types.d.ts\" />\nmigrate((app) => {\n  const collection = new Collection({\n    \"createRule\": null,\n"));
        assert!(out.ends_with("  const collection = app.findCollectionByNameOrId(\"pbc_1\");\n\n  return app.delete(collection);\n})\n"));
        assert!(!out.contains("\"created\""));
        let keys: Vec<&str> = out.lines().filter(|l| l.starts_with("    \"")).map(|l| l.trim().split('"').nth(1).unwrap()).collect();
        let mut sorted_keys = keys.clone();
        sorted_keys.sort();
        assert_eq!(keys, sorted_keys);
    }

    #[test]
    fn update_template_lists_data_and_field_changes() {
        let old = posts();
        let mut new = old.clone();
        new.list_rule = Some(String::new());
        new.fields.retain(|f| f.name != "title");
        let mut body = Field::new(FieldType::Editor, "body");
        body.id = "editor1".into();
        new.fields.push(body);
        let out = js_diff(Some(&new), Some(&old)).unwrap();
        let up = out.split("}, (app) => {").next().unwrap();
        assert!(up.contains("  // update collection data\n  unmarshal({\n    \"listRule\": \"\"\n  }, collection)\n"), "{up}");
        assert!(up.contains("  // remove field\n  collection.fields.removeById(\"text1\")\n"), "{up}");
        assert!(up.contains("  // add field\n  collection.fields.addAt(1, new Field({\n"), "{up}");
        assert!(js_diff(Some(&old), Some(&old)).is_none());
    }

    #[test]
    fn diff_maps_recurses_into_objects_and_nulls_removed_keys() {
        let old = as_map(json!({"a": 1, "o": {"x": 1, "y": 2}, "gone": true}));
        let new = as_map(json!({"a": 1, "o": {"x": 1, "y": 3}, "added": "v"}));
        assert_eq!(Value::Object(diff_maps(&old, &new, &[])), json!({"added": "v", "gone": null, "o": {"y": 3}}));
    }
}
