//! Packet decoding for `watch`: link header → IPv4/IPv6 (extension headers
//! skipped) → TCP/UDP/ICMP/ICMPv6. Gives the `tcpdump -n` style line and,
//! for TCP, the [`Segment`] the flow tracker follows. Never trusts a length
//! field: every read is bounds-checked against the captured bytes.

use super::filter::LinkType;
use super::flow::Segment;
use super::pcap::FrameRef;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Transport class of a packet, for the per-protocol counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    /// TCP over IPv4 or IPv6.
    Tcp,
    /// UDP over IPv4 or IPv6.
    Udp,
    /// ICMP (IPv4).
    Icmp,
    /// ICMPv6.
    Icmp6,
    /// Another IP protocol, or a fragment past the first.
    OtherIp,
    /// Not IP at all (ARP, LLDP…) or too short to tell.
    NonIp,
}

/// One decoded packet.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// What it carries.
    pub proto: Proto,
    /// The TCP segment, for the flow tracker.
    pub segment: Option<Segment>,
}

/// Where the packet went, from a cooked header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cooked {
    ifindex: Option<u32>,
    pkttype: u8,
}

/// Decodes packets in capture order; keeps what `tcpdump -n` keeps to print
/// relative sequence numbers, and interface names.
#[derive(Debug, Default)]
pub struct Decoder {
    /// Verbose lines (`-v`): IP header fields too.
    pub verbose: bool,
    /// Sequence bases per connection (canonical address order).
    seq_bases: HashMap<(SocketAddr, SocketAddr), (u32, u32)>,
    names: HashMap<u32, String>,
    /// The packet being decoded carried a hop-by-hop header (tcpdump
    /// prints `HBH` before the transport).
    hbh: bool,
}

/// Connections whose sequence bases are kept before the table restarts:
/// bounds memory on long captures.
const MAX_SEQ_BASES: usize = 1 << 16;

impl Decoder {
    /// A decoder; `verbose` adds the IP header fields to lines.
    pub fn new(verbose: bool) -> Self {
        Decoder {
            verbose,
            ..Decoder::default()
        }
    }

    /// Decodes one frame; `line`, when given, receives the tcpdump-style text.
    pub fn decode(&mut self, frame: FrameRef<'_>, line: Option<&mut String>) -> Decoded {
        let (ethertype, cooked, net) = match link_header(frame.link, frame.data) {
            Some(v) => v,
            None => {
                if let Some(out) = line {
                    push_time(out, frame.ts_ns);
                    let _ = write!(
                        out,
                        "[|{}] length {}",
                        link_name(frame.link),
                        frame.wire_len
                    );
                }
                return Decoded {
                    proto: Proto::NonIp,
                    segment: None,
                };
            }
        };
        let mut text = line;
        if let Some(out) = text.as_deref_mut() {
            push_time(out, frame.ts_ns);
            if let Some(c) = cooked {
                self.cooked_prefix(out, c);
            }
        }
        let data = &frame.data[net.min(frame.data.len())..];
        let ts_us = frame.ts_ns / 1000;
        match ethertype {
            0x0800 => self.ipv4(data, ts_us, text),
            0x86dd => self.ipv6(data, ts_us, text),
            other => {
                if let Some(out) = text {
                    let len = frame.wire_len.saturating_sub(net as u32);
                    if other == 0x0806 {
                        arp_text(out, data, len);
                    } else {
                        let _ = write!(out, "ethertype 0x{other:04x}, length {len}");
                    }
                }
                Decoded {
                    proto: Proto::NonIp,
                    segment: None,
                }
            }
        }
    }

    fn cooked_prefix(&mut self, out: &mut String, c: Cooked) {
        let dir = match c.pkttype {
            0 => "In",
            1 => "B",
            2 => "M",
            3 => "P",
            4 => "Out",
            _ => "?",
        };
        if let Some(index) = c.ifindex {
            let name = self
                .names
                .entry(index)
                .or_insert_with(|| interface_name(index));
            let _ = write!(out, "{name:<5} {dir:<3} ");
        }
        // SLL (v1) names no interface, and tcpdump -n prints no prefix for it.
    }

