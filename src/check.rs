//! `netdx check FILE`: many checks from a file, each line parsed by the same
//! clap definitions a person types (shell quoting honoured) and run as a
//! library call on this process's runtime — concurrently, with a progress
//! bar, results in file order, JSON lines out and one exit status.

use crate::cli::{CheckArgs, Cli, Command, GlobalOpts};
use crate::diagnose::{Diagnosis, Severity};
use crate::error::{AppError, AppResult, Exit};
use crate::output::{progress, Sink};
use clap::{CommandFactory, FromArgMatches};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Subcommands a check line may use (the words clap also accepts).
const CHECKABLE: &[&str] = &[
    "ping", "trace", "mtr", "dns", "lookup", "tcp", "sockets", "ss", "explain",
];

/// Longest `--check-timeout` accepted: a day.
const MAX_CHECK_TIMEOUT: f64 = 86_400.0;

/// Probes a ping line sends when it names no count or deadline.
const DEFAULT_PING_COUNT: u64 = 3;
/// Rounds an mtr line runs when it names no count.
const DEFAULT_MTR_ROUNDS: u64 = 10;

/// One line of the check file, parsed.
#[derive(Debug)]
struct CheckLine {
    number: usize,
    text: String,
    command: Command,
    global: GlobalOpts,
}

/// The result of one check, as the `check` event and document carry it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct CheckResult {
    /// Line number in the file (1-based).
    pub line: usize,
    /// The line as written.
    pub check: String,
    /// The exit status the command alone would have had.
    pub exit: i32,
    /// True when `exit` is 0.
    pub passed: bool,
    /// How long the check ran.
    pub elapsed_ms: u128,
    /// The command's findings.
    pub diagnosis: Vec<Diagnosis>,
    /// Why the command could not produce a result, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Everything `check` found, as `--json` prints it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct CheckReport {
    /// One result per line, in file order.
    pub checks: Vec<CheckResult>,
    /// How many checks failed.
    pub failed: usize,
}

impl crate::output::Report for CheckReport {
    fn diagnoses(&self) -> Vec<Diagnosis> {
        Vec::new()
    }

    fn exit(&self) -> Exit {
        self.checks
            .iter()
            .map(|r| Exit::from_code(r.exit))
            .fold(Exit::Healthy, Exit::worst)
    }

    fn render_human(&self, sink: &Sink) {
        sink.line(&format!(
            "{} checks, {} passed, {} failed",
            self.checks.len(),
            self.checks.len() - self.failed,
            self.failed
        ));
    }

    fn summary_event(&self) -> Option<serde_json::Value> {
        Some(serde_json::json!({"checks": self.checks.len(), "failed": self.failed}))
    }
}

/// Splits one line into words as a POSIX shell would (quotes, escapes).
fn words_of(number: usize, text: &str) -> AppResult<Vec<String>> {
    shell_words::split(text)
        .map_err(|e| AppError::usage(format!("line {number}: {e} (check the quotes)")))
}

/// Parses check lines with the CLI's own clap definitions. Each line is
/// parsed by its subcommand's definition alone (the global flags are
/// propagated into it), built once per subcommand: building and walking
/// the whole command tree per line cost more than the probes.
struct LineParser {
    root: clap::Command,
    subcommands: HashMap<String, clap::Command>,
}

impl LineParser {
    fn new() -> Self {
        let mut root = Cli::command();
        root.build();
        LineParser {
            root,
            subcommands: HashMap::new(),
        }
    }

    /// Parses one line; `inherited` are the global flags of this run that
    /// every check takes on.
    fn parse_line(
        &mut self,
        number: usize,
        text: &str,
        inherited: &[String],
    ) -> AppResult<CheckLine> {
        let mut words = words_of(number, text)?;
        let name = words.first().cloned().unwrap_or_default();
        let sub = match self.root.find_subcommand(&name) {
            Some(sub) if CHECKABLE.contains(&name.as_str()) => sub,
            _ => {
                return Err(AppError::usage(format!(
                    "line {number}: '{name}' is not a check (use one of: {})",
                    CHECKABLE.join(", ")
                )))
            }
        };
        let canonical = sub.get_name().to_string();
        let parser = self
            .subcommands
            .entry(canonical.clone())
            .or_insert_with(|| sub.clone().no_binary_name(true));
        words.remove(0);
        let argv = inherited.iter().cloned().chain(words);
        let mut matches = parser
            .try_get_matches_from_mut(argv)
            .map_err(|e| clap_error(number, &e))?;
        let global =
            GlobalOpts::from_arg_matches_mut(&mut matches).map_err(|e| clap_error(number, &e))?;
        let command = command_from(&canonical, &mut matches).map_err(|e| clap_error(number, &e))?;
        if global.json || global.jsonl {
            return Err(AppError::usage(format!(
                "line {number}: --json/--jsonl belong on the check command, not on a line"
            )));
        }
        let mut command = command;
        bound_the_endless(number, &mut command)?;
        Ok(CheckLine {
            number,
            text: text.to_string(),
            command,
            global,
        })
    }
}

