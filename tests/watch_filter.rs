//! The filter compiler against tcpdump itself: for each expression and
//! link type, tcpdump compiles (`-r EMPTY.pcap -ddd`) and so do we; both
//! programs run in our kernel-like interpreter over the same synthetic
//! packets, and every accept decision must agree. No root, no namespaces.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use netdx::watch::filter::{compile, Ancillary, FilterError, LinkType, Program};

const SNAPLEN: u32 = 262_144;

const EXPRESSIONS: &[&str] = &[
    // host / net
    "host 198.18.0.1",
    "src host 198.18.0.1",
    "dst host 198.18.0.1",
    "src or dst host 198.18.0.1",
    "src and dst host 198.18.0.1",
    "host 198.18.0.1 or 10.1.2.3",
    "host 198.18.0.1 and not 10.1.2.3",
    "ip host 198.18.0.1",
    "arp host 198.18.0.1",
    "rarp host 198.18.0.1",
    "host 2001:db8::1",
    "ip6 host 2001:db8::1",
    "src host 2001:db8::1 and dst host 2001:db8::2",
    "net 198.18.0.0/15",
    "src net 198.18.0.0/15",
    "dst net 192.0.2.0/24",
    "net 10.0.0.0 mask 255.0.0.0",
    "net 10",
    "net 198.18",
    "not net 198.18.0.0/15",
    "net 198.18.0.0/15 or 10.0.0.0/8",
    "host 198.18.0.1 or 198.19.255.254 or 10.1.2.3",
    "dst host 198.18.0.1 or 192.0.2.7 and udp",
    "host 2001:db8::1 or 2001:db8::2",
    "port 53 or 80 or 9000 or portrange 10-20",
    "net 2001:db8::/32",
    "net 2001:db8::/33",
    "src net 2001:db8:8000::/33",
    "ip6 net 2001:db8::/64",
    "net 0.0.0.0/0",
    // ports
    "port 80",
    "tcp port 80",
    "udp port 53",
    "sctp port 80",
    "src port 9000",
    "dst port 80 or 443",
    "port 80 or 443",
    "tcp dst port 9000",
    "tcp src or dst port 9000",
    "tcp src and dst port 80",
    "portrange 10-20",
    "tcp portrange 1000-2000",
    "udp src portrange 50-60",
    "portrange 80-80",
    "not port 53",
    // protocols
    "ip",
    "ip6",
    "tcp",
    "udp",
    "icmp",
    "icmp6",
    "arp",
    "rarp",
    "sctp",
    "igmp",
    "ip6 and udp",
    "ip and not tcp",
    "tcp or udp",
    "not ip6",
    "ip proto 47",
    "ip6 proto 17",
    "proto \\tcp",
    "ip proto \\udp",
    "ip6 proto 58",
    "ether proto \\ip",
    "ether proto 0x86dd",
    // combined
    "tcp port 80 and (src host 198.18.0.1 or dst host 198.18.0.1)",
    "src host 198.18.0.1 and dst port 53",
    "host 198.18.0.1 && !tcp",
    "(tcp || udp) && !port 53",
    "not (port 80 or port 443)",
    "not tcp port 80 and not udp",
    "port 53 and not src net 198.18.0.0/15",
    "tcp or udp and icmp",
    "ip6 and tcp port 9000 or arp",
    "((tcp) and (port 80)) or ((udp) and (port 53))",
    // byte access and arithmetic
    "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0",
    "tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack = 0",
    "tcp[tcpflags] & tcp-rst != 0",
    "tcp[13] = 2",
    "tcp[13] == 18",
    "tcp[13] & 7 != 0 or port 53",
    "ip[8] < 5",
    "ip[8] <= 4",
    "ip[8] > 63",
    "ip[8] >= 64",
    "icmp[icmptype] = icmp-echo",
    "icmp[icmptype] != icmp-echo and icmp[icmptype] != icmp-echoreply",
    "icmp6[icmp6type] = icmp6-echo",
    "ip6[6] = 58",
    "ip[2:2] - ((ip[0]&0xf)<<2) > 40",
    "udp[8:4] + 1 > len",
    "ip[ip[0] & 0xf] = 0",
    "tcp[0:2] = 80",
    "tcp[0:2] * 2 / 3 - 1 = 52",
    "tcp[(tcp[12] >> 4) * 4] = 0x47",
    "udp[0:2] % 7 = 4",
    "ip[1] ^ 0xff = 0xff",
    "ip[8] * -1 + 300 > 290",
    "len > 100",
    "len - 14 <= 60",
    "less 60",
    "greater 100",
    "less 80 and tcp",
    "ip[6:2] & 0x1fff != 0",
    "tcp[4:4] > 0x80000000",
    "1 = 1 and tcp",
    // link layer
    "ether host 00:11:22:33:44:55",
    "ether src 00:11:22:33:44:55",
    "ether dst 02:00:00:00:00:01",
    "ether[12:2] = 0x800",
    "link[0] & 1 = 1",
];

