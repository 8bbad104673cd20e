//! Every rule the migrations give the database has an answer in
//! `depot::db::failure::constraint_error` (issue 30): the rules are read from each database's own
//! catalogue after the migrations, spelt as the backend names them when it refuses a change, so
//! a rule added without a mapping fails here, all of them named at once.

use std::collections::BTreeMap;

use depot::db::failure::constraint_error;
use depot::db::{classify_database_error, Backend, ConstraintKind, Db, DbFailure, Violation};
use depot::error::ErrorCode;
use serde_json::Value;

use crate::common::TestDb;
use crate::on_both_backends;

on_both_backends!(every_rule_in_the_catalogue_has_an_answer);

/// sqlx's own bookkeeping: only the migrator writes it, never through `constraint_error`.
const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

/// The rules of one database, by the name a violation carries: its kind and where it comes from.
type Rules = BTreeMap<String, (ConstraintKind, Vec<String>)>;

fn note(rules: &mut Rules, name: String, kind: ConstraintKind, origin: String) {
    rules
        .entry(name)
        .or_insert((kind, Vec::new()))
        .1
        .push(origin);
}

async fn every_rule_in_the_catalogue_has_an_answer(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let mut rules = Rules::new();
    match &test_db.db {
        Db::Postgres(pool) => postgres_rules(pool, &mut rules).await,
        Db::Sqlite(pool, _) => sqlite_rules(pool, &mut rules).await,
    }

    // The catalogue was read: the rules of the first migrations are there in this spelling.
    let known: &[&str] = match backend {
        Backend::Postgres => &[
            "items_sku_key",
            "stocks_qty_non_negative",
            "stocks_item_id_fkey",
            "uq_movement_anchors_kind_ref_line",
            "stock_ledger_append_only",
        ],
        Backend::Sqlite => &[
            "items.sku",
            "stocks_qty_non_negative",
            "stocks.item_id, stocks.location_id",
            "movement_anchors.kind, movement_anchors.ref, movement_anchors.line_key",
            "stock_ledger_append_only",
        ],
    };
    for name in known {
        assert!(rules.contains_key(*name), "{backend:?}: {name} not read");
    }
    assert!(
        rules.len() > 80,
        "{backend:?}: only {} rules read",
        rules.len()
    );

    let mut missing = Vec::new();
    let mut wrong = Vec::new();
    for (name, (kind, origins)) in &rules {
        let violation = Violation {
            kind: *kind,
            name: Some(name.clone()),
        };
        let origin = origins.join("; ");
        match constraint_error(&violation) {
            None => missing.push(format!("{name:?} ({origin})")),
            Some(answer) => {
                let field = answer.details.get("field").and_then(Value::as_str);
                // Rows only Depot writes, keyed by what it drew at random (migration 0014's
                // node state): no request can break their rules, so a refusal is Depot's
                // fault, an opaque internal error.
                let internal = origins.iter().all(|origin| {
                    ["form_results", "sign_in_failures", "setup_tokens"]
                        .iter()
                        .any(|table| origin.ends_with(&format!(" on {table}")))
                });
                let fits = match answer.code {
                    ErrorCode::Conflict => true,
                    ErrorCode::ValidationFailed => field.is_some_and(|f| !f.is_empty()),
                    ErrorCode::Internal => internal,
                    _ => false,
                };
                if !fits {
                    wrong.push(format!(
                        "{name:?} ({origin}): {} {:?}, details {}",
                        answer.code.as_str(),
                        answer.message,
                        answer.details
                    ));
                }
            }
        }
    }
    assert!(
        missing.is_empty() && wrong.is_empty(),
        "{backend:?}: of {} rules, {} have no answer in src/db/failure.rs `constraint_error`:\n  {}\n\
         and {} are answered with neither CONFLICT nor VALIDATION_FAILED naming a field:\n  {}",
        rules.len(),
        missing.len(),
        missing.join("\n  "),
        wrong.len(),
        wrong.join("\n  "),
    );
}

