//! The editable table of lines behind the movement forms (receive, putaway, ship).
//!
//! Every row is a set of inputs named `lines[i][column]`, so the form posts the same fields with
//! or without JavaScript. With JavaScript, rows can be added and removed, and Enter in a field
//! moves to the next one (a keyboard-wedge scanner types a code, then Enter) instead of
//! submitting the form half-filled.

use leptos::prelude::*;

/// What a column's inputs hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Text,
    Quantity,
    Date,
}

/// One column of the line editor.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The form field name within a line, e.g. `sku`.
    pub name: &'static str,
    /// The column's heading, in the page's language (`|| tr!(inbound.col.sku)`).
    pub label: fn() -> String,
    pub kind: ColumnKind,
    /// The inputs' placeholder, in the page's language (`None` for none).
    pub placeholder: Option<fn() -> String>,
}

/// Rows a fresh form starts with.
pub const BLANK_ROWS: usize = 3;

/// A view shown at the end of each row, given the row's current values (in column order; they
/// change as fields are left, with JavaScript only).
pub type RowHint = fn(RwSignal<Vec<String>>) -> AnyView;

/// A row hint with its column heading (in the page's language).
pub type Hint = (fn() -> String, RowHint);

/// The line editor. `initial` holds each row's values in column order (e.g. the lines of a form
/// that came back with an error); a fresh form gets [`BLANK_ROWS`] empty rows. `hint`, with its
/// column label, adds a live view to each row.
#[component]
pub fn LineEditor(
    columns: &'static [Column],
    initial: Vec<Vec<String>>,
    #[prop(optional)] hint: Option<Hint>,
) -> impl IntoView {
    let start = if initial.is_empty() {
        vec![vec![String::new(); columns.len()]; BLANK_ROWS]
    } else {
        initial
    };
    let next_key = StoredValue::new(start.len());
    let rows = RwSignal::new(
        start
            .into_iter()
            .enumerate()
            .map(|(key, values)| (key, values.clone(), RwSignal::new(values)))
            .collect::<Vec<(usize, Vec<String>, RwSignal<Vec<String>>)>>(),
    );
    // Add and remove work only with JavaScript, so they appear once the page is live.
    let live = RwSignal::new(false);
    Effect::new(move |_| live.set(true));

    let position =
        move |key: usize| rows.with(|r| r.iter().position(|(k, _, _)| *k == key).unwrap_or(0));
    let add_row = move |_| {
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        let blank = vec![String::new(); columns.len()];
        rows.update(|r| r.push((key, blank.clone(), RwSignal::new(blank))));
    };

    view! {
        <div class="table-wrap lines" on:keydown=move_to_next_field>
            <table>
                <thead>
                    <tr>
                        <th class="num">"#"</th>
                        {columns.iter().map(|c| view! { <th>{(c.label)()}</th> }).collect_view()}
                        {hint.map(|(label, _)| view! { <th>{label()}</th> })}
                        <th><span class="visually-hidden">{tr!(common.remove)}</span></th>
                    </tr>
                </thead>
                <tbody>
                    <For each=move || rows.get() key=|(key, _, _)| *key let:row>
                        {
                            let (key, values, live_values) = row;
                            view! {
                                <tr>
                                    <td class="num" data-label=tr!(common.line)>{move || position(key) + 1}</td>
                                    {columns.iter().zip(values).enumerate().map(|(col, (column, value))| {
                                        let name = move || format!("lines[{}][{}]", position(key), column.name);
                                        let heading = (column.label)();
                                        let label = {
                                            let heading = heading.clone();
                                            move || tr!(common.field_line, label = heading.clone(), line = position(key) + 1)
                                        };
                                        let (kind, mode) = match column.kind {
                                            ColumnKind::Text => ("text", "text"),
                                            ColumnKind::Quantity => ("number", "numeric"),
                                            ColumnKind::Date => ("date", "text"),
                                        };
                                        view! {
                                            <td data-label=heading>
                                                <input
                                                    type=kind
                                                    inputmode=mode
                                                    min=(column.kind == ColumnKind::Quantity).then_some("1")
                                                    name=name
                                                    aria-label=label
                                                    value=value
                                                    placeholder=column.placeholder.map(|p| p())
                                                    autocomplete="off"
                                                    on:change=move |ev| {
                                                        let value = event_target_value(&ev);
                                                        live_values.update(|v| if let Some(slot) = v.get_mut(col) { *slot = value });
                                                    }
                                                />
                                            </td>
                                        }
                                    }).collect_view()}
                                    {hint.map(|(label, hint)| view! { <td class="hint" data-label=label()>{hint(live_values)}</td> })}
                                    <td>
                                        <Show when=move || live.get()>
                                            <button
                                                type="button"
                                                class="secondary icon"
                                                aria-label=move || tr!(common.remove_line, line = position(key) + 1)
                                                on:click=move |_| rows.update(|r| r.retain(|(k, _, _)| *k != key))
                                            >
                                                "✕"
                                            </button>
                                        </Show>
                                    </td>
                                </tr>
                            }
                        }
                    </For>
                </tbody>
            </table>
        </div>
        <Show when=move || live.get()>
            <button type="button" class="secondary" on:click=add_row>{tr!(common.add_line)}</button>
        </Show>
    }
}

