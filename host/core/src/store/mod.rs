//! Persistence of system rows: `_collections`, `_params`, `_migrations`, and the one-time
//! initialisation of a fresh `pb_data`.

pub mod collections;
pub mod init;
pub mod settings;
