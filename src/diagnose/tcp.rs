//! The rules that turn `netdx tcp` probe results into diagnoses: which
//! failures are grouped, what each group is told, and when a name, an
//! address or a whole run earns its own finding. The words come from the
//! errno and ICMP tables so they match `netdx explain`; `src/tcp/` only
//! measures and renders, and hands its results in as [`ConnectFact`]s.

use super::errno::{self, ErrnoInfo};
use super::{icmp, Diagnosis, Severity};
use crate::probe::connect::IcmpOrigin;
use crate::stats::RttStats;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::time::Duration;

/// The verdict for one target, in the words port scanners use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// The handshake completed.
    Open,
    /// RST: the host is up, nothing listens.
    Closed,
    /// The handshake completed, then the peer reset the connection at once:
    /// something listens and turns connections away.
    Reset,
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
            State::Reset => "reset",
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

/// What the run was meant to show: the targets accept connections, or
/// (a firewall audit) they refuse them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expectation {
    /// Every target should accept connections.
    Open,
    /// No target may accept connections.
    Closed,
}

/// How a target's last failed attempt failed, as the rules need it.
#[derive(Debug, Clone, Copy)]
pub struct FailureFact<'a> {
    /// The verdict the failure leads to.
    pub state: State,
    /// Symbolic errno, when there was one.
    pub errno: Option<&'static str>,
    /// Numeric errno, when there was one.
    pub errno_number: Option<i32>,
    /// Stable diagnosis code of the failure.
    pub code: &'static str,
    /// The words of the result line.
    pub detail: &'a str,
    /// The ICMP error behind it.
    pub icmp: Option<IcmpOrigin>,
    /// Time until the failure was known, in ms.
    pub time_ms: f64,
    /// True when no packet left this host.
    pub local: bool,
    /// For an RST from before the host: (RST TTL, host TTL, hops between).
    pub rst_before_host: Option<(u8, u8, u8)>,
}

/// What was found for one target (address:port, or a name that did not
/// resolve) over its attempts.
#[derive(Debug, Clone)]
pub struct ConnectFact<'a> {
    /// How the target is printed.
    pub target: &'a str,
    /// The host as typed.
    pub host: &'a str,
    /// The address probed (none when the name did not resolve).
    pub address: Option<IpAddr>,
    /// The port probed.
    pub port: u16,
    /// The verdict.
    pub state: State,
    /// Attempts made.
    pub sent: u64,
    /// Attempts that connected.
    pub connected: u64,
    /// Attempts whose handshake completed and was reset at once.
    pub reset_after_accept: u64,
    /// Average connect time of the successful attempts, in ms.
    pub avg_ms: Option<f64>,
    /// The last failure, if any attempt failed.
    pub failure: Option<FailureFact<'a>>,
    /// What the server sent first, escaped.
    pub banner: Option<&'a str>,
    /// Why the name did not resolve.
    pub error: Option<&'a str>,
}

/// Diagnosis code for errnos the table gives no code of its own.
pub const GENERIC_CODE: &str = "tcp.connect_error";
/// Diagnosis code for a router's firewall rejecting with an ICMP
/// administratively-prohibited (whatever errno the kernel maps it to).
pub const PROHIBITED_CODE: &str = "tcp.admin_prohibited";
/// Diagnosis code for a connect that met itself: a local target whose port
/// lies in the ephemeral range, nothing listening, and the kernel picked
/// that port as our source port. Not open, though connect() succeeded.
pub const SELF_CONNECT_CODE: &str = "tcp.self_connect";
/// Diagnosis code for a handshake that completed and was reset at once.
pub const RESET_AFTER_ACCEPT_CODE: &str = "tcp.reset_after_accept";
/// Diagnosis code for an RST whose TTL shows it came from a device before
/// the host (a firewall's `reject with tcp-reset`), not the host.
pub const MIDDLEBOX_RESET_CODE: &str = "tcp.reset_by_middlebox";
/// Diagnosis code for a silent port on a host whose other ports answer.
pub const SILENT_PORT_CODE: &str = "tcp.silent_port";
/// Diagnosis code for names that do not resolve.
pub const RESOLVE_CODE: &str = "tcp.resolve_failed";

