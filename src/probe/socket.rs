//! Opens the probe sockets — raw when the process has CAP_NET_RAW, else the
//! kernel's unprivileged ICMP datagram sockets — and receives from them with
//! the ancillary data that matters: receive TTL, kernel timestamps, and the
//! ICMP errors the kernel queues with IP_RECVERR. The socket options and
//! the control-message parsing of every probe socket live here, through nix
//! where it knows them (libc for the ICMP filters it does not).

use crate::error::{AppError, AppResult};
use nix::sys::socket::{
    recvmsg, setsockopt, sockopt, ControlMessageOwned, MsgFlags, SetSockOpt, SockaddrStorage,
};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::io;
use std::mem::size_of;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Whether the socket sees whole ICMP traffic (raw) or only its own echo
/// traffic plus queued errors (datagram, unprivileged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SocketMode {
    /// SOCK_RAW: needs CAP_NET_RAW; sees every ICMP message.
    Raw,
    /// SOCK_DGRAM + IPPROTO_ICMP: allowed by `net.ipv4.ping_group_range`.
    Datagram,
    /// TCP probes without privileges: one kernel connect() per probe, the
    /// routers' errors read from its IP_RECVERR queue (traceroute's tcpconn).
    Connect,
}

/// Where probes leave from: a source address and/or an interface.
#[derive(Debug, Clone, Default)]
pub struct Binding {
    /// Source address to bind.
    pub source: Option<IpAddr>,
    /// Interface to bind with SO_BINDTODEVICE.
    pub device: Option<String>,
    /// Path MTU discovery of every probe socket (iputils' `-M`); None keeps
    /// the kernel's default (want: DF set, fragment above the known PMTU).
    pub pmtu: Option<PmtuDisc>,
}

/// IP_MTU_DISCOVER / IPV6_MTU_DISCOVER, as iputils' `ping -M` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PmtuDisc {
    /// `do`: DF set, never fragment; a size over the path MTU fails locally
    /// (EMSGSIZE) or comes back as Fragmentation Needed / Packet Too Big.
    Do,
    /// `want`: DF set while the packet fits the known path MTU, else fragment.
    Want,
    /// `dont`: DF clear, fragment as needed.
    Dont,
    /// `probe`: DF set and the learnt path MTU ignored (sizes up to the
    /// interface MTU leave, so every router on the way answers again).
    Probe,
}

impl PmtuDisc {
    /// Reads iputils' words `do`, `want`, `dont`.
    pub fn parse(text: &str) -> Option<PmtuDisc> {
        match text {
            "do" => Some(PmtuDisc::Do),
            "want" => Some(PmtuDisc::Want),
            "dont" => Some(PmtuDisc::Dont),
            "probe" => Some(PmtuDisc::Probe),
            _ => None,
        }
    }

    /// The kernel's value for the option (the v4 and v6 constants agree).
    fn value(self) -> i32 {
        match self {
            PmtuDisc::Do => libc::IP_PMTUDISC_DO,
            PmtuDisc::Want => libc::IP_PMTUDISC_WANT,
            PmtuDisc::Dont => libc::IP_PMTUDISC_DONT,
            PmtuDisc::Probe => libc::IP_PMTUDISC_PROBE,
        }
    }
}

/// Sets IP_MTU_DISCOVER (IPV6_MTU_DISCOVER) on a probe socket.
pub fn set_pmtu(socket: &Socket, v6: bool, mode: PmtuDisc) -> io::Result<()> {
    let (level, name) = if v6 {
        (libc::IPPROTO_IPV6, libc::IPV6_MTU_DISCOVER)
    } else {
        (libc::IPPROTO_IP, libc::IP_MTU_DISCOVER)
    };
    set_int(socket.as_raw_fd(), level, name, mode.value())
}

