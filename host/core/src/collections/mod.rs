//! Collection lifecycle: validation, create/update with schema sync, delete, truncate,
//! import and view field inference.

pub mod list;
mod save;
mod validate;
pub mod view_fields;

pub use save::{delete_collection, import_collections, save_collection, truncate_collection};
pub use validate::validate_collection;
