//! tcpdump filter expressions compiled to classic BPF: attached in the
//! kernel for live capture (unmatched traffic never reaches user space) and
//! run by the interpreter here on packets read from a file.

use std::fmt;

pub mod ast;
pub mod bpf;
pub mod codegen;
pub mod emit;
pub mod lexer;
pub mod parser;
pub mod vm;

pub use vm::Ancillary;

/// Longest expression accepted, in bytes: far beyond any real filter.
const MAX_EXPR: usize = 16 * 1024;

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
    if expr.len() > MAX_EXPR {
        return Err(FilterError {
            message: format!("filter expression longer than {MAX_EXPR} bytes"),
            position: None,
        });
    }
    let tokens = lexer::lex(expr)?;
    if tokens.is_empty() {
        return Ok(Program {
            insns: vec![bpf::stmt(bpf::RET | bpf::K, snaplen)],
        });
    }
    let ast = parser::parse(&tokens, expr.len())?;
    let cond = codegen::lower(&ast, link)?;
    let insns = emit::emit(&cond, snaplen);
    if insns.len() > bpf::MAXINSNS {
        return Err(FilterError {
            message: format!(
                "filter compiles to {} instructions; the kernel takes at most {}",
                insns.len(),
                bpf::MAXINSNS
            ),
            position: None,
        });
    }
    let program = Program { insns };
    program.validate().map_err(|e| FilterError {
        message: format!("internal error: compiled program is invalid: {e}"),
        position: None,
    })?;
    Ok(program)
}

impl Program {
    /// Runs the program on one packet as the kernel would: true when it
    /// returns non-zero. `wire_len` is the packet's length on the wire
    /// (`len` loads), `packet` the captured bytes. For
    /// [`LinkType::KernelCooked`] programs the protocol is derived from the
    /// IP version nibble; use [`Program::run`] to give it.
    pub fn matches(&self, packet: &[u8], wire_len: u32) -> bool {
        self.run(packet, wire_len, &Ancillary::default()) != 0
    }

    /// Runs the program and returns its value (0 drops; otherwise the
    /// number of bytes to keep), with the ancillary data the kernel would
    /// have.
    pub fn run(&self, packet: &[u8], wire_len: u32, anc: &Ancillary) -> u32 {
        vm::run(&self.insns, packet, wire_len, anc)
    }

    /// Checks the program as the kernel's `sk_chk_filter` does, so a
    /// refusal is reported before the socket call.
    pub fn validate(&self) -> Result<(), String> {
        vm::validate(&self.insns)
    }

    /// The instructions as `struct sock_filter` fields `(code, jt, jf, k)`,
    /// ready for `SO_ATTACH_FILTER`.
    pub fn to_sock_filters(&self) -> Vec<(u16, u8, u8, u32)> {
        self.insns
            .iter()
            .map(|i| (i.code, i.jt, i.jf, i.k))
            .collect()
    }

    /// Builds a program from `(code, jt, jf, k)` tuples (tcpdump's
    /// `-ddd` numbers), unchecked: call [`Program::validate`].
    pub fn from_sock_filters(v: &[(u16, u8, u8, u32)]) -> Program {
        Program {
            insns: v
                .iter()
                .map(|&(code, jt, jf, k)| Insn { code, jt, jf, k })
                .collect(),
        }
    }

    /// The program in tcpdump's `-d` layout, for `--debug` and test failures.
    pub fn disassemble(&self) -> String {
        bpf::disassemble(&self.insns)
    }
}