/// The MTU of the interface probes to `target` leave by (the bound one, or
/// the one holding the route's source address), learnt path MTUs aside:
/// where tracepath and `traceroute --mtu` start.
pub fn interface_mtu(target: IpAddr, binding: &Binding) -> Option<u32> {
    let name = match &binding.device {
        Some(dev) => dev.clone(),
        None => {
            let src = source_for(target, binding).ok()?;
            nix::ifaddrs::getifaddrs()
                .ok()?
                .find(|ifa| ifa.address.as_ref().and_then(storage_ip) == Some(src))?
                .interface_name
        }
    };
    if name.contains('/') || name.contains("..") {
        return None;
    }
    std::fs::read_to_string(format!("/sys/class/net/{name}/mtu"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The MTU the kernel holds for the route to `target` (IP_MTU on a
/// connected UDP socket): the interface MTU, or the path MTU learnt from a
/// Fragmentation Needed / Packet Too Big. What iputils prints after
/// "message too long".
pub fn route_mtu(target: IpAddr, binding: &Binding) -> Option<u32> {
    let v6 = target.is_ipv6();
    let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
    let socket = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP)).ok()?;
    if let Some(dev) = &binding.device {
        socket.bind_device(Some(dev.as_bytes())).ok()?;
    }
    socket
        .connect(&SockAddr::from(SocketAddr::new(target, 9)))
        .ok()?;
    let (level, name) = if v6 {
        (libc::IPPROTO_IPV6, libc::IPV6_MTU)
    } else {
        (libc::IPPROTO_IP, libc::IP_MTU)
    };
    let mut value: i32 = 0;
    let mut len = size_of::<i32>() as libc::socklen_t;
    // SAFETY: passes a live c_int and its exact size for the kernel to fill.
    let rc = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            level,
            name,
            &mut value as *mut i32 as *mut libc::c_void,
            &mut len,
        )
    };
    if rc == 0 {
        u32::try_from(value).ok()
    } else {
        None
    }
}

impl Binding {
    /// Interprets `-I`: an address literal is a source, anything else an interface.
    pub fn from_flag(flag: Option<&str>) -> AppResult<Binding> {
        let Some(text) = flag else {
            return Ok(Binding::default());
        };
        if let Ok(addr) = text.parse::<IpAddr>() {
            return Ok(Binding {
                source: Some(addr),
                ..Binding::default()
            });
        }
        Ok(Binding {
            device: Some(checked_device("-I", text)?),
            ..Binding::default()
        })
    }

    /// Interprets a source flag and an interface flag given separately (as
    /// traceroute's `-s`/`-i` and mtr's `-a`/`-I`); each pair is the flag's
    /// name (for the error line) and its value.
    pub fn from_parts(
        source: Option<(&str, &str)>,
        device: Option<(&str, &str)>,
    ) -> AppResult<Binding> {
        let source = match source {
            None => None,
            Some((flag, text)) => Some(
                text.parse::<IpAddr>()
                    .map_err(|_| AppError::usage(format!("{flag} {text}: not an IP address")))?,
            ),
        };
        let device = match device {
            None => None,
            Some((flag, text)) => Some(checked_device(flag, text)?),
        };
        Ok(Binding {
            source,
            device,
            pmtu: None,
        })
    }
}

/// An interface name that exists here: a malformed name is a usage error
/// (exit 2), a well-formed one that is missing means we cannot run (exit 3).
fn checked_device(flag: &str, text: &str) -> AppResult<String> {
    if text.is_empty() || text.len() >= libc::IFNAMSIZ || text.contains('/') {
        return Err(AppError::usage(format!(
            "{flag} {text}: not an interface name or address"
        )));
    }
    let cname = std::ffi::CString::new(text)
        .map_err(|_| AppError::usage(format!("{flag} {text}: not an interface name")))?;
    // SAFETY: cname is a valid NUL-terminated string.
    if unsafe { libc::if_nametoindex(cname.as_ptr()) } == 0 {
        return Err(AppError::cannot_run(format!(
            "{flag} {text}: no such interface here (see `ip link`)"
        )));
    }
    Ok(text.to_string())
}

