//! Tokenizer for the filter language, following the scanning rules of fexpr (the Go library
//! PocketBase uses).
//!
//! Notable rules kept on purpose (they decide which filters are accepted):
//! * whitespace is only space, `\t` and `\n`;
//! * a NUL character reads as end of input: at the start of a token it ends the expression
//!   (the rest is ignored), inside a token it terminates that token and is consumed;
//! * a group `( … )` is first cut out by counting parentheses (skipping quoted texts only, not
//!   comments) and its inner text is then parsed on its own;
//! * function calls are scanned together with their arguments; nesting is limited to 3 levels.

use crate::ast::{Join, Op, Operand};
use crate::error::FilterError;

/// Maximum function nesting (`f(g(h(x)))` is the deepest accepted form).
pub const MAX_FUNC_DEPTH: i32 = 3;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Whitespace,
    Comment,
    Identifier(String),
    Function {
        name: String,
        args: Vec<Operand>,
    },
    Number(f64),
    Text(String),
    Sign(Op),
    Join(Join),
    /// Byte range of the text between the parentheses.
    Group {
        inner_start: usize,
        inner_end: usize,
    },
    Eof,
}

impl Tok {
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Tok::Whitespace => "whitespace",
            Tok::Comment => "comment",
            Tok::Identifier(_) => "identifier",
            Tok::Function { .. } => "function",
            Tok::Number(_) => "number",
            Tok::Text(_) => "text",
            Tok::Sign(_) => "sign",
            Tok::Join(_) => "join",
            Tok::Group { .. } => "group",
            Tok::Eof => "eof",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

pub(crate) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    end: usize,
    last_len: usize,
}

const EOF: char = '\0';

fn is_ws(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\n'
}
fn is_letter(c: char) -> bool {
    c.is_ascii_alphabetic()
}
fn is_digit(c: char) -> bool {
    c.is_ascii_digit()
}
fn is_text_start(c: char) -> bool {
    c == '\'' || c == '"'
}
fn is_number_start(c: char) -> bool {
    c == '-' || is_digit(c)
}
fn is_sign_char(c: char) -> bool {
    matches!(c, '=' | '?' | '!' | '>' | '<' | '~')
}
fn is_join_char(c: char) -> bool {
    c == '&' || c == '|'
}
fn is_special_ident_start(c: char) -> bool {
    c == '@' || c == '_' || c == '#'
}
fn is_ident_start(c: char) -> bool {
    is_letter(c) || is_special_ident_start(c)
}
fn is_ident_char(c: char) -> bool {
    is_letter(c) || is_digit(c) || c == '.' || c == ':' || c == '_'
}

/// fexpr's identifier validity: must not end with `.`/`:` and must not be a lone `@`, `_`, `#`.
pub(crate) fn is_valid_identifier(s: &str) -> bool {
    let Some(last) = s.chars().last() else {
        return false;
    };
    if last == '.' || last == ':' {
        return false;
    }
    !(s.len() == 1 && is_special_ident_start(last))
}

impl<'a> Lexer<'a> {
    /// A lexer over `src[start..end]`; positions reported are offsets into the whole `src`.
    pub(crate) fn new(src: &'a str, start: usize, end: usize) -> Self {
        Self {
            src,
            pos: start,
            end,
            last_len: 0,
        }
    }

    /// Reads the next char; returns `'\0'` at the end (without advancing) and for a NUL
    /// character (advancing), exactly like fexpr's reader.
    fn read(&mut self) -> char {
        if self.pos >= self.end {
            self.last_len = 0;
            return EOF;
        }
        match self.src[self.pos..self.end].chars().next() {
            Some(c) => {
                self.last_len = c.len_utf8();
                self.pos += self.last_len;
                c
            }
            None => {
                self.last_len = 0;
                EOF
            }
        }
    }

    fn unread(&mut self) {
        self.pos -= self.last_len;
        self.last_len = 0;
    }

