//! Builds the probes and parses what comes back, including the original
//! header quoted inside Time Exceeded / Destination Unreachable, which is how
//! a router's error is matched to the probe that caused it.

use pnet_packet::icmp::{self, echo_request::MutableEchoRequestPacket, IcmpPacket, IcmpTypes};
use pnet_packet::icmpv6::{echo_request::MutableEchoRequestPacket as MutableEcho6, Icmpv6Types};
use pnet_packet::ipv4::Ipv4Packet;
use pnet_packet::ipv6::Ipv6Packet;
use std::net::IpAddr;

/// IANA protocol numbers the quoted header may carry.
pub const PROTO_ICMP: u8 = 1;
/// TCP protocol number.
pub const PROTO_TCP: u8 = 6;
/// UDP protocol number.
pub const PROTO_UDP: u8 = 17;
/// ICMPv6 protocol number.
pub const PROTO_ICMPV6: u8 = 58;

/// Size of an ICMP / ICMPv6 echo header.
pub const ECHO_HEADER: usize = 8;

/// Builds an ICMP or ICMPv6 echo request of `ECHO_HEADER + payload` bytes.
/// The ICMPv4 checksum is filled in here; for ICMPv6 the kernel computes it
/// (it needs the pseudo-header with the source address chosen by routing).
pub fn echo_request(v6: bool, id: u16, seq: u16, payload: usize) -> Vec<u8> {
    let mut buf = vec![0u8; ECHO_HEADER + payload];
    for (i, b) in buf[ECHO_HEADER..].iter_mut().enumerate() {
        *b = (i % 256) as u8;
    }
    // Paris: the first payload word is the complement of the sequence, so
    // the two add up to 0xffff in one's complement and every request with
    // one identifier has one checksum — a load balancer that hashes the
    // first bytes of the ICMP header keeps them all on one path.
    if let Some(word) = buf.get_mut(ECHO_HEADER..ECHO_HEADER + 2) {
        word.copy_from_slice(&(!seq).to_be_bytes());
    }
    if v6 {
        if let Some(mut pkt) = MutableEcho6::new(&mut buf) {
            pkt.set_icmpv6_type(Icmpv6Types::EchoRequest);
            pkt.set_identifier(id);
            pkt.set_sequence_number(seq);
        }
    } else {
        if let Some(mut pkt) = MutableEchoRequestPacket::new(&mut buf) {
            pkt.set_icmp_type(IcmpTypes::EchoRequest);
            pkt.set_identifier(id);
            pkt.set_sequence_number(seq);
        }
        let sum = IcmpPacket::new(&buf)
            .map(|p| icmp::checksum(&p))
            .unwrap_or(0);
        buf[2..4].copy_from_slice(&sum.to_be_bytes());
    }
    buf
}

/// The transport identity of a probe, as found in its own header or quoted
/// back inside an ICMP error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Identity {
    /// ICMP echo: identifier and sequence number.
    Echo {
        /// Echo identifier (the kernel's port for datagram ICMP sockets).
        id: u16,
        /// Echo sequence number.
        seq: u16,
    },
    /// UDP: ports and the UDP length (Paris probes of one flow share the
    /// ports and differ in length).
    Udp {
        /// Source port of the probe.
        src: u16,
        /// Destination port of the probe.
        dst: u16,
        /// UDP length field (header and payload).
        len: u16,
    },
    /// TCP: source and destination ports, and the probe's tag.
    Ports {
        /// IP protocol (UDP or TCP).
        proto: u8,
        /// Source port of the probe.
        src: u16,
        /// Destination port of the probe.
        dst: u16,
        /// The top 16 bits of the SYN's sequence number: Paris TCP probes
        /// of one flow share their ports, so this tells them apart. It
        /// survives in the quoted header and in the answer's
        /// acknowledgment (ISN + 1 + data bytes, with the ISN's low 16
        /// bits zero).
        tag: u16,
    },
}

/// What an incoming ICMP message says, reduced to what matching needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// An echo reply carrying the identity of the echo request it answers.
    EchoReply(Identity),
    /// Time Exceeded, Destination Unreachable or Parameter Problem quoting a
    /// probe; `dst` is the quoted packet's destination.
    Error {
        /// ICMP / ICMPv6 type.
        icmp_type: u8,
        /// ICMP / ICMPv6 code.
        code: u8,
        /// Destination address of the quoted (original) packet.
        dst: Option<IpAddr>,
        /// Identity of the quoted probe.
        quoted: Identity,
        /// Next-hop MTU of a Fragmentation Needed / Packet Too Big.
        mtu: Option<u32>,
        /// MPLS label stack from an RFC 4884 / 4950 extension, top first.
        mpls: Vec<MplsLabel>,
    },
}

