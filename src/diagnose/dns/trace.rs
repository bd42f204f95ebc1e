//! The facts of an iterative resolution (`netdx dns NAME --trace`) and the
//! rules that read them: lame delegations, parent/child disagreements,
//! missing glue and dead servers, each named with the server and the zone.

use super::answer::Rec;
use crate::diagnose::{Diagnosis, Severity};
use serde::Serialize;

/// One authoritative server: its name and the address that was asked.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct ServerAddr {
    /// Host name of the server (from the NS set or the root hints).
    pub name: String,
    /// The address asked.
    pub address: String,
}

/// What one step ended with.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// A delegation to a zone further down (NS set + glue).
    Referral,
    /// Authoritative data for the name asked.
    Answer,
    /// An authoritative CNAME pointing elsewhere: the trace restarts for its target.
    Cname,
    /// Authoritative NXDOMAIN.
    NxDomain,
    /// Authoritative NOERROR without data of the type asked.
    NoData,
}

/// Why a server of a zone did not do its job.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// No reply within the step timeout (all retries).
    Timeout,
    /// A reply that was not an authoritative answer for the zone:
    /// REFUSED, SERVFAIL, no AA flag, or a referral upward or to itself.
    Lame,
    /// A referral back to the zone asked (or above it): following it would loop.
    ReferralLoop,
    /// Port unreachable, an ICMP error or a network error.
    Unreachable,
    /// A reply that does not parse or does not match the question.
    Malformed,
}

/// A server that was tried and did not serve the step; the trace moved on.
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Attempt {
    /// The zone the server is listed for.
    pub zone: String,
    /// The server and the address asked.
    pub server: ServerAddr,
    /// What went wrong.
    pub fault: Fault,
    /// Details: the rcode, the flags or the error text.
    pub detail: String,
    /// Time spent on this server (for a timeout: the delay it costs).
    pub time_ms: f64,
}

/// One step of the iteration: a question to one server of one zone.
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Step {
    /// The zone whose server was asked (`.` for the root).
    pub zone: String,
    /// The name asked at this step (a CNAME target after a CNAME).
    pub qname: String,
    /// The type asked.
    pub qtype: String,
    /// The server that gave this step's reply.
    pub server: ServerAddr,
    /// What the reply was.
    pub kind: StepKind,
    /// The response code (NOERROR, NXDOMAIN).
    pub rcode: String,
    /// The AA flag of the reply.
    pub aa: bool,
    /// For a referral: the zone delegated to.
    pub referral: Option<String>,
    /// For a referral: the NS names of the delegation, in the order tried.
    pub ns: Vec<String>,
    /// For a referral: the glue addresses that came with it.
    pub glue: Vec<Rec>,
    /// The answer section (records for the name and its CNAME chain).
    pub answer: Vec<Rec>,
    /// The authority section.
    pub authority: Vec<Rec>,
    /// Round-trip time of the reply.
    pub time_ms: f64,
    /// Servers of the zone tried before this one, and why they failed.
    pub failed: Vec<Attempt>,
}

/// An NS name without an address in the referral.
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct MissingGlue {
    /// The zone delegated.
    pub zone: String,
    /// The NS name inside that zone that came without glue.
    pub ns: String,
    /// The parent zone that should have sent the glue.
    pub parent: String,
}

/// A glueless NS name that was itself resolved from the root.
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct NsLookup {
    /// The NS host name.
    pub name: String,
    /// Its addresses (empty when it did not resolve).
    pub addresses: Vec<String>,
    /// Queries that took.
    pub queries: usize,
    /// Why it did not resolve.
    pub error: Option<String>,
}

/// How one server of a delegated zone answered the audit questions
/// (SOA and NS of the zone, and the final question for the last zone).
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct ServerView {
    /// The server and address asked.
    pub server: ServerAddr,
    /// The fault when the server did not answer authoritatively.
    pub fault: Option<Fault>,
    /// Details of the fault.
    pub detail: Option<String>,
    /// SOA serial it serves.
    pub serial: Option<u32>,
    /// The zone's apex NS set as this server serves it (sorted).
    pub apex_ns: Vec<String>,
    /// Its answer to the final question, sorted data (last zone only).
    pub answer: Option<Vec<String>>,
    /// Time of the SOA question.
    pub time_ms: f64,
}

