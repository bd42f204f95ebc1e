//! `netdx mtr`: rounds of traces on the probe core (every TTL of a round in
//! flight at once), aggregated per hop in constant memory, shown live on a
//! terminal or as mtr's report / pathping's layout, then read for the loss
//! pattern: rate limiting at one hop vs. loss from hop k onward.

mod render;
mod table;

use crate::cli::{GlobalOpts, MtrArgs, TableFormat};
use crate::diagnose::{path, Diagnosis};
use crate::error::{AppError, AppResult, Exit};
use crate::hops::{self, Method, Names, PathPlan};
use crate::output::{Mode, Report, Sink};
use crate::probe::{Engine, Outcome, ProbeKind, SocketMode};

use render::LiveView;
use serde::Serialize;
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};
use table::Table;
pub use table::{AddrRow, HopRow, HopRtt};
use tokio::sync::mpsc;

/// mtr's default wait before a probe counts as lost.
const DEFAULT_WAIT: f64 = 2.0;
/// Rounds when nobody watches a live view (as `mtr -r`).
const DEFAULT_REPORT_ROUNDS: u64 = 10;
/// mtr's floor for the interval without root.
const USER_MIN_INTERVAL: f64 = 1.0;
/// The floor as root.
const ROOT_MIN_INTERVAL: f64 = 0.01;
/// How often the live view is redrawn.
const REDRAW: Duration = Duration::from_millis(200);

/// The result of one `netdx mtr`: per-hop figures aggregated over the
/// rounds, and the reading of their loss and latency pattern. `--json`
/// prints it whole.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct MtrReport {
    /// The host as given on the command line.
    pub host: String,
    /// The address probed.
    pub address: IpAddr,
    /// Probe method.
    pub method: Method,
    /// Destination port (UDP: the first one), None for ICMP.
    pub port: Option<u16>,
    /// Raw or unprivileged sockets.
    pub socket: SocketMode,
    /// The local address the probes left from, when known.
    pub source: Option<IpAddr>,
    /// Rounds sent.
    pub rounds: u64,
    /// Seconds between rounds.
    pub interval_s: f64,
    /// Whether the target itself answered.
    pub reached: bool,
    /// The hops up to where the path ends (or the last that answered).
    pub hops: Vec<HopRow>,
    /// When the probing started (RFC 3339, UTC).
    pub started_at: String,
    /// When it ended (RFC 3339, UTC).
    pub ended_at: String,
    /// Wall time of the run.
    pub duration_ms: u128,
    /// Paris flows per round (`--flows`; 1 normally): a hop's addresses
    /// are then the branches the flows met.
    pub flows: u16,
    /// What the loss and latency pattern means.
    pub diagnosis: Vec<Diagnosis>,
    /// Which closing text a person sees.
    #[serde(skip)]
    layout: Layout,
    /// The exit status: target not reached, or its loss over `--max-loss`.
    #[serde(skip)]
    exit: Exit,
}

/// The human text printed at the end of a run, before the diagnoses.
#[derive(Debug, Clone)]
enum Layout {
    /// This host had no route: nothing was probed, only the diagnosis.
    NoRoute,
    /// The live view already shows the table: only a blank line.
    Live,
    /// mtr's report (`-r`): start time, this host's name, the table.
    Table {
        /// When the run started, as mtr prints it.
        start: String,
    },
    /// `--format csv|markdown`: the report as one table, with the columns
    /// of the lookups made.
    Format(TableFormat, hops::Lookups),
    /// The Windows pathping layout.
    Pathping {
        /// The max hops, for its first line.
        max: u8,
        /// Seconds spent probing, for its "Computing statistics" line.
        seconds: f64,
    },
}

impl Report for MtrReport {
    fn diagnoses(&self) -> Vec<Diagnosis> {
        self.diagnosis.clone()
    }

    fn exit(&self) -> Exit {
        self.exit
    }

    fn render_human(&self, sink: &Sink) {
        match &self.layout {
            Layout::NoRoute => return,
            Layout::Live => {}
            Layout::Table { start } => {
                sink.line(&format!("Start: {start}"));
                sink.line(&render::header(&hostname()));
                for line in render::rows(&self.hops) {
                    sink.line(&line);
                }
            }
            Layout::Format(format, lookups) => {
                let rows: Vec<Vec<String>> = self
                    .hops
                    .iter()
                    .map(|h| render::table_row(h, *lookups))
                    .collect();
                let header = lookups.header(&render::TABLE_HEADER);
                hops::print_table(sink, *format, &header, &rows, &self.diagnosis);
                return;
            }
            Layout::Pathping { max, seconds } => {
                let text = render::pathping(&self.hops, self.address, self.source, *max, *seconds);
                for line in text {
                    sink.line(&line);
                }
            }
        }
        sink.line("");
    }

