//! `netdx dns` against a hostile DNS server (tests/fixtures/hostile_dns.py)
//! in a namespace: malformed replies, answers for other names, CNAME loops,
//! stalled TCP, a dead first name server, and dig side by side.

mod common;
use common::{can_build_namespaces, Lab, Run};
use std::time::{Duration, Instant};

/// The fixture, started in the server namespace once per mode.
fn script() -> String {
    format!(
        "{}/tests/fixtures/hostile_dns.py",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// A lab (client — server) with one hostile server per mode on ports
/// 5300, 5301, … of the server's v4 address.
struct Hostile {
    lab: Lab,
    addr: String,
    modes: Vec<&'static str>,
}

impl Hostile {
    fn new(modes: &[&'static str]) -> Hostile {
        let mut lab = Lab::chain(0);
        let addr = lab.server_v4();
        let server = lab.server().to_string();
        for (i, mode) in modes.iter().enumerate() {
            let port = (5300 + i).to_string();
            lab.spawn(&server, &["python3", &script(), &addr, &port, mode]);
        }
        let h = Hostile {
            lab,
            addr,
            modes: modes.to_vec(),
        };
        h.wait_listening();
        h
    }

    /// `ADDR:PORT` of the server running `mode`.
    fn at(&self, mode: &str) -> String {
        let i = self
            .modes
            .iter()
            .position(|m| *m == mode)
            .unwrap_or_else(|| panic!("mode {mode} not started"));
        format!("{}:{}", self.addr, 5300 + i)
    }

    /// Waits until every server has bound its UDP port (python starts slowly).
    fn wait_listening(&self) {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let run = self.lab.exec(self.lab.server(), &["ss", "-Hlun"]);
            let up = (0..self.modes.len())
                .filter(|i| run.stdout.contains(&format!(":{}", 5300 + i)))
                .count();
            if up == self.modes.len() {
                return;
            }
            assert!(
                Instant::now() < until,
                "hostile servers did not start: {}",
                run.stdout
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn netdx(&self, args: &[&str]) -> (Run, Duration) {
        let t0 = Instant::now();
        let run = self.lab.netdx(self.lab.client(), args);
        (run, t0.elapsed())
    }

    fn dig(&self, mode: &str) -> Run {
        let at = self.at(mode);
        let (ip, port) = at.rsplit_once(':').unwrap_or((&at, "53"));
        self.lab.exec(
            self.lab.client(),
            &[
                "dig",
                "+tries=1",
                "+time=1",
                &format!("@{ip}"),
                "-p",
                port,
                "web.lab.test",
                "A",
            ],
        )
    }
}

fn codes(doc: &serde_json::Value) -> Vec<String> {
    doc["diagnoses"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|d| d["code"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn diagnosis<'a>(doc: &'a serde_json::Value, code: &str) -> &'a serde_json::Value {
    doc["diagnoses"]
        .as_array()
        .and_then(|a| a.iter().find(|d| d["code"] == code))
        .unwrap_or_else(|| panic!("no {code} in {doc}"))
}

/// The "N ms after the query" in a malformed-reply error.
fn arrival_ms(error: &str) -> f64 {
    error
        .rsplit_once(" ms after the query")
        .and_then(|(head, _)| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no arrival time in {error:?}"))
}

/// Each malformed reply is named for what is wrong with it, with the
/// server and port, and the reply time is far under the timeout; the query
/// still waits out its timeout for a valid reply (none comes), so the run
/// takes about --timeout, never "silence / resolver down". dig's own
/// complaint is shown next to it.
#[test]
fn malformed_replies_are_named_not_read_as_silence() {
    if !can_build_namespaces("malformed_replies") {
        return;
    }
    // (mode, words netdx's error must hold, words dig prints)
    let cases: &[(&str, &str, &str)] = &[
        ("garbage", "does not parse", "ID mismatch"),
        (
            "short",
            "shorter than the 12-byte DNS header",
            "short (< header size) message",
        ),
        (
            "ptrloop",
            "label points to data not prior",
            "bad compression pointer",
        ),
        (
            "ancount",
            "unexpected end of input",
            "malformed message packet",
        ),
        (
            "rdlength",
            "rdata length too large",
            "malformed message packet",
        ),
        ("longlabel", "unrecognized label code", "bad label type"),
        ("qr0", "QR=0", "query response not set"),
        (
            "wrongquestion",
            "question section asks for evil.test. A",
            "Question section mismatch",
        ),
    ];
    let modes: Vec<&str> = cases.iter().map(|c| c.0).collect();
    let h = Hostile::new(&modes);
    for (mode, words, dig_words) in cases {
        let at = h.at(mode);
        let (run, took) = h.netdx(&[
            "--json",
            "--timeout",
            "1",
            "dns",
            &format!("@{at}"),
            "web.lab.test",
            "-t",
            "A",
        ]);
        let dig = h.dig(mode);
        eprintln!(
            "{mode}: netdx {took:?}; dig: {}",
            dig.stdout
                .lines()
                .find(|l| l.contains(dig_words))
                .unwrap_or("?")
        );
        assert_eq!(run.code, 1, "{mode}: {}\n{}", run.stdout, run.stderr);
        let doc = run.json();
        assert_eq!(codes(&doc), ["dns.malformed_reply"], "{mode}: {doc}");
        let d = diagnosis(&doc, "dns.malformed_reply");
        assert_eq!(d["severity"], "critical");
        assert_eq!(d["evidence"]["server"], at.as_str(), "{mode}: {d}");
        let error = d["evidence"]["error"].as_str().unwrap_or("");
        assert!(error.contains(words), "{mode}: {error}");
        assert!(!d["summary"]
            .as_str()
            .unwrap_or("")
            .contains("firewall silently drops"));
        // The bad reply came at once; the wait for a valid one is the timeout.
        assert!(arrival_ms(error) < 250.0, "{mode}: {error}");
        assert!(
            took >= Duration::from_millis(900),
            "{mode}: gave up early: {took:?}"
        );
        assert!(
            took < Duration::from_millis(2500),
            "{mode}: {took:?} with --timeout 1"
        );
        assert!(
            dig.stdout.contains(dig_words) || dig.stderr.contains(dig_words),
            "{mode}: dig said\n{}{}",
            dig.stdout,
            dig.stderr
        );
    }
}

/// Garbage followed by the real answer: the query kept waiting and took
/// the valid reply, as dig does.
#[test]
fn a_valid_reply_after_garbage_is_taken() {
    if !can_build_namespaces("valid_after_garbage") {
        return;
    }
    let h = Hostile::new(&["garbagethengood"]);
    let at = h.at("garbagethengood");
    let (run, took) = h.netdx(&[
        "--json",
        "--timeout",
        "2",
        "dns",
        &format!("@{at}"),
        "web.lab.test",
        "-t",
        "A",
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let doc = run.json();
    assert_eq!(codes(&doc), ["dns.ok"], "{doc}");
    assert_eq!(doc["answers"][0]["records"][0]["data"], "198.18.0.10");
    assert!(took < Duration::from_millis(1500), "{took:?}");
}

/// Records for another name never count: only-unrelated is a failure, and
/// an answer padded with them is flagged even though its own record is kept.
#[test]
fn answers_for_other_names_are_reported_and_never_counted() {
    if !can_build_namespaces("unrelated_answers") {
        return;
    }
    let h = Hostile::new(&["unrelated", "mixed"]);
    let at = h.at("unrelated");
    let (run, _) = h.netdx(&[
        "--json",
        "--timeout",
        "1",
        "dns",
        &format!("@{at}"),
        "web.lab.test",
        "-t",
        "A",
    ]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let doc = run.json();
    assert_eq!(codes(&doc), ["dns.unrelated_answer"], "{doc}");
    let d = diagnosis(&doc, "dns.unrelated_answer");
    assert_eq!(d["severity"], "critical");
    assert_eq!(d["evidence"]["server"], at.as_str());
    assert_eq!(d["evidence"]["unrelated"][0], "evil.test. A 6.6.6.6");
    assert_eq!(doc["answers"][0]["status"], "unrelated");
    assert_eq!(doc["answers"][0]["records"], serde_json::json!([]));
    assert_eq!(doc["summary"]["resolved"], 0);
    // --short prints nothing for the name: 6.6.6.6 is not its address.
    let (short, _) = h.netdx(&[
        "--timeout",
        "1",
        "dns",
        "--short",
        &format!("@{at}"),
        "web.lab.test",
        "-t",
        "A",
    ]);
    assert!(!short.stdout.contains("6.6.6.6"), "{}", short.stdout);

    let at = h.at("mixed");
    let (run, _) = h.netdx(&[
        "--json",
        "--timeout",
        "1",
        "dns",
        &format!("@{at}"),
        "web.lab.test",
        "-t",
        "A",
    ]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let doc = run.json();
    assert_eq!(codes(&doc), ["dns.unrelated_answer"], "{doc}");
    let recs: Vec<&str> = doc["answers"][0]["records"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["data"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(recs, ["198.18.0.10"]);
    assert_eq!(doc["answers"][0]["unrelated"][0]["name"], "evil.test.");
}

/// A CNAME loop and a 20-hop chain are dns.cname_loop, not "no data".
#[test]
fn cname_loops_and_overlong_chains_are_named() {
    if !can_build_namespaces("cname_loops") {
        return;
    }
    let h = Hostile::new(&["cnameloop", "longchain"]);
    for (mode, looped) in [("cnameloop", true), ("longchain", false)] {
        let at = h.at(mode);
        let (run, took) = h.netdx(&[
            "--json",
            "--timeout",
            "1",
            "dns",
            &format!("@{at}"),
            "web.lab.test",
            "-t",
            "A",
        ]);
        assert_eq!(run.code, 1, "{mode}: {}", run.stdout);
        let doc = run.json();
        assert_eq!(codes(&doc), ["dns.cname_loop"], "{mode}: {doc}");
        let d = diagnosis(&doc, "dns.cname_loop");
        assert_eq!(d["evidence"]["loop"], looped, "{mode}: {d}");
        assert_eq!(doc["answers"][0]["status"], "cname_loop");
        assert!(
            doc["answers"][0]["unrelated"]
                .as_array()
                .is_some_and(|a| a.is_empty()),
            "{mode}: {doc}"
        );
        assert!(took < Duration::from_millis(900), "{mode}: {took:?}");
    }
}

/// TCP that connects and then says nothing is a stall, not a dropped
/// port: over --tcp and as the fallback after a truncated UDP answer.
#[test]
fn tcp_that_connects_then_stalls_is_named() {
    if !can_build_namespaces("tcp_stall") {
        return;
    }
    let h = Hostile::new(&["tcpstall"]);
    let at = h.at("tcpstall");
    let (run, took) = h.netdx(&[
        "--json",
        "--timeout",
        "1",
        "dns",
        "--tcp",
        &format!("@{at}"),
        "web.lab.test",
        "-t",
        "A",
    ]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let doc = run.json();
    assert_eq!(codes(&doc), ["dns.tcp_stalled"], "{doc}");
    let d = diagnosis(&doc, "dns.tcp_stalled");
    assert_eq!(d["evidence"]["server"], at.as_str());
    assert!(
        !d["summary"].as_str().unwrap_or("").contains("silently"),
        "{d}"
    );
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_millis(2500),
        "{took:?}"
    );

    let (run, _) = h.netdx(&[
        "--json",
        "--timeout",
        "1",
        "dns",
        &format!("@{at}"),
        "web.lab.test",
        "-t",
        "A",
    ]);
    let doc = run.json();
    let d = diagnosis(&doc, "dns.tcp_fallback_failed");
    assert_eq!(d["evidence"]["kind"], "stalled", "{d}");
}

/// resolv.conf with `nameserver garbage`, then a silent server, then a good
/// one: the bad line is skipped with a warning (as libc skips it), the
/// name resolves, and the dead server is named with the delay it adds.
#[test]
fn resolv_conf_bad_line_and_dead_first_nameserver() {
    if !can_build_namespaces("dead_nameserver") {
        return;
    }
    let mut lab = Lab::chain(0);
    let (v4, v6) = (lab.server_v4(), lab.server_v6());
    let server = lab.server().to_string();
    lab.spawn(&server, &["python3", &script(), &v4, "53", "good"]);
    lab.spawn(&server, &["python3", &script(), &v6, "53", "silent"]);
    let h = Hostile {
        lab,
        addr: v4.clone(),
        modes: Vec::new(),
    };
    let until = Instant::now() + Duration::from_secs(10);
    while h
        .lab
        .exec(&server, &["ss", "-Hlun", "sport", "=", "53"])
        .stdout
        .lines()
        .count()
        < 2
    {
        assert!(Instant::now() < until, "servers did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let dir = std::env::temp_dir().join(format!("netdx-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let conf = dir.join("resolv.conf");
    std::fs::write(
        &conf,
        format!(
            "nameserver garbage\nnameserver {v6}\nnameserver {v4}\noptions timeout:1 attempts:1\n"
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let conf = conf.display().to_string();
    let (run, took) = h.netdx(&[
        "--json",
        "dns",
        "--resolv-conf",
        &conf,
        "web.lab.test.",
        "-t",
        "A",
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let doc = run.json();
    assert_eq!(
        codes(&doc),
        ["dns.resolv_conf_skipped", "dns.dead_nameserver", "dns.ok"],
        "{doc}"
    );
    let skipped = diagnosis(&doc, "dns.resolv_conf_skipped");
    assert!(skipped["evidence"]["line"]
        .as_str()
        .unwrap_or("")
        .starts_with("line 1: `nameserver garbage`"));
    let dead = diagnosis(&doc, "dns.dead_nameserver");
    assert_eq!(dead["evidence"]["server"], format!("[{v6}]:53"));
    assert_eq!(dead["evidence"]["answered_by"], format!("{v4}:53"));
    let delay = dead["evidence"]["delay_ms"].as_f64().unwrap_or(0.0);
    assert!((900.0..1500.0).contains(&delay), "delay {delay}");
    assert!(took < Duration::from_millis(2500), "{took:?}");
}

/// NXDOMAIN for a reverse name says "no PTR record", not "check the spelling".
#[test]
fn reverse_nxdomain_is_worded_for_addresses() {
    if !can_build_namespaces("reverse_nxdomain") {
        return;
    }
    let h = Hostile::new(&["nxdomain"]);
    let at = h.at("nxdomain");
    let (run, _) = h.netdx(&[
        "--json",
        "--timeout",
        "1",
        "dns",
        &format!("@{at}"),
        "198.18.0.99",
    ]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let doc = run.json();
    let d = diagnosis(&doc, "dns.nxdomain");
    let summary = d["summary"].as_str().unwrap_or("");
    assert!(summary.contains("no reverse (PTR) name"), "{summary}");
    assert!(!summary.contains("spelling"), "{summary}");
}

/// 1,000 failing names give one grouped diagnosis, as `netdx tcp` groups
/// its targets; each answer is still in the report.
#[test]
fn many_failing_names_are_grouped() {
    if !can_build_namespaces("grouped_failures") {
        return;
    }
    let h = Hostile::new(&["nxdomain"]);
    let at = h.at("nxdomain");
    let dir = std::env::temp_dir().join(format!("netdx-hostile-group-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let file = dir.join("names.txt");
    let names: String = (0..1000).map(|i| format!("n{i}.example.test\n")).collect();
    std::fs::write(&file, names).unwrap_or_else(|e| panic!("{e}"));
    let file = file.display().to_string();
    let (run, _) = h.netdx(&[
        "--json",
        "--timeout",
        "2",
        "dns",
        "-f",
        &file,
        &format!("@{at}"),
        "-t",
        "A",
    ]);
    let (human, _) = h.netdx(&[
        "--timeout",
        "2",
        "dns",
        "-f",
        &file,
        &format!("@{at}"),
        "-t",
        "A",
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(run.code, 1);
    let doc = run.json();
    assert_eq!(doc["answers"].as_array().map(Vec::len), Some(1000));
    assert_eq!(codes(&doc), ["dns.nxdomain"], "{}", doc["diagnoses"]);
    let d = diagnosis(&doc, "dns.nxdomain");
    assert_eq!(d["evidence"]["count"], 1000);
    assert_eq!(d["evidence"]["names"][999], "n999.example.test");
    let lines = human
        .stdout
        .lines()
        .filter(|l| l.starts_with("diagnosis"))
        .count();
    assert_eq!(lines, 1, "{}", human.stdout);
    assert!(
        human.stdout.contains("1000 names (n0.example.test"),
        "{}",
        human.stdout
    );
}

/// /etc/netns/NAME, removed on drop (`ip netns exec` bind-mounts its
/// resolv.conf over the client's).
struct NetnsEtc(std::path::PathBuf);

impl Drop for NetnsEtc {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// International names: `bücher.lab.test` goes on the wire as
/// `xn--bcher-kva.lab.test` (UTS #46) in dns, ping and tcp, and the output
/// shows both forms; dig asks for the same A-label.
#[test]
fn international_names_are_asked_as_a_labels_and_shown_in_both_forms() {
    if !can_build_namespaces("idn_names") {
        return;
    }
    let mut lab = Lab::chain(0);
    let addr = lab.server_v4();
    let server = lab.server().to_string();
    let log = std::env::temp_dir().join(format!("netdx-idn-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let log_s = log.display().to_string();
    lab.spawn(
        &server,
        &[
            "env",
            &format!("HOSTILE_LOG={log_s}"),
            "python3",
            &script(),
            &addr,
            "53",
            "good",
            &addr,
        ],
    );
    let h = Hostile {
        lab,
        addr: addr.clone(),
        modes: vec!["good"],
    };
    let until = Instant::now() + Duration::from_secs(10);
    while !h
        .lab
        .exec(&server, &["ss", "-Hltn", "sport", "=", "53"])
        .stdout
        .contains(":53")
    {
        assert!(Instant::now() < until, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let etc = std::path::PathBuf::from("/etc/netns").join(h.lab.client());
    std::fs::create_dir_all(&etc).unwrap_or_else(|e| panic!("{e}"));
    let _guard = NetnsEtc(etc.clone());
    std::fs::write(
        etc.join("resolv.conf"),
        format!("nameserver {addr}\noptions timeout:1 attempts:1\n"),
    )
    .unwrap_or_else(|e| panic!("{e}"));

    let (run, _) = h.netdx(&[
        "--json",
        "dns",
        &format!("@{addr}"),
        "bücher.lab.test",
        "-t",
        "A",
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let doc = run.json();
    assert_eq!(doc["answers"][0]["qname"], "xn--bcher-kva.lab.test.");
    assert_eq!(doc["answers"][0]["input"], "bücher.lab.test");
    let (human, _) = h.netdx(&["dns", &format!("@{addr}"), "bücher.lab.test", "-t", "A"]);
    assert!(
        human
            .stdout
            .contains("bücher.lab.test (asked as xn--bcher-kva.lab.test.) A"),
        "{}",
        human.stdout
    );
    let (human, _) = h.netdx(&[
        "dns",
        &format!("@{addr}"),
        "xn--bcher-kva.lab.test",
        "-t",
        "A",
    ]);
    assert!(
        human
            .stdout
            .contains("xn--bcher-kva.lab.test (bücher.lab.test) A"),
        "{}",
        human.stdout
    );

    let (ping, _) = h.netdx(&["--timeout", "2", "ping", "-c", "1", "bücher.lab.test"]);
    assert_eq!(ping.code, 0, "{}\n{}", ping.stdout, ping.stderr);
    assert!(
        ping.stdout.starts_with(&format!(
            "PING bücher.lab.test (xn--bcher-kva.lab.test) ({addr})"
        )),
        "{}",
        ping.stdout
    );
    let (tcp, _) = h.netdx(&["--timeout", "2", "tcp", "bücher.lab.test:53"]);
    assert_eq!(tcp.code, 0, "{}\n{}", tcp.stdout, tcp.stderr);
    assert!(
        tcp.stdout
            .contains("bücher.lab.test (xn--bcher-kva.lab.test):53"),
        "{}",
        tcp.stdout
    );

    // dig asks for the same A-label with +idnin (its default only on a terminal).
    let dig = h.lab.exec(
        h.lab.client(),
        &[
            "dig",
            "+idnin",
            "+short",
            &format!("@{addr}"),
            "bücher.lab.test",
            "A",
        ],
    );
    assert_eq!(dig.stdout.trim(), addr, "{}", dig.stderr);
    let asked = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    let a_label = "0d786e2d2d62636865722d6b7661036c6162047465737400"; // xn--bcher-kva.lab.test.
    let other: Vec<&str> = asked.lines().filter(|l| *l != a_label).collect();
    assert!(other.is_empty(), "queries for other names: {other:?}");
    assert!(asked.lines().count() >= 5, "{asked}");
}
