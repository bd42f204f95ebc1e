//! Writes shell completions and man pages from the clap definition, and the
//! JSON Schemas of the `--json` documents from the report types, so the
//! committed copies can be checked against the code by a test
//! (`tests/generated.rs` and `tests/schema.rs`, which also rewrite them
//! under `NETDX_REGENERATE=1`). Not a subcommand: users never need it, and a
//! hidden subcommand would still be offered by some shells' completion.

use crate::cli::Cli;
use crate::error::{AppError, AppResult};
use crate::output::schema::{document_schema, events_schema};
use clap::CommandFactory;
use clap_complete::Shell;
use std::path::Path;

/// Regenerates `completions/` and `man/` under `out_dir`.
pub fn write_all(out_dir: &Path) -> AppResult<()> {
    write_completions(&out_dir.join("completions"))?;
    write_man_pages(&out_dir.join("man"))
}

fn io_err(path: &Path, e: std::io::Error) -> AppError {
    AppError::cannot_run(format!("cannot write {}: {e}", path.display()))
}

fn write_completions(dir: &Path) -> AppResult<()> {
    std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    for shell in [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::Elvish,
        Shell::PowerShell,
    ] {
        let mut cmd = Cli::command();
        clap_complete::generate_to(shell, &mut cmd, "netdx", dir).map_err(|e| io_err(dir, e))?;
    }
    Ok(())
}

fn write_man_pages(dir: &Path) -> AppResult<()> {
    std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    let cmd = Cli::command();
    clap_mangen::generate_to(cmd, dir).map_err(|e| io_err(dir, e))
}

/// The JSON Schema of every `--json` document, named as its file in
/// `schema/` (without `.json`), plus `events` for `--jsonl` lines.
pub fn schemas() -> Vec<(&'static str, serde_json::Value)> {
    vec![
        ("ping", document_schema::<crate::ping::PingReport>()),
        ("trace", document_schema::<crate::trace::TraceReport>()),
        ("mtr", document_schema::<crate::mtr::MtrReport>()),
        ("dns", document_schema::<crate::dns::DnsReport>()),
        ("tcp", document_schema::<crate::tcp::TcpReport>()),
        (
            "sockets",
            document_schema::<crate::sockets::SocketsReport>(),
        ),
        (
            "explain",
            document_schema::<crate::explain::ExplainReport>(),
        ),
        ("check", document_schema::<crate::check::CheckReport>()),
        ("watch", document_schema::<crate::watch::WatchReport>()),
        ("error", document_schema::<crate::output::ErrorDocument>()),
        ("events", events_schema()),
    ]
}

/// Regenerates `schema/<name>.json` under `out_dir` for every
/// [`schemas`] entry.
pub fn write_schemas(out_dir: &Path) -> AppResult<()> {
    let dir = out_dir.join("schema");
    std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
    for (name, schema) in schemas() {
        let path = dir.join(format!("{name}.json"));
        let text = serde_json::to_string_pretty(&schema)
            .map_err(|e| AppError::cannot_run(format!("cannot render {name} schema: {e}")))?;
        std::fs::write(&path, format!("{text}\n")).map_err(|e| io_err(&path, e))?;
    }
    Ok(())
}
