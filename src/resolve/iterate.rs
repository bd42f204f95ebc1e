//! Iterative resolution from the root hints, like `dig +trace`: ask a
//! root server, follow referrals down zone by zone (RD=0), resolve glueless
//! NS names on the way, follow CNAMEs from the root again, and then ask
//! every listed server of every delegated zone the same questions (SOA,
//! NS, the final question), so lame and disagreeing servers show up even
//! when the trace itself never needed them.

use super::rdata::record_of;
use super::roothints::Hint;
use super::wire::{self, Outcome, WireOpts};
use super::Family;
use crate::diagnose::dns::answer::{Failure, Rec, MAX_CHAIN};
use crate::diagnose::dns::trace::{
    Attempt, Fault, MissingGlue, NsLookup, ServerAddr, ServerView, Step, StepKind, Trace, TraceEnd,
    ZoneAudit,
};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::time::Instant;

/// Referrals one walk may follow before it is called a loop (DNS trees
/// are rarely deeper than 6; 16 leaves room for long reverse names).
const MAX_REFERRALS: usize = 16;
/// Queries one trace may send in all, audits excluded.
const MAX_QUERIES: usize = 120;
/// Glueless NS lookups nested inside each other.
const MAX_NS_DEPTH: usize = 4;
/// Server addresses the audit asks per zone (a hostile referral may list
/// hundreds; real zones have 2 to 13 servers, each with 1 or 2 addresses).
const MAX_AUDIT_PER_ZONE: usize = 26;

/// How the trace runs.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Per-server question settings: `deadline` is the step timeout.
    pub wire: WireOpts,
    /// Which server addresses may be asked.
    pub family: Family,
    /// Ask every server of every delegated zone afterwards.
    pub audit: bool,
    /// The DNS port of every server (53; tests may change it).
    pub port: u16,
}

/// A server known by name, with the addresses found for it.
#[derive(Debug, Clone)]
struct Host {
    name: Name,
    addrs: Vec<IpAddr>,
}

/// A delegation seen on the way, for the audit.
#[derive(Debug, Clone)]
struct Delegation {
    zone: Name,
    /// Sorted as text, like the apex NS sets the audit collects.
    parent_ns: Vec<String>,
    hosts: Vec<Host>,
}

/// How one walk from the root ended.
enum End {
    Answer {
        zone: Name,
        answer: Vec<Rec>,
        authority: Vec<Rec>,
    },
    Cname {
        target: Name,
        answer: Vec<Rec>,
    },
    NxDomain {
        zone: Name,
        authority: Vec<Rec>,
    },
    NoData {
        zone: Name,
        authority: Vec<Rec>,
    },
    Failed(String, Vec<Attempt>),
    Loop(String, Vec<Attempt>),
}

/// A reply classified against the zone it was asked of.
enum Class {
    Usable(StepKind, Option<(Name, Vec<Host>)>),
    Fault(Fault, String),
}

/// Called with each step of the main trace as it completes, so output
/// can stream (a step waiting on a dead server shows up late, not last).
pub type OnStep<'a> = &'a (dyn Fn(&Step) + Sync);

struct Ctx<'a> {
    on_step: OnStep<'a>,
    opts: Options,
    hints: Vec<Host>,
    queries: usize,
    resolving: Vec<Name>,
    cycle: Option<String>,
    resolved: Vec<(Name, Vec<IpAddr>)>,
    ns_lookups: Vec<NsLookup>,
    missing_glue: Vec<MissingGlue>,
    delegations: Vec<Delegation>,
}

