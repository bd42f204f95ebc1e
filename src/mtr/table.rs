//! Per-hop aggregation for mtr: streaming counters and RTT statistics per
//! TTL, a bounded list of the addresses seen (ECMP), constant memory however
//! many rounds run.

use crate::diagnose::path::{self, HopLoss};
use crate::hops::{HopAnswer, Names};
use crate::probe::packet::MplsLabel;
use crate::stats::{loss_pct, RttStats};
use serde::Serialize;
use std::net::IpAddr;
use std::time::Duration;

/// Most addresses kept per hop; more than this is not ECMP but churn.
const MAX_ADDRS: usize = 16;

/// One hop's running figures.
#[derive(Debug, Clone, Default)]
pub struct HopStats {
    /// TTL of the hop.
    pub ttl: u8,
    /// Probes whose fate is known.
    pub sent: u64,
    /// Probes answered.
    pub received: u64,
    /// RTT statistics of the answers.
    pub rtt: RttStats,
    /// Addresses that answered, with how often, in order of first sight.
    pub addrs: Vec<(IpAddr, u64)>,
    /// Last unreachable mark seen (`!X`, `!H`, …, `!<EPERM>` for a send
    /// this host refused).
    pub mark: Option<String>,
    /// The last answer that ended the path at this hop (an ICMP error with
    /// its sender, type and code, or a local send error), so the diagnosis
    /// can say why the path ends here and not only that it does.
    pub end: Option<HopAnswer>,
    /// The last MPLS label stack the hop quoted (RFC 4950).
    pub mpls: Vec<MplsLabel>,
}

impl HopStats {
    /// The address that answered most often.
    pub fn main_addr(&self) -> Option<IpAddr> {
        self.addrs.iter().max_by_key(|(_, n)| *n).map(|(a, _)| *a)
    }

    /// Loss in percent.
    pub fn loss_pct(&self) -> f64 {
        loss_pct(self.sent, self.received)
    }
}

/// The per-TTL table of a run.
#[derive(Debug, Clone)]
pub struct Table {
    first: u8,
    hops: Vec<HopStats>,
    /// The lowest TTL at which the path ended (target or refusal).
    pub end_ttl: Option<u8>,
    /// Whether the target itself answered at `end_ttl`.
    pub reached: bool,
}

impl Table {
    /// An empty table for TTLs `first..=max`.
    pub fn new(first: u8, max: u8) -> Table {
        Table {
            first,
            hops: (first..=max)
                .map(|ttl| HopStats {
                    ttl,
                    ..HopStats::default()
                })
                .collect(),
            end_ttl: None,
            reached: false,
        }
    }

    /// Folds one probe's result into its hop.
    pub fn record(&mut self, ttl: u8, answer: &HopAnswer, rtt: Option<Duration>) {
        let Some(hop) = ttl
            .checked_sub(self.first)
            .and_then(|i| self.hops.get_mut(usize::from(i)))
        else {
            return;
        };
        hop.sent += 1;
        if let (Some(from), Some(rtt)) = (answer.from(), rtt) {
            hop.received += 1;
            hop.rtt.add(rtt);
            let full = hop.addrs.len() >= MAX_ADDRS;
            match hop.addrs.iter_mut().find(|(a, _)| *a == from) {
                Some((_, n)) => *n += 1,
                None if !full => hop.addrs.push((from, 1)),
                None => {}
            }
        }
        if let Some(mark) = answer.mark() {
            hop.mark = Some(mark.to_string());
        }
        if let HopAnswer::LocalError { errno } = answer {
            hop.mark = Some(format!("!<{}>", crate::diagnose::path::errno_name(*errno)));
        }
        if matches!(
            answer,
            HopAnswer::Unreachable { .. } | HopAnswer::LocalError { .. }
        ) && answer.ends_path()
        {
            hop.end = Some(answer.clone());
        }
        if answer.ends_path() && self.end_ttl.is_none_or(|e| ttl <= e) {
            let dest = matches!(answer, HopAnswer::Destination { .. });
            if self.end_ttl != Some(ttl) {
                self.reached = dest;
            } else {
                self.reached |= dest;
            }
            self.end_ttl = Some(ttl);
        }
    }

    /// Keeps the label stack a hop's Time Exceeded quoted, if any.
    pub fn record_mpls(&mut self, ttl: u8, mpls: Vec<MplsLabel>) {
        let hop = ttl
            .checked_sub(self.first)
            .and_then(|i| self.hops.get_mut(usize::from(i)));
        if let Some(hop) = hop.filter(|_| !mpls.is_empty()) {
            hop.mpls = mpls;
        }
    }

    /// The TTL up to which probes are worth sending.
    pub fn limit(&self, max: u8) -> u8 {
        self.end_ttl.unwrap_or(max)
    }

    /// The hops to show: up to where the path ends, else up to the last
    /// hop that ever answered.
    pub fn shown(&self) -> &[HopStats] {
        let last = match self.end_ttl {
            Some(e) => Some(e),
            None => self
                .hops
                .iter()
                .rev()
                .find(|h| h.received > 0)
                .map(|h| h.ttl),
        };
        match last {
            Some(l) => &self.hops[..=usize::from(l - self.first)],
            None => &[],
        }
    }

