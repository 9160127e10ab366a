//! Table/view DDL for collections and the schema sync that runs when a collection changes.

pub mod index;
mod sync;
pub mod view;

pub use sync::{create_collection_table, drop_collection_table, sync_collection_table};
