//! Rules that read a socket census. Every threshold is scaled by something
//! on this host (a listener's backlog, the ephemeral port range, the total
//! socket count, a process's descriptor limit) so the same rule works on a
//! laptop and on a load balancer.

pub mod census;
pub mod counters;
pub mod owners;
pub mod record;
pub mod state;

use super::{Diagnosis, Severity};
use census::{Census, Tally};
use counters::{Counters, HostLimits, Rates};
use owners::Owners;
use state::TcpState;
use std::net::IpAddr;

/// Everything the rules look at.
pub struct Inputs<'a> {
    /// The counted sockets.
    pub census: &'a Census,
    /// Host sysctls that scale the thresholds.
    pub limits: &'a HostLimits,
    /// Kernel counters since boot (None when unreadable).
    pub counters: Option<&'a Counters>,
    /// Counter rates over the last `--watch` interval.
    pub rates: Option<&'a Rates>,
    /// Socket owners (for naming the process at fault).
    pub owners: &'a Owners,
    /// Whether listener backlogs are known (netlink yes, /proc no).
    pub backlog_known: bool,
    /// A process's soft limit on open files (to weigh a descriptor leak);
    /// the caller reads it, so the rules stay free of I/O.
    pub nofile_limit: &'a dyn Fn(u32) -> Option<u64>,
}

/// Runs every rule; returns at least one diagnosis (`sockets.healthy`).
pub fn diagnose(inp: &Inputs<'_>) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    listeners(inp, &mut out);
    close_wait(inp, &mut out);
    port_exhaustion(inp, &mut out);
    closing_piles(inp, &mut out);
    syn_sent(inp, &mut out);
    counters(inp, &mut out);
    keepalive(inp, &mut out);
    stalled(inp, &mut out);
    if !out.iter().any(|d| d.severity >= Severity::Warning) {
        out.insert(
            0,
            Diagnosis::new(
                "sockets.healthy",
                Severity::Ok,
                format!(
                    "{} TCP sockets, no state piles, no full queues",
                    inp.census.total()
                ),
            ),
        );
    }
    out.sort_by_key(|d| std::cmp::Reverse(d.severity));
    out
}

/// "python3 (pid 42)" for the first process holding `inode`.
fn who(owners: &Owners, inode: u64) -> Option<String> {
    let list = owners.of(inode);
    let first = list.first()?;
    Some(format!("{} (pid {})", first.program, first.pid))
}

fn program(owners: &Owners, inode: u64) -> Option<String> {
    owners.of(inode).first().map(|p| p.program.clone())
}

fn pid(owners: &Owners, inode: u64) -> Option<u32> {
    owners.of(inode).first().map(|p| p.pid)
}

fn who_or(owners: &Owners, inode: u64, fallback: &str) -> String {
    who(owners, inode).unwrap_or_else(|| fallback.to_string())
}

/// A pile is notable when it is at least 10 sockets and 1% of the host's.
fn pile_floor(census: &Census) -> u64 {
    (census.total() / 100).max(10)
}

fn endpoint(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V6(_) => format!("[{ip}]:{port}"),
        IpAddr::V4(_) => format!("{ip}:{port}"),
    }
}

