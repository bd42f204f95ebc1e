//! What a ping run means: healthy, lossy, refused by a router, expiring on
//! the way, no route, or silence — each with its stable code.

use super::ttl::HopInference;
use super::{icmp, Diagnosis, Severity};
use serde::Deserialize;
use std::net::IpAddr;

/// The figures of a run that the rules read.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default)]
pub struct Tally {
    /// Probes sent.
    pub transmitted: u64,
    /// Echo replies received.
    pub received: u64,
    /// ICMP errors and local send failures.
    pub errors: u64,
    /// Extra copies of replies (iputils' DUP!).
    pub duplicates: u64,
    /// Loss in percent.
    pub loss_pct: f64,
    /// Mean round trip, when any reply came.
    pub avg_ms: Option<f64>,
}

/// An ICMP error a router or the target sent back.
#[derive(Debug, Clone, Deserialize)]
pub struct IcmpFact {
    /// Who sent it.
    pub from: IpAddr,
    /// ICMP / ICMPv6 type.
    pub icmp_type: u8,
    /// ICMP / ICMPv6 code.
    pub code: u8,
    /// The words iputils prints for it.
    pub text: String,
}

/// The first of each kind of event, kept while the run streams the rest.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Evidence {
    /// TTL of the first reply (for hop inference).
    pub first_ttl: Option<u8>,
    /// First ICMP error.
    pub first_icmp: Option<IcmpFact>,
    /// errno of the first local send failure.
    pub first_local_errno: Option<i32>,
    /// First Fragmentation Needed / Packet Too Big: who sent it, and the MTU.
    pub first_too_big: Option<(IpAddr, u32)>,
    /// Small probes sent after large ones vanished without any ICMP.
    pub small_probes: Option<SmallProbes>,
}

/// The black-hole check: large probes all lost without an ICMP error, then
/// a few default-size probes to the same target. Small ones answering while
/// large ones vanish is a PMTU black hole, not a silent host.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema,
)]
pub struct SmallProbes {
    /// IP packet bytes of the lost probes.
    pub large_bytes: usize,
    /// IP packet bytes of the small probes (84 for IPv4, 104 for IPv6).
    pub small_bytes: usize,
    /// Small probes sent.
    pub sent: u64,
    /// Small probes answered.
    pub answered: u64,
}

/// The smallest MTU every IPv6 link must carry, and the usual floor of
/// tunnels: a packet above it may meet a smaller link.
pub const MIN_COMMON_MTU: usize = 1280;

