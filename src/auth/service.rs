//! Users and API tokens on the database (SPEC §7).

use chrono::{DateTime, Utc};

use crate::auth::password::{self, Password};
use crate::auth::{token, Principal, PrincipalKind, Role, WarehouseGrant};
pub use crate::auth::{ApiToken, User};
use crate::db::{Backend, Db, Tx};
use crate::error::AppError;
use crate::{with_pool, with_tx};

/// A username: 1–64 characters, trimmed, no control characters.
pub fn parse_username(field: &str, text: &str) -> Result<String, AppError> {
    let name = text.trim();
    let chars = name.chars().count();
    if !(1..=64).contains(&chars) {
        return Err(AppError::validation(
            field,
            tr!(errors.value.chars_between, min = 1, max = 64),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::validation(
            field,
            tr!(errors.value.no_control_chars),
        ));
    }
    Ok(name.to_string())
}

/// The warehouses a user (`table` `user_warehouses`, `column` `user_id`) or a token may work in,
/// as one text column of `id:code` lines (one statement with the rest of the row).
fn grants_column(backend: Backend, table: &str, column: &str, owner: &str) -> String {
    let joined = match backend {
        Backend::Postgres => "string_agg(CAST(w.id AS TEXT) || ':' || w.code, chr(10))",
        Backend::Sqlite => "group_concat(w.id || ':' || w.code, char(10))",
    };
    format!(
        "(SELECT {joined} FROM {table} g JOIN warehouses w ON w.id = g.warehouse_id \
         WHERE g.{column} = {owner}) AS warehouses"
    )
}

/// The grants [`grants_column`] read, by code.
fn grants(raw: Option<String>) -> Vec<WarehouseGrant> {
    let mut grants: Vec<WarehouseGrant> = raw
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let (id, code) = line.split_once(':')?;
            Some(WarehouseGrant {
                id: id.parse().ok()?,
                code: code.to_string(),
            })
        })
        .collect();
    grants.sort_by(|a, b| a.code.cmp(&b.code));
    grants
}