async fn postgres_rules(pool: &sqlx::PgPool, rules: &mut Rules) {
    // Constraints: CHECK, UNIQUE, PRIMARY KEY, FOREIGN KEY, EXCLUDE, by the name PostgreSQL
    // reports.
    let constraints: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT c.conname::text, c.contype::text, t.relname::text \
         FROM pg_constraint c \
         JOIN pg_class t ON t.oid = c.conrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = 'public' AND c.contype IN ('c', 'u', 'p', 'f', 'x') \
           AND t.relname <> $1",
    )
    .bind(MIGRATIONS_TABLE)
    .fetch_all(pool)
    .await
    .unwrap();
    for (name, contype, table) in constraints {
        let (kind, what) = match contype.as_str() {
            "c" => (ConstraintKind::Check, "CHECK"),
            "u" => (ConstraintKind::Unique, "UNIQUE"),
            "p" => (ConstraintKind::Unique, "PRIMARY KEY"),
            "f" => (ConstraintKind::ForeignKey, "FOREIGN KEY"),
            _ => (ConstraintKind::Exclusion, "EXCLUDE"),
        };
        note(rules, name, kind, format!("{what} on {table}"));
    }

    // Unique indexes that are no constraint (CREATE UNIQUE INDEX): violations name the index.
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT ic.relname::text, t.relname::text \
         FROM pg_index i \
         JOIN pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_class t ON t.oid = i.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = 'public' AND i.indisunique AND t.relname <> $1 \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c \
                           WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid \
                             AND c.contype IN ('u', 'p', 'x'))",
    )
    .bind(MIGRATIONS_TABLE)
    .fetch_all(pool)
    .await
    .unwrap();
    for (index, table) in indexes {
        note(
            rules,
            index.clone(),
            ConstraintKind::Unique,
            format!("unique index {index} on {table}"),
        );
    }

    // Triggers whose function raises: the name is what Depot reads from the message raised
    // (`<table> is append-only` → `<table>_append_only`).
    let triggers: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT tg.tgname::text, t.relname::text, p.prosrc \
         FROM pg_trigger tg \
         JOIN pg_class t ON t.oid = tg.tgrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         JOIN pg_proc p ON p.oid = tg.tgfoid \
         WHERE n.nspname = 'public' AND NOT tg.tgisinternal",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (trigger, table, source) in triggers {
        let code = if source.to_ascii_lowercase().contains("restrict_violation") {
            "23001"
        } else {
            "P0001"
        };
        for (format, rest) in literals_after(&source, "RAISE EXCEPTION") {
            // `'% is append-only', TG_TABLE_NAME`: the one placeholder is the trigger's table.
            let message = if rest
                .trim_start()
                .to_ascii_uppercase()
                .starts_with(", TG_TABLE_NAME")
            {
                format.replace('%', &table)
            } else {
                format
            };
            let origin = format!("trigger {trigger} on {table} raising {message:?}");
            note_raised(
                rules,
                classify_database_error(Backend::Postgres, code, None, &message),
                origin,
            );
        }
    }
}

