//! Whether a negative answer's NSEC records prove what it says: for
//! NODATA an NSEC at the name whose type map lacks the type, for
//! NXDOMAIN an NSEC whose span covers the name (RFC 4035 §5.4); NSEC3
//! proofs go to [`super::nsec3`]. Their signatures are checked
//! separately; this is the logic of the proof.

use super::nsec3::{self, Proof};
use crate::diagnose::dns::dnssec::{Problem, ProblemKind};
use hickory_proto::dnssec::rdata::{DNSSECRData, NSEC};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};

/// Ok when the authority section proves the negative answer for
/// `name`/`rtype` in `zone` (with NSEC, or NSEC3 when it has no NSEC);
/// `Proof::OptOut` when only an NSEC3 opt-out span covers the name.
pub fn proven(
    answer: &Message,
    zone: &Name,
    name: &Name,
    rtype: RecordType,
) -> Result<Proof, Problem> {
    let nsecs: Vec<(&Name, &NSEC)> = answer
        .name_servers()
        .iter()
        .filter_map(|r| match r.data() {
            RData::DNSSEC(DNSSECRData::NSEC(n)) => Some((r.name(), n)),
            _ => None,
        })
        .collect();
    let nxdomain = answer.response_code() == ResponseCode::NXDomain;
    let what = if nxdomain {
        format!("{name} does not exist")
    } else {
        format!("{name} has no {rtype} record")
    };
    if nsecs.is_empty() {
        let nsec3 = answer
            .name_servers()
            .iter()
            .any(|r| r.record_type() == RecordType::NSEC3);
        let iterations = nsec3::max_iterations(answer.name_servers());
        if nsec3 && iterations > nsec3::MAX_ITERATIONS {
            return Err(Problem::new(
                ProblemKind::UnsupportedAlgorithm,
                format!(
                    "the answer says {what} with NSEC3 records of {iterations} hash iterations; netdx checks at most {} (RFC 9276 asks for 0)",
                    nsec3::MAX_ITERATIONS
                ),
            ));
        }
        if nsec3 {
            return nsec3::prove(answer.name_servers(), zone, name, rtype, nxdomain).map_err(
                |why| {
                    Problem::new(
                        ProblemKind::NoDenialProof,
                        format!(
                            "the answer says {what}, but its NSEC3 records do not prove it: {why}"
                        ),
                    )
                },
            );
        }
        return Err(Problem::new(
            ProblemKind::NoDenialProof,
            format!("the answer says {what}, but carries no NSEC or NSEC3 proving it"),
        ));
    }
    let ok = nsecs.iter().any(|(owner, nsec)| {
        if nxdomain {
            covers(owner, nsec.next_domain_name(), name)
        } else if *owner == name {
            let types: Vec<RecordType> = nsec.type_bit_maps().collect();
            !types.contains(&rtype) && !types.contains(&RecordType::CNAME)
        } else {
            // An empty non-terminal: the NSEC spans the name and the next
            // owner lies below it.
            covers(owner, nsec.next_domain_name(), name) && name.zone_of(nsec.next_domain_name())
        }
    });
    if ok {
        Ok(Proof::Denied)
    } else {
        Err(Problem::new(
            ProblemKind::NoDenialProof,
            format!("the answer says {what}, but none of its NSEC records proves it"),
        ))
    }
}

/// Whether the NSEC span owner → next covers `name` in canonical order
/// (the last NSEC of a zone wraps round to the apex).
fn covers(owner: &Name, next: &Name, name: &Name) -> bool {
    if owner < next {
        owner < name && name < next
    } else {
        owner < name || name < next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    /// A hostile NSEC3 with 65,535 iterations is named at once, never hashed.
    #[test]
    fn costly_nsec3_is_refused_fast() {
        use hickory_proto::dnssec::rdata::NSEC3;
        use hickory_proto::dnssec::Nsec3HashAlgorithm;
        use hickory_proto::rr::Record;
        let rdata = NSEC3::new(
            Nsec3HashAlgorithm::SHA1,
            false,
            u16::MAX,
            vec![0xab; 255],
            vec![0u8; 20],
            [RecordType::A],
        );
        let mut msg = Message::new();
        msg.set_response_code(ResponseCode::NXDomain);
        for i in 0..200 {
            let owner = n(&format!("h{i}.lab.test."));
            msg.add_name_server(Record::from_rdata(
                owner,
                300,
                RData::DNSSEC(DNSSECRData::NSEC3(rdata.clone())),
            ));
        }
        let started = std::time::Instant::now();
        let got = proven(
            &msg,
            &n("lab.test."),
            &n("a.b.c.nope.lab.test."),
            RecordType::A,
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        let p = got
            .err()
            .unwrap_or_else(|| Problem::new(ProblemKind::BadSignature, ""));
        assert_eq!(p.kind, ProblemKind::UnsupportedAlgorithm, "{}", p.detail);
        assert!(p.detail.contains("65535"), "{}", p.detail);
    }

    #[test]
    fn spans_in_canonical_order() {
        assert!(covers(
            &n("a.lab.test."),
            &n("www.lab.test."),
            &n("nope.lab.test.")
        ));
        assert!(!covers(
            &n("a.lab.test."),
            &n("www.lab.test."),
            &n("zzz.lab.test.")
        ));
        // The wrap-around span of the last NSEC.
        assert!(covers(
            &n("www.lab.test."),
            &n("lab.test."),
            &n("zzz.lab.test.")
        ));
        assert!(!covers(
            &n("www.lab.test."),
            &n("lab.test."),
            &n("www.lab.test.")
        ));
    }
}
