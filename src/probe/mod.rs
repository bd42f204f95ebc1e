//! The probe core shared by ping, trace and mtr: commands describe probes,
//! the engine sends them and reports what came back. No command module opens
//! a socket itself.

pub mod capture;
pub mod connect;
pub mod dnsio;
pub mod engine;
pub mod held;
pub mod listen;
pub mod netlink;
pub mod packet;
pub mod pending;
pub mod pmtu;
pub mod pool;
pub mod privilege;
pub mod route;
pub mod rstwatch;
pub mod seam;
pub mod socket;
mod tcp;
mod tcpconn;
pub mod tlsio;
mod udp;
mod udpflow;

use serde::Serialize;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

pub use engine::Engine;
pub use socket::{Binding, PmtuDisc, SocketMode};

/// What kind of packet a probe is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "method", rename_all = "lowercase")]
pub enum ProbeKind {
    /// ICMP / ICMPv6 echo request with `payload` data bytes.
    Echo {
        /// Data bytes after the 8-byte echo header.
        payload: usize,
    },
    /// UDP datagram to `port` (traceroute's classic method, 33434 and up).
    /// Works without privileges: errors come back through IP_RECVERR.
    Udp {
        /// Destination port.
        port: u16,
        /// Paris flow: every probe of one flow leaves from one socket (one
        /// source port) to one port, so ECMP routers hash them all onto one
        /// branch. With the raw ICMP listener (root) probes differ in UDP
        /// length, which the quoted header always returns; without it (or
        /// with a fixed size) they carry a tag in their first payload bytes
        /// and the flow socket's error queue returns the quote (see
        /// `udpflow`). None: one socket per probe (classic traceroute).
        flow: Option<u16>,
        /// Data bytes after the UDP header (None: traceroute's 32).
        payload: Option<usize>,
    },
    /// TCP SYN to `port`, as tcptraceroute sends it: the destination answers
    /// SYN-ACK or RST and both mean "reached". Hand-built on a raw TCP
    /// socket with CAP_NET_RAW, else a kernel connect() per probe.
    TcpSyn {
        /// Destination port.
        port: u16,
        /// Data bytes after the SYN's header (0 normally; a packet length
        /// given to trace). Only raw SYNs can carry them.
        payload: usize,
        /// Paris flow: every raw SYN of one flow leaves from one source
        /// port, told apart by the top half of its sequence number.
        flow: Option<u16>,
    },
}

/// One probe as a command asks for it: where, with which TTL, how long to wait.
#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    /// Destination address.
    pub target: IpAddr,
    /// TTL / hop limit; None keeps the system default.
    pub ttl: Option<u8>,
    /// Packet kind.
    pub kind: ProbeKind,
    /// How long to wait for an answer before reporting a timeout.
    #[serde(skip)]
    pub timeout: Duration,
}

/// What came back for a probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Response {
    /// The target answered (echo reply).
    Reply {
        /// Who answered.
        from: IpAddr,
        /// TTL / hop limit of the answer as received.
        ttl: Option<u8>,
        /// ICMP bytes of the answer.
        bytes: usize,
    },
    /// A router on the way dropped the probe when its TTL ran out.
    TimeExceeded {
        /// The router that said so.
        from: IpAddr,
        /// TTL / hop limit of its message as received, when known: how far
        /// the way back is (traceroute --back).
        #[serde(skip_serializing_if = "Option::is_none")]
        ttl: Option<u8>,
        /// MPLS label stack the router quoted (RFC 4950), top first.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        mpls: Vec<packet::MplsLabel>,
    },
    /// A router or the target said the destination cannot be reached
    /// (also Packet Too Big and Parameter Problem).
    Unreachable {
        /// The router or host that said so.
        from: IpAddr,
        /// ICMP / ICMPv6 type.
        icmp_type: u8,
        /// ICMP / ICMPv6 code.
        code: u8,
        /// Next-hop MTU reported by Fragmentation Needed / Packet Too Big.
        #[serde(skip_serializing_if = "Option::is_none")]
        mtu: Option<u32>,
        /// MPLS label stack the router quoted (RFC 4950 extensions ride on
        /// Destination Unreachable too), top first.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        mpls: Vec<packet::MplsLabel>,
    },
    /// The target answered a TCP SYN probe: SYN-ACK (a listener) or RST
    /// (nothing listens); either way the probe reached the host.
    TcpReply {
        /// Who answered.
        from: IpAddr,
        /// TTL / hop limit of the answer as received.
        ttl: Option<u8>,
        /// True for SYN-ACK, false for RST.
        open: bool,
    },
    /// Nothing came back in time.
    Timeout,
    /// The local stack refused to send (no route, message too long…).
    LocalError {
        /// errno of the failed send.
        errno: i32,
    },
}

/// The result of one probe.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// The probe as it was asked for.
    pub probe: Probe,
    /// Sequence number the engine put on the wire.
    pub seq: u16,
    /// Wall-clock time the probe was sent.
    #[serde(skip)]
    pub sent: SystemTime,
    /// Round-trip time, when something came back.
    pub rtt: Option<Duration>,
    /// What came back.
    pub response: Response,
}
