//! `netdx check FILE`: many checks from a file, run concurrently, each by
//! the same netdx subcommand a person would type — so a check behaves
//! exactly like its command — with a progress bar, JSON lines out and one
//! exit status for the lot.

use crate::cli::{CheckArgs, GlobalOpts};
use crate::diagnose::Severity;
use crate::error::{AppError, AppResult, Exit};
use crate::output::{progress, Sink};
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Subcommands a check line may use.
const CHECKABLE: &[&str] = &[
    "ping", "trace", "mtr", "dns", "lookup", "tcp", "sockets", "ss", "explain",
];

/// Longest `--check-timeout` accepted: a day.
const MAX_CHECK_TIMEOUT: f64 = 86_400.0;

/// One line of the check file.
#[derive(Debug, Clone)]
struct CheckLine {
    number: usize,
    text: String,
    words: Vec<String>,
}

/// The result of one check.
#[derive(Debug, Serialize)]
struct CheckResult {
    line: usize,
    check: String,
    exit: i32,
    passed: bool,
    elapsed_ms: u128,
    diagnosis: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Reads and validates the file: every line must name a known subcommand.
fn parse(text: &str) -> AppResult<Vec<CheckLine>> {
    let mut lines = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut words: Vec<String> = trimmed.split_whitespace().map(str::to_string).collect();
        let command = words.first().cloned().unwrap_or_default();
        if !CHECKABLE.contains(&command.as_str()) {
            return Err(AppError::usage(format!(
                "line {}: '{command}' is not a check (use one of: {})",
                i + 1,
                CHECKABLE.join(", ")
            )));
        }
        if command == "sockets" || command == "ss" {
            if let Some(w) = words.iter().find(|w| is_flag(w, "--watch", None, &[])) {
                return Err(AppError::usage(format!(
                    "line {}: '{w}' samples until stopped, so the check would never end: drop it (a sockets check takes one sample)",
                    i + 1
                )));
            }
        }
        bound_the_endless(&mut words);
        lines.push(CheckLine {
            number: i + 1,
            text: trimmed.to_string(),
            words,
        });
    }
    if lines.is_empty() {
        return Err(AppError::usage("the check file holds no checks"));
    }
    Ok(lines)
}

/// Short flags of ping that take no value, so more short flags may follow
/// them in one word (`-qc3`).
const PING_SWITCHES: &[char] = &['q', '4', '6'];
/// Short flags of mtr that take no value.
const MTR_SWITCHES: &[char] = &['I', 'U', 'T', 'n', 'r', '4', '6'];

/// True when `word` gives the flag `long` (`--count`, `--count=3`) or its
/// `short` letter in any form clap accepts: `-c 3`, `-c3`, `-c=3`, or
/// after value-less switches in one word (`-qc3`).
fn is_flag(word: &str, long: &str, short: Option<char>, switches: &[char]) -> bool {
    if let Some(rest) = word.strip_prefix(long) {
        return rest.is_empty() || rest.starts_with('=');
    }
    let (Some(short), Some(cluster)) = (short, word.strip_prefix('-')) else {
        return false;
    };
    if cluster.starts_with('-') {
        return false;
    }
    for c in cluster.chars() {
        if c == short {
            return true;
        }
        if !switches.contains(&c) {
            // A flag that takes a value: the rest of the word is its value.
            return false;
        }
    }
    false
}

/// A ping or mtr without a count would never end: give it one. Counts and
/// deadlines are recognised in every form clap accepts, so a line that has
/// one is left alone (adding a second `-c` would be a usage error).
fn bound_the_endless(words: &mut Vec<String>) {
    let has = |flags: &[(&str, char)], switches: &[char]| {
        words
            .iter()
            .skip(1)
            .take_while(|w| w.as_str() != "--")
            .any(|w| {
                flags
                    .iter()
                    .any(|(long, short)| is_flag(w, long, Some(*short), switches))
            })
    };
    match words.first().map(String::as_str) {
        Some("ping") if !has(&[("--count", 'c'), ("--deadline", 'w')], PING_SWITCHES) => {
            words.splice(1..1, ["-c".to_string(), "3".to_string()]);
        }
        Some("mtr") if !has(&[("--count", 'c')], MTR_SWITCHES) => {
            words.splice(1..1, ["-c".to_string(), "10".to_string()]);
        }
        _ => {}
    }
}

