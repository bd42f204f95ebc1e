//! `netdx tcp`: real kernel connect() probes to many targets at once, each
//! failure kept as its errno and explained from the errno/ICMP tables.
//! Parsing, reporting and rendering live in the submodules; this file plans,
//! resolves and schedules the probes within the descriptor budget.

mod hold;
mod limits;
mod render;
pub mod report;
pub mod rst;
mod rtt;
mod target;
mod window;

use crate::cli::{Expect, GlobalOpts, TcpArgs};
use crate::diagnose::tcp::Folded;
use crate::error::{AppError, AppResult, Exit};
use crate::output::{progress, Sink};
use crate::probe::connect;
use crate::resolve::{self, Family};
pub use hold::HoldResult;
use render::SCREENFUL;
pub use report::TcpReport;
use report::{Endpoint, State, TargetResult, Totals};
use serde::Serialize;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// Default wait for a connect, as in the issue: long enough for any sane
/// RTT, short enough that filtered ports do not stall a scan.
const DEFAULT_WAIT: f64 = 2.0;
/// Longest wait for a banner after connecting.
const BANNER_WAIT: Duration = Duration::from_secs(1);

/// Validated settings shared by every probe task.
#[derive(Debug, Clone, Copy)]
struct Plan {
    count: u64,
    interval: Duration,
    wait: Duration,
    banner: Option<Duration>,
    parallel: usize,
    /// True when `--parallel` fixed the window; else it adapts.
    fixed: bool,
    /// True when neither `-W` nor `--timeout` set the wait: a silent
    /// port's wait then follows the host's round trips ([`rtt`]).
    adaptive_wait: bool,
}

/// Checks the flags before anything is sent.
fn plan(args: &TcpArgs, global: &GlobalOpts) -> AppResult<Plan> {
    if args.count == 0 || args.count > 1_000_000 {
        return Err(AppError::usage(format!(
            "-c {}: the count must be between 1 and 1000000",
            args.count
        )));
    }
    if !(args.interval.is_finite() && (0.0..=3600.0).contains(&args.interval)) {
        return Err(AppError::usage(format!(
            "-i {}: the interval must be from 0 to 3600 seconds",
            args.interval
        )));
    }
    let wait = args.wait.or(global.timeout).unwrap_or(DEFAULT_WAIT);
    if !(wait.is_finite() && wait > 0.0 && wait <= 3600.0) {
        return Err(AppError::usage(format!(
            "-W {wait}: the wait must be greater than 0 and at most 3600 seconds"
        )));
    }
    if args.parallel == Some(0) {
        return Err(AppError::usage(
            "--parallel 0: at least one connect must be in flight",
        ));
    }
    let wait = Duration::from_secs_f64(wait);
    Ok(Plan {
        count: args.count,
        interval: Duration::from_secs_f64(args.interval),
        wait,
        banner: args.banner.then(|| wait.min(BANNER_WAIT)),
        parallel: args.parallel.unwrap_or(window::START),
        fixed: args.parallel.is_some(),
        adaptive_wait: args.wait.is_none() && global.timeout.is_none(),
    })
}

/// One attempt as streamed with `--jsonl`.
#[derive(Serialize)]
struct AttemptEvent<'a> {
    target: &'a str,
    seq: u64,
    state: State,
    time_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure: Option<&'a report::Failure>,
    #[serde(skip_serializing_if = "Option::is_none")]
    banner: Option<&'a str>,
}

/// Most endpoints for which the RST watch socket is kept (see `rst`).
const RST_WATCH_MAX: usize = 1024;

