//! netdx gives up CAP_NET_RAW and CAP_NET_ADMIN once its sockets are open
//! (as iputils ping does): read from outside, in /proc/<pid>/status, while
//! the command still runs, and the command still works afterwards.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// CAP_NET_ADMIN and CAP_NET_RAW (linux/capability.h).
const NET_ADMIN: u64 = 1 << 12;
const NET_RAW: u64 = 1 << 13;

/// A capability set line (`CapEff:`, `CapPrm:`) of a /proc status file.
fn cap_set(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    u64::from_str_radix(line[key.len()..].trim(), 16).ok()
}

/// True when this test process may open raw sockets (root or setcap).
fn privileged() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    cap_set(&status, "CapEff:").is_some_and(|c| c & NET_RAW != 0)
}

/// What one run showed: the capability sets read while it ran, its exit
/// code and its whole stdout.
struct Observed {
    effective: u64,
    permitted: u64,
    code: Option<i32>,
    stdout: String,
}

/// Runs netdx with `args`, and once a line of stdout satisfies `started`,
/// reads the process's capability sets from /proc; then lets it finish.
fn observe(args: &[&str], started: impl Fn(&str) -> bool) -> Observed {
    let mut child = Command::new(env!("CARGO_BIN_EXE_netdx"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn netdx: {e}"));
    let pid = child.id();
    let stdout = child
        .stdout
        .take()
        .unwrap_or_else(|| panic!("no stdout pipe"));
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = String::new();
    let mut sets = None;
    for line in lines.by_ref() {
        let line = line.unwrap_or_default();
        seen.push_str(&line);
        seen.push('\n');
        if started(&line) {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
                .unwrap_or_else(|e| panic!("read /proc/{pid}/status: {e}"));
            sets = Some((
                cap_set(&status, "CapEff:").unwrap_or_else(|| panic!("no CapEff: {status}")),
                cap_set(&status, "CapPrm:").unwrap_or_else(|| panic!("no CapPrm: {status}")),
            ));
            break;
        }
    }
    for line in lines {
        seen.push_str(&line.unwrap_or_default());
        seen.push('\n');
    }
    let status = child
        .wait()
        .unwrap_or_else(|e| panic!("wait for netdx: {e}"));
    let Some((effective, permitted)) = sets else {
        panic!("netdx {args:?} never printed the expected line:\n{seen}");
    };
    Observed {
        effective,
        permitted,
        code: status.code(),
        stdout: seen,
    }
}

fn assert_dropped(run: &Observed) {
    for (name, set) in [("CapEff", run.effective), ("CapPrm", run.permitted)] {
        assert_eq!(
            set & NET_RAW,
            0,
            "{name} {set:016x} still holds CAP_NET_RAW"
        );
        assert_eq!(
            set & NET_ADMIN,
            0,
            "{name} {set:016x} still holds CAP_NET_ADMIN"
        );
    }
}

#[test]
fn ping_drops_net_raw_once_its_raw_socket_is_open() {
    if !privileged() {
        eprintln!("SKIP ping_drops_net_raw_once_its_raw_socket_is_open: needs CAP_NET_RAW");
        return;
    }
    let run = observe(&["ping", "-c", "3", "-i", "0.2", "127.0.0.1"], |l| {
        l.contains(" bytes from ")
    });
    assert_dropped(&run);
    // The raw socket opened before the drop still serves the whole run.
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    let replies = run
        .stdout
        .lines()
        .filter(|l| l.contains(" bytes from "))
        .count();
    assert_eq!(replies, 3, "{}", run.stdout);
    assert!(
        run.stdout.contains("3 packets transmitted, 3 received"),
        "{}",
        run.stdout
    );
}

#[test]
fn tcp_drops_net_raw_at_start() {
    if !privileged() {
        eprintln!("SKIP tcp_drops_net_raw_at_start: needs CAP_NET_RAW");
        return;
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap_or_else(|e| panic!("bind a listener: {e}"));
    let target = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("listener address: {e}"))
        .to_string();
    let run = observe(&["tcp", "-c", "3", "-i", "0.3", &target], |l| {
        l.contains("seq=1 ")
    });
    assert_dropped(&run);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert!(
        run.stdout.contains("3 attempts, 3 connected"),
        "{}",
        run.stdout
    );
}
