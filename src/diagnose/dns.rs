//! What DNS answers mean: the rules that tell NXDOMAIN from "no data",
//! a dead resolver from a refusing one, and a search domain or a
//! split-horizon view from a real failure.

pub mod answer;
pub mod codes;
pub mod compare;
pub mod dnssec;
pub mod tls;
pub mod trace;

use super::{Diagnosis, Severity};
use answer::{failure_text, Answer, Failure, IcmpError, Status};
use compare::{Comparison, DiffKind};

/// Diagnoses for one name from all its answers (one per type asked).
pub fn for_name(answers: &[Answer]) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    let resolved: Vec<&Answer> = answers.iter().filter(|a| a.status.resolved()).collect();
    if let Some(first) = answers.first() {
        if let Some(suffix) = answers.iter().find_map(Answer::search_suffix) {
            out.push(
                Diagnosis::new(
                    "dns.search_domain",
                    Severity::Info,
                    format!(
                        "'{}' was completed with the search domain {suffix}: the answer is for {} — write the full name with a trailing dot to ask for exactly what you typed",
                        first.input,
                        answers
                            .iter()
                            .find(|a| a.search_suffix().is_some())
                            .map(|a| a.qname.as_str())
                            .unwrap_or("")
                    ),
                )
                .with("name", &first.input)
                .with("search_domain", suffix),
            );
        }
    }
    if answers
        .iter()
        .any(|a| a.truncated_udp && a.status != Status::TcpFallbackFailed)
    {
        out.push(
            Diagnosis::new(
                "dns.truncated",
                Severity::Info,
                "the UDP answer was truncated (TC) and was fetched again over TCP: TCP port 53 must stay open on the path, or large answers (DNSSEC, many records, long TXT) fail",
            )
            .with("name", answers.first().map(|a| a.input.clone())),
        );
    }
    let unrelated = unrelated_answer(answers);
    let has_unrelated = unrelated.is_some();
    out.extend(unrelated);
    out.extend(dead_nameserver(answers));
    if !resolved.is_empty() && !has_unrelated {
        let records: usize = resolved
            .iter()
            .map(|a| a.records.iter().filter(|r| r.rtype == a.qtype).count())
            .sum();
        let first = resolved[0];
        let missing: Vec<&str> = answers
            .iter()
            .filter(|a| a.status == Status::NoData)
            .map(|a| a.qtype.as_str())
            .collect();
        let mut summary = format!(
            "{} resolves: {records} record{} from {}",
            first.input,
            if records == 1 { "" } else { "s" },
            first.server.as_deref().unwrap_or(&first.source)
        );
        if !missing.is_empty() {
            summary.push_str(&format!(
                " (no {} record — fine unless you need it)",
                missing.join("/")
            ));
        }
        out.push(
            Diagnosis::new("dns.ok", Severity::Ok, summary)
                .with("name", &first.input)
                .with("records", records)
                .with("time_ms", first.time_ms),
        );
        return out;
    }
    // Nothing resolved: explain each distinct failure once.
    let mut seen: Vec<Status> = Vec::new();
    for a in answers {
        if seen.contains(&a.status) {
            continue;
        }
        seen.push(a.status);
        if let Some(d) = for_failure(a, answers) {
            out.push(d);
        }
    }
    out
}

