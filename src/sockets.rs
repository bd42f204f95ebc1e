//! `netdx sockets` — not built yet.

use crate::cli::{GlobalOpts, SocketsArgs};
use crate::error::{AppError, AppResult, Exit};
use crate::output::Sink;

/// Runs `netdx sockets`.
pub async fn run(_args: &SocketsArgs, _global: &GlobalOpts, _sink: &Sink) -> AppResult<Exit> {
    Err(AppError::cannot_run("netdx sockets is not built yet"))
}
