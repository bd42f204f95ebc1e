//! Per-connection tracking of TCP segments seen on the wire: handshake,
//! data, teardown, and what they show is going wrong. Pure: it reads
//! decoded segments, never a socket or a file.

use std::net::SocketAddr;

/// One TCP segment as the flow tracker needs it; the capture and pcap
/// reader decode packets into this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Capture time, microseconds since the Unix epoch.
    pub ts_us: u64,
    /// Sender address and port.
    pub src: SocketAddr,
    /// Receiver address and port.
    pub dst: SocketAddr,
    /// TCP flags byte (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20, ECE 0x40, CWR 0x80).
    pub flags: u8,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number (meaningful with ACK).
    pub ack: u32,
    /// Window field as sent (unscaled).
    pub window: u16,
    /// Window scale option, on SYN and SYN-ACK only.
    pub window_scale: Option<u8>,
    /// MSS option, on SYN and SYN-ACK only.
    pub mss: Option<u16>,
    /// TCP payload length on the wire (not the captured part).
    pub payload_len: u32,
    /// IP TTL / hop limit of the packet.
    pub ttl: u8,
}
