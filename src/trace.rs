//! `netdx trace`: every TTL in flight at once (bounded by `-N`) on the probe
//! core, printed hop by hop in order the way traceroute prints it, then a
//! diagnosis of where the path ends.

use crate::cli::{GlobalOpts, TableFormat, TraceArgs};
use crate::diagnose::path::{self, HopFact, ProbeFact};
use crate::diagnose::Diagnosis;
use crate::error::{AppError, AppResult, Exit};
use crate::hops::{self, HopAnswer, Method, Names, PathPlan};
use crate::output::{Report, Sink};
use crate::probe::packet::MplsLabel;
use crate::probe::pmtu::{self, MtuDrop, PathMtu};
use crate::probe::{Engine, Outcome, SocketMode};

use serde::Serialize;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// traceroute's default wait for an answer.
const DEFAULT_WAIT: f64 = 5.0;
/// traceroute's NEAR factor: after the end of the path answered in `r`,
/// the probes still out before it wait `NEAR × r` more, not the whole wait.
const NEAR: u32 = 10;
/// The least that NEAR wait may be, for an end that answers in microseconds.
const NEAR_FLOOR: Duration = Duration::from_millis(5);
/// How long a hop line waits for its reverse names before printing anyway.
const NAME_WAIT: Duration = Duration::from_millis(1500);

/// One probe's result as reported.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ProbeRecord {
    /// Who answered, if anyone.
    pub from: Option<IpAddr>,
    /// Reverse name of `from`, when looked up and found.
    pub name: Option<String>,
    /// Round trip in milliseconds.
    pub rtt_ms: Option<f64>,
    /// What the answer means for the hop.
    pub answer: HopAnswer,
    /// The Paris flow the probe belonged to (0 unless `--flows`).
    pub flow: u16,
    /// TTL the answer arrived with, when known.
    pub reply_ttl: Option<u8>,
    /// Hops the answer travelled back (initial TTL − reply TTL + 1), as
    /// `traceroute --back`; differs from the hop's TTL on an asymmetric path.
    pub back_hops: Option<u16>,
    /// MPLS label stack the router quoted (RFC 4950), top first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mpls: Vec<MplsLabel>,
    /// With `--asn`: the origin AS of `from`, when the lookup found one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    /// With `--asn`: the name of that AS (`AS<n>` TXT), when found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_name: Option<String>,
    /// With `--geoip`: the country (ISO 3166 code) of `from`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// One hop: all its probes in sending order.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct HopRecord {
    /// TTL of the probes.
    pub ttl: u8,
    /// The probes' results.
    pub probes: Vec<ProbeRecord>,
    /// With `--mtu`: the path MTU up to this hop (`F=` where it changes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
}

impl HopRecord {
    /// The hop as the path rules read it (names and presentation dropped).
    pub fn fact(&self) -> HopFact {
        HopFact {
            ttl: self.ttl,
            probes: self
                .probes
                .iter()
                .map(|p| ProbeFact {
                    from: p.from,
                    rtt_ms: p.rtt_ms,
                    answer: p.answer.clone(),
                })
                .collect(),
        }
    }
}

/// One hop where the flows met different routers.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct BranchHop {
    /// TTL of the hop.
    pub ttl: u8,
    /// Each address seen at this TTL, with the flows that saw it.
    pub addresses: Vec<BranchAddress>,
}

/// One router at a hop and the flows whose probes it answered.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct BranchAddress {
    /// The router's address.
    pub address: IpAddr,
    /// The flows that met it, ascending.
    pub flows: Vec<u16>,
}