    fn diagnoses_streamed(&self) -> bool {
        matches!(self.layout, Layout::Format(..))
    }

    fn summary_event(&self) -> Option<serde_json::Value> {
        Some(
            serde_json::json!({"reached": self.reached, "rounds": self.rounds,
            "hops": self.hops, "diagnosis": self.diagnosis}),
        )
    }
}

/// One probe of a round, as `--jsonl` streams it.
#[derive(Debug, Serialize)]
struct RoundProbe {
    ttl: u8,
    /// When the probe left, in milliseconds since the Unix epoch.
    sent_unix_ms: u128,
    from: Option<IpAddr>,
    rtt_ms: Option<f64>,
    answer: hops::HopAnswer,
}

/// Runs `netdx mtr`: the rounds, then the table in the sink's shape.
pub async fn run(args: &MtrArgs, global: &GlobalOpts, sink: &Sink) -> AppResult<Exit> {
    let report = mtr(args, global, sink).await?;
    Ok(crate::output::finish(sink, &report))
}

/// Sends rounds of probes along the path to `args.path.host` and returns
/// the per-hop figures and their diagnosis. While it runs, a terminal sees
/// the live table and `--jsonl` a `round` event per round; it ends after
/// the rounds asked for (`-c`, else 10 unless live), on Ctrl-C, or when
/// the reader of the output went away.
pub async fn mtr(args: &MtrArgs, global: &GlobalOpts, sink: &Sink) -> AppResult<MtrReport> {
    let plan = PathPlan::new(&args.path, global, DEFAULT_WAIT)?;
    hops::check_flows(args.flows, plan.method)?;
    let geo = hops::geoip(&args.path)?;
    if args.count == Some(0) {
        return Err(AppError::usage("-c 0: the count must be at least 1"));
    }
    if !(args.interval.is_finite() && (ROOT_MIN_INTERVAL..=3600.0).contains(&args.interval)) {
        return Err(AppError::usage(format!(
            "-i {}: the interval must be between {ROOT_MIN_INTERVAL} and 3600 seconds",
            args.interval
        )));
    }
    if let Some(p) = args.max_loss {
        if !(0.0..=100.0).contains(&p) {
            return Err(AppError::usage(format!(
                "--max-loss {p}: give a percentage from 0 to 100"
            )));
        }
    }
    let hops::PathSetup {
        target,
        route,
        engine,
        mode,
    } = hops::prepare_path(
        &args.path.host,
        args.source.as_deref().map(|s| ("-a", s)),
        args.interface.as_deref().map(|i| ("--interface", i)),
        global,
        &plan.kind(),
        None,
    )
    .await?;
    hops::check_flow_sockets(args.flows, mode)?;
    let privileged = mode == SocketMode::Raw || hops::is_root();
    if !privileged && args.interval < USER_MIN_INTERVAL {
        return Err(AppError::usage(format!(
            "-i {}: intervals under {USER_MIN_INTERVAL} s need root or CAP_NET_RAW (as with mtr)",
            args.interval
        )));
    }
    let port = (plan.method != Method::Icmp).then_some(plan.port);
    let mut report = MtrReport {
        host: hops::shown_host(&args.path.host).to_string(),
        address: target,
        method: plan.method,
        port,
        socket: mode,
        source: None,
        rounds: 0,
        interval_s: args.interval,
        reached: false,
        hops: Vec::new(),
        started_at: hops::utc_stamp(std::time::SystemTime::now()),
        ended_at: hops::utc_stamp(std::time::SystemTime::now()),
        duration_ms: 0,
        flows: args.flows as u16,
        diagnosis: Vec::new(),
        layout: Layout::NoRoute,
        exit: Exit::TargetFailed,
    };
    if let Some(errno) = route {
        // No route (or a reject route): no round could leave this host; say
        // so once, before any table.
        report.diagnosis = vec![path::local_end("path", errno, target)];
        return Ok(report);
    }
    let live =
        sink.human() && sink.tty && !args.report && !args.pathping && args.path.format.is_none();
    let rounds = args.count.unwrap_or(if live {
        u64::MAX
    } else {
        DEFAULT_REPORT_ROUNDS
    });
    sink.event(
        "start",
        &serde_json::json!({"host": hops::shown_host(&args.path.host), "address": target, "method": plan.method,
            "port": port, "socket": mode, "interval_s": args.interval,
            "rounds": (rounds != u64::MAX).then_some(rounds)}),
    );
    let names = Names::new(plan.names)
        .with_asns(hops::asns(&args.path)?)
        .with_geo(geo);
    let start_text = now_text();
    let started = Instant::now();
    let run = Run {
        engine: &engine,
        plan: &plan,
        target,
        interval: Duration::from_secs_f64(args.interval),
        rounds,
        names: &names,
        sink,
        live,
        host: hops::shown_host(&args.path.host),
        flows: args.flows as u16,
    };
    let (table, sent_rounds) = run.go().await?;
    let seconds = started.elapsed().as_secs_f64();
    let shown: Vec<IpAddr> = table
        .shown()
        .iter()
        .flat_map(|h| h.addrs.iter().map(|(a, _)| *a))
        .collect();
    names.settle(&shown, Duration::from_millis(1500)).await;
    let rows = table.rows(&names);
    let dest_loss = rows.last().map(|h| h.loss_pct).unwrap_or(100.0);
    let failed = !table.reached || args.max_loss.is_some_and(|m| dest_loss > m);
    report.layout = if args.pathping {
        Layout::Pathping {
            max: plan.max,
            seconds,
        }
    } else if let Some(format) = args.path.format {
        Layout::Format(format, hops::Lookups::of(&args.path))
    } else if live {
        Layout::Live
    } else {
        Layout::Table { start: start_text }
    };
    report.diagnosis = path::mtr(&table.losses(), target, table.reached);
    if args.flows > 1 {
        report
            .diagnosis
            .extend(ecmp_diagnosis(&rows, args.flows as u16));
    }
    report.source = engine.source_for(target);
    report.rounds = sent_rounds;
    report.reached = table.reached;
    report.hops = rows;
    report.duration_ms = started.elapsed().as_millis();
    report.ended_at = hops::utc_stamp(std::time::SystemTime::now());
    report.exit = if failed {
        Exit::TargetFailed
    } else {
        Exit::Healthy
    };
    Ok(report)
}

