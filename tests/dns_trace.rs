//! `netdx dns NAME --trace` on a private DNS tree: a root server, a TLD
//! (`test.`) and zone servers, each its own nsd bound to its own address in
//! the server namespace of the test bed, with delegations broken on purpose
//! (a lame server, missing glue, parent/child NS mismatch and serial skew,
//! a dead server, a referral loop and a glueless NS cycle). The healthy
//! case is checked side by side with `dig +trace`.

mod common;
use common::tempdir::TempDir;
use common::{can_build_namespaces, netdx_here, Lab, Run};
use serde_json::Value;
use std::time::{Duration, Instant};

const ROOT: &str = "198.18.0.10";
const TLD: &str = "198.18.0.11";
const NS1: &str = "198.18.0.12";
const NS2: &str = "198.18.0.13";
const LAME: &str = "198.18.0.14";
const DEAD: &str = "198.18.0.15";
/// An address with nothing listening on port 53 (port unreachable).
const CLOSED: &str = "198.18.0.16";

const ROOT_ZONE: &str = r#"$TTL 86400
.            IN SOA a.root.test. admin.root.test. 1 3600 900 604800 300
.            IN NS  a.root.test.
test.        IN NS  ns.nic.test.
ns.nic.test. IN A   198.18.0.11
a.root.test. IN A   198.18.0.10
"#;

const TLD_ZONE: &str = r#"$ORIGIN test.
$TTL 86400
@            IN SOA ns.nic.test. admin.nic.test. 1 3600 900 604800 300
@            IN NS  ns.nic.test.
ns.nic       IN A   198.18.0.11
a.root       IN A   198.18.0.10
; healthy, two servers
lab          IN NS  ns1.lab.test.
lab          IN NS  ns2.lab.test.
ns1.lab      IN A   198.18.0.12
ns2.lab      IN A   198.18.0.13
; served by the lab.test servers (out-of-zone NS names)
cdn          IN NS  ns1.lab.test.
cdn          IN NS  ns2.lab.test.
; the second server does not serve the zone
lame         IN NS  ns1.lame.test.
lame         IN NS  ns2.lame.test.
ns1.lame     IN A   198.18.0.12
ns2.lame     IN A   198.18.0.14
; an in-zone NS name without glue
noglue       IN NS  ns.noglue.test.
noglue       IN NS  ns1.lab.test.
; the zone's own NS set and serials differ from the delegation
mismatch     IN NS  ns1.mismatch.test.
mismatch     IN NS  ns2.mismatch.test.
ns1.mismatch IN A   198.18.0.12
ns2.mismatch IN A   198.18.0.13
; the first server is dead
dead         IN NS  ns1.dead.test.
dead         IN NS  ns2.dead.test.
ns1.dead     IN A   198.18.0.15
ns2.dead     IN A   198.18.0.12
; glueless NS names that need each other
loop1        IN NS  ns.loop2.test.
loop2        IN NS  ns.loop1.test.
; delegated to the TLD server itself, which refers back
selfref      IN NS  ns.nic.test.
; the second server's address has nothing on port 53
closed       IN NS  ns1.closed.test.
closed       IN NS  ns2.closed.test.
ns1.closed   IN A   198.18.0.12
ns2.closed   IN A   198.18.0.16
; glueless NS names nested deeper than netdx follows (4)
d1           IN NS  ns.d2.test.
d2           IN NS  ns.d3.test.
d3           IN NS  ns.d4.test.
d4           IN NS  ns.d5.test.
d5           IN NS  ns.d6.test.
d6           IN NS  ns1.lab.test.
"#;

/// A child zone with the given serial and apex NS names, plus records.
fn zone(origin: &str, serial: u32, ns: &[&str], records: &str) -> String {
    let mut z = format!(
        "$ORIGIN {origin}\n$TTL 3600\n@ IN SOA {} hostmaster.{origin} {serial} 3600 900 604800 300\n",
        ns[0]
    );
    for n in ns {
        z.push_str(&format!("@ IN NS {n}\n"));
    }
    z.push_str(records);
    z
}

/// The hierarchy: nsd per server address, the dead one dropped by nft.
struct Tree {
    lab: Lab,
    dir: TempDir,
    hints: String,
    _etc: NetnsEtc,
}