/// Every listed server of one delegated zone, asked the same questions.
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct ZoneAudit {
    /// The zone.
    pub zone: String,
    /// The NS set the parent delegates with (sorted).
    pub parent_ns: Vec<String>,
    /// One view per server address.
    pub servers: Vec<ServerView>,
}

/// How the trace ended.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TraceEnd {
    /// Authoritative data of the type asked.
    Answer,
    /// Authoritative NXDOMAIN.
    NxDomain,
    /// Authoritative NOERROR without the type asked.
    NoData,
    /// No server of some zone gave a usable reply.
    Failed,
    /// A referral or CNAME loop, an NS lookup cycle, or a chain over the limits.
    Loop,
}

/// The whole iterative resolution.
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Trace {
    /// The name traced.
    pub name: String,
    /// The type asked.
    pub qtype: String,
    /// Where the root servers came from (`built-in` or the file).
    pub root_hints: String,
    /// The steps in order.
    pub steps: Vec<Step>,
    /// How it ended.
    pub end: TraceEnd,
    /// Final answer records (the CNAME chain included).
    pub answer: Vec<Rec>,
    /// The authority section of the final reply.
    pub authority: Vec<Rec>,
    /// The zone that gave the final reply.
    pub final_zone: Option<String>,
    /// Names on the CNAME chain, the name asked first (empty without CNAME).
    pub cname_chain: Vec<String>,
    /// Why the trace stopped, for `failed` and `loop`.
    pub error: Option<String>,
    /// The servers of the zone where the trace stopped, each failed.
    pub stuck: Vec<Attempt>,
    /// In-zone NS names delegated without glue.
    pub missing_glue: Vec<MissingGlue>,
    /// Glueless NS names resolved on the way.
    pub ns_lookups: Vec<NsLookup>,
    /// Every delegated zone's servers, asked the same questions.
    pub zones: Vec<ZoneAudit>,
    /// Queries sent in all.
    pub queries: usize,
    /// Per-server timeout used, in seconds.
    pub timeout_s: f64,
    /// Wall time.
    pub time_ms: f64,
}

impl Trace {
    /// True when the trace reached authoritative data.
    pub fn resolved(&self) -> bool {
        self.end == TraceEnd::Answer
    }
}

/// `ns1.example. (198.18.0.1)`
fn who(s: &ServerAddr) -> String {
    format!("{} ({})", s.name, s.address)
}

/// Every finding of a trace: the outcome first, then the delegation problems.
pub fn diagnose(t: &Trace) -> Vec<Diagnosis> {
    let mut out = vec![outcome(t)];
    out.extend(timeouts(t));
    out.extend(lame(t));
    out.extend(missing_glue(t));
    out.extend(mismatches(t));
    out
}

