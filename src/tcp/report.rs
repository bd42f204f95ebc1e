//! What the probes found, per target: the state (open, closed, filtered…),
//! connect-time statistics, the errno and ICMP evidence, and the diagnoses
//! built from the errno and ICMP tables so the words match `netdx explain`.

use super::connect::{self, Attempt, IcmpOrigin};
use crate::cli::Expect;
use crate::diagnose::errno::{self, ErrnoInfo};
use crate::diagnose::{icmp, Diagnosis, Severity};
use crate::stats::{RttStats, RttSummary};
use serde::Serialize;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Diagnosis code for errnos the table gives no code of its own.
const GENERIC_CODE: &str = "tcp.connect_error";
/// Diagnosis code for a router's firewall rejecting with an ICMP
/// administratively-prohibited (whatever errno the kernel maps it to).
const PROHIBITED_CODE: &str = "tcp.admin_prohibited";
/// Diagnosis code for names that do not resolve.
pub const RESOLVE_CODE: &str = "tcp.resolve_failed";

/// One address:port to probe, remembering the name it came from.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The host as the user typed it (name or literal).
    pub host: String,
    /// The address and port probed.
    pub addr: SocketAddr,
}

impl Endpoint {
    /// `name:port (address)` for names, `addr:port` / `[v6]:port` for literals.
    pub fn label(&self) -> String {
        if crate::resolve::parse_literal(&self.host).is_some() {
            self.addr.to_string()
        } else {
            format!("{}:{} ({})", self.host, self.addr.port(), self.addr.ip())
        }
    }
}

/// The verdict for one target, in the words port scanners use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// The handshake completed.
    Open,
    /// RST: the host is up, nothing listens.
    Closed,
    /// No answer: dropped silently.
    Filtered,
    /// ICMP unreachable or no route.
    Unreachable,
    /// A local rule or policy refused before sending.
    Blocked,
    /// Another errno.
    Error,
    /// The name did not resolve.
    Unresolved,
}

impl State {
    /// The word printed in the state column.
    pub fn word(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Closed => "closed",
            State::Filtered => "filtered",
            State::Unreachable => "unreachable",
            State::Blocked => "blocked",
            State::Error => "error",
            State::Unresolved => "unresolved",
        }
    }

    /// Colour of the state column.
    pub fn severity(self) -> Severity {
        match self {
            State::Open => Severity::Ok,
            State::Closed | State::Filtered => Severity::Warning,
            _ => Severity::Critical,
        }
    }
}

/// A failure, classified once and described from the tables.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// Verdict it leads to.
    pub state: State,
    /// Symbolic errno (ETIMEDOUT for our own timeout).
    pub errno: Option<&'static str>,
    /// Numeric errno.
    pub errno_number: Option<i32>,
    /// Stable diagnosis code.
    pub code: &'static str,
    /// Short words for the result line.
    pub detail: String,
    /// The ICMP error behind it, when there was one.
    pub icmp: Option<IcmpOrigin>,
    /// Time until the failure was known, in ms.
    pub time_ms: f64,
    /// True when no packet left this host.
    pub local: bool,
}

/// Classifies a failed attempt; None for a successful one.
pub fn failure(attempt: &Attempt, addr: &SocketAddr) -> Option<Failure> {
    match attempt {
        Attempt::Open { .. } => None,
        Attempt::Timeout { waited } => {
            let info = errno::by_number(libc::ETIMEDOUT);
            Some(Failure {
                state: State::Filtered,
                errno: info.map(|e| e.name),
                errno_number: Some(libc::ETIMEDOUT),
                code: info.and_then(|e| e.diagnosis).unwrap_or(GENERIC_CODE),
                detail: format!("no answer in {:.1} s", waited.as_secs_f64()),
                icmp: None,
                time_ms: ms(*waited),
                local: false,
            })
        }
        Attempt::Failed {
            errno: n,
            elapsed,
            icmp,
            immediate,
        } => {
            let info = errno::by_number(*n);
            let prohibited = icmp
                .and_then(|o| icmp::lookup(o.v6, o.icmp_type, o.code))
                .is_some_and(|i| i.trace_mark == "!X");
            let state = match *n {
                _ if icmp.is_some() && *n != libc::ECONNREFUSED => State::Unreachable,
                libc::ECONNREFUSED => State::Closed,
                libc::ETIMEDOUT => State::Filtered,
                libc::EHOSTUNREACH | libc::ENETUNREACH | libc::ENETDOWN | libc::EHOSTDOWN => {
                    State::Unreachable
                }
                libc::EPERM | libc::EACCES => State::Blocked,
                _ => State::Error,
            };
            let name = info.map(|e| e.name).unwrap_or("EUNKNOWN");
            let words = match (icmp, *n) {
                (Some(o), _) => format!("{} from {}", icmp_words(o), o.from),
                (None, libc::ECONNREFUSED) => "RST from the host".to_string(),
                (None, libc::ENETUNREACH) if *immediate => {
                    format!("no route on this host (ip route get {})", addr.ip())
                }
                (None, libc::EPERM | libc::EACCES) if *immediate => {
                    "refused by a local firewall rule or policy; nothing was sent".to_string()
                }
                (None, _) => info.map(|e| e.message.to_string()).unwrap_or_default(),
            };
            Some(Failure {
                state,
                errno: info.map(|e| e.name),
                errno_number: Some(*n),
                code: if prohibited {
                    PROHIBITED_CODE
                } else {
                    info.and_then(|e| e.diagnosis).unwrap_or(GENERIC_CODE)
                },
                detail: format!("{name}: {words} in {:.3} ms", ms(*elapsed)),
                icmp: *icmp,
                time_ms: ms(*elapsed),
                local: *immediate,
            })
        }
    }
}

