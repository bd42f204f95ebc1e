//! `netdx ping`: ICMP echo on the probe core, printed the way iputils prints
//! it, plus hop inference and a diagnosis of what the replies (or their
//! absence) mean.

use crate::cli::{GlobalOpts, PingArgs};
use crate::diagnose::ping::{fmt_pct, Evidence, IcmpFact, Tally};
use crate::diagnose::ttl::{self, HopInference};
use crate::diagnose::{self, icmp, Diagnosis};
use crate::error::{AppError, AppResult, Exit};
use crate::output::{Mode, Sink};
use crate::probe::pending::Duplicate;
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
            "-W {wait}: the wait must be greater than 0 and at most 3600 seconds"
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
    duplicates: u64,
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
    // iputils' two header forms, so the output diffs cleanly against it.
    if target.is_ipv4() {
        sink.line(&format!(
            "PING {} ({target}) {}({}) bytes of data.",
            args.host,
            plan.payload,
            plan.payload + 8 + 20
        ));
    } else {
        sink.line(&format!(
            "PING {}({target}) {} data bytes",
            args.host, plan.payload
        ));
    }
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
            duplicates: 0,
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
    let mut evidence = Evidence::default();
    let name_shown = resolve::parse_literal(&args.host).is_none();
    let (tx, mut rx) = mpsc::unbounded_channel::<AppResult<Outcome>>();
    let mut ticker = tokio::time::interval(plan.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let deadline = plan.deadline.map(|d| tokio::time::Instant::now() + d);
    let mut in_flight: u64 = 0;
    let mut sending = true;
    let mut dups = engine.duplicates();
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
                // With -w, iputils keeps sending until `count` replies or the
                // deadline; without it, it stops after `count` probes.
                if deadline.is_none() && plan.count.is_some_and(|c| report.stats.transmitted >= c) {
                    sending = false;
                }
            }
            Some(outcome) = rx.recv() => {
                in_flight = in_flight.saturating_sub(1);
                let outcome = outcome?;
                record(&outcome, &mut report, &mut evidence, &mut rtt, &plan, sink, &args.host, name_shown);
                if plan.count.is_some_and(|c| report.stats.received >= c) {
                    break;
                }
            }
            Some(dup) = dups.recv() => show_duplicate(&dup, &mut report, &plan, sink),
            _ = deadline_sleep => break,
            _ = &mut ctrl_c => break,
        }
    }

    // Copies that arrived with the last reply are still queued: count them
    // as iputils does, which drains its socket before it stops.
    let _ = tokio::time::timeout(Duration::from_millis(5), async {
        while let Some(dup) = dups.recv().await {
            show_duplicate(&dup, &mut report, &plan, sink);
        }
    })
    .await;
    report.stats.time_ms = started.elapsed().as_millis();
    report.stats.loss_pct = loss_pct(report.stats.transmitted, report.stats.received);
    report.stats.rtt = rtt.summary();
    report.inference = evidence.first_ttl.map(ttl::infer);
    let tally = Tally {
        transmitted: report.stats.transmitted,
        received: report.stats.received,
        errors: report.stats.errors,
        duplicates: report.stats.duplicates,
        loss_pct: report.stats.loss_pct,
        avg_ms: report.stats.rtt.map(|r| r.avg_ms),
    };
    report.diagnosis = vec![diagnose::ping::diagnose(
        &tally,
        report.inference.as_ref(),
        &evidence,
        target,
    )];
    report
        .diagnosis
        .extend(diagnose::ping::duplicates(&tally, target));
    print_summary(&report, sink);
    // iputils: no reply at all, or fewer replies than asked before a deadline.
    let short_of_count =
        plan.deadline.is_some() && plan.count.is_some_and(|c| report.stats.received < c);
    let failed = report.stats.received == 0
        || short_of_count
        || plan.max_loss.is_some_and(|m| report.stats.loss_pct > m);
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