/// Resolves `name`/`qtype` iteratively from `hints` and audits every
/// delegated zone on the way. Never fails: a trace that stops says why.
pub async fn trace(
    name: &Name,
    qtype: RecordType,
    hints: &[Hint],
    hints_label: &str,
    opts: Options,
    on_step: OnStep<'_>,
) -> Trace {
    let started = Instant::now();
    let mut ctx = Ctx {
        on_step,
        opts,
        hints: hints
            .iter()
            .map(|h| Host {
                name: h.name.clone(),
                addrs: h
                    .addrs
                    .iter()
                    .copied()
                    .filter(|a| opts.family.allows(a))
                    .collect(),
            })
            .collect(),
        queries: 0,
        resolving: Vec::new(),
        cycle: None,
        resolved: Vec::new(),
        ns_lookups: Vec::new(),
        missing_glue: Vec::new(),
        delegations: Vec::new(),
    };
    let mut qname = name.to_lowercase();
    qname.set_fqdn(true);
    let mut steps: Vec<Step> = Vec::new();
    let mut chain: Vec<Name> = Vec::new();
    let mut answer: Vec<Rec> = Vec::new();
    let (end, authority, final_zone, error, stuck) = loop {
        let (walk_steps, end) = walk(&mut ctx, qname.clone(), qtype, true).await;
        steps.extend(walk_steps);
        match end {
            End::Cname { target, answer: a } => {
                answer.extend(a);
                if chain.is_empty() {
                    chain.push(qname.clone());
                }
                let looped = chain.contains(&target);
                chain.push(target.clone());
                if looped {
                    break (
                        TraceEnd::Loop,
                        Vec::new(),
                        None,
                        Some(format!(
                            "the CNAME chain loops: {}",
                            names(&chain).join(" → ")
                        )),
                        Vec::new(),
                    );
                }
                if chain.len() > MAX_CHAIN + 1 {
                    break (
                        TraceEnd::Loop,
                        Vec::new(),
                        None,
                        Some(format!("the CNAME chain is longer than {MAX_CHAIN} hops")),
                        Vec::new(),
                    );
                }
                qname = target;
            }
            End::Answer {
                zone,
                answer: a,
                authority,
            } => {
                answer.extend(a);
                break (TraceEnd::Answer, authority, Some(zone), None, Vec::new());
            }
            End::NxDomain { zone, authority } => {
                break (TraceEnd::NxDomain, authority, Some(zone), None, Vec::new())
            }
            End::NoData { zone, authority } => {
                break (TraceEnd::NoData, authority, Some(zone), None, Vec::new())
            }
            End::Failed(why, stuck) => {
                break (TraceEnd::Failed, Vec::new(), None, Some(why), stuck)
            }
            End::Loop(why, stuck) => break (TraceEnd::Loop, Vec::new(), None, Some(why), stuck),
        }
    };
    let zones = if opts.audit {
        audit(&ctx, &qname, qtype, final_zone.as_ref()).await
    } else {
        Vec::new()
    };
    Trace {
        name: name.to_ascii(),
        qtype: qtype.to_string(),
        root_hints: hints_label.to_string(),
        steps,
        end,
        answer,
        authority,
        final_zone: final_zone.map(|z| z.to_ascii()),
        cname_chain: names(&chain),
        error,
        stuck,
        missing_glue: ctx.missing_glue,
        ns_lookups: ctx.ns_lookups,
        zones,
        queries: ctx.queries,
        timeout_s: opts.wire.deadline.as_secs_f64(),
        time_ms: started.elapsed().as_secs_f64() * 1000.0,
    }
}

