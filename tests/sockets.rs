//! `netdx sockets` against socket situations built for real in network
//! namespaces: netdx runs inside the namespace, so it sees only the sockets
//! the test made there.

mod common;
use common::{can_build_namespaces, Lab};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sockets_lab.py");

/// Starts a situation script in `ns` and waits until it reports ready;
/// returns the script's pid.
fn situation(lab: &mut Lab, ns: &str, args: &[&str]) -> u32 {
    let ready = std::env::temp_dir().join(format!(
        "netdx-sockets-{}-{}-{}.ready",
        std::process::id(),
        ns,
        args.join("_").replace(['/', ':'], "-")
    ));
    let _ = std::fs::remove_file(&ready);
    let path = ready.to_string_lossy().into_owned();
    let mut cmd = vec!["python3", SCRIPT, args[0], &path];
    cmd.extend_from_slice(&args[1..]);
    lab.spawn(ns, &cmd);
    let start = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(&ready) {
            let _ = std::fs::remove_file(&ready);
            return text
                .trim()
                .parse()
                .unwrap_or_else(|e| panic!("bad pid {text:?}: {e}"));
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "situation {args:?} never got ready"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// netdx --json sockets ARGS in `ns`, parsed, with the exit code.
fn census(lab: &Lab, ns: &str, args: &[&str]) -> (i32, Value) {
    let mut full = vec!["--json", "sockets"];
    full.extend_from_slice(args);
    let run = lab.netdx(ns, &full);
    assert!(
        run.code == 0 || run.code == 1,
        "netdx {args:?}: {}{}",
        run.stdout,
        run.stderr
    );
    (run.code, run.json())
}

fn codes(doc: &Value) -> Vec<String> {
    doc["diagnosis"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|d| d["code"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn diag<'a>(doc: &'a Value, code: &str) -> &'a Value {
    doc["diagnosis"]
        .as_array()
        .and_then(|a| a.iter().find(|d| d["code"] == code))
        .unwrap_or_else(|| panic!("no {code} in {}", doc["diagnosis"]))
}

fn state(doc: &Value, name: &str) -> u64 {
    doc["states"][name]
        .as_u64()
        .unwrap_or_else(|| panic!("no state {name}"))
}

/// State counts as `ss -tan` prints them, in netdx's names.
fn ss_counts(lab: &Lab, ns: &str) -> BTreeMap<String, u64> {
    let run = lab.exec(ns, &["ss", "-tan"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut m = BTreeMap::new();
    for line in run.stdout.lines().skip(1) {
        let Some(st) = line.split_whitespace().next() else {
            continue;
        };
        let name = match st {
            "ESTAB" => "ESTABLISHED",
            "UNCONN" => "CLOSE",
            other => other,
        }
        .replace('-', "_")
        .replace("FIN_WAIT_", "FIN_WAIT");
        *m.entry(name).or_insert(0) += 1;
    }
    m
}

fn netdx_counts(doc: &Value) -> BTreeMap<String, u64> {
    doc["states"]
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| v.as_u64().filter(|n| *n > 0).map(|n| (k.clone(), n)))
                .collect()
        })
        .unwrap_or_default()
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|e| panic!("no comm for {pid}: {e}"))
}

#[test]
fn listener_that_never_accepts_fills_its_queue() {
    if !can_build_namespaces("accept_queue_full") {
        return;
    }
    let mut lab = Lab::chain(0);
    let (client, server) = (lab.client().to_string(), lab.server().to_string());
    let pid = situation(&mut lab, &server, &["listen-noaccept", "8080", "2"]);
    let target = lab.server_v4();
    situation(&mut lab, &client, &["connect-hold", &target, "8080", "20"]);
    std::thread::sleep(Duration::from_millis(1500));

    let (code, doc) = census(&lab, &server, &[]);
    assert_eq!(code, 1, "a full accept queue is critical: {doc}");
    let l = &doc["listeners"][0];
    assert_eq!(l["port"], 8080);
    assert_eq!(l["backlog"], 2);
    assert!(l["queue"].as_u64().unwrap_or(0) >= 2, "{l}");
    assert_eq!(l["processes"][0]["pid"], pid);
    let d = diag(&doc, "sockets.accept_queue_full");
    assert_eq!(d["severity"], "critical");
    assert_eq!(d["evidence"]["port"], 8080);
    assert!(
        d["evidence"]["listen_overflows"].as_u64().unwrap_or(0) > 0,
        "{d}"
    );
    assert!(doc["counters"]["listen_overflows"].as_u64().unwrap_or(0) > 0);
    assert!(
        d["summary"]
            .as_str()
            .unwrap_or("")
            .contains(&format!("pid {pid}")),
        "{d}"
    );

    // The clients' side: most attempts hang in SYN_SENT.
    let (_, cdoc) = census(&lab, &client, &[]);
    assert!(state(&cdoc, "SYN_SENT") >= 10, "{}", cdoc["states"]);
    assert!(
        codes(&cdoc).contains(&"sockets.syn_sent_pile".to_string()),
        "{:?}",
        codes(&cdoc)
    );
}

#[test]
fn half_open_handshakes_read_as_a_syn_flood() {
    if !can_build_namespaces("syn_flood") {
        return;
    }
    let mut lab = Lab::chain(0);
    let (client, server) = (lab.client().to_string(), lab.server().to_string());
    // The client never sees the SYN-ACKs, so it never sends the final ACK:
    // the server holds half-open connections, as under a SYN flood.
    lab.nft(
        &client,
        "table inet synflood {\n chain input {\n type filter hook input priority 0;\n \
         tcp flags & (syn | ack) == syn | ack drop\n }\n}\n",
    );
    situation(&mut lab, &server, &["listen-accept", "8081", "32"]);
    let target = lab.server_v4();
    situation(&mut lab, &client, &["connect-hold", &target, "8081", "60"]);
    std::thread::sleep(Duration::from_millis(1500));

    let (code, doc) = census(&lab, &server, &[]);
    let syn_recv = state(&doc, "SYN_RECV");
    assert!(
        syn_recv >= 30,
        "SYN queue of 32 should be (nearly) full: {}",
        doc["states"]
    );
    let d = diag(&doc, "sockets.syn_flood");
    assert_eq!(d["evidence"]["port"], 8081);
    assert_eq!(d["evidence"]["syn_queue_limit"], 32);
    assert!(
        d["summary"]
            .as_str()
            .unwrap_or("")
            .contains("syncookies are on"),
        "{d}"
    );
    assert!(!codes(&doc).contains(&"sockets.accept_queue_full".to_string()));
    if syn_recv >= 32 {
        assert_eq!(d["severity"], "critical");
        assert_eq!(code, 1);
        assert!(
            doc["counters"]["syncookies_sent"].as_u64().unwrap_or(0) > 0,
            "{}",
            doc["counters"]
        );
    }
}

#[test]
fn server_that_never_closes_piles_close_wait_and_is_named() {
    if !can_build_namespaces("close_wait_leak") {
        return;
    }
    let mut lab = Lab::chain(0);
    let (client, server) = (lab.client().to_string(), lab.server().to_string());
    let pid = situation(&mut lab, &server, &["listen-leak", "8082"]);
    let target = lab.server_v4();
    situation(&mut lab, &client, &["connect-close", &target, "8082", "30"]);
    std::thread::sleep(Duration::from_millis(300));

    let (code, doc) = census(&lab, &server, &[]);
    assert_eq!(
        code, 0,
        "a CLOSE_WAIT pile far from the fd limit is a warning: {doc}"
    );
    assert_eq!(state(&doc, "CLOSE_WAIT"), 30, "{}", doc["states"]);
    let d = diag(&doc, "sockets.close_wait_leak");
    assert_eq!(d["severity"], "warning");
    assert_eq!(d["evidence"]["port"], 8082);
    assert_eq!(d["evidence"]["close_wait"], 30);
    assert_eq!(d["evidence"]["pid"], pid);
    assert_eq!(d["evidence"]["process"], comm(pid));

    // The client closed first and the server never answered with its FIN.
    let (_, cdoc) = census(&lab, &client, &[]);
    assert_eq!(state(&cdoc, "FIN_WAIT2"), 30, "{}", cdoc["states"]);
    assert!(
        codes(&cdoc).contains(&"sockets.fin_wait2_pile".to_string()),
        "{:?}",
        codes(&cdoc)
    );
}

#[test]
fn port_view_names_the_owner_and_filters_by_pid_and_program() {
    if !can_build_namespaces("port_owner") {
        return;
    }
    let mut lab = Lab::chain(0);
    let (client, server) = (lab.client().to_string(), lab.server().to_string());
    let pid = situation(&mut lab, &server, &["listen-leak", "8083"]);
    let target = lab.server_v6();
    situation(&mut lab, &client, &["connect-close", &target, "8083", "12"]);
    std::thread::sleep(Duration::from_millis(300));

    let (_, doc) = census(&lab, &server, &["--port", "8083"]);
    let procs = doc["processes"].as_array().cloned().unwrap_or_default();
    assert_eq!(procs.len(), 1, "{}", doc["processes"]);
    assert_eq!(procs[0]["pid"], pid);
    assert_eq!(procs[0]["program"], comm(pid));
    assert_eq!(procs[0]["user"], "root");
    assert_eq!(doc["listeners"][0]["port"], 8083);
    assert_eq!(state(&doc, "CLOSE_WAIT"), 12);
    let conns = doc["connections"].as_array().cloned().unwrap_or_default();
    assert_eq!(conns.len(), 13, "1 listener + 12 connections");
    let program = format!("{}/{pid}", comm(pid));
    assert!(
        conns.iter().all(|c| c["processes"][0] == program.as_str()),
        "{conns:?}"
    );
    assert!(
        conns.iter().any(|c| c["remote"]
            .as_str()
            .unwrap_or("")
            .starts_with("[2001:db8:0::1]")
            || c["remote"]
                .as_str()
                .unwrap_or("")
                .starts_with("[2001:db8::1]")),
        "{conns:?}"
    );

    // Human text: the lsof habit.
    let human = lab.netdx(&server, &["sockets", "--port", "8083"]);
    assert!(
        human
            .stdout
            .contains(&format!("{} (pid {pid}, user root)", comm(pid))),
        "{}",
        human.stdout
    );

    for filter in [["--pid", &pid.to_string()], ["--process", &comm(pid)]] {
        let (_, doc) = census(&lab, &server, &filter);
        assert_eq!(doc["total"], 13, "{filter:?}: {}", doc["states"]);
        assert_eq!(state(&doc, "LISTEN"), 1);
    }
    let none = lab.netdx(&server, &["sockets", "--pid", "999999999"]);
    assert_eq!(none.code, 1, "{}", none.stderr);
}

#[test]
fn client_side_time_wait_matches_ss_and_warns_of_port_exhaustion() {
    if !can_build_namespaces("time_wait") {
        return;
    }
    let mut lab = Lab::chain(0);
    let (client, server) = (lab.client().to_string(), lab.server().to_string());
    // 500 ephemeral ports: 300 TIME_WAIT towards one server is 60% of them.
    lab.sysctl(&client, &[("net.ipv4.ip_local_port_range", "40000 40499")]);
    situation(&mut lab, &server, &["listen-close", "8084"]);
    let target = lab.server_v4();
    situation(&mut lab, &client, &["churn", &target, "8084", "300"]);

    let ss_tw = || {
        let ss = lab.exec(&client, &["ss", "-tan", "state", "time-wait"]);
        ss.stdout
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .count() as u64
    };
    let before = ss_tw();
    let (code, doc) = census(&lab, &client, &[]);
    let after = ss_tw();
    let tw = state(&doc, "TIME_WAIT");
    // The kernel may recycle a few TIME_WAIT ports within 500: about 300.
    assert!((250..=300).contains(&tw), "{}", doc["states"]);
    assert!(
        (after.min(before)..=after.max(before)).contains(&tw),
        "netdx {tw} TIME_WAIT, ss {before} before and {after} after"
    );
    assert_eq!(code, 0, "60% of the range is a warning, not critical");
    let d = diag(&doc, "sockets.time_wait_exhaustion");
    assert_eq!(d["severity"], "warning");
    assert_eq!(d["evidence"]["destination"], format!("{target}:8084"));
    assert_eq!(d["evidence"]["ports_in_use"], tw);
    assert_eq!(d["evidence"]["port_range"], "40000-40499");
    assert_eq!(doc["peers"][0]["key"], target.as_str());
}

/// A mixed situation for the comparisons: LISTEN, ESTABLISHED, CLOSE_WAIT,
/// FIN_WAIT2, TIME_WAIT, SYN_SENT, v4 and v6.
fn mixed(lab: &mut Lab) {
    let (client, server) = (lab.client().to_string(), lab.server().to_string());
    let (v4, v6) = (lab.server_v4(), lab.server_v6());
    situation(lab, &server, &["listen-accept", "9001", "128"]);
    situation(lab, &server, &["listen-leak", "9002"]);
    situation(lab, &server, &["listen-close", "9003"]);
    situation(lab, &client, &["connect-hold", &v4, "9001", "25"]);
    situation(lab, &client, &["connect-hold", &v6, "9001", "15"]);
    situation(lab, &client, &["connect-close", &v4, "9002", "20"]);
    situation(lab, &client, &["churn", &v6, "9003", "40"]);
    situation(lab, &client, &["churn", &v4, "9003", "40"]);
    std::thread::sleep(Duration::from_millis(300));
}

#[test]
fn census_equals_ss_taken_at_the_same_moment() {
    if !can_build_namespaces("census_vs_ss") {
        return;
    }
    let mut lab = Lab::chain(0);
    mixed(&mut lab);
    for ns in [lab.client().to_string(), lab.server().to_string()] {
        // Everything here is stable for 60 s (TIME_WAIT, FIN_WAIT2), so a
        // difference means a miscount, not churn; still allow one retry.
        let mut tries = 0;
        loop {
            let before = ss_counts(&lab, &ns);
            let (_, doc) = census(&lab, &ns, &[]);
            let after = ss_counts(&lab, &ns);
            let ours = netdx_counts(&doc);
            if ours == before || ours == after {
                assert!(doc["total"].as_u64().unwrap_or(0) > 50);
                break;
            }
            tries += 1;
            assert!(
                tries < 3,
                "{ns}: netdx {ours:?} vs ss {before:?} / {after:?}"
            );
        }
    }
}

#[test]
fn netlink_and_proc_give_the_same_census() {
    if !can_build_namespaces("netlink_vs_proc") {
        return;
    }
    let mut lab = Lab::chain(0);
    mixed(&mut lab);
    for ns in [lab.client().to_string(), lab.server().to_string()] {
        let (_, nl) = census(&lab, &ns, &["--source", "netlink"]);
        let (_, pr) = census(&lab, &ns, &["--source", "proc"]);
        assert_eq!(nl["source"], "netlink");
        assert_eq!(pr["source"], "proc");
        assert_eq!(nl["states"], pr["states"], "{ns}");
        assert_eq!(
            (nl["ipv4"].clone(), nl["ipv6"].clone()),
            (pr["ipv4"].clone(), pr["ipv6"].clone())
        );
        assert_eq!(nl["ports"], pr["ports"], "{ns}");
        assert_eq!(nl["peers"], pr["peers"], "{ns}");
        let ports = |d: &Value| -> Vec<(Value, Value)> {
            d["listeners"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|l| (l["address"].clone(), l["queue"].clone()))
                        .collect()
                })
                .unwrap_or_default()
        };
        assert_eq!(ports(&nl), ports(&pr), "{ns}");
        // Only netlink knows a listener's backlog.
        if let Some(l) = pr["listeners"].as_array().and_then(|a| a.first()) {
            assert!(l["backlog"].is_null());
        }
    }
    // -4 / -6 split the same census.
    let server = lab.server().to_string();
    let (_, all) = census(&lab, &server, &[]);
    let (_, only4) = census(&lab, &server, &["-4"]);
    let (_, only6) = census(&lab, &server, &["-6"]);
    assert_eq!(only4["ipv6"], 0);
    assert_eq!(only6["ipv4"], 0);
    assert_eq!(all["ipv6"], only6["ipv6"]);
}