/// /etc/netns/NAME (the client's resolv.conf for dig), removed on drop.
struct NetnsEtc(std::path::PathBuf);

impl Drop for NetnsEtc {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Tree {
    fn new() -> Tree {
        let lab = Lab::chain(0);
        let server = lab.server().to_string();
        let mut cmds = String::new();
        for a in [ROOT, TLD, NS1, NS2, LAME, DEAD, CLOSED] {
            cmds.push_str(&format!("ip -n {server} addr add {a}/24 dev west\n"));
        }
        for line in cmds.lines() {
            let args: Vec<&str> = line.split_whitespace().collect();
            common::must(&args);
        }
        lab.nft(
            &server,
            &format!(
                "table inet dead {{\n chain input {{\n  type filter hook input priority 0;\n  ip daddr {DEAD} udp dport 53 drop\n  ip daddr {DEAD} tcp dport 53 drop\n }}\n}}\n"
            ),
        );
        let dir = TempDir::new("dnstrace");
        let lab_records = "ns1 A 198.18.0.12\nns2 A 198.18.0.13\nweb A 198.18.0.80\nwww CNAME web\next CNAME edge.cdn.test.\nloopy CNAME loopy2\nloopy2 CNAME loopy\n";
        dir.write("root.zone", ROOT_ZONE);
        dir.write("test.zone", TLD_ZONE);
        dir.write(
            "lab.zone",
            &zone(
                "lab.test.",
                7,
                &["ns1.lab.test.", "ns2.lab.test."],
                lab_records,
            ),
        );
        dir.write(
            "cdn.zone",
            &zone(
                "cdn.test.",
                3,
                &["ns1.lab.test.", "ns2.lab.test."],
                "edge A 198.18.0.81\n",
            ),
        );
        dir.write(
            "lame.zone",
            &zone(
                "lame.test.",
                1,
                &["ns1.lame.test.", "ns2.lame.test."],
                "ns1 A 198.18.0.12\nns2 A 198.18.0.14\nweb A 198.18.0.82\n",
            ),
        );
        dir.write(
            "noglue.zone",
            &zone(
                "noglue.test.",
                1,
                &["ns.noglue.test.", "ns1.lab.test."],
                "ns A 198.18.0.12\nweb A 198.18.0.83\n",
            ),
        );
        let mismatch_ns = [
            "ns1.mismatch.test.",
            "ns2.mismatch.test.",
            "ns9.mismatch.test.",
        ];
        let mismatch_recs = "ns1 A 198.18.0.12\nns2 A 198.18.0.13\nns9 A 198.18.0.12\n";
        dir.write(
            "mismatch1.zone",
            &zone(
                "mismatch.test.",
                1,
                &mismatch_ns,
                &format!("{mismatch_recs}web A 198.18.0.84\n"),
            ),
        );
        dir.write(
            "mismatch2.zone",
            &zone(
                "mismatch.test.",
                2,
                &mismatch_ns,
                &format!("{mismatch_recs}web A 198.18.0.85\n"),
            ),
        );
        dir.write(
            "dead.zone",
            &zone(
                "dead.test.",
                1,
                &["ns1.dead.test.", "ns2.dead.test."],
                "ns1 A 198.18.0.15\nns2 A 198.18.0.12\nweb A 198.18.0.86\n",
            ),
        );
        dir.write(
            "closed.zone",
            &zone(
                "closed.test.",
                1,
                &["ns1.closed.test.", "ns2.closed.test."],
                "ns1 A 198.18.0.12\nns2 A 198.18.0.16\nweb A 198.18.0.87\n",
            ),
        );
        dir.write("other.zone", &zone("elsewhere.", 1, &["ns.elsewhere."], ""));
        // dig +trace looks every server name up through resolv.conf: a
        // recursive unbound on the client's loopback, started by
        // `with_recursor`, iterating from the same root.
        let etc = std::path::PathBuf::from("/etc/netns").join(lab.client());
        std::fs::create_dir_all(&etc).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(etc.join("resolv.conf"), "nameserver 127.0.0.1\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let mut tree = Tree {
            lab,
            dir,
            hints: String::new(),
            _etc: NetnsEtc(etc),
        };
        tree.nsd("root", ROOT, &[(".", "root.zone")]);
        tree.nsd("tld", TLD, &[("test.", "test.zone")]);
        tree.nsd(
            "ns1",
            NS1,
            &[
                ("lab.test.", "lab.zone"),
                ("cdn.test.", "cdn.zone"),
                ("lame.test.", "lame.zone"),
                ("noglue.test.", "noglue.zone"),
                ("mismatch.test.", "mismatch1.zone"),
                ("dead.test.", "dead.zone"),
                ("closed.test.", "closed.zone"),
            ],
        );
        tree.nsd(
            "ns2",
            NS2,
            &[
                ("lab.test.", "lab.zone"),
                ("cdn.test.", "cdn.zone"),
                ("mismatch.test.", "mismatch2.zone"),
            ],
        );
        tree.nsd("lame", LAME, &[("elsewhere.", "other.zone")]);
        tree.hints = tree.dir.write(
            "root.hints",
            "; the test bed's root\n.  3600000  NS  a.root.test.\na.root.test.  3600000  A  198.18.0.10\n",
        );
        tree.wait_up(&[
            (ROOT, "."),
            (TLD, "test."),
            (NS1, "lab.test."),
            (NS2, "lab.test."),
            (LAME, "elsewhere."),
        ]);
        tree
    }