fn names(list: &[Name]) -> Vec<String> {
    list.iter().map(Name::to_ascii).collect()
}

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One name from the root down to its authoritative reply.
fn walk<'c>(
    ctx: &'c mut Ctx<'_>,
    qname: Name,
    qtype: RecordType,
    main: bool,
) -> Boxed<'c, (Vec<Step>, End)> {
    Box::pin(async move {
        let mut zone = Name::root();
        let mut hosts = ctx.hints.clone();
        let mut seen: Vec<Name> = vec![Name::root()];
        let mut steps: Vec<Step> = Vec::new();
        loop {
            if steps.len() >= MAX_REFERRALS {
                let why = format!(
                    "more than {MAX_REFERRALS} referrals for {qname} ({})",
                    names(&seen).join(" → ")
                );
                return (steps, End::Loop(why, Vec::new()));
            }
            let (reply, failed) = ask_zone(ctx, &zone, &mut hosts, &qname, qtype).await;
            let Some((server, msg, ms, kind, referral)) = reply else {
                let listed: Vec<String> = hosts.iter().map(|h| h.name.to_ascii()).collect();
                let detail: Vec<String> = failed
                    .iter()
                    .map(|a| format!("{} ({}): {}", a.server.name, a.server.address, a.detail))
                    .collect();
                let looped = !failed.is_empty()
                    && failed.iter().any(|a| a.fault == Fault::ReferralLoop)
                    && failed
                        .iter()
                        .all(|a| matches!(a.fault, Fault::ReferralLoop | Fault::Lame));
                if looped {
                    let why = format!(
                        "every server of {zone} refers back to {zone} or above for {qname} — a referral loop ({})",
                        detail.join("; ")
                    );
                    return (steps, End::Loop(why, failed));
                }
                if failed.is_empty() {
                    if let Some(cycle) = ctx.cycle.clone() {
                        return (steps, End::Loop(cycle, failed));
                    }
                }
                let why = if ctx.queries >= MAX_QUERIES {
                    format!("the query budget ({MAX_QUERIES}) ran out at {zone}")
                } else if failed.is_empty() {
                    format!(
                        "no server of {zone} has a usable address ({}: no glue, and {})",
                        listed.join(", "),
                        ctx.ns_lookups
                            .iter()
                            .rev()
                            .find_map(|l| l.error.clone())
                            .unwrap_or_else(|| "no lookup of them succeeded".into())
                    )
                } else {
                    format!(
                        "none of the {} servers of {zone} gave a usable reply: {}",
                        listed.len(),
                        detail.join("; ")
                    )
                };
                return (steps, End::Failed(why, failed));
            };
            let related = related_records(&msg, &zone, &qname, qtype);
            let authority: Vec<Rec> = msg.name_servers().iter().map(record_of).collect();
            let mut step = Step {
                zone: zone.to_ascii(),
                qname: qname.to_ascii(),
                qtype: qtype.to_string(),
                server,
                kind,
                rcode: super::lookup::rcode_text(msg.response_code()),
                aa: msg.authoritative(),
                referral: None,
                ns: Vec::new(),
                glue: Vec::new(),
                answer: related.0.iter().map(|r| record_of(r)).collect(),
                authority: authority.clone(),
                time_ms: ms,
                failed,
            };
            match kind {
                StepKind::Referral => {
                    let Some((child, new_hosts)) = referral else {
                        return (
                            steps,
                            End::Failed("a referral without NS records".into(), Vec::new()),
                        );
                    };
                    step.referral = Some(child.to_ascii());
                    step.ns = new_hosts.iter().map(|h| h.name.to_ascii()).collect();
                    step.glue = glue_records(&msg, &new_hosts);
                    if main {
                        (ctx.on_step)(&step);
                    }
                    steps.push(step);
                    if seen.contains(&child) {
                        let why = format!("the referral to {child} came back a second time");
                        return (steps, End::Loop(why, Vec::new()));
                    }
                    for h in &new_hosts {
                        if h.addrs.is_empty()
                            && child.zone_of(&h.name)
                            && !ctx
                                .missing_glue
                                .iter()
                                .any(|m| m.zone == child.to_ascii() && m.ns == h.name.to_ascii())
                        {
                            ctx.missing_glue.push(MissingGlue {
                                zone: child.to_ascii(),
                                ns: h.name.to_ascii(),
                                parent: zone.to_ascii(),
                            });
                        }
                    }
                    if main && !ctx.delegations.iter().any(|d| d.zone == child) {
                        let mut parent_ns: Vec<String> =
                            new_hosts.iter().map(|h| h.name.to_ascii()).collect();
                        parent_ns.sort();
                        ctx.delegations.push(Delegation {
                            zone: child.clone(),
                            parent_ns,
                            hosts: new_hosts.clone(),
                        });
                    }
                    seen.push(child.clone());
                    zone = child;
                    hosts = new_hosts;
                }
                StepKind::Answer => {
                    if main {
                        (ctx.on_step)(&step);
                    }
                    steps.push(step);
                    return (
                        steps,
                        End::Answer {
                            zone,
                            answer: related.0.iter().map(|r| record_of(r)).collect(),
                            authority,
                        },
                    );
                }
                StepKind::Cname => {
                    if main {
                        (ctx.on_step)(&step);
                    }
                    steps.push(step);
                    return (
                        steps,
                        End::Cname {
                            target: related.1,
                            answer: related.0.iter().map(|r| record_of(r)).collect(),
                        },
                    );
                }
                StepKind::NxDomain => {
                    if main {
                        (ctx.on_step)(&step);
                    }
                    steps.push(step);
                    return (steps, End::NxDomain { zone, authority });
                }
                StepKind::NoData => {
                    if main {
                        (ctx.on_step)(&step);
                    }
                    steps.push(step);
                    return (steps, End::NoData { zone, authority });
                }
            }
        }
    })
}