/// Probes every target and returns what was found, streaming each attempt
/// (`-c` lines, `--jsonl` probe events) and, at the end, the per-target
/// `--jsonl` events through `sink`; the closing summary is left to
/// [`crate::output::finish`]. Called with `Sink::silent()` by `check`.
pub async fn tcp(args: &TcpArgs, global: &GlobalOpts, sink: &Sink) -> AppResult<TcpReport> {
    let plan = plan(args, global)?;
    let specs = parse_targets(args)?;
    let family = Family::from_flags(global.ipv4, global.ipv6);
    let started = Instant::now();
    let (endpoints, mut unresolved) =
        resolve_targets(&specs, family, global.timeout.map(Duration::from_secs_f64)).await?;
    if endpoints.is_empty() {
        let why = unresolved
            .first()
            .and_then(|r| r.error.clone())
            .unwrap_or_else(|| "nothing to probe".into());
        return Err(AppError::target(why));
    }
    if args.hold {
        if specs.len() != 1 || specs[0].ports.len() != 1 || args.expect != Expect::Open {
            return Err(AppError::usage(
                "--hold holds one connection: give exactly one HOST:PORT (and no --expect closed)",
            ));
        }
        // A name with several addresses: hold the first, as a client would.
        return hold::hold(args, endpoints[0].clone(), plan.wait, sink).await;
    }
    let nofile = limits::raise_nofile();
    let budget = limits::max_parallel(nofile);
    let parallel = plan.parallel.min(budget);
    let window = if plan.fixed {
        window::Window::fixed(parallel)
    } else {
        window::Window::adaptive(parallel, budget.min(window::CEILING))
    };
    let plan = Plan { parallel, ..plan };

    // Human output of a large scan counts its plain refusals instead of
    // keeping a result for each (it lists only the open targets anyway).
    let fold = sink.human() && !args.all && endpoints.len() > SCREENFUL;
    // The RST watch (opened by the binary while it held CAP_NET_RAW) sees a
    // copy of every incoming TCP segment: worth it for a few targets, not
    // for a big scan, which drops it at once.
    // `check` and `serve` keep CAP_NET_RAW and open one per run instead.
    let taken = crate::probe::rstwatch::take();
    let watch = if endpoints.len() > RST_WATCH_MAX {
        // Closed now: an open raw socket gets a copy of every segment.
        drop(taken);
        Err("RST TTL not checked: more targets than the watch is kept for")
    } else {
        taken
            .or_else(crate::probe::rstwatch::open)
            .ok_or("RST TTL not checked: needs CAP_NET_RAW (root)")
    };
    let (mut results, folded, interrupted) = probe_all(&endpoints, plan, window, sink, fold).await;
    rst::mark(&mut results, watch.as_ref().map_err(|e| *e));
    drop(watch);
    let probed = results.len() + folded.count;
    results.append(&mut unresolved);
    let summary = Totals::of(&results, &folded, started.elapsed(), interrupted);
    let facts: Vec<_> = results.iter().map(TargetResult::fact).collect();
    let diagnosis =
        crate::diagnose::tcp::diagnoses_folded(&facts, &folded, report::expectation(args.expect));
    drop(facts);
    for r in &results {
        sink.event("target", r);
    }
    let healthy = results.iter().all(|r| r.meets(args.expect))
        && (folded.count == 0 || args.expect == Expect::Closed);
    Ok(TcpReport {
        expect: match args.expect {
            Expect::Open => "open",
            Expect::Closed => "closed",
        },
        targets: results,
        summary,
        diagnosis,
        count: plan.count,
        all: args.all,
        endpoints: endpoints.len(),
        probed,
        folded: folded.count,
        hold: None,
        exit: if healthy {
            Exit::Healthy
        } else {
            Exit::TargetFailed
        },
    })
}

/// Runs `netdx tcp`: the report, its closing text in the sink's mode, and
/// (as before the report existed) the `--jsonl` diagnosis events after the
/// summary event.
pub async fn run(args: &TcpArgs, global: &GlobalOpts, sink: &Sink) -> AppResult<Exit> {
    let report = tcp(args, global, sink).await?;
    let exit = crate::output::finish(sink, &report);
    for d in &report.diagnosis {
        sink.event("diagnosis", d);
    }
    Ok(exit)
}

/// Reads targets from the arguments and `-f`, parsing each.
fn parse_targets(args: &TcpArgs) -> AppResult<Vec<target::TargetSpec>> {
    let defaults = match &args.ports {
        Some(p) => {
            Some(target::parse_ports(p).map_err(|why| AppError::usage(format!("-p {p}: {why}")))?)
        }
        None => None,
    };
    let mut texts = args.targets.clone();
    if let Some(path) = &args.file {
        texts.extend(target::read_file(path)?);
    }
    if texts.is_empty() {
        return Err(AppError::usage(
            "no targets: give host:port (host:80,443, host:8000-8100, [2001:db8::1]:443) or -f FILE",
        ));
    }
    texts
        .iter()
        .map(|t| target::parse(t, defaults.as_deref()))
        .collect()
}

