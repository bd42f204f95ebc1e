//! Path MTU discovery as tracepath and `traceroute --mtu` do it: echo
//! probes with DF set, starting at the route's MTU, lowered each time a
//! router answers Fragmentation Needed / Packet Too Big (or the local stack
//! refuses the size because it already learnt a smaller path MTU).

use super::socket::PmtuDisc;
use super::{Engine, Probe, ProbeKind, Response};
use crate::error::AppResult;
use serde::Serialize;
use std::net::IpAddr;
use std::time::Duration;

/// The most size reductions one discovery follows (a path has few links
/// smaller than the one before; a liar answering ever-smaller MTUs stops here).
const MAX_STEPS: usize = 8;
/// The smallest MTU an IPv4 link may have (RFC 791); a smaller report is ignored.
const MIN_MTU_V4: u32 = 68;
/// The smallest MTU an IPv6 link may have (RFC 8200).
const MIN_MTU_V6: u32 = 1280;

/// One place the path MTU dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct MtuDrop {
    /// The router that reported the smaller next link (None when the local
    /// stack already knew the path MTU and refused the size with EMSGSIZE).
    pub reported_by: Option<IpAddr>,
    /// The MTU of the link after it.
    pub mtu: u32,
}

/// What a discovery found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PathMtu {
    /// The MTU probing started at: the route's (the interface's, or a path
    /// MTU the kernel already learnt).
    pub first: u32,
    /// The size that reached the target, when one did.
    pub mtu: Option<u32>,
    /// Every reduction, in the order they came.
    pub drops: Vec<MtuDrop>,
}

/// Discovers the path MTU to `target` with echo probes of the full path
/// (`ttl` None: the system default), each waiting `wait`. The engine's ICMP
/// socket sets DF and ignores learnt path MTUs (IP_PMTUDISC_PROBE) meanwhile,
/// so every router of a smaller link answers even when the kernel already knows, and gets its own mode (or the
/// kernel's default, want) back after.
pub async fn discover(
    engine: &Engine,
    target: IpAddr,
    ttl: Option<u8>,
    wait: Duration,
) -> AppResult<PathMtu> {
    engine.set_pmtu(target, PmtuDisc::Probe)?;
    let found = walk(engine, target, ttl, wait).await;
    let own = engine.pmtu_mode().unwrap_or(PmtuDisc::Want);
    engine.set_pmtu(target, own)?;
    found
}

/// The probes of [`discover`], on a socket that sets DF.
async fn walk(
    engine: &Engine,
    target: IpAddr,
    ttl: Option<u8>,
    wait: Duration,
) -> AppResult<PathMtu> {
    let v6 = target.is_ipv6();
    let header: u32 = if v6 { 48 } else { 28 };
    let floor = if v6 { MIN_MTU_V6 } else { MIN_MTU_V4 };
    let first = engine
        .interface_mtu(target)
        .or_else(|| engine.route_mtu(target))
        .unwrap_or(1500);
    let mut size = first;
    let mut found = PathMtu {
        first,
        mtu: None,
        drops: Vec::new(),
    };
    for _ in 0..MAX_STEPS {
        let payload = size.saturating_sub(header) as usize;
        let outcome = engine
            .probe(Probe {
                target,
                ttl,
                kind: ProbeKind::Echo { payload },
                timeout: wait,
            })
            .await?;
        let (reported_by, next) = match outcome.response {
            Response::Unreachable {
                from, mtu: Some(m), ..
            } => (Some(from), m),
            Response::LocalError { errno } if errno == libc::EMSGSIZE => {
                (None, engine.route_mtu(target).unwrap_or(0))
            }
            Response::Timeout => return Ok(found),
            // An answer (or an error that is not about size) at this size:
            // everything up to the answerer carries it.
            _ => {
                found.mtu = Some(size);
                return Ok(found);
            }
        };
        if next >= size || next < floor {
            return Ok(found);
        }
        found.drops.push(MtuDrop {
            reported_by,
            mtu: next,
        });
        size = next;
    }
    Ok(found)
}
