//! tcpdump filter expressions compiled to classic BPF: attached in the
//! kernel for live capture (unmatched traffic never reaches user space) and
//! run by the interpreter here on packets read from a file.

use std::fmt;

/// Where the network header starts and how the link header looks: the
/// offsets a compiled program reads depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkType {
    /// DLT_EN10MB: 14-byte Ethernet header (VLAN tags not followed).
    Ethernet,
    /// DLT_LINUX_SLL: 16-byte Linux cooked header (`-i any` in a pcap).
    LinuxSll,
    /// DLT_LINUX_SLL2: 20-byte Linux cooked v2 header.
    LinuxSll2,
    /// DLT_RAW: the packet starts at the IP header.
    RawIp,
    /// A kernel AF_PACKET SOCK_DGRAM socket (`-i any` live): the packet
    /// starts at the network header and the protocol is read with the
    /// ancillary load SKF_AD_PROTOCOL, as libpcap does for cooked sockets.
    KernelCooked,
}

/// One classic BPF instruction, in the layout of `struct sock_filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    /// Opcode (class | size | mode, or class | op | source).
    pub code: u16,
    /// Jump offset when the condition holds.
    pub jt: u8,
    /// Jump offset when it does not.
    pub jf: u8,
    /// The constant operand.
    pub k: u32,
}

/// A compiled filter: what the kernel runs, and what `-r` runs in user space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    /// The instructions, ending in a return.
    pub insns: Vec<Insn>,
}

/// Why an expression did not compile: shown to the user in one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// What is wrong, in tcpdump's terms where it has them.
    pub message: String,
    /// Byte offset in the expression, when one token is to blame.
    pub position: Option<usize>,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(at) => write!(f, "{} (at byte {at})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Compiles a tcpdump filter expression; an empty expression accepts every
/// packet. `snaplen` is what an accepting program returns.
pub fn compile(expr: &str, link: LinkType, snaplen: u32) -> Result<Program, FilterError> {
    let _ = link;
    if expr.trim().is_empty() {
        return Ok(Program {
            insns: vec![Insn {
                code: 0x06,
                jt: 0,
                jf: 0,
                k: snaplen,
            }],
        });
    }
    Err(FilterError {
        message: "filter expressions are not supported yet".to_string(),
        position: None,
    })
}

impl Program {
    /// Runs the program on one packet as the kernel would: true when it
    /// returns non-zero. `wire_len` is the packet's length on the wire
    /// (`len` loads), `packet` the captured bytes.
    pub fn matches(&self, packet: &[u8], wire_len: u32) -> bool {
        let _ = (packet, wire_len);
        self.insns.len() == 1 && self.insns[0].code == 0x06 && self.insns[0].k != 0
    }
}
