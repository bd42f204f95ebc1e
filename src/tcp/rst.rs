//! Who sent the RST that refused a connect: the host, or a device before
//! it (a firewall's `reject with tcp-reset`). connect() only says
//! ECONNREFUSED; the RST's IP TTL, read by `probe::rstwatch`, tells how far
//! it travelled, and a SYN-ACK from the same host how far the host is.

use super::report::TargetResult;
use crate::diagnose::tcp::MIDDLEBOX_RESET_CODE;
use crate::probe::rstwatch;
use serde::Serialize;
use std::collections::HashSet;
use std::net::IpAddr;

/// The TTL evidence on one refusal.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RstEvidence {
    /// IP TTL the RST arrived with (none when not seen or not checked).
    pub rst_ttl: Option<u8>,
    /// IP TTL of a SYN-ACK from the same host in this run.
    pub host_ttl: Option<u8>,
    /// Hops between the RST's sender and the host, when the RST came
    /// from before it.
    pub hops_before_host: Option<u8>,
    /// What was or was not checked.
    pub note: &'static str,
}

/// True for a refusal by an RST (no ICMP error, a packet left).
fn refused(r: &TargetResult) -> bool {
    r.failure
        .as_ref()
        .is_some_and(|f| f.errno_number == Some(libc::ECONNREFUSED) && f.icmp.is_none() && !f.local)
}

/// Marks refusals with what the watch socket saw; without one (`Err`
/// says why: no CAP_NET_RAW, or a scan too large to watch) says so in the
/// JSON evidence only, never in a summary.
pub fn mark(results: &mut [TargetResult], watch: Result<&rstwatch::Watch, &'static str>) {
    let wanted: HashSet<(IpAddr, u16)> = results
        .iter()
        .filter(|r| refused(r))
        .filter_map(|r| r.address.map(|a| (a.to_canonical(), r.port)))
        .collect();
    if wanted.is_empty() && watch.is_ok() {
        return;
    }
    let ttls = watch.map(|w| rstwatch::drain(w, &wanted));
    for r in results.iter_mut().filter(|r| refused(r)) {
        let (Some(addr), Some(f)) = (r.address, r.failure.as_mut()) else {
            continue;
        };
        let ttls = match &ttls {
            Ok(t) => t,
            Err(why) => {
                f.rst = Some(RstEvidence {
                    rst_ttl: None,
                    host_ttl: None,
                    hops_before_host: None,
                    note: why,
                });
                continue;
            }
        };
        let addr = addr.to_canonical();
        let rst_ttl = ttls.rst.get(&(addr, r.port)).copied();
        let host_ttl = ttls.synack.get(&addr).copied();
        let before = match (rst_ttl, host_ttl) {
            (Some(rt), Some(ht)) => rstwatch::hops(ht)
                .checked_sub(rstwatch::hops(rt))
                .filter(|&n| n > 0),
            _ => None,
        };
        let note = match (rst_ttl, host_ttl, before) {
            (None, _, _) => "RST not seen by the watch socket (its buffer was full)",
            (_, None, _) => "no SYN-ACK from this host in the run to compare the RST's TTL with",
            (_, _, Some(_)) => "the RST travelled fewer hops than the host's SYN-ACK",
            _ => "the RST travelled as far as the host's SYN-ACK: the host sent it",
        };
        if let Some(n) = before {
            f.code = MIDDLEBOX_RESET_CODE;
            f.detail = format!(
                "RST from a device {n} hop(s) before the host (RST TTL {}, host TTL {}) in {:.3} ms",
                rst_ttl.unwrap_or(0),
                host_ttl.unwrap_or(0),
                f.time_ms
            );
        }
        f.rst = Some(RstEvidence {
            rst_ttl,
            host_ttl,
            hops_before_host: before,
            note,
        });
    }
}
