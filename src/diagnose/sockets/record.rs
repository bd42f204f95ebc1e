//! One socket as either source reports it; a plain `Copy` value so readers
//! can hand it to the census without allocating per socket.

use super::state::{TcpState, Timer};
use std::net::IpAddr;

/// Extra TCP figures from INET_DIAG_INFO (only requested for detail views).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpExtra {
    /// Smoothed round-trip time in microseconds.
    pub rtt_us: u32,
    /// Segments retransmitted over the connection's life.
    pub total_retrans: u32,
    /// Segments currently believed lost.
    pub lost: u32,
    /// Milliseconds since the peer last sent anything (the smaller of
    /// tcpi_last_data_recv and tcpi_last_ack_recv): the idle time the
    /// kernel's keepalive timer measures.
    pub idle_ms: u32,
}

/// A TCP socket, normalised across netlink and /proc.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SockRecord {
    /// Connection state.
    pub state: TcpState,
    /// Local address.
    pub local: IpAddr,
    /// Local port.
    pub lport: u16,
    /// Remote address (unspecified for listeners).
    pub remote: IpAddr,
    /// Remote port (0 for listeners).
    pub rport: u16,
    /// LISTEN: accept queue length; otherwise bytes not yet read.
    pub rqueue: u32,
    /// LISTEN: backlog (netlink only); otherwise bytes not yet acknowledged.
    pub wqueue: u32,
    /// Owning uid as the kernel records it.
    pub uid: u32,
    /// Socket inode (0 for TIME_WAIT and request sockets: no file).
    pub inode: u64,
    /// Pending timer kind.
    pub timer: Timer,
    /// Milliseconds until the timer fires.
    pub expires_ms: u64,
    /// Retransmissions (or keepalive probes) of the current timer.
    pub retrans: u8,
    /// Whether this is an IPv6 socket (including v4-mapped).
    pub v6: bool,
    /// TCP figures when the source provided them.
    pub extra: Option<TcpExtra>,
}

/// Where the records came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// NETLINK_SOCK_DIAG (inet_diag), as `ss` reads.
    Netlink,
    /// /proc/net/tcp and /proc/net/tcp6, as `netstat` reads.
    Proc,
}
