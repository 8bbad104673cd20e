//! Depot's integration tests: one binary; each behaviour runs on SQLite and on PostgreSQL.

mod common;

mod access;
mod adjust;
mod admin;
mod auth;
mod check;
mod config_files;
mod constraints;
mod counts;
mod demo;
mod events;
mod failures;
mod hostile;
mod http;
mod import_export;
mod inbound;
mod items_locations;
mod labels;
mod language;
mod layers;
mod local;
mod movement_core;
mod nodes;
mod nojs;
mod openapi;
mod orders;
mod origin;
mod outbound;
mod putaway;
mod scan;
mod schema;
mod search;
mod snapshot;
mod stock_ledger;
mod stress;
