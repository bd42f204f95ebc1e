//! `netdx watch` side by side with tcpdump in network namespaces: the same
//! packets captured for the same filter, pcaps each writes read by the
//! other, hostile capture files, and the privilege error.

mod common;
use common::tempdir::TempDir;
use common::{can_build_namespaces, Lab, Run};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A TCP listener on port 9000 (v4 and v6) that answers each client with
/// a line and closes; a UDP port 9999 that stays silent.
const SERVER: &str = r#"
import socket, select
socks = []
for af, host in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
    s = socket.socket(af, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if af == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((host, 9000))
    s.listen(64)
    socks.append(s)
while True:
    ready, _, _ = select.select(socks, [], [])
    for s in ready:
        c, _ = s.accept()
        c.recv(100)
        c.sendall(b"hello\n")
        c.close()
"#;

/// Client traffic: TCP connects (v4, v6) that read the greeting, UDP
/// datagrams (v4, v6).
const CLIENT: &str = r#"
import socket, sys
v4, v6 = sys.argv[1], sys.argv[2]
for host, af in ((v4, socket.AF_INET), (v6, socket.AF_INET6)):
    for _ in range(3):
        c = socket.socket(af, socket.SOCK_STREAM)
        c.settimeout(3)
        c.connect((host, 9000))
        c.sendall(b"hi")
        while c.recv(100):
            pass
        c.close()
    u = socket.socket(af, socket.SOCK_DGRAM)
    for _ in range(4):
        u.sendto(b"x" * 20, (host, 9999))
"#;

fn start_server(lab: &mut Lab) {
    let server = lab.server().to_string();
    lab.spawn(&server, &["python3", "-c", SERVER]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !lab
        .exec(&server, &["ss", "-Hltn"])
        .stdout
        .contains(":9000 ")
    {
        assert!(Instant::now() < deadline, "listener did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn traffic(lab: &Lab) {
    let client = lab.client();
    let (v4, v6) = (lab.server_v4(), lab.server_v6());
    let run = lab.exec(client, &["python3", "-c", CLIENT, &v4, &v6]);
    assert_eq!(run.code, 0, "client traffic failed: {}", run.stderr);
    for (addr, flag) in [(&v4, "-4"), (&v6, "-6")] {
        let ping = lab.exec(client, &["ping", flag, "-c", "3", "-i", "0.05", addr]);
        assert_eq!(ping.code, 0, "ping {addr}: {}", ping.stdout);
    }
}

/// A capture running in the background in a namespace.
struct Bg(Child);

impl Bg {
    fn start(ns: &str, cmd: &[&str]) -> Bg {
        let child = Command::new("ip")
            .args(["netns", "exec", ns])
            .args(cmd)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        Bg(child)
    }

    /// SIGINT, then what it printed.
    fn stop(self) -> Run {
        // SAFETY: kill(2) on our child's pid (ip netns exec execs the tool).
        unsafe { libc::kill(self.0.id() as i32, libc::SIGINT) };
        let out = self
            .0
            .wait_with_output()
            .unwrap_or_else(|e| panic!("capture did not end: {e}"));
        Run::from(out)
    }
}

/// Waits until each program holds a packet socket in `ns` (`ss -0`), then
/// a moment more for its filter to be attached.
fn wait_for_packet_sockets(lab: &Lab, ns: &str, programs: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ss = lab.exec(ns, &["ss", "-Hp0"]).stdout;
        if programs.iter().all(|p| ss.contains(&format!("((\"{p}\""))) {
            break;
        }
        assert!(Instant::now() < deadline, "captures did not start: {ss}");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(400));
}

/// `tcpdump -n -r FILE` lines, and with `strip` the timestamps cut off (two
/// sockets see the same packet a microsecond apart).
fn tcpdump_read(file: &str, strip: bool) -> Vec<String> {
    tcpdump_read_in(None, file, strip)
}

/// [`tcpdump_read`] in a namespace, so interface indexes name its interfaces.
fn tcpdump_read_in(ns: Option<&str>, file: &str, strip: bool) -> Vec<String> {
    let mut cmd = match ns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, "tcpdump"]);
            c
        }
        None => Command::new("tcpdump"),
    };
    let out = cmd
        .args(["-n", "-r", file])
        .output()
        .unwrap_or_else(|e| panic!("tcpdump -r: {e}"));
    assert!(
        out.status.success(),
        "tcpdump -r {file}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            if strip {
                l.split_once(' ').map(|(_, r)| r).unwrap_or(l).to_string()
            } else {
                l.to_string()
            }
        })
        .collect()
}

