//! `netdx dns NAME --trace`: the `dig +trace` replacement. Checks the
//! input, loads the root hints, runs the iterative resolver and prints one
//! block per step, then the zones' servers as the audit saw them.

use super::{question, DnsReport, DnsSummary};
use crate::cli::{DnsArgs, GlobalOpts};
use crate::diagnose::dns::trace::{self as facts, Attempt, Fault, Step, StepKind, Trace};
use crate::diagnose::Severity;
use crate::error::{AppError, AppResult};
use crate::output::Sink;
use crate::resolve::iterate::{self, Options};
use crate::resolve::roothints;
use crate::resolve::wire::WireOpts;
use crate::resolve::Family;
use hickory_proto::rr::RecordType;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Per-server timeout of a trace step when `--timeout` is not given.
const STEP_TIMEOUT: Duration = Duration::from_secs(3);

/// Runs the trace and prints it; the report carries it under `trace`.
pub async fn dns_trace(args: &DnsArgs, global: &GlobalOpts, sink: &Sink) -> AppResult<DnsReport> {
    let started = Instant::now();
    let family = Family::from_flags(global.ipv4, global.ipv6);
    if args.names.iter().any(|n| n.starts_with('@')) {
        return Err(AppError::usage(
            "--trace starts at the root servers, so @SERVER does not apply (use --root-hints FILE for a private root)",
        ));
    }
    let [input] = &args.names[..] else {
        return Err(AppError::usage("--trace takes exactly one name"));
    };
    let mut types = Vec::new();
    for t in &args.types {
        types.push(question::parse_type(t)?);
    }
    if types.len() > 1 {
        return Err(AppError::usage("--trace takes one record type (-t)"));
    }
    let default = [match family {
        Family::V6 => RecordType::AAAA,
        _ => RecordType::A,
    }];
    let target = question::parse_target(input, &types, &default)?;
    let qtype = target.types.first().copied().unwrap_or(RecordType::A);
    let (hints, label) = match &args.root_hints {
        Some(path) => {
            let text = std::fs::read(path).map_err(|e| {
                AppError::usage(format!("cannot read root hints {}: {e}", path.display()))
            })?;
            let text = String::from_utf8(text).map_err(|_| {
                AppError::usage(format!(
                    "root hints {}: not a text file (named.root format expected)",
                    path.display()
                ))
            })?;
            let hints = roothints::parse(&text)
                .map_err(|e| AppError::usage(format!("root hints {}: {e}", path.display())))?;
            (hints, path.display().to_string())
        }
        None => (
            roothints::parse(roothints::IANA)
                .map_err(|e| AppError::cannot_run(format!("built-in root hints: {e}")))?,
            "built-in (IANA)".to_string(),
        ),
    };
    if !hints
        .iter()
        .any(|h| h.addrs.iter().any(|a| family.allows(a)))
    {
        return Err(AppError::usage(
            "no root server in the hints has an address of the family allowed by -4/-6",
        ));
    }
    let opts = Options {
        wire: WireOpts {
            tcp_only: args.tcp,
            edns: (!args.no_edns).then_some(args.bufsize.max(512)),
            deadline: global
                .timeout
                .map(Duration::from_secs_f64)
                .unwrap_or(STEP_TIMEOUT),
            attempts: 2,
        },
        family,
        audit: true,
        port: 53,
    };
    let mut name = target.name.clone();
    name.set_fqdn(true);
    if sink.human() {
        sink.line(&format!(
            "; tracing {} {qtype} from the root hints ({label}), {:.1} s per server",
            name.to_ascii(),
            opts.wire.deadline.as_secs_f64()
        ));
    }
    // Steps go out as they complete, like dig +trace's blocks.
    let count = AtomicUsize::new(0);
    let on_step = |s: &Step| {
        let n = count.fetch_add(1, Ordering::Relaxed) + 1;
        sink.event("step", s);
        if sink.human() {
            sink.line("");
            for line in step_lines(sink, n, s) {
                sink.line(&line);
            }
        }
    };
    let trace = iterate::trace(&name, qtype, &hints, &label, opts, &on_step).await;
    let diagnoses = facts::diagnose(&trace);
    for d in &diagnoses {
        sink.event("diagnosis", d);
    }
    if sink.human() {
        for line in tail_lines(sink, &trace) {
            sink.line(&line);
        }
        sink.diagnoses(&diagnoses);
    }
    let ok = trace.resolved() && !diagnoses.iter().any(|d| d.severity == Severity::Critical);
    Ok(DnsReport {
        command: "dns",
        answers: Vec::new(),
        comparisons: Vec::new(),
        diagnoses,
        summary: DnsSummary {
            names: 1,
            resolved: usize::from(ok),
            failed: usize::from(!ok),
            bogus: 0,
            differences: 0,
            time_ms: started.elapsed().as_secs_f64() * 1000.0,
        },
        trace: Some(trace),
        dnssec: Vec::new(),
        show_totals: false,
        diagnoses_last: false,
    })
}

