//! `netdx watch` diagnoses on real situations built in namespaces: each is
//! captured with `tcpdump -w` while it happens, then the pcap is read with
//! `netdx watch -r FILE --json` and the findings checked — a listener
//! behind a drop rule, a closed port, a server that closes first, an
//! application that stops reading, a lossy link, and a live capture that
//! must agree with the file.

mod common;
use common::tempdir::TempDir;
use common::{can_build_namespaces, Lab, Run};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Servers by mode: `hello` greets and closes first, `sink` reads and
/// discards, `noread` accepts and never reads (small receive buffer),
/// `stuck` listens with a backlog of 1 and never calls accept(), `abort`
/// reads a request and resets the connection (SO_LINGER 0).
const SERVER: &str = r#"
import socket, struct, sys, threading
mode, port = sys.argv[1], int(sys.argv[2])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if mode == "noread":
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.bind(("0.0.0.0", port))
s.listen(1 if mode == "stuck" else 64)
held = []
if mode == "stuck":
    threading.Event().wait()
def sink(c):
    while c.recv(65536):
        pass
    c.close()
while True:
    c, _ = s.accept()
    if mode == "hello":
        c.sendall(b"hello\n")
        c.close()
    elif mode == "abort":
        c.recv(100)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
    elif mode == "sink":
        threading.Thread(target=sink, args=(c,), daemon=True).start()
    else:
        held.append(c)
"#;

/// Client actions: `connect HOST PORT TIMEOUT` (one attempt), `read HOST
/// PORT N` (N connections reading to EOF), `flood HOST PORT SECS` (send
/// without pause for SECS), `bulk HOST PORT BYTES` (send, half-close, wait).
const CLIENT: &str = r#"
import socket, sys, time
what, host, port, arg = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
if what == "connect":
    c = socket.socket()
    c.settimeout(arg)
    try:
        c.connect((host, port))
        print("connected")
    except Exception as e:
        print(type(e).__name__)
elif what == "read":
    for _ in range(int(arg)):
        c = socket.create_connection((host, port), timeout=3)
        while c.recv(100):
            pass
        c.close()
elif what == "flood":
    c = socket.create_connection((host, port), timeout=3)
    c.setblocking(False)
    end = time.time() + arg
    chunk = b"x" * 65536
    sent = 0
    while time.time() < end:
        try:
            sent += c.send(chunk)
        except BlockingIOError:
            time.sleep(0.02)
    print(sent)
elif what == "hold":
    held = []
    for _ in range(int(arg)):
        c = socket.socket()
        c.settimeout(3.5)
        try:
            c.connect((host, port))
            held.append(c)
            print("connected")
        except Exception as e:
            print(type(e).__name__)
elif what == "late":
    c = socket.create_connection((host, port), timeout=5)
    time.sleep(arg)
    c.sendall(b"late data")
    c.close()
elif what == "bulk":
    c = socket.create_connection((host, port), timeout=30)
    c.sendall(b"y" * int(arg))
    c.shutdown(socket.SHUT_WR)
    c.settimeout(30)
    while c.recv(100):
        pass
    c.close()
"#;

/// A background capture (tcpdump or netdx) in a namespace.
struct Capture(Child);

impl Capture {
    /// Starts `cmd` in `ns` and, when `ready` is given, waits until its
    /// stderr says so (tcpdump: "listening on").
    fn start(ns: &str, cmd: &[&str], ready: Option<&str>) -> Capture {
        let mut child = Command::new("ip")
            .args(["netns", "exec", ns])
            .args(cmd)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        if let (Some(word), Some(stderr)) = (ready, child.stderr.take()) {
            let (tx, rx) = mpsc::channel();
            let word = word.to_string();
            std::thread::spawn(move || {
                let mut said = false;
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if !said && line.contains(&word) {
                        said = true;
                        let _ = tx.send(());
                    }
                }
            });
            rx.recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|_| panic!("{cmd:?} never said {:?}", ready));
        }
        Capture(child)
    }

    /// SIGINT, then what it printed.
    fn stop(self) -> Run {
        // SAFETY: kill(2) on our own child's pid (ip netns exec execs the tool).
        unsafe { libc::kill(self.0.id() as i32, libc::SIGINT) };
        let out = self
            .0
            .wait_with_output()
            .unwrap_or_else(|e| panic!("capture did not end: {e}"));
        Run::from(out)
    }
}