/// `Host Unreachable (ICMP 3/1)` from the ICMP table.
fn icmp_words(o: &IcmpOrigin) -> String {
    let family = if o.v6 { "ICMPv6" } else { "ICMP" };
    let mark = icmp::trace_mark(o.v6, o.icmp_type, o.code);
    let mark = if mark.is_empty() {
        String::new()
    } else {
        format!(", {mark}")
    };
    match icmp::lookup(o.v6, o.icmp_type, o.code) {
        Some(i) => format!("{} ({family} {}/{}{mark})", i.name, o.icmp_type, o.code),
        None => format!("{family} {}/{}{mark}", o.icmp_type, o.code),
    }
}

/// Everything found for one target over its attempts.
#[derive(Debug, Clone, Serialize)]
pub struct TargetResult {
    /// How the target is printed.
    pub target: String,
    /// The host as typed.
    pub host: String,
    /// The address probed (none when the name did not resolve).
    pub address: Option<IpAddr>,
    /// The port probed.
    pub port: u16,
    /// The verdict: open if any attempt connected, else the last failure's.
    pub state: State,
    /// Attempts made.
    pub sent: u64,
    /// Attempts that connected.
    pub connected: u64,
    /// Connect times of the successful attempts.
    pub stats: Option<RttSummary>,
    /// The last failure, if any attempt failed.
    pub failure: Option<Failure>,
    /// Our source address for the connection.
    pub local: Option<SocketAddr>,
    /// What the server sent first, escaped and capped.
    pub banner: Option<String>,
    /// Why the name did not resolve.
    pub error: Option<String>,
    #[serde(skip)]
    rtt: RttStats,
}

impl TargetResult {
    /// An empty result for an endpoint about to be probed.
    pub fn new(ep: &Endpoint) -> Self {
        TargetResult {
            target: ep.label(),
            host: ep.host.clone(),
            address: Some(ep.addr.ip()),
            port: ep.addr.port(),
            state: State::Error,
            sent: 0,
            connected: 0,
            stats: None,
            failure: None,
            local: None,
            banner: None,
            error: None,
            rtt: RttStats::default(),
        }
    }

    /// A result for a host whose name did not resolve.
    pub fn unresolved(host: &str, port: u16, why: &str) -> Self {
        TargetResult {
            target: format!("{host}:{port}"),
            host: host.to_string(),
            address: None,
            port,
            state: State::Unresolved,
            sent: 0,
            connected: 0,
            stats: None,
            failure: None,
            local: None,
            banner: None,
            error: Some(why.to_string()),
            rtt: RttStats::default(),
        }
    }

    /// Adds one attempt and returns its failure, if it failed.
    pub fn add(&mut self, attempt: &Attempt) -> Option<Failure> {
        self.sent += 1;
        let addr = SocketAddr::new(self.address?, self.port);
        let failed = failure(attempt, &addr);
        if let Attempt::Open { rtt, local, banner } = attempt {
            self.connected += 1;
            self.rtt.add(*rtt);
            self.stats = self.rtt.summary();
            self.local = *local;
            if let Some(b) = banner {
                self.banner = Some(connect::escape(b));
            }
        }
        if let Some(f) = &failed {
            self.failure = Some(f.clone());
        }
        self.state = if self.connected > 0 {
            State::Open
        } else {
            self.failure
                .as_ref()
                .map(|f| f.state)
                .unwrap_or(State::Error)
        };
        failed
    }

    /// True when this target meets the expectation on every attempt.
    pub fn meets(&self, expect: Expect) -> bool {
        match expect {
            Expect::Open => self.sent > 0 && self.connected == self.sent,
            Expect::Closed => self.state != State::Unresolved && self.connected == 0,
        }
    }

