//! `netdx dns --tls` / `--https` against real servers in namespaces: a test
//! CA made with openssl, unbound serving DNS over TLS with a good, a
//! wrong-name and an expired certificate, and a small DoH front end (python
//! http.server + ssl, forwarding application/dns-message to unbound over
//! UDP: test infrastructure, HTTP/1.1 like netdx's client, since unbound's
//! own DoH is HTTP/2 only).

mod common;
use common::tempdir::TempDir;
use common::{can_build_namespaces, Lab, Run};
use std::process::Command;
use std::time::{Duration, Instant};

/// The names the servers answer.
const LOCAL_DATA: &str = r#"  local-zone: "lab.test." static
  local-data: "lab.test. 3600 IN SOA ns1.lab.test. hostmaster.lab.test. 1 3600 900 604800 300"
  local-data: "web.lab.test. 3600 IN A 198.18.0.10"
  local-data: "web.lab.test. 3600 IN AAAA 2001:db8::10"
  local-data: "mail.lab.test. 3600 IN A 198.18.0.25"
"#;

/// The DoH front end: POST/GET application/dns-message on /dns-query,
/// relayed to unbound over UDP; /page is an ordinary web page; anything
/// else is 404.
const DOH_PY: &str = r#"
import base64, socket, ssl, sys
from http.server import HTTPServer, BaseHTTPRequestHandler
addr, port, upstream, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def reply(self, code, ctype, body):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def relay(self, q):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2)
        s.sendto(q, (upstream, 53))
        a, _ = s.recvfrom(65535)
        self.reply(200, "application/dns-message", a)
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/dns-query":
            if self.headers.get("Content-Type") != "application/dns-message":
                return self.reply(415, "text/plain", b"unsupported media type")
            return self.relay(body)
        if self.path == "/page":
            return self.reply(200, "text/html", b"<html><body>hello</body></html>")
        self.reply(404, "text/plain", b"not found")
    def do_GET(self):
        if self.path.startswith("/dns-query?dns="):
            q = self.path.split("=", 1)[1]
            return self.relay(base64.urlsafe_b64decode(q + "=" * (-len(q) % 4)))
        self.reply(404, "text/plain", b"not found")
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = HTTPServer((addr, port), H)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print("ready", flush=True)
srv.serve_forever()
"#;

/// A lab with a test CA, unbound on :53 (plain) and DoT on :853 (good
/// certificate), :854 (certificate for another name), :855 (expired).
struct Bed {
    lab: Lab,
    dir: TempDir,
    addr: String,
}

