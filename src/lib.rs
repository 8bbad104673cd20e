//! Depot: a warehouse management system. The same crate builds the server (`ssr`) and the
//! browser bundle (`hydrate`); see README.md for the layout.

// The release (LTO) wasm build computes the layout of deeply nested view types, such as the
// lines editor's table, past the default limit of 128.
#![recursion_limit = "256"]

// First, so that its `tr!` is in scope in every module below.
#[macro_use]
pub mod lang;

pub mod adjust;
pub mod app;
pub mod auth;
pub mod counts;
pub mod domain;
pub mod error;
pub mod events;
pub mod href;
pub mod import;
pub mod inbound;
pub mod items;
pub mod kinds;
pub mod labels;
pub mod ledger;
pub mod lines;
pub mod locations;
pub mod movement;
pub mod orders;
pub mod outbound;
pub mod putaway;
pub mod returns;
pub mod scan;
pub mod snapshot;
pub mod stock;
pub mod transfers;
pub mod ui;
pub mod warehouses;

// The catalogues of `locales/` as typed keys (`crate::i18n::Locale`, `td_string!`, …), written
// by build.rs; see `crate::lang` for how the language is chosen.
include!(concat!(env!("OUT_DIR"), "/i18n.rs"));

#[cfg(feature = "ssr")]
pub mod check;
#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod demo;
#[cfg(feature = "ssr")]
pub mod export;
#[cfg(feature = "ssr")]
pub mod extract;
#[cfg(feature = "ssr")]
pub mod flash;
#[cfg(feature = "ssr")]
pub mod health;
#[cfg(feature = "ssr")]
pub mod negotiate;
#[cfg(feature = "ssr")]
pub mod openapi;
#[cfg(feature = "ssr")]
pub mod operation;
#[cfg(feature = "ssr")]
pub mod origin;
#[cfg(feature = "ssr")]
pub mod proxy;
#[cfg(feature = "ssr")]
pub mod scope;
#[cfg(feature = "ssr")]
pub mod search;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod sheet;
#[cfg(feature = "ssr")]
pub mod state;

/// The browser entry point. The server renders every page whole; the browser brings only its
/// islands (`#[island]`: the movement forms, the search) to life, each as Leptos finds it.
/// A page without one is live at once (`data-hydrated`, see [`ui::mark_live`]).
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    let has_islands = document()
        .query_selector("leptos-island")
        .ok()
        .flatten()
        .is_some();
    if !has_islands {
        ui::mark_live();
    }
}

#[cfg(feature = "hydrate")]
use leptos::prelude::document;
