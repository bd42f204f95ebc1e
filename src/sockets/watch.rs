//! One sample or a stream of them (`--watch`): redrawn in place on a
//! terminal, appended on a pipe, one JSON line per sample with `--jsonl`.

use super::census::Plan;
use super::render;
use super::state::SLOTS;
use super::{sample, SocketsReport};
use crate::cli::SocketsArgs;
use crate::diagnose::Severity;
use crate::error::AppResult;
use crate::output::{Mode, Sink};
use std::time::Duration;

/// Samples once, or every `--watch` seconds until `-c` samples, Ctrl-C or
/// a closed sink (the reader went away).
pub async fn run(args: &SocketsArgs, plan: &Plan, sink: &Sink) -> AppResult<SocketsReport> {
    let scope = match (args.port, args.pid, &args.process) {
        (Some(p), _, _) => Some(format!("port {p}")),
        (_, Some(pid), _) => Some(format!("pid {pid}")),
        (_, _, Some(name)) => Some(format!("program {name}")),
        _ => None,
    };
    let limit = match (args.watch, args.count) {
        (None, _) => 1,
        (Some(_), Some(n)) => n,
        (Some(_), None) => u64::MAX,
    };
    let interval = Duration::from_secs_f64(args.watch.unwrap_or(1.0));
    let mut previous = None;
    let mut prev_states: Option<[u64; SLOTS]> = None;
    let mut worst = Severity::Ok;
    let mut n = 0;
    let last = loop {
        n += 1;
        let (s, at) = sample(args, plan, previous.as_ref().map(|(c, t)| (c, *t)))?;
        worst = worst.max(s.worst());
        let report = render::report(
            &s,
            n,
            prev_states.as_ref(),
            args.top,
            args.all,
            scope.clone(),
        );
        match sink.mode {
            Mode::Jsonl => sink.event("sample", &report),
            Mode::Json => {}
            Mode::Human => draw(&report, &s, sink, n, args.watch.is_some()),
        }
        prev_states = Some(s.census.states);
        previous = s.counters.map(|c| (c, at));
        if n >= limit || sink.is_closed() {
            break report;
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = tokio::signal::ctrl_c() => break report,
        }
    };
    Ok(SocketsReport {
        last,
        samples: n,
        worst,
    })
}

/// Prints one sample; on a terminal in watch mode, over the previous one.
fn draw(report: &render::Report, s: &super::Sample, sink: &Sink, n: u64, watching: bool) {
    let mut lines = render::human(report, &s.census, s.owners_known);
    if watching {
        lines.insert(0, format!("netdx sockets — sample {n} · Ctrl-C stops"));
    }
    if watching && sink.tty {
        // Home the cursor and clear, so the table stays in place.
        sink.write_raw("\x1b[H\x1b[2J");
    } else if watching && n > 1 {
        sink.write_raw("\n");
    }
    let mut text = lines.join("\n");
    text.push('\n');
    sink.write_raw(&text);
    sink.diagnoses(&s.diagnosis);
}