    /// The detail column of a result line.
    pub fn detail(&self) -> String {
        if let Some(why) = &self.error {
            return why.clone();
        }
        let mut text = match (&self.stats, &self.failure) {
            (Some(s), None) => format!("{:.3} ms", s.avg_ms),
            (Some(s), Some(f)) => format!(
                "avg {:.3} ms, {} of {} failed (last: {})",
                s.avg_ms,
                self.sent - self.connected,
                self.sent,
                f.detail
            ),
            (None, Some(f)) => f.detail.clone(),
            (None, None) => String::new(),
        };
        if let Some(b) = &self.banner {
            text.push_str(&format!("  banner \"{b}\""));
        }
        text
    }
}

/// Milliseconds as f64.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Names up to three targets, then a count.
fn who(targets: &[&TargetResult]) -> String {
    let names: Vec<&str> = targets.iter().take(3).map(|t| t.target.as_str()).collect();
    match targets.len() {
        0 => "no target".into(),
        1..=3 => names.join(", "),
        n => format!("{n} targets (e.g. {})", names.join(", ")),
    }
}

/// Turns the results into diagnoses, worst first.
pub fn diagnoses(results: &[TargetResult], expect: Expect) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    let unresolved: Vec<&TargetResult> = results
        .iter()
        .filter(|r| r.state == State::Unresolved)
        .collect();
    if !unresolved.is_empty() {
        let why = unresolved[0].error.clone().unwrap_or_default();
        out.push(
            Diagnosis::new(
                RESOLVE_CODE,
                Severity::Critical,
                format!("{} did not resolve: {why}", who(&unresolved)),
            )
            .with("targets", evidence_targets(&unresolved)),
        );
    }
    match expect {
        Expect::Open => out.extend(open_diagnoses(results)),
        Expect::Closed => out.extend(closed_diagnoses(results)),
    }
    out.extend(address_diagnoses(results));
    for r in results.iter().filter(|r| r.banner.is_some()) {
        let banner = r.banner.as_deref().unwrap_or("");
        out.push(
            Diagnosis::new(
                "tcp.banner",
                Severity::Info,
                format!("{} greets with \"{banner}\"", r.target),
            )
            .with("target", &r.target)
            .with("banner", banner),
        );
    }
    out.sort_by_key(|d| std::cmp::Reverse(d.severity));
    out
}

/// Diagnoses when every target should accept connections.
fn open_diagnoses(results: &[TargetResult]) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    let mut codes: Vec<&'static str> = Vec::new();
    for r in results {
        if r.connected == 0 {
            if let Some(f) = &r.failure {
                if !codes.contains(&f.code) {
                    codes.push(f.code);
                }
            }
        }
    }
    for code in codes {
        let group: Vec<&TargetResult> = results
            .iter()
            .filter(|r| r.connected == 0 && r.failure.as_ref().map(|f| f.code) == Some(code))
            .collect();
        let Some(first) = group.first().and_then(|r| r.failure.as_ref()) else {
            continue;
        };
        let info = first.errno_number.and_then(errno::by_number);
        let mut d = Diagnosis::new(
            code,
            Severity::Critical,
            failure_summary(&group, first, info),
        )
        .with("targets", evidence_targets(&group))
        .with("count", group.len())
        .with("errno", first.errno);
        let routers: Vec<String> = unique(group.iter().filter_map(|r| {
            r.failure
                .as_ref()
                .and_then(|f| f.icmp)
                .map(|o| o.from.to_string())
        }));
        if !routers.is_empty() {
            d = d.with("icmp_from", routers);
        }
        out.push(d);
    }
    let flaky: Vec<&TargetResult> = results
        .iter()
        .filter(|r| r.connected > 0 && r.connected < r.sent)
        .collect();
    if !flaky.is_empty() {
        let last = flaky[0]
            .failure
            .as_ref()
            .map(|f| f.detail.clone())
            .unwrap_or_default();
        out.push(
            Diagnosis::new(
                "tcp.intermittent",
                Severity::Warning,
                format!(
                    "{} connected only some of the time ({} of {} attempts; last failure {last}): packet loss, an overloaded listener (full accept queue) or a flapping backend behind a load balancer",
                    who(&flaky),
                    flaky[0].connected,
                    flaky[0].sent
                ),
            )
            .with("targets", evidence_targets(&flaky)),
        );
    }
    let open: Vec<&TargetResult> = results.iter().filter(|r| r.connected > 0).collect();
    if !open.is_empty() && out.is_empty() {
        let mut all = RttStats::default();
        for r in &open {
            if let Some(s) = r.stats {
                all.add(Duration::from_secs_f64(s.avg_ms / 1000.0));
            }
        }
        let avg = all.summary().map(|s| s.avg_ms).unwrap_or(0.0);
        out.push(
            Diagnosis::new(
                "tcp.open",
                Severity::Ok,
                format!(
                    "{} accept{} connections (connect time {avg:.3} ms on average)",
                    if open.len() == 1 {
                        open[0].target.clone()
                    } else {
                        format!("all {} targets", open.len())
                    },
                    if open.len() == 1 { "s" } else { "" }
                ),
            )
            .with("count", open.len())
            .with("avg_ms", avg),
        );
    }
    out
}

