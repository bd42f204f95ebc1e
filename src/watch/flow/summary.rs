//! The per-connection record of the closing table and of `--json`: what
//! one connection did, in the words and units a person reads.

use crate::diagnose::watch::{ConnectionFacts, Side};
use std::net::SocketAddr;

/// One connection as the closing table shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct FlowRecord {
    /// The connecting end (the SYN sender).
    pub client: SocketAddr,
    /// The listening end.
    pub server: SocketAddr,
    /// The capture started mid-flow: client and server were guessed from
    /// the ports.
    pub sides_inferred: bool,
    /// First segment, µs since the epoch.
    pub start_us: u64,
    /// First to last segment, ms.
    pub duration_ms: f64,
    /// SYNs sent (more than 1: retransmitted).
    pub syns: u32,
    /// SYN-ACKs sent (more than 1: retransmitted).
    pub synacks: u32,
    /// SYN → SYN-ACK, ms: from the capture point to the server and back
    /// plus the server's time to answer (the whole round trip when
    /// captured on the client).
    pub syn_to_synack_ms: Option<f64>,
    /// SYN-ACK → ACK, ms: from the capture point to the client and back
    /// (the whole round trip when captured on the server).
    pub synack_to_ack_ms: Option<f64>,
    /// Payload bytes client → server (sequence space, each byte once).
    pub bytes_to_server: u64,
    /// Payload bytes server → client.
    pub bytes_to_client: u64,
    /// Segments client → server.
    pub segments_to_server: u64,
    /// Segments server → client.
    pub segments_to_client: u64,
    /// Data segments the client resent.
    pub retransmitted_to_server: u64,
    /// Data segments the server resent.
    pub retransmitted_to_client: u64,
    /// Who sent the first FIN (`client` or `server`): that end holds TIME_WAIT.
    pub first_fin: Option<String>,
    /// Who sent an RST.
    pub reset_by: Option<String>,
    /// How it ended, in a few words (`closed, client first`, `refused (RST to SYN)`…).
    pub ended: String,
}

fn ms(us: u64) -> f64 {
    (us as f64 / 1000.0 * 1000.0).round() / 1000.0
}

impl FlowRecord {
    /// The record of a finished connection.
    pub fn from_facts(f: &ConnectionFacts) -> FlowRecord {
        FlowRecord {
            client: f.client,
            server: f.server,
            sides_inferred: f.sides_inferred,
            start_us: f.start_us,
            duration_ms: ms(f.last_us.saturating_sub(f.start_us)),
            syns: f.syns,
            synacks: f.synacks,
            syn_to_synack_ms: f.syn_to_synack_us.map(ms),
            synack_to_ack_ms: f.synack_to_ack_us.map(ms),
            bytes_to_server: f.client_side.bytes,
            bytes_to_client: f.server_side.bytes,
            segments_to_server: f.client_side.segments,
            segments_to_client: f.server_side.segments,
            retransmitted_to_server: f.client_side.retransmitted_segments,
            retransmitted_to_client: f.server_side.retransmitted_segments,
            first_fin: f.first_fin.map(|s| Side::word(s).to_string()),
            reset_by: f.reset_by.map(|s| s.word().to_string()),
            ended: f.ending(),
        }
    }
}
