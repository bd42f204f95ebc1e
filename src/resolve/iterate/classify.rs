//! What a reply means for the zone it was asked of: a referral further
//! down, an authoritative answer, CNAME or negative, or a lame server;
//! and which records of it to believe (only names inside the zone).

use super::Host;
use crate::diagnose::dns::answer::{Failure, Rec, MAX_CHAIN};
use crate::diagnose::dns::trace::{Fault, StepKind};
use crate::resolve::rdata::record_of;
use crate::resolve::Family;
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use std::net::IpAddr;

/// A reply classified against the zone it was asked of.
pub(super) enum Class {
    Usable(StepKind, Option<(Name, Vec<Host>)>),
    Fault(Fault, String),
}

/// The fault for a server that gave no reply. Nothing listening on its
/// port 53 (port unreachable from the server itself, or a TCP reset) is a
/// listed server that does not serve the zone: lame. A rejection on the
/// path or a local network error says nothing about the server.
pub(super) fn failure_class(f: &Failure) -> Class {
    let fault = match f {
        Failure::Timeout | Failure::TcpStalled => Fault::Timeout,
        Failure::Malformed(_) => Fault::Malformed,
        Failure::Refused => Fault::Lame,
        Failure::Icmp(_) | Failure::Network(_) | Failure::Tls(_) => Fault::Unreachable,
    };
    let text = match f {
        Failure::Refused => {
            "nothing listens for DNS there (ICMP port unreachable or TCP reset)".into()
        }
        other => fault_text(other),
    };
    Class::Fault(fault, text)
}

pub(super) fn fault_text(f: &Failure) -> String {
    crate::diagnose::dns::answer::failure_text(f)
}

/// Records owned by `qname` or its in-message CNAME chain, and the end of
/// that chain. Only names inside `zone` (the server's bailiwick) are
/// believed: a CNAME target outside it is looked up from the root, as a
/// resolver does, whatever data the server added for it.
pub(super) fn related_records<'m>(
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
pub(super) fn classify(
    msg: &Message,
    zone: &Name,
    qname: &Name,
    qtype: RecordType,
    family: Family,
) -> Class {
    let rcode = msg.response_code();
    let aa = msg.authoritative();
    if rcode != ResponseCode::NoError && rcode != ResponseCode::NXDomain {
        return Class::Fault(
            Fault::Lame,
            format!("answered {}", crate::resolve::lookup::rcode_text(rcode)),
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
            crate::resolve::lookup::rcode_text(rcode)
        ),
    )
}

/// The glue records of a referral (addresses of its NS names).
pub(super) fn glue_records(msg: &Message, hosts: &[Host]) -> Vec<Rec> {
    msg.additionals()
        .iter()
        .filter(|r| matches!(r.record_type(), RecordType::A | RecordType::AAAA))
        .filter(|r| hosts.iter().any(|h| h.name == r.name().to_lowercase()))
        .map(record_of)
        .collect()
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
