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

/// Listens on port 7100, accepts and holds every connection open, reading
/// nothing.
const HOLDER: &str = r#"
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7100))
s.listen(128)
keep = []
while True:
    c, _ = s.accept()
    keep.append(c)
"#;

/// Connects twice to ARGV[1]:7100 with keepalive on (one with
/// TCP_KEEPIDLE=5, one on the host default) and touches ARGV[2]; with
/// ARGV[3] = "send", then waits for ARGV[2].go and writes 1800 bytes on
/// the first.
const KEEPER: &str = r#"
import socket, sys, time, os
a = socket.create_connection((sys.argv[1], 7100))
a.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
a.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 5)
b = socket.create_connection((sys.argv[1], 7100))
b.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
c = socket.socket()
c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 600)
c.connect((sys.argv[1], 7100))
open(sys.argv[2], "w").close()
if sys.argv[3] == "send":
    while not os.path.exists(sys.argv[2] + ".go"):
        time.sleep(0.02)
    a.send(b"x" * 1800)
time.sleep(600)
"#;

/// Starts the holder in the server namespace and the keeper in the client
/// namespace; returns when the keeper is connected.
fn keeper(lab: &mut Lab, tag: &str, mode: &str) {
    let ns = lab.server().to_string();
    let client = lab.client().to_string();
    lab.spawn(&ns, &["python3", "-c", HOLDER]);
    wait_listening(lab, &ns, &[7100]);
    let ready = std::env::temp_dir().join(format!("netdx-{tag}-{}.ready", std::process::id()));
    let _ = std::fs::remove_file(&ready);
    let path = ready.to_string_lossy().into_owned();
    let server = lab.server_v4();
    lab.spawn(&client, &["python3", "-c", KEEPER, &server, &path, mode]);
    let start = Instant::now();
    while !ready.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "keeper never ready"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::fs::remove_file(&ready);
}

#[test]
fn keepalive_default_counts_only_sockets_without_their_own_idle() {
    if !can_build_namespaces("sock_keepidle") {
        return;
    }
    let mut lab = Lab::chain(0);
    keeper(&mut lab, "keepidle", "idle");
    let client = lab.client().to_string();
    let doc = lab.netdx(&client, &["--json", "sockets"]).json();
    // a: TCP_KEEPIDLE=5, b: the host default, c: TCP_KEEPIDLE=600 (its
    // timer is due in ~600 s, which the old "due in under 360 s" rule
    // counted as the 7200 s default).
    assert_eq!(doc["keepalive_armed"], 3, "{doc}");
    let d = doc["diagnosis"]
        .as_array()
        .and_then(|ds| ds.iter().find(|d| d["code"] == "sockets.keepalive_default"))
        .cloned()
        .unwrap_or_else(|| panic!("no keepalive_default: {doc}"));
    assert_eq!(d["evidence"]["keepalive_own_idle"], 2, "{d}");
    let summary = d["summary"].as_str().unwrap_or("");
    assert!(summary.starts_with("1 of 3 established"), "{summary}");
    assert!(summary.contains("set their own TCP_KEEPIDLE"), "{summary}");
}

#[test]
fn a_peer_that_stops_acknowledging_is_not_healthy() {
    if !can_build_namespaces("sock_stalled") {
        return;
    }
    let mut lab = Lab::chain(0);
    // The peer vanishes before the data is sent: everything to it is dropped.
    let ns = lab.server().to_string();
    lab.spawn(&ns, &["python3", "-c", HOLDER]);
    wait_listening(&lab, &ns, &[7100]);
    let client = lab.client().to_string();
    let server = lab.server_v4();
    let ready = std::env::temp_dir().join(format!("netdx-stall-{}.ready", std::process::id()));
    let _ = std::fs::remove_file(&ready);
    let path = ready.to_string_lossy().into_owned();
    lab.spawn(&client, &["python3", "-c", KEEPER, &server, &path, "send"]);
    let start = Instant::now();
    while !ready.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "keeper never ready"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    lab.nft(
        &ns,
        "table inet f { chain input { type filter hook input priority 0; tcp dport 7100 drop; }\n}",
    );
    let go = format!("{path}.go");
    std::fs::write(&go, "").unwrap_or_else(|e| panic!("{go}: {e}"));
    let _ = std::fs::remove_file(&ready);
    // Two retransmissions take 0.2 + 0.4 s at the minimum RTO.
    std::thread::sleep(Duration::from_millis(1500));
    let _ = std::fs::remove_file(&go);
    let doc = lab.netdx(&client, &["--json", "sockets"]).json();
    let c = codes(&doc);
    assert!(!c.contains(&"sockets.healthy".to_string()), "{doc}");
    let d = doc["diagnosis"]
        .as_array()
        .and_then(|ds| ds.iter().find(|d| d["code"] == "sockets.half_open_suspect"))
        .cloned()
        .unwrap_or_else(|| panic!("no half_open_suspect: {doc}"));
    assert_eq!(d["evidence"]["count"], 1, "{d}");
    assert_eq!(
        d["evidence"]["peers"],
        serde_json::json!([format!("{server}:7100")]),
        "{d}"
    );
    let summary = d["summary"].as_str().unwrap_or("");
    assert!(summary.contains("1800 bytes unacknowledged"), "{summary}");
    assert!(summary.contains("python3"), "{summary}");
}

