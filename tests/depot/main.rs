//! Depot's integration tests: one binary; each behaviour runs on SQLite and on PostgreSQL.

mod common;

mod check;
mod config_files;
mod http;
mod items_locations;
mod schema;
