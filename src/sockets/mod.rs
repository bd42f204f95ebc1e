//! `netdx sockets` (alias `ss`): a census of the host's TCP sockets by state,
//! port and peer, who owns them, the kernel counters that explain trouble,
//! and diagnoses. Exit status 1 means a critical diagnosis (a full accept
//! queue, a SYN queue at its limit, ports towards one peer ≥ 80% used, a
//! CLOSE_WAIT leak near the process's descriptor limit).

pub mod census;
pub mod counters;
pub mod netlink;
pub mod owners;
pub mod procfs;
pub mod render;
mod watch;

pub use crate::diagnose::sockets::{record, state};

use crate::cli::{GlobalOpts, SocketSource, SocketsArgs};
use crate::diagnose::{self, Diagnosis, Severity};
use crate::error::{AppError, AppResult, Exit};
use crate::output::{Report, Sink};
use census::{Census, Filter, Plan};
use counters::{Counters, HostLimits, Rates};
use owners::{Owners, ScanFilter};
use record::Source;
use serde::Serialize;
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// What `netdx sockets` ends with: the last sample (the `--json`
/// document) and the worst finding over every sample taken.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct SocketsReport {
    /// The last sample, as JSON shows it.
    pub last: render::Report,
    /// Samples taken.
    #[serde(skip)]
    pub samples: u64,
    /// The worst severity over all samples (sets the exit status).
    #[serde(skip)]
    pub worst: Severity,
}

impl Report for SocketsReport {
    fn diagnoses_streamed(&self) -> bool {
        true
    }

    fn diagnoses(&self) -> Vec<Diagnosis> {
        self.last.diagnosis.clone()
    }

    fn exit(&self) -> Exit {
        if self.worst >= Severity::Critical {
            Exit::TargetFailed
        } else {
            Exit::Healthy
        }
    }
}

/// Runs `netdx sockets`: the samples, then the closing document.
pub async fn run(args: &SocketsArgs, global: &GlobalOpts, sink: &Sink) -> AppResult<Exit> {
    let report = sockets(args, global, sink).await?;
    Ok(crate::output::finish(sink, &report))
}

/// Takes one sample, or `--watch` samples until `-c`, Ctrl-C or a closed
/// sink, streaming each through `sink`; returns the last with the worst
/// finding.
pub async fn sockets(
    args: &SocketsArgs,
    global: &GlobalOpts,
    sink: &Sink,
) -> AppResult<SocketsReport> {
    if let Some(w) = args.watch {
        if !(w.is_finite() && (0.05..=3600.0).contains(&w)) {
            return Err(AppError::usage(format!(
                "--watch {w}: give an interval between 0.05 and 3600 seconds"
            )));
        }
    }
    if args.count == Some(0) {
        return Err(AppError::usage("-c 0: give at least one sample"));
    }
    let plan = plan(args, global);
    watch::run(args, &plan, sink).await
}

/// Turns the flags into what to read.
fn plan(args: &SocketsArgs, global: &GlobalOpts) -> Plan {
    let detail = args.port.is_some() || args.pid.is_some() || args.process.is_some();
    Plan {
        source: match args.source {
            SocketSource::Auto => None,
            SocketSource::Netlink => Some(Source::Netlink),
            SocketSource::Proc => Some(Source::Proc),
        },
        v4: !global.ipv6,
        v6: !global.ipv4,
        info: detail || args.timers,
        keep: detail && !args.timers,
        timers: args.timers,
        filter: args.port.map_or(Filter::All, Filter::Port),
    }
}

/// One complete observation: census, owners, counters and diagnoses.
pub struct Sample {
    /// The counted sockets.
    pub census: Census,
    /// Reader used.
    pub source: Source,
    /// Why netlink was not used, when it failed.
    pub fallback: Option<String>,
    /// Owners of the sockets that matter for the report.
    pub owners: Owners,
    /// Whether /proc was walked for owners (else programs are not shown).
    pub owners_known: bool,
    /// Kernel counters at sample time.
    pub counters: Option<Counters>,
    /// Counter rates since the previous sample.
    pub rates: Option<Rates>,
    /// Host sysctls.
    pub limits: HostLimits,
    /// Time the census took.
    pub elapsed: Duration,
    /// Findings.
    pub diagnosis: Vec<Diagnosis>,
}

