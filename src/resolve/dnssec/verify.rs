//! The cryptographic checks of one link, on records already fetched:
//! RRSIGs over a record set (time window against the real clock, key
//! tag, algorithm, signature via hickory's verifier) and DS digests over
//! DNSKEYs. Each failure comes back as a named problem, never a panic.

use crate::diagnose::dns::dnssec::{DsFact, KeyFact, Problem, ProblemKind, SigFact};
use hickory_proto::dnssec::rdata::{DNSSECRData, DNSKEY, DS, RRSIG};
use hickory_proto::dnssec::{Algorithm, DigestType, Verifier};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

/// The seconds since the epoch as RRSIG times count them (mod 2^32).
pub fn now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as u32)
        .unwrap_or(0)
}

/// `13 (ECDSAP256SHA256)`.
pub fn algorithm_text(a: Algorithm) -> String {
    format!("{} ({})", u8::from(a), a.as_str())
}

/// An RRSIG time (seconds since the epoch, mod 2^32) as ISO 8601 UTC.
pub fn time_text(t: u32) -> String {
    crate::timefmt::Utc::from_unix(i64::from(t)).rfc3339()
}

/// The DS records in `records` owned by `name`.
pub fn ds_of(records: &[Record], name: &Name) -> Vec<DS> {
    records
        .iter()
        .filter(|r| r.name() == name)
        .filter_map(|r| match r.data() {
            RData::DNSSEC(DNSSECRData::DS(ds)) => Some(ds.clone()),
            _ => None,
        })
        .collect()
}

/// The DNSKEY records in `records` owned by `name`.
pub fn keys_of(records: &[Record], name: &Name) -> Vec<DNSKEY> {
    records
        .iter()
        .filter(|r| r.name() == name)
        .filter_map(|r| match r.data() {
            RData::DNSSEC(DNSSECRData::DNSKEY(k)) => Some(k.clone()),
            _ => None,
        })
        .collect()
}

/// The records of one set: owner `name`, type `rtype`.
pub fn rrset<'a>(records: &'a [Record], name: &Name, rtype: RecordType) -> Vec<&'a Record> {
    records
        .iter()
        .filter(|r| r.name() == name && r.record_type() == rtype)
        .collect()
}

/// The RRSIGs in `records` over `name`/`rtype`.
pub fn sigs_over(records: &[Record], name: &Name, rtype: RecordType) -> Vec<RRSIG> {
    records
        .iter()
        .filter(|r| r.name() == name)
        .filter_map(|r| match r.data() {
            RData::DNSSEC(DNSSECRData::RRSIG(s)) if s.type_covered() == rtype => Some(s.clone()),
            _ => None,
        })
        .collect()
}

/// A key's tag, 0 when it cannot be encoded.
pub fn tag(key: &DNSKEY) -> u16 {
    key.calculate_key_tag().unwrap_or(0)
}

/// The report line of a key.
pub fn key_fact(key: &DNSKEY, trusted: bool) -> KeyFact {
    KeyFact {
        key_tag: tag(key),
        algorithm: algorithm_text(key.algorithm()),
        flags: key.flags(),
        role: if key.secure_entry_point() {
            "KSK"
        } else {
            "ZSK"
        }
        .into(),
        trusted_by_ds: trusted,
    }
}

