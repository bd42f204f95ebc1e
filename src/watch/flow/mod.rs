//! Per-connection tracking of TCP segments seen on the wire: handshake,
//! data, teardown, and what they show is going wrong. Pure: it reads
//! decoded segments, never a socket or a file.

mod conn;
pub mod render;
mod seq;
mod summary;
mod table;

pub use summary::FlowRecord;

use crate::diagnose::watch::{CaptureFacts, Thresholds, WatchTally};
use conn::Connection;
use std::net::SocketAddr;
use table::{FlowKey, FlowTable, Gone};

/// One TCP segment as the flow tracker needs it; the capture and pcap
/// reader decode packets into this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Capture time, microseconds since the Unix epoch.
    pub ts_us: u64,
    /// Sender address and port.
    pub src: SocketAddr,
    /// Receiver address and port.
    pub dst: SocketAddr,
    /// TCP flags byte (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20, ECE 0x40, CWR 0x80).
    pub flags: u8,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number (meaningful with ACK).
    pub ack: u32,
    /// Window field as sent (unscaled).
    pub window: u16,
    /// Window scale option, on SYN and SYN-ACK only.
    pub window_scale: Option<u8>,
    /// MSS option, on SYN and SYN-ACK only.
    pub mss: Option<u16>,
    /// TCP payload length on the wire (not the captured part).
    pub payload_len: u32,
    /// IP TTL / hop limit of the packet.
    pub ttl: u8,
}

/// Something worth printing the moment it happens on one connection
/// (handshake done, reset, teardown step); `--jsonl` emits each one.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct FlowEvent {
    /// Event kind, e.g. `handshake`, `reset`, `fin`, `closed`.
    pub kind: String,
    /// Capture time of the segment that caused it, µs since the epoch.
    pub ts_us: u64,
    /// Client side of the connection (the SYN sender when seen).
    pub client: SocketAddr,
    /// Server side.
    pub server: SocketAddr,
    /// One line a person reads.
    pub text: String,
}

/// What all connections seen amount to, for the end of the report.
#[derive(Debug, Clone, Default, serde::Serialize, schemars::JsonSchema)]
pub struct FlowSummary {
    /// Connections seen (TCP flows keyed by the two endpoints).
    pub connections: u64,
    /// Findings over all connections.
    pub diagnoses: Vec<crate::diagnose::Diagnosis>,
    /// One record per connection, in the order they started (the first
    /// `max_records` to finish; the rest are only counted).
    pub flows: Vec<FlowRecord>,
    /// Connections followed but left out of `flows` (over `max_records`).
    pub flows_omitted: u64,
    /// New flows not followed because `max_flows` were followed already.
    pub untracked_flows: u64,
    /// Segments of flows not followed.
    pub untracked_segments: u64,
}

/// Limits and timings of the tracker; the defaults suit both a live
/// capture and a saved one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlowConfig {
    /// A flow with no segment for this long is ended (`expired`), µs.
    pub idle_timeout_us: u64,
    /// A closed flow is kept this long for stray segments, µs.
    pub closed_linger_us: u64,
    /// Most flows followed at once; new ones past it are only counted.
    pub max_flows: usize,
    /// Most per-connection records kept for the closing table.
    pub max_records: usize,
    /// Silence before a segment at snd.nxt − 1 counts as a keepalive probe, µs.
    pub keepalive_idle_us: u64,
    /// At most one `retransmit` event per direction of a flow this often, µs.
    pub retransmit_event_gap_us: u64,
    /// Where the diagnosis rules draw their lines.
    pub thresholds: Thresholds,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            idle_timeout_us: 120_000_000,
            closed_linger_us: 2_000_000,
            max_flows: 65_536,
            max_records: 1_000,
            keepalive_idle_us: 1_000_000,
            retransmit_event_gap_us: 1_000_000,
            thresholds: Thresholds::default(),
        }
    }
}

/// How often (capture time) the tracker sweeps idle and closed flows by
/// itself, so a saved capture read without `expire` calls stays bounded.
const SWEEP_EVERY_US: u64 = 1_000_000;

/// Follows every TCP connection in a capture; bounded memory (idle flows
/// expire, at most `max_flows` at once, per-server totals for the rules).
#[derive(Debug)]
pub struct FlowTracker {
    config: FlowConfig,
    table: FlowTable,
    tally: WatchTally,
    records: Vec<FlowRecord>,
    records_omitted: u64,
    connections: u64,
    untracked_flows: u64,
    untracked_segments: u64,
    last_us: u64,
    next_sweep_us: u64,
}

