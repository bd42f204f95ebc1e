//! The test bed: hosts built from network namespaces joined by veth pairs,
//! a chain of routers with forwarding on, nft rules for loss, drops and
//! rejects, and teardown on Drop (also after a panic). Addresses come only
//! from 198.18.0.0/15 and 2001:db8::/32.
//!
//! Topology of `Lab::chain(n)`: nodes are `client, r1..rn, server`. Link `i`
//! joins node `i` (its `east` interface, 198.18.i.1 / 2001:db8:i::1) to node
//! `i+1` (its `west` interface, 198.18.i.2 / 2001:db8:i::2). Router `k`
//! therefore answers from 198.18.(k-1).2, the server is 198.18.n.2.

#![allow(dead_code)]

pub mod fresh;
pub mod schema;
pub mod tempdir;

use std::io::Write;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Set by `.ci/run`: there, a test that cannot build its namespaces fails
/// instead of skipping, so a green CI always means the assertions ran.
pub const REQUIRE_VAR: &str = "NETDX_REQUIRE_NETNS";

/// Prints a skip reason past the test harness's output capture (which only
/// takes the print macros), so a skipped test says why even when it passes.
/// Under [`REQUIRE_VAR`] the skip is a failure.
pub fn skip(reason: &str) {
    if std::env::var_os(REQUIRE_VAR).is_some_and(|v| !v.is_empty() && v != "0") {
        panic!("{reason} — {REQUIRE_VAR} is set, so this skip is a failure");
    }
    let _ = writeln!(std::io::stderr(), "{reason}");
}

/// True when the tests can build namespaces; prints why they skip if not.
pub fn can_build_namespaces(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        skip(&format!(
            "SKIP {test}: needs root to create network namespaces (CI runs as root)"
        ));
        return false;
    }
    let ok = Command::new("ip").arg("-V").output().is_ok()
        && Command::new("nft").arg("--version").output().is_ok();
    if !ok {
        skip(&format!(
            "SKIP {test}: iproute2 and nftables are needed (see .ci/run)"
        ));
    }
    ok
}

/// The result of running a command: status code and both outputs.
#[derive(Debug)]
pub struct Run {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Captured stdout.
    pub stdout: String,
    /// Captured stderr.
    pub stderr: String,
    /// The netdx subcommand that ran (None for other programs): picks the
    /// schema its JSON output is checked against.
    pub command: Option<String>,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            command: None,
        }
    }
}

/// netdx's subcommands, to find the one in an argument list.
const SUBCOMMANDS: &[&str] = &[
    "ping", "trace", "mtr", "dns", "tcp", "sockets", "explain", "check", "serve", "watch",
];

impl Run {
    /// Marks this as the output of `netdx ARGS`, so [`Run::json`] and
    /// [`Run::jsonl`] check it against the subcommand's schema — and
    /// checks it at once when ARGS ask for JSON and something was printed,
    /// so even a test that only greps the output holds it to the contract.
    pub fn of_netdx(mut self, args: &[&str]) -> Run {
        self.command = args
            .iter()
            .find(|a| SUBCOMMANDS.contains(a))
            .map(|a| a.to_string());
        if !self.stdout.trim().is_empty() {
            if args.contains(&"--json") {
                self.json();
            } else if args.contains(&"--jsonl") {
                self.jsonl();
            }
        }
        self
    }

    /// Parses stdout as one JSON document and checks it against
    /// `schema/<subcommand>.json` (`schema/error.json` for an `error`
    /// document). A subcommand without a schema file yet is only checked
    /// for `schema_version`.
    pub fn json(&self) -> serde_json::Value {
        let doc: serde_json::Value = serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\n{}",
                self.stdout, self.stderr
            )
        });
        let command = self.command.as_deref().unwrap_or_else(|| {
            panic!("Run::json on output not tagged as netdx's: build the run with Lab::netdx, netdx_here or Run::of_netdx")
        });
        let name = if doc.get("error").is_some() {
            "error"
        } else {
            command
        };
        match schema::load(name) {
            Some(s) => schema::assert_valid(&s, &doc, &format!("netdx {command} --json")),
            None => panic!("netdx {command} --json: schema/{name}.json is missing"),
        }
        doc
    }

    /// Parses stdout as JSON lines, checking each against
    /// `schema/events.json` (and an `error` event against the error body
    /// of `schema/error.json`).
    pub fn jsonl(&self) -> Vec<serde_json::Value> {
        let events =
            schema::load("events").unwrap_or_else(|| panic!("schema/events.json is missing"));
        let error = schema::load("error").unwrap_or_else(|| panic!("schema/error.json is missing"));
        let body = error["$defs"]["ErrorBody"].clone();
        let mut with_defs = body;
        if let Some(map) = with_defs.as_object_mut() {
            map.insert("$defs".into(), error["$defs"].clone());
        }
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let value: serde_json::Value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("bad JSON line ({e}): {line}\n{}", self.stderr));
                schema::assert_valid(&events, &value, "a --jsonl event");
                if value["event"] == "error" {
                    schema::assert_valid(&with_defs, &value, "a --jsonl error event");
                }
                value
            })
            .collect()
    }
}

