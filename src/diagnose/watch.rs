//! The rules behind `netdx watch`: what the TCP connections seen on the
//! wire show is going wrong. The flow tracker (src/watch/flow) hands each
//! finished connection in as a [`ConnectionFacts`]; [`WatchTally`] folds
//! them per server endpoint (bounded memory on long captures) and turns
//! the totals into one diagnosis per server:port and finding, with counts,
//! the way `netdx tcp` groups its failures.

use super::{Diagnosis, Severity};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

/// Which end of a connection: the client sent the SYN (or, when the
/// capture started mid-flow, was guessed from the ports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    /// The connecting end.
    Client,
    /// The listening end.
    Server,
}

impl Side {
    /// The word used in summaries and evidence.
    pub fn word(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }

    /// The other end.
    pub fn peer(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
}

/// What one end of a connection sent, as seen at the capture point.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SideFacts {
    /// Segments sent.
    pub segments: u64,
    /// Segments carrying payload.
    pub data_segments: u64,
    /// Payload bytes, counted as the advance of the sequence space (a
    /// retransmission does not count twice; a segment the capture missed does
    /// count).
    pub bytes: u64,
    /// Data segments that resent sequence space already sent.
    pub retransmitted_segments: u64,
    /// Bytes of those segments that were sent before.
    pub retransmitted_bytes: u64,
    /// Duplicate ACKs sent (same ACK and window while data was outstanding).
    pub dup_acks: u64,
    /// Runs of three or more duplicate ACKs (each one asks for a fast
    /// retransmit).
    pub dup_ack_runs: u64,
    /// Times this end advertised a zero window (its application stopped
    /// reading and its receive buffer filled).
    pub zero_windows: u64,
    /// Total time its window stayed at zero, µs.
    pub zero_window_us: u64,
    /// Longest single zero-window period, µs.
    pub longest_zero_window_us: u64,
    /// Data segments this end sent that filled the peer's advertised window
    /// exactly (the sender had to stop and wait for the reader).
    pub window_full: u64,
    /// Keepalive probes sent (seq = snd.nxt − 1, 0 or 1 byte, while idle).
    pub keepalives: u64,
    /// Keepalive probes the peer answered with an ACK.
    pub keepalives_answered: u64,
    /// This end sent a FIN.
    pub sent_fin: bool,
}

/// What the tracker knows about one connection once it stops following it
/// (closed and lingered, idle and expired, or the capture ended).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionFacts {
    /// The connecting end.
    pub client: SocketAddr,
    /// The listening end.
    pub server: SocketAddr,
    /// The capture started mid-flow, so client and server were guessed from
    /// the ports (a well-known or lower port is the server).
    pub sides_inferred: bool,
    /// First segment seen, µs since the epoch.
    pub start_us: u64,
    /// Last segment seen, µs.
    pub last_us: u64,
    /// When the tracker stopped waiting for more (expiry or end of capture), µs.
    pub observed_until_us: u64,
    /// SYNs the client sent (1 + retransmissions).
    pub syns: u32,
    /// SYN-ACKs the server sent (1 + retransmissions).
    pub synacks: u32,
    /// The client's ACK of the SYN-ACK was seen: the handshake completed.
    pub handshake_done: bool,
    /// Last SYN → first SYN-ACK, µs: the path from the capture point to the
    /// server and back, plus the server's time to answer.
    pub syn_to_synack_us: Option<u64>,
    /// Last SYN-ACK → the client's ACK, µs: the path from the capture point
    /// to the client and back, plus the client's time to answer.
    pub synack_to_ack_us: Option<u64>,
    /// What the client sent.
    pub client_side: SideFacts,
    /// What the server sent.
    pub server_side: SideFacts,
    /// Who sent the first FIN (that end will hold TIME_WAIT).
    pub first_fin: Option<Side>,
    /// Both FINs were sent and acknowledged.
    pub fin_exchange_complete: bool,
    /// How long a FIN went one way only: from the first FIN to the second,
    /// or to the last segment seen when the second never came, µs.
    pub half_close_us: Option<u64>,
    /// Who sent an RST, if anyone did.
    pub reset_by: Option<Side>,
    /// The server answered the SYN with an RST (nothing listens).
    pub refused: bool,
}

