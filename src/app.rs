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

/// A script in every page's `<head>`, for scanners:
/// - until the page is live (`data-hydrated`), Enter in a scan form (`[data-scan]`) moves to the
///   next field (not to one marked `data-skip`, set once per form by a tap) instead of posting
///   the form half-filled, so scans typed while the page loads
///   stay where they were typed (once live, `crate::lines` does the same and more);
/// - a key typed while no field has the cursor (the page shows before the browser applies
///   `autofocus`, or a tap landed beside the fields) goes to the scan form's first field, so
///   a scanner's first character is never lost;
/// - `<html>` gets the class `js` at once, so what is there only for a browser without
///   JavaScript (a line form's spare lines) is hidden from the first paint;
/// - `depotBuzz()`: a short low tone and a vibration for a wrong scan, where the device can.
pub const SCAN_GUARD: &str = r#"(function () {
  if (window.WebAssembly) document.documentElement.classList.add("js");
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.key.length !== 1 || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    if (t && t !== document.body && t !== document.documentElement) return;
    var field = document.querySelector("[data-scan] input[autofocus]:not([type=hidden])") ||
      document.querySelector("[data-scan] input:not([type=hidden]):not([type=checkbox])");
    if (!field || field.disabled || field.readOnly) return;
    e.preventDefault();
    field.focus();
    field.value += e.key;
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }, true);
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || document.body.dataset.hydrated === "true") return;
    var t = e.target;
    if (!t || t.tagName !== "INPUT" || t.type === "checkbox" || !t.closest("[data-scan]")) return;
    e.preventDefault();
    var fields = Array.prototype.slice.call(
      t.form.querySelectorAll("input:not([type=hidden]):not([type=checkbox]):not([data-skip])"));
    var next = fields[fields.indexOf(t) + 1];
    var spare = next && next.closest("tr[data-spare]");
    if (spare) spare.removeAttribute("data-spare");
    if (next) next.focus();
  }, true);
  window.depotBuzz = function () {
    try { if (navigator.vibrate) navigator.vibrate([120, 60, 120]); } catch (_) {}
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      var ctx = window.depotAudio || (window.depotAudio = new Ctx());
      var tone = ctx.createOscillator(), gain = ctx.createGain();
      tone.type = "square"; tone.frequency.value = 220; gain.gain.value = 0.15;
      tone.connect(gain); gain.connect(ctx.destination);
      tone.start(); tone.stop(ctx.currentTime + 0.25);
    } catch (_) {}
  };
})();"#;

/// The HTML document the server renders around [`App`], in the request's language.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let lang = crate::lang::tag(crate::lang::page_locale());
    view! {
        <!DOCTYPE html>
        <html lang=lang>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
                <script inner_html=SCAN_GUARD></script>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Every page of SPEC §5, in the order a clerk's day runs, with its name in the navigation:
/// the inventory, then each movement kind's page its role may use (in the order of
/// [`crate::kinds::KINDS`]), the other pages; the administration pages last, for admins only.
fn nav(role: crate::auth::Role) -> Vec<(&'static str, String)> {
    let mut pages = vec![("/", tr!(common.nav.inventory))];
    pages.extend(
        crate::kinds::KINDS
            .iter()
            .filter(|kind| role >= kind.role)
            .map(|kind| (kind.page, (kind.page_words)())),
    );
    pages.extend([
        ("/orders", tr!(common.nav.orders)),
        ("/transfers", tr!(common.nav.transfers)),
        ("/returns", tr!(common.nav.returns)),
        ("/stock", tr!(common.nav.stock)),
        ("/counts", tr!(common.nav.counts)),
        ("/ledger", tr!(common.nav.ledger)),
        ("/items", tr!(common.nav.items)),
        ("/locations", tr!(common.nav.locations)),
        ("/warehouses", tr!(common.nav.warehouses)),
    ]);
    if role >= crate::auth::Role::Manager {
        pages.push(("/import", tr!(common.nav.import)));
    }
    if role == crate::auth::Role::Admin {
        pages.push(("/admin/users", tr!(common.nav.users)));
        pages.push(("/admin/tokens", tr!(common.nav.tokens)));
    }
    pages
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // The page's language, for every word under it (see `crate::lang::current`).
    provide_context(crate::lang::page_locale());
    let user = signed_in();
    let role = user.as_ref().map(|(_, role)| *role);

    view! {
        <Stylesheet id="leptos" href="/pkg/depot.css"/>
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg"/>
        <Meta name="description" content=tr!(common.description)/>
        <Title formatter=|title: String| if title.is_empty() { "Depot".to_string() } else { format!("{title} · Depot") }/>
        <Router>
            <header class="topbar">
                <a class="brand" href="/">{tr!(common.brand)}</a>
                {role.map(|role| view! { <Navigation role/> })}
                <div class="topbar-end">
                    {role.map(|_| view! { <crate::warehouses::page::WorkingWarehouse/> })}
                    {user.map(|(name, role)| view! {
                        <form method="post" action="/logout" class="account">
                            <span class="who" title=tr!(auth.signed_in_as, name = name.clone(), role = crate::auth::role_words(role))>
                                {name.clone()}
                            </span>
                            <button type="submit" class="link">{tr!(auth.sign_out)}</button>
                        </form>
                    })}
                    <LanguageSwitch/>
                </div>
            </header>
            <main id="main">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=InventoryPage ssr=SsrMode::Async/>
                    <Route path=path!("/inbound") view=InboundPage ssr=SsrMode::Async/>
                    <Route path=path!("/putaway") view=PutawayPage ssr=SsrMode::Async/>
                    <Route path=path!("/outbound") view=OutboundPage ssr=SsrMode::Async/>
                    <Route path=path!("/stock") view=StockPage ssr=SsrMode::Async/>
                    <Route path=path!("/adjust") view=crate::adjust::page::AdjustPage ssr=SsrMode::Async/>
                    <Route path=path!("/counts") view=crate::counts::page::CountsPage ssr=SsrMode::Async/>
                    <Route path=path!("/counts/:id") view=crate::counts::page::CountPage ssr=SsrMode::Async/>
                    <Route path=path!("/orders") view=crate::orders::page::OrdersPage ssr=SsrMode::Async/>
                    <Route path=path!("/orders/:ref") view=crate::orders::page::OrderPage ssr=SsrMode::Async/>
                    <Route path=path!("/orders/:ref/pick") view=crate::orders::page::PickPage ssr=SsrMode::Async/>
                    <Route path=path!("/ledger") view=LedgerPage ssr=SsrMode::Async/>
                    <Route path=path!("/items") view=ItemsPage ssr=SsrMode::Async/>
                    <Route path=path!("/locations") view=LocationsPage ssr=SsrMode::Async/>
                    <Route path=path!("/warehouses") view=crate::warehouses::page::WarehousesPage ssr=SsrMode::Async/>
                    <Route path=path!("/transfers") view=crate::transfers::page::TransfersPage ssr=SsrMode::Async/>
                    <Route path=path!("/transfers/:ref") view=crate::transfers::page::TransferPage ssr=SsrMode::Async/>
                    <Route path=path!("/returns") view=crate::returns::page::ReturnsPage ssr=SsrMode::Async/>
                    <Route path=path!("/returns/:ref") view=crate::returns::page::ReturnPage ssr=SsrMode::Async/>
                    <Route path=path!("/import") view=crate::import::page::ImportPage ssr=SsrMode::Async/>
                    <Route path=path!("/labels/locations") view=crate::labels::page::LocationLabelsPage ssr=SsrMode::Async/>
                    <Route path=path!("/labels/batches") view=crate::labels::page::BatchLabelsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users") view=crate::auth::admin::UsersPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/tokens") view=crate::auth::admin::TokensPage ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=crate::auth::page::LoginPage/>
                    <Route path=path!("/setup") view=crate::auth::page::SetupPage/>
                </Routes>
            </main>
        </Router>
    }
}

