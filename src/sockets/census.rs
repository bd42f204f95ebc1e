//! Counting: every socket passes through `Census::add` once and only
//! bumps counters in tables bounded by ports, peers and listeners, so memory
//! stays flat whether the host has 100 or 100,000 sockets.

use super::counters::HostLimits;
use super::netlink;
use super::procfs;
use super::record::{SockRecord, Source};
use super::state::{TcpState, Timer, SLOTS};
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

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
    fn add(&mut self, rec: &SockRecord) {
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

/// Which sockets a census counts.
#[derive(Debug, Clone, Default)]
pub enum Filter {
    /// Every TCP socket.
    #[default]
    All,
    /// Local or remote port equals this (the `lsof -i :P` view).
    Port(u16),
    /// Sockets whose inode is in this set (from a --pid/--process scan).
    Inodes(HashSet<u64>),
}

impl Filter {
    fn matches(&self, rec: &SockRecord) -> bool {
        match self {
            Filter::All => true,
            Filter::Port(p) => rec.lport == *p || rec.rport == *p,
            Filter::Inodes(set) => rec.inode != 0 && set.contains(&rec.inode),
        }
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
    /// Sockets kept whole for a detail view (only when asked).
    pub kept: Vec<SockRecord>,
    /// Whether records are kept in `kept`.
    keep: bool,
    /// Sockets seen before filtering.
    pub seen: u64,
}

impl Census {
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
            }
        }
        if self.keep {
            self.kept.push(*rec);
        }
    }
}

/// What to read and how.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Preferred source; netlink falls back to /proc on failure.
    pub source: Option<Source>,
    /// Read IPv4 sockets.
    pub v4: bool,
    /// Read IPv6 sockets.
    pub v6: bool,
    /// Ask netlink for tcp_info (rtt, retransmits) per socket.
    pub info: bool,
    /// Keep matching records for a detail view.
    pub keep: bool,
    /// Which sockets count.
    pub filter: Filter,
}

/// Reads the sockets once and counts them. Returns the census and the source
/// actually used, plus why netlink was abandoned when auto fell back.
pub fn take(plan: &Plan, limits: &HostLimits) -> std::io::Result<(Census, Source, Option<String>)> {
    if plan.source == Some(Source::Proc) {
        return read(Source::Proc, plan, limits).map(|c| (c, Source::Proc, None));
    }
    match read(Source::Netlink, plan, limits) {
        Ok(c) => Ok((c, Source::Netlink, None)),
        Err(e) if plan.source == Some(Source::Netlink) => Err(e),
        // Start over from /proc: a partial netlink pass is discarded.
        Err(e) => read(Source::Proc, plan, limits).map(|c| {
            let why = format!("netlink sock_diag failed ({e}); read /proc/net/tcp instead");
            (c, Source::Proc, Some(why))
        }),
    }
}

/// One full pass over one source.
fn read(source: Source, plan: &Plan, limits: &HostLimits) -> std::io::Result<Census> {
    let mut census = Census {
        keep: plan.keep,
        ..Census::default()
    };
    let mut each = |rec: &SockRecord| {
        census.seen += 1;
        if plan.filter.matches(rec) {
            census.add(rec, limits);
        }
    };
    match source {
        Source::Netlink => {
            if plan.v4 {
                netlink::dump(libc::AF_INET as u8, plan.info, &mut each)?;
            }
            if plan.v6 {
                // No IPv6 in this kernel: inet_diag has no handler for it.
                match netlink::dump(libc::AF_INET6 as u8, plan.info, &mut each) {
                    Err(e)
                        if matches!(
                            e.raw_os_error(),
                            Some(libc::ENOENT) | Some(libc::EAFNOSUPPORT)
                        ) => {}
                    other => other?,
                }
            }
        }
        Source::Proc => {
            if plan.v4 {
                procfs::dump("/proc/net/tcp", false, &mut each)?;
            }
            if plan.v6 {
                // A kernel without IPv6 has no tcp6 table: zero sockets.
                match procfs::dump("/proc/net/tcp6", true, &mut each) {
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    other => other?,
                }
            }
        }
    }
    Ok(census)
}
