//! `netdx serve` on the namespace test bed: the exporter runs in the client
//! namespace, curl asks it for probes of an answering host, a silent host,
//! an open, a closed and a filtered port, names through a real unbound, and
//! an mtr path; every answer passes `promtool check metrics`; bad requests
//! get 400, targets outside `--allow` 403.

mod common;
use common::tempdir::TempDir;
use common::{can_build_namespaces, Lab, Run};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// The exporter's port inside the client namespace.
const PORT: u16 = 9469;

/// /etc/netns/NAME (the client's resolv.conf), removed on drop.
struct NetnsEtc(PathBuf);

impl Drop for NetnsEtc {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One HTTP answer: status and body.
struct Answer {
    status: u16,
    body: String,
}

impl Answer {
    /// The value of the sample whose line starts with `series` and a space.
    fn value(&self, series: &str) -> Option<f64> {
        self.body.lines().find_map(|l| {
            let rest = l.strip_prefix(series)?.strip_prefix(' ')?;
            rest.trim().parse().ok()
        })
    }

    fn must(&self, series: &str) -> f64 {
        self.value(series)
            .unwrap_or_else(|| panic!("no {series} in:\n{}", self.body))
    }

    /// The `code` labels of the netdx_diagnosis series.
    fn codes(&self) -> Vec<String> {
        self.body
            .lines()
            .filter_map(|l| l.strip_prefix("netdx_diagnosis{code=\""))
            .filter_map(|l| l.split('"').next())
            .map(str::to_string)
            .collect()
    }
}

/// The lab: client (exporter) — r1 — server (198.18.1.2: listener on 8080,
/// nothing on 8081, unbound on 53; 198.18.1.3 drops everything).
struct Bed {
    lab: Lab,
    dir: TempDir,
    _etc: NetnsEtc,
}

/// A listener that accepts and closes.
const LISTENER: &str = r#"
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080))
s.listen(64)
while True:
    c, _ = s.accept()
    c.close()
"#;

/// Modules beside the built-in ones.
const CONFIG: &str = r#"
[modules.icmp_fast]
prober = "icmp"
count = 5
interval = 0.2

[modules.dns_web]
prober = "dns"
query_name = "web.lab.test"
query_type = "A"

[modules.tcp_lab]
prober = "tcp"
targets = ["198.18.1.2/32", "*.lab.test"]

[modules.icmp_net]
prober = "icmp"
count = 1
targets = ["198.18.1.2/32"]
"#;

