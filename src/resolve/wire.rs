//! One question to one server, on the wire: UDP first, TCP when the answer
//! comes back truncated (or when TCP is forced). The whole response message
//! is kept, because the header flags, the response code and the authority
//! section are exactly what a resolver library hides and a diagnosis needs.
//! The UDP socket asks for ICMP errors (IP_RECVERR), so a router that
//! rejects the query is named instead of being mistaken for silence.

use crate::diagnose::dns::answer::{Failure, IcmpError, Transport};
use crate::probe::dnsio::{TcpPeer, UdpError, UdpPeer};
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// How a question is put on the wire.
#[derive(Debug, Clone, Copy)]
pub struct WireOpts {
    /// Skip UDP and ask over TCP.
    pub tcp_only: bool,
    /// EDNS UDP payload size to advertise; None sends no OPT record.
    pub edns: Option<u16>,
    /// Time limit for this question to this server, all tries included.
    pub deadline: Duration,
    /// UDP sends before giving up (each gets an equal share of the deadline).
    pub attempts: usize,
}

/// A response that arrived.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The decoded response message, header and all sections.
    pub message: Message,
    /// The transport that carried the final answer.
    pub transport: Transport,
    /// True when UDP came back truncated and TCP was used instead.
    pub truncated_udp: bool,
}

/// What came back from one server: a whole answer, or only the truncated
/// UDP one because the TCP retry failed. The second is its own outcome
/// because its cause (TCP/53 blocked on the path) is not "no DNS server".
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A usable response.
    Complete(Exchange),
    /// UDP came back truncated (TC) and the TCP retry failed.
    TcpFallbackFailed {
        /// The truncated UDP response, shown as dig shows it.
        partial: Message,
        /// Why TCP failed (refused by a reset, or timed out).
        cause: Failure,
    },
}

/// Asks `server` one question, with TCP fallback on truncation.
pub async fn exchange(
    server: SocketAddr,
    name: &Name,
    rtype: RecordType,
    opts: WireOpts,
) -> Result<Outcome, Failure> {
    exchange_rd(server, name, rtype, opts, true).await
}

/// [`exchange`] with the RD bit chosen: iterative resolution (`--trace`)
/// asks authoritative servers with RD=0, like `dig +norecurse`.
pub async fn exchange_rd(
    server: SocketAddr,
    name: &Name,
    rtype: RecordType,
    opts: WireOpts,
    rd: bool,
) -> Result<Outcome, Failure> {
    let start = Instant::now();
    let until = start + opts.deadline;
    let mut partial = None;
    if !opts.tcp_only {
        let message = over_udp(server, name, rtype, opts, until, rd).await?;
        if !message.truncated() {
            return Ok(Outcome::Complete(Exchange {
                message,
                transport: Transport::Udp,
                truncated_udp: false,
            }));
        }
        partial = Some(message);
    }
    match (
        over_tcp(server, name, rtype, opts, until, rd).await,
        partial,
    ) {
        (Ok(message), partial) => Ok(Outcome::Complete(Exchange {
            message,
            transport: Transport::Tcp,
            truncated_udp: partial.is_some(),
        })),
        (Err(cause), Some(partial)) => Ok(Outcome::TcpFallbackFailed { partial, cause }),
        (Err(cause), None) => Err(cause),
    }
}

/// Builds the query message with a random id.
pub(super) fn build(name: &Name, rtype: RecordType, edns: Option<u16>, rd: bool) -> (u16, Vec<u8>) {
    let id = random_id();
    let mut msg = Message::new();
    msg.set_id(id)
        .set_message_type(MessageType::Query)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(rd)
        .add_query(Query::query(name.clone(), rtype));
    if let Some(size) = edns {
        let mut e = Edns::new();
        e.set_max_payload(size);
        msg.set_edns(e);
    }
    // Encoding a single well-formed question cannot fail; an empty buffer
    // would only make the server answer FORMERR, which is still reported.
    (id, msg.to_vec().unwrap_or_default())
}