impl ConnectionFacts {
    /// A connection between two endpoints with nothing seen yet; tests and
    /// the tracker fill in the rest.
    pub fn new(client: SocketAddr, server: SocketAddr, start_us: u64) -> Self {
        ConnectionFacts {
            client,
            server,
            sides_inferred: false,
            start_us,
            last_us: start_us,
            observed_until_us: start_us,
            syns: 0,
            synacks: 0,
            handshake_done: false,
            syn_to_synack_us: None,
            synack_to_ack_us: None,
            client_side: SideFacts::default(),
            server_side: SideFacts::default(),
            first_fin: None,
            fin_exchange_complete: false,
            half_close_us: None,
            reset_by: None,
            refused: false,
        }
    }

    /// What one end sent.
    pub fn side(&self, side: Side) -> &SideFacts {
        match side {
            Side::Client => &self.client_side,
            Side::Server => &self.server_side,
        }
    }

    /// The address of one end.
    pub fn addr(&self, side: Side) -> SocketAddr {
        match side {
            Side::Client => self.client,
            Side::Server => self.server,
        }
    }

    /// The SYNs went out, nothing came back (no SYN-ACK, no RST), and the
    /// client either retransmitted or waited a full initial RTO (1 s).
    pub fn syn_unanswered(&self) -> bool {
        self.syns > 0
            && self.synacks == 0
            && !self.refused
            && self.reset_by.is_none()
            && self.server_side.segments == 0
            && (self.syns >= 2 || self.observed_until_us.saturating_sub(self.start_us) >= 1_000_000)
    }

    /// The connection worked at some point: handshake done, or (mid-flow)
    /// both ends sent something.
    pub fn answered(&self) -> bool {
        self.handshake_done
            || self.synacks > 0
            || (self.sides_inferred
                && self.client_side.segments > 0
                && self.server_side.segments > 0)
    }

    /// A reset after the connection was up (not an answer to a SYN).
    pub fn reset_midstream(&self) -> Option<Side> {
        if self.refused {
            return None;
        }
        let up = self.handshake_done
            || self.sides_inferred
            || self.client_side.bytes > 0
            || self.server_side.bytes > 0;
        self.reset_by.filter(|_| up)
    }

    /// How the connection ended, in a few words (the table's last column).
    pub fn ending(&self) -> String {
        if self.refused {
            return "refused (RST to SYN)".into();
        }
        if self.syn_unanswered() {
            return format!("SYN unanswered ({}x)", self.syns);
        }
        if let Some(side) = self.reset_by {
            return format!("reset by {}", side.word());
        }
        match (self.first_fin, self.fin_exchange_complete) {
            (Some(side), true) => format!("closed, {} first", side.word()),
            (Some(side), false) => format!("half-closed by {}", side.word()),
            (None, _) if self.syns > 0 && self.synacks > 0 && !self.handshake_done => {
                "handshake incomplete".into()
            }
            (None, _) if self.syns > 0 && self.synacks == 0 => "SYN sent".into(),
            (None, _) => "open".into(),
        }
    }
}

/// Where the rules draw their lines; defaults suit a capture of seconds to
/// minutes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Retransmitted share of data segments (per cent) above which
    /// `watch.retransmissions` warns.
    pub retransmit_warn_pct: f64,
    /// Fewest retransmitted segments for a warning (a single lost segment
    /// in a short capture is not a trend).
    pub retransmit_min: u64,
    /// …or at least this many bytes resent (three full segments).
    pub retransmit_min_bytes: u64,
    /// A FIN one way only for this long is `watch.half_close_held`, µs.
    pub half_close_us: u64,
    /// Closes per second by one end towards one server:port from which
    /// TIME_WAIT piles up.
    pub time_wait_rate: f64,
    /// Fewest closes for `watch.time_wait_churn`.
    pub time_wait_min: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            retransmit_warn_pct: 2.0,
            retransmit_min: 3,
            retransmit_min_bytes: 4380,
            half_close_us: 10_000_000,
            time_wait_rate: 10.0,
            time_wait_min: 20,
        }
    }
}

/// Facts about the capture as a whole, not one connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaptureFacts {
    /// New flows not followed because the flow table was full.
    pub untracked_flows: u64,
    /// The table's limit.
    pub max_flows: usize,
}

