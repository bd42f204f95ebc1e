//! TCP states in the kernel's own numbering (include/net/tcp_states.h), so
//! netlink and /proc records index the same tables without translation.

use serde::Serialize;

/// Number of slots in a per-state table (kernel states 1..=11, slot 0 unused).
pub const SLOTS: usize = 12;

/// A TCP socket state as the kernel numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TcpState {
    /// Connection open, data flowing.
    Established = 1,
    /// Our SYN sent, waiting for SYN-ACK.
    SynSent = 2,
    /// Peer's SYN received, our SYN-ACK sent, waiting for the final ACK.
    SynRecv = 3,
    /// We closed first; our FIN not yet acknowledged.
    FinWait1 = 4,
    /// We closed first; our FIN acknowledged, waiting for the peer's FIN.
    FinWait2 = 5,
    /// We closed first and the handshake finished; holding the 4-tuple.
    TimeWait = 6,
    /// Fully closed (rarely visible).
    Close = 7,
    /// Peer closed; our application has not closed yet.
    CloseWait = 8,
    /// Peer closed, we closed after; waiting for the ACK of our FIN.
    LastAck = 9,
    /// A passive socket waiting for connections.
    Listen = 10,
    /// Both sides closed at the same time.
    Closing = 11,
}

/// All states in display order (the order people read a census in).
pub const ORDER: [TcpState; 11] = [
    TcpState::Listen,
    TcpState::SynSent,
    TcpState::SynRecv,
    TcpState::Established,
    TcpState::FinWait1,
    TcpState::FinWait2,
    TcpState::CloseWait,
    TcpState::Closing,
    TcpState::LastAck,
    TcpState::TimeWait,
    TcpState::Close,
];

impl TcpState {
    /// Maps the kernel number (12 = TCP_NEW_SYN_RECV counts as SYN_RECV).
    pub fn from_kernel(n: u8) -> Option<TcpState> {
        Some(match n {
            1 => TcpState::Established,
            2 => TcpState::SynSent,
            3 | 12 => TcpState::SynRecv,
            4 => TcpState::FinWait1,
            5 => TcpState::FinWait2,
            6 => TcpState::TimeWait,
            7 => TcpState::Close,
            8 => TcpState::CloseWait,
            9 => TcpState::LastAck,
            10 => TcpState::Listen,
            11 => TcpState::Closing,
            _ => return None,
        })
    }

    /// Slot in a `[_; SLOTS]` table.
    pub fn slot(self) -> usize {
        self as usize
    }

    /// The name netstat prints, from the one table of TCP states that
    /// `netdx explain` also reads.
    pub fn name(self) -> &'static str {
        crate::diagnose::tcp_state::by_number(self as u8).map_or("UNKNOWN", |info| info.name)
    }
}

/// The kernel's per-socket timer kinds (inet_diag idiag_timer, /proc `tr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// No timer pending.
    Off,
    /// Retransmission timer: data or SYN not acknowledged yet.
    Retransmit,
    /// Keepalive (or the SYN-ACK timer of a request socket).
    Keepalive,
    /// TIME_WAIT expiry.
    TimeWait,
    /// Zero-window probe: the peer advertised no room.
    Probe,
}

impl Timer {
    /// Maps the kernel's timer number.
    pub fn from_kernel(n: u8) -> Timer {
        match n {
            1 => Timer::Retransmit,
            2 => Timer::Keepalive,
            3 => Timer::TimeWait,
            4 => Timer::Probe,
            _ => Timer::Off,
        }
    }

    /// The word `ss -o` prints inside `timer:(…)`.
    pub fn name(self) -> &'static str {
        match self {
            Timer::Off => "off",
            Timer::Retransmit => "on",
            Timer::Keepalive => "keepalive",
            Timer::TimeWait => "timewait",
            Timer::Probe => "persist",
        }
    }
}
