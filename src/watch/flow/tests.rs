//! The flow tracker and the watch rules driven by segment scripts
//! (testdata/flows.json, one situation per case) and by builders for what a
//! script cannot say briefly: TIME_WAIT churn, the flow cap, random input.

use super::*;
use crate::diagnose::{Diagnosis, Severity};
use serde::Deserialize;
use serde_json::{Map, Value};

const FLOWS: &str = include_str!("testdata/flows.json");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[allow(dead_code)]
    about: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    segments: Vec<String>,
    #[serde(default)]
    expect_events: Option<Vec<String>>,
    #[serde(default)]
    expect: Vec<Expect>,
    #[serde(default)]
    expect_absent: Vec<String>,
    /// Fields every listed record must have, by index in `flows`.
    #[serde(default)]
    expect_flows: Vec<Map<String, Value>>,
    /// Words some event text must contain.
    #[serde(default)]
    events_have: Vec<String>,
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

/// The endpoint a script name stands for: `c`, `c1`… are clients on
/// 198.18.0.1 (ports 40000 + n), `s`, `s1`… the server 198.18.1.2 on
/// ports 80 + n; `h:PORT` any port of 198.18.0.1 (for mid-flow cases).
fn endpoint(name: &str) -> Result<SocketAddr, String> {
    let num = |s: &str| -> Result<u16, String> {
        if s.is_empty() {
            Ok(0)
        } else {
            s.parse().map_err(|e| format!("{name}: {e}"))
        }
    };
    if let Some(port) = name.strip_prefix("h:") {
        return Ok(SocketAddr::from(([198, 18, 0, 1], num(port)?)));
    }
    if let Some(n) = name.strip_prefix('c') {
        return Ok(SocketAddr::from(([198, 18, 0, 1], 40000 + num(n)?)));
    }
    if let Some(n) = name.strip_prefix('s') {
        return Ok(SocketAddr::from(([198, 18, 1, 2], 80 + num(n)?)));
    }
    Err(format!("unknown endpoint {name}"))
}

/// One script line: `MS FROM>TO FLAGS SEQ ACK WIN LEN [ws=N]`, flags as
/// tcpdump prints them (S, S., ., P., F., R, R.).
pub(super) fn segment(line: &str) -> Result<Segment, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    if words.len() < 7 {
        return Err(format!("{line:?}: want MS FROM>TO FLAGS SEQ ACK WIN LEN"));
    }
    let ms: f64 = words[0].parse().map_err(|e| format!("{line:?}: {e}"))?;
    let (from, to) = words[1]
        .split_once('>')
        .ok_or_else(|| format!("{line:?}: FROM>TO"))?;
    let mut flags = 0u8;
    for ch in words[2].chars() {
        flags |= match ch {
            'F' => 0x01,
            'S' => 0x02,
            'R' => 0x04,
            'P' => 0x08,
            '.' => 0x10,
            _ => return Err(format!("{line:?}: flag {ch}")),
        };
    }
    let n = |i: usize| -> Result<u64, String> {
        words[i]
            .parse::<u64>()
            .map_err(|e| format!("{line:?}: {e}"))
    };
    let mut window_scale = None;
    for extra in &words[7..] {
        match extra.strip_prefix("ws=") {
            Some(v) => window_scale = Some(v.parse().map_err(|e| format!("{line:?}: {e}"))?),
            None => return Err(format!("{line:?}: unknown {extra}")),
        }
    }
    Ok(Segment {
        ts_us: 1_700_000_000_000_000 + (ms * 1000.0) as u64,
        src: endpoint(from)?,
        dst: endpoint(to)?,
        flags,
        seq: n(3)? as u32,
        ack: n(4)? as u32,
        window: n(5)? as u16,
        window_scale,
        mss: None,
        payload_len: n(6)? as u32,
        ttl: 64,
    })
}

fn differences(got: &Diagnosis, want: &Expect) -> Vec<String> {
    let mut out = Vec::new();
    if got.severity.label() != want.severity {
        out.push(format!(
            "{}: severity {} (expected {})",
            want.code,
            got.severity.label(),
            want.severity
        ));
    }
    for words in &want.summary_has {
        if !got.summary.contains(words.as_str()) {
            out.push(format!(
                "{}: summary lacks {words:?}: {:?}",
                want.code, got.summary
            ));
        }
    }
    for (key, value) in &want.evidence {
        if got.evidence.get(key) != Some(value) {
            out.push(format!(
                "{}: evidence {key} = {:?} (expected {value})",
                want.code,
                got.evidence.get(key)
            ));
        }
    }
    out
}