/// Targets a large scan left out of the facts because they failed the
/// plainest way (one attempt, RST, no ICMP error, an address literal):
/// counted, with their ports per address, so a scan of 65,535 ports does
/// not hold a record per closed port. The facts keep the first few of them
/// in order, so every group still has its examples.
#[derive(Debug, Clone, Default)]
pub struct Folded {
    /// The diagnosis code they share (their failure's).
    pub code: &'static str,
    /// How many were left out.
    pub count: usize,
    /// Their ports, per address, in input order.
    pub ports: HashMap<IpAddr, Vec<u16>>,
}

impl Folded {
    /// Targets left out that a group of failures with `code` stands for.
    fn extra(&self, code: &str) -> usize {
        if self.count > 0 && code == self.code {
            self.count
        } else {
            0
        }
    }
}

/// Names up to three targets, then a count.
fn who(targets: &[&ConnectFact<'_>]) -> String {
    who_of(targets, targets.len())
}

/// Names up to three of `targets`, then `total` (the targets plus any
/// folded ones they stand for).
fn who_of(targets: &[&ConnectFact<'_>], total: usize) -> String {
    let names: Vec<&str> = targets.iter().take(3).map(|t| t.target).collect();
    match total.max(targets.len()) {
        0 => "no target".into(),
        1..=3 => names.join(", "),
        n => format!("{n} targets (e.g. {})", names.join(", ")),
    }
}

/// Turns the results into diagnoses, worst first.
pub fn diagnoses(results: &[ConnectFact<'_>], expect: Expectation) -> Vec<Diagnosis> {
    diagnoses_folded(results, &Folded::default(), expect)
}

/// [`diagnoses`] for a scan that folded its plainest failures into
/// `folded`: the same findings, counted as if every target were a fact.
pub fn diagnoses_folded(
    results: &[ConnectFact<'_>],
    folded: &Folded,
    expect: Expectation,
) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    let unresolved: Vec<&ConnectFact<'_>> = results
        .iter()
        .filter(|r| r.state == State::Unresolved)
        .collect();
    if !unresolved.is_empty() {
        let why = unresolved[0].error.unwrap_or_default();
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
        Expectation::Open => out.extend(open_diagnoses(results, folded)),
        Expectation::Closed => out.extend(closed_diagnoses(results, folded)),
    }
    out.extend(address_diagnoses(results));
    for r in results.iter().filter(|r| r.banner.is_some()) {
        let banner = r.banner.unwrap_or("");
        out.push(
            Diagnosis::new(
                "tcp.banner",
                Severity::Info,
                format!("{} greets with \"{banner}\"", r.target),
            )
            .with("target", r.target)
            .with("banner", banner),
        );
    }
    out.sort_by_key(|d| std::cmp::Reverse(d.severity));
    out
}

/// Diagnoses when every target should accept connections.
fn open_diagnoses(results: &[ConnectFact<'_>], folded: &Folded) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    let mut codes: Vec<&'static str> = Vec::new();
    let mut live = answering_addresses(results);
    live.extend(folded.ports.keys().copied());
    for r in results {
        if r.connected == 0 {
            if let Some(code) = failure_code(r, &live) {
                if !codes.contains(&code) {
                    codes.push(code);
                }
            }
        }
    }
    for code in codes {
        let group: Vec<&ConnectFact<'_>> = results
            .iter()
            .filter(|r| r.connected == 0 && failure_code(r, &live) == Some(code))
            .collect();
        if code == SILENT_PORT_CODE {
            out.push(silent_port(&group, results, folded));
            continue;
        }
        let total = group.len() + folded.extra(code);
        let Some(first) = group.first().and_then(|r| r.failure.as_ref()) else {
            continue;
        };
        let info = first.errno_number.and_then(errno::by_number);
        let routers: Vec<String> = unique(group.iter().filter_map(|r| {
            r.failure
                .as_ref()
                .and_then(|f| f.icmp)
                .map(|o| o.from.to_string())
        }));
        let mut d = Diagnosis::new(
            code,
            Severity::Critical,
            failure_summary(&group, total, first, info, &routers),
        )
        .with("targets", evidence_targets(&group))
        .with("count", total)
        .with("errno", first.errno);
        if !routers.is_empty() {
            d = d.with("icmp_from", routers);
        }
        if let Some((rst, host, hops)) = first.rst_before_host {
            d = d
                .with("rst_ttl", rst)
                .with("host_ttl", host)
                .with("hops_before_host", hops);
        }
        out.push(d);
    }
    let flaky: Vec<&ConnectFact<'_>> = results
        .iter()
        .filter(|r| r.connected > 0 && r.connected < r.sent)
        .collect();
    if !flaky.is_empty() {
        let last = flaky[0]
            .failure
            .as_ref()
            .map(|f| f.detail.to_string())
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
    let open: Vec<&ConnectFact<'_>> = results.iter().filter(|r| r.connected > 0).collect();
    if !open.is_empty() && out.is_empty() {
        let mut all = RttStats::default();
        for r in &open {
            if let Some(avg_ms) = r.avg_ms {
                all.add(Duration::from_secs_f64(avg_ms / 1000.0));
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
                        open[0].target.to_string()
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

/// The code a failed target is grouped under: its failure's, except that a
/// silent port on a host that answered on another port is its own finding.
fn failure_code(r: &ConnectFact<'_>, live: &HashSet<IpAddr>) -> Option<&'static str> {
    let f = r.failure.as_ref()?;
    // A filtered port never answered, so any answer from its address came
    // from another port.
    if f.state == State::Filtered && r.address.is_some_and(|a| live.contains(&a)) {
        return Some(SILENT_PORT_CODE);
    }
    Some(f.code)
}

/// Addresses that answered on some port (handshake or RST), found once so
/// that classifying each silent port stays constant time on large scans.
fn answering_addresses(all: &[ConnectFact<'_>]) -> HashSet<IpAddr> {
    all.iter()
        .filter(|o| answered(o))
        .filter_map(|o| o.address)
        .collect()
}

/// True when the target answered (handshake or RST).
fn answered(o: &ConnectFact<'_>) -> bool {
    o.connected > 0 || matches!(o.state, State::Closed | State::Reset | State::Open)
}

/// Other ports of the same address that answered (handshake or RST);
/// ascending when folded ports join them.
fn answering_ports(r: &ConnectFact<'_>, all: &[ConnectFact<'_>], folded: &Folded) -> Vec<u16> {
    let Some(addr) = r.address else {
        return Vec::new();
    };
    let mut seen = HashSet::new();
    let mut ports: Vec<u16> = all
        .iter()
        .filter(|o| o.address == Some(addr) && o.port != r.port)
        .filter(|o| answered(o))
        .map(|o| o.port)
        .filter(|p| seen.insert(*p))
        .collect();
    if let Some(more) = folded.ports.get(&addr) {
        ports.extend(more.iter().filter(|p| **p != r.port && seen.insert(**p)));
        ports.sort_unstable();
    }
    ports
}

/// Silent ports on hosts that answer elsewhere: the SYN reached a live host
/// and vanished, which a port filter does, and so does a listener whose
/// accept queue is full (Linux drops the SYN and counts ListenOverflows).
fn silent_port(group: &[&ConnectFact<'_>], all: &[ConnectFact<'_>], folded: &Folded) -> Diagnosis {
    let answered: Vec<u16> = group
        .first()
        .map(|r| answering_ports(r, all, folded))
        .unwrap_or_default();
    let shown: Vec<String> = answered.iter().take(5).map(u16::to_string).collect();
    let wait = group
        .first()
        .and_then(|r| r.failure.as_ref())
        .map_or(0.0, |f| f.time_ms / 1000.0);
    Diagnosis::new(
        SILENT_PORT_CODE,
        Severity::Critical,
        format!(
            "{}: no answer within {wait:.1} s, though the same host answers on port(s) {} — the host is up, so the SYN was dropped for this port only: a listener whose accept queue is full (the application stopped calling accept(); Linux drops SYNs then) or a port filter (firewall rule for this port). Tell them apart on the server: `netdx sockets --port PORT` (LISTEN Recv-Q at its backlog = full queue) and `nstat -az TcpExtListenOverflows` rising; no listener and no overflow = a filter",
            who(group),
            shown.join(", ")
        ),
    )
    .with("targets", evidence_targets(group))
    .with("count", group.len())
    .with("answering_ports", answered)
    .with("errno", "ETIMEDOUT")
}

/// One sentence for a group of targets that failed the same way;
/// `routers` are the senders of the group's ICMP errors, in order.
fn failure_summary(
    group: &[&ConnectFact<'_>],
    total: usize,
    first: &FailureFact<'_>,
    info: Option<&ErrnoInfo>,
    routers: &[String],
) -> String {
    if first.code == RESET_AFTER_ACCEPT_CODE {
        return format!(
            "{}: the handshake completed, then the server reset the connection before any data ({}) — something listens and accepts, then aborts (closes with SO_LINGER 0, crashes after accept, or a proxy with no healthy backend); \
             not a firewall and not a closed port. Check: the listening application's logs and its connection limit (`netdx sockets --port PORT` on the server)",
            who_of(group, total),
            first.detail
        );
    }
    if first.code == MIDDLEBOX_RESET_CODE {
        let (rst, host, hops) = first.rst_before_host.unwrap_or((0, 0, 1));
        return format!(
            "{}: ECONNREFUSED, but the RST came from a device {hops} hop(s) before the host (RST TTL {rst}, the host's SYN-ACK TTL {host}) — a firewall `reject with tcp-reset` on the path refused it, not the host. \
             Check: the firewall rules of the routers before the host (`netdx trace HOST -T -p PORT` shows how far the SYN gets); the host itself may well listen",
            who_of(group, total)
        );
    }
    if first.code == SELF_CONNECT_CODE {
        return format!(
            "{}: self-connect — nothing listens: the port lies in this host's ephemeral range (net.ipv4.ip_local_port_range) and the kernel chose it as our source port, so the SYN met itself and connect() \"succeeded\" with local address = peer address; this is not a service. Check: start the service (`netdx sockets --port PORT`), or keep listening ports outside ip_local_port_range",
            who_of(group, total)
        );
    }
    let name = first.errno.unwrap_or("error");
    // An ICMP error names the machine that refused: the advice is about
    // that router (from the ICMP table), never this host's own firewall,
    // which the errno table's advice (EACCES for ICMPv6 admin-prohibited)
    // would point at. The errno's advice is for errors raised here.
    let check = match first.icmp {
        Some(o) => Some(icmp::check_sender(
            o.v6,
            o.icmp_type,
            o.code,
            &routers.join(" and "),
        )),
        None => info
            .map(|e| e.check)
            .filter(|c| !c.is_empty())
            .map(str::to_string),
    };
    let why = match (first.state, first.icmp) {
        (State::Filtered, _) => format!(
            "no answer within {:.1} s — the SYN was dropped silently: a firewall or security group (a local OUTPUT drop looks the same), or the host is down",
            first.time_ms / 1000.0
        ),
        (_, Some(o)) => {
            let meaning = icmp::lookup(o.v6, o.icmp_type, o.code)
                .map(|i| i.meaning)
                .unwrap_or("");
            format!(
                "{} sent by {}: {meaning}",
                icmp::describe(o.v6, o.icmp_type, o.code),
                o.from
            )
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
        Some(c) => format!("{}: {name} — {why}. Check: {c}", who_of(group, total)),
        None => format!("{}: {name} — {why}", who_of(group, total)),
    }
}

/// Diagnoses for `--expect closed` (firewall audits).
fn closed_diagnoses(results: &[ConnectFact<'_>], folded: &Folded) -> Vec<Diagnosis> {
    let open: Vec<&ConnectFact<'_>> = results
        .iter()
        .filter(|r| r.connected > 0 || r.reset_after_accept > 0)
        .collect();
    if !open.is_empty() {
        return vec![Diagnosis::new(
            "tcp.unexpectedly_open",
            Severity::Critical,
            format!(
                "{} accepted connections but must be closed{}: a firewall rule is missing or a service listens that should not",
                who(&open),
                if open.iter().any(|r| r.reset_after_accept > 0) {
                    " (a completed handshake counts, even one the application reset at once: the port is reachable)"
                } else {
                    ""
                }
            ),
        )
        .with("targets", evidence_targets(&open))
        .with("count", open.len())];
    }
    let count = |s: State| {
        results.iter().filter(|r| r.state == s).count()
            + if s == State::Closed { folded.count } else { 0 }
    };
    let probed = results
        .iter()
        .filter(|r| r.state != State::Unresolved)
        .count()
        + folded.count;
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

/// True when a target was typed as a name, not an address literal
/// (`[2001:db8::1]` included), so it may stand for several addresses.
fn is_name(host: &str) -> bool {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
        .is_err()
}

/// Names with several addresses where some answered and some did not.
fn address_diagnoses(results: &[ConnectFact<'_>]) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    let keys: Vec<(&str, u16)> = unique(
        results
            .iter()
            .filter(|r| is_name(r.host) && r.address.is_some())
            .map(|r| (r.host, r.port)),
    );
    for (host, port) in keys {
        let group: Vec<&ConnectFact<'_>> = results
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
fn evidence_targets(group: &[&ConnectFact<'_>]) -> Vec<String> {
    group
        .iter()
        .take(20)
        .map(|r| r.target.to_string())
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The fact for 198.18.1.2:`port` after one failed attempt.
    fn failed<'a>(target: &'a str, port: u16, failure: FailureFact<'a>) -> ConnectFact<'a> {
        ConnectFact {
            target,
            host: "198.18.1.2",
            address: Some(IpAddr::from([198, 18, 1, 2])),
            port,
            state: failure.state,
            sent: 1,
            connected: 0,
            reset_after_accept: 0,
            avg_ms: None,
            failure: Some(failure),
            banner: None,
            error: None,
        }
    }

    #[test]
    fn refused_and_timeout_are_diagnosed_here_from_the_errno_table() {
        let refused = failed(
            "198.18.1.2:3306",
            3306,
            FailureFact {
                state: State::Closed,
                errno: Some("ECONNREFUSED"),
                errno_number: Some(libc::ECONNREFUSED),
                code: "tcp.refused",
                detail: "ECONNREFUSED: RST from the host in 0.100 ms",
                icmp: None,
                time_ms: 0.1,
                local: false,
                rst_before_host: None,
            },
        );
        let silent = failed(
            "198.18.1.2:9000",
            9000,
            FailureFact {
                state: State::Filtered,
                errno: Some("ETIMEDOUT"),
                errno_number: Some(libc::ETIMEDOUT),
                code: "tcp.timeout",
                detail: "no answer in 2.0 s",
                icmp: None,
                time_ms: 2000.0,
                local: false,
                rst_before_host: None,
            },
        );
        let alone = diagnoses(std::slice::from_ref(&silent), Expectation::Open);
        assert!(
            alone[0]
                .summary
                .contains("no answer within 2.0 s — the SYN was dropped silently"),
            "{}",
            alone[0].summary
        );
        let found = diagnoses(&[refused, silent], Expectation::Open);
        let codes: Vec<&str> = found.iter().map(|d| d.code.as_str()).collect();
        // The host answered on 3306, so the silent 9000 is a port matter.
        assert_eq!(codes, ["tcp.refused", SILENT_PORT_CODE]);
        assert!(
            found[0]
                .summary
                .starts_with("198.18.1.2:3306: ECONNREFUSED — "),
            "{}",
            found[0].summary
        );
        assert!(
            found[1].summary.contains("accept queue is full"),
            "{}",
            found[1].summary
        );
    }

    #[test]
    fn the_tcp_report_holds_no_diagnosis_rules() {
        let report = include_str!("../tcp/report.rs");
        assert!(!report.contains("Diagnosis::new"));
        assert!(!report.contains("fn diagnoses(results"));
        assert!(!report.contains("fn open_diagnoses"));
        assert!(!report.contains("fn failure_summary"));
    }

    #[test]
    fn diagnose_depends_on_no_command_module() {
        for (name, text) in [
            ("tcp.rs", include_str!("tcp.rs")),
            ("errno.rs", include_str!("errno.rs")),
        ] {
            for module in ["tcp", "cli"] {
                let path = format!("crate::{module}");
                assert!(!text.contains(&path), "{name} reaches {path}");
            }
        }
    }
}
