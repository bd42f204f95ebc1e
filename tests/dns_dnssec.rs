//! `netdx dns --dnssec` against a tree signed here with ldns-signzone and
//! served by nsd in a namespace: a signed parent `test.` and one child
//! per case (see tests/fixtures/dnssec/make-zones.sh). Each verdict is
//! compared with delv's on the same server and anchor.

mod common;
use common::tempdir::TempDir;
use common::{can_build_namespaces, netdx_here, Lab, Run};
use std::process::Command;
use std::time::{Duration, Instant};

const MAKE_ZONES: &str = include_str!("fixtures/dnssec/make-zones.sh");

/// Zones nsd serves (files made by the script).
const ZONES: &[&str] = &[
    "test",
    "lab.test",
    "plain.test",
    "old.test",
    "future.test",
    "bad.test",
    "orphan.test",
    "strip.test",
    "mismatch.test",
    "ed448.test",
    "n3.test",
    "oo.test",
    "sub.oo.test",
    "n3gone.test",
];

/// Stops nsd (and its server and xfrd children) before the lab goes.
struct Nsd(String);

impl Drop for Nsd {
    fn drop(&mut self) {
        let Ok(text) = std::fs::read_to_string(&self.0) else {
            return;
        };
        let pid = text.trim().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).output();
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until && std::path::Path::new(&format!("/proc/{pid}")).exists() {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The lab (client — server) with nsd serving the signed tree on port
/// 53, and the same tree with every RRSIG stripped on port 5353.
struct Bed {
    // Dropped first: nsd stops while its namespace still exists.
    _nsd: Vec<Nsd>,
    lab: Lab,
    dir: TempDir,
    addr: String,
}

/// The port of the server that strips RRSIGs.
const STRIPPED_PORT: &str = "5353";

impl Bed {
    fn new() -> Bed {
        let lab = Lab::chain(0);
        let addr = lab.server_v4();
        let dir = TempDir::new("dnssec");
        let script = dir.write("make-zones.sh", MAKE_ZONES);
        let made = Command::new("bash")
            .arg(&script)
            .arg(&addr)
            .current_dir(&dir.0)
            .output()
            .map(Run::from)
            .unwrap_or_else(|e| panic!("cannot run make-zones.sh: {e}"));
        assert_eq!(
            made.code, 0,
            "make-zones.sh (ldnsutils installed?): {}",
            made.stderr
        );
        let mut bed = Bed {
            _nsd: Vec::new(),
            lab,
            dir,
            addr,
        };
        let d = bed.dir.path();
        bed.start_nsd("53", &d);
        bed.start_nsd(STRIPPED_PORT, &format!("{d}/stripped"));
        bed
    }

    /// Starts nsd on `port` serving the zone files in `zones`, and waits
    /// until it answers.
    fn start_nsd(&mut self, port: &str, zones: &str) {
        let addr = &self.addr;
        let mut conf = format!(
            "server:\n  ip-address: {addr}\n  port: {port}\n  zonesdir: \"{zones}\"\n  database: \"\"\n  zonelistfile: \"{zones}/zone.list\"\n  pidfile: \"{zones}/nsd.pid\"\n  xfrdfile: \"{zones}/xfrd.state\"\n  xfrdir: \"{zones}\"\n  username: \"\"\n  logfile: \"{zones}/nsd.log\"\n  server-count: 1\n  verbosity: 1\nremote-control:\n  control-enable: no\n"
        );
        for z in ZONES {
            conf.push_str(&format!(
                "zone:\n  name: \"{z}\"\n  zonefile: \"{z}.zone.signed\"\n"
            ));
        }
        let path = format!("{zones}/nsd.conf");
        std::fs::write(&path, conf).unwrap_or_else(|e| panic!("write {path}: {e}"));
        let check = self.lab.exec(self.lab.server(), &["nsd-checkconf", &path]);
        assert_eq!(
            check.code, 0,
            "nsd-checkconf: {}{}",
            check.stdout, check.stderr
        );
        let server = self.lab.server().to_string();
        self.lab.spawn(&server, &["nsd", "-d", "-c", &path]);
        self._nsd.push(Nsd(format!("{zones}/nsd.pid")));
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let probe = self.lab.exec(
                self.lab.client(),
                &[
                    "dig",
                    &format!("@{addr}"),
                    "-p",
                    port,
                    "+short",
                    "+time=1",
                    "+tries=1",
                    "ns.test",
                ],
            );
            if probe.stdout.trim() == addr.as_str() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "nsd on port {port} did not come up: {}{}\n{}",
                probe.stdout,
                probe.stderr,
                std::fs::read_to_string(format!("{zones}/nsd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn file(&self, name: &str) -> String {
        self.dir.0.join(name).display().to_string()
    }

    fn netdx(&self, args: &[&str]) -> Run {
        let at = format!("@{}", self.addr);
        let mut all = vec!["dns", at.as_str()];
        all.extend_from_slice(args);
        self.lab.netdx(self.lab.client(), &all)
    }

    /// delv's verdict on NAME/TYPE with the parent's anchor: secure, insecure or bogus.
    fn delv(&self, name: &str, rtype: &str) -> (String, String) {
        self.delv_at("53", name, rtype)
    }

    /// The same against the server on `port`.
    fn delv_at(&self, port: &str, name: &str, rtype: &str) -> (String, String) {
        let anchor = self.file("anchor.bind");
        let run = self.lab.exec(
            self.lab.client(),
            &[
                "timeout",
                "20",
                "delv",
                &format!("@{}", self.addr),
                "-a",
                &anchor,
                "-p",
                port,
                "+root=test",
                rtype,
                name,
            ],
        );
        let all = format!("{}{}", run.stdout, run.stderr);
        // A negative answer says "resolution failed: ncache …" before
        // "negative response, fully validated"; a CNAME chain gets one
        // line per record set, and one unsigned set makes it insecure.
        let verdict = if all.contains("negative response, fully validated") {
            "secure"
        } else if all.contains("resolution failed")
            || all.contains("broken trust chain")
            || all.contains("no valid signature")
        {
            "bogus"
        } else if all.contains("; unsigned answer") {
            "insecure"
        } else if all.contains("; fully validated") {
            "secure"
        } else {
            "unknown"
        };
        (verdict.to_string(), all)
    }
}

/// Each case: name, netdx's verdict and reason, delv's verdict.
#[test]
fn verdicts_and_reasons_agree_with_delv() {
    if !can_build_namespaces("verdicts_and_reasons_agree_with_delv") {
        return;
    }
    let bed = Bed::new();
    let anchor = bed.file("anchor.ds");
    let cases: &[(&str, &str, &str, Option<&str>)] = &[
        ("www.lab.test", "A", "secure", None),
        ("nope.lab.test", "A", "secure", None),
        ("www.lab.test", "TXT", "secure", None),
        ("www.plain.test", "A", "insecure", None),
        ("www.old.test", "A", "bogus", Some("expired")),
        ("www.future.test", "A", "bogus", Some("not_yet_valid")),
        ("www.bad.test", "A", "bogus", Some("bad_signature")),
        ("www.orphan.test", "A", "bogus", Some("missing_key")),
        ("www.strip.test", "A", "bogus", Some("missing_signature")),
        ("www.mismatch.test", "A", "bogus", Some("ds_mismatch")),
        // CNAME chains: within the zone, into an unsigned zone, into a bogus one.
        ("inside.lab.test", "A", "secure", None),
        ("alias.lab.test", "A", "insecure", None),
        ("cross.lab.test", "A", "bogus", Some("bad_signature")),
        // NSEC3 (RFC 5155): the answer, NXDOMAIN, NODATA, an empty
        // non-terminal, an unsigned delegation under opt-out, a removed
        // NSEC3 that breaks the NXDOMAIN proof.
        ("www.n3.test", "A", "secure", None),
        ("nope.n3.test", "A", "secure", None),
        ("www.n3.test", "TXT", "secure", None),
        ("ent.n3.test", "A", "secure", None),
        ("www.sub.oo.test", "A", "insecure", None),
        ("nope.oo.test", "A", "secure", None),
        ("nope.n3gone.test", "A", "bogus", Some("no_denial_proof")),
    ];
    for (name, rtype, security, reason) in cases {
        let run = bed.netdx(&["--trust-anchor", &anchor, "-t", rtype, name, "--json"]);
        let doc = run.json();
        let v = &doc["dnssec"][0];
        assert_eq!(v["security"], *security, "{name} {rtype}: {v:#}");
        match reason {
            Some(r) => assert_eq!(v["problem"]["kind"], *r, "{name}: {v:#}"),
            None => assert!(v.get("problem").is_none(), "{name}: {v:#}"),
        }
        let code = format!("dns.dnssec_{security}");
        assert!(
            doc["diagnoses"]
                .as_array()
                .is_some_and(|ds| ds.iter().any(|d| d["code"] == code.as_str())),
            "{name}: no {code} in {:#}",
            doc["diagnoses"]
        );
        // Bogus exits 1; NXDOMAIN and NODATA fail the lookup itself
        // (exit 1) whatever DNSSEC says.
        let negative = name.starts_with("nope") || name.starts_with("ent.") || *rtype == "TXT";
        let exit = i32::from(*security == "bogus" || negative);
        assert_eq!(run.code, exit, "{name}: exit {}: {}", run.code, run.stderr);
        let (delv, said) = bed.delv(name, rtype);
        assert_eq!(
            delv, *security,
            "{name} {rtype}: delv disagrees with netdx:\n{said}"
        );
    }
}

/// A server that strips every RRSIG: bogus with the reason (the anchor
/// zone's DNSKEY set is unsigned), like delv, never a panic.
#[test]
fn server_stripping_signatures_is_bogus() {
    if !can_build_namespaces("server_stripping_signatures_is_bogus") {
        return;
    }
    let bed = Bed::new();
    let anchor = bed.file("anchor.ds");
    let at = format!("@{}:{STRIPPED_PORT}", bed.addr);
    let args = [
        "dns",
        at.as_str(),
        "--trust-anchor",
        &anchor,
        "-t",
        "A",
        "www.lab.test",
        "--json",
    ];
    let run = bed.lab.netdx(bed.lab.client(), &args);
    let v = &run.json()["dnssec"][0];
    assert_eq!(v["security"], "bogus", "{v:#}");
    assert_eq!(v["problem"]["kind"], "missing_signature", "{v:#}");
    assert!(
        v["problem"]["detail"]
            .as_str()
            .unwrap_or("")
            .contains("test. DNSKEY came without an RRSIG"),
        "{v:#}"
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let (delv, said) = bed.delv_at(STRIPPED_PORT, "www.lab.test", "A");
    assert_eq!(delv, "bogus", "delv on the stripping server:\n{said}");
}

/// ED448 (which hickory cannot verify) is undecided, not bogus: netdx says
/// so where delv, built with OpenSSL's ED448, calls the answer secure.
#[test]
fn unsupported_algorithm_is_indeterminate() {
    if !can_build_namespaces("unsupported_algorithm_is_indeterminate") {
        return;
    }
    let bed = Bed::new();
    let anchor = bed.file("anchor.ds");
    let run = bed.netdx(&[
        "--trust-anchor",
        &anchor,
        "-t",
        "A",
        "www.ed448.test",
        "--json",
    ]);
    let doc = run.json();
    let v = &doc["dnssec"][0];
    assert_eq!(v["security"], "indeterminate", "{v:#}");
    assert_eq!(v["problem"]["kind"], "unsupported_algorithm", "{v:#}");
    assert!(
        v["problem"]["detail"]
            .as_str()
            .unwrap_or("")
            .contains("16 (Unknown"),
        "{v:#}"
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (delv, said) = bed.delv("www.ed448.test", "A");
    assert_eq!(delv, "secure", "delv on ED448:\n{said}");
}

/// The human output shows the chain of trust; the expired case names its dates.
#[test]
fn chain_of_trust_and_dates_in_human_output() {
    if !can_build_namespaces("chain_of_trust_and_dates_in_human_output") {
        return;
    }
    let bed = Bed::new();
    let anchor = bed.file("anchor.ds");
    let run = bed.netdx(&[
        "--trust-anchor",
        &anchor,
        "-t",
        "A",
        "www.lab.test",
        "--no-color",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let out = &run.stdout;
    for want in [
        "zone test. (vouched for by trust anchor)",
        "zone lab.test. (vouched for by test.)",
        "RRSIG  lab.test. DS by test.",
        "RRSIG  lab.test. DNSKEY by lab.test.",
        "RRSIG  www.lab.test. A by lab.test.",
        "KSK (matches DS)",
        "dns.dnssec_secure",
    ] {
        assert!(out.contains(want), "no {want:?} in:\n{out}");
    }
    let run = bed.netdx(&[
        "--trust-anchor",
        &anchor,
        "-t",
        "A",
        "www.old.test",
        "--no-color",
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains("dns.dnssec_bogus"))
        .unwrap_or_else(|| panic!("no bogus diagnosis:\n{}", run.stdout));
    assert!(
        line.contains("expired on 2020-01-01T00:00:00Z") && line.contains("2019-12-01T00:00:00Z"),
        "{line}"
    );
    // --short: the data, then one verdict line per name.
    let run = bed.netdx(&[
        "--trust-anchor",
        &anchor,
        "-t",
        "A",
        "--short",
        "www.bad.test",
        "www.plain.test",
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(
            "www.bad.test. A dnssec: bogus (the RRSIG over www.bad.test. A does not verify"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("www.plain.test. A dnssec: insecure (unsigned delegation at plain.test.)"),
        "{}",
        run.stdout
    );
}

/// A DNSKEY-form anchor works like the DS form; a name no anchor covers
/// and the built-in root anchor on a server without the root zone are
/// undecided, never bogus, never a panic.
#[test]
fn anchor_forms_and_undecided_cases() {
    if !can_build_namespaces("anchor_forms_and_undecided_cases") {
        return;
    }
    let bed = Bed::new();
    let key = bed.file("anchor.key");
    let run = bed.netdx(&["--trust-anchor", &key, "-t", "A", "www.lab.test", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["dnssec"][0]["security"], "secure");
    // The chain over TCP only.
    let run = bed.netdx(&[
        "--trust-anchor",
        &key,
        "--tcp",
        "-t",
        "A",
        "www.lab.test",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["dnssec"][0]["security"], "secure");

    let other = bed
        .dir
        .write("other.anchor", "example. IN DS 1 13 2 00ff\n");
    let run = bed.netdx(&[
        "--trust-anchor",
        &other,
        "-t",
        "A",
        "www.lab.test",
        "--json",
    ]);
    let v = &run.json()["dnssec"][0];
    assert_eq!(v["security"], "indeterminate", "{v:#}");
    assert_eq!(v["problem"]["kind"], "no_anchor", "{v:#}");
    assert_eq!(run.code, 0, "{}", run.stderr);

    // The root anchor: nsd serves no root zone and refuses DNSKEY for `.`.
    let run = bed.netdx(&[
        "--dnssec",
        "-t",
        "A",
        "www.lab.test",
        "--json",
        "--timeout",
        "2",
    ]);
    let v = &run.json()["dnssec"][0];
    assert_eq!(v["security"], "indeterminate", "{v:#}");
    assert_eq!(v["problem"]["kind"], "query_failed", "{v:#}");
    assert!(
        v["anchor"].as_str().unwrap_or("").contains("20326"),
        "{v:#}"
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

/// A trust anchor file that is not DS/DNSKEY records: one line naming the
/// file and line, exit 2, before any query.
#[test]
fn garbage_trust_anchor_file_is_a_usage_error() {
    let dir = TempDir::new("dnssec-garbage");
    let cases: &[(&str, &[u8])] = &[
        ("binary", b"\x00\x01\x02\xff\xfe garbage\n"),
        ("wrong-type", b"test. 3600 IN A 198.18.0.1\n"),
        ("bad-base64", b"test. IN DNSKEY 257 3 13 !!!notbase64!!!\n"),
        ("short-ds", b"test. IN DS 12345 13\n"),
        ("open-paren", b"test. IN DNSKEY 257 3 13 ( AAAA\n"),
        ("empty", b"; only a comment\n"),
    ];
    for (name, bytes) in cases {
        let path = dir.0.join(name);
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{e}"));
        let path = path.display().to_string();
        let started = Instant::now();
        let run = netdx_here(&[
            "dns",
            "@198.18.0.2",
            "--trust-anchor",
            &path,
            "www.lab.test",
        ]);
        assert_eq!(run.code, 2, "{name}: {}{}", run.stdout, run.stderr);
        let lines: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert_eq!(lines.len(), 1, "{name}: {}", run.stderr);
        assert!(lines[0].contains("trust anchor"), "{name}: {}", lines[0]);
        assert!(started.elapsed() < Duration::from_secs(2), "{name}: slow");
    }
    let missing = dir.0.join("nope").display().to_string();
    let run = netdx_here(&["dns", "@198.18.0.2", "--trust-anchor", &missing, "x.test"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot read trust anchor file"),
        "{}",
        run.stderr
    );
}

/// A bogus answer does not resolve: no `dns.ok`, counted as failed (and
/// as bogus) in the summary, exit 1 — the human output, the JSON document
/// and the `--jsonl` summary say the same, one name or a batch.
#[test]
fn bogus_answers_do_not_count_as_resolved() {
    if !can_build_namespaces("bogus_answers_do_not_count_as_resolved") {
        return;
    }
    let bed = Bed::new();
    let anchor = bed.file("anchor.ds");
    let run = bed.netdx(&[
        "--trust-anchor",
        &anchor,
        "-t",
        "A",
        "www.bad.test",
        "--json",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = run.json();
    let codes: Vec<&str> = doc["diagnoses"]
        .as_array()
        .map(|ds| ds.iter().filter_map(|d| d["code"].as_str()).collect())
        .unwrap_or_default();
    assert!(codes.contains(&"dns.dnssec_bogus"), "{codes:?}");
    assert!(!codes.contains(&"dns.ok"), "{codes:?}");
    let s = &doc["summary"];
    assert_eq!(
        (
            s["resolved"].as_u64(),
            s["failed"].as_u64(),
            s["bogus"].as_u64()
        ),
        (Some(0), Some(1), Some(1)),
        "{s}"
    );
    let human = bed.netdx(&[
        "--trust-anchor",
        &anchor,
        "-t",
        "A",
        "www.bad.test",
        "--no-color",
    ]);
    assert_eq!(human.code, 1, "{}", human.stderr);
    assert!(!human.stdout.contains("dns.ok"), "{}", human.stdout);
    assert!(
        human.stdout.contains("dns.dnssec_bogus"),
        "{}",
        human.stdout
    );

    // A batch: two secure or insecure names resolve, two bogus ones fail.
    let list = bed.dir.write(
        "names.txt",
        "www.lab.test\nwww.bad.test\nwww.plain.test\nwww.old.test\n",
    );
    let base = [
        "--trust-anchor",
        anchor.as_str(),
        "-t",
        "A",
        "-f",
        list.as_str(),
    ];
    let human = bed.netdx(&[&base[..], &["--no-color"]].concat());
    assert_eq!(human.code, 1, "{}", human.stderr);
    assert!(
        human
            .stdout
            .contains("4 names: 2 resolved, 2 failed (2 DNSSEC-bogus)"),
        "{}",
        human.stdout
    );
    let json = bed.netdx(&[&base[..], &["--json"]].concat());
    assert_eq!(json.code, 1, "{}", json.stderr);
    let doc = json.json();
    let s = &doc["summary"];
    assert_eq!(
        (
            s["resolved"].as_u64(),
            s["failed"].as_u64(),
            s["bogus"].as_u64()
        ),
        (Some(2), Some(2), Some(2)),
        "{s}"
    );
    assert_eq!(doc["dnssec"].as_array().map(Vec::len), Some(4), "{doc:#}");
    // Whatever names dns.ok lists, the bogus ones are not among them.
    for d in doc["diagnoses"].as_array().into_iter().flatten() {
        if d["code"] == "dns.ok" {
            let text = d.to_string();
            assert!(
                !text.contains("www.bad.test") && !text.contains("www.old.test"),
                "{text}"
            );
        }
    }
    let jsonl = bed.netdx(&[&base[..], &["--jsonl"]].concat());
    assert_eq!(jsonl.code, 1, "{}", jsonl.stderr);
    let summary = jsonl
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["event"] == "summary")
        .unwrap_or_else(|| panic!("no summary event:\n{}", jsonl.stdout));
    let text = summary.to_string();
    assert!(
        text.contains("\"bogus\":2") && text.contains("\"resolved\":2"),
        "{text}"
    );
}

/// The chain is fetched from the next server when the first does not
/// answer: a dead first server costs one timeout, not a verdict.
#[test]
fn chain_fetch_fails_over_to_the_next_server() {
    if !can_build_namespaces("chain_fetch_fails_over_to_the_next_server") {
        return;
    }
    let bed = Bed::new();
    let anchor = bed.file("anchor.ds");
    // 198.18.0.2 port 5454: nothing listens (refused over UDP: an ICMP
    // error, or silence); the second server is the real one.
    let dead = format!("@{}:5454", bed.addr);
    let live = format!("@{}", bed.addr);
    let args = [
        "dns",
        dead.as_str(),
        live.as_str(),
        "--trust-anchor",
        &anchor,
        "-t",
        "A",
        "www.lab.test",
        "--json",
        "--timeout",
        "1",
    ];
    let run = bed.lab.netdx(bed.lab.client(), &args);
    let doc = run.json();
    let v = &doc["dnssec"][0];
    assert_eq!(v["security"], "secure", "{v:#}\n{}", run.stderr);
    assert_eq!(v["server"], format!("{}:53", bed.addr), "{v:#}");
}
