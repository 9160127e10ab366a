//! The single error type of the crate.

use std::fmt;

/// What went wrong, coarsely (every kind maps to HTTP 400 in the API layer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Lexical or grammatical error.
    Syntax,
    /// The expression (or a parenthesised group) contains nothing but whitespace/comments.
    Empty,
    /// The filter is longer than the allowed number of bytes.
    TooLong,
    /// More comparisons than allowed (counted while building, like PocketBase).
    TooManyExpressions,
    /// Too many sort fields or a too long sort field.
    SortLimit,
    /// Nesting deeper than the crate's recursion guard.
    TooDeep,
    /// An operand could not be resolved, a function call is invalid, etc.
    Invalid,
}

/// A filter/sort error. `pos` is a byte offset into the source string when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub kind: ErrorKind,
    pub pos: Option<usize>,
    pub message: String,
}

impl FilterError {
    pub fn new(kind: ErrorKind, pos: Option<usize>, message: impl Into<String>) -> Self {
        Self {
            kind,
            pos,
            message: message.into(),
        }
    }

    /// Syntax error at a byte position.
    pub fn syntax(pos: usize, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Syntax, Some(pos), message)
    }

    /// Resolution/validation error without a position (resolvers usually return this).
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, None, message)
    }

    /// Attaches a position if the error has none yet.
    pub fn at(mut self, pos: usize) -> Self {
        if self.pos.is_none() {
            self.pos = Some(pos);
        }
        self
    }

    /// Prefixes the message (keeps kind and position).
    pub fn context(mut self, prefix: impl fmt::Display) -> Self {
        self.message = format!("{prefix}{}", self.message);
        self
    }

    pub fn is_empty_expression(&self) -> bool {
        self.kind == ErrorKind::Empty
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pos {
            Some(p) => write!(f, "{} (at byte {p})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for FilterError {}
