//! The editable table of lines behind the movement forms (receive, putaway, ship).
//!
//! Every row is a set of inputs named `lines[i][column]`, so the form posts the same fields with
//! or without JavaScript. The form is made for a keyboard-wedge scanner (a code, then Enter):
//!
//! - Enter moves to the next field, never submits a half-filled form; Enter in a line's last
//!   field goes to the next line's first, and there is always one blank line at the end to go
//!   to. Submitting is deliberate: the button, or Enter in an empty first field of a line. Before
//!   the page is live, a small script in the shell (`crate::app::SCAN_GUARD`) does the moving,
//!   so scans typed while the page loads stay in their fields.
//! - An item or location field resolves what was scanned (`scan_code`) when it is
//!   left: the item's name and unit (or the location's kind) show under it, a GS1 barcode fills
//!   the line's batch, dates and quantity, and a wrong scan is marked on its field at once, with
//!   a buzz where the device can.

use leptos::prelude::*;

use crate::error::AppError;
use crate::movement::LineStatus;
use crate::ui::{
    field_input_names, outcome_view, refusal, start_over, ErrorPanel, Outcome, StatusBadge,
    StoredOutcome,
};

/// What a column's inputs hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Text,
    Quantity,
    /// A count: a whole number from 0.
    Count,
    /// A change: a whole number with its sign (−3, +2).
    Signed,
    Date,
    /// An item: its sku, its barcode or a GS1 barcode (resolved as it is left).
    Item,
    /// A location's code (resolved as it is left).
    Location,
}

impl ColumnKind {
    /// What a scan in this column should be, for `scan_code`.
    fn expects(self) -> Option<crate::scan::ScanKind> {
        match self {
            ColumnKind::Item => Some(crate::scan::ScanKind::Item),
            ColumnKind::Location => Some(crate::scan::ScanKind::Location),
            _ => None,
        }
    }
}

/// What a scan field says under itself: what the scan is, or why it is wrong.
#[derive(Debug, Clone, PartialEq)]
struct ScanNote {
    ok: bool,
    text: String,
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

/// A line of a movement form as the browser posts it: every field text, one per column. Made by
/// [`form_line!`], which declares the fields and the columns in one list.
pub trait FormLine: Clone + Default {
    /// The line's columns, in the order of [`FormLine::values`].
    const COLUMNS: &'static [Column];
    /// The line's values in column order.
    fn values(&self) -> Vec<String>;
    /// Whether nothing was typed into the line (a spare row): such lines are not sent on.
    fn is_blank(&self) -> bool {
        self.values().iter().all(|v| v.trim().is_empty())
    }
}

/// A movement form as the browser posts it: its ref, its lines, and any fields of its head.
pub trait LinesForm: Clone + Default {
    type Line: FormLine;
    /// The form's page, where a no-JavaScript post's outcome is kept and shown (a form on many
    /// pages — a count's — names their parent, and its page gives its own path).
    const PAGE: &'static str;
    fn reference(&self) -> &str;
    fn lines(&self) -> &[Self::Line];
}

/// The lines of a form that were filled in.
pub fn filled<L: FormLine>(lines: Vec<L>) -> Vec<L> {
    lines.into_iter().filter(|l| !l.is_blank()).collect()
}

/// A field's text, trimmed; `None` when blank.
pub fn given(raw: &str) -> Option<String> {
    Some(raw.trim().to_string()).filter(|text| !text.is_empty())
}

/// A movement form's line type and its columns from one list: per field its [`ColumnKind`], its
/// heading `$words.col.<heading>` and, if it has one, its placeholder `$words.<placeholder>`.
macro_rules! form_line {
    ($(#[$meta:meta])* $name:ident, $words:ident {
        $($field:ident: $kind:ident, $heading:ident $(, $placeholder:ident)?;)+
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(default)]
        pub struct $name {
            $(pub $field: String,)+
        }

        impl $crate::lines::FormLine for $name {
            const COLUMNS: &'static [$crate::lines::Column] = &[$($crate::lines::Column {
                name: stringify!($field),
                label: || tr!($words.col.$heading),
                kind: $crate::lines::ColumnKind::$kind,
                placeholder: $crate::lines::form_line!(@placeholder $words $($placeholder)?),
            }),+];

            fn values(&self) -> Vec<String> {
                vec![$(self.$field.clone()),+]
            }
        }
    };
    (@placeholder $words:ident) => {
        None
    };
    (@placeholder $words:ident $placeholder:ident) => {
        Some(|| tr!($words.$placeholder))
    };
}
pub(crate) use form_line;

