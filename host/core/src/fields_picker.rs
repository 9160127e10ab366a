//! `?fields=` response picking, including the `:excerpt(max, withEllipsis)` modifier.

use serde_json::{Map, Value};

#[derive(Debug, Default, Clone)]
struct Node {
    children: Vec<(String, Node)>,
    modifier: Option<Excerpt>,
}

#[derive(Debug, Clone, Copy)]
struct Excerpt {
    max: usize,
    ellipsis: bool,
}

/// A parsed `fields` parameter.
#[derive(Debug, Clone)]
pub struct FieldsPicker {
    root: Node,
}

impl FieldsPicker {
    /// Parses `id,title:excerpt(10,true),expand.author.name`. Returns None for an empty
    /// parameter (no picking).
    pub fn parse(raw: &str) -> Result<Option<Self>, String> {
        let mut root = Node::default();
        let mut any = false;
        for part in split_top_level(raw) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            any = true;
            let (path, modifier) = match part.split_once(':') {
                Some((p, m)) => (p, Some(parse_excerpt(m)?)),
                None => (part, None),
            };
            let mut node = &mut root;
            for seg in path.split('.') {
                let seg = seg.trim().to_string();
                let idx = match node.children.iter().position(|(k, _)| *k == seg) {
                    Some(i) => i,
                    None => {
                        node.children.push((seg, Node::default()));
                        node.children.len() - 1
                    }
                };
                node = &mut node.children[idx].1;
            }
            if modifier.is_some() {
                node.modifier = modifier;
            }
        }
        Ok(any.then_some(Self { root }))
    }

    /// Applies the picker to a response body (list envelopes are picked per item).
    pub fn apply(&self, body: &mut Value, is_list: bool) {
        if is_list {
            if let Some(Value::Array(items)) = body.get_mut("items") {
                for item in items.iter_mut() {
                    pick(item, &self.root);
                }
            }
        } else {
            pick(body, &self.root);
        }
    }
}

fn split_top_level(s: &str) -> Vec<String> {
    let mut out = vec![];
    let mut depth = 0;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out
}

fn parse_excerpt(m: &str) -> Result<Excerpt, String> {
    let m = m.trim();
    let args = m
        .strip_prefix("excerpt(")
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| format!("unknown fields modifier {m:?}"))?;
    let mut parts = args.split(',').map(str::trim);
    let max = parts.next().and_then(|p| p.parse::<usize>().ok()).ok_or("excerpt requires a max length")?;
    let ellipsis = matches!(parts.next(), Some("true") | Some("1") | Some("t"));
    Ok(Excerpt { max, ellipsis })
}

fn pick(v: &mut Value, node: &Node) {
    if node.children.is_empty() {
        if let (Some(ex), Value::String(s)) = (node.modifier, &mut *v) {
            *s = excerpt(s, ex.max, ex.ellipsis);
        }
        return;
    }
    match v {
        Value::Array(items) => items.iter_mut().for_each(|i| pick(i, node)),
        Value::Object(map) => {
            let star = node.children.iter().find(|(k, _)| k == "*").map(|(_, n)| n);
            let mut out = Map::new();
            for (key, val) in std::mem::take(map) {
                let explicit = node.children.iter().find(|(k, _)| *k == key).map(|(_, n)| n);
                if let Some(child) = explicit.or(star) {
                    let mut val = val;
                    pick(&mut val, child);
                    out.insert(key, val);
                }
            }
            *map = out;
        }
        _ => {}
    }
}

const SKIPPED_TAGS: [&str; 12] =
    ["script", "style", "img", "svg", "video", "audio", "iframe", "object", "embed", "select", "textarea", "button"];
const BLOCK_TAGS: [&str; 14] = ["p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote"];

/// Plain-text excerpt of HTML/text: tags stripped, whitespace collapsed, truncated to `max`
/// characters, with `...` appended when truncated and requested.
pub fn excerpt(html: &str, max: usize, ellipsis: bool) -> String {
    let mut text = String::new();
    let mut chars = html.chars().peekable();
    let mut skip_until: Option<String> = None;
    while let Some(c) = chars.next() {
        if c == '<' {
            let mut tag = String::new();
            for t in chars.by_ref() {
                if t == '>' {
                    break;
                }
                tag.push(t);
            }
            let closing = tag.starts_with('/');
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase();
            if let Some(until) = &skip_until {
                if closing && *until == name {
                    skip_until = None;
                }
                continue;
            }
            if !closing && SKIPPED_TAGS.contains(&name.as_str()) && !tag.ends_with('/') && !matches!(name.as_str(), "img") {
                skip_until = Some(name.clone());
            }
            if BLOCK_TAGS.contains(&name.as_str()) {
                text.push(' ');
            }
            continue;
        }
        if skip_until.is_none() {
            text.push(c);
        }
    }
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let count = collapsed.chars().count();
    if count <= max {
        return collapsed;
    }
    let mut out: String = collapsed.chars().take(max).collect();
    out = out.trim_end().to_string();
    if ellipsis {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn picks_nested_and_star() {
        let p = FieldsPicker::parse("id,expand.author.name").unwrap().unwrap();
        let mut v = json!({"id":"1","title":"x","expand":{"author":{"name":"a","email":"e"}}});
        p.apply(&mut v, false);
        assert_eq!(v, json!({"id":"1","expand":{"author":{"name":"a"}}}));
        let p = FieldsPicker::parse("*,title:excerpt(3,true)").unwrap().unwrap();
        let mut v = json!({"items":[{"id":"1","title":"Hello"}],"page":1});
        p.apply(&mut v, true);
        assert_eq!(v, json!({"items":[{"id":"1","title":"Hel..."}],"page":1}));
    }

    #[test]
    fn excerpt_strips_tags() {
        assert_eq!(excerpt("<p>Hello</p><p>world <script>x()</script>!</p>", 100, false), "Hello world !");
    }
}
