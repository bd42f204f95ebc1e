//! AF_PACKET capture for `netdx watch`, the way libpcap does it on Linux:
//! one interface → SOCK_RAW (Ethernet frames) bound to its index; `any` →
//! SOCK_DGRAM on every interface, with a Linux cooked v2 header built here
//! from the packet's address; the filter runs in the kernel, attached
//! after a reject-all filter has drained whatever queued before it; the
//! outgoing copy of a loopback packet is skipped (its incoming copy is the
//! one counted), so counts equal tcpdump's.

use crate::error::{AppError, AppResult};
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::AsRawFd;
use std::time::SystemTime;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// `ETH_P_ALL`: every protocol.
const ETH_P_ALL: u16 = 0x0003;
/// `SOL_PACKET`.
const SOL_PACKET: libc::c_int = 263;
/// `PACKET_STATISTICS`: `struct tpacket_stats`, reset on each read.
const PACKET_STATISTICS: libc::c_int = 6;
/// `PACKET_AUXDATA`: the original length of each packet as a control message.
const PACKET_AUXDATA: libc::c_int = 8;
/// `SO_RCVBUFFORCE`: a receive buffer over rmem_max (CAP_NET_ADMIN).
const SO_RCVBUFFORCE: libc::c_int = 33;
/// `PACKET_OUTGOING`.
const PACKET_OUTGOING: u8 = 4;
/// Receive buffer asked for: bursts of small packets fit while the reader
/// is busy writing (tcpdump's default is 2 MiB).
const RCVBUF: libc::c_int = 4 << 20;
/// Size of the Linux cooked v2 header.
pub const SLL2_LEN: usize = 20;

/// `struct tpacket_auxdata`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
struct AuxData {
    status: u32,
    len: u32,
    snaplen: u32,
    mac: u16,
    net: u16,
    vlan_tci: u16,
    vlan_tpid: u16,
}

/// `struct tpacket_stats`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
struct TpacketStats {
    packets: u32,
    drops: u32,
}

/// What the frames of a capture start with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureLink {
    /// Ethernet frames (an Ethernet or loopback interface).
    Ethernet,
    /// Cooked: the kernel strips the link header; frames handed out start
    /// with a Linux cooked v2 header built from the packet's address, and
    /// the kernel filter sees the network header first.
    Cooked,
}

/// One packet read off the socket.
#[derive(Debug)]
pub struct Captured<'a> {
    /// Kernel receive time, ns since the epoch.
    pub ts_ns: u64,
    /// Length on the wire (link header included).
    pub wire_len: u32,
    /// The bytes, link header (real or cooked) included.
    pub data: &'a [u8],
}

/// Kernel counters at the end, as tcpdump reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KernelStats {
    /// Packets that passed the filter.
    pub received: u64,
    /// Of those, dropped because the receive buffer was full.
    pub dropped: u64,
}

/// An open capture socket.
pub struct Capture {
    fd: AsyncFd<Socket>,
    link: CaptureLink,
    snaplen: usize,
    lo_ifindex: i32,
    buf: Vec<u8>,
    stats: KernelStats,
}

/// The link type a capture on `iface` (None = all) will deliver, so the
/// filter can be compiled before the socket opens.
pub fn link_of(iface: Option<&str>) -> AppResult<CaptureLink> {
    let Some(name) = iface.filter(|n| *n != "any") else {
        return Ok(CaptureLink::Cooked);
    };
    ifindex(name)?;
    let kind = std::fs::read_to_string(format!("/sys/class/net/{name}/type")).unwrap_or_default();
    Ok(match kind.trim() {
        // ARPHRD_ETHER, ARPHRD_LOOPBACK: the frames carry an Ethernet header.
        "1" | "772" => CaptureLink::Ethernet,
        _ => CaptureLink::Cooked,
    })
}

fn ifindex(name: &str) -> AppResult<i32> {
    let c = std::ffi::CString::new(name)
        .map_err(|_| AppError::usage(format!("-i {name:?}: not an interface name")))?;
    // SAFETY: if_nametoindex reads a NUL-terminated string.
    let index = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if index == 0 {
        return Err(AppError::cannot_run(format!("no such interface: {name}")));
    }
    Ok(index as i32)
}

/// The one error for a capture without CAP_NET_RAW.
pub fn needs_privilege() -> AppError {
    AppError::cannot_run(
        "no permission to capture packets: run as root, or `setcap cap_net_raw+ep $(which netdx)`",
    )
}

