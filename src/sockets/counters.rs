//! Kernel counters and sysctls that explain socket trouble: the figures
//! `netstat -s` and `sar -n SOCK/ETCP` show, read from /proc/net/netstat,
//! /proc/net/snmp and /proc/sys/net. All are per network namespace.

pub use crate::diagnose::sockets::counters::{Counters, HostLimits, Rates};

impl Counters {
    /// Reads both files; None if neither is readable.
    pub fn read() -> Option<Counters> {
        let netstat = std::fs::read_to_string("/proc/net/netstat").ok();
        let snmp = std::fs::read_to_string("/proc/net/snmp").ok();
        if netstat.is_none() && snmp.is_none() {
            return None;
        }
        let ext = |name| table(netstat.as_deref().unwrap_or(""), "TcpExt:", name);
        let tcp = |name| table(snmp.as_deref().unwrap_or(""), "Tcp:", name);
        Some(Counters {
            listen_overflows: ext("ListenOverflows"),
            listen_drops: ext("ListenDrops"),
            syncookies_sent: ext("SyncookiesSent"),
            syncookies_failed: ext("SyncookiesFailed"),
            tcp_timeouts: ext("TCPTimeouts"),
            retrans_segs: tcp("RetransSegs"),
            out_segs: tcp("OutSegs"),
            active_opens: tcp("ActiveOpens"),
            passive_opens: tcp("PassiveOpens"),
            attempt_fails: tcp("AttemptFails"),
            estab_resets: tcp("EstabResets"),
        })
    }
}

/// Finds `name` in the header/value line pair that starts with `prefix`.
fn table(text: &str, prefix: &str, name: &str) -> u64 {
    let mut lines = text.lines().filter(|l| l.starts_with(prefix));
    while let (Some(head), Some(vals)) = (lines.next(), lines.next()) {
        let pos = head.split_whitespace().position(|h| h == name);
        if let Some(p) = pos {
            return vals
                .split_whitespace()
                .nth(p)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
        }
    }
    0
}

impl HostLimits {
    /// Reads the sysctls, using the kernel defaults for any unreadable one.
    pub fn read() -> HostLimits {
        let (lo, hi) = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
            .ok()
            .and_then(|t| {
                let mut it = t.split_whitespace().map(|v| v.parse::<u16>().ok());
                Some((it.next()??, it.next()??))
            })
            .unwrap_or((32768, 60999));
        HostLimits {
            port_low: lo,
            port_high: hi.max(lo),
            somaxconn: sysctl("core/somaxconn").unwrap_or(4096),
            max_syn_backlog: sysctl("ipv4/tcp_max_syn_backlog").unwrap_or(1024),
            syncookies: sysctl("ipv4/tcp_syncookies").unwrap_or(1),
            fin_timeout: sysctl("ipv4/tcp_fin_timeout").unwrap_or(60),
            tw_reuse: sysctl("ipv4/tcp_tw_reuse").unwrap_or(2),
            keepalive_time: sysctl("ipv4/tcp_keepalive_time").unwrap_or(7200),
            keepalive_intvl: sysctl("ipv4/tcp_keepalive_intvl").unwrap_or(75),
            keepalive_probes: sysctl("ipv4/tcp_keepalive_probes").unwrap_or(9),
        }
    }
}

fn sysctl<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::fs::read_to_string(format!("/proc/sys/net/{name}"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_named_counter() {
        let text = "TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 4 17 19\nIpExt: A\nIpExt: 1\n";
        assert_eq!(table(text, "TcpExt:", "ListenOverflows"), 17);
        assert_eq!(table(text, "TcpExt:", "ListenDrops"), 19);
        assert_eq!(table(text, "TcpExt:", "Missing"), 0);
    }
}
