//! TCP probes without privileges (traceroute's `tcpconn` method): each probe
//! is a non-blocking kernel connect() with the probe's TTL. A router that
//! drops the SYN sends Time Exceeded (or an Unreachable); Linux queues it on
//! the SYN_SENT socket's error queue (IP_RECVERR / IPV6_RECVERR) with the
//! router as the offender and aborts the connect with EHOSTUNREACH. The
//! destination either accepts (connected: a listener) or answers RST
//! (ECONNREFUSED): both mean "reached".

use super::engine::{self, Answer, Engine};
use super::socket;
use super::{Outcome, Probe, Response};
use crate::error::{AppError, AppResult};
use socket2::{SockAddr, Socket};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::{Instant, SystemTime};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// Sends one SYN by connecting to `port` and waits for what it provokes.
pub(super) async fn probe(
    engine: &Engine,
    probe: Probe,
    port: u16,
    seq: u16,
) -> AppResult<Outcome> {
    let v6 = probe.target.is_ipv6();
    let sock = socket::open_tcp_connect(v6, engine.binding())?;
    let sent = SystemTime::now();
    if let Some(ttl) = probe.ttl {
        if let Err(e) = socket::set_ttl(&sock, v6, ttl) {
            return Ok(engine::local_error(probe, seq, sent, &e));
        }
    }
    let started = Instant::now();
    let sent = SystemTime::now();
    let dest = SockAddr::from(SocketAddr::new(probe.target, port));
    let immediate = match sock.connect(&dest) {
        Ok(()) => Some(reached(&probe, true)),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => None,
        Err(e) if e.raw_os_error() == Some(libc::ECONNREFUSED) => Some(reached(&probe, false)),
        Err(e) => return Ok(engine::local_error(probe, seq, sent, &e)),
    };
    if let Some(response) = immediate {
        let answer = Answer {
            response,
            stamp: None,
        };
        return Ok(engine::finish(probe, seq, sent, started, Some(answer)));
    }
    let fd = socket::register(sock, Interest::WRITABLE | Interest::ERROR)
        .map_err(|e| AppError::cannot_run(format!("cannot register a TCP probe socket: {e}")))?;
    let answer = tokio::time::timeout(probe.timeout, settle(&fd, &probe))
        .await
        .ok();
    Ok(engine::finish(probe, seq, sent, started, answer))
}

/// The destination answered: connected (`open`) or refused with RST.
fn reached(probe: &Probe, open: bool) -> Response {
    Response::TcpReply {
        from: probe.target,
        ttl: None,
        open,
    }
}

/// Waits until the connect settles: a queued ICMP error (read first: it
/// names the router), else the socket's own error, else connected.
async fn settle(fd: &AsyncFd<Socket>, probe: &Probe) -> Answer {
    let v6 = probe.target.is_ipv6();
    let raw = fd.get_ref().as_raw_fd();
    let mut buf = [0u8; 512];
    loop {
        let Ok(mut guard) = fd.ready(Interest::WRITABLE | Interest::ERROR).await else {
            return std::future::pending().await;
        };
        if let Ok(rx) = socket::receive(raw, &mut buf, true) {
            if let Some(answer) = engine::answer_from_queue(&rx, v6) {
                return answer;
            }
        }
        match fd.get_ref().take_error() {
            Ok(Some(e)) => {
                let response = if e.raw_os_error() == Some(libc::ECONNREFUSED) {
                    reached(probe, false)
                } else {
                    Response::LocalError {
                        errno: e.raw_os_error().unwrap_or(libc::EIO),
                    }
                };
                return Answer {
                    response,
                    stamp: None,
                };
            }
            Ok(None) if fd.get_ref().peer_addr().is_ok() => {
                return Answer {
                    response: reached(probe, true),
                    stamp: None,
                };
            }
            _ => {}
        }
        guard.clear_ready();
    }
}
