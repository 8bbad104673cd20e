//! The label pages: `/labels/locations` and `/labels/batches`. Each chooses what to print (a GET
//! form, so the address is the selection and works without JavaScript), the label stock, and
//! shows the sheet as it prints; the header, navigation and controls are not printed.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::error::AppError;
use crate::labels::{Label, Sheet, Stock, Symbology};
use crate::ui::{query_href, ErrorPanel};

/// The labels of one location (`code`), else of the locations matching `q` and `kind`.
#[server(endpoint = "location_labels")]
pub async fn location_labels_sheet(
    code: String,
    q: String,
    kind: String,
) -> Result<Sheet, AppError> {
    use crate::domain::LocationKind;
    let state = crate::state::app_state()?;
    let kind = match kind.trim() {
        "" => None,
        raw => Some(LocationKind::parse("kind", raw)?),
    };
    crate::labels::service::location_labels(&state.db, Some(&code), Some(&q), kind).await
}

/// The labels of an item's batches (of one batch, with `batch`).
#[server(endpoint = "batch_labels")]
pub async fn batch_labels_sheet(sku: String, batch: String) -> Result<Sheet, AppError> {
    let state = crate::state::app_state()?;
    crate::labels::service::batch_labels(&state.db, &sku, Some(&batch)).await
}