/// The result of one `netdx trace`: the hops in TTL order, whether the
/// target answered, and the diagnosis of where the path ends. `--json`
/// prints it whole; the hop lines were streamed while it ran.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TraceReport {
    /// The host as given on the command line.
    pub host: String,
    /// The address traced to.
    pub address: IpAddr,
    /// Probe method.
    pub method: Method,
    /// Destination port (UDP: the first one), None for ICMP.
    pub port: Option<u16>,
    /// Raw or unprivileged sockets.
    pub socket: SocketMode,
    /// First TTL probed.
    pub first_ttl: u8,
    /// Last TTL that could be probed.
    pub max_ttl: u8,
    /// Probes per hop.
    pub queries: u32,
    /// The local address the probes left from, when known.
    pub source: Option<IpAddr>,
    /// The hops, in TTL order.
    pub hops: Vec<HopRecord>,
    /// Paris flows traced side by side (`--flows`; 1 by default).
    pub flows: u16,
    /// Per hop where the flows disagree, each address and the flows that
    /// met it: the branches of a load-balanced path (empty with one flow).
    pub branches: Vec<BranchHop>,
    /// Whether the target itself answered.
    pub reached: bool,
    /// Whether Ctrl-C stopped the trace before its end.
    pub interrupted: bool,
    /// When the probing started (RFC 3339, UTC).
    pub started_at: String,
    /// When it ended (RFC 3339, UTC).
    pub ended_at: String,
    /// Wall time of the trace.
    pub duration_ms: u128,
    /// With `--mtu`: where the path MTU starts, drops and ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_mtu: Option<PathMtu>,
    /// The packet length asked for (whole IP packet), when one was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packet_len: Option<u16>,
    /// Whether the probes had DF set (`-F`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dont_fragment: bool,
    /// What the trace means.
    pub diagnosis: Vec<Diagnosis>,
    /// False when this host had no route and nothing was probed: then no
    /// header or hop line was printed, and the closing blank line is not.
    #[serde(skip)]
    probed: bool,
    /// `--format`: the hops as one table at the end instead of live lines.
    #[serde(skip)]
    format: Option<TableFormat>,
    /// The lookups made, for the `--format` columns.
    #[serde(skip)]
    lookups: hops::Lookups,
}

impl Report for TraceReport {
    fn diagnoses(&self) -> Vec<Diagnosis> {
        self.diagnosis.clone()
    }

    fn exit(&self) -> Exit {
        if self.reached {
            Exit::Healthy
        } else {
            Exit::TargetFailed
        }
    }

    fn render_human(&self, sink: &Sink) {
        match self.format {
            Some(format) => hops::print_table(
                sink,
                format,
                &self.lookups.header(&TABLE_HEADER),
                &table_rows(&self.hops, self.lookups),
                &self.diagnosis,
            ),
            None if self.probed => sink.line(""),
            None => {}
        }
    }

    fn diagnoses_streamed(&self) -> bool {
        self.format.is_some()
    }

    fn summary_event(&self) -> Option<serde_json::Value> {
        Some(
            serde_json::json!({"reached": self.reached, "interrupted": self.interrupted,
            "duration_ms": self.duration_ms, "path_mtu": self.path_mtu, "diagnosis": self.diagnosis}),
        )
    }
}

/// How the probes' DF bit is set: `-F` sets it and ignores a path MTU the
/// kernel learnt (every router of a smaller link answers, as traceroute
/// -F shows `!F`); a packet length alone lets them be fragmented, as
/// traceroute does; otherwise the socket's default.
fn fragmenting(args: &TraceArgs) -> Option<crate::probe::PmtuDisc> {
    use crate::probe::PmtuDisc;
    if args.dont_fragment {
        Some(PmtuDisc::Probe)
    } else {
        args.packetlen.map(|_| PmtuDisc::Dont)
    }
}