/// One run's settings and collaborators.
struct Run<'a> {
    engine: &'a std::sync::Arc<Engine>,
    plan: &'a PathPlan,
    target: IpAddr,
    interval: Duration,
    rounds: u64,
    names: &'a Names,
    sink: &'a Sink,
    live: bool,
    host: &'a str,
    /// Paris flows per round: each TTL gets one probe per flow.
    flows: u16,
}

/// `path.ecmp` from the table: hops where the flows met several routers
/// split the path; single-router hops around them are where it splits and
/// joins.
fn ecmp_diagnosis(rows: &[HopRow], flows: u16) -> Option<Diagnosis> {
    let split: Vec<(u8, Vec<IpAddr>)> = rows
        .iter()
        .filter(|h| h.addresses.len() > 1)
        .map(|h| (h.ttl, h.addresses.iter().map(|a| a.address).collect()))
        .collect();
    let agreed: Vec<(u8, IpAddr)> = rows
        .iter()
        .filter(|h| h.addresses.len() == 1)
        .filter_map(|h| Some((h.ttl, h.addresses.first()?.address)))
        .collect();
    path::ecmp(&split, &agreed, flows)
}

/// The probes of one round still being collected for `--jsonl`.
struct RoundAcc {
    expected: usize,
    probes: Vec<RoundProbe>,
}