fn outcome(t: &Trace) -> Diagnosis {
    let zones: Vec<&str> = {
        let mut z: Vec<&str> = Vec::new();
        for s in &t.steps {
            if !z.contains(&s.zone.as_str()) {
                z.push(&s.zone);
            }
        }
        z
    };
    let by = t
        .steps
        .last()
        .map(|s| who(&s.server))
        .unwrap_or_else(|| "no server".into());
    let d = match t.end {
        TraceEnd::Answer => {
            let data: Vec<String> = t
                .answer
                .iter()
                .filter(|r| r.rtype == t.qtype)
                .map(|r| r.data.clone())
                .collect();
            Diagnosis::new(
                "dns.trace_ok",
                Severity::Ok,
                format!(
                    "{} {} resolves from the root in {} steps ({} queries, {:.0} ms) through {}: {} — answered authoritatively by {by}",
                    t.name,
                    t.qtype,
                    t.steps.len(),
                    t.queries,
                    t.time_ms,
                    zones.join(" → "),
                    data.join(", ")
                ),
            )
            .with("answer", data)
        }
        TraceEnd::NxDomain => Diagnosis::new(
            "dns.nxdomain",
            Severity::Critical,
            format!(
                "{} does not exist: {by}, authoritative for {}, answered NXDOMAIN",
                t.cname_chain.last().unwrap_or(&t.name),
                t.final_zone.as_deref().unwrap_or("?")
            ),
        ),
        TraceEnd::NoData => Diagnosis::new(
            "dns.nodata",
            Severity::Critical,
            format!(
                "{} exists but has no {} record: {by}, authoritative for {}, answered NOERROR with no data",
                t.cname_chain.last().unwrap_or(&t.name),
                t.qtype,
                t.final_zone.as_deref().unwrap_or("?")
            ),
        ),
        TraceEnd::Failed => Diagnosis::new(
            "dns.trace_failed",
            Severity::Critical,
            format!(
                "the trace of {} stopped: {} — no resolver can resolve this name while that lasts",
                t.name,
                t.error.as_deref().unwrap_or("no server answered")
            ),
        ),
        TraceEnd::Loop => Diagnosis::new(
            "dns.trace_loop",
            Severity::Critical,
            format!(
                "the trace of {} cannot end: {} — resolvers give up with SERVFAIL",
                t.name,
                t.error.as_deref().unwrap_or("a loop")
            ),
        ),
    };
    d.with("name", &t.name)
        .with("type", &t.qtype)
        .with("zones", &zones)
        .with("steps", t.steps.len())
        .with("queries", t.queries)
        .with("time_ms", t.time_ms.round())
}

/// Every (zone, server, fault) seen, from the steps and the audits, once.
fn faults(t: &Trace) -> Vec<(String, ServerAddr, Fault, String, f64)> {
    let mut out: Vec<(String, ServerAddr, Fault, String, f64)> = Vec::new();
    let mut push = |zone: &str, s: &ServerAddr, f: Fault, detail: &str, ms: f64| {
        if !out
            .iter()
            .any(|(z, o, _, _, _)| z == zone && o.address == s.address)
        {
            out.push((zone.to_string(), s.clone(), f, detail.to_string(), ms));
        }
    };
    for a in t.steps.iter().flat_map(|s| s.failed.iter()).chain(&t.stuck) {
        push(&a.zone, &a.server, a.fault, &a.detail, a.time_ms);
    }
    for z in &t.zones {
        for v in &z.servers {
            if let Some(f) = v.fault {
                push(
                    &z.zone,
                    &v.server,
                    f,
                    v.detail.as_deref().unwrap_or(""),
                    v.time_ms,
                );
            }
        }
    }
    out
}

fn timeouts(t: &Trace) -> Vec<Diagnosis> {
    faults(t)
        .into_iter()
        .filter(|f| f.2 == Fault::Timeout)
        .map(|(zone, s, _, _, ms)| {
            // The delay the trace itself paid (zero when only the audit saw it).
            let paid: f64 = t
                .steps
                .iter()
                .flat_map(|st| st.failed.iter())
                .filter(|a| a.server.address == s.address && a.fault == Fault::Timeout)
                .map(|a| a.time_ms)
                .sum();
            let next = t
                .steps
                .iter()
                .find(|st| st.failed.iter().any(|a| a.server.address == s.address))
                .map(|st| who(&st.server));
            let how = match next {
                Some(n) => format!(
                    "the trace waited {paid:.0} ms for it, then {n} answered — every resolver that picks it first pays that delay"
                ),
                None => format!(
                    "it was silent for {ms:.0} ms when asked directly; resolvers that pick it wait that long before trying another server"
                ),
            };
            Diagnosis::new(
                "dns.step_timeout",
                Severity::Warning,
                format!(
                    "{} listed for {zone} does not answer: {how}; fix the server or remove it from the NS set",
                    who(&s)
                ),
            )
            .with("zone", &zone)
            .with("server", &s.name)
            .with("address", &s.address)
            .with("delay_ms", if paid > 0.0 { paid.round() } else { ms.round() })
        })
        .collect()
}