fn setsockopt<T>(fd: &Socket, level: libc::c_int, name: libc::c_int, value: &T) -> io::Result<()> {
    // SAFETY: value points to a live T of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn attach(fd: &Socket, insns: &[libc::sock_filter]) -> io::Result<()> {
    let prog = libc::sock_fprog {
        len: insns.len() as u16,
        filter: insns.as_ptr() as *mut libc::sock_filter,
    };
    setsockopt(fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &prog)
}

impl Capture {
    /// Opens the capture on `iface` (None or `any` = every interface) with
    /// `filter` (classic BPF, compiled for [`link_of`]'s link type) attached.
    pub fn open(
        iface: Option<&str>,
        snaplen: u32,
        filter: &[libc::sock_filter],
    ) -> AppResult<Self> {
        let link = link_of(iface)?;
        let index = match iface.filter(|n| *n != "any") {
            Some(name) => ifindex(name)?,
            None => 0,
        };
        let ty = match link {
            CaptureLink::Ethernet => Type::RAW,
            CaptureLink::Cooked => Type::DGRAM,
        };
        // Protocol 0: nothing is queued before the bind below.
        let sock = Socket::new(Domain::PACKET, ty, Some(Protocol::from(0))).map_err(|e| match e
            .raw_os_error()
        {
            Some(libc::EPERM) | Some(libc::EACCES) => needs_privilege(),
            _ => AppError::cannot_run(format!("cannot open a packet socket: {e}")),
        })?;
        let fail = |what: &str, e: io::Error| {
            AppError::cannot_run(format!("cannot {what} on the capture socket: {e}"))
        };
        // libpcap's order: reject everything, bind, drain what slipped in,
        // then the real filter; no unfiltered packet reaches the reader.
        let reject = [libc::sock_filter {
            code: 0x06,
            jt: 0,
            jf: 0,
            k: 0,
        }];
        attach(&sock, &reject).map_err(|e| fail("attach a filter", e))?;
        // SAFETY: sockaddr_ll is plain data; zero is a valid value.
        let mut addr: libc::sockaddr_ll = unsafe { zeroed() };
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_protocol = ETH_P_ALL.to_be();
        addr.sll_ifindex = index;
        // SAFETY: addr is a live sockaddr_ll of the length passed.
        let rc = unsafe {
            libc::bind(
                sock.as_raw_fd(),
                (&addr as *const libc::sockaddr_ll).cast(),
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(fail("bind", io::Error::last_os_error()));
        }
        if setsockopt(&sock, libc::SOL_SOCKET, SO_RCVBUFFORCE, &RCVBUF).is_err() {
            let _ = setsockopt(&sock, libc::SOL_SOCKET, libc::SO_RCVBUF, &RCVBUF);
        }
        let one: libc::c_int = 1;
        setsockopt(&sock, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, &one)
            .map_err(|e| fail("enable timestamps", e))?;
        setsockopt(&sock, SOL_PACKET, PACKET_AUXDATA, &one)
            .map_err(|e| fail("enable PACKET_AUXDATA", e))?;
        sock.set_nonblocking(true)
            .map_err(|e| fail("set non-blocking", e))?;
        let mut scratch = [0u8; 64];
        // SAFETY: recv into a live buffer of the length passed.
        while unsafe {
            libc::recv(
                sock.as_raw_fd(),
                scratch.as_mut_ptr().cast(),
                scratch.len(),
                libc::MSG_DONTWAIT,
            )
        } >= 0
        {}
        attach(&sock, filter).map_err(|e| fail("attach the filter", e))?;
        let fd =
            super::socket::register(sock, Interest::READABLE).map_err(|e| fail("register", e))?;
        let mut capture = Capture {
            fd,
            link,
            snaplen: snaplen as usize,
            lo_ifindex: ifindex("lo").unwrap_or(-1),
            buf: vec![0u8; SLL2_LEN + snaplen as usize],
            stats: KernelStats::default(),
        };
        // Counters from before the real filter do not belong to the run.
        capture.read_stats();
        capture.stats = KernelStats::default();
        Ok(capture)
    }

    /// What the frames handed out start with.
    pub fn link(&self) -> CaptureLink {
        self.link
    }

    /// Waits for the next packet; cancel-safe (nothing is lost when the
    /// future is dropped before it completes).
    pub async fn next(&mut self) -> io::Result<Captured<'_>> {
        loop {
            let mut guard = self.fd.readable().await?;
            match recv_one(
                guard.get_inner(),
                self.link,
                self.snaplen,
                self.lo_ifindex,
                &mut self.buf,
            ) {
                Ok(Some((ts_ns, wire_len, len))) => {
                    return Ok(Captured {
                        ts_ns,
                        wire_len,
                        data: &self.buf[..len],
                    })
                }
                Ok(None) => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => guard.clear_ready(),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Waits until packets are queued, then hands up to `max` of them to
    /// `each` without waiting again (one wake-up per burst, not per
    /// packet); returns how many. Cancel-safe: nothing is read before the
    /// socket is readable, and the reading itself never waits.
    pub async fn next_batch(
        &mut self,
        max: usize,
        mut each: impl FnMut(Captured<'_>),
    ) -> io::Result<usize> {
        loop {
            let mut guard = self.fd.readable().await?;
            let mut n = 0;
            while n < max {
                match recv_one(
                    guard.get_inner(),
                    self.link,
                    self.snaplen,
                    self.lo_ifindex,
                    &mut self.buf,
                ) {
                    Ok(Some((ts_ns, wire_len, len))) => {
                        n += 1;
                        each(Captured {
                            ts_ns,
                            wire_len,
                            data: &self.buf[..len],
                        });
                    }
                    Ok(None) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        guard.clear_ready();
                        break;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            if n > 0 {
                return Ok(n);
            }
        }
    }

    fn read_stats(&mut self) {
        let mut st = TpacketStats::default();
        let mut len = size_of::<TpacketStats>() as libc::socklen_t;
        // SAFETY: getsockopt writes at most len bytes into st.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.get_ref().as_raw_fd(),
                SOL_PACKET,
                PACKET_STATISTICS,
                (&mut st as *mut TpacketStats).cast(),
                &mut len,
            )
        };
        if rc == 0 {
            self.stats.received += u64::from(st.packets);
            self.stats.dropped += u64::from(st.drops);
        }
    }

    /// Kernel counters since the capture started (the kernel resets its
    /// own on each read; they are summed here).
    pub fn stats(&mut self) -> KernelStats {
        self.read_stats();
        self.stats
    }
}

/// One recvmsg: `Some((ts, wire_len, bytes in buf))`, `None` for a packet
/// skipped (loopback's outgoing copy).
fn recv_one(
    sock: &Socket,
    link: CaptureLink,
    snaplen: usize,
    lo_ifindex: i32,
    buf: &mut [u8],
) -> io::Result<Option<(u64, u32, usize)>> {
    let head = match link {
        CaptureLink::Cooked => SLL2_LEN,
        CaptureLink::Ethernet => 0,
    };
    // SAFETY: plain data, zero is valid.
    let mut from: libc::sockaddr_ll = unsafe { zeroed() };
    let mut iov = libc::iovec {
        iov_base: buf[head..].as_mut_ptr().cast(),
        iov_len: snaplen.min(buf.len() - head),
    };
    let mut control = [0u64; 16];
    // SAFETY: plain data, zero is valid.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = (&mut from as *mut libc::sockaddr_ll).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of::<[u64; 16]>() as _;
    // SAFETY: every pointer in msg refers to a live buffer of the length given.
    let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_TRUNC) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    if from.sll_pkttype == PACKET_OUTGOING && from.sll_ifindex == lo_ifindex {
        return Ok(None);
    }
    let n = n as usize;
    let caplen = n.min(iov.iov_len);
    let mut ts_ns = None;
    let mut orig = None;
    // SAFETY: the CMSG macros walk the control buffer the kernel filled,
    // within msg_controllen.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            let level = (*c).cmsg_level;
            let ty = (*c).cmsg_type;
            let data = libc::CMSG_DATA(c);
            if level == libc::SOL_SOCKET && ty == libc::SCM_TIMESTAMPNS {
                let ts: libc::timespec = std::ptr::read_unaligned(data.cast());
                ts_ns = Some(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64);
            } else if level == SOL_PACKET && ty == PACKET_AUXDATA {
                let aux: AuxData = std::ptr::read_unaligned(data.cast());
                orig = Some(aux.len);
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    let ts_ns = ts_ns.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    });
    let wire = orig.map(|l| l as usize).unwrap_or(n).max(caplen);
    if link == CaptureLink::Cooked {
        // Linux cooked v2: protocol, reserved, ifindex, hatype, pkttype,
        // halen, address (8 bytes).
        buf[0..2].copy_from_slice(&u16::from_be(from.sll_protocol).to_be_bytes());
        buf[2..4].copy_from_slice(&[0, 0]);
        buf[4..8].copy_from_slice(&(from.sll_ifindex as u32).to_be_bytes());
        buf[8..10].copy_from_slice(&from.sll_hatype.to_be_bytes());
        buf[10] = from.sll_pkttype;
        buf[11] = from.sll_halen;
        buf[12..20].copy_from_slice(&from.sll_addr);
    }
    Ok(Some((ts_ns, (wire + head) as u32, caplen + head)))
}
