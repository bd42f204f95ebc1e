//! One TCP connection followed segment by segment: handshake, data in
//! each direction (sequence-space aware), windows, keepalives and teardown.
//! It emits events as things happen and hands its facts to the diagnosis
//! rules when the tracker stops following it.

use super::seq;
use super::{FlowConfig, FlowEvent, Segment};
use crate::diagnose::watch::{ConnectionFacts, Side, SideFacts};
use std::net::SocketAddr;

/// TCP flag bits.
pub(super) const FIN: u8 = 0x01;
pub(super) const SYN: u8 = 0x02;
pub(super) const RST: u8 = 0x04;
pub(super) const ACK: u8 = 0x10;

/// What one end has sent so far and what the trackers need to judge the
/// next segment it sends.
#[derive(Debug, Default)]
struct Half {
    /// Initial sequence number (from its SYN).
    isn: Option<u32>,
    /// snd.nxt as seen: the highest sequence number sent plus one.
    nxt: Option<u32>,
    /// Window scale from its SYN.
    scale: Option<u8>,
    facts: SideFacts,
    last_ack: Option<u32>,
    last_window: Option<u16>,
    dup_run: u32,
    zero_since: Option<u64>,
    /// Sequence number of its FIN.
    fin_seq: Option<u32>,
    fin_us: Option<u64>,
    fin_acked: bool,
    keepalive_pending: bool,
    retrans_event_us: Option<u64>,
    retrans_unreported: u64,
}

impl Half {
    fn end_zero_window(&mut self, at: u64) -> Option<u64> {
        let since = self.zero_since.take()?;
        let held = at.saturating_sub(since);
        self.facts.zero_window_us = self.facts.zero_window_us.saturating_add(held);
        self.facts.longest_zero_window_us = self.facts.longest_zero_window_us.max(held);
        Some(held)
    }
}

/// One connection between a client and a server endpoint.
#[derive(Debug)]
pub(super) struct Connection {
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub sides_inferred: bool,
    pub start_us: u64,
    pub last_us: u64,
    syns: u32,
    synacks: u32,
    first_syn_us: Option<u64>,
    last_syn_us: Option<u64>,
    last_synack_us: Option<u64>,
    syn_to_synack_us: Option<u64>,
    synack_to_ack_us: Option<u64>,
    handshake_done: bool,
    c: Half,
    s: Half,
    first_fin: Option<Side>,
    second_fin_us: Option<u64>,
    reset_by: Option<Side>,
    refused: bool,
    /// Set once the connection is over (FINs both acknowledged, or RST).
    pub closed_us: Option<u64>,
}

/// Microseconds as milliseconds with three decimals, for event text.
fn ms(us: u64) -> String {
    format!("{:.3} ms", us as f64 / 1000.0)
}

/// Guesses which endpoint of a flow seen mid-stream is the server: a
/// well-known port, else a port outside the ephemeral range, else the
/// lower port.
pub(super) fn server_of(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    let rank = |p: u16| -> (u8, u16) {
        let class = if p < 1024 {
            0
        } else if p < 32768 {
            1
        } else {
            2
        };
        (class, p)
    };
    if rank(a.port()) <= rank(b.port()) {
        (b, a)
    } else {
        (a, b)
    }
}

impl Connection {
    /// Starts following a flow at its first segment: the SYN sender is the
    /// client, a SYN-ACK sender the server, otherwise the ports decide.
    pub fn new(first: &Segment) -> Connection {
        let syn = first.flags & (SYN | ACK | RST) == SYN;
        let synack = first.flags & (SYN | ACK | RST) == SYN | ACK;
        let (client, server, inferred) = if syn {
            (first.src, first.dst, false)
        } else if synack {
            (first.dst, first.src, false)
        } else {
            let (client, server) = server_of(first.src, first.dst);
            (client, server, true)
        };
        Connection {
            client,
            server,
            sides_inferred: inferred,
            start_us: first.ts_us,
            last_us: first.ts_us,
            syns: 0,
            synacks: 0,
            first_syn_us: None,
            last_syn_us: None,
            last_synack_us: None,
            syn_to_synack_us: None,
            synack_to_ack_us: None,
            handshake_done: false,
            c: Half::default(),
            s: Half::default(),
            first_fin: None,
            second_fin_us: None,
            reset_by: None,
            refused: false,
            closed_us: None,
        }
    }

    /// A SYN on this flow's endpoints that opens a new connection (port
    /// reuse) rather than retransmitting this one's.
    pub fn is_new_connection(&self, seg: &Segment) -> bool {
        if seg.flags & (SYN | ACK | RST) != SYN {
            return false;
        }
        let over = self.closed_us.is_some() || self.reset_by.is_some() || self.refused;
        let other_isn = self.c.isn.is_some_and(|isn| isn != seg.seq);
        over || (other_isn && (self.handshake_done || self.first_fin.is_some()))
            || seg.src != self.client
    }