/// Linux holds TIME_WAIT this long (TCP_TIMEWAIT_LEN), seconds.
const TIME_WAIT_S: f64 = 60.0;

/// Totals for one end of the connections to one server endpoint.
#[derive(Debug, Clone, Default)]
struct SideTally {
    data_segments: u64,
    bytes: u64,
    retransmitted_segments: u64,
    retransmitted_bytes: u64,
    dup_acks: u64,
    dup_ack_runs: u64,
    zero_window_connections: u64,
    zero_windows: u64,
    zero_window_us: u64,
    longest_zero_window_us: u64,
    window_full: u64,
    keepalives: u64,
    keepalives_answered: u64,
    keepalive_connections: u64,
    unanswered_keepalive_connections: u64,
    resets_midstream: u64,
    reset_example: Option<SocketAddr>,
    closes_first: u64,
    first_close_us: Option<u64>,
    last_close_us: u64,
    half_close_held: u64,
    longest_half_close_us: u64,
    half_close_example: Option<SocketAddr>,
    zero_window_example: Option<SocketAddr>,
    keepalive_example: Option<SocketAddr>,
}

/// Totals for every connection to one server endpoint.
#[derive(Debug, Clone, Default)]
struct ServerTally {
    connections: u64,
    answered: u64,
    handshakes: u64,
    syn_to_synack_us_sum: u64,
    synack_to_ack_us_sum: u64,
    unanswered: u64,
    unanswered_syns: u64,
    unanswered_example: Option<SocketAddr>,
    refused: u64,
    refused_example: Option<SocketAddr>,
    synack_retransmitted: u64,
    synacks_extra: u64,
    synack_never_acked: u64,
    synack_example: Option<SocketAddr>,
    inferred: u64,
    client: SideTally,
    server: SideTally,
}

impl ServerTally {
    fn side_mut(&mut self, side: Side) -> &mut SideTally {
        match side {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        }
    }

    fn side(&self, side: Side) -> &SideTally {
        match side {
            Side::Client => &self.client,
            Side::Server => &self.server,
        }
    }
}

/// The connections seen so far, folded per server endpoint: memory grows
/// with the number of servers (capped), not of connections.
#[derive(Debug, Clone, Default)]
pub struct WatchTally {
    servers: BTreeMap<SocketAddr, ServerTally>,
    connections: u64,
    /// Connections whose server was past the cap, folded only into the count.
    overflow: u64,
}

/// Most server endpoints tallied one by one.
pub const MAX_SERVERS: usize = 4096;

impl WatchTally {
    /// An empty tally.
    pub fn new() -> Self {
        Self::default()
    }

    /// Connections folded in.
    pub fn connections(&self) -> u64 {
        self.connections
    }

