//! Human text for DNS answers: dig's record lines, nslookup's plainness,
//! and the facts people misread (NXDOMAIN vs no data) spelled out.

use crate::diagnose::dns::answer::{failure_text, outcome_text, Answer, Failure, Status};
use crate::diagnose::dns::compare::{Comparison, DiffKind};
use crate::diagnose::Severity;
use crate::output::Sink;

/// The lines for one answer (header line, CNAME chain, records).
pub fn answer_lines(sink: &Sink, a: &Answer) -> Vec<String> {
    let mut lines = Vec::new();
    let via = match (&a.server, a.transport) {
        (Some(s), Some(_)) if a.status == Status::TcpFallbackFailed => {
            format!("from {s} over udp (truncated; the tcp retry failed)")
        }
        (Some(s), Some(t)) if a.failure.is_some() => format!("asking {s} over {}", t.label()),
        (Some(s), Some(t)) if a.truncated_udp => {
            format!("from {s} over {} (udp was truncated)", t.label())
        }
        (Some(s), Some(t)) => format!("from {s} over {}", t.label()),
        (Some(s), None) => format!("asking {s}"),
        _ => format!("asking {}", a.source),
    };
    let flags = a
        .flags
        .map(|f| format!(", flags: {}", f.text()))
        .unwrap_or_default();
    let time = format!("{:.2} ms", a.time_ms);
    let head = match a.status {
        Status::Answer => sink.paint(a.rcode.as_deref().unwrap_or("NOERROR"), Severity::Ok),
        Status::NoData => sink.paint(
            &format!(
                "NOERROR but no {} record (no data — the name exists)",
                a.qtype
            ),
            Severity::Warning,
        ),
        Status::Referral => {
            sink.paint("NOERROR, referral (delegated elsewhere)", Severity::Warning)
        }
        Status::NxDomain => sink.paint("NXDOMAIN (no such name)", Severity::Critical),
        Status::Timeout if a.failure == Some(Failure::TcpStalled) => sink.paint(
            &format!(
                "no answer: tcp connected, then stalled for {:.1} s",
                a.timeout_s
            ),
            Severity::Critical,
        ),
        Status::Timeout => sink.paint(
            &format!("no answer: timeout after {:.1} s", a.timeout_s),
            Severity::Critical,
        ),
        Status::TcpFallbackFailed => sink.paint(
            &format!(
                "{} but truncated, partial answer only (tcp retry: {})",
                a.rcode.as_deref().unwrap_or("NOERROR"),
                a.failure.as_ref().map(failure_text).unwrap_or_default()
            ),
            Severity::Critical,
        ),
        Status::ConnRefused => sink.paint(
            "no answer: connection refused (nothing listens on the DNS port)",
            Severity::Critical,
        ),
        _ => sink.paint(&outcome_text(a), Severity::Critical),
    };
    let shown_name = if a.qname.trim_end_matches('.') == a.input.trim_end_matches('.') {
        crate::resolve::idn::both_forms(&a.input)
    } else {
        format!("{} (asked as {})", a.input, a.qname)
    };
    let system = if a.source.starts_with("system") {
        format!(" [{}]", a.source)
    } else {
        String::new()
    };
    lines.push(format!(
        "{shown_name} {}: {head} {via} in {time}{flags}{system}",
        a.qtype
    ));
    lines.extend(super::secure::session_lines(a));
    if a.cname_chain.len() > 1 {
        lines.push(format!("  CNAME chain: {}", a.cname_chain.join(" → ")));
    }
    let width = a
        .records
        .iter()
        .chain(a.authority.iter())
        .chain(a.unrelated.iter())
        .map(|r| r.name.len())
        .max()
        .unwrap_or(0);
    for r in &a.records {
        lines.push(format!(
            "  {:<width$}  {:>6}  {}  {:<5}  {}",
            r.name, r.ttl, r.class, r.rtype, r.data
        ));
    }
    for r in &a.unrelated {
        lines.push(format!(
            "  {:<width$}  {:>6}  {}  {:<5}  {}   (ignored: not the name asked)",
            r.name, r.ttl, r.class, r.rtype, r.data
        ));
    }
    if !a.status.resolved() {
        for r in &a.authority {
            lines.push(format!(
                "  {:<width$}  {:>6}  {}  {:<5}  {}   (authority)",
                r.name, r.ttl, r.class, r.rtype, r.data
            ));
        }
    }
    if a.attempts.len() > 1 {
        for t in &a.attempts {
            lines.push(format!(
                "  tried {} for {}: {} ({:.1} ms)",
                t.server, t.qname, t.outcome, t.time_ms
            ));
        }
    }
    lines
}

/// `--short`: only the data, one line per record, like `dig +short`.
pub fn short_lines(a: &Answer) -> Vec<String> {
    a.data()
}

/// One line per comparison.
pub fn comparison_line(sink: &Sink, c: &Comparison) -> String {
    let verdict = match c.kind {
        DiffKind::Same => sink.paint("same", Severity::Ok),
        DiffKind::Ttl => sink.paint("same data, TTL differs", Severity::Info),
        DiffKind::Answers => sink.paint("DIFFERENT answers", Severity::Warning),
        DiffKind::Status => sink.paint("DIFFERENT outcome", Severity::Warning),
        DiffKind::Unreachable => sink.paint("one side did not answer", Severity::Critical),
    };
    let mut line = format!(
        "compare {} {}: {} vs {}: {verdict}",
        c.input, c.qtype, c.reference, c.server
    );
    for d in &c.differences {
        line.push_str(&format!("\n  {d}"));
    }
    line
}