const LINKS: &[(LinkType, u32, &str)] = &[
    (LinkType::Ethernet, 1, "ethernet"),
    (LinkType::LinuxSll, 113, "sll"),
    (LinkType::LinuxSll2, 276, "sll2"),
    (LinkType::RawIp, 101, "raw"),
];

fn tcpdump_available() -> bool {
    let found = Command::new("tcpdump").arg("--version").output().is_ok();
    if !found && std::env::var("NETDX_REQUIRE_NETNS").as_deref() == Ok("1") {
        panic!("tcpdump is required for the filter differential tests (NETDX_REQUIRE_NETNS=1)");
    }
    if !found {
        eprintln!("skipping: tcpdump not installed");
    }
    found
}

fn empty_pcap(dir: &Path, linktype: u32) -> PathBuf {
    let path = dir.join(format!("empty-{linktype}.pcap"));
    let mut hdr = Vec::new();
    hdr.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    hdr.extend_from_slice(&2u16.to_le_bytes());
    hdr.extend_from_slice(&4u16.to_le_bytes());
    hdr.extend_from_slice(&0i32.to_le_bytes());
    hdr.extend_from_slice(&0u32.to_le_bytes());
    hdr.extend_from_slice(&SNAPLEN.to_le_bytes());
    hdr.extend_from_slice(&linktype.to_le_bytes());
    std::fs::write(&path, hdr).expect("write empty pcap");
    path
}

/// What tcpdump made of an expression.
enum Reference {
    Program(Program),
    RejectsAll,
    Error(String),
}