/// The warehouses `codes` name, for limiting a new user or token to them (an unknown one is
/// 422 on `warehouses`).
async fn grant_ids(tx: &mut Tx, codes: &[String]) -> Result<Vec<i64>, AppError> {
    let mut ids = Vec::with_capacity(codes.len());
    let mut unknown = Vec::new();
    for code in codes {
        let id: Option<i64> = with_tx!(tx, |conn, _backend| sqlx::query_scalar(
            "SELECT id FROM warehouses WHERE code = $1"
        )
        .bind(code.trim())
        .fetch_optional(&mut *conn)
        .await?);
        match id {
            Some(id) => ids.push(id),
            None => unknown.push(code.trim().to_string()),
        }
    }
    if !unknown.is_empty() {
        return Err(AppError::validation(
            "warehouses",
            tr!(errors.auth.unknown_warehouses, codes = unknown.join(", ")),
        ));
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Limits user or token `owner` to the warehouses `ids` (none: every one), replacing any limit.
async fn set_grants(
    tx: &mut Tx,
    table: &str,
    column: &str,
    owner: i64,
    ids: &[i64],
) -> Result<(), AppError> {
    with_tx!(tx, |conn, _backend| sqlx::query(&format!(
        "DELETE FROM {table} WHERE {column} = $1"
    ))
    .bind(owner)
    .execute(&mut *conn)
    .await
    .map(drop)?);
    for id in ids {
        with_tx!(tx, |conn, _backend| sqlx::query(&format!(
            "INSERT INTO {table} ({column}, warehouse_id) VALUES ($1, $2)"
        ))
        .bind(owner)
        .bind(*id)
        .execute(&mut *conn)
        .await
        .map(drop)?);
    }
    Ok(())
}

/// Limits user `username` to the warehouses `codes` (empty: every one).
pub async fn limit_user(db: &Db, username: &str, codes: &[String]) -> Result<(), AppError> {
    let input = (username.trim().to_string(), codes.to_vec());
    db.write(&input, |tx, (username, codes)| {
        Box::pin(async move {
            let id: Option<i64> = with_tx!(tx, |conn, _backend| sqlx::query_scalar(
                "SELECT id FROM users WHERE username = $1"
            )
            .bind(username.as_str())
            .fetch_optional(&mut *conn)
            .await?);
            let id = id.ok_or_else(|| {
                AppError::not_found(tr!(errors.auth.no_such_user, username = username.as_str()))
            })?;
            let ids = grant_ids(tx, codes).await?;
            set_grants(tx, "user_warehouses", "user_id", id, &ids).await
        })
    })
    .await
}

/// Limits token `name` to the warehouses `codes` (empty: every one).
pub async fn limit_token(db: &Db, name: &str, codes: &[String]) -> Result<(), AppError> {
    let input = (name.trim().to_string(), codes.to_vec());
    db.write(&input, |tx, (name, codes)| {
        Box::pin(async move {
            let id: Option<i64> = with_tx!(tx, |conn, _backend| sqlx::query_scalar(
                "SELECT id FROM api_tokens WHERE name = $1"
            )
            .bind(name.as_str())
            .fetch_optional(&mut *conn)
            .await?);
            let id = id.ok_or_else(|| {
                AppError::not_found(tr!(errors.auth.no_such_token, name = name.as_str()))
            })?;
            let ids = grant_ids(tx, codes).await?;
            set_grants(tx, "token_warehouses", "token_id", id, &ids).await
        })
    })
    .await
}

const USER_COLUMNS: &str = "id, username, role, disabled, created_at";
const TOKEN_COLUMNS: &str = "id, name, role, created_at, last_used_at, revoked_at";

/// Creates a user; a taken username is `CONFLICT`.
pub async fn create_user(
    db: &Db,
    username: &str,
    role: Role,
    password: &Password,
) -> Result<User, AppError> {
    create_user_in(db, username, role, password, &[]).await
}

/// Creates a user who may work only in the warehouses `codes` (empty: every one), in one
/// transaction: an unknown warehouse (422 on `warehouses`) creates nobody.
pub async fn create_user_in(
    db: &Db,
    username: &str,
    role: Role,
    password: &Password,
    codes: &[String],
) -> Result<User, AppError> {
    let username = parse_username("username", username)?;
    // Hashing takes tens of milliseconds: before the transaction, not inside it.
    let hash = password.hash()?;
    let input = (username, role, hash, codes.to_vec());
    db.write(&input, |tx, (username, role, hash, codes)| {
        Box::pin(async move {
            let ids = grant_ids(tx, codes).await?;
            let user = insert_user(tx, username, *role, hash).await?;
            set_grants(tx, "user_warehouses", "user_id", user.id, &ids).await?;
            Ok(user)
        })
    })
    .await
}

async fn insert_user(
    tx: &mut Tx,
    username: &str,
    role: Role,
    hash: &str,
) -> Result<User, AppError> {
    let sql = format!(
        "INSERT INTO users (username, password_hash, role) VALUES ($1, $2, $3) \
         RETURNING {USER_COLUMNS}"
    );
    let result = with_tx!(tx, |conn, _backend| sqlx::query_as::<_, User>(&sql)
        .bind(username)
        .bind(hash)
        .bind(role.as_str())
        .fetch_one(&mut *conn)
        .await);
    result.map_err(|error| match &error {
        sqlx::Error::Database(e) if e.is_unique_violation() => {
            AppError::conflict(tr!(errors.auth.username_exists, username = username))
                .with_details(serde_json::json!({"field": "username"}))
        }
        _ => error.into(),
    })
}

/// The first start's setup (SPEC §7): creates the first admin with the setup token whose digest
/// is `token_digest`, and closes setup for every node in the same transaction (all setup tokens
/// are deleted). `NOT_FOUND` when setup is closed: a user exists, or no such token is open.
pub async fn create_first_admin(
    db: &Db,
    token_digest: &str,
    username: &str,
    password: &Password,
) -> Result<User, AppError> {
    let username = parse_username("username", username)?;
    let hash = password.hash()?;
    let input = (token_digest.to_string(), username, hash);
    db.write(&input, |tx, (token_digest, username, hash)| {
        Box::pin(async move {
            // The tokens go first: on PostgreSQL a setup on another node at the same moment waits
            // for these rows, then finds them gone (SQLite runs one write at a time anyway).
            let closed: Vec<String> = with_tx!(tx, |conn, _backend| sqlx::query_scalar(
                "DELETE FROM setup_tokens RETURNING token_digest"
            )
            .fetch_all(&mut *conn)
            .await)?;
            let users: i64 = with_tx!(tx, |conn, _backend| sqlx::query_scalar(
                "SELECT COUNT(*) FROM users"
            )
            .fetch_one(&mut *conn)
            .await)?;
            if users > 0 || !closed.contains(token_digest) {
                // Rolled back: the tokens stay as they were.
                return Err(AppError::not_found(tr!(errors.auth.setup_closed)));
            }
            insert_user(tx, username, Role::Admin, hash).await
        })
    })
    .await
}

/// Every user, by name.
pub async fn list_users(db: &Db) -> Result<Vec<User>, AppError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username");
    Ok(with_pool!(db, |pool, _backend| sqlx::query_as::<_, User>(
        &sql
    )
    .fetch_all(pool)
    .await)?)
}

/// How many users exist (none: the first start's setup is open).
pub async fn count_users(db: &Db) -> Result<i64, AppError> {
    Ok(with_pool!(db, |pool, _backend| {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users")
            .fetch_one(pool)
            .await
    })?)
}

/// The user signing in with this name and password, if the password is theirs and they are not
/// disabled. Unknown names take as long as wrong passwords (a hash is checked either way).
pub async fn check_password(
    db: &Db,
    username: &str,
    password: &str,
) -> Result<Option<Principal>, AppError> {
    // No username has a control character (PostgreSQL would refuse a NUL in the query).
    type Row = (i64, String, String, String, bool, Option<String>);
    let row: Option<Row> = if username.chars().any(char::is_control) {
        None
    } else {
        with_pool!(db, |pool, backend| sqlx::query_as(&format!(
            "SELECT id, username, password_hash, role, disabled, {} FROM users WHERE username = $1",
            grants_column(backend, "user_warehouses", "user_id", "users.id")
        ))
        .bind(username.trim())
        .fetch_optional(pool)
        .await)?
    };
    let Some((id, name, hash, role, disabled, warehouses)) = row else {
        let _ = password::verify(dummy_hash(), password);
        return Ok(None);
    };
    if !password::verify(&hash, password) || disabled {
        return Ok(None);
    }
    Ok(role.parse().ok().map(|role| Principal {
        id,
        kind: PrincipalKind::User,
        name,
        role,
        warehouses: grants(warehouses),
    }))
}

/// The user `id` as who is asking, unless disabled (a role changed since counts at once).
pub async fn enabled_user(db: &Db, id: i64) -> Result<Option<Principal>, AppError> {
    let row: Option<(String, String, Option<String>)> =
        with_pool!(db, |pool, backend| sqlx::query_as(&format!(
            "SELECT username, role, {} FROM users WHERE id = $1 AND NOT disabled",
            grants_column(backend, "user_warehouses", "user_id", "users.id")
        ))
        .bind(id)
        .fetch_optional(pool)
        .await)?;
    Ok(row.and_then(|(name, role, warehouses)| {
        role.parse().ok().map(|role| Principal {
            id,
            kind: PrincipalKind::User,
            name,
            role,
            warehouses: grants(warehouses),
        })
    }))
}

/// A hash checked for unknown usernames, so that they cost what known ones do.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        Password::parse("password", "no user has this password")
            .and_then(|p| p.hash())
            .unwrap_or_default()
    })
}