fn openssl(dir: &TempDir, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl: {e}"));
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Bed {
    fn new(tag: &str) -> Bed {
        let lab = Lab::chain(0);
        let addr = lab.server_v4();
        let bed = Bed {
            lab,
            dir: TempDir::new(tag),
            addr,
        };
        bed.make_certs();
        bed
    }

    /// The CA and three server certificates, all through `openssl ca` so
    /// the expired one can carry past dates.
    fn make_certs(&self) {
        let d = &self.dir;
        let path = d.path();
        d.write("index.txt", "");
        d.write("serial", "1000\n");
        d.write(
            "ca.cnf",
            &format!(
                r#"[ ca ]
default_ca = lab
[ lab ]
dir = {path}
database = {path}/index.txt
new_certs_dir = {path}
serial = {path}/serial
default_md = sha256
policy = any
unique_subject = no
default_days = 30
[ any ]
commonName = supplied
organizationName = optional
[ good ]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:dns.lab.test, IP:{addr}
[ other ]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:other.example.test
[ req ]
distinguished_name = dn
[ dn ]
[ v3ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
"#,
                addr = self.addr
            ),
        );
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
        let mut ca = vec!["req", "-x509", "-config", "ca.cnf", "-extensions", "v3ca"];
        ca.extend_from_slice(&ec);
        ca.extend_from_slice(&[
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "30",
            "-subj",
            "/O=netdx lab/CN=netdx test CA",
        ]);
        openssl(d, &ca);
        for (name, cn, ext, dates) in [
            ("good", "dns.lab.test", "good", None),
            ("other", "other.example.test", "other", None),
            (
                "expired",
                "dns.lab.test",
                "good",
                Some(("20200101000000Z", "20200201000000Z")),
            ),
        ] {
            let key = format!("{name}.key");
            let csr = format!("{name}.csr");
            let pem = format!("{name}.pem");
            let subj = format!("/CN={cn}");
            let mut req = vec!["req", "-new", "-config", "ca.cnf"];
            req.extend_from_slice(&ec);
            req.extend_from_slice(&["-nodes", "-keyout", &key, "-out", &csr, "-subj", &subj]);
            openssl(d, &req);
            let mut sign = vec![
                "ca",
                "-batch",
                "-config",
                "ca.cnf",
                "-cert",
                "ca.pem",
                "-keyfile",
                "ca.key",
                "-in",
                &csr,
                "-out",
                &pem,
                "-extensions",
                ext,
                "-notext",
            ];
            if let Some((start, end)) = dates {
                sign.extend_from_slice(&["-startdate", start, "-enddate", end]);
            }
            openssl(d, &sign);
        }
        let san = format!("subjectAltName=DNS:selfsigned.lab.test, IP:{}", self.addr);
        let mut own = vec!["req", "-x509", "-config", "ca.cnf"];
        own.extend_from_slice(&ec);
        own.extend_from_slice(&[
            "-nodes",
            "-keyout",
            "self.key",
            "-out",
            "self.pem",
            "-days",
            "30",
            "-subj",
            "/CN=selfsigned.lab.test",
            "-addext",
            "basicConstraints=CA:FALSE",
            "-addext",
            &san,
        ]);
        openssl(d, &own);
    }

    /// Starts unbound: plain DNS on :53 and DoT on `tls_port` with `cert`.
    fn unbound(&mut self, tls_port: u16, cert: &str) {
        let dir = self.dir.path();
        let plain = if tls_port == 853 {
            format!("  interface: {}@53\n", self.addr)
        } else {
            String::new()
        };
        let port_line = if tls_port == 8443 {
            "https-port: 8443\n  http-endpoint: \"/dns-query\"".to_string()
        } else {
            format!("tls-port: {tls_port}")
        };
        let conf = format!(
            r#"server:
{plain}  interface: {addr}@{tls_port}
  {port_line}
  tls-service-key: "{dir}/{cert}.key"
  tls-service-pem: "{dir}/{cert}.pem"
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
  verbosity: 0
{LOCAL_DATA}remote-control:
  control-enable: no
"#,
            addr = self.addr
        );
        let path = self.dir.write(&format!("unbound-{tls_port}.conf"), &conf);
        let server = self.lab.server().to_string();
        let check = self.lab.exec(&server, &["unbound-checkconf", &path]);
        assert_eq!(
            check.code, 0,
            "unbound-checkconf: {}{}",
            check.stdout, check.stderr
        );
        self.lab.spawn(&server, &["unbound", "-d", "-c", &path]);
        self.wait_port(tls_port);
    }

    /// Starts the DoH front end on :443 with the good certificate.
    fn doh(&mut self) {
        let script = self.dir.write("doh.py", DOH_PY);
        let dir = self.dir.path();
        let (cert, key) = (format!("{dir}/good.pem"), format!("{dir}/good.key"));
        let server = self.lab.server().to_string();
        let addr = self.addr.clone();
        self.lab.spawn(
            &server,
            &["python3", &script, &addr, "443", &addr, &cert, &key],
        );
        self.wait_port(443);
    }

    /// Waits until something listens on TCP `port` at the server.
    fn wait_port(&self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(15);
        let want = format!(":{port} ");
        loop {
            let ss = self.lab.exec(self.lab.server(), &["ss", "-Htln"]);
            if ss.stdout.lines().any(|l| l.contains(&want)) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "nothing listens on :{port}: {}",
                ss.stdout
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn netdx(&self, args: &[&str]) -> Run {
        self.lab.netdx(self.lab.client(), args)
    }

    fn ca(&self) -> String {
        format!("{}/ca.pem", self.dir.path())
    }
}

/// The sorted A data of a `--json` run's first answer.
fn a_data(run: &Run) -> Vec<String> {
    let doc = run.json();
    let mut v: Vec<String> = doc["answers"][0]["records"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|r| r["type"] == "A")
                .filter_map(|r| r["data"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The codes of a `--json` run's diagnoses.
fn codes(run: &Run) -> Vec<String> {
    run.json()["diagnoses"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|d| d["code"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The first diagnosis with `code`.
fn diagnosis(run: &Run, code: &str) -> serde_json::Value {
    run.json()["diagnoses"]
        .as_array()
        .and_then(|a| a.iter().find(|d| d["code"] == code).cloned())
        .unwrap_or_else(|| panic!("no {code} in {}\n{}", run.stdout, run.stderr))
}

#[test]
fn dns_over_tls_answers_and_certificate_failures_are_named() {
    if !can_build_namespaces("dns_over_tls_answers_and_certificate_failures_are_named") {
        return;
    }
    let mut bed = Bed::new("dnstls");
    bed.unbound(853, "good");
    bed.unbound(854, "other");
    bed.unbound(855, "expired");
    bed.unbound(856, "self");
    let at = format!("@{}", bed.addr);
    let ca = bed.ca();

    // The answer over TLS equals the one over UDP, and dig +tls's.
    let udp = bed.netdx(&["dns", "-t", "A", "web.lab.test", &at, "--json"]);
    assert_eq!(udp.code, 0, "{}{}", udp.stdout, udp.stderr);
    let started = Instant::now();
    let tls = bed.netdx(&[
        "dns",
        "-t",
        "A",
        "web.lab.test",
        &at,
        "--tls",
        "--ca-file",
        &ca,
        "--tls-name",
        "dns.lab.test",
        "--json",
    ]);
    assert_eq!(tls.code, 0, "{}{}", tls.stdout, tls.stderr);
    assert_eq!(a_data(&tls), a_data(&udp));
    assert_eq!(a_data(&tls), ["198.18.0.10"]);
    let doc = tls.json();
    let a = &doc["answers"][0];
    assert_eq!(a["transport"], "tls");
    assert_eq!(a["server"], format!("{}:853", bed.addr));
    let s = &a["tls"];
    assert!(
        s["version"]
            .as_str()
            .is_some_and(|v| v.starts_with("TLSv1.")),
        "{s}"
    );
    assert!(
        s["cipher"].as_str().is_some_and(|c| c.starts_with("TLS")),
        "{s}"
    );
    assert_eq!(s["cert"]["subject"], "CN=dns.lab.test");
    assert_eq!(s["cert"]["issuer"], "O=netdx lab, CN=netdx test CA");
    assert_eq!(s["cert"]["names"][0], "dns.lab.test");
    assert!(s["handshake_ms"].as_f64().is_some_and(|t| t > 0.0));
    assert!(s["query_ms"].as_f64().is_some_and(|t| t > 0.0));
    assert!(started.elapsed() < Duration::from_secs(3));

    let dig = bed.lab.exec(
        bed.lab.client(),
        &[
            "dig",
            "+tls",
            &format!("+tls-ca={ca}"),
            "+tls-hostname=dns.lab.test",
            "+short",
            &at,
            "web.lab.test",
            "A",
        ],
    );
    assert_eq!(dig.code, 0, "dig +tls: {}{}", dig.stdout, dig.stderr);
    assert_eq!(dig.stdout.trim(), "198.18.0.10");

    // The server's IP is on the good certificate too: no --tls-name needed.
    let by_ip = bed.netdx(&["dns", "web.lab.test", &at, "--tls", "--ca-file", &ca]);
    assert_eq!(by_ip.code, 0, "{}{}", by_ip.stdout, by_ip.stderr);
    assert!(
        by_ip.stdout.contains("DNS over TLS: TLSv1."),
        "{}",
        by_ip.stdout
    );
    assert!(
        by_ip.stdout.contains("certificate: CN=dns.lab.test"),
        "{}",
        by_ip.stdout
    );

    // A batch reuses its DoT connections: one handshake, then queries only.
    let names = bed.dir.write(
        "names.txt",
        "web.lab.test\nmail.lab.test\nweb.lab.test\nmail.lab.test\nweb.lab.test\n",
    );
    let batch = bed.netdx(&[
        "dns",
        "-t",
        "A",
        "-f",
        &names,
        &at,
        "--tls",
        "--ca-file",
        &ca,
        "--concurrency",
        "1",
        "--json",
    ]);
    assert_eq!(batch.code, 0, "{}{}", batch.stdout, batch.stderr);
    let doc = batch.json();
    let answers = doc["answers"].as_array().cloned().unwrap_or_default();
    assert_eq!(answers.len(), 5);
    assert_eq!(answers[0]["tls"]["reused"], false);
    let reused = answers
        .iter()
        .filter(|a| a["tls"]["reused"] == true)
        .count();
    assert!(
        reused >= 3,
        "only {reused} of 5 reused a connection: {}",
        batch.stdout
    );

    // Each failure is named, fast, with its evidence.
    let fail = |args: &[&str], code: &str| -> serde_json::Value {
        let t0 = Instant::now();
        let run = bed.netdx(args);
        let took = t0.elapsed();
        assert_eq!(run.code, 1, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(took < Duration::from_secs(2), "{args:?} took {took:?}");
        assert!(
            codes(&run).contains(&code.to_string()),
            "{args:?}: {}",
            run.stdout
        );
        diagnosis(&run, code)
    };
    let at854 = format!("@{}:854", bed.addr);
    let d = fail(
        &[
            "dns",
            "-t",
            "A",
            "web.lab.test",
            &at854,
            "--tls",
            "--ca-file",
            &ca,
            "--tls-name",
            "dns.lab.test",
            "--timeout",
            "5",
            "--json",
        ],
        "dns.tls_name_mismatch",
    );
    assert_eq!(d["evidence"]["expected"], "dns.lab.test");
    assert_eq!(d["evidence"]["cert_names"][0], "other.example.test");
    assert!(
        d["summary"]
            .as_str()
            .is_some_and(|s| s.contains("other.example.test")),
        "{d}"
    );

    let at855 = format!("@{}:855", bed.addr);
    let d = fail(
        &[
            "dns",
            "-t",
            "A",
            "web.lab.test",
            &at855,
            "--tls",
            "--ca-file",
            &ca,
            "--timeout",
            "5",
            "--json",
        ],
        "dns.tls_cert_expired",
    );
    assert_eq!(d["evidence"]["not_after"], "2020-02-01 00:00:00 UTC");
    assert!(
        d["summary"]
            .as_str()
            .is_some_and(|s| s.contains("expired on 2020-02-01")),
        "{d}"
    );

    let d = fail(
        &[
            "dns",
            "-t",
            "A",
            "web.lab.test",
            &at,
            "--tls",
            "--timeout",
            "5",
            "--json",
        ],
        "dns.tls_unknown_ca",
    );
    assert_eq!(d["evidence"]["issuer"], "O=netdx lab, CN=netdx test CA");

    // A self-signed server certificate: named as such.
    let at856 = format!("@{}:856", bed.addr);
    let d = fail(
        &[
            "dns",
            "-t",
            "A",
            "web.lab.test",
            &at856,
            "--tls",
            "--ca-file",
            &ca,
            "--timeout",
            "5",
            "--json",
        ],
        "dns.tls_self_signed",
    );
    assert_eq!(d["evidence"]["subject"], "CN=selfsigned.lab.test");

    // Nothing listens on 853 at the v6 address: refused, at once.
    let v6 = format!("@[{}]", bed.lab.server_v6());
    let d = fail(
        &[
            "dns",
            "-t",
            "A",
            "web.lab.test",
            &v6,
            "--tls",
            "--ca-file",
            &ca,
            "--timeout",
            "5",
            "--json",
        ],
        "dns.server_unreachable",
    );
    assert_eq!(d["evidence"]["kind"], "refused");

    // Plain DNS on the TLS port: a handshake failure, not a timeout.
    let at53 = format!("@{}:53", bed.addr);
    fail(
        &[
            "dns",
            "-t",
            "A",
            "web.lab.test",
            &at53,
            "--tls",
            "--ca-file",
            &ca,
            "--timeout",
            "1",
            "--json",
        ],
        "dns.tls_handshake_failed",
    );

    // explain knows the codes.
    let explain = bed.netdx(&["explain", "dns.tls_name_mismatch"]);
    assert_eq!(explain.code, 0, "{}{}", explain.stdout, explain.stderr);
}

#[test]
fn dns_over_https_answers_and_http_errors_are_named() {
    if !can_build_namespaces("dns_over_https_answers_and_http_errors_are_named") {
        return;
    }
    let mut bed = Bed::new("dnshttps");
    bed.unbound(853, "good");
    bed.doh();
    let ca = bed.ca();
    let at = format!("@{}", bed.addr);

    // @ADDR + --https: the default path /dns-query.
    let run = bed.netdx(&[
        "dns",
        "-t",
        "A",
        "web.lab.test",
        &at,
        "--https",
        "--ca-file",
        &ca,
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(a_data(&run), ["198.18.0.10"]);
    let doc = run.json();
    let a = &doc["answers"][0];
    assert_eq!(a["transport"], "https");
    assert_eq!(a["tls"]["url"], format!("https://{}/dns-query", bed.addr));
    assert_eq!(a["tls"]["alpn"], serde_json::Value::Null);

    // A URL with an address host, and the certificate name given apart.
    let url = format!("@https://{}:443/dns-query", bed.addr);
    let run = bed.netdx(&[
        "dns",
        "mail.lab.test",
        &url,
        "--ca-file",
        &ca,
        "--tls-name",
        "dns.lab.test",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("198.18.0.25"), "{}", run.stdout);
    assert!(
        run.stdout.contains("DNS over HTTPS https://"),
        "{}",
        run.stdout
    );

    let fail = |args: &[&str], code: &str| -> serde_json::Value {
        let t0 = Instant::now();
        let run = bed.netdx(args);
        assert_eq!(run.code, 1, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(
            t0.elapsed() < Duration::from_secs(2),
            "{args:?} took {:?}",
            t0.elapsed()
        );
        diagnosis(&run, code)
    };
    let wrong = format!("@https://{}/resolve", bed.addr);
    let d = fail(
        &[
            "dns",
            "-t",
            "A",
            "web.lab.test",
            &wrong,
            "--ca-file",
            &ca,
            "--timeout",
            "5",
            "--json",
        ],
        "dns.doh_http_status",
    );
    assert_eq!(d["evidence"]["status"], 404);
    assert!(
        d["summary"]
            .as_str()
            .is_some_and(|s| s.contains("HTTP 404") && s.contains("/dns-query")),
        "{d}"
    );

    let page = format!("@https://{}/page", bed.addr);
    let d = fail(
        &[
            "dns",
            "-t",
            "A",
            "web.lab.test",
            &page,
            "--ca-file",
            &ca,
            "--timeout",
            "5",
            "--json",
        ],
        "dns.doh_not_dns",
    );
    assert_eq!(d["evidence"]["content_type"], "text/html");

    // unbound's own DoH speaks HTTP/2 only: named, not a hang.
    bed.unbound(8443, "good");
    let h2 = format!("@https://{}:8443/dns-query", bed.addr);
    let t0 = Instant::now();
    let run = bed.netdx(&[
        "dns",
        "-t",
        "A",
        "web.lab.test",
        &h2,
        "--ca-file",
        &ca,
        "--timeout",
        "5",
        "--json",
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        t0.elapsed() < Duration::from_secs(2),
        "took {:?}",
        t0.elapsed()
    );
    let d = diagnosis(&run, "dns.doh_no_http_response");
    assert!(
        d["summary"]
            .as_str()
            .is_some_and(|s| s.contains("HTTP/2-only")),
        "{d}"
    );

    // DoH to the DoT port: TLS works, HTTP does not.
    let dot = format!("@https://{}:853/dns-query", bed.addr);
    let run = bed.netdx(&[
        "dns",
        "-t",
        "A",
        "web.lab.test",
        &dot,
        "--ca-file",
        &ca,
        "--timeout",
        "1",
        "--json",
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let d = diagnosis(&run, "dns.tcp_stalled");
    assert!(
        d["summary"]
            .as_str()
            .is_some_and(|s| s.contains("TLS session was set up") && s.contains("853")),
        "{d}"
    );
    let doc = run.json();
    assert_eq!(
        doc["answers"][0]["tls"]["cert"]["subject"],
        "CN=dns.lab.test"
    );
}

#[test]
fn bad_tls_arguments_are_usage_errors_before_any_packet() {
    for (args, words) in [
        (&["dns", "--tls", "web.lab.test"][..], "needs a server"),
        (
            &[
                "dns",
                "--tls",
                "--ca-file",
                "/nonexistent/ca.pem",
                "web.lab.test",
                "@198.18.0.2",
            ],
            "--ca-file /nonexistent/ca.pem",
        ),
        (
            &[
                "dns",
                "--tls",
                "--ca-file",
                "/etc/hostname",
                "web.lab.test",
                "@198.18.0.2",
            ],
            "holds no PEM certificate",
        ),
        (
            &["dns", "--tls-name", "x.test", "web.lab.test", "@198.18.0.2"],
            "apply to --tls or --https",
        ),
        (
            &["dns", "web.lab.test", "@https://198.18.0.2:0/x"],
            "not 1-65535",
        ),
        (&["dns", "web.lab.test", "@https:///x"], "has no host"),
        (
            &["dns", "--tls", "--compare", "web.lab.test", "@198.18.0.2"],
            "--compare",
        ),
    ] {
        let run = common::netdx_here(args);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(words), "{args:?}: {}", run.stderr);
    }
}
