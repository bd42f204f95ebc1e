//! Path MTU on a chain with one 1280-byte link (client — r1 =1280= r2 —
//! server): `ping -M do`, the PMTU black hole when r1's Fragmentation
//! Needed is filtered, and `trace --mtu` — each beside iputils' ping,
//! traceroute --mtu and tracepath on the same bed.

mod common;
use common::{can_build_namespaces, Lab};

/// Two routers whose middle link (r1 east, r2 west) carries 1280 bytes.
fn small_link_lab() -> Lab {
    let lab = Lab::chain(2);
    lab.exec(lab.router(1), &["ip", "link", "set", "east", "mtu", "1280"]);
    lab.exec(lab.router(2), &["ip", "link", "set", "west", "mtu", "1280"]);
    lab
}

#[test]
fn ping_m_do_shows_the_frag_needed_and_the_local_error_like_iputils() {
    if !can_build_namespaces("ping_m_do") {
        return;
    }
    let lab = small_link_lab();
    let server = lab.server_v4();
    let args = ["-M", "do", "-s", "1400", "-c", "3", "-i", "0.2", "-W", "1"];
    let mut cmd = vec!["ping"];
    cmd.extend(args);
    cmd.push(&server);
    let run = lab.netdx(lab.client(), &cmd);
    let frag = format!(
        "From {} icmp_seq=1 Frag needed and DF set (mtu = 1280)",
        lab.router_v4(1)
    );
    assert!(run.stdout.contains(&frag), "{}", run.stdout);
    // The kernel learnt the path MTU: later probes fail locally, as iputils prints.
    assert!(
        run.stdout
            .contains("ping: local error: message too long, mtu=1280"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("ping.path_mtu"), "{}", run.stdout);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    // iputils on the same bed (the PMTU is now cached: local errors only).
    let mut iputils = vec!["ping"];
    iputils.extend(args);
    iputils.push(&server);
    let reference = lab.exec(lab.client(), &iputils);
    let all = format!("{}{}", reference.stdout, reference.stderr);
    assert!(
        all.contains("local error: message too long, mtu=1280"),
        "{all}"
    );
    let json = lab.netdx(
        lab.client(),
        &[
            "--json", "ping", "-M", "do", "-s", "1400", "-c", "2", "-i", "0.2", "-W", "1", &server,
        ],
    );
    let doc = json.json();
    assert_eq!(doc["diagnosis"][0]["code"], "ping.path_mtu");
    assert_eq!(doc["diagnosis"][0]["evidence"]["mtu"], 1280);
    // IPv6: the router's Packet Too Big, iputils' wording.
    let v6 = lab.netdx(
        lab.client(),
        &[
            "ping",
            "-M",
            "do",
            "-s",
            "1400",
            "-c",
            "2",
            "-i",
            "0.2",
            "-W",
            "1",
            &lab.server_v6(),
        ],
    );
    assert!(v6.stdout.contains("mtu=1280"), "{}{}", v6.stdout, v6.stderr);
    assert!(v6.stdout.contains("ping.path_mtu"), "{}", v6.stdout);
    // -M dont: fragments pass the small link, every probe answers.
    let dont = lab.netdx(
        lab.client(),
        &[
            "ping", "-M", "dont", "-s", "1400", "-c", "2", "-i", "0.2", "-W", "1", &server,
        ],
    );
    assert_eq!(dont.code, 0, "{}", dont.stdout);
    assert!(dont.stdout.contains("ping.healthy"), "{}", dont.stdout);
}

#[test]
fn filtered_frag_needed_is_a_pmtu_black_hole_where_iputils_shows_only_loss() {
    if !can_build_namespaces("pmtu_blackhole") {
        return;
    }
    let lab = small_link_lab();
    lab.nft(
        lab.router(1),
        "table inet pmtu {\n  chain out {\n    type filter hook output priority 0;\n    icmp type destination-unreachable icmp code frag-needed drop\n    icmpv6 type packet-too-big drop\n  }\n}\n",
    );
    let server = lab.server_v4();
    let reference = lab.exec(
        lab.client(),
        &[
            "ping", "-s", "1400", "-c", "3", "-i", "0.2", "-W", "1", &server,
        ],
    );
    assert!(
        reference
            .stdout
            .contains("3 packets transmitted, 0 received, 100% packet loss"),
        "{}",
        reference.stdout
    );
    let run = lab.netdx(
        lab.client(),
        &[
            "--json", "ping", "-s", "1400", "-c", "3", "-i", "0.2", "-W", "1", &server,
        ],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let doc = run.json();
    let d = &doc["diagnosis"][0];
    assert_eq!(d["code"], "ping.pmtu_blackhole", "{doc}");
    assert_eq!(d["severity"], "critical");
    assert_eq!(d["evidence"]["large_bytes"], 1428);
    assert_eq!(d["evidence"]["small_bytes"], 84);
    assert_eq!(doc["pmtu_check"]["answered"], 3);
    // IPv6: the Packet Too Big is filtered the same way.
    let v6 = lab.netdx(
        lab.client(),
        &[
            "--json",
            "ping",
            "-s",
            "1400",
            "-c",
            "2",
            "-i",
            "0.2",
            "-W",
            "1",
            &lab.server_v6(),
        ],
    );
    let doc6 = v6.json();
    assert_eq!(
        doc6["diagnosis"][0]["code"], "ping.pmtu_blackhole",
        "{doc6}"
    );
    assert_eq!(doc6["diagnosis"][0]["evidence"]["large_bytes"], 1448);
    assert_eq!(doc6["diagnosis"][0]["evidence"]["small_bytes"], 104);
    // A normal ping on the same path is healthy.
    let small = lab.netdx(
        lab.client(),
        &["ping", "-c", "2", "-i", "0.2", "-W", "1", &server],
    );
    assert!(small.stdout.contains("ping.healthy"), "{}", small.stdout);
    // Size at or under 1280 never triggers the check: no false black hole.
    let fits = lab.netdx(
        lab.client(),
        &[
            "ping", "-s", "1200", "-c", "2", "-i", "0.2", "-W", "1", &server,
        ],
    );
    assert!(fits.stdout.contains("ping.healthy"), "{}", fits.stdout);
}

/// The hop lines of a traceroute-style output, keyed by TTL, with their F= mark.
fn marks(out: &str) -> Vec<(u8, Option<String>)> {
    out.lines()
        .filter_map(|l| {
            let ttl: u8 = l.split_whitespace().next()?.parse().ok()?;
            let mark = l
                .split_whitespace()
                .find(|w| w.starts_with("F="))
                .map(str::to_string);
            Some((ttl, mark))
        })
        .collect()
}

#[test]
fn trace_mtu_finds_1280_at_hop_2_as_traceroute_mtu_and_tracepath_do() {
    if !can_build_namespaces("trace_mtu") {
        return;
    }
    let lab = small_link_lab();
    for v6 in [false, true] {
        let server = if v6 { lab.server_v6() } else { lab.server_v4() };
        let (first, router1) = if v6 {
            (1500, lab.router_v6(1))
        } else {
            (1500, lab.router_v4(1))
        };
        for method in ["--icmp", "--udp"] {
            let run = lab.netdx(
                lab.client(),
                &["trace", "--mtu", "-n", "-w", "2", method, &server],
            );
            assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
            let got = marks(&run.stdout);
            assert_eq!(
                got,
                vec![
                    (1, Some(format!("F={first}"))),
                    (2, Some("F=1280".to_string())),
                    (3, None)
                ],
                "{method} {server}:\n{}",
                run.stdout
            );
            assert!(run.stdout.contains("path.mtu"), "{}", run.stdout);
            assert!(
                run.stdout.contains(&format!("after {router1}")),
                "{}",
                run.stdout
            );
        }
        let json = lab.netdx(
            lab.client(),
            &["--json", "trace", "--mtu", "-n", "-w", "2", &server],
        );
        let doc = json.json();
        assert_eq!(doc["path_mtu"]["mtu"], 1280, "{doc}");
        assert_eq!(doc["path_mtu"]["first"], first);
        let hop_mtus: Vec<_> = doc["hops"]
            .as_array()
            .map(|h| h.iter().map(|h| h["mtu"].clone()).collect())
            .unwrap_or_default();
        assert_eq!(
            hop_mtus,
            vec![
                serde_json::json!(first),
                serde_json::json!(1280),
                serde_json::json!(1280)
            ]
        );
        let d = doc["diagnosis"]
            .as_array()
            .and_then(|a| a.iter().find(|d| d["code"] == "path.mtu"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(d["evidence"]["hop"], 2, "{doc}");
        assert_eq!(d["severity"], "info");
        // traceroute --mtu on the same bed marks the same hops.
        let family = if v6 { "-6" } else { "-4" };
        let reference = lab.exec(
            lab.client(),
            &["traceroute", family, "--mtu", "-n", &server],
        );
        assert_eq!(
            marks(&reference.stdout),
            vec![
                (1, Some(format!("F={first}"))),
                (2, Some("F=1280".to_string())),
                (3, None)
            ],
            "{}",
            reference.stdout
        );
        // tracepath agrees on the path MTU.
        let tp = lab.exec(lab.client(), &["tracepath", "-n", &server]);
        assert!(tp.stdout.contains("pmtu 1280"), "{}", tp.stdout);
    }
}

/// The answers of each hop line (`198.18.0.2`, `!F-1280`, `*`…), by TTL.
fn hop_words(out: &str) -> Vec<(u8, String)> {
    out.lines()
        .filter_map(|l| {
            let ttl: u8 = l.split_whitespace().next()?.parse().ok()?;
            Some((ttl, l.to_string()))
        })
        .collect()
}

#[test]
fn trace_packet_length_beyond_the_1280_link_gets_frag_needed_as_traceroute_f() {
    if !can_build_namespaces("trace_packetlen") {
        return;
    }
    let lab = small_link_lab();
    let server = lab.server_v4();
    let router1 = lab.router_v4(1);
    for method in ["--icmp", "--udp", "--tcp"] {
        // DF, 1400 bytes: r1 cannot forward them over the 1280 link and says so.
        let big = lab.netdx(
            lab.client(),
            &[
                "trace", "-n", "-q", "1", "-w", "2", "-F", method, &server, "1400",
            ],
        );
        let lines = hop_words(&big.stdout);
        assert!(big.stdout.contains("1400 byte DF"), "{}", big.stdout);
        assert_eq!(lines.len(), 2, "{method}:\n{}", big.stdout);
        assert!(lines[0].1.contains(&router1), "{}", big.stdout);
        assert!(
            lines[1].1.contains(&router1) && lines[1].1.contains("!F-1280"),
            "{method}:\n{}",
            big.stdout
        );
        assert_eq!(big.code, 1, "{method}: {}{}", big.stdout, big.stderr);
        // DF, 1280 bytes: exactly the link, the server answers.
        let fits = lab.netdx(
            lab.client(),
            &[
                "trace", "-n", "-q", "1", "-w", "2", "-F", method, &server, "1280",
            ],
        );
        assert_eq!(fits.code, 0, "{method}: {}{}", fits.stdout, fits.stderr);
        let last = hop_words(&fits.stdout).pop().unwrap_or_default();
        assert_eq!(last.0, 3, "{}", fits.stdout);
        assert!(last.1.contains(&server), "{}", fits.stdout);
        // No DF: 1400 bytes are fragmented by r1 and arrive, as traceroute's default.
        let frag = lab.netdx(
            lab.client(),
            &["trace", "-n", "-q", "1", "-w", "2", method, &server, "1400"],
        );
        assert_eq!(frag.code, 0, "{method}: {}{}", frag.stdout, frag.stderr);
    }
    // JSON: the length, DF, and r1's Frag Needed (3/4) at hop 2.
    let doc = lab
        .netdx(
            lab.client(),
            &[
                "--json", "trace", "-n", "-q", "1", "-w", "2", "-F", &server, "1400",
            ],
        )
        .json();
    assert_eq!(doc["packet_len"], 1400, "{doc}");
    assert_eq!(doc["dont_fragment"], true, "{doc}");
    assert_eq!(doc["reached"], false, "{doc}");
    let hop2 = &doc["hops"][1]["probes"][0];
    assert_eq!(hop2["answer"]["code"], 4, "{doc}");
    assert_eq!(hop2["from"], router1.as_str(), "{doc}");
    // traceroute -F on the same bed says the same.
    let reference = lab.exec(
        lab.client(),
        &["traceroute", "-n", "-q", "1", "-F", &server, "1400"],
    );
    let lines = hop_words(&reference.stdout);
    assert!(
        lines
            .iter()
            .any(|(ttl, l)| *ttl == 2 && l.contains("!F-1280")),
        "{}",
        reference.stdout
    );
    // Lengths no packet can have are refused before anything is sent.
    for (len, v6) in [("27", false), ("47", true), ("65001", false), ("-3", false)] {
        let dest = if v6 { lab.server_v6() } else { server.clone() };
        let run = lab.netdx(lab.client(), &["trace", "-n", &dest, len]);
        assert_eq!(run.code, 2, "{len}: {}{}", run.stdout, run.stderr);
        assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
        assert!(run.stdout.is_empty(), "{}", run.stdout);
    }
}

/// Prints the README's packet-length example runs (`NETDX_README=1`).
#[test]
fn readme_examples() {
    if std::env::var_os("NETDX_README").is_none() || !can_build_namespaces("pmtu_readme") {
        return;
    }
    let lab = small_link_lab();
    let server = lab.server_v4();
    for args in [
        vec!["trace", "-n", "-F", &server, "1400"],
        vec!["trace", "-n", &server, "1400"],
    ] {
        let run = lab.netdx(lab.client(), &args);
        eprintln!("$ netdx {}\n{}", args.join(" "), run.stdout);
    }
    let run = lab.exec(lab.client(), &["traceroute", "-n", "-F", &server, "1400"]);
    eprintln!("$ traceroute -n -F {server} 1400\n{}", run.stdout);
}
