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
            // All TTLs in flight at once: the whole trace is about one round
            // trip, far below one wait (2 s), let alone hops × wait.
            let took = doc["duration_ms"].as_u64().unwrap_or(u64::MAX);
            assert!(took < 1000, "{method} {server}: trace took {took} ms");
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
    for (v6, server) in [(false, lab.server_v4()), (true, lab.server_v6())] {
        let started = std::time::Instant::now();
        let run = lab.netdx(lab.client(), &["trace", "-n", "-w", "1", &server]);
        let took = started.elapsed().as_secs_f64();
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        assert!(run.stdout.contains("\n 2  * * *\n"), "{}", run.stdout);
        let mut want = expected_path(&lab, v6);
        want[1] = "*".into();
        assert_eq!(text_hops(&run.stdout), want, "{}", run.stdout);
        assert!(run.stdout.contains("path.silent_hop"), "{}", run.stdout);
        // One wait for the silent hop, not three (or hops × wait).
        assert!(took < 2.5, "trace with one silent hop took {took} s");
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
fn without_root_udp_and_icmp_work_and_tcp_says_it_needs_root() {
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

    lab.sysctl(
        lab.client(),
        &[("net.ipv4.ping_group_range", "0 2147483647")],
    );
    let run = lab.netdx_as_nobody(lab.client(), &["--json", "trace", "-n", "-w", "1", &server]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let doc = run.json();
    assert_eq!(doc["socket"], "datagram");
    assert_eq!(json_hops(&doc)[0], vec![lab.router_v4(1); 3]);

    let run = lab.netdx_as_nobody(lab.client(), &["trace", "--tcp", &server]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("root"), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
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
    let events: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l}: {e}")))
        .collect();
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
