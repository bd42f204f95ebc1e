//! `netdx ping`: ICMP echo on the probe core, printed the way iputils prints
//! it, plus hop inference and a diagnosis of what the replies (or their
//! absence) mean.

use crate::cli::{GlobalOpts, PingArgs};
use crate::diagnose::ttl::{self, HopInference};
use crate::diagnose::{icmp, Diagnosis, Severity};
use crate::error::{AppError, AppResult, Exit};
use crate::output::Sink;
use crate::probe::{Binding, Engine, Outcome, Probe, ProbeKind, Response, SocketMode};
use crate::resolve::{self, Family};
use crate::stats::{loss_pct, RttStats, RttSummary};
use serde::Serialize;
use std::net::IpAddr;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Largest ICMP payload that fits an IPv4 datagram.
const MAX_PAYLOAD_V4: usize = 65507;
/// Largest ICMPv6 payload that fits an IPv6 datagram without jumbograms.
const MAX_PAYLOAD_V6: usize = 65527;
/// iputils' floor for the interval of an unprivileged user.
const USER_MIN_INTERVAL: f64 = 0.2;
/// iputils' default wait for a reply.
const DEFAULT_WAIT: f64 = 10.0;

/// Validated ping settings.
struct Plan {
    count: Option<u64>,
    interval: Duration,
    wait: Duration,
    deadline: Option<Duration>,
    payload: usize,
    ttl: Option<u8>,
    quiet: bool,
    max_loss: Option<f64>,
}

/// Checks every flag before anything is sent.
fn plan(args: &PingArgs, global: &GlobalOpts) -> AppResult<Plan> {
    if args.count == Some(0) {
        return Err(AppError::usage("-c 0: the count must be at least 1"));
    }
    if !(args.interval.is_finite() && args.interval >= 0.001 && args.interval <= 3600.0) {
        return Err(AppError::usage(format!(
            "-i {}: the interval must be between 0.001 and 3600 seconds",
            args.interval
        )));
    }
    let wait = args.wait.or(global.timeout).unwrap_or(DEFAULT_WAIT);
    if !(wait.is_finite() && wait > 0.0 && wait <= 3600.0) {
        return Err(AppError::usage(format!(
            "-W {wait}: the wait must be between 0 and 3600 seconds"
        )));
    }
    if let Some(d) = args.deadline {
        if !(d.is_finite() && d > 0.0 && d <= 1e6) {
            return Err(AppError::usage(format!(
                "-w {d}: the deadline must be a positive number of seconds"
            )));
        }
    }
    if args.size > MAX_PAYLOAD_V6 {
        return Err(AppError::usage(format!(
            "-s {}: the payload cannot exceed {MAX_PAYLOAD_V4} bytes (IPv4) / {MAX_PAYLOAD_V6} (IPv6)",
            args.size
        )));
    }
    let ttl = match args.ttl {
        None => None,
        Some(t) if (1..=255).contains(&t) => Some(t as u8),
        Some(t) => {
            return Err(AppError::usage(format!(
                "-t {t}: the TTL must be between 1 and 255"
            )))
        }
    };
    if let Some(p) = args.max_loss {
        if !(0.0..=100.0).contains(&p) {
            return Err(AppError::usage(format!(
                "--max-loss {p}: give a percentage from 0 to 100"
            )));
        }
    }
    Ok(Plan {
        count: args.count,
        interval: Duration::from_secs_f64(args.interval),
        wait: Duration::from_secs_f64(wait),
        deadline: args.deadline.map(Duration::from_secs_f64),
        payload: args.size,
        ttl,
        quiet: args.quiet,
        max_loss: args.max_loss,
    })
}

/// One reply as reported.
#[derive(Debug, Serialize)]
struct ReplyRecord {
    seq: u16,
    from: IpAddr,
    bytes: usize,
    ttl: Option<u8>,
    rtt_ms: f64,
}

/// One ICMP error or local failure as reported.
#[derive(Debug, Serialize)]
struct ErrorRecord {
    seq: u16,
    from: Option<IpAddr>,
    icmp_type: Option<u8>,
    code: Option<u8>,
    errno: Option<i32>,
    text: String,
}

