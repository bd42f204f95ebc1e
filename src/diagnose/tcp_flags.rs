//! TCP header flags: what each one says on the wire and what seeing it in a
//! capture or a diagnosis tells you. One table for explain and the probes.

/// Everything netdx knows about one TCP flag.
#[derive(Debug, Clone, Copy)]
pub struct TcpFlagInfo {
    /// Short name as tcpdump and RFCs write it.
    pub name: &'static str,
    /// Long name.
    pub long: &'static str,
    /// Bit value in the flags byte (CWR is 0x80, FIN 0x01).
    pub bit: u8,
    /// tcpdump's one-letter mark (`S`, `R`, `.` for ACK).
    pub tcpdump: &'static str,
    /// What it means and what seeing it tells you.
    pub meaning: &'static str,
}

/// The eight flags of the TCP flags byte.
#[rustfmt::skip]
pub static TCP_FLAGS: &[TcpFlagInfo] = &[
    TcpFlagInfo { name: "FIN", long: "Finish", bit: 0x01, tcpdump: "F", meaning: "the sender has no more data: the orderly close. The side that sends the first FIN goes to FIN_WAIT1 and ends in TIME_WAIT; the receiver goes to CLOSE_WAIT until its application closes" },
    TcpFlagInfo { name: "SYN", long: "Synchronize", bit: 0x02, tcpdump: "S", meaning: "opens a connection and carries the initial sequence number, MSS, window scale, SACK and timestamp options. A SYN with no answer is what a silent firewall drop looks like (connect() → ETIMEDOUT); SYN answered by SYN+ACK means the port is open" },
    TcpFlagInfo { name: "RST", long: "Reset", bit: 0x04, tcpdump: "R", meaning: "aborts the connection at once, no more data. In answer to a SYN it means nothing listens on the port (connect() → ECONNREFUSED); on an established connection it means the peer or a middlebox killed it (ECONNRESET): a crash, close with unread data, SO_LINGER 0, or a firewall/load balancer idle timeout" },
    TcpFlagInfo { name: "PSH", long: "Push", bit: 0x08, tcpdump: "P", meaning: "asks the receiver to pass the data to the application without waiting; set on the last segment of a write. Informational" },
    TcpFlagInfo { name: "ACK", long: "Acknowledgment", bit: 0x10, tcpdump: ".", meaning: "the acknowledgment number is valid; set on every segment after the initial SYN. Duplicate ACKs signal loss to the sender" },
    TcpFlagInfo { name: "URG", long: "Urgent", bit: 0x20, tcpdump: "U", meaning: "the urgent pointer is valid (out-of-band data); almost unused today — telnet and FTP abort only. Unexpected URG traffic is often a scan" },
    TcpFlagInfo { name: "ECE", long: "ECN-Echo", bit: 0x40, tcpdump: "E", meaning: "in a SYN: the sender supports ECN; later: the receiver saw a congestion mark (CE) and asks the sender to slow down" },
    TcpFlagInfo { name: "CWR", long: "Congestion Window Reduced", bit: 0x80, tcpdump: "W", meaning: "the sender reduced its congestion window after an ECE; with ECE in a SYN it negotiates ECN" },
];

/// Looks a flag up by short or long name, case-insensitively.
pub fn by_name(name: &str) -> Option<&'static TcpFlagInfo> {
    let name = name.trim();
    TCP_FLAGS
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case(name) || f.long.eq_ignore_ascii_case(name))
}

/// What common flag combinations mean as a whole (`SYN+ACK`, `RST+ACK`).
pub fn combination(bits: u8) -> Option<&'static str> {
    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    const RST: u8 = 0x04;
    const FIN: u8 = 0x01;
    const PSH: u8 = 0x08;
    const URG: u8 = 0x20;
    match bits {
        b if b == SYN | ACK => Some("the server's answer to a SYN: the port is open and the server accepts (second step of the handshake)"),
        b if b == RST | ACK => Some("the usual form of a refusal: Linux answers a SYN to a closed port with RST+ACK (connect() → ECONNREFUSED); mid-connection it is an abort"),
        b if b == FIN | ACK => Some("an orderly close that also acknowledges data: the normal FIN"),
        b if b == PSH | ACK => Some("a data segment: the normal case for application data"),
        b if b == FIN | PSH | URG => Some("an Xmas scan (nmap -sX): nothing legitimate sends it"),
        b if b == SYN | FIN => Some("invalid: a scan or evasion attempt; firewalls drop it"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_cover_the_byte() {
        let all = TCP_FLAGS.iter().fold(0u8, |acc, f| acc | f.bit);
        assert_eq!(all, 0xff);
        assert_eq!(by_name("rst").map(|f| f.bit), Some(0x04));
        assert!(combination(0x12).is_some());
    }
}
