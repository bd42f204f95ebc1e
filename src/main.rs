//! netdx: argument parsing → run → exit code; nothing else lives here.

use clap::Parser;
use netdx::cli::{Cli, Command};
use netdx::error;
use netdx::error::{AppResult, Exit};
use netdx::output::Sink;

fn main() {
    restore_sigpipe();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => usage_exit(err),
    };
    let sink = Sink::new(cli.global.json, cli.global.jsonl, cli.global.no_color);
    let code = match run(cli) {
        Ok(exit) => exit.code(),
        Err(err) => {
            eprintln!("netdx: {err}");
            sink.error(&err);
            err.exit.code()
        }
    };
    std::process::exit(code);
}

/// Help and version print as clap prints them; every other command-line
/// error becomes one line on stderr and exit 2, like the rest of netdx.
fn usage_exit(err: clap::Error) -> ! {
    use clap::error::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        err.exit();
    }
    let text = err.to_string();
    let mut words: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("For more information")
        })
        .collect();
    let first = words
        .first()
        .map(|l| l.trim_start_matches("error: "))
        .unwrap_or("bad command line");
    let rest: Vec<&str> = words.drain(..).skip(1).collect();
    let tail = if rest.is_empty() {
        String::new()
    } else {
        format!(" ({})", rest.join(" "))
    };
    let err = error::AppError::usage(format!("{first}{tail}"));
    eprintln!("netdx: {err} — see `netdx --help`");
    json_modes_from_argv().error(&err);
    std::process::exit(error::Exit::Usage.code());
}

/// The output shape asked for on a command line clap refused, so a JSON
/// reader still gets its error document: `--json`/`--jsonl` anywhere
/// before a `--`.
fn json_modes_from_argv() -> Sink {
    let words: Vec<String> = std::env::args().skip(1).take_while(|w| w != "--").collect();
    let has = |flag: &str| words.iter().any(|w| w == flag);
    Sink::new(has("--json"), has("--jsonl"), true)
}

/// Builds the runtime and hands the command to the library.
fn run(cli: Cli) -> AppResult<Exit> {
    let global = cli.global;
    netdx::validate_global(&global)?;
    let sink = Sink::new(global.json, global.jsonl, global.no_color);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| error::AppError::cannot_run(format!("cannot start the runtime: {e}")))?;
    drop_privileges(&cli.command);
    runtime.block_on(netdx::execute(&cli.command, &global, &sink))
}

/// Gives up CAP_NET_RAW / CAP_NET_ADMIN (and a setuid-root uid) as early as
/// each command allows: at once when it opens no raw socket, after the
/// engine has opened its sockets for ping, trace and mtr; `check` and
/// `serve` keep them for the commands they run.
fn drop_privileges(command: &Command) {
    use netdx::probe::privilege;
    match command {
        Command::Ping(_) | Command::Trace(_) | Command::Mtr(_) => privilege::drop_once_prepared(),
        // A live capture drops once its packet socket is open; reading a
        // file needs no privilege at all.
        Command::Watch(args) if args.read.is_none() => privilege::drop_once_prepared(),
        Command::Watch(_) => {
            let _ = privilege::drop_raw_capability();
        }
        // Both run many commands in one process: they keep their privileges
        // and share one probe engine per binding (one set of raw sockets).
        Command::Check(_) | Command::Serve(_) => share_probe_engines(),
        // tcp keeps one raw socket (opened now) to read the TTL of the RSTs
        // that refuse its connects, then drops like the others.
        Command::Tcp(args) if !args.hold => {
            netdx::probe::rstwatch::open_shared();
            let _ = privilege::drop_raw_capability();
        }
        Command::Dns(_) | Command::Tcp(_) | Command::Sockets(_) | Command::Explain(_) => {
            // Still as privileged as we started if this fails; nothing to report.
            let _ = privilege::drop_raw_capability();
        }
    }
}

/// `check` and `serve` keep their privileges (their runs may need raw
/// sockets) and let those runs share probe engines.
fn share_probe_engines() {
    netdx::probe::pool::share_engines();
}

/// Rust ignores SIGPIPE, so a closed pipe (`netdx ping … | head -2`) would
/// only fail writes; the default action ends netdx at once and quietly, as
/// it ends iputils ping.
fn restore_sigpipe() {
    // SAFETY: called first thing in main, before any thread exists;
    // SIG_DFL is a valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
