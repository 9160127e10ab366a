//! PocketBun core: the PocketBase data model and its rules, independent of HTTP.
//!
//! Layers: `model` (collections, fields) → `record` (values, validation, persistence,
//! queries) → `store`/`schema` (SQLite rows and DDL) → `db` (connection threads).
//! [`App`] ties them together for the server and the CLI.

pub mod app;
pub mod app_api;
pub mod auth;
pub mod backups;
pub mod collections;
pub mod crons;
pub mod db;
pub mod error;
pub mod fields_picker;
pub mod list_sql;
pub mod logs;
pub mod migrations;
pub mod files;
pub mod hooks;
pub mod mail;
pub mod outbound_http;
pub mod query;
pub mod model;
pub mod model_hooks;
pub mod ratelimit;
pub mod realtime;
pub mod realtime_hook;
pub mod record;
pub mod schema;
pub mod schema_cache;
pub mod settings;
pub mod sql_console;
pub mod store;
pub mod superusers;
pub mod util;
pub mod validate;

pub use app::{App, AppOptions};
pub use error::{ApiError, ApiResult, FieldError, ValidationErrors};
