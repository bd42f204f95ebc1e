//! netdx as a library: the probe core, every command as a function that
//! returns a typed report, the diagnoses, and the printers. The `netdx`
//! binary is argument parsing plus rendering on top of this crate, and
//! `check` runs its lines through the same functions in-process.
#![warn(missing_docs)]

pub mod check;
pub mod cli;
pub mod diagnose;
pub mod dns;
pub mod error;
pub mod explain;
pub mod generate;
pub mod hops;
pub mod mtr;
pub mod output;
pub mod ping;
pub mod probe;
pub mod resolve;
pub mod serve;
pub mod sockets;
pub mod stats;
pub mod tcp;
pub mod timefmt;
pub mod trace;
pub mod watch;

use cli::{Command, GlobalOpts};
use diagnose::Diagnosis;
use error::{AppError, AppResult, Exit};
use output::Sink;

/// What a command concluded, without its printed form: what `check` (and
/// an exporter) needs from every command.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The exit status the command stands for.
    pub exit: Exit,
    /// Its findings.
    pub diagnoses: Vec<Diagnosis>,
}

/// Runs one parsed command silently and returns its verdict; `check` runs
/// its lines through this, in-process, and reads the typed reports.
pub async fn evaluate(command: &Command, global: &GlobalOpts) -> AppResult<Verdict> {
    let sink = Sink::silent();
    match command {
        Command::Ping(args) => Ok(verdict(&ping::ping(args, global, &sink).await?)),
        Command::Trace(args) => Ok(verdict(&trace::trace(args, global, &sink).await?)),
        Command::Mtr(args) => Ok(verdict(&mtr::mtr(args, global, &sink).await?)),
        Command::Dns(args) => Ok(verdict(&dns::dns(args, global, &sink).await?)),
        Command::Tcp(args) => Ok(verdict(&tcp::tcp(args, global, &sink).await?)),
        Command::Sockets(args) => Ok(verdict(&sockets::sockets(args, global, &sink).await?)),
        Command::Explain(args) => Ok(verdict(&explain::explain(args, global, &sink)?)),
        Command::Check(_) => Err(AppError::usage("a check cannot run another check file")),
        Command::Serve(_) => Err(AppError::usage("a check cannot start an exporter")),
        Command::Watch(_) => Err(AppError::usage("a check cannot run a packet capture")),
    }
}

/// The verdict of any report.
fn verdict<R: output::Report>(report: &R) -> Verdict {
    Verdict {
        exit: report.exit(),
        diagnoses: report.diagnoses(),
    }
}

/// Runs one parsed command, printing through `sink`, and returns its exit
/// status: the binary's whole job after parsing.
pub async fn execute(command: &Command, global: &GlobalOpts, sink: &Sink) -> AppResult<Exit> {
    match command {
        Command::Ping(args) => ping::run(args, global, sink).await,
        Command::Trace(args) => trace::run(args, global, sink).await,
        Command::Mtr(args) => mtr::run(args, global, sink).await,
        Command::Dns(args) => dns::run(args, global, sink).await,
        Command::Tcp(args) => tcp::run(args, global, sink).await,
        Command::Sockets(args) => sockets::run(args, global, sink).await,
        Command::Explain(args) => explain::run(args, global, sink),
        Command::Check(args) => Box::pin(check::run(args, global, sink)).await,
        Command::Serve(args) => serve::run(args, global, sink).await,
        Command::Watch(args) => watch::run(args, global, sink).await,
    }
}

/// Checks the global flags every command shares.
pub fn validate_global(global: &GlobalOpts) -> AppResult<()> {
    if let Some(t) = global.timeout {
        if !(t.is_finite() && t > 0.0 && t <= 3600.0) {
            return Err(AppError::usage(format!(
                "--timeout {t}: give a number of seconds greater than 0 and at most 3600"
            )));
        }
    }
    Ok(())
}
