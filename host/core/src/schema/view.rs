//! View collections: the SQL view and the field inference from its query.

use rusqlite::Connection;

use crate::db::quote_ident;
use crate::error::{ApiError, ApiResult};

/// Creates the SQL view PocketBase creates: `CREATE VIEW name AS SELECT * FROM (query)`.
pub fn create_view(conn: &Connection, name: &str, query: &str) -> ApiResult<()> {
    let q = query.trim().trim_end_matches(';');
    conn.execute_batch(&format!("DROP VIEW IF EXISTS {0}; CREATE VIEW {0} AS SELECT * FROM ({1})", quote_ident(name), q))
        .map_err(|e| ApiError::bad_request(format!("Invalid view query. Raw error: \n{e}")))
}
