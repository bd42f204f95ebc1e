//! Iterative resolution from the root hints, like `dig +trace`: ask a
//! root server, follow referrals down zone by zone (RD=0), resolve glueless
//! NS names on the way, follow CNAMEs from the root again, and then ask
//! every listed server of every delegated zone the same questions (SOA,
//! NS, the final question), so lame and disagreeing servers show up even
//! when the trace itself never needed them.

mod audit;
mod classify;

use super::rdata::record_of;
use super::roothints::Hint;
use super::wire::{self, Outcome, WireOpts};
use super::Family;
use crate::diagnose::dns::answer::{Rec, MAX_CHAIN};
use crate::diagnose::dns::trace::{
    Attempt, Fault, MissingGlue, NsLookup, ServerAddr, Step, StepKind, Trace, TraceEnd,
};
use classify::{classify, failure_class, fault_text, glue_records, related_records, Class};
use hickory_proto::op::Message;
use hickory_proto::rr::{Name, RecordType};
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
        audit::audit(&ctx, &qname, qtype, final_zone.as_ref()).await
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
                rcode: crate::resolve::lookup::rcode_text(msg.response_code()),
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
