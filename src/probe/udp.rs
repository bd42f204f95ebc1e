//! UDP probes (traceroute's classic method). A Paris flow as root shares
//! one socket and tells its probes apart by length (the raw ICMP socket
//! matches the quoted ports and length); otherwise each probe gets its own
//! socket, so its source port is its identity: the raw ICMP socket matches
//! the router's error by the quoted ports, or without root the error queue
//! of the probe's own socket (IP_RECVERR) delivers it. Unprivileged and
//! sized Paris flows live in `udpflow`.

use super::engine::{self, Answer, Engine};
use super::packet::Identity;
use super::socket;
use super::{Outcome, Probe, Response};
use crate::error::{AppError, AppResult};
use socket2::{SockAddr, Socket};
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::{Instant, SystemTime};

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// Payload bytes of a UDP probe (traceroute's default packet is 60 bytes).
pub(super) const PAYLOAD: usize = 32;
/// Size of a UDP header.
const UDP_HEADER: usize = 8;
/// Smallest payload of a Paris flow probe.
const FLOW_PAYLOAD: usize = 16;
/// Distinct lengths a flow's probes cycle through: the probes of one flow
/// in flight at once must stay below this (1,024 is `trace -N`'s ceiling);
/// the largest probe stays under IPv6's 1,280-byte minimum MTU.
const FLOW_LENGTHS: usize = 1024;

/// Sends one probe of a Paris flow: the flow's socket (fixed source port),
/// a fixed destination port, a length that names the probe. Answers come
/// through the raw ICMP listener, matched by the quoted ports and length.
pub(super) async fn flow_probe(
    engine: &Engine,
    flow: &FlowSocket,
    probe: Probe,
    port: u16,
    seq: u16,
) -> AppResult<Outcome> {
    // The flow's own count, not the engine's: other flows' probes do not
    // use up this flow's lengths.
    let nth = flow.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let payload = FLOW_PAYLOAD + nth % FLOW_LENGTHS;
    let key = Identity::Udp {
        src: flow.port,
        dst: port,
        len: (UDP_HEADER + payload) as u16,
    };
    let (registration, rx) = engine.register(key, probe.target);
    let started = Instant::now();
    let sent = SystemTime::now();
    let dest = SockAddr::from(SocketAddr::new(probe.target, port));
    let data = vec![0u8; payload];
    let result = {
        let _guard = engine::lock(&flow.send_lock);
        match probe.ttl {
            Some(ttl) => socket::set_ttl(&flow.sock, probe.target.is_ipv6(), ttl),
            None => Ok(()),
        }
        .and_then(|()| flow.sock.send_to(&data, &dest))
    };
    if let Err(e) = result {
        drop(registration);
        return Ok(engine::local_error(probe, seq, sent, &e));
    }
    let answer = tokio::time::timeout(probe.timeout, rx)
        .await
        .ok()
        .and_then(Result::ok);
    drop(registration);
    Ok(engine::finish(probe, seq, sent, started, answer))
}

/// The one socket of a Paris flow, shared by all its probes.
pub(super) struct FlowSocket {
    sock: Socket,
    port: u16,
    send_lock: std::sync::Mutex<()>,
    sent: std::sync::atomic::AtomicUsize,
}

impl FlowSocket {
    /// Opens the flow's socket: no IP_RECVERR (the raw listener reads the
    /// errors; a pending socket error would only fail the next send).
    pub(super) fn open(v6: bool, engine: &Engine) -> AppResult<FlowSocket> {
        let sock = socket::open_udp_flow(v6, engine.binding())?;
        let port = socket::local_port(&sock)
            .map_err(|e| AppError::cannot_run(format!("cannot read the probe port: {e}")))?;
        Ok(FlowSocket {
            sock,
            port,
            send_lock: std::sync::Mutex::new(()),
            sent: std::sync::atomic::AtomicUsize::new(0),
        })
    }
}

/// Sends one UDP probe to `port` and waits for what it provokes.
pub(super) async fn probe(
    engine: &Engine,
    probe: Probe,
    port: u16,
    seq: u16,
    raw_listener: bool,
) -> AppResult<Outcome> {
    let v6 = probe.target.is_ipv6();
    let sock = socket::open_udp_probe(v6, engine.binding())?;
    let src = socket::local_port(&sock)
        .map_err(|e| AppError::cannot_run(format!("cannot read the probe port: {e}")))?;
    let payload = match probe.kind {
        super::ProbeKind::Udp {
            payload: Some(n), ..
        } => n,
        _ => PAYLOAD,
    };
    let key = Identity::Udp {
        src,
        dst: port,
        len: (UDP_HEADER + payload) as u16,
    };
    // Only register when the raw ICMP socket listens; else the error queue serves.
    let (registration, rx) = if raw_listener {
        let (r, rx) = engine.register(key, probe.target);
        (Some(r), Some(rx))
    } else {
        (None, None)
    };
    let started = Instant::now();
    let sent = SystemTime::now();
    if let Err(e) = send(&sock, &probe, port, payload) {
        return Ok(engine::local_error(probe, seq, sent, &e));
    }
    let fd = socket::register(sock, Interest::READABLE | Interest::ERROR)
        .map_err(|e| AppError::cannot_run(format!("cannot register a UDP probe socket: {e}")))?;
    let from_raw = async {
        match rx {
            Some(rx) => rx.await.ok(),
            None => std::future::pending().await,
        }
    };
    let wait = async {
        tokio::select! {
            a = from_raw => a,
            a = own_answer(&fd, v6) => Some(a),
        }
    };
    let answer = tokio::time::timeout(probe.timeout, wait)
        .await
        .ok()
        .flatten();
    drop(registration);
    Ok(engine::finish(probe, seq, sent, started, answer))
}

fn send(sock: &Socket, probe: &Probe, port: u16, payload: usize) -> io::Result<()> {
    let v6 = probe.target.is_ipv6();
    if let Some(ttl) = probe.ttl {
        socket::set_ttl(sock, v6, ttl)?;
    }
    let dest = SockAddr::from(SocketAddr::new(probe.target, port));
    sock.send_to(&vec![0u8; payload], &dest).map(|_| ())
}

/// Waits on the probe's own socket: a queued ICMP error, or a UDP answer
/// from a service that listens on the port.
async fn own_answer(fd: &AsyncFd<Socket>, v6: bool) -> Answer {
    let raw = fd.get_ref().as_raw_fd();
    let mut buf = vec![0u8; 2048];
    loop {
        let Ok(mut guard) = fd.ready(Interest::READABLE | Interest::ERROR).await else {
            return std::future::pending().await;
        };
        if let Ok(rx) = socket::receive(raw, &mut buf, true) {
            if let Some(a) = engine::answer_from_queue(&rx, v6) {
                return a;
            }
        }
        match socket::receive(raw, &mut buf, false) {
            Ok(rx) => {
                if let Some(from) = rx.from {
                    return Answer {
                        response: Response::Reply {
                            from,
                            ttl: rx.ttl,
                            bytes: rx.len,
                        },
                        stamp: rx.stamp,
                    };
                }
            }
            // The pending socket error that mirrors a queued ICMP error.
            Err(e) if e.kind() != io::ErrorKind::WouldBlock => continue,
            Err(_) => {}
        }
        guard.clear_ready();
    }
}
