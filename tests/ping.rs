//! `netdx ping` against real hosts in network namespaces.

mod common;
use common::{can_build_namespaces, field, Lab};

fn reply_lines(out: &str) -> Vec<&str> {
    out.lines().filter(|l| l.contains(" bytes from ")).collect()
}

fn hop_count_across(routers: usize, v6: bool) {
    let lab = Lab::chain(routers);
    let server = if v6 { lab.server_v6() } else { lab.server_v4() };
    let run = lab.netdx(
        lab.client(),
        &["ping", "-c", "3", "-i", "0.05", "-W", "2", &server],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let replies = reply_lines(&run.stdout);
    assert_eq!(replies.len(), 3, "{}", run.stdout);
    let expected_ttl = (64 - routers).to_string();
    for line in &replies {
        assert_eq!(field(line, "ttl="), Some(expected_ttl.as_str()), "{line}");
        assert!(line.contains(&format!("from {server}:")), "{line}");
    }
    assert!(
        run.stdout.contains(&format!(
            "initial TTL 64 → {routers} router(s) between: hop {} as trace counts",
            routers + 1
        )),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("ping.healthy"), "{}", run.stdout);
    assert!(run
        .stdout
        .contains("3 packets transmitted, 3 received, 0% packet loss"));
}

#[test]
fn reply_ttl_and_hops_v4_across_0_1_3_routers() {
    if !can_build_namespaces("reply_ttl_and_hops_v4") {
        return;
    }
    for n in [0, 1, 3] {
        hop_count_across(n, false);
    }
}

#[test]
fn reply_ttl_and_hops_v6_across_0_1_3_routers() {
    if !can_build_namespaces("reply_ttl_and_hops_v6") {
        return;
    }
    for n in [0, 1, 3] {
        hop_count_across(n, true);
    }
}

#[test]
fn random_loss_is_measured_within_bounds() {
    if !can_build_namespaces("random_loss") {
        return;
    }
    let lab = Lab::chain(1);
    lab.nft(
        lab.server(),
        "table inet loss {
           chain input {
             type filter hook input priority 0;
             icmp type echo-request numgen random mod 100 < 30 drop
           }
         }",
    );
    let server = lab.server_v4();
    let run = lab.netdx(
        lab.client(),
        &[
            "--json", "ping", "-c", "200", "-i", "0.001", "-W", "1", &server,
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    let loss = doc["stats"]["loss_pct"].as_f64().unwrap_or(-1.0);
    assert!(
        (15.0..=45.0).contains(&loss),
        "loss {loss}% outside 15..45 for 30% injected"
    );
    assert_eq!(doc["stats"]["transmitted"], 200);
    assert_eq!(doc["diagnosis"][0]["code"], "ping.lossy");
}

#[test]
fn small_ttl_reports_time_exceeded_from_the_right_router() {
    if !can_build_namespaces("small_ttl") {
        return;
    }
    let lab = Lab::chain(3);
    for (ttl, v6) in [(1usize, false), (2, false), (2, true)] {
        let (server, router) = if v6 {
            (lab.server_v6(), lab.router_v6(ttl))
        } else {
            (lab.server_v4(), lab.router_v4(ttl))
        };
        let t = ttl.to_string();
        let run = lab.netdx(
            lab.client(),
            &[
                "ping", "-c", "2", "-i", "0.05", "-W", "1", "-t", &t, &server,
            ],
        );
        assert_eq!(run.code, 1, "{}", run.stdout);
        let words = if v6 {
            "Time exceeded: Hop limit"
        } else {
            "Time to live exceeded"
        };
        assert!(
            run.stdout
                .contains(&format!("From {router} icmp_seq=1 {words}")),
            "ttl {ttl}: {}",
            run.stdout
        );
        assert!(run.stdout.contains("ping.ttl_exceeded"), "{}", run.stdout);
        assert!(
            run.stdout.contains("+2 errors, 100% packet loss"),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn router_reject_gives_the_unreachable_message() {
    if !can_build_namespaces("router_reject") {
        return;
    }
    let lab = Lab::chain(2);
    let server = lab.server_v4();
    lab.nft(
        lab.router(2),
        &format!(
            "table inet f {{
               chain forward_filter {{
                 type filter hook forward priority 0;
                 ip daddr {server} reject with icmp type host-unreachable
                 ip6 daddr {} reject with icmpv6 type admin-prohibited
               }}
             }}",
            lab.server_v6()
        ),
    );
    let run = lab.netdx(lab.client(), &["ping", "-c", "1", "-W", "1", &server]);
    assert_eq!(run.code, 1);
    let r2 = lab.router_v4(2);
    assert!(
        run.stdout.contains(&format!(
            "From {r2} icmp_seq=1 Destination Host Unreachable"
        )),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("ping.unreachable"), "{}", run.stdout);

    let run = lab.netdx(
        lab.client(),
        &["--json", "ping", "-c", "1", "-W", "1", &lab.server_v6()],
    );
    assert_eq!(run.code, 1);
    let doc = run.json();
    assert_eq!(doc["errors"][0]["from"], lab.router_v6(2));
    assert_eq!(doc["errors"][0]["icmp_type"], 1);
    assert_eq!(doc["errors"][0]["code"], 1);
    assert_eq!(
        doc["errors"][0]["text"],
        "Destination unreachable: Administratively prohibited"
    );
}

#[test]
fn silent_drop_is_total_loss_and_exit_1() {
    if !can_build_namespaces("silent_drop") {
        return;
    }
    let lab = Lab::chain(1);
    lab.nft(
        lab.server(),
        "table inet d {
           chain input {
             type filter hook input priority 0;
             meta l4proto icmp drop
           }
         }",
    );
    let run = lab.netdx(
        lab.client(),
        &[
            "ping",
            "-c",
            "3",
            "-i",
            "0.05",
            "-W",
            "0.5",
            &lab.server_v4(),
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("3 packets transmitted, 0 received, 100% packet loss"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("ping.silent"), "{}", run.stdout);
}

#[test]
fn json_carries_the_same_numbers_as_the_text() {
    if !can_build_namespaces("json_matches_text") {
        return;
    }
    let lab = Lab::chain(1);
    let server = lab.server_v4();
    let run = lab.netdx(
        lab.client(),
        &["--json", "ping", "-c", "4", "-i", "0.02", &server],
    );
    assert_eq!(run.code, 0);
    let doc = run.json();
    assert_eq!(doc["stats"]["transmitted"], 4);
    assert_eq!(doc["stats"]["received"], 4);
    assert_eq!(doc["replies"].as_array().map(Vec::len), Some(4));
    assert_eq!(doc["replies"][0]["ttl"], 63);
    assert_eq!(doc["inference"]["hops"], 1);
    assert_eq!(doc["diagnosis"][0]["code"], "ping.healthy");
    let min = doc["stats"]["rtt"]["min_ms"].as_f64().unwrap_or(-1.0);
    let rtts: Vec<f64> = doc["replies"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["rtt_ms"].as_f64()).collect())
        .unwrap_or_default();
    let lowest = rtts.iter().cloned().fold(f64::INFINITY, f64::min);
    assert!(
        (min - lowest).abs() < 1e-9,
        "stats min {min} vs replies {rtts:?}"
    );

    // JSON lines: one event per reply, then the summary.
    let run = lab.netdx(
        lab.client(),
        &["--jsonl", "ping", "-c", "2", "-i", "0.02", &server],
    );
    let events: Vec<serde_json::Value> = run.jsonl();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(kinds, ["start", "reply", "reply", "summary"]);
}

#[test]
fn unprivileged_ping_uses_datagram_sockets_or_says_how_to_fix() {
    if !can_build_namespaces("unprivileged") {
        return;
    }
    let lab = Lab::chain(1);
    let server = lab.server_v4();
    lab.sysctl(lab.client(), &[("net.ipv4.ping_group_range", "1 0")]);
    let run = lab.netdx_as_nobody(lab.client(), &["ping", "-c", "1", &server]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("cap_net_raw"), "{}", run.stderr);
    assert!(run.stderr.contains("ping_group_range"), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);

    lab.sysctl(
        lab.client(),
        &[("net.ipv4.ping_group_range", "0 2147483647")],
    );
    let run = lab.netdx_as_nobody(
        lab.client(),
        &["--json", "ping", "-c", "2", "-i", "0.2", &server],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    assert_eq!(doc["socket"], "datagram");
    assert_eq!(doc["replies"][0]["ttl"], 63);

    let run = lab.netdx_as_nobody(lab.client(), &["ping", "-c", "2", "-i", "0.01", &server]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("need root"), "{}", run.stderr);

    // Routers' errors arrive through IP_RECVERR on the datagram socket.
    let run = lab.netdx_as_nobody(
        lab.client(),
        &["ping", "-c", "1", "-t", "1", "-W", "1", &server],
    );
    assert!(
        run.stdout.contains(&format!(
            "From {} icmp_seq=1 Time to live exceeded",
            lab.router_v4(1)
        )),
        "{}",
        run.stdout
    );
}

#[test]
fn bad_input_gets_one_line_and_the_documented_code() {
    let bin = env!("CARGO_BIN_EXE_netdx");
    let cases: &[(&[&str], i32, &str)] = &[
        (&["ping", "-c", "0", "127.0.0.1"], 2, "-c 0"),
        (&["ping", "-i", "-1", "127.0.0.1"], 2, "interval"),
        (&["ping", "-i", "99999", "127.0.0.1"], 2, "interval"),
        (&["ping", "-s", "70000", "127.0.0.1"], 2, "payload"),
        (&["ping", "-t", "0", "127.0.0.1"], 2, "TTL"),
        (&["ping", "-t", "256", "127.0.0.1"], 2, "TTL"),
        (
            &["ping", "-I", "nosuchif0", "127.0.0.1"],
            3,
            "no such interface",
        ),
        (&["ping", "-c", "1", "bad..name"], 2, "valid host name"),
        (&["ping", "-6", "127.0.0.1"], 2, "IPv4 address"),
        (&["ping", "--bogus", "127.0.0.1"], 2, "--bogus"),
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

/// The reply line without its time, e.g. `64 bytes from X: icmp_seq=1 ttl=63`.
fn without_time(line: &str) -> &str {
    line.split(" time=").next().unwrap_or(line)
}

#[test]
fn lines_match_iputils_on_the_same_target() {
    if !can_build_namespaces("matches_iputils") {
        return;
    }
    let lab = Lab::chain(2);
    for (server, flag, ttl) in [
        (lab.server_v4(), "-4", None),
        (lab.server_v6(), "-6", None),
        (lab.server_v4(), "-4", Some("1")),
    ] {
        let mut args = vec!["-c", "3", "-i", "0.05", "-W", "1"];
        if let Some(t) = ttl {
            args.extend(["-t", t]);
        }
        args.push(&server);
        let mut reference = vec!["ping", flag];
        reference.extend(args.iter().copied());
        let iputils = lab.exec(lab.client(), &reference);
        let mut ours = vec!["ping"];
        ours.extend(args.iter().copied());
        let netdx = lab.netdx(lab.client(), &ours);
        let pick = |out: &str| -> Vec<String> {
            out.lines()
                .filter(|l| {
                    l.contains(" bytes from ") || l.starts_with("From ") || l.starts_with("PING ")
                })
                .map(|l| without_time(l).to_string())
                .collect()
        };
        assert_eq!(
            pick(&netdx.stdout),
            pick(&iputils.stdout),
            "netdx:\n{}\niputils:\n{}",
            netdx.stdout,
            iputils.stdout
        );
        let counts = |out: &str| -> Option<String> {
            out.lines()
                .find(|l| l.contains("packets transmitted"))
                .map(|l| l.split(", time").next().unwrap_or(l).to_string())
        };
        assert_eq!(counts(&netdx.stdout), counts(&iputils.stdout));
        assert_eq!(netdx.code, iputils.code, "exit status differs from iputils");
    }
}

#[test]
fn ctrl_c_prints_the_summary() {
    if !can_build_namespaces("ctrl_c") {
        return;
    }
    let lab = Lab::chain(1);
    let server = lab.server_v4();
    let (run, _) = lab.netdx_interrupted(
        lab.client(),
        &["ping", "-i", "0.05", &server],
        std::time::Duration::from_millis(600),
    );
    let text = run.stdout;
    assert_eq!(run.code, 0, "{text}");
    assert!(text.contains("ping statistics ---"), "{text}");
    assert!(
        text.contains("ping.healthy") || text.contains("ping.lossy"),
        "{text}"
    );
}

#[test]
fn interface_source_deadline_and_no_route() {
    if !can_build_namespaces("interface_source_deadline") {
        return;
    }
    let lab = Lab::chain(1);
    let server = lab.server_v4();
    let by_iface = lab.netdx(lab.client(), &["ping", "-c", "1", "-I", "east", &server]);
    assert_eq!(by_iface.code, 0, "{}{}", by_iface.stdout, by_iface.stderr);
    let by_source = lab.netdx(
        lab.client(),
        &["ping", "-c", "1", "-I", &lab.client_v4(), &server],
    );
    assert_eq!(
        by_source.code, 0,
        "{}{}",
        by_source.stdout, by_source.stderr
    );
    let foreign = lab.netdx(
        lab.client(),
        &["ping", "-c", "1", "-I", "198.18.99.1", &server],
    );
    assert_eq!(foreign.code, 3, "{}", foreign.stderr);
    assert!(
        foreign.stderr.contains("cannot use source address"),
        "{}",
        foreign.stderr
    );

    // -w: stops after the deadline whatever the count.
    let started = std::time::Instant::now();
    let run = lab.netdx(
        lab.client(),
        &["--json", "ping", "-i", "0.1", "-w", "1", &server],
    );
    let took = started.elapsed().as_secs_f64();
    assert_eq!(run.code, 0);
    let sent = run.json()["stats"]["transmitted"].as_u64().unwrap_or(0);
    assert!(
        (8..=12).contains(&sent),
        "sent {sent} in a 1 s deadline at 0.1 s"
    );
    assert!(took < 3.0, "deadline run took {took} s");

    // No route at all from the client to this network.
    let run = lab.netdx(lab.client(), &["ping", "-c", "1", "198.19.0.1"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("ping.no_route"), "{}", run.stdout);
    assert!(
        run.stdout.contains("Network is unreachable"),
        "{}",
        run.stdout
    );
}

#[test]
fn deadline_waits_for_count_replies_like_iputils() {
    if !can_build_namespaces("deadline_count") {
        return;
    }
    let lab = Lab::chain(1);
    let server = lab.server_v4();
    lab.nft(
        lab.server(),
        "table inet loss {
           chain input {
             type filter hook input priority 0;
             icmp type echo-request numgen random mod 100 < 50 drop
           }
         }",
    );
    // -c with -w: keep sending until 10 replies or the deadline.
    let run = lab.netdx(
        lab.client(),
        &[
            "--json", "ping", "-c", "10", "-w", "5", "-i", "0.02", "-W", "1", &server,
        ],
    );
    let doc = run.json();
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(doc["stats"]["received"], 10);
    let sent = doc["stats"]["transmitted"].as_u64().unwrap_or(0);
    assert!(
        sent > 10,
        "only {sent} sent: -w must keep sending past -c probes"
    );

    // Fewer replies than -c before the deadline is a failure, as in iputils.
    let run = lab.netdx(
        lab.client(),
        &[
            "--json", "ping", "-c", "50", "-w", "0.5", "-i", "0.02", "-W", "1", &server,
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    let reference = lab.exec(
        lab.client(),
        &[
            "ping", "-q", "-c", "50", "-w", "1", "-i", "0.02", "-W", "1", &server,
        ],
    );
    assert_eq!(reference.code, 1, "iputils agrees: {}", reference.stdout);
}

#[test]
fn json_modes_report_errors_as_documents() {
    let run = common::netdx_here(&["--json", "ping", "-c", "1", "bad..host"]);
    assert_eq!(run.code, 2);
    let doc = run.json();
    assert_eq!(doc["error"]["exit"], 2);
    assert_eq!(doc["error"]["kind"], "usage");
    assert!(doc["error"]["message"]
        .as_str()
        .unwrap_or("")
        .contains("bad..host"));

    let events =
        common::netdx_here(&["--jsonl", "ping", "-c", "1", "-t", "0", "127.0.0.1"]).jsonl();
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event["event"], "error");
    assert_eq!(event["exit"], 2);
}

#[test]
fn a_small_link_mtu_is_reported_as_path_mtu_not_loss() {
    if !can_build_namespaces("path_mtu") {
        return;
    }
    let lab = Lab::chain(2);
    // The link between r1 and r2 carries at most 1280 bytes.
    for (ns, dev) in [(lab.router(1), "east"), (lab.router(2), "west")] {
        let run = lab.exec(ns, &["ip", "link", "set", dev, "mtu", "1280"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    for (server, router, words) in [
        (
            lab.server_v4(),
            lab.router_v4(1),
            "Frag needed and DF set (mtu = 1280)",
        ),
        (
            lab.server_v6(),
            lab.router_v6(1),
            "Packet too big: mtu=1280",
        ),
    ] {
        let run = lab.netdx(
            lab.client(),
            &[
                "ping", "-c", "3", "-i", "0.1", "-W", "1", "-s", "1400", &server,
            ],
        );
        assert!(
            run.stdout
                .contains(&format!("From {router} icmp_seq=1 {words}")),
            "{}",
            run.stdout
        );
        assert!(run.stdout.contains("ping.path_mtu"), "{}", run.stdout);
        assert!(run.stdout.contains("is 1280 bytes"), "{}", run.stdout);
        // iputils prints the same line once the learned MTU is forgotten.
        let flush = lab.exec(lab.client(), &["ip", "route", "flush", "cache"]);
        assert_eq!(flush.code, 0);
        let flush6 = lab.exec(lab.client(), &["ip", "-6", "route", "flush", "cache"]);
        assert_eq!(flush6.code, 0);
        let reference = lab.exec(
            lab.client(),
            &[
                "ping", "-c", "3", "-i", "0.1", "-W", "1", "-s", "1400", &server,
            ],
        );
        assert!(
            reference
                .stdout
                .contains(&format!("From {router} icmp_seq=1 {words}")),
            "iputils: {}",
            reference.stdout
        );
        let _ = lab.exec(lab.client(), &["ip", "route", "flush", "cache"]);
        let _ = lab.exec(lab.client(), &["ip", "-6", "route", "flush", "cache"]);
    }
}

#[test]
fn duplicated_replies_are_marked_and_diagnosed_like_iputils() {
    if !can_build_namespaces("duplicates") {
        return;
    }
    let lab = Lab::chain(2);
    // r1 sends every echo reply to the client twice.
    lab.nft(
        lab.router(1),
        &format!(
            "table ip d {{
               chain forward_copy {{
                 type filter hook forward priority 0;
                 icmp type echo-reply dup to {} device \"west\"
               }}
             }}",
            lab.client_v4()
        ),
    );
    let server = lab.server_v4();
    let run = lab.netdx(lab.client(), &["ping", "-c", "3", "-i", "0.1", &server]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    // Both tools mark the copies of replies 1 and 2; the copy of the last
    // reply races with the end of the run (iputils stops at the 3rd reply).
    let dup_seqs = |out: &str| -> Vec<String> {
        out.lines()
            .filter(|l| l.ends_with("(DUP!)"))
            .filter_map(|l| field(l, "icmp_seq=").map(str::to_string))
            .collect()
    };
    let first_two = ["1".to_string(), "2".to_string()];
    assert!(
        dup_seqs(&run.stdout).starts_with(&first_two),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("3 received, +"), "{}", run.stdout);
    assert!(run.stdout.contains("ping.duplicates"), "{}", run.stdout);
    let reference = lab.exec(lab.client(), &["ping", "-c", "3", "-i", "0.1", &server]);
    assert!(
        dup_seqs(&reference.stdout).starts_with(&first_two),
        "iputils: {}",
        reference.stdout
    );
}
