//! Turns a sample into the JSON report and the human text. The census is
//! data; this is the only place that decides how it reads.

use super::census::{Census, Tally};
use super::counters::{Counters, HostLimits, Rates};
use super::owners::Proc;
use super::record::{SockRecord, Source};
use super::state::{TcpState, ORDER, SLOTS};
use super::Sample;
use crate::diagnose::Diagnosis;
use serde::Serialize;
use serde_json::{Map, Value};
use std::net::IpAddr;

/// The machine-readable form of one sample (`--json`, `--jsonl`).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// Sample number (1-based) in `--watch`.
    pub sample: u64,
    /// What the census is restricted to (`port 80`, `pid 42`, `program
    /// nginx`), None for the whole host.
    pub scope: Option<String>,
    /// Reader used: netlink or proc.
    pub source: Source,
    /// Why netlink was not used, when it failed.
    pub fallback: Option<String>,
    /// Milliseconds the census took.
    pub elapsed_ms: f64,
    /// Sockets counted.
    pub total: u64,
    /// IPv4 sockets counted.
    pub ipv4: u64,
    /// IPv6 sockets counted.
    pub ipv6: u64,
    /// Count per state (every state, zeros included).
    pub states: Map<String, Value>,
    /// Change per state since the previous sample (`--watch`).
    pub state_changes: Option<Map<String, Value>>,
    /// Listening sockets with queues and owners.
    pub listeners: Vec<ListenerOut>,
    /// Busiest service ports: local ports with a listener (client-side
    /// ports would be one socket each).
    pub ports: Vec<Row>,
    /// Busiest remote endpoints of outgoing connections (from local ports
    /// without a listener): where local ports run out.
    pub destinations: Vec<Row>,
    /// Busiest remote peers.
    pub peers: Vec<Row>,
    /// Processes (detail views: --port, --pid, --process).
    pub processes: Vec<Proc>,
    /// Individual connections (detail views).
    pub connections: Vec<ConnOut>,
    /// Connections left out of `connections` (see --all).
    pub connections_omitted: usize,
    /// Kernel counters since boot.
    pub counters: Option<Counters>,
    /// Counter rates per second since the previous sample.
    pub rates: Option<Rates>,
    /// Host sysctls the diagnoses scale with.
    pub limits: HostLimits,
    /// ESTABLISHED sockets with keepalive armed.
    pub keepalive_armed: u64,
    /// Findings.
    pub diagnosis: Vec<Diagnosis>,
}

/// One listening socket.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ListenerOut {
    /// Bound address.
    pub address: String,
    /// Port.
    pub port: u16,
    /// Connections waiting for accept().
    pub queue: u32,
    /// listen() backlog (None from /proc, which does not report it).
    pub backlog: Option<u32>,
    /// Processes holding it.
    pub processes: Vec<Proc>,
}

/// One row of the per-port or per-peer table.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Row {
    /// Port number or peer address.
    pub key: String,
    /// All sockets in the row.
    pub total: u32,
    /// Non-zero states.
    pub states: Map<String, Value>,
}

/// One connection in a detail view (the `ss -tanpio` line).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ConnOut {
    /// State name.
    pub state: TcpState,
    /// Local address:port.
    pub local: String,
    /// Remote address:port.
    pub remote: String,
    /// Receive queue (LISTEN: accept queue).
    pub recv_q: u32,
    /// Send queue (LISTEN: backlog).
    pub send_q: u32,
    /// Timer kind (keepalive, on, timewait, persist, off).
    pub timer: &'static str,
    /// Milliseconds until the timer fires.
    pub timer_ms: u64,
    /// Retransmissions or probes of the current timer.
    pub retrans: u8,
    /// Smoothed RTT in ms (netlink tcp_info).
    pub rtt_ms: Option<f64>,
    /// Segments retransmitted over the connection's life.
    pub total_retrans: Option<u32>,
    /// Owning processes, as "program/pid".
    pub processes: Vec<String>,
}

fn endpoint(ip: IpAddr, port: u16) -> String {
    match ip.to_canonical() {
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
        v4 => format!("{v4}:{port}"),
    }
}

fn state_map(states: &[u64; SLOTS], all: bool) -> Map<String, Value> {
    ORDER
        .iter()
        .filter(|s| all || states[s.slot()] > 0)
        .map(|s| (s.name().to_string(), Value::from(states[s.slot()])))
        .collect()
}

fn widen(t: &Tally) -> [u64; SLOTS] {
    let mut w = [0u64; SLOTS];
    for (o, i) in w.iter_mut().zip(t.states.iter()) {
        *o = u64::from(*i);
    }
    w
}

fn top<K: Copy + Ord>(
    map: &std::collections::HashMap<K, Tally>,
    n: usize,
    keep: impl Fn(K) -> bool,
    label: impl Fn(K) -> String,
) -> Vec<Row> {
    let mut rows: Vec<(K, &Tally, u32)> = map
        .iter()
        .filter(|(k, _)| keep(**k))
        .map(|(k, t)| (*k, t, t.states.iter().sum::<u32>()))
        .collect();
    rows.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    rows.truncate(n);
    rows.into_iter()
        .map(|(k, t, total)| Row {
            key: label(k),
            total,
            states: state_map(&widen(t), false),
        })
        .collect()
}