    /// Folds one finished connection in.
    pub fn add(&mut self, c: &ConnectionFacts, th: &Thresholds) {
        self.connections += 1;
        if !self.servers.contains_key(&c.server) && self.servers.len() >= MAX_SERVERS {
            self.overflow += 1;
            return;
        }
        let t = self.servers.entry(c.server).or_default();
        t.connections += 1;
        if c.sides_inferred {
            t.inferred += 1;
        }
        if c.answered() {
            t.answered += 1;
        }
        if c.handshake_done {
            if let (Some(a), Some(b)) = (c.syn_to_synack_us, c.synack_to_ack_us) {
                t.handshakes += 1;
                t.syn_to_synack_us_sum = t.syn_to_synack_us_sum.saturating_add(a);
                t.synack_to_ack_us_sum = t.synack_to_ack_us_sum.saturating_add(b);
            }
        }
        if c.syn_unanswered() {
            t.unanswered += 1;
            t.unanswered_syns += u64::from(c.syns);
            t.unanswered_example.get_or_insert(c.client);
        }
        if c.refused {
            t.refused += 1;
            t.refused_example.get_or_insert(c.client);
        }
        if c.synacks >= 2 {
            t.synack_retransmitted += 1;
            t.synacks_extra += u64::from(c.synacks - 1);
            if !c.handshake_done && c.client_side.bytes == 0 {
                t.synack_never_acked += 1;
            }
            t.synack_example.get_or_insert(c.client);
        }
        if let Some(side) = c.reset_midstream() {
            let s = t.side_mut(side);
            s.resets_midstream += 1;
            s.reset_example.get_or_insert(c.client);
        }
        if let Some(side) = c.first_fin {
            let s = t.side_mut(side);
            if c.fin_exchange_complete {
                s.closes_first += 1;
                let at = c.last_us;
                s.first_close_us = Some(s.first_close_us.map_or(at, |f| f.min(at)));
                s.last_close_us = s.last_close_us.max(at);
            }
            if c.half_close_us.unwrap_or(0) >= th.half_close_us {
                s.half_close_held += 1;
                s.longest_half_close_us = s.longest_half_close_us.max(c.half_close_us.unwrap_or(0));
                s.half_close_example.get_or_insert(c.client);
            }
        }
        for side in [Side::Client, Side::Server] {
            let f = c.side(side);
            let s = t.side_mut(side);
            s.data_segments += f.data_segments;
            s.bytes = s.bytes.saturating_add(f.bytes);
            s.retransmitted_segments += f.retransmitted_segments;
            s.retransmitted_bytes = s.retransmitted_bytes.saturating_add(f.retransmitted_bytes);
            s.dup_acks += f.dup_acks;
            s.dup_ack_runs += f.dup_ack_runs;
            if f.zero_windows > 0 {
                s.zero_window_connections += 1;
                s.zero_windows += f.zero_windows;
                s.zero_window_us = s.zero_window_us.saturating_add(f.zero_window_us);
                s.longest_zero_window_us = s.longest_zero_window_us.max(f.longest_zero_window_us);
                s.zero_window_example.get_or_insert(c.client);
            }
            s.window_full += f.window_full;
            if f.keepalives > 0 {
                s.keepalive_connections += 1;
                s.keepalives += f.keepalives;
                s.keepalives_answered += f.keepalives_answered;
                if f.keepalives_answered < f.keepalives {
                    s.unanswered_keepalive_connections += 1;
                }
                s.keepalive_example.get_or_insert(c.client);
            }
        }
    }

    /// The findings, worst first; `watch.healthy` when nothing is wrong.
    pub fn diagnoses(&self, capture: &CaptureFacts, th: &Thresholds) -> Vec<Diagnosis> {
        let mut out = Vec::new();
        for (server, t) in &self.servers {
            out.extend(handshake_findings(*server, t, self));
            out.extend(data_findings(*server, t, th));
            out.extend(teardown_findings(*server, t, th));
        }
        if capture.untracked_flows > 0 || self.overflow > 0 {
            out.push(
                Diagnosis::new(
                    UNTRACKED_CODE,
                    Severity::Warning,
                    format!(
                        "{} new flow(s) were not followed: the flow table was full ({} flows); the findings cover the others",
                        capture.untracked_flows + self.overflow,
                        capture.max_flows
                    ),
                )
                .with("untracked_flows", capture.untracked_flows)
                .with("untallied_connections", self.overflow)
                .with("max_flows", capture.max_flows),
            );
        }
        if !out.iter().any(|d| d.severity >= Severity::Warning) {
            out.insert(0, self.healthy(th));
        }
        out.sort_by_key(|d| std::cmp::Reverse(d.severity));
        out
    }

    fn healthy(&self, th: &Thresholds) -> Diagnosis {
        if self.connections == 0 {
            return Diagnosis::new(
                NO_CONNECTIONS_CODE,
                Severity::Info,
                "no TCP connection seen in the capture",
            )
            .with("connections", 0);
        }
        let (mut n, mut a, mut b) = (0u64, 0u64, 0u64);
        for t in self.servers.values() {
            n += t.handshakes;
            a = a.saturating_add(t.syn_to_synack_us_sum);
            b = b.saturating_add(t.synack_to_ack_us_sum);
        }
        let avg = a.checked_div(n).zip(b.checked_div(n));
        let mut d = Diagnosis::new(
            HEALTHY_CODE,
            Severity::Ok,
            match avg {
                Some((a, b)) => format!(
                    "{} connection(s) to {} server endpoint(s), nothing wrong: handshakes SYN→SYN-ACK avg {:.3} ms, SYN-ACK→ACK avg {:.3} ms, no unanswered SYN, reset, zero window or retransmission over {}%",
                    self.connections,
                    self.servers.len(),
                    ms(a),
                    ms(b),
                    th.retransmit_warn_pct
                ),
                None => format!(
                    "{} connection(s) to {} server endpoint(s), nothing wrong",
                    self.connections,
                    self.servers.len()
                ),
            },
        )
        .with("connections", self.connections)
        .with("servers", self.servers.len())
        .with("handshakes", n);
        if let Some((a, b)) = avg {
            d = d
                .with("syn_to_synack_avg_ms", round3(ms(a)))
                .with("synack_to_ack_avg_ms", round3(ms(b)));
        }
        d
    }
}