impl Bed {
    fn new() -> Bed {
        let mut lab = Lab::chain(1);
        let server = lab.server().to_string();
        let client = lab.client().to_string();
        let dir = TempDir::new(&client);
        let r = lab.exec(
            &server,
            &["ip", "addr", "add", "198.18.1.3/24", "dev", "west"],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        lab.nft(
            &server,
            "table inet silent {\n chain input {\n  type filter hook input priority 0;\n  ip daddr 198.18.1.3 drop\n }\n}\n",
        );
        lab.spawn(&server, &["python3", "-c", LISTENER]);
        let conf = format!(
            "server:\n  interface: 198.18.1.2@53\n  chroot: \"\"\n  username: \"\"\n  directory: \"{dir}\"\n  pidfile: \"\"\n  use-syslog: no\n  logfile: \"\"\n  do-daemonize: no\n  num-threads: 1\n  access-control: 0.0.0.0/0 allow\n  module-config: \"iterator\"\n  local-zone: \"lab.test.\" static\n  local-data: \"web.lab.test. A 198.18.1.2\"\n  verbosity: 0\nremote-control:\n  control-enable: no\n",
            dir = dir.0.display()
        );
        let unbound_conf = dir.write("unbound.conf", &conf);
        lab.spawn(&server, &["unbound", "-d", "-c", &unbound_conf]);
        let etc = PathBuf::from("/etc/netns").join(&client);
        std::fs::create_dir_all(&etc).unwrap_or_else(|e| panic!("{e}"));
        let etc = NetnsEtc(etc);
        std::fs::write(
            etc.0.join("resolv.conf"),
            "nameserver 198.18.1.2\noptions timeout:1 attempts:1\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let config = dir.write("serve.toml", CONFIG);
        let bin = env!("CARGO_BIN_EXE_netdx");
        let listen = format!("127.0.0.1:{PORT}");
        lab.spawn(
            &client,
            &[
                bin,
                "serve",
                "--listen",
                &listen,
                "--allow",
                "198.18.0.0/15",
                "--config",
                &config,
            ],
        );
        let bed = Bed {
            lab,
            dir,
            _etc: etc,
        };
        bed.wait_until_up(&server);
        bed
    }

    /// Waits for the exporter, the listener and unbound.
    fn wait_until_up(&self, server: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let exporter = self.get("/metrics", &[]).status == 200;
            let ss = self.lab.exec(server, &["ss", "-Hltnu"]).stdout;
            if exporter && ss.contains(":8080 ") && ss.contains("198.18.1.2:53 ") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "exporter, listener or unbound did not start:\n{ss}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends SIGHUP to the exporter: the netdx process in the client namespace.
    fn hangup(&self) {
        let run = Command::new("ip")
            .args(["netns", "pids", self.lab.client()])
            .output()
            .unwrap_or_else(|e| panic!("ip netns pids: {e}"));
        let text = String::from_utf8_lossy(&run.stdout).to_string();
        let pid = text
            .split_whitespace()
            .find(|p| {
                // The exporter with the config file (a test may run others).
                std::fs::read(format!("/proc/{p}/cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains("serve.toml"))
            })
            .unwrap_or_else(|| panic!("no netdx serve --config in {}: {text}", self.lab.client()));
        let kill = Command::new("kill").args(["-HUP", pid]).output();
        assert!(kill.is_ok_and(|o| o.status.success()), "kill -HUP {pid}");
    }

    /// GET `path` from the exporter with extra curl arguments.
    fn get(&self, path: &str, extra: &[&str]) -> Answer {
        let url = format!("http://127.0.0.1:{PORT}{path}");
        let mut cmd = vec!["curl", "-sS", "--max-time", "20", "-w", "\n%{http_code}"];
        cmd.extend_from_slice(extra);
        cmd.push(&url);
        let run: Run = self.lab.exec(self.lab.client(), &cmd);
        let (body, status) = run.stdout.rsplit_once('\n').unwrap_or(("", "0"));
        Answer {
            status: status.trim().parse().unwrap_or(0),
            body: body.to_string(),
        }
    }

    /// `/probe` of `module` at `target` (plus more query text), checked by promtool.
    fn probe(&self, module: &str, target: &str, more: &str) -> Answer {
        let a = self.get(
            &format!("/probe?module={module}&target={target}{more}"),
            &["-H", "X-Prometheus-Scrape-Timeout-Seconds: 4"],
        );
        assert_eq!(a.status, 200, "{module} {target}: {}", a.body);
        promtool_accepts(&a.body);
        a
    }
}

/// `promtool check metrics` takes the text without a complaint.
fn promtool_accepts(text: &str) {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("promtool (Debian package prometheus, see .ci/run): {e}"));
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(text.as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn probes_report_success_figures_and_diagnoses() {
    if !can_build_namespaces("serve") {
        return;
    }
    let bed = Bed::new();

    // An answering host one router away.
    let a = bed.probe("icmp", "198.18.1.2", "");
    assert_eq!(a.must("probe_success"), 1.0, "{}", a.body);
    assert_eq!(a.must("probe_icmp_packets_sent"), 3.0);
    assert_eq!(a.must("probe_icmp_packets_received"), 3.0);
    assert_eq!(a.must("probe_icmp_loss_ratio"), 0.0);
    assert_eq!(a.must("probe_icmp_reply_ttl"), 63.0);
    assert_eq!(a.must("probe_icmp_hops"), 1.0);
    assert!(a.must("probe_icmp_rtt_max_seconds") >= a.must("probe_icmp_rtt_min_seconds"));
    assert!(a.codes().is_empty(), "{}", a.body);

    // The config file's module: five packets.
    let a = bed.probe("icmp_fast", "198.18.1.2", "");
    assert_eq!(a.must("probe_icmp_packets_sent"), 5.0, "{}", a.body);

    // A silent host: failed, said why, within the scrape timeout.
    let a = bed.probe("icmp", "198.18.1.3", "");
    assert_eq!(a.must("probe_success"), 0.0, "{}", a.body);
    assert_eq!(a.must("probe_icmp_packets_sent"), 3.0, "{}", a.body);
    assert_eq!(a.must("probe_icmp_packets_received"), 0.0);
    assert_eq!(a.must("probe_icmp_loss_ratio"), 1.0);
    assert!(a.codes().contains(&"ping.silent".to_string()), "{}", a.body);
    assert!(a.must("probe_duration_seconds") < 3.5, "{}", a.body);

    // Open, closed and filtered ports.
    let a = bed.probe("tcp", "198.18.1.2:8080", "");
    assert_eq!(a.must("probe_success"), 1.0, "{}", a.body);
    assert_eq!(a.must("probe_tcp_state{state=\"open\"}"), 1.0);
    assert_eq!(a.must("probe_tcp_errno{errno=\"none\"}"), 0.0);
    assert!(a.must("probe_tcp_connect_seconds") > 0.0);
    let a = bed.probe("tcp", "198.18.1.2:8081", "");
    assert_eq!(a.must("probe_success"), 0.0, "{}", a.body);
    assert_eq!(
        a.must("netdx_diagnosis{code=\"tcp.refused\",severity=\"critical\"}"),
        1.0
    );
    assert_eq!(a.must("probe_tcp_errno{errno=\"ECONNREFUSED\"}"), 111.0);
    let a = bed.probe("tcp", "198.18.1.3:80", "");
    assert_eq!(a.must("probe_success"), 0.0, "{}", a.body);
    assert_eq!(a.must("probe_tcp_state{state=\"filtered\"}"), 1.0);
    assert!(a.codes().contains(&"tcp.timeout".to_string()), "{}", a.body);
    assert!(a.must("probe_duration_seconds") < 4.0, "{}", a.body);

    // A shorter scrape timeout shortens the probe: 1.5 s less the 0.5 s offset.
    let a = bed.get(
        "/probe?module=tcp&target=198.18.1.3:80",
        &["-H", "X-Prometheus-Scrape-Timeout-Seconds: 1.5"],
    );
    assert_eq!(a.must("probe_success"), 0.0, "{}", a.body);
    let took = a.must("probe_duration_seconds");
    assert!((0.9..1.3).contains(&took), "took {took} s: {}", a.body);

    // DNS: a name, an NXDOMAIN, the config module's name.
    let a = bed.probe("dns", "198.18.1.2", "&name=web.lab.test");
    assert_eq!(a.must("probe_success"), 1.0, "{}", a.body);
    assert_eq!(a.must("probe_dns_answer_rrs"), 1.0);
    assert_eq!(a.must("probe_dns_rcode{rcode=\"NOERROR\"}"), 1.0);
    let a = bed.probe("dns", "198.18.1.2", "&name=nope.lab.test");
    assert_eq!(a.must("probe_success"), 0.0, "{}", a.body);
    assert_eq!(a.must("probe_dns_rcode{rcode=\"NXDOMAIN\"}"), 1.0);
    assert!(
        a.codes().contains(&"dns.nxdomain".to_string()),
        "{}",
        a.body
    );
    let a = bed.probe("dns_web", "198.18.1.2:53", "");
    assert_eq!(a.must("probe_success"), 1.0, "{}", a.body);

    // A target given by name, resolved through the client's resolver.
    let a = bed.probe("icmp", "web.lab.test", "");
    assert_eq!(a.must("probe_success"), 1.0, "{}", a.body);
    let a = bed.probe("icmp", "nope.lab.test", "");
    assert_eq!(a.must("probe_success"), 0.0, "{}", a.body);

    // mtr: one series per hop, labelled.
    let a = bed.probe("mtr", "198.18.1.2", "");
    assert_eq!(a.must("probe_success"), 1.0, "{}", a.body);
    assert_eq!(a.must("probe_mtr_hops"), 2.0);
    assert_eq!(
        a.must("probe_mtr_hop_loss_ratio{hop=\"1\",address=\"198.18.0.2\"}"),
        0.0
    );
    assert_eq!(
        a.must("probe_mtr_hop_loss_ratio{hop=\"2\",address=\"198.18.1.2\"}"),
        0.0
    );
    assert!(a.must("probe_mtr_hop_rtt_avg_seconds{hop=\"2\",address=\"198.18.1.2\"}") > 0.0);

    // The exporter's own figures count all of the above.
    let m = bed.get("/metrics", &[]);
    assert_eq!(m.status, 200);
    promtool_accepts(&m.body);
    assert_eq!(
        m.must("netdx_probes_total{module=\"tcp\"}"),
        4.0,
        "{}",
        m.body
    );
    assert_eq!(m.must("netdx_probe_failures_total{module=\"tcp\"}"), 3.0);
    assert_eq!(m.must("netdx_probes_in_flight"), 0.0);
    assert!(m.must("process_resident_memory_bytes") > 0.0);
}

#[test]
fn bad_requests_get_400_and_outside_targets_403() {
    if !can_build_namespaces("serve") {
        return;
    }
    let mut bed = Bed::new();
    let cases: &[(&str, &[&str], u16, &str)] = &[
        (
            "/probe?module=http&target=198.18.1.2",
            &[],
            400,
            "unknown module 'http'",
        ),
        (
            "/probe?module=icmp",
            &[],
            400,
            "target parameter is missing",
        ),
        (
            "/probe?module=tcp&target=198.18.1.2",
            &[],
            400,
            "needs HOST:PORT",
        ),
        ("/probe?module=icmp&target=-c", &[], 400, "not a host name"),
        (
            "/probe?module=icmp&target=a%20b",
            &[],
            400,
            "not a host name",
        ),
        (
            "/probe?module=dns&target=198.18.1.2",
            &[],
            400,
            "needs a name",
        ),
        (
            "/probe?module=icmp&target=198.18.1.2",
            &["-H", "X-Prometheus-Scrape-Timeout-Seconds: soon"],
            400,
            "is not a number",
        ),
        (
            "/probe?module=icmp&target=192.0.2.1",
            &[],
            403,
            "outside the allowed networks",
        ),
        (
            "/probe?module=tcp&target=127.0.0.1:9469",
            &[],
            403,
            "outside the allowed networks",
        ),
    ];
    for (path, extra, status, words) in cases {
        let a = bed.get(path, extra);
        assert_eq!(a.status, *status, "{path}: {}", a.body);
        assert!(a.body.contains(words), "{path}: {}", a.body);
        assert_eq!(
            a.body.trim().lines().count(),
            1,
            "{path}: one line: {}",
            a.body
        );
    }
    // Bounded concurrency: with one slot, held 3.5 s by a filtered port, a
    // probe that finds it taken for its whole timeout (1 s) gets 503, while
    // the one holding it answers.
    let bin = env!("CARGO_BIN_EXE_netdx");
    let client = bed.lab.client().to_string();
    bed.lab.spawn(
        &client,
        &[
            bin,
            "serve",
            "--listen",
            "127.0.0.1:9470",
            "--max-concurrent",
            "1",
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while bed
        .lab
        .exec(&client, &["curl", "-sf", "http://127.0.0.1:9470/metrics"])
        .code
        != 0
    {
        assert!(Instant::now() < deadline, "second exporter did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let url = "http://127.0.0.1:9470/probe?module=tcp&target=198.18.1.3:80";
    let both = format!(
        "curl -s -o /dev/null -w '%{{http_code}}\\n' -H 'X-Prometheus-Scrape-Timeout-Seconds: 4' '{url}' & \
         sleep 0.2; curl -s -o /dev/null -w '%{{http_code}}\\n' -H 'X-Prometheus-Scrape-Timeout-Seconds: 1.5' '{url}'; wait"
    );
    let run = bed.lab.exec(&client, &["sh", "-c", &both]);
    let mut codes: Vec<&str> = run.stdout.split_whitespace().collect();
    codes.sort();
    assert_eq!(codes, ["200", "503"], "{}{}", run.stdout, run.stderr);

    // SIGHUP reloads the file: a module added to it becomes known; a
    // broken file keeps the modules in force.
    bed.dir.write(
        "serve.toml",
        &format!("{CONFIG}\n[modules.icmp_new]\nprober = \"icmp\"\ncount = 2\n"),
    );
    bed.hangup();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let a = bed.get("/probe?module=icmp_new&target=198.18.1.2", &[]);
        if a.status == 200 {
            assert_eq!(a.must("probe_icmp_packets_sent"), 2.0, "{}", a.body);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "SIGHUP did not load icmp_new: {}",
            a.body
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    bed.dir
        .write("serve.toml", "[modules.x]\nprober = \"nope\"\n");
    bed.hangup();
    std::thread::sleep(Duration::from_millis(500));
    let a = bed.get("/probe?module=icmp_new&target=198.18.1.2", &[]);
    assert_eq!(a.status, 200, "a bad file replaced the modules: {}", a.body);

    // Refusals are counted, and no probe ran for them.
    let m = bed.get("/metrics", &[]);
    assert_eq!(
        m.must("netdx_probe_refusals_total{status=\"403\"}"),
        2.0,
        "{}",
        m.body
    );
    assert!(
        m.value("netdx_probes_total{module=\"icmp\"}").is_none(),
        "{}",
        m.body
    );
}

#[test]
fn config_check_accepts_a_good_file_and_names_the_fault_in_a_bad_one() {
    let dir = TempDir::new("config");
    let good = dir.write("good.toml", CONFIG);
    let run = common::netdx_here(&["serve", "--config", &good, "--config-check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("module icmp_fast: prober icmp"),
        "{}",
        run.stdout
    );
    let bad = dir.write("bad.toml", "[modules.x]\nprober = \"icmp\"\ncount = 0\n");
    let run = common::netdx_here(&["serve", "--config", &bad, "--config-check"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("module x: count must be 1 to 1000"),
        "{}",
        run.stderr
    );
    let run = common::netdx_here(&["serve", "--allow", "10.0.0.0/99", "--config-check"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--allow 10.0.0.0/99"), "{}", run.stderr);
    let run = common::netdx_here(&["serve", "--json", "--config-check"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--json/--jsonl do not apply"),
        "{}",
        run.stderr
    );
    let run = common::netdx_here(&["serve", "--listen", "nowhere", "--config-check"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--listen nowhere"), "{}", run.stderr);
}

/// A scrape config in the README's shape: one job per module, the target
/// moved into `?target=` and `instance`, the exporter as `__address__`.
fn scrape_job(module: &str, targets: &[&str]) -> String {
    let list: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
    format!(
        "  - job_name: netdx_{module}\n    metrics_path: /probe\n    params:\n      module: [{module}]\n    static_configs:\n      - targets: [{}]\n    relabel_configs:\n      - source_labels: [__address__]\n        target_label: __param_target\n      - source_labels: [__param_target]\n        target_label: instance\n      - target_label: __address__\n        replacement: 127.0.0.1:{PORT}\n",
        list.join(", ")
    )
}

#[test]
fn a_real_prometheus_scrapes_every_module() {
    if !can_build_namespaces("serve") {
        return;
    }
    // Declared first, so it goes after the lab has stopped Prometheus.
    let dir = TempDir::new("prometheus");
    let mut bed = Bed::new();
    let mut config =
        String::from("global:\n  scrape_interval: 2s\n  scrape_timeout: 2s\nscrape_configs:\n");
    config += &scrape_job("icmp", &["198.18.1.2", "198.18.1.3"]);
    config += &scrape_job("tcp", &["198.18.1.2:8080", "198.18.1.2:8081"]);
    config += &scrape_job("dns_web", &["198.18.1.2"]);
    config += &scrape_job("mtr", &["198.18.1.2"]);
    let path = dir.write("prometheus.yml", &config);
    let check = bed
        .lab
        .exec(bed.lab.client(), &["promtool", "check", "config", &path]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    let tsdb = dir.0.join("data").display().to_string();
    let client = bed.lab.client().to_string();
    bed.lab.spawn(
        &client,
        &[
            "prometheus",
            &format!("--config.file={path}"),
            &format!("--storage.tsdb.path={tsdb}"),
            "--web.listen-address=127.0.0.1:9090",
        ],
    );
    // Every job's series, once each target was scraped.
    let want = [
        ("netdx_icmp", "198.18.1.2", 1.0),
        ("netdx_icmp", "198.18.1.3", 0.0),
        ("netdx_tcp", "198.18.1.2:8080", 1.0),
        ("netdx_tcp", "198.18.1.2:8081", 0.0),
        ("netdx_dns_web", "198.18.1.2", 1.0),
        ("netdx_mtr", "198.18.1.2", 1.0),
    ];
    let deadline = Instant::now() + Duration::from_secs(40);
    let query = |q: &str| -> serde_json::Value {
        let run = bed.lab.exec(
            &client,
            &[
                "curl",
                "-sS",
                "--max-time",
                "5",
                "-G",
                "http://127.0.0.1:9090/api/v1/query",
                "--data-urlencode",
                &format!("query={q}"),
            ],
        );
        serde_json::from_str(&run.stdout).unwrap_or(serde_json::Value::Null)
    };
    let value_of = |doc: &serde_json::Value, job: &str, instance: &str| -> Option<f64> {
        doc["data"]["result"].as_array()?.iter().find_map(|r| {
            let m = &r["metric"];
            (m["job"] == job && m["instance"] == instance)
                .then(|| r["value"][1].as_str()?.parse().ok())
                .flatten()
        })
    };
    loop {
        let doc = query("probe_success");
        let got: Vec<Option<f64>> = want.iter().map(|(j, i, _)| value_of(&doc, j, i)).collect();
        if got.iter().all(Option::is_some) {
            for ((job, instance, value), got) in want.iter().zip(got) {
                assert_eq!(got, Some(*value), "{job} {instance}: {doc}");
            }
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus did not scrape every target: {doc}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // The diagnosis of the closed port and mtr's per-hop series made it in.
    let doc = query("netdx_diagnosis{code=\"tcp.refused\"}");
    assert_eq!(
        value_of(&doc, "netdx_tcp", "198.18.1.2:8081"),
        Some(1.0),
        "{doc}"
    );
    let doc = query("probe_mtr_hop_loss_ratio{hop=\"2\"}");
    assert_eq!(
        value_of(&doc, "netdx_mtr", "198.18.1.2"),
        Some(0.0),
        "{doc}"
    );
    let doc = query("up");
    for (job, instance, _) in want {
        assert_eq!(
            value_of(&doc, job, instance),
            Some(1.0),
            "{job} {instance} up: {doc}"
        );
    }
}

/// blackbox_exporter's modules for the same checks as netdx's.
const BLACKBOX: &str = r#"modules:
  icmp:
    prober: icmp
  tcp:
    prober: tcp
  dns_web:
    prober: dns
    dns:
      query_name: web.lab.test
      query_type: A
  dns_nope:
    prober: dns
    dns:
      query_name: nope.lab.test
      query_type: A
"#;

#[test]
fn probe_success_agrees_with_blackbox_exporter() {
    if !can_build_namespaces("serve") {
        return;
    }
    let Some(blackbox) = [
        "/usr/bin/prometheus-blackbox-exporter",
        "/usr/bin/blackbox_exporter",
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).exists()) else {
        common::skip("SKIP serve: prometheus-blackbox-exporter is not installed (see .ci/run)");
        return;
    };
    let mut bed = Bed::new();
    let config = bed.dir.write("blackbox.yml", BLACKBOX);
    let client = bed.lab.client().to_string();
    bed.lab.spawn(
        &client,
        &[
            blackbox,
            &format!("--config.file={config}"),
            "--web.listen-address=127.0.0.1:9115",
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    let bb = |query: &str| -> Answer {
        let url = format!("http://127.0.0.1:9115/probe?{query}");
        let run = bed.lab.exec(
            &client,
            &[
                "curl",
                "-sS",
                "--max-time",
                "10",
                "-H",
                "X-Prometheus-Scrape-Timeout-Seconds: 3",
                "-w",
                "\n%{http_code}",
                &url,
            ],
        );
        let (body, status) = run.stdout.rsplit_once('\n').unwrap_or(("", "0"));
        Answer {
            status: status.trim().parse().unwrap_or(0),
            body: body.to_string(),
        }
    };
    while bb("module=tcp&target=198.18.1.2:8080").status != 200 {
        assert!(Instant::now() < deadline, "blackbox_exporter did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    // (what, netdx module, netdx query, blackbox query, expected probe_success)
    let cases = [
        (
            "answering host",
            "icmp",
            "198.18.1.2",
            "",
            "module=icmp&target=198.18.1.2",
            1.0,
        ),
        (
            "silent host",
            "icmp",
            "198.18.1.3",
            "",
            "module=icmp&target=198.18.1.3",
            0.0,
        ),
        (
            "host by name",
            "icmp",
            "web.lab.test",
            "",
            "module=icmp&target=web.lab.test",
            1.0,
        ),
        (
            "open port",
            "tcp",
            "198.18.1.2:8080",
            "",
            "module=tcp&target=198.18.1.2:8080",
            1.0,
        ),
        (
            "closed port",
            "tcp",
            "198.18.1.2:8081",
            "",
            "module=tcp&target=198.18.1.2:8081",
            0.0,
        ),
        (
            "filtered port",
            "tcp",
            "198.18.1.3:80",
            "",
            "module=tcp&target=198.18.1.3:80",
            0.0,
        ),
        (
            "a name",
            "dns",
            "198.18.1.2",
            "&name=web.lab.test",
            "module=dns_web&target=198.18.1.2",
            1.0,
        ),
        (
            "NXDOMAIN",
            "dns",
            "198.18.1.2",
            "&name=nope.lab.test",
            "module=dns_nope&target=198.18.1.2",
            0.0,
        ),
    ];
    for (what, module, target, more, bb_query, want) in cases {
        let ours = bed.probe(module, target, more).must("probe_success");
        let theirs = bb(bb_query);
        assert_eq!(theirs.status, 200, "{what}: blackbox {}", theirs.body);
        let theirs = theirs.must("probe_success");
        assert_eq!(
            (ours, theirs),
            (want, want),
            "{what}: netdx {ours}, blackbox {theirs}"
        );
    }
}

/// An exporter of its own in `lab`'s client namespace, started with
/// `args`; its answers come over `scheme` (http or https) with curl's
/// `extra` arguments (auth, CA).
struct Exporter<'a> {
    lab: &'a Lab,
    base: String,
}

impl<'a> Exporter<'a> {
    /// Starts `netdx serve --listen 127.0.0.1:PORT ARGS…` and waits for
    /// `ready_path` to answer anything at all.
    fn start(lab: &'a mut Lab, args: &[&str], scheme: &str, extra: &[&str]) -> Exporter<'a> {
        let listen = format!("127.0.0.1:{PORT}");
        let mut cmd = vec![env!("CARGO_BIN_EXE_netdx"), "serve", "--listen", &listen];
        cmd.extend_from_slice(args);
        let client = lab.client().to_string();
        lab.spawn(&client, &cmd);
        let exporter = Exporter {
            lab,
            base: format!("{scheme}://127.0.0.1:{PORT}"),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while exporter.get("/", extra).status == 0 {
            assert!(Instant::now() < deadline, "the exporter did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        exporter
    }

    fn get(&self, path: &str, extra: &[&str]) -> Answer {
        let url = format!("{}{path}", self.base);
        let mut cmd = vec!["curl", "-sS", "--max-time", "20", "-w", "\n%{http_code}"];
        cmd.extend_from_slice(extra);
        cmd.push(&url);
        let run: Run = self.lab.exec(self.lab.client(), &cmd);
        let (body, status) = run.stdout.rsplit_once('\n').unwrap_or(("", "0"));
        Answer {
            status: status.trim().parse().unwrap_or(0),
            body: body.to_string(),
        }
    }

    /// Polls `/metrics` until `series` has `value` (or fails after 20 s).
    fn wait_for(&self, series: &str, value: f64, extra: &[&str]) -> Answer {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let a = self.get("/metrics", extra);
            if a.value(series) == Some(value) {
                return a;
            }
            assert!(
                Instant::now() < deadline,
                "{series} never became {value}:\n{}",
                a.body
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

#[test]
fn scheduled_checks_show_on_metrics_and_flip_when_a_port_closes() {
    if !can_build_namespaces("serve") {
        return;
    }
    let mut lab = Lab::chain(1);
    let server = lab.server().to_string();
    lab.spawn(&server, &["python3", "-c", LISTENER]);
    let dir = TempDir::new(&format!("{}-checks", lab.client()));
    let checks = dir.write(
        "checks.txt",
        "# the web server\ntcp 198.18.1.2:8080\n\nping -c 2 -i 0.2 198.18.1.2\n",
    );
    let exporter = Exporter::start(
        &mut lab,
        &["--checks", &checks, "--checks-interval", "1"],
        "http",
        &[],
    );
    let tcp = r#"{line="2",check="tcp 198.18.1.2:8080"}"#;
    let ping = r#"{line="4",check="ping -c 2 -i 0.2 198.18.1.2"}"#;
    let up = exporter.wait_for(&format!("netdx_check_success{tcp}"), 1.0, &[]);
    promtool_accepts(&up.body);
    assert_eq!(up.must(&format!("netdx_check_success{ping}")), 1.0);
    assert!(up.must(&format!("netdx_check_duration_seconds{tcp}")) < 1.0);
    assert_eq!(up.must(&format!("netdx_check_exit_status{tcp}")), 0.0);
    assert!(!up.body.contains("netdx_check_diagnosis{"), "{}", up.body);
    // /probe pings share the runtime and ICMP engines with the check's pings.
    for _ in 0..4 {
        let a = exporter.get(
            "/probe?module=icmp&target=198.18.1.2",
            &["-H", "X-Prometheus-Scrape-Timeout-Seconds: 4"],
        );
        assert_eq!(a.status, 200, "{}", a.body);
        assert_eq!(a.must("probe_success"), 1.0, "{}", a.body);
        assert_eq!(a.must("probe_icmp_packets_received"), 3.0, "{}", a.body);
    }
    let during = exporter.get("/metrics", &[]);
    assert_eq!(
        during.must(&format!("netdx_check_success{ping}")),
        1.0,
        "{}",
        during.body
    );
    // The port closes: the next round says so, with the CLI's code.
    exporter.lab.nft(
        &server,
        "table inet closeit {\n chain input {\n  type filter hook input priority 0;\n  tcp dport 8080 reject with tcp reset\n }\n}\n",
    );
    let down = exporter.wait_for(&format!("netdx_check_success{tcp}"), 0.0, &[]);
    promtool_accepts(&down.body);
    assert_eq!(down.must(&format!("netdx_check_exit_status{tcp}")), 1.0);
    assert_eq!(
        down.must(r#"netdx_check_diagnosis{line="2",check="tcp 198.18.1.2:8080",code="tcp.refused",severity="critical"}"#),
        1.0
    );
    assert_eq!(down.must(&format!("netdx_check_success{ping}")), 1.0);
}

#[test]
fn a_bad_check_file_is_refused_at_start_naming_the_line() {
    let dir = TempDir::new("badchecks");
    let bad = dir.write(
        "bad.txt",
        "tcp 198.18.1.2:80\n# fine so far\nping --nope 198.18.1.2\n",
    );
    for extra in [&["--config-check"][..], &["--listen", "127.0.0.1:0"][..]] {
        let mut args = vec!["serve", "--checks", &bad];
        args.extend_from_slice(extra);
        let run = common::netdx_here(&args);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains("line 3: unexpected argument '--nope'"),
            "{}",
            run.stderr
        );
    }
    let good = dir.write("good.txt", "tcp 198.18.1.2:80\n");
    let run = common::netdx_here(&["serve", "--checks", &good, "--config-check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("check line 1: tcp 198.18.1.2:80"),
        "{}",
        run.stdout
    );
    let run = common::netdx_here(&[
        "serve",
        "--checks",
        &good,
        "--checks-interval",
        "0",
        "--config-check",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn module_target_patterns_refuse_what_they_do_not_name_with_403() {
    if !can_build_namespaces("serve") {
        return;
    }
    let bed = Bed::new();
    let t4 = ["-H", "X-Prometheus-Scrape-Timeout-Seconds: 4"];
    // Inside: an address in the module's network, a name below *.lab.test.
    let a = bed.probe("tcp_lab", "198.18.1.2:8080", "");
    assert_eq!(a.must("probe_success"), 1.0, "{}", a.body);
    let a = bed.probe("tcp_lab", "web.lab.test:8080", "");
    assert_eq!(a.must("probe_success"), 1.0, "{}", a.body);
    // Outside: another address of the allowed /15, a name no pattern matches.
    let a = bed.get("/probe?module=tcp_lab&target=198.18.1.3:8080", &t4);
    assert_eq!(a.status, 403, "{}", a.body);
    assert_eq!(
        a.body.trim(),
        "target 198.18.1.3:8080 is outside module tcp_lab's targets (198.18.1.2/32, *.lab.test): 198.18.1.3 is in none of its networks"
    );
    let a = bed.get("/probe?module=tcp_lab&target=lab.test:8080", &t4);
    assert_eq!(a.status, 403, "{}", a.body);
    assert!(a.body.contains("no name pattern matches it"), "{}", a.body);
    // A module with networks only decides a name by its address.
    let a = bed.probe("icmp_net", "web.lab.test", "");
    assert_eq!(a.must("probe_success"), 1.0, "{}", a.body);
    let a = bed.get("/probe?module=icmp_net&target=198.18.1.3", &t4);
    assert_eq!(a.status, 403, "{}", a.body);
    // The built-in module has no patterns: --allow alone decides.
    let a = bed.probe("tcp", "198.18.1.3:8080", "");
    assert_eq!(a.must("probe_success"), 0.0, "{}", a.body);
    let run = common::netdx_here(&[
        "serve",
        "--config",
        &bed.dir.write("c.toml", CONFIG),
        "--config-check",
    ]);
    assert!(
        run.stdout
            .contains("module tcp_lab: prober tcp, targets 198.18.1.2/32, *.lab.test"),
        "{}",
        run.stdout
    );
}

#[test]
fn basic_auth_from_the_web_config_file_answers_401_without_the_password() {
    if !can_build_namespaces("serve") {
        return;
    }
    let mut lab = Lab::chain(1);
    let dir = TempDir::new(&format!("{}-web", lab.client()));
    let hash = bcrypt::hash("s3cret", 4).unwrap_or_else(|e| panic!("bcrypt: {e}"));
    let web = dir.write(
        "web.yml",
        &format!("# exporter-toolkit's shape\nbasic_auth_users:\n  prom: '{hash}'\n"),
    );
    let exporter = Exporter::start(&mut lab, &["--web.config.file", &web], "http", &[]);
    for (extra, want) in [
        (&[][..], 401),
        (&["-u", "prom:wrong"][..], 401),
        (&["-u", "nobody:s3cret"][..], 401),
        (&["-u", "prom:s3cret"][..], 200),
    ] {
        let a = exporter.get("/metrics", extra);
        assert_eq!(a.status, want, "{extra:?}: {}", a.body);
    }
    // The challenge names the scheme; the probe path is guarded too.
    let run = exporter.lab.exec(
        exporter.lab.client(),
        &[
            "curl",
            "-si",
            &format!("{}/probe?module=tcp&target=198.18.1.2:8080", exporter.base),
        ],
    );
    assert!(run.stdout.starts_with("HTTP/1.1 401"), "{}", run.stdout);
    assert!(
        run.stdout
            .to_ascii_lowercase()
            .contains("www-authenticate: basic realm=\"netdx\""),
        "{}",
        run.stdout
    );
    let a = exporter.get("/metrics", &["-u", "prom:s3cret"]);
    promtool_accepts(&a.body);
    // A plain password instead of a hash is refused at start, naming the user.
    let bad = dir.write("bad.yml", "basic_auth_users:\n  prom: s3cret\n");
    let run = common::netdx_here(&["serve", "--web.config.file", &bad, "--config-check"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("prom: the password must be a bcrypt hash"),
        "{}",
        run.stderr
    );
}

/// `openssl` with `args` in `dir`, which must succeed.
fn openssl(dir: &TempDir, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(&dir.0)
        .output()
        .unwrap_or_else(|e| panic!("openssl (Debian package openssl, see .ci/run): {e}"));
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn tls_from_the_web_config_file_serves_https_with_a_test_ca() {
    if !can_build_namespaces("serve") {
        return;
    }
    let mut lab = Lab::chain(1);
    let dir = TempDir::new(&format!("{}-tls", lab.client()));
    // A test CA, and a server certificate it signs for 127.0.0.1.
    openssl(
        &dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=netdx test CA",
        ],
    );
    openssl(
        &dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    dir.write("ext.cnf", "subjectAltName=IP:127.0.0.1\n");
    openssl(
        &dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
    let hash = bcrypt::hash("s3cret", 4).unwrap_or_else(|e| panic!("bcrypt: {e}"));
    // Relative paths are relative to the web config file, as in exporter-toolkit.
    let web = dir.write(
        "web.yml",
        &format!("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  prom: '{hash}'\n"),
    );
    let ca = dir.0.join("ca.crt").display().to_string();
    let trust = ["--cacert", ca.as_str()];
    let exporter = Exporter::start(&mut lab, &["--web.config.file", &web], "https", &trust);
    let a = exporter.get("/metrics", &["--cacert", &ca, "-u", "prom:s3cret"]);
    assert_eq!(a.status, 200, "{}", a.body);
    promtool_accepts(&a.body);
    assert_eq!(exporter.get("/metrics", &trust).status, 401);
    // Without the CA curl refuses the certificate; plain HTTP gets no answer.
    assert_eq!(exporter.get("/metrics", &["-u", "prom:s3cret"]).status, 0);
    let plain = exporter.lab.exec(
        exporter.lab.client(),
        &[
            "curl",
            "-sS",
            "--max-time",
            "5",
            &format!("http://127.0.0.1:{PORT}/metrics"),
        ],
    );
    assert_ne!(plain.code, 0, "{}", plain.stdout);
    // A key that is not a key is refused at start, naming the file.
    let bad = dir.write(
        "bad.yml",
        "tls_server_config:\n  cert_file: server.crt\n  key_file: ext.cnf\n",
    );
    let run = common::netdx_here(&["serve", "--web.config.file", &bad, "--config-check"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("ext.cnf: no PEM private key"),
        "{}",
        run.stderr
    );
}

/// The systemd unit's setup: a non-root user with only CAP_NET_RAW in its
/// ambient set (what `AmbientCapabilities=CAP_NET_RAW` gives) runs the icmp
/// module on raw sockets — the namespace allows no unprivileged ICMP.
#[test]
fn serve_runs_icmp_as_a_non_root_user_with_only_cap_net_raw() {
    if !can_build_namespaces("serve_nonroot") {
        return;
    }
    let mut lab = Lab::chain(1);
    let client = lab.client().to_string();
    let range = lab.exec(&client, &["sysctl", "-n", "net.ipv4.ping_group_range"]);
    assert_eq!(
        range.stdout.split_whitespace().collect::<Vec<_>>(),
        ["1", "0"],
        "unprivileged ICMP must be off for this test to mean anything"
    );
    let server = lab.server_v4();
    let listen = format!("127.0.0.1:{PORT}");
    lab.spawn(
        &client,
        &[
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=+net_raw",
            "--ambient-caps=+net_raw",
            env!("CARGO_BIN_EXE_netdx"),
            "serve",
            "--listen",
            &listen,
            "--allow",
            "198.18.0.0/15",
        ],
    );
    let exporter = Exporter {
        lab: &lab,
        base: format!("http://127.0.0.1:{PORT}"),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while exporter.get("/", &[]).status == 0 {
        assert!(Instant::now() < deadline, "the exporter did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let a = exporter.get(&format!("/probe?module=icmp&target={server}"), &[]);
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.value("probe_success"), Some(1.0), "{}", a.body);
    // The exporter really is the unprivileged user (pids of this namespace
    // only: other tests run their own exporters at the same time).
    let pids = Command::new("ip")
        .args(["netns", "pids", &client])
        .output()
        .unwrap_or_else(|e| panic!("ip netns pids: {e}"));
    let pids = String::from_utf8_lossy(&pids.stdout).to_string();
    let pid = pids
        .split_whitespace()
        .find(|p| {
            std::fs::read(format!("/proc/{p}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains("serve"))
        })
        .unwrap_or_else(|| panic!("no netdx serve in {client}: {pids}"))
        .to_string();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let uid = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>())
        .unwrap_or_default();
    assert_eq!(uid.first().copied(), Some("65534"), "{status}");
}

/// The README's prometheus.yml and alert rules are the files in examples/,
/// and promtool accepts them.
#[test]
fn the_example_scrape_config_and_alert_rules_pass_promtool() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(repo.join("README.md")).unwrap_or_default();
    for file in ["prometheus.yml", "netdx.rules.yml"] {
        let text = std::fs::read_to_string(repo.join("examples").join(file))
            .unwrap_or_else(|e| panic!("examples/{file}: {e}"));
        assert!(
            readme.contains(&format!("```yaml\n{text}```")),
            "the README's {file} block differs from examples/{file}"
        );
    }
    let examples = repo.join("examples");
    for args in [
        vec!["check", "config", "prometheus.yml"],
        vec!["check", "rules", "netdx.rules.yml"],
    ] {
        let out = Command::new("promtool")
            .args(&args)
            .current_dir(&examples)
            .output()
            .unwrap_or_else(|e| panic!("promtool (package prometheus, see .ci/run): {e}"));
        assert!(
            out.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