/// A change to a user: role, disabled, or a new password (its hash, [`Password::hash`]).
pub enum UserChange {
    Role(Role),
    Disabled(bool),
    PasswordHash(String),
}

/// Applies `change` to the user `username`; `NOT_FOUND` for no such user, `CONFLICT` when it
/// would leave no enabled admin.
pub async fn change_user(db: &Db, username: &str, change: UserChange) -> Result<User, AppError> {
    if username.chars().any(char::is_control) {
        // No such name can exist (and PostgreSQL would refuse a NUL in the query).
        return Err(AppError::not_found(tr!(
            errors.auth.no_such_user,
            username = username
        )));
    }
    let input = (username.trim().to_string(), change);
    db.write(&input, |tx, (username, change)| {
        Box::pin(async move {
            let (set, value): (&str, String) = match change {
                UserChange::Role(role) => ("role = $2", role.as_str().to_string()),
                UserChange::Disabled(true) => ("disabled = TRUE", String::new()),
                UserChange::Disabled(false) => ("disabled = FALSE", String::new()),
                UserChange::PasswordHash(hash) => ("password_hash = $2", hash.clone()),
            };
            let was_admin: Option<bool> = with_tx!(tx, |conn, _backend| sqlx::query_scalar(
                "SELECT role = 'admin' AND NOT disabled FROM users WHERE username = $1"
            )
            .bind(username)
            .fetch_optional(&mut *conn)
            .await)?;
            let sql =
                format!("UPDATE users SET {set} WHERE username = $1 RETURNING {USER_COLUMNS}");
            let user = with_tx!(tx, |conn, _backend| {
                let mut query = sqlx::query_as::<_, User>(&sql).bind(username);
                if set.contains("$2") {
                    query = query.bind(value.as_str());
                }
                query.fetch_optional(&mut *conn).await
            })?
            .ok_or_else(|| {
                AppError::not_found(tr!(errors.auth.no_such_user, username = username))
            })?;
            // The last enabled admin stays one (while there is none yet, nothing is guarded).
            if was_admin == Some(true) && enabled_admins(tx).await? == 0 {
                // Rolled back by the caller's transaction.
                return Err(AppError::conflict(tr!(errors.auth.last_admin)));
            }
            // A disabled user, or one whose password was reset, is signed out everywhere.
            if matches!(
                change,
                UserChange::Disabled(true) | UserChange::PasswordHash(_)
            ) {
                with_tx!(tx, |conn, _backend| sqlx::query(
                    "DELETE FROM sessions WHERE user_id = $1"
                )
                .bind(user.id)
                .execute(&mut *conn)
                .await
                .map(drop))?;
            }
            Ok(user)
        })
    })
    .await
}