#[test]
fn process_filter_stays_in_our_network_namespace() {
    if !can_build_namespaces("sock_netns_proc") {
        return;
    }
    let mut lab = Lab::chain(0);
    let ns = lab.server().to_string();
    lab.spawn(&ns, &["python3", "-c", HOLDER]);
    wait_listening(&lab, &ns, &[7100]);
    // python3 holds a socket in the server namespace, none in the client's.
    let client = lab.client().to_string();
    let run = lab.netdx(&client, &["sockets", "--process", "python3"]);
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert!(!run.stdout.contains("python3"), "{}", run.stdout);
    let run = lab.netdx(&ns, &["sockets", "--process", "python3"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("7100"), "{}", run.stdout);
}

/// Listens on port 7200; per ARGV[1], holds each connection ("hold"),
/// closes it after a second ("close") or resets it after a second ("reset").
const PEER: &str = r#"
import socket, struct, sys, time, threading
mode = sys.argv[1]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7200))
s.listen(16)
keep = []
def later(c):
    time.sleep(1)
    if mode == "reset":
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
while True:
    c, _ = s.accept()
    keep.append(c)
    if mode != "hold":
        threading.Thread(target=later, args=(c,), daemon=True).start()
"#;

/// A lab whose server runs [`PEER`] in `mode`.
fn peer_lab(mode: &str) -> Lab {
    let mut lab = Lab::chain(0);
    let ns = lab.server().to_string();
    lab.spawn(&ns, &["python3", "-c", PEER, mode]);
    wait_listening(&lab, &ns, &[7200]);
    lab
}

/// Runs `netdx --json tcp SERVER:7200 --hold ARGS…` while `meanwhile`
/// acts on the lab; returns the run, its document and its wall time.
fn hold_while(lab: &Lab, args: &[&str], meanwhile: impl FnOnce(&Lab)) -> (Run, Value, f64) {
    let target = format!("{}:7200", lab.server_v4());
    let mut all = vec!["--json", "tcp", &target, "--hold"];
    all.extend_from_slice(args);
    let client = lab.client().to_string();
    std::thread::scope(|s| {
        let runner = s.spawn(|| {
            let start = Instant::now();
            let run = lab.netdx(&client, &all);
            (run, start.elapsed().as_secs_f64())
        });
        meanwhile(lab);
        let (run, took) = runner
            .join()
            .unwrap_or_else(|_| panic!("netdx runner panicked"));
        let doc = run.json();
        (run, doc, took)
    })
}

/// The single diagnosis of a hold document.
fn hold_diagnosis(doc: &Value) -> (String, String) {
    let d = &doc["diagnosis"][0];
    (
        d["code"].as_str().unwrap_or("").to_string(),
        d["summary"].as_str().unwrap_or("").to_string(),
    )
}

#[test]
fn hold_on_a_black_holed_path_dies_by_keepalive_in_idle_plus_probes() {
    if !can_build_namespaces("hold_blackhole") {
        return;
    }
    let lab = peer_lab("hold");
    let ns = lab.server().to_string();
    let (run, doc, took) = hold_while(&lab, &["--keepalive", "1,1,3", "--duration", "30"], |lab| {
        std::thread::sleep(Duration::from_millis(1200));
        // The peer vanishes: nothing in or out any more.
        lab.nft(
                &ns,
                "table inet f { chain input { type filter hook input priority 0; drop; }\n chain output { type filter hook output priority 0; drop; }\n}",
            );
    });
    assert_eq!(run.code, 1, "{}", run.stdout);
    let h = &doc["hold"];
    assert_eq!(h["ending"], "keepalive_timeout", "{doc}");
    assert_eq!(h["errno"], "ETIMEDOUT", "{doc}");
    assert_eq!(h["keepalive_promise_s"], 4.0, "{doc}");
    // Dead 3-4 s after the drop (the last answered probe came at most one
    // idle period before it), well before the 30 s duration.
    let elapsed = h["elapsed_s"].as_f64().unwrap_or(0.0);
    assert!((4.0..6.8).contains(&elapsed), "elapsed {elapsed}: {doc}");
    let silent = h["peer_silent_s"].as_f64().unwrap_or(0.0);
    assert!((3.5..5.5).contains(&silent), "silent {silent}: {doc}");
    assert!(took < 9.0, "took {took}");
    let (code, summary) = hold_diagnosis(&doc);
    assert_eq!(code, "tcp.hold_black_hole");
    assert!(
        summary.contains("3 keepalive probes unanswered"),
        "{summary}"
    );
    assert!(summary.contains("ETIMEDOUT"), "{summary}");
    assert!(summary.contains("= 4 s of silence"), "{summary}");
}