impl Default for FlowTracker {
    fn default() -> Self {
        Self::new()
    }
}

impl FlowTracker {
    /// A tracker with nothing seen yet.
    pub fn new() -> Self {
        Self::with_config(FlowConfig::default())
    }

    /// A tracker with other limits or timings.
    pub fn with_config(config: FlowConfig) -> Self {
        FlowTracker {
            config,
            table: FlowTable::new(config.max_flows.max(1)),
            tally: WatchTally::new(),
            records: Vec::new(),
            records_omitted: 0,
            connections: 0,
            untracked_flows: 0,
            untracked_segments: 0,
            last_us: 0,
            next_sweep_us: 0,
        }
    }

    /// Flows followed right now.
    pub fn active(&self) -> usize {
        self.table.len()
    }

    /// Feeds one segment in capture order; returns the events it completes.
    pub fn observe(&mut self, segment: &Segment) -> Vec<FlowEvent> {
        let mut events = Vec::new();
        if segment.src == segment.dst {
            self.untracked_segments += 1;
            return events;
        }
        let ts = segment.ts_us;
        self.last_us = self.last_us.max(ts);
        if ts >= self.next_sweep_us {
            events.extend(self.sweep(ts));
            self.next_sweep_us = ts.saturating_add(SWEEP_EVERY_US);
        }
        let key = FlowKey::of(segment.src, segment.dst);
        let renewed = self
            .table
            .get_mut(&key)
            .is_some_and(|conn| conn.is_new_connection(segment));
        if renewed {
            if let Some(old) = self.table.remove(&key) {
                self.retire(old, ts, false);
            }
        }
        if self.table.get_mut(&key).is_none() {
            if let Err(conn) = self.table.insert(key, Connection::new(segment)) {
                drop(conn);
                if segment.flags & (conn::SYN | conn::ACK) == conn::SYN {
                    self.untracked_flows += 1;
                }
                self.untracked_segments += 1;
                return events;
            }
            self.connections += 1;
        }
        if let Some(conn) = self.table.get_mut(&key) {
            conn.on_segment(segment, &self.config, &mut events);
        }
        events
    }

    /// Ends flows idle since before `now_us`; call about once a second live.
    pub fn expire(&mut self, now_us: u64) -> Vec<FlowEvent> {
        self.sweep(now_us)
    }

    fn sweep(&mut self, now_us: u64) -> Vec<FlowEvent> {
        let mut events = Vec::new();
        let over = self.table.sweep(
            now_us,
            self.config.closed_linger_us,
            self.config.idle_timeout_us,
        );
        for (conn, why) in over {
            if why == Gone::Idle {
                events.push(FlowEvent {
                    kind: "expired".into(),
                    ts_us: now_us,
                    client: conn.client,
                    server: conn.server,
                    text: format!(
                        "no segment for {:.0} s: no longer followed ({})",
                        now_us.saturating_sub(conn.last_us) as f64 / 1e6,
                        if conn.closed_us.is_some() {
                            "closed"
                        } else {
                            "still open"
                        }
                    ),
                });
            }
            self.retire(conn, now_us, false);
        }
        events
    }

    /// Folds a finished connection into the totals and the records.
    fn retire(&mut self, conn: Connection, until_us: u64, at_end: bool) {
        let facts = conn.into_facts(until_us, at_end);
        self.tally.add(&facts, &self.config.thresholds);
        if self.records.len() < self.config.max_records {
            self.records.push(FlowRecord::from_facts(&facts));
        } else {
            self.records_omitted += 1;
        }
    }

    /// The summary and diagnoses once the capture ends.
    pub fn finish(mut self) -> FlowSummary {
        let end = self.last_us;
        let left: Vec<Connection> = self.table.drain().collect();
        for conn in left {
            self.retire(conn, end, true);
        }
        let capture = CaptureFacts {
            untracked_flows: self.untracked_flows,
            max_flows: self.table.max(),
        };
        let diagnoses = self.tally.diagnoses(&capture, &self.config.thresholds);
        self.records
            .sort_by_key(|r| (r.start_us, r.client, r.server));
        FlowSummary {
            connections: self.connections,
            diagnoses,
            flows: self.records,
            flows_omitted: self.records_omitted,
            untracked_flows: self.untracked_flows,
            untracked_segments: self.untracked_segments,
        }
    }
}

#[cfg(test)]
mod tests;
