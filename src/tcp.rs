//! `netdx tcp`: real kernel connect() probes to many targets at once, each
//! failure kept as its errno and explained from the errno/ICMP tables.
//! Parsing, probing and reporting live in the submodules; this file plans,
//! schedules within the descriptor budget, and prints.

pub mod connect;
mod limits;
pub mod report;
mod target;

use crate::cli::{Expect, GlobalOpts, TcpArgs};
use crate::error::{AppError, AppResult, Exit};
use crate::output::{progress, Sink};
use crate::resolve::{self, Family};
use report::{Endpoint, State, TargetResult};
use serde::Serialize;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// Default wait for a connect, as in the issue: long enough for any sane
/// RTT, short enough that filtered ports do not stall a scan.
const DEFAULT_WAIT: f64 = 2.0;
/// Longest wait for a banner after connecting.
const BANNER_WAIT: Duration = Duration::from_secs(1);
/// Above this many targets, human output lists only the open ones and
/// counts the rest (unless --all), and a progress bar is shown.
const SCREENFUL: usize = 32;

/// Validated settings shared by every probe task.
#[derive(Debug, Clone, Copy)]
struct Plan {
    count: u64,
    interval: Duration,
    wait: Duration,
    banner: Option<Duration>,
    parallel: usize,
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
    if args.parallel == 0 {
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
        parallel: args.parallel,
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

/// Totals for the summary line and the JSON document.
#[derive(Serialize, Default)]
struct Totals {
    targets: usize,
    open: usize,
    closed: usize,
    filtered: usize,
    unreachable: usize,
    blocked: usize,
    error: usize,
    unresolved: usize,
    elapsed_ms: f64,
    interrupted: bool,
}

/// The `--json` document.
#[derive(Serialize)]
struct Document<'a> {
    expect: &'static str,
    targets: &'a [TargetResult],
    summary: &'a Totals,
    diagnosis: &'a [crate::diagnose::Diagnosis],
}

/// Runs `netdx tcp`.
pub async fn run(args: &TcpArgs, global: &GlobalOpts, sink: &Sink) -> AppResult<Exit> {
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
    let nofile = limits::raise_nofile();
    let parallel = plan.parallel.min(limits::max_parallel(nofile));
    let plan = Plan { parallel, ..plan };

    let (mut results, interrupted) = probe_all(&endpoints, plan, sink).await;
    let probed = results.len();
    results.append(&mut unresolved);
    let totals = Totals {
        interrupted,
        ..totals(&results, started.elapsed())
    };
    let diagnoses = crate::diagnose::tcp::diagnoses(&results, args.expect);

    render(sink, &results, &totals, plan, args.all);
    if interrupted {
        sink.line(&format!(
            "interrupted: {probed} of {} targets probed",
            endpoints.len()
        ));
    }
    for r in &results {
        sink.event("target", r);
    }
    sink.event("summary", &totals);
    for d in &diagnoses {
        sink.event("diagnosis", d);
    }
    sink.diagnoses(&diagnoses);
    sink.document(&Document {
        expect: match args.expect {
            Expect::Open => "open",
            Expect::Closed => "closed",
        },
        targets: &results,
        summary: &totals,
        diagnosis: &diagnoses,
    });
    let healthy = results.iter().all(|r| r.meets(args.expect));
    Ok(if healthy {
        Exit::Healthy
    } else {
        Exit::TargetFailed
    })
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
    let mut seen = std::collections::HashSet::new();
    for spec in specs {
        match cache.get(&spec.host) {
            Some(Ok(addrs)) => {
                for port in &spec.ports {
                    for ip in addrs {
                        let addr = std::net::SocketAddr::new(*ip, *port);
                        if seen.insert((spec.host.clone(), addr)) {
                            endpoints.push(Endpoint {
                                host: spec.host.clone(),
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

/// Probes every endpoint with at most `plan.parallel` in flight; results
/// come back in input order. Ctrl-C stops scheduling and lets the running
/// probes end with what they have (true in the second field), so the
/// summary still prints, as ping's does.
async fn probe_all(endpoints: &[Endpoint], plan: Plan, sink: &Sink) -> (Vec<TargetResult>, bool) {
    let bar = if endpoints.len() > SCREENFUL {
        progress::bar(sink, endpoints.len() as u64, "connecting")
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut slots: Vec<Option<TargetResult>> = vec![None; endpoints.len()];
    let mut tasks = JoinSet::new();
    let mut next = 0;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut interrupted = false;
    loop {
        while !interrupted && next < endpoints.len() && tasks.len() < plan.parallel {
            let ep = endpoints[next].clone();
            let index = next;
            let stop = stop_rx.clone();
            let sink = sink.clone();
            tasks.spawn(async move { (index, probe_endpoint(ep, plan, sink, stop).await) });
            next += 1;
        }
        tokio::select! {
            joined = tasks.join_next() => match joined {
                Some(Ok((index, result))) => {
                    slots[index] = Some(result);
                    bar.inc(1);
                }
                Some(Err(_)) => bar.inc(1),
                None => break,
            },
            _ = &mut ctrl_c, if !interrupted => {
                interrupted = true;
                let _ = stop_tx.send(true);
            }
        }
    }
    bar.finish_and_clear();
    let results = slots.into_iter().flatten().filter(|r| r.sent > 0).collect();
    (results, interrupted)
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

/// Counts the verdicts.
fn totals(results: &[TargetResult], elapsed: Duration) -> Totals {
    let mut t = Totals {
        targets: results.len(),
        elapsed_ms: report::ms(elapsed),
        ..Totals::default()
    };
    for r in results {
        match r.state {
            State::Open => t.open += 1,
            State::Closed => t.closed += 1,
            State::Filtered => t.filtered += 1,
            State::Unreachable => t.unreachable += 1,
            State::Blocked => t.blocked += 1,
            State::Error => t.error += 1,
            State::Unresolved => t.unresolved += 1,
        }
    }
    t
}

/// Human output: one line per target (only the open ones when there are
/// many), per-target statistics with -c, and a summary line.
fn render(sink: &Sink, results: &[TargetResult], totals: &Totals, plan: Plan, all: bool) {
    if !sink.human() {
        return;
    }
    let many = results.len() > SCREENFUL && !all;
    let width = results
        .iter()
        .map(|r| r.target.len())
        .max()
        .unwrap_or(0)
        .min(60);
    let mut hidden: Vec<(State, &str)> = Vec::new();
    for r in results {
        if plan.count > 1 {
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
    if !hidden.is_empty() {
        let mut groups: Vec<((State, &str), usize)> = Vec::new();
        for key in hidden {
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, n)) => *n += 1,
                None => groups.push((key, 1)),
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
}