    fn ipv4(&mut self, d: &[u8], ts_us: u64, text: Option<&mut String>) -> Decoded {
        self.hbh = false;
        let nothing = Decoded {
            proto: Proto::NonIp,
            segment: None,
        };
        if d.len() < 20 || d[0] >> 4 != 4 {
            if let Some(out) = text {
                out.push_str("IP [|ip]");
            }
            return nothing;
        }
        let ihl = usize::from(d[0] & 0x0f) * 4;
        let total = usize::from(u16::from_be_bytes([d[2], d[3]]));
        if ihl < 20 || d.len() < ihl {
            if let Some(out) = text {
                out.push_str("IP [|ip] bad header length");
            }
            return nothing;
        }
        let ttl = d[8];
        let proto = d[9];
        let frag = u16::from_be_bytes([d[6], d[7]]);
        let src = IpAddr::V4(Ipv4Addr::new(d[12], d[13], d[14], d[15]));
        let dst = IpAddr::V4(Ipv4Addr::new(d[16], d[17], d[18], d[19]));
        let mut text = text;
        if let Some(out) = text.as_deref_mut() {
            out.push_str("IP ");
            if self.verbose {
                let mut flags = Vec::new();
                if frag & 0x4000 != 0 {
                    flags.push("DF");
                }
                if frag & 0x2000 != 0 {
                    flags.push("+");
                }
                let flags = if flags.is_empty() {
                    "none".to_string()
                } else {
                    flags.join("")
                };
                let _ = write!(
                    out,
                    "(tos 0x{:x}, ttl {ttl}, id {}, offset {}, flags [{flags}], proto {} ({proto}), length {total}) ",
                    d[1],
                    u16::from_be_bytes([d[4], d[5]]),
                    (frag & 0x1fff) * 8,
                    proto_name(proto),
                );
            }
        }
        let payload_len = total.saturating_sub(ihl);
        let end = d.len().min(total.max(ihl));
        let transport = &d[ihl..end];
        if frag & 0x1fff != 0 {
            if let Some(out) = text {
                let _ = write!(out, "{src} > {dst}: ip-proto-{proto} (fragment)");
            }
            return Decoded {
                proto: Proto::OtherIp,
                segment: None,
            };
        }
        self.transport(proto, src, dst, transport, payload_len, ttl, ts_us, text)
    }