async fn enabled_admins(tx: &mut Tx) -> Result<i64, AppError> {
    Ok(with_tx!(tx, |conn, _backend| {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM users WHERE role = 'admin' AND NOT disabled",
        )
        .fetch_one(&mut *conn)
        .await
    })?)
}

/// A new token and its secret, which is shown this once and kept only as a digest.
pub async fn create_token(db: &Db, name: &str, role: Role) -> Result<(ApiToken, String), AppError> {
    create_token_in(db, name, role, &[]).await
}

/// Creates a token that may work only in the warehouses `codes` (empty: every one), in one
/// transaction: an unknown warehouse (422 on `warehouses`) creates none.
pub async fn create_token_in(
    db: &Db,
    name: &str,
    role: Role,
    codes: &[String],
) -> Result<(ApiToken, String), AppError> {
    let name = parse_username("name", name)?;
    let secret = token::new_secret()
        .map_err(|e| AppError::internal(&std::io::Error::other(e.to_string())))?;
    let input = (name, role, token::digest(&secret), codes.to_vec());
    let created = db
        .write(&input, |tx, (name, role, digest, codes)| {
            Box::pin(async move {
                let ids = grant_ids(tx, codes).await?;
                let sql = format!(
                    "INSERT INTO api_tokens (name, role, digest) VALUES ($1, $2, $3) \
                     RETURNING {TOKEN_COLUMNS}"
                );
                let result = with_tx!(tx, |conn, _backend| sqlx::query_as::<_, ApiToken>(&sql)
                    .bind(name)
                    .bind(role.as_str())
                    .bind(digest)
                    .fetch_one(&mut *conn)
                    .await);
                let token = result.map_err(|error| match &error {
                    sqlx::Error::Database(e) if e.is_unique_violation() => {
                        AppError::conflict(tr!(errors.auth.token_exists, name = name))
                            .with_details(serde_json::json!({"field": "name"}))
                    }
                    _ => error.into(),
                })?;
                set_grants(tx, "token_warehouses", "token_id", token.id, &ids).await?;
                Ok(token)
            })
        })
        .await?;
    Ok((created, secret))
}