/// The summary figures.
#[derive(Debug, Serialize)]
struct PingStats {
    transmitted: u64,
    received: u64,
    errors: u64,
    loss_pct: f64,
    time_ms: u128,
    rtt: Option<RttSummary>,
}

/// The whole result, as `--json` prints it.
#[derive(Debug, Serialize)]
struct PingReport {
    host: String,
    address: IpAddr,
    socket: SocketMode,
    payload_bytes: usize,
    replies: Vec<ReplyRecord>,
    errors: Vec<ErrorRecord>,
    stats: PingStats,
    inference: Option<HopInference>,
    diagnosis: Vec<Diagnosis>,
}

/// Runs `netdx ping`.
pub async fn run(args: &PingArgs, global: &GlobalOpts, sink: &Sink) -> AppResult<Exit> {
    let plan = plan(args, global)?;
    let family = Family::from_flags(global.ipv4, global.ipv6);
    let binding = Binding::from_flag(args.interface.as_deref())?;
    let target = resolve::resolve_one_within(
        &args.host,
        family,
        global.timeout.map(Duration::from_secs_f64),
    )
    .await?;
    if target.is_ipv4() && plan.payload > MAX_PAYLOAD_V4 {
        return Err(AppError::usage(format!(
            "-s {}: an IPv4 ping payload cannot exceed {MAX_PAYLOAD_V4} bytes",
            plan.payload
        )));
    }
    let engine = Engine::new(binding);
    let mode = engine.prepare(target)?;
    let privileged = mode == SocketMode::Raw || is_root();
    if !privileged && plan.interval.as_secs_f64() < USER_MIN_INTERVAL {
        return Err(AppError::usage(format!(
            "-i {}: intervals under {USER_MIN_INTERVAL} s need root or CAP_NET_RAW (as with iputils ping)",
            args.interval
        )));
    }
    let ip_header = if target.is_ipv4() { 20 } else { 40 };
    sink.line(&format!(
        "PING {} ({target}) {}({}) bytes of data.",
        args.host,
        plan.payload,
        plan.payload + 8 + ip_header
    ));
    sink.event(
        "start",
        &serde_json::json!({"host": args.host, "address": target, "socket": mode, "payload_bytes": plan.payload}),
    );

    let mut report = PingReport {
        host: args.host.clone(),
        address: target,
        socket: mode,
        payload_bytes: plan.payload,
        replies: Vec::new(),
        errors: Vec::new(),
        stats: PingStats {
            transmitted: 0,
            received: 0,
            errors: 0,
            loss_pct: 0.0,
            time_ms: 0,
            rtt: None,
        },
        inference: None,
        diagnosis: Vec::new(),
    };
    let started = Instant::now();
    let mut rtt = RttStats::default();
    let name_shown = resolve::parse_literal(&args.host).is_none();
    let (tx, mut rx) = mpsc::unbounded_channel::<AppResult<Outcome>>();
    let mut ticker = tokio::time::interval(plan.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let deadline = plan.deadline.map(|d| tokio::time::Instant::now() + d);
    let mut in_flight: u64 = 0;
    let mut sending = true;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);

    loop {
        if !sending && in_flight == 0 {
            break;
        }
        let deadline_sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = ticker.tick(), if sending => {
                let probe = Probe { target, ttl: plan.ttl, kind: ProbeKind::Echo { payload: plan.payload }, timeout: plan.wait };
                let engine = engine.clone();
                let tx = tx.clone();
                tokio::spawn(async move { let _ = tx.send(engine.probe(probe).await); });
                report.stats.transmitted += 1;
                in_flight += 1;
                if plan.count.is_some_and(|c| report.stats.transmitted >= c) {
                    sending = false;
                }
            }
            Some(outcome) = rx.recv() => {
                in_flight = in_flight.saturating_sub(1);
                let outcome = outcome?;
                record(&outcome, &mut report, &mut rtt, &plan, sink, &args.host, name_shown);
                if plan.count.is_some_and(|c| report.stats.received >= c) {
                    break;
                }
            }
            _ = deadline_sleep => break,
            _ = &mut ctrl_c => break,
        }
    }

    report.stats.time_ms = started.elapsed().as_millis();
    report.stats.loss_pct = loss_pct(report.stats.transmitted, report.stats.received);
    report.stats.rtt = rtt.summary();
    report.inference = report.replies.iter().find_map(|r| r.ttl).map(ttl::infer);
    report.diagnosis = diagnose(&report, target);
    print_summary(&report, sink);
    let failed =
        report.stats.received == 0 || plan.max_loss.is_some_and(|m| report.stats.loss_pct > m);
    Ok(if failed {
        Exit::TargetFailed
    } else {
        Exit::Healthy
    })
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Files one outcome into the report and prints its line.
fn record(
    outcome: &Outcome,
    report: &mut PingReport,
    rtt: &mut RttStats,
    plan: &Plan,
    sink: &Sink,
    host: &str,
    name_shown: bool,
) {
    let v6 = outcome.probe.target.is_ipv6();
    let seq = outcome.seq;
    match &outcome.response {
        Response::Reply { from, ttl, bytes } => {
            let elapsed = outcome.rtt.unwrap_or_default();
            rtt.add(elapsed);
            report.stats.received += 1;
            let rec = ReplyRecord {
                seq,
                from: *from,
                bytes: *bytes,
                ttl: *ttl,
                rtt_ms: elapsed.as_secs_f64() * 1000.0,
            };
            if !plan.quiet {
                let who = if name_shown && *from == outcome.probe.target {
                    format!("{host} ({from})")
                } else {
                    from.to_string()
                };
                let ttl_text = ttl.map(|t| format!(" ttl={t}")).unwrap_or_default();
                sink.line(&format!(
                    "{bytes} bytes from {who}: icmp_seq={seq}{ttl_text} time={}",
                    fmt_rtt(rec.rtt_ms)
                ));
            }
            sink.event("reply", &rec);
            report.replies.push(rec);
        }
        Response::TimeExceeded { from } | Response::Unreachable { from, .. } => {
            let (icmp_type, code) = match outcome.response {
                Response::Unreachable {
                    icmp_type, code, ..
                } => (icmp_type, code),
                _ => (if v6 { 3 } else { 11 }, 0),
            };
            let text = icmp::ping_text(v6, icmp_type, code);
            report.stats.errors += 1;
            if !plan.quiet {
                sink.line(&format!("From {from} icmp_seq={seq} {text}"));
            }
            let rec = ErrorRecord {
                seq,
                from: Some(*from),
                icmp_type: Some(icmp_type),
                code: Some(code),
                errno: None,
                text,
            };
            sink.event("icmp_error", &rec);
            report.errors.push(rec);
        }
        Response::LocalError { errno } => {
            let text = std::io::Error::from_raw_os_error(*errno).to_string();
            report.stats.errors += 1;
            if !plan.quiet {
                sink.line(&format!("ping: sendmsg: {text} (icmp_seq={seq})"));
            }
            let rec = ErrorRecord {
                seq,
                from: None,
                icmp_type: None,
                code: None,
                errno: Some(*errno),
                text,
            };
            sink.event("local_error", &rec);
            report.errors.push(rec);
        }
        // Ping sends only echo requests; TCP answers belong to other probes.
        Response::TcpReply { .. } => {}
        Response::Timeout => {
            sink.event("timeout", &serde_json::json!({"seq": seq}));
        }
    }
}