/// Opens an ICMP (v4) or ICMPv6 probe socket, raw if allowed, else datagram.
pub fn open_icmp(v6: bool, binding: &Binding) -> AppResult<(Socket, SocketMode)> {
    let (domain, proto) = if v6 {
        (Domain::IPV6, Protocol::ICMPV6)
    } else {
        (Domain::IPV4, Protocol::ICMPV4)
    };
    let (socket, mode) = match Socket::new(domain, Type::RAW, Some(proto)) {
        Ok(s) => (s, SocketMode::Raw),
        Err(raw_err) if is_permission(&raw_err) => {
            match Socket::new(domain, Type::DGRAM, Some(proto)) {
                Ok(s) => (s, SocketMode::Datagram),
                Err(e) if is_permission(&e) => return Err(no_privilege_error(v6)),
                Err(e) => {
                    return Err(AppError::cannot_run(format!(
                        "cannot open an ICMP socket: {e}"
                    )))
                }
            }
        }
        Err(e) => {
            return Err(AppError::cannot_run(format!(
                "cannot open a raw ICMP socket: {e}"
            )))
        }
    };
    configure(&socket, v6, mode)
        .map_err(|e| AppError::cannot_run(format!("cannot configure the ICMP socket: {e}")))?;
    apply_binding(&socket, v6, binding)?;
    Ok((socket, mode))
}

fn is_permission(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EPERM) | Some(libc::EACCES))
}

