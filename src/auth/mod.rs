//! Who is asking (SPEC §7): people with a username and password, programs with an API token,
//! each with a role. `viewer` < `clerk` < `manager` < `admin`: every role may do what the ones
//! below it may.
//!
//! Passwords are kept as argon2id hashes ([`password`]), token secrets as SHA-256 digests
//! ([`token`]); neither is ever stored, logged or shown again in clear.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod access;
#[cfg(feature = "ssr")]
#[cfg(feature = "ssr")]
pub mod known_tokens;
#[cfg(feature = "ssr")]
pub mod password;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod sessions;
#[cfg(feature = "ssr")]
pub mod throttle;
#[cfg(feature = "ssr")]
pub mod token;
#[cfg(feature = "ssr")]
pub mod web;

pub mod admin;
pub mod page;

/// A user as lists show it (never the password hash).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct User {
    pub id: i64,
    pub username: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub role: Role,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

/// An API token as lists show it (never the secret, never its digest).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub use crate::domain::Role;

/// A text that names no role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a role (viewer, clerk, manager, admin)")]
pub struct UnknownRole(pub String);

impl TryFrom<String> for Role {
    type Error = UnknownRole;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Role::from_name(&text).ok_or(UnknownRole(text))
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Role::from_name(text)
            .ok_or_else(|| format!("'{text}' is not a role (viewer, clerk, manager, admin)"))
    }
}

/// Who made a request: a person signed in, or a program with a token.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The user's or the token's row id.
    pub id: i64,
    pub kind: PrincipalKind,
    pub name: String,
    pub role: Role,
    /// The warehouses they may work in (issue 33); empty: every one.
    #[serde(default)]
    pub warehouses: Vec<WarehouseGrant>,
}

/// A warehouse someone may work in.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarehouseGrant {
    pub id: i64,
    pub code: String,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalKind {
    User,
    Token,
}

impl Principal {
    /// The ledger's `actor`: `user:NAME` or `token:NAME`.
    pub fn actor(&self) -> String {
        match self.kind {
            PrincipalKind::User => format!("user:{}", self.name),
            PrincipalKind::Token => format!("token:{}", self.name),
        }
    }

    /// Whether this principal may do what `needed` may.
    pub fn may(&self, needed: Role) -> bool {
        self.role >= needed
    }
}

/// A role in words.
pub fn role_words(role: Role) -> String {
    match role {
        Role::Viewer => tr!(auth.role.viewer),
        Role::Clerk => tr!(auth.role.clerk),
        Role::Manager => tr!(auth.role.manager),
        Role::Admin => tr!(auth.role.admin),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_named() {
        assert!(Role::Viewer < Role::Clerk && Role::Clerk < Role::Manager);
        assert!(Role::Manager < Role::Admin);
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(serde_json::to_value(role).unwrap(), role.as_str());
        }
        assert!("root".parse::<Role>().is_err());
        let clerk = Principal {
            id: 1,
            kind: PrincipalKind::Token,
            name: "erp".into(),
            role: Role::Clerk,
            warehouses: Vec::new(),
        };
        assert_eq!(clerk.actor(), "token:erp");
        assert!(clerk.may(Role::Viewer) && clerk.may(Role::Clerk) && !clerk.may(Role::Manager));
    }
}
