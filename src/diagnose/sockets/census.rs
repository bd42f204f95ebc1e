//! Counting: every socket passes through `Census::add` once and only
//! bumps counters in tables bounded by ports, peers and listeners, so memory
//! stays flat whether the host has 100 or 100,000 sockets.

use super::counters::HostLimits;
use super::record::SockRecord;
use super::state::{TcpState, Timer, SLOTS};
use std::collections::HashMap;
use std::net::IpAddr;

/// Most stalled connections kept whole to name in a diagnosis.
pub const STALLED_KEPT: usize = 32;

/// True when the peer of `rec` stopped answering: data in flight whose
/// retransmit (or zero-window probe) timer has fired twice or more, or
/// keepalive probes sent and unanswered. What a vanished peer leaves
/// behind before the kernel gives up with ETIMEDOUT.
pub fn is_stalled(rec: &SockRecord) -> bool {
    if !matches!(
        rec.state,
        TcpState::Established | TcpState::CloseWait | TcpState::FinWait1 | TcpState::LastAck
    ) {
        return false;
    }
    match rec.timer {
        Timer::Retransmit | Timer::Probe => rec.retrans >= 2 && rec.wqueue > 0,
        Timer::Keepalive => rec.retrans >= 1,
        _ => false,
    }
}

/// True when an ESTABLISHED socket's keepalive timer betrays an idle time
/// of its own rather than the host's `tcp_keepalive_time` (`sysctl_s`).
///
/// On a socket idle since its timer was armed, the timer is due at
/// (idle setting − idle so far), so remaining + idle estimates the setting.
/// With tcp_info (`rec.extra`) a socket whose estimate is off the sysctl by
/// more than 5% is counted as its own: shorter (TCP_KEEPIDLE) or longer.
/// Traffic after the timer was armed also lowers the estimate, so a busy
/// socket on the default can count here too; it is not the idle connection
/// the default endangers. Without tcp_info (/proc) only a timer due in the
/// last 5% of the default counts, which a default socket rarely shows.
pub fn keepalive_own_idle(rec: &SockRecord, sysctl_s: u32) -> bool {
    let default_ms = u64::from(sysctl_s) * 1000;
    let slack = default_ms / 20;
    match rec.extra {
        Some(x) => {
            let estimate = rec.expires_ms + u64::from(x.idle_ms);
            estimate + slack < default_ms || estimate > default_ms + slack
        }
        None => rec.expires_ms < slack,
    }
}

/// Per-state counts for one key (a port, a peer, a destination).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Sockets per state slot.
    pub states: [u32; SLOTS],
    /// One CLOSE_WAIT socket's inode, to name the process that leaks.
    pub close_wait_inode: u64,
    /// Sockets whose local port lies in ip_local_port_range (what a
    /// connect() without bind() draws from).
    pub ephemeral: u32,
}

impl Tally {
    /// Counts one socket.
    pub fn add(&mut self, rec: &SockRecord) {
        self.states[rec.state.slot()] += 1;
        if rec.state == TcpState::CloseWait && self.close_wait_inode == 0 {
            self.close_wait_inode = rec.inode;
        }
    }

    /// Count in one state.
    pub fn get(&self, s: TcpState) -> u32 {
        self.states[s.slot()]
    }

    /// All sockets except listeners.
    pub fn connections(&self) -> u32 {
        self.states.iter().sum::<u32>() - self.get(TcpState::Listen)
    }
}

/// The counted result of one pass over the host's TCP sockets.
#[derive(Debug, Default)]
pub struct Census {
    /// IPv4 sockets counted.
    pub v4: u64,
    /// IPv6 sockets counted.
    pub v6: u64,
    /// Count per state slot.
    pub states: [u64; SLOTS],
    /// By local port, for service ports only: ports with a listener.
    /// Client-side ports (one socket each) are counted in `dests` instead,
    /// which keeps this table small at 100k sockets. Both kernel sources
    /// list listeners first, so a port is known to listen before its
    /// connections arrive.
    pub ports: HashMap<u16, Tally>,
    /// Bitmap of ports seen listening.
    listening: Vec<u64>,
    /// By remote address (listeners excluded; v4-mapped shown as v4).
    pub peers: HashMap<IpAddr, Tally>,
    /// By remote address and port, for sockets on a local port that does not
    /// listen (the client side): the view in which local ports run out.
    pub dests: HashMap<(IpAddr, u16), Tally>,
    /// Listening sockets (with their queues).
    pub listeners: Vec<SockRecord>,
    /// ESTABLISHED sockets with a keepalive timer armed.
    pub keepalive_armed: u64,
    /// Of those, sockets that show their own idle time (see
    /// [`keepalive_own_idle`]); sock_diag does not report TCP_KEEPIDLE itself.
    pub keepalive_own: u64,
    /// Connections whose peer stopped acknowledging: unacknowledged data
    /// under a retransmit or window-probe timer that already fired at
    /// least twice, or keepalive probes outstanding (first
    /// [`STALLED_KEPT`] kept whole).
    pub stalled: Vec<SockRecord>,
    /// How many connections are stalled (all of them, not only those kept).
    pub stalled_count: u64,
    /// Sockets kept whole for a detail view (only when asked).
    pub kept: Vec<SockRecord>,
    /// Whether records are kept in `kept`.
    keep: bool,
    /// Sockets seen before filtering.
    pub seen: u64,
}

impl Census {
    /// An empty census; `keep` keeps every counted record for a detail view.
    pub fn keeping(keep: bool) -> Census {
        Census {
            keep,
            ..Census::default()
        }
    }

    /// Total sockets counted.
    pub fn total(&self) -> u64 {
        self.v4 + self.v6
    }

    /// Count in one state.
    pub fn get(&self, s: TcpState) -> u64 {
        self.states[s.slot()]
    }

    /// Counts one socket.
    pub fn add(&mut self, rec: &SockRecord, limits: &HostLimits) {
        if rec.v6 {
            self.v6 += 1;
        } else {
            self.v4 += 1;
        }
        self.states[rec.state.slot()] += 1;
        let (word, bit) = (usize::from(rec.lport / 64), rec.lport % 64);
        if self.listening.is_empty() {
            self.listening = vec![0; 1024];
        }
        if rec.state == TcpState::Listen {
            self.listening[word] |= 1 << bit;
        }
        let service = self.listening[word] & (1 << bit) != 0;
        if service {
            self.ports.entry(rec.lport).or_default().add(rec);
        }
        if rec.state == TcpState::Listen {
            self.listeners.push(*rec);
        } else {
            let remote = rec.remote.to_canonical();
            self.peers.entry(remote).or_default().add(rec);
            if !service {
                let t = self.dests.entry((remote, rec.rport)).or_default();
                t.add(rec);
                if limits.is_ephemeral(rec.lport) {
                    t.ephemeral += 1;
                }
            }
            if rec.state == TcpState::Established && rec.timer == Timer::Keepalive {
                self.keepalive_armed += 1;
                if keepalive_own_idle(rec, limits.keepalive_time) {
                    self.keepalive_own += 1;
                }
            }
            if is_stalled(rec) {
                self.stalled_count += 1;
                if self.stalled.len() < STALLED_KEPT {
                    self.stalled.push(*rec);
                }
            }
        }
        if self.keep {
            self.kept.push(*rec);
        }
    }
}
