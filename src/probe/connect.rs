//! The one TCP connect() prober, shared by `netdx tcp` and trace's
//! unprivileged TCP method: a real kernel `connect()` on a non-blocking
//! socket, bounded by a wait, with the errno kept as it is and, when an ICMP
//! error caused it, the router that sent it read from the socket's error
//! queue (IP_RECVERR / IPV6_RECVERR, parsed by [`socket::receive`]). Socket
//! options are set in `socket.rs`; this file only drives the handshake.

use super::socket;
use serde::Serialize;
use socket2::{SockAddr, Socket};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant, SystemTime};
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncReadExt, Interest};

/// How long a completed handshake is watched for a reset before it counts
/// as open: four round trips, at least [`RESET_GRACE_MIN`], at most
/// [`RESET_GRACE_MAX`] (and never past the wait). A server that accepts and
/// resets at once sends its RST one round trip plus its accept() latency
/// after our handshake ACK, so without this watch the verdict depended on
/// which of the two the scheduler happened to see first.
pub const RESET_GRACE_MIN: Duration = Duration::from_millis(50);
/// Upper bound of the reset watch (see [`RESET_GRACE_MIN`]).
pub const RESET_GRACE_MAX: Duration = Duration::from_millis(250);

/// Most banner bytes kept; services greet in one short line.
pub const BANNER_CAP: usize = 256;

/// The ICMP error behind a failed connect, as the kernel reported it.
#[derive(Debug, Clone, Copy, Serialize, schemars::JsonSchema)]
pub struct IcmpOrigin {
    /// The router or host that sent the ICMP error.
    pub from: IpAddr,
    /// True for ICMPv6.
    pub v6: bool,
    /// ICMP type.
    #[serde(rename = "type")]
    pub icmp_type: u8,
    /// ICMP code.
    pub code: u8,
    /// `ee_info`: the next-hop MTU of Fragmentation Needed / Packet Too Big.
    #[serde(skip)]
    pub info: u32,
    /// When the kernel received the error, counted from connect()
    /// (SO_TIMESTAMPNS): trace's round-trip time to the router.
    #[serde(skip)]
    pub after: Option<Duration>,
}

/// What one connect attempt ended with.
#[derive(Debug, Clone)]
pub enum Attempt {
    /// The handshake completed.
    Open {
        /// Time from connect() to the completed handshake.
        rtt: Duration,
        /// Our side of the connection (which source address the route chose).
        local: Option<SocketAddr>,
        /// The first bytes the server sent, when asked for.
        banner: Option<Vec<u8>>,
    },
    /// connect() failed with an errno.
    Failed {
        /// The errno (ECONNREFUSED, EHOSTUNREACH…).
        errno: i32,
        /// Time until the failure was known.
        elapsed: Duration,
        /// The ICMP error behind it, when the kernel queued one.
        icmp: Option<IcmpOrigin>,
        /// True when connect() itself failed before any packet left
        /// (no route, local firewall, no local port).
        immediate: bool,
    },
    /// The handshake "completed" with ourselves: the target is a local
    /// address, its port lies in `net.ipv4.ip_local_port_range`, nothing
    /// listens there, and the kernel happened to pick that same port as our
    /// source port, so the SYN met itself (TCP simultaneous open). This is
    /// not a service answering; the socket is closed at once.
    SelfConnect {
        /// Time until the handshake with ourselves completed.
        elapsed: Duration,
    },
    /// The handshake completed, then the peer reset the connection before
    /// we sent anything: an application that accepts and closes with
    /// SO_LINGER 0 (or a proxy that has no backend). Something listens;
    /// it is neither open for business nor closed.
    ResetAfterAccept {
        /// Time from connect() to the completed handshake (when seen).
        rtt: Option<Duration>,
        /// Time from connect() until the RST was known.
        elapsed: Duration,
    },
    /// No answer at all within the wait.
    Timeout {
        /// How long we waited.
        waited: Duration,
    },
}

/// How one attempt runs.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// TTL / hop limit of the SYN; None keeps the system default.
    pub ttl: Option<u8>,
    /// Longest wait for the handshake to settle.
    pub wait: Duration,
    /// With Some, read what the server sends first for at most that long.
    pub banner: Option<Duration>,
}

/// Connects to `addr` from a fresh unbound socket (closed gracefully
/// afterwards), waiting at most `wait`; with `banner`, then reads what the
/// server sends within that time. What `netdx tcp` runs per attempt.
pub async fn probe(addr: SocketAddr, wait: Duration, banner: Option<Duration>) -> Attempt {
    let start = Instant::now();
    match socket::tcp_connect_socket(addr.is_ipv6(), socket::Close::Graceful) {
        Ok(sock) => {
            let settings = Settings {
                ttl: None,
                wait,
                banner,
            };
            attempt(sock, addr, settings).await
        }
        Err(e) => failed(&e, start, true),
    }
}