    /// Starts one nsd on `addr` serving `zones` (name, file).
    fn nsd(&mut self, tag: &str, addr: &str, zones: &[(&str, &str)]) {
        let d = self.dir.path();
        let mut conf = format!(
            "server:\n  ip-address: {addr}\n  port: 53\n  username: \"\"\n  chroot: \"\"\n  zonesdir: \"{d}\"\n  database: \"\"\n  zonelistfile: \"{d}/{tag}.zonelist\"\n  xfrdfile: \"{d}/{tag}.xfrd\"\n  xfrdir: \"{d}\"\n  pidfile: \"{d}/{tag}.pid\"\n  logfile: \"{d}/{tag}.log\"\n  server-count: 1\n  verbosity: 0\n  hide-version: yes\n  reuseport: no\n  do-ip6: no\nremote-control:\n  control-enable: no\n"
        );
        for (name, file) in zones {
            conf.push_str(&format!(
                "zone:\n  name: \"{name}\"\n  zonefile: \"{d}/{file}\"\n"
            ));
        }
        let path = self.dir.write(&format!("{tag}.conf"), &conf);
        let check = common::must(&["nsd-checkconf", &path]);
        assert_eq!(check.code, 0);
        let server = self.lab.server().to_string();
        self.lab.spawn(&server, &["nsd", "-d", "-c", &path]);
    }