/// Accept queue full, and SYN_RECV piles (flood or lost handshake ACKs).
fn listeners(inp: &Inputs<'_>, out: &mut Vec<Diagnosis>) {
    let c = inp.census;
    let overflows = inp.counters.map_or(0, |k| k.listen_overflows);
    let cookies = inp.counters.map_or(0, |k| k.syncookies_sent);
    let mut done = Vec::new();
    for l in &c.listeners {
        if done.contains(&l.lport) {
            continue;
        }
        let syn_recv = c
            .ports
            .get(&l.lport)
            .map_or(0, |t| t.get(TcpState::SynRecv));
        let backlog = l.wqueue;
        let prog = who_or(inp.owners, l.inode, "the program listening there");
        if inp.backlog_known && backlog > 0 && l.rqueue >= backlog {
            done.push(l.lport);
            out.push(
                Diagnosis::new(
                    "sockets.accept_queue_full",
                    Severity::Critical,
                    format!(
                        "port {}: accept queue full ({}/{}), {} does not call accept() fast enough; \
                         the kernel drops new handshakes (ListenOverflows {overflows} since boot), clients see timeouts — \
                         check the accept loop or worker pool, then raise listen() backlog (somaxconn {})",
                        l.lport, l.rqueue, backlog, prog, inp.limits.somaxconn
                    ),
                )
                .with("port", l.lport)
                .with("queue", l.rqueue)
                .with("backlog", backlog)
                .with("syn_recv", syn_recv)
                .with("listen_overflows", overflows)
                .with("process", program(inp.owners, l.inode))
                .with("pid", pid(inp.owners, l.inode)),
            );
            continue;
        }
        // The SYN queue is bounded by the listener's backlog (and by
        // tcp_max_syn_backlog); past it the kernel sends cookies or drops.
        let limit = if inp.backlog_known && backlog > 0 {
            backlog.min(inp.limits.max_syn_backlog)
        } else {
            inp.limits.somaxconn.min(inp.limits.max_syn_backlog)
        };
        if syn_recv >= (limit / 4).max(4) {
            done.push(l.lport);
            let full = syn_recv >= limit;
            let cookie_text = match inp.limits.syncookies {
                0 => "syncookies are OFF, so once the queue is full new clients are dropped: set net.ipv4.tcp_syncookies=1".to_string(),
                _ => format!("syncookies are on ({cookies} sent since boot), so real clients still get in while the queue is full"),
            };
            out.push(
                Diagnosis::new(
                    "sockets.syn_flood",
                    if full { Severity::Critical } else { Severity::Warning },
                    format!(
                        "port {}: {syn_recv} half-open connections (SYN_RECV) against a SYN queue of {limit} while the accept queue is not full: \
                         clients send SYNs but never complete the handshake — a SYN flood, or their final ACKs are lost on the way; {cookie_text}",
                        l.lport
                    ),
                )
                .with("port", l.lport)
                .with("syn_recv", syn_recv)
                .with("syn_queue_limit", limit)
                .with("queue", l.rqueue)
                .with("backlog", backlog)
                .with("syncookies", inp.limits.syncookies)
                .with("syncookies_sent", cookies)
                .with("process", program(inp.owners, l.inode))
                .with("pid", pid(inp.owners, l.inode)),
            );
        }
    }
}

/// CLOSE_WAIT on a service port or towards one destination: an application
/// that never closes what the peer closed.
fn close_wait(inp: &Inputs<'_>, out: &mut Vec<Diagnosis>) {
    let c = inp.census;
    let mut check = |what: String, t: &Tally, port: Option<u16>| {
        let cw = t.get(TcpState::CloseWait);
        let conns = t.connections();
        if cw < 8 || u64::from(cw) * 10 < u64::from(conns) {
            return;
        }
        let owner = inp.owners.of(t.close_wait_inode);
        let first = owner.first();
        let limit = first.and_then(|p| (inp.nofile_limit)(p.pid));
        let severe = limit.is_some_and(|l| u64::from(cw) * 2 >= l);
        let name = first.map_or_else(
            || "the program holding them (run as root to see it)".to_string(),
            |p| format!("{} (pid {})", p.program, p.pid),
        );
        let limit_text = limit.map_or(String::new(), |l| {
            format!("; each holds a descriptor, {cw} of its {l} allowed")
        });
        let mut d = Diagnosis::new(
            "sockets.close_wait_leak",
            if severe { Severity::Critical } else { Severity::Warning },
            format!(
                "{what}: {cw} of {conns} connections in CLOSE_WAIT — the peer closed them but {name} never calls close(){limit_text}; \
                 they stay until the process closes or exits: fix the missing close in the application"
            ),
        )
        .with("close_wait", cw)
        .with("connections", conns)
        .with("process", first.map(|p| p.program.clone()))
        .with("pid", first.map(|p| p.pid))
        .with("nofile_limit", limit);
        if let Some(p) = port {
            d = d.with("port", p);
        }
        out.push(d);
    };
    let mut ports: Vec<_> = c.ports.iter().collect();
    ports.sort_by_key(|(p, _)| **p);
    for (port, t) in ports {
        check(format!("port {port}"), t, Some(*port));
    }
    let mut dests: Vec<_> = c.dests.iter().collect();
    dests.sort_by_key(|(k, _)| **k);
    for ((ip, port), t) in dests {
        check(format!("connections to {}", endpoint(*ip, *port)), t, None);
    }
}