/// The reply of the first server of `zone` that serves it, with every
/// server tried before it and why it failed.
#[allow(clippy::type_complexity)]
async fn ask_zone(
    ctx: &mut Ctx<'_>,
    zone: &Name,
    hosts: &mut [Host],
    qname: &Name,
    qtype: RecordType,
) -> (
    Option<(
        ServerAddr,
        Message,
        f64,
        StepKind,
        Option<(Name, Vec<Host>)>,
    )>,
    Vec<Attempt>,
) {
    let mut failed = Vec::new();
    // Servers with an address first, glueless ones after: their lookup costs.
    let mut order: Vec<usize> = (0..hosts.len()).collect();
    order.sort_by_key(|&i| hosts[i].addrs.is_empty());
    for i in order {
        if hosts[i].addrs.is_empty() {
            // An in-zone name without glue cannot be looked up without this
            // zone's own servers: it is reported as missing glue instead.
            if zone.zone_of(&hosts[i].name) {
                continue;
            }
            hosts[i].addrs = resolve_ns(ctx, hosts[i].name.clone()).await;
        }
        for addr in hosts[i].addrs.clone() {
            if ctx.queries >= MAX_QUERIES {
                return (None, failed);
            }
            ctx.queries += 1;
            let server = ServerAddr {
                name: hosts[i].name.to_ascii(),
                address: addr.to_string(),
            };
            let t0 = Instant::now();
            let got = wire::exchange_rd(
                SocketAddr::new(addr, ctx.opts.port),
                qname,
                qtype,
                ctx.opts.wire,
                false,
            )
            .await;
            let ms = t0.elapsed().as_secs_f64() * 1000.0;
            let class = match got {
                Ok(Outcome::Complete(ex)) => {
                    let c = classify(&ex.message, zone, qname, qtype, ctx.opts.family);
                    if let Class::Usable(kind, referral) = c {
                        return (Some((server, ex.message, ms, kind, referral)), failed);
                    }
                    c
                }
                Ok(Outcome::TcpFallbackFailed { cause, .. }) => Class::Fault(
                    Fault::Unreachable,
                    format!("truncated over UDP and TCP failed: {}", fault_text(&cause)),
                ),
                Err(f) => failure_class(&f),
            };
            if let Class::Fault(fault, detail) = class {
                failed.push(Attempt {
                    zone: zone.to_ascii(),
                    server,
                    fault,
                    detail,
                    time_ms: ms,
                });
            }
        }
    }
    (None, failed)
}

fn failure_class(f: &Failure) -> Class {
    let fault = match f {
        Failure::Timeout | Failure::TcpStalled => Fault::Timeout,
        Failure::Malformed(_) => Fault::Malformed,
        Failure::Refused | Failure::Icmp(_) | Failure::Network(_) => Fault::Unreachable,
    };
    Class::Fault(fault, fault_text(f))
}

fn fault_text(f: &Failure) -> String {
    crate::diagnose::dns::answer::failure_text(f)
}

/// Records owned by `qname` or its in-message CNAME chain, and the end of
/// that chain. Only names inside `zone` (the server's bailiwick) are
/// believed: a CNAME target outside it is looked up from the root, as a
/// resolver does, whatever data the server added for it.
fn related_records<'m>(
    msg: &'m Message,
    zone: &Name,
    qname: &Name,
    qtype: RecordType,
) -> (Vec<&'m Record>, Name) {
    let same = |a: &Name, b: &Name| a.zone_of(b) && b.zone_of(a);
    let mut at = qname.clone();
    let mut chain = vec![qname.clone()];
    if qtype != RecordType::CNAME {
        while let Some(target) = msg.answers().iter().find_map(|r| match r.data() {
            RData::CNAME(c) if same(r.name(), &at) => Some(c.0.clone()),
            _ => None,
        }) {
            if chain.iter().any(|n| same(n, &target)) || chain.len() > MAX_CHAIN {
                break;
            }
            at = target.clone();
            if !zone.zone_of(&target) {
                break;
            }
            chain.push(target);
        }
    }
    let recs = msg
        .answers()
        .iter()
        .filter(|r| chain.iter().any(|n| same(n, r.name())))
        .collect();
    (recs, at.to_lowercase())
}

