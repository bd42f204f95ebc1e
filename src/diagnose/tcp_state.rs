//! The eleven TCP states as Linux numbers them (`/proc/net/tcp`, sock_diag):
//! who is in each, why, what a pile of them means and which sysctls matter.
//! `netdx explain` prints it; the socket census reads its diagnoses from it.

/// Everything netdx knows about one TCP state.
#[derive(Debug, Clone, Copy)]
pub struct TcpStateInfo {
    /// Linux's number for the state (`include/net/tcp_states.h`).
    pub number: u8,
    /// Name as `ss`/netstat print it (`CLOSE_WAIT`).
    pub name: &'static str,
    /// Other spellings people search for (RFC 793's `CLOSE-WAIT`, netstat's `SYN_RECEIVED`).
    pub aliases: &'static [&'static str],
    /// Which side of the connection is in it.
    pub who: &'static str,
    /// How a socket gets here and what it waits for.
    pub meaning: &'static str,
    /// What many sockets in this state mean.
    pub pile: &'static str,
    /// Sysctls that matter, with what they do and whether touching them is risky.
    pub sysctls: &'static [(&'static str, &'static str)],
    /// The diagnosis code the socket census uses for a pile, when there is one.
    pub diagnosis: Option<&'static str>,
}

/// The table, in Linux's numeric order.
#[rustfmt::skip]
pub static TCP_STATES: &[TcpStateInfo] = &[
    TcpStateInfo {
        number: 1, name: "ESTABLISHED", aliases: &[],
        who: "both sides",
        meaning: "the three-way handshake completed; data flows both ways",
        pile: "many connections are open: normal for busy servers and connection pools; compare with the expected number of clients and pool sizes",
        sysctls: &[("net.ipv4.tcp_keepalive_time", "seconds of idleness before keepalive probes (default 7200): lower it (or set SO_KEEPALIVE/TCP_KEEPIDLE) so NAT/firewall idle timeouts do not silently kill idle connections")],
        diagnosis: None,
    },
    TcpStateInfo {
        number: 2, name: "SYN_SENT", aliases: &["SYN-SENT"],
        who: "the client (active opener)",
        meaning: "connect() sent a SYN and waits for SYN+ACK; it retransmits the SYN with back-off until tcp_syn_retries is used up (~127 s), then fails with ETIMEDOUT",
        pile: "outgoing connections get no answer: the destination is down or a firewall silently drops the SYNs — `netdx tcp HOST:PORT` shows which",
        sysctls: &[("net.ipv4.tcp_syn_retries", "SYN retransmissions before connect() gives up (default 6 ≈ 127 s); lowering it fails faster")],
        diagnosis: Some("sockets.syn_sent_pile"),
    },
    TcpStateInfo {
        number: 3, name: "SYN_RECV", aliases: &["SYN-RECEIVED", "SYN_RECEIVED", "SYN_RCVD"],
        who: "the server (passive opener)",
        meaning: "a SYN arrived on a listening port and the server answered SYN+ACK; it waits for the client's final ACK",
        pile: "a SYN flood (spoofed sources never send the ACK), clients whose ACKs are lost, or a full accept queue making the server drop the final ACKs — check listen queue overflows (`netdx sockets`, `nstat TcpExtListenOverflows`)",
        sysctls: &[
            ("net.ipv4.tcp_syncookies", "1 (default): answer with SYN cookies when the SYN queue overflows — keep it on"),
            ("net.ipv4.tcp_max_syn_backlog", "size of the SYN queue per listener"),
            ("net.ipv4.tcp_synack_retries", "SYN+ACK retransmissions before giving up (default 5); lowering it sheds half-open connections faster"),
            ("net.core.somaxconn", "upper bound of the accept queue (listen backlog)"),
        ],
        diagnosis: Some("sockets.syn_flood"),
    },
    TcpStateInfo {
        number: 4, name: "FIN_WAIT1", aliases: &["FIN-WAIT-1", "FIN_WAIT_1"],
        who: "the side that closed first (active closer)",
        meaning: "this side called close()/shutdown() and sent a FIN; it waits for the peer to acknowledge it",
        pile: "FINs are not acknowledged: the peer vanished, or data still queued cannot be delivered (peer's window is zero) — look for slow or dead clients",
        sysctls: &[("net.ipv4.tcp_orphan_retries", "retries for orphaned (closed by the application) sockets before they are dropped")],
        diagnosis: Some("sockets.fin_wait1_pile"),
    },
    TcpStateInfo {
        number: 5, name: "FIN_WAIT2", aliases: &["FIN-WAIT-2", "FIN_WAIT_2"],
        who: "the active closer",
        meaning: "our FIN was acknowledged; we wait for the peer's FIN (the peer is in CLOSE_WAIT until its application closes)",
        pile: "the peers do not close their side: their application leaks connections (they sit in CLOSE_WAIT over there)",
        sysctls: &[("net.ipv4.tcp_fin_timeout", "how long an orphaned socket stays in FIN_WAIT2 (default 60 s)")],
        diagnosis: Some("sockets.fin_wait2_pile"),
    },
    TcpStateInfo {
        number: 6, name: "TIME_WAIT", aliases: &["TIME-WAIT"],
        who: "the active closer, after the exchange of FINs",
        meaning: "the connection is closed; the 4-tuple is held for 2×MSL (60 s on Linux) so late segments of the old connection cannot corrupt a new one with the same ports",
        pile: "this side closes many short connections actively; harmless by itself (a TIME_WAIT socket costs little), but towards one destination it can exhaust local ports (connect() fails with EADDRNOTAVAIL) — reuse connections (keep-alive, pooling) or let the peer close first",
        sysctls: &[
            ("net.ipv4.tcp_tw_reuse", "1 or 2 (default 2: loopback only): lets outgoing connections reuse a TIME_WAIT 4-tuple when timestamps prove it safe — the safe knob for clients"),
            ("net.ipv4.ip_local_port_range", "range of local ports for outgoing connections; widening it gives more 4-tuples per destination"),
            ("net.ipv4.tcp_max_tw_buckets", "cap on TIME_WAIT sockets; above it they are destroyed early (a warning in dmesg) — raising it is safe, lowering it is not a fix"),
            ("net.ipv4.tcp_tw_recycle", "DANGEROUS and gone: removed in Linux 4.12; it dropped connections from clients behind NAT because their timestamps are not monotonic — never recommend it"),
        ],
        diagnosis: Some("sockets.time_wait_many"),
    },
    TcpStateInfo {
        number: 7, name: "CLOSE", aliases: &["CLOSED"],
        who: "either side",
        meaning: "no connection: a socket that is created but not connected or listening, or one that was just torn down",
        pile: "many unconnected sockets: a program creates sockets and does not use or close them",
        sysctls: &[],
        diagnosis: None,
    },
    TcpStateInfo {
        number: 8, name: "CLOSE_WAIT", aliases: &["CLOSE-WAIT"],
        who: "the passive closer (the side whose peer closed first)",
        meaning: "the peer sent a FIN (it is done sending); the kernel waits for THIS application to call close(). The kernel never leaves CLOSE_WAIT on its own",
        pile: "the application does not close its sockets: a connection leak in the program (missing close on an error path, exhausted pool). It ends with EMFILE. No sysctl fixes it — find the owning process (`netdx sockets --port PORT`) and fix the code, or restart it as a stopgap",
        sysctls: &[],
        diagnosis: Some("sockets.close_wait_leak"),
    },
    TcpStateInfo {
        number: 9, name: "LAST_ACK", aliases: &["LAST-ACK"],
        who: "the passive closer, after it closed too",
        meaning: "the application closed after the peer's FIN; our FIN is sent and we wait for its ACK",
        pile: "the peers vanish before acknowledging our FIN (dead clients, a firewall that dropped the connection state)",
        sysctls: &[],
        diagnosis: Some("sockets.last_ack_pile"),
    },
    TcpStateInfo {
        number: 10, name: "LISTEN", aliases: &[],
        who: "the server",
        meaning: "a socket waiting for connections on a port (listen()); new connections wait in its accept queue until the application accepts them",
        pile: "many listening sockets are normal (one per service and address, more with SO_REUSEPORT); check Recv-Q against the backlog for a full accept queue",
        sysctls: &[("net.core.somaxconn", "upper bound of the accept queue"), ("net.ipv4.ip_unprivileged_port_start", "first port a non-root program may bind (default 1024)")],
        diagnosis: None,
    },
    TcpStateInfo {
        number: 11, name: "CLOSING", aliases: &[],
        who: "both sides at once",
        meaning: "both sides sent a FIN at the same time (simultaneous close); each waits for the ACK of its own FIN",
        pile: "rare; many of them mean FIN acknowledgements are being lost",
        sysctls: &[],
        diagnosis: Some("sockets.closing_pile"),
    },
];

/// Looks a state up by Linux's number (as in `/proc/net/tcp`'s `st` column).
pub fn by_number(number: u8) -> Option<&'static TcpStateInfo> {
    TCP_STATES.iter().find(|s| s.number == number)
}

/// Looks a state up by name, accepting `-` for `_` and any case.
pub fn by_name(name: &str) -> Option<&'static TcpStateInfo> {
    let want = normalise(name);
    TCP_STATES
        .iter()
        .find(|s| normalise(s.name) == want || s.aliases.iter().any(|a| normalise(a) == want))
}

/// Uppercases and drops separators so `close-wait`, `CLOSE_WAIT` and `closewait` match.
fn normalise(text: &str) -> String {
    text.chars()
        .filter(|c| *c != '_' && *c != '-' && *c != ' ')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eleven_states_numbered_one_to_eleven() {
        for n in 1..=11u8 {
            assert!(by_number(n).is_some(), "state {n}");
        }
        assert_eq!(TCP_STATES.len(), 11);
        assert_eq!(by_name("close-wait").map(|s| s.number), Some(8));
        assert_eq!(by_name("FIN-WAIT-2").map(|s| s.number), Some(5));
    }
}
