//! The rules that turn `netdx tcp` probe results into diagnoses: which
//! failures are grouped, what each group is told, and when a name, an
//! address or a whole run earns its own finding. The words come from the
//! errno and ICMP tables so they match `netdx explain`; `src/tcp/` only
//! measures and renders.

use super::errno::{self, ErrnoInfo};
use super::{icmp, Diagnosis, Severity};
use crate::cli::Expect;
use crate::stats::RttStats;
use crate::tcp::report::{Failure, State, TargetResult};
use std::time::Duration;

/// Diagnosis code for errnos the table gives no code of its own.
pub const GENERIC_CODE: &str = "tcp.connect_error";
/// Diagnosis code for a router's firewall rejecting with an ICMP
/// administratively-prohibited (whatever errno the kernel maps it to).
pub const PROHIBITED_CODE: &str = "tcp.admin_prohibited";
/// Diagnosis code for a connect that met itself: a local target whose port
/// lies in the ephemeral range, nothing listening, and the kernel picked
/// that port as our source port. Not open, though connect() succeeded.
pub const SELF_CONNECT_CODE: &str = "tcp.self_connect";
/// Diagnosis code for names that do not resolve.
pub const RESOLVE_CODE: &str = "tcp.resolve_failed";

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
        let routers: Vec<String> = unique(group.iter().filter_map(|r| {
            r.failure
                .as_ref()
                .and_then(|f| f.icmp)
                .map(|o| o.from.to_string())
        }));
        let mut d = Diagnosis::new(
            code,
            Severity::Critical,
            failure_summary(&group, first, info, &routers),
        )
        .with("targets", evidence_targets(&group))
        .with("count", group.len())
        .with("errno", first.errno);
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

/// One sentence for a group of targets that failed the same way;
/// `routers` are the senders of the group's ICMP errors, in order.
fn failure_summary(
    group: &[&TargetResult],
    first: &Failure,
    info: Option<&ErrnoInfo>,
    routers: &[String],
) -> String {
    if first.code == SELF_CONNECT_CODE {
        return format!(
            "{}: self-connect — nothing listens: the port lies in this host's ephemeral range (net.ipv4.ip_local_port_range) and the kernel chose it as our source port, so the SYN met itself and connect() \"succeeded\" with local address = peer address; this is not a service. Check: start the service (`netdx sockets --port PORT`), or keep listening ports outside ip_local_port_range",
            who(group)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcp::connect::Attempt;
    use crate::tcp::report::Endpoint;

    /// A result for 198.18.1.2:`port` after one attempt.
    fn result(port: u16, attempt: Attempt) -> TargetResult {
        let ep = Endpoint {
            host: "198.18.1.2".into(),
            addr: std::net::SocketAddr::from(([198, 18, 1, 2], port)),
        };
        let mut r = TargetResult::new(&ep);
        r.add(&attempt);
        r
    }

    #[test]
    fn refused_and_timeout_are_diagnosed_here_from_the_errno_table() {
        let refused = result(
            3306,
            Attempt::Failed {
                errno: libc::ECONNREFUSED,
                elapsed: Duration::from_micros(100),
                icmp: None,
                immediate: false,
            },
        );
        let silent = result(
            9000,
            Attempt::Timeout {
                waited: Duration::from_secs(2),
            },
        );
        let found = diagnoses(&[refused, silent], Expect::Open);
        let codes: Vec<&str> = found.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["tcp.refused", "tcp.timeout"]);
        assert!(
            found[0]
                .summary
                .starts_with("198.18.1.2:3306: ECONNREFUSED — "),
            "{}",
            found[0].summary
        );
        assert!(
            found[1]
                .summary
                .contains("no answer within 2.0 s — the SYN was dropped silently"),
            "{}",
            found[1].summary
        );
    }

    #[test]
    fn the_tcp_report_holds_no_diagnosis_rules() {
        let report = include_str!("../tcp/report.rs");
        assert!(!report.contains("Diagnosis::new"));
        assert!(!report.contains("fn diagnoses"));
        assert!(!report.contains("fn failure_summary"));
    }
}
