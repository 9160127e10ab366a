//! A small HTML → plain text conversion for the text/plain alternative of emails.

use regex::Regex;
use std::sync::OnceLock;

fn re(cell: &'static OnceLock<Regex>, src: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(src).expect("static regex"))
}

/// Drops head/style/script, turns links into `text [url]`, block ends and `<br>` into line
/// breaks, strips the remaining tags, decodes the common entities and trims every line.
pub fn html_to_text(html: &str) -> String {
    static SKIP: OnceLock<Regex> = OnceLock::new();
    static LINK: OnceLock<Regex> = OnceLock::new();
    static BREAK: OnceLock<Regex> = OnceLock::new();
    static BR: OnceLock<Regex> = OnceLock::new();
    static TAG: OnceLock<Regex> = OnceLock::new();
    static SPACES: OnceLock<Regex> = OnceLock::new();
    let s = re(&SKIP, r"(?is)<(head|style|script)\b.*?</(head|style|script)>").replace_all(html, "");
    let s = re(&LINK, r#"(?is)<a\b[^>]*?href\s*=\s*["']([^"']*)["'][^>]*>(.*?)</a>"#).replace_all(&s, "$2 [$1]");
    let s = re(&BREAK, r"(?i)</(p|div|h[1-6]|li|tr|table|ul|ol)>").replace_all(&s, "\n\n");
    let s = re(&BR, r"(?i)<br\s*/?>").replace_all(&s, "\n");
    let s = re(&TAG, r"(?s)<[^>]*>").replace_all(&s, "");
    let s = s.replace("&nbsp;", " ").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&");
    let spaces = re(&SPACES, r"[ \t\r]+");
    let lines: Vec<String> = s.lines().map(|l| spaces.replace_all(l.trim(), " ").to_string()).collect();
    let mut out: Vec<String> = vec![];
    for l in lines {
        if l.is_empty() && out.last().map(|p: &String| p.is_empty()).unwrap_or(true) {
            continue;
        }
        out.push(l);
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_paragraphs_links_and_entities() {
        let html = "<html><head><style>p{}</style></head><body>\n<p>Hello,</p>\n<p><a class=\"btn\" href=\"http://x/y\">Verify</a></p><p>a &amp; b<br/>c</p></body></html>";
        assert_eq!(html_to_text(html), "Hello,\n\nVerify [http://x/y]\n\na & b\nc");
    }
}