impl Sample {
    /// Worst severity among the diagnoses.
    pub fn worst(&self) -> Severity {
        self.diagnosis
            .iter()
            .map(|d| d.severity)
            .max()
            .unwrap_or(Severity::Ok)
    }
}

/// Takes one sample. `previous` supplies the counters for rates.
pub fn sample(
    args: &SocketsArgs,
    plan: &Plan,
    previous: Option<(&Counters, Instant)>,
) -> AppResult<(Sample, Instant)> {
    let limits = HostLimits::read();
    let mut plan = plan.clone();
    // --pid / --process: find the processes' socket inodes first.
    let pre_owners = if args.pid.is_some() || args.process.is_some() {
        let scan = owners::scan(&ScanFilter {
            inodes: None,
            pid: args.pid,
            program: args.process.as_deref(),
        });
        if scan.procs.is_empty() {
            let what = args.pid.map_or_else(
                || format!("program {:?}", args.process.as_deref().unwrap_or("")),
                |p| format!("pid {p}"),
            );
            return Err(AppError::target(format!(
                "no process with {what} holds a socket that netdx can see (not running, no sockets, or not root)"
            )));
        }
        plan.filter = Filter::Inodes(scan.inodes());
        Some(scan)
    } else {
        None
    };
    let start = Instant::now();
    let (census, source, fallback) = census::take(&plan, &limits).map_err(|e| {
        AppError::cannot_run(format!(
            "cannot read TCP sockets: {e} (netlink sock_diag and /proc/net/tcp both failed)"
        ))
    })?;
    let elapsed = start.elapsed();
    let at = Instant::now();
    let counters = Counters::read();
    let rates = match (&counters, previous) {
        (Some(now), Some((before, then))) => {
            Some(now.rates(before, at.duration_since(then).as_secs_f64()))
        }
        _ => None,
    };
    let judge = |owners: &Owners| {
        diagnose::sockets::diagnose(&diagnose::sockets::Inputs {
            census: &census,
            limits: &limits,
            counters: counters.as_ref(),
            rates: rates.as_ref(),
            owners,
            backlog_known: source == Source::Netlink,
            nofile_limit: &owners::nofile_limit,
        })
    };
    // Walking /proc/*/fd costs a readlink per open file on the host, so the
    // plain census walks it only when asked (-p), for a detail view, or when
    // a diagnosis has a process to name.
    let (owners, diagnosis) = match pre_owners {
        Some(o) => {
            let d = judge(&o);
            (o, d)
        }
        None => {
            let first = judge(&Owners::default());
            let names = first.iter().any(|d| NAMING.contains(&d.code.as_str()));
            if args.processes || plan.keep || plan.timers || names {
                let o = owners::scan(&ScanFilter {
                    inodes: Some(&wanted_inodes(&census)),
                    pid: None,
                    program: None,
                });
                let d = judge(&o);
                (o, d)
            } else {
                (Owners::default(), first)
            }
        }
    };
    let owners_known = args.processes || plan.keep || plan.timers || !owners.procs.is_empty();
    Ok((
        Sample {
            census,
            source,
            fallback,
            owners,
            owners_known,
            counters,
            rates,
            limits,
            elapsed,
            diagnosis,
        },
        at,
    ))
}

/// Diagnoses whose summary names the process at fault.
const NAMING: [&str; 4] = [
    "sockets.accept_queue_full",
    "sockets.syn_flood",
    "sockets.close_wait_leak",
    "sockets.half_open_suspect",
];

/// Inodes whose owners the report names: listeners, one CLOSE_WAIT socket
/// per port and destination, and every kept socket of a detail view.
fn wanted_inodes(c: &Census) -> HashSet<u64> {
    let mut set: HashSet<u64> = c.listeners.iter().map(|l| l.inode).collect();
    set.extend(c.ports.values().map(|t| t.close_wait_inode));
    set.extend(c.dests.values().map(|t| t.close_wait_inode));
    set.extend(c.kept.iter().map(|r| r.inode));
    set.extend(c.stalled.iter().map(|r| r.inode));
    set.remove(&0);
    set
}
