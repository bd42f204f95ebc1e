//! Path rules for `trace` and `mtr`: where a trace ends and why, and the
//! loss pattern across hops — loss at one hop that later hops do not share
//! is that router rate-limiting its ICMP, loss that starts at hop k and
//! persists to the destination is where the path loses packets; the same
//! reading for latency (a step that persists vs. a spike at one hop).

use super::{icmp, Diagnosis, Severity};
use serde::Serialize;
use std::net::IpAddr;

/// What one probe says about its hop: the fact every path rule reads.
/// `trace` and `mtr` classify their probe outcomes into it (see
/// `hops::classify`); it is owned here so the rules never depend on a
/// command's types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HopAnswer {
    /// A router on the way sent Time Exceeded.
    Router {
        /// The router's address.
        from: IpAddr,
    },
    /// The target answered (echo reply, port unreachable to UDP, SYN-ACK/RST).
    Destination {
        /// The target's address.
        from: IpAddr,
    },
    /// A router or the target refused: the trace ends here with a mark.
    Unreachable {
        /// Who said so.
        from: IpAddr,
        /// traceroute's mark (`!H`, `!N`, `!X`, …).
        mark: String,
        /// ICMP type.
        icmp_type: u8,
        /// ICMP code.
        code: u8,
    },
    /// Nothing came back in time.
    Silent,
    /// The local stack refused to send.
    LocalError {
        /// errno of the failed send.
        errno: i32,
    },
}

impl HopAnswer {
    /// The address that answered, if any.
    pub fn from(&self) -> Option<IpAddr> {
        match self {
            HopAnswer::Router { from }
            | HopAnswer::Destination { from }
            | HopAnswer::Unreachable { from, .. } => Some(*from),
            HopAnswer::Silent | HopAnswer::LocalError { .. } => None,
        }
    }

    /// True when this answer ends the path: the target, a refusal, or a
    /// send this host refused for a reason that holds for every TTL (no
    /// route, a local firewall) — probing further hops would only repeat it.
    pub fn ends_path(&self) -> bool {
        match self {
            HopAnswer::Destination { .. } | HopAnswer::Unreachable { .. } => true,
            HopAnswer::LocalError { errno } => local_error_ends_path(*errno),
            HopAnswer::Router { .. } | HopAnswer::Silent => false,
        }
    }

    /// The mark printed after the RTT, if any.
    pub fn mark(&self) -> Option<&str> {
        match self {
            HopAnswer::Unreachable { mark, .. } if !mark.is_empty() => Some(mark),
            _ => None,
        }
    }
}

/// Whether a local send error holds for every TTL: no route
/// (ENETUNREACH / EHOSTUNREACH) or a local firewall (EPERM / EACCES). Other
/// errors (a full buffer, a size over the MTU) are per probe.
pub fn local_error_ends_path(errno: i32) -> bool {
    matches!(
        errno,
        libc::ENETUNREACH | libc::EHOSTUNREACH | libc::EPERM | libc::EACCES
    )
}

/// What the trace rules need to know about one probe: who answered, how
/// fast, and what the answer means (no names, no presentation).
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeFact {
    /// Who answered, if anyone.
    pub from: Option<IpAddr>,
    /// Round trip in milliseconds.
    pub rtt_ms: Option<f64>,
    /// What the answer means for the hop.
    pub answer: HopAnswer,
}

/// What the trace rules need to know about one hop: its TTL and its
/// probes in sending order.
#[derive(Debug, Clone, PartialEq)]
pub struct HopFact {
    /// TTL of the probes.
    pub ttl: u8,
    /// The probes' results.
    pub probes: Vec<ProbeFact>,
}

/// What the loss rules need to know about one hop of an mtr run.
#[derive(Debug, Clone, Serialize)]
pub struct HopLoss {
    /// TTL of the hop.
    pub ttl: u8,
    /// The address that answered most, if any.
    pub addr: Option<IpAddr>,
    /// Probes whose fate is known.
    pub sent: u64,
    /// Probes that were answered.
    pub received: u64,
    /// Mean round trip of the answers.
    pub avg_ms: Option<f64>,
    /// The last answer that ended the path at this hop (ICMP error or local
    /// send error), so mtr can say why, as trace does.
    pub end: Option<HopAnswer>,
}