/// The navigation: a row of links on a desktop; on a handheld a menu button naming the page
/// you are on, opening every page as a grid of large targets (a `<details>`: no JavaScript
/// needed, and going to a page loads it closed).
#[component]
fn Navigation(role: crate::auth::Role) -> impl IntoView {
    let pages = nav(role);
    let location = leptos_router::hooks::use_location();
    let names = pages.clone();
    // The page in the bar: its own name, a page under another by that one's (a count under
    // 盘点, an order's pick under 订单), the label pages by theirs.
    let current = move || {
        let path = location.pathname.get();
        names
            .iter()
            .find(|(href, _)| *href == path)
            .or_else(|| {
                names
                    .iter()
                    .filter(|(href, _)| *href != "/" && path.starts_with(&format!("{href}/")))
                    .max_by_key(|(href, _)| href.len())
            })
            .map(|(_, label)| label.clone())
            .or_else(|| match path.as_str() {
                "/labels/locations" => Some(tr!(labels.locations_title)),
                "/labels/batches" => Some(tr!(labels.batches_title)),
                _ => None,
            })
            .unwrap_or_default()
    };
    let links = move |pages: Vec<(&'static str, String)>| {
        pages
            .into_iter()
            .map(|(href, label)| view! { <li><A href=href exact=true>{label}</A></li> })
            .collect_view()
    };
    view! {
        <nav class="nav-wide" aria-label=tr!(common.nav_label)>
            <ul>{links(pages.clone())}</ul>
        </nav>
        <details class="nav-menu">
            <summary>
                <span class="nav-menu-icon" aria-hidden="true">"☰"</span>
                <span class="nav-menu-name">{tr!(common.menu)}</span>
                <span class="nav-current">{current}</span>
            </summary>
            <nav aria-label=tr!(common.nav_label)>
                <ul>{links(pages)}</ul>
            </nav>
        </details>
    }
}

/// Who is signed in (name and role), from the request. The page around the islands is the
/// server's alone, so the browser never asks.
fn signed_in() -> Option<(String, crate::auth::Role)> {
    #[cfg(feature = "ssr")]
    {
        crate::auth::access::current_principal().map(|p| (p.name, p.role))
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// The header's link to the other language: the same page and query with `lang=…`, which the
/// server keeps in the `depot_lang` cookie (see [`crate::lang::choose_language`]). A full page
/// load (`rel="external"`), with or without JavaScript, so every word is rendered anew.
#[component]
fn LanguageSwitch() -> impl IntoView {
    use crate::lang::{tag, Locale, QUERY_PARAM};
    let other = match crate::lang::current() {
        Locale::en => Locale::zh_CN,
        Locale::zh_CN => Locale::en,
    };
    let location = leptos_router::hooks::use_location();
    let href = move || {
        let mut params: Vec<String> = location
            .search
            .get()
            .trim_start_matches('?')
            .split('&')
            .filter(|pair| !pair.is_empty() && pair.split('=').next() != Some(QUERY_PARAM))
            .map(str::to_string)
            .collect();
        params.push(format!("{QUERY_PARAM}={}", tag(other)));
        format!("{}?{}", location.pathname.get(), params.join("&"))
    };
    view! {
        <a class="lang-switch" href=href rel="external" hreflang=tag(other) lang=tag(other)
            title=tr!(common.switch_to_title)>
            {tr!(common.switch_to)}
        </a>
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
        <Title text=tr!(common.not_found_title)/>
        <h1>{tr!(common.not_found_heading)}</h1>
        <p class="lead">{tr!(common.not_found_lead)}</p>
    }
}
