//! Collection lifecycle: validation, create/update with schema sync, delete, truncate,
//! import and view field inference, with the collection model hooks around the writes.

mod hooked;
pub mod list;
mod save;
pub mod validate;
pub mod view_fields;

pub use hooked::{apply_hook_changes, delete_collection, import_collections, save_collection};
pub use save::{dry_run_view, truncate_collection};
pub use validate::validate_collection;
