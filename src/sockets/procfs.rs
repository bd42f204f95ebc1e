//! The fallback reader: /proc/net/tcp and /proc/net/tcp6, the files netstat
//! parses. Slower than netlink (the kernel formats text) and it has no
//! listen backlog, but it needs nothing beyond a readable /proc.

use super::record::SockRecord;
use super::state::{TcpState, Timer};
use std::io::{self, BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// USER_HZ: /proc prints timer delays in clock ticks of 10 ms.
const MS_PER_TICK: u64 = 10;

/// Streams every socket in `path` (tcp or tcp6 table) to `each`, reusing
/// one line buffer.
pub fn dump(path: &str, v6: bool, each: &mut dyn FnMut(&SockRecord)) -> io::Result<()> {
    let file = std::fs::File::open(path)?;
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    let mut line = String::with_capacity(256);
    let mut first = true;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if first {
            first = false;
            continue;
        }
        if let Some(rec) = parse_line(&line, v6) {
            each(&rec);
        }
    }
}

/// Decodes one table row; None for anything malformed (skipped, not fatal).
pub fn parse_line(line: &str, v6: bool) -> Option<SockRecord> {
    let mut f = line.split_ascii_whitespace();
    let _sl = f.next()?;
    let (local, lport) = endpoint(f.next()?, v6)?;
    let (remote, rport) = endpoint(f.next()?, v6)?;
    let state = TcpState::from_kernel(u8::from_str_radix(f.next()?, 16).ok()?)?;
    let (tx, rx) = f.next()?.split_once(':')?;
    let wqueue = u32::from_str_radix(tx, 16).ok()?;
    let rqueue = u32::from_str_radix(rx, 16).ok()?;
    let (tr, when) = f.next()?.split_once(':')?;
    let timer = Timer::from_kernel(u8::from_str_radix(tr, 16).ok()?);
    let ticks = u64::from_str_radix(when, 16).ok()?;
    let retrans = u8::try_from(u32::from_str_radix(f.next()?, 16).ok()?).unwrap_or(u8::MAX);
    let uid: u32 = f.next()?.parse().ok()?;
    let _timeout = f.next()?;
    let inode: u64 = f.next()?.parse().ok()?;
    Some(SockRecord {
        state,
        local,
        lport,
        remote,
        rport,
        rqueue,
        // /proc has no backlog for listeners: tx_queue is 0 there.
        wqueue: if state == TcpState::Listen { 0 } else { wqueue },
        uid,
        inode,
        timer,
        expires_ms: if timer == Timer::Off {
            0
        } else {
            ticks * MS_PER_TICK
        },
        retrans,
        v6,
        extra: None,
    })
}

/// `0100007F:1F90` → 127.0.0.1:8080. Each 32-bit word is printed in host
/// byte order, so its native bytes are the address bytes.
fn endpoint(text: &str, v6: bool) -> Option<(IpAddr, u16)> {
    let (a, p) = text.split_once(':')?;
    let port = u16::from_str_radix(p, 16).ok()?;
    let ip = if v6 {
        if a.len() != 32 {
            return None;
        }
        let mut o = [0u8; 16];
        for i in 0..4 {
            let w = u32::from_str_radix(a.get(i * 8..i * 8 + 8)?, 16).ok()?;
            o[i * 4..i * 4 + 4].copy_from_slice(&w.to_ne_bytes());
        }
        IpAddr::V6(Ipv6Addr::from(o))
    } else {
        let w = u32::from_str_radix(a, 16).ok()?;
        IpAddr::V4(Ipv4Addr::from(w.to_ne_bytes()))
    };
    Some((ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_endian = "little")]
    fn parses_v4_and_v6_rows() {
        let row = "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000002 00:00000000 00000000     0        0 1464 1 0000000073974b29 100 0 0 10 0";
        let r = parse_line(row, false).expect("v4 row");
        assert_eq!(r.local, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(
            (r.lport, r.state, r.rqueue, r.inode),
            (8080, TcpState::Listen, 2, 1464)
        );
        let row6 = "   1: 00000000000000000000000001000000:0016 00000000000000000000000001000000:D431 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000";
        let r = parse_line(row6, true).expect("v6 row");
        assert_eq!(r.local, IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert_eq!(
            (r.state, r.timer, r.expires_ms),
            (TcpState::TimeWait, Timer::TimeWait, 60000)
        );
    }

    #[test]
    fn malformed_rows_are_skipped() {
        assert!(parse_line("garbage", false).is_none());
        assert!(parse_line("0: XYZ:1 0:0 01", false).is_none());
    }
}