/// Traces the path to `args.path.host`: prints each hop line (and streams
/// each `hop` event) as soon as it and the hops before it are complete, and
/// returns the whole result. Nothing is probed when this host has no route;
/// the report then carries that one diagnosis.
pub async fn trace(args: &TraceArgs, global: &GlobalOpts, sink: &Sink) -> AppResult<TraceReport> {
    let plan = PathPlan::new(&args.path, global, DEFAULT_WAIT)?.with_size(args.packetlen)?;
    let geo = hops::geoip(&args.path)?;
    if !(1..=10).contains(&args.queries) {
        return Err(AppError::usage(format!(
            "-q {}: probes per hop must be between 1 and 10",
            args.queries
        )));
    }
    hops::check_flows(args.flows, plan.method)?;
    if !(1..=1024).contains(&args.sim_queries) {
        return Err(AppError::usage(format!(
            "-N {}: probes in flight must be between 1 and 1024",
            args.sim_queries
        )));
    }
    let hops::PathSetup {
        target,
        route,
        engine,
        mode,
    } = hops::prepare_path(
        &args.path.host,
        args.source.as_deref().map(|s| ("-s", s)),
        args.interface.as_deref().map(|i| ("-i", i)),
        global,
        &plan.kind(),
        fragmenting(args),
    )
    .await?;
    plan.check_size(target)?;
    hops::check_flow_sockets(args.flows, mode)?;
    let port = (plan.method != Method::Icmp).then_some(plan.port);
    let mut report = TraceReport {
        host: hops::shown_host(&args.path.host).to_string(),
        address: target,
        method: plan.method,
        port,
        socket: mode,
        first_ttl: plan.first,
        max_ttl: plan.max,
        queries: args.queries,
        source: None,
        hops: Vec::new(),
        flows: args.flows as u16,
        branches: Vec::new(),
        reached: false,
        interrupted: false,
        started_at: hops::utc_stamp(std::time::SystemTime::now()),
        ended_at: hops::utc_stamp(std::time::SystemTime::now()),
        duration_ms: 0,
        path_mtu: None,
        packet_len: plan.size,
        dont_fragment: args.dont_fragment,
        diagnosis: Vec::new(),
        probed: false,
        format: args.path.format.filter(|_| sink.human()),
        lookups: hops::Lookups::of(&args.path),
    };
    if let Some(errno) = route {
        // No route (or a reject route): every TTL would fail the same way
        // on this host; say so once instead of probing 30 hops.
        report.diagnosis = vec![path::local_end("trace", errno, target)];
        return Ok(report);
    }
    // With --format the live lines are not printed: the table is the output.
    let live_sink = if report.format.is_some() {
        Sink::silent()
    } else {
        sink.clone()
    };
    let sink = &live_sink;
    sink.line(&format!(
        "trace to {} ({target}), {} hops max, {}{} probes{}, {} per hop",
        crate::resolve::idn::both_forms(hops::shown_host(&args.path.host)),
        plan.max,
        plan.size
            .map(|s| format!("{s} byte{} ", if args.dont_fragment { " DF" } else { "" }))
            .unwrap_or_default(),
        plan.method.word(),
        port.map(|p| format!(" to port {p}")).unwrap_or_default(),
        args.queries
    ));
    sink.event(
        "start",
        &serde_json::json!({"host": hops::shown_host(&args.path.host), "address": target, "method": plan.method,
            "port": port, "socket": mode, "first_ttl": plan.first, "max_ttl": plan.max}),
    );
    let started = Instant::now();
    let path_mtu = if args.mtu {
        Some(pmtu::discover(&engine, target, None, plan.wait).await?)
    } else {
        None
    };
    let names = Names::new(plan.names)
        .with_asns(hops::asns(&args.path)?)
        .with_geo(geo);
    let (hop_tx, hop_rx) = mpsc::unbounded_channel::<HopRecord>();
    let marks = path_mtu.as_ref().map(MtuMarks::new);
    let printer = tokio::spawn(print_hops(hop_rx, names.clone(), sink.clone(), marks));
    // The other flows run beside the printed one (flow 0), unprinted.
    let mut others = JoinSet::new();
    for flow in 1..args.flows as u16 {
        let (engine, mut plan) = (engine.clone(), plan.clone());
        plan.flow = flow;
        let (queries, in_flight) = (args.queries, args.sim_queries);
        others.spawn(async move {
            let (tx, mut rx) = mpsc::unbounded_channel::<HopRecord>();
            let quiet = Names::new(false);
            let run = schedule(&engine, &plan, target, queries, in_flight, &quiet, tx);
            let (result, hops) = tokio::join!(run, async {
                let mut hops = Vec::new();
                while let Some(h) = rx.recv().await {
                    hops.push(h);
                }
                hops
            });
            (flow, result, hops)
        });
    }
    let result = schedule(
        &engine,
        &plan,
        target,
        args.queries,
        args.sim_queries,
        &names,
        hop_tx,
    )
    .await;
    let hops = printer.await.unwrap_or_default();
    let interrupted = result?;
    let mut flow_paths = vec![(0u16, hops.clone())];
    while let Some(joined) = others.join_next().await {
        if let Ok((flow, result, flow_hops)) = joined {
            result?;
            flow_paths.push((flow, flow_hops));
        }
    }
    flow_paths.sort_by_key(|(f, _)| *f);
    let branches = branches(&flow_paths);
    if args.flows > 1 {
        print_branches(sink, args.flows, &branches, &names);
    }
    let reached = hops.last().is_some_and(|h| {
        h.probes
            .iter()
            .any(|p| matches!(p.answer, HopAnswer::Destination { .. }))
    });
    let facts: Vec<HopFact> = hops.iter().map(HopRecord::fact).collect();
    report.diagnosis = if interrupted && !reached {
        path::trace_interrupted(&facts, target)
    } else {
        path::trace(&facts, target, plan.max)
    };
    let split: Vec<(u8, Vec<IpAddr>)> = branches
        .iter()
        .map(|b| (b.ttl, b.addresses.iter().map(|a| a.address).collect()))
        .collect();
    let agreed: Vec<(u8, IpAddr)> = flow_paths
        .first()
        .map(|(_, hops)| {
            hops.iter()
                .filter(|h| !branches.iter().any(|b| b.ttl == h.ttl))
                .filter_map(|h| h.probes.iter().find_map(|p| p.from).map(|a| (h.ttl, a)))
                .collect()
        })
        .unwrap_or_default();
    report
        .diagnosis
        .extend(path::ecmp(&split, &agreed, args.flows as u16));
    let backs: Vec<(u8, IpAddr, u16)> = hops
        .iter()
        .filter_map(|h| {
            h.probes
                .iter()
                .find_map(|p| Some((h.ttl, p.from?, p.back_hops?)))
        })
        .collect();
    report.diagnosis.extend(path::asymmetric(&backs));
    if let Some(found) = &path_mtu {
        report.diagnosis.push(mtu_diagnosis(found, &hops, target));
    }
    report.path_mtu = path_mtu;
    report.branches = branches;
    report.source = engine.source_for(target);
    report.hops = hops;
    report.reached = reached;
    report.interrupted = interrupted;
    report.duration_ms = started.elapsed().as_millis();
    report.ended_at = hops::utc_stamp(std::time::SystemTime::now());
    report.probed = true;
    Ok(report)
}

