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
        code: "tcp.reset_by_middlebox",
        meaning: "connect() was refused (ECONNREFUSED), but the RST came from a device N hop(s) before the host — a firewall `reject with tcp-reset`, not the host: the RST's IP TTL shows it travelled fewer hops than a SYN-ACK from the same host did in the same run. The host itself may listen on the port. Needs CAP_NET_RAW (root) to read the TTL; without it the refusal stays tcp.refused",
        check: "the firewall rules (nftables/iptables `reject with tcp reset`, a security appliance) on the routers before the host; `netdx trace HOST -T -p PORT` shows how far the SYN gets",
    },
    CodeInfo {
        code: "tcp.silent_port",
        meaning: "a port got no answer while the same host answered on other ports in the same run: the host is up, so the SYN was dropped for this port only — by a port filter, or by the listener itself when its accept queue is full (Linux drops SYNs then and counts TcpExtListenOverflows)",
        check: "on the server: `netdx sockets --port PORT` (a LISTEN socket whose Recv-Q sits at its backlog = full queue; the application stopped calling accept()), `nstat -az TcpExtListenOverflows` rising; no listener and no overflow = a firewall rule for the port",
    },
    CodeInfo {
        code: "sockets.half_open_suspect",
        meaning: "established connections whose peer stopped acknowledging: data waits unacknowledged (Send-Q) under a retransmit or zero-window-probe timer that already fired twice or more, or keepalive probes are outstanding. The peer vanished or a NAT/firewall forgot the flow (half-open); the kernel gives up only after tcp_retries2 (~15 min) or TCP_USER_TIMEOUT",
        check: "can this host reach the peer now (`netdx tcp PEER:PORT`); set TCP_USER_TIMEOUT and keepalive in the application; `netdx tcp PEER:PORT --hold --keepalive 60,10,3` to watch the path",
    },
    CodeInfo {
        code: "sockets.keepalive_default",
        meaning: "established connections with keepalive armed and no sign of their own TCP_KEEPIDLE, on a host whose tcp_keepalive_time is 30 min or more (7200 s by default): a dead peer or a NAT that forgot the flow goes unnoticed that long. sock_diag does not show a socket's own idle time; a keepalive timer whose remaining time plus the socket's idle time (tcp_info) is more than 5% off the sysctl betrays one (a busy socket on the default can look the same; it is not the idle one at risk), and those sockets are not counted",
        check: "set SO_KEEPALIVE with TCP_KEEPIDLE about 300 s in the application, or lower net.ipv4.tcp_keepalive_time; `netdx tcp HOST:PORT --hold --keepalive 300,30,4` shows what the path does to an idle connection",
    },
    CodeInfo {
        code: "ping.pmtu_blackhole",
        meaning: "every probe larger than 1280 bytes was lost without any ICMP error while default-size probes (84 bytes) to the same host came back: a link on the path has a smaller MTU and the router in front of it cannot tell the sender, because its Fragmentation Needed (ICMP 3/4) or Packet Too Big (ICMPv6 2) is filtered. TCP connections then hang as soon as a full-size segment is sent (PMTU black hole)",
        check: "`netdx trace --mtu HOST` (where the MTU drops), `netdx ping -M do -s SIZE HOST` to find the largest size that passes; allow ICMP type 3 code 4 / ICMPv6 type 2 on the routers and firewalls, or clamp the TCP MSS (`nft ... tcp option maxseg size set rt mtu`) on the tunnel",
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
    // netdx ping (src/diagnose/ping.rs): one finding per run.
    CodeInfo {
        code: "ping.healthy",
        meaning: "every echo request got its reply: the host is up and ICMP echo passes both ways. The summary gives the mean round trip and, from the reply TTL, how many routers lie between",
        check: "nothing; if an application still fails, test its port (`netdx tcp HOST:PORT`)",
    },
    CodeInfo {
        code: "ping.lossy",
        meaning: "the host answers, but some probes got no reply: the path or the host drops packets (congestion, a bad link, a rate limit on ICMP at the host)",
        check: "`netdx mtr HOST` to see at which hop the loss starts; a longer run (-c 100) to tell a burst from steady loss",
    },
    CodeInfo {
        code: "ping.path_mtu",
        meaning: "a router (or the target) answered \"fragmentation needed\" (ICMP 3/4) or \"packet too big\" (ICMPv6 2): the probes are larger than a link on the path, whose MTU the summary gives; or (with -M do) the local stack refused them as too long (EMSGSIZE) because it already knows the path MTU. Warning when smaller probes still got through, critical when none did",
        check: "send smaller packets (-s); make sure those ICMP errors are not filtered anywhere, or TCP stalls on large segments (PMTU black hole); MSS clamping on tunnels and VPNs",
    },
    CodeInfo {
        code: "ping.ttl_exceeded",
        meaning: "no reply; a router answered \"time exceeded\" instead: the probes expire before reaching the target — the TTL (-t) is too small for the path, or packets loop between routers",
        check: "`netdx trace HOST` — a routing loop shows the same routers repeating; raise -t if it was set low",
    },
    CodeInfo {
        code: "ping.unreachable",
        meaning: "no reply; a router or the target answered with an ICMP destination-unreachable (no route, host unreachable, port unreachable, administratively prohibited...). The summary names the sender and the ICMP type/code",
        check: "`netdx explain icmp TYPE/CODE` for the code named; the routes and firewall of the machine that sent it; `netdx trace HOST` to see where the path ends",
    },
    CodeInfo {
        code: "ping.silent",
        meaning: "no reply and no ICMP error at all: the host is down, or a firewall drops ICMP echo (or its replies) without a word. Many hosts and clouds filter ping, so this alone does not prove the host down",
        check: "`netdx tcp HOST:PORT` on a port it serves (a TCP answer proves it up); `netdx trace HOST` to see where packets stop",
    },
    CodeInfo {
        code: "ping.no_route",
        meaning: "this host refused to send: the kernel has no route to the target (ENETUNREACH / EHOSTUNREACH at send time), so no packet left",
        check: "`ip route get HOST` — a missing default route, an interface down, or an `unreachable` route",
    },
    CodeInfo {
        code: "ping.send_failed",
        meaning: "this host refused to send the probes with an errno other than no-route: a local firewall rule (EPERM) or a probe larger than the interface MTU (EMSGSIZE), among others",
        check: "`nft list ruleset` (the output chain) for EPERM; the packet size (-s) against `ip link` MTU for EMSGSIZE; `netdx explain ERRNO` for the errno named",
    },
    CodeInfo {
        code: "ping.not_sent",
        meaning: "the run ended before its first probe left (stopped at once by Ctrl-C, a deadline or a closed output), so there is nothing to judge",
        check: "run it again and let it send",
    },
    CodeInfo {
        code: "ping.duplicates",
        meaning: "some replies arrived more than once (iputils prints DUP!): something on the path copies packets",
        check: "a layer-2 loop (spanning tree), a bridge or bond misconfiguration, or a mirror/TAP port sending traffic back",
    },
    // netdx trace (src/diagnose/path.rs).
    CodeInfo {
        code: "trace.reached",
        meaning: "the target answered: the trace reached it at the hop named, with that many routers between",
        check: "nothing; for loss or latency along the way run `netdx mtr HOST`",
    },
    CodeInfo {
        code: "trace.unreachable",
        meaning: "the trace ended with an ICMP destination-unreachable from the last hop (traceroute marks !H, !N, !P, !X...): that router or the target refused the probes instead of forwarding or answering them. The summary names the sender and the ICMP meaning",
        check: "`netdx explain icmp TYPE/CODE`; the routing table and firewall of the sender; a port-unreachable from the target itself is a normal end for UDP probes",
    },
    CodeInfo {
        code: "trace.incomplete",
        meaning: "the target never answered within the maximum hops: probes are dropped after the last hop that answered (a firewall beyond it, or a target that filters this probe type), or no hop answered at all (the first router or this host's firewall drops the probes or their answers)",
        check: "another probe type (`--tcp -p PORT`, `--udp`); the firewall just past the last answering hop; this host's firewall when nothing answered",
    },
    CodeInfo {
        code: "trace.interrupted",
        meaning: "the trace was stopped (Ctrl-C) before the target answered; the hops after the last answer were not waited out, so this is no verdict on the path, only how far it got",
        check: "run it again and let it finish (a shorter -w ends it sooner)",
    },
    CodeInfo {
        code: "trace.send_failed",
        meaning: "this host refused to send probes (an errno at send time, shown as !<ERRNO>): some probes of a hop along the way, or every probe at the end — a local firewall rule (EPERM/EACCES), a `prohibit` route, or another local error",
        check: "`nft list ruleset` (output chain), `ip route get HOST`; `netdx explain ERRNO` for the errno named",
    },
    CodeInfo {
        code: "trace.no_route",
        meaning: "this host has no route to the target (ENETUNREACH / EHOSTUNREACH at send time): no probe left, so the trace has no hops",
        check: "`ip route get HOST` — a missing default route, an interface down, or an `unreachable` route",
    },
    // netdx trace and netdx mtr: what the path does.
    CodeInfo {
        code: "path.silent_hop",
        meaning: "a hop never answered while later hops did: that router forwards traffic but does not send ICMP time-exceeded (configured silent, or its answers are filtered). Not a fault by itself",
        check: "nothing, unless the loss continues to later hops; then see path.loss_from_hop",
    },
    CodeInfo {
        code: "path.ecmp",
        meaning: "`trace --flows N` sent several Paris flows and they met different routers at the same hop: the path load-balances (ECMP) and each flow hashes onto one branch. Common and not a fault; the summary says where the branches split and join",
        check: "when one branch loses packets, compare the branches hop by hop; an application's connections may take different branches",
    },
    CodeInfo {
        code: "path.asymmetric",
        meaning: "answers from a hop came back over more or fewer hops than the probe went out (judged from the reply TTL): the return path differs from the way out (asymmetric routing). Common and not a fault",
        check: "loss or latency seen at those hops may come from the way back: trace from the other end to see it",
    },
    CodeInfo {
        code: "path.rate_limited_hop",
        meaning: "mtr: a hop loses a significant share of its own replies but the loss does not continue to the hops after it: that router rate-limits or deprioritises the ICMP it generates. The path through it is fine",
        check: "nothing; judge loss by the destination and the last hops, not by an intermediate router's own replies",
    },
    CodeInfo {
        code: "path.loss_from_hop",
        meaning: "mtr: loss starts at a hop and persists to every later hop and the destination: the link into that hop, or that router, drops traffic. Critical when the destination loses half or more or never answers",
        check: "the link and the router named (interface errors, congestion, a policer); report it to whoever runs that hop, with the mtr output",
    },
    CodeInfo {
        code: "path.latency_step",
        meaning: "mtr: round trips grow by at least 10 ms and a quarter at a hop and stay higher to the destination: congestion or a long (distant) link into that hop, or on the stretch named when the hop itself is slow to answer",
        check: "whether the step is distance (stable, expected for a long link) or queueing (varies, grows under load); the link into that hop",
    },
    CodeInfo {
        code: "path.latency_spike",
        meaning: "mtr: one hop answers much slower than the hops after it: that router is slow to generate ICMP, not slow to forward — traffic does not see the delay",
        check: "nothing; latency that matters shows up at the later hops and the destination too",
    },
    CodeInfo {
        code: "path.rejected",
        meaning: "mtr: the path ended with an ICMP destination-unreachable (no route, host unreachable, administratively prohibited...) from the last hop: that router or the target refused the probes. The summary names the sender and the ICMP meaning",
        check: "`netdx explain icmp TYPE/CODE`; the routing table and firewall of the sender",
    },
    CodeInfo {
        code: "path.destination_unreachable",
        meaning: "mtr: the target never answered; packets stop after the last hop that answers (named in the summary), or nothing answered at all — a firewall or a routing problem there, or a target that filters this probe type",
        check: "the firewall and routes just past the last answering hop; another probe type (`netdx tcp HOST:PORT`)",
    },
    CodeInfo {
        code: "path.healthy",
        meaning: "mtr: the target answers and no hop loses traffic that persists; the summary gives the destination's loss and mean round trip",
        check: "nothing; intermediate hops' own loss or slowness (rate limiting) does not matter here",
    },
    CodeInfo {
        code: "path.no_route",
        meaning: "mtr: this host has no route to the target (ENETUNREACH / EHOSTUNREACH at send time): no probe left",
        check: "`ip route get HOST` — a missing default route, an interface down, or an `unreachable` route",
    },
    CodeInfo {
        code: "path.send_failed",
        meaning: "mtr: this host refused to send the probes — a local firewall rule or a `prohibit` route (EPERM/EACCES), or another local error",
        check: "`nft list ruleset` (output chain), `ip route get HOST`; `netdx explain ERRNO` for the errno named",
    },
    // netdx tcp (src/diagnose/tcp.rs).
    CodeInfo {
        code: "tcp.open",
        meaning: "every target accepted connections (the handshake completed and the connection stayed up); the summary gives the mean connect time",
        check: "nothing; if the application still fails, its protocol or its logs (a banner shows what greets)",
    },
    CodeInfo {
        code: "tcp.intermittent",
        meaning: "a target connected on some attempts and failed on others: packet loss, an overloaded listener (a full accept queue drops SYNs), or a load balancer with a flapping backend",
        check: "`netdx sockets --port PORT` on the server (accept queue, ListenOverflows); `netdx mtr HOST` for loss; the load balancer's backend health",
    },
    CodeInfo {
        code: "tcp.connect_error",
        meaning: "connect() failed with an errno that has no diagnosis code of its own (not refused, timed out or unreachable); the summary names the errno",
        check: "`netdx explain ERRNO` for the errno named",
    },
    CodeInfo {
        code: "tcp.admin_prohibited",
        meaning: "a router or the host rejected the SYN with an ICMP \"administratively prohibited\" (traceroute's !X: icmp 3/9, 3/10, 3/13, icmp6 1/1, 1/5, 1/6): a firewall rule that rejects, rather than drops, this traffic",
        check: "the firewall rules of the machine that sent the ICMP (named in the evidence, icmp_from); `netdx trace --tcp -p PORT HOST` to see where it sits",
    },
    CodeInfo {
        code: "tcp.self_connect",
        meaning: "connect() \"succeeded\" but met itself: nothing listens on a local target whose port lies in this host's ephemeral range, and the kernel picked that very port as the source port (local address = peer address). Not a service",
        check: "start the service (`netdx sockets --port PORT`); keep listening ports outside net.ipv4.ip_local_port_range",
    },
    CodeInfo {
        code: "tcp.resolve_failed",
        meaning: "a target's name did not resolve, so it was not probed; the other targets were",
        check: "`netdx dns NAME` for the resolver's answer; the spelling",
    },
    CodeInfo {
        code: "tcp.some_addresses_fail",
        meaning: "a name with several addresses: some accepted connections and some did not. Clients that pick a failing address fail or stall until they try the next one",
        check: "the failing addresses (listed in the evidence): a server down behind one of them, a stale DNS record, IPv6 not served while AAAA is published",
    },
    CodeInfo {
        code: "tcp.banner",
        meaning: "the server sent data first after the handshake (SSH, SMTP, FTP greet): the banner names what listens, often its software and version",
        check: "nothing; it tells what listens on that port",
    },
    CodeInfo {
        code: "tcp.unexpectedly_open",
        meaning: "`--expect closed`: a target accepted connections (a completed handshake counts, even one the application reset at once) though it must be closed — a firewall rule is missing or a service listens that should not",
        check: "the firewall rules for that port; `netdx sockets --port PORT` on the host for the program listening",
    },
    CodeInfo {
        code: "tcp.closed_as_expected",
        meaning: "`--expect closed`: every probed target refused, dropped, was unreachable or was blocked locally — none accepted a connection, as required",
        check: "nothing; a target blocked locally was never tested on the path",
    },
    // netdx sockets (src/diagnose/sockets.rs).
    CodeInfo {
        code: "sockets.healthy",
        meaning: "no rule found a problem: no state piles, no full accept queues, no port exhaustion, no overflowing listeners",
        check: "nothing; `--watch` shows counters that move over time",
    },
    CodeInfo {
        code: "sockets.accept_queue_full",
        meaning: "a listener's accept queue is full (Recv-Q at its backlog): the program does not call accept() fast enough, so the kernel drops new handshakes and clients see timeouts (counted as ListenOverflows)",
        check: "the program's accept loop or worker pool (named in the summary); then raise its listen() backlog and net.core.somaxconn",
    },
    CodeInfo {
        code: "sockets.listen_overflows",
        meaning: "the kernel dropped connections because an accept queue was full (TcpExtListenOverflows), though no queue is full at this instant: a listener falls behind in bursts. Warning when the counter grows during --watch, info when it is only a count since boot",
        check: "`netdx sockets --watch` to see whether it still grows and which port's Recv-Q rises; `nstat -az TcpExtListenOverflows`",
    },
    CodeInfo {
        code: "sockets.port_exhaustion",
        meaning: "half or more of the local ephemeral ports (net.ipv4.ip_local_port_range) are held towards one destination by live connections: at 100% connect() fails with EADDRNOTAVAIL",
        check: "reuse connections (keep-alive, pooling); a connection leak in the client; widen ip_local_port_range",
    },
    CodeInfo {
        code: "sockets.time_wait_exhaustion",
        meaning: "half or more of the local ephemeral ports are held towards one destination, mostly in TIME_WAIT: this host opens and closes short connections faster than TIME_WAIT (60 s) frees the ports; at 100% connect() fails with EADDRNOTAVAIL",
        check: "reuse connections (keep-alive, pooling); net.ipv4.tcp_tw_reuse=1; widen ip_local_port_range",
    },
    // netdx watch (src/diagnose/watch.rs): what the connections on the wire show.
    CodeInfo {
        code: "watch.syn_unanswered",
        meaning: "clients sent SYNs (retransmitted, or waited a full second) and got neither a SYN-ACK nor an RST. The evidence names the likely cause: other connections to the same server:port succeeded in the same capture → it listens and the path passes, so its SYN/accept queue overflows (overload) or a rate limit drops SYNs (cause syn_queue_full); other ports of the host answer → a firewall drops this port (port_filtered); nothing answers at all → a silent firewall or a host that is down (filtered_or_down)",
        check: "on the server: `netdx sockets --port PORT` (Recv-Q at the backlog = full queue), `nstat -az TcpExtListenOverflows`; `nft list ruleset` on the server and the firewalls on the path; `netdx tcp HOST:PORT` from the client",
    },
    CodeInfo {
        code: "watch.refused",
        meaning: "the server answered SYNs with RST: the host is up and reachable, but nothing listens on that port (or a firewall rejects with tcp reset). When other connections to it succeeded, the listener comes and goes (restarts)",
        check: "is the service running and bound to that address and port (`netdx sockets --port PORT` on the server); the port the client uses",
    },
    CodeInfo {
        code: "watch.synack_retransmitted",
        meaning: "the server sent its SYN-ACK more than once: the client's final ACK of the handshake did not reach it. The ACK is lost on the way back (an asymmetric path, a stateful firewall that sees only one direction, loss), or the SYNs come from spoofed addresses that never answer (a SYN flood: many SYN_RECV sockets on the server)",
        check: "`netdx sockets` on the server (a pile of SYN_RECV = flood; net.ipv4.tcp_syncookies); the return path from the client (`netdx trace` both ways)",
    },
    CodeInfo {
        code: "watch.reset_midstream",
        meaning: "an established connection was ended with RST instead of FIN; the evidence says which end sent it. An application that aborts (crash, close with unread data, SO_LINGER 0, a connection limit), or a firewall/NAT/load balancer that forgot the flow and resets the next segment",
        check: "the logs of the end that sent the RST at that time; idle timeouts of middleboxes between them",
    },
    CodeInfo {
        code: "watch.retransmissions",
        meaning: "data segments were sent again (the same sequence range seen twice at the capture point); the share is of all data segments to that server, and of their bytes (a sender with TSO/GSO shows the capture 64 KiB super-segments, so bytes tell more there). Warning above 2% by either measure with at least 3 segments or 4380 bytes resent: packets are lost on the path or at a congested queue, which slows TCP down (each loss halves its window)",
        check: "`netdx mtr HOST` for loss along the path; interface errors and drops (`ip -s link`) on both ends; a policer or a full queue on the link named",
    },
    CodeInfo {
        code: "watch.dup_acks",
        meaning: "a receiver sent three or more duplicate ACKs in a row (same ACK number and window while data was outstanding): segments arrived out of order or one was lost, and it asks the sender for a fast retransmit",
        check: "loss (see watch.retransmissions) or reordering on the path (ECMP or bonded links that spread one flow)",
    },
    CodeInfo {
        code: "watch.zero_window",
        meaning: "a receiver advertised a zero window: its application stopped reading, its receive buffer filled, and the sender must stop and probe until it reads again. The evidence says which end (receiver) and for how long; window_full_segments counts the sender's segments that filled the window exactly",
        check: "the application on the receiving end: a blocked or slow reader, a full disk, a stuck worker (its Recv-Q in `netdx sockets --port PORT` stays high)",
    },
    CodeInfo {
        code: "watch.time_wait_churn",
        meaning: "one end opened and closed connections to the same server:port quickly, closing first each time: every such close holds a TIME_WAIT socket for 60 s, so the rate times 60 is the pile. On a client that means 4-tuples/ports towards that server (connect() fails with EADDRNOTAVAIL when the ephemeral range runs out); on a server only memory",
        check: "reuse connections (HTTP keep-alive, pooling); net.ipv4.tcp_tw_reuse=1 on the client; `netdx sockets` for the TIME_WAIT count",
    },
    CodeInfo {
        code: "watch.keepalive_unanswered",
        meaning: "keepalive probes (a segment at snd.nxt−1 with 0 or 1 byte after idle time) got no ACK: the peer vanished (power loss, crash) or a NAT/firewall dropped the idle flow; the sender's kernel will give up after the keepalive count",
        check: "is the peer up; keep keepalive idle below the middleboxes' idle timeout (`netdx tcp HOST:PORT --hold --keepalive`)",
    },
    CodeInfo {
        code: "watch.keepalive",
        meaning: "keepalive probes were seen on idle connections and all were answered: the peer is alive and the path keeps the flow",
        check: "nothing",
    },
    CodeInfo {
        code: "watch.half_close_held",
        meaning: "one end sent FIN and the other did not send its own FIN for a long time (10 s or more, or until the capture ended): the second end sits in CLOSE_WAIT — its application has not closed the socket (a leak), unless it is a deliberate half-close that keeps sending",
        check: "`netdx sockets` on the end that did not close (CLOSE_WAIT piling up, and which program owns them); the application's connection handling",
    },
    CodeInfo {
        code: "watch.server_closes_first",
        meaning: "the server sent the first FIN: the server, not the client, holds those connections' TIME_WAIT for 60 s. Normal for HTTP/1.0 and servers that close idle connections; only memory on the server",
        check: "nothing, unless the server's TIME_WAIT count grows large (`netdx sockets`); keep-alive on the client side makes the client close instead",
    },
    CodeInfo {
        code: "watch.healthy",
        meaning: "no rule found a problem in the connections seen: handshakes completed, no unanswered SYN, reset, zero window or retransmissions over 2%; the summary gives the average handshake legs",
        check: "nothing",
    },
    CodeInfo {
        code: "watch.no_connections",
        meaning: "no TCP connection was seen in the capture: the filter matched none, or no traffic passed the interface in that time",
        check: "the filter (`-i`, ports, hosts) and that traffic flows while capturing",
    },
    CodeInfo {
        code: "watch.untracked",
        meaning: "more flows were open at once than the flow table follows (65536 by default): new flows past it were only counted, so the findings cover the others",
        check: "a narrower filter; many new flows at once can itself be a flood or a scan",
    },
];