/// One MPLS label stack entry a router quoted (RFC 4950): tells which
/// label-switched path the probe was on when its TTL ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct MplsLabel {
    /// The 20-bit label.
    pub label: u32,
    /// Traffic class (3 bits, formerly EXP).
    pub tc: u8,
    /// Bottom-of-stack bit.
    pub s: bool,
    /// The label's TTL.
    pub ttl: u8,
}

impl std::fmt::Display for MplsLabel {
    /// mtr -e's form: `[MPLS: Lbl 16005 TC 0 S 1 TTL 1]`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "[MPLS: Lbl {} TC {} S {} TTL {}]",
            self.label,
            self.tc,
            u8::from(self.s),
            self.ttl
        )
    }
}

/// Length of the original datagram an RFC 4884 error pads to when it
/// carries extensions, and where pre-4884 senders put them (RFC 4884 §5).
const EXT_ORIGINAL: usize = 128;
/// Extension structure version (RFC 4884 §7).
const EXT_VERSION: u8 = 2;
/// Extension object class of an MPLS label stack (RFC 4950).
const CLASS_MPLS: u8 = 1;

/// The MPLS label stack of an ICMP Time Exceeded / Destination Unreachable
/// carrying RFC 4884 extensions; empty when there are none or they are
/// malformed (bad version, checksum or object length): junk is ignored.
pub fn mpls_labels(v6: bool, icmp: &[u8]) -> Vec<MplsLabel> {
    extension(v6, icmp).map(mpls_objects).unwrap_or_default()
}

/// The MPLS label stack of an extension structure found on its own (the
/// error queue says where it starts); checked as [`mpls_labels`] checks it.
pub fn extension_labels(ext: &[u8]) -> Vec<MplsLabel> {
    if ext.len() < 4 || ext[0] >> 4 != EXT_VERSION {
        return Vec::new();
    }
    let sum = u16::from_be_bytes([ext[2], ext[3]]);
    if sum != 0 && internet_checksum(ext) != 0 {
        return Vec::new();
    }
    mpls_objects(ext)
}

/// The extension structure (header and objects) of an ICMP error, if any.
fn extension(v6: bool, icmp: &[u8]) -> Option<&[u8]> {
    let (length, unit) = if v6 {
        (*icmp.get(4)?, 8)
    } else {
        (*icmp.get(5)?, 4)
    };
    let original = usize::from(length) * unit;
    let start = ECHO_HEADER
        + match original {
            // RFC 4884 §5: a sender without the length field puts the
            // extension after exactly 128 bytes of original datagram.
            0 => EXT_ORIGINAL,
            n if n < EXT_ORIGINAL => return None,
            n => n,
        };
    let ext = icmp.get(start..)?;
    if ext.len() < 4 || ext[0] >> 4 != EXT_VERSION {
        return None;
    }
    let sum = u16::from_be_bytes([ext[2], ext[3]]);
    // A zero checksum means the sender did not compute one (RFC 4884 §7).
    if sum != 0 && internet_checksum(ext) != 0 {
        return None;
    }
    Some(ext)
}

/// Label stack entries of every MPLS object in an extension structure;
/// stops at the first object whose length is impossible.
fn mpls_objects(ext: &[u8]) -> Vec<MplsLabel> {
    let mut out = Vec::new();
    let mut rest = ext.get(4..).unwrap_or_default();
    while rest.len() >= 4 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        let (class, ctype) = (rest[2], rest[3]);
        let Some(object) = rest.get(4..len).filter(|_| len >= 4) else {
            break;
        };
        if class == CLASS_MPLS && ctype == 1 {
            out.extend(object.chunks_exact(4).map(|e| {
                let word = u32::from_be_bytes([e[0], e[1], e[2], e[3]]);
                MplsLabel {
                    label: word >> 12,
                    tc: ((word >> 9) & 0x7) as u8,
                    s: (word >> 8) & 1 == 1,
                    ttl: (word & 0xff) as u8,
                }
            }));
        }
        rest = rest.get(len..).unwrap_or_default();
    }
    out
}