/// Resolves every distinct host once, to all its addresses. Syntax errors
/// stop the run (usage); names that do not resolve become failed results.
async fn resolve_targets(
    specs: &[target::TargetSpec],
    family: Family,
    limit: Option<Duration>,
) -> AppResult<(Vec<Endpoint>, Vec<TargetResult>)> {
    let mut cache: HashMap<String, Result<Vec<std::net::IpAddr>, String>> = HashMap::new();
    for spec in specs {
        if cache.contains_key(&spec.host) {
            continue;
        }
        let found = match resolve::resolve_all_within(&spec.host, family, limit).await {
            Ok(addrs) => Ok(addrs),
            Err(e) if e.exit == Exit::Usage => return Err(e),
            Err(e) => Err(e.message),
        };
        cache.insert(spec.host.clone(), found);
    }
    let mut endpoints = Vec::new();
    let mut unresolved = Vec::new();
    // Ports are unique within a spec, so only a host given in several specs
    // (or resolving to one address twice) needs the duplicate check.
    let mut specs_of: HashMap<&str, usize> = HashMap::new();
    for spec in specs {
        *specs_of.entry(spec.host.as_str()).or_default() += 1;
    }
    let mut seen = std::collections::HashSet::new();
    let mut shared: HashMap<&str, std::sync::Arc<str>> = HashMap::new();
    for spec in specs {
        match cache.get(&spec.host) {
            Some(Ok(addrs)) => {
                let host = shared
                    .entry(spec.host.as_str())
                    .or_insert_with(|| spec.host.as_str().into())
                    .clone();
                let check =
                    specs_of.get(spec.host.as_str()).copied().unwrap_or(0) > 1 || addrs.len() > 1;
                for port in &spec.ports {
                    for ip in addrs {
                        let addr = std::net::SocketAddr::new(*ip, *port);
                        if !check || seen.insert((host.clone(), addr)) {
                            endpoints.push(Endpoint {
                                host: host.clone(),
                                addr,
                            });
                        }
                    }
                }
            }
            Some(Err(why)) => {
                for port in &spec.ports {
                    unresolved.push(TargetResult::unresolved(&spec.host, *port, why));
                }
            }
            None => {}
        }
    }
    Ok((endpoints, unresolved))
}

