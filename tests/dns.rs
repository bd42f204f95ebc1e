//! `netdx dns` against a real DNS server: unbound, started in a namespace
//! of the test bed, serving zones these tests write.

mod common;
use common::tempdir::TempDir;
use common::{can_build_namespaces, Lab, Run};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The lab.test zone: every record type the issue lists.
const ZONE: &str = r#"$ORIGIN lab.test.
$TTL 3600
@         IN SOA   ns1.lab.test. hostmaster.lab.test. 2024010101 3600 900 604800 300
@         IN NS    ns1.lab.test.
ns1       IN A     198.18.0.2
@         IN MX    10 mail.lab.test.
@         IN MX    20 mail2.lab.test.
@         IN CAA   0 issue "ca.example.net"
@         IN CAA   0 iodef "mailto:security@lab.test"
mail      IN A     198.18.0.25
mail2     IN A     198.18.0.26
web       IN A     198.18.0.10
web       IN AAAA  2001:db8::10
www       IN CNAME alias.lab.test.
alias     IN CNAME web.lab.test.
dangling  IN CNAME noaddr.lab.test.
txt       IN TXT   "v=spf1 ip4:198.18.0.0/15 -all" "a second string with \"quotes\" and \\ backslash" "x"
longtxt   IN TXT   "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789" "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij" "tail"
_sip._udp IN SRV   10 5 5060 sip.lab.test.
_sip._udp IN SRV   20 5 5060 sip2.lab.test.
sip       IN A     198.18.0.50
noaddr    IN TXT   "this name exists but has no address"
web.corp  IN A     198.18.0.77
alpha.beta IN A    198.18.0.61
sub       IN NS    ns.sub.lab.test.
ns.sub    IN A     198.18.0.53
"#;

/// The reverse zone for 198.18.0.0/24.
const PTR_ZONE: &str = r#"$ORIGIN 0.18.198.in-addr.arpa.
$TTL 3600
@   IN SOA ns1.lab.test. hostmaster.lab.test. 1 3600 900 604800 300
@   IN NS  ns1.lab.test.
10  IN PTR web.lab.test.
25  IN PTR mail.lab.test.
"#;

/// A second view of lab.test that disagrees with the first on some names.
const OTHER_ZONE: &str = r#"$ORIGIN lab.test.
$TTL 3600
@         IN SOA   ns1.lab.test. hostmaster.lab.test. 2024010102 3600 900 604800 300
@         IN NS    ns1.lab.test.
ns1       IN A     198.18.0.2
mail      IN A     198.18.0.25
web       IN A     198.18.0.99
onlyhere  IN A     198.18.0.98
"#;

/// A lab (client — server) with unbound on the server serving the zones.
struct Bed {
    lab: Lab,
    dir: TempDir,
    /// `198.18.0.2`
    addr: String,
}

impl Bed {
    /// Builds the lab and starts the main server on port 53.
    fn new() -> Bed {
        Bed::with_routers(0)
    }

    /// The same with `routers` routers between the client and the server.
    fn with_routers(routers: usize) -> Bed {
        let lab = Lab::chain(routers);
        let addr = lab.server_v4();
        let mut bed = Bed {
            lab,
            dir: TempDir::new("dns"),
            addr,
        };
        bed.dir.write("lab.test.zone", ZONE);
        bed.dir.write("ptr.zone", PTR_ZONE);
        bed.dir.write("other.zone", OTHER_ZONE);
        bed.start(53, "lab.test.zone");
        bed
    }