fn tcpdump_compile(pcap: &Path, expr: &str, optimize: bool) -> Reference {
    let mut cmd = Command::new("tcpdump");
    if !optimize {
        cmd.arg("-O");
    }
    let out = cmd
        .arg("-r")
        .arg(pcap)
        .arg("-ddd")
        .arg(expr)
        .output()
        .expect("run tcpdump");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    if !out.status.success() {
        if stderr.contains("rejects all packets") {
            return Reference::RejectsAll;
        }
        return Reference::Error(stderr);
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut lines = stdout.lines();
    let n: usize = lines
        .next()
        .and_then(|l| l.trim().parse().ok())
        .expect("instruction count");
    let mut v = Vec::new();
    for l in lines.take(n) {
        let f: Vec<u32> = l
            .split_whitespace()
            .map(|x| x.parse().expect("number"))
            .collect();
        assert_eq!(f.len(), 4, "bad -ddd line {l:?}");
        v.push((f[0] as u16, f[1] as u8, f[2] as u8, f[3]));
    }
    let p = Program::from_sock_filters(&v);
    if optimize {
        // (Unoptimized programs may exceed the kernel's 4096 limit.)
        p.validate().expect("tcpdump's program is valid");
    }
    Reference::Program(p)
}

/// libpcap's `fix_offset` for a cooked socket: SLL offsets become
/// network-header offsets, the protocol field an ancillary load.
fn cook(p: &Program) -> Option<Program> {
    let mut v = p.to_sock_filters();
    for (code, _, _, k) in v.iter_mut() {
        let class = *code & 0x07;
        let mode = *code & 0xe0;
        if (class == 0x00 || class == 0x01) && matches!(mode, 0x20 | 0x40 | 0xa0) {
            if *k >= 16 {
                *k -= 16;
            } else if *k == 14 && mode == 0x20 {
                *k = 0xffff_f000;
            } else {
                return None;
            }
        }
    }
    Some(Program::from_sock_filters(&v))
}

/// A packet from the network header on, with its ethertype.
#[derive(Clone)]
struct NetPacket {
    ethertype: u16,
    bytes: Vec<u8>,
    src_mac: [u8; 6],
    dst_mac: [u8; 6],
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[(self.next() % v.len() as u64) as usize]
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const V4: &[[u8; 4]] = &[
    [198, 18, 0, 1],
    [198, 19, 255, 254],
    [198, 20, 0, 1],
    [10, 1, 2, 3],
    [192, 0, 2, 7],
    [0, 0, 0, 0],
];
const PORTS: &[u16] = &[
    53, 80, 443, 9000, 10, 20, 15, 55, 1024, 1500, 2000, 2001, 0, 65535,
];
const FLAGS: &[u8] = &[0x02, 0x12, 0x10, 0x11, 0x04, 0x18, 0x01, 0x14, 0xc2, 0x00];

fn v6_addrs() -> Vec<[u8; 16]> {
    [
        "2001:db8::1",
        "2001:db8::2",
        "2001:db8:8000::1",
        "2001:db9::1",
        "fe80::1",
        "::",
    ]
    .iter()
    .map(|s| s.parse::<Ipv6Addr>().expect("v6").octets())
    .collect()
}

fn transport(rng: &mut Rng, proto: u8) -> Vec<u8> {
    let mut t = Vec::new();
    let (sp, dp) = (rng.pick(PORTS), rng.pick(PORTS));
    match proto {
        6 => {
            t.extend_from_slice(&sp.to_be_bytes());
            t.extend_from_slice(&dp.to_be_bytes());
            t.extend_from_slice(&(rng.next() as u32).to_be_bytes());
            t.extend_from_slice(&(rng.next() as u32).to_be_bytes());
            let words = rng.pick(&[5u8, 6, 8]);
            t.push(words << 4);
            t.push(rng.pick(FLAGS));
            t.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 0]);
            for _ in 5..words {
                t.extend_from_slice(&[1, 1, 8, rng.pick(&[0x47u8, 10, 0])]);
            }
        }
        17 | 132 => {
            t.extend_from_slice(&sp.to_be_bytes());
            t.extend_from_slice(&dp.to_be_bytes());
            t.extend_from_slice(&(rng.next() as u32).to_be_bytes());
            t.extend_from_slice(&(rng.next() as u32).to_be_bytes());
        }
        1 | 58 => {
            let types: &[u8] = if proto == 1 {
                &[0, 8, 3, 11]
            } else {
                &[128, 129, 135, 1]
            };
            t.push(rng.pick(types));
            t.push(0);
            t.extend_from_slice(&[0, 0, 0, 1, 0, 1]);
        }
        _ => t.extend_from_slice(&[0, 0, 8, 0]),
    }
    let extra = rng.pick(&[0usize, 4, 40, 100]);
    for _ in 0..extra {
        t.push(rng.next() as u8);
    }
    t
}

fn v4_packet(rng: &mut Rng) -> Vec<u8> {
    let proto = rng.pick(&[6u8, 6, 17, 17, 1, 132, 47, 2]);
    let ihl = rng.pick(&[5u8, 5, 5, 6, 7]);
    let payload = transport(rng, proto);
    let total = 4 * usize::from(ihl) + payload.len();
    let frag: u16 = rng.pick(&[0u16, 0, 0, 0x2000, 0x2000 | 185, 185, 0x4000]);
    let mut p = vec![0x40 | ihl, rng.pick(&[0u8, 0xff, 0x10])];
    p.extend_from_slice(&(total as u16).to_be_bytes());
    p.extend_from_slice(&[0x12, 0x34]);
    p.extend_from_slice(&frag.to_be_bytes());
    p.push(rng.pick(&[1u8, 4, 5, 64, 255]));
    p.push(proto);
    p.extend_from_slice(&[0, 0]);
    let (s, d) = (rng.pick(V4), rng.pick(V4));
    p.extend_from_slice(&s);
    p.extend_from_slice(if rng.below(8) == 0 { &s } else { &d });
    for _ in 5..ihl {
        p.extend_from_slice(&[1, 1, 1, 0]);
    }
    p.extend_from_slice(&payload);
    p
}

