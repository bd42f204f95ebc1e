//! One pass over the host's TCP sockets: which reader, which sockets count,
//! and the fall back from netlink to /proc. The counting itself is
//! [`Census::add`], next to the rules that read it.

use super::counters::HostLimits;
use super::netlink;
use super::procfs;
use super::record::{SockRecord, Source};
use crate::diagnose::sockets::census::keepalive_own_idle;
pub use crate::diagnose::sockets::census::{Census, Tally};
use crate::diagnose::sockets::state::{TcpState, Timer};
use std::collections::HashSet;

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
    /// Keep the matching records that have a timer pending (`--timers`).
    pub timers: bool,
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

/// Counts the keepalive sockets with an idle time of their own from a
/// second netlink pass over ESTABLISHED sockets only, this time with
/// tcp_info (their idle time), which the census pass did not ask for.
fn keepalive_own_with_info(plan: &Plan, limits: &HostLimits) -> std::io::Result<u64> {
    const ESTABLISHED: u32 = 1 << 1;
    let mut own = 0u64;
    let mut each = |rec: &SockRecord| {
        if plan.filter.matches(rec)
            && rec.state == TcpState::Established
            && rec.timer == Timer::Keepalive
            && keepalive_own_idle(rec, limits.keepalive_time)
        {
            own += 1;
        }
    };
    if plan.v4 {
        netlink::dump_states(libc::AF_INET as u8, ESTABLISHED, true, &mut each)?;
    }
    if plan.v6 {
        match netlink::dump_states(libc::AF_INET6 as u8, ESTABLISHED, true, &mut each) {
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::ENOENT) | Some(libc::EAFNOSUPPORT)
                ) => {}
            other => other?,
        }
    }
    Ok(own)
}

/// One full pass over one source.
fn read(source: Source, plan: &Plan, limits: &HostLimits) -> std::io::Result<Census> {
    let mut census = Census::keeping(plan.keep);
    let mut each = |rec: &SockRecord| {
        census.seen += 1;
        if plan.filter.matches(rec) {
            census.add(rec, limits);
            if plan.timers && rec.timer != Timer::Off {
                census.kept.push(*rec);
            }
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
            if !plan.info && census.keepalive_armed > census.keepalive_own {
                census.keepalive_own =
                    keepalive_own_with_info(plan, limits)?.min(census.keepalive_armed);
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
