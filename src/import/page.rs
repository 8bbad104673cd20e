//! `/import`: a sheet of items, locations or opening stock — choose the file, preview the
//! report (nothing written), import. Plain form posts to the JSON endpoints, which answer a
//! browser with a redirect back here and the report; the same with or without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::import::{ImportKind, ImportReport};
use crate::ui::{form_result, number, RESULT_PARAM};

fn kind_title(kind: ImportKind) -> String {
    match kind {
        ImportKind::Items => tr!(import.items.title),
        ImportKind::Locations => tr!(import.locations.title),
        ImportKind::Stock => tr!(import.stock.title),
    }
}

fn kind_columns(kind: ImportKind) -> String {
    match kind {
        ImportKind::Items => tr!(import.items.columns),
        ImportKind::Locations => tr!(import.locations.columns),
        ImportKind::Stock => tr!(import.stock.columns),
    }
}

#[component]
pub fn ImportPage() -> impl IntoView {
    let query = use_query_map();
    let report = Resource::new(
        move || {
            let query = query.read();
            (query.get("kind"), query.get(RESULT_PARAM))
        },
        |(kind, token)| async move {
            let (Some(kind), Some(token)) = (kind, token) else {
                return None;
            };
            let json = form_result("/import".into(), kind.clone(), token)
                .await
                .ok()??;
            let report: ImportReport = serde_json::from_str(&json).ok()?;
            Some((ImportKind::from_name(&kind)?, report))
        },
    );
    view! {
        <Title text=tr!(import.title)/>
        <h1>{tr!(import.title)}</h1>
        <p class="hint">{tr!(import.intro)}</p>
        <Suspense>
            {move || Suspend::new(async move {
                report.await.map(|(kind, report)| view! { <Report kind report/> })
            })}
        </Suspense>
        {ImportKind::ALL.into_iter().map(|kind| view! {
            <section class="card import" data-kind=kind.as_str() aria-labelledby=format!("import-{}", kind.as_str())>
                <h2 id=format!("import-{}", kind.as_str())>{kind_title(kind)}</h2>
                <p class="hint">{kind_columns(kind)}</p>
                <form method="post" action=format!("/import/{}", kind.as_str()) enctype="multipart/form-data">
                    <label>
                        <span>{tr!(import.file)}</span>
                        <input type="file" name="file" required
                            accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"/>
                    </label>
                    {(kind == ImportKind::Stock).then(|| view! {
                        <label>
                            <span>{tr!(import.stock.reference)}</span>
                            <input type="text" name="ref" maxlength="64" autocomplete="off"
                                placeholder=tr!(import.stock.reference_placeholder)/>
                        </label>
                    })}
                    <div class="actions">
                        <button type="submit" name="dry_run" value="true" class="secondary">{tr!(import.preview)}</button>
                        <button type="submit" class="primary">{tr!(import.apply)}</button>
                    </div>
                </form>
            </section>
        }).collect_view()}
        <p class="hint">{tr!(import.export_hint)}</p>
    }
}

/// What the last import of `kind` did, or would do, and its problems row by row.
#[component]
fn Report(kind: ImportKind, report: ImportReport) -> impl IntoView {
    let problems = report.errors.len() as i64;
    let summary = match (report.dry_run, problems) {
        (true, 0) => tr!(
            import.report.preview_ok,
            rows = number(report.rows as i64),
            created = number(report.created as i64),
            updated = number(report.updated as i64)
        ),
        (true, _) => tr!(
            import.report.preview_problems,
            rows = number(report.rows as i64),
            problems = number(problems)
        ),
        (false, 0) => tr!(
            import.report.done,
            rows = number(report.rows as i64),
            created = number(report.created as i64),
            updated = number(report.updated as i64)
        ),
        (false, _) => tr!(import.report.refused, problems = number(problems)),
    };
    let (badge, outcome) = if problems > 0 {
        ("badge bad", "problems")
    } else {
        ("badge ok", "ok")
    };
    let heads = [
        tr!(import.report.row),
        tr!(import.report.column),
        tr!(import.report.problem),
    ];
    view! {
        <section class="result import-report" role="status" data-kind=kind.as_str()
            data-outcome=outcome data-dry-run=report.dry_run.to_string()>
            <h2>{kind_title(kind)} <span class=badge>{if report.dry_run { tr!(import.preview) } else { tr!(import.apply) }}</span></h2>
            <p class="summary">{summary}</p>
            {report.r#ref.clone().filter(|_| problems == 0 && !report.dry_run).map(|r| view! {
                <p><a href=format!("/ledger?ref={}", crate::ui::urlencode(&r))>{tr!(import.report.ledger, reference = r.clone())}</a></p>
            })}
            {(report.dry_run && problems == 0).then(|| view! { <p class="hint">{tr!(import.report.again)}</p> })}
            {(problems > 0).then(|| view! {
                <div class="table-wrap">
                    <table class="cards import-errors">
                        <thead><tr>{heads.iter().map(|h| view! { <th>{h.clone()}</th> }).collect_view()}</tr></thead>
                        <tbody>
                            {report.errors.iter().map(|e| view! {
                                <tr>
                                    <td data-label=heads[0].clone()>{e.row.map(|r| tr!(import.report.row_n, row = r)).unwrap_or_else(|| tr!(import.report.whole_file))}</td>
                                    <td data-label=heads[1].clone()>{e.column.clone().unwrap_or_else(|| "—".into())}</td>
                                    <td data-label=heads[2].clone()>{e.message.clone()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            })}
        </section>
    }
}