/// Runs the rules over a list of connections (tests and short captures).
pub fn diagnose(
    conns: &[ConnectionFacts],
    capture: &CaptureFacts,
    th: &Thresholds,
) -> Vec<Diagnosis> {
    let mut tally = WatchTally::new();
    for c in conns {
        tally.add(c, th);
    }
    tally.diagnoses(capture, th)
}

/// SYNs retransmitted and never answered.
pub const SYN_UNANSWERED_CODE: &str = "watch.syn_unanswered";
/// SYN answered by RST.
pub const REFUSED_CODE: &str = "watch.refused";
/// SYN-ACK retransmitted: the server misses the final ACK.
pub const SYNACK_RETRANSMITTED_CODE: &str = "watch.synack_retransmitted";
/// RST after the connection was up.
pub const RESET_MIDSTREAM_CODE: &str = "watch.reset_midstream";
/// Retransmitted share of data segments.
pub const RETRANSMISSIONS_CODE: &str = "watch.retransmissions";
/// Runs of three or more duplicate ACKs.
pub const DUP_ACKS_CODE: &str = "watch.dup_acks";
/// A receiver advertised a zero window.
pub const ZERO_WINDOW_CODE: &str = "watch.zero_window";
/// Closes at a rate that piles TIME_WAIT.
pub const TIME_WAIT_CHURN_CODE: &str = "watch.time_wait_churn";
/// Keepalive probes with no answer.
pub const KEEPALIVE_UNANSWERED_CODE: &str = "watch.keepalive_unanswered";
/// Keepalive probes, all answered.
pub const KEEPALIVE_CODE: &str = "watch.keepalive";
/// A FIN one way only for long.
pub const HALF_CLOSE_HELD_CODE: &str = "watch.half_close_held";
/// The server closes first and holds TIME_WAIT.
pub const SERVER_CLOSES_FIRST_CODE: &str = "watch.server_closes_first";
/// Nothing wrong.
pub const HEALTHY_CODE: &str = "watch.healthy";
/// No TCP connection in the capture.
pub const NO_CONNECTIONS_CODE: &str = "watch.no_connections";
/// The flow table was full.
pub const UNTRACKED_CODE: &str = "watch.untracked";

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Does any other port of this host answer in the capture?
fn host_answers_elsewhere(server: SocketAddr, tally: &WatchTally) -> bool {
    let ip: IpAddr = server.ip();
    tally
        .servers
        .iter()
        .any(|(s, t)| s.ip() == ip && *s != server && (t.answered > 0 || t.refused > 0))
}