    fn event(&self, kind: &str, ts_us: u64, text: String) -> FlowEvent {
        FlowEvent {
            kind: kind.to_string(),
            ts_us,
            client: self.client,
            server: self.server,
            text,
        }
    }

    fn halves(&mut self, side: Side) -> (&mut Half, &mut Half) {
        match side {
            Side::Client => (&mut self.c, &mut self.s),
            Side::Server => (&mut self.s, &mut self.c),
        }
    }

    fn scales_known(&self) -> bool {
        self.syns > 0 && self.synacks > 0
    }

    /// The window `raw` from `side` in bytes (scaled once both SYNs agreed
    /// on scaling).
    fn scaled(&self, side: Side, raw: u16) -> u64 {
        let (me, peer) = match side {
            Side::Client => (&self.c, &self.s),
            Side::Server => (&self.s, &self.c),
        };
        match (me.scale, peer.scale) {
            (Some(s), Some(_)) => u64::from(raw) << s.min(14),
            _ => u64::from(raw),
        }
    }

    /// Feeds one segment of this flow; pushes what it completes to `events`.
    pub fn on_segment(&mut self, seg: &Segment, cfg: &FlowConfig, events: &mut Vec<FlowEvent>) {
        let side = if seg.src == self.client {
            Side::Client
        } else {
            Side::Server
        };
        let idle_us = seg.ts_us.saturating_sub(self.last_us);
        self.last_us = self.last_us.max(seg.ts_us);
        let ts = seg.ts_us;
        self.halves(side).0.facts.segments += 1;
        let flags = seg.flags;
        if flags & RST != 0 {
            self.on_reset(side, ts, events);
            return;
        }
        if flags & SYN != 0 {
            if flags & ACK == 0 {
                self.on_syn(side, seg, events);
            } else {
                self.on_synack(side, seg, events);
            }
            return;
        }
        if side == Side::Client
            && !self.handshake_done
            && flags & ACK != 0
            && self.synacks > 0
            && self.s.isn.is_some_and(|isn| seg.ack == isn.wrapping_add(1))
        {
            self.handshake_done = true;
            self.synack_to_ack_us = self.last_synack_us.map(|t| ts.saturating_sub(t));
            let text = match (self.syn_to_synack_us, self.synack_to_ack_us) {
                (Some(a), Some(b)) => format!(
                    "SYN→SYN-ACK {} (capture point to server and back + server's answer time), SYN-ACK→ACK {} (capture point to client and back){}",
                    ms(a),
                    ms(b),
                    if self.syns > 1 {
                        format!(", after {} SYNs", self.syns)
                    } else {
                        String::new()
                    }
                ),
                (None, Some(b)) => format!("SYN not seen; SYN-ACK→ACK {}", ms(b)),
                _ => "completed".to_string(),
            };
            events.push(self.event("handshake", ts, text));
        }
        self.on_data(side, seg, idle_us, cfg, events);
        if flags & ACK != 0 {
            self.on_ack(side, seg, events);
        }
        if flags & FIN != 0 {
            self.on_fin(side, seg, events);
        }
        self.check_closed(ts, events);
    }

    fn on_reset(&mut self, side: Side, ts: u64, events: &mut Vec<FlowEvent>) {
        if self.reset_by.is_some() || self.refused || self.closed_us.is_some() {
            return;
        }
        self.closed_us = Some(ts);
        if side == Side::Server && self.syns > 0 && self.synacks == 0 && !self.handshake_done {
            self.refused = true;
            let text = format!(
                "{} answered the SYN with RST: nothing listens on port {}",
                self.server,
                self.server.port()
            );
            events.push(self.event("refused", ts, text));
            return;
        }
        self.reset_by = Some(side);
        let stage = if self.handshake_done || self.sides_inferred {
            "mid-stream"
        } else {
            "during the handshake"
        };
        let text = format!(
            "sent by the {} ({}) {stage}, after {} bytes →, {} bytes ←",
            side.word(),
            if side == Side::Client {
                self.client
            } else {
                self.server
            },
            self.c.facts.bytes,
            self.s.facts.bytes
        );
        events.push(self.event("reset", ts, text));
    }