/// The one error that names both ways to grant ICMP access.
pub fn no_privilege_error(v6: bool) -> AppError {
    let _ = v6;
    AppError::cannot_run(
        "no permission for ICMP sockets: run as root, or `setcap cap_net_raw+ep $(which netdx)`, \
         or allow unprivileged ICMP with `sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"`",
    )
}

fn configure(socket: &Socket, v6: bool, mode: SocketMode) -> io::Result<()> {
    socket.set_nonblocking(true)?;
    let _ = socket.set_recv_buffer_size(1 << 20);
    let fd = socket.as_raw_fd();
    enable(socket, sockopt::ReceiveTimestampns)?;
    if mode == SocketMode::Raw {
        install_icmp_filter(fd, v6)?;
    }
    if v6 {
        enable(socket, sockopt::Ipv6RecvHopLimit)?;
        if mode == SocketMode::Datagram {
            enable(socket, sockopt::Ipv6RecvErr)?;
            enable_rfc4884(socket, true);
        }
    } else {
        if mode == SocketMode::Datagram {
            enable(socket, sockopt::Ipv4RecvTtl)?;
            enable(socket, sockopt::Ipv4RecvErr)?;
            enable_rfc4884(socket, false);
        }
    }
    Ok(())
}

fn apply_binding(socket: &Socket, v6: bool, binding: &Binding) -> AppResult<()> {
    if let Some(mode) = binding.pmtu {
        set_pmtu(socket, v6, mode).map_err(|e| {
            AppError::cannot_run(format!(
                "cannot set path MTU discovery on a probe socket: {e}"
            ))
        })?;
    }
    if let Some(dev) = &binding.device {
        socket
            .bind_device(Some(dev.as_bytes()))
            .map_err(|e| AppError::cannot_run(format!("cannot bind to interface {dev}: {e}")))?;
    }
    if let Some(src) = binding.source {
        if src.is_ipv6() != v6 {
            return Err(AppError::usage(format!(
                "source address {src} is not of the target's address family"
            )));
        }
        socket
            .bind(&SockAddr::from(SocketAddr::new(src, 0)))
            .map_err(|e| {
                AppError::cannot_run(format!(
                    "cannot use source address {src}: {e} (is it configured on this host?)"
                ))
            })?;
    }
    Ok(())
}

/// Linux's `SOL_RAW` level and its `ICMP_FILTER` option (linux/icmp.h).
const SOL_RAW: i32 = 255;
const ICMP_FILTER: i32 = 1;
/// `ICMP6_FILTER` (linux/icmpv6.h), at level IPPROTO_ICMPV6.
const ICMP6_FILTER: i32 = 1;

/// Lets the kernel drop, before queueing, every ICMP type a probe cannot be
/// answered by (our own echo requests on loopback, neighbour discovery…):
/// fewer wake-ups and a lower RTT floor, as iputils does.
fn install_icmp_filter(fd: i32, v6: bool) -> io::Result<()> {
    use super::packet::{v4types, v6types};
    let (level, name, words): (i32, i32, Vec<u32>) = if v6 {
        let mut words = vec![u32::MAX; 8];
        for t in [
            v6types::ECHO_REPLY,
            v6types::DEST_UNREACH,
            v6types::PACKET_TOO_BIG,
            v6types::TIME_EXCEEDED,
            v6types::PARAM_PROBLEM,
        ] {
            words[usize::from(t >> 5)] &= !(1u32 << (t & 31));
        }
        (libc::IPPROTO_ICMPV6, ICMP6_FILTER, words)
    } else {
        let allowed = [
            v4types::ECHO_REPLY,
            v4types::DEST_UNREACH,
            v4types::TIME_EXCEEDED,
            v4types::PARAM_PROBLEM,
        ]
        .iter()
        .fold(0u32, |acc, t| acc | (1u32 << t));
        (SOL_RAW, ICMP_FILTER, vec![!allowed])
    };
    // SAFETY: passes a live u32 array with its exact byte size.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            words.as_ptr() as *const libc::c_void,
            (words.len() * size_of::<u32>()) as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Sets an integer socket option by level and name: for the options nix
/// does not know (and for callers outside the probe core that name theirs).
pub fn set_int(fd: i32, level: i32, name: i32, value: i32) -> io::Result<()> {
    // SAFETY: passes a pointer to a live c_int with its exact size.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            &value as *const i32 as *const libc::c_void,
            size_of::<i32>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Turns on keepalive with its own timing (SO_KEEPALIVE, TCP_KEEPIDLE,
/// TCP_KEEPINTVL, TCP_KEEPCNT): per socket, so a held connection does not
/// depend on the host's tcp_keepalive_* sysctls.
pub fn set_keepalive(socket: &Socket, idle: u32, intvl: u32, count: u32) -> io::Result<()> {
    let fd = socket.as_raw_fd();
    let int = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    set_int(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1)?;
    set_int(fd, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, int(idle))?;
    set_int(fd, libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, int(intvl))?;
    set_int(fd, libc::IPPROTO_TCP, libc::TCP_KEEPCNT, int(count))
}

/// Sets TCP_USER_TIMEOUT: how long sent data (or keepalive probes) may stay
/// unacknowledged before the kernel gives up with ETIMEDOUT.
pub fn set_user_timeout(socket: &Socket, limit: Duration) -> io::Result<()> {
    let ms = i32::try_from(limit.as_millis()).unwrap_or(i32::MAX);
    set_int(
        socket.as_raw_fd(),
        libc::IPPROTO_TCP,
        libc::TCP_USER_TIMEOUT,
        ms,
    )
}

/// What the kernel knows about one TCP connection (a subset of
/// `struct tcp_info`): what `ss -ti` shows, read with getsockopt(TCP_INFO).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct TcpInfo {
    /// Kernel TCP state number (1 ESTABLISHED … 7 CLOSE).
    pub state: u8,
    /// Retransmissions of the current timer (unrecovered RTO timeouts).
    pub retransmits: u8,
    /// Unanswered keepalive (or zero-window) probes.
    pub probes: u8,
    /// Exponential backoff of the retransmit timer.
    pub backoff: u8,
    /// Retransmit timeout in ms.
    pub rto_ms: u32,
    /// Segments sent and not acknowledged.
    pub unacked: u32,
    /// ms since we last sent data.
    pub last_data_sent_ms: u32,
    /// ms since the peer last sent data.
    pub last_data_recv_ms: u32,
    /// ms since the peer last acknowledged anything.
    pub last_ack_recv_ms: u32,
    /// Smoothed round-trip time in microseconds.
    pub rtt_us: u32,
    /// Segments retransmitted over the connection's life.
    pub total_retrans: u32,
}

/// Reads TCP_INFO from a connected (or just failed) TCP socket.
pub fn tcp_info(socket: &Socket) -> io::Result<TcpInfo> {
    let mut buf = [0u8; 232];
    let mut len = buf.len() as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes into `buf` and updates
    // `len` to what it wrote.
    let rc = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            buf.as_mut_ptr() as *mut libc::c_void,
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    let b = &buf[..(len as usize).min(buf.len())];
    if b.len() < 104 {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "short tcp_info"));
    }
    let u32_at = |off: usize| {
        b.get(off..off + 4)
            .and_then(|s| s.try_into().ok())
            .map(u32::from_ne_bytes)
            .unwrap_or(0)
    };
    Ok(TcpInfo {
        state: b[0],
        retransmits: b[2],
        probes: b[3],
        backoff: b[4],
        rto_ms: u32_at(8) / 1000,
        unacked: u32_at(24),
        last_data_sent_ms: u32_at(44),
        last_data_recv_ms: u32_at(52),
        last_ack_recv_ms: u32_at(56),
        rtt_us: u32_at(68),
        total_retrans: u32_at(100),
    })
}

/// Sets the TTL / hop limit for the next probes sent on `socket`.
pub fn set_ttl(socket: &Socket, v6: bool, ttl: u8) -> io::Result<()> {
    if v6 {
        setsockopt(socket, sockopt::Ipv6Ttl, &i32::from(ttl)).map_err(errno_error)
    } else {
        socket.set_ttl(u32::from(ttl))
    }
}

/// Turns on a boolean socket option that nix knows.
fn enable<O: SetSockOpt<Val = bool>>(socket: &Socket, option: O) -> io::Result<()> {
    setsockopt(socket, option, &true).map_err(errno_error)
}

/// A nix error as the io::Error the rest of the probe core reads.
fn errno_error(e: nix::errno::Errno) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

/// An ICMP error the kernel queued on the socket (IP_RECVERR).
#[derive(Debug, Clone)]
pub struct QueuedError {
    /// ICMP type of the error.
    pub icmp_type: u8,
    /// ICMP code of the error.
    pub code: u8,
    /// errno the kernel mapped it to.
    pub errno: i32,
    /// Whether it came from the network (ICMP) rather than the local stack.
    pub from_icmp: bool,
    /// The router or host that sent it.
    pub offender: Option<IpAddr>,
    /// ee_info: the next-hop MTU for Fragmentation Needed / Packet Too Big.
    pub info: u32,
    /// MPLS label stack of an RFC 4884 extension the kernel found after the
    /// quoted datagram (IP_RECVERR_RFC4884, Linux 5.9+), top first.
    pub mpls: Vec<super::packet::MplsLabel>,
}

/// One datagram with its ancillary data.
#[derive(Debug, Clone)]
pub struct Received {
    /// Bytes received.
    pub len: usize,
    /// Sender address.
    pub from: Option<IpAddr>,
    /// TTL / hop limit from IP_TTL / IPV6_HOPLIMIT control messages.
    pub ttl: Option<u8>,
    /// Kernel receive timestamp (wall clock).
    pub stamp: Option<SystemTime>,
    /// Set when this came from the error queue.
    pub error: Option<QueuedError>,
}

/// Room for the control messages of one datagram (timestamp, TTL, queued
/// error with its offender), aligned as `cmsghdr` needs.
#[repr(C, align(8))]
struct ControlBuffer([u8; 512]);

/// recvmsg() with control messages; `errqueue` reads the IP_RECVERR queue.
/// nix walks the control messages and reads a queued error's offender only
/// when its control message has room for it.
pub fn receive(fd: i32, buf: &mut [u8], errqueue: bool) -> io::Result<Received> {
    let mut control = ControlBuffer([0; 512]);
    let mut iov = [io::IoSliceMut::new(buf)];
    let mut flags = MsgFlags::MSG_DONTWAIT;
    if errqueue {
        flags |= MsgFlags::MSG_ERRQUEUE;
    }
    let msg = recvmsg::<SockaddrStorage>(fd, &mut iov, Some(&mut control.0[..]), flags)
        .map_err(errno_error)?;
    let mut out = Received {
        len: msg.bytes,
        from: msg.address.as_ref().and_then(storage_ip),
        ttl: None,
        stamp: None,
        error: None,
    };
    // A truncated control buffer (never at this size) leaves only the data.
    let Ok(cmsgs) = msg.cmsgs() else {
        return Ok(out);
    };
    let mut ext = None;
    for cmsg in cmsgs {
        match cmsg {
            ControlMessageOwned::ScmTimestampns(ts) => {
                out.stamp = u64::try_from(ts.tv_sec())
                    .ok()
                    .zip(u32::try_from(ts.tv_nsec()).ok())
                    .map(|(secs, nanos)| UNIX_EPOCH + Duration::new(secs, nanos));
            }
            ControlMessageOwned::Ipv4Ttl(v) | ControlMessageOwned::Ipv6HopLimit(v) => {
                out.ttl = u8::try_from(v).ok();
            }
            ControlMessageOwned::Ipv4RecvErr(ee, sin) => {
                let offender = sin
                    .filter(|a| i32::from(a.sin_family) == libc::AF_INET)
                    .map(|a| IpAddr::V4(Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr))));
                ext = extension_offset(&ee);
                out.error = Some(queued_error(&ee, offender));
            }
            ControlMessageOwned::Ipv6RecvErr(ee, sin6) => {
                let offender = sin6
                    .filter(|a| i32::from(a.sin6_family) == libc::AF_INET6)
                    .map(|a| IpAddr::V6(Ipv6Addr::from(a.sin6_addr.s6_addr)));
                ext = extension_offset(&ee);
                out.error = Some(queued_error(&ee, offender));
            }
            _ => {}
        }
    }
    if let (Some(err), Some(at)) = (out.error.as_mut(), ext) {
        let end = out.len.min(buf.len());
        err.mpls = buf
            .get(at..end)
            .map(super::packet::extension_labels)
            .unwrap_or_default();
    }
    Ok(out)
}

/// A queued error as the engine and the connect prober read it.
fn queued_error(ee: &libc::sock_extended_err, offender: Option<IpAddr>) -> QueuedError {
    QueuedError {
        icmp_type: ee.ee_type,
        code: ee.ee_code,
        errno: i32::try_from(ee.ee_errno).unwrap_or(libc::EIO),
        from_icmp: ee.ee_origin == libc::SO_EE_ORIGIN_ICMP
            || ee.ee_origin == libc::SO_EE_ORIGIN_ICMP6,
        offender,
        info: ee.ee_info,
        mpls: Vec::new(),
    }
}

/// Where an RFC 4884 extension starts in a queued error's payload, as the
/// kernel reports it with IP_RECVERR_RFC4884 (`ee_rfc4884.len`, in the
/// union with ee_data; 0 = none); None when it flagged it invalid.
fn extension_offset(ee: &libc::sock_extended_err) -> Option<usize> {
    let [lo, hi, flags, _] = ee.ee_data.to_ne_bytes();
    let len = u16::from_ne_bytes([lo, hi]);
    // SO_EE_RFC4884_FLAG_INVALID
    (len > 0 && flags & 1 == 0).then_some(usize::from(len))
}

/// IP_RECVERR_RFC4884 / IPV6_RECVERR_RFC4884: the error queue then says
/// where an ICMP extension starts, so unprivileged probes see MPLS label
/// stacks too. Older kernels refuse it; that only loses the labels.
fn enable_rfc4884(socket: &Socket, v6: bool) {
    let (level, name) = if v6 {
        (libc::IPPROTO_IPV6, 31)
    } else {
        (libc::IPPROTO_IP, 26)
    };
    let one: libc::c_int = 1;
    // SAFETY: a valid socket and a c_int option value of the right size.
    unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

/// The IP of a socket address the kernel filled in.
fn storage_ip(addr: &SockaddrStorage) -> Option<IpAddr> {
    if let Some(sin) = addr.as_sockaddr_in() {
        return Some(IpAddr::V4(sin.ip()));
    }
    addr.as_sockaddr_in6().map(|sin6| IpAddr::V6(sin6.ip()))
}

/// Opens one UDP probe socket: bound like the ICMP socket (so its port is
/// the probe's identity), with IP_RECVERR so routers' errors queue on it
/// without any privilege, as tracepath does.
pub fn open_udp_probe(v6: bool, binding: &Binding) -> AppResult<Socket> {
    let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
    let socket = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))
        .map_err(|e| AppError::cannot_run(format!("cannot open a UDP probe socket: {e}")))?;
    let setup = || -> io::Result<()> {
        socket.set_nonblocking(true)?;
        enable(&socket, sockopt::ReceiveTimestampns)?;
        if v6 {
            enable(&socket, sockopt::Ipv6RecvErr)?;
            enable_rfc4884(&socket, true);
            enable(&socket, sockopt::Ipv6RecvHopLimit)?;
        } else {
            enable(&socket, sockopt::Ipv4RecvErr)?;
            enable_rfc4884(&socket, false);
            enable(&socket, sockopt::Ipv4RecvTtl)?;
        }
        Ok(())
    };
    setup()
        .map_err(|e| AppError::cannot_run(format!("cannot configure a UDP probe socket: {e}")))?;
    apply_binding(&socket, v6, binding)?;
    bind_any_port(&socket, v6, binding)?;
    Ok(socket)
}

/// The socket of a Paris UDP flow: like a probe socket, without IP_RECVERR
/// (the raw ICMP listener matches its errors), bound to one source port.
pub fn open_udp_flow(v6: bool, binding: &Binding) -> AppResult<Socket> {
    let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
    let socket = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))
        .map_err(|e| AppError::cannot_run(format!("cannot open a UDP probe socket: {e}")))?;
    socket
        .set_nonblocking(true)
        .map_err(|e| AppError::cannot_run(format!("cannot configure a UDP probe socket: {e}")))?;
    apply_binding(&socket, v6, binding)?;
    bind_any_port(&socket, v6, binding)?;
    Ok(socket)
}

/// Binds to an ephemeral port (after any source binding) so the port is
/// known before the probe leaves and cannot be taken by another prober.
fn bind_any_port(socket: &Socket, v6: bool, binding: &Binding) -> AppResult<()> {
    if binding.source.is_some() {
        return Ok(());
    }
    let any = if v6 {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    };
    socket
        .bind(&SockAddr::from(SocketAddr::new(any, 0)))
        .map_err(|e| AppError::cannot_run(format!("cannot bind a probe port: {e}")))
}

/// The local port a socket is bound to.
pub fn local_port(socket: &Socket) -> io::Result<u16> {
    socket
        .local_addr()?
        .as_socket()
        .map(|a| a.port())
        .ok_or_else(|| io::Error::from(io::ErrorKind::AddrNotAvailable))
}

/// Reserves a TCP port for a SYN probe: a bound, never-listening socket, so
/// no other program gets the port while the probe is out and the kernel
/// answers the target's SYN-ACK with a RST (the half-open of tcptraceroute).
pub fn reserve_tcp_port(v6: bool, binding: &Binding) -> AppResult<Socket> {
    let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
    let socket = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))
        .map_err(|e| AppError::cannot_run(format!("cannot reserve a TCP port: {e}")))?;
    let ip = binding.source.unwrap_or(if v6 {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    });
    socket
        .bind(&SockAddr::from(SocketAddr::new(ip, 0)))
        .map_err(|e| AppError::cannot_run(format!("cannot reserve a TCP port: {e}")))?;
    Ok(socket)
}

/// Whether this process may open raw sockets (CAP_NET_RAW): decides
/// between hand-built SYNs and kernel connect() probes for `--tcp`.
pub fn raw_allowed(v6: bool) -> bool {
    let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
    match Socket::new(domain, Type::RAW, Some(Protocol::TCP)) {
        Ok(_) => true,
        Err(e) => !is_permission(&e),
    }
}

/// What closing a connect probe's socket does after a completed handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Close {
    /// A normal close (FIN), as any client would: `netdx tcp`.
    Graceful,
    /// SO_LINGER 0: the close resets the connection instead of leaving
    /// TIME_WAIT behind (trace's probes, many per second).
    Reset,
}

/// Opens a TCP connect probe socket: non-blocking, so the connect() runs
/// in the background; IP_RECVERR / IPV6_RECVERR, so a router's Time
/// Exceeded or Unreachable for the SYN is queued on it with the router's
/// address; SO_TIMESTAMPNS, so that error carries the kernel's receive time.
/// The one place connect probes get their socket options.
pub fn tcp_connect_socket(v6: bool, close: Close) -> io::Result<Socket> {
    let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
    let socket = Socket::new(domain, Type::STREAM.nonblocking(), Some(Protocol::TCP))?;
    if close == Close::Reset {
        socket.set_linger(Some(Duration::ZERO))?;
    }
    enable(&socket, sockopt::ReceiveTimestampns)?;
    if v6 {
        enable(&socket, sockopt::Ipv6RecvErr)?;
        enable_rfc4884(&socket, true);
    } else {
        enable(&socket, sockopt::Ipv4RecvErr)?;
        enable_rfc4884(&socket, false);
    }
    Ok(socket)
}

/// Opens the socket of one unprivileged trace TCP probe
/// ([`tcp_connect_socket`] closing with a reset), bound as asked.
pub fn open_tcp_connect(v6: bool, binding: &Binding) -> AppResult<Socket> {
    let socket = tcp_connect_socket(v6, Close::Reset)
        .map_err(|e| AppError::cannot_run(format!("cannot open a TCP probe socket: {e}")))?;
    apply_binding(&socket, v6, binding)?;
    Ok(socket)
}

/// Opens the raw TCP socket that sends SYN probes and sees every SYN-ACK
/// and RST coming back (CAP_NET_RAW).
pub fn open_raw_tcp(v6: bool, binding: &Binding) -> AppResult<Socket> {
    let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
    let socket = match Socket::new(domain, Type::RAW, Some(Protocol::TCP)) {
        Ok(s) => s,
        Err(e) if is_permission(&e) => return Err(super::tcp::needs_root()),
        Err(e) => {
            return Err(AppError::cannot_run(format!(
                "cannot open a raw TCP socket: {e}"
            )))
        }
    };
    let setup = || -> io::Result<()> {
        socket.set_nonblocking(true)?;
        let _ = socket.set_recv_buffer_size(1 << 20);
        enable(&socket, sockopt::ReceiveTimestampns)?;
        if v6 {
            enable(&socket, sockopt::Ipv6RecvHopLimit)?;
        }
        Ok(())
    };
    setup()
        .map_err(|e| AppError::cannot_run(format!("cannot configure the raw TCP socket: {e}")))?;
    apply_binding(&socket, v6, binding)?;
    Ok(socket)
}

/// The source address the kernel would pick to reach `target` (needed for
/// the TCP checksum of hand-built SYNs): a connected UDP socket tells.
pub fn source_for(target: IpAddr, binding: &Binding) -> io::Result<IpAddr> {
    if let Some(src) = binding.source {
        return Ok(src);
    }
    let domain = if target.is_ipv6() {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let socket = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
    if let Some(dev) = &binding.device {
        socket.bind_device(Some(dev.as_bytes()))?;
    }
    socket.connect(&SockAddr::from(SocketAddr::new(target, 9)))?;
    socket
        .local_addr()?
        .as_socket()
        .map(|a| a.ip())
        .ok_or_else(|| io::Error::from(io::ErrorKind::AddrNotAvailable))
}

/// Registers a socket with the runtime for the given readiness.
pub fn register(
    sock: Socket,
    interest: tokio::io::Interest,
) -> io::Result<tokio::io::unix::AsyncFd<Socket>> {
    // SAFETY: the socket owns its descriptor and is moved into the AsyncFd,
    // which keeps it open and unreplaced for as long as it is registered.
    unsafe { tokio::io::unix::AsyncFd::register_with_interest(sock, interest) }
        .map_err(|e| e.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A UDP probe to a closed local port provokes a Port Unreachable that
    /// the kernel queues with IP_RECVERR: parsed with its offender.
    #[test]
    fn a_queued_port_unreachable_names_its_sender() {
        let closed = std::net::UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let probe = open_udp_probe(false, &Binding::default())
            .unwrap_or_else(|e| panic!("probe socket: {e}"));
        probe
            .send_to(b"x", &SockAddr::from(closed))
            .unwrap_or_else(|e| panic!("send: {e}"));
        let mut buf = [0u8; 64];
        let mut queued = None;
        for _ in 0..100 {
            match receive(probe.as_raw_fd(), &mut buf, true) {
                Ok(rx) => {
                    queued = Some(rx);
                    break;
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        let rx = queued.unwrap_or_else(|| panic!("no queued error"));
        let err = rx.error.unwrap_or_else(|| panic!("no IP_RECVERR message"));
        assert!(err.from_icmp);
        assert_eq!((err.icmp_type, err.code), (3, 3));
        assert_eq!(err.errno, libc::ECONNREFUSED);
        assert_eq!(err.offender, Some(IpAddr::from([127, 0, 0, 1])));
        assert_eq!(rx.from, Some(closed.ip()));
        assert!(rx.stamp.is_some());
    }
}