impl Run<'_> {
    /// Sends a round every interval, folds every outcome into the table as
    /// it arrives, redraws the live view; ends after the last round's
    /// probes are answered or timed out, or on Ctrl-C.
    async fn go(&self) -> AppResult<(Table, u64)> {
        let plan = self.plan;
        let mut table = Table::new(plan.first, plan.max);
        let (tx, mut rx) = mpsc::unbounded_channel::<(u64, u8, AppResult<Outcome>)>();
        let mut ticker = tokio::time::interval(self.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut redraw = tokio::time::interval(REDRAW);
        let mut view = LiveView::default();
        let mut sent_rounds: u64 = 0;
        let mut in_flight: u64 = 0;
        let mut acc: HashMap<u64, RoundAcc> = HashMap::new();
        let jsonl = self.sink.mode == Mode::Jsonl;
        // A report run is silent until the end: show the rounds on stderr
        // (only on a terminal, never in JSON modes).
        let bar = (!self.live && self.rounds != u64::MAX)
            .then(|| crate::output::progress::bar(self.sink, self.rounds, "mtr rounds"));
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        loop {
            let sending = sent_rounds < self.rounds;
            if (!sending && in_flight == 0) || self.sink.is_closed() {
                break;
            }
            tokio::select! {
                _ = ticker.tick(), if sending => {
                    let limit = table.limit(plan.max);
                    let round = sent_rounds;
                    for ttl in plan.first..=limit {
                        for flow in 0..self.flows {
                            let mut probe = plan.probe(self.target, ttl);
                            if let ProbeKind::Udp { flow: f, .. } | ProbeKind::TcpSyn { flow: f, .. } =
                                &mut probe.kind
                            {
                                *f = Some(flow);
                            }
                            let engine = self.engine.clone();
                            let tx = tx.clone();
                            tokio::spawn(async move {
                                let _ = tx.send((round, ttl, engine.probe(probe).await));
                            });
                            in_flight += 1;
                        }
                    }
                    if jsonl {
                        acc.insert(round, RoundAcc {
                            expected: (usize::from(limit - plan.first) + 1) * usize::from(self.flows),
                            probes: Vec::new(),
                        });
                    }
                    sent_rounds += 1;
                    if let Some(bar) = &bar {
                        bar.inc(1);
                    }
                }
                Some((round, ttl, outcome)) = rx.recv() => {
                    in_flight = in_flight.saturating_sub(1);
                    let outcome = outcome?;
                    let answer = hops::classify(&outcome);
                    if let Some(from) = answer.from() {
                        self.names.want(from);
                    }
                    table.record(ttl, &answer, outcome.rtt);
                    table.record_mpls(ttl, hops::mpls(&outcome));
                    if jsonl {
                        self.stream_round(&mut acc, round, ttl, &outcome, answer);
                    }
                }
                _ = redraw.tick(), if self.live => {
                    self.draw(&mut view, &table);
                }
                _ = &mut ctrl_c => break,
            }
        }
        // Ctrl-C: the rounds still out are streamed with the probes whose
        // fate is known (the ones the table counted), marked partial, so
        // the events add up to the table's Snt.
        let mut rest: Vec<(u64, RoundAcc)> = acc.drain().collect();
        rest.sort_by_key(|(r, _)| *r);
        for (round, mut done) in rest {
            done.probes.sort_by_key(|p| p.ttl);
            self.sink.event(
                "round",
                &serde_json::json!({"round": round + 1, "partial": true, "probes": done.probes}),
            );
        }
        if self.live {
            self.draw(&mut view, &table);
        }
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        Ok((table, sent_rounds))
    }

    fn draw(&self, view: &mut LiveView, table: &Table) {
        let mut lines = vec![
            format!(
                "netdx mtr to {} ({}) — {} probes, Ctrl-C to stop",
                self.host,
                self.target,
                self.plan.method.word()
            ),
            render::header(&hostname()),
        ];
        lines.extend(render::rows(&table.rows(self.names)));
        view.draw(&lines, self.sink);
    }

    /// Streams a round as one `--jsonl` event once all its probes are in.
    fn stream_round(
        &self,
        acc: &mut HashMap<u64, RoundAcc>,
        round: u64,
        ttl: u8,
        outcome: &Outcome,
        answer: hops::HopAnswer,
    ) {
        let Some(entry) = acc.get_mut(&round) else {
            return;
        };
        entry.probes.push(RoundProbe {
            ttl,
            sent_unix_ms: outcome
                .sent
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0),
            from: answer.from(),
            rtt_ms: outcome.rtt.map(|d| d.as_secs_f64() * 1000.0),
            answer,
        });
        if entry.probes.len() >= entry.expected {
            if let Some(mut done) = acc.remove(&round) {
                done.probes.sort_by_key(|p| p.ttl);
                self.sink.event(
                    "round",
                    &serde_json::json!({"round": round + 1, "probes": done.probes}),
                );
            }
        }
    }
}

/// This host's name for the report header.
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr() as *mut libc::c_char, buf.len()) };
    if rc != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// UTC wall-clock time as mtr's report prints its start.
fn now_text() -> String {
    hops::utc_stamp(std::time::SystemTime::now()).replace('Z', "+0000")
}