/// Probes every endpoint with at most `window` in flight; results come
/// back in input order (completed ones wait in a reorder buffer no larger
/// than the window). Ctrl-C stops scheduling and lets the running probes
/// end with what they have (true in the second field), so the summary still
/// prints, as ping's does.
async fn probe_all(
    endpoints: &[Endpoint],
    plan: Plan,
    mut window: window::Window,
    sink: &Sink,
    fold: bool,
) -> (Vec<TargetResult>, Folded, bool) {
    let bar = if endpoints.len() > SCREENFUL {
        progress::bar(sink, endpoints.len() as u64, "connecting")
    } else {
        progress::Progress::none()
    };
    // Outcomes are kept compact while probes run (a single attempt holds
    // no strings) and turned into results once the scan is over, so the
    // long-lived per-target strings are not interleaved with the short-lived
    // probe tasks on the heap (which fragmented it to ~2 KB per target).
    // Kept outcomes with their endpoint index; with `fold`, plain refusals
    // past the first FOLD_EXAMPLES are only counted (into `folded`).
    let mut outcomes: Vec<(usize, Outcome)> = Vec::new();
    let mut folded = Folded::default();
    let mut examples = 0;
    let mut drained = 0;
    let mut waiting: std::collections::BTreeMap<usize, Outcome> = std::collections::BTreeMap::new();
    let mut tasks = JoinSet::new();
    let mut next = 0;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut interrupted = false;
    let compact = plan.count == 1 && !sink.streams_events();
    // Silent ports' waits from the round trips seen (single attempts at
    // default settings), and the second tries they lead to: (index, wait,
    // the first try's wait).
    // Only for scans: a few targets get the full wait, so a slow but open
    // port is never called filtered because its neighbours answer fast.
    let adaptive = compact && plan.adaptive_wait && endpoints.len() > SCREENFUL;
    let mut waits = rtt::Waits::new(plan.wait);
    let mut retries: std::collections::VecDeque<(usize, Duration, Duration)> =
        std::collections::VecDeque::new();
    // Start times of the probes in flight, by start sequence.
    let mut started: std::collections::BTreeMap<u64, Instant> = std::collections::BTreeMap::new();
    let mut seq: u64 = 0;
    let mut tick = tokio::time::interval(window::STALL / 4);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        while !interrupted
            && (next < endpoints.len() || !retries.is_empty())
            && tasks.len() < window.size()
        {
            let (index, wait, before) = match retries.pop_front() {
                Some(r) => r,
                None => {
                    next += 1;
                    let ip = endpoints[next - 1].addr.ip();
                    let wait = if adaptive { waits.first(ip) } else { plan.wait };
                    (next - 1, wait, Duration::ZERO)
                }
            };
            let ep = endpoints[index].clone();
            let stop = stop_rx.clone();
            let sink = sink.clone();
            seq += 1;
            let this = seq;
            started.insert(this, Instant::now());
            tasks.spawn(async move {
                let outcome = if compact {
                    probe_once(ep.addr, Plan { wait, ..plan }, stop).await
                } else {
                    Outcome::Done(Box::new(probe_endpoint(ep, plan, sink, stop).await))
                };
                (index, this, wait, before, outcome)
            });
        }
        tokio::select! {
            joined = tasks.join_next() => match joined {
                Some(Ok((index, this, wait, before, mut outcome))) => {
                    started.remove(&this);
                    let now = Instant::now();
                    let stalled = started
                        .first_key_value()
                        .is_some_and(|(_, t)| now.duration_since(*t) > window::STALL);
                    window.record(outcome.answered(), stalled, now, plan.wait);
                    if adaptive {
                        let ip = endpoints[index].addr.ip();
                        if let Some(rtt) = outcome.round_trip() {
                            waits.sample(ip, rtt);
                        }
                        if let Outcome::One(connect::Attempt::Timeout { waited }) = &mut outcome {
                            if before.is_zero() {
                                if let Some(again) = waits.retry(wait) {
                                    retries.push_back((index, again, wait));
                                    continue;
                                }
                            }
                            *waited += before;
                        }
                    }
                    waiting.insert(index, outcome);
                    bar.inc(1);
                }
                Some(Err(_)) => {
                    bar.inc(1);
                }
                None => break,
            },
            _ = tick.tick(), if next < endpoints.len() => {
                let now = Instant::now();
                if started
                    .first_key_value()
                    .is_some_and(|(_, t)| now.duration_since(*t) > window::STALL)
                {
                    window.stalled();
                }
            }
            _ = &mut ctrl_c, if !interrupted => {
                interrupted = true;
                let _ = stop_tx.send(true);
            }
        }
        while let Some(o) = waiting.remove(&drained) {
            let ep = &endpoints[drained];
            match o.plain_refusal() {
                Some(code) if fold && examples >= FOLD_EXAMPLES && !is_name(&ep.host) => {
                    folded.code = code;
                    folded.count += 1;
                    folded
                        .ports
                        .entry(ep.addr.ip())
                        .or_default()
                        .push(ep.addr.port());
                }
                Some(_) => {
                    examples += 1;
                    outcomes.push((drained, o));
                }
                None => outcomes.push((drained, o)),
            }
            drained += 1;
        }
    }
    bar.finish_and_clear();
    // A panicked task leaves a hole: keep the order of what came back.
    let found = outcomes
        .into_iter()
        .chain(waiting)
        .filter_map(|(i, o)| o.into_result(endpoints.get(i)?))
        .filter(|r| r.sent > 0);
    let results = found.collect();
    (results, folded, interrupted)
}

/// Plain refusals kept as results before the rest are folded: the
/// examples the diagnoses name.
const FOLD_EXAMPLES: usize = 20;

/// True when a host was typed as a name (its addresses are compared with
/// each other, so its results are never folded).
fn is_name(host: &str) -> bool {
    crate::resolve::parse_literal(host).is_none()
}