#[test]
fn watch_streams_samples_with_rates() {
    if !can_build_namespaces("watch") {
        return;
    }
    let mut lab = Lab::chain(0);
    let server = lab.server().to_string();
    situation(&mut lab, &server, &["listen-accept", "9010", "16"]);
    let run = lab.netdx(
        &server,
        &["--jsonl", "sockets", "--watch", "0.2", "-c", "3"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<Value> = run.jsonl();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    for (i, s) in lines.iter().enumerate() {
        assert_eq!(s["event"], "sample");
        assert_eq!(s["sample"], i as u64 + 1);
        assert_eq!(s["states"]["LISTEN"], 1);
        assert_eq!(
            s["rates"].is_null(),
            i == 0,
            "rates from the second sample on"
        );
    }
    assert!(lines[2]["rates"]["active_opens"].is_number());
    assert_eq!(lines[1]["state_changes"]["LISTEN"], 0);

    // Human watch on a pipe: samples one after another, no escape codes.
    let run = lab.netdx(&server, &["sockets", "--watch", "0.1", "-c", "2"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("sample 2"), "{}", run.stdout);
    assert!(!run.stdout.contains('\x1b'));
    assert!(run.stdout.contains("Rates per second"));
    // Usage errors.
    assert_eq!(lab.netdx(&server, &["sockets", "--watch", "0"]).code, 2);
    assert_eq!(lab.netdx(&server, &["sockets", "-c", "2"]).code, 2);
}

#[test]
fn keepalive_timers_and_host_advice() {
    if !can_build_namespaces("keepalive") {
        return;
    }
    let mut lab = Lab::chain(0);
    let server = lab.server().to_string();
    situation(&mut lab, &server, &["listen-accept", "9020", "16"]);
    // One connection with SO_KEEPALIVE, one without, inside the namespace.
    let script = "import socket,time,os,sys\n\
        a=socket.create_connection(('::1',9020)); a.setsockopt(socket.SOL_SOCKET,socket.SO_KEEPALIVE,1)\n\
        b=socket.create_connection(('::1',9020))\n\
        open(sys.argv[1]+'.tmp','w').write(str(os.getpid())); os.rename(sys.argv[1]+'.tmp',sys.argv[1])\n\
        time.sleep(3600)\n";
    let ready = std::env::temp_dir().join(format!("netdx-ka-{}.ready", std::process::id()));
    let path = ready.to_string_lossy().into_owned();
    let _ = std::fs::remove_file(&ready);
    lab.spawn(&server, &["python3", "-c", script, &path]);
    let start = Instant::now();
    while !ready.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "keepalive client never ready"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::fs::remove_file(&ready);
    let (_, doc) = census(&lab, &server, &[]);
    assert_eq!(state(&doc, "ESTABLISHED"), 4);
    assert_eq!(doc["keepalive_armed"], 1);
    let d = diag(&doc, "sockets.keepalive_default");
    assert_eq!(d["evidence"]["keepalive_time"], 7200);
    let (_, port) = census(&lab, &server, &["--port", "9020"]);
    let timers: Vec<&str> = port["connections"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["timer"].as_str()).collect())
        .unwrap_or_default();
    assert!(timers.contains(&"keepalive"), "{timers:?}");
    // A host that probes after 5 minutes gets no advice.
    lab.sysctl(&server, &[("net.ipv4.tcp_keepalive_time", "300")]);
    let (_, doc) = census(&lab, &server, &[]);
    assert!(!codes(&doc).contains(&"sockets.keepalive_default".to_string()));
    assert!(
        codes(&doc).contains(&"sockets.healthy".to_string()),
        "{:?}",
        codes(&doc)
    );
}

#[test]
fn unacknowledged_fins_pile_in_last_ack() {
    if !can_build_namespaces("last_ack") {
        return;
    }
    let mut lab = Lab::chain(0);
    let (client, server) = (lab.client().to_string(), lab.server().to_string());
    // The client never sees the server's FIN, so the server waits in
    // LAST_ACK for an acknowledgement that never comes.
    lab.nft(
        &client,
        "table inet lastack {\n chain input {\n type filter hook input priority 0;\n \
         tcp sport 8085 tcp flags & fin == fin drop\n }\n}\n",
    );
    situation(&mut lab, &server, &["listen-close", "8085"]);
    let target = lab.server_v4();
    situation(&mut lab, &client, &["connect-close", &target, "8085", "15"]);
    std::thread::sleep(Duration::from_millis(300));
    let (_, doc) = census(&lab, &server, &[]);
    assert_eq!(state(&doc, "LAST_ACK"), 15, "{}", doc["states"]);
    let d = diag(&doc, "sockets.last_ack_pile");
    assert_eq!(d["evidence"]["peer"], lab.client_v4());
    assert_eq!(d["evidence"]["count"], 15);
}

#[test]
fn programs_are_shown_only_when_asked_or_needed() {
    if !can_build_namespaces("processes_flag") {
        return;
    }
    let mut lab = Lab::chain(0);
    let server = lab.server().to_string();
    let pid = situation(&mut lab, &server, &["listen-accept", "9030", "16"]);
    let plain = lab.netdx(&server, &["sockets"]);
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    assert!(plain.stdout.contains("[::]:9030"), "{}", plain.stdout);
    assert!(
        !plain.stdout.contains(&format!("pid {pid}")),
        "{}",
        plain.stdout
    );
    let with = lab.netdx(&server, &["sockets", "-p"]);
    assert!(
        with.stdout
            .contains(&format!("{} (pid {pid}, root)", comm(pid))),
        "{}",
        with.stdout
    );
    let (_, doc) = census(&lab, &server, &["-p"]);
    assert_eq!(doc["listeners"][0]["processes"][0]["pid"], pid);
    assert_eq!(doc["listeners"][0]["backlog"], 16);
}

/// Server side of the timer test: holds connections on 9030 and 9032,
/// closes those on 9031 once the client has closed (so the client's end
/// sits in TIME_WAIT).
const TIMER_SERVER: &str = "import socket,select\n\
    ls=[]\n\
    for p in (9030,9031,9032):\n\
    \x20   s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('0.0.0.0',p)); s.listen(16); ls.append(s)\n\
    held=[]\n\
    while True:\n\
    \x20   r,_,_=select.select(ls+[c for c in held if c.getsockname()[1]==9031],[],[])\n\
    \x20   for s in r:\n\
    \x20       if s in ls:\n\
    \x20           c,_=s.accept(); held.append(c)\n\
    \x20       elif not s.recv(100):\n\
    \x20           s.close(); held.remove(s)\n";

/// Client side: a keepalive connection (TCP_KEEPIDLE 600), one closed at
/// once (TIME_WAIT), one that sends 1000 bytes once `ARGV[2].go` exists.
const TIMER_CLIENT: &str = "import socket,time,os,sys\n\
    srv,ready=sys.argv[1],sys.argv[2]\n\
    ka=socket.create_connection((srv,9030)); ka.setsockopt(socket.SOL_SOCKET,socket.SO_KEEPALIVE,1); ka.setsockopt(socket.IPPROTO_TCP,socket.TCP_KEEPIDLE,600)\n\
    tw=socket.create_connection((srv,9031)); tw.close()\n\
    rt=socket.create_connection((srv,9032))\n\
    time.sleep(0.3)\n\
    open(ready+'.tmp','w').write(str(os.getpid())); os.rename(ready+'.tmp',ready)\n\
    while not os.path.exists(ready+'.go'): time.sleep(0.05)\n\
    rt.send(b'x'*1000)\n\
    time.sleep(3600)\n";

#[test]
fn timers_match_ss_o() {
    if !can_build_namespaces("sock_timers") {
        return;
    }
    let mut lab = Lab::chain(0);
    let (client, server) = (lab.client().to_string(), lab.server().to_string());
    let addr = lab.server_v4();
    lab.spawn(&server, &["python3", "-c", TIMER_SERVER]);
    let start = Instant::now();
    while lab.exec(&server, &["ss", "-Hltn"]).stdout.lines().count() < 3 {
        assert!(start.elapsed() < Duration::from_secs(20), "no listeners");
        std::thread::sleep(Duration::from_millis(50));
    }
    let ready = std::env::temp_dir().join(format!("netdx-timers-{}.ready", std::process::id()));
    let path = ready.to_string_lossy().into_owned();
    let _ = std::fs::remove_file(&ready);
    lab.spawn(&client, &["python3", "-c", TIMER_CLIENT, &addr, &path]);
    while !ready.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "client never ready"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The peer of the third connection vanishes before the data is sent.
    lab.nft(
        &server,
        "table inet f { chain input { type filter hook input priority 0; tcp dport 9032 drop; }\n}",
    );
    let go = format!("{path}.go");
    std::fs::write(&go, "").unwrap_or_else(|e| panic!("{go}: {e}"));
    std::thread::sleep(Duration::from_millis(800));
    let _ = std::fs::remove_file(&go);
    let _ = std::fs::remove_file(&ready);

    // (local, remote) → timer kind, as ss -o prints it.
    let ss = lab.exec(&client, &["ss", "-Htnoa"]);
    let mut want: BTreeMap<(String, String), String> = BTreeMap::new();
    for line in ss.stdout.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let kind = f
            .iter()
            .find_map(|w| w.strip_prefix("timer:("))
            .and_then(|t| t.split(',').next());
        if let (Some(kind), Some(l), Some(r)) = (kind, f.get(3), f.get(4)) {
            want.insert((l.to_string(), r.to_string()), kind.to_string());
        }
    }
    let (_, doc) = census(&lab, &client, &["--timers"]);
    let mut got: BTreeMap<(String, String), String> = BTreeMap::new();
    for c in doc["connections"].as_array().cloned().unwrap_or_default() {
        let key = (
            c["local"].as_str().unwrap_or("").to_string(),
            c["remote"].as_str().unwrap_or("").to_string(),
        );
        got.insert(key, c["timer"].as_str().unwrap_or("").to_string());
    }
    assert_eq!(got, want, "netdx --timers vs ss -tnoa:\n{}", ss.stdout);
    let kinds: Vec<&String> = got.values().collect();
    for kind in ["keepalive", "timewait", "on"] {
        assert!(kinds.iter().any(|k| *k == kind), "{kind} missing: {got:?}");
    }
    let on = doc["connections"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["timer"] == "on"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(on["send_q"], 1000, "{on}");
    assert!(on["retrans"].as_u64().unwrap_or(0) >= 1, "{on}");
    assert_eq!(on["remote"], format!("{addr}:9032"));
    let human = lab.netdx(&client, &["sockets", "--timers"]);
    assert!(human.stdout.contains("keepalive("), "{}", human.stdout);
    assert!(human.stdout.contains("timewait("), "{}", human.stdout);
    assert!(human.stdout.contains("python3"), "{}", human.stdout);
}
