//! Reads TCP sockets through NETLINK_SOCK_DIAG (inet_diag), the interface
//! `ss` uses: one dump request per family, records streamed to a callback
//! straight out of the receive buffer, so 100k sockets cost no allocations.
//! The socket itself is `probe::netlink`; this is the request and parsing.

use super::record::{SockRecord, TcpExtra};
use super::state::{TcpState, Timer};
use crate::probe;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLMSG_HDRLEN: usize = 16;
const INET_DIAG_MSG_LEN: usize = 72;
const INET_DIAG_INFO: u16 = 2;
const RTA_HDRLEN: usize = 4;

/// Dumps every TCP socket of one family (`libc::AF_INET` or `AF_INET6`),
/// calling `each` per socket. `info` asks for INET_DIAG_INFO (tcp_info),
/// which costs ~230 bytes per socket, so only detail views want it.
pub fn dump(family: u8, info: bool, each: &mut dyn FnMut(&SockRecord)) -> io::Result<()> {
    dump_states(family, u32::MAX, info, each)
}

/// Like [`dump`] for the states in the kernel bitmask `states` only
/// (bit N = TCP state N), so a second look at ESTABLISHED sockets with
/// tcp_info skips listeners and TIME_WAIT.
pub fn dump_states(
    family: u8,
    states: u32,
    info: bool,
    each: &mut dyn FnMut(&SockRecord),
) -> io::Result<()> {
    let mut request = dump_request(family, info);
    request[NLMSG_HDRLEN + 4..NLMSG_HDRLEN + 8].copy_from_slice(&states.to_ne_bytes());
    probe::netlink::sock_diag(&request, &mut |batch| parse_batch(batch, family, each))
}

/// The inet_diag_req_v2 dump request for all states of one family.
fn dump_request(family: u8, info: bool) -> [u8; NLMSG_HDRLEN + 56] {
    let req_len = NLMSG_HDRLEN + 56;
    let mut req = [0u8; NLMSG_HDRLEN + 56];
    req[0..4].copy_from_slice(&(req_len as u32).to_ne_bytes());
    req[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    let flags = (libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16;
    req[6..8].copy_from_slice(&flags.to_ne_bytes());
    req[8..12].copy_from_slice(&1u32.to_ne_bytes());
    // inet_diag_req_v2: family, protocol, ext, pad, states, sockid (48 bytes).
    let body = &mut req[NLMSG_HDRLEN..];
    body[0] = family;
    body[1] = libc::IPPROTO_TCP as u8;
    body[2] = if info { 1 << (INET_DIAG_INFO - 1) } else { 0 };
    body[4..8].copy_from_slice(&u32::MAX.to_ne_bytes());
    req
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    b.get(off..off + 4)
        .and_then(|s| s.try_into().ok())
        .map(u32::from_ne_bytes)
        .unwrap_or(0)
}

fn u16_at(b: &[u8], off: usize) -> u16 {
    b.get(off..off + 2)
        .and_then(|s| s.try_into().ok())
        .map(u16::from_ne_bytes)
        .unwrap_or(0)
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Parses one datagram of netlink messages; returns true at NLMSG_DONE.
fn parse_batch(mut buf: &[u8], family: u8, each: &mut dyn FnMut(&SockRecord)) -> io::Result<bool> {
    while buf.len() >= NLMSG_HDRLEN {
        let len = u32_at(buf, 0) as usize;
        let kind = u16_at(buf, 4);
        if len < NLMSG_HDRLEN || len > buf.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "truncated netlink message from sock_diag",
            ));
        }
        let payload = &buf[NLMSG_HDRLEN..len];
        match kind {
            NLMSG_DONE => return Ok(true),
            NLMSG_ERROR => {
                let errno = u32_at(payload, 0) as i32;
                if errno != 0 {
                    return Err(io::Error::from_raw_os_error(-errno));
                }
            }
            SOCK_DIAG_BY_FAMILY => {
                if let Some(rec) = parse_msg(payload, family) {
                    each(&rec);
                }
            }
            _ => {}
        }
        let step = align4(len).min(buf.len());
        buf = &buf[step..];
    }
    Ok(false)
}