impl HopLoss {
    fn rate(&self) -> f64 {
        if self.sent == 0 {
            0.0
        } else {
            self.sent.saturating_sub(self.received) as f64 / self.sent as f64
        }
    }
}

/// pathping's two loss columns for one hop.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Split {
    /// Probes to this hop that were lost ("Source to Here").
    pub source_lost: u64,
    /// Lost at the node itself: this router's own replies missing beyond
    /// what the hops after it also miss.
    pub node_lost: u64,
    /// Lost on the link into this hop: loss that appears here and persists
    /// to every later hop.
    pub link_lost: u64,
    /// Probes sent to this hop.
    pub sent: u64,
}

/// Pathping's arithmetic. With S(k) the loss rate of hop k and M(k) the
/// lowest rate at k or any later hop (the loss that persists downstream),
/// the link into k loses M(k) − M(k−1) and the node k loses S(k) − M(k);
/// counts are those rates times the probes sent to hop k.
pub fn pathping_split(hops: &[HopLoss]) -> Vec<Split> {
    let persistent = downstream_min(hops);
    let mut previous = 0.0;
    hops.iter()
        .zip(persistent)
        .map(|(h, m)| {
            let n = h.sent as f64;
            let link = (m - previous).max(0.0);
            let node = (h.rate() - m).max(0.0);
            previous = m;
            Split {
                source_lost: h.sent.saturating_sub(h.received),
                node_lost: (node * n).round() as u64,
                link_lost: (link * n).round() as u64,
                sent: h.sent,
            }
        })
        .collect()
}

/// For each hop, the lowest loss rate at it or after it.
fn downstream_min(hops: &[HopLoss]) -> Vec<f64> {
    let mut out = vec![0.0; hops.len()];
    let mut lowest = f64::INFINITY;
    for (i, h) in hops.iter().enumerate().rev() {
        lowest = lowest.min(h.rate());
        out[i] = lowest;
    }
    out
}

/// Whether a loss difference `diff` between two hops is more than sampling
/// noise when both really lose at the `base` rate (the null hypothesis): at
/// least 5 points, three standard errors of a difference of two estimates
/// (3·√2·σ), and more than one probe's worth.
fn significant(diff: f64, base: f64, n: u64) -> bool {
    if n == 0 {
        return false;
    }
    let n = n as f64;
    let sigma = (base * (1.0 - base) / n).sqrt();
    diff >= 0.05f64.max(3.0 * std::f64::consts::SQRT_2 * sigma) && diff * n >= 1.5
}

fn pct(rate: f64) -> f64 {
    (rate * 1000.0).round() / 10.0
}

fn addr_text(a: Option<IpAddr>) -> String {
    a.map(|a| a.to_string()).unwrap_or_else(|| "???".into())
}