fn run(segments: &[Segment]) -> (Vec<FlowEvent>, FlowSummary) {
    let mut tracker = FlowTracker::new();
    let mut events = Vec::new();
    for s in segments {
        events.extend(tracker.observe(s));
    }
    (events, tracker.finish())
}

fn check_case(case: &Case) -> Vec<String> {
    let mut segments = Vec::new();
    for line in &case.segments {
        match segment(line) {
            Ok(s) => segments.push(s),
            Err(e) => return vec![e],
        }
    }
    let (events, summary) = run(&segments);
    let mut problems = Vec::new();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    if let Some(want) = &case.expect_events {
        if kinds != *want {
            problems.push(format!("events {kinds:?} (expected {want:?})"));
        }
    }
    for words in &case.events_have {
        if !events.iter().any(|e| e.text.contains(words.as_str())) {
            let texts: Vec<&str> = events.iter().map(|e| e.text.as_str()).collect();
            problems.push(format!("no event says {words:?}: {texts:?}"));
        }
    }
    for want in &case.expect {
        match summary.diagnoses.iter().find(|d| d.code == want.code) {
            Some(got) => problems.extend(differences(got, want)),
            None => {
                let codes: Vec<&str> = summary.diagnoses.iter().map(|d| d.code.as_str()).collect();
                problems.push(format!("no {} among {codes:?}", want.code));
            }
        }
    }
    for code in &case.expect_absent {
        if let Some(d) = summary.diagnoses.iter().find(|d| &d.code == code) {
            problems.push(format!("unexpected {code}: {}", d.summary));
        }
    }
    for (i, want) in case.expect_flows.iter().enumerate() {
        let Some(record) = summary.flows.get(i) else {
            problems.push(format!("no flow record {i}"));
            continue;
        };
        let got = serde_json::to_value(record).unwrap_or(Value::Null);
        for (key, value) in want {
            if got.get(key) != Some(value) {
                problems.push(format!(
                    "flow {i}: {key} = {:?} (expected {value})",
                    got.get(key)
                ));
            }
        }
    }
    problems
}

#[test]
fn situations_from_data() {
    let file: File =
        serde_json::from_str(FLOWS).unwrap_or_else(|e| panic!("testdata/flows.json: {e}"));
    assert!(file.cases.len() >= 15, "only {} cases", file.cases.len());
    let mut failed = Vec::new();
    for case in &file.cases {
        let problems = check_case(case);
        if !problems.is_empty() {
            failed.push(format!("{}:\n    {}", case.name, problems.join("\n    ")));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} flow cases failed:\n  {}",
        failed.len(),
        file.cases.len(),
        failed.join("\n  ")
    );
}

/// A complete short connection from client port `port` to `server`,
/// closed first by `closer`, starting at `t_us`.
fn short_connection(port: u16, server: SocketAddr, t_us: u64, client_closes: bool) -> Vec<Segment> {
    let c = SocketAddr::from(([198, 18, 0, 1], port));
    let seg = |dt: u64, from_client: bool, flags: u8, seq: u32, ack: u32, len: u32| Segment {
        ts_us: t_us + dt,
        src: if from_client { c } else { server },
        dst: if from_client { server } else { c },
        flags,
        seq,
        ack,
        window: 500,
        window_scale: if flags & 0x02 != 0 { Some(7) } else { None },
        mss: None,
        payload_len: len,
        ttl: 64,
    };
    let (first, second) = (client_closes, !client_closes);
    vec![
        seg(0, true, 0x02, 100, 0, 0),
        seg(100, false, 0x12, 900, 101, 0),
        seg(200, true, 0x10, 101, 901, 0),
        seg(300, true, 0x18, 101, 901, 10),
        seg(400, false, 0x18, 901, 111, 20),
        // first FIN
        if first {
            seg(500, true, 0x11, 111, 921, 0)
        } else {
            seg(500, false, 0x11, 921, 111, 0)
        },
        if second {
            seg(600, true, 0x11, 111, 922, 0)
        } else {
            seg(600, false, 0x11, 921, 112, 0)
        },
        if first {
            seg(700, true, 0x10, 112, 922, 0)
        } else {
            seg(700, false, 0x10, 922, 112, 0)
        },
    ]
}

