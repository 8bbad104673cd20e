//! The `depot` command line: `serve` (the default), `migrate` and `check`.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use leptos::prelude::LeptosOptions;

use crate::config::Config;
use crate::db::{Db, PoolSettings};
use crate::error::error_chain;
use crate::state::AppState;

#[derive(Debug, Parser)]
#[command(
    name = "depot",
    version,
    about = "Depot, a warehouse management system"
)]
pub struct Cli {
    /// sqlite://FILE (created if missing) or postgres://USER@HOST:PORT/DB
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://depot.db",
        global = true
    )]
    pub database_url: String,

    /// Most database connections the pool opens [default: 20 on PostgreSQL, 10 on SQLite]
    #[arg(
        long,
        env = "DATABASE_MAX_CONNECTIONS",
        global = true,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub max_connections: Option<u32>,

    #[command(flatten)]
    pub config: Config,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database, then serve the web app and the JSON API (the default).
    Serve {
        /// Listen address; defaults to LEPTOS_SITE_ADDR, then Leptos.toml, then 127.0.0.1:3000.
        #[arg(long)]
        addr: Option<SocketAddr>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Verify stock, batch and ledger invariants over the whole database; exit 1 on any violation.
    Check,
    /// Users who sign in (SPEC §7).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// API tokens for programs (SPEC §7).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Load a demo warehouse into an empty database through the real operations.
    Demo {
        /// How many items (about 3 stock rows each).
        #[arg(long, default_value_t = 200)]
        items: usize,
        /// Do nothing (and succeed) when the database already holds items.
        #[arg(long)]
        if_empty: bool,
        /// Name the items in both languages (what `make bench` searches), not in the
        /// warehouse's (`DEPOT_LANGUAGE`).
        #[arg(long, hide = true)]
        bilingual: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user, reading the password from standard input (one line, never an argument, so
    /// it shows in no process list or shell history).
    Add {
        /// The username (1–64 characters).
        name: String,
        /// viewer, clerk, manager or admin.
        #[arg(long)]
        role: crate::auth::Role,
        /// Read the password from standard input (the only way this command takes one).
        #[arg(long, required = true)]
        password_stdin: bool,
        /// A warehouse (code) the user may work in; repeat for several. None: every one.
        #[arg(long = "warehouse", value_name = "CODE")]
        warehouses: Vec<String>,
    },
    /// Limit a user to warehouses (repeat `--warehouse`), or with none let them work in every one.
    Warehouses {
        name: String,
        #[arg(long = "warehouse", value_name = "CODE")]
        warehouses: Vec<String>,
    },
    /// Change a user's role (the last enabled admin stays one).
    SetRole {
        name: String,
        #[arg(long)]
        role: crate::auth::Role,
    },
    /// Disable a user: their sessions end and they cannot sign in.
    Disable { name: String },
    /// Enable a disabled user again.
    Enable { name: String },
    /// Set a new password, read from standard input; the user's sessions end.
    ResetPassword {
        name: String,
        /// Read the password from standard input (the only way this command takes one).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List the users: name, role, and whether disabled.
    List,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret alone on standard output (shown this once).
    Create {
        /// The token's name (1–64 characters), recorded as `token:NAME` in the ledger.
        #[arg(long)]
        name: String,
        /// viewer, clerk, manager or admin.
        #[arg(long)]
        role: crate::auth::Role,
        /// A warehouse (code) the token may work in; repeat for several. None: every one.
        #[arg(long = "warehouse", value_name = "CODE")]
        warehouses: Vec<String>,
    },
    /// Revoke a token: it is refused from the next request on.
    Revoke {
        #[arg(long)]
        name: String,
    },
}

/// Writes one line of a command's result to stdout. A reader that has gone away (`… | head -n 1`
/// closing the pipe) ends the command quietly with success, as a shell tool would, instead of
/// `println!`'s panic; the result was complete when it was written.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::print_line(format_args!($($arg)*))
    };
}

#[doc(hidden)]
pub fn print_line(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{line}").and_then(|()| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            tracing::error!("cannot write to standard output: {e}");
            std::process::exit(1);
        }
        std::process::exit(0);
    }
}

