//! `--compare`: the same question to the system resolver and to a given
//! server, and what differs between the two answers.

use super::answer::{Answer, Status};
use serde::Serialize;

/// What kind of difference was found.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DiffKind {
    /// Same status and same data.
    Same,
    /// Same data, different TTLs (a cache counting down, or a stale one).
    Ttl,
    /// Both answered, with different data.
    Answers,
    /// Different outcome (e.g. NXDOMAIN on one side, data on the other).
    Status,
    /// One side did not answer at all.
    Unreachable,
}

/// One system-vs-server comparison for one question.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Comparison {
    /// The name as typed.
    pub input: String,
    /// Record type asked.
    pub qtype: String,
    /// The reference side (the system resolver).
    pub reference: String,
    /// The server compared with it.
    pub server: String,
    /// The kind of difference.
    pub kind: DiffKind,
    /// Human sentences, one per difference.
    pub differences: Vec<String>,
    /// The reference side's outcome.
    pub reference_status: Status,
    /// The server's outcome.
    pub server_status: Status,
}

/// The data of an answer, normalised for comparison (case, order).
fn data_set(a: &Answer) -> Vec<String> {
    let mut v: Vec<String> = a
        .records
        .iter()
        .map(|r| {
            format!(
                "{} {} {}",
                r.name.to_ascii_lowercase(),
                r.rtype,
                r.data.to_ascii_lowercase()
            )
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

/// A whole response arrived (a truncated one whose TCP retry failed is not).
fn responded(a: &Answer) -> bool {
    a.rcode.is_some() && !a.status.no_response()
}

/// Describes an answer in a few words: `NXDOMAIN`, `2 records`, `timeout`.
pub fn brief(a: &Answer) -> String {
    match a.status {
        Status::Answer => format!(
            "{} ({})",
            a.rcode.as_deref().unwrap_or("NOERROR"),
            a.data().join(", ")
        ),
        Status::NoData => "NOERROR, no data".into(),
        _ => super::answer::outcome_text(a),
    }
}

/// Compares the reference (system) answer with a server's answer.
pub fn compare(reference: &Answer, other: &Answer) -> Comparison {
    let mut differences = Vec::new();
    let kind = if !responded(reference) || !responded(other) {
        if !responded(reference) {
            differences.push(format!("{}: {}", reference.source, brief(reference)));
        }
        if !responded(other) {
            differences.push(format!("{}: {}", other.source, brief(other)));
        }
        if responded(reference) == responded(other) {
            DiffKind::Same
        } else {
            DiffKind::Unreachable
        }
    } else if reference.status != other.status {
        differences.push(format!(
            "{} says {}, {} says {}",
            reference.source,
            brief(reference),
            other.source,
            brief(other)
        ));
        DiffKind::Status
    } else {
        let (a, b) = (data_set(reference), data_set(other));
        if a != b {
            let only_a: Vec<&String> = a.iter().filter(|x| !b.contains(x)).collect();
            let only_b: Vec<&String> = b.iter().filter(|x| !a.contains(x)).collect();
            if !only_a.is_empty() {
                differences.push(format!("only {}: {}", reference.source, join(&only_a)));
            }
            if !only_b.is_empty() {
                differences.push(format!("only {}: {}", other.source, join(&only_b)));
            }
            DiffKind::Answers
        } else {
            let ttl = |x: &Answer| x.records.iter().map(|r| r.ttl).max().unwrap_or(0);
            let (ta, tb) = (ttl(reference), ttl(other));
            if ta != tb {
                differences.push(format!(
                    "same data, TTL {ta} s at {} vs {tb} s at {}",
                    reference.source, other.source
                ));
                DiffKind::Ttl
            } else {
                DiffKind::Same
            }
        }
    };
    Comparison {
        input: reference.input.clone(),
        qtype: reference.qtype.clone(),
        reference: reference.source.clone(),
        server: other.source.clone(),
        kind,
        differences,
        reference_status: reference.status,
        server_status: other.status,
    }
}

fn join(v: &[&String]) -> String {
    v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::dns::answer::Rec;

    fn answer(source: &str, status: Status, rcode: Option<&str>, data: &[(&str, u32)]) -> Answer {
        Answer {
            input: "web.lab.test".into(),
            qname: "web.lab.test.".into(),
            qtype: "A".into(),
            source: source.into(),
            server: Some(source.into()),
            transport: None,
            truncated_udp: false,
            status,
            rcode: rcode.map(str::to_string),
            flags: None,
            records: data
                .iter()
                .map(|(d, ttl)| Rec {
                    name: "web.lab.test.".into(),
                    ttl: *ttl,
                    class: "IN".into(),
                    rtype: "A".into(),
                    data: d.to_string(),
                })
                .collect(),
            cname_chain: Vec::new(),
            authority: Vec::new(),
            unrelated: Vec::new(),
            time_ms: 1.0,
            failure: rcode
                .is_none()
                .then_some(crate::diagnose::dns::answer::Failure::Timeout),
            timeout_s: 1.0,
            attempts: Vec::new(),
            tls: None,
        }
    }

    #[test]
    fn order_and_case_do_not_count_as_differences() {
        let a = answer(
            "sys",
            Status::Answer,
            Some("NOERROR"),
            &[("198.18.0.1", 60), ("198.18.0.2", 60)],
        );
        let b = answer(
            "srv",
            Status::Answer,
            Some("NOERROR"),
            &[("198.18.0.2", 60), ("198.18.0.1", 60)],
        );
        assert_eq!(compare(&a, &b).kind, DiffKind::Same);
    }

    #[test]
    fn each_kind_of_difference_is_named() {
        let sys = answer(
            "sys",
            Status::Answer,
            Some("NOERROR"),
            &[("198.18.0.10", 300)],
        );
        let other = answer(
            "srv",
            Status::Answer,
            Some("NOERROR"),
            &[("198.18.0.99", 300)],
        );
        let c = compare(&sys, &other);
        assert_eq!(c.kind, DiffKind::Answers);
        assert_eq!(c.differences.len(), 2);
        let stale = answer(
            "srv",
            Status::Answer,
            Some("NOERROR"),
            &[("198.18.0.10", 3600)],
        );
        assert_eq!(compare(&sys, &stale).kind, DiffKind::Ttl);
        let nx = answer("srv", Status::NxDomain, Some("NXDOMAIN"), &[]);
        let c = compare(&sys, &nx);
        assert_eq!(c.kind, DiffKind::Status);
        assert!(c.differences[0].contains("NXDOMAIN"), "{:?}", c.differences);
        let silent = answer("srv", Status::Timeout, None, &[]);
        let c = compare(&sys, &silent);
        assert_eq!(c.kind, DiffKind::Unreachable);
        assert!(c.differences[0].contains("timeout"), "{:?}", c.differences);
    }
}