/// A query parameter of the current address, blank when absent.
fn param(name: &'static str) -> impl Fn() -> String + Copy + Send + Sync + 'static {
    let query = use_query_map();
    move || query.read().get(name).unwrap_or_default()
}

#[component]
pub fn LocationLabelsPage() -> impl IntoView {
    let (code, q, kind, size) = (param("code"), param("q"), param("kind"), param("size"));
    let sheet = Resource::new(
        move || (code(), q(), kind()),
        |(code, q, kind)| location_labels_sheet(code, q, kind),
    );
    let stock = move || Stock::from_param(&size());
    let href = move |stock: Stock| {
        query_href(
            "/labels/locations",
            &[
                ("code", code()),
                ("q", q()),
                ("kind", kind()),
                ("size", stock.param().to_string()),
            ],
        )
    };
    view! {
        <Title text=tr!(labels.locations_title)/>
        <div class="no-print">
            <h1>{tr!(labels.locations_title)}</h1>
            <Form method="GET" action="" attr:class="search" attr:role="search">
                <label for="labels-q" class="visually-hidden">{tr!(labels.location_search)}</label>
                <input id="labels-q" type="search" name="q" placeholder=tr!(labels.location_search) value=q prop:value=q/>
                <label for="labels-kind" class="visually-hidden">{tr!(locations.filter_label)}</label>
                <select id="labels-kind" name="kind" prop:value=kind>
                    <option value="">{tr!(locations.all_kinds)}</option>
                    <option value="receiving" selected=move || kind() == "receiving">{tr!(locations.kind.receiving)}</option>
                    <option value="storage" selected=move || kind() == "storage">{tr!(locations.kind.storage)}</option>
                    <option value="shipping" selected=move || kind() == "shipping">{tr!(locations.kind.shipping)}</option>
                    <option value="quarantine" selected=move || kind() == "quarantine">{tr!(locations.kind.quarantine)}</option>
                </select>
                <input type="hidden" name="size" value=move || stock().param()/>
                <button type="submit">{tr!(labels.show)}</button>
            </Form>
            <StockChoice current=Signal::derive(stock) href/>
        </div>
        <Suspense fallback=|| view! { <p class="muted">{tr!(common.loading)}</p> }>
            {move || sheet.get().map(|result| match result {
                Ok(sheet) if sheet.labels.is_empty() => view! {
                    <p class="empty">{tr!(labels.no_locations)}</p>
                }.into_any(),
                Ok(sheet) => view! { <SheetView sheet stock=stock()/> }.into_any(),
                Err(error) => view! { <ErrorPanel error/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
pub fn BatchLabelsPage() -> impl IntoView {
    let (sku, batch, size) = (param("sku"), param("batch"), param("size"));
    let sheet = Resource::new(
        move || (sku(), batch()),
        |(sku, batch)| async move {
            if sku.trim().is_empty() {
                return Ok(None);
            }
            batch_labels_sheet(sku, batch).await.map(Some)
        },
    );
    let stock = move || Stock::from_param(&size());
    let href = move |stock: Stock| {
        query_href(
            "/labels/batches",
            &[
                ("sku", sku()),
                ("batch", batch()),
                ("size", stock.param().to_string()),
            ],
        )
    };
    view! {
        <Title text=tr!(labels.batches_title)/>
        <div class="no-print">
            <h1>{tr!(labels.batches_title)}</h1>
            <Form method="GET" action="" attr:class="grid-form labels-choice">
                <div>
                    <label for="labels-sku">{tr!(labels.sku)}</label>
                    <input id="labels-sku" name="sku" autocomplete="off" required value=sku prop:value=sku/>
                </div>
                <div>
                    <label for="labels-batch">{tr!(labels.batch_optional)}</label>
                    <input id="labels-batch" name="batch" autocomplete="off" value=batch prop:value=batch/>
                </div>
                <input type="hidden" name="size" value=move || stock().param()/>
                <div class="form-actions">
                    <button type="submit">{tr!(labels.show)}</button>
                </div>
            </Form>
            <StockChoice current=Signal::derive(stock) href/>
        </div>
        <Suspense fallback=|| view! { <p class="muted">{tr!(common.loading)}</p> }>
            {move || sheet.get().map(|result| match result {
                Ok(None) => view! { <p class="muted no-print">{tr!(labels.choose_item)}</p> }.into_any(),
                Ok(Some(sheet)) if sheet.labels.is_empty() => view! {
                    <p class="empty">{tr!(labels.no_batches, sku = sku())}</p>
                }.into_any(),
                Ok(Some(sheet)) => {
                    let without_gtin = sheet.labels.iter().any(|l| {
                        l.bars.as_ref().is_some_and(|b| b.symbology == Symbology::Code128)
                    });
                    view! {
                        {without_gtin.then(|| view! { <p class="note no-print">{tr!(labels.no_gtin, sku = sku())}</p> })}
                        <SheetView sheet stock=stock()/>
                    }.into_any()
                }
                Err(error) => view! { <ErrorPanel error/> }.into_any(),
            })}
        </Suspense>
    }
}

/// The label stock to print on (links, so they work without JavaScript) and how to print.
#[component]
fn StockChoice(
    current: Signal<Stock>,
    href: impl Fn(Stock) -> String + Copy + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <nav class="label-stock" aria-label=tr!(labels.stock)>
            <span class="muted">{tr!(labels.stock)}</span>
            {Stock::ALL.into_iter().map(|stock| view! {
                <a
                    class="button secondary"
                    href=move || href(stock)
                    aria-current=move || (current.get() == stock).then_some("page")
                >
                    {stock_words(stock)}
                </a>
            }).collect_view()}
            <PrintButton/>
        </nav>
        <p class="muted">{tr!(labels.print_hint)}</p>
    }
}

/// Printing from a button needs JavaScript, so the button appears once the page is live;
/// without it the browser's own Print does it.
#[island]
fn PrintButton() -> impl IntoView {
    crate::ui::island_live();
    let live = RwSignal::new(false);
    Effect::new(move |_| live.set(true));
    view! {
        <Show when=move || live.get()>
            <button type="button" on:click=|_| { let _ = window().print(); }>{tr!(labels.print)}</button>
        </Show>
    }
}

fn stock_words(stock: Stock) -> String {
    match stock {
        Stock::Small => tr!(labels.size.small),
        Stock::Large => tr!(labels.size.large),
        Stock::A4 => tr!(labels.size.a4),
    }
}

/// The labels as they print.
#[component]
fn SheetView(sheet: Sheet, stock: Stock) -> impl IntoView {
    let shown = sheet.labels.len();
    let cut = (sheet.total > shown as i64).then(|| {
        view! { <p class="note no-print">{tr!(labels.cut, shown = shown, total = sheet.total)}</p> }
    });
    view! {
        {cut}
        <div class="label-sheet" data-stock=stock.param()>
            {sheet.labels.into_iter().map(|label| view! { <LabelView label/> }).collect_view()}
        </div>
    }
}

#[component]
fn LabelView(label: Label) -> impl IntoView {
    let kind = if label.qr.is_some() {
        "location"
    } else {
        "batch"
    };
    let facts = (label.batch.is_some() || label.expiry.is_some()).then(|| {
        view! {
            <div class="label-facts">
                {label.batch.map(|b| view! { <span>{tr!(labels.batch)} " " <b>{b}</b></span> })}
                {label.expiry.map(|e| view! { <span>{tr!(labels.expiry)} " " <b>{e.to_string()}</b></span> })}
            </div>
        }
    });
    view! {
        <article class="label" data-kind=kind>
            <div class="label-head">
                <strong class="label-title">{label.title}</strong>
                <span class="label-name">{label.name}</span>
            </div>
            {facts}
            {label.qr.map(|qr| view! {
                <div class="label-qr" data-symbology="qr" data-text=qr.text inner_html=qr.svg></div>
            })}
            {label.bars.map(|bars| {
                let symbology = match bars.symbology {
                    Symbology::Gs1_128 => "gs1-128",
                    _ => "code128",
                };
                view! {
                    <div class="label-bars">
                        <div class="bars" data-symbology=symbology data-text=bars.text.clone() inner_html=bars.svg></div>
                        <small class="hri">{bars.text}</small>
                    </div>
                }
            })}
        </article>
    }
}
