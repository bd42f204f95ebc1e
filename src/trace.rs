//! `netdx trace` — not built yet.

use crate::cli::{GlobalOpts, TraceArgs};
use crate::error::{AppError, AppResult, Exit};
use crate::output::Sink;

/// Runs `netdx trace`.
pub async fn run(_args: &TraceArgs, _global: &GlobalOpts, _sink: &Sink) -> AppResult<Exit> {
    Err(AppError::cannot_run("netdx trace is not built yet"))
}