/// Whether a reply serves `zone` for this question, and how.
fn classify(msg: &Message, zone: &Name, qname: &Name, qtype: RecordType, family: Family) -> Class {
    let rcode = msg.response_code();
    let aa = msg.authoritative();
    if rcode != ResponseCode::NoError && rcode != ResponseCode::NXDomain {
        return Class::Fault(
            Fault::Lame,
            format!("answered {}", super::lookup::rcode_text(rcode)),
        );
    }
    let (related, end) = related_records(msg, zone, qname, qtype);
    let has_data = related
        .iter()
        .any(|r| r.record_type() == qtype && r.name().zone_of(&end) && end.zone_of(r.name()));
    if !related.is_empty() && !aa {
        return Class::Fault(
            Fault::Lame,
            "answered without the AA flag: not authoritative (a cache or a forwarder?)".into(),
        );
    }
    if has_data {
        return Class::Usable(StepKind::Answer, None);
    }
    if !related.is_empty() && !end.eq(qname) && rcode == ResponseCode::NoError {
        return Class::Usable(StepKind::Cname, None);
    }
    if aa && rcode == ResponseCode::NXDomain {
        return Class::Usable(StepKind::NxDomain, None);
    }
    let ns: Vec<&Record> = msg
        .name_servers()
        .iter()
        .filter(|r| r.record_type() == RecordType::NS)
        .collect();
    if !aa && rcode == ResponseCode::NoError && related.is_empty() {
        if let Some(first) = ns.first() {
            let child = first.name().to_lowercase();
            if !(zone.zone_of(&child) && child != *zone && child.zone_of(qname)) {
                return Class::Fault(
                    Fault::ReferralLoop,
                    format!("referral to {child}, not below {zone}"),
                );
            }
            let mut hosts: Vec<Host> = Vec::new();
            for r in ns.iter().filter(|r| r.name().to_lowercase() == child) {
                if let RData::NS(n) = r.data() {
                    let n = n.0.to_lowercase();
                    if !hosts.iter().any(|h| h.name == n) {
                        hosts.push(Host {
                            name: n,
                            addrs: Vec::new(),
                        });
                    }
                }
            }
            hosts.sort_by(|a, b| a.name.cmp(&b.name));
            for h in &mut hosts {
                for r in msg.additionals() {
                    if r.name().to_lowercase() != h.name {
                        continue;
                    }
                    let addr = match r.data() {
                        RData::A(a) => IpAddr::V4(a.0),
                        RData::AAAA(a) => IpAddr::V6(a.0),
                        _ => continue,
                    };
                    if family.allows(&addr) && !h.addrs.contains(&addr) {
                        h.addrs.push(addr);
                    }
                }
            }
            return Class::Usable(StepKind::Referral, Some((child, hosts)));
        }
    }
    if aa && rcode == ResponseCode::NoError {
        return Class::Usable(StepKind::NoData, None);
    }
    Class::Fault(
        Fault::Lame,
        format!(
            "{} without the AA flag and without a referral",
            super::lookup::rcode_text(rcode)
        ),
    )
}

/// The glue records of a referral (addresses of its NS names).
fn glue_records(msg: &Message, hosts: &[Host]) -> Vec<Rec> {
    msg.additionals()
        .iter()
        .filter(|r| matches!(r.record_type(), RecordType::A | RecordType::AAAA))
        .filter(|r| hosts.iter().any(|h| h.name == r.name().to_lowercase()))
        .map(record_of)
        .collect()
}