    fn on_syn(&mut self, side: Side, seg: &Segment, events: &mut Vec<FlowEvent>) {
        if side != Side::Client {
            return; // simultaneous open: not followed
        }
        let ts = seg.ts_us;
        self.syns = self.syns.saturating_add(1);
        self.c.isn = Some(seg.seq);
        self.c.nxt = Some(seg.seq.wrapping_add(1));
        self.c.scale = seg.window_scale;
        if self.syns > 1 {
            let since = self.first_syn_us.map_or(0, |t| ts.saturating_sub(t));
            let text = format!(
                "SYN retransmitted ({} sent, {} since the first) with no answer yet",
                self.syns,
                ms(since)
            );
            events.push(self.event("syn_retransmit", ts, text));
        } else {
            self.first_syn_us = Some(ts);
        }
        self.last_syn_us = Some(ts);
    }

    fn on_synack(&mut self, side: Side, seg: &Segment, events: &mut Vec<FlowEvent>) {
        if side != Side::Server {
            return;
        }
        let ts = seg.ts_us;
        self.synacks = self.synacks.saturating_add(1);
        self.s.isn = Some(seg.seq);
        self.s.nxt = Some(seg.seq.wrapping_add(1));
        self.s.scale = seg.window_scale;
        if self.synacks == 1 {
            self.syn_to_synack_us = self.last_syn_us.map(|t| ts.saturating_sub(t));
        } else if !self.handshake_done {
            let text = format!(
                "SYN-ACK retransmitted ({} sent): the server has not received the client's final ACK",
                self.synacks
            );
            events.push(self.event("syn_retransmit", ts, text));
        }
        self.last_synack_us = Some(ts);
    }

    fn on_data(
        &mut self,
        side: Side,
        seg: &Segment,
        idle_us: u64,
        cfg: &FlowConfig,
        events: &mut Vec<FlowEvent>,
    ) {
        let ts = seg.ts_us;
        let len = seg.payload_len;
        let scales_known = self.scales_known();
        let peer_window = {
            let (_, peer) = self.halves(side);
            peer.last_window
        };
        let peer_window_scaled = peer_window.map(|w| self.scaled(side.peer(), w));
        let (me, peer) = self.halves(side);
        let nxt = *me.nxt.get_or_insert(seg.seq);
        let probe_shape = seg.flags & FIN == 0
            && len <= 1
            && seg.seq == nxt.wrapping_sub(1)
            && idle_us >= cfg.keepalive_idle_us;
        if probe_shape && peer_window != Some(0) {
            me.facts.keepalives += 1;
            me.keepalive_pending = true;
            let text = format!(
                "probe from the {} after {:.1} s idle",
                side.word(),
                idle_us as f64 / 1e6
            );
            events.push(self.event("keepalive", ts, text));
            return;
        }
        if len == 0 || probe_shape {
            return;
        }
        let end = seg.seq.wrapping_add(len);
        me.facts.data_segments += 1;
        let fresh = seq::ahead(end, nxt);
        if fresh < len {
            me.facts.retransmitted_segments += 1;
            me.facts.retransmitted_bytes += u64::from(len - fresh);
            me.retrans_unreported += 1;
        }
        // The advance of the sequence space: a gap (segments the capture
        // missed) still counts as sent, a resend does not count twice.
        me.facts.bytes += u64::from(fresh);
        me.nxt = Some(seq::max(nxt, end));
        if scales_known {
            if let (Some(a), Some(w)) = (peer.last_ack, peer_window_scaled) {
                if w > 0 && u64::from(end.wrapping_sub(a)) == w {
                    me.facts.window_full += 1;
                }
            }
        }
        let report = me.retrans_unreported > 0
            && me
                .retrans_event_us
                .is_none_or(|t| ts.saturating_sub(t) >= cfg.retransmit_event_gap_us);
        if report {
            let n = std::mem::take(&mut me.retrans_unreported);
            me.retrans_event_us = Some(ts);
            let f = &me.facts;
            let text = format!(
                "{} retransmission(s) from the {} ({} of {} data segments so far, {:.1}%)",
                n,
                side.word(),
                f.retransmitted_segments,
                f.data_segments,
                f.retransmitted_segments as f64 * 100.0 / f.data_segments.max(1) as f64
            );
            events.push(self.event("retransmit", ts, text));
        }
    }