#[test]
fn hold_names_a_peer_that_closes() {
    if !can_build_namespaces("hold_close") {
        return;
    }
    let lab = peer_lab("close");
    let (run, doc, _) = hold_while(&lab, &["--duration", "10"], |_| {});
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(doc["hold"]["ending"], "peer_closed", "{doc}");
    let elapsed = doc["hold"]["elapsed_s"].as_f64().unwrap_or(0.0);
    assert!((0.8..3.0).contains(&elapsed), "elapsed {elapsed}");
    assert_eq!(hold_diagnosis(&doc).0, "tcp.hold_peer_closed");
}

#[test]
fn hold_names_a_peer_that_resets() {
    if !can_build_namespaces("hold_reset") {
        return;
    }
    let lab = peer_lab("reset");
    let (run, doc, _) = hold_while(&lab, &["--duration", "10"], |_| {});
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(doc["hold"]["ending"], "peer_reset", "{doc}");
    assert_eq!(doc["hold"]["errno"], "ECONNRESET", "{doc}");
    let (code, summary) = hold_diagnosis(&doc);
    assert_eq!(code, "tcp.hold_peer_reset");
    assert!(summary.contains("no longer knows it"), "{summary}");
}

#[test]
fn hold_names_a_peer_that_forgot_the_connection() {
    if !can_build_namespaces("hold_forgot") {
        return;
    }
    let lab = peer_lab("hold");
    let ns = lab.server().to_string();
    let (run, doc, _) = hold_while(&lab, &["--send-every", "0.5", "--duration", "10"], |lab| {
        std::thread::sleep(Duration::from_millis(800));
        // The server forgets the connection without telling: its RST is
        // dropped, then the path opens again (a restarted host).
        lab.nft(
                &ns,
                "table inet f { chain output { type filter hook output priority 0; tcp sport 7200 drop; }\n}",
            );
        let killed = lab.exec(
            &ns,
            &[
                "ss",
                "-K",
                "-tn",
                "state",
                "established",
                "sport",
                "=",
                ":7200",
            ],
        );
        assert_eq!(killed.code, 0, "ss -K: {}", killed.stderr);
        lab.exec(&ns, &["nft", "delete", "table", "inet", "f"]);
    });
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(doc["hold"]["ending"], "peer_reset", "{doc}");
    assert!(
        doc["hold"]["bytes_sent"].as_u64().unwrap_or(0) >= 1,
        "{doc}"
    );
    assert_eq!(hold_diagnosis(&doc).0, "tcp.hold_peer_reset");
}

#[test]
fn hold_that_outlives_its_duration_exits_0() {
    if !can_build_namespaces("hold_alive") {
        return;
    }
    let lab = peer_lab("hold");
    let (run, doc, took) = hold_while(
        &lab,
        &[
            "--keepalive",
            "1,1,3",
            "--user-timeout",
            "5",
            "--duration",
            "2.5",
        ],
        |_| {},
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(doc["hold"]["ending"], "alive", "{doc}");
    assert!((2.4..4.0).contains(&took), "took {took}");
    assert_eq!(hold_diagnosis(&doc).0, "tcp.hold_alive");
    // JSON lines: a connected event, state samples, and the end.
    let target = format!("{}:7200", lab.server_v4());
    let run = lab.netdx(
        lab.client(),
        &["--jsonl", "tcp", &target, "--hold", "--duration", "0.5"],
    );
    let events: Vec<String> = run
        .jsonl()
        .iter()
        .filter_map(|e| e["event"].as_str().map(str::to_string))
        .collect();
    assert_eq!(
        events.first().map(String::as_str),
        Some("connected"),
        "{events:?}"
    );
    assert!(events.contains(&"hold_state".to_string()), "{events:?}");
    assert!(events.contains(&"ended".to_string()), "{events:?}");
}

#[test]
fn hold_flags_are_checked() {
    for (args, why) in [
        (vec!["--keepalive", "1,1"], "IDLE,INTVL,COUNT"),
        (vec!["--keepalive", "0,1,3"], "IDLE,INTVL,COUNT"),
        (vec!["--duration", "-1"], "greater than 0"),
        (vec!["--user-timeout", "nan"], "greater than 0"),
    ] {
        let mut all = vec!["tcp", "198.18.0.1:7", "--hold"];
        all.extend(args.iter());
        let run = common::netdx_here(&all);
        assert_eq!(run.code, 2, "{all:?}: {}", run.stderr);
        assert!(run.stderr.contains(why), "{all:?}: {}", run.stderr);
    }
    let run = common::netdx_here(&["tcp", "198.18.0.1:7,8", "--hold"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = common::netdx_here(&["tcp", "198.18.0.1:7", "--keepalive", "1,1,1"]);
    assert_eq!(run.code, 2, "--keepalive needs --hold: {}", run.stderr);
}