/// Runs one connect() to `addr` on `sock`, a socket opened by
/// [`socket::tcp_connect_socket`] or [`socket::open_tcp_connect`].
pub async fn attempt(sock: Socket, addr: SocketAddr, settings: Settings) -> Attempt {
    let v6 = addr.is_ipv6();
    let start = Instant::now();
    if let Some(ttl) = settings.ttl {
        if let Err(e) = socket::set_ttl(&sock, v6, ttl) {
            return failed(&e, start, true);
        }
    }
    let sent = SystemTime::now();
    let start = Instant::now();
    match sock.connect(&SockAddr::from(addr)) {
        Ok(()) => return opened(sock, start, start.elapsed(), settings).await,
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return failed(&e, start, true),
    }
    let fd = match socket::register(sock, Interest::WRITABLE | Interest::ERROR) {
        Ok(fd) => fd,
        Err(e) => return failed(&e, start, true),
    };
    match tokio::time::timeout(settings.wait, settle(&fd, v6, sent, start)).await {
        Err(_) => Attempt::Timeout {
            waited: settings.wait,
        },
        Ok(Some(failure)) => failure,
        Ok(None) => {
            let rtt = start.elapsed();
            opened(fd.into_inner(), start, rtt, settings).await
        }
    }
}

/// Runs the handshake of a connection to keep (`netdx tcp --hold`): on
/// `sock`, whose options the caller set, to `addr` within `wait`. The
/// connected socket comes back registered for reading, with the time the
/// handshake took; a failure comes back as the attempt a probe would report.
pub async fn handshake(
    sock: Socket,
    addr: SocketAddr,
    wait: Duration,
) -> Result<(AsyncFd<Socket>, Duration), Attempt> {
    let v6 = addr.is_ipv6();
    let sent = SystemTime::now();
    let start = Instant::now();
    match sock.connect(&SockAddr::from(addr)) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(failed(&e, start, true)),
    }
    let interest = Interest::WRITABLE | Interest::READABLE | Interest::ERROR;
    let fd = socket::register(sock, interest).map_err(|e| failed(&e, start, true))?;
    match tokio::time::timeout(wait, settle(&fd, v6, sent, start)).await {
        Err(_) => Err(Attempt::Timeout { waited: wait }),
        Ok(Some(failure)) => Err(failure),
        Ok(None) => Ok((fd, start.elapsed())),
    }
}

/// A failure known from an io::Error.
fn failed(err: &io::Error, start: Instant, immediate: bool) -> Attempt {
    Attempt::Failed {
        errno: err.raw_os_error().unwrap_or(libc::EIO),
        elapsed: start.elapsed(),
        icmp: None,
        immediate,
    }
}

/// Waits until the connect settles: None when connected, else the failure
/// with the ICMP error the kernel queued for it, if any.
async fn settle(
    fd: &AsyncFd<Socket>,
    v6: bool,
    sent: SystemTime,
    start: Instant,
) -> Option<Attempt> {
    loop {
        let mut guard = match fd.ready(Interest::WRITABLE | Interest::ERROR).await {
            Ok(g) => g,
            Err(e) => return Some(failed(&e, start, false)),
        };
        let queued = queued_error(fd.get_ref(), v6, sent);
        let errno = match fd.get_ref().take_error() {
            Ok(Some(e)) => Some(e.raw_os_error().unwrap_or(libc::EIO)),
            Ok(None) => None,
            Err(e) => return Some(failed(&e, start, false)),
        };
        // A queued error settles the attempt even when the kernel left the
        // connect running (a soft error while the socket was busy).
        if let Some(errno) = errno.or(queued.map(|q| q.errno)) {
            // An RST in SYN_SENT is ECONNREFUSED; ECONNRESET means the
            // handshake had completed when the RST came.
            if errno == libc::ECONNRESET {
                return Some(Attempt::ResetAfterAccept {
                    rtt: None,
                    elapsed: start.elapsed(),
                });
            }
            return Some(Attempt::Failed {
                errno,
                elapsed: start.elapsed(),
                icmp: queued.and_then(|q| q.icmp),
                immediate: false,
            });
        }
        if fd.get_ref().peer_addr().is_ok() {
            return None;
        }
        guard.clear_ready();
    }
}

/// The first error on the socket's IP_RECVERR queue.
#[derive(Debug, Clone, Copy)]
struct Queued {
    errno: i32,
    icmp: Option<IcmpOrigin>,
}