/// One sentence for a group of targets that failed the same way.
fn failure_summary(group: &[&TargetResult], first: &Failure, info: Option<&ErrnoInfo>) -> String {
    let name = first.errno.unwrap_or("error");
    let check = info.map(|e| e.check).filter(|c| !c.is_empty());
    let why = match (first.state, first.icmp) {
        (State::Filtered, _) => format!(
            "no answer within {:.1} s — the SYN was dropped silently: a firewall or security group (a local OUTPUT drop looks the same), or the host is down",
            first.time_ms / 1000.0
        ),
        (_, Some(o)) => {
            let meaning = icmp::lookup(o.v6, o.icmp_type, o.code)
                .map(|i| i.meaning)
                .unwrap_or("");
            format!("{} sent by {}: {meaning}", icmp_words(&o), o.from)
        }
        (State::Unreachable, None) if first.local => {
            "this host has no route to the destination, so no packet left".into()
        }
        _ => info
            .map(|e| if e.client.is_empty() { e.meaning } else { e.client })
            .unwrap_or("")
            .to_string(),
    };
    match check {
        Some(c) => format!("{}: {name} — {why}. Check: {c}", who(group)),
        None => format!("{}: {name} — {why}", who(group)),
    }
}

/// Diagnoses for `--expect closed` (firewall audits).
fn closed_diagnoses(results: &[TargetResult]) -> Vec<Diagnosis> {
    let open: Vec<&TargetResult> = results.iter().filter(|r| r.connected > 0).collect();
    if !open.is_empty() {
        return vec![Diagnosis::new(
            "tcp.unexpectedly_open",
            Severity::Critical,
            format!(
                "{} accepted connections but must be closed: a firewall rule is missing or a service listens that should not",
                who(&open)
            ),
        )
        .with("targets", evidence_targets(&open))
        .with("count", open.len())];
    }
    let count = |s: State| results.iter().filter(|r| r.state == s).count();
    let probed = results
        .iter()
        .filter(|r| r.state != State::Unresolved)
        .count();
    if probed == 0 {
        return Vec::new();
    }
    vec![Diagnosis::new(
        "tcp.closed_as_expected",
        Severity::Ok,
        format!(
            "all {probed} target(s) are closed as expected ({} refused, {} filtered, {} unreachable, {} blocked locally)",
            count(State::Closed),
            count(State::Filtered),
            count(State::Unreachable),
            count(State::Blocked)
        ),
    )
    .with("count", probed)]
}

/// Names with several addresses where some answered and some did not.
fn address_diagnoses(results: &[TargetResult]) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    let keys: Vec<(String, u16)> = unique(
        results
            .iter()
            .filter(|r| crate::resolve::parse_literal(&r.host).is_none() && r.address.is_some())
            .map(|r| (r.host.clone(), r.port)),
    );
    for (host, port) in keys {
        let group: Vec<&TargetResult> = results
            .iter()
            .filter(|r| r.host == host && r.port == port && r.address.is_some())
            .collect();
        let good: Vec<String> = group
            .iter()
            .filter(|r| r.connected > 0)
            .filter_map(|r| r.address.map(|a| a.to_string()))
            .collect();
        let bad: Vec<String> = group
            .iter()
            .filter(|r| r.connected == 0)
            .filter_map(|r| r.address.map(|a| format!("{a} ({})", r.state.word())))
            .collect();
        if group.len() > 1 && !good.is_empty() && !bad.is_empty() {
            out.push(
                Diagnosis::new(
                    "tcp.some_addresses_fail",
                    Severity::Warning,
                    format!(
                        "{host}:{port} has {} addresses: {} answered, {} did not — clients that pick a failing address fail or stall",
                        group.len(),
                        good.join(", "),
                        bad.join(", ")
                    ),
                )
                .with("answered", good)
                .with("failed", bad),
            );
        }
    }
    out
}

/// At most 20 target labels for the evidence.
fn evidence_targets(group: &[&TargetResult]) -> Vec<String> {
    group.iter().take(20).map(|r| r.target.clone()).collect()
}

/// Keeps the first of each value, in order.
fn unique<T: PartialEq>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}
