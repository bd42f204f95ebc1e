//! `netdx tcp` verdicts that need a misbehaving peer (accept-then-reset, a
//! full accept queue) and `netdx tcp --hold` against peers that vanish,
//! close or reset, all in network namespaces.

mod common;
use common::{can_build_namespaces, Lab, Run};
use serde_json::Value;
use std::time::{Duration, Instant};

/// Listens on port 7000, accepts and closes at once with SO_LINGER 0 (RST).
const RESETTER: &str = r#"
import socket, struct
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7000))
s.listen(128)
while True:
    c, _ = s.accept()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
"#;

/// Listens on port 9000 with a backlog of 0 and never accepts; also keeps
/// an ordinary listener on 8080 that accepts and closes.
const FULL_QUEUE: &str = r#"
import socket, select
full = socket.socket()
full.bind(("0.0.0.0", 9000))
full.listen(0)
ok = socket.socket()
ok.bind(("0.0.0.0", 8080))
ok.listen(16)
while True:
    select.select([ok], [], [])
    c, _ = ok.accept()
    c.close()
"#;

/// Opens three connections to ARGV[1]:9000 without waiting and keeps them.
const FILLER: &str = r#"
import socket, sys, time
keep = []
for _ in range(3):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex((sys.argv[1], 9000))
    keep.append(s)
    time.sleep(0.2)
time.sleep(600)
"#;

/// Waits until `ns` listens on every port.
fn wait_listening(lab: &Lab, ns: &str, ports: &[u16]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ss = lab.exec(ns, &["ss", "-Hltn"]);
        if ports.iter().all(|p| ss.stdout.contains(&format!(":{p} "))) {
            return;
        }
        assert!(Instant::now() < deadline, "no listener: {}", ss.stdout);
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs `netdx --json tcp ARGS…` in the client namespace.
fn tcp_json(lab: &Lab, args: &[&str]) -> (Run, Value) {
    let mut all = vec!["--json", "tcp"];
    all.extend_from_slice(args);
    let run = lab.netdx(lab.client(), &all);
    let doc = run.json();
    (run, doc)
}

/// Diagnosis codes of a document.
fn codes(doc: &Value) -> Vec<String> {
    doc["diagnosis"]
        .as_array()
        .map(|ds| {
            ds.iter()
                .filter_map(|d| d["code"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn accept_then_reset_is_its_own_verdict_every_time() {
    if !can_build_namespaces("tcp_accept_reset") {
        return;
    }
    let mut lab = Lab::chain(1);
    let ns = lab.server().to_string();
    lab.spawn(&ns, &["python3", "-c", RESETTER]);
    wait_listening(&lab, &ns, &[7000]);
    let target = format!("{}:7000", lab.server_v4());
    // 30 attempts in one run: every one is a reset after the handshake.
    let (run, doc) = tcp_json(&lab, &["-c", "30", "-i", "0.01", &target]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let t = &doc["targets"][0];
    assert_eq!(t["state"], "reset", "{doc}");
    assert_eq!(t["reset_after_accept"], 30, "{doc}");
    assert_eq!(t["connected"], 0, "{doc}");
    assert_eq!(codes(&doc), vec!["tcp.reset_after_accept".to_string()]);
    let summary = doc["diagnosis"][0]["summary"].as_str().unwrap_or("");
    assert!(summary.contains("handshake completed"), "{summary}");
    // --expect closed never passes on it.
    for _ in 0..10 {
        let (run, doc) = tcp_json(&lab, &["--expect", "closed", &target]);
        assert_eq!(run.code, 1, "{}", run.stdout);
        assert_eq!(codes(&doc), vec!["tcp.unexpectedly_open".to_string()]);
    }
}

#[test]
fn a_full_accept_queue_is_named_when_other_ports_answer() {
    if !can_build_namespaces("tcp_full_queue") {
        return;
    }
    let mut lab = Lab::chain(1);
    let ns = lab.server().to_string();
    let client = lab.client().to_string();
    let server = lab.server_v4();
    lab.spawn(&ns, &["python3", "-c", FULL_QUEUE]);
    wait_listening(&lab, &ns, &[8080, 9000]);
    lab.spawn(&client, &["python3", "-c", FILLER, &server]);
    // Wait until the queue holds its one connection and SYNs overflow.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let nstat = lab.exec(&ns, &["nstat", "-az", "TcpExtListenOverflows"]);
        let overflows = nstat
            .stdout
            .lines()
            .find(|l| l.starts_with("TcpExtListenOverflows"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
        if overflows > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "queue never overflowed");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (run, doc) = tcp_json(&lab, &["-W", "1", &format!("{server}:8080,3306,9000")]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let c = codes(&doc);
    assert!(c.contains(&"tcp.silent_port".to_string()), "{doc}");
    let d = doc["diagnosis"]
        .as_array()
        .and_then(|ds| ds.iter().find(|d| d["code"] == "tcp.silent_port"))
        .cloned()
        .unwrap_or_default();
    let summary = d["summary"].as_str().unwrap_or("");
    assert!(summary.contains("accept queue is full"), "{summary}");
    assert!(summary.contains("port filter"), "{summary}");
    assert_eq!(
        d["evidence"]["answering_ports"],
        serde_json::json!([8080, 3306]),
        "{d}"
    );
    // Alone, a silent port is still the firewall-or-down verdict.
    let (_, doc) = tcp_json(&lab, &["-W", "0.5", &format!("{server}:9000")]);
    assert_eq!(codes(&doc), vec!["tcp.timeout".to_string()]);
}