/// The loss-pattern and latency diagnosis of an mtr run. `hops` are the
/// displayed hops in TTL order; the last is the target when `reached`.
pub fn mtr(hops: &[HopLoss], target: IpAddr, reached: bool) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    if hops.is_empty() {
        return vec![Diagnosis::new(
            "path.destination_unreachable",
            Severity::Critical,
            format!("nothing answered on the way to {target}"),
        )];
    }
    let last = hops.len() - 1;
    // This host refused to send (no route, a local firewall): no probe left,
    // so there is no loss pattern to read — one diagnosis, worded by errno.
    if !reached {
        if let Some(HopAnswer::LocalError { errno }) = hops[last].end {
            return vec![local_end("path", errno, target).with("hop", hops[last].ttl)];
        }
    }
    let persistent = downstream_min(hops);
    let dest_rate = persistent[last];
    // Loss at one hop that does not continue: rate limiting / silence.
    for (i, h) in hops.iter().enumerate().take(last) {
        let node = h.rate() - persistent[i];
        if !significant(node, persistent[i], h.sent) {
            continue;
        }
        let d = if h.received == 0 {
            Diagnosis::new(
                "path.silent_hop",
                Severity::Info,
                format!(
                    "hop {} never answers, yet later hops do: that router does not send TTL-exceeded (configured silent or filtered); traffic passes it fine",
                    h.ttl
                ),
            )
        } else {
            Diagnosis::new(
                "path.rate_limited_hop",
                Severity::Info,
                format!(
                    "hop {} ({}) loses {}% of its own replies but only {}% continues to the hops after it: that router rate-limits or deprioritises ICMP, the path through it is fine",
                    h.ttl,
                    addr_text(h.addr),
                    pct(h.rate()),
                    pct(persistent[i])
                ),
            )
        };
        out.push(
            d.with("hop", h.ttl)
                .with("address", h.addr)
                .with("loss_pct", pct(h.rate()))
                .with("downstream_loss_pct", pct(persistent[i])),
        );
    }
    // Loss that starts at hop k and persists to the end.
    let mut previous = 0.0;
    for (i, h) in hops.iter().enumerate() {
        let link = persistent[i] - previous;
        if significant(link, previous, h.sent) {
            let before = if i == 0 { None } else { hops[i - 1].addr };
            let into = match before {
                Some(b) => format!("the link from {b} into hop {}", h.ttl),
                None => format!("the link into hop {}", h.ttl),
            };
            let severity = if dest_rate >= 0.5 || !reached {
                Severity::Critical
            } else {
                Severity::Warning
            };
            let at_dest = if reached {
                format!("{}% at the destination", pct(dest_rate))
            } else {
                "the destination never answers".to_string()
            };
            out.push(
                Diagnosis::new(
                    "path.loss_from_hop",
                    severity,
                    format!(
                        "packets are lost from hop {} ({}) onward: it and every later hop lose about {}%{} of the probes ({at_dest}) — {into}, or that router, drops them",
                        h.ttl,
                        addr_text(h.addr),
                        pct(link),
                        if previous > 0.0 { " more" } else { "" }
                    ),
                )
                .with("hop", h.ttl)
                .with("address", h.addr)
                .with("previous_address", before)
                .with("link_loss_pct", pct(link))
                .with("destination_loss_pct", pct(dest_rate)),
            );
        }
        previous = persistent[i];
    }
    latency(hops, &mut out);
    let dest = &hops[last];
    if let (
        false,
        Some(HopAnswer::Unreachable {
            from,
            mark,
            icmp_type,
            code,
        }),
    ) = (reached, &dest.end)
    {
        out.push(rejected(
            "path.rejected",
            "the path",
            dest.ttl,
            *from,
            mark,
            (*icmp_type, *code),
            target,
        ));
    } else if !reached {
        out.push(
            Diagnosis::new(
                "path.destination_unreachable",
                Severity::Critical,
                format!(
                    "{target} never answered; the last hop that answers is {} ({}): packets stop after it — a firewall or a routing problem there",
                    dest.ttl,
                    addr_text(dest.addr)
                ),
            )
            .with("last_hop", dest.ttl)
            .with("last_address", dest.addr),
        );
    } else if !out.iter().any(|d| d.severity >= Severity::Warning) {
        let avg = dest
            .avg_ms
            .map(|a| format!(", avg rtt {a:.3} ms"))
            .unwrap_or_default();
        out.push(
            Diagnosis::new(
                "path.healthy",
                Severity::Ok,
                format!(
                    "{target} answers {}/{} probes ({}% loss) over {} hop(s){avg}; no hop loses traffic",
                    dest.received,
                    dest.sent,
                    pct(dest.rate()),
                    dest.ttl
                ),
            )
            .with("destination_loss_pct", pct(dest.rate()))
            .with("hops", dest.ttl),
        );
    }
    out
}

