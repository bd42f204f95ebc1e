//! Kernel counters and host sysctls as the socket rules read them: the
//! figures `netstat -s` and `sar -n SOCK/ETCP` show, and the settings
//! that scale every threshold. `sockets::counters` reads them from /proc.

use serde::Serialize;

/// The TCP counters worth reading when sockets misbehave (since boot or
/// namespace creation). Missing counters read as 0.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct Counters {
    /// Connections dropped because a listener's accept queue was full.
    pub listen_overflows: u64,
    /// SYNs or handshake ACKs dropped at a listener (includes overflows).
    pub listen_drops: u64,
    /// SYN cookies sent because a SYN queue was full.
    pub syncookies_sent: u64,
    /// Cookies that came back invalid.
    pub syncookies_failed: u64,
    /// Retransmission timer expiries.
    pub tcp_timeouts: u64,
    /// Segments retransmitted.
    pub retrans_segs: u64,
    /// Segments sent.
    pub out_segs: u64,
    /// Connections this host opened (connect).
    pub active_opens: u64,
    /// Connections this host accepted.
    pub passive_opens: u64,
    /// Connection attempts that failed.
    pub attempt_fails: u64,
    /// Established connections reset.
    pub estab_resets: u64,
}

impl Counters {
    /// Per-second rates between two readings `secs` apart (counter resets
    /// read as 0, never negative).
    pub fn rates(&self, before: &Counters, secs: f64) -> Rates {
        let r = |now: u64, then: u64| {
            if secs > 0.0 {
                now.saturating_sub(then) as f64 / secs
            } else {
                0.0
            }
        };
        Rates {
            listen_overflows: r(self.listen_overflows, before.listen_overflows),
            listen_drops: r(self.listen_drops, before.listen_drops),
            syncookies_sent: r(self.syncookies_sent, before.syncookies_sent),
            tcp_timeouts: r(self.tcp_timeouts, before.tcp_timeouts),
            retrans_segs: r(self.retrans_segs, before.retrans_segs),
            active_opens: r(self.active_opens, before.active_opens),
            passive_opens: r(self.passive_opens, before.passive_opens),
        }
    }
}

/// Counter changes per second over a `--watch` interval.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Rates {
    /// Accept-queue overflows per second.
    pub listen_overflows: f64,
    /// Listener drops per second.
    pub listen_drops: f64,
    /// SYN cookies sent per second.
    pub syncookies_sent: f64,
    /// Retransmission timeouts per second.
    pub tcp_timeouts: f64,
    /// Retransmitted segments per second.
    pub retrans_segs: f64,
    /// Outgoing connections per second (sar's active/s).
    pub active_opens: f64,
    /// Accepted connections per second (sar's passive/s).
    pub passive_opens: f64,
}

/// Host settings that set the scale of the diagnoses.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct HostLimits {
    /// net.ipv4.ip_local_port_range, low end.
    pub port_low: u16,
    /// net.ipv4.ip_local_port_range, high end.
    pub port_high: u16,
    /// net.core.somaxconn: the cap on any listen() backlog.
    pub somaxconn: u32,
    /// net.ipv4.tcp_max_syn_backlog.
    pub max_syn_backlog: u32,
    /// net.ipv4.tcp_syncookies (0 off, 1 when needed, 2 always).
    pub syncookies: u8,
    /// net.ipv4.tcp_fin_timeout: seconds an orphaned FIN_WAIT2 lives.
    pub fin_timeout: u32,
    /// net.ipv4.tcp_tw_reuse (0, 1, 2 = loopback only).
    pub tw_reuse: u8,
    /// net.ipv4.tcp_keepalive_time: idle seconds before the first probe.
    pub keepalive_time: u32,
    /// net.ipv4.tcp_keepalive_intvl: seconds between probes.
    pub keepalive_intvl: u32,
    /// net.ipv4.tcp_keepalive_probes: unanswered probes before reset.
    pub keepalive_probes: u32,
}

impl HostLimits {
    /// Number of ephemeral ports one source address has per destination.
    pub fn port_range_size(&self) -> u32 {
        u32::from(self.port_high) - u32::from(self.port_low) + 1
    }

    /// Whether a local port falls in the ephemeral range.
    pub fn is_ephemeral(&self, port: u16) -> bool {
        (self.port_low..=self.port_high).contains(&port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_never_go_negative() {
        let a = Counters {
            active_opens: 10,
            ..Counters::default()
        };
        let b = Counters {
            active_opens: 30,
            ..Counters::default()
        };
        assert_eq!(b.rates(&a, 2.0).active_opens, 10.0);
        assert_eq!(a.rates(&b, 2.0).active_opens, 0.0);
    }
}