    /// Starts unbound on `port` at the server's v4 and v6 addresses.
    fn start(&mut self, port: u16, zone: &str) {
        let dir = self.dir.0.display().to_string();
        let v6 = self.lab.server_v6();
        let conf = format!(
            r#"server:
  interface: {v4}@{port}
  interface: {v6}@{port}
  port: {port}
  chroot: ""
  username: ""
  directory: "{dir}"
  pidfile: ""
  use-syslog: no
  logfile: ""
  do-daemonize: no
  num-threads: 1
  access-control: 0.0.0.0/0 allow
  access-control: ::/0 allow
  module-config: "iterator"
  local-zone: "." static
  local-zone: "lab.test." transparent
  local-zone: "0.18.198.in-addr.arpa." transparent
  local-zone: "refused.lab.test." always_refuse
  local-zone: "broken.test." transparent
  verbosity: 0
remote-control:
  control-enable: no
auth-zone:
  name: "lab.test"
  zonefile: "{dir}/{zone}"
  for-downstream: yes
  for-upstream: no
  fallback-enabled: no
auth-zone:
  name: "0.18.198.in-addr.arpa"
  zonefile: "{dir}/ptr.zone"
  for-downstream: yes
  for-upstream: no
  fallback-enabled: no
# A zone whose transfer never succeeds: unbound answers SERVFAIL for it.
auth-zone:
  name: "broken.test"
  primary: {v4}@5999
  for-downstream: yes
  for-upstream: no
  fallback-enabled: no
"#,
            v4 = self.addr,
        );
        let path = self.dir.write(&format!("unbound-{port}.conf"), &conf);
        let check = self
            .lab
            .exec(self.lab.server(), &["unbound-checkconf", &path]);
        assert_eq!(
            check.code, 0,
            "unbound-checkconf: {}{}",
            check.stdout, check.stderr
        );
        let server = self.lab.server().to_string();
        self.lab.spawn(&server, &["unbound", "-d", "-c", &path]);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let probe = self.dig(&[
                &format!("@{}", self.addr),
                "-p",
                &port.to_string(),
                "+short",
                "+time=1",
                "+tries=1",
                "ns1.lab.test",
            ]);
            if probe.stdout.trim() == "198.18.0.2" {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "unbound on port {port} did not come up: {}{}",
                probe.stdout,
                probe.stderr
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn dig(&self, args: &[&str]) -> Run {
        let mut cmd = vec!["dig"];
        cmd.extend_from_slice(args);
        self.lab.exec(self.lab.client(), &cmd)
    }

    fn netdx(&self, args: &[&str]) -> Run {
        self.lab.netdx(self.lab.client(), args)
    }

    fn at(&self) -> String {
        format!("@{}", self.addr)
    }

    /// Writes the client's /etc/resolv.conf: `ip netns exec` bind-mounts
    /// /etc/netns/NAME/resolv.conf over it. Removed when the guard drops.
    fn system_resolv_conf(&self, text: &str) -> NetnsEtc {
        let etc = PathBuf::from("/etc/netns").join(self.lab.client());
        std::fs::create_dir_all(&etc).unwrap_or_else(|e| panic!("{e}"));
        let guard = NetnsEtc(etc.clone());
        std::fs::write(etc.join("resolv.conf"), text).unwrap_or_else(|e| panic!("{e}"));
        guard
    }
}

/// /etc/netns/NAME, removed on drop.
struct NetnsEtc(PathBuf);

impl Drop for NetnsEtc {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn sorted_lines(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    v.sort();
    v
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

#[test]
fn every_record_type_matches_dig() {
    if !can_build_namespaces("every_record_type_matches_dig") {
        return;
    }
    let bed = Bed::new();
    let at = bed.at();
    let cases: [(&str, &str); 12] = [
        ("web.lab.test", "A"),
        ("web.lab.test", "AAAA"),
        ("www.lab.test", "A"),
        ("lab.test", "MX"),
        ("txt.lab.test", "TXT"),
        ("longtxt.lab.test", "TXT"),
        ("lab.test", "NS"),
        ("lab.test", "SOA"),
        ("www.lab.test", "CNAME"),
        ("_sip._udp.lab.test", "SRV"),
        ("lab.test", "CAA"),
        ("10.0.18.198.in-addr.arpa", "PTR"),
    ];
    for (name, rtype) in cases {
        let ours = bed.netdx(&["dns", "--short", &at, name, "-t", rtype]);
        assert_eq!(
            ours.code, 0,
            "{name} {rtype}: {}{}",
            ours.stdout, ours.stderr
        );
        let theirs = bed.dig(&[&at, "+short", name, rtype]);
        assert_eq!(theirs.code, 0, "dig {name} {rtype}: {}", theirs.stderr);
        assert!(
            !theirs.stdout.trim().is_empty(),
            "dig found nothing for {name} {rtype}"
        );
        assert_eq!(
            sorted_lines(&ours.stdout),
            sorted_lines(&theirs.stdout),
            "{name} {rtype} differs from dig"
        );
    }
    // An address does the reverse lookup, like nslookup and dig -x.
    let ours = bed.netdx(&["dns", "--short", &at, "198.18.0.10"]);
    let theirs = bed.dig(&[&at, "+short", "-x", "198.18.0.10"]);
    assert_eq!(ours.code, 0, "{}", ours.stderr);
    assert_eq!(sorted_lines(&ours.stdout), sorted_lines(&theirs.stdout));
    assert_eq!(ours.stdout.trim(), "web.lab.test.");
}

#[test]
fn answer_details_rcode_flags_ttl_chain_server_time() {
    if !can_build_namespaces("answer_details") {
        return;
    }
    let bed = Bed::new();
    let at = bed.at();
    let run = bed.netdx(&["dns", &at, "www.lab.test", "-t", "A"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let out = &run.stdout;
    assert!(out.contains("NOERROR"), "{out}");
    assert!(out.contains("from 198.18.0.2:53 over udp"), "{out}");
    assert!(out.contains("flags: qr aa rd"), "{out}");
    assert!(
        out.contains("CNAME chain: www.lab.test. → alias.lab.test. → web.lab.test."),
        "{out}"
    );
    assert!(out.contains("3600  IN  A      198.18.0.10"), "{out}");
    assert!(out.contains(" ms"), "{out}");
    assert!(out.contains("dns.ok"), "{out}");

    let doc = bed
        .netdx(&["--json", "dns", &at, "www.lab.test", "-t", "A"])
        .json();
    let a = &doc["answers"][0];
    assert_eq!(a["rcode"], "NOERROR");
    assert_eq!(a["status"], "answer");
    assert_eq!(a["server"], "198.18.0.2:53");
    assert_eq!(a["transport"], "udp");
    assert_eq!(a["flags"]["aa"], true);
    assert_eq!(a["records"].as_array().map(Vec::len), Some(3));
    assert_eq!(a["records"][2]["ttl"], 3600);
    assert!(a["time_ms"].as_f64().unwrap_or(-1.0) >= 0.0);
    // IPv6 transport to the server works too.
    let v6 = bed.netdx(&[
        "dns",
        "--short",
        &format!("@[{}]:53", bed.lab.server_v6()),
        "web.lab.test",
        "-t",
        "AAAA",
    ]);
    assert_eq!(v6.code, 0, "{}", v6.stderr);
    assert_eq!(v6.stdout.trim(), "2001:db8::10");
}

#[test]
fn nxdomain_and_nodata_are_told_apart() {
    if !can_build_namespaces("nxdomain_and_nodata") {
        return;
    }
    let bed = Bed::new();
    let at = bed.at();
    let nx = bed.netdx(&["--json", "dns", &at, "nope.lab.test"]);
    assert_eq!(nx.code, 1, "{}", nx.stderr);
    let doc = nx.json();
    assert_eq!(doc["answers"][0]["rcode"], "NXDOMAIN");
    assert_eq!(doc["answers"][0]["status"], "nx_domain");
    assert!(codes(&doc).contains(&"dns.nxdomain".to_string()), "{doc}");
    let dig = bed.dig(&[&at, "nope.lab.test", "A"]);
    assert!(dig.stdout.contains("status: NXDOMAIN"));

    let nodata = bed.netdx(&["--json", "dns", &at, "noaddr.lab.test"]);
    assert_eq!(nodata.code, 1, "{}", nodata.stderr);
    let doc = nodata.json();
    assert_eq!(doc["answers"][0]["rcode"], "NOERROR");
    assert_eq!(doc["answers"][0]["status"], "no_data");
    assert!(codes(&doc).contains(&"dns.nodata".to_string()), "{doc}");
    let dig = bed.dig(&[&at, "noaddr.lab.test", "A"]);
    assert!(dig.stdout.contains("status: NOERROR") && dig.stdout.contains("ANSWER: 0"));

    let human = bed.netdx(&["dns", &at, "noaddr.lab.test"]);
    assert!(
        human.stdout.contains("NOERROR but no A record"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("which is not NXDOMAIN"),
        "{}",
        human.stdout
    );
    // A CNAME to a name without addresses is no data at the end of the chain.
    let dangling = bed.netdx(&["dns", &at, "dangling.lab.test", "-t", "A"]);
    assert_eq!(dangling.code, 1);
    assert!(
        dangling.stdout.contains("end of the CNAME chain"),
        "{}",
        dangling.stdout
    );
    // A name with only some types still resolves: mail has no AAAA.
    let partial = bed.netdx(&["dns", &at, "mail.lab.test"]);
    assert_eq!(partial.code, 0, "{}", partial.stdout);
    assert!(
        partial.stdout.contains("no AAAA record"),
        "{}",
        partial.stdout
    );
    // A delegation is a referral, not "no data".
    let referral = bed.netdx(&["dns", &at, "sub.lab.test", "-t", "NS"]);
    assert!(
        referral.stdout.contains("dns.referral"),
        "{}",
        referral.stdout
    );
    assert!(
        referral.stdout.contains("ns.sub.lab.test."),
        "{}",
        referral.stdout
    );
}

#[test]
fn server_down_is_refused_quickly() {
    if !can_build_namespaces("server_down") {
        return;
    }
    let bed = Bed::new();
    let t0 = Instant::now();
    let run = bed.netdx(&[
        "--json",
        "--timeout",
        "3",
        "dns",
        &format!("@{}:5999", bed.addr),
        "web.lab.test",
        "-t",
        "A",
    ]);
    let took = t0.elapsed();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = run.json();
    assert_eq!(doc["answers"][0]["status"], "conn_refused", "{doc}");
    let d = &doc["diagnoses"][0];
    assert_eq!(d["code"], "dns.server_unreachable");
    assert_eq!(d["evidence"]["kind"], "refused");
    assert!(took < Duration::from_secs(2), "refusal took {took:?}");
    // TCP to a port nothing listens on: a reset, also "refused".
    let tcp = bed.netdx(&[
        "dns",
        "--tcp",
        &format!("@{}:5999", bed.addr),
        "web.lab.test",
    ]);
    assert_eq!(tcp.code, 1);
    assert!(tcp.stdout.contains("connection refused"), "{}", tcp.stdout);
}

#[test]
fn servfail_refused_and_failover_to_the_next_server() {
    if !can_build_namespaces("servfail_refused_failover") {
        return;
    }
    let bed = Bed::new();
    let at = bed.at();
    let run = bed.netdx(&["--json", "dns", &at, "x.broken.test", "-t", "A"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = run.json();
    assert_eq!(doc["answers"][0]["rcode"], "SERVFAIL", "{doc}");
    assert!(codes(&doc).contains(&"dns.servfail".to_string()), "{doc}");
    let run = bed.netdx(&["--json", "dns", &at, "refused.lab.test", "-t", "A"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = run.json();
    assert_eq!(doc["answers"][0]["rcode"], "REFUSED", "{doc}");
    assert!(codes(&doc).contains(&"dns.refused".to_string()), "{doc}");
    // Servers are tried in order: a dead first server falls over to the next.
    let dead = format!("{}:5999", bed.addr);
    let run = bed.netdx(&[
        "--json",
        "dns",
        "--server",
        &dead,
        "--server",
        &bed.addr,
        "web.lab.test",
        "-t",
        "A",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    let a = &doc["answers"][0];
    assert_eq!(a["server"], "198.18.0.2:53", "{a}");
    assert_eq!(a["attempts"][0]["outcome"], "connection refused", "{a}");
    assert_eq!(a["attempts"].as_array().map(Vec::len), Some(2), "{a}");
}

#[test]
fn dropped_queries_time_out_within_the_timeout() {
    if !can_build_namespaces("dropped_queries") {
        return;
    }
    let bed = Bed::new();
    bed.lab.nft(
        bed.lab.server(),
        "table inet drop53 {\n chain input {\n  type filter hook input priority 0;\n  \
         udp dport 53 drop\n  tcp dport 53 drop\n }\n}\n",
    );
    let t0 = Instant::now();
    let run = bed.netdx(&["--json", "--timeout", "1", "dns", &bed.at(), "web.lab.test"]);
    let took = t0.elapsed();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = run.json();
    assert_eq!(doc["answers"][0]["status"], "timeout", "{doc}");
    let d = &doc["diagnoses"][0];
    assert_eq!(d["code"], "dns.server_unreachable");
    assert_eq!(d["evidence"]["kind"], "timeout");
    // A and AAAA are asked concurrently: one timeout, plus start-up slack.
    assert!(
        took < Duration::from_millis(2200),
        "took {took:?} with --timeout 1"
    );
    assert!(
        took >= Duration::from_millis(900),
        "gave up early: {took:?}"
    );
}

#[test]
fn truncated_udp_answer_is_retried_over_tcp() {
    if !can_build_namespaces("truncated_udp") {
        return;
    }
    let mut bed = Bed::new();
    let at = big_answer_server(&mut bed);
    // Without EDNS the answer (40 A records, > 512 bytes) does not fit UDP.
    let dig_at = format!("@{}", bed.addr);
    let dig_udp = bed.dig(&[
        &dig_at,
        "-p",
        "5301",
        "+noedns",
        "+ignore",
        "many.lab.test",
        "A",
    ]);
    assert!(
        dig_udp.stdout.contains(" tc"),
        "server did not truncate: {}",
        dig_udp.stdout
    );
    let run = bed.netdx(&[
        "--json",
        "dns",
        "--no-edns",
        &at,
        "many.lab.test",
        "-t",
        "A",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    let a = &doc["answers"][0];
    assert_eq!(a["transport"], "tcp", "{a}");
    assert_eq!(a["truncated_udp"], true);
    assert_eq!(a["records"].as_array().map(Vec::len), Some(40));
    assert!(codes(&doc).contains(&"dns.truncated".to_string()));
    let ours = bed.netdx(&[
        "dns",
        "--short",
        "--no-edns",
        &at,
        "many.lab.test",
        "-t",
        "A",
    ]);
    let theirs = bed.dig(&[
        &dig_at,
        "-p",
        "5301",
        "+noedns",
        "+short",
        "many.lab.test",
        "A",
    ]);
    assert_eq!(sorted_lines(&theirs.stdout).len(), 40, "{}", theirs.stdout);
    assert_eq!(sorted_lines(&ours.stdout), sorted_lines(&theirs.stdout));
    // A small EDNS buffer truncates the same way; --tcp goes straight to TCP.
    let small = bed.netdx(&[
        "--json",
        "dns",
        "--bufsize",
        "512",
        &at,
        "many.lab.test",
        "-t",
        "A",
    ]);
    assert_eq!(small.json()["answers"][0]["truncated_udp"], true);
    let tcp = bed
        .netdx(&["--json", "dns", "--tcp", &at, "many.lab.test", "-t", "A"])
        .json();
    assert_eq!(tcp["answers"][0]["transport"], "tcp");
    assert_eq!(tcp["answers"][0]["truncated_udp"], false);
}

/// Starts the big-answer server on port 5301 (40 A records: more than 512
/// bytes, so a query without EDNS comes back truncated over UDP).
fn big_answer_server(bed: &mut Bed) -> String {
    let mut zone = ZONE.to_string();
    for i in 1..=40 {
        zone.push_str(&format!("many IN A 198.18.1.{i}\n"));
    }
    // A CNAME in front: the truncated answer keeps it (a partial answer).
    zone.push_str("bigalias IN CNAME many.lab.test.\n");
    bed.dir.write("big.zone", &zone);
    bed.start(5301, "big.zone");
    format!("@{}:5301", bed.addr)
}

#[test]
fn truncated_answer_with_tcp_blocked_is_a_tcp_fallback_failure() {
    if !can_build_namespaces("tcp_fallback_failed") {
        return;
    }
    let mut bed = Bed::new();
    let at = big_answer_server(&mut bed);
    // What dig shows of the truncated UDP answer: netdx must show the same.
    let dig = bed.dig(&[
        &format!("@{}", bed.addr),
        "-p",
        "5301",
        "+noedns",
        "+ignore",
        "+noall",
        "+answer",
        "bigalias.lab.test",
        "A",
    ]);
    let dig_partial = dig.stdout.lines().filter(|l| !l.trim().is_empty()).count();
    assert!(
        dig.stdout.contains("CNAME\tmany.lab.test."),
        "no partial answer from the server: {}",
        dig.stdout
    );
    for (verdict, kind, words) in [
        ("reject with tcp reset", "refused", "was refused"),
        ("drop", "timeout", "timed out"),
    ] {
        bed.lab.nft(
            bed.lab.server(),
            &format!(
                "table inet tcp53 {{\n chain input {{\n  type filter hook input priority 0;\n  \
                 tcp dport 5301 {verdict}\n }}\n}}\n"
            ),
        );
        let t0 = Instant::now();
        let run = bed.netdx(&[
            "--json",
            "--timeout",
            "2",
            "dns",
            "--no-edns",
            &at,
            "bigalias.lab.test",
            "-t",
            "A",
        ]);
        let took = t0.elapsed();
        assert_eq!(run.code, 1, "{verdict}: {}{}", run.stdout, run.stderr);
        let doc = run.json();
        let a = &doc["answers"][0];
        assert_eq!(a["status"], "tcp_fallback_failed", "{verdict}: {a}");
        assert_eq!(a["transport"], "udp", "{a}");
        assert_eq!(a["truncated_udp"], true, "{a}");
        assert_eq!(a["flags"]["tc"], true, "{a}");
        assert_eq!(a["failure"]["kind"], kind, "{a}");
        assert_eq!(
            a["records"].as_array().map(Vec::len),
            Some(dig_partial),
            "{verdict}: the partial answer differs from dig's: {a}\n{}",
            dig.stdout
        );
        let c = codes(&doc);
        assert_eq!(c, ["dns.tcp_fallback_failed"], "{verdict}: {doc}");
        let d = &doc["diagnoses"][0];
        assert_eq!(d["evidence"]["kind"], kind, "{d}");
        let summary = d["summary"].as_str().unwrap_or("");
        assert!(summary.contains("too big for UDP"), "{summary}");
        assert!(summary.contains(words), "{summary}");
        assert!(summary.contains("open TCP port 5301"), "{summary}");
        assert!(!summary.contains("nothing listens"), "{summary}");
        if kind == "refused" {
            assert!(took < Duration::from_millis(1500), "a reset took {took:?}");
        }
        // The human output shows the truncated answer like dig does.
        let human = bed.netdx(&[
            "--timeout",
            "2",
            "dns",
            "--no-edns",
            &at,
            "bigalias.lab.test",
            "-t",
            "A",
        ]);
        assert_eq!(human.code, 1);
        let out = &human.stdout;
        assert!(out.contains("partial answer only"), "{out}");
        assert!(out.contains("flags: qr aa tc rd"), "{out}");
        assert!(out.contains("dns.tcp_fallback_failed"), "{out}");
        let shown = out.lines().filter(|l| l.contains("  IN  ")).count();
        assert_eq!(shown, dig_partial, "{out}");
        assert!(
            out.contains("IN  CNAME  many.lab.test."),
            "the partial answer is not shown: {out}"
        );
        bed.lab.exec(
            bed.lab.server(),
            &["nft", "delete", "table", "inet", "tcp53"],
        );
    }
}

#[test]
fn icmp_rejects_from_a_router_are_named_not_read_as_silence() {
    if !can_build_namespaces("icmp_reject_router") {
        return;
    }
    let bed = Bed::with_routers(1);
    let router = bed.lab.router_v4(1);
    let v6_server = format!("@[{}]", bed.lab.server_v6());
    let cases = [
        (
            "reject with icmp type net-unreachable",
            bed.at(),
            0,
            "Destination Net Unreachable",
            "no route to the destination network",
            router.clone(),
        ),
        (
            "reject with icmp type admin-prohibited",
            bed.at(),
            13,
            "Packet filtered",
            "a firewall rule rejects the packet",
            router.clone(),
        ),
        (
            "reject with icmpv6 type admin-prohibited",
            v6_server,
            1,
            "Administratively prohibited",
            "a firewall rule rejects the packet",
            bed.lab.router_v6(1),
        ),
    ];
    for (verdict, at, code, text, meaning, from) in cases {
        bed.lab.nft(
            bed.lab.router(1),
            &format!(
                "table inet rej53 {{\n chain forward {{\n  type filter hook forward priority 0;\n  \
                 udp dport 53 {verdict}\n }}\n}}\n"
            ),
        );
        let t0 = Instant::now();
        let run = bed.netdx(&["--json", "--timeout", "3", "dns", &at, "web.lab.test"]);
        let took = t0.elapsed();
        assert_eq!(run.code, 1, "{verdict}: {}{}", run.stdout, run.stderr);
        assert!(took < Duration::from_secs(1), "{verdict}: took {took:?}");
        let doc = run.json();
        assert_eq!(codes(&doc), ["dns.server_unreachable"], "{verdict}: {doc}");
        let d = &doc["diagnoses"][0];
        assert_eq!(d["evidence"]["kind"], "icmp", "{verdict}: {d}");
        assert_eq!(d["evidence"]["router"], from.as_str(), "{verdict}: {d}");
        assert_eq!(d["evidence"]["icmp_code"], code, "{verdict}: {d}");
        let summary = d["summary"].as_str().unwrap_or("");
        assert!(summary.contains(&format!("router {from}")), "{summary}");
        assert!(summary.contains(text), "{verdict}: {summary}");
        assert!(summary.contains(meaning), "{verdict}: {summary}");
        assert!(!summary.contains("silently"), "{summary}");
        let a = &doc["answers"][0];
        assert_eq!(a["failure"]["kind"], "icmp", "{a}");
        bed.lab.exec(
            bed.lab.router(1),
            &["nft", "delete", "table", "inet", "rej53"],
        );
    }
}

#[test]
fn compare_reports_where_two_servers_disagree() {
    if !can_build_namespaces("compare") {
        return;
    }
    let mut bed = Bed::new();
    bed.start(5300, "other.zone");
    let conf = bed.dir.write(
        "resolv.conf",
        &format!("nameserver {}\noptions timeout:1 attempts:1\n", bed.addr),
    );
    let other = format!("@{}:5300", bed.addr);
    // Different data for the same name.
    let run = bed.netdx(&[
        "--json",
        "dns",
        "--compare",
        "--resolv-conf",
        &conf,
        &other,
        "web.lab.test",
        "-t",
        "A",
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let doc = run.json();
    assert_eq!(doc["comparisons"][0]["kind"], "answers", "{doc}");
    assert!(
        codes(&doc).contains(&"dns.split_horizon".to_string()),
        "{doc}"
    );
    let text = doc.to_string();
    assert!(
        text.contains("198.18.0.10") && text.contains("198.18.0.99"),
        "{text}"
    );
    // NXDOMAIN on one side, data on the other.
    let run = bed.netdx(&[
        "dns",
        "--compare",
        "--resolv-conf",
        &conf,
        &other,
        "onlyhere.lab.test",
        "-t",
        "A",
    ]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("DIFFERENT outcome"), "{}", run.stdout);
    assert!(run.stdout.contains("NXDOMAIN"), "{}", run.stdout);
    assert!(run.stdout.contains("dns.split_horizon"), "{}", run.stdout);
    // Agreement is a healthy check.
    let run = bed.netdx(&[
        "dns",
        "--compare",
        "--resolv-conf",
        &conf,
        &other,
        "mail.lab.test",
        "-t",
        "A",
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("dns.compare_agree"), "{}", run.stdout);
    // A compared server that does not answer is named, with the reason.
    let run = bed.netdx(&[
        "dns",
        "--compare",
        "--resolv-conf",
        &conf,
        "--timeout",
        "1",
        &format!("@{}:5999", bed.addr),
        "mail.lab.test",
        "-t",
        "A",
    ]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("dns.server_unreachable"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("5999"), "{}", run.stdout);
}

#[test]
fn resolv_conf_search_domains_and_ndots_are_honoured() {
    if !can_build_namespaces("resolv_conf_search") {
        return;
    }
    let bed = Bed::new();
    let conf1 = bed.dir.write(
        "resolv1.conf",
        &format!(
            "nameserver {}\nsearch corp.lab.test lab.test\noptions ndots:1 timeout:1\n",
            bed.addr
        ),
    );
    // `web` has no dot: search list first, corp.lab.test wins.
    let run = bed.netdx(&["--json", "dns", "--resolv-conf", &conf1, "web", "-t", "A"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    assert_eq!(doc["answers"][0]["qname"], "web.corp.lab.test.");
    assert_eq!(doc["answers"][0]["records"][0]["data"], "198.18.0.77");
    assert!(
        codes(&doc).contains(&"dns.search_domain".to_string()),
        "{doc}"
    );
    // `alpha.beta` has 1 dot: with ndots:1 it is tried as typed first.
    let run = bed.netdx(&[
        "--json",
        "dns",
        "--resolv-conf",
        &conf1,
        "alpha.beta",
        "-t",
        "A",
    ]);
    let doc = run.json();
    assert_eq!(run.code, 0, "{doc}");
    assert_eq!(
        doc["answers"][0]["attempts"][0]["qname"], "alpha.beta.",
        "{doc}"
    );
    assert_eq!(doc["answers"][0]["qname"], "alpha.beta.lab.test.");
    // With ndots:2 the search list comes first.
    let conf2 = bed.dir.write(
        "resolv2.conf",
        &format!(
            "nameserver {}\nsearch lab.test\noptions ndots:2\n",
            bed.addr
        ),
    );
    let run = bed.netdx(&[
        "--json",
        "dns",
        "--resolv-conf",
        &conf2,
        "alpha.beta",
        "-t",
        "A",
    ]);
    let doc = run.json();
    assert_eq!(
        doc["answers"][0]["attempts"][0]["qname"], "alpha.beta.lab.test.",
        "{doc}"
    );
    assert_eq!(
        doc["answers"][0]["attempts"].as_array().map(Vec::len),
        Some(1)
    );
    // A trailing dot switches the search list off.
    let run = bed.netdx(&["dns", "--resolv-conf", &conf1, "web.", "-t", "A"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("dns.nxdomain"), "{}", run.stdout);
    // A resolv.conf without a server cannot run: exit 3.
    let empty = bed.dir.write("empty.conf", "search lab.test\n");
    let run = bed.netdx(&["dns", "--resolv-conf", &empty, "web"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.starts_with("netdx: "), "{}", run.stderr);
}

#[test]
fn many_names_concurrently_in_order() {
    if !can_build_namespaces("many_names") {
        return;
    }
    let bed = Bed::new();
    let mut list = String::from("# names\n");
    for _ in 0..20 {
        list.push_str("web.lab.test\nmail.lab.test\n");
    }
    list.push_str("nope.lab.test\n");
    let file = bed.dir.write("names.txt", &list);
    let run = bed.netdx(&["dns", "-f", &file, &bed.at(), "-t", "A", "--short"]);
    assert_eq!(run.code, 1, "one name is NXDOMAIN: {}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 40, "{}", run.stdout);
    assert_eq!(lines[0], "198.18.0.10");
    assert_eq!(lines[1], "198.18.0.25");
    assert!(run.stderr.contains("dns.nxdomain"), "{}", run.stderr);
    let jsonl = bed.netdx(&[
        "--jsonl",
        "dns",
        "-f",
        &file,
        &bed.at(),
        "-t",
        "A",
        "web.lab.test",
    ]);
    let answers = jsonl
        .stdout
        .lines()
        .filter(|l| l.contains("\"event\":\"answer\""))
        .count();
    assert_eq!(answers, 42, "{}", jsonl.stdout);
    assert!(jsonl.stdout.contains("\"event\":\"summary\""));
    let human = bed.netdx(&["dns", &bed.at(), "-t", "A", "web.lab.test", "mail.lab.test"]);
    assert_eq!(human.code, 0);
    assert!(
        human.stdout.contains("2 names: 2 resolved, 0 failed"),
        "{}",
        human.stdout
    );
}

#[test]
fn other_subcommands_get_the_dns_diagnosis() {
    if !can_build_namespaces("shared_resolution") {
        return;
    }
    let bed = Bed::new();
    let _conf = bed.system_resolv_conf(&format!(
        "nameserver {}\nsearch lab.test\noptions timeout:1 attempts:1\n",
        bed.addr
    ));
    let run = bed.netdx(&["ping", "-c", "1", "nope.lab.test"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("dns.nxdomain"), "{}", run.stderr);
    assert!(run.stderr.contains("does not exist"), "{}", run.stderr);
    let run = bed.netdx(&["ping", "-c", "1", "noaddr.lab.test"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("dns.nodata"), "{}", run.stderr);
    // The system resolver itself works through the same file.
    let run = bed.netdx(&["dns", "--short", "web", "-t", "A"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "198.18.0.10");
}

#[test]
fn a_silent_system_resolver_is_bounded_by_the_timeout_and_asked_once() {
    if !can_build_namespaces("silent_system_resolver") {
        return;
    }
    let bed = Bed::new();
    // No options: libc alone would wait 5 s × 2 attempts.
    let _conf = bed.system_resolv_conf(&format!("nameserver {}\n", bed.addr));
    bed.lab.nft(
        bed.lab.server(),
        "table inet drop53 {\n chain input {\n  type filter hook input priority 0;\n  \
         udp dport 53 counter drop\n  tcp dport 53 counter drop\n }\n}\n",
    );
    for args in [
        &["--timeout", "1", "ping", "-c", "1", "somename.lab.test"][..],
        &["--timeout", "1", "tcp", "somename.lab.test:80"][..],
    ] {
        let before = dropped_queries(&bed);
        let t0 = Instant::now();
        let run = bed.netdx(args);
        let took = t0.elapsed();
        assert_eq!(run.code, 1, "{args:?}: {}{}", run.stdout, run.stderr);
        let text = format!("{}{}", run.stdout, run.stderr);
        assert!(text.contains("dns.server_unreachable"), "{args:?}: {text}");
        assert!(
            text.contains(&format!("no answer from {}:53 within 1.0 s", bed.addr)),
            "{args:?}: {text}"
        );
        assert!(took >= Duration::from_millis(900), "{args:?}: {took:?}");
        // Bounded by --timeout (with slack for a loaded machine); that there
        // is one round of questions is asserted by the query count below.
        assert!(
            took < Duration::from_millis(2600),
            "{args:?}: took {took:?}"
        );
        // getaddrinfo sends A and AAAA once; nobody asks again.
        let sent = dropped_queries(&bed) - before;
        assert!(
            (1..=2).contains(&sent),
            "{args:?}: {sent} queries reached the server"
        );
    }
}

/// Queries the server's drop53 table has dropped so far.
fn dropped_queries(bed: &Bed) -> u64 {
    let list = bed.lab.exec(
        bed.lab.server(),
        &["nft", "list", "table", "inet", "drop53"],
    );
    list.stdout
        .split("packets ")
        .skip(1)
        .filter_map(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

#[test]
fn bad_inputs_get_one_clear_line_and_exit_2() {
    // No namespace needed: these fail before any packet is sent.
    let bin = env!("CARGO_BIN_EXE_netdx");
    let cases: [(&[&str], &str); 9] = [
        (&["dns", "@198.18.0.2", "a..b.test"], "not a valid DNS name"),
        (
            &["dns", "@198.18.0.2", "-t", "BOGUS", "web.lab.test"],
            "unknown record type",
        ),
        (
            &["dns", "@ns1.lab.test", "web.lab.test"],
            "is not an IP address",
        ),
        (
            &["dns", "--server", "198.18.0.300", "web.lab.test"],
            "is not an IP address",
        ),
        (&["dns", "@198.18.0.2"], "give a name"),
        (
            &["dns", "--compare", "web.lab.test"],
            "--compare needs a server",
        ),
        (
            &["dns", "@198.18.0.2:99999", "web.lab.test"],
            "port 99999 is out of range 1-65535",
        ),
        (
            &["dns", "--server", "[2001:db8::2]:0", "web.lab.test"],
            "port 0 is out of range 1-65535",
        ),
        (
            &["dns", "-f", "/nonexistent/names.txt"],
            "cannot read /nonexistent/names.txt",
        ),
    ];
    for (args, words) in cases {
        let out = std::process::Command::new(bin)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let run = Run::from(out).of_netdx(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.starts_with("netdx: "),
            "{args:?}: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
        assert!(run.stderr.contains(words), "{args:?}: {}", run.stderr);
    }
}