/// Why a datagram from the server is not the answer to our question, or
/// None when it is. A resolver checks these before reading any record:
/// the id (else it is someone else's or a spoofed reply), the QR bit, and
/// the question section echoed back.
pub(super) fn mismatch(msg: &Message, id: u16, name: &Name, rtype: RecordType) -> Option<String> {
    if msg.id() != id {
        return Some(format!(
            "reply with the wrong query id (expected {id}, got {})",
            msg.id()
        ));
    }
    if msg.message_type() != MessageType::Response {
        return Some("QR=0: the server sent a query back, not a response".into());
    }
    match msg.query() {
        Some(q) if !(q.name().eq_case(name) || q.name() == name) || q.query_type() != rtype => {
            Some(format!(
                "the question section asks for {} {}, not {} {}",
                q.name().to_ascii(),
                q.query_type(),
                name.to_ascii(),
                rtype
            ))
        }
        _ => None,
    }
}

/// The first problem seen in what a server sent, kept while the query
/// waits on for a valid reply; when none comes it is the failure to report.
#[derive(Default)]
struct BadReply {
    note: Option<(String, bool)>,
}

impl BadReply {
    /// Keeps `text`; a reply that carried our id beats one that did not,
    /// which may be a stray datagram rather than the server's reply.
    fn keep(&mut self, text: String, ours: bool) {
        if self.note.as_ref().is_none_or(|(_, o)| ours && !o) {
            self.note = Some((text, ours));
        }
    }

    fn failure(self) -> Option<Failure> {
        self.note.map(|(text, _)| Failure::Malformed(text))
    }
}

/// What is wrong with a datagram that did not decode: the parse error,
/// and whether its first two bytes were our id.
fn undecodable(bytes: &[u8], id: u16, err: impl std::fmt::Display, at: Duration) -> (String, bool) {
    let ours = bytes.len() >= 2 && u16::from_be_bytes([bytes[0], bytes[1]]) == id;
    let text = if bytes.len() < 12 {
        format!(
            "{}-byte reply, shorter than the 12-byte DNS header ({err})",
            bytes.len()
        )
    } else {
        format!("{}-byte reply that does not parse: {err}", bytes.len())
    };
    (
        format!(
            "{text}, {:.0} ms after the query",
            at.as_secs_f64() * 1000.0
        ),
        ours,
    )
}

async fn over_udp(
    server: SocketAddr,
    name: &Name,
    rtype: RecordType,
    opts: WireOpts,
    until: Instant,
    rd: bool,
) -> Result<Message, Failure> {
    let socket = UdpPeer::connect(server).await.map_err(io_failure)?;
    let (id, bytes) = build(name, rtype, opts.edns, rd);
    let attempts = opts.attempts.max(1) as u32;
    let per_try = opts.deadline / attempts;
    // Room for what we advertised (at least 4 KiB for servers that ignore
    // it), not 64 KiB per query: a batch keeps a hundred of these alive.
    let room = opts.edns.map_or(512, usize::from).max(4096);
    let mut buf = vec![0u8; room];
    let mut bad = BadReply::default();
    for _ in 0..attempts {
        let now = Instant::now();
        if now >= until {
            break;
        }
        let try_until = (now + per_try).min(until);
        socket
            .send(&bytes)
            .await
            .map_err(|e| udp_failure(e, server))?;
        while let Some(n) = socket
            .recv_until(try_until, &mut buf)
            .await
            .map_err(|e| udp_failure(e, server))?
        {
            let got = &buf[..n];
            let msg = match Message::from_vec(got) {
                Ok(msg) => msg,
                Err(e) => {
                    let (text, ours) = undecodable(got, id, e, now.elapsed());
                    bad.keep(text, ours);
                    continue;
                }
            };
            match mismatch(&msg, id, name, rtype) {
                None => return Ok(msg),
                Some(why) => bad.keep(
                    format!(
                        "{why}, {:.0} ms after the query",
                        now.elapsed().as_secs_f64() * 1000.0
                    ),
                    msg.id() == id,
                ),
            }
        }
    }
    Err(bad.failure().unwrap_or(Failure::Timeout))
}

