//! PocketBase's record field resolver and query compiler: turns filters, API rules and sort
//! expressions over a collection into SQLite SQL (joins, conditions, ORDER BY, bound values).
//!
//! * [`resolver`]: the `FieldResolver` (relation paths, back-relations, `@collection`,
//!   `@request.auth.*` joins, modifiers, JSON paths);
//! * [`request`]: the static `@request.*` values and the `@request.body.*` modifiers;
//! * [`compile`]: one compiler per statement (rule + filter + sort share the joins), the
//!   related collections' listRule constraints and the parsed-expression cache.

pub mod compile;
mod request;
pub mod resolver;
mod sqlutil;

pub use compile::{CompiledQuery, QueryCompiler};
pub use resolver::{Join, RecordResolver};

#[cfg(test)]
mod tests;