/// RTT step that persists (congestion or a long link) vs. a spike at one
/// hop only (slow ICMP generation on that router).
fn latency(hops: &[HopLoss], out: &mut Vec<Diagnosis>) {
    let answered: Vec<(&HopLoss, f64)> = hops
        .iter()
        .filter_map(|h| h.avg_ms.map(|a| (h, a)))
        .collect();
    let mut floor = vec![0.0; answered.len()];
    let mut lowest = f64::INFINITY;
    for (i, (_, a)) in answered.iter().enumerate().rev() {
        lowest = lowest.min(*a);
        floor[i] = lowest;
    }
    // A hop that answers slower than every hop after it: its own round
    // trips say nothing about the path to it.
    let spiky = |k: usize| {
        k + 1 < answered.len() && answered[k].1 - floor[k] >= 10.0f64.max(0.5 * floor[k])
    };
    let mut previous = 0.0f64;
    for (i, (h, a)) in answered.iter().enumerate() {
        let step = floor[i] - previous;
        if i > 0 && step >= 10.0f64.max(0.25 * previous) {
            // When the hop where the floor rises is itself slow to answer,
            // the step lies somewhere up to the first hop that shows it
            // plainly: name that hop and the stretch, not the spiking hop.
            let shown = (i..answered.len()).find(|&k| !spiky(k)).unwrap_or(i);
            let diagnosis = if shown == i {
                Diagnosis::new(
                    "path.latency_step",
                    Severity::Warning,
                    format!(
                        "round trips grow by {step:.1} ms at hop {} ({}) and stay higher to the destination: congestion or a long link into that hop",
                        h.ttl,
                        addr_text(h.addr)
                    ),
                )
                .with("hop", h.ttl)
            } else {
                let (before, shown) = (answered[i - 1].0, answered[shown].0);
                Diagnosis::new(
                    "path.latency_step",
                    Severity::Warning,
                    format!(
                        "round trips grow by {step:.1} ms between hop {} ({}) and hop {} ({}) and stay higher to the destination: congestion or a long link on that stretch (hop {} answers too slowly itself to tell which of its links)",
                        before.ttl,
                        addr_text(before.addr),
                        shown.ttl,
                        addr_text(shown.addr),
                        h.ttl
                    ),
                )
                .with("hop", shown.ttl)
                .with("after_hop", before.ttl)
            };
            out.push(diagnosis.with("step_ms", step));
        }
        let spike = a - floor[i];
        if i + 1 < answered.len() && spike >= 10.0f64.max(0.5 * floor[i]) {
            out.push(
                Diagnosis::new(
                    "path.latency_spike",
                    Severity::Info,
                    format!(
                        "hop {} ({}) answers {spike:.1} ms slower than the hops after it: it is slow to generate ICMP, not slow to forward — traffic does not see it",
                        h.ttl,
                        addr_text(h.addr)
                    ),
                )
                .with("hop", h.ttl)
                .with("spike_ms", spike),
            );
        }
        previous = floor[i];
    }
}

/// The diagnosis of one trace: reached, refused (with the ICMP meaning),
/// or lost after the last hop that answered; silent hops noted.
pub fn trace(hops: &[HopFact], target: IpAddr, max: u8) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    let Some(last) = hops.last() else {
        return vec![Diagnosis::new(
            "trace.incomplete",
            Severity::Critical,
            format!("no hop was probed on the way to {target}"),
        )];
    };
    let answered = |h: &HopFact| h.probes.iter().any(|p| p.from.is_some());
    let silent = |h: &HopFact| h.probes.iter().all(|p| p.answer == HopAnswer::Silent);
    for h in &hops[..hops.len() - 1] {
        if let Some(errno) = h.probes.iter().find_map(|p| match p.answer {
            HopAnswer::LocalError { errno } => Some(errno),
            _ => None,
        }) {
            out.push(
                Diagnosis::new(
                    "trace.send_failed",
                    Severity::Warning,
                    format!(
                        "this host refused to send some probes of hop {} ({}): {}",
                        h.ttl,
                        strerror(errno),
                        errno_meaning(errno)
                    ),
                )
                .with("hop", h.ttl)
                .with("errno", errno)
                .with("errno_name", errno_name(errno)),
            );
        } else if silent(h) && hops.iter().any(|l| l.ttl > h.ttl && answered(l)) {
            out.push(silent_hop(h.ttl));
        }
    }
    let reached = last
        .probes
        .iter()
        .find(|p| matches!(p.answer, HopAnswer::Destination { .. }));
    let refused = last.probes.iter().find_map(|p| match &p.answer {
        HopAnswer::Unreachable {
            from,
            mark,
            icmp_type,
            code,
        } => Some((*from, mark.clone(), *icmp_type, *code)),
        _ => None,
    });
    let rtts: Vec<f64> = last.probes.iter().filter_map(|p| p.rtt_ms).collect();
    let rtt = if rtts.is_empty() {
        String::new()
    } else {
        format!(
            ", rtt {:.3} ms",
            rtts.iter().sum::<f64>() / rtts.len() as f64
        )
    };
    if reached.is_some() {
        out.push(
            Diagnosis::new(
                "trace.reached",
                Severity::Ok,
                format!(
                    "reached {target} at hop {} ({} router(s) between){rtt}",
                    last.ttl,
                    last.ttl.saturating_sub(1)
                ),
            )
            .with("hops", last.ttl),
        );
    } else if let Some((from, mark, t, c)) = refused {
        out.push(rejected(
            "trace.unreachable",
            "the trace",
            last.ttl,
            from,
            &mark,
            (t, c),
            target,
        ));
    } else if let Some(err) = last.probes.iter().find_map(|p| match p.answer {
        HopAnswer::LocalError { errno } => Some(errno),
        _ => None,
    }) {
        out.push(local_end("trace", err, target).with("hop", last.ttl));
    } else {
        let last_answer = hops
            .iter()
            .rev()
            .find_map(|h| h.probes.iter().find_map(|p| p.from).map(|a| (h.ttl, a)));
        let summary = match last_answer {
            Some((ttl, addr)) => format!(
                "{target} did not answer within {max} hops; the last hop that answered is {ttl} ({addr}): probes are dropped after it — a firewall beyond it, or the target filters this probe type (try --tcp -p PORT or --udp)"
            ),
            None => format!(
                "no hop answered on the way to {target}: the first router or this host's firewall drops the probes or their answers"
            ),
        };
        out.push(
            Diagnosis::new("trace.incomplete", Severity::Critical, summary)
                .with("last_hop", last_answer.map(|(t, _)| t))
                .with("last_address", last_answer.map(|(_, a)| a)),
        );
    }
    out
}