/// Starts a server of `mode` on `port` in the server namespace and waits
/// until it listens.
fn serve(lab: &mut Lab, mode: &str, port: u16) {
    let server = lab.server().to_string();
    let port_s = port.to_string();
    lab.spawn(&server, &["python3", "-c", SERVER, mode, &port_s]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let want = format!(":{port} ");
    while !lab.exec(&server, &["ss", "-Hltn"]).stdout.contains(&want) {
        assert!(
            Instant::now() < deadline,
            "{mode} server on {port} did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs a client action from the client namespace.
fn client(lab: &Lab, what: &str, port: u16, arg: &str) -> Run {
    let host = lab.server_v4();
    let port = port.to_string();
    lab.exec(
        lab.client(),
        &["python3", "-c", CLIENT, what, &host, &port, arg],
    )
}

/// Captures TCP in `ns` with tcpdump while `traffic` runs; returns the
/// pcap path.
fn tcpdump_around(dir: &TempDir, ns: &str, name: &str, traffic: impl FnOnce()) -> String {
    let file = format!("{}/{name}.pcap", dir.path());
    // Headers only (-s 200) and a 32 MiB buffer: a busy machine must not
    // drop the 64 KiB GSO packets of a bulk transfer from the capture.
    let cap = Capture::start(
        ns,
        &[
            "tcpdump",
            "-i",
            "any",
            "-n",
            "--immediate-mode",
            "-U",
            "-s",
            "200",
            "-B",
            "32768",
            "-w",
            &file,
            "tcp",
        ],
        Some("listening on"),
    );
    traffic();
    // Let the last packets reach the file: stop once it has not grown for
    // half a second (at most 5 s).
    let size = || std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut last = size();
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let now = size();
        if now == last || Instant::now() > deadline {
            break;
        }
        last = now;
    }
    let run = cap.stop();
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 24,
        "tcpdump wrote no packet to {file} (exit {})",
        run.code
    );
    file
}

/// `netdx watch -r FILE --json`, checked against the schema.
fn read_back(lab: &Lab, file: &str) -> Value {
    let run = lab.netdx(lab.client(), &["watch", "-r", file, "--json"]);
    assert!(
        run.code == 0 || run.code == 1,
        "netdx watch -r {file}: exit {} {}",
        run.code,
        run.stderr
    );
    run.json()
}

fn diagnoses(doc: &Value) -> Vec<Value> {
    doc["diagnosis"].as_array().cloned().unwrap_or_default()
}

fn find(doc: &Value, code: &str) -> Value {
    diagnoses(doc)
        .into_iter()
        .find(|d| d["code"] == code)
        .unwrap_or_else(|| {
            panic!(
                "no {code} in {}",
                serde_json::to_string_pretty(&doc["diagnosis"]).unwrap_or_default()
            )
        })
}

fn codes(doc: &Value) -> Vec<String> {
    let mut c: Vec<String> = diagnoses(doc)
        .iter()
        .filter_map(|d| d["code"].as_str().map(str::to_string))
        .collect();
    c.sort();
    c
}

#[test]
fn a_listener_behind_a_drop_rule_leaves_syns_unanswered() {
    if !can_build_namespaces("a_listener_behind_a_drop_rule_leaves_syns_unanswered") {
        return;
    }
    let mut lab = Lab::chain(0);
    serve(&mut lab, "hello", 8080);
    serve(&mut lab, "hello", 8081);
    let server = lab.server().to_string();
    lab.nft(
        &server,
        "table inet wflow { chain input { type filter hook input priority 0; tcp dport 8081 drop; }\n}",
    );
    let dir = TempDir::new("wflow-drop");
    let file = tcpdump_around(&dir, lab.client(), "drop", || {
        assert!(client(&lab, "read", 8080, "2").code == 0);
        let r = client(&lab, "connect", 8081, "3.5");
        assert!(r.stdout.to_lowercase().contains("timeout"), "{}", r.stdout);
    });
    let doc = read_back(&lab, &file);
    let d = find(&doc, "watch.syn_unanswered");
    let target = format!("{}:8081", lab.server_v4());
    assert_eq!(d["severity"], "critical");
    assert_eq!(d["evidence"]["server"], target.as_str());
    assert_eq!(d["evidence"]["connections"], 1);
    assert!(d["evidence"]["syns"].as_u64().unwrap_or(0) >= 3, "{d}");
    // Port 8080 of the same host answered: the host is up, the port filtered.
    assert_eq!(d["evidence"]["cause"], "port_filtered");
    assert_eq!(doc["flows"]["connections"], 3);
}

#[test]
fn a_listener_that_never_accepts_drops_syns_once_its_queue_is_full() {
    if !can_build_namespaces("a_listener_that_never_accepts_drops_syns_once_its_queue_is_full") {
        return;
    }
    let mut lab = Lab::chain(0);
    serve(&mut lab, "stuck", 8085);
    let dir = TempDir::new("wflow-queue");
    let file = tcpdump_around(&dir, lab.client(), "queue", || {
        let r = client(&lab, "hold", 8085, "3");
        // listen(1) queues two handshakes; the third SYN is dropped.
        assert_eq!(r.stdout.matches("connected").count(), 2, "{}", r.stdout);
    });
    let doc = read_back(&lab, &file);
    let d = find(&doc, "watch.syn_unanswered");
    assert_eq!(d["severity"], "warning");
    assert_eq!(d["evidence"]["cause"], "syn_queue_full");
    assert_eq!(d["evidence"]["connections"], 1);
    assert_eq!(d["evidence"]["answered_connections"], 2);
    assert!(
        d["summary"]
            .as_str()
            .unwrap_or("")
            .contains("queue overflows"),
        "{d}"
    );
}

#[test]
fn a_lost_final_ack_makes_the_server_resend_its_synack() {
    if !can_build_namespaces("a_lost_final_ack_makes_the_server_resend_its_synack") {
        return;
    }
    let mut lab = Lab::chain(1);
    serve(&mut lab, "sink", 8086);
    let router = lab.router(1).to_string();
    let client_ip = lab.client_v4();
    // Pure ACKs from the client are lost on the way (a one-way problem):
    // the handshake's last ACK never reaches the server.
    lab.nft(
        &router,
        &format!(
            "table inet wflow {{ chain forward {{ type filter hook forward priority 0; ip saddr {client_ip} tcp dport 8086 tcp flags == ack drop; }}\n}}"
        ),
    );
    let dir = TempDir::new("wflow-synack");
    let server_ns = lab.server().to_string();
    let file = tcpdump_around(&dir, &server_ns, "synack", || {
        let r = client(&lab, "late", 8086, "2.5");
        assert_eq!(r.code, 0, "{}", r.stderr);
    });
    let doc = read_back(&lab, &file);
    let d = find(&doc, "watch.synack_retransmitted");
    assert_eq!(d["severity"], "warning");
    assert_eq!(d["evidence"]["connections"], 1);
    assert!(
        d["evidence"]["extra_synacks"].as_u64().unwrap_or(0) >= 1,
        "{d}"
    );
    assert_eq!(
        d["evidence"]["server"],
        format!("{}:8086", lab.server_v4()).as_str()
    );
}

#[test]
fn a_server_that_aborts_resets_mid_stream() {
    if !can_build_namespaces("a_server_that_aborts_resets_mid_stream") {
        return;
    }
    let mut lab = Lab::chain(0);
    serve(&mut lab, "abort", 8087);
    let dir = TempDir::new("wflow-abort");
    let file = tcpdump_around(&dir, lab.client(), "abort", || {
        let r = client(&lab, "late", 8087, "0.1");
        assert_eq!(r.code, 0, "{}", r.stderr);
    });
    let doc = read_back(&lab, &file);
    let d = find(&doc, "watch.reset_midstream");
    assert_eq!(d["evidence"]["sent_by"], "server");
    assert_eq!(d["evidence"]["connections"], 1);
    assert!(!codes(&doc).contains(&"watch.refused".to_string()));
    let flows = doc["flows"]["flows"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(flows[0]["reset_by"], "server", "{}", flows[0]);
    assert_eq!(flows[0]["bytes_to_server"], 9, "{}", flows[0]);
}

#[test]
fn a_closed_port_answers_the_syn_with_rst() {
    if !can_build_namespaces("a_closed_port_answers_the_syn_with_rst") {
        return;
    }
    let lab = Lab::chain(0);
    let dir = TempDir::new("wflow-rst");
    let file = tcpdump_around(&dir, lab.client(), "rst", || {
        for _ in 0..2 {
            let r = client(&lab, "connect", 8082, "2");
            assert!(r.stdout.contains("ConnectionRefusedError"), "{}", r.stdout);
        }
    });
    let doc = read_back(&lab, &file);
    let d = find(&doc, "watch.refused");
    assert_eq!(d["severity"], "critical");
    assert_eq!(d["evidence"]["connections"], 2);
    assert_eq!(
        d["evidence"]["server"],
        format!("{}:8082", lab.server_v4()).as_str()
    );
    assert!(!codes(&doc).contains(&"watch.reset_midstream".to_string()));
    let flows = doc["flows"]["flows"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(flows.len(), 2);
    assert!(flows.iter().all(|f| f["ended"] == "refused (RST to SYN)"));
    // The same capture in --jsonl: a `refused` event per connection.
    let run = lab.netdx(lab.client(), &["watch", "-r", &file, "--jsonl"]);
    let refused = run
        .jsonl()
        .iter()
        .filter(|e| e["event"] == "flow" && e["kind"] == "refused")
        .count();
    assert_eq!(refused, 2, "{}", run.stdout);
}

#[test]
fn a_server_that_closes_first_holds_time_wait() {
    if !can_build_namespaces("a_server_that_closes_first_holds_time_wait") {
        return;
    }
    let mut lab = Lab::chain(0);
    serve(&mut lab, "hello", 8080);
    let dir = TempDir::new("wflow-tw");
    let file = tcpdump_around(&dir, lab.client(), "tw", || {
        assert_eq!(client(&lab, "read", 8080, "3").code, 0);
    });
    // The kernel agrees: TIME_WAIT sits on the server, not the client.
    let tw = lab.exec(lab.server(), &["ss", "-Htan", "state", "time-wait"]);
    assert_eq!(tw.stdout.lines().count(), 3, "server: {}", tw.stdout);
    let doc = read_back(&lab, &file);
    let d = find(&doc, "watch.server_closes_first");
    assert_eq!(d["severity"], "info");
    assert_eq!(d["evidence"]["connections"], 3);
    assert_eq!(d["evidence"]["client_closed_first"], 0);
    assert!(codes(&doc).contains(&"watch.healthy".to_string()), "{doc}");
    let flows = doc["flows"]["flows"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(flows.len(), 3);
    for f in &flows {
        assert_eq!(f["first_fin"], "server");
        assert_eq!(f["ended"], "closed, server first");
        assert_eq!(f["bytes_to_client"], 6);
        assert!(f["syn_to_synack_ms"].as_f64().is_some(), "{f}");
    }
    // Human view: the closing table names each connection.
    let human = lab.netdx(lab.client(), &["watch", "-r", &file]);
    assert!(
        human.stdout.contains("closed, server first"),
        "{}",
        human.stdout
    );
}

#[test]
fn an_application_that_stops_reading_advertises_a_zero_window() {
    if !can_build_namespaces("an_application_that_stops_reading_advertises_a_zero_window") {
        return;
    }
    let mut lab = Lab::chain(0);
    serve(&mut lab, "noread", 8083);
    let dir = TempDir::new("wflow-zw");
    let file = tcpdump_around(&dir, lab.client(), "zw", || {
        let r = client(&lab, "flood", 8083, "2.5");
        assert_eq!(r.code, 0, "{}", r.stderr);
    });
    let doc = read_back(&lab, &file);
    let d = find(&doc, "watch.zero_window");
    assert_eq!(d["evidence"]["receiver"], "server");
    assert_eq!(d["evidence"]["connections"], 1);
    // The flood lasted 2.5 s; the window closed early and stayed closed.
    assert!(
        d["evidence"]["zero_window_ms"].as_u64().unwrap_or(0) >= 1000,
        "{d}"
    );
    assert!(
        !codes(&doc).iter().any(|c| c.starts_with("watch.keepalive")),
        "window probes are not keepalives: {:?}",
        codes(&doc)
    );
}

#[test]
fn a_lossy_link_shows_retransmissions() {
    if !can_build_namespaces("a_lossy_link_shows_retransmissions") {
        return;
    }
    let mut lab = Lab::chain(1);
    serve(&mut lab, "sink", 8084);
    let router = lab.router(1).to_string();
    let server_ip = lab.server_v4();
    lab.nft(
        &router,
        &format!(
            "table inet wflow {{ chain forward {{ type filter hook forward priority 0; ip daddr {server_ip} tcp dport 8084 numgen random mod 100 < 20 drop; }}\n}}"
        ),
    );
    let dir = TempDir::new("wflow-loss");
    let file = tcpdump_around(&dir, lab.client(), "loss", || {
        let r = client(&lab, "bulk", 8084, "2000000");
        assert_eq!(r.code, 0, "{}", r.stderr);
    });
    let doc = read_back(&lab, &file);
    let d = find(&doc, "watch.retransmissions");
    assert_eq!(d["severity"], "warning", "{d}");
    assert_eq!(
        d["evidence"]["server"],
        format!("{server_ip}:8084").as_str()
    );
    assert!(
        d["evidence"]["client_retransmitted"].as_u64().unwrap_or(0) >= 1,
        "{d}"
    );
    assert_eq!(d["evidence"]["server_retransmitted"], 0, "{d}");
    // Loss on the way to the server only: every resent byte is the client's.
    let pct = d["evidence"]["retransmit_bytes_pct"]
        .as_f64()
        .unwrap_or(0.0);
    assert!(pct > 2.0, "{d}");
    assert!(
        d["summary"]
            .as_str()
            .unwrap_or("")
            .contains("on the way from the client"),
        "{d}"
    );
    let flows = doc["flows"]["flows"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    // Each byte counted once however often it was resent.
    assert_eq!(flows[0]["bytes_to_server"], 2000000, "{}", flows[0]);
}

#[test]
fn live_capture_and_the_pcap_agree() {
    if !can_build_namespaces("live_capture_and_the_pcap_agree") {
        return;
    }
    let mut lab = Lab::chain(0);
    serve(&mut lab, "hello", 8080);
    let dir = TempDir::new("wflow-live");
    let bin = env!("CARGO_BIN_EXE_netdx");
    let live_args = ["watch", "--json", "--duration", "6"];
    let mut cmd = vec![bin];
    cmd.extend_from_slice(&live_args);
    let client_ns = lab.client().to_string();
    let mut live = None;
    let file = tcpdump_around(&dir, &client_ns, "live", || {
        live = Some(Capture::start(&client_ns, &cmd, None));
        // Wait for its packet socket (ss -0) before sending anything.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !lab
            .exec(&client_ns, &["ss", "-H", "-0", "-p"])
            .stdout
            .contains("\"netdx\"")
        {
            assert!(
                Instant::now() < deadline,
                "live netdx never opened its socket"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(client(&lab, "read", 8080, "2").code, 0);
        let r = client(&lab, "connect", 8082, "2");
        assert!(r.stdout.contains("ConnectionRefusedError"), "{}", r.stdout);
    });
    let live = live
        .map(|c| {
            let out = c.0.wait_with_output();
            Run::from(out.unwrap_or_else(|e| panic!("live netdx: {e}"))).of_netdx(&live_args)
        })
        .unwrap_or_else(|| panic!("live capture not started"));
    assert!(
        live.code == 1,
        "live netdx: exit {} {}",
        live.code,
        live.stderr
    );
    let live_doc = live.json();
    let file_doc = read_back(&lab, &file);
    assert_eq!(codes(&live_doc), codes(&file_doc));
    assert!(codes(&file_doc).contains(&"watch.refused".to_string()));
    assert!(codes(&file_doc).contains(&"watch.server_closes_first".to_string()));
    assert_eq!(live_doc["flows"]["connections"], 3);
    assert_eq!(file_doc["flows"]["connections"], 3);
}