/// Runs `netdx trace`: the trace, then its end in the sink's shape.
pub async fn run(args: &TraceArgs, global: &GlobalOpts, sink: &Sink) -> AppResult<Exit> {
    let report = trace(args, global, sink).await?;
    Ok(crate::output::finish(sink, &report))
}

/// Sends all TTLs at once (at most `in_flight` probes out), stops sending
/// past the first hop that ends the path, and hands each hop to the
/// printer as soon as it and every hop before it are complete. True when
/// Ctrl-C stopped it before the end.
async fn schedule(
    engine: &std::sync::Arc<Engine>,
    plan: &PathPlan,
    target: IpAddr,
    queries: u32,
    in_flight: u32,
    names: &Names,
    hop_tx: mpsc::UnboundedSender<HopRecord>,
) -> AppResult<bool> {
    let q = queries as usize;
    let mut queue = (plan.first..=plan.max).flat_map(|ttl| (0..q).map(move |i| (ttl, i)));
    let mut results: BTreeMap<u8, Vec<Option<ProbeRecord>>> = BTreeMap::new();
    let mut last_ttl = plan.max;
    let mut next_print = plan.first;
    let mut tasks: JoinSet<(u8, usize, AppResult<Outcome>)> = JoinSet::new();
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut exhausted = false;
    let mut interrupted = false;
    let mut cutoff: Option<tokio::time::Instant> = None;
    loop {
        while !exhausted && tasks.len() < in_flight as usize {
            match queue.next() {
                Some((ttl, i)) if ttl <= last_ttl => {
                    let probe = plan.probe(target, ttl);
                    let engine = engine.clone();
                    tasks.spawn(async move { (ttl, i, engine.probe(probe).await) });
                }
                _ => exhausted = true,
            }
        }
        if next_print > last_ttl || tasks.is_empty() {
            break;
        }
        let far = tokio::time::Instant::now() + Duration::from_secs(86400);
        let joined = tokio::select! {
            j = tasks.join_next() => Some(j),
            _ = tokio::time::sleep_until(cutoff.unwrap_or(far)), if cutoff.is_some() => None,
            _ = &mut ctrl_c => {
                flush_partial(&mut results, next_print, last_ttl, q, &hop_tx);
                interrupted = true;
                break;
            }
        };
        match joined {
            // The NEAR wait ran out: what is still out before the end is silent.
            None => {
                cutoff = None;
                for ttl in next_print..=last_ttl {
                    for slot in results.entry(ttl).or_insert_with(|| vec![None; q]) {
                        slot.get_or_insert_with(|| silent_probe(plan.flow));
                    }
                }
            }
            Some(None) => break,
            Some(Some(Err(_))) => continue,
            Some(Some(Ok((ttl, i, outcome)))) => {
                let outcome = outcome?;
                let answer = hops::classify(&outcome);
                if let Some(from) = answer.from() {
                    names.want(from);
                }
                if answer.ends_path() && ttl < last_ttl {
                    last_ttl = ttl;
                }
                if answer.ends_path() && plan.near && cutoff.is_none() {
                    let rtt = outcome.rtt.unwrap_or_default();
                    cutoff = Some(tokio::time::Instant::now() + (rtt * NEAR).max(NEAR_FLOOR));
                }
                let slot = results.entry(ttl).or_insert_with(|| vec![None; q]);
                if let Some(s) = slot.get_mut(i) {
                    // A late answer after the NEAR wait keeps its silent record.
                    s.get_or_insert(ProbeRecord {
                        from: answer.from(),
                        name: None,
                        rtt_ms: outcome.rtt.map(|d| d.as_secs_f64() * 1000.0),
                        answer,
                        flow: plan.flow,
                        reply_ttl: hops::reply_ttl(&outcome),
                        back_hops: hops::reply_ttl(&outcome).map(hops::back_hops),
                        mpls: hops::mpls(&outcome),
                        asn: None,
                        as_name: None,
                        country: None,
                    });
                }
            }
        }
        while next_print <= last_ttl {
            let complete = results
                .get(&next_print)
                .is_some_and(|s| s.iter().all(Option::is_some));
            if !complete {
                break;
            }
            let probes = results
                .remove(&next_print)
                .unwrap_or_default()
                .into_iter()
                .flatten()
                .collect();
            let _ = hop_tx.send(HopRecord {
                ttl: next_print,
                probes,
                mtu: None,
            });
            if next_print == u8::MAX {
                break;
            }
            next_print += 1;
        }
    }
    tasks.abort_all();
    Ok(interrupted)
}