/// Runs the command line and returns the process exit code.
pub async fn run(cli: Cli) -> ExitCode {
    match execute(cli).await {
        Ok(code) => code,
        Err(message) => {
            tracing::error!("{message}");
            eprintln!("depot: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Brings a database up to date for this Depot: the schema and what SQL cannot compute
/// ([`crate::search::migrate`]), then the ledger's reasons of the movement kinds it knows
/// ([`crate::kinds::register_reasons`]). Every command that opens the database runs it first.
pub async fn migrate(db: &Db) -> Result<(), sqlx::migrate::MigrateError> {
    crate::search::migrate(db).await?;
    crate::kinds::register_reasons(db)
        .await
        .map_err(sqlx::migrate::MigrateError::Execute)
}

async fn execute(cli: Cli) -> Result<ExitCode, String> {
    let settings = PoolSettings {
        max_connections: cli.max_connections,
        ..PoolSettings::default()
    };
    let db = Db::connect(&cli.database_url, &settings)
        .await
        .map_err(|e| format!("cannot open the database: {}", error_chain(&e)))?;
    let migrate = || async {
        self::migrate(&db)
            .await
            .map_err(|e| format!("migration failed: {}", error_chain(&e)))
    };

    match cli.command.unwrap_or(Command::Serve { addr: None }) {
        Command::Migrate => {
            migrate().await?;
            say!("migrations applied ({:?})", db.backend());
            Ok(ExitCode::SUCCESS)
        }
        Command::Check => {
            let violations = crate::check::find_violations(&db)
                .await
                .map_err(|e| format!("check failed: {}", error_chain(&e)))?;
            for violation in &violations {
                say!("{violation}");
            }
            if violations.is_empty() {
                say!("ok: every stock matches its ledger and batches");
                Ok(ExitCode::SUCCESS)
            } else {
                say!("{} violation(s)", violations.len());
                Ok(ExitCode::from(1))
            }
        }
        Command::User {
            command:
                UserCommand::Add {
                    name,
                    role,
                    password_stdin: _,
                    warehouses,
                },
        } => {
            migrate().await?;
            let password = read_password()?;
            let user =
                crate::auth::service::create_user_in(&db, &name, role, &password, &warehouses)
                    .await
                    .map_err(|e| e.message)?;
            say!("added user {} ({})", user.username, user.role);
            Ok(ExitCode::SUCCESS)
        }
        Command::User {
            command: UserCommand::Warehouses { name, warehouses },
        } => {
            migrate().await?;
            crate::auth::service::limit_user(&db, &name, &warehouses)
                .await
                .map_err(|e| e.message)?;
            match warehouses.is_empty() {
                true => say!("user {name} works in every warehouse"),
                false => say!("user {name} works in {}", warehouses.join(", ")),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::User { command } => {
            use crate::auth::service::{change_user, list_users, UserChange};
            migrate().await?;
            let (name, change) = match command {
                UserCommand::Add { .. } | UserCommand::Warehouses { .. } => {
                    unreachable!("handled above")
                }
                UserCommand::List => {
                    let users = list_users(&db).await.map_err(|e| e.message)?;
                    for user in users {
                        let state = if user.disabled { " (disabled)" } else { "" };
                        say!("{}\t{}{state}", user.username, user.role);
                    }
                    return Ok(ExitCode::SUCCESS);
                }
                UserCommand::SetRole { name, role } => (name, UserChange::Role(role)),
                UserCommand::Disable { name } => (name, UserChange::Disabled(true)),
                UserCommand::Enable { name } => (name, UserChange::Disabled(false)),
                UserCommand::ResetPassword { name, .. } => {
                    let password = read_password()?;
                    (
                        name,
                        UserChange::PasswordHash(password.hash().map_err(|e| e.message)?),
                    )
                }
            };
            let user = change_user(&db, &name, change)
                .await
                .map_err(|e| e.message)?;
            let state = if user.disabled { ", disabled" } else { "" };
            say!("user {} ({}{state})", user.username, user.role);
            Ok(ExitCode::SUCCESS)
        }
        Command::Token {
            command:
                TokenCommand::Create {
                    name,
                    role,
                    warehouses,
                },
        } => {
            migrate().await?;
            let (token, secret) =
                crate::auth::service::create_token_in(&db, &name, role, &warehouses)
                    .await
                    .map_err(|e| e.message)?;
            eprintln!("token {} ({}): shown this once", token.name, token.role);
            say!("{secret}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Token {
            command: TokenCommand::Revoke { name },
        } => {
            migrate().await?;
            let token = crate::auth::service::revoke_token(&db, &name, cli.config.clock.now())
                .await
                .map_err(|e| e.message)?;
            say!("revoked token {}", token.name);
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo {
            items,
            if_empty,
            bilingual,
        } => {
            migrate().await?;
            let existing = crate::demo::item_count(&db)
                .await
                .map_err(|e| format!("demo failed: {e}"))?;
            if existing > 0 && if_empty {
                say!("the database already holds {existing} items: demo not loaded");
                return Ok(ExitCode::SUCCESS);
            }
            let names = if bilingual {
                crate::demo::Names::Both
            } else {
                crate::demo::Names::In(cli.config.language)
            };
            let summary = crate::demo::load_demo(&db, &cli.config, items, names)
                .await
                .map_err(|e| format!("demo failed: {e}"))?;
            say!("{summary}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { addr } => {
            migrate().await?;
            let leptos_options = site_options()?;
            let addr = addr.unwrap_or(leptos_options.site_addr);
            let state = AppState::new(leptos_options, db, cli.config);
            // SPEC §7 first start: with no user yet, a one-time link makes the first admin.
            if let Some(path) = crate::auth::web::open_setup_if_needed(&state)
                .await
                .map_err(|e| format!("cannot check for users: {}", e.message))?
            {
                tracing::warn!("no user yet: create the first admin at http://{addr}{path}");
                eprintln!("\n  Depot has no user yet. Create the first admin here (this link works once):\n\n    http://{addr}{path}\n");
                if state.config.demo_if_empty {
                    eprintln!("  The warehouse is filled with the demo then, in the language of that browser.\n");
                }
            } else if state.config.demo_if_empty {
                let names = crate::demo::Names::In(state.config.language);
                crate::demo::load_if_empty(&state.db, &state.config, names).await;
            }
            crate::server::serve(state, addr)
                .await
                .map_err(|e| format!("server error: {e}"))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A password from one line of standard input (never an argument: it would show in process
/// lists and shell history), checked against the rules.
fn read_password() -> Result<crate::auth::password::Password, String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password: {e}"))?;
    crate::auth::password::Password::parse("password", line.trim_end_matches(['\r', '\n']))
        .map_err(|e| e.message)
}

/// The site settings: defaults, then `Leptos.toml` in the working directory if present, then
/// `LEPTOS_*` environment variables (which is how `cargo leptos` passes its own).
pub fn site_options() -> Result<LeptosOptions, String> {
    let configuration = if std::path::Path::new("Leptos.toml").exists() {
        leptos::prelude::get_configuration(Some("Leptos.toml"))
    } else {
        leptos::prelude::get_configuration(None)
    };
    configuration
        .map(|c| c.leptos_options)
        .map_err(|e| format!("cannot read the site settings: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_needs_at_least_one_connection() {
        // Zero once reached sqlx and panicked ("capacity must be non-zero").
        let zero = Cli::try_parse_from(["depot", "--max-connections", "0", "migrate"]);
        assert!(zero.is_err());
        let one = Cli::try_parse_from(["depot", "--max-connections", "1", "migrate"]).unwrap();
        assert_eq!(one.max_connections, Some(1));
        let default = Cli::try_parse_from(["depot", "migrate"]).unwrap();
        assert_eq!(default.max_connections, None);
    }
}
