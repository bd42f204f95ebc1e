//! netdx: argument parsing → run → exit code; nothing else lives here.

mod check;
mod cli;
mod diagnose;
mod dns;
mod error;
mod explain;
mod generate;
mod mtr;
mod output;
mod ping;
mod probe;
mod resolve;
mod sockets;
mod stats;
mod tcp;
mod trace;

use clap::Parser;
use cli::{Cli, Command};
use error::{AppResult, Exit};
use output::Sink;

fn main() {
    let cli = Cli::parse();
    let code = match run(cli) {
        Ok(exit) => exit.code(),
        Err(err) => {
            eprintln!("netdx: {err}");
            err.exit.code()
        }
    };
    std::process::exit(code);
}

/// Builds the runtime and dispatches to the subcommand.
fn run(cli: Cli) -> AppResult<Exit> {
    let global = cli.global;
    if let Some(t) = global.timeout {
        if !(t.is_finite() && t > 0.0 && t <= 3600.0) {
            return Err(error::AppError::usage(format!(
                "--timeout {t}: give a number of seconds between 0 and 3600"
            )));
        }
    }
    let sink = Sink::new(global.json, global.jsonl, global.no_color);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| error::AppError::cannot_run(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async move {
        match cli.command {
            Command::Ping(args) => ping::run(&args, &global, &sink).await,
            Command::Trace(args) => trace::run(&args, &global, &sink).await,
            Command::Mtr(args) => mtr::run(&args, &global, &sink).await,
            Command::Dns(args) => dns::run(&args, &global, &sink).await,
            Command::Tcp(args) => tcp::run(&args, &global, &sink).await,
            Command::Sockets(args) => sockets::run(&args, &global, &sink).await,
            Command::Explain(args) => explain::run(&args, &global, &sink),
            Command::Check(args) => check::run(&args, &global, &sink).await,
            Command::Generate(args) => generate::run(&args).map(|_| Exit::Healthy),
        }
    })
}