/// Per TTL, the addresses each flow's probes met; only the TTLs where the
/// flows met more than one router (the branches of a balanced path).
fn branches(flow_paths: &[(u16, Vec<HopRecord>)]) -> Vec<BranchHop> {
    let mut by_ttl: BTreeMap<u8, BTreeMap<IpAddr, Vec<u16>>> = BTreeMap::new();
    for (flow, hops) in flow_paths {
        for hop in hops {
            for from in hop.probes.iter().filter_map(|p| p.from) {
                let flows = by_ttl.entry(hop.ttl).or_default().entry(from).or_default();
                if !flows.contains(flow) {
                    flows.push(*flow);
                }
            }
        }
    }
    by_ttl
        .into_iter()
        .filter(|(_, addrs)| addrs.len() > 1)
        .map(|(ttl, addrs)| BranchHop {
            ttl,
            addresses: addrs
                .into_iter()
                .map(|(address, mut flows)| {
                    flows.sort_unstable();
                    BranchAddress { address, flows }
                })
                .collect(),
        })
        .collect()
}

/// The branches after the hop lines: ` 2  198.18.1.2 (flows 0 2)  198.18.20.2 (flows 1 3)`.
fn print_branches(sink: &Sink, flows: u32, branches: &[BranchHop], names: &Names) {
    if branches.is_empty() {
        sink.line(&format!("{flows} flows: every flow took the same path"));
        return;
    }
    sink.line(&format!(
        "{flows} flows: hops where the flows took different branches"
    ));
    for b in branches {
        let mut line = format!("{:2} ", b.ttl);
        for a in &b.addresses {
            let list: Vec<String> = a.flows.iter().map(u16::to_string).collect();
            line.push_str(&format!(
                "  {} (flows {})",
                names.label(a.address),
                list.join(" ")
            ));
        }
        sink.line(&line);
    }
}

