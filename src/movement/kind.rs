//! A kind of stock movement as a client asks for it: its JSON request and answer, the path of
//! its endpoint (SPEC §4) and how it is carried out. Each kind implements [`Kind`] once, beside
//! its [`Movement`](crate::movement::pipeline::Movement); the one JSON handler
//! ([`crate::movement::api`]) serves every kind from it.

use std::future::Future;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::config::Config;
use crate::db::Db;
use crate::error::AppError;

pub trait Kind: 'static {
    /// The JSON request.
    type Input: DeserializeOwned + Send + Sync + 'static;
    /// The JSON answer.
    type Output: Serialize + Send + 'static;
    /// Its endpoint, `POST`.
    const PATH: &'static str;

    /// Carries `input` out for `actor` (`user:NAME`, `token:NAME`).
    fn commit(
        db: &Db,
        config: &Config,
        input: &Self::Input,
        actor: Option<&str>,
    ) -> impl Future<Output = Result<Self::Output, AppError>> + Send;
}