/// The one's complement sum of `data` folded to 16 bits and inverted: 0
/// for data that includes its own correct checksum.
pub fn internet_checksum(data: &[u8]) -> u16 {
    let mut sum: u64 = data
        .chunks(2)
        .map(|c| u64::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A parsed ICMP message plus the facts of the packet that carried it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// TTL / hop limit of the packet as received, when known.
    pub ttl: Option<u8>,
    /// Length of the ICMP message (header and data), as ping reports "bytes".
    pub icmp_len: usize,
    /// The meaning of the message.
    pub message: Message,
}

/// ICMPv4 types netdx understands.
pub mod v4types {
    /// Echo reply.
    pub const ECHO_REPLY: u8 = 0;
    /// Destination unreachable.
    pub const DEST_UNREACH: u8 = 3;
    /// Time exceeded.
    pub const TIME_EXCEEDED: u8 = 11;
    /// Parameter problem.
    pub const PARAM_PROBLEM: u8 = 12;
}

/// ICMPv6 types netdx understands.
pub mod v6types {
    /// Destination unreachable.
    pub const DEST_UNREACH: u8 = 1;
    /// Packet too big.
    pub const PACKET_TOO_BIG: u8 = 2;
    /// Time exceeded.
    pub const TIME_EXCEEDED: u8 = 3;
    /// Parameter problem.
    pub const PARAM_PROBLEM: u8 = 4;
    /// Echo reply.
    pub const ECHO_REPLY: u8 = 129;
}

/// Parses an ICMPv4 message received on a raw socket (IP header first).
pub fn parse_v4_with_ip(buf: &[u8]) -> Option<Incoming> {
    let ip = Ipv4Packet::new(buf)?;
    let hlen = v4_header_len(&ip)?;
    if ip.get_next_level_protocol().0 != PROTO_ICMP || buf.len() < hlen {
        return None;
    }
    let mut incoming = parse_icmp(false, &buf[hlen..])?;
    incoming.ttl = Some(ip.get_ttl());
    Some(incoming)
}

/// Parses a bare ICMP (v4) or ICMPv6 message, as datagram sockets and raw
/// ICMPv6 sockets deliver them.
pub fn parse_icmp(v6: bool, icmp: &[u8]) -> Option<Incoming> {
    if icmp.len() < ECHO_HEADER {
        return None;
    }
    let (icmp_type, code) = (icmp[0], icmp[1]);
    let (reply, errors): (u8, &[u8]) = if v6 {
        (
            v6types::ECHO_REPLY,
            &[
                v6types::DEST_UNREACH,
                v6types::PACKET_TOO_BIG,
                v6types::TIME_EXCEEDED,
                v6types::PARAM_PROBLEM,
            ],
        )
    } else {
        (
            v4types::ECHO_REPLY,
            &[
                v4types::DEST_UNREACH,
                v4types::TIME_EXCEEDED,
                v4types::PARAM_PROBLEM,
            ],
        )
    };
    let message = if icmp_type == reply {
        Message::EchoReply(echo_identity(icmp)?)
    } else if errors.contains(&icmp_type) {
        let (dst, quoted) = parse_quoted(v6, &icmp[ECHO_HEADER..])?;
        Message::Error {
            icmp_type,
            code,
            dst: Some(dst),
            quoted,
            mtu: reported_mtu(v6, icmp_type, code, icmp),
            mpls: mpls_labels(v6, icmp),
        }
    } else {
        return None;
    };
    Some(Incoming {
        ttl: None,
        icmp_len: icmp.len(),
        message,
    })
}

/// The MTU a router reports when a packet is too big for its next link:
/// ICMP 3/4 carries it in bytes 6..8, ICMPv6 2 in bytes 4..8.
pub fn reported_mtu(v6: bool, icmp_type: u8, code: u8, icmp: &[u8]) -> Option<u32> {
    let value = match (v6, icmp_type, code) {
        (false, v4types::DEST_UNREACH, 4) => {
            u32::from(u16::from_be_bytes([*icmp.get(6)?, *icmp.get(7)?]))
        }
        (true, v6types::PACKET_TOO_BIG, _) => {
            u32::from_be_bytes([*icmp.get(4)?, *icmp.get(5)?, *icmp.get(6)?, *icmp.get(7)?])
        }
        _ => return None,
    };
    (value > 0).then_some(value)
}

/// True for the two "too big for the next link" errors.
pub fn is_too_big(v6: bool, icmp_type: u8, code: u8) -> bool {
    matches!(
        (v6, icmp_type, code),
        (false, v4types::DEST_UNREACH, 4) | (true, v6types::PACKET_TOO_BIG, _)
    )
}

/// Reads identifier and sequence from an echo header.
pub fn echo_identity(icmp: &[u8]) -> Option<Identity> {
    if icmp.len() < ECHO_HEADER {
        return None;
    }
    Some(Identity::Echo {
        id: u16::from_be_bytes([icmp[4], icmp[5]]),
        seq: u16::from_be_bytes([icmp[6], icmp[7]]),
    })
}

/// Digs the original packet's destination and identity out of the data an
/// ICMP error quotes (the original IP header and at least 8 bytes after it).
pub fn parse_quoted(v6: bool, quoted: &[u8]) -> Option<(IpAddr, Identity)> {
    let (dst, proto, rest) = if v6 {
        let ip = Ipv6Packet::new(quoted)?;
        if ip.get_version() != 6 {
            return None;
        }
        let rest = quoted.get(40..)?;
        (
            IpAddr::V6(ip.get_destination()),
            ip.get_next_header().0,
            rest,
        )
    } else {
        let ip = Ipv4Packet::new(quoted)?;
        let rest = quoted.get(v4_header_len(&ip)?..)?;
        (
            IpAddr::V4(ip.get_destination()),
            ip.get_next_level_protocol().0,
            rest,
        )
    };
    Some((dst, transport_identity(proto, rest)?))
}

/// Length of an IPv4 header in bytes; None for a header that is not IPv4
/// or claims fewer than the 20 bytes every IPv4 header has (IHL < 5).
fn v4_header_len(ip: &Ipv4Packet) -> Option<usize> {
    let hlen = usize::from(ip.get_header_length()) * 4;
    (ip.get_version() == 4 && hlen >= 20).then_some(hlen)
}

/// Identity from the first 8 bytes of a transport header.
pub fn transport_identity(proto: u8, header: &[u8]) -> Option<Identity> {
    if header.len() < 8 {
        return None;
    }
    match proto {
        PROTO_ICMP | PROTO_ICMPV6 => echo_identity(header),
        PROTO_UDP => Some(Identity::Udp {
            src: u16::from_be_bytes([header[0], header[1]]),
            dst: u16::from_be_bytes([header[2], header[3]]),
            len: u16::from_be_bytes([header[4], header[5]]),
        }),
        PROTO_TCP => Some(Identity::Ports {
            proto,
            src: u16::from_be_bytes([header[0], header[1]]),
            dst: u16::from_be_bytes([header[2], header[3]]),
            tag: u16::from_be_bytes([header[4], header[5]]),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_request_has_valid_v4_checksum() {
        let pkt = echo_request(false, 0x1234, 7, 56);
        assert_eq!(pkt.len(), 64);
        let parsed = IcmpPacket::new(&pkt).map(|p| icmp::checksum(&p));
        assert_eq!(parsed, Some(u16::from_be_bytes([pkt[2], pkt[3]])));
        assert_eq!(
            echo_identity(&pkt),
            Some(Identity::Echo { id: 0x1234, seq: 7 })
        );
    }

    #[test]
    fn echo_requests_of_one_identifier_share_one_checksum() {
        let sums: std::collections::HashSet<[u8; 2]> = [1u16, 2, 300, 65535]
            .iter()
            .map(|&seq| {
                let pkt = echo_request(false, 0x4e44, seq, 32);
                [pkt[2], pkt[3]]
            })
            .collect();
        assert_eq!(sums.len(), 1);
    }

    #[test]
    fn time_exceeded_quoting_an_echo_is_matched() {
        // ICMP time exceeded (11/0) quoting a 20-byte IPv4 header + echo header.
        let mut msg = vec![11u8, 0, 0, 0, 0, 0, 0, 0];
        let mut ip = vec![0x45u8, 0, 0, 84, 0, 0, 0x40, 0, 1, PROTO_ICMP, 0, 0];
        ip.extend_from_slice(&[198, 18, 0, 2, 198, 18, 3, 2]);
        msg.extend_from_slice(&ip);
        msg.extend_from_slice(&echo_request(false, 99, 5, 0));
        let parsed = parse_icmp(false, &msg);
        let expected = Message::Error {
            icmp_type: 11,
            code: 0,
            dst: Some("198.18.3.2".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))),
            quoted: Identity::Echo { id: 99, seq: 5 },
            mtu: None,
            mpls: Vec::new(),
        };
        assert_eq!(parsed.map(|p| p.message), Some(expected));
    }

    #[test]
    fn truncated_input_is_ignored() {
        assert_eq!(parse_icmp(false, &[0, 0, 0]), None);
        assert_eq!(parse_icmp(false, &[11, 0, 0, 0, 0, 0, 0, 0, 0x45]), None);
        assert_eq!(parse_v4_with_ip(&[0x45]), None);
    }
}