#[test]
fn closing_fast_from_the_client_piles_time_wait_on_the_client() {
    let server: SocketAddr = SocketAddr::from(([198, 18, 1, 2], 80));
    let mut segments = Vec::new();
    // 100 connections in 2 s: 50/s, each closed by the client first.
    for i in 0..100u16 {
        segments.extend(short_connection(
            41000 + i,
            server,
            1_700_000_000_000_000 + u64::from(i) * 20_000,
            true,
        ));
    }
    let (events, summary) = run(&segments);
    assert_eq!(summary.connections, 100);
    assert_eq!(events.iter().filter(|e| e.kind == "closed").count(), 100);
    let churn = summary
        .diagnoses
        .iter()
        .find(|d| d.code == "watch.time_wait_churn")
        .unwrap_or_else(|| panic!("no churn in {:?}", summary.diagnoses));
    assert_eq!(churn.severity, Severity::Warning);
    assert_eq!(churn.evidence["closed_by"], "client");
    assert_eq!(churn.evidence["closes"], 100);
    assert_eq!(churn.evidence["server"], "198.18.1.2:80");
    assert!(summary
        .diagnoses
        .iter()
        .all(|d| d.code != "watch.server_closes_first"));
}

#[test]
fn a_server_closing_first_is_info_and_holds_time_wait() {
    let server: SocketAddr = SocketAddr::from(([198, 18, 1, 2], 80));
    let mut segments = Vec::new();
    for i in 0..5u16 {
        segments.extend(short_connection(
            41000 + i,
            server,
            1_700_000_000_000_000 + u64::from(i) * 1_000_000,
            false,
        ));
    }
    let (_, summary) = run(&segments);
    let d = summary
        .diagnoses
        .iter()
        .find(|d| d.code == "watch.server_closes_first")
        .unwrap_or_else(|| panic!("{:?}", summary.diagnoses));
    assert_eq!(d.severity, Severity::Info);
    assert_eq!(d.evidence["connections"], 5);
    assert!(summary.diagnoses.iter().any(|d| d.code == "watch.healthy"));
    assert!(summary
        .flows
        .iter()
        .all(|f| f.first_fin.as_deref() == Some("server")));
}

#[test]
fn port_reuse_starts_a_new_connection() {
    let server: SocketAddr = SocketAddr::from(([198, 18, 1, 2], 80));
    let mut segments = short_connection(41000, server, 1_700_000_000_000_000, true);
    segments.extend(short_connection(41000, server, 1_700_000_000_500_000, true));
    let (_, summary) = run(&segments);
    assert_eq!(summary.connections, 2);
    assert_eq!(summary.flows.len(), 2);
    assert!(summary
        .flows
        .iter()
        .all(|f| f.ended == "closed, client first"));
}

#[test]
fn idle_flows_expire_and_closed_ones_leave_quietly() {
    let server: SocketAddr = SocketAddr::from(([198, 18, 1, 2], 80));
    let mut tracker = FlowTracker::new();
    let t0 = 1_700_000_000_000_000;
    for s in short_connection(41000, server, t0, true) {
        tracker.observe(&s);
    }
    // An open connection that goes silent.
    for s in short_connection(41001, server, t0, true).iter().take(4) {
        tracker.observe(s);
    }
    assert_eq!(tracker.active(), 2);
    assert!(tracker.expire(t0 + 3_000_000).is_empty());
    assert_eq!(tracker.active(), 1, "the closed flow lingers 2 s only");
    let events = tracker.expire(t0 + 121_000_000);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, "expired");
    assert_eq!(events[0].client.port(), 41001);
    assert_eq!(tracker.active(), 0);
    let summary = tracker.finish();
    assert_eq!(summary.connections, 2);
    assert_eq!(summary.flows.len(), 2);
}

#[test]
fn reading_a_long_capture_sweeps_by_itself() {
    // Many short connections over minutes of capture time: no expire()
    // calls, yet the table never holds more than the few recent ones.
    let server: SocketAddr = SocketAddr::from(([198, 18, 1, 2], 80));
    let mut tracker = FlowTracker::new();
    let mut most = 0;
    for i in 0..2000u64 {
        for s in short_connection(
            30000 + (i % 30000) as u16,
            server,
            1_700_000_000_000_000 + i * 100_000,
            true,
        ) {
            tracker.observe(&s);
        }
        most = most.max(tracker.active());
    }
    assert!(most <= 40, "{most} flows held at once");
    let summary = tracker.finish();
    assert_eq!(summary.connections, 2000);
    assert_eq!(summary.flows.len(), 1000);
    assert_eq!(summary.flows_omitted, 1000);
}

