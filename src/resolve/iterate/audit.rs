//! After the trace: every listed server of every delegated zone asked the
//! same questions at once (SOA and NS of the zone, and the final question
//! for the last zone), so lame, dead and disagreeing servers show up even
//! when the trace never needed them.

use super::classify::{failure_class, fault_text, related_records, Class};
use super::{Ctx, Options};
use crate::diagnose::dns::trace::{Fault, ServerAddr, ServerView, ZoneAudit};
use crate::resolve::wire::{self, Outcome};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, RecordType};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

/// Server addresses the audit asks per zone (a hostile referral may list
/// hundreds; real zones have 2 to 13 servers, each with 1 or 2 addresses).
const MAX_AUDIT_PER_ZONE: usize = 26;

/// Asks every server of every delegated zone, all at once: SOA and NS of
/// the zone, and (for the zone of the final reply) the final question.
pub(super) async fn audit(
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
            crate::resolve::lookup::rcode_text(rcode)
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
                .map(|r| {
                    format!(
                        "{} {}",
                        r.record_type(),
                        crate::resolve::rdata::data_text(r.data())
                    )
                })
                .collect();
            data.sort();
            view.answer = Some(data);
        }
    }
    view
}
