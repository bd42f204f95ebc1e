//! `netdx tcp` against real listeners, real RSTs, real nft drops and real
//! ICMP rejects in network namespaces; bad inputs without any namespace.

mod common;
use common::{can_build_namespaces, Lab, Run};
use serde_json::Value;
use std::time::{Duration, Instant};

/// A python listener on `ports` (families "4", "6" or "46") that sends
/// `greeting` to every client and closes.
const LISTENER: &str = r#"
import socket, select, sys
greet = bytes.fromhex(sys.argv[1])
socks = []
for p in sys.argv[3:]:
    for f in sys.argv[2]:
        af = socket.AF_INET if f == "4" else socket.AF_INET6
        s = socket.socket(af, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if af == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind(("0.0.0.0" if f == "4" else "::", int(p)))
        s.listen(512)
        socks.append(s)
while True:
    ready, _, _ = select.select(socks, [], [])
    for s in ready:
        c, _ = s.accept()
        if greet:
            c.sendall(greet)
        c.close()
"#;

/// Starts the listener in `ns` and waits until every port listens.
fn listen(lab: &mut Lab, ns: &str, families: &str, greeting: &[u8], ports: &[u16]) {
    let hex: String = greeting.iter().map(|b| format!("{b:02x}")).collect();
    let mut cmd = vec![
        "python3".to_string(),
        "-c".into(),
        LISTENER.into(),
        hex,
        families.into(),
    ];
    cmd.extend(ports.iter().map(u16::to_string));
    let refs: Vec<&str> = cmd.iter().map(String::as_str).collect();
    lab.spawn(ns, &refs);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ss = lab.exec(ns, &["ss", "-Hltn"]);
        let want = ports.len() * families.len();
        let have = ports
            .iter()
            .map(|p| ss.stdout.matches(&format!(":{p} ")).count())
            .sum::<usize>();
        if have >= want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "listener did not start: {}",
            ss.stdout
        );
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

/// The result object for `port` (and `address`, when given).
fn target<'a>(doc: &'a Value, address: &str, port: u16) -> &'a Value {
    doc["targets"]
        .as_array()
        .and_then(|ts| {
            ts.iter()
                .find(|t| t["port"] == port && (address.is_empty() || t["address"] == address))
        })
        .unwrap_or_else(|| panic!("no result for {address} port {port}: {doc}"))
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

fn open_closed_filtered(v6: bool) {
    let mut lab = Lab::chain(1);
    let server = if v6 { lab.server_v6() } else { lab.server_v4() };
    let ns = lab.server().to_string();
    listen(&mut lab, &ns, if v6 { "6" } else { "4" }, b"", &[8080]);
    lab.nft(
        lab.server(),
        "table inet f { chain input { type filter hook input priority 0; tcp dport 9000 drop; }\n}",
    );
    let spec = if v6 {
        format!("[{server}]:8080,8081,9000")
    } else {
        format!("{server}:8080,8081,9000")
    };
    let start = Instant::now();
    let (run, doc) = tcp_json(&lab, &["-W", "1", &spec]);
    let took = start.elapsed();
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);

    let open = target(&doc, &server, 8080);
    assert_eq!(open["state"], "open", "{open}");
    assert!(
        open["stats"]["avg_ms"].as_f64().unwrap_or(-1.0) > 0.0,
        "{open}"
    );

    let closed = target(&doc, &server, 8081);
    assert_eq!(closed["state"], "closed", "{closed}");
    assert_eq!(closed["failure"]["errno"], "ECONNREFUSED");
    assert_eq!(closed["failure"]["code"], "tcp.refused");

    let filtered = target(&doc, &server, 9000);
    assert_eq!(filtered["state"], "filtered", "{filtered}");
    assert_eq!(filtered["failure"]["errno"], "ETIMEDOUT");
    assert_eq!(filtered["failure"]["code"], "tcp.timeout");
    let waited = filtered["failure"]["time_ms"].as_f64().unwrap_or(0.0);
    assert!((950.0..1500.0).contains(&waited), "waited {waited} ms");
    assert!(
        took < Duration::from_secs(3),
        "probes ran in parallel: {took:?}"
    );

    let c = codes(&doc);
    assert!(
        c.contains(&"tcp.refused".into()) && c.contains(&"tcp.silent_port".into()),
        "{c:?}"
    );

    // The human form says the same in words.
    let human = lab.netdx(lab.client(), &["tcp", "-W", "1", &spec]);
    assert!(human.stdout.contains("open"), "{}", human.stdout);
    assert!(
        human.stdout.contains("ECONNREFUSED: RST from the host"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("no answer in 1.0 s"),
        "{}",
        human.stdout
    );
    assert!(
        human
            .stdout
            .contains("diagnosis [critical] tcp.silent_port"),
        "{}",
        human.stdout
    );
}

