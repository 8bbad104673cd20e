//! The application shell: the HTML document, the navigation and the routes of SPEC §5.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, Meta, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::{path, SsrMode};

use crate::inbound::page::InboundPage;
use crate::items::page::ItemsPage;
use crate::ledger::page::LedgerPage;
use crate::locations::page::LocationsPage;
use crate::outbound::page::OutboundPage;
use crate::putaway::page::PutawayPage;
use crate::snapshot::page::InventoryPage;
use crate::stock::page::StockPage;

/// The HTML document the server renders around [`App`].
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// One entry of the main navigation.
struct NavEntry {
    href: &'static str,
    label: &'static str,
}

/// Every page of SPEC §5, in the order a clerk's day runs.
const NAV: &[NavEntry] = &[
    NavEntry {
        href: "/",
        label: "Inventory",
    },
    NavEntry {
        href: "/inbound",
        label: "Receive",
    },
    NavEntry {
        href: "/putaway",
        label: "Put away",
    },
    NavEntry {
        href: "/outbound",
        label: "Ship",
    },
    NavEntry {
        href: "/stock",
        label: "Stock",
    },
    NavEntry {
        href: "/ledger",
        label: "Ledger",
    },
    NavEntry {
        href: "/items",
        label: "Items",
    },
    NavEntry {
        href: "/locations",
        label: "Locations",
    },
];

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    // Effects run only in the browser: the attribute tells people and tests the page is live.
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/depot.css"/>
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg"/>
        <Meta name="description" content="Depot warehouse management"/>
        <Title formatter=|title: String| if title.is_empty() { "Depot".to_string() } else { format!("{title} · Depot") }/>
        <Router>
            <header class="topbar">
                <a class="brand" href="/">"Depot"</a>
                <nav aria-label="Main">
                    <ul>
                        {NAV
                            .iter()
                            .map(|entry| {
                                view! {
                                    <li>
                                        <A href=entry.href exact=true>{entry.label}</A>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </nav>
            </header>
            <main id="main">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=InventoryPage ssr=SsrMode::Async/>
                    <Route path=path!("/inbound") view=InboundPage ssr=SsrMode::Async/>
                    <Route path=path!("/putaway") view=PutawayPage ssr=SsrMode::Async/>
                    <Route path=path!("/outbound") view=OutboundPage ssr=SsrMode::Async/>
                    <Route path=path!("/stock") view=StockPage ssr=SsrMode::Async/>
                    <Route path=path!("/ledger") view=LedgerPage ssr=SsrMode::Async/>
                    <Route path=path!("/items") view=ItemsPage ssr=SsrMode::Async/>
                    <Route path=path!("/locations") view=LocationsPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

/// Shown for any path that is not a page; answered with status 404.
#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <h1>"Page not found"</h1>
        <p class="lead">"There is no page at this address. Use the navigation above."</p>
    }
}