/// The human text after the steps: where the trace stopped, the glueless
/// NS lookups, and the audit of each zone's servers.
pub fn tail_lines(sink: &Sink, t: &Trace) -> Vec<String> {
    let mut out = Vec::new();
    if !t.stuck.is_empty() {
        out.push(String::new());
        out.push(format!(
            ";; stopped at {}: no listed server gave a usable reply",
            t.stuck.first().map(|a| a.zone.as_str()).unwrap_or("?")
        ));
        out.extend(t.stuck.iter().map(|a| attempt_line(sink, a)));
    }
    for l in &t.ns_lookups {
        out.push(match &l.error {
            None => format!(
                ";; looked up glueless NS {}: {} ({} queries)",
                l.name,
                l.addresses.join(", "),
                l.queries
            ),
            Some(e) => format!(";; glueless NS {} did not resolve: {e}", l.name),
        });
    }
    if !t.zones.is_empty() {
        out.push(String::new());
        out.push(";; every listed server, asked for its zone's SOA and NS:".into());
        for z in &t.zones {
            for v in &z.servers {
                let state = match (v.fault, &v.detail) {
                    (Some(f), d) => sink.paint(
                        &with_detail(fault_word(f), d.as_deref().unwrap_or("")),
                        Severity::Warning,
                    ),
                    (None, _) => format!(
                        "serial {}, NS {}{}",
                        v.serial
                            .map(|s| s.to_string())
                            .unwrap_or_else(|| "?".into()),
                        v.apex_ns.join(" "),
                        v.answer
                            .as_ref()
                            .map(|a| format!(", answer [{}]", a.join(", ")))
                            .unwrap_or_default()
                    ),
                };
                out.push(format!(
                    ";;   {:<14} {} ({}): {state}",
                    z.zone, v.server.name, v.server.address
                ));
            }
        }
    }
    out.push(String::new());
    out
}

fn fault_word(f: Fault) -> &'static str {
    match f {
        Fault::Timeout => "timeout",
        Fault::Lame => "lame",
        Fault::ReferralLoop => "lame, referral loop",
        Fault::Unreachable => "unreachable",
        Fault::Malformed => "malformed reply",
    }
}

/// `word (detail)`, without a detail that only repeats the word.
fn with_detail(word: &str, detail: &str) -> String {
    if detail.is_empty() || word.starts_with(detail) {
        word.to_string()
    } else {
        format!("{word} ({detail})")
    }
}

fn attempt_line(sink: &Sink, a: &Attempt) -> String {
    sink.paint(
        &format!(
            ";; {} ({}) for {}: {}",
            a.server.name,
            a.server.address,
            a.zone,
            with_detail(
                &format!("{} after {:.0} ms", fault_word(a.fault), a.time_ms),
                &a.detail
            )
        ),
        Severity::Warning,
    )
}

/// One step: the failed tries, the records (dig's layout), then dig's
/// `;; Received … from …` line with the zone and the outcome.
fn step_lines(sink: &Sink, n: usize, s: &Step) -> Vec<String> {
    let mut out: Vec<String> = s.failed.iter().map(|a| attempt_line(sink, a)).collect();
    let recs: Vec<(&crate::diagnose::dns::answer::Rec, &str)> = match s.kind {
        StepKind::Referral => s
            .authority
            .iter()
            .filter(|r| r.rtype == "NS")
            .map(|r| (r, ""))
            .chain(s.glue.iter().map(|r| (r, "  ; glue")))
            .collect(),
        StepKind::Answer | StepKind::Cname => s
            .answer
            .iter()
            .map(|r| (r, ""))
            .chain(s.authority.iter().map(|r| (r, "  ; authority")))
            .collect(),
        StepKind::NxDomain | StepKind::NoData => {
            s.authority.iter().map(|r| (r, "  ; authority")).collect()
        }
    };
    let width = recs.iter().map(|(r, _)| r.name.len()).max().unwrap_or(0);
    for (r, note) in recs {
        out.push(format!(
            "{:<width$}  {:>7}  {}  {:<5}  {}{note}",
            r.name, r.ttl, r.class, r.rtype, r.data
        ));
    }
    let what = match s.kind {
        StepKind::Referral => format!(
            "referral to {} ({} NS, {} glue)",
            s.referral.as_deref().unwrap_or("?"),
            s.ns.len(),
            s.glue.len()
        ),
        StepKind::Answer => sink.paint(&format!("{} aa, answer", s.rcode), Severity::Ok),
        StepKind::Cname => format!("{} aa, CNAME — restarting from the root", s.rcode),
        StepKind::NxDomain => sink.paint("NXDOMAIN aa", Severity::Critical),
        StepKind::NoData => sink.paint("NOERROR aa, no data", Severity::Critical),
    };
    out.push(format!(
        ";; step {n}: {} {} from {} ({}) for zone {} in {:.1} ms: {what}",
        s.qname, s.qtype, s.server.name, s.server.address, s.zone, s.time_ms
    ));
    out
}