    fn ipv6(&mut self, d: &[u8], ts_us: u64, text: Option<&mut String>) -> Decoded {
        if d.len() < 40 || d[0] >> 4 != 6 {
            if let Some(out) = text {
                out.push_str("IP6 [|ip6]");
            }
            return Decoded {
                proto: Proto::NonIp,
                segment: None,
            };
        }
        let plen = usize::from(u16::from_be_bytes([d[4], d[5]]));
        let hlim = d[7];
        let mut next = d[6];
        let src = IpAddr::V6(v6_at(d, 8));
        let dst = IpAddr::V6(v6_at(d, 24));
        let end = d.len().min(40 + plen);
        let mut at = 40;
        let mut remaining = plen;
        let mut text = text;
        if let Some(out) = text.as_deref_mut() {
            out.push_str("IP6 ");
            if self.verbose {
                let _ = write!(
                    out,
                    "(hlim {hlim}, next-header {} ({next}) payload length: {plen}) ",
                    proto_name(next)
                );
            }
        }
        self.hbh = next == 0;
        // Hop-by-hop, routing, destination options, fragment, AH.
        loop {
            let ext_len = match next {
                0 | 43 | 60 => d.get(at + 1).map(|l| (usize::from(*l) + 1) * 8),
                44 => {
                    let offset = d
                        .get(at + 2..at + 4)
                        .map(|b| u16::from_be_bytes([b[0], b[1]]) & 0xfff8);
                    if offset.unwrap_or(1) != 0 {
                        if let Some(out) = text {
                            let _ = write!(out, "{src} > {dst}: frag (fragment)");
                        }
                        return Decoded {
                            proto: Proto::OtherIp,
                            segment: None,
                        };
                    }
                    Some(8)
                }
                51 => d.get(at + 1).map(|l| (usize::from(*l) + 2) * 4),
                _ => break,
            };
            let Some(ext_len) = ext_len.filter(|l| at + l <= end) else {
                if let Some(out) = text {
                    let _ = write!(out, "{src} > {dst}: [|ip6 extension header]");
                }
                return Decoded {
                    proto: Proto::OtherIp,
                    segment: None,
                };
            };
            next = d[at];
            at += ext_len;
            remaining = remaining.saturating_sub(ext_len);
        }
        self.transport(
            next,
            src,
            dst,
            &d[at..end.max(at)],
            remaining,
            hlim,
            ts_us,
            text,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn transport(
        &mut self,
        proto: u8,
        src: IpAddr,
        dst: IpAddr,
        t: &[u8],
        payload_len: usize,
        ttl: u8,
        ts_us: u64,
        text: Option<&mut String>,
    ) -> Decoded {
        match proto {
            6 => self.tcp(src, dst, t, payload_len, ttl, ts_us, text),
            17 => {
                if let Some(out) = text {
                    if t.len() >= 8 {
                        let sport = u16::from_be_bytes([t[0], t[1]]);
                        let dport = u16::from_be_bytes([t[2], t[3]]);
                        let len = u16::from_be_bytes([t[4], t[5]]).saturating_sub(8);
                        let _ = write!(out, "{src}.{sport} > {dst}.{dport}: UDP, length {len}");
                    } else {
                        let _ = write!(out, "{src} > {dst}: [|udp]");
                    }
                }
                Decoded {
                    proto: Proto::Udp,
                    segment: None,
                }
            }
            1 | 58 => {
                let v6 = proto == 58;
                if let Some(out) = text {
                    let hbh = if v6 && self.hbh { "HBH " } else { "" };
                    let _ = write!(out, "{src} > {dst}: {hbh}");
                    icmp_text(out, v6, t, payload_len);
                }
                Decoded {
                    proto: if v6 { Proto::Icmp6 } else { Proto::Icmp },
                    segment: None,
                }
            }
            other => {
                if let Some(out) = text {
                    let _ = write!(out, "{src} > {dst}: ip-proto-{other} {payload_len}");
                }
                Decoded {
                    proto: Proto::OtherIp,
                    segment: None,
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn tcp(
        &mut self,
        src: IpAddr,
        dst: IpAddr,
        t: &[u8],
        payload_len: usize,
        ttl: u8,
        ts_us: u64,
        text: Option<&mut String>,
    ) -> Decoded {
        if t.len() < 20 {
            if let Some(out) = text {
                let _ = write!(out, "{src} > {dst}: [|tcp]");
            }
            return Decoded {
                proto: Proto::Tcp,
                segment: None,
            };
        }
        let sport = u16::from_be_bytes([t[0], t[1]]);
        let dport = u16::from_be_bytes([t[2], t[3]]);
        let seq = u32::from_be_bytes([t[4], t[5], t[6], t[7]]);
        let ack = u32::from_be_bytes([t[8], t[9], t[10], t[11]]);
        let doff = usize::from(t[12] >> 4) * 4;
        let flags = t[13];
        let window = u16::from_be_bytes([t[14], t[15]]);
        let options = if doff > 20 {
            &t[20..t.len().min(doff)]
        } else {
            &[][..]
        };
        let opts = parse_options(options);
        let data_len = payload_len.saturating_sub(doff) as u32;
        let src_sa = SocketAddr::new(src, sport);
        let dst_sa = SocketAddr::new(dst, dport);
        if let Some(out) = text {
            let (rseq, rack) = self.relative(src_sa, dst_sa, seq, ack, flags);
            let _ = write!(
                out,
                "{src_sa_fmt} > {dst_sa_fmt}: Flags [{}]",
                flag_text(flags),
                src_sa_fmt = endpoint(src, sport),
                dst_sa_fmt = endpoint(dst, dport)
            );
            if data_len > 0 || flags & 0x07 != 0 {
                let _ = write!(out, ", seq {rseq}");
                if data_len > 0 {
                    let _ = write!(out, ":{}", rseq.wrapping_add(data_len));
                }
            }
            if flags & 0x10 != 0 {
                let _ = write!(out, ", ack {rack}");
            }
            let _ = write!(out, ", win {window}");
            if flags & 0x20 != 0 {
                let _ = write!(out, ", urg {}", u16::from_be_bytes([t[18], t[19]]));
            }
            if !opts.text.is_empty() {
                let _ = write!(out, ", options [{}]", opts.text.join(","));
            }
            let _ = write!(out, ", length {data_len}");
        }
        let syn = flags & 0x02 != 0;
        Decoded {
            proto: Proto::Tcp,
            segment: Some(Segment {
                ts_us,
                src: src_sa,
                dst: dst_sa,
                flags,
                seq,
                ack,
                window,
                window_scale: if syn { opts.wscale } else { None },
                mss: if syn { opts.mss } else { None },
                payload_len: data_len,
                ttl,
            }),
        }
    }

    /// tcpdump's relative sequence numbers: the first segment with ACK in a
    /// connection sets the bases and prints absolute numbers; later ones
    /// print offsets from them.
    fn relative(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        seq: u32,
        ack: u32,
        flags: u8,
    ) -> (u32, u32) {
        if flags & 0x10 == 0 {
            return (seq, ack);
        }
        let rev = (src.ip(), src.port()) > (dst.ip(), dst.port());
        let key = if rev { (dst, src) } else { (src, dst) };
        match self.seq_bases.get(&key) {
            Some(&(bseq, back)) => {
                if rev {
                    (seq.wrapping_sub(back), ack.wrapping_sub(bseq))
                } else {
                    (seq.wrapping_sub(bseq), ack.wrapping_sub(back))
                }
            }
            None => {
                if self.seq_bases.len() >= MAX_SEQ_BASES {
                    self.seq_bases.clear();
                }
                let bases = if rev {
                    (ack.wrapping_sub(1), seq)
                } else {
                    (seq, ack.wrapping_sub(1))
                };
                self.seq_bases.insert(key, bases);
                (seq, ack)
            }
        }
    }
}

/// `addr.port`, as tcpdump -n prints endpoints (IPv6 without brackets).
fn endpoint(ip: IpAddr, port: u16) -> String {
    format!("{ip}.{port}")
}

fn v6_at(d: &[u8], i: usize) -> Ipv6Addr {
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[i..i + 16]);
    Ipv6Addr::from(b)
}

/// The ethertype, cooked-header details and where the network header
/// starts, or None when the link header is cut short.
fn link_header(link: LinkType, d: &[u8]) -> Option<(u16, Option<Cooked>, usize)> {
    match link {
        LinkType::Ethernet => {
            let mut at = 12;
            loop {
                let et = u16::from_be_bytes([*d.get(at)?, *d.get(at + 1)?]);
                if et == 0x8100 || et == 0x88a8 || et == 0x9100 {
                    at += 4;
                    continue;
                }
                return Some((et, None, at + 2));
            }
        }
        LinkType::LinuxSll => {
            if d.len() < 16 {
                return None;
            }
            let pkttype = u16::from_be_bytes([d[0], d[1]]) as u8;
            let et = u16::from_be_bytes([d[14], d[15]]);
            Some((
                et,
                Some(Cooked {
                    ifindex: None,
                    pkttype,
                }),
                16,
            ))
        }
        LinkType::LinuxSll2 | LinkType::KernelCooked => {
            if d.len() < 20 {
                return None;
            }
            let et = u16::from_be_bytes([d[0], d[1]]);
            let ifindex = u32::from_be_bytes([d[4], d[5], d[6], d[7]]);
            Some((
                et,
                Some(Cooked {
                    ifindex: Some(ifindex),
                    pkttype: d[10],
                }),
                20,
            ))
        }
        LinkType::RawIp => match d.first()? >> 4 {
            4 => Some((0x0800, None, 0)),
            6 => Some((0x86dd, None, 0)),
            _ => Some((0, None, 0)),
        },
    }
}

fn link_name(link: LinkType) -> &'static str {
    match link {
        LinkType::Ethernet => "ether",
        LinkType::LinuxSll => "sll",
        LinkType::LinuxSll2 | LinkType::KernelCooked => "sll2",
        LinkType::RawIp => "ip",
    }
}

/// The interface name of an index on this host, or `ifindex N`.
fn interface_name(index: u32) -> String {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: if_indextoname writes at most IF_NAMESIZE bytes, NUL included,
    // into the buffer it is given, and returns NULL on an unknown index.
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if p.is_null() {
        return format!("ifindex{index}");
    }
    // SAFETY: on success the buffer holds a NUL-terminated name.
    unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// Appends `HH:MM:SS.ffffff ` in local time, as tcpdump prints it.
pub fn push_time(out: &mut String, ts_ns: u64) {
    let secs = (ts_ns / 1_000_000_000) as libc::time_t;
    let usecs = (ts_ns % 1_000_000_000) / 1000;
    // SAFETY: localtime_r only writes the tm it is given.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = !unsafe { libc::localtime_r(&secs, &mut tm) }.is_null();
    let (h, m, s) = if ok {
        (tm.tm_hour, tm.tm_min, tm.tm_sec)
    } else {
        let day = secs.rem_euclid(86_400);
        (
            (day / 3600) as i32,
            (day / 60 % 60) as i32,
            (day % 60) as i32,
        )
    };
    let _ = write!(out, "{h:02}:{m:02}:{s:02}.{usecs:06} ");
}

fn proto_name(p: u8) -> &'static str {
    match p {
        1 => "ICMP",
        6 => "TCP",
        17 => "UDP",
        58 => "ICMPv6",
        _ => "unknown",
    }
}

/// tcpdump's flag letters in its order; `none` when no flag is set.
fn flag_text(flags: u8) -> String {
    let mut s = String::new();
    for (bit, c) in [
        (0x01, 'F'),
        (0x02, 'S'),
        (0x04, 'R'),
        (0x08, 'P'),
        (0x10, '.'),
        (0x20, 'U'),
        (0x40, 'E'),
        (0x80, 'W'),
    ] {
        if flags & bit != 0 {
            s.push(c);
        }
    }
    if s.is_empty() {
        s.push_str("none");
    }
    s
}

/// TCP options as tcpdump names them, plus the two the tracker needs.
struct Options {
    text: Vec<String>,
    mss: Option<u16>,
    wscale: Option<u8>,
}

fn parse_options(o: &[u8]) -> Options {
    let mut out = Options {
        text: Vec::new(),
        mss: None,
        wscale: None,
    };
    let mut i = 0;
    while i < o.len() {
        match o[i] {
            0 => {
                out.text.push("eol".into());
                break;
            }
            1 => {
                out.text.push("nop".into());
                i += 1;
                continue;
            }
            kind => {
                let Some(&len) = o.get(i + 1) else {
                    out.text.push("[|tcp]".into());
                    break;
                };
                let len = usize::from(len);
                if len < 2 || i + len > o.len() {
                    out.text.push(format!("bad opt {kind}"));
                    break;
                }
                let v = &o[i + 2..i + len];
                match (kind, len) {
                    (2, 4) => {
                        let mss = u16::from_be_bytes([v[0], v[1]]);
                        out.mss = Some(mss);
                        out.text.push(format!("mss {mss}"));
                    }
                    (3, 3) => {
                        out.wscale = Some(v[0]);
                        out.text.push(format!("wscale {}", v[0]));
                    }
                    (4, 2) => out.text.push("sackOK".into()),
                    (5, _) => {
                        let blocks: Vec<String> = v
                            .chunks_exact(8)
                            .map(|b| {
                                format!(
                                    "{{{}:{}}}",
                                    u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
                                    u32::from_be_bytes([b[4], b[5], b[6], b[7]])
                                )
                            })
                            .collect();
                        out.text
                            .push(format!("sack {} {}", blocks.len(), blocks.join("")));
                    }
                    (8, 10) => out.text.push(format!(
                        "TS val {} ecr {}",
                        u32::from_be_bytes([v[0], v[1], v[2], v[3]]),
                        u32::from_be_bytes([v[4], v[5], v[6], v[7]])
                    )),
                    _ => out.text.push(format!("unknown-{kind}")),
                }
                i += len;
            }
        }
    }
    out
}

/// ARP requests and replies as tcpdump -n prints them.
fn arp_text(out: &mut String, a: &[u8], len: u32) {
    if a.len() < 28 || a[4] != 6 || a[5] != 4 {
        let _ = write!(out, "ARP, length {len}");
        return;
    }
    let ip = |i: usize| Ipv4Addr::new(a[i], a[i + 1], a[i + 2], a[i + 3]);
    let mac: Vec<String> = a[8..14].iter().map(|b| format!("{b:02x}")).collect();
    match u16::from_be_bytes([a[6], a[7]]) {
        1 => {
            let _ = write!(
                out,
                "ARP, Request who-has {} tell {}, length {len}",
                ip(24),
                ip(14)
            );
        }
        2 => {
            let _ = write!(
                out,
                "ARP, Reply {} is-at {}, length {len}",
                ip(14),
                mac.join(":")
            );
        }
        op => {
            let _ = write!(out, "ARP, op {op}, length {len}");
        }
    }
}

/// ICMP and ICMPv6 in tcpdump's words for the common types.
fn icmp_text(out: &mut String, v6: bool, t: &[u8], len: usize) {
    if t.len() < 4 {
        out.push_str(if v6 { "ICMP6 [|icmp6]" } else { "ICMP [|icmp]" });
        return;
    }
    let (ty, code) = (t[0], t[1]);
    let idseq = || {
        if t.len() >= 8 {
            format!(
                ", id {}, seq {}",
                u16::from_be_bytes([t[4], t[5]]),
                u16::from_be_bytes([t[6], t[7]])
            )
        } else {
            String::new()
        }
    };
    // The quoted packet of an error: its destination and transport port.
    let quoted = |at: usize| -> Option<(IpAddr, u8, u16)> {
        let q = t.get(at..)?;
        if v6 {
            let dst = IpAddr::V6(v6_at(q.get(..40)?, 24));
            let port = q.get(42..44).map(|p| u16::from_be_bytes([p[0], p[1]]))?;
            Some((dst, q[6], port))
        } else {
            let ihl = usize::from(q.first()? & 0x0f) * 4;
            let a = q.get(16..20)?;
            let dst = IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3]));
            let port = q
                .get(ihl + 2..ihl + 4)
                .map(|p| u16::from_be_bytes([p[0], p[1]]))?;
            Some((dst, q[9], port))
        }
    };
    let transport = |p: u8| match p {
        6 => "tcp",
        17 => "udp",
        _ => "ip",
    };
    if v6 {
        let target = || {
            t.get(8..24)
                .map(|b| v6_at(b, 0).to_string())
                .unwrap_or_default()
        };
        let what = match ty {
            128 => format!("echo request{}", idseq()),
            129 => format!("echo reply{}", idseq()),
            1 if code == 4 && quoted(8).is_some() => {
                let (dst, p, port) = quoted(8).unwrap_or((IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0, 0));
                format!(
                    "destination unreachable, unreachable port, {dst} {} port {port}",
                    transport(p)
                )
            }
            1 if code == 3 && quoted(8).is_some() => {
                let (dst, _, _) = quoted(8).unwrap_or((IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0, 0));
                format!("destination unreachable, unreachable address {dst}")
            }
            1 => format!("destination unreachable, code {code}"),
            2 => "packet too big".into(),
            3 => "time exceeded in-transit".into(),
            133 => "router solicitation".into(),
            134 => "router advertisement".into(),
            135 => format!("neighbor solicitation, who has {}", target()),
            136 => format!("neighbor advertisement, tgt is {}", target()),
            143 => match t.get(6..8) {
                Some(n) => format!(
                    "multicast listener report v2, {} group record(s)",
                    u16::from_be_bytes([n[0], n[1]])
                ),
                None => "multicast listener report v2".into(),
            },
            _ => format!("type {ty}, code {code}"),
        };
        let _ = write!(out, "ICMP6, {what}, length {len}");
    } else {
        let what = match ty {
            8 => format!("echo request{}", idseq()),
            0 => format!("echo reply{}", idseq()),
            3 => match (code, quoted(8)) {
                (0, Some((dst, _, _))) => format!("net {dst} unreachable"),
                (1, Some((dst, _, _))) => format!("host {dst} unreachable"),
                (2, Some((dst, p, _))) => format!("{dst} protocol {p} unreachable"),
                (3, Some((dst, p, port))) => {
                    format!("{dst} {} port {port} unreachable", transport(p))
                }
                (10, Some((dst, _, _))) => format!("host {dst} unreachable - admin prohibited"),
                (13, Some((dst, _, _))) => {
                    format!("host {dst} unreachable - admin prohibited filter")
                }
                _ => format!("unreachable, code {code}"),
            },
            11 => "time exceeded in-transit".into(),
            _ => format!("type {ty}, code {code}"),
        };
        let _ = write!(out, "ICMP {what}, length {len}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An IPv4 SYN 198.18.0.1:40000 → 198.18.0.2:80 with MSS and wscale.
    fn syn_v4() -> Vec<u8> {
        let mut p = vec![
            0x45, 0, 0, 48, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2,
        ];
        p.extend_from_slice(&40000u16.to_be_bytes());
        p.extend_from_slice(&80u16.to_be_bytes());
        p.extend_from_slice(&1000u32.to_be_bytes());
        p.extend_from_slice(&0u32.to_be_bytes());
        p.extend_from_slice(&[0x70, 0x02, 0xfa, 0xf0, 0, 0, 0, 0]);
        p.extend_from_slice(&[2, 4, 0x05, 0xb4, 1, 3, 3, 7]);
        p
    }

    use super::super::pcap::Frame;

    fn frame(link: LinkType, data: Vec<u8>) -> Frame {
        Frame {
            ts_ns: 0,
            link,
            wire_len: data.len() as u32,
            data,
        }
    }

    #[test]
    fn a_syn_reads_like_tcpdump_and_feeds_the_tracker() {
        let mut d = Decoder::new(false);
        let mut line = String::new();
        let got = d.decode(frame(LinkType::RawIp, syn_v4()).view(), Some(&mut line));
        assert!(
            line.ends_with("IP 198.18.0.1.40000 > 198.18.0.2.80: Flags [S], seq 1000, win 64240, options [mss 1460,nop,wscale 7], length 0"),
            "{line}"
        );
        let seg = got.segment.expect("segment");
        assert_eq!(seg.mss, Some(1460));
        assert_eq!(seg.window_scale, Some(7));
        assert_eq!(seg.ttl, 64);
        assert_eq!(seg.payload_len, 0);
        assert_eq!(got.proto, Proto::Tcp);
    }

    #[test]
    fn ethernet_with_a_vlan_tag_and_sll2_decode() {
        let mut eth = vec![0u8; 12];
        eth.extend_from_slice(&[0x81, 0x00, 0, 5, 0x08, 0x00]);
        eth.extend(syn_v4());
        let mut d = Decoder::new(false);
        assert_eq!(
            d.decode(frame(LinkType::Ethernet, eth).view(), None).proto,
            Proto::Tcp
        );
        let mut sll2 = vec![0x08, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 4, 6];
        sll2.extend_from_slice(&[0; 8]);
        sll2.extend(syn_v4());
        let mut line = String::new();
        d.decode(frame(LinkType::LinuxSll2, sll2).view(), Some(&mut line));
        assert!(line.contains(" Out IP 198.18.0.1.40000"), "{line}");
    }

    #[test]
    fn truncated_and_garbage_packets_never_panic() {
        let mut d = Decoder::new(true);
        let full = syn_v4();
        for cut in 0..full.len() {
            for link in [
                LinkType::RawIp,
                LinkType::Ethernet,
                LinkType::LinuxSll,
                LinkType::LinuxSll2,
            ] {
                let mut line = String::new();
                d.decode(frame(link, full[..cut].to_vec()).view(), Some(&mut line));
            }
        }
        // An ICMP port unreachable quoting the SYN, cut at every length.
        let mut unreach = vec![
            0x45, 0, 0, 76, 0, 0, 0, 0, 64, 1, 0, 0, 198, 18, 0, 2, 198, 18, 0, 1, 3, 3, 0, 0, 0,
            0, 0, 0,
        ];
        unreach.extend_from_slice(&full);
        for cut in 0..unreach.len() {
            let mut line = String::new();
            d.decode(
                frame(LinkType::RawIp, unreach[..cut].to_vec()).view(),
                Some(&mut line),
            );
        }
        let mut line = String::new();
        d.decode(frame(LinkType::RawIp, unreach).view(), Some(&mut line));
        assert!(
            line.contains("ICMP 198.18.0.2 tcp port 80 unreachable"),
            "{line}"
        );
        let mut v6 = vec![0x60, 0, 0, 0, 0, 16, 0, 64];
        v6.extend_from_slice(&[0; 32]);
        v6.extend_from_slice(&[6, 200, 0, 0, 0, 0, 0, 0]);
        let mut line = String::new();
        d.decode(frame(LinkType::RawIp, v6).view(), Some(&mut line));
        assert!(line.contains("IP6"), "{line}");
    }

    #[test]
    fn later_segments_print_relative_numbers() {
        let mut d = Decoder::new(false);
        let mut synack = syn_v4();
        synack[12..16].copy_from_slice(&[198, 18, 0, 2]);
        synack[16..20].copy_from_slice(&[198, 18, 0, 1]);
        synack[20..22].copy_from_slice(&80u16.to_be_bytes());
        synack[22..24].copy_from_slice(&40000u16.to_be_bytes());
        synack[24..28].copy_from_slice(&5000u32.to_be_bytes());
        synack[28..32].copy_from_slice(&1001u32.to_be_bytes());
        synack[33] = 0x12;
        let mut line = String::new();
        d.decode(frame(LinkType::RawIp, synack).view(), Some(&mut line));
        assert!(line.contains("Flags [S.], seq 5000, ack 1001"), "{line}");
        let mut ack = syn_v4();
        ack[24..28].copy_from_slice(&1001u32.to_be_bytes());
        ack[28..32].copy_from_slice(&5001u32.to_be_bytes());
        ack[33] = 0x10;
        let mut line = String::new();
        d.decode(frame(LinkType::RawIp, ack).view(), Some(&mut line));
        assert!(line.contains("Flags [.], ack 1, win"), "{line}");
    }
}