/// The entry for `code`, from this table or the `dns.*` one.
pub fn by_code(code: &str) -> Option<&'static CodeInfo> {
    let code = ALIASES
        .iter()
        .find(|(old, _)| old.eq_ignore_ascii_case(code))
        .map_or(code, |(_, new)| new);
    CODES
        .iter()
        .find(|c| c.code.eq_ignore_ascii_case(code))
        .or_else(|| super::dns::codes::by_code(code))
}

/// Codes renamed since a release, old → new, so `netdx explain OLD` still
/// answers for reports saved before the rename.
const ALIASES: &[(&str, &str)] = &[("sockets.stalled_peer", "sockets.half_open_suspect")];

/// Every code the tables explain, for suggestions on a typo.
pub fn all() -> impl Iterator<Item = &'static CodeInfo> {
    CODES.iter().chain(super::dns::codes::DNS_CODES.iter())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::hold::{diagnose, Ending, HoldFact};

    #[test]
    fn no_code_is_explained_twice() {
        let mut codes: Vec<&str> = all().map(|c| c.code).collect();
        let total = codes.len();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), total, "a code appears twice in the tables");
        for c in all() {
            assert!(
                !c.meaning.is_empty() && !c.check.is_empty(),
                "{} lacks words",
                c.code
            );
        }
    }

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
            "sockets.half_open_suspect",
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
