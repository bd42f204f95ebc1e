//! A TCP connection kept open on purpose (`netdx tcp --hold`): opened with
//! its keepalive and user-timeout options, then watched — what arrives, how
//! it ends, and what the kernel's TCP_INFO says meanwhile. The options are
//! set through `socket.rs`, the handshake is `connect.rs`'s; this file only
//! keeps the connection and reads it.

use super::connect::{self, Attempt};
use super::socket::{self, TcpInfo};
use socket2::Socket;
use std::io;
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// Keepalive timing of one socket (TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Keepalive {
    /// Idle seconds before the first probe.
    pub idle: u32,
    /// Seconds between unanswered probes.
    pub intvl: u32,
    /// Unanswered probes before the kernel gives up.
    pub count: u32,
}

impl Keepalive {
    /// The longest a silent peer can go unnoticed: idle + intvl × count.
    pub fn promise(&self) -> Duration {
        Duration::from_secs(u64::from(self.idle) + u64::from(self.intvl) * u64::from(self.count))
    }
}

/// How the held connection is opened.
#[derive(Debug, Clone, Copy)]
pub struct HoldSettings {
    /// Keepalive timing, when asked.
    pub keepalive: Option<Keepalive>,
    /// TCP_USER_TIMEOUT, when asked.
    pub user_timeout: Option<Duration>,
    /// Longest wait for the handshake.
    pub wait: Duration,
}

/// One thing that happened on the held connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// The peer sent this many bytes (read and discarded).
    Data(usize),
    /// The peer closed its side (FIN): a read returned end of file.
    Closed,
    /// The connection failed with this errno (ECONNRESET, ETIMEDOUT…).
    Failed(i32),
}

/// An open connection being held.
pub struct Held {
    fd: AsyncFd<Socket>,
    /// Time the handshake took.
    pub rtt: Duration,
    /// Our side of the connection.
    pub local: Option<SocketAddr>,
}

/// Opens the connection with the options of `settings`; a failed handshake
/// comes back as the attempt `netdx tcp` would have reported.
pub async fn open(addr: SocketAddr, settings: HoldSettings) -> Result<Held, Attempt> {
    let start = std::time::Instant::now();
    let local_failure = |e: io::Error| Attempt::Failed {
        errno: e.raw_os_error().unwrap_or(libc::EIO),
        elapsed: start.elapsed(),
        icmp: None,
        immediate: true,
    };
    let sock = socket::tcp_connect_socket(addr.is_ipv6(), socket::Close::Graceful)
        .map_err(local_failure)?;
    if let Some(k) = settings.keepalive {
        socket::set_keepalive(&sock, k.idle, k.intvl, k.count).map_err(local_failure)?;
    }
    if let Some(t) = settings.user_timeout {
        socket::set_user_timeout(&sock, t).map_err(local_failure)?;
    }
    let (fd, rtt) = connect::handshake(sock, addr, settings.wait).await?;
    let local = fd.get_ref().local_addr().ok().and_then(|a| a.as_socket());
    Ok(Held { fd, rtt, local })
}

impl Held {
    /// Waits for the next thing the peer (or the kernel) does.
    pub async fn wake(&self) -> Wake {
        let mut buf = [MaybeUninit::<u8>::uninit(); 4096];
        loop {
            let mut guard = match self.fd.ready(Interest::READABLE | Interest::ERROR).await {
                Ok(g) => g,
                Err(e) => return Wake::Failed(e.raw_os_error().unwrap_or(libc::EIO)),
            };
            if let Ok(Some(e)) = self.fd.get_ref().take_error() {
                return Wake::Failed(e.raw_os_error().unwrap_or(libc::EIO));
            }
            match self.fd.get_ref().recv(&mut buf) {
                Ok(0) => return Wake::Closed,
                Ok(n) => return Wake::Data(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => guard.clear_ready(),
                Err(e) => return Wake::Failed(e.raw_os_error().unwrap_or(libc::EIO)),
            }
        }
    }

    /// Sends one byte of application data; a full send buffer is not an
    /// error (the byte is simply not sent), a dead connection is its errno.
    pub fn send_byte(&self) -> Result<bool, i32> {
        match self.fd.get_ref().send_with_flags(b".", libc::MSG_NOSIGNAL) {
            Ok(n) => Ok(n > 0),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
            Err(e) => Err(e.raw_os_error().unwrap_or(libc::EIO)),
        }
    }

    /// What the kernel knows about the connection now.
    pub fn info(&self) -> io::Result<TcpInfo> {
        socket::tcp_info(self.fd.get_ref())
    }
}