/// Runs the netdx binary under test here, outside any namespace (for
/// inputs rejected before any packet is sent, or commands that send none).
pub fn netdx_here(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_netdx"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run netdx: {e}"));
    Run::from(out).of_netdx(args)
}

/// Runs a command on the host and panics with its output if it fails.
pub fn must(cmd: &[&str]) -> Run {
    let out = Command::new(cmd[0])
        .args(&cmd[1..])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let run = Run::from(out);
    assert!(
        run.code == 0,
        "{cmd:?} failed: {}{}",
        run.stdout,
        run.stderr
    );
    run
}

/// A background process in a namespace, killed when dropped.
pub struct Background(Child);

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A set of namespaces that disappears on drop.
pub struct Lab {
    /// Namespace names, in chain order: client, routers…, server.
    pub nodes: Vec<String>,
    /// Processes started in the lab.
    background: Vec<Background>,
    /// Number of routers in the chain.
    pub routers: usize,
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.background.clear();
        for ns in &self.nodes {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

/// IPv4 address of the east (server-facing) side of link `i`'s left node.
pub fn v4(link: usize, host: u8) -> String {
    format!("198.18.{link}.{host}")
}

/// IPv6 address on link `i`, in canonical form (as tools print it).
pub fn v6(link: usize, host: u8) -> String {
    let text = format!("2001:db8:{link}::{host}");
    text.parse::<std::net::Ipv6Addr>()
        .map(|a| a.to_string())
        .unwrap_or(text)
}

impl Lab {
    /// Builds `client — r1 — … — rn — server` with forwarding on the
    /// routers, routes both ways, v4 and v6, and no ICMP rate limits.
    pub fn chain(routers: usize) -> Lab {
        let id = format!(
            "ndx{}x{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let mut nodes = vec![format!("{id}-client")];
        for k in 1..=routers {
            nodes.push(format!("{id}-r{k}"));
        }
        nodes.push(format!("{id}-server"));
        let lab = Lab {
            nodes,
            background: Vec::new(),
            routers,
        };
        // Sysctls first, so the veths created next inherit accept_dad=0 and
        // their link-local addresses are usable at once.
        for ns in &lab.nodes {
            must(&["ip", "netns", "add", ns]);
            lab.sysctl(
                ns,
                &[
                    ("net.ipv4.ip_forward", "1"),
                    ("net.ipv6.conf.all.forwarding", "1"),
                    ("net.ipv4.icmp_ratelimit", "0"),
                    ("net.ipv6.icmp.ratelimit", "0"),
                    ("net.ipv4.icmp_msgs_per_sec", "100000"),
                    ("net.ipv4.icmp_msgs_burst", "100000"),
                    ("net.ipv6.conf.all.accept_dad", "0"),
                    ("net.ipv6.conf.default.accept_dad", "0"),
                ],
            );
        }
        let mut batch = String::new();
        for (i, pair) in lab.nodes.windows(2).enumerate() {
            let (left, right) = (&pair[0], &pair[1]);
            batch.push_str(&format!(
                "link add east netns {left} type veth peer name west netns {right}\n"
            ));
            let _ = i;
        }
        ip_batch(&batch);
        let last = lab.nodes.len() - 1;
        for (n, ns) in lab.nodes.iter().enumerate() {
            let mut cmds = String::from("link set lo up\n");
            if n > 0 {
                let l = n - 1;
                cmds.push_str(&format!(
                    "addr add {}/24 dev west\naddr add {}/64 dev west nodad\nlink set west up\n",
                    v4(l, 2),
                    v6(l, 2)
                ));
            }
            if n < last {
                cmds.push_str(&format!(
                    "addr add {}/24 dev east\naddr add {}/64 dev east nodad\nlink set east up\n",
                    v4(n, 1),
                    v6(n, 1)
                ));
            }
            // Towards the client: everything on links before our west link.
            if n > 0 {
                let l = n - 1;
                for j in 0..l {
                    cmds.push_str(&format!(
                        "route add 198.18.{j}.0/24 via {}\nroute add 2001:db8:{j}::/64 via {}\n",
                        v4(l, 1),
                        v6(l, 1)
                    ));
                }
            }
            // Towards the server: everything on links after our east link.
            if n < last {
                for j in (n + 1)..last {
                    cmds.push_str(&format!(
                        "route add 198.18.{j}.0/24 via {}\nroute add 2001:db8:{j}::/64 via {}\n",
                        v4(n, 2),
                        v6(n, 2)
                    ));
                }
            }
            ip_batch_in(ns, &cmds);
        }
        lab.wait_until_ready();
        lab
    }

    /// Waits until every veth reports carrier and no IPv6 address (the
    /// link-local ones included) is still tentative; before that the first
    /// IPv6 packets wait a whole neighbour-discovery retry (1 s).
    fn wait_until_ready(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        for ns in &self.nodes {
            loop {
                let links = self.exec(ns, &["ip", "-o", "link", "show", "type", "veth"]);
                let tentative = self.exec(ns, &["ip", "-o", "-6", "addr", "show", "tentative"]);
                let down = links
                    .stdout
                    .lines()
                    .any(|l| l.contains("NO-CARRIER") || !l.contains("state UP"));
                if (!down && tentative.stdout.trim().is_empty())
                    || std::time::Instant::now() > deadline
                {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
    }

    /// The client namespace (where netdx runs).
    pub fn client(&self) -> &str {
        &self.nodes[0]
    }

    /// Router `k` (1-based) namespace.
    pub fn router(&self, k: usize) -> &str {
        &self.nodes[k]
    }

    /// The server namespace.
    pub fn server(&self) -> &str {
        &self.nodes[self.nodes.len() - 1]
    }

    /// Address router `k` answers from towards the client (its west side).
    pub fn router_v4(&self, k: usize) -> String {
        v4(k - 1, 2)
    }

    /// IPv6 address router `k` answers from.
    pub fn router_v6(&self, k: usize) -> String {
        v6(k - 1, 2)
    }

    /// The server's IPv4 address.
    pub fn server_v4(&self) -> String {
        v4(self.routers, 2)
    }

    /// The server's IPv6 address.
    pub fn server_v6(&self) -> String {
        v6(self.routers, 2)
    }

    /// The client's IPv4 address.
    pub fn client_v4(&self) -> String {
        v4(0, 1)
    }

    /// Sets sysctls in a namespace.
    pub fn sysctl(&self, ns: &str, pairs: &[(&str, &str)]) {
        let mut cmd = vec!["ip", "netns", "exec", ns, "sysctl", "-qw"];
        let joined: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        cmd.extend(joined.iter().map(String::as_str));
        must(&cmd);
    }

    /// Loads an nft ruleset (the script text) in a namespace.
    pub fn nft(&self, ns: &str, script: &str) {
        run_batch(&["ip", "netns", "exec", ns, "nft", "-f", "-"], script);
    }

    /// Runs any command in a namespace.
    pub fn exec(&self, ns: &str, cmd: &[&str]) -> Run {
        let out = Command::new("ip")
            .args(["netns", "exec", ns])
            .args(cmd)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {cmd:?} in {ns}: {e}"));
        Run::from(out)
    }

    /// Runs the netdx binary under test in a namespace.
    pub fn netdx(&self, ns: &str, args: &[&str]) -> Run {
        let bin = env!("CARGO_BIN_EXE_netdx");
        let mut cmd = vec![bin];
        cmd.extend_from_slice(args);
        self.exec(ns, &cmd).of_netdx(args)
    }

    /// Runs netdx as an unprivileged user (nobody) in a namespace.
    pub fn netdx_as_nobody(&self, ns: &str, args: &[&str]) -> Run {
        let bin = env!("CARGO_BIN_EXE_netdx");
        let mut cmd = vec![
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            bin,
        ];
        cmd.extend_from_slice(args);
        self.exec(ns, &cmd).of_netdx(args)
    }

    /// Starts a background process in a namespace; it dies with the lab.
    pub fn spawn(&mut self, ns: &str, cmd: &[&str]) {
        let child = Command::new("ip")
            .args(["netns", "exec", ns])
            .args(cmd)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?} in {ns}: {e}"));
        self.background.push(Background(child));
    }
}

fn ip_batch(cmds: &str) {
    run_batch(&["ip", "-batch", "-"], cmds);
}

fn ip_batch_in(ns: &str, cmds: &str) {
    run_batch(&["ip", "-n", ns, "-batch", "-"], cmds);
}

fn run_batch(cmd: &[&str], input: &str) {
    let mut child = Command::new(cmd[0])
        .args(&cmd[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    if let Some(stdin) = child.stdin.as_mut() {
        stdin
            .write_all(input.as_bytes())
            .unwrap_or_else(|e| panic!("cannot feed {cmd:?}: {e}"));
    }
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("{cmd:?} did not finish: {e}"));
    let run = Run::from(out);
    assert!(
        run.code == 0,
        "{cmd:?} failed: {}\ninput:\n{input}",
        run.stderr
    );
}

/// Extracts the number after `key=` in a line of ping output.
pub fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let start = line.find(key)? + key.len();
    line[start..].split_whitespace().next()
}

impl Lab {
    /// Runs netdx in a namespace, sends it SIGINT (Ctrl-C) after `after`,
    /// and returns what it printed plus how long it took to stop.
    pub fn netdx_interrupted(
        &self,
        ns: &str,
        args: &[&str],
        after: std::time::Duration,
    ) -> (Run, std::time::Duration) {
        let child = Command::new("ip")
            .args(["netns", "exec", ns, env!("CARGO_BIN_EXE_netdx")])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start netdx: {e}"));
        std::thread::sleep(after);
        let signalled = std::time::Instant::now();
        // SAFETY: plain kill(2) on the child's pid (ip netns exec execs netdx).
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        let out = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("netdx did not finish: {e}"));
        (Run::from(out).of_netdx(args), signalled.elapsed())
    }
}