#[test]
fn the_flow_table_is_capped_and_the_rest_counted() {
    let config = FlowConfig {
        max_flows: 10,
        ..FlowConfig::default()
    };
    let mut tracker = FlowTracker::with_config(config);
    let server: SocketAddr = SocketAddr::from(([198, 18, 1, 2], 80));
    for i in 0..25u16 {
        let syn = Segment {
            ts_us: 1_700_000_000_000_000 + u64::from(i),
            src: SocketAddr::from(([198, 18, 0, 1], 40000 + i)),
            dst: server,
            flags: 0x02,
            seq: 1,
            ack: 0,
            window: 100,
            window_scale: None,
            mss: None,
            payload_len: 0,
            ttl: 64,
        };
        tracker.observe(&syn);
    }
    assert_eq!(tracker.active(), 10);
    let summary = tracker.finish();
    assert_eq!(summary.connections, 10);
    assert_eq!(summary.untracked_flows, 15);
    let d = summary
        .diagnoses
        .iter()
        .find(|d| d.code == "watch.untracked")
        .unwrap_or_else(|| panic!("{:?}", summary.diagnoses));
    assert_eq!(d.evidence["untracked_flows"], 15);
    assert!(render::table(&summary).contains("15 new flow(s)"));
}

/// xorshift64*: reproducible noise without a dependency.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[test]
fn random_segments_never_panic_and_stay_bounded() {
    let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
    let config = FlowConfig {
        max_flows: 64,
        ..FlowConfig::default()
    };
    let mut tracker = FlowTracker::with_config(config);
    let mut ts = 0u64;
    for _ in 0..200_000 {
        let r = noise.next();
        // Time mostly forwards, sometimes backwards or far ahead.
        ts = match r % 100 {
            0 => ts.saturating_sub(r >> 40),
            1 => ts.saturating_add(r >> 20),
            _ => ts.saturating_add(r % 5000),
        };
        let a = SocketAddr::from((
            [198, 18, 0, (r >> 8) as u8 % 4],
            40000 + (r >> 16) as u16 % 8,
        ));
        let b = SocketAddr::from(([198, 18, 1, 2], 80 + (r >> 24) as u16 % 3));
        let (src, dst) = if r & (1 << 33) != 0 { (a, b) } else { (b, a) };
        let s = Segment {
            ts_us: if r % 997 == 0 {
                u64::MAX - (r >> 50)
            } else {
                ts
            },
            src,
            dst,
            flags: (noise.next() & 0xff) as u8,
            seq: if r % 3 == 0 {
                noise.next() as u32
            } else {
                (r >> 35) as u32 % 4096
            },
            ack: noise.next() as u32,
            window: (noise.next() % 3) as u16 * 1000,
            window_scale: Some((noise.next() % 20) as u8),
            mss: None,
            payload_len: if r % 5 == 0 {
                u32::MAX
            } else {
                (noise.next() % 1500) as u32
            },
            ttl: 64,
        };
        for e in tracker.observe(&s) {
            assert!(!e.text.is_empty());
        }
        assert!(tracker.active() <= 64);
    }
    let _ = tracker.expire(u64::MAX);
    let summary = tracker.finish();
    assert!(summary.connections > 0);
    let _ = render::table(&summary);
    for d in &summary.diagnoses {
        assert!(
            crate::diagnose::codes::by_code(&d.code).is_some(),
            "{} unexplained",
            d.code
        );
    }
}

#[test]
fn every_event_renders_on_one_line() {
    let lines = [
        "0 c>s S 1000 0 64240 0 ws=7",
        "10 s>c S. 5000 1001 65160 0 ws=7",
        "12 c>s . 1001 5001 502 0",
        "20 c>s F. 1001 5001 502 0",
        "21 s>c F. 5001 1002 509 0",
        "22 c>s . 1002 5002 502 0",
    ];
    let segments: Vec<Segment> = lines
        .iter()
        .map(|l| segment(l).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    let (events, summary) = run(&segments);
    for e in &events {
        let line = render::event_line(e);
        assert!(!line.contains('\n'));
        assert!(line.contains("198.18.0.1:40000 > 198.18.1.2:80"), "{line}");
    }
    let table = render::table(&summary);
    assert!(
        table
            .lines()
            .next()
            .is_some_and(|h| h.starts_with("client")),
        "{table}"
    );
    assert!(table.contains("closed, client first"), "{table}");
    assert!(table.contains("10.000"), "{table}");
}