#[test]
fn open_closed_and_filtered_v4() {
    if !can_build_namespaces("tcp_open_closed_filtered_v4") {
        return;
    }
    open_closed_filtered(false);
}

#[test]
fn open_closed_and_filtered_v6() {
    if !can_build_namespaces("tcp_open_closed_filtered_v6") {
        return;
    }
    open_closed_filtered(true);
}

#[test]
fn router_reject_is_ehostunreach_naming_the_router() {
    if !can_build_namespaces("tcp_router_reject") {
        return;
    }
    let lab = Lab::chain(2);
    lab.nft(
        lab.router(1),
        "table inet f { chain forward { type filter hook forward priority 0; \
         tcp dport 7000 meta nfproto ipv4 reject with icmp type host-unreachable; \
         tcp dport 7000 meta nfproto ipv6 reject with icmpv6 type addr-unreachable; \
         tcp dport 7001 meta nfproto ipv4 reject with icmp type admin-prohibited; \
         tcp dport 7001 meta nfproto ipv6 reject with icmpv6 type admin-prohibited; }\n}",
    );
    for (server, router, icmp_type) in [
        (lab.server_v4(), lab.router_v4(1), 3),
        (lab.server_v6(), lab.router_v6(1), 1),
    ] {
        let spec = if server.contains(':') {
            format!("[{server}]:7000")
        } else {
            format!("{server}:7000")
        };
        let (run, doc) = tcp_json(&lab, &["-W", "2", &spec]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        let t = target(&doc, &server, 7000);
        assert_eq!(t["state"], "unreachable", "{t}");
        assert_eq!(t["failure"]["errno"], "EHOSTUNREACH", "{t}");
        assert_eq!(t["failure"]["code"], "tcp.host_unreachable", "{t}");
        let from: Option<std::net::IpAddr> = t["failure"]["icmp"]["from"]
            .as_str()
            .and_then(|a| a.parse().ok());
        assert_eq!(from, router.parse().ok(), "{t}");
        assert_eq!(t["failure"]["icmp"]["type"], icmp_type, "{t}");
        assert!(
            t["failure"]["time_ms"].as_f64().unwrap_or(9e9) < 1000.0,
            "{t}"
        );
        let human = lab.netdx(lab.client(), &["tcp", "-W", "2", &spec]);
        let canonical = from.map(|a| a.to_string()).unwrap_or_default();
        assert!(
            human.stdout.contains(&format!("from {canonical}")),
            "router named: {}",
            human.stdout
        );
    }
    // An admin-prohibited from the router: the advice is to find the rule
    // on that router, named, never this host's firewall (the kernel maps
    // ICMPv6 admin-prohibited to EACCES, whose errno advice is local).
    for (server, router, spec, code) in [
        (
            lab.server_v4(),
            lab.router_v4(1),
            format!("{}:7001", lab.server_v4()),
            13,
        ),
        (
            lab.server_v6(),
            lab.router_v6(1),
            format!("[{}]:7001", lab.server_v6()),
            1,
        ),
    ] {
        let (_, doc) = tcp_json(&lab, &["-W", "2", &spec]);
        let t = target(&doc, &server, 7001);
        assert_eq!(t["failure"]["code"], "tcp.admin_prohibited", "{t}");
        assert_eq!(t["failure"]["icmp"]["code"], code, "{t}");
        assert_eq!(t["failure"]["local"], false, "{t}");
        let advice = doc["diagnosis"]
            .as_array()
            .and_then(|ds| ds.iter().find(|d| d["code"] == "tcp.admin_prohibited"))
            .and_then(|d| d["summary"].as_str())
            .unwrap_or_else(|| panic!("no tcp.admin_prohibited diagnosis: {doc}"));
        let check = advice
            .split_once("Check: ")
            .map(|(_, c)| c)
            .unwrap_or_else(|| panic!("no advice: {advice}"));
        assert!(
            check.starts_with(&format!(
                "on {router}, which sent the ICMP: find the reject rule there"
            )),
            "{check}"
        );
        assert!(!advice.contains("local firewall"), "{advice}");
        assert!(!advice.contains("never left this host"), "{advice}");
    }
}

#[test]
fn no_route_is_enetunreach_without_sending() {
    if !can_build_namespaces("tcp_no_route") {
        return;
    }
    let lab = Lab::chain(1);
    for (addr, spec) in [
        ("198.19.7.7", "198.19.7.7:80".to_string()),
        ("2001:db8:ff::7", "[2001:db8:ff::7]:80".to_string()),
    ] {
        let (run, doc) = tcp_json(&lab, &[&spec]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        let t = target(&doc, addr, 80);
        assert_eq!(t["state"], "unreachable", "{t}");
        assert_eq!(t["failure"]["errno"], "ENETUNREACH", "{t}");
        assert_eq!(t["failure"]["code"], "tcp.net_unreachable", "{t}");
        assert_eq!(t["failure"]["local"], true, "{t}");
    }
    let human = lab.netdx(lab.client(), &["tcp", "198.19.7.7:80"]);
    assert!(
        human.stdout.contains("no route on this host"),
        "{}",
        human.stdout
    );
}

#[test]
fn port_range_finds_exactly_the_three_listeners() {
    if !can_build_namespaces("tcp_port_range") {
        return;
    }
    let mut lab = Lab::chain(1);
    let ns = lab.server().to_string();
    listen(&mut lab, &ns, "4", b"", &[22, 80, 443]);
    let server = lab.server_v4();
    let (run, doc) = tcp_json(&lab, &[&format!("{server}:1-1024")]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let open: Vec<u64> = doc["targets"]
        .as_array()
        .map(|ts| {
            ts.iter()
                .filter(|t| t["state"] == "open")
                .filter_map(|t| t["port"].as_u64())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(open, vec![22, 80, 443]);
    assert_eq!(doc["summary"]["targets"], 1024);
    assert_eq!(doc["summary"]["closed"], 1021);

    // Human output lists the open ones and counts the rest.
    let human = lab.netdx(lab.client(), &["tcp", &format!("{server}:1-1024")]);
    assert!(
        human
            .stdout
            .contains("Not shown: 1021 closed (ECONNREFUSED)"),
        "{}",
        human.stdout
    );
    assert_eq!(
        human
            .stdout
            .lines()
            .filter(|l| l.contains("  open  "))
            .count(),
        3
    );
}

#[test]
fn all_65535_ports_give_the_listeners_open_one_filtered_and_the_rest_closed() {
    if !can_build_namespaces("tcp_all_ports") {
        return;
    }
    let mut lab = Lab::chain(1);
    let ns = lab.server().to_string();
    listen(&mut lab, &ns, "4", b"", &[22, 80, 443]);
    // One dropped port: its timeout halves the adaptive window once and
    // must not change any other verdict.
    lab.nft(
        lab.server(),
        "table inet f { chain input { type filter hook input priority 0; tcp dport 40000 drop; }\n}",
    );
    let server = lab.server_v4();
    let (run, doc) = tcp_json(&lab, &["-W", "1", &format!("{server}:1-65535")]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let targets = doc["targets"].as_array().cloned().unwrap_or_default();
    assert_eq!(targets.len(), 65535);
    let ports: Vec<u64> = targets.iter().filter_map(|t| t["port"].as_u64()).collect();
    assert!(
        ports.iter().copied().eq(1..=65535),
        "results come back in port order"
    );
    let with = |state: &str| -> Vec<u64> {
        targets
            .iter()
            .filter(|t| t["state"] == state)
            .filter_map(|t| t["port"].as_u64())
            .collect()
    };
    assert_eq!(with("open"), vec![22, 80, 443]);
    assert_eq!(with("filtered"), vec![40000]);
    assert_eq!(doc["summary"]["closed"], 65531);
    assert!(
        codes(&doc).contains(&"tcp.silent_port".to_string()),
        "{doc}"
    );
}

#[test]
fn banner_shows_the_greeting_escaped() {
    if !can_build_namespaces("tcp_banner") {
        return;
    }
    let mut lab = Lab::chain(1);
    let ns = lab.server().to_string();
    listen(
        &mut lab,
        &ns,
        "46",
        b"220 mail.test ESMTP ready\r\n\x1b[2J",
        &[2525],
    );
    let server = lab.server_v4();
    let (run, doc) = tcp_json(&lab, &["--banner", &format!("{server}:2525")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let t = target(&doc, &server, 2525);
    assert_eq!(
        t["banner"], "220 mail.test ESMTP ready\\r\\n\\x1b[2J",
        "{t}"
    );
    let human = lab.netdx(
        lab.client(),
        &["tcp", "--banner", &format!("[{}]:2525", lab.server_v6())],
    );
    assert_eq!(human.code, 0, "{}", human.stderr);
    assert!(
        human
            .stdout
            .contains("banner \"220 mail.test ESMTP ready\\r\\n\\x1b[2J\""),
        "{}",
        human.stdout
    );
    assert!(
        !human.stdout.contains('\x1b'),
        "raw escape reached the terminal"
    );
}

#[test]
fn repeats_give_connect_statistics() {
    if !can_build_namespaces("tcp_repeats") {
        return;
    }
    let mut lab = Lab::chain(1);
    let ns = lab.server().to_string();
    listen(&mut lab, &ns, "4", b"", &[8080]);
    let server = lab.server_v4();
    let spec = format!("{server}:8080");
    let (run, doc) = tcp_json(&lab, &["-c", "4", "-i", "0.05", &spec]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let t = target(&doc, &server, 8080);
    assert_eq!(
        (t["sent"].as_u64(), t["connected"].as_u64()),
        (Some(4), Some(4))
    );
    let s = &t["stats"];
    let (min, avg, max) = (
        s["min_ms"].as_f64().unwrap_or(-1.0),
        s["avg_ms"].as_f64().unwrap_or(-1.0),
        s["max_ms"].as_f64().unwrap_or(-1.0),
    );
    assert!(0.0 < min && min <= avg && avg <= max, "{s}");
    assert!(s["mdev_ms"].as_f64().is_some(), "{s}");
    let human = lab.netdx(lab.client(), &["tcp", "-c", "3", "-i", "0.05", &spec]);
    assert!(
        human.stdout.contains("seq=3 open time="),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("connect min/avg/max/mdev = "),
        "{}",
        human.stdout
    );
    let jsonl = lab.netdx(
        lab.client(),
        &["--jsonl", "tcp", "-c", "2", "-i", "0.05", &spec],
    );
    let probes = jsonl
        .stdout
        .lines()
        .filter(|l| l.contains("\"event\":\"probe\""))
        .count();
    assert_eq!(probes, 2, "{}", jsonl.stdout);
}

#[test]
fn expect_closed_passes_only_when_nothing_connects() {
    if !can_build_namespaces("tcp_expect_closed") {
        return;
    }
    let mut lab = Lab::chain(1);
    let ns = lab.server().to_string();
    listen(&mut lab, &ns, "4", b"", &[8080]);
    lab.nft(
        lab.server(),
        "table inet f { chain input { type filter hook input priority 0; tcp dport 23 drop; }\n}",
    );
    let server = lab.server_v4();
    let (run, doc) = tcp_json(
        &lab,
        &[
            "--expect",
            "closed",
            "-W",
            "0.5",
            &format!("{server}:23,3306"),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(codes(&doc), vec!["tcp.closed_as_expected".to_string()]);
    let (run, doc) = tcp_json(
        &lab,
        &["--expect", "closed", &format!("{server}:3306,8080")],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        codes(&doc).contains(&"tcp.unexpectedly_open".into()),
        "{doc}"
    );
}

/// Per-namespace /etc/hosts (ip netns exec bind-mounts /etc/netns/NS/*).
struct HostsFile(std::path::PathBuf);

impl HostsFile {
    fn new(ns: &str, text: &str) -> Self {
        let dir = std::path::PathBuf::from(format!("/etc/netns/{ns}"));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {dir:?}: {e}"));
        std::fs::write(dir.join("hosts"), text).unwrap_or_else(|e| panic!("hosts: {e}"));
        HostsFile(dir)
    }
}

impl Drop for HostsFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_name_is_probed_on_all_its_addresses() {
    if !can_build_namespaces("tcp_all_addresses") {
        return;
    }
    let mut lab = Lab::chain(1);
    let (v4, v6) = (lab.server_v4(), lab.server_v6());
    let _hosts = HostsFile::new(
        lab.client(),
        &format!("{v4} server.test\n{v6} server.test\n"),
    );
    let ns = lab.server().to_string();
    listen(&mut lab, &ns, "4", b"", &[8080]);
    let (run, doc) = tcp_json(&lab, &["server.test:8080"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(target(&doc, &v4, 8080)["state"], "open");
    assert_eq!(target(&doc, &v6, 8080)["state"], "closed");
    assert!(
        codes(&doc).contains(&"tcp.some_addresses_fail".into()),
        "{doc}"
    );
    let (run, doc) = tcp_json(&lab, &["-4", "server.test:8080"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(doc["summary"]["targets"], 1);
}

#[test]
fn unresolvable_name_is_exit_1_with_one_line() {
    if !can_build_namespaces("tcp_unresolvable") {
        return;
    }
    let lab = Lab::chain(0);
    let _hosts = HostsFile::new(lab.client(), "198.18.0.2 known.test\n");
    let run = lab.netdx(lab.client(), &["tcp", "nosuch.invalid:80"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("netdx: cannot resolve nosuch.invalid"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_inputs_are_one_line_and_exit_2() {
    let bin = env!("CARGO_BIN_EXE_netdx");
    for (args, words) in [
        (vec!["tcp", "host:99999"], "out of range"),
        (vec!["tcp", "host:"], "missing port"),
        (vec!["tcp", ":80"], "missing host"),
        (vec!["tcp", "host:90-80"], "backwards"),
        (vec!["tcp", "host"], "no port"),
        (vec!["tcp", "2001:db8::1:80"], "brackets"),
        (
            vec!["tcp", "bad_name!:80"],
            "neither an IP address nor a valid host name",
        ),
        (vec!["tcp"], "no targets"),
        (vec!["tcp", "-c", "0", "198.18.0.1:80"], "-c 0"),
        (vec!["tcp", "-W", "-1", "198.18.0.1:80"], "-W -1"),
        (
            vec!["tcp", "-f", "/nonexistent/targets", "198.18.0.1:80"],
            "cannot read",
        ),
    ] {
        let out = std::process::Command::new(bin)
            .args(&args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run netdx: {e}"));
        let run = Run::from(out);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.starts_with("netdx: "),
            "{args:?}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(words), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
    }
}

#[test]
fn targets_from_a_file() {
    if !can_build_namespaces("tcp_file") {
        return;
    }
    let mut lab = Lab::chain(1);
    let ns = lab.server().to_string();
    listen(&mut lab, &ns, "4", b"", &[8080, 8081]);
    let server = lab.server_v4();
    let path = std::env::temp_dir().join(format!("netdx-tcp-{}.txt", std::process::id()));
    std::fs::write(
        &path,
        format!("# web\n{server}:8080\n{server}:8081  # api\n"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let file = path.to_string_lossy().to_string();
    let (run, doc) = tcp_json(&lab, &["-f", &file]);
    let _ = std::fs::remove_file(&path);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(doc["summary"]["open"], 2);
}

#[test]
fn random_syn_loss_is_intermittent() {
    if !can_build_namespaces("tcp_intermittent") {
        return;
    }
    let mut lab = Lab::chain(1);
    let ns = lab.server().to_string();
    listen(&mut lab, &ns, "4", b"", &[8080]);
    lab.nft(
        lab.server(),
        "table inet f { chain input { type filter hook input priority 0; \
         tcp dport 8080 tcp flags syn numgen random mod 100 < 50 drop; }\n}",
    );
    let server = lab.server_v4();
    let (run, doc) = tcp_json(
        &lab,
        &[
            "-c",
            "20",
            "-i",
            "0.01",
            "-W",
            "0.3",
            &format!("{server}:8080"),
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let t = target(&doc, &server, 8080);
    let connected = t["connected"].as_u64().unwrap_or(0);
    assert!((1..20).contains(&connected), "{t}");
    assert_eq!(t["state"], "open");
    assert!(codes(&doc).contains(&"tcp.intermittent".into()), "{doc}");
}

#[test]
fn self_connect_is_never_reported_open() {
    if !can_build_namespaces("tcp_self_connect") {
        return;
    }
    // With the ephemeral range narrowed to the probed ports, the kernel
    // often picks the target port as our source port and the SYN to a port
    // nobody listens on "connects" to itself (simultaneous open).
    let lab = Lab::chain(0);
    lab.sysctl(
        lab.client(),
        &[("net.ipv4.ip_local_port_range", "40000 40009")],
    );
    let mut self_connects = 0;
    for run_no in 1..=20 {
        let run = lab.netdx(
            lab.client(),
            &[
                "--jsonl",
                "tcp",
                "-c",
                "5",
                "-i",
                "0",
                "127.0.0.1:40000-40009",
            ],
        );
        assert_eq!(run.code, 1, "run {run_no}: {}{}", run.stdout, run.stderr);
        for line in run.stdout.lines() {
            let event: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("run {run_no}: bad line {line}: {e}"));
            assert_ne!(event["state"], "open", "run {run_no}: {line}");
            if event["event"] == "probe" && event["failure"]["code"] == "tcp.self_connect" {
                assert_eq!(event["state"], "closed", "{line}");
                assert!(
                    event["failure"]["detail"]
                        .as_str()
                        .unwrap_or("")
                        .starts_with("self-connect: the kernel chose the target port"),
                    "{line}"
                );
                self_connects += 1;
            }
            if event["event"] == "summary" {
                assert_eq!(event["open"], 0, "run {run_no}: {line}");
                assert_eq!(event["closed"], 10, "run {run_no}: {line}");
            }
        }
        if self_connects > 0 && run_no >= 5 {
            break;
        }
    }
    assert!(
        self_connects > 0,
        "no self-connect happened in 20 runs: the test did not exercise the case"
    );
}

#[test]
fn a_zero_wait_is_refused_in_words_that_exclude_zero() {
    let bin = env!("CARGO_BIN_EXE_netdx");
    for (args, words) in [
        (
            vec!["--timeout", "0", "tcp", "198.18.0.1:80"],
            "--timeout 0: give a number of seconds greater than 0 and at most 3600",
        ),
        (
            vec!["tcp", "-W", "0", "198.18.0.1:80"],
            "-W 0: the wait must be greater than 0 and at most 3600 seconds",
        ),
        (
            vec!["ping", "-W", "0", "198.18.0.1"],
            "-W 0: the wait must be greater than 0 and at most 3600 seconds",
        ),
        (
            vec!["trace", "-w", "0", "198.18.0.1"],
            "-w 0: the wait must be greater than 0 and at most 3600 seconds",
        ),
        (
            vec!["tcp", "-i", "-1", "198.18.0.1:80"],
            "-i -1: the interval must be from 0 to 3600 seconds",
        ),
    ] {
        let out = std::process::Command::new(bin)
            .args(&args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run netdx: {e}"));
        let run = Run::from(out);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert_eq!(run.stderr.trim_end(), format!("netdx: {words}"), "{args:?}");
        assert!(!run.stderr.contains("between 0 and"), "{}", run.stderr);
    }
}

#[test]
fn a_router_reset_is_named_by_its_ttl_and_the_host_refusal_stays_refused() {
    if !can_build_namespaces("tcp_router_rst") {
        return;
    }
    let mut lab = Lab::chain(1);
    let server = lab.server_v4();
    let ns = lab.server().to_string();
    listen(&mut lab, &ns, "46", b"", &[8080]);
    lab.nft(
        lab.router(1),
        "table inet f { chain forward { type filter hook forward priority 0; \
         tcp dport 8081 reject with tcp reset; }\n}",
    );
    // IPv6: the same from the hop limits (raw IPv6 sockets see no header).
    let server6 = lab.server_v6();
    let (_, doc6) = tcp_json(&lab, &["-W", "2", &format!("[{server6}]:8080,8081,8082")]);
    let t6 = target(&doc6, &server6, 8081);
    assert_eq!(t6["failure"]["code"], "tcp.reset_by_middlebox", "{t6}");
    assert_eq!(t6["failure"]["rst"]["hops_before_host"], 1, "{t6}");
    let h6 = target(&doc6, &server6, 8082);
    assert_eq!(h6["failure"]["code"], "tcp.refused", "{h6}");
    let spec = format!("{server}:8080,8081,8082");
    let (run, doc) = tcp_json(&lab, &["-W", "2", &spec]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(target(&doc, &server, 8080)["state"], "open", "{doc}");
    // 8081: the router's RST arrives with TTL 64, the host's SYN-ACK with 63.
    let by_router = target(&doc, &server, 8081);
    assert_eq!(by_router["state"], "closed", "{by_router}");
    assert_eq!(
        by_router["failure"]["code"], "tcp.reset_by_middlebox",
        "{by_router}"
    );
    assert_eq!(by_router["failure"]["rst"]["rst_ttl"], 64, "{by_router}");
    assert_eq!(by_router["failure"]["rst"]["host_ttl"], 63, "{by_router}");
    assert_eq!(
        by_router["failure"]["rst"]["hops_before_host"], 1,
        "{by_router}"
    );
    // 8082: closed on the host itself, the RST travels as far as the SYN-ACK.
    let by_host = target(&doc, &server, 8082);
    assert_eq!(by_host["failure"]["code"], "tcp.refused", "{by_host}");
    assert_eq!(by_host["failure"]["rst"]["rst_ttl"], 63, "{by_host}");
    assert!(
        by_host["failure"]["rst"]["hops_before_host"].is_null(),
        "{by_host}"
    );
    let d = doc["diagnosis"]
        .as_array()
        .and_then(|ds| ds.iter().find(|d| d["code"] == "tcp.reset_by_middlebox"))
        .cloned()
        .unwrap_or_else(|| panic!("no tcp.reset_by_middlebox: {doc}"));
    assert_eq!(d["evidence"]["hops_before_host"], 1, "{d}");
    let summary = d["summary"].as_str().unwrap_or("");
    assert!(summary.contains("1 hop(s) before the host"), "{summary}");
    assert!(codes(&doc).contains(&"tcp.refused".to_string()), "{doc}");
    let human = lab.netdx(lab.client(), &["tcp", "-W", "2", &spec]);
    assert!(
        human
            .stdout
            .contains("RST from a device 1 hop(s) before the host"),
        "{}",
        human.stdout
    );
    // Without CAP_NET_RAW nothing changes but the JSON note.
    let plain = lab.netdx_as_nobody(lab.client(), &["--json", "tcp", "-W", "2", &spec]);
    let doc = plain.json();
    let t = target(&doc, &server, 8081);
    assert_eq!(t["failure"]["code"], "tcp.refused", "{t}");
    assert!(
        t["failure"]["rst"]["note"]
            .as_str()
            .is_some_and(|n| n.contains("not checked")),
        "{t}"
    );
    assert!(
        !codes(&doc).contains(&"tcp.reset_by_middlebox".to_string()),
        "{doc}"
    );
    let human = lab.netdx_as_nobody(lab.client(), &["tcp", "-W", "2", &spec]);
    assert!(!human.stdout.contains("not checked"), "{}", human.stdout);
}
