//! One question to one server, on the wire: UDP first, TCP when the answer
//! comes back truncated (or when TCP is forced). The whole response message
//! is kept, because the header flags, the response code and the authority
//! section are exactly what a resolver library hides and a diagnosis needs.
//! The UDP socket asks for ICMP errors (IP_RECVERR), so a router that
//! rejects the query is named instead of being mistaken for silence.

use crate::probe::socket::{self as probe_socket, QueuedError};
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};
use serde::Serialize;
use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::{TcpStream, UdpSocket};

/// How the answer travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// A UDP datagram each way.
    Udp,
    /// A TCP connection with length-prefixed messages.
    Tcp,
}

impl Transport {
    /// Lower-case name for human output.
    pub fn label(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        }
    }
}

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

/// Why no response arrived: the distinctions the diagnoses are built on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum Failure {
    /// Nothing came back in time: dropped on the way or a dead server.
    Timeout,
    /// ICMP port unreachable or a TCP RST: the host is up, no DNS server listens.
    Refused,
    /// An ICMP error other than the server's own port unreachable: a router
    /// (or the server's firewall) rejected the query.
    Icmp(IcmpError),
    /// No route, host or network unreachable, or another socket error.
    Network(String),
    /// Something answered but it was not a usable DNS response.
    Malformed(String),
}

/// The ICMP error a query drew, read from the socket's error queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IcmpError {
    /// The router or host that sent the ICMP error.
    pub from: IpAddr,
    /// True for ICMPv6 (type/code numbering differs).
    pub v6: bool,
    /// ICMP type.
    pub icmp_type: u8,
    /// ICMP code.
    pub code: u8,
}

