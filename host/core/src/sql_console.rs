//! The superuser SQL console (`POST /api/sql`): read queries on a reader connection, write
//! batches in one transaction on the writer.

use rusqlite::types::ValueRef;
use fallible_iterator::FallibleIterator;
use rusqlite::{Batch, Connection};
use serde_json::{json, Value};
use std::time::Instant;

use crate::app::App;
use crate::error::{ApiError, ApiResult};

pub const MAX_QUERY_LENGTH: usize = 5000;
const MAX_ROWS: usize = 1000;
const WRITE_PREFIXES: [&str; 8] = ["INSERT", "CREATE", "UPDATE", "DELETE", "DROP", "DETACH", "ALTER", "REPLACE"];

fn is_write(query: &str) -> bool {
    let upper = query.trim_start().to_ascii_uppercase();
    WRITE_PREFIXES.iter().any(|p| upper.starts_with(p))
}

fn raw_error(e: rusqlite::Error) -> ApiError {
    ApiError::bad_request(format!("Failed to execute query. Raw error: \n{}", sqlite_error_text(&e)))
}

/// Formats SQLite failures the way Go's SQLite driver does (and PocketBase shows):
/// `SQL logic error: near "x": syntax error (1)`.
fn sqlite_error_text(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(err, msg) => {
            // SAFETY: sqlite3_errstr returns a pointer to a static, NUL-terminated string.
            let desc = unsafe { std::ffi::CStr::from_ptr(rusqlite::ffi::sqlite3_errstr(err.extended_code)) };
            let desc = desc.to_string_lossy();
            match msg {
                Some(m) => format!("{desc}: {m} ({})", err.extended_code),
                None => format!("{desc} ({})", err.extended_code),
            }
        }
        rusqlite::Error::SqlInputError { error, msg, .. } => {
            // SAFETY: as above.
            let desc = unsafe { std::ffi::CStr::from_ptr(rusqlite::ffi::sqlite3_errstr(error.extended_code)) };
            format!("{}: {msg} ({})", desc.to_string_lossy(), error.extended_code)
        }
        other => other.to_string(),
    }
}

fn cell(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => json!(i.to_string()),
        ValueRef::Real(f) => json!(crate::util::number_json(f).to_string()),
        ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
        ValueRef::Blob(b) => json!(String::from_utf8_lossy(b)),
    }
}

struct Outcome {
    affected: u64,
    columns: Vec<Value>,
    rows: Vec<Value>,
}

/// Runs every statement of the batch; the result set of the last one is returned.
fn run_batch(conn: &Connection, query: &str) -> Result<Outcome, rusqlite::Error> {
    let mut out = Outcome { affected: 0, columns: vec![], rows: vec![] };
    let mut batch = Batch::new(conn, query);
    while let Some(mut stmt) = batch.next()? {
        let columns: Vec<Value> = stmt
            .columns()
            .iter()
            .map(|c| json!({"name": c.name(), "type": c.decl_type().unwrap_or(""), "nullable": true}))
            .collect();
        let n = columns.len();
        let before = conn.total_changes();
        let mut rows = vec![];
        {
            let mut rs = stmt.raw_query();
            while let Some(row) = rs.next()? {
                if rows.len() < MAX_ROWS {
                    rows.push(Value::Array((0..n).map(|i| row.get_ref(i).map(cell).unwrap_or(Value::Null)).collect()));
                }
            }
        }
        out.affected += conn.total_changes().saturating_sub(before);
        out.columns = columns;
        out.rows = rows;
    }
    Ok(out)
}

pub async fn run(app: &App, query: String) -> ApiResult<Value> {
    let started = Instant::now();
    let outcome = if is_write(&query) {
        app.data
            .write(move |conn| {
                let tx = conn.transaction()?;
                let out = run_batch(&tx, &query).map_err(raw_error)?;
                tx.commit().map_err(raw_error)?;
                Ok(out)
            })
            .await?
    } else {
        app.data.read(move |conn| run_batch(conn, &query).map_err(raw_error)).await?
    };
    Ok(json!({
        "execTime": started.elapsed().as_millis() as u64,
        "affectedRows": outcome.affected,
        "columns": outcome.columns,
        "rows": outcome.rows,
    }))
}