/// Builds the report for sample number `n`.
pub fn report(
    s: &Sample,
    n: u64,
    previous: Option<&[u64; SLOTS]>,
    top_n: usize,
    all: bool,
    scope: Option<String>,
) -> Report {
    let detail = scope.is_some();
    let c = &s.census;
    let procs_of = |inode: u64| -> Vec<Proc> { s.owners.of(inode).into_iter().cloned().collect() };
    let mut listeners: Vec<ListenerOut> = c
        .listeners
        .iter()
        .map(|l| ListenerOut {
            address: endpoint(l.local, l.lport),
            port: l.lport,
            queue: l.rqueue,
            backlog: (s.source == Source::Netlink).then_some(l.wqueue),
            processes: procs_of(l.inode),
        })
        .collect();
    listeners.sort_by(|a, b| a.port.cmp(&b.port).then(a.address.cmp(&b.address)));
    let mut kept: Vec<&SockRecord> = c.kept.iter().collect();
    kept.sort_by_key(|r| (r.state != TcpState::Listen, r.lport, r.rport, r.remote));
    let limit = if all { usize::MAX } else { 50 };
    let connections = kept
        .iter()
        .take(limit)
        .map(|r| ConnOut {
            state: r.state,
            local: endpoint(r.local, r.lport),
            remote: endpoint(r.remote, r.rport),
            recv_q: r.rqueue,
            send_q: r.wqueue,
            timer: r.timer.name(),
            timer_ms: r.expires_ms,
            retrans: r.retrans,
            rtt_ms: r.extra.map(|e| f64::from(e.rtt_us) / 1000.0),
            total_retrans: r.extra.map(|e| e.total_retrans),
            processes: procs_of(r.inode)
                .iter()
                .map(|p| format!("{}/{}", p.program, p.pid))
                .collect(),
        })
        .collect();
    let state_changes = previous.map(|prev| {
        ORDER
            .iter()
            .map(|st| {
                let d = c.states[st.slot()] as i64 - prev[st.slot()] as i64;
                (st.name().to_string(), Value::from(d))
            })
            .collect()
    });
    let processes = if detail {
        s.owners.procs.clone()
    } else {
        Vec::new()
    };
    Report {
        sample: n,
        scope,
        source: s.source,
        fallback: s.fallback.clone(),
        elapsed_ms: (s.elapsed.as_secs_f64() * 1e6).round() / 1000.0,
        total: c.total(),
        ipv4: c.v4,
        ipv6: c.v6,
        states: state_map(&c.states, true),
        state_changes,
        listeners,
        ports: top(&c.ports, top_n, |_| true, |p| p.to_string()),
        destinations: top(&c.dests, top_n, |_| true, |(ip, port)| endpoint(ip, port)),
        peers: top(&c.peers, top_n, |_| true, |ip| ip.to_string()),
        processes,
        connections,
        connections_omitted: c.kept.len().saturating_sub(limit),
        counters: s.counters,
        rates: s.rates,
        limits: s.limits,
        keepalive_armed: c.keepalive_armed,
        diagnosis: s.diagnosis.clone(),
    }
}

