//! `netdx ping`: ICMP echo on the probe core, printed the way iputils prints
//! it, plus hop inference and a diagnosis of what the replies (or their
//! absence) mean.

use crate::cli::{GlobalOpts, PingArgs};
use crate::diagnose::ping::{fmt_pct, Evidence, IcmpFact, SmallProbes, Tally, MIN_COMMON_MTU};
use crate::diagnose::ttl::{self, HopInference};
use crate::diagnose::{self, icmp, Diagnosis};
use crate::error::{AppError, AppResult, Exit};
use crate::output::{Mode, Report, Sink};
use crate::probe::pending::Duplicate;
use crate::probe::{Binding, Engine, Outcome, PmtuDisc, Probe, ProbeKind, Response, SocketMode};
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
/// iputils' default payload.
const DEFAULT_PAYLOAD: usize = 56;
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

/// One echo reply, as printed and as `--json` / `--jsonl` carry it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ReplyRecord {
    /// ICMP sequence number of the request it answers.
    pub seq: u16,
    /// Who replied.
    pub from: IpAddr,
    /// ICMP bytes received.
    pub bytes: usize,
    /// TTL / hop limit of the reply, when the socket reports it.
    pub ttl: Option<u8>,
    /// Round trip in milliseconds.
    pub rtt_ms: f64,
}

/// One ICMP error from a router or the target, or a send this host
/// refused, as reported.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ErrorRecord {
    /// ICMP sequence number of the request it concerns.
    pub seq: u16,
    /// Who sent the ICMP error (None for a local failure).
    pub from: Option<IpAddr>,
    /// ICMP / ICMPv6 type.
    pub icmp_type: Option<u8>,
    /// ICMP / ICMPv6 code.
    pub code: Option<u8>,
    /// errno of a failed send.
    pub errno: Option<i32>,
    /// The words ping prints for it.
    pub text: String,
}

/// The statistics block iputils prints at the end.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PingStats {
    /// Requests sent.
    pub transmitted: u64,
    /// Replies received (duplicates not counted).
    pub received: u64,
    /// Extra copies of replies (DUP!).
    pub duplicates: u64,
    /// ICMP errors and local send failures.
    pub errors: u64,
    /// Loss in percent.
    pub loss_pct: f64,
    /// Wall time of the run.
    pub time_ms: u128,
    /// Round-trip statistics, when any reply came.
    pub rtt: Option<RttSummary>,
}

/// The result of one `netdx ping`: the figures, the hop inference and the
/// diagnosis (`--json` prints it whole). The per-reply lists are kept only
/// when the sink is in `--json` mode or silent (a library caller), so a
/// ping without `-c` runs in constant memory.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PingReport {
    /// The host as given on the command line.
    pub host: String,
    /// The address pinged.
    pub address: IpAddr,
    /// Raw or unprivileged ICMP socket.
    pub socket: SocketMode,
    /// ICMP data bytes per request.
    pub payload_bytes: usize,
    /// Every reply (see the type's note on when they are kept).
    pub replies: Vec<ReplyRecord>,
    /// Every ICMP error and local failure (kept like `replies`).
    pub errors: Vec<ErrorRecord>,
    /// The summary figures.
    pub stats: PingStats,
    /// Distance and OS family inferred from the first reply's TTL.
    pub inference: Option<HopInference>,
    /// The black-hole check, when large probes vanished without any ICMP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pmtu_check: Option<SmallProbes>,
    /// What the run means.
    pub diagnosis: Vec<Diagnosis>,
    /// The exit status the run stands for (iputils' rules plus `--max-loss`).
    #[serde(skip)]
    exit: Exit,
}

impl Report for PingReport {
    fn diagnoses(&self) -> Vec<Diagnosis> {
        self.diagnosis.clone()
    }

    fn exit(&self) -> Exit {
        self.exit
    }

    /// The iputils-style statistics block and the hop inference.
    fn render_human(&self, sink: &Sink) {
        let s = &self.stats;
        sink.line("");
        sink.line(&format!("--- {} ping statistics ---", self.host));
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
        if let Some(h) = &self.inference {
            sink.line(&format!(
                "hops: reply TTL {} → initial TTL {} → {} router(s) between: hop {} as trace counts; OS guess: {}",
                h.reply_ttl,
                h.initial_ttl,
                h.hops,
                u32::from(h.hops) + 1,
                h.os_guess
            ));
        }
    }

    fn summary_event(&self) -> Option<serde_json::Value> {
        Some(
            serde_json::json!({"stats": self.stats, "inference": self.inference,
            "diagnosis": self.diagnosis}),
        )
    }
}