/// What one probe task found: a single attempt, or the whole result when
/// it made several (or streamed them).
enum Outcome {
    /// One attempt (`-c 1`), not yet turned into a result.
    One(connect::Attempt),
    /// Stopped by Ctrl-C before the attempt ended.
    Stopped,
    /// The finished result.
    Done(Box<TargetResult>),
}

impl Outcome {
    /// True when the target answered: what grows the connect window.
    fn answered(&self) -> bool {
        match self {
            Outcome::One(a) => !matches!(a, connect::Attempt::Timeout { .. }),
            Outcome::Stopped => true,
            Outcome::Done(r) => r.answered(),
        }
    }

    /// How long the target took to answer (handshake or RST): a sample
    /// for the adaptive wait.
    fn round_trip(&self) -> Option<Duration> {
        match self {
            Outcome::One(connect::Attempt::Open { rtt, .. }) => Some(*rtt),
            Outcome::One(connect::Attempt::Failed {
                errno: libc::ECONNREFUSED,
                elapsed,
                immediate: false,
                ..
            }) => Some(*elapsed),
            Outcome::One(connect::Attempt::ResetAfterAccept { rtt: Some(rtt), .. }) => Some(*rtt),
            _ => None,
        }
    }

    /// The diagnosis code of a plain refusal (one attempt, RST, no ICMP
    /// error): what a large scan may fold.
    fn plain_refusal(&self) -> Option<&'static str> {
        match self {
            Outcome::One(connect::Attempt::Failed {
                errno: libc::ECONNREFUSED,
                icmp: None,
                immediate: false,
                ..
            }) => Some(report::errno_code(libc::ECONNREFUSED)),
            _ => None,
        }
    }

    /// The result for `ep`; None when nothing was sent.
    fn into_result(self, ep: &Endpoint) -> Option<TargetResult> {
        match self {
            Outcome::One(attempt) => {
                let mut r = TargetResult::new(ep);
                r.add(&attempt);
                Some(r)
            }
            Outcome::Stopped => None,
            Outcome::Done(r) => Some(*r),
        }
    }
}

/// One attempt at `addr`, given up when `stop` turns true.
async fn probe_once(
    addr: std::net::SocketAddr,
    plan: Plan,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Outcome {
    if *stop.borrow() {
        return Outcome::Stopped;
    }
    tokio::select! {
        a = connect::probe(addr, plan.wait, plan.banner) => Outcome::One(a),
        _ = stop.changed() => Outcome::Stopped,
    }
}

/// Probes one endpoint `plan.count` times, streaming each attempt; ends
/// early, keeping what it measured, when `stop` turns true.
async fn probe_endpoint(
    ep: Endpoint,
    plan: Plan,
    sink: Sink,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> TargetResult {
    let mut result = TargetResult::new(&ep);
    let start = tokio::time::Instant::now();
    for seq in 1..=plan.count {
        if *stop.borrow() {
            break;
        }
        if seq > 1 {
            let next = start + plan.interval * u32::try_from(seq - 1).unwrap_or(u32::MAX);
            tokio::select! {
                _ = tokio::time::sleep_until(next) => {}
                _ = stop.changed() => break,
            }
        }
        let attempt = tokio::select! {
            a = connect::probe(ep.addr, plan.wait, plan.banner) => a,
            _ = stop.changed() => break,
        };
        let failure = result.add(&attempt);
        let (state, time_ms) = match (&attempt, &failure) {
            (connect::Attempt::Open { rtt, .. }, _) => (State::Open, Some(report::ms(*rtt))),
            (_, Some(f)) => (f.state, Some(f.time_ms)),
            (_, None) => (State::Error, None),
        };
        sink.event(
            "probe",
            &AttemptEvent {
                target: &result.target,
                seq,
                state,
                time_ms,
                failure: failure.as_ref(),
                banner: result.banner.as_deref().filter(|_| state == State::Open),
            },
        );
        if plan.count > 1 {
            let words = match (&failure, time_ms) {
                (Some(f), _) => format!("{} {}", f.state.word(), f.detail),
                (None, Some(t)) => format!("open time={t:.3} ms"),
                (None, None) => String::new(),
            };
            sink.line(&format!("{}: seq={seq} {words}", result.target));
        }
    }
    result
}
