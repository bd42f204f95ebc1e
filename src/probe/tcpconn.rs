//! TCP probes without privileges (traceroute's `tcpconn` method): each probe
//! is one attempt of the shared connect prober ([`super::connect`]) with the
//! probe's TTL. A router that drops the SYN sends Time Exceeded (or an
//! Unreachable); Linux queues it on the SYN_SENT socket's error queue
//! (IP_RECVERR / IPV6_RECVERR) with the router as the offender and aborts
//! the connect with EHOSTUNREACH. The destination either accepts (connected:
//! a listener) or answers RST (ECONNREFUSED): both mean "reached".

use super::connect::{self, Attempt};
use super::engine::{self, Engine};
use super::packet;
use super::socket;
use super::{Outcome, Probe, Response};
use crate::error::AppResult;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

/// Sends one SYN by connecting to `port` and waits for what it provokes.
pub(super) async fn probe(
    engine: &Engine,
    probe: Probe,
    port: u16,
    seq: u16,
) -> AppResult<Outcome> {
    let v6 = probe.target.is_ipv6();
    let sock = socket::open_tcp_connect(v6, engine.binding())?;
    let settings = connect::Settings {
        ttl: probe.ttl,
        wait: probe.timeout,
        banner: None,
    };
    let sent = SystemTime::now();
    let attempt = connect::attempt(sock, SocketAddr::new(probe.target, port), settings).await;
    Ok(outcome(probe, seq, sent, attempt))
}

/// Turns a connect attempt into the outcome trace and mtr read.
fn outcome(probe: Probe, seq: u16, sent: SystemTime, attempt: Attempt) -> Outcome {
    let v6 = probe.target.is_ipv6();
    let reached = |open: bool| Response::TcpReply {
        from: probe.target,
        ttl: None,
        open,
    };
    let (rtt, response) = match attempt {
        Attempt::Open { rtt, .. } => (Some(rtt), reached(true)),
        // The destination completed the handshake (its application reset it).
        Attempt::ResetAfterAccept { rtt, elapsed } => (Some(rtt.unwrap_or(elapsed)), reached(true)),
        // The SYN met our own socket: nothing listens on the target port.
        Attempt::SelfConnect { elapsed } => (Some(elapsed), reached(false)),
        Attempt::Timeout { .. } => (None, Response::Timeout),
        Attempt::Failed {
            icmp: Some(o),
            elapsed,
            ..
        } => {
            // The kernel's receive time of the ICMP error, when plausible.
            let rtt = o
                .after
                .filter(|a| *a < elapsed + Duration::from_millis(5))
                .unwrap_or(elapsed);
            let mtu = packet::is_too_big(v6, o.icmp_type, o.code).then_some(o.info);
            (
                Some(rtt),
                engine::error_response(v6, o.from, o.icmp_type, o.code, mtu, None, Vec::new()),
            )
        }
        Attempt::Failed {
            errno: libc::ECONNREFUSED,
            elapsed,
            ..
        } => (Some(elapsed), reached(false)),
        Attempt::Failed {
            errno,
            immediate: true,
            ..
        } => (None, Response::LocalError { errno }),
        Attempt::Failed { errno, elapsed, .. } => (Some(elapsed), Response::LocalError { errno }),
    };
    Outcome {
        probe,
        seq,
        sent,
        rtt,
        response,
    }
}