/// Runs `netdx ping`: the pings, then the statistics in the sink's shape.
pub async fn run(args: &PingArgs, global: &GlobalOpts, sink: &Sink) -> AppResult<Exit> {
    let report = ping(args, global, sink).await?;
    Ok(crate::output::finish(sink, &report))
}

/// Pings `args.host` the way iputils does: prints each reply or error line
/// (and streams its event) as it comes, and returns the figures and the
/// diagnosis. Ends after `-c` replies or probes, at the `-w` deadline, on
/// Ctrl-C, or when the reader of the output went away.
pub async fn ping(args: &PingArgs, global: &GlobalOpts, sink: &Sink) -> AppResult<PingReport> {
    let plan = plan(args, global)?;
    let family = Family::from_flags(global.ipv4, global.ipv6);
    let mut binding = Binding::from_flag(args.interface.as_deref())?;
    binding.pmtu = args.pmtudisc.as_deref().and_then(PmtuDisc::parse);
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
    let engine = crate::probe::pool::engine_for(binding);
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
            resolve::idn::both_forms(&args.host),
            plan.payload,
            plan.payload + 8 + 20
        ));
    } else {
        sink.line(&format!(
            "PING {}({target}) {} data bytes",
            resolve::idn::both_forms(&args.host),
            plan.payload
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
        pmtu_check: None,
        diagnosis: Vec::new(),
        exit: Exit::TargetFailed,
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
    let mut interrupted = false;
    let mut dups = engine.duplicates(target);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);

    loop {
        if (!sending && in_flight == 0) || sink.is_closed() {
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
                let local_mtu = local_mtu(&engine, &outcome);
                record(&outcome, local_mtu, &mut report, &mut evidence, &mut rtt, &plan, sink, &args.host, name_shown);
                if plan.count.is_some_and(|c| report.stats.received >= c) {
                    break;
                }
            }
            Some(dup) = dups.recv() => show_duplicate(&dup, &mut report, &plan, sink),
            _ = deadline_sleep => break,
            _ = &mut ctrl_c => {
                interrupted = true;
                break;
            }
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
    if !interrupted && !sink.is_closed() {
        evidence.small_probes = blackhole_check(&engine, target, &plan, &report.stats).await;
        report.pmtu_check = evidence.small_probes;
        if let (Some(p), false) = (evidence.small_probes, plan.quiet) {
            sink.line(&format!(
                "(no answer and no ICMP error to {}-byte packets; {}/{} probes of {} bytes answered)",
                p.large_bytes, p.answered, p.sent, p.small_bytes
            ));
        }
    }
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
    // iputils: no reply at all, or fewer replies than asked before a deadline.
    let short_of_count =
        plan.deadline.is_some() && plan.count.is_some_and(|c| report.stats.received < c);
    let failed = report.stats.received == 0
        || short_of_count
        || plan.max_loss.is_some_and(|m| report.stats.loss_pct > m);
    report.exit = if failed {
        Exit::TargetFailed
    } else {
        Exit::Healthy
    };
    Ok(report)
}

/// Small probes sent to tell a PMTU black hole from a silent host.
const SMALL_PROBES: u64 = 3;
/// The most they wait for their answers.
const SMALL_WAIT: Duration = Duration::from_secs(2);

/// When every probe bigger than the smallest common MTU vanished without
/// any ICMP, sends a few default-size probes to the same target: the
/// diagnosis needs to know whether small packets get through.
async fn blackhole_check(
    engine: &std::sync::Arc<Engine>,
    target: IpAddr,
    plan: &Plan,
    stats: &PingStats,
) -> Option<SmallProbes> {
    let header = if target.is_ipv6() { 40 } else { 20 };
    let large_bytes = plan.payload + 8 + header;
    let all_silent = stats.transmitted > 0 && stats.received == 0 && stats.errors == 0;
    if !all_silent || large_bytes <= MIN_COMMON_MTU {
        return None;
    }
    let small = DEFAULT_PAYLOAD;
    let tasks: Vec<_> = (0..SMALL_PROBES)
        .map(|_| {
            let engine = engine.clone();
            let probe = Probe {
                target,
                ttl: plan.ttl,
                kind: ProbeKind::Echo { payload: small },
                timeout: plan.wait.min(SMALL_WAIT),
            };
            tokio::spawn(async move { engine.probe(probe).await })
        })
        .collect();
    let mut answered = 0;
    for task in tasks {
        if let Ok(Ok(Outcome {
            response: Response::Reply { .. },
            ..
        })) = task.await
        {
            answered += 1;
        }
    }
    Some(SmallProbes {
        large_bytes,
        small_bytes: small + 8 + header,
        sent: SMALL_PROBES,
        answered,
    })
}

/// The route's MTU when the local stack refused a probe as too long
/// (EMSGSIZE under `-M do`): the figure iputils prints with it.
/// Returns it with this host's source address toward the target, which
/// stands as the reporter in the diagnosis.
fn local_mtu(engine: &Engine, outcome: &Outcome) -> Option<(IpAddr, u32)> {
    match outcome.response {
        Response::LocalError { errno } if errno == libc::EMSGSIZE => {
            let target = outcome.probe.target;
            let mtu = engine.route_mtu(target)?;
            Some((engine.source_for(target).unwrap_or(target), mtu))
        }
        _ => None,
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Files one outcome: prints its line, streams its event, keeps what the
/// diagnosis needs, and keeps every record only for `--json` and for a
/// silent sink, whose caller reads the report (so a ping without `-c`
/// printed to a terminal runs in constant memory).
#[allow(clippy::too_many_arguments)]
fn record(
    outcome: &Outcome,
    local_mtu: Option<(IpAddr, u32)>,
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
        Response::TimeExceeded { from, .. } | Response::Unreachable { from, .. } => {
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
            let text = match local_mtu {
                Some((_, m)) => format!("local error: message too long, mtu={m}"),
                None => std::io::Error::from_raw_os_error(*errno).to_string(),
            };
            report.stats.errors += 1;
            if !plan.quiet {
                if local_mtu.is_some() {
                    // iputils' words for a size over the known path MTU.
                    sink.line(&format!("ping: {text}"));
                } else {
                    sink.line(&format!("ping: sendmsg: {text} (icmp_seq={seq})"));
                }
            }
            if evidence.first_too_big.is_none() {
                evidence.first_too_big = local_mtu;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::Severity;
    use crate::output::finish;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    /// A writer the test can read back.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::ErrorKind::Other)?
                .extend_from_slice(data);
            Ok(data.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn printed(mode: Mode, report: &PingReport) -> (String, Exit) {
        let buffer = Buffer::default();
        let sink = Sink::to_writer(mode, false, false, Box::new(buffer.clone()));
        let exit = finish(&sink, report);
        let text = buffer.0.lock().map(|b| b.clone()).unwrap_or_default();
        (String::from_utf8_lossy(&text).into_owned(), exit)
    }

    fn report() -> PingReport {
        PingReport {
            host: "example".into(),
            address: IpAddr::from([198, 18, 0, 1]),
            socket: SocketMode::Raw,
            payload_bytes: 56,
            replies: Vec::new(),
            errors: Vec::new(),
            stats: PingStats {
                transmitted: 4,
                received: 3,
                duplicates: 1,
                errors: 0,
                loss_pct: 25.0,
                time_ms: 3004,
                rtt: None,
            },
            inference: Some(ttl::infer(62)),
            pmtu_check: None,
            diagnosis: vec![Diagnosis::new("ping.lossy", Severity::Warning, "lossy")],
            exit: Exit::Healthy,
        }
    }

    #[test]
    fn the_statistics_block_and_diagnoses_close_a_human_run() {
        let (text, exit) = printed(Mode::Human, &report());
        assert_eq!(exit, Exit::Healthy);
        assert_eq!(
            text,
            "\n--- example ping statistics ---\n\
             4 packets transmitted, 3 received, +1 duplicates, 25% packet loss, time 3004ms\n\
             hops: reply TTL 62 → initial TTL 64 → 2 router(s) between: hop 3 as trace counts; OS guess: Linux, BSD, macOS or another Unix-like system\n\
             diagnosis [warning] ping.lossy: lossy\n"
        );
    }

    #[test]
    fn json_prints_the_report_without_its_exit_and_jsonl_the_summary() {
        let (text, _) = printed(Mode::Json, &report());
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(doc["stats"]["received"], 3);
        assert!(doc.get("exit").is_none(), "{text}");
        let (line, _) = printed(Mode::Jsonl, &report());
        let event: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        assert_eq!(event["event"], "summary");
        assert_eq!(event["diagnosis"][0]["code"], "ping.lossy");
    }

    #[test]
    fn a_silent_sink_prints_nothing() {
        let sink = Sink::silent();
        assert_eq!(finish(&sink, &report()), Exit::Healthy);
    }
}
