//! Route patterns in Go 1.22 `net/http` mux syntax, as PocketBase's `routerAdd` uses them:
//! `/api/hello/{name}` (one segment), `/files/{path...}` (the rest), `/dir/` (any path
//! below), `/dir/{$}` (exactly `/dir/`). The most specific matching pattern wins.

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Literal(String),
    Param(String),
    /// `{name...}`, or an anonymous tail for patterns ending in `/`.
    Rest(Option<String>),
}

#[derive(Debug, Clone)]
pub struct RoutePattern {
    /// None = any method.
    method: Option<String>,
    segments: Vec<Segment>,
    /// Pattern ended with `/{$}`: only the path with a trailing slash matches.
    exact_trailing_slash: bool,
}

pub type Params = Vec<(String, String)>;

impl RoutePattern {
    pub fn parse(method: &str, path: &str) -> Result<Self, String> {
        let method = method.trim().to_ascii_uppercase();
        let method = (!method.is_empty() && method != "*").then_some(method);
        if !path.starts_with('/') {
            return Err(format!("route path {path:?} must start with /"));
        }
        let mut segments = Vec::new();
        let mut exact_trailing_slash = false;
        let parts: Vec<&str> = path[1..].split('/').collect();
        for (i, part) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            if let Some(inner) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                if inner == "$" {
                    if !last {
                        return Err(format!("{{$}} must end the route path {path:?}"));
                    }
                    exact_trailing_slash = true;
                } else if let Some(name) = inner.strip_suffix("...") {
                    if !last {
                        return Err(format!("{{{name}...}} must end the route path {path:?}"));
                    }
                    segments.push(Segment::Rest(Some(name.to_string())));
                } else {
                    segments.push(Segment::Param(inner.to_string()));
                }
            } else if part.is_empty() && last {
                segments.push(Segment::Rest(None));
            } else {
                segments.push(Segment::Literal(part.to_string()));
            }
        }
        Ok(Self { method, segments, exact_trailing_slash })
    }

    /// Path parameters when `method` and `path` match.
    pub fn matches(&self, method: &str, path: &str) -> Option<Params> {
        if let Some(m) = &self.method {
            // like Go's mux, a GET route also answers HEAD
            if m != method && !(m == "GET" && method == "HEAD") {
                return None;
            }
        }
        let rest_path = path.strip_prefix('/')?;
        let parts: Vec<&str> = if rest_path.is_empty() { vec![] } else { rest_path.split('/').collect() };
        let mut params = Vec::new();
        let mut i = 0;
        for seg in &self.segments {
            match seg {
                Segment::Literal(l) => {
                    if parts.get(i) != Some(&l.as_str()) {
                        return None;
                    }
                }
                Segment::Param(name) => {
                    let v = parts.get(i).filter(|v| !v.is_empty())?;
                    params.push((name.clone(), (*v).to_string()));
                }
                Segment::Rest(name) => {
                    if let Some(n) = name {
                        params.push((n.clone(), parts.get(i..).map(|p| p.join("/")).unwrap_or_default()));
                    }
                    return Some(params);
                }
            }
            i += 1;
        }
        if self.exact_trailing_slash {
            // `/dir/{$}`: the path is exactly the segments plus an empty last one
            return (parts.len() == i + 1 && parts[i].is_empty()).then_some(params);
        }
        (parts.len() == i).then_some(params)
    }

    /// Higher is more specific: literal segments first, then params; tails last.
    pub fn specificity(&self) -> (usize, usize, bool, bool) {
        let literals = self.segments.iter().filter(|s| matches!(s, Segment::Literal(_))).count();
        let params = self.segments.iter().filter(|s| matches!(s, Segment::Param(_))).count();
        let no_tail = !self.segments.iter().any(|s| matches!(s, Segment::Rest(_)));
        (literals, params, no_tail, self.method.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(m: &str, path: &str) -> RoutePattern {
        RoutePattern::parse(m, path).unwrap()
    }

    #[test]
    fn params_and_tails() {
        assert_eq!(p("GET", "/api/hello/{name}").matches("GET", "/api/hello/bob"), Some(vec![("name".into(), "bob".into())]));
        assert_eq!(p("GET", "/api/hello/{name}").matches("GET", "/api/hello/"), None);
        assert_eq!(p("GET", "/api/hello/{name}").matches("POST", "/api/hello/bob"), None);
        assert!(p("GET", "/x").matches("HEAD", "/x").is_some());
        assert_eq!(p("*", "/f/{path...}").matches("PUT", "/f/a/b"), Some(vec![("path".into(), "a/b".into())]));
        assert!(p("GET", "/dir/").matches("GET", "/dir/a/b").is_some());
        assert!(p("GET", "/dir/{$}").matches("GET", "/dir/").is_some());
        assert!(p("GET", "/dir/{$}").matches("GET", "/dir/a").is_none());
        assert!(p("GET", "/bench/hook").matches("GET", "/bench/hook/").is_none());
        assert!(p("GET", "/").matches("GET", "/").is_some());
    }

    #[test]
    fn specific_patterns_rank_higher() {
        assert!(p("GET", "/a/b").specificity() > p("GET", "/a/{x}").specificity());
        assert!(p("GET", "/a/{x}").specificity() > p("GET", "/a/{x...}").specificity());
    }
}