/// The typed subcommand for the matches of the subcommand `name`.
fn command_from(name: &str, m: &mut clap::ArgMatches) -> Result<Command, clap::Error> {
    use crate::cli::{DnsArgs, ExplainArgs, MtrArgs, PingArgs, SocketsArgs, TcpArgs, TraceArgs};
    Ok(match name {
        "ping" => Command::Ping(PingArgs::from_arg_matches_mut(m)?),
        "trace" => Command::Trace(TraceArgs::from_arg_matches_mut(m)?),
        "mtr" => Command::Mtr(MtrArgs::from_arg_matches_mut(m)?),
        "dns" => Command::Dns(DnsArgs::from_arg_matches_mut(m)?),
        "tcp" => Command::Tcp(TcpArgs::from_arg_matches_mut(m)?),
        "sockets" => Command::Sockets(SocketsArgs::from_arg_matches_mut(m)?),
        "explain" => Command::Explain(ExplainArgs::from_arg_matches_mut(m)?),
        other => {
            return Err(clap::Error::raw(
                clap::error::ErrorKind::InvalidSubcommand,
                format!("'{other}' is not a check"),
            ))
        }
    })
}

/// clap's message, first line only, naming the line of the file.
fn clap_error(number: usize, e: &clap::Error) -> AppError {
    let text = e.to_string();
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("bad check line")
        .trim_start_matches("error: ")
        .to_string();
    AppError::usage(format!("line {number}: {first}"))
}

/// A ping or mtr without a count would never end: give it one. A sockets
/// line that watches would never end either: refuse it, naming the line.
fn bound_the_endless(number: usize, command: &mut Command) -> AppResult<()> {
    match command {
        Command::Ping(args) if args.count.is_none() && args.deadline.is_none() => {
            args.count = Some(DEFAULT_PING_COUNT);
        }
        Command::Mtr(args) if args.count.is_none() => args.count = Some(DEFAULT_MTR_ROUNDS),
        Command::Sockets(args) if args.watch.is_some() => {
            return Err(AppError::usage(format!(
                "line {number}: '--watch' samples until stopped, so the check would never end: drop it (a sockets check takes one sample)"
            )));
        }
        Command::Check(_) => {
            return Err(AppError::usage(format!(
                "line {number}: a check file cannot run another check file"
            )));
        }
        _ => {}
    }
    Ok(())
}

/// Reads and parses the whole file before anything runs, so a typo on
/// line 40 is reported at once instead of after 39 probes.
fn parse(text: &str, inherited: &[String]) -> AppResult<Vec<CheckLine>> {
    let mut lines = Vec::new();
    let mut parser = LineParser::new();
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        lines.push(parser.parse_line(i + 1, trimmed, inherited)?);
    }
    if lines.is_empty() {
        return Err(AppError::usage("the check file holds no checks"));
    }
    Ok(lines)
}

/// Flags of this run that every check inherits.
fn inherited(global: &GlobalOpts) -> Vec<String> {
    let mut out = Vec::new();
    if global.ipv4 {
        out.push("-4".into());
    }
    if global.ipv6 {
        out.push("-6".into());
    }
    if let Some(t) = global.timeout {
        out.push("--timeout".into());
        out.push(t.to_string());
    }
    out
}

/// Runs one check in-process. A check still running after `limit` is
/// dropped (its probes stop with it) and reported as failed, so one hung
/// line cannot hold up the run.
async fn run_one(line: &CheckLine, limit: Duration) -> CheckResult {
    let started = Instant::now();
    let outcome = tokio::time::timeout(limit, crate::evaluate(&line.command, &line.global)).await;
    let (exit, diagnosis, error) = match outcome {
        Ok(Ok(verdict)) => (verdict.exit, verdict.diagnoses, None),
        Ok(Err(err)) => (err.exit, Vec::new(), Some(err.message)),
        Err(_) => (
            Exit::TargetFailed,
            Vec::new(),
            Some(format!(
                "timed out: still running after {} s (--check-timeout), stopped",
                limit.as_secs_f64()
            )),
        ),
    };
    CheckResult {
        line: line.number,
        check: line.text.clone(),
        exit: exit.code(),
        passed: exit == Exit::Healthy,
        elapsed_ms: started.elapsed().as_millis(),
        diagnosis,
        error,
    }
}

