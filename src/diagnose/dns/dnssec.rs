//! DNSSEC validation facts (the chain of trust as it was checked) and the
//! rule that turns one validation into `dns.dnssec_secure`,
//! `dns.dnssec_insecure`, `dns.dnssec_bogus` or `dns.dnssec_indeterminate`.

use crate::diagnose::{Diagnosis, Severity};
use serde::Serialize;

/// The validation outcome, in RFC 4033 terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// Every link from the trust anchor to the answer verified.
    Secure,
    /// A signed parent proved that a zone on the way is unsigned (no DS).
    Insecure,
    /// Something that must verify did not: the answer is not to be trusted.
    Bogus,
    /// Could not decide: an algorithm netdx cannot check, no anchor for
    /// the name, or the server did not answer.
    Indeterminate,
}

/// Why a validation is not secure, as a category a script can match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// A signature did not verify with the key it names.
    BadSignature,
    /// An RRSIG's expiration is in the past.
    Expired,
    /// An RRSIG's inception is in the future.
    NotYetValid,
    /// No DNSKEY with the key tag and algorithm a DS or RRSIG names.
    MissingKey,
    /// A DNSKEY with the DS's key tag exists but its digest differs.
    DsMismatch,
    /// A record set that must be signed came without an RRSIG.
    MissingSignature,
    /// A negative answer without an NSEC or NSEC3 proving it (RFC 4035
    /// §5.4, RFC 5155 §8).
    NoDenialProof,
    /// Only algorithms (or digest types) netdx cannot verify.
    UnsupportedAlgorithm,
    /// A denial proof netdx does not check (kept for scripts matching
    /// it; NSEC and NSEC3 proofs are both checked now).
    UncheckedProof,
    /// No trust anchor covers the name.
    NoAnchor,
    /// A query for a chain record failed.
    QueryFailed,
}

/// One problem found while checking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Problem {
    /// Its category.
    pub kind: ProblemKind,
    /// The record set or zone concerned and what is wrong, in words.
    pub detail: String,
}

impl Problem {
    /// A problem of `kind` described by `detail`.
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Problem {
        Problem {
            kind,
            detail: detail.into(),
        }
    }

    /// The outcome this problem leads to: an algorithm netdx cannot
    /// check, or a record it could not fetch, leaves the answer
    /// undecided; anything else makes it bogus.
    pub fn security(&self) -> Security {
        match self.kind {
            ProblemKind::UnsupportedAlgorithm
            | ProblemKind::NoAnchor
            | ProblemKind::QueryFailed => Security::Indeterminate,
            _ => Security::Bogus,
        }
    }
}

/// A DS record of the chain (from the parent zone or the anchor file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct DsFact {
    /// Key tag of the DNSKEY it points at.
    pub key_tag: u16,
    /// DNSSEC algorithm number and name, e.g. `13 (ECDSAP256SHA256)`.
    pub algorithm: String,
    /// Digest type number (1 SHA-1, 2 SHA-256, 4 SHA-384).
    pub digest_type: u8,
    /// Whether a published DNSKEY matched it (tag, algorithm and digest).
    pub matched: bool,
}

/// A DNSKEY of a zone on the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct KeyFact {
    /// Its key tag (RFC 4034 appendix B).
    pub key_tag: u16,
    /// DNSSEC algorithm number and name.
    pub algorithm: String,
    /// The flags field (257 key-signing, 256 zone-signing).
    pub flags: u16,
    /// `KSK` when the SEP flag is set, else `ZSK`.
    pub role: String,
    /// Whether a DS (or the anchor) vouches for this key.
    pub trusted_by_ds: bool,
}

/// An RRSIG checked on the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SigFact {
    /// The record set it covers, e.g. `lab.test. DNSKEY`.
    pub covers: String,
    /// The zone that signed it.
    pub signer: String,
    /// Key tag of the signing key.
    pub key_tag: u16,
    /// DNSSEC algorithm number and name.
    pub algorithm: String,
    /// Inception time, UTC (ISO 8601).
    pub inception: String,
    /// Expiration time, UTC (ISO 8601).
    pub expiration: String,
    /// Whether it verified (time window, key and signature).
    pub valid: bool,
    /// Why not, when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// One zone on the chain of trust: how the parent (or the anchor)