fn lame(t: &Trace) -> Vec<Diagnosis> {
    faults(t)
        .into_iter()
        .filter(|f| matches!(f.2, Fault::Lame | Fault::ReferralLoop))
        .map(|(zone, s, fault, detail, _)| {
            Diagnosis::new(
                "dns.lame_delegation",
                if t.end == TraceEnd::Answer {
                    Severity::Warning
                } else {
                    Severity::Critical
                },
                format!(
                    "lame delegation: {} is listed as a server of {zone} but does not answer for it authoritatively ({detail}) — resolvers that ask it lose time or fail; serve the zone there or remove it from the NS set at the parent and in the zone",
                    who(&s)
                ),
            )
            .with("zone", &zone)
            .with("server", &s.name)
            .with("address", &s.address)
            .with("detail", &detail)
            .with("referral_loop", fault == Fault::ReferralLoop)
        })
        .collect()
}

fn missing_glue(t: &Trace) -> Vec<Diagnosis> {
    t.missing_glue
        .iter()
        .map(|m| {
            Diagnosis::new(
                "dns.missing_glue",
                Severity::Warning,
                format!(
                    "{} delegates {} to {}, a name inside {}, without its address (glue): nobody can reach that server without already knowing the zone — add the A/AAAA glue at {}",
                    m.parent, m.zone, m.ns, m.zone, m.parent
                ),
            )
            .with("zone", &m.zone)
            .with("ns", &m.ns)
            .with("parent", &m.parent)
        })
        .collect()
}