/// The worst diagnosis summary of a result, for the human line.
fn headline(result: &CheckResult) -> String {
    let worst = result.diagnosis.iter().max_by_key(|d| d.severity);
    match (worst, &result.error) {
        (Some(d), _) => format!("{}: {}", d.code, d.summary),
        (None, Some(e)) => e.clone(),
        (None, None) => String::new(),
    }
}

/// Prints one result: its human line and its `check` event.
fn show(sink: &Sink, result: &CheckResult) {
    let (tag, sev) = if result.passed {
        ("PASS", Severity::Ok)
    } else {
        ("FAIL", Severity::Critical)
    };
    sink.line(&format!(
        "{} line {:>3}  {}  — {}",
        sink.paint(tag, sev),
        result.line,
        result.check,
        headline(result)
    ));
    sink.event("check", result);
}

/// Checks the flags of `check` itself.
fn validate(args: &CheckArgs) -> AppResult<Duration> {
    if args.parallel == 0 || args.parallel > 4096 {
        return Err(AppError::usage("--parallel: give a number from 1 to 4096"));
    }
    let t = args.check_timeout;
    if !(t.is_finite() && t > 0.0 && t <= MAX_CHECK_TIMEOUT) {
        return Err(AppError::usage(format!(
            "--check-timeout {t}: give a number of seconds greater than 0 and at most {MAX_CHECK_TIMEOUT}"
        )));
    }
    Ok(Duration::from_secs_f64(t))
}

/// Runs every line of the check file and returns the results in file
/// order; each result is shown as soon as every line before it is done.
pub async fn check(args: &CheckArgs, global: &GlobalOpts, sink: &Sink) -> AppResult<CheckReport> {
    let check_limit = validate(args)?;
    // An unreadable check file is bad input, like `tcp -f` and `dns -f`.
    let text = if args.file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(&args.file)
    }
    .map_err(|e| AppError::usage(format!("cannot read {}: {e}", args.file.display())))?;
    let lines = parse(&text, &inherited(global))?;
    let bar = progress::bar(sink, lines.len() as u64, "checks");
    // Commands hold per-run state that need not be Send: run them as local
    // tasks on this thread's runtime.
    let results = tokio::task::LocalSet::new()
        .run_until(run_all(lines, args.parallel, check_limit, sink, &bar))
        .await;
    bar.finish_and_clear();
    let failed = results.iter().filter(|r| !r.passed).count();
    Ok(CheckReport {
        checks: results,
        failed,
    })
}

/// Runs the lines at most `parallel` at a time and shows each result as
/// soon as every line before it is done, so output keeps file order.
async fn run_all(
    lines: Vec<CheckLine>,
    parallel: usize,
    check_limit: Duration,
    sink: &Sink,
    bar: &progress::Progress,
) -> Vec<CheckResult> {
    let order: Vec<usize> = lines.iter().map(|l| l.number).collect();
    let limit = Arc::new(Semaphore::new(parallel));
    let mut set = JoinSet::new();
    for line in lines {
        let limit = limit.clone();
        // Boxed: a command's future is large, and the set moves it.
        set.spawn_local(Box::pin(async move {
            let _permit = limit.acquire_owned().await;
            run_one(&line, check_limit).await
        }));
    }
    let mut done: BTreeMap<usize, CheckResult> = BTreeMap::new();
    let mut results = Vec::with_capacity(order.len());
    while let Some(joined) = set.join_next().await {
        let Ok(result) = joined else { continue };
        bar.inc(1);
        done.insert(result.line, result);
        while let Some(result) = order.get(results.len()).and_then(|n| done.remove(n)) {
            bar.suspend(|| show(sink, &result));
            results.push(result);
        }
        if sink.is_closed() {
            break;
        }
    }
    results
}

/// A check file parsed once and run many times (`serve --checks`): the
/// same parser and the same library calls as `netdx check`.
#[derive(Debug)]
pub struct CheckPlan {
    lines: Vec<CheckLine>,
}

impl CheckPlan {
    /// Parses a check file's text; a bad line is a usage error naming it.
    pub fn parse(text: &str) -> AppResult<CheckPlan> {
        Ok(CheckPlan {
            lines: parse(text, &[])?,
        })
    }

    /// The (line number, text) of every check, in file order.
    pub fn lines(&self) -> Vec<(usize, String)> {
        self.lines
            .iter()
            .map(|l| (l.number, l.text.clone()))
            .collect()
    }