/// Every token, by name, revoked ones included.
pub async fn list_tokens(db: &Db) -> Result<Vec<ApiToken>, AppError> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY name");
    Ok(with_pool!(db, |pool, _backend| sqlx::query_as::<
        _,
        ApiToken,
    >(&sql)
    .fetch_all(pool)
    .await)?)
}

/// Revokes the token `name` from now on; `NOT_FOUND` for no such token. Revoking twice keeps
/// the first moment.
pub async fn revoke_token(db: &Db, name: &str, now: DateTime<Utc>) -> Result<ApiToken, AppError> {
    if name.chars().any(char::is_control) {
        return Err(AppError::not_found(tr!(
            errors.auth.no_such_token,
            name = name
        )));
    }
    let input = (name.trim().to_string(), now);
    db.write(&input, |tx, (name, now)| {
        Box::pin(async move {
            let sql = format!(
                "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE name = $1 \
                 RETURNING {TOKEN_COLUMNS}"
            );
            with_tx!(tx, |conn, _backend| sqlx::query_as::<_, ApiToken>(&sql)
                .bind(name)
                .bind(now)
                .fetch_optional(&mut *conn)
                .await)?
            .ok_or_else(|| AppError::not_found(tr!(errors.auth.no_such_token, name = name)))
        })
    })
    .await
}

/// The principal a bearer secret stands for, if it names a token that is not revoked. When it
/// was last used is noted to the minute, so a busy program does not write on every request.
pub async fn authenticate_token(
    db: &Db,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<Option<Principal>, AppError> {
    authenticate_digest(db, &token::digest(secret), now).await
}

/// [`authenticate_token`] for a secret's digest ([`token::digest`]).
pub async fn authenticate_digest(
    db: &Db,
    digest: &str,
    now: DateTime<Utc>,
) -> Result<Option<Principal>, AppError> {
    type Row = (i64, String, String, Option<DateTime<Utc>>, Option<String>);
    let row: Option<Row> = with_pool!(db, |pool, backend| sqlx::query_as(&format!(
        "SELECT id, name, role, last_used_at, {} FROM api_tokens \
             WHERE digest = $1 AND revoked_at IS NULL",
        grants_column(backend, "token_warehouses", "token_id", "api_tokens.id")
    ))
    .bind(digest)
    .fetch_optional(pool)
    .await)?;
    let Some((id, name, role, last_used_at, warehouses)) = row else {
        return Ok(None);
    };
    if last_used_at.is_none_or(|at| now - at >= chrono::TimeDelta::minutes(1)) {
        with_pool!(db, |pool, _backend| sqlx::query(
            "UPDATE api_tokens SET last_used_at = $2 WHERE digest = $1"
        )
        .bind(digest)
        .bind(now)
        .execute(pool)
        .await
        .map(drop))?;
    }
    Ok(role.parse().ok().map(|role| Principal {
        id,
        kind: PrincipalKind::Token,
        name,
        role,
        warehouses: grants(warehouses),
    }))
}