/// The columns of `--format csv|markdown`: one row per probe.
const TABLE_HEADER: [&str; 8] = [
    "hop", "probe", "address", "name", "asn", "rtt_ms", "answer", "mpls",
];

/// One row per probe, in hop and sending order.
fn table_rows(hops: &[HopRecord], lookups: hops::Lookups) -> Vec<Vec<String>> {
    let opt = |v: Option<String>| v.unwrap_or_default();
    hops.iter()
        .flat_map(|hop| {
            hop.probes.iter().enumerate().map(move |(i, p)| {
                let kind = serde_json::to_value(&p.answer)
                    .ok()
                    .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(String::from))
                    .unwrap_or_default();
                let answer = match p.answer.mark() {
                    Some(mark) => format!("{kind} {mark}"),
                    None => kind,
                };
                let mpls: Vec<String> = p.mpls.iter().map(|l| l.to_string()).collect();
                let row = vec![
                    hop.ttl.to_string(),
                    (i + 1).to_string(),
                    opt(p.from.map(|a| a.to_string())),
                    opt(p.name.clone()),
                    opt(p.asn.map(|a| format!("AS{a}"))),
                    opt(p.rtt_ms.map(|r| format!("{r:.3}"))),
                    answer,
                    mpls.join(" "),
                ];
                lookups.cells(row, 4, p.as_name.as_deref(), p.country.as_deref())
            })
        })
        .collect()
}

/// The record of a probe that got no answer in time.
fn silent_probe(flow: u16) -> ProbeRecord {
    ProbeRecord {
        from: None,
        name: None,
        rtt_ms: None,
        answer: HopAnswer::Silent,
        flow,
        reply_ttl: None,
        back_hops: None,
        mpls: Vec::new(),
        asn: None,
        as_name: None,
        country: None,
    }
}

