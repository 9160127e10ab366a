//! PocketBase filter language (see README in this crate): a schema-agnostic lexer, parser and
//! SQLite SQL builder. Schema-specific identifier resolution plugs in through
//! [`FieldResolver`].
//!
//! ```
//! use pocketbun_filter::*;
//!
//! struct Cols;
//! impl FieldResolver for Cols {
//!     fn resolve(&mut self, id: &str, _p: &mut Params) -> Result<Resolved, FilterError> {
//!         match id {
//!             "title" | "views" => Ok(Resolved::sql(quote_ident(id))),
//!             _ => Err(FilterError::invalid(format!("unknown field {id:?}"))),
//!         }
//!     }
//! }
//!
//! let expr = parse("title ~ 'abc' && views > 10").unwrap();
//! let mut params = Params::new();
//! let sql = build_where(&expr, &mut Cols, &mut params, &BuildOptions::default()).unwrap();
//! assert_eq!(sql, "(`title` LIKE :f0 ESCAPE '\\' AND `views` > :f1)");
//! assert_eq!(params.get(":f0"), Some(&SqlValue::Text("%abc%".into())));
//! ```

mod ast;
mod error;
mod functions;
mod lexer;
mod macros;
mod params;
mod parser;
mod resolver;
mod sort;
mod sql;

pub use ast::{Comparison, Expr, Join, Joined, Op, OpKind, Operand};
pub use error::{ErrorKind, FilterError};
pub use functions::{FUNCTIONS, MAX_STRFTIME_ARGS};
pub use lexer::MAX_FUNC_DEPTH;
pub use macros::{format_datetime, macro_value, MACROS};
pub use params::{Params, SqlValue};
pub use parser::{parse, parse_with, ParseOptions, MAX_FILTER_LENGTH, MAX_GROUP_DEPTH};
pub use resolver::{
    quote_ident, AfterBuild, FieldResolver, MultiMatch, MultiMatchJoin, NullFallback, Resolved,
};
pub use sort::{
    build_order_by, build_sort_field, parse_sort, parse_sort_unchecked, SortDirection, SortField,
    MAX_SORT_FIELDS, MAX_SORT_FIELD_LENGTH, RANDOM_SORT_KEY, ROWID_SORT_KEY,
};
pub use sql::{build_where, like_pattern, BuildOptions, MAX_EXPRESSIONS};

/// Parses (with `parse_opts`) and builds in one go.
pub fn build_filter(
    src: &str,
    parse_opts: &ParseOptions,
    resolver: &mut dyn FieldResolver,
    params: &mut Params,
    opts: &BuildOptions,
) -> Result<String, FilterError> {
    let expr = parse_with(src, parse_opts)?;
    build_where(&expr, resolver, params, opts)
}