/// Decodes one inet_diag_msg (and its INET_DIAG_INFO attribute if present).
fn parse_msg(m: &[u8], family: u8) -> Option<SockRecord> {
    if m.len() < INET_DIAG_MSG_LEN {
        return None;
    }
    let state = TcpState::from_kernel(m[1])?;
    let v6 = family == libc::AF_INET6 as u8;
    let lport = u16::from_be_bytes([m[4], m[5]]);
    let rport = u16::from_be_bytes([m[6], m[7]]);
    let local = addr(&m[8..24], v6);
    let remote = addr(&m[24..40], v6);
    let extra = if m.len() > INET_DIAG_MSG_LEN {
        tcp_info(&m[INET_DIAG_MSG_LEN..])
    } else {
        None
    };
    Some(SockRecord {
        state,
        local,
        lport,
        remote,
        rport,
        rqueue: u32_at(m, 56),
        wqueue: u32_at(m, 60),
        uid: u32_at(m, 64),
        inode: u64::from(u32_at(m, 68)),
        timer: Timer::from_kernel(m[2]),
        expires_ms: u64::from(u32_at(m, 52)),
        retrans: m[3],
        v6,
        extra,
    })
}

fn addr(b: &[u8], v6: bool) -> IpAddr {
    if v6 {
        let mut o = [0u8; 16];
        o.copy_from_slice(&b[..16]);
        IpAddr::V6(Ipv6Addr::from(o))
    } else {
        IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
    }
}

/// Walks the rtattrs after the message for INET_DIAG_INFO (struct tcp_info).
fn tcp_info(mut attrs: &[u8]) -> Option<TcpExtra> {
    while attrs.len() >= RTA_HDRLEN {
        let len = u16_at(attrs, 0) as usize;
        let kind = u16_at(attrs, 2);
        if len < RTA_HDRLEN || len > attrs.len() {
            return None;
        }
        if kind == INET_DIAG_INFO {
            let ti = &attrs[RTA_HDRLEN..len];
            // tcp_info: 8 bytes of u8 fields, then u32s; rtt is the 16th,
            // lost the 7th, total_retrans the 24th.
            if ti.len() < 104 {
                return None;
            }
            return Some(TcpExtra {
                rtt_us: u32_at(ti, 8 + 15 * 4),
                lost: u32_at(ti, 8 + 6 * 4),
                total_retrans: u32_at(ti, 8 + 23 * 4),
                // last_data_recv is the 12th u32, last_ack_recv the 13th.
                idle_ms: u32_at(ti, 8 + 11 * 4).min(u32_at(ti, 8 + 12 * 4)),
            });
        }
        let step = align4(len).min(attrs.len());
        attrs = &attrs[step..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_listen_record() {
        let mut m = vec![0u8; INET_DIAG_MSG_LEN];
        m[0] = libc::AF_INET as u8;
        m[1] = 10;
        m[4..6].copy_from_slice(&8080u16.to_be_bytes());
        m[8..12].copy_from_slice(&[127, 0, 0, 1]);
        m[56..60].copy_from_slice(&3u32.to_ne_bytes());
        m[60..64].copy_from_slice(&128u32.to_ne_bytes());
        m[68..72].copy_from_slice(&4242u32.to_ne_bytes());
        let rec = parse_msg(&m, libc::AF_INET as u8).expect("record");
        assert_eq!(rec.state, TcpState::Listen);
        assert_eq!(rec.lport, 8080);
        assert_eq!(rec.local, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!((rec.rqueue, rec.wqueue, rec.inode), (3, 128, 4242));
    }

    #[test]
    fn short_or_unknown_records_are_skipped() {
        assert!(parse_msg(&[0u8; 10], 2).is_none());
        let mut m = vec![0u8; INET_DIAG_MSG_LEN];
        m[1] = 99;
        assert!(parse_msg(&m, 2).is_none());
    }
}
