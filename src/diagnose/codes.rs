//! Diagnosis codes that no errno or TCP state stands for, with what they
//! mean and what to check, so `netdx explain CODE` knows them too.

/// One diagnosis code explained.
#[derive(Debug, Clone, Copy)]
pub struct CodeInfo {
    /// The stable code (`tcp.hold_black_hole`).
    pub code: &'static str,
    /// What it means, in plain words.
    pub meaning: &'static str,
    /// What to check next.
    pub check: &'static str,
}

/// The codes explained here (errno- and state-backed codes live in their tables).
pub const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: "tcp.reset_after_accept",
        meaning: "the TCP handshake completed, then the server reset the connection before any data: an application that accepts and closes with SO_LINGER 0, crashes after accept(), or a proxy with no healthy backend. Something listens and is reachable; it is neither a closed port nor a firewall. netdx watches a completed handshake for four round trips (50-250 ms) before calling it open",
        check: "the listening application's logs and connection limits; `netdx sockets --port PORT` on the server",
    },
    CodeInfo {
        code: "tcp.silent_port",
        meaning: "a port got no answer while the same host answered on other ports in the same run: the host is up, so the SYN was dropped for this port only — by a port filter, or by the listener itself when its accept queue is full (Linux drops SYNs then and counts TcpExtListenOverflows)",
        check: "on the server: `netdx sockets --port PORT` (a LISTEN socket whose Recv-Q sits at its backlog = full queue; the application stopped calling accept()), `nstat -az TcpExtListenOverflows` rising; no listener and no overflow = a firewall rule for the port",
    },
    CodeInfo {
        code: "sockets.stalled_peer",
        meaning: "established connections whose peer stopped acknowledging: data waits unacknowledged (Send-Q) under a retransmit or zero-window-probe timer that already fired twice or more, or keepalive probes are outstanding. The peer vanished or a NAT/firewall forgot the flow (half-open); the kernel gives up only after tcp_retries2 (~15 min) or TCP_USER_TIMEOUT",
        check: "can this host reach the peer now (`netdx tcp PEER:PORT`); set TCP_USER_TIMEOUT and keepalive in the application; `netdx tcp PEER:PORT --hold --keepalive 60,10,3` to watch the path",
    },
    CodeInfo {
        code: "sockets.keepalive_default",
        meaning: "established connections with keepalive armed and no sign of their own TCP_KEEPIDLE, on a host whose tcp_keepalive_time is 30 min or more (7200 s by default): a dead peer or a NAT that forgot the flow goes unnoticed that long. sock_diag does not show a socket's own idle time; a keepalive timer due sooner than a twentieth of the sysctl betrays one, and those sockets are not counted",
        check: "set SO_KEEPALIVE with TCP_KEEPIDLE about 300 s in the application, or lower net.ipv4.tcp_keepalive_time; `netdx tcp HOST:PORT --hold --keepalive 300,30,4` shows what the path does to an idle connection",
    },
    CodeInfo {
        code: "ping.pmtu_blackhole",
        meaning: "every probe larger than 1280 bytes was lost without any ICMP error while default-size probes (84 bytes) to the same host came back: a link on the path has a smaller MTU and the router in front of it cannot tell the sender, because its Fragmentation Needed (ICMP 3/4) or Packet Too Big (ICMPv6 2) is filtered. TCP connections then hang as soon as a full-size segment is sent (PMTU black hole)",
        check: "`netdx trace --mtu HOST` (where the MTU drops), `netdx ping -M do -s SIZE HOST` to find the largest size that passes; allow ICMP type 3 code 4 / ICMPv6 type 2 on the routers and firewalls, or clamp the TCP MSS (`nft ... tcp option maxseg size set rt mtu`) on the tunnel",
    },
    CodeInfo {
        code: "ping.path_mtu",
        meaning: "probes were larger than the path MTU: a router answered Fragmentation Needed / Packet Too Big with the MTU of its next link, or (with -M do) the local stack refused them as too long (EMSGSIZE) because it already knows the path MTU",
        check: "send smaller packets (-s); make sure Fragmentation Needed / Packet Too Big is never filtered on the path; MSS clamping on tunnels",
    },
    CodeInfo {
        code: "path.mtu",
        meaning: "the path MTU `netdx trace --mtu` found, as tracepath and `traceroute --mtu` find it: probes with DF set start at the interface MTU and shrink each time a router answers Fragmentation Needed / Packet Too Big; the hop named is the first one past the smaller link",
        check: "expected on tunnels (WireGuard, IPsec, GRE, PPPoE); if TCP stalls on that path, check that Fragmentation Needed / Packet Too Big passes every firewall, or clamp the MSS",
    },
    CodeInfo {
        code: "tcp.hold_alive",
        meaning: "the held connection (`netdx tcp --hold`) stayed up until --duration ran out (or Ctrl-C)",
        check: "nothing; hold longer than the middleboxes' idle timeouts to test them",
    },
    CodeInfo {
        code: "tcp.hold_peer_closed",
        meaning: "the peer of a held connection closed it (FIN): the server or a proxy ended it on purpose, most often an idle timeout",
        check: "the server's or load balancer's idle timeout; send data or keepalives more often (--send-every, --keepalive)",
    },
    CodeInfo {
        code: "tcp.hold_peer_reset",
        meaning: "a held connection was reset (RST): the peer no longer knows it — it restarted or aborted it, or a NAT/firewall/load balancer dropped the flow's state and the host answered the next segment or keepalive probe with RST",
        check: "server restarts and logs at that moment; idle timeouts of the middleboxes on the path",
    },
    CodeInfo {
        code: "tcp.hold_black_hole",
        meaning: "keepalive probes of a held connection went unanswered and the kernel gave up with ETIMEDOUT after idle + intvl × count of silence: the peer vanished (power loss, crash) or the path now drops the flow silently (half-open)",
        check: "is the peer up (`netdx ping`, `netdx tcp PEER:PORT`); keep keepalive idle below the NAT/firewall idle timeout, set per socket rather than through sysctls",
    },
    CodeInfo {
        code: "tcp.hold_user_timeout",
        meaning: "data or probes of a held connection stayed unacknowledged for TCP_USER_TIMEOUT and the kernel gave up with ETIMEDOUT: the peer vanished or the path drops the flow",
        check: "is the peer up; the path's firewalls and NATs",
    },
    CodeInfo {
        code: "tcp.hold_retransmit_timeout",
        meaning: "data of a held connection went unacknowledged until the retransmissions ran out (net.ipv4.tcp_retries2, ~15 min by default): ETIMEDOUT",
        check: "is the peer up; set TCP_USER_TIMEOUT (--user-timeout) to give up sooner",
    },
    CodeInfo {
        code: "tcp.hold_unreachable",
        meaning: "a held connection died with EHOSTUNREACH/ENETUNREACH: a router reported the host or network unreachable while segments were retransmitted",
        check: "`netdx trace HOST` to find the router; the host's link",
    },
    CodeInfo {
        code: "tcp.hold_error",
        meaning: "a held connection failed with another errno",
        check: "`netdx explain ERRNO` for the errno named",
    },
];

