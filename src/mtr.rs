//! `netdx mtr` — not built yet.

use crate::cli::{GlobalOpts, MtrArgs};
use crate::error::{AppError, AppResult, Exit};
use crate::output::Sink;

/// Runs `netdx mtr`.
pub async fn run(_args: &MtrArgs, _global: &GlobalOpts, _sink: &Sink) -> AppResult<Exit> {
    Err(AppError::cannot_run("netdx mtr is not built yet"))
}
