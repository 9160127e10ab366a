//! Table/view DDL for collections and the schema sync that runs when a collection changes.

pub mod index;
mod sync;
pub mod tokenizer;

pub use sync::{create_collection_table, drop_collection_table, sync_collection_table, SyncError};

/// An SQLite error as PocketBase (modernc sqlite) words it: `<generic text>: <detail> (<code>)`,
/// e.g. `SQL logic error: no such column: missing (1)`.
pub fn sqlite_error_message(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqlInputError { error, msg, .. } => sqlite_error_message(&rusqlite::Error::SqliteFailure(*error, Some(msg.clone()))),
        rusqlite::Error::SqliteFailure(err, detail) => {
            let code = err.extended_code;
            // SAFETY: sqlite3_errstr returns a pointer to a static, NUL-terminated string.
            let generic = unsafe {
                let p = rusqlite::ffi::sqlite3_errstr(code);
                if p.is_null() {
                    String::new()
                } else {
                    std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
                }
            };
            match detail {
                Some(d) => format!("{generic}: {d} ({code})"),
                None => format!("{generic} ({code})"),
            }
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sqlite_errors_read_like_pocketbase() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let e = conn.execute_batch("SELECT missing FROM sqlite_master").unwrap_err();
        assert_eq!(super::sqlite_error_message(&e), "SQL logic error: no such column: missing (1)");
        let e = conn.prepare("SELECT missing FROM sqlite_master").unwrap_err();
        assert_eq!(super::sqlite_error_message(&e), "SQL logic error: no such column: missing (1)");
    }
}
