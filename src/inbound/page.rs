//! The `/inbound` page: a clerk types or scans a receipt's ref, then its lines; the result shows
//! each line's status.

use chrono::NaiveDate;
use leptos::form::ActionForm;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::inbound::ReceiveResponse;
#[cfg(feature = "ssr")]
use crate::inbound::{ReceiveInput, ReceiveLineInput};
use crate::lines::{Column, ColumnKind, MovementForm};
use crate::ui::{batches_text, number, Outcome, StatusBadge};

/// The receive form as the browser posts it: every field text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReceiveForm {
    pub reference: String,
    pub lines: Vec<ReceiveFormLine>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReceiveFormLine {
    pub sku: String,
    pub location_code: String,
    pub qty: String,
    pub batch_code: String,
    pub expiry_date: String,
    pub production_date: String,
}

const COLUMNS: &[Column] = &[
    Column {
        name: "sku",
        label: || tr!(inbound.col.sku),
        kind: ColumnKind::Item,
        placeholder: Some(|| tr!(inbound.sku_placeholder)),
    },
    Column {
        name: "location_code",
        label: || tr!(inbound.col.location),
        kind: ColumnKind::Location,
        placeholder: Some(|| tr!(inbound.location_placeholder)),
    },
    Column {
        name: "qty",
        label: || tr!(inbound.col.qty),
        kind: ColumnKind::Quantity,
        placeholder: None,
    },
    Column {
        name: "batch_code",
        label: || tr!(inbound.col.batch),
        kind: ColumnKind::Text,
        placeholder: Some(|| tr!(inbound.batch_placeholder)),
    },
    Column {
        name: "expiry_date",
        label: || tr!(inbound.col.expiry),
        kind: ColumnKind::Date,
        placeholder: None,
    },
    Column {
        name: "production_date",
        label: || tr!(inbound.col.produced),
        kind: ColumnKind::Date,
        placeholder: None,
    },
];

impl ReceiveFormLine {
    #[cfg(feature = "ssr")]
    fn is_blank(&self) -> bool {
        self.values().iter().all(|v| v.trim().is_empty())
    }

    fn values(&self) -> Vec<String> {
        vec![
            self.sku.clone(),
            self.location_code.clone(),
            self.qty.clone(),
            self.batch_code.clone(),
            self.expiry_date.clone(),
            self.production_date.clone(),
        ]
    }
}

/// Parses a date typed or scanned into a form (see [`crate::scan::written_date`]; blank for
/// none).
pub fn form_date(
    field: String,
    raw: &str,
    today: NaiveDate,
) -> Result<Option<NaiveDate>, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    crate::scan::written_date(raw, today)
        .map(Some)
        .ok_or_else(|| AppError::validation(field, tr!(errors.value.date_like)))
}

impl ReceiveForm {
    /// The form as the JSON API's request (blank lines were dropped already), with what its
    /// text gets wrong (a qty or date that does not parse) noted in `problems`.
    #[cfg(feature = "ssr")]
    fn to_input(&self, problems: &mut crate::error::Problems, today: NaiveDate) -> ReceiveInput {
        let lines = self
            .lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                let field = |name: &str| format!("lines[{i}].{name}");
                let mut date = |name: &str, raw: &str| {
                    problems.check(form_date(field(name), raw, today)).flatten()
                };
                let expiry_date = date("expiry_date", &line.expiry_date);
                let production_date = date("production_date", &line.production_date);
                ReceiveLineInput {
                    sku: Some(line.sku.clone()),
                    location_code: Some(line.location_code.clone()),
                    qty: crate::lines::form_qty(problems, i, &line.qty),
                    batch_code: Some(line.batch_code.clone()),
                    expiry_date,
                    production_date,
                    ..ReceiveLineInput::default()
                }
            })
            .collect();
        ReceiveInput {
            r#ref: self.reference.clone(),
            lines,
        }
    }
}

/// Receives the page's form through the same service as `POST /inbound/receive`.
#[server(endpoint = "receive_goods")]
pub async fn receive_goods_form(
    reference: String,
    lines: Vec<ReceiveFormLine>,
) -> Result<Outcome<ReceiveForm, ReceiveResponse>, AppError> {
    let state = crate::state::app_state()?;
    let form = ReceiveForm {
        reference,
        lines: lines.into_iter().filter(|l| !l.is_blank()).collect(),
    };
    // Every bad field of the form is refused at once: what its text gets wrong, then what the
    // request's checks say.
    let mut problems = crate::error::Problems::default();
    let input = form.to_input(&mut problems, state.config.today());
    let reference = form.reference.clone();
    crate::lines::commit_form::<crate::inbound::service::Receive, _>(
        "/inbound", form, &reference, &input, problems,
    )
    .await
}

crate::lines::movement_page! {
    InboundPage, inbound, "/inbound", ReceiveScanForm, ReceiveForm, ReceiveResponse
}

/// The form as it looks and reads.
static FORM: MovementForm<ReceiveForm, ReceiveResponse> = MovementForm {
    columns: COLUMNS,
    hint: None,
    words: crate::lines::form_words!(inbound),
    fields: |form| {
        (
            form.reference.clone(),
            form.lines.iter().map(ReceiveFormLine::values).collect(),
        )
    },
    head: None,
    fresh_after_success: true,
    result: |outcome| view! { <ReceiveResult outcome/> }.into_any(),
};

crate::lines::movement_island! {
    #[island] ReceiveScanForm, ReceiveGoodsForm, FORM, "/inbound", ReceiveForm, ReceiveResponse
}

#[component]
fn ReceiveResult(outcome: Outcome<ReceiveForm, ReceiveResponse>) -> impl IntoView {
    crate::lines::movement_result!(
        outcome, inbound, "receive-result",
        [sku, location, qty: num, status, after_qty: num, batches],
        |sent: ReceiveFormLine, line: crate::movement::LineResult| vec![
            sent.sku.into_any(),
            sent.location_code.into_any(),
            number(line.qty).into_any(),
            view! { <StatusBadge status=line.status/> }.into_any(),
            line.after_qty.map(number).into_any(),
            batches_text(&line.batches).into_any(),
        ]
    )
}