/// Checks the RRSIGs over one record set with the keys of `zone`. Ok when
/// one of them verifies; otherwise the most telling problem (a time
/// window beats a bad signature, which beats a missing key, which beats
/// an algorithm netdx cannot check).
pub fn check_rrset(
    set: &[&Record],
    sigs: &[RRSIG],
    zone: &Name,
    keys: &[DNSKEY],
    now: u32,
) -> (Vec<SigFact>, Result<(), Problem>) {
    let Some(first) = set.first() else {
        return (Vec::new(), Ok(()));
    };
    let covers = format!("{} {}", first.name().to_ascii(), first.record_type());
    let mut facts = Vec::new();
    if sigs.is_empty() {
        return (
            facts,
            Err(Problem::new(
                ProblemKind::MissingSignature,
                format!("{covers} came without an RRSIG, but zone {zone} is signed"),
            )),
        );
    }
    let mut worst: Option<(u8, Problem)> = None;
    let keep = |rank: u8, p: Problem, worst: &mut Option<(u8, Problem)>| {
        if worst.as_ref().is_none_or(|(r, _)| rank > *r) {
            *worst = Some((rank, p));
        }
    };
    for sig in sigs {
        let (inception, expiration) = (sig.sig_inception().get(), sig.sig_expiration().get());
        let mut fact = SigFact {
            covers: covers.clone(),
            signer: sig.signer_name().to_ascii(),
            key_tag: sig.key_tag(),
            algorithm: algorithm_text(sig.algorithm()),
            inception: time_text(inception),
            expiration: time_text(expiration),
            valid: false,
            problem: None,
        };
        let why: Result<(), (u8, Problem)> = (|| {
            if sig.signer_name() != zone {
                return Err((
                    1,
                    Problem::new(
                        ProblemKind::MissingSignature,
                        format!(
                            "the RRSIG over {covers} is signed by {}, not by its zone {zone}",
                            sig.signer_name()
                        ),
                    ),
                ));
            }
            if !sig.algorithm().is_supported() {
                return Err((
                    0,
                    Problem::new(
                        ProblemKind::UnsupportedAlgorithm,
                        format!(
                            "the RRSIG over {covers} uses algorithm {}, which netdx cannot verify",
                            algorithm_text(sig.algorithm())
                        ),
                    ),
                ));
            }
            if (expiration.wrapping_sub(now) as i32) < 0 {
                return Err((
                    4,
                    Problem::new(
                        ProblemKind::Expired,
                        format!(
                            "the RRSIG over {covers} (key {}) expired on {} (valid from {}; now {})",
                            sig.key_tag(),
                            time_text(expiration),
                            time_text(inception),
                            time_text(now)
                        ),
                    ),
                ));
            }
            if (now.wrapping_sub(inception) as i32) < 0 {
                return Err((
                    4,
                    Problem::new(
                        ProblemKind::NotYetValid,
                        format!(
                            "the RRSIG over {covers} (key {}) is not valid before {} (now {})",
                            sig.key_tag(),
                            time_text(inception),
                            time_text(now)
                        ),
                    ),
                ));
            }
            let candidates: Vec<&DNSKEY> = keys
                .iter()
                .filter(|k| k.algorithm() == sig.algorithm() && tag(k) == sig.key_tag())
                .collect();
            if candidates.is_empty() {
                return Err((
                    2,
                    Problem::new(
                        ProblemKind::MissingKey,
                        format!(
                            "the RRSIG over {covers} names key {} (algorithm {}), which zone {zone} does not publish (its keys: {})",
                            sig.key_tag(),
                            u8::from(sig.algorithm()),
                            tags(keys)
                        ),
                    ),
                ));
            }
            let owned: Vec<Record> = set.iter().map(|r| (*r).clone()).collect();
            let verified = candidates.iter().any(|k| {
                k.verify_rrsig(first.name(), DNSClass::IN, sig, owned.iter())
                    .is_ok()
            });
            if verified {
                Ok(())
            } else {
                Err((
                    3,
                    Problem::new(
                        ProblemKind::BadSignature,
                        format!(
                            "the RRSIG over {covers} does not verify with key {}: bad signature (the data or the key was changed after signing)",
                            sig.key_tag()
                        ),
                    ),
                ))
            }
        })();
        match why {
            Ok(()) => {
                fact.valid = true;
                facts.push(fact);
                return (facts, Ok(()));
            }
            Err((rank, p)) => {
                fact.problem = Some(p.detail.clone());
                facts.push(fact);
                keep(rank, p, &mut worst);
            }
        }
    }
    let problem = worst.map(|(_, p)| p).unwrap_or_else(|| {
        Problem::new(ProblemKind::MissingSignature, format!("{covers}: no RRSIG"))
    });
    (facts, Err(problem))
}