/// The addresses of a glueless NS name, itself traced from the root.
fn resolve_ns<'c>(ctx: &'c mut Ctx<'_>, name: Name) -> Boxed<'c, Vec<IpAddr>> {
    Box::pin(async move {
        if let Some((_, addrs)) = ctx.resolved.iter().find(|(n, _)| *n == name) {
            return addrs.clone();
        }
        if ctx.resolving.contains(&name) || ctx.resolving.len() >= MAX_NS_DEPTH {
            let mut path = names(&ctx.resolving);
            path.push(name.to_ascii());
            let why = if ctx.resolving.contains(&name) {
                format!(
                    "glueless NS names need each other to resolve: {} (each lives in a zone served only by the next)",
                    path.join(" → ")
                )
            } else {
                format!(
                    "glueless NS lookups nest deeper than {MAX_NS_DEPTH}: {}",
                    path.join(" → ")
                )
            };
            // The lookup that started the cycle records it, once.
            ctx.cycle.get_or_insert(why);
            return Vec::new();
        }
        ctx.resolving.push(name.clone());
        let before = ctx.queries;
        let mut addrs = Vec::new();
        let mut error = None;
        let types: &[RecordType] = match ctx.opts.family {
            Family::V4 => &[RecordType::A],
            Family::V6 => &[RecordType::AAAA],
            Family::Any => &[RecordType::A, RecordType::AAAA],
        };
        for &t in types {
            let (_, end) = walk(ctx, name.clone(), t, false).await;
            match end {
                End::Answer { answer, .. } => addrs.extend(
                    answer
                        .iter()
                        .filter(|r| r.rtype == t.to_string())
                        .filter_map(|r| r.data.parse::<IpAddr>().ok()),
                ),
                End::Failed(why, _) | End::Loop(why, _) => error = Some(why),
                End::NxDomain { .. } => error = Some(format!("{name} does not exist (NXDOMAIN)")),
                End::NoData { .. } | End::Cname { .. } => {}
            }
            if !addrs.is_empty() || error.is_some() {
                break;
            }
        }
        ctx.resolving.pop();
        if addrs.is_empty() && error.is_none() {
            error = Some(format!("{name} has no address record"));
        }
        ctx.ns_lookups.push(NsLookup {
            name: name.to_ascii(),
            addresses: addrs.iter().map(IpAddr::to_string).collect(),
            queries: ctx.queries - before,
            error: if addrs.is_empty() { error } else { None },
        });
        ctx.resolved.push((name, addrs.clone()));
        addrs
    })
}

/// Asks every server of every delegated zone, all at once: SOA and NS of
/// the zone, and (for the zone of the final reply) the final question.
async fn audit(
    ctx: &Ctx<'_>,
    qname: &Name,
    qtype: RecordType,
    final_zone: Option<&Name>,
) -> Vec<ZoneAudit> {
    let mut set = tokio::task::JoinSet::new();
    let mut out: Vec<ZoneAudit> = Vec::new();
    let mut asked = vec![0usize; ctx.delegations.len()];
    for (zi, d) in ctx.delegations.iter().enumerate() {
        out.push(ZoneAudit {
            zone: d.zone.to_ascii(),
            parent_ns: d.parent_ns.clone(),
            servers: Vec::new(),
        });
        for h in &d.hosts {
            let addrs = if h.addrs.is_empty() {
                ctx.resolved
                    .iter()
                    .find(|(n, _)| *n == h.name)
                    .map(|(_, a)| a.clone())
                    .unwrap_or_default()
            } else {
                h.addrs.clone()
            };
            for addr in addrs {
                if asked[zi] >= MAX_AUDIT_PER_ZONE {
                    break;
                }
                asked[zi] += 1;
                let zone = d.zone.clone();
                let host = h.name.clone();
                let last = (final_zone == Some(&d.zone)).then(|| qname.clone());
                let opts = ctx.opts;
                set.spawn(async move {
                    let view = ask_server(zone, host, addr, last, qtype, opts).await;
                    (zi, view)
                });
            }
        }
    }
    while let Some(joined) = set.join_next().await {
        if let Ok((zi, view)) = joined {
            out[zi].servers.push(view);
        }
    }
    for z in &mut out {
        z.servers.sort_by(|a, b| {
            (&a.server.name, &a.server.address).cmp(&(&b.server.name, &b.server.address))
        });
    }
    out
}