/// On Ctrl-C: hands over the hops that have some answers, in order, with
/// the probes still out shown as silent, as traceroute does when stopped.
fn flush_partial(
    results: &mut BTreeMap<u8, Vec<Option<ProbeRecord>>>,
    from: u8,
    last_ttl: u8,
    queries: usize,
    hop_tx: &mpsc::UnboundedSender<HopRecord>,
) {
    let hops: Vec<u8> = results
        .keys()
        .copied()
        .filter(|t| (from..=last_ttl).contains(t))
        .collect();
    let Some(end) = hops.last().copied() else {
        return;
    };
    for ttl in from..=end {
        // A hop whose probes are all still out is shown silent (`* * *`),
        // as traceroute shows it, not as an empty line.
        let probes = results
            .remove(&ttl)
            .unwrap_or_else(|| vec![None; queries])
            .into_iter()
            .map(|p| {
                p.unwrap_or(ProbeRecord {
                    from: None,
                    name: None,
                    rtt_ms: None,
                    answer: HopAnswer::Silent,
                    flow: 0,
                    reply_ttl: None,
                    back_hops: None,
                    mpls: Vec::new(),
                    asn: None,
                    as_name: None,
                    country: None,
                })
            })
            .collect();
        let _ = hop_tx.send(HopRecord {
            ttl,
            probes,
            mtu: None,
        });
    }
}

/// Prints hops in order, each after its names are in (or a short wait).
async fn print_hops(
    mut rx: mpsc::UnboundedReceiver<HopRecord>,
    names: Names,
    sink: Sink,
    mut marks: Option<MtuMarks>,
) -> Vec<HopRecord> {
    let mut done = Vec::new();
    // Silent hops wait here until a later hop answers (then each gets its
    // line) or the trace ends (then they are the silent tail: one row).
    let mut silent: Vec<HopRecord> = Vec::new();
    while let Some(mut hop) = rx.recv().await {
        if is_silent(&hop) {
            silent.push(hop);
            continue;
        }
        for h in silent.drain(..) {
            emit(h, &names, &sink, &mut done, &mut marks);
        }
        let addrs: Vec<IpAddr> = hop.probes.iter().filter_map(|p| p.from).collect();
        names.settle(&addrs, NAME_WAIT).await;
        for p in &mut hop.probes {
            p.name = p.from.and_then(|a| names.get(a));
            p.asn = p.from.and_then(|a| names.asn(a));
            p.as_name = p.from.and_then(|a| names.as_name(a));
            p.country = p.from.and_then(|a| names.country(a));
        }
        emit(hop, &names, &sink, &mut done, &mut marks);
    }
    match (silent.first(), silent.last()) {
        (Some(first), Some(last)) if silent.len() > 1 => {
            sink.line(&tail_line(first.ttl, last.ttl, first.probes.len()));
            for h in silent {
                sink.event("hop", &h);
                done.push(h);
            }
        }
        _ => {
            for h in silent {
                emit(h, &names, &sink, &mut done, &mut marks);
            }
        }
    }
    done
}

/// True when no probe of the hop got any answer.
fn is_silent(hop: &HopRecord) -> bool {
    !hop.probes.is_empty() && hop.probes.iter().all(|p| p.answer == HopAnswer::Silent)
}

/// Prints a hop's line, streams its event and keeps it.
fn emit(
    mut hop: HopRecord,
    names: &Names,
    sink: &Sink,
    done: &mut Vec<HopRecord>,
    marks: &mut Option<MtuMarks>,
) {
    let shown = marks.as_mut().and_then(|m| m.apply(&mut hop));
    let line = hop_line(&hop, names);
    match shown {
        Some(mtu) => sink.line(&with_mtu_mark(&line, mtu)),
        None => sink.line(&line),
    }
    sink.event("hop", &hop);
    done.push(hop);
}

/// The per-hop MTU while hops are printed in TTL order: the route's MTU
/// from the first hop on, each drop from the hop after the router that
/// reported it (as `traceroute --mtu` shows `F=`).
pub struct MtuMarks {
    current: u32,
    shown: Option<u32>,
    drops: Vec<MtuDrop>,
}

impl MtuMarks {
    /// Marks from a discovery; drops the local stack already knew apply at once.
    pub fn new(found: &PathMtu) -> MtuMarks {
        let mut current = found.first;
        for d in found.drops.iter().filter(|d| d.reported_by.is_none()) {
            current = d.mtu;
        }
        MtuMarks {
            current,
            shown: None,
            drops: found
                .drops
                .iter()
                .filter(|d| d.reported_by.is_some())
                .copied()
                .collect(),
        }
    }