/// Local ports held towards one destination, against ip_local_port_range;
/// and a host-wide TIME_WAIT count that says this side closes first.
fn port_exhaustion(inp: &Inputs<'_>, out: &mut Vec<Diagnosis>) {
    let c = inp.census;
    let range = inp.limits.port_range_size();
    let tw_total = c.get(TcpState::TimeWait);
    let mut flagged = false;
    let mut dests: Vec<_> = c.dests.iter().collect();
    dests.sort_by_key(|(k, _)| **k);
    for ((ip, port), t) in dests {
        let used = t.ephemeral;
        let share = f64::from(used) / f64::from(range);
        if share < 0.5 {
            continue;
        }
        flagged = true;
        let tw = t.get(TcpState::TimeWait);
        let code = if tw * 2 >= used {
            "sockets.time_wait_exhaustion"
        } else {
            "sockets.port_exhaustion"
        };
        let reuse = match inp.limits.tw_reuse {
            1 => "tcp_tw_reuse is already 1",
            _ => "net.ipv4.tcp_tw_reuse=1 lets new connections reuse TIME_WAIT ports",
        };
        out.push(
            Diagnosis::new(
                code,
                if share >= 0.8 { Severity::Critical } else { Severity::Warning },
                format!(
                    "{used} of the {range} local ports (ip_local_port_range {}-{}) are held towards {}, {tw} of them in TIME_WAIT: \
                     at 100% connect() fails with EADDRNOTAVAIL — reuse connections (keep-alive, pooling), {reuse}, or widen the range",
                    inp.limits.port_low,
                    inp.limits.port_high,
                    endpoint(*ip, *port)
                ),
            )
            .with("destination", endpoint(*ip, *port))
            .with("ports_in_use", used)
            .with("time_wait", tw)
            .with("port_range", format!("{}-{}", inp.limits.port_low, inp.limits.port_high))
            .with("share_pct", (share * 1000.0).round() / 10.0),
        );
    }
    if !flagged && tw_total >= (u64::from(range) / 10).max(pile_floor(c)) {
        out.push(
            Diagnosis::new(
                "sockets.time_wait_many",
                Severity::Info,
                format!(
                    "{tw_total} sockets in TIME_WAIT: this host closes connections actively (it sends the first FIN); \
                     harmless by itself, but each pins a local port towards its peer for 60 s"
                ),
            )
            .with("time_wait", tw_total)
            .with("port_range_size", range),
        );
    }
}

/// FIN_WAIT1 / FIN_WAIT2 / LAST_ACK / CLOSING piles towards one peer.
fn closing_piles(inp: &Inputs<'_>, out: &mut Vec<Diagnosis>) {
    let c = inp.census;
    let floor = pile_floor(c);
    let fin = inp.limits.fin_timeout;
    let rules: [(TcpState, &str, String); 4] = [
        (
            TcpState::FinWait1,
            "sockets.fin_wait1_pile",
            "this side closed but the peer does not acknowledge the FIN (peer gone, a firewall dropping, or a zero window with unsent data)".into(),
        ),
        (
            TcpState::FinWait2,
            "sockets.fin_wait2_pile",
            format!("this side closed and the peer acknowledged, but the peer application never closes its end (it sits in CLOSE_WAIT there); orphaned ones expire after tcp_fin_timeout={fin} s"),
        ),
        (
            TcpState::LastAck,
            "sockets.last_ack_pile",
            "the peer closed, this side closed too, and the peer never acknowledges the last FIN (peer gone or a firewall dropping)".into(),
        ),
        (
            TcpState::Closing,
            "sockets.closing_pile",
            "both sides closed at once and the final ACKs are lost".into(),
        ),
    ];
    let mut peers: Vec<_> = c.peers.iter().collect();
    peers.sort_by_key(|(k, _)| **k);
    for (state, code, meaning) in &rules {
        for (ip, t) in &peers {
            let n = t.get(*state);
            if u64::from(n) < floor {
                continue;
            }
            out.push(
                Diagnosis::new(
                    code,
                    Severity::Warning,
                    format!("{n} connections with {ip} in {}: {meaning}", state.name()),
                )
                .with("peer", ip.to_string())
                .with("count", n)
                .with("state", state.name()),
            );
        }
    }
}

