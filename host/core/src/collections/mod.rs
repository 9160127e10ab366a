//! Collection lifecycle: validation, create/update with schema sync, delete, truncate,
//! import and view field inference.

pub mod list;
mod save;
pub mod validate;
pub mod view_fields;

pub use save::{delete_collection, dry_run_view, import_collections, save_collection, truncate_collection};
pub use validate::validate_collection;
