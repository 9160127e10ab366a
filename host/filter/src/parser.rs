//! Parser: token stream -> [`Expr`], with the same state machine (and quirks) as fexpr.

use crate::ast::{Comparison, Expr, Join, Joined, Op, Operand};
use crate::error::{ErrorKind, FilterError};
use crate::lexer::{Lexer, Tok};

/// PocketBase's `search.MaxFilterLength` (bytes), applied to client-supplied `filter` params.
pub const MAX_FILTER_LENGTH: usize = 3500;

/// Recursion guard for `( … )` nesting (PocketBase has none; no real filter comes close).
pub const MAX_GROUP_DEPTH: usize = 128;

/// Parser limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// Maximum source length in bytes (`None` = unlimited, as for collection rules).
    pub max_length: Option<usize>,
    /// Maximum group nesting (the top level counts as 1).
    pub max_depth: usize,
}

impl Default for ParseOptions {
    fn default() -> Self {
        Self {
            max_length: Some(MAX_FILTER_LENGTH),
            max_depth: MAX_GROUP_DEPTH,
        }
    }
}

impl ParseOptions {
    /// No length limit (PocketBase applies the 3500-byte limit only to list `filter` params,
    /// not to collection rules or realtime/`findRecordsByFilter` filters).
    pub fn without_length_limit() -> Self {
        Self {
            max_length: None,
            ..Self::default()
        }
    }
}

/// Parses a filter with the default limits (≤ 3500 bytes).
///
/// An input consisting only of whitespace/comments is an [`ErrorKind::Empty`] error, like in
/// PocketBase; callers treat the *empty string* as "no condition" before calling this.
pub fn parse(src: &str) -> Result<Expr, FilterError> {
    parse_with(src, &ParseOptions::default())
}

/// Parses a filter with explicit limits.
pub fn parse_with(src: &str, opts: &ParseOptions) -> Result<Expr, FilterError> {
    if let Some(max) = opts.max_length {
        if src.len() > max {
            return Err(FilterError::new(
                ErrorKind::TooLong,
                Some(max),
                format!(
                    "max filter length limit reached ({} > {max} bytes)",
                    src.len()
                ),
            ));
        }
    }
    let items = parse_list(src, 0, src.len(), 1, opts)?;
    Ok(Expr::Group(items))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    BeforeSign,
    Sign,
    AfterSign,
    Join,
}

fn operand_from(tok: Tok) -> Result<Operand, Tok> {
    match tok {
        Tok::Identifier(s) => Ok(Operand::Identifier(s)),
        Tok::Text(s) => Ok(Operand::Text(s)),
        Tok::Number(n) => Ok(Operand::Number(n)),
        Tok::Function { name, args } => Ok(Operand::Function { name, args }),
        other => Err(other),
    }
}

fn parse_list(
    src: &str,
    start: usize,
    end: usize,
    depth: usize,
    opts: &ParseOptions,
) -> Result<Vec<Joined>, FilterError> {
    let mut lexer = Lexer::new(src, start, end);
    let mut result: Vec<Joined> = Vec::new();
    let mut step = Step::BeforeSign;
    let mut join = Join::And;
    let mut left: Option<(Operand, usize)> = None;
    let mut op: Option<Op> = None;
    let mut started = false;

    loop {
        let token = lexer.next_token()?;
        let token_pos = token.start;
        let literal = lexer.slice(token.start, token.end);
        match token.tok {
            Tok::Eof => break,
            Tok::Whitespace | Tok::Comment => continue,
            Tok::Group {
                inner_start,
                inner_end,
            } => {
                if depth + 1 > opts.max_depth {
                    return Err(FilterError::new(
                        ErrorKind::TooDeep,
                        Some(token_pos),
                        format!("max group nesting reached (max: {})", opts.max_depth),
                    ));
                }
                // fexpr accepts a group at any step; a pending partial comparison is dropped
                let items = parse_list(src, inner_start, inner_end, depth + 1, opts)?;
                if !items.is_empty() {
                    result.push(Joined {
                        join,
                        expr: Expr::Group(items),
                    });
                }
                step = Step::Join;
                continue;
            }
            tok => match step {
                Step::BeforeSign => {
                    let type_name = tok.type_name();
                    let operand = operand_from(tok).map_err(|_| {
                        FilterError::syntax(
                            token_pos,
                            format!(
                                "expected left operand (identifier, function, text or number), got {literal:?} ({type_name})"
                            ),
                        )
                    })?;
                    left = Some((operand, token_pos));
                    started = true;
                    step = Step::Sign;
                }
                Step::Sign => match tok {
                    Tok::Sign(o) => {
                        op = Some(o);
                        step = Step::AfterSign;
                    }
                    other => {
                        return Err(FilterError::syntax(
                            token_pos,
                            format!(
                                "expected a sign operator, got {literal:?} ({})",
                                other.type_name()
                            ),
                        ))
                    }
                },
                Step::AfterSign => {
                    let type_name = tok.type_name();
                    let right = operand_from(tok).map_err(|_| {
                        FilterError::syntax(
                            token_pos,
                            format!(
                                "expected right operand (identifier, function, text or number), got {literal:?} ({type_name})"
                            ),
                        )
                    })?;
                    let (Some((l, lpos)), Some(o)) = (left.take(), op.take()) else {
                        return Err(FilterError::syntax(
                            token_pos,
                            "invalid or incomplete filter expression",
                        ));
                    };
                    result.push(Joined {
                        join,
                        expr: Expr::Compare(Comparison {
                            left: l,
                            op: o,
                            right,
                            pos: lpos,
                            right_pos: token_pos,
                        }),
                    });
                    step = Step::Join;
                }
                Step::Join => match tok {
                    Tok::Join(j) => {
                        join = j;
                        step = Step::BeforeSign;
                    }
                    other => {
                        return Err(FilterError::syntax(
                            token_pos,
                            format!("expected && or ||, got {literal:?} ({})", other.type_name()),
                        ))
                    }
                },
            },
        }
    }

    if step != Step::Join {
        if result.is_empty() && !started {
            return Err(FilterError::new(
                ErrorKind::Empty,
                Some(start),
                "empty filter expression",
            ));
        }
        return Err(FilterError::syntax(
            end,
            "invalid or incomplete filter expression",
        ));
    }
    Ok(result)
}