/// Connection attempts that get no answer.
fn syn_sent(inp: &Inputs<'_>, out: &mut Vec<Diagnosis>) {
    let c = inp.census;
    let floor = pile_floor(c);
    let mut dests: Vec<_> = c.dests.iter().collect();
    dests.sort_by_key(|(k, _)| **k);
    for ((ip, port), t) in dests {
        let n = t.get(TcpState::SynSent);
        if u64::from(n) < floor {
            continue;
        }
        out.push(
            Diagnosis::new(
                "sockets.syn_sent_pile",
                Severity::Warning,
                format!(
                    "{n} connection attempts to {} wait in SYN_SENT: SYNs are dropped silently on the way or the answers do not come back (a firewall, a dead host, or a full listen queue there)",
                    endpoint(*ip, *port)
                ),
            )
            .with("destination", endpoint(*ip, *port))
            .with("syn_sent", n),
        );
    }
}

/// Accept-queue overflows seen by the counters but not in the current queues.
fn counters(inp: &Inputs<'_>, out: &mut Vec<Diagnosis>) {
    let Some(k) = inp.counters else { return };
    if out.iter().any(|d| d.code == "sockets.accept_queue_full") {
        return;
    }
    if let Some(r) = inp.rates.filter(|r| r.listen_overflows > 0.0) {
        out.push(
            Diagnosis::new(
                "sockets.listen_overflows",
                Severity::Warning,
                format!(
                    "accept queues are overflowing right now ({:.1}/s): a listener's program falls behind in bursts although no queue is full at this instant",
                    r.listen_overflows
                ),
            )
            .with("listen_overflows_per_s", r.listen_overflows)
            .with("listen_overflows", k.listen_overflows),
        );
    } else if k.listen_overflows > 0 {
        out.push(
            Diagnosis::new(
                "sockets.listen_overflows",
                Severity::Info,
                format!(
                    "{} connections were dropped since boot because an accept queue was full (ListenOverflows); no queue is full now — use --watch to see whether it still grows",
                    k.listen_overflows
                ),
            )
            .with("listen_overflows", k.listen_overflows)
            .with("listen_drops", k.listen_drops),
        );
    }
}

/// The 2-hour keepalive default, weighed against the established
/// connections that may rely on it. A socket's own TCP_KEEPIDLE is not in
/// sock_diag; a keepalive timer whose remaining time plus the socket's idle
/// time is off the default betrays one (see
/// [`census::keepalive_own_idle`]), and those are not counted as waiting
/// 2 hours.
fn keepalive(inp: &Inputs<'_>, out: &mut Vec<Diagnosis>) {
    let l = inp.limits;
    let c = inp.census;
    let est = c.get(TcpState::Established);
    let own = c.keepalive_own;
    let default_armed = c.keepalive_armed.saturating_sub(own);
    if l.keepalive_time < 1800 || est == 0 || default_armed == 0 {
        return;
    }
    let dead_after =
        u64::from(l.keepalive_time) + u64::from(l.keepalive_intvl) * u64::from(l.keepalive_probes);
    let own_text = if own > 0 {
        format!(
            "{own} other(s) have a keepalive timer that does not match the default for their idle time, so they set their own TCP_KEEPIDLE (or carried traffic since it was armed); "
        )
    } else {
        String::new()
    };
    out.push(
        Diagnosis::new(
            "sockets.keepalive_default",
            Severity::Info,
            format!(
                "{default_armed} of {est} established connections have keepalive armed with no sign of their own idle time; {own_text}\
                 unless they set TCP_KEEPIDLE (not visible through sock_diag), they wait the host's tcp_keepalive_time={} s idle before the first probe \
                 (a dead peer is then noticed after {} s): NAT gateways and firewalls often forget idle flows after 5-60 min, so idle connections die silently — \
                 set SO_KEEPALIVE with TCP_KEEPIDLE about 300 s in the application, or lower net.ipv4.tcp_keepalive_time; \
                 `netdx tcp HOST:PORT --hold --keepalive 300,30,4` shows what a path does to an idle connection",
                l.keepalive_time, dead_after
            ),
        )
        .with("established", est)
        .with("keepalive_armed", c.keepalive_armed)
        .with("keepalive_own_idle", own)
        .with("keepalive_time", l.keepalive_time)
        .with("keepalive_intvl", l.keepalive_intvl)
        .with("keepalive_probes", l.keepalive_probes),
    );
}

