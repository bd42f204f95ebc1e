//! `netdx tcp` — not built yet.

use crate::cli::{GlobalOpts, TcpArgs};
use crate::error::{AppError, AppResult, Exit};
use crate::output::Sink;

/// Runs `netdx tcp`.
pub async fn run(_args: &TcpArgs, _global: &GlobalOpts, _sink: &Sink) -> AppResult<Exit> {
    Err(AppError::cannot_run("netdx tcp is not built yet"))
}