/// Flags of this run that every check inherits.
fn inherited(global: &GlobalOpts) -> Vec<String> {
    let mut out = vec!["--json".to_string()];
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

/// Runs one check as a child netdx and reads its JSON document. A check
/// still running after `limit` is killed (the child dies with the dropped
/// future) and reported as failed, so one hung line cannot hold up the run.
async fn run_one(
    exe: std::path::PathBuf,
    base: Vec<String>,
    line: CheckLine,
    limit: Duration,
) -> CheckResult {
    let started = Instant::now();
    let output = tokio::process::Command::new(&exe)
        .args(&base)
        .args(&line.words)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let (exit, stdout, stderr) = match tokio::time::timeout(limit, output).await {
        Ok(Ok(o)) => (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        ),
        Ok(Err(e)) => (
            Exit::CannotRun.code(),
            String::new(),
            format!("cannot start netdx: {e}"),
        ),
        Err(_) => (
            Exit::TargetFailed.code(),
            String::new(),
            format!(
                "timed out: still running after {} s (--check-timeout), killed",
                limit.as_secs_f64()
            ),
        ),
    };
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null);
    let diagnosis = doc
        .get("diagnosis")
        .or_else(|| doc.get("diagnoses"))
        .cloned()
        .unwrap_or(serde_json::Value::Array(Vec::new()));
    let error = stderr
        .lines()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim_start_matches("netdx: ").to_string());
    CheckResult {
        line: line.number,
        check: line.text,
        exit,
        passed: exit == 0,
        elapsed_ms: started.elapsed().as_millis(),
        diagnosis,
        error: if exit == 0 { None } else { error },
    }
}

/// The first diagnosis summary of a result, for the human line.
fn headline(result: &CheckResult) -> String {
    let first = result.diagnosis.as_array().and_then(|a| {
        a.iter()
            .max_by_key(|d| severity_rank(d.get("severity").and_then(|s| s.as_str())))
    });
    match (first, &result.error) {
        (Some(d), _) => format!(
            "{}: {}",
            d.get("code").and_then(|c| c.as_str()).unwrap_or("?"),
            d.get("summary").and_then(|c| c.as_str()).unwrap_or("")
        ),
        (None, Some(e)) => e.clone(),
        (None, None) => String::new(),
    }
}

fn severity_rank(s: Option<&str>) -> u8 {
    match s {
        Some("critical") => 3,
        Some("warning") => 2,
        Some("info") => 1,
        _ => 0,
    }
}

