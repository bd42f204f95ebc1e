//! Sees the IP TTL of the RSTs that refuse `netdx tcp`'s connects, which
//! connect() hides: one raw TCP socket per family opened while the process still
//! holds CAP_NET_RAW (before the binary drops it), kept for the run and
//! read once after the probes. The kernel hands it a copy of each incoming
//! TCP segment; only RSTs and SYN-ACKs from the probed addresses are kept,
//! in maps bounded by the targets asked about.

use super::privilege;
use socket2::{Domain, Protocol, Socket, Type};
use std::collections::{HashMap, HashSet};
use std::mem::MaybeUninit;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Mutex;

/// The sockets opened before the privileges went, for the run to take.
static SHARED: Mutex<Option<Watch>> = Mutex::new(None);

/// One raw TCP socket per family (either may be missing: no IPv6).
#[derive(Debug)]
pub struct Watch {
    v4: Option<Socket>,
    v6: Option<Socket>,
}

/// Opens the watch socket if this process may (CAP_NET_RAW) and keeps it
/// for [`take`]: the binary calls this before it drops its privileges.
/// Without the capability nothing happens and `tcp` keeps its plain
/// verdicts.
pub fn open_shared() {
    if let Some(socket) = open() {
        if let Ok(mut slot) = SHARED.lock() {
            *slot = Some(socket);
        }
    }
}

/// Opens a watch socket now, for a caller that still holds CAP_NET_RAW
/// (`check`, `serve`); None without it.
pub fn open() -> Option<Watch> {
    if !privilege::has_raw_capability() {
        return None;
    }
    let v4 = open_family(false);
    let v6 = open_family(true);
    (v4.is_some() || v6.is_some()).then_some(Watch { v4, v6 })
}

/// One family's raw TCP socket, non-blocking; IPv6 asks for the hop
/// limit as a control message (its raw sockets get no IP header).
fn open_family(v6: bool) -> Option<Socket> {
    let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
    let socket = Socket::new(domain, Type::RAW, Some(Protocol::TCP)).ok()?;
    socket.set_nonblocking(true).ok()?;
    let _ = socket.set_recv_buffer_size(1 << 20);
    if v6 {
        use std::os::fd::AsRawFd;
        super::socket::set_int(
            socket.as_raw_fd(),
            libc::IPPROTO_IPV6,
            libc::IPV6_RECVHOPLIMIT,
            1,
        )
        .ok()?;
    }
    Some(socket)
}

/// Takes the watch sockets (None without CAP_NET_RAW or once taken).
pub fn take() -> Option<Watch> {
    SHARED.lock().ok().and_then(|mut s| s.take())
}

/// TTLs seen by the watch socket for the asked-about peers.
#[derive(Debug, Default)]
pub struct Ttls {
    /// RST TTL by (source address, source port).
    pub rst: HashMap<(IpAddr, u16), u8>,
    /// SYN-ACK TTL by source address (the host's own distance).
    pub synack: HashMap<IpAddr, u8>,
}

/// Reads what the sockets queued: RSTs from `refused` (address, port)
/// pairs and SYN-ACKs from their addresses. Never blocks.
pub fn drain(watch: &Watch, refused: &HashSet<(IpAddr, u16)>) -> Ttls {
    let hosts: HashSet<IpAddr> = refused.iter().map(|(a, _)| *a).collect();
    let mut out = Ttls::default();
    let mut keep = |src: IpAddr, sport: u16, flags: u8, ttl: u8| {
        if flags & 0x04 != 0 && refused.contains(&(src, sport)) {
            out.rst.entry((src, sport)).or_insert(ttl);
        } else if flags & 0x12 == 0x12 && hosts.contains(&src) {
            out.synack.entry(src).or_insert(ttl);
        }
    };
    if let Some(socket) = &watch.v4 {
        let mut buf = [MaybeUninit::<u8>::uninit(); 1600];
        while let Ok(n) = socket.recv(&mut buf) {
            // SAFETY: recv initialised the first n bytes.
            let pkt: &[u8] = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), n) };
            if let Some((src, sport, flags, ttl)) = parse_v4(pkt) {
                keep(src, sport, flags, ttl);
            }
        }
    }
    if let Some(socket) = &watch.v6 {
        use std::os::fd::AsRawFd;
        let mut buf = [0u8; 1600];
        while let Ok(r) = super::socket::receive(socket.as_raw_fd(), &mut buf, false) {
            let tcp = &buf[..r.len.min(buf.len())];
            if let (Some(src), Some(ttl), Some(h)) = (r.from, r.ttl, tcp.get(..14)) {
                keep(
                    src.to_canonical(),
                    u16::from_be_bytes([h[0], h[1]]),
                    h[13],
                    ttl,
                );
            }
        }
    }
    out
}

/// Source address, source port, TCP flags and TTL of an IPv4 TCP packet.
fn parse_v4(p: &[u8]) -> Option<(IpAddr, u16, u8, u8)> {
    let ihl = usize::from(*p.first()? & 0x0f) * 4;
    if p.first()? >> 4 != 4 || ihl < 20 || *p.get(9)? != 6 {
        return None;
    }
    let src = Ipv4Addr::new(*p.get(12)?, *p.get(13)?, *p.get(14)?, *p.get(15)?);
    let sport = u16::from_be_bytes([*p.get(ihl)?, *p.get(ihl + 1)?]);
    let flags = *p.get(ihl + 13)?;
    Some((IpAddr::V4(src), sport, flags, p[8]))
}

/// Hops a packet travelled: from the nearest usual initial TTL (64, 128,
/// 255) at or above the TTL it arrived with.
pub fn hops(ttl: u8) -> u8 {
    let initial: u8 = if ttl <= 64 {
        64
    } else if ttl <= 128 {
        128
    } else {
        255
    };
    initial - ttl
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_an_rst_and_counts_hops() {
        let mut p = vec![0u8; 40];
        p[0] = 0x45;
        p[8] = 63;
        p[9] = 6;
        p[12..16].copy_from_slice(&[198, 18, 1, 2]);
        p[20..22].copy_from_slice(&8080u16.to_be_bytes());
        p[33] = 0x14;
        let (src, port, flags, ttl) = parse_v4(&p).unwrap_or_else(|| panic!("no parse"));
        assert_eq!(
            (src, port, flags, ttl),
            (IpAddr::from([198, 18, 1, 2]), 8080, 0x14, 63)
        );
        assert_eq!(parse_v4(&p[..30]), None);
        assert_eq!((hops(64), hops(63), hops(120), hops(250)), (0, 1, 8, 5));
    }
}