/// Formats a percentage like C's `%g`, as iputils prints loss.
pub fn fmt_pct(p: f64) -> String {
    let text = format!("{p:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.to_string()
}

/// Turns a run into its one finding.
pub fn diagnose(
    s: &Tally,
    inference: Option<&HopInference>,
    evidence: &Evidence,
    target: IpAddr,
) -> Diagnosis {
    let v6 = target.is_ipv6();
    let lost = s.transmitted.saturating_sub(s.received);
    let avg = s.avg_ms.unwrap_or(0.0);
    let hops = inference
        .map(|h| {
            format!(
                ", at hop {} ({} router(s) between, from the reply TTL)",
                u32::from(h.hops) + 1,
                h.hops
            )
        })
        .unwrap_or_default();
    let d = if s.transmitted == 0 {
        Diagnosis::new("ping.not_sent", Severity::Critical, "no probe was sent")
    } else if s.received == s.transmitted {
        Diagnosis::new(
            "ping.healthy",
            Severity::Ok,
            format!(
                "{target} answers every probe ({}/{}), rtt avg {avg:.3} ms{hops}",
                s.received, s.transmitted
            ),
        )
    } else if let Some((from, mtu)) = evidence.first_too_big {
        // Not loss: the probes are bigger than a link on the path.
        let severity = if s.received > 0 {
            Severity::Warning
        } else {
            Severity::Critical
        };
        Diagnosis::new(
            "ping.path_mtu",
            severity,
            format!(
                "the path MTU to {target} is {mtu} bytes: {from} reported a link too small for these probes ({}/{} answered) — send smaller packets (-s), and make sure ICMP \"fragmentation needed\"/\"packet too big\" is not filtered anywhere, or TCP will stall on large segments (PMTU black hole); check MSS clamping on tunnels",
                s.received, s.transmitted
            ),
        )
        .with("mtu", mtu)
        .with("reported_by", from)
    } else if s.received > 0 {
        Diagnosis::new(
            "ping.lossy",
            Severity::Warning,
            format!(
                "{target} answers but {}% of probes were lost ({lost}/{}): the path or the host drops packets — run `netdx mtr {target}` to find where",
                fmt_pct(s.loss_pct),
                s.transmitted
            ),
        )
    } else if let Some(err) = &evidence.first_icmp {
        let (t, c, from) = (err.icmp_type, err.code, err.from);
        let meaning = icmp::lookup(v6, t, c)
            .map(|i| i.meaning)
            .unwrap_or("an ICMP error");
        let exceeded = (!v6 && t == 11) || (v6 && t == 3);
        if exceeded {
            Diagnosis::new(
                "ping.ttl_exceeded",
                Severity::Critical,
                format!("probes expire at {from} before reaching {target}: the TTL is too small for the path, or packets loop between routers"),
            )
        } else {
            Diagnosis::new(
                "ping.unreachable",
                Severity::Critical,
                format!(
                    "{target} is unreachable: {from} answered \"{}\" (icmp {t}/{c}) — {meaning}",
                    err.text
                ),
            )
        }
    } else if let Some(errno) = evidence.first_local_errno {
        local_send_error(errno, target)
    } else if let Some(small) = evidence.small_probes.filter(|p| p.answered > 0) {
        pmtu_blackhole(&small, target)
    } else {
        Diagnosis::new(
            "ping.silent",
            Severity::Critical,
            format!("no reply and no ICMP error from {target}: the host is down or a firewall silently drops ICMP echo — try `netdx tcp {target}:PORT` on a port it serves, or `netdx trace {target}` to see where packets stop"),
        )
    };
    d.with("transmitted", s.transmitted)
        .with("received", s.received)
        .with("errors", s.errors)
        .with("loss_pct", s.loss_pct)
}

/// Large probes lost without a word while small ones arrive: a link on the
/// path is smaller and its Fragmentation Needed / Packet Too Big is dropped.
fn pmtu_blackhole(small: &SmallProbes, target: IpAddr) -> Diagnosis {
    let icmp = if target.is_ipv6() {
        "ICMPv6 type 2 (Packet Too Big)"
    } else {
        "ICMP type 3 code 4 (Fragmentation Needed)"
    };
    Diagnosis::new(
        "ping.pmtu_blackhole",
        Severity::Critical,
        format!(
            "packets of {} bytes to {target} are lost without any ICMP while {}-byte ones arrive ({}/{} answered): a link on the path has a smaller MTU and its Fragmentation Needed / Packet Too Big is filtered — PMTU black hole; check with `netdx trace --mtu {target}`; fix: allow {icmp}, or clamp the TCP MSS",
            small.large_bytes, small.small_bytes, small.answered, small.sent
        ),
    )
    .with("large_bytes", small.large_bytes)
    .with("small_bytes", small.small_bytes)
    .with("small_answered", small.answered)
}

/// Duplicated replies: something on the path copies packets.
pub fn duplicates(s: &Tally, target: IpAddr) -> Option<Diagnosis> {
    (s.duplicates > 0).then(|| {
        Diagnosis::new(
            "ping.duplicates",
            Severity::Warning,
            format!(
                "{} duplicate replies from {target}: something copies packets — a layer-2 loop (check spanning tree), a bridge or bond misconfiguration, or a mirror/TAP port sending traffic back",
                s.duplicates
            ),
        )
        .with("duplicates", s.duplicates)
        .with("received", s.received)
    })
}

/// A send the local stack refused: no route, or a local policy or size limit.
fn local_send_error(errno: i32, target: IpAddr) -> Diagnosis {
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    if matches!(errno, libc::ENETUNREACH | libc::EHOSTUNREACH) {
        Diagnosis::new(
            "ping.no_route",
            Severity::Critical,
            format!("this host has no route to {target} ({text}): check `ip route get {target}` and the interface state"),
        )
    } else {
        Diagnosis::new(
            "ping.send_failed",
            Severity::Critical,
            format!("the local stack refused to send to {target}: {text} — a local firewall (EPERM) or a size over the MTU (EMSGSIZE)"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_print_like_iputils() {
        assert_eq!(fmt_pct(0.0), "0");
        assert_eq!(fmt_pct(20.0), "20");
        assert_eq!(fmt_pct(100.0 / 3.0), "33.3333");
    }

    #[test]
    fn silence_router_errors_and_no_route_are_told_apart() {
        let target: IpAddr = [198, 18, 3, 2].into();
        let tally = Tally {
            transmitted: 3,
            ..Tally::default()
        };
        let silent = diagnose(&tally, None, &Evidence::default(), target);
        assert_eq!(silent.code, "ping.silent");
        let mut ev = Evidence {
            first_local_errno: Some(libc::ENETUNREACH),
            ..Evidence::default()
        };
        assert_eq!(diagnose(&tally, None, &ev, target).code, "ping.no_route");
        ev.first_icmp = Some(IcmpFact {
            from: [198, 18, 1, 2].into(),
            icmp_type: 3,
            code: 13,
            text: "Packet filtered".into(),
        });
        let blackhole = Evidence {
            small_probes: Some(SmallProbes {
                large_bytes: 1428,
                small_bytes: 84,
                sent: 3,
                answered: 3,
            }),
            ..Evidence::default()
        };
        let d = diagnose(&tally, None, &blackhole, target);
        assert_eq!(d.code, "ping.pmtu_blackhole");
        assert!(d.summary.contains("1428 bytes"), "{}", d.summary);
        let still_silent = Evidence {
            small_probes: blackhole
                .small_probes
                .map(|p| SmallProbes { answered: 0, ..p }),
            ..Evidence::default()
        };
        assert_eq!(
            diagnose(&tally, None, &still_silent, target).code,
            "ping.silent"
        );
        let refused = diagnose(&tally, None, &ev, target);
        assert_eq!(refused.code, "ping.unreachable");
        assert!(
            refused.summary.contains("198.18.1.2"),
            "{}",
            refused.summary
        );
    }
}