/// Files one outcome: prints its line, streams its event, keeps what the
/// diagnosis needs, and keeps every record only for `--json` (so a ping
/// without `-c` runs in constant memory).
#[allow(clippy::too_many_arguments)]
fn record(
    outcome: &Outcome,
    report: &mut PingReport,
    evidence: &mut Evidence,
    rtt: &mut RttStats,
    plan: &Plan,
    sink: &Sink,
    host: &str,
    name_shown: bool,
) {
    let v6 = outcome.probe.target.is_ipv6();
    let seq = outcome.seq;
    let keep = sink.mode == Mode::Json;
    match &outcome.response {
        Response::Reply { from, ttl, bytes } => {
            let elapsed = outcome.rtt.unwrap_or_default();
            rtt.add(elapsed);
            report.stats.received += 1;
            if evidence.first_ttl.is_none() {
                evidence.first_ttl = *ttl;
            }
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
            if keep {
                report.replies.push(rec);
            }
        }
        Response::TimeExceeded { from } | Response::Unreachable { from, .. } => {
            let (icmp_type, code, mtu) = match outcome.response {
                Response::Unreachable {
                    icmp_type,
                    code,
                    mtu,
                    ..
                } => (icmp_type, code, mtu),
                _ => (if v6 { 3 } else { 11 }, 0, None),
            };
            // iputils appends the MTU of a too-big error in its own two styles.
            let text = match (mtu, v6) {
                (Some(m), false) => format!("{} (mtu = {m})", icmp::ping_text(v6, icmp_type, code)),
                (Some(m), true) => format!("{}: mtu={m}", icmp::ping_text(v6, icmp_type, code)),
                (None, _) => icmp::ping_text(v6, icmp_type, code),
            };
            if let (Some(m), None) = (mtu, evidence.first_too_big) {
                evidence.first_too_big = Some((*from, m));
            }
            report.stats.errors += 1;
            if !plan.quiet {
                sink.line(&format!("From {from} icmp_seq={seq} {text}"));
            }
            if evidence.first_icmp.is_none() {
                evidence.first_icmp = Some(IcmpFact {
                    from: *from,
                    icmp_type,
                    code,
                    text: text.clone(),
                });
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
            if keep {
                report.errors.push(rec);
            }
        }
        Response::LocalError { errno } => {
            let text = std::io::Error::from_raw_os_error(*errno).to_string();
            report.stats.errors += 1;
            if !plan.quiet {
                sink.line(&format!("ping: sendmsg: {text} (icmp_seq={seq})"));
            }
            evidence.first_local_errno.get_or_insert(*errno);
            let rec = ErrorRecord {
                seq,
                from: None,
                icmp_type: None,
                code: None,
                errno: Some(*errno),
                text,
            };
            sink.event("local_error", &rec);
            if keep {
                report.errors.push(rec);
            }
        }
        // Ping sends only echo requests; TCP answers belong to other probes.
        Response::TcpReply { .. } => {}
        Response::Timeout => {
            sink.event("timeout", &serde_json::json!({"seq": seq}));
        }
    }
}

/// Prints and counts one duplicate reply, iputils style.
fn show_duplicate(dup: &Duplicate, report: &mut PingReport, plan: &Plan, sink: &Sink) {
    report.stats.duplicates += 1;
    if !plan.quiet {
        let ttl_text = dup.ttl.map(|t| format!(" ttl={t}")).unwrap_or_default();
        let time = dup
            .rtt
            .map(|d| format!(" time={}", fmt_rtt(d.as_secs_f64() * 1000.0)))
            .unwrap_or_default();
        sink.line(&format!(
            "{} bytes from {}: icmp_seq={}{ttl_text}{time} (DUP!)",
            dup.bytes, dup.from, dup.seq
        ));
    }
    sink.event("duplicate", dup);
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

/// Prints the iputils-style summary, the inference and the diagnosis.
fn print_summary(report: &PingReport, sink: &Sink) {
    let s = &report.stats;
    sink.line("");
    sink.line(&format!("--- {} ping statistics ---", report.host));
    let duplicates = if s.duplicates > 0 {
        format!(", +{} duplicates", s.duplicates)
    } else {
        String::new()
    };
    let errors = if s.errors > 0 {
        format!(", +{} errors", s.errors)
    } else {
        String::new()
    };
    sink.line(&format!(
        "{} packets transmitted, {} received{duplicates}{errors}, {}% packet loss, time {}ms",
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
