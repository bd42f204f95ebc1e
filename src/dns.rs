//! `netdx dns` — not built yet.

use crate::cli::{DnsArgs, GlobalOpts};
use crate::error::{AppError, AppResult, Exit};
use crate::output::Sink;

/// Runs `netdx dns`.
pub async fn run(_args: &DnsArgs, _global: &GlobalOpts, _sink: &Sink) -> AppResult<Exit> {
    Err(AppError::cannot_run("netdx dns is not built yet"))
}