/// Renders the human text of a report into lines.
pub fn human(r: &Report, census: &Census, s_owners: bool) -> Vec<String> {
    let mut out = Vec::new();
    let source = match r.source {
        Source::Netlink => "netlink sock_diag",
        Source::Proc => "/proc/net/tcp",
    };
    let scope = r
        .scope
        .as_ref()
        .map_or(String::new(), |s| format!(" of {s}"));
    out.push(format!(
        "TCP sockets{scope}: {} (IPv4 {}, IPv6 {}) — read via {source} in {:.1} ms",
        r.total, r.ipv4, r.ipv6, r.elapsed_ms
    ));
    if let Some(f) = &r.fallback {
        out.push(format!("  note: {f}"));
    }
    let mut states = Vec::new();
    for st in ORDER {
        let n = census.get(st);
        let delta = r
            .state_changes
            .as_ref()
            .and_then(|m| m.get(st.name()))
            .and_then(Value::as_i64)
            .filter(|d| *d != 0)
            .map_or(String::new(), |d| format!(" ({d:+})"));
        if n > 0 || !delta.is_empty() {
            states.push(format!("{} {n}{delta}", st.name()));
        }
    }
    if states.is_empty() {
        states.push("no TCP sockets".into());
    }
    out.push(format!("  {}", states.join(" · ")));
    if !r.listeners.is_empty() {
        out.push(String::new());
        out.push(format!(
            "{:<44} {:>11}{}",
            "Listening on",
            "queue/backlog",
            if s_owners { "  program" } else { "" }
        ));
        for l in &r.listeners {
            let q = match l.backlog {
                Some(b) => format!("{}/{}", l.queue, b),
                None => format!("{}/?", l.queue),
            };
            let prog = if s_owners {
                format!("  {}", programs(&l.processes))
            } else {
                String::new()
            };
            out.push(format!("  {:<42} {:>13}{prog}", l.address, q));
        }
    }
    table(&mut out, "Service port", &r.ports);
    table(&mut out, "Outgoing to", &r.destinations);
    table(&mut out, "Peer", &r.peers);
    if !r.connections.is_empty() {
        out.push(String::new());
        if !r.processes.is_empty() {
            let names: Vec<String> = r
                .processes
                .iter()
                .map(|p| format!("{} (pid {}, user {})", p.program, p.pid, p.user))
                .collect();
            out.push(format!("Processes: {}", names.join(", ")));
        }
        out.push(format!(
            "  {:<11} {:<30} {:<30} {:>7} {:>7}  {:<22} program",
            "state", "local", "remote", "recv-q", "send-q", "timer"
        ));
        for c in &r.connections {
            let timer = if c.timer == "off" {
                "-".to_string()
            } else {
                format!(
                    "{}({:.1}s,{})",
                    c.timer,
                    c.timer_ms as f64 / 1000.0,
                    c.retrans
                )
            };
            let rtt = c
                .rtt_ms
                .filter(|v| *v > 0.0)
                .map_or(String::new(), |v| format!(" rtt {v:.3}ms"));
            out.push(format!(
                "  {:<11} {:<30} {:<30} {:>7} {:>7}  {:<22} {}{rtt}",
                c.state.name(),
                c.local,
                c.remote,
                c.recv_q,
                c.send_q,
                timer,
                c.processes.join(",")
            ));
        }
        if r.connections_omitted > 0 {
            out.push(format!(
                "  … {} more (--all lists them)",
                r.connections_omitted
            ));
        }
    }
    if let Some(k) = &r.counters {
        out.push(String::new());
        // The kernel's OutSegs leaves retransmissions out, so the share of
        // everything put on the wire is retrans / (out + retrans).
        let on_wire = k.out_segs + k.retrans_segs;
        let retr_pct = if on_wire > 0 {
            format!(
                " ({:.2}% of segments sent)",
                k.retrans_segs as f64 * 100.0 / on_wire as f64
            )
        } else {
            String::new()
        };
        out.push(format!(
            "Counters since boot: ListenOverflows {} · ListenDrops {} · SyncookiesSent {} · TCPTimeouts {} · RetransSegs {}{retr_pct} · ActiveOpens {} · PassiveOpens {}",
            k.listen_overflows, k.listen_drops, k.syncookies_sent, k.tcp_timeouts, k.retrans_segs, k.active_opens, k.passive_opens
        ));
    }
    if let Some(rt) = &r.rates {
        out.push(format!(
            "Rates per second: active opens {:.1} · passive opens {:.1} · ListenOverflows {:.1} · ListenDrops {:.1} · SyncookiesSent {:.1} · TCPTimeouts {:.1} · RetransSegs {:.1}",
            rt.active_opens, rt.passive_opens, rt.listen_overflows, rt.listen_drops, rt.syncookies_sent, rt.tcp_timeouts, rt.retrans_segs
        ));
    }
    let l = &r.limits;
    out.push(format!(
        "Keepalive: armed on {} of {} established · tcp_keepalive_time {} s, intvl {} s, probes {} · ephemeral ports {}-{} · somaxconn {} · syncookies {}",
        r.keepalive_armed,
        census.get(TcpState::Established),
        l.keepalive_time,
        l.keepalive_intvl,
        l.keepalive_probes,
        l.port_low,
        l.port_high,
        l.somaxconn,
        l.syncookies
    ));
    if unsafe_euid() != 0 {
        out.push("  note: not root — sockets of other users' processes show no program".into());
    }
    out
}

fn programs(list: &[Proc]) -> String {
    if list.is_empty() {
        return "-".into();
    }
    list.iter()
        .map(|p| format!("{} (pid {}, {})", p.program, p.pid, p.user))
        .collect::<Vec<_>>()
        .join(", ")
}

fn table(out: &mut Vec<String>, title: &str, rows: &[Row]) {
    if rows.is_empty() {
        return;
    }
    let cols: Vec<TcpState> = ORDER
        .iter()
        .copied()
        .filter(|s| rows.iter().any(|r| r.states.contains_key(s.name())))
        .collect();
    out.push(String::new());
    let mut head = format!("{title:<40} {:>7}", "total");
    for c in &cols {
        head.push_str(&format!(" {:>11}", c.name()));
    }
    out.push(head);
    for r in rows {
        let mut line = format!("  {:<38} {:>7}", r.key, r.total);
        for c in &cols {
            let v = r.states.get(c.name()).and_then(Value::as_u64).unwrap_or(0);
            line.push_str(&format!(" {v:>11}"));
        }
        out.push(line);
    }
}

fn unsafe_euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}