fn v6_packet(rng: &mut Rng) -> Vec<u8> {
    let addrs = v6_addrs();
    let proto = rng.pick(&[6u8, 6, 17, 17, 58, 58, 132, 44]);
    let (nh, payload) = if proto == 44 {
        let inner = rng.pick(&[6u8, 17, 58]);
        let mut f = vec![inner, 0, 0, 0, 0, 0, 0, 1];
        f.extend(transport(rng, inner));
        (44u8, f)
    } else {
        (proto, transport(rng, proto))
    };
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    p.push(nh);
    p.push(rng.pick(&[1u8, 64, 255]));
    let (s, d) = (rng.pick(&addrs), rng.pick(&addrs));
    p.extend_from_slice(&s);
    p.extend_from_slice(if rng.below(8) == 0 { &s } else { &d });
    p.extend(payload);
    p
}

fn arp_packet(rng: &mut Rng) -> Vec<u8> {
    let mut p = vec![0, 1, 8, 0, 6, 4, 0, rng.pick(&[1u8, 2])];
    p.extend_from_slice(&[0x00, 0x11, 0x22, 0x33, 0x44, 0x55]);
    p.extend_from_slice(&rng.pick(V4));
    p.extend_from_slice(&[0; 6]);
    p.extend_from_slice(&rng.pick(V4));
    p
}

fn corpus() -> Vec<NetPacket> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let macs = [
        [0x00, 0x11, 0x22, 0x33, 0x44, 0x55],
        [0x02, 0, 0, 0, 0, 0x01],
        [0xff; 6],
        [0x01, 0x00, 0x5e, 0, 0, 1],
    ];
    let mut out = Vec::new();
    for n in 0..900 {
        let (ethertype, bytes) = match n % 9 {
            0..=3 => (0x0800, v4_packet(&mut rng)),
            4..=6 => (0x86dd, v6_packet(&mut rng)),
            7 => (rng.pick(&[0x0806u16, 0x8035]), arp_packet(&mut rng)),
            _ => {
                let len = rng.below(80) as usize;
                let junk = (0..len).map(|_| rng.next() as u8).collect();
                (rng.pick(&[0x0800u16, 0x86dd, 0x88cc, 0x0806]), junk)
            }
        };
        out.push(NetPacket {
            ethertype,
            bytes,
            src_mac: rng.pick(&macs),
            dst_mac: rng.pick(&macs),
        });
    }
    out
}

/// The packet as captured on `link`, and the ancillary data.
fn frame(p: &NetPacket, link: LinkType) -> (Vec<u8>, Ancillary) {
    let et = p.ethertype.to_be_bytes();
    let mut f = Vec::new();
    match link {
        LinkType::Ethernet => {
            f.extend_from_slice(&p.dst_mac);
            f.extend_from_slice(&p.src_mac);
            f.extend_from_slice(&et);
        }
        LinkType::LinuxSll => {
            f.extend_from_slice(&[0, 0, 0, 1, 0, 6]);
            f.extend_from_slice(&p.src_mac);
            f.extend_from_slice(&[0, 0]);
            f.extend_from_slice(&et);
        }
        LinkType::LinuxSll2 => {
            f.extend_from_slice(&et);
            f.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 0, 6]);
            f.extend_from_slice(&p.src_mac);
            f.extend_from_slice(&[0, 0]);
        }
        LinkType::RawIp | LinkType::KernelCooked => {}
    }
    f.extend_from_slice(&p.bytes);
    let anc = Ancillary {
        protocol: Some(p.ethertype),
        ..Ancillary::default()
    };
    (f, anc)
}

