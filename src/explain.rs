//! `netdx explain` — not built yet.

use crate::cli::{ExplainArgs, GlobalOpts};
use crate::error::{AppError, AppResult, Exit};
use crate::output::Sink;

/// Runs `netdx explain`.
pub fn run(_args: &ExplainArgs, _global: &GlobalOpts, _sink: &Sink) -> AppResult<Exit> {
    Err(AppError::cannot_run("netdx explain is not built yet"))
}