/// Runs `netdx check`.
pub async fn run(args: &CheckArgs, global: &GlobalOpts, sink: &Sink) -> AppResult<Exit> {
    if args.parallel == 0 || args.parallel > 4096 {
        return Err(AppError::usage("--parallel: give a number from 1 to 4096"));
    }
    let t = args.check_timeout;
    if !(t.is_finite() && t > 0.0 && t <= MAX_CHECK_TIMEOUT) {
        return Err(AppError::usage(format!(
            "--check-timeout {t}: give a number of seconds greater than 0 and at most {MAX_CHECK_TIMEOUT}"
        )));
    }
    let check_limit = Duration::from_secs_f64(t);
    // An unreadable check file is bad input, like `tcp -f` and `dns -f`.
    let text = if args.file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(&args.file)
    }
    .map_err(|e| AppError::usage(format!("cannot read {}: {e}", args.file.display())))?;
    let lines = parse(&text)?;
    let exe = std::env::current_exe()
        .map_err(|e| AppError::cannot_run(format!("cannot find the netdx binary: {e}")))?;
    let base = inherited(global);
    let limit = Arc::new(Semaphore::new(args.parallel));
    let bar = progress::bar(sink, lines.len() as u64, "checks");
    let mut set = JoinSet::new();
    for line in lines {
        let (exe, base, limit) = (exe.clone(), base.clone(), limit.clone());
        set.spawn(async move {
            let _permit = limit.acquire_owned().await;
            run_one(exe, base, line, check_limit).await
        });
    }
    let mut results = Vec::new();
    while let Some(joined) = set.join_next().await {
        let Ok(result) = joined else { continue };
        bar.inc(1);
        let (tag, sev) = if result.passed {
            ("PASS", Severity::Ok)
        } else {
            ("FAIL", Severity::Critical)
        };
        bar.suspend(|| {
            sink.line(&format!(
                "{} line {:>3}  {}  — {}",
                sink.paint(tag, sev),
                result.line,
                result.check,
                headline(&result)
            ))
        });
        sink.event("check", &result);
        results.push(result);
    }
    bar.finish_and_clear();
    results.sort_by_key(|r| r.line);
    let failed = results.iter().filter(|r| !r.passed).count();
    sink.line(&format!(
        "{} checks, {} passed, {failed} failed",
        results.len(),
        results.len() - failed
    ));
    sink.event(
        "summary",
        &serde_json::json!({"checks": results.len(), "failed": failed}),
    );
    sink.document(&serde_json::json!({"checks": results, "failed": failed}));
    let worst = results.iter().map(|r| r.exit).max().unwrap_or(0);
    Ok(match worst {
        0 => Exit::Healthy,
        2 => Exit::Usage,
        3 => Exit::CannotRun,
        _ => Exit::TargetFailed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endless_commands_get_a_count_and_unknown_ones_are_refused() {
        let lines = parse("# comment\n\nping 198.18.0.1\nmtr -c 5 x\n").unwrap_or_default();
        assert_eq!(lines[0].words, ["ping", "-c", "3", "198.18.0.1"]);
        assert_eq!(lines[1].words, ["mtr", "-c", "5", "x"]);
        let err = parse("curl http://x\n")
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        assert!(err.contains("line 1: 'curl' is not a check"), "{err}");
        assert!(parse("# only\n").is_err());
    }

    #[test]
    fn counts_and_deadlines_in_every_form_are_recognised() {
        for line in [
            "ping -c1 198.18.0.1",
            "ping -c 1 198.18.0.1",
            "ping -c=1 198.18.0.1",
            "ping --count=3 198.18.0.1",
            "ping --count 3 198.18.0.1",
            "ping -w5 198.18.0.1",
            "ping --deadline=5 198.18.0.1",
            "ping -qc2 198.18.0.1",
            "ping -4w1 198.18.0.1",
            "mtr -c2 198.18.0.1",
            "mtr --count=2 198.18.0.1",
            "mtr -rc2 198.18.0.1",
        ] {
            let lines = parse(line).unwrap_or_default();
            let want: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(lines[0].words, want, "{line}");
        }
        // Values that merely contain the letter are not counts.
        for (line, added) in [
            ("ping -I wlan0 198.18.0.1", "3"),
            ("ping -i0.2 198.18.0.1", "3"),
            ("ping --counter 198.18.0.1", "3"),
            ("mtr -w2 198.18.0.1", "10"),
        ] {
            let lines = parse(line).unwrap_or_default();
            assert_eq!(lines[0].words[1..3], ["-c", added], "{line}");
        }
    }

    #[test]
    fn a_watching_sockets_line_is_refused_naming_the_line() {
        for (text, word) in [
            ("ping -c1 198.18.0.1\nsockets --watch\n", "--watch"),
            ("ping -c1 198.18.0.1\nss --watch=2 -c 3\n", "--watch=2"),
        ] {
            let err = parse(text).err().map(|e| e.message).unwrap_or_default();
            assert!(
                err.starts_with(&format!("line 2: '{word}' samples until stopped")),
                "{err}"
            );
        }
        assert!(parse("sockets --port 22\n").is_ok());
    }
}