/// The diagnosis of Paris flows that met different routers at some hops:
/// the path load-balances (ECMP). `split` holds each such TTL with its
/// addresses, `agreed` the hops every flow shared (TTL and address), so the
/// text can say where the paths split and join again. None with no split.
pub fn ecmp(split: &[(u8, Vec<IpAddr>)], agreed: &[(u8, IpAddr)], flows: u16) -> Option<Diagnosis> {
    let (first, addrs) = split.first()?;
    let last = split.last().map(|(t, _)| *t).unwrap_or(*first);
    let widest = split.iter().map(|(_, a)| a.len()).max().unwrap_or(0);
    let before = agreed.iter().rev().find(|(t, _)| t < first);
    let after = agreed.iter().find(|(t, _)| *t > last);
    let list: Vec<String> = addrs.iter().map(IpAddr::to_string).collect();
    let mut summary = format!(
        "the path load-balances (ECMP): {flows} flows met {} different routers at hop {first} ({})",
        addrs.len(),
        list.join(", ")
    );
    if let Some((t, a)) = before {
        summary.push_str(&format!("; the paths split after hop {t} ({a})"));
    }
    if let Some((t, a)) = after {
        summary.push_str(&format!(" and join again at hop {t} ({a})"));
    }
    summary.push_str(
        "; each flow stays on one branch (Paris probes), so one trace is one real path — compare the branches when one of them loses packets",
    );
    Some(
        Diagnosis::new("path.ecmp", Severity::Info, summary)
            .with("split_after", before.map(|(t, _)| *t))
            .with("join_at", after.map(|(t, _)| *t))
            .with("first_hop", *first)
            .with("last_hop", last)
            .with("branches", widest),
    )
}

/// The diagnosis of answers that came back over more or fewer hops than
/// the probes went out (`backs`: TTL, address, hops back per hop): the
/// return path differs (asymmetric routing). Names the first such hop.
pub fn asymmetric(backs: &[(u8, IpAddr, u16)]) -> Option<Diagnosis> {
    let odd: Vec<&(u8, IpAddr, u16)> = backs
        .iter()
        .filter(|(ttl, _, back)| *back != u16::from(*ttl))
        .collect();
    let (ttl, addr, back) = **odd.first()?;
    let how = if back > u16::from(ttl) {
        "longer"
    } else {
        "shorter"
    };
    let list: Vec<String> = odd.iter().map(|(t, _, _)| t.to_string()).collect();
    Some(
        Diagnosis::new(
            "path.asymmetric",
            Severity::Info,
            format!(
                "answers from hop {ttl} ({}) come back over {back} hops: the return path is {how} than the way out (asymmetric routing; hops {} differ) — common and not a fault, but loss or latency seen at those hops may come from the way back",
                addr_text(Some(addr)),
                list.join(", ")
            ),
        )
        .with("hop", ttl)
        .with("back_hops", back)
        .with("hops", odd.iter().map(|(t, _, _)| *t).collect::<Vec<u8>>()),
    )
}

