//! The closing human text of `netdx tcp`: one line per target (only the
//! open ones when there are many), per-target statistics with -c, the
//! summary line, and the interrupted note.

use super::report::{State, TcpReport};
use crate::output::Sink;

/// Above this many targets, human output lists only the open ones and
/// counts the rest (unless --all), and a progress bar is shown.
pub const SCREENFUL: usize = 32;

/// Prints the report's closing human text (the diagnosis lines follow,
/// printed by `output::finish`).
pub fn render(sink: &Sink, report: &TcpReport) {
    if !sink.human() {
        return;
    }
    let results = &report.targets;
    let totals = &report.summary;
    let many = results.len() + report.folded > SCREENFUL && !report.all;
    let width = results
        .iter()
        .map(|r| r.target.len())
        .max()
        .unwrap_or(0)
        .min(60);
    let mut hidden: Vec<(State, &str)> = Vec::new();
    for r in results {
        if report.count > 1 {
            sink.line(&format!("--- {} tcp connect statistics ---", r.target));
            let failed = r.sent - r.connected;
            let pct = crate::stats::loss_pct(r.sent, r.connected);
            sink.line(&format!(
                "{} attempts, {} connected, {failed} failed, {pct:.0}% failed",
                r.sent, r.connected
            ));
            if let Some(s) = r.stats {
                sink.line(&format!(
                    "connect min/avg/max/mdev = {:.3}/{:.3}/{:.3}/{:.3} ms",
                    s.min_ms, s.avg_ms, s.max_ms, s.mdev_ms
                ));
            }
            continue;
        }
        if many && r.state != State::Open {
            hidden.push((
                r.state,
                r.failure
                    .as_ref()
                    .map(|f| f.errno.unwrap_or(f.code))
                    .unwrap_or("-"),
            ));
            continue;
        }
        let state = format!("{:<11}", r.state.word());
        sink.line(&format!(
            "{:<width$}  {}  {}",
            r.target,
            sink.paint(&state, r.state.severity()),
            r.detail()
        ));
    }
    if !hidden.is_empty() || report.folded > 0 {
        let mut groups: Vec<((State, &str), usize)> = Vec::new();
        for key in hidden {
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, n)) => *n += 1,
                None => groups.push((key, 1)),
            }
        }
        if report.folded > 0 {
            let key = (State::Closed, "ECONNREFUSED");
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, n)) => *n += report.folded,
                None => groups.push((key, report.folded)),
            }
        }
        let parts: Vec<String> = groups
            .iter()
            .map(|((s, e), n)| format!("{n} {} ({e})", s.word()))
            .collect();
        sink.line(&format!(
            "Not shown: {} — --all lists them",
            parts.join(", ")
        ));
    }
    let mut parts = vec![format!("{} open", totals.open)];
    for (n, word) in [
        (totals.closed, "closed"),
        (totals.reset, "reset"),
        (totals.filtered, "filtered"),
        (totals.unreachable, "unreachable"),
        (totals.blocked, "blocked"),
        (totals.error, "error"),
        (totals.unresolved, "unresolved"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {word}"));
        }
    }
    sink.line(&format!(
        "{} target(s): {} in {:.2} s",
        totals.targets,
        parts.join(", "),
        totals.elapsed_ms / 1000.0
    ));
    if totals.interrupted {
        sink.line(&format!(
            "interrupted: {} of {} targets probed",
            report.probed, report.endpoints
        ));
    }
    if let Some(h) = &report.hold {
        let promise = h
            .keepalive_promise_s
            .map(|p| format!(", keepalive promised detection within {p:.0} s of silence"))
            .unwrap_or_default();
        let silent = h
            .peer_silent_s
            .map(|s| format!(", peer silent for {s:.1} s"))
            .unwrap_or_default();
        sink.line(&format!(
            "hold ended: {}{} after {:.1} s{silent}{promise}; {} bytes received, {} sent",
            serde_json::to_value(h.ending)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            h.errno.map(|e| format!(" ({e})")).unwrap_or_default(),
            h.elapsed_s,
            h.bytes_received,
            h.bytes_sent
        ));
    }
}