/// Every frame of the corpus on `link`, plus truncated copies.
fn frames(corpus: &[NetPacket], link: LinkType) -> Vec<(Vec<u8>, u32, Ancillary)> {
    let mut out = Vec::new();
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for (n, p) in corpus.iter().enumerate() {
        let (f, anc) = frame(p, link);
        let wire = f.len() as u32;
        if n % 6 == 0 {
            // Every cut of some packets; random cuts of others.
            for cut in 0..f.len().min(90) {
                out.push((f[..cut].to_vec(), wire, anc));
            }
        } else if n % 2 == 0 {
            let cut = rng.below(f.len() as u64 + 1) as usize;
            out.push((f[..cut].to_vec(), wire, anc));
        }
        out.push((f, wire, anc));
    }
    out
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn same_decisions_as_tcpdump() {
    if !tcpdump_available() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("netdx-filter-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let corpus = corpus();
    let mut failures = Vec::new();
    let mut runs = 0usize;
    let mut order_dependent = 0usize;
    let mut checked = 0usize;
    let mut ours_len = 0usize;
    let mut theirs_len = 0usize;
    let mut all_links: Vec<(LinkType, Option<u32>, &str)> =
        LINKS.iter().map(|&(l, t, n)| (l, Some(t), n)).collect();
    all_links.push((LinkType::KernelCooked, None, "cooked"));
    let mut pcaps = std::collections::HashMap::new();
    for &(_, t, _) in LINKS {
        pcaps.insert(t, empty_pcap(&dir, t));
    }
    // Long programs, with jumps beyond 255 instructions.
    let long = [
        format!(
            "port {}",
            (1..=70)
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(" or ")
        ),
        format!(
            "tcp[13] = 2 and not ({})",
            (1..=40)
                .map(|p| format!("src port {p}"))
                .collect::<Vec<_>>()
                .join(" or ")
        ),
    ];
    let exprs: Vec<&str> = EXPRESSIONS
        .iter()
        .copied()
        .chain(long.iter().map(|s| s.as_str()))
        .collect();
    for expr in &exprs {
        for &(link, linktype, name) in &all_links {
            let reference = |optimize: bool| match linktype {
                Some(t) => tcpdump_compile(&pcaps[&t], expr, optimize),
                None => match tcpdump_compile(&pcaps[&113], expr, optimize) {
                    Reference::Program(p) => match cook(&p) {
                        Some(c) => Reference::Program(c),
                        None => Reference::Error("needs the link header".into()),
                    },
                    r => r,
                },
            };
            let unoptimized = match reference(false) {
                Reference::Program(p) => Some(p),
                _ => None,
            };
            let reference = reference(true);
            let ours = compile(expr, link, SNAPLEN);
            let (theirs, ours) = match (reference, ours) {
                (Reference::Error(e), Ok(p)) => {
                    failures.push(format!(
                        "{expr:?} on {name}: tcpdump refuses ({}) but we compile:\n{}",
                        e.trim(),
                        p.disassemble()
                    ));
                    continue;
                }
                (Reference::Error(_), Err(_)) => {
                    checked += 1;
                    continue;
                }
                (_, Err(e)) => {
                    failures.push(format!(
                        "{expr:?} on {name}: tcpdump compiles, we fail: {e}"
                    ));
                    continue;
                }
                (Reference::RejectsAll, Ok(p)) => (None, p),
                (Reference::Program(t), Ok(p)) => (Some(t), p),
            };
            checked += 1;
            ours.validate().expect("our program is valid");
            ours_len += ours.insns.len();
            theirs_len += theirs.as_ref().map_or(1, |t| t.insns.len());
            for (f, wire, anc) in frames(&corpus, link) {
                runs += 1;
                let a = theirs.as_ref().map_or(0, |t| t.run(&f, wire, &anc)) != 0;
                let b = ours.run(&f, wire, &anc) != 0;
                // libpcap's optimizer reorders loads, so on a packet cut
                // inside the headers its answer can depend on -O; then
                // either answer is libpcap's.
                let u = unoptimized
                    .as_ref()
                    .map_or(a, |u| u.run(&f, wire, &anc) != 0);
                if a != u {
                    order_dependent += 1;
                }
                if a != b && a == u {
                    failures.push(format!(
                        "{expr:?} on {name}: tcpdump {} we {} for {} (wire {wire})\nours:\n{}theirs:\n{}",
                        a,
                        b,
                        hex(&f),
                        ours.disassemble(),
                        theirs.as_ref().map_or(String::new(), |t| t.disassemble())
                    ));
                    break;
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!(
        "{} base packets, {} frames per link type with cuts",
        corpus.len(),
        frames(&corpus, LinkType::Ethernet).len()
    );
    eprintln!(
        "{} expressions x {} link types ({checked} pairs checked), {runs} packet runs; \
         {ours_len} instructions ours vs {theirs_len} tcpdump's; \
         {order_dependent} runs where tcpdump -O and tcpdump disagree (cut headers)",
        exprs.len(),
        all_links.len()
    );
    if !failures.is_empty() {
        panic!(
            "{} disagreements with tcpdump; first ones:\n{}",
            failures.len(),
            failures
                .iter()
                .take(if std::env::var("FILTER_ALL").is_ok() {
                    1000
                } else {
                    6
                })
                .cloned()
                .collect::<Vec<_>>()
                .join("\n\n")
        );
    }
}

#[test]
fn kernel_cooked_reads_the_protocol_ancillary() {
    let p = compile("tcp port 80", LinkType::KernelCooked, 100).expect("compiles");
    assert!(p.insns.iter().any(|i| i.code == 0x20 && i.k == 0xffff_f000));
    // A SYN to port 80 over IPv4, as a SOCK_DGRAM socket sees it.
    let mut pkt = vec![0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0];
    pkt.extend_from_slice(&Ipv4Addr::new(198, 18, 0, 1).octets());
    pkt.extend_from_slice(&Ipv4Addr::new(198, 18, 0, 2).octets());
    pkt.extend_from_slice(&[
        0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 2, 0xff, 0xff, 0, 0, 0, 0,
    ]);
    assert!(p.matches(&pkt, pkt.len() as u32));
    pkt[23] = 81;
    assert!(!p.matches(&pkt, pkt.len() as u32));
    let sock = p.to_sock_filters();
    assert_eq!(sock.len(), p.insns.len());
    assert_eq!(sock.last().map(|s| s.0), Some(0x06));
}

#[test]
fn errors_are_named_and_positioned() {
    let cases: &[(&str, &str)] = &[
        ("port 70000", "70000"),
        ("host example.com", "not resolved"),
        ("net 198.18.0.0/33", "33"),
        ("host 1.2.3.999", "bad address"),
        ("(tcp", "unbalanced"),
        ("tcp)", "unbalanced"),
        ("()", "empty"),
        ("tcp and", "needs an expression"),
        ("tcp $ udp", "unexpected character"),
        ("frob", "unknown keyword"),
        ("tcp[13] / 0 = 1", "division by zero"),
        ("ether host 00:11:22:33:44:55 and tcp", ""),
    ];
    for (expr, want) in cases {
        let r = compile(expr, LinkType::LinuxSll, SNAPLEN);
        let e: FilterError = match r {
            Ok(p) => panic!("{expr:?} compiled:\n{}", p.disassemble()),
            Err(e) => e,
        };
        assert!(e.message.contains(want), "{expr:?}: {e}");
        assert!(!e.message.contains('\n'), "{expr:?}: one line: {e}");
    }
    assert!(compile("", LinkType::Ethernet, 9)
        .expect("empty")
        .matches(&[], 0));
}

/// Thousands of random and mutated expressions and random packets: no
/// panic, and every compile and run is fast.
#[test]
fn hostile_expressions_and_packets() {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    let atoms = [
        "host",
        "net",
        "port",
        "portrange",
        "src",
        "dst",
        "or",
        "and",
        "not",
        "tcp",
        "udp",
        "ip",
        "ip6",
        "icmp",
        "icmp6",
        "arp",
        "proto",
        "less",
        "greater",
        "len",
        "(",
        ")",
        "[",
        "]",
        ":",
        "&",
        "|",
        "!",
        "&&",
        "||",
        "=",
        "!=",
        "<",
        ">",
        "<=",
        ">=",
        "+",
        "-",
        "*",
        "/",
        "%",
        "<<",
        ">>",
        "^",
        "198.18.0.1",
        "2001:db8::1",
        "10-20",
        "80",
        "0",
        "4294967295",
        "99999999999",
        "198.18.0.0/15",
        "/",
        "mask",
        "255.0.0.0",
        "tcp-syn",
        "tcpflags",
        "\\tcp",
        "ether",
        "00:11:22:33:44:55",
        "icmptype",
        "1:2",
        "::",
        "-1",
    ];
    let corpus = corpus();
    let start = Instant::now();
    let mut slowest = Duration::ZERO;
    let mut compiled = 0;
    for n in 0..6000 {
        let expr = if n % 3 == 0 {
            // Mutate a known-good expression.
            let mut b: Vec<u8> = rng.pick(EXPRESSIONS).bytes().collect();
            for _ in 0..=rng.below(3) {
                let at = rng.below(b.len() as u64 + 1) as usize;
                match rng.below(3) {
                    0 if at < b.len() => {
                        b.remove(at);
                    }
                    1 => b.insert(at, rng.pick(b"()[]&|!=<>:-/ 0123456789abcdefx.\\")),
                    _ if at < b.len() => b[at] = rng.next() as u8,
                    _ => {}
                }
            }
            String::from_utf8_lossy(&b).to_string()
        } else {
            let len = 1 + rng.below(12);
            (0..len)
                .map(|_| rng.pick(&atoms))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let link = rng.pick(&[
            LinkType::Ethernet,
            LinkType::LinuxSll,
            LinkType::LinuxSll2,
            LinkType::RawIp,
            LinkType::KernelCooked,
        ]);
        let t = Instant::now();
        let r = compile(&expr, link, SNAPLEN);
        if let Ok(p) = &r {
            compiled += 1;
            p.validate().expect("compiled programs are valid");
            for _ in 0..5 {
                let pkt = &corpus[rng.below(corpus.len() as u64) as usize];
                let (f, anc) = frame(pkt, link);
                let cut = rng.below(f.len() as u64 + 1) as usize;
                let _ = p.run(&f[..cut], f.len() as u32, &anc);
            }
        }
        slowest = slowest.max(t.elapsed());
    }
    // Deep nesting and long inputs are refused quickly.
    for expr in [
        "(".repeat(10_000),
        format!("{}tcp{}", "(".repeat(90), ")".repeat(90)),
        "not ".repeat(5_000) + "tcp",
        "port 1 or ".repeat(2_000) + "port 2",
        "ip or ".repeat(2_700) + "ip",
        "ip and ".repeat(2_300) + "ip",
        "1=1 and ".repeat(2_000) + "ip",
        "!ip||".repeat(3_000) + "ip",
        "ip or tcp and ".repeat(249) + "ip",
        "(ip or tcp and (udp or port 1) and ".repeat(20) + "ip" + &")".repeat(20),
        "-".repeat(5_000) + "1 = 1",
        "tcp[".repeat(200),
    ] {
        let t = Instant::now();
        let _ = compile(&expr, LinkType::Ethernet, SNAPLEN);
        if std::env::var("FILTER_ALL").is_ok() {
            eprintln!("{:?} for {:?}", t.elapsed(), &expr[..expr.len().min(40)]);
        }
        slowest = slowest.max(t.elapsed());
    }
    // Random programs in the interpreter: never a panic.
    for _ in 0..3000 {
        let len = 1 + rng.below(40) as usize;
        let v: Vec<(u16, u8, u8, u32)> = (0..len)
            .map(|_| {
                let r = rng.next() as u32;
                (
                    rng.below(0x100) as u16,
                    rng.next() as u8,
                    rng.next() as u8,
                    rng.pick(&[0u32, 1, 12, 14, 0xffff_f000, u32::MAX, r]),
                )
            })
            .collect();
        let p = Program::from_sock_filters(&v);
        let _ = p.validate();
        let pkt = &corpus[rng.below(corpus.len() as u64) as usize];
        let _ = p.matches(&pkt.bytes, pkt.bytes.len() as u32);
    }
    eprintln!(
        "{compiled} of 6000 random expressions compiled; slowest compile {slowest:?}; total {:?}",
        start.elapsed()
    );
    assert!(
        compiled > 100,
        "the generator should produce some valid filters"
    );
    assert!(
        slowest < Duration::from_secs(1),
        "slowest compile {slowest:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(60));
}