    fn on_ack(&mut self, side: Side, seg: &Segment, events: &mut Vec<FlowEvent>) {
        let ts = seg.ts_us;
        let pure = seg.payload_len == 0 && seg.flags & (FIN | SYN | RST) == 0;
        let (me, peer) = self.halves(side);
        if peer.keepalive_pending {
            peer.keepalive_pending = false;
            peer.facts.keepalives_answered += 1;
        }
        if let Some(fin) = peer.fin_seq {
            if seq::after(seg.ack, fin) {
                peer.fin_acked = true;
            }
        }
        let outstanding = peer.nxt.is_some_and(|n| seq::after(n, seg.ack));
        if pure
            && seg.window != 0
            && outstanding
            && me.last_ack == Some(seg.ack)
            && me.last_window == Some(seg.window)
        {
            me.facts.dup_acks += 1;
            me.dup_run += 1;
            if me.dup_run == 3 {
                me.facts.dup_ack_runs += 1;
            }
        } else if me.last_ack != Some(seg.ack) {
            me.dup_run = 0;
        }
        me.last_ack = Some(match me.last_ack {
            Some(a) => seq::max(a, seg.ack),
            None => seg.ack,
        });
        me.last_window = Some(seg.window);
        if seg.window == 0 {
            if me.zero_since.is_none() {
                me.zero_since = Some(ts);
                me.facts.zero_windows += 1;
                let text = format!(
                    "advertised by the {}: its application is not reading, the {} must wait",
                    side.word(),
                    side.peer().word()
                );
                events.push(self.event("zero_window", ts, text));
            }
        } else if let Some(held) = me.end_zero_window(ts) {
            let text = format!("the {}'s window reopens after {}", side.word(), ms(held));
            events.push(self.event("zero_window", ts, text));
        }
    }

    fn on_fin(&mut self, side: Side, seg: &Segment, events: &mut Vec<FlowEvent>) {
        let ts = seg.ts_us;
        let fin_seq = seg.seq.wrapping_add(seg.payload_len);
        let (me, _) = self.halves(side);
        if me.fin_seq.is_some() {
            return;
        }
        me.fin_seq = Some(fin_seq);
        me.fin_us = Some(ts);
        me.facts.sent_fin = true;
        me.nxt = Some(me.nxt.map_or(fin_seq.wrapping_add(1), |n| {
            seq::max(n, fin_seq.wrapping_add(1))
        }));
        let text = match self.first_fin {
            None => {
                self.first_fin = Some(side);
                format!(
                    "FIN from the {} first: the {} will hold TIME_WAIT",
                    side.word(),
                    side.word()
                )
            }
            Some(first) => {
                self.second_fin_us = Some(ts);
                let since = self
                    .halves(first)
                    .0
                    .fin_us
                    .map_or(0, |t| ts.saturating_sub(t));
                format!(
                    "FIN from the {} too, {} after the {}'s",
                    side.word(),
                    ms(since),
                    first.word()
                )
            }
        };
        events.push(self.event("fin", ts, text));
    }

    fn check_closed(&mut self, ts: u64, events: &mut Vec<FlowEvent>) {
        if self.closed_us.is_some() || !(self.c.fin_acked && self.s.fin_acked) {
            return;
        }
        self.closed_us = Some(ts);
        let first = self.first_fin.map_or("?", Side::word);
        let text = format!(
            "after {:.3} s, the {first} closed first and holds TIME_WAIT; {} bytes →, {} bytes ←",
            ts.saturating_sub(self.start_us) as f64 / 1e6,
            self.c.facts.bytes,
            self.s.facts.bytes
        );
        events.push(self.event("closed", ts, text));
    }

    /// The facts for the rules once the tracker stops following the flow at
    /// `until_us`; `at_end` when the capture ended (an open zero window
    /// lasts until then) rather than the flow expiring.
    pub fn into_facts(mut self, until_us: u64, at_end: bool) -> ConnectionFacts {
        let stop = if at_end {
            until_us.max(self.last_us)
        } else {
            self.last_us
        };
        self.c.end_zero_window(stop);
        self.s.end_zero_window(stop);
        let first_fin_us = self.first_fin.and_then(|side| self.halves(side).0.fin_us);
        let half_close_us = first_fin_us.map(|f| {
            let end = self.second_fin_us.unwrap_or(if at_end {
                until_us.max(self.last_us)
            } else {
                self.last_us
            });
            end.saturating_sub(f)
        });
        let mut f = ConnectionFacts::new(self.client, self.server, self.start_us);
        f.sides_inferred = self.sides_inferred;
        f.last_us = self.last_us;
        f.observed_until_us = until_us.max(self.last_us);
        f.syns = self.syns;
        f.synacks = self.synacks;
        f.handshake_done = self.handshake_done;
        f.syn_to_synack_us = self.syn_to_synack_us;
        f.synack_to_ack_us = self.synack_to_ack_us;
        f.fin_exchange_complete = self.c.fin_acked && self.s.fin_acked;
        f.first_fin = self.first_fin;
        f.half_close_us = half_close_us;
        f.reset_by = self.reset_by;
        f.refused = self.refused;
        f.client_side = self.c.facts;
        f.server_side = self.s.facts;
        f
    }
}