/// Drains the error queue, keeping the first ICMP error (it names the
/// router), else the first local one.
fn queued_error(sock: &Socket, v6: bool, sent: SystemTime) -> Option<Queued> {
    let mut buf = [0u8; 512];
    let mut found: Option<Queued> = None;
    // A TCP socket queues at most a few errors; the bound only guards
    // against a kernel that keeps answering.
    for _ in 0..16 {
        let Ok(rx) = socket::receive(sock.as_raw_fd(), &mut buf, true) else {
            break;
        };
        let Some(err) = rx.error else { continue };
        let icmp = match (err.from_icmp, err.offender) {
            (true, Some(from)) => Some(IcmpOrigin {
                from,
                v6: v6 || from.is_ipv6(),
                icmp_type: err.icmp_type,
                code: err.code,
                info: err.info,
                after: rx.stamp.and_then(|s| s.duration_since(sent).ok()),
            }),
            _ => None,
        };
        let this = Queued {
            errno: err.errno,
            icmp,
        };
        match found {
            None => found = Some(this),
            Some(f) if f.icmp.is_none() && this.icmp.is_some() => found = Some(this),
            Some(_) => {}
        }
    }
    found
}

/// The handshake completed: tells a self-connect from a listener, watches
/// briefly for an accept-then-reset, and reads the banner when asked.
async fn opened(sock: Socket, start: Instant, rtt: Duration, settings: Settings) -> Attempt {
    let local = sock.local_addr().ok().and_then(|a| a.as_socket());
    let peer = sock.peer_addr().ok().and_then(|a| a.as_socket());
    if local.is_some() && local == peer {
        // Dropping `sock` closes it, freeing the port again.
        return Attempt::SelfConnect { elapsed: rtt };
    }
    let grace = (rtt * 4)
        .clamp(RESET_GRACE_MIN, RESET_GRACE_MAX)
        .min(settings.wait.saturating_sub(start.elapsed()));
    let sock = match watch_for_reset(sock, grace).await {
        Ok(Some(sock)) => sock,
        Ok(None) => {
            return Attempt::Open {
                rtt,
                local,
                banner: settings.banner.map(|_| Vec::new()),
            }
        }
        Err(()) => {
            return Attempt::ResetAfterAccept {
                rtt: Some(rtt),
                elapsed: start.elapsed(),
            }
        }
    };
    let banner = match settings.banner {
        Some(limit) => Some(read_banner(sock, limit).await),
        None => None,
    };
    Attempt::Open { rtt, local, banner }
}

/// Waits up to `grace` for the socket to turn readable or errored; Err when
/// the peer reset it (ECONNRESET pending, or a peek that says so). Data or a
/// FIN leave it open: the banner reader sees them next. Ok(None) when the
/// socket could not be watched (the reactor refused it; it is closed).
async fn watch_for_reset(sock: Socket, grace: Duration) -> Result<Option<Socket>, ()> {
    if grace.is_zero() {
        return Ok(Some(sock));
    }
    let Ok(fd) = socket::register(sock, Interest::READABLE | Interest::ERROR) else {
        return Ok(None);
    };
    let ready = tokio::time::timeout(grace, fd.ready(Interest::READABLE | Interest::ERROR)).await;
    if let Ok(Ok(mut guard)) = ready {
        guard.clear_ready();
    }
    let sock = fd.into_inner();
    if let Ok(Some(e)) = sock.take_error() {
        if e.raw_os_error() == Some(libc::ECONNRESET) {
            return Err(());
        }
    }
    let mut probe = [std::mem::MaybeUninit::<u8>::uninit(); 1];
    match sock.peek(&mut probe) {
        Err(e) if e.raw_os_error() == Some(libc::ECONNRESET) => Err(()),
        _ => Ok(Some(sock)),
    }
}

/// Reads what the server says first: waits up to `limit` for the first
/// bytes, then a short moment for the rest of the greeting.
async fn read_banner(socket: Socket, limit: Duration) -> Vec<u8> {
    let std_stream: std::net::TcpStream = socket.into();
    let Ok(mut stream) = tokio::net::TcpStream::from_std(std_stream) else {
        return Vec::new();
    };
    let mut buf = vec![0u8; BANNER_CAP];
    let mut got = 0;
    let mut wait = limit;
    while got < BANNER_CAP {
        match tokio::time::timeout(wait, stream.read(&mut buf[got..])).await {
            Ok(Ok(n)) if n > 0 => got += n,
            _ => break,
        }
        wait = Duration::from_millis(50);
    }
    buf.truncate(got);
    buf
}

/// Makes banner bytes safe to print: printable ASCII stays, everything else
/// becomes an escape (`\r`, `\n`, `\x1b`), so a hostile server cannot drive
/// the terminal.
pub fn escape(bytes: &[u8]) -> String {
    bytes
        .iter()
        .flat_map(|b| std::ascii::escape_default(*b))
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banners_are_escaped() {
        assert_eq!(escape(b"SSH-2.0\r\n\x1b[2J"), "SSH-2.0\\r\\n\\x1b[2J");
    }

    #[test]
    fn a_refused_connect_is_failed_with_econnrefused() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("runtime: {e}"));
        // Bind a port and close it again: nothing listens there now.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        match rt.block_on(probe(addr, Duration::from_secs(2), None)) {
            Attempt::Failed { errno, icmp, .. } => {
                assert_eq!(errno, libc::ECONNREFUSED);
                assert!(icmp.is_none());
            }
            Attempt::SelfConnect { .. } => {}
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
}