/// The path MTU `trace --mtu` found (`first`: the route's MTU probing
/// started at; `drop`: the first hop past the smallest link, its MTU, and
/// the router before it that reported it).
pub fn mtu(
    first: u32,
    found: Option<u32>,
    drop: Option<(u8, u32, Option<IpAddr>)>,
    target: IpAddr,
) -> Diagnosis {
    let Some(mtu) = found else {
        return Diagnosis::new(
            "path.mtu",
            Severity::Warning,
            format!(
                "no answer from {target} to DF probes of {} bytes and no Fragmentation Needed / Packet Too Big: the path MTU is unknown — a smaller link whose ICMP is filtered (PMTU black hole) or a target that ignores large echoes; `netdx ping -s SIZE {target}` with smaller sizes finds what passes",
                drop.map(|(_, m, _)| m).unwrap_or(first)
            ),
        )
        .with("first_mtu", first);
    };
    let d = match drop {
        Some((hop, m, reporter)) => Diagnosis::new(
            "path.mtu",
            Severity::Info,
            format!(
                "the path MTU to {target} is {mtu} bytes: it drops from {first} to {m} at hop {hop}, on the link after {} (which reported Fragmentation Needed / Packet Too Big) — packets over {mtu} bytes need fragmentation or a smaller MSS",
                addr_text(reporter)
            ),
        )
        .with("hop", hop)
        .with("reported_by", addr_text(reporter)),
        None if mtu < first => Diagnosis::new(
            "path.mtu",
            Severity::Info,
            format!("the path MTU to {target} is {mtu} bytes (below this host's {first}; the kernel already knew it, or the hop that reported it did not answer the trace)"),
        ),
        None => Diagnosis::new(
            "path.mtu",
            Severity::Info,
            format!("the path MTU to {target} is {mtu} bytes, this host's route MTU: no link on the path is smaller"),
        ),
    };
    d.with("mtu", mtu).with("first_mtu", first)
}

/// A hop that never answered while later hops did.
fn silent_hop(ttl: u8) -> Diagnosis {
    Diagnosis::new(
        "path.silent_hop",
        Severity::Info,
        format!(
            "hop {ttl} never answered but the trace went on past it: that router does not send TTL-exceeded (configured silent or filtered); not a fault by itself"
        ),
    )
    .with("hop", ttl)
}

/// strerror without Rust's " (os error N)" tail: "Network is unreachable".
fn strerror(errno: i32) -> String {
    match super::errno::by_number(errno) {
        Some(e) => e.message.to_string(),
        None => std::io::Error::from_raw_os_error(errno)
            .to_string()
            .split(" (os error")
            .next()
            .unwrap_or_default()
            .to_string(),
    }
}

/// The symbolic name (`ENETUNREACH`), or the number when unknown; also
/// the `!<EPERM>` mark trace and mtr print for a send this host refused.
pub fn errno_name(errno: i32) -> String {
    super::errno::by_number(errno)
        .map(|e| e.name.to_string())
        .unwrap_or_else(|| errno.to_string())
}

/// What an errno means, from the errno table (the one source of words).
fn errno_meaning(errno: i32) -> String {
    super::errno::by_number(errno)
        .map(|e| e.meaning.to_string())
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "a local problem on this host".to_string())
}

/// The one diagnosis of a path this host ended itself, worded by errno: no
/// route (ENETUNREACH / EHOSTUNREACH) is `PREFIX.no_route`, a local
/// firewall (EPERM / EACCES) or anything else is `PREFIX.send_failed`.
/// `prefix` is `trace` or `path`, so trace and mtr say the same thing.
pub fn local_end(prefix: &str, errno: i32, target: IpAddr) -> Diagnosis {
    let text = strerror(errno);
    let (code, summary) = match errno {
        libc::ENETUNREACH | libc::EHOSTUNREACH => (
            "no_route",
            format!(
                "this host has no route to {target} ({text}): check `ip route get {target}` (a missing default route, an interface down, or an `unreachable` route)"
            ),
        ),
        libc::EPERM | libc::EACCES => (
            "send_failed",
            format!(
                "this host refuses to send the probes to {target} ({text}): a local firewall rule (nft/iptables output chain) or a `prohibit` route rejects them — check `nft list ruleset` and `ip route get {target}`"
            ),
        ),
        _ => (
            "send_failed",
            format!(
                "the local stack refused to send to {target} ({text}): {}",
                errno_meaning(errno)
            ),
        ),
    };
    Diagnosis::new(&format!("{prefix}.{code}"), Severity::Critical, summary)
        .with("errno", errno)
        .with("errno_name", errno_name(errno))
}