    /// The shown hops as the loss rules read them.
    pub fn losses(&self) -> Vec<HopLoss> {
        self.shown()
            .iter()
            .map(|h| HopLoss {
                ttl: h.ttl,
                addr: h.main_addr(),
                sent: h.sent,
                received: h.received,
                avg_ms: h.rtt.summary().map(|s| s.avg_ms),
                end: h.end.clone(),
            })
            .collect()
    }

    /// The shown hops as reported and printed: figures, the addresses with
    /// their names as far as `names` knows them, and pathping's split.
    pub fn rows(&self, names: &Names) -> Vec<HopRow> {
        let splits = path::pathping_split(&self.losses());
        let shown = self.shown();
        let mut rows: Vec<HopRow> = shown
            .iter()
            .zip(&splits)
            .map(|(h, s)| row(h, names, s.node_lost, s.link_lost))
            .collect();
        // mtr's last `???` row: the first hop after the last that answered,
        // when the path did not end (the destination never answered).
        if self.end_ttl.is_none() && !self.reached {
            if let Some(next) = self.hops.get(shown.len()).filter(|h| h.sent > 0) {
                rows.push(row(next, names, 0, 0));
            }
        }
        rows
    }
}

/// One hop's row, with pathping's split of its losses.
fn row(h: &HopStats, names: &Names, node_lost: u64, link_lost: u64) -> HopRow {
    HopRow {
        ttl: h.ttl,
        addresses: h
            .addrs
            .iter()
            .map(|(a, n)| AddrRow {
                address: *a,
                name: names.get(*a),
                asn: names.asn(*a),
                as_name: names.as_name(*a),
                country: names.country(*a),
                count: *n,
            })
            .collect(),
        sent: h.sent,
        received: h.received,
        loss_pct: h.loss_pct(),
        rtt: HopRtt::of(&h.rtt),
        mark: h.mark.clone(),
        ended_by: h.end.clone(),
        mpls: h.mpls.clone(),
        node_lost,
        link_lost,
    }
}

/// One hop as `--json` reports it and the tables print it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct HopRow {
    /// TTL.
    pub ttl: u8,
    /// Addresses that answered (ECMP: several), with names and counts.
    pub addresses: Vec<AddrRow>,
    /// Probes sent (fate known).
    pub sent: u64,
    /// Probes answered.
    pub received: u64,
    /// Loss in percent.
    pub loss_pct: f64,
    /// RTT statistics.
    pub rtt: Option<HopRtt>,
    /// Unreachable mark, if any.
    pub mark: Option<String>,
    /// The last answer that ended the path here: the ICMP error (sender,
    /// type, code, mark) or the local send error (errno); null otherwise.
    pub ended_by: Option<HopAnswer>,
    /// The last MPLS label stack the hop quoted (RFC 4950), top first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mpls: Vec<MplsLabel>,
    /// pathping: lost at the node itself.
    pub node_lost: u64,
    /// pathping: lost on the link into this hop.
    pub link_lost: u64,
}

impl HopRow {
    /// The address that answered most often (the last of equals, as
    /// `HopStats::main_addr` picks it), with its name.
    pub fn main(&self) -> Option<&AddrRow> {
        self.addresses.iter().max_by_key(|a| a.count)
    }

    /// Probes to this hop that were lost (pathping's "Source to Here").
    pub fn lost(&self) -> u64 {
        self.sent.saturating_sub(self.received)
    }
}

/// A hop's round-trip figures as `--json` reports them. The two jitters
/// are named apart because mtr's `Jttr` is the current one and its `Javg`
/// the mean; a bare `jitter_ms` would leave readers guessing.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, schemars::JsonSchema)]
pub struct HopRtt {
    /// Most recent round trip (mtr's Last).
    pub last_ms: f64,
    /// Mean round trip (Avg).
    pub avg_ms: f64,
    /// Fastest round trip (Best).
    pub min_ms: f64,
    /// Slowest round trip (Wrst).
    pub max_ms: f64,
    /// Standard deviation (StDev).
    pub mdev_ms: f64,
    /// Current jitter, |last − previous| (Jttr).
    pub jitter_last_ms: f64,
    /// Mean jitter over the run (Javg).
    pub jitter_avg_ms: f64,
}

impl HopRtt {
    /// The figures of `stats`, or None before the first answer.
    pub fn of(stats: &RttStats) -> Option<HopRtt> {
        stats.summary().map(|s| HopRtt {
            last_ms: s.last_ms,
            avg_ms: s.avg_ms,
            min_ms: s.min_ms,
            max_ms: s.max_ms,
            mdev_ms: s.mdev_ms,
            jitter_last_ms: stats.jitter_last_ms(),
            jitter_avg_ms: s.jitter_ms,
        })
    }
}

/// One address of a hop.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AddrRow {
    /// The address.
    pub address: IpAddr,
    /// Its reverse name, when known.
    pub name: Option<String>,
    /// With `--asn`: its origin AS, when found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    /// With `--asn`: the name of that AS, when found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_name: Option<String>,
    /// With `--geoip`: its country (ISO 3166 code), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Answers from it.
    pub count: u64,
}
