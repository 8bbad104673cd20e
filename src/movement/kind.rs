//! A kind of stock movement as a client asks for it: its JSON request, the path and role of its
//! endpoint (SPEC §4) and how it is carried out. Each kind implements [`Kind`] once, beside its
//! [`Movement`](crate::movement::pipeline::Movement); the web edge's list of kinds serves every
//! kind from it with one handler.

use std::future::Future;

use serde::de::DeserializeOwned;

use crate::config::Config;
use crate::db::Db;
use crate::error::AppError;
use crate::movement::pipeline::{self, Movement};
use crate::movement::MovementResponse;

pub trait Kind: Movement + Send + Sized + 'static {
    /// The JSON request.
    type Input: DeserializeOwned + Send + Sync + 'static;
    /// Its endpoint, `POST` (who may use it is the web edge's list of kinds' to say).
    const PATH: &'static str;

    /// The request `input` asks for (`config`: the warehouse's defaults).
    fn from_input(input: &Self::Input, config: &Config) -> Result<Self, AppError>;

    /// Carries `input` out for `actor` (`user:NAME`, `token:NAME`): parsed, run through the
    /// pipeline in a write transaction of its own, then [`Kind::finish`]ed.
    fn commit(
        db: &Db,
        config: &Config,
        input: &Self::Input,
        actor: Option<&str>,
    ) -> impl Future<Output = Result<MovementResponse<Self::LineResult>, AppError>> + Send {
        async move {
            let request = Self::from_input(input, config)?;
            let mut response = pipeline::run(db, &request, config.moment(), actor).await?;
            request.finish(&mut response);
            Ok(response)
        }
    }

    /// Adds what the kind's answer says beyond the pipeline's (nothing, unless it says so).
    fn finish(&self, _response: &mut MovementResponse<Self::LineResult>) {}
}