/// Asks `server` one question, with TCP fallback on truncation.
pub async fn exchange(
    server: SocketAddr,
    name: &Name,
    rtype: RecordType,
    opts: WireOpts,
) -> Result<Outcome, Failure> {
    let start = Instant::now();
    let until = start + opts.deadline;
    let mut partial = None;
    if !opts.tcp_only {
        let message = over_udp(server, name, rtype, opts, until).await?;
        if !message.truncated() {
            return Ok(Outcome::Complete(Exchange {
                message,
                transport: Transport::Udp,
                truncated_udp: false,
            }));
        }
        partial = Some(message);
    }
    match (over_tcp(server, name, rtype, opts, until).await, partial) {
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
fn build(name: &Name, rtype: RecordType, edns: Option<u16>) -> (u16, Vec<u8>) {
    let id = random_id();
    let mut msg = Message::new();
    msg.set_id(id)
        .set_message_type(MessageType::Query)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(true)
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

/// A response is ours when id, type and question all match.
fn matches(msg: &Message, id: u16, name: &Name, rtype: RecordType) -> bool {
    msg.id() == id
        && msg.message_type() == MessageType::Response
        && msg
            .query()
            .map(|q| q.name().eq_case(name) || q.name() == name)
            .unwrap_or(true)
        && msg.query().map(|q| q.query_type() == rtype).unwrap_or(true)
}

async fn over_udp(
    server: SocketAddr,
    name: &Name,
    rtype: RecordType,
    opts: WireOpts,
    until: Instant,
) -> Result<Message, Failure> {
    let local: SocketAddr = match server.ip() {
        IpAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        IpAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(local).await.map_err(io_failure)?;
    ask_for_icmp_errors(&socket, server.is_ipv6()).map_err(io_failure)?;
    socket.connect(server).await.map_err(io_failure)?;
    let (id, bytes) = build(name, rtype, opts.edns);
    let attempts = opts.attempts.max(1) as u32;
    let per_try = opts.deadline / attempts;
    let mut buf = vec![0u8; 65535];
    for _ in 0..attempts {
        let now = Instant::now();
        if now >= until {
            break;
        }
        let try_until = (now + per_try).min(until);
        if let Err(e) = socket.send(&bytes).await {
            // A pending ICMP error from the previous try surfaces here.
            return Err(queued_failure(&socket, server, &mut buf).unwrap_or_else(|| io_failure(e)));
        }
        loop {
            let left = try_until.saturating_duration_since(Instant::now());
            let ready = socket.ready(Interest::READABLE | Interest::ERROR);
            match tokio::time::timeout(left, ready).await {
                Err(_) => break,
                Ok(Err(e)) => return Err(io_failure(e)),
                Ok(Ok(_)) => {}
            }
            if let Some(failure) = queued_failure(&socket, server, &mut buf) {
                return Err(failure);
            }
            match socket.try_recv(&mut buf) {
                Ok(n) => {
                    let Ok(msg) = Message::from_vec(&buf[..n]) else {
                        continue;
                    };
                    if matches(&msg, id, name, rtype) {
                        return Ok(msg);
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => {
                    // The socket error that mirrors a queued ICMP error.
                    return Err(
                        queued_failure(&socket, server, &mut buf).unwrap_or_else(|| io_failure(e))
                    );
                }
            }
        }
    }
    Err(Failure::Timeout)
}

/// IP_RECVERR / IPV6_RECVERR: every ICMP error about our datagrams is
/// queued with the sender's address, not only the "hard" ones.
fn ask_for_icmp_errors(socket: &UdpSocket, v6: bool) -> std::io::Result<()> {
    let fd = socket.as_raw_fd();
    if v6 {
        probe_socket::set_int(fd, libc::IPPROTO_IPV6, libc::IPV6_RECVERR, 1)
    } else {
        probe_socket::set_int(fd, libc::IPPROTO_IP, libc::IP_RECVERR, 1)
    }
}

/// Reads one error from the socket's error queue, if one is queued, and
/// says what it means for this query.
fn queued_failure(socket: &UdpSocket, server: SocketAddr, buf: &mut [u8]) -> Option<Failure> {
    let fd = socket.as_raw_fd();
    let queued = socket
        .try_io(Interest::ERROR, || probe_socket::receive(fd, buf, true))
        .or_else(|_| probe_socket::receive(fd, buf, true))
        .ok()?;
    queued.error.map(|e| icmp_failure(&e, server))
}

/// The server's own port unreachable means nothing listens there; any
/// other ICMP error (or one from a router) is a rejection on the path.
fn icmp_failure(e: &QueuedError, server: SocketAddr) -> Failure {
    let v6 = server.is_ipv6();
    let Some(from) = e.offender.filter(|_| e.from_icmp) else {
        return Failure::Network(std::io::Error::from_raw_os_error(e.errno).to_string());
    };
    let port_unreachable = if v6 {
        (e.icmp_type, e.code) == (1, 4)
    } else {
        (e.icmp_type, e.code) == (3, 3)
    };
    if port_unreachable && from == server.ip() {
        return Failure::Refused;
    }
    Failure::Icmp(IcmpError {
        from,
        v6,
        icmp_type: e.icmp_type,
        code: e.code,
    })
}

async fn over_tcp(
    server: SocketAddr,
    name: &Name,
    rtype: RecordType,
    opts: WireOpts,
    until: Instant,
) -> Result<Message, Failure> {
    let left = until.saturating_duration_since(Instant::now());
    let work = async {
        let mut stream = TcpStream::connect(server).await.map_err(io_failure)?;
        let (id, bytes) = build(name, rtype, opts.edns);
        let len = u16::try_from(bytes.len())
            .map_err(|_| Failure::Malformed("query too long for TCP".into()))?;
        let mut framed = Vec::with_capacity(bytes.len() + 2);
        framed.extend_from_slice(&len.to_be_bytes());
        framed.extend_from_slice(&bytes);
        stream.write_all(&framed).await.map_err(io_failure)?;
        loop {
            let mut head = [0u8; 2];
            stream.read_exact(&mut head).await.map_err(io_failure)?;
            let mut body = vec![0u8; usize::from(u16::from_be_bytes(head))];
            stream.read_exact(&mut body).await.map_err(io_failure)?;
            let msg = Message::from_vec(&body)
                .map_err(|e| Failure::Malformed(format!("undecodable TCP answer: {e}")))?;
            if matches(&msg, id, name, rtype) {
                return Ok(msg);
            }
        }
    };
    match tokio::time::timeout(left, work).await {
        Ok(result) => result,
        Err(_) => Err(Failure::Timeout),
    }
}

/// Maps socket errors onto the distinctions that matter for a diagnosis.
fn io_failure(e: std::io::Error) -> Failure {
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