/// Connections whose peer stopped acknowledging: the half-open suspects a
/// vanished peer (power loss, a NAT or firewall that forgot the flow)
/// leaves behind. They look ESTABLISHED, so a state census alone rates them
/// healthy; the send queue and the timer say otherwise.
fn stalled(inp: &Inputs<'_>, out: &mut Vec<Diagnosis>) {
    let c = inp.census;
    if c.stalled_count == 0 {
        return;
    }
    let describe = |r: &record::SockRecord| {
        let owner = who_or(inp.owners, r.inode, "owner unknown");
        let what = match r.timer {
            state::Timer::Keepalive => format!("{} keepalive probe(s) unanswered", r.retrans),
            _ => format!(
                "{} bytes unacknowledged, {} retransmission(s), next in {:.1} s",
                r.wqueue,
                r.retrans,
                r.expires_ms as f64 / 1000.0
            ),
        };
        format!(
            "{} → {} ({what}; {owner})",
            endpoint(r.local, r.lport),
            endpoint(r.remote.to_canonical(), r.rport)
        )
    };
    let shown: Vec<String> = c.stalled.iter().take(3).map(describe).collect();
    let peers: Vec<String> = {
        let mut v: Vec<String> = Vec::new();
        for r in &c.stalled {
            let p = endpoint(r.remote.to_canonical(), r.rport);
            if !v.contains(&p) {
                v.push(p);
            }
        }
        v
    };
    let more = if c.stalled_count > 3 {
        format!(" and {} more", c.stalled_count - 3)
    } else {
        String::new()
    };
    out.push(
        Diagnosis::new(
            "sockets.half_open_suspect",
            Severity::Warning,
            format!(
                "{} half-open suspect(s), connections that get no acknowledgement from their peer: {}{more} — the peer vanished (crash, power loss), or a NAT/firewall on the path forgot the flow \
                 (half-open); the kernel keeps retransmitting with backoff and gives up with ETIMEDOUT only after net.ipv4.tcp_retries2 (~15 min by default) \
                 or TCP_USER_TIMEOUT. Check: can this host reach the peer now (`netdx tcp PEER:PORT`), and set TCP_USER_TIMEOUT / keepalive in the application",
                c.stalled_count,
                shown.join("; ")
            ),
        )
        .with("count", c.stalled_count)
        .with("peers", peers)
        .with(
            "owners",
            c.stalled
                .iter()
                .filter_map(|r| who(inp.owners, r.inode))
                .fold(Vec::<String>::new(), |mut v, w| {
                    if !v.contains(&w) {
                        v.push(w);
                    }
                    v
                }),
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::record::SockRecord;
    use super::state::Timer;
    use super::*;
    use std::net::Ipv4Addr;

    fn limits() -> HostLimits {
        HostLimits {
            port_low: 40000,
            port_high: 40999,
            somaxconn: 4096,
            max_syn_backlog: 1024,
            syncookies: 1,
            fin_timeout: 60,
            tw_reuse: 2,
            keepalive_time: 7200,
            keepalive_intvl: 75,
            keepalive_probes: 9,
        }
    }

    fn rec(state: TcpState, lport: u16, rport: u16, rq: u32, wq: u32) -> SockRecord {
        SockRecord {
            state,
            local: IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2)),
            lport,
            remote: IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1)),
            rport,
            rqueue: rq,
            wqueue: wq,
            uid: 0,
            inode: 0,
            timer: Timer::Off,
            expires_ms: 0,
            retrans: 0,
            v6: false,
            extra: None,
        }
    }

    fn run(census: &Census, counters: Option<&Counters>) -> Vec<Diagnosis> {
        let owners = Owners::default();
        diagnose(&Inputs {
            census,
            limits: &limits(),
            counters,
            rates: None,
            owners: &owners,
            backlog_known: true,
            nofile_limit: &|_| None,
        })
    }

    fn codes(d: &[Diagnosis]) -> Vec<&str> {
        d.iter().map(|d| d.code.as_str()).collect()
    }

    #[test]
    fn empty_host_is_healthy() {
        let d = run(&Census::default(), None);
        assert_eq!(codes(&d), ["sockets.healthy"]);
    }

    #[test]
    fn queue_at_backlog_is_critical_and_beats_syn_flood() {
        let (mut c, l) = (Census::default(), limits());
        c.add(&rec(TcpState::Listen, 80, 0, 5, 5), &l);
        for p in 0..10 {
            c.add(&rec(TcpState::SynRecv, 80, 50000 + p, 0, 0), &l);
        }
        let k = Counters {
            listen_overflows: 7,
            ..Counters::default()
        };
        let d = run(&c, Some(&k));
        assert_eq!(d[0].code, "sockets.accept_queue_full");
        assert_eq!(d[0].severity, Severity::Critical);
        assert!(!codes(&d).contains(&"sockets.syn_flood"));
    }

    #[test]
    fn syn_recv_scales_with_the_backlog() {
        let l = limits();
        let build = |n: u16, backlog: u32| {
            let mut c = Census::default();
            c.add(&rec(TcpState::Listen, 80, 0, 0, backlog), &l);
            for p in 0..n {
                c.add(&rec(TcpState::SynRecv, 80, 50000 + p, 0, 0), &l);
            }
            c
        };
        // 20 half-open on a backlog of 1000: normal handshake traffic.
        assert!(!codes(&run(&build(20, 1000), None)).contains(&"sockets.syn_flood"));
        // 20 on a backlog of 64: a quarter full, warning.
        let d = run(&build(20, 64), None);
        let f = d.iter().find(|d| d.code == "sockets.syn_flood");
        assert_eq!(f.map(|d| d.severity), Some(Severity::Warning));
        // 64 on 64: full, critical.
        let d = run(&build(64, 64), None);
        assert_eq!(d[0].code, "sockets.syn_flood");
        assert_eq!(d[0].severity, Severity::Critical);
    }

    #[test]
    fn port_exhaustion_is_a_share_of_the_range() {
        let l = limits();
        let build = |n: u16| {
            let mut c = Census::default();
            for p in 0..n {
                c.add(&rec(TcpState::TimeWait, 40000 + p, 443, 0, 0), &l);
            }
            c
        };
        // 1000 ephemeral ports: 400 in use is below half.
        let d = run(&build(400), None);
        assert!(!codes(&d).contains(&"sockets.time_wait_exhaustion"));
        assert!(codes(&d).contains(&"sockets.time_wait_many"));
        let d = run(&build(600), None);
        assert_eq!(d[0].code, "sockets.time_wait_exhaustion");
        assert_eq!(d[0].severity, Severity::Warning);
        let d = run(&build(850), None);
        assert_eq!(d[0].severity, Severity::Critical);
    }

    #[test]
    fn close_wait_needs_a_share_of_the_port() {
        let l = limits();
        let build = |cw: u16, est: u16| {
            let mut c = Census::default();
            c.add(&rec(TcpState::Listen, 80, 0, 0, 128), &l);
            for p in 0..cw {
                c.add(&rec(TcpState::CloseWait, 80, 50000 + p, 0, 0), &l);
            }
            for p in 0..est {
                c.add(&rec(TcpState::Established, 80, 60000 + p, 0, 0), &l);
            }
            c
        };
        assert!(codes(&run(&build(9, 20), None)).contains(&"sockets.close_wait_leak"));
        // 9 stragglers among 2000 busy connections: normal closing traffic.
        assert!(!codes(&run(&build(9, 2000), None)).contains(&"sockets.close_wait_leak"));
        assert!(!codes(&run(&build(3, 0), None)).contains(&"sockets.close_wait_leak"));
    }
}