/// One server's view of its zone.
async fn ask_server(
    zone: Name,
    host: Name,
    addr: IpAddr,
    last: Option<Name>,
    qtype: RecordType,
    opts: Options,
) -> ServerView {
    let to = SocketAddr::new(addr, opts.port);
    let mut view = ServerView {
        server: ServerAddr {
            name: host.to_ascii(),
            address: addr.to_string(),
        },
        fault: None,
        detail: None,
        serial: None,
        apex_ns: Vec::new(),
        answer: None,
        time_ms: 0.0,
    };
    let t0 = Instant::now();
    let soa = wire::exchange_rd(to, &zone, RecordType::SOA, opts.wire, false).await;
    view.time_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let msg = match soa {
        Ok(Outcome::Complete(ex)) => ex.message,
        Ok(Outcome::TcpFallbackFailed { cause, .. }) => {
            view.fault = Some(Fault::Unreachable);
            view.detail = Some(fault_text(&cause));
            return view;
        }
        Err(f) => {
            if let Class::Fault(fault, detail) = failure_class(&f) {
                view.fault = Some(fault);
                view.detail = Some(detail);
            }
            return view;
        }
    };
    let rcode = msg.response_code();
    if rcode != ResponseCode::NoError {
        view.fault = Some(Fault::Lame);
        view.detail = Some(format!(
            "answered {} for the zone's SOA",
            super::lookup::rcode_text(rcode)
        ));
        return view;
    }
    if !msg.authoritative() {
        let upward = msg
            .name_servers()
            .iter()
            .find(|r| r.record_type() == RecordType::NS)
            .map(|r| r.name().to_ascii());
        view.fault = Some(match upward {
            Some(_) => Fault::ReferralLoop,
            None => Fault::Lame,
        });
        view.detail = Some(match upward {
            Some(to) => format!("no AA flag; referral to {to} instead of the zone's SOA"),
            None => "no AA flag on the zone's SOA".into(),
        });
        return view;
    }
    view.serial = msg.answers().iter().find_map(|r| match r.data() {
        RData::SOA(s) => Some(s.serial()),
        _ => None,
    });
    if let Ok(Outcome::Complete(ex)) =
        wire::exchange_rd(to, &zone, RecordType::NS, opts.wire, false).await
    {
        let mut ns: Vec<String> = ex
            .message
            .answers()
            .iter()
            .filter_map(|r| match r.data() {
                RData::NS(n) => Some(n.0.to_lowercase().to_ascii()),
                _ => None,
            })
            .collect();
        ns.sort();
        ns.dedup();
        view.apex_ns = ns;
    }
    if let Some(q) = last {
        if let Ok(Outcome::Complete(ex)) = wire::exchange_rd(to, &q, qtype, opts.wire, false).await
        {
            let (recs, _) = related_records(&ex.message, &zone, &q, qtype);
            let mut data: Vec<String> = recs
                .iter()
                .map(|r| format!("{} {}", r.record_type(), super::rdata::data_text(r.data())))
                .collect();
            data.sort();
            view.answer = Some(data);
        }
    }
    view
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::MessageType;
    use hickory_proto::rr::rdata::{A, CNAME, NS};
    use std::str::FromStr;

    fn n(s: &str) -> Name {
        Name::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn reply(aa: bool, rcode: ResponseCode) -> Message {
        let mut m = Message::new();
        m.set_message_type(MessageType::Response)
            .set_authoritative(aa)
            .set_response_code(rcode);
        m
    }

    fn ns(owner: &str, target: &str) -> Record {
        Record::from_rdata(n(owner), 3600, RData::NS(NS(n(target))))
    }

    fn a(owner: &str, addr: [u8; 4]) -> Record {
        Record::from_rdata(
            n(owner),
            3600,
            RData::A(A::from(std::net::Ipv4Addr::from(addr))),
        )
    }

    fn kind(c: &Class) -> String {
        match c {
            Class::Usable(k, _) => format!("{k:?}"),
            Class::Fault(f, d) => format!("{f:?}: {d}"),
        }
    }

    #[test]
    fn a_referral_down_carries_sorted_ns_names_and_their_glue() {
        let mut m = reply(false, ResponseCode::NoError);
        m.add_name_server(ns("lab.test.", "ns2.lab.test."));
        m.add_name_server(ns("lab.test.", "ns1.lab.test."));
        m.add_additional(a("ns1.lab.test.", [198, 18, 0, 12]));
        let c = classify(
            &m,
            &n("test."),
            &n("web.lab.test."),
            RecordType::A,
            Family::Any,
        );
        let Class::Usable(StepKind::Referral, Some((child, hosts))) = c else {
            panic!("{}", kind(&c));
        };
        assert_eq!(child, n("lab.test."));
        assert_eq!(hosts[0].name, n("ns1.lab.test."));
        assert_eq!(hosts[0].addrs.len(), 1);
        assert!(hosts[1].addrs.is_empty());
        // -6 drops the v4 glue.
        let c = classify(
            &m,
            &n("test."),
            &n("web.lab.test."),
            RecordType::A,
            Family::V6,
        );
        let Class::Usable(_, Some((_, hosts))) = c else {
            panic!()
        };
        assert!(hosts.iter().all(|h| h.addrs.is_empty()));
    }

    #[test]
    fn a_referral_to_the_same_zone_or_above_is_a_loop() {
        let mut m = reply(false, ResponseCode::NoError);
        m.add_name_server(ns("test.", "ns.nic.test."));
        let c = classify(
            &m,
            &n("lab.test."),
            &n("web.lab.test."),
            RecordType::A,
            Family::Any,
        );
        assert!(kind(&c).starts_with("ReferralLoop"), "{}", kind(&c));
        let c = classify(
            &m,
            &n("test."),
            &n("web.lab.test."),
            RecordType::A,
            Family::Any,
        );
        assert!(kind(&c).starts_with("ReferralLoop"), "{}", kind(&c));
    }

    #[test]
    fn refused_servfail_and_answers_without_aa_are_lame() {
        for rcode in [ResponseCode::Refused, ResponseCode::ServFail] {
            let c = classify(
                &reply(true, rcode),
                &n("lab.test."),
                &n("web.lab.test."),
                RecordType::A,
                Family::Any,
            );
            assert!(kind(&c).starts_with("Lame"), "{}", kind(&c));
        }
        let mut m = reply(false, ResponseCode::NoError);
        m.add_answer(a("web.lab.test.", [198, 18, 0, 80]));
        let c = classify(
            &m,
            &n("lab.test."),
            &n("web.lab.test."),
            RecordType::A,
            Family::Any,
        );
        assert!(kind(&c).contains("without the AA flag"), "{}", kind(&c));
        // NOERROR, no AA, nothing at all: lame too.
        let c = classify(
            &reply(false, ResponseCode::NoError),
            &n("lab.test."),
            &n("web.lab.test."),
            RecordType::A,
            Family::Any,
        );
        assert!(kind(&c).starts_with("Lame"), "{}", kind(&c));
    }

    #[test]
    fn out_of_zone_cname_data_is_not_trusted() {
        let mut m = reply(true, ResponseCode::NoError);
        m.add_answer(Record::from_rdata(
            n("ext.lab.test."),
            3600,
            RData::CNAME(CNAME(n("edge.cdn.test."))),
        ));
        m.add_answer(a("edge.cdn.test.", [6, 6, 6, 6]));
        let c = classify(
            &m,
            &n("lab.test."),
            &n("ext.lab.test."),
            RecordType::A,
            Family::Any,
        );
        assert_eq!(kind(&c), "Cname");
        let (recs, end) = related_records(&m, &n("lab.test."), &n("ext.lab.test."), RecordType::A);
        assert_eq!(end, n("edge.cdn.test."));
        assert_eq!(recs.len(), 1);
        // The same data inside the zone is the answer.
        let c = classify(
            &m,
            &n("test."),
            &n("ext.lab.test."),
            RecordType::A,
            Family::Any,
        );
        assert_eq!(kind(&c), "Answer");
    }

    #[test]
    fn authoritative_negatives() {
        let c = classify(
            &reply(true, ResponseCode::NXDomain),
            &n("lab.test."),
            &n("x.lab.test."),
            RecordType::A,
            Family::Any,
        );
        assert_eq!(kind(&c), "NxDomain");
        let c = classify(
            &reply(true, ResponseCode::NoError),
            &n("lab.test."),
            &n("x.lab.test."),
            RecordType::A,
            Family::Any,
        );
        assert_eq!(kind(&c), "NoData");
    }
}
