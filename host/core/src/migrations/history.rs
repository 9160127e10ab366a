//! The `_migrations` table: `file` (the migration's file name) and `applied` (Unix time in
//! microseconds; older PocketBase versions stored seconds).

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::ApiResult;

pub fn is_applied(conn: &Connection, file: &str) -> ApiResult<bool> {
    Ok(conn.query_row("SELECT 1 FROM _migrations WHERE file = ?1 LIMIT 1", [file], |_| Ok(())).optional()?.is_some())
}

pub fn record_applied(conn: &Connection, file: &str) -> ApiResult<()> {
    conn.execute("INSERT INTO _migrations (file, applied) VALUES (?1, ?2)", params![file, chrono::Utc::now().timestamp_micros()])?;
    Ok(())
}

pub fn remove(conn: &Connection, file: &str) -> ApiResult<()> {
    conn.execute("DELETE FROM _migrations WHERE file = ?1", [file])?;
    Ok(())
}

/// The last `limit` applied migrations among `known`, newest first (PocketBase's order:
/// applied time normalised to microseconds, then file name, both descending).
pub fn last_applied(conn: &Connection, known: &[String], limit: usize) -> ApiResult<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT file FROM _migrations WHERE applied IS NOT NULL \
         ORDER BY substr(applied||'0000000000000000', 0, 17) DESC, file DESC",
    )?;
    let files = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
    Ok(files.into_iter().filter(|f| known.contains(f)).take(limit).collect())
}

/// `migrate history-sync`: forgets applied migrations that are not in `known`.
pub fn remove_missing(conn: &Connection, known: &[String]) -> ApiResult<usize> {
    let files = conn
        .prepare("SELECT file FROM _migrations")?
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut removed = 0;
    for f in files.iter().filter(|f| !known.contains(f)) {
        remove(conn, f)?;
        removed += 1;
    }
    Ok(removed)
}