fn handshake_findings(server: SocketAddr, t: &ServerTally, all: &WatchTally) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    if t.unanswered > 0 {
        let (cause, why, severity) = if t.answered > 0 {
            (
                "syn_queue_full",
                format!(
                    "{} other connection(s) to it succeeded in the same capture, so it listens and the path passes: its SYN/accept queue overflows (overload) or a rate limit drops SYNs",
                    t.answered
                ),
                Severity::Warning,
            )
        } else if host_answers_elsewhere(server, all) {
            (
                "port_filtered",
                "other ports of the same host answer, so the host is up: a firewall drops SYNs to this port (or its listener's queue is full)".to_string(),
                Severity::Critical,
            )
        } else {
            (
                "filtered_or_down",
                "no connection to it succeeded in the capture: a firewall drops the SYNs silently, or the host is down".to_string(),
                Severity::Critical,
            )
        };
        out.push(
            Diagnosis::new(
                SYN_UNANSWERED_CODE,
                severity,
                format!(
                    "{server}: {} connection(s) sent {} SYN(s) with no SYN-ACK or RST; {why}",
                    t.unanswered, t.unanswered_syns
                ),
            )
            .with("server", server.to_string())
            .with("connections", t.unanswered)
            .with("syns", t.unanswered_syns)
            .with("answered_connections", t.answered)
            .with("cause", cause)
            .with(
                "example_client",
                t.unanswered_example.map(|a| a.to_string()),
            ),
        );
    }
    if t.refused > 0 {
        let severity = if t.answered > 0 {
            Severity::Warning
        } else {
            Severity::Critical
        };
        out.push(
            Diagnosis::new(
                REFUSED_CODE,
                severity,
                format!(
                    "{server} answered {} SYN(s) with RST: nothing listens on port {} (host up){}",
                    t.refused,
                    server.port(),
                    if t.answered > 0 {
                        format!("; {} other connection(s) to it succeeded, so the listener comes and goes", t.answered)
                    } else {
                        String::new()
                    }
                ),
            )
            .with("server", server.to_string())
            .with("connections", t.refused)
            .with("answered_connections", t.answered)
            .with("example_client", t.refused_example.map(|a| a.to_string())),
        );
    }
    if t.synack_retransmitted > 0 {
        let never = t.synack_never_acked;
        out.push(
            Diagnosis::new(
                SYNACK_RETRANSMITTED_CODE,
                Severity::Warning,
                format!(
                    "{server} retransmitted its SYN-ACK on {} connection(s) ({} extra), {never} never got the final ACK: the client's ACK is lost on the way back (asymmetric path or loss), or the SYNs come from spoofed sources (SYN flood)",
                    t.synack_retransmitted, t.synacks_extra
                ),
            )
            .with("server", server.to_string())
            .with("connections", t.synack_retransmitted)
            .with("extra_synacks", t.synacks_extra)
            .with("never_acked", never)
            .with("example_client", t.synack_example.map(|a| a.to_string())),
        );
    }
    out
}

fn data_findings(server: SocketAddr, t: &ServerTally, th: &Thresholds) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    let data = t.client.data_segments + t.server.data_segments;
    let retrans = t.client.retransmitted_segments + t.server.retransmitted_segments;
    let bytes = t.client.bytes.saturating_add(t.server.bytes);
    let rbytes = t
        .client
        .retransmitted_bytes
        .saturating_add(t.server.retransmitted_bytes);
    if retrans > 0 && data > 0 {
        // Segments and bytes both: a sender with TSO/GSO hands the capture
        // 64 KiB super-segments, so few segments can carry many lost bytes.
        let pct = retrans as f64 * 100.0 / data as f64;
        let byte_pct = rbytes as f64 * 100.0 / bytes.max(1) as f64;
        let over = pct.max(byte_pct) > th.retransmit_warn_pct;
        let enough = retrans >= th.retransmit_min || rbytes >= th.retransmit_min_bytes;
        let warn = over && enough;
        let severity = if warn {
            Severity::Warning
        } else {
            Severity::Info
        };
        let worse = if t.client.retransmitted_bytes >= t.server.retransmitted_bytes {
            Side::Client
        } else {
            Side::Server
        };
        let why = if warn {
            format!(
                ": packets are lost, mostly on the way from the {}",
                worse.word()
            )
        } else if over {
            ", too few to call it a loss pattern".to_string()
        } else {
            format!(", under the {}% warning line", th.retransmit_warn_pct)
        };
        out.push(
            Diagnosis::new(
                RETRANSMISSIONS_CODE,
                severity,
                format!(
                    "{server}: {retrans} of {data} data segments retransmitted ({pct:.1}%; {rbytes} of {bytes} bytes, {byte_pct:.1}%; client→server {}, server→client {}){why}",
                    t.client.retransmitted_segments,
                    t.server.retransmitted_segments,
                ),
            )
            .with("server", server.to_string())
            .with("data_segments", data)
            .with("retransmitted_segments", retrans)
            .with("retransmit_pct", round1(pct))
            .with("bytes", bytes)
            .with("retransmitted_bytes", rbytes)
            .with("retransmit_bytes_pct", round1(byte_pct))
            .with("client_retransmitted", t.client.retransmitted_segments)
            .with("server_retransmitted", t.server.retransmitted_segments),
        );
    }
    let runs = t.client.dup_ack_runs + t.server.dup_ack_runs;
    if runs > 0 {
        out.push(
            Diagnosis::new(
                DUP_ACKS_CODE,
                Severity::Warning,
                format!(
                    "{server}: {runs} run(s) of 3+ duplicate ACKs ({} duplicate ACKs; from the client {}, from the server {}): segments arrive out of order or are lost, and the receiver asks for a fast retransmit",
                    t.client.dup_acks + t.server.dup_acks,
                    t.client.dup_ack_runs,
                    t.server.dup_ack_runs
                ),
            )
            .with("server", server.to_string())
            .with("runs", runs)
            .with("dup_acks", t.client.dup_acks + t.server.dup_acks)
            .with("client_runs", t.client.dup_ack_runs)
            .with("server_runs", t.server.dup_ack_runs),
        );
    }
    for side in [Side::Server, Side::Client] {
        let s = t.side(side);
        if s.zero_windows == 0 {
            continue;
        }
        let sender = t.side(side.peer());
        out.push(
            Diagnosis::new(
                ZERO_WINDOW_CODE,
                Severity::Warning,
                format!(
                    "{server}: the {} advertised a zero window {} time(s) on {} connection(s), {:.1} s in all (longest {:.1} s): its application stops reading, its receive buffer fills and the {} must wait",
                    side.word(),
                    s.zero_windows,
                    s.zero_window_connections,
                    s.zero_window_us as f64 / 1e6,
                    s.longest_zero_window_us as f64 / 1e6,
                    side.peer().word()
                ),
            )
            .with("server", server.to_string())
            .with("receiver", side.word())
            .with("zero_windows", s.zero_windows)
            .with("connections", s.zero_window_connections)
            .with("zero_window_ms", s.zero_window_us / 1000)
            .with("longest_ms", s.longest_zero_window_us / 1000)
            .with("window_full_segments", sender.window_full)
            .with("example_client", s.zero_window_example.map(|a| a.to_string())),
        );
    }
    out
}