/// Key tags for a message: `20326/8, 1234/13`.
fn tags(keys: &[DNSKEY]) -> String {
    if keys.is_empty() {
        return "none".into();
    }
    keys.iter()
        .map(|k| format!("{}/{}", tag(k), u8::from(k.algorithm())))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The keys of `zone` vouched for by a DS (digest match) or equal to an
/// anchor key, with one fact per DS; Err when none is.
pub fn trusted_keys(
    zone: &Name,
    published: &[DNSKEY],
    ds: &[DS],
    anchor_keys: &[DNSKEY],
) -> (Vec<DsFact>, Result<Vec<DNSKEY>, Problem>) {
    let mut facts = Vec::new();
    let mut trusted: Vec<DNSKEY> = Vec::new();
    let mut worst: Option<(u8, Problem)> = None;
    let keep = |rank: u8, p: Problem, worst: &mut Option<(u8, Problem)>| {
        if worst.as_ref().is_none_or(|(r, _)| rank > *r) {
            *worst = Some((rank, p));
        }
    };
    for d in ds {
        let mut fact = DsFact {
            key_tag: d.key_tag(),
            algorithm: algorithm_text(d.algorithm()),
            digest_type: u8::from(d.digest_type()),
            matched: false,
        };
        let digest_known = matches!(
            d.digest_type(),
            DigestType::SHA1 | DigestType::SHA256 | DigestType::SHA384
        );
        if !d.algorithm().is_supported() || !digest_known {
            keep(
                0,
                Problem::new(
                    ProblemKind::UnsupportedAlgorithm,
                    format!(
                        "the DS for {zone} (key {}) uses algorithm {} / digest type {}, which netdx cannot verify",
                        d.key_tag(),
                        algorithm_text(d.algorithm()),
                        u8::from(d.digest_type())
                    ),
                ),
                &mut worst,
            );
            facts.push(fact);
            continue;
        }
        let same_tag: Vec<&DNSKEY> = published
            .iter()
            .filter(|k| tag(k) == d.key_tag() && k.algorithm() == d.algorithm())
            .collect();
        if same_tag.is_empty() {
            keep(
                2,
                Problem::new(
                    ProblemKind::MissingKey,
                    format!(
                        "the DS for {zone} points at key {} (algorithm {}), but {zone} publishes no such DNSKEY (its keys: {})",
                        d.key_tag(),
                        u8::from(d.algorithm()),
                        tags(published)
                    ),
                ),
                &mut worst,
            );
            facts.push(fact);
            continue;
        }
        match same_tag
            .iter()
            .find(|k| d.covers(zone, k).unwrap_or(false))
        {
            Some(k) => {
                fact.matched = true;
                if !trusted.contains(k) {
                    trusted.push((*k).clone());
                }
            }
            None => keep(
                1,
                Problem::new(
                    ProblemKind::DsMismatch,
                    format!(
                        "the DS for {zone} names key {} but its digest does not match that DNSKEY (DS digest mismatch)",
                        d.key_tag()
                    ),
                ),
                &mut worst,
            ),
        }
        facts.push(fact);
    }
    for a in anchor_keys {
        if let Some(k) = published.iter().find(|k| *k == a) {
            if !trusted.contains(k) {
                trusted.push(k.clone());
            }
        } else {
            keep(
                2,
                Problem::new(
                    ProblemKind::MissingKey,
                    format!(
                        "the anchor key {} for {zone} is not among the DNSKEYs {zone} publishes ({})",
                        tag(a),
                        tags(published)
                    ),
                ),
                &mut worst,
            );
        }
    }
    if !trusted.is_empty() {
        return (facts, Ok(trusted));
    }
    let problem = worst.map(|(_, p)| p).unwrap_or_else(|| {
        Problem::new(
            ProblemKind::MissingKey,
            format!("no DNSKEY of {zone} is vouched for by a DS or the anchor"),
        )
    });
    (facts, Err(problem))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rrsig_times_print_as_utc() {
        assert_eq!(time_text(0), "1970-01-01T00:00:00Z");
        assert_eq!(time_text(1_577_836_800), "2020-01-01T00:00:00Z");
        assert_eq!(time_text(1_709_210_096), "2024-02-29T12:34:56Z");
    }

    #[test]
    fn no_signature_is_named() {
        let name = Name::from_ascii("www.lab.test.").unwrap();
        let rec = Record::from_rdata(
            name.clone(),
            60,
            RData::A(hickory_proto::rr::rdata::A::new(198, 18, 0, 1)),
        );
        let (_, r) = check_rrset(
            &[&rec],
            &[],
            &Name::from_ascii("lab.test.").unwrap(),
            &[],
            now(),
        );
        assert_eq!(r.unwrap_err().kind, ProblemKind::MissingSignature);
    }
}
