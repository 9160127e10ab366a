//! A small separator-based tokenizer that respects parentheses and quotes, mirroring the
//! one PocketBase uses to split index column lists and view `SELECT` statements (so that
//! both parse exactly the same inputs the same way).

const WHITESPACE: [char; 8] = ['\t', '\n', '\u{0B}', '\u{0C}', '\r', ' ', '\u{85}', '\u{A0}'];

#[derive(Debug, Clone)]
pub struct Tokenizer {
    chars: Vec<char>,
    pos: usize,
    separators: Vec<char>,
    keep_separator: bool,
}

/// Returned when a token has an unclosed parenthesis or quote.
#[derive(Debug, Clone, PartialEq)]
pub struct UnbalancedError(pub String);

impl std::fmt::Display for UnbalancedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unbalanced parenthesis or quoted expression: {:?}", self.0)
    }
}

impl Tokenizer {
    pub fn new(s: &str, separators: &[char]) -> Self {
        Self { chars: s.chars().collect(), pos: 0, separators: separators.to_vec(), keep_separator: false }
    }

    /// Keeps the separator that ended a token at the token's end.
    pub fn keep_separator(mut self, keep: bool) -> Self {
        self.keep_separator = keep;
        self
    }

    /// The next non-empty token, `None` at the end of input.
    pub fn scan(&mut self) -> Option<Result<String, UnbalancedError>> {
        loop {
            if self.pos >= self.chars.len() {
                return None;
            }
            match self.read_token() {
                Ok(t) if t.is_empty() => continue,
                other => return Some(other),
            }
        }
    }

    pub fn scan_all(mut self) -> Result<Vec<String>, UnbalancedError> {
        let mut out = vec![];
        while let Some(t) = self.scan() {
            out.push(t?);
        }
        Ok(out)
    }

    fn read_token(&mut self) -> Result<String, UnbalancedError> {
        let mut buf = String::new();
        let mut parens = 0usize;
        let mut quote: Option<char> = None;
        let mut prev: Option<char> = None;
        while self.pos < self.chars.len() {
            let ch = self.chars[self.pos];
            self.pos += 1;
            if prev != Some('\\') {
                if ch == '(' && quote.is_none() {
                    parens += 1;
                } else if ch == ')' && parens > 0 && quote.is_none() {
                    parens -= 1;
                } else if matches!(ch, '\'' | '"' | '`') {
                    match quote {
                        Some(q) if q == ch => quote = None,
                        None => quote = Some(ch),
                        _ => {}
                    }
                }
            }
            if self.separators.contains(&ch) && parens == 0 && quote.is_none() {
                if self.keep_separator {
                    buf.push(ch);
                }
                break;
            }
            prev = Some(ch);
            buf.push(ch);
        }
        if parens > 0 || quote.is_some() {
            return Err(UnbalancedError(buf));
        }
        let separators = &self.separators;
        Ok(buf.trim_matches(|c: char| WHITESPACE.contains(&c) && !separators.contains(&c)).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_outside_parens_and_quotes() {
        let t = Tokenizer::new("a, b(c, d), 'e,f' , `g`", &[',']).scan_all().unwrap();
        assert_eq!(t, vec!["a", "b(c, d)", "'e,f'", "`g`"]);
    }

    #[test]
    fn keeps_separators_when_asked() {
        let t = Tokenizer::new("select a, b", &[',', ' ']).keep_separator(true).scan_all().unwrap();
        assert_eq!(t, vec!["select ", "a,", " ", "b"]);
    }

    #[test]
    fn unbalanced_input_is_an_error() {
        assert!(Tokenizer::new("a, (b", &[',']).scan_all().is_err());
        assert!(Tokenizer::new("'a", &[',']).scan_all().is_err());
    }
}
