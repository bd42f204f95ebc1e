//! Sees the IP TTL of the RSTs that refuse `netdx tcp`'s connects, which
//! connect() hides: one raw IPv4 TCP socket opened while the process still
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

/// The socket opened before the privileges went, for the run to take.
static SHARED: Mutex<Option<Socket>> = Mutex::new(None);

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
pub fn open() -> Option<Socket> {
    if !privilege::has_raw_capability() {
        return None;
    }
    let socket = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::TCP)).ok()?;
    socket.set_nonblocking(true).ok()?;
    let _ = socket.set_recv_buffer_size(1 << 20);
    Some(socket)
}

/// Takes the watch socket (None without CAP_NET_RAW or once taken).
pub fn take() -> Option<Socket> {
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

/// Reads what the socket queued: RSTs from `refused` (address, port) pairs
/// and SYN-ACKs from their addresses. Never blocks.
pub fn drain(socket: &Socket, refused: &HashSet<(IpAddr, u16)>) -> Ttls {
    let hosts: HashSet<IpAddr> = refused.iter().map(|(a, _)| *a).collect();
    let mut out = Ttls::default();
    let mut buf = [MaybeUninit::<u8>::uninit(); 1600];
    while let Ok(n) = socket.recv(&mut buf) {
        // SAFETY: recv initialised the first n bytes.
        let pkt: &[u8] = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), n) };
        let Some((src, sport, flags, ttl)) = parse_v4(pkt) else {
            continue;
        };
        if flags & 0x04 != 0 && refused.contains(&(src, sport)) {
            out.rst.entry((src, sport)).or_insert(ttl);
        } else if flags & 0x12 == 0x12 && hosts.contains(&src) {
            out.synack.entry(src).or_insert(ttl);
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
