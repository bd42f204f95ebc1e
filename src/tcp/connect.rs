//! One TCP connect probe: a real kernel `connect()` on a non-blocking socket,
//! bounded by a timeout, with the errno kept as it is and, when an ICMP error
//! caused it, the router that sent it read from the socket error queue
//! (IP_RECVERR / IPV6_RECVERR).

use serde::Serialize;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncReadExt, Interest};

/// Most banner bytes kept; services greet in one short line.
pub const BANNER_CAP: usize = 256;

/// The ICMP error behind a failed connect, as the kernel reported it.
#[derive(Debug, Clone, Copy, Serialize)]
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
    /// No answer at all within the wait.
    Timeout {
        /// How long we waited.
        waited: Duration,
    },
}

/// Connects to `addr`, waiting at most `wait`; with `banner`, then reads
/// what the server sends within that time.
pub async fn probe(addr: SocketAddr, wait: Duration, banner: Option<Duration>) -> Attempt {
    let start = Instant::now();
    let failed = |err: &io::Error, immediate: bool| Attempt::Failed {
        errno: err.raw_os_error().unwrap_or(libc::EIO),
        elapsed: start.elapsed(),
        icmp: None,
        immediate,
    };
    let socket = match open(addr) {
        Ok(s) => s,
        Err(e) => return failed(&e, true),
    };
    match socket.connect(&SockAddr::from(addr)) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return failed(&e, true),
    }
    // SAFETY: the socket2 Socket owns its descriptor and keeps it open and
    // unchanged until the AsyncFd is dropped or into_inner() returns it.
    let fd = match unsafe { AsyncFd::register_with_interest(socket, Interest::WRITABLE) } {
        Ok(fd) => fd,
        Err(e) => return failed(&e.into_parts().1, true),
    };
    match tokio::time::timeout(wait, fd.writable()).await {
        Err(_) => return Attempt::Timeout { waited: wait },
        Ok(Err(e)) => return failed(&e, false),
        Ok(Ok(_guard)) => {}
    }
    let rtt = start.elapsed();
    match fd.get_ref().take_error() {
        Ok(None) => {}
        Ok(Some(e)) => {
            return Attempt::Failed {
                errno: e.raw_os_error().unwrap_or(libc::EIO),
                elapsed: rtt,
                icmp: read_icmp_error(fd.get_ref().as_raw_fd(), addr.is_ipv6()),
                immediate: false,
            }
        }
        Err(e) => return failed(&e, false),
    }
    let local = fd.get_ref().local_addr().ok().and_then(|a| a.as_socket());
    let peer = fd.get_ref().peer_addr().ok().and_then(|a| a.as_socket());
    if local.is_some() && local == peer {
        // Dropping `fd` closes the socket, freeing the port again.
        return Attempt::SelfConnect { elapsed: rtt };
    }
    let banner = match banner {
        Some(limit) => Some(read_banner(fd.into_inner(), limit).await),
        None => None,
    };
    Attempt::Open { rtt, local, banner }
}

/// A non-blocking TCP socket that queues ICMP errors for us to read.
fn open(addr: SocketAddr) -> io::Result<Socket> {
    let socket = Socket::new(
        Domain::for_address(addr),
        Type::STREAM.nonblocking().cloexec(),
        Some(Protocol::TCP),
    )?;
    let (level, name) = if addr.is_ipv6() {
        (libc::IPPROTO_IPV6, libc::IPV6_RECVERR)
    } else {
        (libc::IPPROTO_IP, libc::IP_RECVERR)
    };
    set_int(socket.as_raw_fd(), level, name, 1)?;
    Ok(socket)
}

/// setsockopt for an int option socket2 does not wrap.
fn set_int(fd: RawFd, level: libc::c_int, name: libc::c_int, value: libc::c_int) -> io::Result<()> {
    // SAFETY: fd is an open socket owned by the caller; the option value is
    // a c_int on the stack whose size we pass.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Reads the first ICMP error from the socket's error queue: who sent it,
/// with which type and code. None when the failure was not an ICMP error.
fn read_icmp_error(fd: RawFd, v6: bool) -> Option<IcmpOrigin> {
    let mut data = [0u8; 64];
    let mut control = [0u64; 64];
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    // SAFETY: an all-zero msghdr is a valid empty header.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    // SAFETY: msg points at buffers that live until the call returns.
    let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT) };
    if n < 0 {
        return None;
    }
    // SAFETY: the CMSG_* macros walk the control buffer the kernel filled,
    // within msg_controllen; the payload is read unaligned.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            let hdr = &*cmsg;
            let ours = (hdr.cmsg_level == libc::IPPROTO_IP && hdr.cmsg_type == libc::IP_RECVERR)
                || (hdr.cmsg_level == libc::IPPROTO_IPV6 && hdr.cmsg_type == libc::IPV6_RECVERR);
            if ours {
                let ee_ptr = libc::CMSG_DATA(cmsg) as *const libc::sock_extended_err;
                let ee = std::ptr::read_unaligned(ee_ptr);
                let icmp = ee.ee_origin == libc::SO_EE_ORIGIN_ICMP
                    || ee.ee_origin == libc::SO_EE_ORIGIN_ICMP6;
                if icmp {
                    let from = offender(libc::SO_EE_OFFENDER(ee_ptr))?;
                    return Some(IcmpOrigin {
                        from,
                        v6: v6 || ee.ee_origin == libc::SO_EE_ORIGIN_ICMP6,
                        icmp_type: ee.ee_type,
                        code: ee.ee_code,
                    });
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    None
}

/// The address in a SO_EE_OFFENDER sockaddr.
///
/// # Safety
/// `sa` must point at a sockaddr_in or sockaddr_in6 as the kernel wrote it.
unsafe fn offender(sa: *const libc::sockaddr) -> Option<IpAddr> {
    match i32::from(std::ptr::read_unaligned(sa).sa_family) {
        libc::AF_INET => {
            let sin = std::ptr::read_unaligned(sa as *const libc::sockaddr_in);
            Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                sin.sin_addr.s_addr,
            ))))
        }
        libc::AF_INET6 => {
            let sin6 = std::ptr::read_unaligned(sa as *const libc::sockaddr_in6);
            Some(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)))
        }
        _ => None,
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
}