/// vouches for it, its keys, and the signatures checked for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ZoneLink {
    /// The zone apex, e.g. `lab.test.`.
    pub zone: String,
    /// Where its DS (or key) trust comes from: the parent zone's name or
    /// `trust anchor`.
    pub vouched_by: String,
    /// DS records for it (empty when the anchor is a DNSKEY).
    pub ds: Vec<DsFact>,
    /// Its published DNSKEYs.
    pub keys: Vec<KeyFact>,
    /// RRSIGs checked: over the DS set in the parent, and over its DNSKEY set.
    pub signatures: Vec<SigFact>,
    /// This link's outcome.
    pub security: Security,
}

/// The DNSSEC verdict for one name and type, with the chain of trust.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Validation {
    /// The name asked about.
    pub name: String,
    /// The record type asked about.
    pub rtype: String,
    /// The server the chain was fetched from.
    pub server: String,
    /// The trust anchor used: zone and origin (built in or a file).
    pub anchor: String,
    /// The outcome.
    pub security: Security,
    /// The first problem that decided a non-secure outcome.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
    /// For an insecure answer: the zone whose delegation is unsigned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insecure_at: Option<String>,
    /// Zones from the anchor down, each with its DS, keys and signatures.
    pub chain: Vec<ZoneLink>,
    /// The answer's record sets in presentation form.
    pub records: Vec<String>,
    /// RRSIGs over the answer (or over the denial records of a negative answer).
    pub answer_signatures: Vec<SigFact>,
}

/// The diagnosis for one validation.
pub fn diagnose(v: &Validation) -> Diagnosis {
    let what = format!("{} {}", v.name, v.rtype);
    let d = match v.security {
        Security::Secure => Diagnosis::new(
            "dns.dnssec_secure",
            Severity::Ok,
            format!(
                "{what}: DNSSEC secure — every signature from the trust anchor {} down to the answer verified",
                v.anchor
            ),
        ),
        Security::Insecure => {
            let zone = v.insecure_at.clone().unwrap_or_else(|| "?".into());
            Diagnosis::new(
                "dns.dnssec_insecure",
                Severity::Info,
                format!(
                    "{what}: DNSSEC insecure — the chain of trust stops at {zone}: its parent proves there is no DS, so the zone is unsigned and its answers cannot be validated"
                ),
            )
            .with("zone", zone)
        }
        Security::Bogus => {
            let detail = v
                .problem
                .as_ref()
                .map(|p| p.detail.clone())
                .unwrap_or_default();
            Diagnosis::new(
                "dns.dnssec_bogus",
                Severity::Critical,
                format!("{what}: DNSSEC bogus — {detail}; a validating resolver answers SERVFAIL"),
            )
        }
        Security::Indeterminate => {
            let detail = v
                .problem
                .as_ref()
                .map(|p| p.detail.clone())
                .unwrap_or_default();
            Diagnosis::new(
                "dns.dnssec_indeterminate",
                Severity::Warning,
                format!("{what}: DNSSEC not decided — {detail}"),
            )
        }
    };
    let d = d
        .with("name", &v.name)
        .with("server", &v.server)
        .with("anchor", &v.anchor)
        .with("security", v.security);
    match &v.problem {
        Some(p) => d.with("reason", p.kind).with("detail", &p.detail),
        None => d,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validation(security: Security, problem: Option<Problem>) -> Validation {
        Validation {
            name: "www.lab.test.".into(),
            rtype: "A".into(),
            server: "198.18.0.1:53".into(),
            anchor: "test. (file)".into(),
            security,
            problem,
            insecure_at: None,
            chain: Vec::new(),
            records: Vec::new(),
            answer_signatures: Vec::new(),
        }
    }

    #[test]
    fn bogus_names_the_reason() {
        let p = Problem::new(ProblemKind::Expired, "RRSIG over www.lab.test. A expired");
        let d = diagnose(&validation(Security::Bogus, Some(p)));
        assert_eq!(d.code, "dns.dnssec_bogus");
        assert_eq!(d.severity, Severity::Critical);
        assert!(d.summary.contains("expired"));
        assert_eq!(d.evidence["reason"], "expired");
    }

    #[test]
    fn unsupported_algorithm_is_not_bogus() {
        let p = Problem::new(ProblemKind::UnsupportedAlgorithm, "algorithm 253");
        assert_eq!(p.security(), Security::Indeterminate);
        let d = diagnose(&validation(Security::Indeterminate, Some(p)));
        assert_eq!(d.code, "dns.dnssec_indeterminate");
        assert_eq!(d.severity, Severity::Warning);
    }
}