fn mismatches(t: &Trace) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    for z in &t.zones {
        let good: Vec<&ServerView> = z.servers.iter().filter(|v| v.fault.is_none()).collect();
        let mut sets: Vec<&Vec<String>> = Vec::new();
        for v in &good {
            if !v.apex_ns.is_empty() && !sets.contains(&&v.apex_ns) {
                sets.push(&v.apex_ns);
            }
        }
        if let Some(child) = sets.iter().find(|s| ***s != z.parent_ns) {
            let only_parent: Vec<&String> =
                z.parent_ns.iter().filter(|n| !child.contains(n)).collect();
            let only_child: Vec<&String> =
                child.iter().filter(|n| !z.parent_ns.contains(n)).collect();
            out.push(
                Diagnosis::new(
                    "dns.delegation_mismatch",
                    Severity::Warning,
                    format!(
                        "the parent delegates {} to {{{}}} but the zone's own apex NS set is {{{}}} (only at the parent: {}; only in the zone: {}) — resolvers see different server sets depending on where they look; make both the same",
                        z.zone,
                        z.parent_ns.join(", "),
                        child.join(", "),
                        list(&only_parent),
                        list(&only_child)
                    ),
                )
                .with("zone", &z.zone)
                .with("parent_ns", &z.parent_ns)
                .with("child_ns", child)
                .with("kind", "ns_set"),
            );
        }
        let mut serials: Vec<(u32, String)> = good
            .iter()
            .filter_map(|v| v.serial.map(|s| (s, who(&v.server))))
            .collect();
        serials.sort();
        if serials.first().map(|s| s.0) != serials.last().map(|s| s.0) {
            out.push(
                Diagnosis::new(
                    "dns.delegation_mismatch",
                    Severity::Warning,
                    format!(
                        "the servers of {} serve different versions of the zone (SOA serials: {}) — a zone transfer is failing or lagging, so answers depend on the server asked",
                        z.zone,
                        serials
                            .iter()
                            .map(|(s, w)| format!("{w} {s}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
                .with("zone", &z.zone)
                .with("serials", serials.iter().map(|s| s.0).collect::<Vec<_>>())
                .with("kind", "serial"),
            );
        }
        let answers: Vec<(&Vec<String>, String)> = good
            .iter()
            .filter_map(|v| v.answer.as_ref().map(|a| (a, who(&v.server))))
            .collect();
        if answers.windows(2).any(|w| w[0].0 != w[1].0) {
            out.push(
                Diagnosis::new(
                    "dns.delegation_mismatch",
                    Severity::Warning,
                    format!(
                        "the servers of {} disagree about {} {}: {}",
                        z.zone,
                        t.cname_chain.last().unwrap_or(&t.name),
                        t.qtype,
                        answers
                            .iter()
                            .map(|(a, w)| format!("{w} says [{}]", a.join(", ")))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                )
                .with("zone", &z.zone)
                .with("kind", "answer"),
            );
        }
    }
    out
}

fn list(v: &[&String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(name: &str, address: &str) -> ServerAddr {
        ServerAddr {
            name: name.into(),
            address: address.into(),
        }
    }

    fn view(name: &str, address: &str, serial: u32, ns: &[&str]) -> ServerView {
        ServerView {
            server: server(name, address),
            fault: None,
            detail: None,
            serial: Some(serial),
            apex_ns: ns.iter().map(|s| s.to_string()).collect(),
            answer: None,
            time_ms: 1.0,
        }
    }

    fn trace(end: TraceEnd, zones: Vec<ZoneAudit>, stuck: Vec<Attempt>) -> Trace {
        Trace {
            name: "web.lab.test.".into(),
            qtype: "A".into(),
            root_hints: "test".into(),
            steps: Vec::new(),
            end,
            answer: Vec::new(),
            authority: Vec::new(),
            final_zone: None,
            cname_chain: Vec::new(),
            error: Some("x".into()),
            stuck,
            missing_glue: Vec::new(),
            ns_lookups: Vec::new(),
            zones,
            queries: 3,
            timeout_s: 1.0,
            time_ms: 5.0,
        }
    }

    fn codes(list: &[Diagnosis]) -> Vec<&str> {
        list.iter().map(|d| d.code.as_str()).collect()
    }

    #[test]
    fn agreeing_servers_give_only_the_outcome() {
        let ns = ["ns1.lab.test.", "ns2.lab.test."];
        let z = ZoneAudit {
            zone: "lab.test.".into(),
            parent_ns: ns.iter().map(|s| s.to_string()).collect(),
            servers: vec![
                view("ns1.lab.test.", "198.18.0.12", 7, &ns),
                view("ns2.lab.test.", "198.18.0.13", 7, &ns),
            ],
        };
        let d = diagnose(&trace(TraceEnd::Answer, vec![z], Vec::new()));
        assert_eq!(codes(&d), ["dns.trace_ok"]);
    }

    #[test]
    fn ns_set_and_serial_disagreements_are_both_named() {
        let parent = ["ns1.lab.test.", "ns2.lab.test."];
        let child = ["ns1.lab.test.", "ns3.lab.test."];
        let z = ZoneAudit {
            zone: "lab.test.".into(),
            parent_ns: parent.iter().map(|s| s.to_string()).collect(),
            servers: vec![
                view("ns1.lab.test.", "198.18.0.12", 7, &child),
                view("ns2.lab.test.", "198.18.0.13", 8, &child),
            ],
        };
        let d = diagnose(&trace(TraceEnd::Answer, vec![z], Vec::new()));
        assert_eq!(
            codes(&d),
            [
                "dns.trace_ok",
                "dns.delegation_mismatch",
                "dns.delegation_mismatch"
            ]
        );
        assert!(d[1].summary.contains("only at the parent: ns2.lab.test."));
        assert!(d[1].summary.contains("only in the zone: ns3.lab.test."));
        assert_eq!(d[2].evidence["serials"], serde_json::json!([7, 8]));
    }

    #[test]
    fn a_server_seen_twice_is_reported_once_and_lame_is_critical_when_the_trace_failed() {
        let lame = Attempt {
            zone: "lab.test.".into(),
            server: server("ns2.lab.test.", "198.18.0.14"),
            fault: Fault::Lame,
            detail: "answered REFUSED".into(),
            time_ms: 0.3,
        };
        let mut v = view("ns2.lab.test.", "198.18.0.14", 0, &[]);
        v.fault = Some(Fault::Lame);
        v.serial = None;
        let z = ZoneAudit {
            zone: "lab.test.".into(),
            parent_ns: vec!["ns2.lab.test.".into()],
            servers: vec![v],
        };
        let d = diagnose(&trace(TraceEnd::Failed, vec![z], vec![lame]));
        assert_eq!(codes(&d), ["dns.trace_failed", "dns.lame_delegation"]);
        assert_eq!(d[1].severity, Severity::Critical);
        assert_eq!(d[1].evidence["detail"], "answered REFUSED");
    }
}
