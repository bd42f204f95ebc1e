//! `netdx mtr` against real routers in network namespaces: injected loss,
//! ICMP rate limiting, the pathping columns against a hand calculation.

mod common;
use common::{can_build_namespaces, Lab};
use serde_json::Value;

/// Per hop: (ttl, sent, received, loss %) from the JSON document.
fn hop_figures(doc: &Value) -> Vec<(u64, u64, u64, f64)> {
    doc["hops"]
        .as_array()
        .map(|hops| {
            hops.iter()
                .map(|h| {
                    (
                        h["ttl"].as_u64().unwrap_or(0),
                        h["sent"].as_u64().unwrap_or(0),
                        h["received"].as_u64().unwrap_or(0),
                        h["loss_pct"].as_f64().unwrap_or(-1.0),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn codes(doc: &Value) -> Vec<(String, Option<u64>)> {
    doc["diagnosis"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|d| {
                    (
                        d["code"].as_str().unwrap_or("").to_string(),
                        d["evidence"]["hop"].as_u64(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The hand calculation of pathping's columns from lost/sent per hop:
/// the loss that persists downstream of hop k is the lowest loss rate at k
/// or after; the link into k loses the growth of that persistent loss, the
/// node k loses its own rate minus the persistent one.
fn hand_pathping(figures: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let rates: Vec<f64> = figures
        .iter()
        .map(|(lost, sent)| *lost as f64 / *sent as f64)
        .collect();
    let mut out = Vec::new();
    let mut before = 0.0;
    for k in 0..rates.len() {
        let persistent = rates[k..].iter().cloned().fold(f64::INFINITY, f64::min);
        let sent = figures[k].1 as f64;
        let link = ((persistent - before).max(0.0) * sent).round() as u64;
        let node = ((rates[k] - persistent).max(0.0) * sent).round() as u64;
        out.push((node, link));
        before = persistent;
    }
    out
}

/// Parses pathping text: per hop (source lost, sent, node lost, link lost).
fn pathping_columns(text: &str) -> Vec<(u64, u64, u64, u64)> {
    let nums = |s: &str| -> Vec<u64> {
        s.split(|c: char| !c.is_ascii_digit())
            .filter(|t| !t.is_empty())
            .filter_map(|t| t.parse().ok())
            .collect()
    };
    let mut link = None;
    let mut out = Vec::new();
    let mut in_table = false;
    for line in text.lines() {
        if line.starts_with("Hop  RTT") {
            in_table = true;
            continue;
        }
        if !in_table {
            continue;
        }
        if line.trim_end().ends_with('|') {
            let n = nums(line);
            link = n.first().copied();
        } else if line.contains(" = ") {
            // "  3     0ms    63/ 200 =  32%    11/ 200 =   6%  198.18.2.2"
            let (left, _) = line.split_at(line.rfind('%').unwrap_or(0));
            let n = nums(left);
            if n.len() >= 8 {
                out.push((n[2], n[3], n[5], link.take().unwrap_or(u64::MAX)));
            }
        }
    }
    out
}

/// Checks both the JSON columns and the pathping text against the hand
/// calculation from the per-hop lost/sent figures.
fn check_pathping(lab: &Lab, doc: &Value, args: &[&str]) {
    let figures: Vec<(u64, u64)> = hop_figures(doc)
        .iter()
        .map(|(_, sent, recv, _)| (sent - recv, *sent))
        .collect();
    let want = hand_pathping(&figures);
    let got: Vec<(u64, u64)> = doc["hops"]
        .as_array()
        .map(|h| {
            h.iter()
                .map(|h| {
                    (
                        h["node_lost"].as_u64().unwrap_or(u64::MAX),
                        h["link_lost"].as_u64().unwrap_or(u64::MAX),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(got, want, "figures {figures:?}");

    let mut text_args = vec!["mtr", "--pathping"];
    text_args.extend_from_slice(args);
    let run = lab.netdx(lab.client(), &text_args);
    let cols = pathping_columns(&run.stdout);
    assert!(!cols.is_empty(), "{}", run.stdout);
    let figures: Vec<(u64, u64)> = cols.iter().map(|c| (c.0, c.1)).collect();
    let want = hand_pathping(&figures);
    let got: Vec<(u64, u64)> = cols.iter().map(|c| (c.2, c.3)).collect();
    assert_eq!(got, want, "{}", run.stdout);
}

#[test]
fn random_loss_into_router_3_is_named_as_path_loss() {
    if !can_build_namespaces("mtr_random_loss") {
        return;
    }
    let lab = Lab::chain(4);
    lab.nft(
        lab.router(3),
        "table inet loss { chain pre { type filter hook prerouting priority raw; \
         iifname \"west\" numgen random mod 100 < 30 drop; }; }",
    );
    let args = [
        "-n",
        "-c",
        "200",
        "-i",
        "0.01",
        "-w",
        "0.5",
        &lab.server_v4(),
    ];
    let mut json_args = vec!["--json", "mtr"];
    json_args.extend_from_slice(&args);
    let run = lab.netdx(lab.client(), &json_args);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let doc = run.json();
    let hops = hop_figures(&doc);
    assert_eq!(hops.len(), 5, "{hops:?}");
    for (ttl, sent, _, loss) in &hops {
        assert!(*sent >= 195, "hop {ttl} sent {sent}");
        if *ttl < 3 {
            assert!(*loss <= 3.0, "hop {ttl} loss {loss}% before the lossy link");
        } else {
            assert!(
                (15.0..=45.0).contains(loss),
                "hop {ttl} loss {loss}% for 30% injected"
            );
        }
    }
    let found = codes(&doc);
    assert!(
        found.contains(&("path.loss_from_hop".into(), Some(3))),
        "{found:?}"
    );
    assert!(
        !found
            .iter()
            .any(|(c, _)| c == "path.rate_limited_hop" || c == "path.healthy"),
        "{found:?}"
    );
    let summary = doc["diagnosis"][0]["summary"].as_str().unwrap_or("");
    assert!(
        summary.contains(&format!("the link from {} into hop 3", lab.router_v4(2))),
        "{summary}"
    );
    check_pathping(&lab, &doc, &args);
}

#[test]
fn icmp_rate_limit_on_router_2_is_not_path_loss() {
    if !can_build_namespaces("mtr_rate_limit") {
        return;
    }
    let lab = Lab::chain(4);
    // Router 2 sends at most ~1 ICMP error per second per destination (a
    // burst of a few first) but forwards everything.
    lab.sysctl(
        lab.router(2),
        &[
            ("net.ipv4.icmp_ratelimit", "1000"),
            ("net.ipv6.icmp.ratelimit", "1000"),
        ],
    );
    for server in [lab.server_v4(), lab.server_v6()] {
        let args = ["-n", "-c", "100", "-i", "0.02", "-w", "0.5", &server];
        let mut json_args = vec!["--json", "mtr"];
        json_args.extend_from_slice(&args);
        let run = lab.netdx(lab.client(), &json_args);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        let doc = run.json();
        let hops = hop_figures(&doc);
        assert_eq!(hops.len(), 5, "{hops:?}");
        assert!(hops[1].3 >= 50.0, "hop 2 loss {}%", hops[1].3);
        for (ttl, _, _, loss) in hops.iter().filter(|h| h.0 != 2) {
            assert_eq!(*loss, 0.0, "hop {ttl} of {server}");
        }
        let found = codes(&doc);
        assert_eq!(
            found,
            [
                ("path.rate_limited_hop".to_string(), Some(2)),
                ("path.healthy".to_string(), None)
            ],
            "{server}"
        );
        check_pathping(&lab, &doc, &args);
    }
    // mtr itself sees the same pattern through this router.
    let reference = lab.exec(
        lab.client(),
        &["mtr", "-r", "-n", "-c", "30", "-i", "0.1", &lab.server_v4()],
    );
    if reference.code == 0 {
        let hop2 = reference
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with("2.|--"))
            .unwrap_or("");
        let loss: f64 = hop2
            .split_whitespace()
            .find(|t| t.ends_with('%'))
            .and_then(|t| t.trim_end_matches('%').parse().ok())
            .unwrap_or(0.0);
        assert!(loss >= 50.0, "mtr -r: {}", reference.stdout);
    }
}

#[test]
fn report_table_and_jsonl_rounds() {
    if !can_build_namespaces("mtr_report") {
        return;
    }
    let lab = Lab::chain(2);
    let server = lab.server_v4();
    let run = lab.netdx(
        lab.client(),
        &["mtr", "-r", "-n", "-c", "5", "-i", "0.05", &server],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("Loss%   Snt   Last    Avg   Best   Wrst  StDev   Jttr   Javg"),
        "{}",
        run.stdout
    );
    let rows: Vec<&str> = run.stdout.lines().filter(|l| l.contains(".|-- ")).collect();
    assert_eq!(rows.len(), 3, "{}", run.stdout);
    assert!(rows[0].starts_with("  1.|-- 198.18.0.2"), "{}", rows[0]);
    assert!(
        rows[2].contains(&server) && rows[2].contains("0.0%     5"),
        "{}",
        rows[2]
    );
    assert!(run.stdout.contains("path.healthy"), "{}", run.stdout);
    assert!(!run.stdout.contains('\x1b'), "no escapes off a terminal");

    let run = lab.netdx(
        lab.client(),
        &["--jsonl", "mtr", "-n", "-c", "3", "-i", "0.05", &server],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let events: Vec<Value> = run.jsonl();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(kinds.first(), Some(&"start"));
    assert_eq!(kinds.last(), Some(&"summary"));
    assert_eq!(
        kinds.iter().filter(|k| **k == "round").count(),
        3,
        "{kinds:?}"
    );
    let last_round = &events[kinds.len() - 2];
    assert_eq!(
        last_round["probes"].as_array().map(Vec::len),
        Some(3),
        "{last_round}"
    );
}

#[test]
fn unreachable_destination_and_unprivileged_interval() {
    if !can_build_namespaces("mtr_unreachable") {
        return;
    }
    let lab = Lab::chain(2);
    lab.nft(
        lab.server(),
        "table inet d { chain input { type filter hook input priority 0; icmp type echo-request drop; }; }",
    );
    let run = lab.netdx(
        lab.client(),
        &[
            "--json",
            "mtr",
            "-n",
            "-c",
            "3",
            "-i",
            "0.05",
            "-w",
            "0.3",
            "-m",
            "4",
            &lab.server_v4(),
        ],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let doc = run.json();
    assert_eq!(doc["reached"], false);
    let found = codes(&doc);
    assert!(
        found
            .iter()
            .any(|(c, _)| c == "path.destination_unreachable"),
        "{found:?}"
    );
    // As mtr: one `???` row after the last hop that answered.
    let hops = hop_figures(&doc);
    assert_eq!(hops.len(), 3, "{hops:?}");
    assert_eq!(hops[2].0, 3);
    assert_eq!(
        doc["hops"][2]["addresses"].as_array().map(Vec::len),
        Some(0)
    );
    assert_eq!(doc["hops"][2]["loss_pct"], 100.0);
    let server = lab.server_v4();
    let args = [
        "-n", "-c", "3", "-i", "0.05", "-w", "0.3", "-m", "4", &server,
    ];
    let mut report = vec!["mtr", "-r"];
    report.extend_from_slice(&args);
    let run = lab.netdx(lab.client(), &report);
    let last = run
        .stdout
        .lines()
        .rfind(|l| l.contains(".|--"))
        .unwrap_or("");
    assert!(last.starts_with("  3.|-- ???"), "{}", run.stdout);
    let reference = lab.exec(
        lab.client(),
        &[
            "mtr", "-r", "-n", "-c", "3", "-i", "0.2", "-m", "4", &server,
        ],
    );
    let ref_last = reference
        .stdout
        .lines()
        .rfind(|l| l.contains(".|--"))
        .unwrap_or("");
    assert!(ref_last.contains("3.|-- ???"), "{}", reference.stdout);

    // One layout or the other: -r and --pathping together are refused.
    let run = lab.netdx(lab.client(), &["mtr", "-r", "--pathping", &server]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--pathping"), "{}", run.stderr);

    // mtr's rule: below 1 s needs root.
    lab.sysctl(
        lab.client(),
        &[("net.ipv4.ping_group_range", "0 2147483647")],
    );
    let run = lab.netdx_as_nobody(
        lab.client(),
        &["mtr", "-r", "-c", "1", "-i", "0.5", &lab.router_v4(1)],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("need root"), "{}", run.stderr);
    let run = lab.netdx_as_nobody(
        lab.client(),
        &[
            "--json",
            "mtr",
            "-n",
            "-c",
            "2",
            "-i",
            "1",
            &lab.router_v4(2),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["socket"], "datagram");
}

#[test]
fn live_view_redraws_in_place_on_a_terminal() {
    if !can_build_namespaces("mtr_live") {
        return;
    }
    let lab = Lab::chain(1);
    let bin = env!("CARGO_BIN_EXE_netdx");
    let typescript = std::env::temp_dir().join(format!("netdx-live-{}", std::process::id()));
    let path = typescript.to_string_lossy().into_owned();
    let cmd = format!("{bin} mtr -n -c 4 -i 0.3 {}", lab.server_v4());
    let run = lab.exec(lab.client(), &["script", "-qfec", &cmd, &path]);
    if run.code != 0 && run.stderr.contains("not found") {
        common::skip("SKIP live view: `script` (util-linux) is missing");
        return;
    }
    let text = std::fs::read_to_string(&typescript).unwrap_or_default();
    let _ = std::fs::remove_file(&typescript);
    // Every frame after the first starts by moving up over the previous
    // frame, exactly as many lines as that frame had: nothing scrolls.
    let frames: Vec<&str> = text.split("\x1b[").collect();
    let ups: Vec<usize> = frames
        .iter()
        .filter_map(|f| f.split_once('A').and_then(|(n, _)| n.parse().ok()))
        .collect();
    assert!(!ups.is_empty(), "no redraw in place:\n{text}");
    assert!(ups.iter().all(|n| *n == 2 || *n == 4), "{ups:?}\n{text}");
    assert!(text.contains("  2.|-- "), "{text}");
    assert!(text.contains("path.healthy"), "{text}");
}

#[test]
fn a_hop_answering_from_several_addresses_lists_them_all() {
    if !can_build_namespaces("mtr_ecmp") {
        return;
    }
    let lab = Lab::chain(3);
    // Router 2 answers alternately from two addresses, as a per-packet
    // load-balanced (ECMP) hop does.
    lab.nft(
        lab.router(2),
        "table ip ecmp { chain out { type filter hook output priority 0; \
         icmp type time-exceeded ip saddr set numgen inc mod 2 map { 0 : 198.18.1.2, 1 : 198.18.1.3 }; }; }",
    );
    let server = lab.server_v4();
    let run = lab.netdx(
        lab.client(),
        &["--json", "mtr", "-n", "-c", "10", "-i", "0.05", &server],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let doc = run.json();
    let mut addrs: Vec<String> = doc["hops"][1]["addresses"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x["address"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    addrs.sort();
    assert_eq!(addrs, ["198.18.1.2", "198.18.1.3"]);
    assert_eq!(doc["hops"][1]["loss_pct"], 0.0);

    let run = lab.netdx(
        lab.client(),
        &["mtr", "-r", "-n", "-c", "10", "-i", "0.05", &server],
    );
    assert!(
        run.stdout.contains("    |  `-- 198.18.1."),
        "{}",
        run.stdout
    );
}

#[test]
fn ctrl_c_prints_the_final_table_once() {
    if !can_build_namespaces("mtr_ctrl_c") {
        return;
    }
    let lab = Lab::chain(2);
    let server = lab.server_v4();
    let (run, _) = lab.netdx_interrupted(
        lab.client(),
        &["mtr", "-r", "-n", "-c", "1000", "-i", "0.1", &server],
        std::time::Duration::from_millis(1000),
    );
    let text = run.stdout;
    assert_eq!(run.code, 0, "{text}");
    assert_eq!(text.matches("HOST: ").count(), 1, "{text}");
    for hop in ["  1.|-- ", "  2.|-- ", "  3.|-- "] {
        assert_eq!(text.matches(hop).count(), 1, "{text}");
    }
    assert!(!text.contains("  4.|-- "), "{text}");
    assert_eq!(text.matches("path.healthy").count(), 1, "{text}");
    // Stopped early: at least one round, far fewer than the 1000 asked for
    // (500 rounds would take 50 s; a loaded CI is slow, not that slow).
    let sent: Vec<u64> = text
        .lines()
        .filter(|l| l.contains(".|-- "))
        .filter_map(|l| l.split_whitespace().nth(3).and_then(|n| n.parse().ok()))
        .collect();
    assert!(
        sent.iter().all(|n| (1..500).contains(n)),
        "{sent:?}\n{text}"
    );
}

#[test]
fn no_route_and_a_local_firewall_are_said_once() {
    if !can_build_namespaces("mtr_no_route") {
        return;
    }
    let lab = Lab::chain(2);
    let run = lab.netdx(
        lab.client(),
        &["mtr", "-r", "-n", "-c", "3", "-i", "0.1", "198.19.0.1"],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let lines: Vec<&str> = run.stdout.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 1, "{}", run.stdout);
    assert!(
        lines[0].starts_with(
            "diagnosis [critical] path.no_route: this host has no route to 198.19.0.1 (Network is unreachable): check `ip route get 198.19.0.1`"
        ),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("nothing answered"), "{}", run.stdout);
    let run = lab.netdx(
        lab.client(),
        &["--json", "mtr", "-n", "-c", "3", "-i", "0.1", "198.19.0.1"],
    );
    assert_eq!(run.code, 1);
    let doc = run.json();
    assert_eq!(codes(&doc), [("path.no_route".to_string(), None)]);
    assert_eq!(doc["rounds"], 0);

    // A local firewall: the sends fail with EPERM; the table keeps hop 1
    // with the errno, the diagnosis names the firewall (not "nothing
    // answered", not loss at hop 1).
    lab.nft(
        lab.client(),
        "table inet fw { chain out { type filter hook output priority 0; \
         ip daddr 198.18.2.2 drop; }; }",
    );
    let run = lab.netdx(
        lab.client(),
        &["mtr", "-r", "-n", "-c", "3", "-i", "0.1", &lab.server_v4()],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let rows: Vec<&str> = run.stdout.lines().filter(|l| l.contains(".|-- ")).collect();
    assert_eq!(rows.len(), 1, "{}", run.stdout);
    assert!(
        rows[0].starts_with("  1.|-- ??? !<EPERM>") && rows[0].contains("100.0%     3"),
        "{}",
        rows[0]
    );
    let diagnoses: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("diagnosis "))
        .collect();
    assert_eq!(diagnoses.len(), 1, "{}", run.stdout);
    assert!(
        diagnoses[0].starts_with("diagnosis [critical] path.send_failed: ")
            && diagnoses[0].contains("(Operation not permitted): a local firewall rule"),
        "{}",
        diagnoses[0]
    );
}

#[test]
fn a_rejecting_destination_is_named_with_the_icmp_meaning() {
    if !can_build_namespaces("mtr_rejected") {
        return;
    }
    let lab = Lab::chain(2);
    let cases = [
        (
            "ip protocol icmp reject with icmp type admin-prohibited",
            false,
            "!X",
            (3, 13),
            "Communication Administratively Prohibited",
            "find the rule on the router that sent it",
        ),
        (
            "ip protocol icmp reject with icmp type host-unreachable",
            false,
            "!H",
            (3, 1),
            "Host Unreachable",
            "the host is down or its address is wrong",
        ),
        (
            "icmpv6 type echo-request reject with icmpv6 type admin-prohibited",
            true,
            "!X",
            (1, 1),
            "Administratively Prohibited",
            "find the rule on the router that sent it",
        ),
    ];
    for (rule, v6, mark, (t, c), name, meaning) in cases {
        lab.nft(
            lab.server(),
            &format!(
                "flush ruleset\ntable inet r {{ chain input {{ type filter hook input priority 0; {rule}; }}; }}"
            ),
        );
        let server = if v6 { lab.server_v6() } else { lab.server_v4() };
        let run = lab.netdx(
            lab.client(),
            &["mtr", "-r", "-n", "-c", "5", "-i", "0.05", &server],
        );
        assert_eq!(run.code, 1, "{rule}: {}{}", run.stdout, run.stderr);
        // The table shows the mark after the host, as our trace does (mtr
        // itself shows none).
        let row = run
            .stdout
            .lines()
            .find(|l| l.starts_with("  3.|-- "))
            .unwrap_or_else(|| panic!("no hop 3: {}", run.stdout));
        assert!(row.contains(&format!("{server} {mark}")), "{row}");
        let d = run
            .stdout
            .lines()
            .find(|l| l.starts_with("diagnosis "))
            .unwrap_or("");
        assert!(
            d.starts_with(
                "diagnosis [critical] path.rejected: the path ended at the target itself"
            ),
            "{}",
            run.stdout
        );
        assert!(
            d.contains(&format!("({server}): {name} {mark} (icmp {t}/{c})")) && d.contains(meaning),
            "{d}"
        );
        assert!(!run.stdout.contains("never answered"), "{}", run.stdout);
        assert!(!run.stdout.contains("path.loss_from_hop"), "{}", run.stdout);
        let run = lab.netdx(
            lab.client(),
            &["--json", "mtr", "-n", "-c", "5", "-i", "0.05", &server],
        );
        let doc = run.json();
        let found = codes(&doc);
        assert_eq!(found, [("path.rejected".to_string(), Some(3))], "{rule}");
        let ev = &doc["diagnosis"][0]["evidence"];
        assert_eq!(ev["from"], server.as_str());
        assert_eq!(
            (ev["icmp_type"].as_u64(), ev["code"].as_u64()),
            (Some(t), Some(c))
        );
        assert_eq!(ev["mark"], mark);
        let end = &doc["hops"][2]["ended_by"];
        assert_eq!(end["kind"], "unreachable", "{end}");
        assert_eq!(end["from"], server.as_str());
        assert_eq!(doc["hops"][2]["mark"], mark);
        // trace and mtr give the same words for the same ICMP.
        let trace = lab.netdx(lab.client(), &["trace", "-n", "-w", "1", &server]);
        let words = format!("{name} {mark} (icmp {t}/{c}) — ");
        assert!(trace.stdout.contains(&words), "{}", trace.stdout);
    }
}

#[test]
fn jttr_is_the_current_jitter_javg_the_mean() {
    if !can_build_namespaces("mtr_jitter") {
        return;
    }
    let lab = Lab::chain(1);
    let server = lab.server_v4();
    let run = lab.netdx(
        lab.client(),
        &["--jsonl", "mtr", "-n", "-c", "6", "-i", "0.05", &server],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let events: Vec<Value> = run.jsonl();
    // The destination's RTTs in round order, from the streamed rounds.
    let mut rounds: Vec<(u64, f64)> = events
        .iter()
        .filter(|e| e["event"] == "round")
        .filter_map(|e| {
            let probe = e["probes"]
                .as_array()?
                .iter()
                .find(|p| p["ttl"] == 2)?
                .clone();
            Some((e["round"].as_u64()?, probe["rtt_ms"].as_f64()?))
        })
        .collect();
    rounds.sort_by_key(|r| r.0);
    assert_eq!(rounds.len(), 6, "{}", run.stdout);
    let rtts: Vec<f64> = rounds.iter().map(|r| r.1).collect();
    let diffs: Vec<f64> = rtts.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    let summary = events
        .iter()
        .find(|e| e["event"] == "summary")
        .unwrap_or_else(|| panic!("no summary: {}", run.stdout));
    let rtt = &summary["hops"][1]["rtt"];
    let last = rtt["jitter_last_ms"].as_f64().unwrap_or(-1.0);
    let avg = rtt["jitter_avg_ms"].as_f64().unwrap_or(-1.0);
    let want_last = diffs[diffs.len() - 1];
    let want_avg = diffs.iter().sum::<f64>() / diffs.len() as f64;
    assert!(
        (last - want_last).abs() < 1e-6,
        "{last} vs {want_last}: {rtt}"
    );
    assert!((avg - want_avg).abs() < 1e-6, "{avg} vs {want_avg}: {rtt}");
    assert!(rtt.get("jitter_ms").is_none(), "{rtt}");
}

/// Ctrl-C during `--jsonl mtr` with a silent hop: the rounds still out are
/// streamed as partial rounds, so per hop the probes in the round events add
/// up to the summary's Snt.
#[test]
fn ctrl_c_jsonl_rounds_add_up_to_the_summary() {
    if !can_build_namespaces("mtr_jsonl_ctrl_c") {
        return;
    }
    let lab = Lab::chain(3);
    lab.nft(
        lab.router(2),
        "table inet quiet { chain out { type filter hook output priority 0; \
         icmp type time-exceeded drop; }; }",
    );
    let server = lab.server_v4();
    let (run, _) = lab.netdx_interrupted(
        lab.client(),
        &[
            "--jsonl", "mtr", "-n", "-c", "100", "-i", "0.2", "-w", "5", &server,
        ],
        std::time::Duration::from_millis(1200),
    );
    let events = run.jsonl();
    let mut streamed: std::collections::BTreeMap<u64, u64> = std::collections::BTreeMap::new();
    for e in events.iter().filter(|e| e["event"] == "round") {
        for p in e["probes"].as_array().into_iter().flatten() {
            *streamed.entry(p["ttl"].as_u64().unwrap_or(0)).or_default() += 1;
        }
    }
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "round" && e["partial"] == true),
        "{}",
        run.stdout
    );
    let summary = events
        .iter()
        .find(|e| e["event"] == "summary")
        .cloned()
        .unwrap_or_default();
    let hops = summary["hops"].as_array().cloned().unwrap_or_default();
    assert!(hops.len() >= 3, "{summary}");
    for h in &hops {
        let ttl = h["ttl"].as_u64().unwrap_or(0);
        assert_eq!(
            h["sent"].as_u64().unwrap_or(0),
            streamed.get(&ttl).copied().unwrap_or(0),
            "hop {ttl}: {summary}"
        );
    }
}
