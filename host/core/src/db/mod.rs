//! SQLite access that never blocks the async runtime: one writer connection and a pool of
//! reader connections (WAL mode), each owned by its own OS thread. Callers send closures and
//! await the result through a oneshot channel.

mod pool;
pub mod sqlvalue;
mod tx;

pub use pool::{Db, DbOptions};
pub use sqlvalue::{row_to_values, SqlParams};
pub use tx::{DbScope, WriteTx};

use rusqlite::Connection;

/// PocketBase's connection pragmas, in PocketBase's order (busy_timeout first).
pub fn apply_pragmas(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "PRAGMA busy_timeout = 10000;
         PRAGMA journal_mode = WAL;
         PRAGMA journal_size_limit = 200000000;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -32000;",
    )?;
    conn.set_prepared_statement_cache_capacity(256);
    Ok(())
}

/// Quotes an identifier for SQLite with backticks (names are validated as `^\w+$` upstream;
/// this still escapes defensively).
pub fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}