/// The number before `label` in a summary (`12 packets captured`).
fn count_before(text: &str, label: &str) -> Option<u64> {
    text.lines()
        .find(|l| l.contains(label))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// Runs tcpdump and netdx on the same interface with the same filter
/// while traffic flows; checks both saw the same packets (counts, and the
/// lines `tcpdump -r` prints for each file) and returns netdx's lines.
/// tcpdump's own ring sometimes drops under load (it says so): that round
/// is run again, and after three such rounds netdx's count is held to the
/// packets tcpdump's kernel filter passed.
fn side_by_side(
    lab: &mut Lab,
    iface: &str,
    filter: &[&str],
    dir: &TempDir,
    tag: &str,
) -> Vec<String> {
    let server = lab.server().to_string();
    for attempt in 0..3 {
        let tfile = format!("{}/{tag}-{attempt}-tcpdump.pcap", dir.path());
        let nfile = format!("{}/{tag}-{attempt}-netdx.pcap", dir.path());
        let mut tcmd = vec![
            "tcpdump",
            "-n",
            "--immediate-mode",
            "-Z",
            "root",
            "-i",
            iface,
            "-w",
            &tfile,
        ];
        tcmd.extend_from_slice(filter);
        let mut ncmd = vec![
            env!("CARGO_BIN_EXE_netdx"),
            "watch",
            "-i",
            iface,
            "-w",
            &nfile,
        ];
        ncmd.extend_from_slice(filter);
        let tcpdump = Bg::start(&server, &tcmd);
        let netdx = Bg::start(&server, &ncmd);
        wait_for_packet_sockets(lab, &server, &["tcpdump", "netdx"]);
        traffic(lab);
        std::thread::sleep(Duration::from_millis(300));
        let n = netdx.stop();
        let t = tcpdump.stop();
        assert_eq!(n.code, 0, "netdx watch: {}{}", n.stdout, n.stderr);
        let what = format!(
            "filter {filter:?} on {iface}:\nnetdx: {}\ntcpdump: {}",
            n.stdout, t.stderr
        );
        let n_count = count_before(&n.stdout, "packets captured");
        assert_eq!(
            count_before(&n.stdout, "dropped by kernel"),
            Some(0),
            "{what}"
        );
        let t_lines = tcpdump_read(&tfile, true);
        let n_lines = tcpdump_read(&nfile, true);
        assert_eq!(n_count, Some(n_lines.len() as u64), "{what}");
        let t_dropped = count_before(&t.stderr, "dropped by kernel").unwrap_or(0);
        if t_dropped == 0 {
            assert!(!t_lines.is_empty(), "tcpdump captured nothing: {what}");
            assert_eq!(
                count_before(&t.stderr, "packets captured"),
                n_count,
                "{what}"
            );
            assert_eq!(
                n_lines, t_lines,
                "tcpdump -r of netdx's file differs from tcpdump's own: {what}"
            );
            return n_lines;
        }
        if attempt == 2 {
            assert_eq!(
                count_before(&t.stderr, "received by filter"),
                n_count,
                "{what}"
            );
            for line in &t_lines {
                assert!(n_lines.contains(line), "netdx missed {line}: {what}");
            }
            return n_lines;
        }
        eprintln!("tcpdump dropped {t_dropped} packets itself; running the round again");
    }
    Vec::new()
}

#[test]
fn same_packets_as_tcpdump_on_one_interface_and_on_any() {
    if !can_build_namespaces("watch::same_packets_as_tcpdump_on_one_interface_and_on_any") {
        return;
    }
    let mut lab = Lab::chain(0);
    start_server(&mut lab);
    let dir = TempDir::new("watch");
    for iface in ["west", "any"] {
        let n = side_by_side(&mut lab, iface, &[], &dir, iface);
        for proto in [
            "IP ",
            "IP6 ",
            "Flags [S]",
            "UDP",
            "ICMP echo",
            "ICMP6, echo",
        ] {
            assert!(
                n.iter().any(|l| l.contains(proto)),
                "no {proto} packet: {n:#?}"
            );
        }
    }
}

/// Filters tcpdump compiles, v4 and v6, with and/or/not and parentheses.
const FILTERS: &[&str] = &[
    "tcp port 9000",
    "icmp or udp",
    "ip6 and not icmp6",
    "host 198.18.0.1 and (tcp[tcpflags] & tcp-syn != 0 or icmp)",
    "not tcp and not arp",
    "dst port 9999 or (icmp6 and ip6[40] == 128)",
];

/// True when this build's filter compiler takes real expressions (the
/// compiler lands separately from the capture).
fn compiler_ready() -> bool {
    let expr =
        match netdx::watch::filter::compile("tcp", netdx::watch::filter::LinkType::Ethernet, 65535)
        {
            Ok(_) => true,
            Err(e) => !e.message.contains("not supported yet"),
        };
    if !expr {
        eprintln!("NOTE: the filter compiler is the stub; filtered captures not compared");
    }
    expr
}

#[test]
fn same_packets_as_tcpdump_for_each_filter() {
    if !can_build_namespaces("watch::same_packets_as_tcpdump_for_each_filter") || !compiler_ready()
    {
        return;
    }
    let mut lab = Lab::chain(0);
    start_server(&mut lab);
    let dir = TempDir::new("watchf");
    for (i, filter) in FILTERS.iter().enumerate() {
        let iface = if i % 2 == 0 { "west" } else { "any" };
        let n = side_by_side(&mut lab, iface, &[filter], &dir, &format!("f{i}"));
        assert!(
            !n.is_empty(),
            "filter {filter:?} on {iface}: nothing matched"
        );
    }
}

/// tcpdump writes a capture (Ethernet, `-i any` SLL2, `-y LINUX_SLL`),
/// netdx reads it: the same count, and with --packets the same lines
/// tcpdump -n prints for the file.
#[test]
fn reads_what_tcpdump_writes() {
    if !can_build_namespaces("watch::reads_what_tcpdump_writes") {
        return;
    }
    let mut lab = Lab::chain(0);
    start_server(&mut lab);
    let server = lab.server().to_string();
    let dir = TempDir::new("watchr");
    for (tag, args) in [
        ("eth", vec!["-i", "west"]),
        ("sll2", vec!["-i", "any"]),
        ("sll", vec!["-i", "any", "-y", "LINUX_SLL"]),
    ] {
        let file = format!("{}/{tag}.pcap", dir.path());
        let mut cmd = vec![
            "tcpdump",
            "-n",
            "--immediate-mode",
            "-Z",
            "root",
            "-w",
            &file,
        ];
        cmd.extend(args.iter().copied());
        let tcpdump = Bg::start(&server, &cmd);
        wait_for_packet_sockets(&lab, &server, &["tcpdump"]);
        traffic(&lab);
        std::thread::sleep(Duration::from_millis(200));
        tcpdump.stop();
        let want = tcpdump_read_in(Some(&server), &file, false);
        let run = lab.netdx(&server, &["watch", "--packets", "-r", &file]);
        assert_eq!(run.code, 0, "{tag}: {}", run.stderr);
        let got: Vec<&str> = run.stdout.lines().take(want.len()).collect();
        // SLL (v1) carries no interface index: tcpdump names none either.
        assert_eq!(got, want, "{tag}: netdx -r lines differ from tcpdump -r");
        assert_eq!(
            count_before(&run.stdout, "packets captured"),
            Some(want.len() as u64)
        );
        let json = lab.netdx(&server, &["--json", "watch", "-r", &file]).json();
        assert_eq!(json["packets"]["captured"], want.len() as u64, "{tag}");
        assert!(
            json["flows"]["connections"].as_u64().unwrap_or(0) >= 1,
            "{tag}: {json}"
        );
        assert!(json["packets"]["tcp"].as_u64().unwrap_or(0) > 0, "{tag}");
        assert!(json["packets"]["icmp6"].as_u64().unwrap_or(0) >= 6, "{tag}");
    }
}

/// A live capture ends on Ctrl-C with its summary, exit 0.
#[test]
fn ctrl_c_ends_a_live_capture_with_the_summary() {
    if !can_build_namespaces("watch::ctrl_c_ends_a_live_capture_with_the_summary") {
        return;
    }
    let lab = Lab::chain(0);
    let (run, took) = lab.netdx_interrupted(
        lab.client(),
        &["watch", "--packets"],
        Duration::from_millis(700),
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("packets captured"), "{}", run.stdout);
    assert!(took < Duration::from_secs(2), "took {took:?} to stop");
}

/// Without CAP_NET_RAW: one line naming setcap, exit 3.
#[test]
fn without_the_privilege_one_line_names_setcap() {
    if !can_build_namespaces("watch::without_the_privilege_one_line_names_setcap") {
        return;
    }
    let lab = Lab::chain(0);
    let run = lab.netdx_as_nobody(lab.client(), &["watch", "-c", "1"]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("setcap cap_net_raw+ep"),
        "{}",
        run.stderr
    );
}

fn pcap_header(magic: u32, snaplen: u32, dlt: u32) -> Vec<u8> {
    let mut h = magic.to_le_bytes().to_vec();
    h.extend_from_slice(&[2, 0, 4, 0]);
    h.extend_from_slice(&[0; 8]);
    h.extend_from_slice(&snaplen.to_le_bytes());
    h.extend_from_slice(&dlt.to_le_bytes());
    h
}

fn record(caplen: u32, len: u32, data: &[u8]) -> Vec<u8> {
    let mut r = vec![0u8; 8];
    r.extend_from_slice(&caplen.to_le_bytes());
    r.extend_from_slice(&len.to_le_bytes());
    r.extend_from_slice(data);
    r
}

/// Hostile files: each a named one-line error (exit 3) within a second;
/// a cut last record: a warning and the packets before it.
#[test]
fn hostile_capture_files_get_named_errors_fast() {
    let dir = TempDir::new("watchh");
    let ip = [
        0x45u8, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2,
    ];
    let good = {
        let mut f = pcap_header(0xa1b2_c3d4, 65535, 101);
        f.extend(record(20, 20, &ip));
        f
    };
    let mut ng_zero = vec![0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a];
    ng_zero.extend_from_slice(&[1, 0, 0, 0]);
    ng_zero.extend_from_slice(&[0xff; 8]);
    ng_zero.extend_from_slice(&[28, 0, 0, 0]);
    let mut ng_odd = ng_zero.clone();
    ng_zero.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
    ng_odd.extend_from_slice(&[1, 0, 0, 0, 22, 0, 0, 0]);
    ng_odd.extend_from_slice(&[0; 14]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", Vec::new(), "too short"),
        ("magic", b"GIF89a-not-a-capture-file".to_vec(), "bad magic"),
        ("header", good[..12].to_vec(), "truncated pcap file header"),
        (
            "caplen",
            {
                let mut f = pcap_header(0xa1b2_c3d4, 65535, 101);
                f.extend(record(0x4000_0000, 20, &ip));
                f
            },
            "bogus pcap record",
        ),
        (
            "linktype",
            pcap_header(0xa1b2_c3d4, 65535, 4242),
            "link type 4242",
        ),
        ("ng-zero-block", ng_zero, "shorter than"),
        ("ng-odd-block", ng_odd, "multiple of 4"),
    ];
    for (name, bytes, want) in cases {
        let path = dir.0.join(format!("{name}.pcap"));
        std::fs::write(&path, &bytes).unwrap_or_else(|e| panic!("{e}"));
        let path = path.display().to_string();
        let started = Instant::now();
        let run = common::netdx_here(&["watch", "-r", &path]);
        assert!(started.elapsed() < Duration::from_secs(2), "{name}: slow");
        assert_eq!(run.code, 3, "{name}: {}{}", run.stdout, run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{name}: {}", run.stderr);
        assert!(run.stderr.contains(want), "{name}: {}", run.stderr);
    }
    let mut cut = good.clone();
    cut.extend(record(20, 20, &ip[..7]));
    let path = dir.write("cut.pcap", "");
    std::fs::write(&path, &cut).unwrap_or_else(|e| panic!("{e}"));
    let run = common::netdx_here(&["watch", "--packets", "-r", &path]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("truncated dump file"), "{}", run.stderr);
    assert_eq!(
        count_before(&run.stdout, "packets captured"),
        Some(1),
        "{}",
        run.stdout
    );
    let missing = common::netdx_here(&["watch", "-r", "/nonexistent/x.pcap"]);
    assert_eq!(missing.code, 3, "{}", missing.stderr);
}

/// A filter that does not compile is a usage error (exit 2), one line.
#[test]
fn a_bad_filter_is_a_usage_error() {
    let dir = TempDir::new("watchb");
    let mut f = pcap_header(0xa1b2_c3d4, 65535, 101);
    f.extend(record(1, 1, &[0x45]));
    let path = dir.0.join("one.pcap");
    std::fs::write(&path, &f).unwrap_or_else(|e| panic!("{e}"));
    let path = path.display().to_string();
    let run = common::netdx_here(&["watch", "-r", &path, "tcp", "port"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    let run = common::netdx_here(&["watch", "-r", &path, "-c", "0"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}