/// RTTs as iputils prints them: 3 significant decimals, fewer for big values.
fn fmt_rtt(ms: f64) -> String {
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.3} ms")
    }
}

/// Formats a percentage like C's `%g` (no trailing zeros).
fn fmt_pct(p: f64) -> String {
    let text = format!("{p:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.to_string()
}

/// Turns the figures into findings.
fn diagnose(report: &PingReport, target: IpAddr) -> Vec<Diagnosis> {
    let s = &report.stats;
    let v6 = target.is_ipv6();
    let lost = s.transmitted.saturating_sub(s.received);
    let avg = s.rtt.map(|r| r.avg_ms).unwrap_or(0.0);
    let hops = report
        .inference
        .as_ref()
        .map(|h| format!(", {} hop(s) away", h.hops))
        .unwrap_or_default();
    let d = if s.transmitted == 0 {
        Diagnosis::new("ping.not_sent", Severity::Critical, "no probe was sent")
    } else if s.received == s.transmitted {
        Diagnosis::new(
            "ping.healthy",
            Severity::Ok,
            format!(
                "{target} answers every probe ({}/{}), rtt avg {avg:.3} ms{hops}",
                s.received, s.transmitted
            ),
        )
    } else if s.received > 0 {
        Diagnosis::new(
            "ping.lossy",
            Severity::Warning,
            format!(
                "{target} answers but {}% of probes were lost ({lost}/{}): the path or the host drops packets — run `netdx mtr {target}` to find where",
                fmt_pct(s.loss_pct),
                s.transmitted
            ),
        )
    } else if let Some(err) = report.errors.iter().find(|e| e.icmp_type.is_some()) {
        let (t, c) = (err.icmp_type.unwrap_or(0), err.code.unwrap_or(0));
        let from = err.from.map(|f| f.to_string()).unwrap_or_default();
        let meaning = icmp::lookup(v6, t, c)
            .map(|i| i.meaning)
            .unwrap_or("an ICMP error");
        let exceeded = (!v6 && t == 11) || (v6 && t == 3);
        if exceeded {
            Diagnosis::new(
                "ping.ttl_exceeded",
                Severity::Critical,
                format!("probes expire at {from} before reaching {target}: the TTL is too small for the path, or packets loop between routers"),
            )
        } else {
            Diagnosis::new(
                "ping.unreachable",
                Severity::Critical,
                format!(
                    "{target} is unreachable: {from} answered \"{}\" (icmp {t}/{c}) — {meaning}",
                    err.text
                ),
            )
        }
    } else if let Some(err) = report.errors.iter().find(|e| e.errno.is_some()) {
        let no_route = matches!(
            err.errno,
            Some(libc::ENETUNREACH) | Some(libc::EHOSTUNREACH)
        );
        if no_route {
            Diagnosis::new(
                "ping.no_route",
                Severity::Critical,
                format!("this host has no route to {target} ({}): check `ip route get {target}` and the interface state", err.text),
            )
        } else {
            Diagnosis::new(
                "ping.send_failed",
                Severity::Critical,
                format!("the local stack refused to send to {target}: {} — a local firewall (EPERM) or a size over the MTU (EMSGSIZE)", err.text),
            )
        }
    } else {
        Diagnosis::new(
            "ping.silent",
            Severity::Critical,
            format!("no reply and no ICMP error from {target}: the host is down or a firewall silently drops ICMP echo — try `netdx tcp {target}:PORT` on a port it serves, or `netdx trace {target}` to see where packets stop"),
        )
    };
    let d = d
        .with("transmitted", s.transmitted)
        .with("received", s.received)
        .with("errors", s.errors)
        .with("loss_pct", s.loss_pct);
    vec![d]
}

/// Prints the iputils-style summary, the inference and the diagnosis.
fn print_summary(report: &PingReport, sink: &Sink) {
    let s = &report.stats;
    sink.line("");
    sink.line(&format!("--- {} ping statistics ---", report.host));
    let errors = if s.errors > 0 {
        format!(", +{} errors", s.errors)
    } else {
        String::new()
    };
    sink.line(&format!(
        "{} packets transmitted, {} received{errors}, {}% packet loss, time {}ms",
        s.transmitted,
        s.received,
        fmt_pct(s.loss_pct),
        s.time_ms
    ));
    if let Some(r) = &s.rtt {
        sink.line(&format!(
            "rtt min/avg/max/mdev = {:.3}/{:.3}/{:.3}/{:.3} ms, jitter {:.3} ms",
            r.min_ms, r.avg_ms, r.max_ms, r.mdev_ms, r.jitter_ms
        ));
    }
    if let Some(h) = &report.inference {
        sink.line(&format!(
            "hops: reply TTL {} → initial TTL {} → {} hop(s) away; OS guess: {}",
            h.reply_ttl, h.initial_ttl, h.hops, h.os_guess
        ));
    }
    sink.diagnoses(&report.diagnosis);
    sink.event(
        "summary",
        &serde_json::json!({"stats": s, "inference": report.inference, "diagnosis": report.diagnosis}),
    );
    sink.document(report);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_print_like_iputils() {
        assert_eq!(fmt_pct(0.0), "0");
        assert_eq!(fmt_pct(20.0), "20");
        assert_eq!(fmt_pct(100.0 / 3.0), "33.3333");
    }
}
