//! The sockets of a request/response client such as DNS: a connected UDP
//! socket that also reports the ICMP errors its datagrams draw (IP_RECVERR),
//! and a TCP stream. Callers hand over bytes and deadlines and get bytes or
//! a typed error back; what the bytes mean stays with them.

use super::socket::{self, QueuedError};
use std::io::{self, ErrorKind};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::{TcpStream, UdpSocket};

/// An ICMP error about one of our datagrams, read from the error queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpNotice {
    /// The router or host that sent it.
    pub from: IpAddr,
    /// True for ICMPv6 (type/code numbering differs).
    pub v6: bool,
    /// ICMP type.
    pub icmp_type: u8,
    /// ICMP code.
    pub code: u8,
}

/// Why a UDP send or receive failed, as precisely as the kernel told.
#[derive(Debug)]
pub enum UdpError {
    /// An ICMP error came back for a datagram (port unreachable, admin
    /// prohibited, no route at a router…).
    Icmp(IcmpNotice),
    /// The error queue held a local error without an ICMP sender.
    Queued(io::Error),
    /// A plain socket error.
    Io(io::Error),
}

/// A UDP socket connected to one peer that asks for every ICMP error
/// about its datagrams, so a rejection is told apart from silence.
#[derive(Debug)]
pub struct UdpPeer {
    socket: UdpSocket,
    peer: SocketAddr,
}

impl UdpPeer {
    /// Opens the socket on the peer's family and connects it.
    pub async fn connect(peer: SocketAddr) -> io::Result<UdpPeer> {
        let local: SocketAddr = match peer.ip() {
            IpAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
            IpAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let udp = UdpSocket::bind(local).await?;
        let fd = udp.as_raw_fd();
        // IP_RECVERR / IPV6_RECVERR: every ICMP error about our datagrams
        // is queued with the sender's address, not only the "hard" ones.
        if peer.is_ipv6() {
            socket::set_int(fd, libc::IPPROTO_IPV6, libc::IPV6_RECVERR, 1)?;
        } else {
            socket::set_int(fd, libc::IPPROTO_IP, libc::IP_RECVERR, 1)?;
        }
        udp.connect(peer).await?;
        Ok(UdpPeer { socket: udp, peer })
    }

    /// Sends one datagram; a pending ICMP error from an earlier one
    /// surfaces here.
    pub async fn send(&self, bytes: &[u8]) -> Result<(), UdpError> {
        let mut buf = [0u8; 512];
        match self.socket.send(bytes).await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.queued(&mut buf).unwrap_or(UdpError::Io(e))),
        }
    }

    /// Waits until `until` for the next datagram and copies it into `buf`;
    /// `Ok(None)` when the time ran out first.
    pub async fn recv_until(
        &self,
        until: Instant,
        buf: &mut [u8],
    ) -> Result<Option<usize>, UdpError> {
        loop {
            let left = until.saturating_duration_since(Instant::now());
            let ready = self.socket.ready(Interest::READABLE | Interest::ERROR);
            match tokio::time::timeout(left, ready).await {
                Err(_) => return Ok(None),
                Ok(Err(e)) => return Err(UdpError::Io(e)),
                Ok(Ok(_)) => {}
            }
            if let Some(failure) = self.queued(buf) {
                return Err(failure);
            }
            match self.socket.try_recv(buf) {
                Ok(n) => return Ok(Some(n)),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                // The socket error that mirrors a queued ICMP error.
                Err(e) => return Err(self.queued(buf).unwrap_or(UdpError::Io(e))),
            }
        }
    }

    /// Reads one error from the socket's error queue, if one is queued.
    fn queued(&self, buf: &mut [u8]) -> Option<UdpError> {
        let fd = self.socket.as_raw_fd();
        let queued = self
            .socket
            .try_io(Interest::ERROR, || socket::receive(fd, buf, true))
            .or_else(|_| socket::receive(fd, buf, true))
            .ok()?;
        queued.error.map(|e| self.classify(&e))
    }

    fn classify(&self, e: &QueuedError) -> UdpError {
        match e.offender.filter(|_| e.from_icmp) {
            Some(from) => UdpError::Icmp(IcmpNotice {
                from,
                v6: self.peer.is_ipv6(),
                icmp_type: e.icmp_type,
                code: e.code,
            }),
            None => UdpError::Queued(io::Error::from_raw_os_error(e.errno)),
        }
    }
}

/// A TCP connection to one peer, for length-framed request/response.
#[derive(Debug)]
pub struct TcpPeer {
    stream: TcpStream,
}

impl TcpPeer {
    /// Connects (the caller bounds the time).
    pub async fn connect(peer: SocketAddr) -> io::Result<TcpPeer> {
        Ok(TcpPeer {
            stream: TcpStream::connect(peer).await?,
        })
    }

    /// Sends all of `bytes`.
    pub async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await
    }

    /// Reads exactly `buf.len()` bytes.
    pub async fn recv_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        self.stream.read_exact(buf).await.map(|_| ())
    }
}