    /// Runs every line, at most `parallel` at a time, each stopped after
    /// `limit`; results in file order. Must run inside a `LocalSet`.
    pub async fn run(
        plan: &std::rc::Rc<CheckPlan>,
        parallel: usize,
        limit: Duration,
    ) -> Vec<CheckResult> {
        let permits = Arc::new(Semaphore::new(parallel.max(1)));
        let mut set = JoinSet::new();
        for index in 0..plan.lines.len() {
            let plan = std::rc::Rc::clone(plan);
            let permits = permits.clone();
            set.spawn_local(Box::pin(async move {
                let _permit = permits.acquire_owned().await;
                run_one(&plan.lines[index], limit).await
            }));
        }
        let mut results = Vec::with_capacity(plan.lines.len());
        while let Some(joined) = set.join_next().await {
            if let Ok(result) = joined {
                results.push(result);
            }
        }
        results.sort_by_key(|r| r.line);
        results
    }
}

/// Runs `netdx check`.
pub async fn run(args: &CheckArgs, global: &GlobalOpts, sink: &Sink) -> AppResult<Exit> {
    let report = check(args, global, sink).await?;
    Ok(crate::output::finish(sink, &report))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Vec<CheckLine> {
        parse(text, &[]).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn refused(text: &str) -> String {
        parse(text, &[])
            .err()
            .map(|e| e.message)
            .unwrap_or_default()
    }

    #[test]
    fn endless_commands_get_a_count_and_unknown_ones_are_refused() {
        let lines = parsed("# comment\n\nping 198.18.0.1\nmtr -c 5 x\n");
        assert!(matches!(&lines[0].command, Command::Ping(a) if a.count == Some(3)));
        assert!(matches!(&lines[1].command, Command::Mtr(a) if a.count == Some(5)));
        let err = refused("curl http://x\n");
        assert!(err.contains("line 1: 'curl' is not a check"), "{err}");
        assert!(parse("# only\n", &[]).is_err());
    }

    #[test]
    fn counts_and_deadlines_in_every_form_are_kept() {
        for (line, count) in [
            ("ping -c1 198.18.0.1", Some(1)),
            ("ping -c 1 198.18.0.1", Some(1)),
            ("ping -c=1 198.18.0.1", Some(1)),
            ("ping --count=4 198.18.0.1", Some(4)),
            ("ping -qc2 198.18.0.1", Some(2)),
            ("ping -w5 198.18.0.1", None),
            ("ping -4w1 198.18.0.1", None),
            ("ping -I wlan0 198.18.0.1", Some(3)),
            ("ping -i0.2 198.18.0.1", Some(3)),
        ] {
            let lines = parsed(line);
            assert!(
                matches!(&lines[0].command, Command::Ping(a) if a.count == count),
                "{line}"
            );
        }
        for (line, rounds) in [
            ("mtr -c2 198.18.0.1", 2),
            ("mtr -rc2 198.18.0.1", 2),
            ("mtr -w2 198.18.0.1", 10),
        ] {
            let lines = parsed(line);
            assert!(
                matches!(&lines[0].command, Command::Mtr(a) if a.count == Some(rounds)),
                "{line}"
            );
        }
    }

    #[test]
    fn quotes_are_honoured_and_bad_quotes_are_named() {
        let lines = parsed("explain \"icmp 3/13\"\n");
        assert!(
            matches!(&lines[0].command, Command::Explain(a) if a.what == ["icmp 3/13"]),
            "{:?}",
            lines[0].command
        );
        let err = refused("explain \"icmp 3/13\n");
        assert!(err.starts_with("line 1: "), "{err}");
    }

    #[test]
    fn bad_flags_and_watching_sockets_are_refused_naming_the_line() {
        for (text, words) in [
            (
                "ping -c1 198.18.0.1\nsockets --watch\n",
                "line 2: '--watch'",
            ),
            (
                "ping -c1 198.18.0.1\nss --watch=2 -c 3\n",
                "line 2: '--watch'",
            ),
            ("ping --bogus 198.18.0.1\n", "line 1: unexpected argument"),
            ("tcp -c -1 198.18.0.1:80\n", "line 1: invalid value '-1'"),
            ("ping --json 198.18.0.1\n", "line 1: --json/--jsonl"),
        ] {
            let err = refused(text);
            assert!(err.starts_with(words), "{text}: {err}");
        }
        assert!(parse("sockets --port 22\n", &[]).is_ok());
    }

    #[test]
    fn inherited_flags_reach_every_line() {
        let lines = parse("dns example.test\n", &["-4".into()]).unwrap_or_default();
        assert!(lines[0].global.ipv4);
    }
}