    /// Waits until every server answers its zone's SOA.
    fn wait_up(&self, servers: &[(&str, &str)]) {
        let deadline = Instant::now() + Duration::from_secs(15);
        for (addr, zone) in servers {
            loop {
                let at = format!("@{addr}");
                let r = self.dig(&[&at, "+norec", "+time=1", "+tries=1", "+short", zone, "SOA"]);
                if !r.stdout.trim().is_empty() {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "nsd at {addr} does not serve {zone}: {}{}\n{}",
                    r.stdout,
                    r.stderr,
                    std::fs::read_to_string(self.dir.0.join("root.log")).unwrap_or_default()
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    /// Starts a recursive unbound on the client's 127.0.0.1 with the test
    /// root as its root hints (for dig +trace's own name lookups).
    fn with_recursor(&mut self) {
        let d = self.dir.path();
        let conf = format!(
            "server:\n  interface: 127.0.0.1\n  port: 53\n  chroot: \"\"\n  username: \"\"\n  directory: \"{d}\"\n  pidfile: \"\"\n  use-syslog: no\n  logfile: \"{d}/recursor.log\"\n  do-daemonize: no\n  num-threads: 1\n  do-ip6: no\n  access-control: 127.0.0.0/8 allow\n  module-config: \"iterator\"\n  root-hints: \"{}\"\n  qname-minimisation: no\n  local-zone: \"test.\" nodefault\n  verbosity: 1\nremote-control:\n  control-enable: no\n",
            self.hints
        );
        let path = self.dir.write("recursor.conf", &conf);
        let client = self.lab.client().to_string();
        self.lab.spawn(&client, &["unbound", "-d", "-c", &path]);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let r = self.dig(&[
                "@127.0.0.1",
                "+time=1",
                "+tries=1",
                "+short",
                "ns1.lab.test",
            ]);
            if r.stdout.trim() == NS1 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "unbound recursor: {}{}\n{}\n{}",
                r.stdout,
                r.stderr,
                self.dig(&["@127.0.0.1", "+time=1", "+tries=1", "ns1.lab.test"])
                    .stdout,
                std::fs::read_to_string(self.dir.0.join("recursor.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn dig(&self, args: &[&str]) -> Run {
        let mut cmd = vec!["dig"];
        cmd.extend_from_slice(args);
        self.lab.exec(self.lab.client(), &cmd)
    }

    /// `netdx dns NAME --trace --root-hints … --json` (plus `extra`).
    fn trace(&self, name: &str, extra: &[&str]) -> (Run, Value, Duration) {
        let mut args = vec![
            "dns",
            name,
            "--trace",
            "--root-hints",
            &self.hints,
            "--json",
        ];
        args.extend_from_slice(extra);
        let t0 = Instant::now();
        let run = self.lab.netdx(self.lab.client(), &args);
        let took = t0.elapsed();
        let doc = run.json();
        (run, doc, took)
    }
}

fn codes(doc: &Value) -> Vec<String> {
    doc["diagnoses"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|d| d["code"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn diag<'a>(doc: &'a Value, code: &str) -> Vec<&'a Value> {
    doc["diagnoses"]
        .as_array()
        .map(|a| a.iter().filter(|d| d["code"] == code).collect())
        .unwrap_or_default()
}

/// (zone, server name, server address, kind) per step.
fn steps(doc: &Value) -> Vec<(String, String, String, String)> {
    doc["trace"]["steps"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    (
                        s["zone"].as_str().unwrap_or("").to_string(),
                        s["server"]["name"].as_str().unwrap_or("").to_string(),
                        s["server"]["address"].as_str().unwrap_or("").to_string(),
                        s["kind"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn final_data(doc: &Value, rtype: &str) -> Vec<String> {
    doc["trace"]["answer"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|r| r["type"] == rtype)
                .filter_map(|r| r["data"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn s4(a: &str, b: &str, c: &str, d: &str) -> (String, String, String, String) {
    (a.into(), b.into(), c.into(), d.into())
}

/// What `dig +trace` shows: the zones whose NS sets it printed (in
/// order) and the final records of `rtype`.
fn dig_trace(tree: &Tree, name: &str, rtype: &str) -> (Vec<String>, Vec<String>) {
    let at = format!("@{ROOT}");
    let r = tree.dig(&[
        &at,
        "+trace",
        "+norecurse",
        "+time=1",
        "+tries=1",
        name,
        rtype,
    ]);
    assert_eq!(r.code, 0, "dig +trace: {}{}", r.stdout, r.stderr);
    let mut zones: Vec<String> = Vec::new();
    let mut data = Vec::new();
    for line in r.stdout.lines().filter(|l| !l.starts_with(';')) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 5 {
            continue;
        }
        if f[3] == "NS" && !zones.iter().any(|z| z == f[0]) {
            zones.push(f[0].to_string());
        }
        if f[3] == rtype {
            data.push(f[4].to_string());
        }
    }
    (zones, data)
}

#[test]
fn healthy_trace_matches_dig_trace() {
    if !can_build_namespaces("healthy_trace_matches_dig_trace") {
        return;
    }
    let mut tree = Tree::new();
    tree.with_recursor();
    let (run, doc, _) = tree.trace("web.lab.test", &["--timeout", "1"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        steps(&doc),
        [
            s4(".", "a.root.test.", ROOT, "referral"),
            s4("test.", "ns.nic.test.", TLD, "referral"),
            s4("lab.test.", "ns1.lab.test.", NS1, "answer"),
        ]
    );
    let t = &doc["trace"];
    assert_eq!(t["steps"][0]["referral"], "test.");
    assert_eq!(t["steps"][0]["glue"][0]["data"], TLD);
    assert_eq!(
        t["steps"][1]["ns"],
        serde_json::json!(["ns1.lab.test.", "ns2.lab.test."])
    );
    assert_eq!(t["steps"][1]["glue"].as_array().map(Vec::len), Some(2));
    assert_eq!(t["steps"][2]["aa"], true);
    assert_eq!(t["final_zone"], "lab.test.");
    assert_eq!(final_data(&doc, "A"), ["198.18.0.80"]);
    assert!(t["authority"].as_array().is_some(), "{t}");
    assert_eq!(codes(&doc), ["dns.trace_ok"], "{}", run.stdout);
    // Every server of lab.test. was asked: both serve serial 7.
    let lab = t["zones"]
        .as_array()
        .and_then(|z| z.iter().find(|z| z["zone"] == "lab.test."))
        .cloned()
        .unwrap_or_default();
    assert_eq!(lab["servers"].as_array().map(Vec::len), Some(2), "{lab}");
    assert!(lab["servers"]
        .as_array()
        .is_some_and(|v| v.iter().all(|s| s["serial"] == 7 && s["fault"].is_null())));

    // Side by side with dig +trace: same chain of zones, same answer.
    let (zones, data) = dig_trace(&tree, "web.lab.test", "A");
    assert_eq!(zones, [".", "test.", "lab.test."]);
    let ours: Vec<String> = steps(&doc).into_iter().map(|s| s.0).collect();
    assert_eq!(ours, zones);
    assert_eq!(data, final_data(&doc, "A"));

    // --jsonl: one `step` event per step as it completes, then the rest.
    let lines = tree.lab.netdx(
        tree.lab.client(),
        &[
            "dns",
            "web.lab.test",
            "--trace",
            "--root-hints",
            &tree.hints,
            "--jsonl",
        ],
    );
    let events: Vec<String> = lines
        .jsonl()
        .iter()
        .map(|e| e["event"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(events, ["step", "step", "step", "diagnosis", "summary"]);

    // The human output: one block per step, like dig's.
    let human = tree.lab.netdx(
        tree.lab.client(),
        &[
            "dns",
            "web.lab.test",
            "--trace",
            "--root-hints",
            &tree.hints,
            "--timeout",
            "1",
        ],
    );
    assert_eq!(human.code, 0, "{}{}", human.stdout, human.stderr);
    for want in [
        ";; step 1: web.lab.test. A from a.root.test. (198.18.0.10) for zone . in",
        "referral to test. (1 NS, 1 glue)",
        ";; step 3: web.lab.test. A from ns1.lab.test. (198.18.0.12) for zone lab.test.",
        "web.lab.test.",
        "diagnosis [ok] dns.trace_ok",
    ] {
        assert!(
            human.stdout.contains(want),
            "missing {want:?}:\n{}",
            human.stdout
        );
    }
}

#[test]
fn cnames_are_followed_from_the_root() {
    if !can_build_namespaces("cnames_are_followed_from_the_root") {
        return;
    }
    let mut tree = Tree::new();
    tree.with_recursor();
    let (run, doc, _) = tree.trace("ext.lab.test", &["--timeout", "1"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let zones: Vec<String> = steps(&doc).into_iter().map(|s| s.0).collect();
    assert_eq!(
        zones,
        [".", "test.", "lab.test.", ".", "test.", "cdn.test."],
        "{}",
        run.stdout
    );
    assert_eq!(steps(&doc)[2].3, "cname");
    assert_eq!(
        doc["trace"]["cname_chain"],
        serde_json::json!(["ext.lab.test.", "edge.cdn.test."])
    );
    assert_eq!(final_data(&doc, "A"), ["198.18.0.81"]);
    // dig +trace does not follow the CNAME: it stops at lab.test.'s reply,
    // which carried edge.cdn.test. too (the same server serves cdn.test.);
    // netdx does not trust that out-of-zone record and asks cdn.test.
    let (dzones, data) = dig_trace(&tree, "ext.lab.test", "A");
    assert_eq!(dzones[..3], [".", "test.", "lab.test."]);
    assert_eq!(data, final_data(&doc, "A"));
}

#[test]
fn lame_server_is_named() {
    if !can_build_namespaces("lame_server_is_named") {
        return;
    }
    let tree = Tree::new();
    let (run, doc, _) = tree.trace("web.lame.test", &["--timeout", "1"]);
    // The name still resolves through the good server.
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(final_data(&doc, "A"), ["198.18.0.82"]);
    assert_eq!(codes(&doc), ["dns.trace_ok", "dns.lame_delegation"]);
    let lame = diag(&doc, "dns.lame_delegation");
    assert_eq!(lame.len(), 1, "{}", run.stdout);
    assert_eq!(lame[0]["evidence"]["server"], "ns2.lame.test.");
    assert_eq!(lame[0]["evidence"]["address"], LAME);
    assert_eq!(lame[0]["evidence"]["zone"], "lame.test.");
    assert!(
        lame[0]["evidence"]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("REFUSED")),
        "{}",
        lame[0]
    );
    assert_eq!(lame[0]["severity"], "warning");
    // A listed address where nothing listens on port 53 is lame too.
    let (run, doc, _) = tree.trace("web.closed.test", &["--timeout", "1"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(codes(&doc), ["dns.trace_ok", "dns.lame_delegation"]);
    let lame = diag(&doc, "dns.lame_delegation");
    assert_eq!(lame[0]["evidence"]["address"], CLOSED);
    assert!(
        lame[0]["evidence"]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("nothing listens")),
        "{}",
        lame[0]
    );
    // dig +trace gets the same answer (whichever server it picks last).
    let at = format!("@{LAME}");
    let direct = tree.dig(&[&at, "+norec", "web.lame.test"]);
    assert!(
        direct.stdout.contains("status: REFUSED"),
        "{}",
        direct.stdout
    );
}

#[test]
fn missing_glue_is_named_and_the_other_server_used() {
    if !can_build_namespaces("missing_glue_is_named_and_the_other_server_used") {
        return;
    }
    let tree = Tree::new();
    let (run, doc, _) = tree.trace("web.noglue.test", &["--timeout", "1"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(final_data(&doc, "A"), ["198.18.0.83"]);
    // Both NS sets agree (only their order differs): no mismatch.
    assert_eq!(codes(&doc), ["dns.trace_ok", "dns.missing_glue"]);
    let glue = diag(&doc, "dns.missing_glue");
    assert_eq!(glue.len(), 1, "{}", run.stdout);
    assert_eq!(glue[0]["evidence"]["ns"], "ns.noglue.test.");
    assert_eq!(glue[0]["evidence"]["zone"], "noglue.test.");
    assert_eq!(glue[0]["evidence"]["parent"], "test.");
    let last = steps(&doc).pop().unwrap_or_default();
    assert_eq!(last, s4("noglue.test.", "ns1.lab.test.", NS1, "answer"));
}

#[test]
fn parent_child_mismatch_and_serial_skew() {
    if !can_build_namespaces("parent_child_mismatch_and_serial_skew") {
        return;
    }
    let tree = Tree::new();
    let (run, doc, _) = tree.trace("web.mismatch.test", &["--timeout", "1"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(codes(&doc)[0], "dns.trace_ok");
    let found = diag(&doc, "dns.delegation_mismatch");
    let kinds: Vec<&str> = found
        .iter()
        .filter_map(|d| d["evidence"]["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["ns_set", "serial", "answer"], "{}", run.stdout);
    let ns = found[0];
    assert_eq!(
        ns["evidence"]["parent_ns"],
        serde_json::json!(["ns1.mismatch.test.", "ns2.mismatch.test."])
    );
    assert_eq!(
        ns["evidence"]["child_ns"],
        serde_json::json!([
            "ns1.mismatch.test.",
            "ns2.mismatch.test.",
            "ns9.mismatch.test."
        ])
    );
    assert!(ns["summary"]
        .as_str()
        .is_some_and(|s| s.contains("only in the zone: ns9.mismatch.test.")));
    assert_eq!(found[1]["evidence"]["serials"], serde_json::json!([1, 2]));
}

#[test]
fn dead_server_costs_a_named_delay() {
    if !can_build_namespaces("dead_server_costs_a_named_delay") {
        return;
    }
    let tree = Tree::new();
    let (run, doc, took) = tree.trace("web.dead.test", &["--timeout", "0.5"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(final_data(&doc, "A"), ["198.18.0.86"]);
    let last = &doc["trace"]["steps"][2];
    assert_eq!(last["server"]["name"], "ns2.dead.test.");
    assert_eq!(last["failed"][0]["server"]["address"], DEAD);
    assert_eq!(last["failed"][0]["fault"], "timeout");
    assert_eq!(codes(&doc), ["dns.trace_ok", "dns.step_timeout"]);
    let t = diag(&doc, "dns.step_timeout");
    assert_eq!(t.len(), 1, "{}", run.stdout);
    assert_eq!(t[0]["evidence"]["server"], "ns1.dead.test.");
    assert_eq!(t[0]["evidence"]["address"], DEAD);
    let delay = t[0]["evidence"]["delay_ms"].as_f64().unwrap_or(0.0);
    assert!((450.0..1000.0).contains(&delay), "delay {delay}");
    assert!(t[0]["summary"]
        .as_str()
        .is_some_and(|s| s.contains("ns2.dead.test. (198.18.0.12) answered")));
    // One step timeout for the trace, one (in parallel) for the audit.
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert!(codes(&doc).contains(&"dns.trace_ok".to_string()));
}

#[test]
fn loops_end_fast_with_a_named_error() {
    if !can_build_namespaces("loops_end_fast_with_a_named_error") {
        return;
    }
    let tree = Tree::new();
    for (name, words) in [
        ("www.selfref.test", "referral loop"),
        ("www.loop1.test", "need each other"),
        ("loopy.lab.test", "CNAME chain loops"),
        ("www.d1.test", "nest deeper than 4"),
    ] {
        let (run, doc, took) = tree.trace(name, &["--timeout", "1"]);
        assert_eq!(run.code, 1, "{name}: {}{}", run.stdout, run.stderr);
        let d = diag(&doc, "dns.trace_loop");
        assert_eq!(d.len(), 1, "{name}: {}", run.stdout);
        assert!(
            d[0]["summary"].as_str().is_some_and(|s| s.contains(words)),
            "{name}: {}",
            d[0]["summary"]
        );
        assert_eq!(doc["trace"]["end"], "loop");
        let lookups = doc["trace"]["ns_lookups"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0);
        assert!(lookups <= 4, "{name}: {}", doc["trace"]["ns_lookups"]);
        assert!(took < Duration::from_secs(2), "{name} took {took:?}");
    }
}

#[test]
fn garbage_root_hints_are_a_one_line_usage_error() {
    let dir = TempDir::new("dnstrace-hints");
    let garbage = dir.write(
        "garbage.hints",
        ". NS a.root.test.\nthis is not a record line at all\n",
    );
    let bad_addr = dir.write(
        "addr.hints",
        ". NS a.root.test.\na.root.test. A 2001:db8::1\n",
    );
    let empty = dir.write("empty.hints", "; nothing here\n");
    let binary = dir.0.join("binary.hints");
    std::fs::write(&binary, [0xffu8, 0xfe, 0x00, 0x41, 0x0a]).unwrap_or_else(|e| panic!("{e}"));
    let binary = binary.display().to_string();
    let missing = dir.0.join("missing.hints").display().to_string();
    for (file, words) in [
        (&garbage, "line 2: expected `NAME [TTL] [IN] TYPE DATA`"),
        (&bad_addr, "line 2: `2001:db8::1` is not an A address"),
        (&empty, "no root server with an address"),
        (&binary, "not a text file"),
        (&missing, "cannot read root hints"),
    ] {
        let t0 = Instant::now();
        let run = netdx_here(&["dns", "web.lab.test", "--trace", "--root-hints", file]);
        assert_eq!(run.code, 2, "{file}: {}{}", run.stdout, run.stderr);
        assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
        assert!(run.stderr.contains(words), "{file}: {}", run.stderr);
        assert!(t0.elapsed() < Duration::from_secs(2));
    }
    // --root-hints without --trace, and @SERVER with --trace, are usage errors.
    let run = netdx_here(&["dns", "x.test", "--root-hints", &garbage]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = netdx_here(&["dns", "x.test", "@198.18.0.10", "--trace"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--root-hints"), "{}", run.stderr);
}
