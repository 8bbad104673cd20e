//! `depot`: configuration → database → migrations → server (see `depot --help`).

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    // Logs go to stderr, always: stdout carries only a command's result (`TOKEN=$(depot token
    // create …)`). PostgreSQL's notices ("… already exists, skipping" on every migrate) are
    // not news at `info`.
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx::postgres::notice=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    depot::cli::run(depot::cli::Cli::parse()).await
}