/// The entry for `code`, from this table or the `dns.*` one.
pub fn by_code(code: &str) -> Option<&'static CodeInfo> {
    CODES
        .iter()
        .find(|c| c.code.eq_ignore_ascii_case(code))
        .or_else(|| super::dns::codes::by_code(code))
}

/// Every code the tables explain, for suggestions on a typo.
pub fn all() -> impl Iterator<Item = &'static CodeInfo> {
    CODES.iter().chain(super::dns::codes::DNS_CODES.iter())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::hold::{diagnose, Ending, HoldFact};

    #[test]
    fn every_hold_ending_has_an_explained_code() {
        for ending in [
            Ending::Alive,
            Ending::Interrupted,
            Ending::PeerClosed,
            Ending::PeerReset,
            Ending::KeepaliveTimeout,
            Ending::UserTimeout,
            Ending::RetransmitTimeout,
            Ending::Unreachable,
            Ending::LocalError,
        ] {
            let d = diagnose(&HoldFact {
                target: "198.18.1.2:7",
                ending,
                errno: None,
                elapsed_s: 1.0,
                peer_silent_s: None,
                keepalive_promise_s: None,
                keepalive: None,
                user_timeout_s: None,
                bytes_received: 0,
            });
            assert!(by_code(&d.code).is_some(), "{} unexplained", d.code);
        }
        for code in [
            crate::diagnose::tcp::RESET_AFTER_ACCEPT_CODE,
            crate::diagnose::tcp::SILENT_PORT_CODE,
            "sockets.stalled_peer",
            "sockets.keepalive_default",
            "ping.pmtu_blackhole",
            "ping.path_mtu",
            "path.mtu",
        ] {
            assert!(by_code(code).is_some(), "{code} unexplained");
        }
    }
}