fn teardown_findings(server: SocketAddr, t: &ServerTally, th: &Thresholds) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    for side in [Side::Client, Side::Server] {
        let s = t.side(side);
        if s.resets_midstream > 0 {
            out.push(
                Diagnosis::new(
                    RESET_MIDSTREAM_CODE,
                    Severity::Warning,
                    format!(
                        "{server}: the {} reset {} established connection(s): {}",
                        side.word(),
                        s.resets_midstream,
                        match side {
                            Side::Server => "the server application aborted them (crash, SO_LINGER 0, a limit) or a middlebox in front of it forgot the flow",
                            Side::Client => "the client aborted them (closed with unread data, SO_LINGER 0, a timeout) or a middlebox on its side forgot the flow",
                        }
                    ),
                )
                .with("server", server.to_string())
                .with("sent_by", side.word())
                .with("connections", s.resets_midstream)
                .with("example_client", s.reset_example.map(|a| a.to_string())),
            );
        }
        if s.keepalives > 0 {
            let unanswered = s.keepalives - s.keepalives_answered.min(s.keepalives);
            let d = if s.unanswered_keepalive_connections > 0 {
                Diagnosis::new(
                    KEEPALIVE_UNANSWERED_CODE,
                    Severity::Warning,
                    format!(
                        "{server}: {unanswered} of {} keepalive probe(s) from the {} went unanswered on {} connection(s): the {} vanished or a NAT/firewall dropped the idle flow",
                        s.keepalives,
                        side.word(),
                        s.unanswered_keepalive_connections,
                        side.peer().word()
                    ),
                )
            } else {
                Diagnosis::new(
                    KEEPALIVE_CODE,
                    Severity::Info,
                    format!(
                        "{server}: the {} sent {} keepalive probe(s) on {} idle connection(s), all answered",
                        side.word(),
                        s.keepalives,
                        s.keepalive_connections
                    ),
                )
            };
            out.push(
                d.with("server", server.to_string())
                    .with("sent_by", side.word())
                    .with("probes", s.keepalives)
                    .with("answered", s.keepalives_answered)
                    .with("connections", s.keepalive_connections)
                    .with("example_client", s.keepalive_example.map(|a| a.to_string())),
            );
        }
        if s.half_close_held > 0 {
            out.push(
                Diagnosis::new(
                    HALF_CLOSE_HELD_CODE,
                    Severity::Warning,
                    format!(
                        "{server}: the {} sent FIN on {} connection(s) and the {} did not close its side for {:.1} s or more (longest {:.1} s): the {} holds the connection in CLOSE_WAIT — its application has not closed the socket",
                        side.word(),
                        s.half_close_held,
                        side.peer().word(),
                        th.half_close_us as f64 / 1e6,
                        s.longest_half_close_us as f64 / 1e6,
                        side.peer().word()
                    ),
                )
                .with("server", server.to_string())
                .with("first_fin_by", side.word())
                .with("connections", s.half_close_held)
                .with("longest_ms", s.longest_half_close_us / 1000)
                .with("example_client", s.half_close_example.map(|a| a.to_string())),
            );
        }
        if s.closes_first > 0 {
            let span_s = s
                .first_close_us
                .map_or(0.0, |f| s.last_close_us.saturating_sub(f) as f64 / 1e6)
                .max(1.0);
            let rate = s.closes_first as f64 / span_s;
            let pile = (rate * TIME_WAIT_S).round() as u64;
            if s.closes_first >= th.time_wait_min && rate >= th.time_wait_rate {
                out.push(
                    Diagnosis::new(
                        TIME_WAIT_CHURN_CODE,
                        if side == Side::Client { Severity::Warning } else { Severity::Info },
                        format!(
                            "{server}: the {} closed {} connection(s) first at {:.1}/s, which keeps about {pile} sockets in TIME_WAIT on the {} ({}){}",
                            side.word(),
                            s.closes_first,
                            rate,
                            side.word(),
                            match side {
                                Side::Client => "each holds a local port towards this server for 60 s",
                                Side::Server => "memory only: they share the listening port",
                            },
                            if side == Side::Client { "; reuse connections (keep-alive, pooling)" } else { "" }
                        ),
                    )
                    .with("server", server.to_string())
                    .with("closed_by", side.word())
                    .with("closes", s.closes_first)
                    .with("per_second", round1(rate))
                    .with("time_wait_estimate", pile),
                );
            }
            if side == Side::Server {
                out.push(
                    Diagnosis::new(
                        SERVER_CLOSES_FIRST_CODE,
                        Severity::Info,
                        format!(
                            "{server} sent the first FIN on {} of {} connection(s): the server holds their TIME_WAIT (60 s each), not the clients",
                            s.closes_first, t.connections
                        ),
                    )
                    .with("server", server.to_string())
                    .with("connections", s.closes_first)
                    .with("client_closed_first", t.client.closes_first),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn nothing_seen_is_no_connections() {
        let d = diagnose(&[], &CaptureFacts::default(), &Thresholds::default());
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, NO_CONNECTIONS_CODE);
    }

    #[test]
    fn unanswered_syns_next_to_answered_ones_mean_a_full_queue() {
        let server = addr("198.18.1.2:80");
        let mut ok = ConnectionFacts::new(addr("198.18.0.1:40000"), server, 0);
        ok.syns = 1;
        ok.synacks = 1;
        ok.handshake_done = true;
        let mut lost = ConnectionFacts::new(addr("198.18.0.1:40001"), server, 0);
        lost.syns = 3;
        lost.observed_until_us = 3_000_000;
        let d = diagnose(
            &[ok, lost],
            &CaptureFacts::default(),
            &Thresholds::default(),
        );
        let f = d
            .iter()
            .find(|d| d.code == SYN_UNANSWERED_CODE)
            .expect("finding");
        assert_eq!(f.evidence["cause"], "syn_queue_full");
        assert_eq!(f.severity, Severity::Warning);
    }

    #[test]
    fn the_server_tally_is_capped() {
        let th = Thresholds::default();
        let mut t = WatchTally::new();
        for i in 0..(MAX_SERVERS as u32 + 10) {
            let server = SocketAddr::from(([198, 18, (i >> 8) as u8, i as u8], 80));
            t.add(
                &ConnectionFacts::new(addr("198.18.200.1:40000"), server, 0),
                &th,
            );
        }
        assert_eq!(t.servers.len(), MAX_SERVERS);
        assert_eq!(t.overflow, 10);
        let d = t.diagnoses(&CaptureFacts::default(), &th);
        assert!(d.iter().any(|d| d.code == UNTRACKED_CODE));
    }
}
