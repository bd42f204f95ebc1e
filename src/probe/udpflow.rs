//! Paris UDP without privileges: one socket per flow (one source port, one
//! destination port, so ECMP routers hash every probe of the flow onto one
//! branch), IP_RECVERR for the routers' errors, and the probes told apart
//! by a tag in their first payload bytes, which the quoted datagram
//! returns (the tag also makes each probe's UDP checksum its own, as Paris
//! traceroute's identifier). Fixed-size probes work the same way: the
//! length is not needed to tell them apart.

use super::engine::{self, Answer, Engine};
use super::socket;
use super::{Outcome, Probe, Response};
use crate::error::{AppError, AppResult};
use socket2::{SockAddr, Socket};
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::oneshot;

/// Bytes of the tag at the start of each probe's payload.
pub(super) const TAG: usize = 2;

/// Probes of one flow waiting, by tag, with where they went and their TTL.
type Waiting = Arc<Mutex<HashMap<u16, (IpAddr, u8, oneshot::Sender<Answer>)>>>;

/// The one socket of an unprivileged Paris flow and the probes in flight on it.
pub(super) struct QueueFlow {
    fd: Arc<AsyncFd<Socket>>,
    send_lock: Mutex<()>,
    next_tag: AtomicU16,
    waiting: Waiting,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for QueueFlow {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl QueueFlow {
    /// Opens the flow's socket (IP_RECVERR on, one ephemeral source port)
    /// and starts reading its error queue.
    pub(super) fn open(v6: bool, engine: &Engine) -> AppResult<QueueFlow> {
        let sock = socket::open_udp_probe(v6, engine.binding())?;
        let fd = Arc::new(
            socket::register(sock, Interest::READABLE | Interest::ERROR).map_err(|e| {
                AppError::cannot_run(format!("cannot register a UDP flow socket: {e}"))
            })?,
        );
        let waiting: Waiting = Arc::default();
        let reader = tokio::spawn(read_loop(fd.clone(), v6, waiting.clone()));
        Ok(QueueFlow {
            fd,
            send_lock: Mutex::new(()),
            next_tag: AtomicU16::new(engine::nanos_seed() as u16),
            waiting,
            reader,
        })
    }
}

/// Sends one probe of the flow: `payload` bytes (at least [`TAG`]) whose
/// first two carry the probe's tag, and waits for the answer.
pub(super) async fn probe(
    flow: &QueueFlow,
    probe: Probe,
    port: u16,
    payload: usize,
    seq: u16,
) -> AppResult<Outcome> {
    let tag = flow.next_tag.fetch_add(1, Ordering::Relaxed);
    let (tx, rx) = oneshot::channel();
    let ttl = probe.ttl.unwrap_or(u8::MAX);
    engine::lock(&flow.waiting).insert(tag, (probe.target, ttl, tx));
    let mut data = vec![0u8; payload.max(TAG)];
    data[..TAG].copy_from_slice(&tag.to_be_bytes());
    let started = Instant::now();
    let sent = SystemTime::now();
    if let Err(e) = send(flow, &probe, port, &data) {
        engine::lock(&flow.waiting).remove(&tag);
        return Ok(engine::local_error(probe, seq, sent, &e));
    }
    let answer = tokio::time::timeout(probe.timeout, rx)
        .await
        .ok()
        .and_then(Result::ok);
    engine::lock(&flow.waiting).remove(&tag);
    Ok(engine::finish(probe, seq, sent, started, answer))
}

/// Sets the TTL and sends under the flow's lock. An error queued for an
/// earlier probe leaves a pending socket error that the next send returns
/// instead of sending (and so clears): try again, as the ICMP channel does.
fn send(flow: &QueueFlow, probe: &Probe, port: u16, data: &[u8]) -> io::Result<()> {
    let sock = flow.fd.get_ref();
    let _guard = engine::lock(&flow.send_lock);
    if let Some(ttl) = probe.ttl {
        socket::set_ttl(sock, probe.target.is_ipv6(), ttl)?;
    }
    let dest = SockAddr::from(SocketAddr::new(probe.target, port));
    let mut result = Ok(0);
    for _ in 0..4 {
        result = sock.send_to(data, &dest);
        if result.is_ok() {
            break;
        }
    }
    result.map(|_| ())
}

/// Reads the flow's error queue and its datagrams, handing each answer to
/// the probe whose tag it quotes.
async fn read_loop(fd: Arc<AsyncFd<Socket>>, v6: bool, waiting: Waiting) {
    let raw = fd.get_ref().as_raw_fd();
    let mut buf = vec![0u8; 2048];
    loop {
        let Ok(mut guard) = fd.ready(Interest::READABLE | Interest::ERROR).await else {
            return;
        };
        while let Ok(rx) = socket::receive(raw, &mut buf, true) {
            if let Some(answer) = engine::answer_from_queue(&rx, v6) {
                let quoted = buf.get(..rx.len.min(TAG)).unwrap_or_default();
                deliver(&waiting, tag_of(quoted), rx.from, answer, false);
            }
        }
        loop {
            match socket::receive(raw, &mut buf, false) {
                Ok(rx) => {
                    let Some(from) = rx.from else { continue };
                    let answer = Answer {
                        response: Response::Reply {
                            from,
                            ttl: rx.ttl,
                            bytes: rx.len,
                        },
                        stamp: rx.stamp,
                    };
                    let data = buf.get(..rx.len.min(TAG)).unwrap_or_default();
                    deliver(&waiting, tag_of(data), Some(from), answer, true);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                // The pending socket error that mirrors a queued ICMP error.
                Err(_) => continue,
            }
        }
        guard.clear_ready();
    }
}

/// The tag in the first bytes of a quoted (or echoed) payload.
fn tag_of(data: &[u8]) -> Option<u16> {
    let bytes: [u8; TAG] = data.get(..TAG)?.try_into().ok()?;
    Some(u16::from_be_bytes(bytes))
}

/// Completes the probe with `tag` when it went to `about` (the quoted
/// destination of an error, the sender of a reply). A router that quotes
/// only the UDP header (RFC 792's minimum) returns no tag: the error then
/// goes to the flow's only probe to that address in flight, or nowhere
/// (a `*`, never a wrong hop). A service's `reply` need not echo the tag:
/// without one it answers the lowest-TTL probe still waiting for that
/// address (the probes below it were answered by routers).
fn deliver(
    waiting: &Waiting,
    tag: Option<u16>,
    about: Option<IpAddr>,
    answer: Answer,
    reply: bool,
) {
    let mut waiting = engine::lock(waiting);
    let to_about = |target: &IpAddr| about.is_none_or(|a| a == *target);
    let tagged = tag.filter(|t| waiting.get(t).is_some_and(|(target, ..)| to_about(target)));
    let key = match tagged {
        Some(t) => Some(t),
        None if reply => waiting
            .iter()
            .filter(|(_, (target, ..))| to_about(target))
            .min_by_key(|(_, (_, ttl, _))| *ttl)
            .map(|(t, _)| *t),
        None if tag.is_none() => {
            let mut candidates = waiting
                .iter()
                .filter(|(_, (target, ..))| to_about(target))
                .map(|(t, _)| *t);
            match (candidates.next(), candidates.next()) {
                (Some(t), None) => Some(t),
                _ => None,
            }
        }
        None => None,
    };
    if let Some((.., tx)) = key.and_then(|k| waiting.remove(&k)) {
        let _ = tx.send(answer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer() -> Answer {
        Answer {
            response: Response::Timeout,
            stamp: None,
        }
    }

    /// A quoted tag picks its probe; a missing tag picks the only probe
    /// in flight to that address and nothing when several are; a reply
    /// without our tag answers the lowest TTL waiting.
    #[test]
    fn tags_match_probes_and_untagged_quotes_never_guess() {
        let waiting: Waiting = Arc::default();
        let a: IpAddr = [198, 18, 0, 1].into();
        let (tx1, mut rx1) = oneshot::channel();
        let (tx2, mut rx2) = oneshot::channel();
        let (tx3, mut rx3) = oneshot::channel();
        engine::lock(&waiting).insert(7, (a, 3, tx1));
        engine::lock(&waiting).insert(8, (a, 4, tx2));
        engine::lock(&waiting).insert(9, (a, 5, tx3));
        deliver(&waiting, None, Some(a), answer(), false);
        assert!(rx1.try_recv().is_err() && rx2.try_recv().is_err());
        deliver(
            &waiting,
            Some(8),
            Some([198, 18, 0, 9].into()),
            answer(),
            false,
        );
        assert!(rx2.try_recv().is_err());
        deliver(&waiting, Some(8), Some(a), answer(), false);
        assert!(rx2.try_recv().is_ok());
        // A service's reply with its own bytes: the lowest TTL (3).
        deliver(&waiting, Some(0xffff), Some(a), answer(), true);
        assert!(rx1.try_recv().is_ok());
        deliver(&waiting, None, Some(a), answer(), false);
        assert!(rx3.try_recv().is_ok());
        assert_eq!(tag_of(&[1, 2, 3]), Some(0x0102));
        assert_eq!(tag_of(&[1]), None);
    }
}
