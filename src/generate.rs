//! Writes shell completions and man pages from the clap definition, so the
//! committed copies can be checked against the code by a test
//! (`tests/generated.rs`, which also rewrites them under
//! `NETDX_REGENERATE=1`). Not a subcommand: users never need it, and a
//! hidden subcommand would still be offered by some shells' completion.

use crate::cli::Cli;
use crate::error::{AppError, AppResult};
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