/// The diagnosis for a question that got no data.
fn for_failure(a: &Answer, all: &[Answer]) -> Option<Diagnosis> {
    let server = a.server.clone().unwrap_or_else(|| a.source.clone());
    let types: Vec<&str> = all
        .iter()
        .filter(|x| x.status == a.status)
        .map(|x| x.qtype.as_str())
        .collect();
    let d = match a.status {
        Status::Answer | Status::Unrelated => return None,
        Status::NxDomain if is_reverse(&a.qname) => Diagnosis::new(
            "dns.nxdomain",
            Severity::Critical,
            format!(
                "{} has no reverse (PTR) name: {} is NXDOMAIN at {server} — the address's owner published no reverse record for it, which is common and says nothing about whether the address works",
                a.input, a.qname
            ),
        ),
        Status::NxDomain => Diagnosis::new(
            "dns.nxdomain",
            Severity::Critical,
            format!(
                "{} does not exist (NXDOMAIN from {server}): check the spelling and the zone; no record type will help",
                a.qname
            ),
        ),
        Status::CnameLoop => {
            let looped = a
                .cname_chain
                .last()
                .is_some_and(|last| a.cname_chain[..a.cname_chain.len() - 1].contains(last));
            Diagnosis::new(
                "dns.cname_loop",
                Severity::Critical,
                format!(
                    "the CNAME chain of {} {} ({}) — no resolver can reach data: fix the CNAME records in the zone",
                    a.qname,
                    if looped {
                        format!("loops back to {}", a.cname_chain.last().map(String::as_str).unwrap_or(""))
                    } else {
                        format!("is longer than {} hops", answer::MAX_CHAIN)
                    },
                    a.cname_chain.join(" → ")
                ),
            )
            .with("chain", &a.cname_chain)
            .with("loop", looped)
        }
        Status::NoData => Diagnosis::new(
            "dns.nodata",
            Severity::Critical,
            format!(
                "{} exists but has no {} record (NOERROR with no data, which is not NXDOMAIN): the zone lacks that record type{}",
                a.qname,
                types.join("/"),
                if a.cname_chain.len() > 1 {
                    format!(" at the end of the CNAME chain ({})", a.cname_chain.join(" → "))
                } else {
                    String::new()
                }
            ),
        ),
        Status::Referral => Diagnosis::new(
            "dns.referral",
            Severity::Warning,
            format!(
                "{server} does not answer for {} but delegates it (referral to {}): it is not recursive for you — ask a recursive resolver or the delegated servers",
                a.qname,
                a.authority
                    .iter()
                    .filter(|r| r.rtype == "NS")
                    .map(|r| r.data.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        Status::ServFail => Diagnosis::new(
            "dns.servfail",
            Severity::Critical,
            format!(
                "{server} answered SERVFAIL for {}: the resolver could not get an answer — often a DNSSEC validation failure or unreachable/lame authoritative servers upstream",
                a.qname
            ),
        ),
        Status::Refused => Diagnosis::new(
            "dns.refused",
            Severity::Critical,
            format!(
                "{server} REFUSED the question for {}: it does not serve this zone or does not offer recursion to this client (ACL) — use the resolver you are meant to use",
                a.qname
            ),
        ),
        Status::OtherRcode => Diagnosis::new(
            "dns.error_rcode",
            Severity::Critical,
            format!(
                "{server} answered {} for {}",
                a.rcode.as_deref().unwrap_or("an error"),
                a.qname
            ),
        ),
        Status::TcpFallbackFailed => return Some(tcp_fallback_failed(a, &server)),
        Status::Timeout | Status::ConnRefused | Status::Network | Status::Malformed => {
            return Some(unreachable(a, &server))
        }
    };
    Some(
        d.with("name", &a.input)
            .with("type", &a.qtype)
            .with("server", server),
    )
}

/// A big answer that UDP could only carry truncated, and TCP could not
/// carry at all: the classic firewall that opens UDP/53 but not TCP/53.
fn tcp_fallback_failed(a: &Answer, server: &str) -> Diagnosis {
    let port = server
        .parse::<std::net::SocketAddr>()
        .map(|s| s.port())
        .unwrap_or(53);
    let (kind, how) = match &a.failure {
        Some(Failure::Refused) => ("refused", "was refused (TCP reset)".to_string()),
        Some(Failure::Timeout) => (
            "timeout",
            format!("timed out after {:.1} s (silently dropped)", a.timeout_s),
        ),
        Some(Failure::TcpStalled) => (
            "stalled",
            format!(
                "connected but sent no answer within {:.1} s (the connection stalled)",
                a.timeout_s
            ),
        ),
        Some(other) => ("network", format!("failed: {}", failure_text(other))),
        None => ("none", "failed".to_string()),
    };
    let advice = if kind == "stalled" {
        "the path is open; the server (or a proxy in front of it) accepts TCP and does not answer — check its TCP service".to_string()
    } else {
        format!("open TCP port {port} on the path or the server")
    };
    Diagnosis::new(
        "dns.tcp_fallback_failed",
        Severity::Critical,
        format!(
            "the answer for {} {} is too big for UDP (the server set TC; {} record{} arrived over UDP) and TCP/{port} to {server} {how}: {advice}",
            a.qname,
            a.qtype,
            a.records.len(),
            if a.records.len() == 1 { "" } else { "s" }
        ),
    )
    .with("name", &a.input)
    .with("type", &a.qtype)
    .with("server", server)
    .with("kind", kind)
    .with("partial_records", a.records.len())
    .with("timeout_s", a.timeout_s)
}

/// The words for an ICMP error a query drew: who sent it and what it means.
fn icmp_words(e: &IcmpError, server: &str) -> String {
    let info = crate::diagnose::icmp::lookup(e.v6, e.icmp_type, e.code);
    let text = crate::diagnose::icmp::ping_text(e.v6, e.icmp_type, e.code);
    let meaning = info
        .map(|i| i.meaning)
        .unwrap_or("an ICMP error netdx does not know");
    let itself = server
        .parse::<std::net::SocketAddr>()
        .is_ok_and(|s| s.ip() == e.from);
    let who = if itself {
        format!("{server} itself")
    } else {
        format!("router {} on the way to {server}", e.from)
    };
    format!(
        "{who} rejected the query with ICMP {text} (type {}, code {}): {meaning}",
        e.icmp_type, e.code
    )
}

/// The sentence for a resolver that stayed silent.
fn timeout_words(who: &str, secs: f64) -> String {
    format!(
        "no answer from {who} within {secs:.1} s: the resolver is down, or a firewall silently drops port 53 on the way"
    )
}

/// getaddrinfo got no answer within its time limit: the same diagnosis a
/// timed-out `netdx dns` gives, built without asking the servers again.
pub fn resolver_silent(name: &str, servers: &str, secs: f64) -> Diagnosis {
    Diagnosis::new(
        "dns.server_unreachable",
        Severity::Critical,
        timeout_words(servers, secs),
    )
    .with("name", name)
    .with("server", servers)
    .with("kind", "timeout")
    .with("timeout_s", secs)
}

/// A resolver that did not answer: which one, and timeout vs refused.
fn unreachable(a: &Answer, server: &str) -> Diagnosis {
    match &a.failure {
        Some(Failure::Malformed(e)) => return malformed(a, server, e),
        Some(Failure::TcpStalled) => return tcp_stalled(a, server),
        Some(Failure::Tls(t)) => return tls::diagnosis(a, server, t),
        _ => {}
    }
    let servers: Vec<String> = a.attempts.iter().map(|t| t.server.clone()).collect();
    let mut unique = servers.clone();
    unique.dedup();
    let who = if unique.len() > 1 {
        unique.join(", ")
    } else {
        server.to_string()
    };
    let (kind, summary) = match &a.failure {
        Some(Failure::Refused) => (
            "refused",
            format!("nothing listens for DNS at {who} (ICMP port unreachable / TCP reset): the host is up but the DNS service is down or on another port"),
        ),
        Some(Failure::Timeout) => ("timeout", timeout_words(&who, a.timeout_s)),
        Some(Failure::Icmp(e)) => ("icmp", icmp_words(e, server)),
        Some(Failure::Network(e)) => (
            "network",
            format!("cannot reach {who}: {e} — check the route and the interface to the resolver"),
        ),
        Some(Failure::Malformed(_)) | Some(Failure::TcpStalled) | Some(Failure::Tls(_)) => {
            return malformed(a, server, "")
        }
        None => ("none", format!("no server answered for {}", a.qname)),
    };
    let mut d = Diagnosis::new("dns.server_unreachable", Severity::Critical, summary)
        .with("name", &a.input)
        .with("server", who)
        .with("kind", kind)
        .with("timeout_s", a.timeout_s);
    if let Some(Failure::Icmp(e)) = &a.failure {
        d = d
            .with("router", e.from)
            .with("icmp_type", e.icmp_type)
            .with("icmp_code", e.code);
    }
    d
}

/// A server that replied, but never with a valid answer: named for what
/// was wrong with the reply, not mistaken for silence.
fn malformed(a: &Answer, server: &str, error: &str) -> Diagnosis {
    Diagnosis::new(
        "dns.malformed_reply",
        Severity::Critical,
        format!(
            "{server} replied to the question for {} {} but not with a valid DNS answer: {error}; no valid reply followed within {:.1} s — a broken server, a middlebox rewriting DNS, or something else listening on that port",
            a.qname, a.qtype, a.timeout_s
        ),
    )
    .with("name", &a.input)
    .with("type", &a.qtype)
    .with("server", server)
    .with("error", error)
    .with("timeout_s", a.timeout_s)
}

/// A TCP connection that opened and then carried no answer.
fn tcp_stalled(a: &Answer, server: &str) -> Diagnosis {
    Diagnosis::new(
        "dns.tcp_stalled",
        Severity::Critical,
        format!(
            "TCP to {server} connected, but no answer for {} {} came back within {:.1} s: the server accepted the connection and stalled (overloaded, or a proxy/firewall that completes the handshake and drops the data) — the path is open, the service is not answering",
            a.qname, a.qtype, a.timeout_s
        ),
    )
    .with("name", &a.input)
    .with("type", &a.qtype)
    .with("server", server)
    .with("kind", "stalled")
    .with("timeout_s", a.timeout_s)
}

/// Answer-section records for names that are neither the question nor on
/// its CNAME chain: a resolver throws them away, so they never count.
fn unrelated_answer(answers: &[Answer]) -> Option<Diagnosis> {
    let a = answers.iter().find(|a| !a.unrelated.is_empty())?;
    let server = a.server.clone().unwrap_or_else(|| a.source.clone());
    let recs: Vec<String> = answers
        .iter()
        .flat_map(|a| a.unrelated.iter())
        .map(|r| format!("{} {} {}", r.name, r.rtype, r.data))
        .collect();
    let kept = answers.iter().any(|a| a.status.resolved());
    Some(
        Diagnosis::new(
            "dns.unrelated_answer",
            Severity::Critical,
            format!(
                "{server} answered the question for {} with records for other names ({}): a resolver discards them, so they were not counted{} — a broken or spoofing server, or a middlebox rewriting DNS",
                a.qname,
                recs.join("; "),
                if kept { "; the records for the name itself were kept" } else { " and the name did not resolve" }
            ),
        )
        .with("name", &a.input)
        .with("server", server)
        .with("unrelated", recs),
    )
}

/// A server that timed out before a later one answered: every lookup
/// through this list waits that long first.
fn dead_nameserver(answers: &[Answer]) -> Option<Diagnosis> {
    for a in answers {
        let Some(answered) = a.attempts.iter().rposition(|t| t.outcome != "timeout") else {
            continue;
        };
        let dead: Vec<_> = a.attempts[..answered]
            .iter()
            .filter(|t| t.outcome == "timeout" && t.server != a.attempts[answered].server)
            .collect();
        let Some(first) = dead.first() else { continue };
        let delay: f64 = dead.iter().map(|t| t.time_ms).sum();
        return Some(
            Diagnosis::new(
                "dns.dead_nameserver",
                Severity::Warning,
                format!(
                    "name server {} did not answer; {} did, after {delay:.0} ms of waiting — every lookup through {} pays that delay: remove or fix the dead server (or list it last)",
                    first.server, a.attempts[answered].server, a.source
                ),
            )
            .with("name", &a.input)
            .with("server", &first.server)
            .with("answered_by", &a.attempts[answered].server)
            .with("delay_ms", delay.round()),
        );
    }
    None
}

/// True for names under the reverse-mapping trees.
fn is_reverse(qname: &str) -> bool {
    let q = qname.trim_end_matches('.').to_ascii_lowercase();
    q.ends_with(".in-addr.arpa") || q.ends_with(".ip6.arpa")
}

/// The diagnosis for an answer that never arrived whole.
fn no_response(a: &Answer) -> Diagnosis {
    let server = a.server.as_deref().unwrap_or(&a.source);
    if a.status == Status::TcpFallbackFailed {
        tcp_fallback_failed(a, server)
    } else {
        unreachable(a, server)
    }
}

/// Diagnoses from `--compare` results.
pub fn for_comparisons(list: &[Comparison], answers: &[Answer]) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    for c in list {
        let d = match c.kind {
            DiffKind::Same => continue,
            DiffKind::Ttl => Diagnosis::new(
                "dns.ttl_differs",
                Severity::Info,
                format!(
                    "{} {}: same data, different TTLs ({}) — a cache counting down; stale only if the cache's TTL exceeds the authority's",
                    c.input,
                    c.qtype,
                    c.differences.join("; ")
                ),
            ),
            DiffKind::Answers | DiffKind::Status => Diagnosis::new(
                "dns.split_horizon",
                Severity::Warning,
                format!(
                    "{} {}: the system resolver and {} disagree ({}) — split-horizon views, a stale cache, or this machine points at the wrong resolver",
                    c.input,
                    c.qtype,
                    c.server,
                    c.differences.join("; ")
                ),
            ),
            DiffKind::Unreachable => {
                let side = answers
                    .iter()
                    .find(|a| {
                        a.input == c.input
                            && a.qtype == c.qtype
                            && a.status.no_response()
                            && (a.source == c.server || a.source == c.reference)
                    });
                match side {
                    Some(a) => no_response(a),
                    None => continue,
                }
            }
        };
        out.push(
            d.with("name", &c.input)
                .with("type", &c.qtype)
                .with("differences", &c.differences),
        );
    }
    if out.is_empty() && !list.is_empty() {
        out.push(Diagnosis::new(
            "dns.compare_agree",
            Severity::Ok,
            format!(
                "the system resolver and {} agree on every answer: this machine's DNS settings give the expected answers",
                {
                    let mut s: Vec<&str> = list.iter().map(|c| c.server.as_str()).collect();
                    s.dedup();
                    s.join(", ")
                }
            ),
        ));
    }
    // The same unreachable server is reported once.
    let mut seen: Vec<(String, String)> = Vec::new();
    out.retain(|d| {
        let key = (d.code.clone(), d.summary.clone());
        if seen.contains(&key) {
            false
        } else {
            seen.push(key);
            true
        }
    });
    out
}

/// Groups of at least this many names with the same finding are reported
/// as one diagnosis in a batch.
pub const GROUP_AT: usize = 3;

/// Folds a batch's per-name diagnoses the way `netdx tcp` folds its
/// targets: a finding shared by [`GROUP_AT`] or more names becomes one
/// diagnosis listing the names (evidence `names`, `count`, and the first
/// name's own summary as `example`); rarer findings stay as they are.
/// Order follows each finding's first appearance.
pub fn group(list: Vec<Diagnosis>) -> Vec<Diagnosis> {
    let mut grouper = Grouper::default();
    for d in list {
        grouper.push(d);
    }
    grouper.finish()
}

/// [`group`] fed one diagnosis at a time: a batch of 10,000 names holds
/// a name per finding, not 10,000 whole diagnoses, until the end.
#[derive(Debug, Default)]
pub struct Grouper {
    buckets: Vec<Bucket>,
}

/// One finding (code and severity) and the names that share it.
#[derive(Debug)]
struct Bucket {
    code: String,
    severity: Severity,
    count: usize,
    /// Every diagnosis while rarer than [`GROUP_AT`], then only the first.
    kept: Vec<Diagnosis>,
    names: Vec<String>,
}

impl Grouper {
    /// Adds one name's diagnosis.
    pub fn push(&mut self, d: Diagnosis) {
        let at = match self
            .buckets
            .iter()
            .position(|b| b.code == d.code && b.severity == d.severity)
        {
            Some(i) => i,
            None => {
                self.buckets.push(Bucket {
                    code: d.code.clone(),
                    severity: d.severity,
                    count: 0,
                    kept: Vec::new(),
                    names: Vec::new(),
                });
                self.buckets.len() - 1
            }
        };
        let bucket = &mut self.buckets[at];
        bucket.count += 1;
        if let Some(name) = d.evidence.get("name").and_then(|v| v.as_str()) {
            bucket.names.push(name.to_string());
        }
        if bucket.count < GROUP_AT {
            bucket.kept.push(d);
        } else {
            bucket.kept.truncate(1);
        }
    }

    /// The folded list, in order of each finding's first appearance.
    pub fn finish(self) -> Vec<Diagnosis> {
        let mut out = Vec::new();
        for bucket in self.buckets {
            if bucket.count < GROUP_AT {
                out.extend(bucket.kept);
                continue;
            }
            let Some(first) = bucket.kept.first() else {
                continue;
            };
            let names = bucket.names;
            let shown = names.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
            let more = names.len().saturating_sub(5);
            out.push(
                Diagnosis::new(
                    &bucket.code,
                    bucket.severity,
                    format!(
                        "{} names ({shown}{}) — like the first: {}",
                        bucket.count,
                        if more > 0 {
                            format!(" and {more} more")
                        } else {
                            String::new()
                        },
                        first.summary
                    ),
                )
                .with("count", bucket.count)
                .with("names", &names)
                .with("example", &first.evidence),
            );
        }
        out
    }
}
