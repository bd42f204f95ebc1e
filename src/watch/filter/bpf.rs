//! Classic BPF opcodes (the `linux/filter.h` values) and a disassembler in
//! tcpdump's `-d` style, so failing tests and `--debug` output can show a
//! program the way people already read them.

use super::Insn;

/// Instruction classes.
pub const LD: u16 = 0x00;
/// Load into X.
pub const LDX: u16 = 0x01;
/// Store A into scratch memory.
pub const ST: u16 = 0x02;
/// Store X into scratch memory.
pub const STX: u16 = 0x03;
/// Arithmetic on A.
pub const ALU: u16 = 0x04;
/// Jumps.
pub const JMP: u16 = 0x05;
/// Return.
pub const RET: u16 = 0x06;
/// Register transfers.
pub const MISC: u16 = 0x07;

/// Load size: 32-bit word.
pub const W: u16 = 0x00;
/// Load size: 16-bit half word.
pub const H: u16 = 0x08;
/// Load size: byte.
pub const B: u16 = 0x10;

/// Mode: immediate.
pub const IMM: u16 = 0x00;
/// Mode: packet at a fixed offset.
pub const ABS: u16 = 0x20;
/// Mode: packet at X + offset.
pub const IND: u16 = 0x40;
/// Mode: scratch memory.
pub const MEM: u16 = 0x60;
/// Mode: packet length.
pub const LEN: u16 = 0x80;
/// Mode: `4*([k]&0xf)`, the IPv4 header length (LDX only).
pub const MSH: u16 = 0xa0;

/// ALU and jump operations.
pub const ADD: u16 = 0x00;
/// Subtract.
pub const SUB: u16 = 0x10;
/// Multiply.
pub const MUL: u16 = 0x20;
/// Divide (unsigned; by zero returns 0 from the program).
pub const DIV: u16 = 0x30;
/// Bitwise or.
pub const OR: u16 = 0x40;
/// Bitwise and.
pub const AND: u16 = 0x50;
/// Shift left.
pub const LSH: u16 = 0x60;
/// Shift right.
pub const RSH: u16 = 0x70;
/// Negate.
pub const NEG: u16 = 0x80;
/// Modulo (by zero returns 0 from the program).
pub const MOD: u16 = 0x90;
/// Exclusive or.
pub const XOR: u16 = 0xa0;

/// Unconditional jump by k.
pub const JA: u16 = 0x00;
/// Jump if A == operand.
pub const JEQ: u16 = 0x10;
/// Jump if A > operand (unsigned).
pub const JGT: u16 = 0x20;
/// Jump if A >= operand (unsigned).
pub const JGE: u16 = 0x30;
/// Jump if A & operand != 0.
pub const JSET: u16 = 0x40;

/// Operand source: the constant k.
pub const K: u16 = 0x00;
/// Operand source: the X register.
pub const X: u16 = 0x08;
/// Return source: the A register.
pub const A: u16 = 0x10;

/// MISC: X = A.
pub const TAX: u16 = 0x00;
/// MISC: A = X.
pub const TXA: u16 = 0x80;

/// Number of scratch memory words.
pub const MEMWORDS: u32 = 16;
/// Longest program the kernel accepts.
pub const MAXINSNS: usize = 4096;

/// Base of the kernel's ancillary loads.
pub const SKF_AD_OFF: u32 = 0xffff_f000;
/// Ancillary: the packet's protocol (ethertype), as skb->protocol.
pub const SKF_AD_PROTOCOL: u32 = 0;
/// Ancillary: the packet type (host, broadcast, outgoing...).
pub const SKF_AD_PKTTYPE: u32 = 4;
/// Ancillary: the interface index.
pub const SKF_AD_IFINDEX: u32 = 8;

/// Class bits of an opcode.
pub fn class(code: u16) -> u16 {
    code & 0x07
}

/// Size bits of a load opcode.
pub fn size(code: u16) -> u16 {
    code & 0x18
}

/// Mode bits of a load opcode.
pub fn mode(code: u16) -> u16 {
    code & 0xe0
}

/// Operation bits of an ALU or jump opcode.
pub fn op(code: u16) -> u16 {
    code & 0xf0
}

/// Source bit of an ALU or jump opcode.
pub fn src(code: u16) -> u16 {
    code & 0x08
}

/// Shorthand for a non-jump instruction.
pub fn stmt(code: u16, k: u32) -> Insn {
    Insn {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

/// Disassembles a program in tcpdump's `-d` layout.
pub fn disassemble(insns: &[Insn]) -> String {
    let mut out = String::new();
    for (pc, insn) in insns.iter().enumerate() {
        out.push_str(&format!("({pc:03}) {}\n", describe(pc, insn)));
    }
    out
}

fn describe(pc: usize, i: &Insn) -> String {
    let k = i.k;
    let sz = match size(i.code) {
        W => "",
        H => "h",
        B => "b",
        _ => "?",
    };
    let addr = |base: &str| {
        if k >= SKF_AD_OFF {
            format!("{base}[ancillary {}]", k - SKF_AD_OFF)
        } else {
            format!("{base}[{k}]")
        }
    };
    match class(i.code) {
        LD => match mode(i.code) {
            IMM => format!("ld       #{k:#x}"),
            ABS => format!("ld{sz:<7}{}", addr("")),
            IND => format!("ld{sz:<7}[x + {k}]"),
            MEM => format!("ld       M[{k}]"),
            LEN => "ld       #pktlen".to_string(),
            _ => format!("unknown  {:#x}", i.code),
        },
        LDX => match mode(i.code) {
            IMM => format!("ldx      #{k:#x}"),
            MEM => format!("ldx      M[{k}]"),
            LEN => "ldx      #pktlen".to_string(),
            MSH => format!("ldxb     4*([{k}]&0xf)"),
            _ => format!("unknown  {:#x}", i.code),
        },
        ST => format!("st       M[{k}]"),
        STX => format!("stx      M[{k}]"),
        ALU => {
            let name = match op(i.code) {
                ADD => "add",
                SUB => "sub",
                MUL => "mul",
                DIV => "div",
                OR => "or",
                AND => "and",
                LSH => "lsh",
                RSH => "rsh",
                NEG => return "neg".to_string(),
                MOD => "mod",
                XOR => "xor",
                _ => "alu?",
            };
            if src(i.code) == X {
                format!("{name:<9}x")
            } else {
                format!("{name:<9}#{k:#x}")
            }
        }
        JMP => {
            if op(i.code) == JA {
                return format!("ja       {}", pc as u64 + 1 + u64::from(k));
            }
            let name = match op(i.code) {
                JEQ => "jeq",
                JGT => "jgt",
                JGE => "jge",
                JSET => "jset",
                _ => "j?",
            };
            let operand = if src(i.code) == X {
                "x".to_string()
            } else {
                format!("#{k:#x}")
            };
            format!(
                "{name:<9}{operand:<17}jt {}\tjf {}",
                pc + 1 + usize::from(i.jt),
                pc + 1 + usize::from(i.jf)
            )
        }
        RET => {
            if i.code & 0x18 == A {
                "ret      a".to_string()
            } else {
                format!("ret      #{k}")
            }
        }
        _ => {
            if i.code & 0xf8 == TXA {
                "txa".to_string()
            } else {
                "tax".to_string()
            }
        }
    }
}