/// What a UDP error means for this query: the server's own port
/// unreachable means nothing listens there; any other ICMP error (or one
/// from a router) is a rejection on the path.
fn udp_failure(e: UdpError, server: SocketAddr) -> Failure {
    match e {
        UdpError::Icmp(n) => {
            let port_unreachable = if n.v6 {
                (n.icmp_type, n.code) == (1, 4)
            } else {
                (n.icmp_type, n.code) == (3, 3)
            };
            if port_unreachable && n.from == server.ip() {
                return Failure::Refused;
            }
            Failure::Icmp(IcmpError {
                from: n.from,
                v6: n.v6,
                icmp_type: n.icmp_type,
                code: n.code,
            })
        }
        UdpError::Queued(e) => Failure::Network(e.to_string()),
        UdpError::Io(e) => io_failure(e),
    }
}

async fn over_tcp(
    server: SocketAddr,
    name: &Name,
    rtype: RecordType,
    opts: WireOpts,
    until: Instant,
    rd: bool,
) -> Result<Message, Failure> {
    let left = until.saturating_duration_since(Instant::now());
    // Set once the connection is up: a timeout after that is a stall,
    // not a dropped SYN.
    let connected = std::sync::atomic::AtomicBool::new(false);
    let work = async {
        let mut stream = TcpPeer::connect(server).await.map_err(io_failure)?;
        connected.store(true, std::sync::atomic::Ordering::Relaxed);
        let (id, bytes) = build(name, rtype, opts.edns, rd);
        let len = u16::try_from(bytes.len())
            .map_err(|_| Failure::Malformed("query too long for TCP".into()))?;
        let mut framed = Vec::with_capacity(bytes.len() + 2);
        framed.extend_from_slice(&len.to_be_bytes());
        framed.extend_from_slice(&bytes);
        stream.send(&framed).await.map_err(io_failure)?;
        loop {
            let mut head = [0u8; 2];
            stream.recv_exact(&mut head).await.map_err(io_failure)?;
            let mut body = vec![0u8; usize::from(u16::from_be_bytes(head))];
            stream.recv_exact(&mut body).await.map_err(io_failure)?;
            let msg = Message::from_vec(&body).map_err(|e| {
                Failure::Malformed(format!(
                    "{}-byte TCP reply that does not parse: {e}",
                    body.len()
                ))
            })?;
            match mismatch(&msg, id, name, rtype) {
                None => return Ok(msg),
                // Over TCP nobody else can inject a reply: a wrong one is the server's.
                Some(why) if msg.id() == id => return Err(Failure::Malformed(why)),
                Some(_) => {}
            }
        }
    };
    match tokio::time::timeout(left, work).await {
        Ok(result) => result,
        Err(_) if connected.load(std::sync::atomic::Ordering::Relaxed) => Err(Failure::TcpStalled),
        Err(_) => Err(Failure::Timeout),
    }
}

/// Maps socket errors onto the distinctions that matter for a diagnosis.
pub(super) fn io_failure(e: std::io::Error) -> Failure {
    match e.kind() {
        ErrorKind::ConnectionRefused => Failure::Refused,
        ErrorKind::TimedOut => Failure::Timeout,
        ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset => {
            Failure::Malformed(format!("the server closed the connection: {e}"))
        }
        _ => Failure::Network(e.to_string()),
    }
}

/// A query id from the kernel's random pool, so answers cannot be guessed.
fn random_id() -> u16 {
    let mut b = [0u8; 2];
    // SAFETY: getrandom writes at most b.len() bytes into b.
    let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), b.len(), 0) };
    if n != 2 {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        return (t ^ std::process::id()) as u16;
    }
    u16::from_ne_bytes(b)
}
