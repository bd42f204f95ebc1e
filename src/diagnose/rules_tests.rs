//! The diagnosis rules checked from data files, one case per entry, so a
//! new rule or a changed word is a line of JSON: testdata/ping_rules.json
//! for the ping rules, testdata/tables.json for the ICMP and errno tables.

use super::ping::{self, Evidence, Tally};
use super::{errno, icmp, ttl, Diagnosis};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::net::IpAddr;

const PING_RULES: &str = include_str!("testdata/ping_rules.json");
const TABLES: &str = include_str!("testdata/tables.json");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PingFile {
    #[allow(dead_code)]
    about: String,
    cases: Vec<PingCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PingCase {
    name: String,
    target: IpAddr,
    tally: Tally,
    #[serde(default)]
    evidence: Evidence,
    /// Fed to `ttl::infer` as the hop inference.
    #[serde(default)]
    reply_ttl: Option<u8>,
    /// errno name of the first local send failure.
    #[serde(default)]
    local_errno: Option<String>,
    expect: Expect,
    /// Absent: not checked; null: no finding; a string: its code.
    #[serde(default, deserialize_with = "present")]
    expect_duplicates: Option<Option<String>>,
}

/// Tells a null field (`Some(None)`) from an absent one (`None`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    code: String,
    severity: String,
    #[serde(default)]
    summary_has: Vec<String>,
    #[serde(default)]
    evidence: Map<String, Value>,
}

/// What is wrong with `got` against `want`, one line per difference.
fn differences(got: &Diagnosis, want: &Expect) -> Vec<String> {
    let mut out = Vec::new();
    if got.code != want.code {
        out.push(format!("code {} (expected {})", got.code, want.code));
    }
    if got.severity.label() != want.severity {
        out.push(format!(
            "severity {} (expected {})",
            got.severity.label(),
            want.severity
        ));
    }
    for words in &want.summary_has {
        if !got.summary.contains(words.as_str()) {
            out.push(format!("summary lacks {words:?}: {:?}", got.summary));
        }
    }
    for (key, value) in &want.evidence {
        if got.evidence.get(key) != Some(value) {
            out.push(format!(
                "evidence {key} = {:?} (expected {value})",
                got.evidence.get(key)
            ));
        }
    }
    out
}

#[test]
fn ping_rules_from_data() {
    let file: PingFile = serde_json::from_str(PING_RULES)
        .unwrap_or_else(|e| panic!("testdata/ping_rules.json: {e}"));
    assert!(file.cases.len() >= 20, "only {} cases", file.cases.len());
    let mut failed = Vec::new();
    for case in &file.cases {
        let mut evidence = case.evidence.clone();
        if let Some(name) = &case.local_errno {
            match errno::by_name(name) {
                Some(info) => evidence.first_local_errno = Some(info.number),
                None => {
                    failed.push(format!("{}: unknown errno {name}", case.name));
                    continue;
                }
            }
        }
        let inference = case.reply_ttl.map(ttl::infer);
        let got = ping::diagnose(&case.tally, inference.as_ref(), &evidence, case.target);
        let mut problems = differences(&got, &case.expect);
        if let Some(want) = &case.expect_duplicates {
            let dup = ping::duplicates(&case.tally, case.target).map(|d| d.code);
            if &dup != want {
                problems.push(format!("duplicates finding {dup:?} (expected {want:?})"));
            }
        }
        if !problems.is_empty() {
            failed.push(format!("{}:\n    {}", case.name, problems.join("\n    ")));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} ping rule cases failed:\n  {}",
        failed.len(),
        file.cases.len(),
        failed.join("\n  ")
    );
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TablesFile {
    #[allow(dead_code)]
    about: String,
    icmp: Vec<IcmpCase>,
    errno: Vec<ErrnoCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IcmpCase {
    v6: bool,
    #[serde(rename = "type")]
    icmp_type: u8,
    code: u8,
    name: Option<String>,
    ping_text: String,
    mark: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrnoCase {
    name: String,
    number: i32,
    diagnosis: Option<String>,
    #[serde(default)]
    reverse: bool,
}

#[test]
fn icmp_and_errno_tables_from_data() {
    let file: TablesFile =
        serde_json::from_str(TABLES).unwrap_or_else(|e| panic!("testdata/tables.json: {e}"));
    let mut failed = Vec::new();
    for c in &file.icmp {
        let family = if c.v6 { "ICMPv6" } else { "ICMP" };
        let case = format!("{family} {}/{}", c.icmp_type, c.code);
        let name = icmp::lookup(c.v6, c.icmp_type, c.code).map(|i| i.name.to_string());
        if name != c.name {
            failed.push(format!("{case}: name {name:?} (expected {:?})", c.name));
        }
        let text = icmp::ping_text(c.v6, c.icmp_type, c.code);
        if text != c.ping_text {
            failed.push(format!(
                "{case}: ping text {text:?} (expected {:?})",
                c.ping_text
            ));
        }
        let mark = icmp::trace_mark(c.v6, c.icmp_type, c.code);
        if mark != c.mark {
            failed.push(format!("{case}: mark {mark:?} (expected {:?})", c.mark));
        }
    }
    for c in &file.errno {
        let Some(info) = errno::by_name(&c.name) else {
            failed.push(format!("{}: not in the errno table", c.name));
            continue;
        };
        if info.number != c.number {
            failed.push(format!(
                "{}: number {} (expected {})",
                c.name, info.number, c.number
            ));
        }
        if errno::by_number(c.number).map(|i| i.number) != Some(c.number) {
            failed.push(format!("{}: by_number({}) misses it", c.name, c.number));
        }
        if info.diagnosis != c.diagnosis.as_deref() {
            failed.push(format!(
                "{}: diagnosis {:?} (expected {:?})",
                c.name, info.diagnosis, c.diagnosis
            ));
        }
        if let (true, Some(code)) = (c.reverse, &c.diagnosis) {
            let back = errno::by_diagnosis(code).map(|i| i.name);
            if back != Some(info.name) {
                failed.push(format!("{}: by_diagnosis({code}) gives {back:?}", c.name));
            }
        }
    }
    assert!(
        failed.is_empty(),
        "table cases failed:\n  {}",
        failed.join("\n  ")
    );
}