/// Enter in a text field focuses the next field of the form instead of submitting it.
#[allow(unused_variables)]
fn move_to_next_field(event: leptos::ev::KeyboardEvent) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if event.key() != "Enter" {
            return;
        }
        let Some(input) = event
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(form) = input.form() else { return };
        event.prevent_default();
        let Ok(fields) = form.query_selector_all("input:not([type=hidden]), select") else {
            return;
        };
        let mut found = false;
        for i in 0..fields.length() {
            let Some(node) = fields.item(i) else { continue };
            if found {
                if let Ok(next) = node.dyn_into::<web_sys::HtmlElement>() {
                    let _ = next.focus();
                }
                return;
            }
            found = &node == AsRef::<web_sys::Node>::as_ref(&input);
        }
        // The last field: Enter submits, as a clerk would expect.
        let _ = form.request_submit();
    }
}

/// Everything a movement form holds inside its `<ActionForm>`: the ref, any extra fields of the
/// order head (`children`), the lines, and the submit and start-over row. The submit button is
/// disabled while the action runs, so a double click sends once.
#[component]
pub fn MovementFields(
    /// The ref field's label, e.g. "Receipt ref".
    ref_label: String,
    ref_placeholder: String,
    /// The ref to show (kept after a submit, so a resubmit is recognised).
    reference: String,
    columns: &'static [Column],
    lines: Vec<Vec<String>>,
    #[prop(optional)] hint: Option<Hint>,
    /// Whether the form's action is running.
    pending: Signal<bool>,
    /// The submit button's label, idle and busy.
    submit: (String, String),
    /// The start-over link's label and address.
    start_over: (String, &'static str),
    on_start_over: impl Fn(leptos::ev::MouseEvent) + Clone + 'static,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="card order-head">
            <div>
                <label for="movement-ref">{ref_label}</label>
                <input id="movement-ref" name="reference" required maxlength="64" autocomplete="off"
                    placeholder=ref_placeholder value=reference/>
            </div>
            {children.map(|children| children())}
        </div>
        {match hint {
            Some(hint) => view! { <LineEditor columns initial=lines hint/> }.into_any(),
            None => view! { <LineEditor columns initial=lines/> }.into_any(),
        }}
        <div class="form-actions submit-row">
            <button type="submit" disabled=move || pending.get()>
                {move || if pending.get() { submit.1.clone() } else { submit.0.clone() }}
            </button>
            <a class="button secondary" href=start_over.1 on:click=on_start_over>{start_over.0}</a>
        </div>
    }
}