/// The diagnosis of a path ended by an ICMP error, in the words of the ICMP
/// table (the one source of words) and naming the sender; shared by trace
/// (`trace.unreachable`) and mtr (`path.rejected`). `what` names the thing
/// that ended ("the trace", "the path").
pub fn rejected(
    code: &str,
    what: &str,
    ttl: u8,
    from: IpAddr,
    mark: &str,
    (t, c): (u8, u8),
    target: IpAddr,
) -> Diagnosis {
    let info = icmp::lookup(target.is_ipv6(), t, c);
    let name = info.map(|i| i.name).unwrap_or("an ICMP error");
    let meaning = info.map(|i| i.meaning).unwrap_or("");
    let who = if from == target {
        format!("the target itself ({from})")
    } else {
        format!("hop {ttl} ({from})")
    };
    let mark_text = if mark.is_empty() {
        String::new()
    } else {
        format!(" {mark}")
    };
    Diagnosis::new(
        code,
        Severity::Critical,
        format!("{what} ended at {who}: {name}{mark_text} (icmp {t}/{c}) — {meaning}"),
    )
    .with("hop", ttl)
    .with("from", from)
    .with("icmp_type", t)
    .with("code", c)
    .with("mark", mark)
}

/// The diagnosis of a trace stopped by Ctrl-C before the destination
/// answered: not a verdict on the path (the silent hops were not waited
/// out), only how far it got.
pub fn trace_interrupted(hops: &[HopFact], target: IpAddr) -> Vec<Diagnosis> {
    let last_answer = hops
        .iter()
        .rev()
        .find_map(|h| h.probes.iter().find_map(|p| p.from).map(|a| (h.ttl, a)));
    let seen = hops
        .iter()
        .filter(|h| h.probes.iter().any(|p| p.from.is_some()))
        .count();
    let summary = match last_answer {
        Some((ttl, addr)) => format!(
            "the trace was interrupted before {target} answered: {seen} hop(s) answered, the last was hop {ttl} ({addr}); the hops after it were not waited out — run it again with a shorter -w to see where the path ends"
        ),
        None => format!(
            "the trace was interrupted before any hop answered on the way to {target}; run it again and let it finish (a shorter -w ends it sooner)"
        ),
    };
    let mut out = vec![
        Diagnosis::new("trace.interrupted", Severity::Warning, summary)
            .with("hops_seen", seen)
            .with("last_hop", last_answer.map(|(t, _)| t))
            .with("last_address", last_answer.map(|(_, a)| a)),
    ];
    // A hop with no answer before one that answered stays a silent hop,
    // however early the trace was stopped.
    if let Some((last, _)) = last_answer {
        out.extend(
            hops.iter()
                .filter(|h| h.ttl < last && h.probes.iter().all(|p| p.answer == HopAnswer::Silent))
                .map(|h| silent_hop(h.ttl)),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(ttl: u8, sent: u64, received: u64, avg: f64) -> HopLoss {
        HopLoss {
            ttl,
            addr: Some(IpAddr::from([198, 18, ttl - 1, 2])),
            sent,
            received,
            avg_ms: (received > 0).then_some(avg),
            end: None,
        }
    }

    fn codes(d: &[Diagnosis]) -> Vec<(&str, Option<u64>)> {
        d.iter()
            .map(|d| {
                (
                    d.code.as_str(),
                    d.evidence.get("hop").and_then(|v| v.as_u64()),
                )
            })
            .collect()
    }

    #[test]
    fn no_route_and_firewall_errors_end_the_path_others_do_not() {
        for errno in [
            libc::ENETUNREACH,
            libc::EHOSTUNREACH,
            libc::EPERM,
            libc::EACCES,
        ] {
            assert!(HopAnswer::LocalError { errno }.ends_path(), "{errno}");
        }
        for errno in [libc::EMSGSIZE, libc::ENOBUFS] {
            assert!(!HopAnswer::LocalError { errno }.ends_path(), "{errno}");
        }
    }

    #[test]
    fn pathping_split_matches_microsofts_example() {
        // The example of the pathping documentation: source-to-here losses
        // 0, 16, 13, 14, 13 of 100 give links 0, 13, 0, 0, 0 and nodes
        // 0, 3, 0, 1, 0.
        let hops: Vec<HopLoss> = [0u64, 16, 13, 14, 13]
            .iter()
            .enumerate()
            .map(|(i, lost)| hop(i as u8 + 1, 100, 100 - lost, 20.0))
            .collect();
        let split = pathping_split(&hops);
        let links: Vec<u64> = split.iter().map(|s| s.link_lost).collect();
        let nodes: Vec<u64> = split.iter().map(|s| s.node_lost).collect();
        assert_eq!(links, [0, 13, 0, 0, 0]);
        assert_eq!(nodes, [0, 3, 0, 1, 0]);
    }

    #[test]
    fn loss_at_one_hop_only_is_rate_limiting() {
        let hops = [
            hop(1, 100, 100, 1.0),
            hop(2, 100, 20, 1.0),
            hop(3, 100, 100, 1.0),
            hop(4, 100, 100, 1.0),
        ];
        let d = mtr(&hops, IpAddr::from([198, 18, 3, 2]), true);
        assert_eq!(
            codes(&d),
            [("path.rate_limited_hop", Some(2)), ("path.healthy", None)]
        );
    }

    #[test]
    fn persistent_loss_names_the_first_hop_of_it() {
        let hops = [
            hop(1, 200, 200, 1.0),
            hop(2, 200, 199, 1.0),
            hop(3, 200, 140, 1.0),
            hop(4, 200, 130, 1.0),
            hop(5, 200, 138, 1.0),
        ];
        let d = mtr(&hops, IpAddr::from([198, 18, 4, 2]), true);
        assert_eq!(codes(&d), [("path.loss_from_hop", Some(3))]);
    }

    #[test]
    fn latency_step_persists_and_spike_does_not() {
        let hops = [
            hop(1, 10, 10, 1.0),
            hop(2, 10, 10, 60.0),
            hop(3, 10, 10, 2.0),
            hop(4, 10, 10, 42.0),
            hop(5, 10, 10, 43.0),
        ];
        let d = mtr(&hops, IpAddr::from([198, 18, 4, 2]), true);
        assert_eq!(
            codes(&d),
            [
                ("path.latency_spike", Some(2)),
                ("path.latency_step", Some(4))
            ]
        );
    }

    #[test]
    fn a_step_behind_a_slow_answering_hop_names_the_first_hop_that_shows_it() {
        // Measured on the test bed: router 2 answers 50 ms late, the link
        // into hop 3 adds 30 ms. Hop 2's own figure cannot place the step.
        let hops = [
            hop(1, 15, 15, 0.1),
            hop(2, 15, 15, 50.5),
            hop(3, 15, 15, 30.5),
            hop(4, 15, 15, 30.5),
            hop(5, 15, 15, 30.5),
        ];
        let d = mtr(&hops, IpAddr::from([198, 18, 4, 2]), true);
        assert_eq!(
            codes(&d),
            [
                ("path.latency_step", Some(3)),
                ("path.latency_spike", Some(2))
            ]
        );
        assert_eq!(
            d[0].evidence.get("after_hop").and_then(|v| v.as_u64()),
            Some(1)
        );
        assert!(d[0].summary.contains("between hop 1"), "{}", d[0].summary);
    }

    fn trace_hop(ttl: u8, from: Option<IpAddr>) -> HopFact {
        let answer = match from {
            Some(from) => HopAnswer::Router { from },
            None => HopAnswer::Silent,
        };
        HopFact {
            ttl,
            probes: vec![ProbeFact {
                from,
                rtt_ms: from.map(|_| 0.1),
                answer,
            }],
        }
    }

    #[test]
    fn an_interrupted_trace_says_how_far_it_got() {
        let target = IpAddr::from([198, 18, 3, 2]);
        let r2 = IpAddr::from([198, 18, 1, 2]);
        let hops = [
            trace_hop(1, Some(IpAddr::from([198, 18, 0, 2]))),
            trace_hop(2, Some(r2)),
            trace_hop(3, None),
        ];
        let d = trace_interrupted(&hops, target);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, "trace.interrupted");
        assert_eq!(d[0].severity, Severity::Warning);
        assert_eq!(d[0].evidence["hops_seen"], 2);
        assert_eq!(d[0].evidence["last_hop"], 2);
        assert_eq!(d[0].evidence["last_address"], "198.18.1.2");
        let none = trace_interrupted(&[], target);
        assert_eq!(none[0].evidence["hops_seen"], 0);
        assert!(none[0].evidence["last_hop"].is_null());
    }
}