/// A movement form's type: its ref, the fields of its head (if any) and its lines of type
/// `$line` (a [`form_line!`]), on the page at `$page`.
macro_rules! lines_form {
    ($(#[$meta:meta])* $name:ident of $line:ident at $page:literal { $($field:ident: $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
        pub struct $name {
            pub reference: String,
            $(pub $field: $ty,)*
            pub lines: Vec<$line>,
        }

        impl $crate::lines::LinesForm for $name {
            type Line = $line;
            const PAGE: &'static str = $page;
            fn reference(&self) -> &str {
                &self.reference
            }
            fn lines(&self) -> &[$line] {
                &self.lines
            }
        }
    };
}
pub(crate) use lines_form;

/// Rows a fresh form is made with: one to fill and two spare ones for a browser without
/// JavaScript, which cannot add one. With JavaScript the spare ones are hidden from the start
/// (`html.js tr[data-spare]`, the class set by the shell's first script) and dropped once the
/// page is live, so a handheld's form starts with one line and its submit button in view; a
/// new line appears as the last one is filled.
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
    /// The inputs a refusal is about (their names) and why: each marked, with its reason under
    /// it; the first one gets the cursor.
    #[prop(optional)]
    bad_fields: Option<Signal<Vec<(String, String)>>>,
) -> impl IntoView {
    let bad_fields = bad_fields.unwrap_or_else(|| Signal::derive(Vec::new));
    let spare_keys = if initial.is_empty() {
        1..BLANK_ROWS
    } else {
        0..0
    };
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
            .collect::<Vec<Row>>(),
    );
    // Add and remove work only with JavaScript, so they appear once the page is live.
    let live = RwSignal::new(false);
    Effect::new(move |_| live.set(true));

    // Each row's place (0-based) by its key, worked out once per change of the rows: every
    // field's name and label asks it, and a thousand-line form has six thousand fields.
    let positions = Memo::new(move |_| {
        rows.with(|r| {
            let mut places = vec![0; r.iter().map(|(k, _, _)| k + 1).max().unwrap_or(0)];
            for (place, (key, _, _)) in r.iter().enumerate() {
                places[*key] = place;
            }
            places
        })
    });
    let position = move |key: usize| positions.with(|p| p.get(key).copied().unwrap_or(0));
    let add_blank = move || {
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        let blank = vec![String::new(); columns.len()];
        rows.update(|r| r.push((key, blank.clone(), RwSignal::new(blank))));
    };
    // Keys typed into any field of the form, counted: a scan answered after the clerk typed on
    // elsewhere does not take the cursor back.
    let typed = StoredValue::new(0u64);
    // Typing into the last line adds a blank one after it, so Enter at a line's end always has
    // a next line to go to (made while the line is typed, long before its Enter).
    let keep_a_blank_line = move |key: usize| {
        if rows.with(|r| r.last().is_some_and(|(k, _, _)| *k == key)) {
            add_blank();
        }
    };
    let last = columns.len().saturating_sub(1);

    view! {
        <div class="table-wrap lines">
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
                            let notes = RwSignal::new(vec![None::<ScanNote>; columns.len()]);
                            let cells: Vec<NodeRef<leptos::html::Input>> =
                                columns.iter().map(|_| NodeRef::new()).collect();
                            let cells = StoredValue::new(cells);
                            // A spare row is dropped once the page is live, unless a scan typed
                            // before then reached it (the shell's script shows it then).
                            let spare = spare_keys.contains(&key);
                            let line = NodeRef::<leptos::html::Tr>::new();
                            if spare {
                                Effect::new(move |_| {
                                    if let Some(tr) = line.get_untracked() {
                                        if spare_to_drop(&tr) {
                                            rows.update(|r| r.retain(|(k, _, _)| *k != key));
                                        } else {
                                            let _ = tr.remove_attribute("data-spare");
                                        }
                                    }
                                });
                            }
                            view! {
                                <tr node_ref=line data-spare=spare.then_some("true")>
                                    <td class="num" data-label=tr!(common.line)>{move || position(key) + 1}</td>
                                    {columns.iter().zip(values).enumerate().map(|(col, (column, value))| {
                                        let name = move || format!("lines[{}][{}]", position(key), column.name);
                                        let heading = (column.label)();
                                        let label = {
                                            let heading = heading.clone();
                                            move || tr!(common.field_line, label = heading.clone(), line = position(key) + 1)
                                        };
                                        // A sign needs a keyboard that has one: not the numeric pad.
                                        let (kind, mode) = match column.kind {
                                            ColumnKind::Text | ColumnKind::Item | ColumnKind::Location => ("text", "text"),
                                            ColumnKind::Quantity | ColumnKind::Count => ("number", "numeric"),
                                            ColumnKind::Signed => ("text", "text"),
                                            // Not the browser's date picker: it shows the
                                            // browser's locale (mm/dd/yyyy) and cannot take a
                                            // carton's 20270315.
                                            ColumnKind::Date => ("text", "numeric"),
                                        };
                                        let min = match column.kind {
                                            ColumnKind::Quantity => Some("1"),
                                            ColumnKind::Count => Some("0"),
                                            _ => None,
                                        };
                                        // What a scan said, else the refusal about this field.
                                        let note = move || {
                                            notes.with(|n| n.get(col).cloned().flatten()).or_else(|| {
                                                bad_fields.with(|bad| {
                                                    let name = name();
                                                    bad.iter().find(|(field, _)| *field == name).map(|(_, reason)| ScanNote { ok: false, text: reason.clone() })
                                                })
                                            })
                                        };
                                        let node = cells.with_value(|c| c[col]);
                                        view! {
                                            <td data-label=heading>
                                                <input
                                                    node_ref=node
                                                    type=kind
                                                    inputmode=mode
                                                    min=min
                                                    name=name
                                                    aria-label=label
                                                    value=value
                                                    placeholder=column.placeholder.map(|p| p()).or_else(|| (column.kind == ColumnKind::Date).then(|| "YYYY-MM-DD".to_string()))
                                                    autocomplete="off"
                                                    data-col=col
                                                    data-last=(col == last).then_some("true")
                                                    aria-invalid=move || note().is_some_and(|n| !n.ok).then_some("true")
                                                    autofocus=move || bad_fields.with(|b| b.first().is_some_and(|(n, _)| *n == name()))
                                                    on:input=move |_| {
                                                        typed.update_value(|n| *n += 1);
                                                        keep_a_blank_line(key)
                                                    }
                                                    on:change=move |ev| {
                                                        let value = event_target_value(&ev);
                                                        live_values.update(|v| if let Some(slot) = v.get_mut(col) { *slot = value.clone() });
                                                        if let Some(expect) = column.kind.expects() {
                                                            resolve_scan(value, expect, col, columns, RowParts { values: live_values, notes, cells }, typed);
                                                        } else if column.kind == ColumnKind::Date {
                                                            write_date(value, col, RowParts { values: live_values, notes, cells });
                                                        }
                                                    }
                                                />
                                                {move || note().map(|n| view! {
                                                    <small class=if n.ok { "scan-note" } else { "scan-note bad" } aria-live="polite">{n.text}</small>
                                                })}
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
            <button type="button" class="secondary" on:click=move |_| add_blank()>{tr!(common.add_line)}</button>
        </Show>
    }
}

/// Whether a spare row is not needed once the page is live: the shell's script did not show it
/// (no scan reached it), and the line before it is blank or a spare dropped too. A line filled
/// before then keeps the spare after it, so its last Enter has a line to go to.
#[allow(unused_variables)]
fn spare_to_drop(row: &leptos::web_sys::HtmlTableRowElement) -> bool {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if !row.has_attribute("data-spare") {
            return false;
        }
        let Some(before) = row.previous_element_sibling() else {
            return true;
        };
        if before.has_attribute("data-spare") {
            return true;
        }
        let filled = before
            .query_selector_all("input")
            .ok()
            .map(|inputs| {
                (0..inputs.length()).any(|i| {
                    inputs
                        .item(i)
                        .and_then(|n| n.dyn_into::<web_sys::HtmlInputElement>().ok())
                        .is_some_and(|input| !input.value().is_empty())
                })
            })
            .unwrap_or(false);
        !filled
    }
    #[cfg(not(feature = "hydrate"))]
    true
}

/// What a scan's answer writes to in its row: the values, the notes under the fields, the
/// inputs.
#[derive(Clone, Copy)]
struct RowParts {
    values: RwSignal<Vec<String>>,
    notes: RwSignal<Vec<Option<ScanNote>>>,
    cells: StoredValue<Vec<NodeRef<leptos::html::Input>>>,
}

impl RowParts {
    /// Says `note` under column `col`'s field (`None`: nothing). The row may be gone by then.
    fn note(self, col: usize, note: Option<ScanNote>) {
        self.notes.try_update(|n| {
            if let Some(slot) = n.get_mut(col) {
                *slot = note;
            }
        });
    }

    /// Puts the cursor back in column `col`'s field, its text selected: the next scan replaces
    /// it.
    fn hold_cursor(self, col: usize) {
        let input = self
            .cells
            .try_with_value(|c| c.get(col).and_then(|n| n.get_untracked()))
            .flatten();
        if let Some(input) = input {
            let _ = input.focus();
            input.select();
        }
    }
}

/// A row of the editor: its key, the values it started with, and its values as they change.
type Row = (usize, Vec<String>, RwSignal<Vec<String>>);

/// Resolves what was scanned into column `col` of a row and says so under the field: the item's
/// name and unit or the location's kind; a GS1 barcode also fills the row's sku, batch, dates
/// and quantity (fields already typed in are kept). A wrong scan is marked and buzzes.
fn resolve_scan(
    code: String,
    expect: crate::scan::ScanKind,
    col: usize,
    columns: &'static [Column],
    row: RowParts,
    typed: StoredValue<u64>,
) {
    use crate::scan::ScanKind;
    let RowParts { values, cells, .. } = row;
    let typed_before = typed.get_value();
    let set_note = move |note| row.note(col, note);
    let code = code.trim().to_string();
    if code.is_empty() {
        set_note(None);
        return;
    }
    let expect_name = match expect {
        ScanKind::Location => "location",
        _ => "item",
    };
    leptos::task::spawn_local(async move {
        let answer = scan_code(code.clone(), expect_name.to_string())
            .await
            .and_then(|answer| answer);
        // The field changed again while this scan was resolved: the newer one answers. Its
        // form may be gone too (a fresh one after a submit): then nobody is waiting.
        let changed = values
            .try_with_untracked(|v| v.get(col).map(|v| v.trim() != code).unwrap_or(true))
            .unwrap_or(true);
        if changed {
            return;
        }
        let note = match (expect, answer) {
            (ScanKind::Location, Ok(scan)) => match scan.location {
                Some(location) => ScanNote {
                    ok: true,
                    text: crate::locations::kind_words(&location.kind),
                },
                None => ScanNote {
                    ok: false,
                    text: tr!(common.scan.not_a_location, code = code.clone()),
                },
            },
            (_, Ok(scan)) => match scan.item.clone() {
                Some(item) => {
                    let mut fill = vec![(col, item.sku.clone())];
                    let by_name = |name: &str| columns.iter().position(|c| c.name == name);
                    for (name, value) in [
                        ("batch_code", scan.batch_code.clone()),
                        ("expiry_date", scan.expiry_date.map(|d| d.to_string())),
                        (
                            "production_date",
                            scan.production_date.map(|d| d.to_string()),
                        ),
                        ("qty", scan.qty.map(|q| q.to_string())),
                    ] {
                        if let (Some(target), Some(value)) = (by_name(name), value) {
                            fill.push((target, value));
                        }
                    }
                    for (target, value) in fill {
                        let typed =
                            values.with_untracked(|v| v.get(target).cloned().unwrap_or_default());
                        if target != col && !typed.trim().is_empty() {
                            continue;
                        }
                        values.update(|v| {
                            if let Some(slot) = v.get_mut(target) {
                                slot.clone_from(&value)
                            }
                        });
                        if let Some(input) =
                            cells.with_value(|c| c.get(target).and_then(|n| n.get_untracked()))
                        {
                            input.set_value(&value);
                        }
                    }
                    ScanNote {
                        ok: true,
                        text: tr!(common.scan.item, name = item.name, unit = item.unit),
                    }
                }
                None => ScanNote {
                    ok: false,
                    text: tr!(common.scan.not_an_item, code = code.clone()),
                },
            },
            // The reason alone: the field it is about is the one it is shown under.
            (_, Err(error)) => ScanNote {
                ok: false,
                text: error
                    .details
                    .get("reason")
                    .and_then(|r| r.as_str())
                    .map(str::to_string)
                    .unwrap_or(error.message),
            },
        };
        if !note.ok {
            buzz();
            // A wrong or unknown scan stops the clerk: the cursor goes back to its field, its
            // text selected, so the next scan replaces it. Unless they have typed on since it
            // was sent: what they typed stays where they typed it.
            if typed.try_get_value() == Some(typed_before) {
                row.hold_cursor(col);
            }
        }
        set_note(Some(note));
    });
}

/// A date left in column `col`, written as `YYYY-MM-DD` whatever way it was typed or scanned
/// (see [`crate::scan::written_date`]); one that is not a date is marked, buzzes and keeps the
/// cursor, as a wrong scan does.
fn write_date(text: String, col: usize, row: RowParts) {
    let RowParts { values, cells, .. } = row;
    let set_note = move |note| row.note(col, note);
    if text.trim().is_empty() {
        set_note(None);
        return;
    }
    match crate::scan::written_date(&text, browser_today()) {
        Some(date) => {
            let date = date.to_string();
            values.update(|v| {
                if let Some(slot) = v.get_mut(col) {
                    slot.clone_from(&date)
                }
            });
            if let Some(input) = cells.with_value(|c| c.get(col).and_then(|n| n.get_untracked())) {
                input.set_value(&date);
            }
            set_note(None);
        }
        None => {
            buzz();
            // Left just now (this is its change): nothing was typed elsewhere yet.
            row.hold_cursor(col);
            set_note(Some(ScanNote {
                ok: false,
                text: tr!(errors.value.date_like),
            }));
        }
    }
}

/// Today on the device (for the century of a GS1 `YYMMDD`).
fn browser_today() -> chrono::NaiveDate {
    #[cfg(feature = "hydrate")]
    {
        let now = web_sys::js_sys::Date::new_0();
        chrono::NaiveDate::from_ymd_opt(
            now.get_full_year() as i32,
            now.get_month() + 1,
            now.get_date(),
        )
        .unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    chrono::Utc::now().date_naive()
}

/// A wrong scan's buzz: the shell's `depotBuzz` (a short low tone and a vibration, where the
/// device has them).
pub fn buzz() {
    #[cfg(feature = "hydrate")]
    {
        #[wasm_bindgen::prelude::wasm_bindgen]
        extern "C" {
            #[wasm_bindgen(catch, js_namespace = window, js_name = depotBuzz)]
            fn depot_buzz() -> Result<(), wasm_bindgen::JsValue>;
        }
        let _ = depot_buzz();
    }
}

/// Enter in a movement form, with JavaScript: the next field, the next line, or (in an empty
/// first field of a line) submitting the form. Never a half-filled submit.
#[allow(unused_variables)]
fn on_enter(event: leptos::ev::KeyboardEvent) {
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
        if input.type_() == "checkbox" {
            return;
        }
        let Some(form) = input.form() else { return };
        event.prevent_default();
        let first_of_line = input.get_attribute("data-col").as_deref() == Some("0");
        if first_of_line && input.value().trim().is_empty() {
            // Submitting is deliberate: an empty first field, after at least one line.
            let any_line = form
                .query_selector_all("input[data-col]")
                .ok()
                .is_some_and(|fields| {
                    (0..fields.length()).any(|i| {
                        fields
                            .item(i)
                            .and_then(|n| n.dyn_into::<web_sys::HtmlInputElement>().ok())
                            .is_some_and(|f| !f.value().trim().is_empty())
                    })
                });
            if any_line {
                let _ = form.request_submit();
            }
            return;
        }
        let records = input.closest("[data-records]").ok().flatten().is_some();
        if records && input.get_attribute("data-last").is_some() && !input.value().trim().is_empty()
        {
            let _ = form.request_submit();
            return;
        }
        // Fields marked `data-skip` (chosen once per form, by a tap) are not on a scan's way.
        let Ok(fields) = form
            .query_selector_all("input:not([type=hidden]):not([type=checkbox]):not([data-skip])")
        else {
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
    }
}

/// Scrolls the page so the latest result (`section.result`, above the form) is at the top of
/// the view, once the new form has taken the cursor.
fn show_result() {
    #[cfg(feature = "hydrate")]
    {
        let scroll = || {
            if let Ok(Some(result)) = document().query_selector("section.result") {
                result.scroll_into_view_with_bool(true);
            }
        };
        request_animation_frame(scroll);
    }
}

/// Puts the cursor in the input named `name` and scrolls it into view (below the sticky header:
/// see `scroll-margin-top` in the style).
#[allow(unused_variables)]
fn focus_named(name: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let selector = format!("[name=\"{}\"]", name.replace('"', ""));
        if let Some(input) = document()
            .query_selector(&selector)
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = input.focus();
            input.scroll_into_view();
        }
    }
}

/// Puts the cursor in the form's first field (the ref); `unless_busy`: only if no field has it
/// (a clerk scanning while the page came alive keeps their place).
#[allow(unused_variables)]
fn focus_first_field(node: NodeRef<leptos::html::Input>, unless_busy: bool) {
    #[cfg(feature = "hydrate")]
    {
        let busy = document()
            .active_element()
            .is_some_and(|element| element.tag_name() != "BODY");
        if unless_busy && busy {
            return;
        }
        if let Some(input) = node.get_untracked() {
            let _ = input.focus();
        } else {
            // No ref to type (a count's lines): the first line's first field.
            use wasm_bindgen::JsCast;
            if let Some(first) = document()
                .query_selector("[data-scan] input[data-col='0']")
                .ok()
                .flatten()
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            {
                let _ = first.focus();
            }
        }
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
    #[prop(optional_no_strip)] hint: Option<Hint>,
    /// Whether the form's action is running.
    pending: Signal<bool>,
    /// The submit button's label, idle and busy.
    submit: (String, String),
    /// The start-over link's label and address.
    start_over: (String, String),
    /// The ref is given, not typed (a count's id): a hidden field.
    #[prop(optional)]
    hidden_ref: bool,
    on_start_over: impl Fn(leptos::ev::MouseEvent) + Clone + 'static,
    #[prop(optional)] children: Option<Children>,
    /// The inputs the form's refusal is about and why (see `crate::ui::field_input_names`):
    /// each marked beside it; the first gets the cursor and is scrolled into view.
    #[prop(optional)]
    bad_fields: Option<Signal<Vec<(String, String)>>>,
) -> impl IntoView {
    let bad_fields = bad_fields.unwrap_or_else(|| Signal::derive(Vec::new));
    let reference_field = NodeRef::<leptos::html::Input>::new();
    // The bad field takes the cursor when a refusal arrives (with JavaScript; without it the
    // page renders it with `autofocus`).
    Effect::new(move |_| {
        if let Some((name, _)) = bad_fields.with(|b| b.first().cloned()) {
            focus_named(&name);
        }
    });
    let ref_reason = move || {
        bad_fields.with(|b| {
            b.iter()
                .find(|(n, _)| n == "reference")
                .map(|(_, reason)| reason.clone())
        })
    };
    let ref_is_bad = move || ref_reason().is_some();
    let ref_is_first_bad =
        move || bad_fields.with(|b| b.first().is_some_and(|(n, _)| n == "reference"));
    // On load (and a new form is a new component), then after every submit.
    Effect::new(move |was_pending: Option<bool>| {
        let now = pending.get();
        match was_pending {
            None => focus_first_field(reference_field, true),
            Some(true) if !now => focus_first_field(reference_field, false),
            _ => {}
        }
        now
    });
    view! {
        // A count's entry (its ref given): Enter on a line's last field records it.
        <div class="scan-form" data-scan="" data-records=hidden_ref.then_some("true") on:keydown=on_enter>
            {if hidden_ref {
                // Nothing to type at the head: no head card either.
                view! {
                    <input type="hidden" name="reference" value=reference/>
                    {children.map(|children| children())}
                }.into_any()
            } else {
                view! {
                    <div class="card order-head">
                        <div>
                            <label for="movement-ref">{ref_label}</label>
                            <input id="movement-ref" name="reference" required maxlength="64" autocomplete="off"
                                node_ref=reference_field placeholder=ref_placeholder value=reference
                                autofocus=move || bad_fields.with(|b| b.is_empty()) || ref_is_first_bad()
                                aria-invalid=move || ref_is_bad().then_some("true")/>
                            {move || ref_reason().map(|reason| view! { <small class="scan-note bad" aria-live="polite">{reason}</small> })}
                        </div>
                        {children.map(|children| children())}
                    </div>
                }.into_any()
            }}
            {match hint {
                Some(hint) => view! { <LineEditor columns initial=lines hint bad_fields/> }.into_any(),
                None => view! { <LineEditor columns initial=lines bad_fields/> }.into_any(),
            }}
        </div>
        <div class="form-actions submit-row">
            <button type="submit" disabled=move || pending.get()>
                {move || if pending.get() { submit.1.clone() } else { submit.0.clone() }}
            </button>
            <a class="button secondary" href=start_over.1 on:click=on_start_over>{start_over.0}</a>
        </div>
    }
}

/// How a movement page's form looks beyond its lines (receive, put away, ship, …; the lines and
/// columns are its form type's, [`LinesForm`]): a hint per row, its words, the fields of its
/// head, how its result reads, and whether a success gives a fresh form.
pub struct MovementForm<F: 'static, R: 'static> {
    pub hint: Option<Hint>,
    /// The ref field's label and placeholder, the submit button idle and busy, the start-over
    /// link; in the page's language.
    pub words: fn() -> FormWords,
    /// Fields of the order head beyond the ref (e.g. all-or-nothing), showing the form's values.
    pub head: Option<fn(&F) -> AnyView>,
    /// A result the server gave (a refusal is shown at the top of the form instead).
    pub result: fn(Outcome<F, R>) -> AnyView,
    /// After a form the server took, a fresh form for the next movement or lines (receive, put
    /// away, ship, a count's entry), with the result above it; rather than the form kept as
    /// sent (an adjustment's). A retry after a refusal or a lost answer keeps the form, so
    /// sending it again is recognised by its ref.
    pub fresh_after_success: bool,
}

impl<F, R> MovementForm<F, R> {
    /// A form of lines and a ref, fresh after a success: `words`, and its `result` shown.
    pub const fn plain(words: fn() -> FormWords, result: fn(Outcome<F, R>) -> AnyView) -> Self {
        MovementForm {
            hint: None,
            words,
            head: None,
            result,
            fresh_after_success: true,
        }
    }
}

/// The words of a [`MovementForm`].
pub struct FormWords {
    pub ref_label: String,
    pub ref_placeholder: String,
    pub submit: (String, String),
    pub start_over: String,
}

/// The whole of a movement page below its heading, for the page's island: a refusal at the top,
/// the form (`action_form` wraps the fields in the page's `<ActionForm>`), the result under it.
/// `stored` is the outcome the page's URL leads to (no JavaScript); `value` and `pending` are
/// the action's (JavaScript). The form keeps its ref after a submit, so a resubmit is answered
/// `IDEMPOTENT`; "start over" gives a fresh form.
pub fn movement_form<F, R>(
    spec: &'static MovementForm<F, R>,
    // The page's path: the start-over link goes there.
    page: String,
    // A ref given rather than typed (a count's id): a hidden field, and the cursor starts in
    // the first line.
    given_ref: Option<String>,
    stored: StoredOutcome<F, R>,
    value: MappedSignal<Option<Result<Outcome<F, R>, AppError>>>,
    pending: Signal<bool>,
    action_form: impl Fn(AnyView) -> AnyView + Clone + Send + Sync + 'static,
) -> impl IntoView
where
    F: LinesForm + Send + Sync + 'static,
    R: Clone + Send + Sync + 'static,
{
    crate::ui::island_live();
    let stored = RwSignal::new(stored);
    let generation = RwSignal::new(0u32);
    let new_form = start_over(
        move || {
            value.set(None);
            stored.set(StoredOutcome::Nothing);
        },
        generation,
        page.clone(),
    );
    if spec.fresh_after_success {
        Effect::new(move |_| {
            let took = value.with(|v| matches!(v, Some(Ok(Outcome { result: Ok(_), .. }))));
            if took {
                stored.set(StoredOutcome::Nothing);
                generation.update(|g| *g += 1);
                // The new form takes the cursor; the result, above it, is what the eye sees.
                show_result();
            }
        });
    }
    let hidden_ref = given_ref.is_some();
    let shown_refusal = move || stored.with(|stored| refusal(value.get(), stored));
    // A refusal: at the top of the form, and beside each field it is about.
    let bad_fields = Signal::derive(move || {
        shown_refusal()
            .map(|error| field_input_names(&error))
            .unwrap_or_default()
    });
    view! {
        {move || shown_refusal().map(|error| view! {
            <section class="result refusal"><ErrorPanel error/></section>
        })}
        // The outcome first, where the eye is after a submit (a refusal is the one above).
        {move || outcome_view(value.get(), stored.get(), F::default, |o| {
            if o.result.is_err() { ().into_any() } else { (spec.result)(o) }
        })}
        // A new form (new DOM, so typed-in values go) when the clerk starts over.
        <For each=move || std::iter::once(generation.get()) key=|g| *g let:_generation>
            {
                // After a success the form is fresh for the next movement, unless the kind
                // keeps it (without JavaScript too: the page comes back with the result).
                let initial = stored
                    .with_untracked(|s| match s.clone().found() {
                        Some(o) if spec.fresh_after_success && o.result.is_ok() => None,
                        found => found.map(|o| o.form),
                    })
                    .unwrap_or_default();
                let lines = initial.lines().iter().map(FormLine::values).collect();
                let columns = <F::Line as FormLine>::COLUMNS;
                let reference = given_ref.clone().unwrap_or_else(|| initial.reference().to_string());
                let words = (spec.words)();
                let head = spec.head.map(|head| head(&initial));
                action_form(view! {
                    <MovementFields
                        ref_label=words.ref_label
                        ref_placeholder=words.ref_placeholder
                        reference
                        columns
                        lines
                        hint=spec.hint
                        pending
                        submit=words.submit
                        start_over=(words.start_over, page.clone())
                        on_start_over=new_form.clone()
                        hidden_ref
                        bad_fields
                    >
                        {head}
                    </MovementFields>
                }.into_any())
            }
        </For>
    }
}

/// What a page's scan field read (`expect`: `item` or `location`, the field's kind); the same
/// answer as `GET /scan`. A scan that names nothing or is malformed is an answer here (the inner
/// `Err`), not a failed request: a wrong scan is part of a clerk's day.
#[leptos::server(endpoint = "scan")]
pub async fn scan_code(
    code: String,
    expect: String,
) -> Result<Result<crate::scan::Scan, crate::error::AppError>, crate::error::AppError> {
    use crate::error::ErrorCode;
    let state = crate::state::app_state()?;
    let expect = crate::scan::ScanKind::from_name(expect.trim());
    let warehouse = crate::warehouses::working();
    let today = state.config.today();
    match crate::scan::service::resolve(&state.db, &code, expect, warehouse.as_deref(), today).await
    {
        Err(error)
            if matches!(
                error.code,
                ErrorCode::NotFound | ErrorCode::ValidationFailed
            ) =>
        {
            Ok(Err(error))
        }
        other => other.map(Ok),
    }
}

/// A movement form's text as its request reads it, line by line: each field parsed once, what
/// does not parse noted under the field's name (`lines[2].qty`) so every bad field is refused
/// at once, with what the request's own checks say.
#[cfg(feature = "ssr")]
pub struct FormText {
    problems: crate::error::Problems,
    today: chrono::NaiveDate,
    line: usize,
}

#[cfg(feature = "ssr")]
impl FormText {
    /// Each of `lines` as `read` makes it a request's line.
    pub fn each<L, T>(&mut self, lines: &[L], mut read: impl FnMut(&mut Self, &L) -> T) -> Vec<T> {
        lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                self.line = i;
                read(self, line)
            })
            .collect()
    }

    fn field(&self, name: &str) -> String {
        format!("lines[{}].{name}", self.line)
    }

    /// The line's quantity as the request's number (its rules are the request's to apply);
    /// text that is no whole number reads as 0.
    pub fn qty(&mut self, raw: &str) -> i64 {
        let field = self.field("qty");
        self.problems
            .check(crate::domain::typed_number(&field, raw))
            .unwrap_or(0)
    }

    /// A whole number with its sign ("−3", "+2", " 5 ") in field `name`; `None` when blank.
    pub fn signed(&mut self, name: &str, raw: &str) -> Option<i64> {
        let text: String = raw
            .trim()
            .chars()
            .map(|c| match c {
                '−' | '－' => '-',
                '＋' => '+',
                other => other,
            })
            .collect();
        if text.is_empty() {
            return None;
        }
        let field = self.field(name);
        self.problems.check(text.parse::<i64>().map_err(|_| {
            AppError::validation(
                field,
                tr!(errors.value.whole_number, max = crate::domain::MAX_QTY),
            )
        }))
    }

    /// A date typed or scanned in field `name` (see [`crate::scan::written_date`]); `None` when
    /// blank.
    pub fn date(&mut self, name: &str, raw: &str) -> Option<chrono::NaiveDate> {
        let raw = raw.trim();
        if raw.is_empty() {
            return None;
        }
        let field = self.field(name);
        self.problems.check(
            crate::scan::written_date(raw, self.today)
                .ok_or_else(|| AppError::validation(field, tr!(errors.value.date_like))),
        )
    }
}

/// How a movement form becomes its kind's JSON request.
#[cfg(feature = "ssr")]
pub trait FormRequest: LinesForm {
    type Kind: crate::movement::kind::Kind;
    /// The request the form's `text` makes.
    fn input(&self, text: &mut FormText) -> <Self::Kind as crate::movement::kind::Kind>::Input;
}

/// A movement form `$form`'s request for kind `$kind`: `$input` makes it from the form and its
/// [`FormText`].
macro_rules! form_request {
    ($form:ty => $kind:ty, |$self:ident, $text:ident| $input:expr) => {
        #[cfg(feature = "ssr")]
        impl $crate::lines::FormRequest for $form {
            type Kind = $kind;
            fn input(
                &self,
                $text: &mut $crate::lines::FormText,
            ) -> <$kind as $crate::movement::kind::Kind>::Input {
                let $self = self;
                $input
            }
        }
    };
}
pub(crate) use form_request;

/// The answer a movement form `F` gets.
#[cfg(feature = "ssr")]
pub type FormAnswer<F> = Result<
    Outcome<
        F,
        crate::movement::MovementResponse<
            <<F as FormRequest>::Kind as crate::movement::pipeline::Movement>::LineResult,
        >,
    >,
    AppError,
>;

/// Carries out a movement form's request through the same service as its kind's JSON endpoint,
/// as whoever is signed in, and keeps the outcome for the form's page. `problems` are what the
/// page found besides the form's text (named after the text's own); with any, the request's
/// own checks still run, so every bad field is refused at once.
#[cfg(feature = "ssr")]
pub async fn commit_form<F>(form: F, problems: crate::error::Problems) -> FormAnswer<F>
where
    F: FormRequest + serde::Serialize,
    <F::Kind as crate::movement::pipeline::Movement>::LineResult: serde::Serialize,
{
    use crate::movement::kind::Kind;
    let state = crate::state::app_state()?;
    let mut text = FormText {
        problems: crate::error::Problems::default(),
        today: state.config.today(),
        line: 0,
    };
    let input = form.input(&mut text);
    text.problems.extend(problems);
    let actor = crate::auth::access::current_actor();
    let result = text
        .problems
        .or_run(
            || F::Kind::from_input(&input, &state.config),
            F::Kind::commit(&state.db, &state.config, &input, actor.as_deref()),
        )
        .await;
    let reference = form.reference().to_string();
    Ok(crate::ui::finish_form(F::PAGE, &reference, form, result).await)
}

/// A movement's result as its page shows it, the columns as data: a heading naming the ref
/// with the overall status, a summary, and one row per line — its number, then a cell per
/// column (a column's heading is also its cells' label on a handheld's cards).
pub struct ResultTable {
    /// The heading's id, which names the section (`receive-result`).
    pub id: &'static str,
    pub heading: String,
    pub status: LineStatus,
    pub summary: String,
    /// Each column's heading, and whether it holds numbers.
    pub columns: Vec<(String, bool)>,
    /// Per line: its number and its cells, one per column.
    pub rows: Vec<(u32, Vec<AnyView>)>,
}

/// Shows `result`: the table, or what refused the request.
pub fn result_table(result: Result<ResultTable, AppError>) -> AnyView {
    let table = match result {
        Err(error) => {
            return view! { <section class="result"><ErrorPanel error/></section> }.into_any()
        }
        Ok(table) => table,
    };
    let line = tr!(common.line);
    let heads = table
        .columns
        .iter()
        .map(|(head, numeric)| view! { <th class=numeric.then_some("num")>{head.clone()}</th> })
        .collect_view();
    let rows = table
        .rows
        .into_iter()
        .map(|(number, cells)| {
            let cells = cells
                .into_iter()
                .zip(&table.columns)
                .map(|(cell, (head, numeric))| {
                    view! { <td class=numeric.then_some("num") data-label=head.clone()>{cell}</td> }
                })
                .collect_view();
            view! { <tr><td class="num" data-label=line.clone()>{number}</td>{cells}</tr> }
        })
        .collect_view();
    view! {
        <section class="result" aria-labelledby=table.id>
            <h2 id=table.id>{table.heading} " " <StatusBadge status=table.status/></h2>
            <p role="status" class="summary" data-status=table.status.as_str()>{table.summary}</p>
            <div class="table-wrap">
                <table class="cards">
                    <thead><tr><th class="num">"#"</th>{heads}</tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}

/// A movement page's live part, an island: its form `$form` posted to its server function
/// `$action` (`ActionForm` in scope), and the outcome. Given the island's attribute
/// (`#[island]`, `#[island(lazy)]`) and name, the action, the form and answer types, the
/// catalogue of the form's words ([`form_words!`]), how its result shows, and what of its
/// [`MovementForm`] is not [`MovementForm::plain`].
macro_rules! movement_island {
    (#[$island:meta] $name:ident, $action:ty, $form:ty, $response:ty, $words:ident {
        result: $result:expr $(, $field:ident: $value:expr)* $(,)?
    }) => {
        const _: () = assert!(
            $crate::kinds::is_form(
                <$form as $crate::lines::LinesForm>::PAGE,
                <$action as leptos::server_fn::ServerFn>::PATH,
            ),
            "a movement page's form is the server function its kind's registration names"
        );

        /// The page's live part: the form and its outcome.
        #[$island]
        fn $name(stored: $crate::ui::StoredOutcome<$form, $response>) -> impl IntoView {
            static SPEC: $crate::lines::MovementForm<$form, $response> = $crate::lines::MovementForm {
                $($field: $value,)*
                ..$crate::lines::MovementForm::plain($crate::lines::form_words!($words), $result)
            };
            let action = $crate::ui::form_action::<$action>();
            $crate::lines::movement_form(
                &SPEC,
                <$form as $crate::lines::LinesForm>::PAGE.to_string(),
                None,
                stored,
                action.value(),
                action.pending().into(),
                move |fields| {
                    view! { <ActionForm action=action attr:novalidate=true>{fields}</ActionForm> }
                        .into_any()
                },
            )
        }
    };
}
pub(crate) use movement_island;

/// A movement page's result (an [`Outcome`] of its form): the [`result_table`] of its answer,
/// its words from the catalogue `$words` (`result_heading`, `summary.{ok,idempotent,
/// insufficient_stock}`, `col.<column>`), the columns by name (`qty: num` for numbers) and
/// each line's cells from `cells(sent, line)`, where `sent` is the form's line it answers.
macro_rules! movement_result {
    ($outcome:expr, $words:ident, $id:literal,
     [$($column:ident $(: $num:ident)?),* $(,)?], $cells:expr) => {{
        let outcome = $outcome;
        let form = outcome.form;
        let cells = $cells;
        $crate::lines::result_table(outcome.result.map(|response| $crate::lines::ResultTable {
            id: $id,
            heading: tr!($words.result_heading, reference = response.r#ref.clone()),
            status: response.status,
            summary: match response.status {
                $crate::movement::LineStatus::Ok => tr!($words.summary.ok),
                $crate::movement::LineStatus::Idempotent => tr!($words.summary.idempotent),
                $crate::movement::LineStatus::InsufficientStock => {
                    tr!($words.summary.insufficient_stock)
                }
            },
            columns: vec![$((tr!($words.col.$column), $crate::lines::movement_result!(@num $($num)?))),*],
            rows: response
                .lines
                .into_iter()
                .map(|line| {
                    let sent = $crate::ui::sent_line(&form.lines, line.ref_line);
                    (line.ref_line, cells(sent, line))
                })
                .collect(),
        }))
    }};
    (@num) => {
        false
    };
    (@num num) => {
        true
    };
}
pub(crate) use movement_result;

/// A movement form's words from the catalogue `$words`: `ref_label`, `ref_placeholder`,
/// `submit`, `submitting`, `start_over`.
macro_rules! form_words {
    ($words:ident) => {
        || $crate::lines::FormWords {
            ref_label: tr!($words.ref_label),
            ref_placeholder: tr!($words.ref_placeholder),
            submit: (tr!($words.submit), tr!($words.submitting)),
            start_over: tr!($words.start_over),
        }
    };
}
pub(crate) use form_words;

/// A movement page: its title (and lead, if it has one) from the catalogue `$words`, then its
/// island `$island` with the outcome kept for the form's page (a no-JS post's).
macro_rules! movement_page {
    ($name:ident, $words:ident $(+ $lead:ident)?, $island:ident, $form:ty, $response:ty) => {
        #[component]
        pub fn $name() -> impl IntoView {
            let stored = $crate::ui::stored_outcome::<$form, $response>(
                <$form as $crate::lines::LinesForm>::PAGE,
            );
            view! {
                <leptos_meta::Title text=tr!($words.title)/>
                <h1>{tr!($words.title)}</h1>
                $(<p class="lead">{tr!($words.$lead)}</p>)?
                <Suspense fallback=|| view! { <p class="muted">{tr!(common.loading)}</p> }>
                    {move || Suspend::new(async move {
                        let stored = stored.await;
                        view! { <$island stored/> }
                    })}
                </Suspense>
            }
        }
    };
}
pub(crate) use movement_page;

/// What a line's hint knows of its stock: `None` while its item or location is blank, then the
/// stock there (`Ok(None)`: none of the item there) or why it could not be asked.
pub type LineStock = Option<Result<Option<crate::stock::StockRow>, String>>;

/// A row hint's view of the stock of the row's item (column `sku`) at its location (column
/// `location`), asked again as either changes; `words` says it, as the page renders, in the
/// page's language.
pub fn stock_hint(
    values: RwSignal<Vec<String>>,
    sku: usize,
    location: usize,
    words: fn(LineStock) -> String,
) -> AnyView {
    let answer = RwSignal::new(None);
    Effect::new(move |_| {
        let column = |i: usize| values.with(|v| v.get(i).map(|t| t.trim().to_string()));
        let (sku, location) = (
            column(sku).unwrap_or_default(),
            column(location).unwrap_or_default(),
        );
        if sku.is_empty() || location.is_empty() {
            answer.set(None);
            return;
        }
        leptos::task::spawn_local(async move {
            answer.set(Some(
                stock_at(sku, location).await.map_err(|error| error.message),
            ));
        });
    });
    view! { <span aria-live="polite">{move || words(answer.get())}</span> }.into_any()
}

/// The stock of `sku` at `location_code` as a movement form's line hint shows it (on hand,
/// reserved, available, batches), if there is one: the pages' one read of a line's stock.
#[server(endpoint = "stock_at")]
pub async fn stock_at(
    sku: String,
    location_code: String,
) -> Result<Option<crate::stock::StockRow>, AppError> {
    use crate::stock::StockFilter;
    let state = crate::state::app_state()?;
    let filter = StockFilter {
        sku: Some(sku),
        location_code: Some(location_code),
        warehouse: crate::warehouses::working(),
        ..StockFilter::default()
    };
    let answer =
        crate::stock::service::query_stock(&state.db, &filter, state.config.today()).await?;
    Ok(answer.rows.into_iter().next())
}