async fn sqlite_rules(pool: &sqlx::SqlitePool, rules: &mut Rules) {
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master \
         WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> $1",
    )
    .bind(MIGRATIONS_TABLE)
    .fetch_all(pool)
    .await
    .unwrap();
    for (table, sql) in &tables {
        // CHECK constraints, reported by name (`CONSTRAINT name CHECK (…)`).
        let words: Vec<&str> = sql
            .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ','))
            .filter(|w| !w.is_empty())
            .collect();
        for (i, word) in words.iter().enumerate() {
            if !word.eq_ignore_ascii_case("CHECK") {
                continue;
            }
            let named = i >= 2 && words[i - 2].eq_ignore_ascii_case("CONSTRAINT");
            // An unnamed CHECK is reported by its expression, which no table can name.
            let name = if named {
                words[i - 1].trim_matches(|c| matches!(c, '"' | '`' | '[' | ']'))
            } else {
                "(an unnamed CHECK)"
            };
            note(
                rules,
                name.to_string(),
                ConstraintKind::Check,
                format!("CHECK on {table}"),
            );
        }

        // Unique indexes, explicit or made for UNIQUE and PRIMARY KEY: reported by their
        // columns (`table.a, table.b`), or by name when one is an expression.
        let indexes: Vec<(String, i64, String)> =
            sqlx::query_as("SELECT name, \"unique\", origin FROM pragma_index_list($1)")
                .bind(table)
                .fetch_all(pool)
                .await
                .unwrap();
        for (index, unique, origin) in &indexes {
            if *unique == 0 {
                continue;
            }
            let columns: Vec<(i64, Option<String>)> =
                sqlx::query_as("SELECT cid, name FROM pragma_index_info($1) ORDER BY seqno")
                    .bind(index)
                    .fetch_all(pool)
                    .await
                    .unwrap();
            let name = if columns.iter().any(|(cid, _)| *cid == -2) {
                index.clone()
            } else {
                columns
                    .iter()
                    .map(|(_, column)| format!("{table}.{}", column.as_deref().unwrap_or("?")))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let what = match origin.as_str() {
                "pk" => "PRIMARY KEY",
                "u" => "UNIQUE",
                _ => "unique index",
            };
            note(
                rules,
                name,
                ConstraintKind::Unique,
                format!("{what} {index} on {table}"),
            );
        }

        // An INTEGER PRIMARY KEY is the rowid itself, with no index: reported by its column.
        let key: Vec<String> =
            sqlx::query_scalar("SELECT name FROM pragma_table_info($1) WHERE pk > 0 ORDER BY pk")
                .bind(table)
                .fetch_all(pool)
                .await
                .unwrap();
        if !key.is_empty() && !indexes.iter().any(|(_, _, origin)| origin == "pk") {
            note(
                rules,
                format!("{table}.{}", key.join(&format!(", {table}."))),
                ConstraintKind::Unique,
                format!("rowid PRIMARY KEY on {table}"),
            );
        }
    }

    // Triggers that raise: the name is what Depot reads from the message.
    let triggers: Vec<(String, String, String)> =
        sqlx::query_as("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")
            .fetch_all(pool)
            .await
            .unwrap();
    for (trigger, table, sql) in triggers {
        for (message, _) in literals_after(&sql, "RAISE(") {
            let origin = format!("trigger {trigger} on {table} raising {message:?}");
            // SQLITE_CONSTRAINT_TRIGGER
            note_raised(
                rules,
                classify_database_error(Backend::Sqlite, "1811", None, &message),
                origin,
            );
        }
    }
}

/// Notes what Depot makes of a trigger's error: a named violation, or one no table can name.
fn note_raised(rules: &mut Rules, failure: DbFailure, origin: String) {
    match failure {
        DbFailure::Constraint(Violation {
            kind,
            name: Some(name),
        }) => note(rules, name, kind, origin),
        other => note(
            rules,
            format!("(no name: {other:?})"),
            ConstraintKind::Trigger,
            origin,
        ),
    }
}

/// For each `opener` in `source` (ASCII case aside), the quoted text that follows it (before
/// any `)`: `RAISE(IGNORE)` says nothing), with `''` read as `'`, and the source after it.
fn literals_after<'a>(source: &'a str, opener: &str) -> Vec<(String, &'a str)> {
    let upper = source.to_ascii_uppercase();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = upper[from..].find(opener) {
        let start = from + at + opener.len();
        from = start;
        let rest = &source[start..];
        let Some(quote) = rest.find('\'') else { break };
        if rest[..quote].contains(')') || rest[..quote].contains(';') {
            continue;
        }
        let mut text = String::new();
        let mut chars = rest[quote + 1..].char_indices().peekable();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            if c == '\'' {
                if chars.peek().is_some_and(|(_, next)| *next == '\'') {
                    chars.next();
                } else {
                    end = Some(quote + 1 + i + 1);
                    break;
                }
            }
            text.push(c);
        }
        let Some(end) = end else { break };
        found.push((text, &rest[end..]));
        from = start + end;
    }
    found
}