    /// Sets the hop's MTU; returns it when the line should show `F=`.
    fn apply(&mut self, hop: &mut HopRecord) -> Option<u32> {
        hop.mtu = Some(self.current);
        let answered = hop.probes.iter().any(|p| p.from.is_some());
        let show = (answered && self.shown != Some(self.current)).then_some(self.current);
        if show.is_some() {
            self.shown = show;
        }
        for p in &hop.probes {
            if let Some(pos) = self.drops.iter().position(|d| d.reported_by == p.from) {
                self.current = self.drops.remove(pos).mtu;
            }
        }
        show
    }
}

/// ` 2  198.18.1.2  0.017 ms F=1280  0.007 ms`: the mark after the first time.
fn with_mtu_mark(line: &str, mtu: u32) -> String {
    match line.find(" ms") {
        Some(at) => format!("{} F={mtu}{}", &line[..at + 3], &line[at + 3..]),
        None => format!("{line} F={mtu}"),
    }
}

/// The `path.mtu` finding, naming the first hop past the smaller link.
fn mtu_diagnosis(found: &PathMtu, hops: &[HopRecord], target: IpAddr) -> Diagnosis {
    let changes: Vec<(u8, u32, Option<IpAddr>)> = hops
        .windows(2)
        .filter_map(|w| {
            let (before, after) = (w[0].mtu?, w[1].mtu?);
            (after < before).then(|| (w[1].ttl, after, w[0].probes.iter().find_map(|p| p.from)))
        })
        .collect();
    path::mtu(found.first, found.mtu, changes.last().copied(), target)
}

/// The one row standing for the silent hops `first..=last` at the end of a
/// trace: ` 6-30  * * *  (no answer from 25 hops)`, as trippy folds them.
pub fn tail_line(first: u8, last: u8, queries: usize) -> String {
    let stars = vec!["*"; queries.max(1)].join(" ");
    let count = usize::from(last) - usize::from(first) + 1;
    format!(
        "{:>2}-{last}  {stars}  (no answer from {count} hops)",
        first
    )
}

/// One traceroute line: ` 3  name (addr)  0.123 ms !X  *  0.101 ms`.
pub fn hop_line(hop: &HopRecord, names: &Names) -> String {
    let mut line = format!("{:2} ", hop.ttl);
    let mut shown: Option<IpAddr> = None;
    for p in &hop.probes {
        match (p.from, p.rtt_ms) {
            (Some(from), Some(rtt)) => {
                if shown != Some(from) {
                    line.push_str(&format!(" {}", names.label(from)));
                    // traceroute -A / mtr -z: the origin AS.
                    match (p.asn, &p.as_name) {
                        (Some(asn), Some(name)) => line.push_str(&format!(" [AS{asn} {name}]")),
                        (Some(asn), None) => line.push_str(&format!(" [AS{asn}]")),
                        _ => {}
                    }
                    if let Some(cc) = &p.country {
                        line.push_str(&format!(" [{cc}]"));
                    }
                    // traceroute --back: the way back is N hops, not TTL.
                    if let Some(back) = p.back_hops.filter(|b| *b != u16::from(hop.ttl)) {
                        line.push_str(&format!(" '-{back}'"));
                    }
                    // traceroute -e / mtr -e: the label stack per hop.
                    for label in &p.mpls {
                        line.push_str(&format!(" {label}"));
                    }
                    shown = Some(from);
                }
                line.push_str(&format!("  {rtt:.3} ms"));
                if let Some(mark) = p.answer.mark() {
                    line.push_str(&format!(" {mark}"));
                }
            }
            _ => match &p.answer {
                HopAnswer::LocalError { errno } => {
                    line.push_str(&format!(" !<{}>", path::errno_name(*errno)));
                }
                _ => line.push_str(" *"),
            },
        }
    }
    line
}