    fn peek_str(&self) -> &'a str {
        &self.src[self.pos..self.end]
    }

    pub(crate) fn slice(&self, start: usize, end: usize) -> &'a str {
        &self.src[start..end]
    }

    /// Scans the next token.
    pub(crate) fn next_token(&mut self) -> Result<Token, FilterError> {
        let start = self.pos;
        let ch = self.read();
        let tok = if ch == EOF {
            Tok::Eof
        } else if is_ws(ch) {
            self.scan_whitespace_rest();
            Tok::Whitespace
        } else if ch == '(' {
            self.unread();
            let (inner_start, inner_end) = self.scan_group()?;
            Tok::Group {
                inner_start,
                inner_end,
            }
        } else if is_ident_start(ch) {
            self.unread();
            self.scan_identifier(MAX_FUNC_DEPTH)?
        } else if is_number_start(ch) {
            self.unread();
            Tok::Number(self.scan_number()?)
        } else if is_text_start(ch) {
            self.unread();
            Tok::Text(self.scan_text()?)
        } else if is_sign_char(ch) {
            self.unread();
            self.scan_sign()?
        } else if is_join_char(ch) {
            self.unread();
            self.scan_join()?
        } else if ch == '/' {
            self.unread();
            self.scan_comment()?;
            Tok::Comment
        } else {
            return Err(FilterError::syntax(
                start,
                format!("unexpected character {ch:?}"),
            ));
        };
        Ok(Token {
            tok,
            start,
            end: self.pos,
        })
    }

    fn scan_whitespace_rest(&mut self) {
        loop {
            let ch = self.read();
            if ch == EOF {
                break;
            }
            if !is_ws(ch) {
                self.unread();
                break;
            }
        }
    }

    fn scan_comment(&mut self) -> Result<(), FilterError> {
        let start = self.pos;
        if self.read() != '/' || self.read() != '/' {
            return Err(FilterError::syntax(start, "invalid comment"));
        }
        loop {
            let ch = self.read();
            if ch == EOF || ch == '\n' {
                return Ok(());
            }
        }
    }

    fn scan_number(&mut self) -> Result<f64, FilterError> {
        let start = self.pos;
        let mut had_dot = false;
        let mut len = 0usize;
        loop {
            let ch = self.read();
            if ch == EOF {
                break;
            }
            let accept = is_digit(ch) || (ch == '-' && len == 0) || (ch == '.' && !had_dot);
            if !accept {
                self.unread();
                break;
            }
            if ch == '.' {
                had_dot = true;
            }
            len += 1;
        }
        // the literal is ASCII; a consumed NUL terminator is not part of it
        let literal: String = self.src[start..self.pos]
            .chars()
            .filter(|c| *c != EOF)
            .collect();
        if literal.is_empty()
            || literal == "-"
            || literal.starts_with('.')
            || literal.ends_with('.')
        {
            return Err(FilterError::syntax(
                start,
                format!("invalid number {literal:?}"),
            ));
        }
        // like `cast.ToFloat64`: anything unparsable or out of range becomes 0
        Ok(match literal.parse::<f64>() {
            Ok(v) if v.is_finite() => v,
            _ => 0.0,
        })
    }

    /// Scans a quoted text and returns it unescaped (see [`decode_escape`] for the escapes).
    fn scan_text(&mut self) -> Result<String, FilterError> {
        let start = self.pos;
        let quote = self.read();
        let mut out = String::new();
        loop {
            let ch = self.read();
            if ch == EOF {
                break;
            }
            if ch == '\\' {
                let next = self.read();
                if next == EOF {
                    break;
                }
                self.decode_escape(next, &mut out);
                continue;
            }
            if ch == quote {
                return Ok(out);
            }
            out.push(ch);
        }
        let raw = &self.src[start..self.pos];
        Err(FilterError::syntax(
            start,
            format!("invalid quoted text {raw:?}"),
        ))
    }

    /// Decodes the escape whose backslash and first char (`c`) were already read.
    /// Known escapes: `\\ \' \" \n \r \t \f \v \a \xHH \uHHHH \UHHHHHHHH`; anything else
    /// (e.g. `\%`, `\_`, `\d`, and `\b`: PocketBase 0.40 matches `'a\b'` against a literal
    /// backslash) is kept verbatim, backslash included.
    fn decode_escape(&mut self, c: char, out: &mut String) {
        let simple = match c {
            '\\' => Some('\\'),
            '\'' => Some('\''),
            '"' => Some('"'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'f' => Some('\u{c}'),
            'v' => Some('\u{b}'),
            'a' => Some('\u{7}'),
            _ => None,
        };
        if let Some(s) = simple {
            out.push(s);
            return;
        }
        let digits = match c {
            'x' => 2,
            'u' => 4,
            'U' => 8,
            _ => 0,
        };
        if digits > 0 {
            if let Some(v) = self.take_hex(digits) {
                if c == 'u' && (0xD800..0xDC00).contains(&v) {
                    // a UTF-16 surrogate pair as emitted by JSON encoders
                    let b = self.peek_str().as_bytes();
                    if b.len() >= 6
                        && b[0] == b'\\'
                        && b[1] == b'u'
                        && b[2..6].iter().all(|x| x.is_ascii_hexdigit())
                    {
                        let lo = b[2..6].iter().fold(0u32, |acc, x| {
                            acc * 16 + (*x as char).to_digit(16).unwrap_or(0)
                        });
                        if (0xDC00..0xE000).contains(&lo) {
                            self.pos += 6;
                            let cp = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
                            out.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
                            return;
                        }
                    }
                }
                out.push(char::from_u32(v).unwrap_or('\u{FFFD}'));
                return;
            }
        }
        out.push('\\');
        out.push(c);
    }

    fn take_hex(&mut self, n: usize) -> Option<u32> {
        let rest = self.peek_str();
        let hex = rest.get(..n)?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let v = u32::from_str_radix(hex, 16).ok()?;
        self.pos += n;
        Some(v)
    }

    fn scan_sign(&mut self) -> Result<Tok, FilterError> {
        let start = self.pos;
        let lit = self.scan_run(is_sign_char);
        match Op::from_symbol(&lit) {
            Some(op) => Ok(Tok::Sign(op)),
            None => Err(FilterError::syntax(
                start,
                format!("invalid sign operator {lit:?}"),
            )),
        }
    }

    fn scan_join(&mut self) -> Result<Tok, FilterError> {
        let start = self.pos;
        let lit = self.scan_run(is_join_char);
        match lit.as_str() {
            "&&" => Ok(Tok::Join(Join::And)),
            "||" => Ok(Tok::Join(Join::Or)),
            _ => Err(FilterError::syntax(
                start,
                format!("invalid join operator {lit:?}"),
            )),
        }
    }

    fn scan_run(&mut self, accept: fn(char) -> bool) -> String {
        let mut lit = String::new();
        loop {
            let ch = self.read();
            if ch == EOF {
                break;
            }
            if !accept(ch) {
                self.unread();
                break;
            }
            lit.push(ch);
        }
        lit
    }

    /// Cuts out a `( … )` group: returns the byte range of its inner text.
    fn scan_group(&mut self) -> Result<(usize, usize), FilterError> {
        let start = self.pos;
        self.read(); // '('
        let inner_start = self.pos;
        let mut open = 1usize;
        loop {
            let ch_pos = self.pos;
            let ch = self.read();
            if ch == EOF {
                break;
            }
            if ch == '(' {
                open += 1;
            } else if is_text_start(ch) {
                self.unread();
                self.scan_text()?;
            } else if ch == ')' {
                open -= 1;
                if open == 0 {
                    return Ok((inner_start, ch_pos));
                }
            }
        }
        Err(FilterError::syntax(
            start,
            format!("invalid formatted group - missing {open} closing bracket(s)"),
        ))
    }

    fn scan_identifier(&mut self, func_depth: i32) -> Result<Tok, FilterError> {
        let start = self.pos;
        let mut buf = String::new();
        buf.push(self.read());
        loop {
            let ch = self.read();
            if ch == EOF {
                break;
            }
            if ch == '(' {
                if func_depth <= 0 {
                    return Err(FilterError::syntax(
                        start,
                        format!("max nested function arguments reached (max: {MAX_FUNC_DEPTH})"),
                    ));
                }
                if !is_valid_identifier(&buf) {
                    return Err(FilterError::syntax(
                        start,
                        format!("invalid function name {buf:?}"),
                    ));
                }
                self.unread();
                return self.scan_function_args(buf, func_depth);
            }
            if !is_ident_char(ch) {
                self.unread();
                break;
            }
            buf.push(ch);
        }
        if !is_valid_identifier(&buf) {
            return Err(FilterError::syntax(
                start,
                format!("invalid identifier {buf:?}"),
            ));
        }
        Ok(Tok::Identifier(buf))
    }

    fn scan_function_args(&mut self, name: String, func_depth: i32) -> Result<Tok, FilterError> {
        let start = self.pos;
        self.read(); // '('
        let mut args = Vec::new();
        let mut expect_comma = false;
        loop {
            let ch_pos = self.pos;
            let ch = self.read();
            if ch == EOF {
                break;
            }
            if ch == ')' {
                return Ok(Tok::Function { name, args });
            }
            if is_ws(ch) {
                self.scan_whitespace_rest();
                continue;
            }
            if ch == '/' {
                self.unread();
                self.scan_comment().map_err(|e| {
                    e.context(format_args!(
                        "failed to scan comment in function {name:?}: "
                    ))
                })?;
                continue;
            }
            let is_comma = ch == ',';
            if expect_comma && !is_comma {
                return Err(FilterError::syntax(
                    ch_pos,
                    format!("expected comma after the last argument in function {name:?}"),
                ));
            }
            if !expect_comma && is_comma {
                return Err(FilterError::syntax(
                    ch_pos,
                    format!("unexpected comma in function {name:?}"),
                ));
            }
            expect_comma = false;
            if is_comma {
                continue;
            }
            let arg = if is_ident_start(ch) {
                self.unread();
                match self.scan_identifier(func_depth - 1) {
                    Ok(Tok::Identifier(s)) => Operand::Identifier(s),
                    Ok(Tok::Function { name, args }) => Operand::Function { name, args },
                    Ok(_) => {
                        return Err(FilterError::syntax(
                            ch_pos,
                            "unexpected function argument token",
                        ))
                    }
                    Err(e) => {
                        let lit = self.src[ch_pos..self.pos].to_string();
                        return Err(e.context(format_args!(
                            "invalid identifier argument {lit:?} in function {name:?}: "
                        )));
                    }
                }
            } else if is_number_start(ch) {
                self.unread();
                let n = self.scan_number().map_err(|e| {
                    e.context(format_args!(
                        "invalid number argument in function {name:?}: "
                    ))
                })?;
                Operand::Number(n)
            } else if is_text_start(ch) {
                self.unread();
                let t = self.scan_text().map_err(|e| {
                    e.context(format_args!("invalid text argument in function {name:?}: "))
                })?;
                Operand::Text(t)
            } else {
                return Err(FilterError::syntax(
                    ch_pos,
                    format!("unsupported argument character {ch:?} in function {name:?}"),
                ));
            };
            args.push(arg);
            expect_comma = true;
        }
        Err(FilterError::syntax(
            start,
            format!("invalid or incomplete function {name:?} (expected ')')"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Result<Vec<Tok>, FilterError> {
        let mut lx = Lexer::new(src, 0, src.len());
        let mut out = Vec::new();
        loop {
            let t = lx.next_token()?;
            if t.tok == Tok::Eof {
                return Ok(out);
            }
            if t.tok != Tok::Whitespace {
                out.push(t.tok);
            }
        }
    }

    #[test]
    fn surrogate_pairs_and_lone_surrogates() {
        assert_eq!(
            toks(r"'\ud83d\ude00'").unwrap(),
            vec![Tok::Text("😀".into())]
        );
        assert_eq!(
            toks(r"'\ud83d'").unwrap(),
            vec![Tok::Text("\u{FFFD}".into())]
        );
        assert_eq!(
            toks(r"'\ude00x'").unwrap(),
            vec![Tok::Text("\u{FFFD}x".into())]
        );
    }

    #[test]
    fn nul_handling() {
        // NUL after an identifier is consumed and scanning goes on
        assert_eq!(
            toks("a\0= 1").unwrap(),
            vec![
                Tok::Identifier("a".into()),
                Tok::Sign(Op::from_symbol("=").unwrap()),
                Tok::Number(1.0)
            ]
        );
        // NUL at a token start ends the input
        assert_eq!(
            toks("'x'\0 garbage ((").unwrap(),
            vec![Tok::Text("x".into())]
        );
    }
}
