//! `netdx trace` against real routers in network namespaces, side by side
//! with traceroute where it helps.

mod common;
use common::{can_build_namespaces, Lab};
use serde_json::Value;

/// Per hop (in TTL order), the addresses its probes came back from, `*` for
/// a probe that got nothing.
fn json_hops(doc: &Value) -> Vec<Vec<String>> {
    doc["hops"]
        .as_array()
        .map(|hops| {
            hops.iter()
                .map(|h| {
                    h["probes"]
                        .as_array()
                        .map(|ps| {
                            ps.iter()
                                .map(|p| p["from"].as_str().unwrap_or("*").to_string())
                                .collect()
                        })
                        .unwrap_or_default()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The hop list of traceroute-style text: per hop line, the first address
/// or `*` when the hop stayed silent.
fn text_hops(out: &str) -> Vec<String> {
    out.lines()
        .filter(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|t| t.parse::<u32>().is_ok())
        })
        .map(|l| {
            l.split_whitespace()
                .skip(1)
                .find(|t| *t != "*")
                .filter(|t| t.parse::<std::net::IpAddr>().is_ok())
                .unwrap_or("*")
                .to_string()
        })
        .collect()
}

fn expected_path(lab: &Lab, v6: bool) -> Vec<String> {
    let mut hops: Vec<String> = (1..=lab.routers)
        .map(|k| {
            if v6 {
                lab.router_v6(k)
            } else {
                lab.router_v4(k)
            }
        })
        .collect();
    hops.push(if v6 { lab.server_v6() } else { lab.server_v4() });
    hops
}

#[test]
fn four_routers_hop_list_for_icmp_udp_tcp_v4_v6() {
    if !can_build_namespaces("four_routers_hop_list") {
        return;
    }
    let lab = Lab::chain(4);
    for v6 in [false, true] {
        let server = if v6 { lab.server_v6() } else { lab.server_v4() };
        let want = expected_path(&lab, v6);
        for method in ["--icmp", "--udp", "--tcp"] {
            let run = lab.netdx(
                lab.client(),
                &["--json", "trace", "-n", "-w", "2", method, &server],
            );
            assert_eq!(
                run.code, 0,
                "{method} {server}: {}{}",
                run.stdout, run.stderr
            );
            let doc = run.json();
            let hops = json_hops(&doc);
            assert_eq!(hops.len(), 5, "{method} {server}: {hops:?}");
            for (hop, addr) in hops.iter().zip(&want) {
                assert_eq!(hop, &vec![addr.clone(); 3], "{method} {server}");
            }
            assert_eq!(doc["reached"], true);
            assert_eq!(doc["diagnosis"][0]["code"], "trace.reached");
            // All TTLs in flight at once and every hop answers: the trace is
            // about one round trip and never sits out a wait. The bound is
            // one wait (2 s) — generous for a loaded CI, yet a trace that
            // waited for anything (let alone hops × wait = 10 s) exceeds it.
            let took = doc["duration_ms"].as_u64().unwrap_or(u64::MAX);
            assert!(took < 2000, "{method} {server}: trace took {took} ms");
        }
        // The text has traceroute's shape.
        let run = lab.netdx(lab.client(), &["trace", "-n", "-w", "2", &server]);
        assert_eq!(run.code, 0);
        assert_eq!(text_hops(&run.stdout), want, "{}", run.stdout);
        assert!(run.stdout.contains("trace.reached"), "{}", run.stdout);
    }
}

#[test]
fn silent_router_prints_stars_and_the_trace_goes_on() {
    if !can_build_namespaces("silent_router") {
        return;
    }
    let lab = Lab::chain(3);
    lab.nft(
        lab.router(2),
        "table inet quiet { chain out { type filter hook output priority 0; \
         icmp type time-exceeded drop; icmpv6 type time-exceeded drop; }; }",
    );
    // -w 2: concurrent probing waits once for the silent hop (~2 s);
    // hop by hop it would wait 3 × 2 s for that hop alone, hops × wait = 8 s
    // in all. Half of hops × wait (4 s) separates the two with 2 s to spare
    // for a loaded CI.
    let (hops, wait) = (4.0, 2.0);
    for (v6, server) in [(false, lab.server_v4()), (true, lab.server_v6())] {
        let started = std::time::Instant::now();
        let run = lab.netdx(lab.client(), &["trace", "-n", "-w", "2", &server]);
        let took = started.elapsed().as_secs_f64();
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        assert!(run.stdout.contains("\n 2  * * *\n"), "{}", run.stdout);
        let mut want = expected_path(&lab, v6);
        want[1] = "*".into();
        assert_eq!(text_hops(&run.stdout), want, "{}", run.stdout);
        assert!(run.stdout.contains("path.silent_hop"), "{}", run.stdout);
        // One wait for the silent hop (it was waited out: at least one
        // wait), not three of them, nor hops × wait.
        assert!(took >= wait * 0.95, "trace took {took} s, less than -w");
        assert!(
            took < hops * wait / 2.0,
            "trace with one silent hop took {took} s"
        );
    }
}

#[test]
fn reject_at_the_destination_ends_with_the_annotation() {
    if !can_build_namespaces("reject_at_destination") {
        return;
    }
    let lab = Lab::chain(2);
    let cases = [
        (
            "ip protocol icmp reject with icmp type admin-prohibited",
            false,
            "!X",
            3,
            13,
        ),
        (
            "ip protocol icmp reject with icmp type host-unreachable",
            false,
            "!H",
            3,
            1,
        ),
        (
            "icmpv6 type echo-request reject with icmpv6 type admin-prohibited",
            true,
            "!X",
            1,
            1,
        ),
    ];
    for (rule, v6, mark, t, c) in cases {
        lab.nft(
            lab.server(),
            &format!(
                "flush ruleset\ntable inet r {{ chain input {{ type filter hook input priority 0; {rule}; }}; }}"
            ),
        );
        let server = if v6 { lab.server_v6() } else { lab.server_v4() };
        let run = lab.netdx(lab.client(), &["trace", "-n", "-w", "1", &server]);
        assert_eq!(run.code, 1, "{rule}: {}{}", run.stdout, run.stderr);
        let last = run
            .stdout
            .lines()
            .find(|l| l.starts_with(" 3 "))
            .unwrap_or_else(|| panic!("no hop 3: {}", run.stdout));
        assert!(
            last.contains(&server) && last.contains(mark),
            "{rule}: {last}"
        );
        assert!(!run.stdout.contains("\n 4 "), "{}", run.stdout);
        assert!(run.stdout.contains("trace.unreachable"), "{}", run.stdout);
        // traceroute -I prints the same mark on the same hop.
        let family = if v6 { "-6" } else { "-4" };
        let reference = lab.exec(
            lab.client(),
            &["traceroute", family, "-I", "-n", "-w", "1", &server],
        );
        if reference.code == 0 || !reference.stdout.is_empty() {
            let theirs = reference
                .stdout
                .lines()
                .find(|l| l.starts_with(" 3 "))
                .unwrap_or("");
            assert!(theirs.contains(mark), "traceroute: {}", reference.stdout);
        }
        let run = lab.netdx(lab.client(), &["--json", "trace", "-n", "-w", "1", &server]);
        let doc = run.json();
        let probe = &doc["hops"][2]["probes"][0]["answer"];
        assert_eq!(probe["kind"], "unreachable");
        assert_eq!(probe["mark"], mark);
        assert_eq!(
            (probe["icmp_type"].as_u64(), probe["code"].as_u64()),
            (Some(t), Some(c))
        );
    }
    // Port unreachable to ICMP probes: the destination refuses, traceroute
    // prints no mark; the trace still ends there.
    lab.nft(
        lab.server(),
        "flush ruleset\ntable inet r { chain input { type filter hook input priority 0; \
         ip protocol icmp reject with icmp type port-unreachable; }; }",
    );
    let run = lab.netdx(lab.client(), &["trace", "-n", "-w", "1", &lab.server_v4()]);
    assert_eq!(run.code, 1);
    assert_eq!(
        text_hops(&run.stdout),
        expected_path(&lab, false),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Port Unreachable"), "{}", run.stdout);
}

#[test]
fn hop_list_equals_traceroute() {
    if !can_build_namespaces("hop_list_equals_traceroute") {
        return;
    }
    let lab = Lab::chain(4);
    lab.nft(
        lab.router(3),
        "table inet quiet { chain out { type filter hook output priority 0; icmp type time-exceeded drop; }; }",
    );
    let server = lab.server_v4();
    for (ours, theirs) in [
        (
            vec!["trace", "-n", "-w", "1", "--udp"],
            vec!["traceroute", "-n", "-w", "1"],
        ),
        (
            vec!["trace", "-n", "-w", "1"],
            vec!["traceroute", "-I", "-n", "-w", "1"],
        ),
        (
            vec!["trace", "-n", "-w", "1", "--tcp", "-p", "80"],
            vec!["traceroute", "-T", "-p", "80", "-n", "-w", "1"],
        ),
    ] {
        let mut a = ours.clone();
        a.push(&server);
        let mut b = theirs.clone();
        b.push(&server);
        let mine = lab.netdx(lab.client(), &a);
        let reference = lab.exec(lab.client(), &b);
        assert!(!reference.stdout.is_empty(), "{b:?}: {}", reference.stderr);
        assert_eq!(
            text_hops(&mine.stdout),
            text_hops(&reference.stdout),
            "netdx:\n{}\ntraceroute:\n{}",
            mine.stdout,
            reference.stdout
        );
    }
}

#[test]
fn without_root_udp_icmp_and_tcp_all_work() {
    if !can_build_namespaces("unprivileged_trace") {
        return;
    }
    let lab = Lab::chain(2);
    let server = lab.server_v4();
    lab.sysctl(lab.client(), &[("net.ipv4.ping_group_range", "1 0")]);
    let run = lab.netdx_as_nobody(
        lab.client(),
        &["--json", "trace", "-n", "-w", "1", "--udp", &server],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(json_hops(&run.json()).len(), 3);
    // No ICMP socket of any kind is allowed, yet --tcp works: connect().
    let run = lab.netdx_as_nobody(
        lab.client(),
        &["--json", "trace", "-n", "-w", "1", "--tcp", &server],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let doc = run.json();
    assert_eq!(doc["socket"], "connect");
    assert_eq!(json_hops(&doc).len(), 3);

    lab.sysctl(
        lab.client(),
        &[("net.ipv4.ping_group_range", "0 2147483647")],
    );
    let run = lab.netdx_as_nobody(lab.client(), &["--json", "trace", "-n", "-w", "1", &server]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let doc = run.json();
    assert_eq!(doc["socket"], "datagram");
    assert_eq!(json_hops(&doc)[0], vec![lab.router_v4(1); 3]);
}

/// A listener on both families that accepts and closes every connection.
const LISTENER: &str = r#"
import select, socket, sys
socks = []
for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, int(sys.argv[1])))
    s.listen(512)
    socks.append(s)
while True:
    ready, _, _ = select.select(socks, [], [])
    for s in ready:
        c, _ = s.accept()
        c.close()
"#;

/// Starts [`LISTENER`] on `port` in the server and waits until it listens.
fn listen(lab: &mut Lab, port: &str) {
    let server = lab.server().to_string();
    lab.spawn(&server, &["python3", "-c", LISTENER, port]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let ss = lab.exec(&server, &["ss", "-Hltn"]);
        if ss.stdout.matches(&format!(":{port} ")).count() >= 2 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "listener did not start: {}",
            ss.stdout
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn unprivileged_tcp_trace_connects_and_reads_the_error_queue() {
    if !can_build_namespaces("unprivileged_tcp_trace") {
        return;
    }
    let mut lab = Lab::chain(3);
    listen(&mut lab, "8080");
    for v6 in [false, true] {
        let server = if v6 { lab.server_v6() } else { lab.server_v4() };
        let want = expected_path(&lab, v6);
        // 8080 accepts (connect succeeds), 8081 refuses (RST): both reached.
        for port in ["8080", "8081"] {
            let run = lab.netdx_as_nobody(
                lab.client(),
                &[
                    "--json", "trace", "-n", "-w", "2", "--tcp", "-p", port, &server,
                ],
            );
            assert_eq!(run.code, 0, "{server}:{port}: {}{}", run.stdout, run.stderr);
            let doc = run.json();
            assert_eq!(doc["socket"], "connect");
            let hops = json_hops(&doc);
            assert_eq!(hops.len(), want.len(), "{server}:{port}: {hops:?}");
            for (hop, addr) in hops.iter().zip(&want) {
                assert_eq!(hop, &vec![addr.clone(); 3], "{server}:{port}");
            }
            let last = &doc["hops"][want.len() - 1]["probes"][0]["answer"];
            assert_eq!(last["kind"], "destination", "{last}");
            assert_eq!(doc["diagnosis"][0]["code"], "trace.reached");
        }
        // The same path from mtr, as nobody (1 s interval: no root needed).
        let run = lab.netdx_as_nobody(
            lab.client(),
            &[
                "--json", "mtr", "-n", "-c", "2", "-i", "1", "--tcp", "-p", "8080", &server,
            ],
        );
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        let doc = run.json();
        let addrs: Vec<String> = doc["hops"]
            .as_array()
            .map(|hs| {
                hs.iter()
                    .filter_map(|h| h["addresses"][0]["address"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(addrs, want, "{}", run.stdout);
    }
    // A router that rejects the SYN: its unreachable ends the trace with !X.
    lab.nft(
        lab.router(2),
        "table inet f { chain through { type filter hook forward priority 0; \
         tcp dport 8080 reject with icmpx type admin-prohibited; }; }",
    );
    let run = lab.netdx_as_nobody(
        lab.client(),
        &[
            "trace",
            "-n",
            "-w",
            "1",
            "--tcp",
            "-p",
            "8080",
            &lab.server_v4(),
        ],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    // (TTL 2 expires at r2; TTL 3 and up are forwarded by r2 and rejected.)
    let hop3 = run
        .stdout
        .lines()
        .find(|l| l.starts_with(" 3 "))
        .unwrap_or_else(|| panic!("no hop 3: {}", run.stdout));
    assert!(
        hop3.contains(&lab.router_v4(2)) && hop3.contains("!X"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("\n 4 "), "{}", run.stdout);
    assert!(run.stdout.contains("trace.unreachable"), "{}", run.stdout);
}

/// The packets r1 saw from the client's second address (nft counter there).
fn seen_from_second_address(lab: &Lab) -> u64 {
    let out = lab.exec(lab.router(1), &["nft", "list", "table", "inet", "seen"]);
    out.stdout
        .split_whitespace()
        .skip_while(|w| *w != "packets")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[test]
fn source_address_and_interface_are_honoured() {
    if !can_build_namespaces("trace_source_interface") {
        return;
    }
    let lab = Lab::chain(2);
    let server = lab.server_v4();
    // A second address on the client's east interface, and a counter on r1
    // for the packets that leave from it.
    lab.exec(
        lab.client(),
        &["ip", "addr", "add", "198.18.0.5/24", "dev", "east"],
    );
    lab.nft(
        lab.router(1),
        "table inet seen { chain pre { type filter hook prerouting priority 0; \
         ip saddr 198.18.0.5 counter; }; }",
    );
    let want = expected_path(&lab, false);
    let mut before = 0;
    for method in ["--icmp", "--udp", "--tcp"] {
        for flags in [
            vec!["-i", "east"],
            vec!["-s", "198.18.0.5"],
            vec!["-s", "198.18.0.5", "-i", "east"],
        ] {
            let mut args = vec!["--json", "trace", "-n", "-w", "1", method];
            args.extend(&flags);
            args.push(&server);
            let run = lab.netdx(lab.client(), &args);
            assert_eq!(run.code, 0, "{args:?}: {}{}", run.stdout, run.stderr);
            let doc = run.json();
            assert_eq!(json_hops(&doc).len(), want.len(), "{args:?}");
            let seen = seen_from_second_address(&lab);
            if flags.contains(&"-s") {
                assert_eq!(doc["source"], "198.18.0.5", "{args:?}");
                assert!(seen >= before + 9, "{args:?}: r1 saw {seen} (was {before})");
            } else {
                assert_eq!(seen, before, "{args:?}: left from 198.18.0.5 unasked");
                assert_eq!(doc["source"], lab.client_v4(), "{args:?}");
            }
            before = seen;
        }
    }
    // Bound to an interface with no way to the server: nothing answers.
    // (a veth pair whose far end leads nowhere; dummy links may be missing)
    common::must(&[
        "ip",
        "-n",
        lab.client(),
        "link",
        "add",
        "dum0",
        "type",
        "veth",
        "peer",
        "name",
        "dum1",
    ]);
    common::must(&["ip", "-n", lab.client(), "link", "set", "dum0", "up"]);
    common::must(&["ip", "-n", lab.client(), "link", "set", "dum1", "up"]);
    let run = lab.netdx(
        lab.client(),
        &["trace", "-n", "-w", "0.5", "-m", "2", "-i", "dum0", &server],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("198.18.0.2"), "{}", run.stdout);
    // mtr spells them -a / --interface, as mtr does (its -I is --icmp here).
    let run = lab.netdx(
        lab.client(),
        &[
            "--json",
            "mtr",
            "-n",
            "-c",
            "2",
            "-i",
            "0.1",
            "-a",
            "198.18.0.5",
            "--interface",
            "east",
            &server,
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let doc = run.json();
    assert_eq!(doc["hops"].as_array().map(Vec::len), Some(3));
    assert_eq!(doc["source"], "198.18.0.5");
    assert!(seen_from_second_address(&lab) >= before + 6);
    // A source that is not on this host, an interface that does not exist:
    // one line, exit 3, for every method and both commands.
    for method in ["--icmp", "--udp", "--tcp"] {
        for (cmd, args) in [
            ("trace", vec!["-s", "198.18.99.1"]),
            ("trace", vec!["-i", "nosuch0"]),
            ("mtr", vec!["-a", "198.18.99.1"]),
            ("mtr", vec!["--interface", "nosuch0"]),
        ] {
            let mut all = vec![cmd, "-n", "-w", "1", method];
            all.extend(&args);
            all.push(&server);
            let run = lab.netdx(lab.client(), &all);
            assert_eq!(run.code, 3, "{all:?}: {}{}", run.stdout, run.stderr);
            assert_eq!(run.stderr.lines().count(), 1, "{all:?}: {}", run.stderr);
            let why = if args[1] == "nosuch0" {
                "no such interface"
            } else {
                "cannot use source address 198.18.99.1"
            };
            assert!(run.stderr.contains(why), "{all:?}: {}", run.stderr);
        }
    }
}

#[test]
fn ctrl_c_ends_with_trace_interrupted() {
    if !can_build_namespaces("trace_ctrl_c") {
        return;
    }
    let lab = Lab::chain(2);
    // The server never answers: without Ctrl-C this trace would wait 30 s.
    lab.nft(
        lab.server(),
        "table inet d { chain input { type filter hook input priority 0; icmp type echo-request drop; }; }",
    );
    for json in [false, true] {
        let server = lab.server_v4();
        let mut args = vec!["trace", "-n", "-w", "30", &server];
        if json {
            args.insert(0, "--json");
        }
        // Hops 1 and 2 answer within a millisecond of the start; 1.5 s
        // leaves room for a slow start on a loaded CI.
        let (run, to_stop) =
            lab.netdx_interrupted(lab.client(), &args, std::time::Duration::from_millis(1500));
        // Stopped by the signal, not by the 30 s wait: well under that.
        assert!(to_stop.as_secs_f64() < 10.0, "slow to stop");
        let text = run.stdout.clone();
        assert_eq!(run.code, 1, "{text}");
        if json {
            let doc = run.json();
            assert_eq!(doc["interrupted"], true);
            assert_eq!(doc["reached"], false);
            let d = &doc["diagnosis"][0];
            assert_eq!(d["code"], "trace.interrupted", "{d}");
            assert_eq!(d["severity"], "warning", "{d}");
            assert_eq!(d["evidence"]["hops_seen"], 2, "{d}");
            assert_eq!(d["evidence"]["last_hop"], 2, "{d}");
            assert_eq!(d["evidence"]["last_address"], lab.router_v4(2), "{d}");
            assert_eq!(doc["diagnosis"].as_array().map(Vec::len), Some(1));
        } else {
            assert_eq!(
                text_hops(&text),
                [lab.router_v4(1), lab.router_v4(2)],
                "{text}"
            );
            assert!(
                text.contains("diagnosis [warning] trace.interrupted"),
                "{text}"
            );
            assert!(!text.contains("trace.incomplete"), "{text}");
            assert!(!text.contains("within 30 hops"), "{text}");
        }
    }
    // Ctrl-C while only a silent hop is still waited out, the destination
    // having answered: the verdict is the normal one.
    lab.nft(lab.server(), "flush ruleset");
    lab.nft(
        lab.router(1),
        "table inet quiet { chain out { type filter hook output priority 0; \
         icmp type time-exceeded drop; }; }",
    );
    let server = lab.server_v4();
    let (run, _) = lab.netdx_interrupted(
        lab.client(),
        &["trace", "-n", "-w", "30", &server],
        std::time::Duration::from_millis(1500),
    );
    let text = run.stdout;
    assert_eq!(run.code, 0, "{text}");
    assert_eq!(
        text_hops(&text),
        ["*".to_string(), lab.router_v4(2), lab.server_v4()],
        "{text}"
    );
    assert!(text.contains("trace.reached"), "{text}");
    assert!(!text.contains("trace.interrupted"), "{text}");
}

#[test]
fn jsonl_streams_each_hop_in_order() {
    if !can_build_namespaces("trace_jsonl") {
        return;
    }
    let lab = Lab::chain(2);
    let run = lab.netdx(
        lab.client(),
        &["--jsonl", "trace", "-n", "-q", "2", &lab.server_v4()],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let events: Vec<Value> = run.jsonl();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(kinds, ["start", "hop", "hop", "hop", "summary"]);
    let ttls: Vec<u64> = events.iter().filter_map(|e| e["ttl"].as_u64()).collect();
    assert_eq!(ttls, [1, 2, 3]);
    assert_eq!(events[1]["probes"].as_array().map(Vec::len), Some(2));
    assert!(events[1]["probes"][0]["rtt_ms"].as_f64().is_some());
}

#[test]
fn first_ttl_and_max_hops_bound_the_trace() {
    if !can_build_namespaces("first_and_max") {
        return;
    }
    let lab = Lab::chain(3);
    let run = lab.netdx(
        lab.client(),
        &[
            "trace",
            "-n",
            "-f",
            "2",
            "-m",
            "3",
            "-w",
            "1",
            &lab.server_v4(),
        ],
    );
    // Hops 2 and 3 only; the server (hop 4) is beyond -m 3.
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(
        text_hops(&run.stdout),
        [lab.router_v4(2), lab.router_v4(3)],
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("trace.incomplete"), "{}", run.stdout);
}

#[test]
fn bad_input_gets_one_line_and_the_documented_code() {
    let bin = env!("CARGO_BIN_EXE_netdx");
    let cases: &[(&[&str], i32, &str)] = &[
        (&["trace", "-m", "0", "127.0.0.1"], 2, "max hops"),
        (&["trace", "-m", "256", "127.0.0.1"], 2, "max hops"),
        (
            &["trace", "-f", "5", "-m", "3", "127.0.0.1"],
            2,
            "first TTL",
        ),
        (&["trace", "-q", "0", "127.0.0.1"], 2, "-q 0"),
        (&["trace", "-N", "0", "127.0.0.1"], 2, "-N 0"),
        (&["trace", "--udp", "-p", "0", "127.0.0.1"], 2, "port"),
        (&["trace", "--tcp", "-p", "99999", "127.0.0.1"], 2, "port"),
        (&["trace", "-p", "80", "127.0.0.1"], 2, "no port"),
        (&["trace", "-w", "0", "127.0.0.1"], 2, "wait"),
        (&["trace", "--udp", "--tcp", "127.0.0.1"], 2, "--tcp"),
        (&["trace", "bad..name"], 2, "valid host name"),
        (&["trace", "-6", "127.0.0.1"], 2, "IPv4 address"),
        (&["mtr", "-c", "0", "127.0.0.1"], 2, "-c 0"),
        (&["mtr", "-i", "0.001", "127.0.0.1"], 2, "interval"),
        (&["mtr", "-i", "-1", "127.0.0.1"], 2, "interval"),
        (&["mtr", "--max-loss", "101", "127.0.0.1"], 2, "percentage"),
        (&["mtr", "-m", "0", "127.0.0.1"], 2, "max hops"),
        (
            &["trace", "-s", "nowhere", "127.0.0.1"],
            2,
            "-s nowhere: not an IP",
        ),
        (
            &["mtr", "-a", "nowhere", "127.0.0.1"],
            2,
            "-a nowhere: not an IP",
        ),
        (
            &["trace", "-s", "::1", "127.0.0.1"],
            2,
            "different address families",
        ),
        (
            &["trace", "-i", "no/such", "127.0.0.1"],
            2,
            "not an interface",
        ),
        (
            &["trace", "-i", "nosuch0", "127.0.0.1"],
            3,
            "no such interface",
        ),
        (
            &["mtr", "--interface", "nosuch0", "127.0.0.1"],
            3,
            "no such interface",
        ),
    ];
    for (args, code, words) in cases {
        let out = std::process::Command::new(bin)
            .args(*args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run netdx: {e}"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(*code), "{args:?}: {stderr}");
        assert!(stderr.contains(words), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

/// Removes the per-namespace hosts file (`ip netns exec` mounts
/// /etc/netns/NS/hosts over /etc/hosts) when the test ends.
struct NetnsHosts(std::path::PathBuf);

impl Drop for NetnsHosts {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn reverse_names_are_shown_unless_numeric() {
    if !can_build_namespaces("reverse_names") {
        return;
    }
    let lab = Lab::chain(2);
    let dir = std::path::PathBuf::from("/etc/netns").join(lab.client());
    let _cleanup = NetnsHosts(dir.clone());
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {dir:?}: {e}"));
    let hosts = format!(
        "127.0.0.1 localhost\n{} r1.lab.example\n{} server.lab.example\n",
        lab.router_v4(1),
        lab.server_v4()
    );
    std::fs::write(dir.join("hosts"), hosts).unwrap_or_else(|e| panic!("hosts: {e}"));
    let run = lab.netdx(lab.client(), &["trace", "-w", "1", &lab.server_v4()]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains(&format!(" 1  r1.lab.example ({})  ", lab.router_v4(1))),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!(" 2  {}  ", lab.router_v4(2))),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("server.lab.example"), "{}", run.stdout);
    let run = lab.netdx(lab.client(), &["trace", "-n", "-w", "1", &lab.server_v4()]);
    assert!(!run.stdout.contains("lab.example"), "{}", run.stdout);
    let run = lab.netdx(
        lab.client(),
        &["--json", "mtr", "-c", "2", "-i", "0.05", &lab.server_v4()],
    );
    assert_eq!(
        run.json()["hops"][0]["addresses"][0]["name"],
        "r1.lab.example"
    );
}

#[test]
fn no_route_and_a_local_firewall_give_one_diagnosis() {
    if !can_build_namespaces("trace_no_route") {
        return;
    }
    let lab = Lab::chain(2);
    // 198.19.0.1: inside 198.18.0.0/15, but the client has no route to it.
    for method in ["--icmp", "--udp", "--tcp"] {
        let run = lab.netdx(
            lab.client(),
            &["trace", "-n", "-w", "1", method, "198.19.0.1"],
        );
        assert_eq!(run.code, 1, "{method}: {}{}", run.stdout, run.stderr);
        let lines: Vec<&str> = run.stdout.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 1, "{method}: {}", run.stdout);
        assert!(
            lines[0].starts_with("diagnosis [critical] trace.no_route: this host has no route to 198.19.0.1 (Network is unreachable)"),
            "{method}: {}",
            run.stdout
        );
        assert!(lines[0].contains("ip route get 198.19.0.1"), "{}", lines[0]);
        assert!(!run.stdout.contains("EPERM"), "{}", run.stdout);
        let run = lab.netdx(
            lab.client(),
            &["--json", "trace", "-n", "-w", "1", method, "198.19.0.1"],
        );
        assert_eq!(run.code, 1);
        let doc = run.json();
        assert_eq!(doc["hops"].as_array().map(Vec::len), Some(0));
        assert_eq!(doc["diagnosis"].as_array().map(Vec::len), Some(1));
        assert_eq!(doc["diagnosis"][0]["code"], "trace.no_route");
        assert_eq!(doc["diagnosis"][0]["evidence"]["errno_name"], "ENETUNREACH");
    }
    // A local firewall (nft output drop: the send fails with EPERM): the
    // trace stops at hop 1, one diagnosis that names the firewall.
    lab.nft(
        lab.client(),
        "table inet fw { chain out { type filter hook output priority 0; \
         ip daddr 198.18.2.2 drop; }; }",
    );
    for method in ["--icmp", "--udp", "--tcp"] {
        let run = lab.netdx(
            lab.client(),
            &["trace", "-n", "-w", "1", method, &lab.server_v4()],
        );
        assert_eq!(run.code, 1, "{method}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stdout.contains("\n 1  !<EPERM> !<EPERM> !<EPERM>\n"),
            "{method}: {}",
            run.stdout
        );
        assert!(!run.stdout.contains("\n 2 "), "{method}: {}", run.stdout);
        let diagnoses: Vec<&str> = run
            .stdout
            .lines()
            .filter(|l| l.starts_with("diagnosis "))
            .collect();
        assert_eq!(diagnoses.len(), 1, "{method}: {}", run.stdout);
        assert!(
            diagnoses[0].starts_with("diagnosis [critical] trace.send_failed: ")
                && diagnoses[0].contains("(Operation not permitted): a local firewall rule"),
            "{}",
            diagnoses[0]
        );
    }
}

/// The destination drops everything and hop 2 is silent: at default
/// settings the trace ends in about one wait (5 s, where hop by hop it
/// would be hops × wait), prints the silent tail as one row, keeps every
/// hop in JSON and names the last hop that answered.
#[test]
fn silent_destination_ends_in_one_wait_with_one_tail_row() {
    if !can_build_namespaces("silent_tail") {
        return;
    }
    let lab = Lab::chain(3);
    lab.nft(
        lab.router(2),
        "table inet quiet { chain out { type filter hook output priority 0; \
         icmp type time-exceeded drop; }; }",
    );
    lab.nft(
        lab.server(),
        "table inet d { chain input { type filter hook input priority 0; drop; }; }",
    );
    let server = lab.server_v4();
    for method in ["--icmp", "--udp"] {
        let started = std::time::Instant::now();
        let run = lab.netdx(lab.client(), &["trace", "-n", method, &server]);
        let took = started.elapsed().as_secs_f64();
        let text = &run.stdout;
        assert_eq!(run.code, 1, "{text}{}", run.stderr);
        // One default wait (5 s), not 30 hops × 5 s / 16 in flight.
        assert!(
            (4.5..8.0).contains(&took),
            "{method}: took {took} s\n{text}"
        );
        assert!(text.contains("\n 2  * * *\n"), "{text}");
        assert!(
            text.contains("\n 4-30  * * *  (no answer from 27 hops)\n"),
            "{text}"
        );
        assert_eq!(text.matches("* * *").count(), 2, "{text}");
        assert!(text.contains("path.silent_hop"), "{text}");
        assert!(text.contains("trace.incomplete"), "{text}");
        assert!(
            text.contains(&format!(
                "the last hop that answered is 3 ({})",
                lab.router_v4(3)
            )),
            "{text}"
        );
    }
    let run = lab.netdx(lab.client(), &["--json", "trace", "-n", &server]);
    let doc = run.json();
    assert_eq!(doc["hops"].as_array().map(Vec::len), Some(30), "{doc}");
    let d = doc["diagnosis"]
        .as_array()
        .and_then(|ds| ds.iter().find(|d| d["code"] == "trace.incomplete"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(d["evidence"]["last_hop"], 3, "{doc}");
}

/// Ctrl-C while a silent hop is still being waited out, with a later hop
/// answered: the hop prints as `* * *` (not an empty line), JSON shows its
/// probes, and the silent-hop diagnosis stays.
#[test]
fn interrupted_trace_shows_the_in_flight_hop_silent() {
    if !can_build_namespaces("trace_ctrl_c_silent") {
        return;
    }
    let lab = Lab::chain(3);
    lab.nft(
        lab.router(2),
        "table inet quiet { chain out { type filter hook output priority 0; \
         icmp type time-exceeded drop; }; }",
    );
    lab.nft(
        lab.server(),
        "table inet d { chain input { type filter hook input priority 0; drop; }; }",
    );
    let server = lab.server_v4();
    for json in [false, true] {
        let mut args = vec!["trace", "-n", "-w", "30", &server];
        if json {
            args.insert(0, "--json");
        }
        let (run, _) =
            lab.netdx_interrupted(lab.client(), &args, std::time::Duration::from_millis(1500));
        assert_eq!(run.code, 1, "{}", run.stdout);
        if json {
            let doc = run.json();
            assert_eq!(doc["hops"][1]["probes"].as_array().map(Vec::len), Some(3));
            let codes: Vec<&str> = doc["diagnosis"]
                .as_array()
                .map(|ds| ds.iter().filter_map(|d| d["code"].as_str()).collect())
                .unwrap_or_default();
            assert_eq!(codes, ["trace.interrupted", "path.silent_hop"], "{doc}");
        } else {
            assert!(run.stdout.contains("\n 2  * * *\n"), "{}", run.stdout);
            assert!(run.stdout.contains("path.silent_hop"), "{}", run.stdout);
        }
    }
}

/// A resolver that never answers (its address drops DNS): hop lines do not
/// wait one name-wait each, and neither trace nor `mtr -r` waits for the
/// resolver after its output.
#[test]
fn a_dead_resolver_costs_one_bounded_wait() {
    if !can_build_namespaces("dead_resolver") {
        return;
    }
    let lab = Lab::chain(3);
    let dir = std::path::PathBuf::from("/etc/netns").join(lab.client());
    let _cleanup = NetnsHosts(dir.clone());
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {dir:?}: {e}"));
    std::fs::write(dir.join("hosts"), "127.0.0.1 localhost\n")
        .unwrap_or_else(|e| panic!("hosts: {e}"));
    std::fs::write(
        dir.join("resolv.conf"),
        format!("nameserver {}\n", lab.router_v4(1)),
    )
    .unwrap_or_else(|e| panic!("resolv.conf: {e}"));
    lab.nft(
        lab.router(1),
        "table inet dns { chain input { type filter hook input priority 0; udp dport 53 drop; tcp dport 53 drop; }; }",
    );
    let server = lab.server_v4();
    let started = std::time::Instant::now();
    let run = lab.netdx(lab.client(), &["trace", "-w", "1", &server]);
    let took = started.elapsed().as_secs_f64();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(text_hops(&run.stdout), expected_path(&lab, false));
    // The names are waited for once (1.5 s), side by side: not 1.5 s per
    // hop (4.5 s), nor the resolver's own 10 s before exiting.
    assert!(took < 3.5, "trace with a dead resolver took {took} s");
    let started = std::time::Instant::now();
    let run = lab.netdx(
        lab.client(),
        &["mtr", "-r", "-c", "2", "-i", "0.1", &server],
    );
    let took = started.elapsed().as_secs_f64();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(took < 4.0, "mtr -r -c 2 with a dead resolver took {took} s");
}

/// A namespace the test adds beside a Lab, deleted when the test ends.
struct ExtraNs(String);

impl Drop for ExtraNs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", &self.0])
            .output();
    }
}

/// `client — r1 — {r2 | rb} — r3 — server`: r1 balances the server's
/// network over two equal-cost next hops (r2 and rb) by L4 hash. r3
/// answers from the address of the link a probe came in on, so hop 3 also
/// tells the branch: 198.18.2.2 behind r2, 198.18.21.2 behind rb.
fn ecmp_lab() -> (Lab, ExtraNs) {
    let lab = Lab::chain(3);
    let rb = ExtraNs(format!("{}-rb", lab.client().trim_end_matches("-client")));
    common::must(&["ip", "netns", "add", &rb.0]);
    lab.sysctl(
        &rb.0,
        &[
            ("net.ipv4.ip_forward", "1"),
            ("net.ipv4.icmp_ratelimit", "0"),
        ],
    );
    lab.sysctl(
        lab.router(1),
        &[("net.ipv4.fib_multipath_hash_policy", "1")],
    );
    lab.sysctl(
        lab.router(3),
        &[
            ("net.ipv4.conf.all.rp_filter", "0"),
            ("net.ipv4.icmp_errors_use_inbound_ifaddr", "1"),
        ],
    );
    common::must(&[
        "ip",
        "link",
        "add",
        "tob",
        "netns",
        lab.router(1),
        "type",
        "veth",
        "peer",
        "name",
        "west",
        "netns",
        &rb.0,
    ]);
    common::must(&[
        "ip",
        "link",
        "add",
        "east",
        "netns",
        &rb.0,
        "type",
        "veth",
        "peer",
        "name",
        "fromb",
        "netns",
        lab.router(3),
    ]);
    let ip = |ns: &str, args: &str| {
        let mut cmd = vec!["ip", "-n", ns];
        cmd.extend(args.split_whitespace());
        common::must(&cmd);
    };
    ip(lab.router(1), "addr add 198.18.20.1/24 dev tob");
    ip(lab.router(1), "link set tob up");
    ip(&rb.0, "link set lo up");
    ip(&rb.0, "addr add 198.18.20.2/24 dev west");
    ip(&rb.0, "link set west up");
    ip(&rb.0, "addr add 198.18.21.1/24 dev east");
    ip(&rb.0, "link set east up");
    ip(lab.router(3), "addr add 198.18.21.2/24 dev fromb");
    ip(lab.router(3), "link set fromb up");
    ip(&rb.0, "route add 198.18.3.0/24 via 198.18.21.2");
    ip(&rb.0, "route add 198.18.0.0/24 via 198.18.20.1");
    ip(
        lab.router(1),
        "route replace 198.18.3.0/24 nexthop via 198.18.1.2 nexthop via 198.18.20.2",
    );
    std::thread::sleep(std::time::Duration::from_millis(200));
    (lab, rb)
}

/// Hops 2 and 3 of a trace's JSON.
fn hops_2_3(doc: &Value) -> Vec<Vec<String>> {
    let hops = json_hops(doc);
    hops.get(1..3).map(<[_]>::to_vec).unwrap_or_default()
}

/// Two equal-cost next hops at r1, balanced by L4 hash: every UDP trace
/// keeps all its probes on one branch (hop 2 and hop 3 of the same branch,
/// never a path that does not exist), and `--flows 16` finds both branches (all 16 on one: 2^-15)
/// and diagnoses `path.ecmp`, naming where the paths split and join.
#[test]
fn ecmp_one_trace_one_branch_and_flows_find_both() {
    if !can_build_namespaces("ecmp") {
        return;
    }
    let (lab, _rb) = ecmp_lab();
    let server = lab.server_v4();
    let branch_a = ["198.18.1.2", "198.18.2.2"];
    let branch_b = ["198.18.20.2", "198.18.21.2"];
    let mut seen = std::collections::HashSet::new();
    // Paris UDP and Paris TCP (one source port per trace, the SYNs told
    // apart by their sequence numbers): each trace stays on one branch.
    for method in ["--udp", "--tcp"] {
        for _ in 0..6 {
            let run = lab.netdx(
                lab.client(),
                &["--json", "trace", "-n", "-w", "1", method, &server],
            );
            assert_eq!(run.code, 0, "{method}: {}{}", run.stdout, run.stderr);
            let doc = run.json();
            let hops = hops_2_3(&doc);
            let all: Vec<&str> = hops.iter().flatten().map(String::as_str).collect();
            let on_a = all.iter().all(|a| branch_a.contains(a));
            let on_b = all.iter().all(|a| branch_b.contains(a));
            assert!(on_a || on_b, "{method}: one trace mixed branches: {hops:?}");
            assert_eq!(all.len(), 6, "{method}: {hops:?}");
            seen.insert(on_a);
            if method == "--tcp" {
                assert_eq!(doc["reached"], true, "{doc}");
            }
        }
    }
    let run = lab.netdx(
        lab.client(),
        &["trace", "-n", "-w", "1", "--udp", "--flows", "16", &server],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let text = &run.stdout;
    assert!(
        text.contains("16 flows: hops where the flows took different branches"),
        "{text}"
    );
    for addr in branch_a.iter().chain(&branch_b) {
        assert!(text.contains(&format!(" {addr} (flows ")), "{addr}: {text}");
    }
    assert!(text.contains("path.ecmp"), "{text}");
    assert!(
        text.contains("split after hop 1 (198.18.0.2) and join again at hop 4 (198.18.3.2)"),
        "{text}"
    );
    let run = lab.netdx(
        lab.client(),
        &[
            "--json", "trace", "-n", "-w", "1", "--udp", "--flows", "16", &server,
        ],
    );
    let doc = run.json();
    assert_eq!(doc["flows"], 16);
    let ttls: Vec<u64> = doc["branches"]
        .as_array()
        .map(|b| b.iter().filter_map(|h| h["ttl"].as_u64()).collect())
        .unwrap_or_default();
    assert_eq!(ttls, [2, 3], "{doc}");
    let d = doc["diagnosis"]
        .as_array()
        .and_then(|ds| ds.iter().find(|d| d["code"] == "path.ecmp"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(d["evidence"]["split_after"], 1, "{doc}");
    assert_eq!(d["evidence"]["join_at"], 4, "{doc}");
    assert_eq!(d["evidence"]["branches"], 2, "{doc}");
    // Raw TCP flows (one source port each) find both branches too.
    let run = lab.netdx(
        lab.client(),
        &[
            "--json", "trace", "-n", "-w", "1", "--tcp", "--flows", "16", &server,
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let doc = run.json();
    let branches = doc["branches"].to_string();
    for addr in branch_a.iter().chain(&branch_b) {
        assert!(branches.contains(addr), "--tcp --flows: {addr}: {doc}");
    }
    assert!(doc.to_string().contains("path.ecmp"), "{doc}");
    // ICMP echo has one identifier per run: one usage line.
    let run = lab.netdx(
        lab.client(),
        &["trace", "-n", "--icmp", "--flows", "4", &server],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("--flows 4: several flows need --udp or --tcp"),
        "{}",
        run.stderr
    );
    // TCP flows without root would be connect()s, one port per probe.
    let run = lab.netdx_as_nobody(
        lab.client(),
        &["trace", "-n", "--tcp", "--flows", "4", &server],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("needs hand-built SYNs"),
        "{}",
        run.stderr
    );
    let run = lab.netdx(
        lab.client(),
        &["trace", "-n", "-U", "--flows", "17", &server],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    // A single flow on a chain: no branches, no path.ecmp.
    let run = lab.netdx(lab.client(), &["--json", "trace", "-n", "-w", "1", &server]);
    let doc = run.json();
    assert_eq!(doc["branches"].as_array().map(Vec::len), Some(0), "{doc}");
}

/// `mtr --flows 16` on the same ECMP bed: each round sends one Paris UDP
/// probe per flow and TTL, the report lists both branches at hops 2 and 3
/// (the split hop's second router on its `-- line) and says path.ecmp with
/// where the paths split and join, as `trace --flows` does.
#[test]
fn mtr_flows_list_both_branches_and_diagnose_ecmp() {
    if !can_build_namespaces("mtr_ecmp") {
        return;
    }
    let (lab, _rb) = ecmp_lab();
    let server = lab.server_v4();
    let args = [
        "mtr", "-r", "-n", "-c", "2", "-i", "0.2", "--udp", "--flows", "16",
    ];
    let mut cmd = args.to_vec();
    cmd.push(&server);
    let run = lab.netdx(lab.client(), &cmd);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let text = &run.stdout;
    for addr in ["198.18.1.2", "198.18.20.2", "198.18.2.2", "198.18.21.2"] {
        assert!(text.contains(addr), "{addr}: {text}");
    }
    assert!(text.contains("`-- "), "{text}");
    assert!(
        text.contains("split after hop 1 (198.18.0.2) and join again at hop 4 (198.18.3.2)"),
        "{text}"
    );
    let mut cmd = vec!["--json"];
    cmd.extend(args);
    cmd.push(&server);
    let doc = lab.netdx(lab.client(), &cmd).json();
    assert_eq!(doc["flows"], 16, "{doc}");
    let hops = doc["hops"].as_array().cloned().unwrap_or_default();
    let widths: Vec<usize> = hops
        .iter()
        .map(|h| h["addresses"].as_array().map(Vec::len).unwrap_or(0))
        .collect();
    assert_eq!(widths, [1, 2, 2, 1], "{doc}");
    // 2 rounds x 16 flows per hop.
    assert_eq!(hops[0]["sent"], 32, "{doc}");
    let d = doc["diagnosis"]
        .as_array()
        .and_then(|ds| ds.iter().find(|d| d["code"] == "path.ecmp"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(d["evidence"]["split_after"], 1, "{doc}");
    assert_eq!(d["evidence"]["join_at"], 4, "{doc}");
    // One flow (the default): one branch per hop, no path.ecmp.
    let doc = lab
        .netdx(
            lab.client(),
            &[
                "--json", "mtr", "-r", "-n", "-c", "2", "-i", "0.2", "--udp", &server,
            ],
        )
        .json();
    assert!(!doc.to_string().contains("path.ecmp"), "{doc}");
    // Several flows need ports (UDP or TCP), as for trace.
    let run = lab.netdx(lab.client(), &["mtr", "-r", "--flows", "4", &server]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("several flows need --udp or --tcp"),
        "{}",
        run.stderr
    );
    // Raw TCP flows list both branches as well.
    let doc = lab
        .netdx(
            lab.client(),
            &[
                "--json", "mtr", "-r", "-n", "-c", "2", "-i", "0.2", "--tcp", "--flows", "16",
                &server,
            ],
        )
        .json();
    let hops = doc["hops"].as_array().cloned().unwrap_or_default();
    let widths: Vec<usize> = hops
        .iter()
        .map(|h| h["addresses"].as_array().map(Vec::len).unwrap_or(0))
        .collect();
    assert_eq!(widths, [1, 2, 2, 1], "{doc}");
}

/// Without privileges a UDP trace is Paris too: one socket (one source
/// port) per flow, its probes told apart by a tag in the payload that the
/// routers' quotes return through the error queue. Every unprivileged `-U`
/// trace, default or sized, stays on one branch, and `--flows` finds both.
#[test]
fn unprivileged_udp_traces_stay_on_one_branch() {
    if !can_build_namespaces("ecmp_nobody") {
        return;
    }
    let (lab, _rb) = ecmp_lab();
    let server = lab.server_v4();
    let branch_a = ["198.18.1.2", "198.18.2.2"];
    let branch_b = ["198.18.20.2", "198.18.21.2"];
    let mut seen = std::collections::HashSet::new();
    for size in [None, Some("200"), Some("1000")] {
        for run_as_root in [false, true] {
            for _ in 0..4 {
                let mut args = vec!["--json", "trace", "-n", "-w", "1", "-U", &server];
                args.extend(size);
                let run = if run_as_root {
                    lab.netdx(lab.client(), &args)
                } else {
                    lab.netdx_as_nobody(lab.client(), &args)
                };
                assert_eq!(run.code, 0, "{args:?}: {}{}", run.stdout, run.stderr);
                let doc = run.json();
                if !run_as_root {
                    assert_eq!(doc["socket"], "datagram", "{doc}");
                }
                assert_eq!(doc["reached"], true, "{doc}");
                let hops = hops_2_3(&doc);
                let all: Vec<&str> = hops.iter().flatten().map(String::as_str).collect();
                let on_a = all.iter().all(|a| branch_a.contains(a));
                let on_b = all.iter().all(|a| branch_b.contains(a));
                assert!(on_a || on_b, "{args:?}: one trace mixed branches: {hops:?}");
                assert_eq!(all.len(), 6, "{args:?}: {hops:?}");
                seen.insert(on_a);
            }
        }
    }
    // 24 traces, each one flow of its own: both branches (all on one: 2^-23).
    assert_eq!(seen.len(), 2, "every trace took the same branch");
    let run = lab.netdx_as_nobody(
        lab.client(),
        &[
            "--json", "trace", "-n", "-w", "1", "-U", "--flows", "16", &server,
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let doc = run.json();
    let ttls: Vec<u64> = doc["branches"]
        .as_array()
        .map(|b| b.iter().filter_map(|h| h["ttl"].as_u64()).collect())
        .unwrap_or_default();
    assert_eq!(ttls, [2, 3], "{doc}");
}

/// A UDP service that answers with its own bytes (no tag of ours) still
/// ends an unprivileged Paris trace: the reply answers the lowest TTL that
/// was waiting for the destination, so the last hop is the destination.
#[test]
fn unprivileged_udp_trace_to_a_service_that_replies() {
    if !can_build_namespaces("udp_service") {
        return;
    }
    let mut lab = Lab::chain(2);
    let server = lab.server_v4();
    let ns = lab.server().to_string();
    lab.spawn(
        &ns,
        &[
            "python3",
            "-c",
            "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
             s.bind(('0.0.0.0', 5353))\nwhile True:\n    d, a = s.recvfrom(2048)\n    s.sendto(b'pong', a)\n",
        ],
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !lab.exec(&ns, &["ss", "-Hlun"]).stdout.contains(":5353 ") {
        assert!(
            std::time::Instant::now() < deadline,
            "service did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let run = lab.netdx_as_nobody(
        lab.client(),
        &[
            "--json", "trace", "-n", "-w", "1", "-U", "-p", "5353", &server,
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let doc = run.json();
    assert_eq!(doc["reached"], true, "{doc}");
    let hops = json_hops(&doc);
    assert_eq!(hops.len(), 3, "{doc}");
    assert_eq!(hops[2], vec![server.clone(); 3], "{doc}");
}

/// Prints the README's Paris examples (`NETDX_README=1`): TCP flows as
/// root, one unprivileged UDP trace.
#[test]
fn readme_paris_examples() {
    if std::env::var_os("NETDX_README").is_none() || !can_build_namespaces("paris_readme") {
        return;
    }
    let (lab, _rb) = ecmp_lab();
    let server = lab.server_v4();
    let args = ["trace", "-n", "-T", "--flows", "8", &server];
    let run = lab.netdx(lab.client(), &args);
    eprintln!("$ netdx {}\n{}", args.join(" "), run.stdout);
    let args = ["trace", "-n", "-U", &server, "200"];
    let run = lab.netdx_as_nobody(lab.client(), &args);
    eprintln!("$ netdx {}\n{}", args.join(" "), run.stdout);
}

/// Prints the README's `mtr --flows` example (`NETDX_README=1`).
#[test]
fn readme_mtr_flows_example() {
    if std::env::var_os("NETDX_README").is_none() || !can_build_namespaces("mtr_flows_readme") {
        return;
    }
    let (lab, _rb) = ecmp_lab();
    let server = lab.server_v4();
    let args = [
        "mtr", "-r", "-n", "-c", "3", "-i", "0.2", "-U", "--flows", "8", &server,
    ];
    let run = lab.netdx(lab.client(), &args);
    eprintln!("$ netdx {}\n{}", args.join(" "), run.stdout);
}

/// At default settings a silent hop before an answering destination costs
/// what it costs traceroute (its `-w 5,3,10`: ten times the destination's
/// round trip), not the 5 s wait; traceroute side by side.
#[test]
fn default_wait_is_near_once_the_destination_answered() {
    if !can_build_namespaces("near_wait") {
        return;
    }
    let lab = Lab::chain(3);
    lab.nft(
        lab.router(2),
        "table inet quiet { chain out { type filter hook output priority 0; \
         icmp type time-exceeded drop; }; }",
    );
    let server = lab.server_v4();
    for method in ["--icmp", "--udp"] {
        let started = std::time::Instant::now();
        let run = lab.netdx(lab.client(), &["trace", "-n", method, &server]);
        let took = started.elapsed().as_secs_f64();
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        assert!(run.stdout.contains("\n 2  * * *\n"), "{}", run.stdout);
        assert!(took < 1.5, "{method}: took {took} s");
        let mut want = expected_path(&lab, false);
        want[1] = "*".into();
        assert_eq!(text_hops(&run.stdout), want, "{}", run.stdout);
    }
    let started = std::time::Instant::now();
    let reference = lab.exec(lab.client(), &["traceroute", "-n", &server]);
    let took = started.elapsed().as_secs_f64();
    assert!(
        reference.stdout.contains(" 2  * * *"),
        "{}",
        reference.stdout
    );
    assert!(took < 1.5, "traceroute took {took} s");
}

/// A bracketed IPv6 literal is echoed as the address it is.
#[test]
fn bracketed_v6_literal_is_echoed_bare() {
    if !can_build_namespaces("v6_brackets") {
        return;
    }
    let lab = Lab::chain(1);
    let bracketed = format!("[{}]", lab.server_v6());
    let run = lab.netdx(lab.client(), &["trace", "-n", "-w", "1", &bracketed]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let want = format!("trace to {0} ({0}),", lab.server_v6());
    assert!(run.stdout.starts_with(&want), "{}", run.stdout);
    let run = lab.netdx(
        lab.client(),
        &["--json", "trace", "-n", "-w", "1", &bracketed],
    );
    let doc = run.json();
    assert_eq!(doc["host"], lab.server_v6());
    // Start and end stamps, RFC 3339 UTC.
    for key in ["started_at", "ended_at"] {
        let stamp = doc[key].as_str().unwrap_or("");
        assert_eq!(stamp.len(), 20, "{key}: {stamp}");
        assert!(
            stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T',
            "{stamp}"
        );
    }
    let run = lab.netdx(
        lab.client(),
        &["--json", "mtr", "-n", "-c", "1", "-i", "0.1", &bracketed],
    );
    let doc = run.json();
    assert_eq!(doc["host"], lab.server_v6());
    assert!(
        doc["ended_at"].as_str().is_some_and(|s| s.ends_with('Z')),
        "{doc}"
    );
}

/// r3 returns everything to the client over a shortcut to r1 (two hops
/// back instead of three; the server three instead of four): the hop lines
/// carry traceroute --back's `'-N'`, the same figures as traceroute --back
/// on the same bed, and `path.asymmetric` names hop 3.
#[test]
fn a_shorter_return_path_is_shown_and_diagnosed() {
    if !can_build_namespaces("asymmetric") {
        return;
    }
    let lab = Lab::chain(3);
    common::must(&[
        "ip",
        "link",
        "add",
        "short",
        "netns",
        lab.router(1),
        "type",
        "veth",
        "peer",
        "name",
        "short",
        "netns",
        lab.router(3),
    ]);
    let ip = |ns: &str, args: &str| {
        let mut cmd = vec!["ip", "-n", ns];
        cmd.extend(args.split_whitespace());
        common::must(&cmd);
    };
    ip(lab.router(1), "addr add 198.18.30.1/24 dev short");
    ip(lab.router(1), "link set short up");
    ip(lab.router(3), "addr add 198.18.30.2/24 dev short");
    ip(lab.router(3), "link set short up");
    ip(lab.router(3), "route replace 198.18.0.0/24 via 198.18.30.1");
    lab.sysctl(
        lab.router(3),
        &[
            ("net.ipv4.conf.all.rp_filter", "0"),
            ("net.ipv4.icmp_errors_use_inbound_ifaddr", "1"),
        ],
    );
    lab.sysctl(lab.router(1), &[("net.ipv4.conf.all.rp_filter", "0")]);
    std::thread::sleep(std::time::Duration::from_millis(200));
    let server = lab.server_v4();
    let run = lab.netdx(lab.client(), &["trace", "-n", "-w", "1", &server]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let text = &run.stdout;
    assert!(
        text.contains(&format!("\n 2  {}  ", lab.router_v4(2))),
        "{text}"
    );
    assert!(
        text.contains(&format!("\n 3  {} '-2'  ", lab.router_v4(3))),
        "{text}"
    );
    assert!(text.contains(&format!("\n 4  {server} '-3'  ")), "{text}");
    assert!(text.contains("path.asymmetric"), "{text}");
    assert!(
        text.contains("come back over 2 hops: the return path is shorter"),
        "{text}"
    );
    let reference = lab.exec(
        lab.client(),
        &["traceroute", "-n", "--back", "-w", "1", &server],
    );
    assert!(reference.stdout.contains(" '-2' "), "{}", reference.stdout);
    assert!(reference.stdout.contains(" '-3' "), "{}", reference.stdout);
    let run = lab.netdx(lab.client(), &["--json", "trace", "-n", "-w", "1", &server]);
    let doc = run.json();
    assert_eq!(doc["hops"][2]["probes"][0]["back_hops"], 2, "{doc}");
    assert_eq!(doc["hops"][2]["probes"][0]["reply_ttl"], 63, "{doc}");
}
