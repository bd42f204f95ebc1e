//! The classic BPF machine as the Linux kernel runs it, for packets read
//! from a file and for tests: a load past the captured bytes or a division
//! by zero ends the program with 0, jumps only go forward, and programs are
//! checked first as `sk_chk_filter` does.

use super::bpf::*;
use super::Insn;

/// What the kernel knows about a packet besides its bytes: the values of
/// the ancillary loads (`SKF_AD_*`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ancillary {
    /// skb->protocol (an ethertype, host order); `None` derives it from
    /// the IP version nibble of the first byte (0 when not 4 or 6).
    pub protocol: Option<u16>,
    /// The packet type (0 host, 1 broadcast, 2 multicast, 3 other host, 4 outgoing).
    pub pkttype: u32,
    /// The interface index.
    pub ifindex: u32,
}

/// Why the kernel would refuse a program (EINVAL), in words.
pub fn validate(insns: &[Insn]) -> Result<(), String> {
    let len = insns.len();
    if len == 0 || len > MAXINSNS {
        return Err(format!(
            "program length {len} outside 1..={MAXINSNS} instructions"
        ));
    }
    for (pc, i) in insns.iter().enumerate() {
        let bad = || Err(format!("invalid opcode {:#06x} at {pc}", i.code));
        match class(i.code) {
            LD => match mode(i.code) {
                IMM | LEN if i.code == LD | W | mode(i.code) => {}
                ABS | IND if size(i.code) != 0x18 => {}
                MEM if i.code == LD | W | MEM => {
                    if i.k >= MEMWORDS {
                        return Err(format!("scratch word {} out of range at {pc}", i.k));
                    }
                }
                _ => return bad(),
            },
            LDX => match i.code {
                c if c == LDX | W | IMM || c == LDX | W | LEN => {}
                c if c == LDX | B | MSH => {}
                c if c == LDX | W | MEM => {
                    if i.k >= MEMWORDS {
                        return Err(format!("scratch word {} out of range at {pc}", i.k));
                    }
                }
                _ => return bad(),
            },
            ST | STX => {
                if i.code & !0x07 != 0 {
                    return bad();
                }
                if i.k >= MEMWORDS {
                    return Err(format!("scratch word {} out of range at {pc}", i.k));
                }
            }
            ALU => {
                let o = op(i.code);
                if o > XOR || i.code & 0x07 != ALU || (o == NEG && src(i.code) == X) {
                    return bad();
                }
                if src(i.code) == K {
                    if (o == DIV || o == MOD) && i.k == 0 {
                        return Err(format!("division by constant zero at {pc}"));
                    }
                    if (o == LSH || o == RSH) && i.k >= 32 {
                        return Err(format!("shift by {} at {pc}", i.k));
                    }
                }
            }
            JMP => {
                let o = op(i.code);
                if o == JA {
                    if i.code != JMP | JA {
                        return bad();
                    }
                    if u64::from(i.k) >= (len - pc - 1) as u64 {
                        return Err(format!("jump out of range at {pc}"));
                    }
                } else {
                    if o > JSET {
                        return bad();
                    }
                    if pc + 1 + usize::from(i.jt) >= len || pc + 1 + usize::from(i.jf) >= len {
                        return Err(format!("jump out of range at {pc}"));
                    }
                }
            }
            RET => {
                if i.code != RET | K && i.code != RET | A {
                    return bad();
                }
            }
            _ => {
                if i.code != MISC | TAX && i.code != MISC | TXA {
                    return bad();
                }
            }
        }
    }
    if class(insns[len - 1].code) != RET {
        return Err("the last instruction is not a return".to_string());
    }
    check_memory(insns)
}

/// The kernel refuses a program that may read a scratch word no path has
/// written (`check_load_and_stores`).
fn check_memory(insns: &[Insn]) -> Result<(), String> {
    // Bit set of words surely written when reaching each instruction;
    // forward jumps only, so one pass in order computes the meet.
    let mut known: Vec<Option<u16>> = vec![None; insns.len()];
    known[0] = Some(0);
    for (pc, i) in insns.iter().enumerate() {
        let Some(mut mem) = known[pc] else { continue };
        let word = 1u16.checked_shl(i.k).unwrap_or(0);
        match (class(i.code), mode(i.code)) {
            (ST, _) | (STX, _) => mem |= word,
            (LD, MEM) | (LDX, MEM) => {
                if mem & word == 0 {
                    return Err(format!("scratch word {} read before written at {pc}", i.k));
                }
            }
            _ => {}
        }
        let mut flow = |to: usize| {
            if let Some(slot) = known.get_mut(to) {
                *slot = Some(match *slot {
                    Some(m) => m & mem,
                    None => mem,
                });
            }
        };
        match class(i.code) {
            RET => {}
            JMP if op(i.code) == JA => flow(pc + 1 + i.k as usize),
            JMP => {
                flow(pc + 1 + usize::from(i.jt));
                flow(pc + 1 + usize::from(i.jf));
            }
            _ => flow(pc + 1),
        }
    }
    Ok(())
}

fn load(packet: &[u8], at: u64, size: u16) -> Option<u32> {
    let n = match size {
        W => 4,
        H => 2,
        _ => 1,
    };
    let start = usize::try_from(at).ok()?;
    let bytes = packet.get(start..start.checked_add(n)?)?;
    Some(bytes.iter().fold(0u32, |v, &b| (v << 8) | u32::from(b)))
}

fn ancillary(packet: &[u8], k: u32, anc: &Ancillary) -> Option<u32> {
    match k - SKF_AD_OFF {
        SKF_AD_PROTOCOL => {
            Some(u32::from(anc.protocol.unwrap_or_else(
                || match packet.first().map(|b| b >> 4) {
                    Some(4) => 0x0800,
                    Some(6) => 0x86dd,
                    _ => 0,
                },
            )))
        }
        SKF_AD_PKTTYPE => Some(anc.pkttype),
        SKF_AD_IFINDEX => Some(anc.ifindex),
        _ => None,
    }
}

/// Runs a program and returns what it returns (0 = drop). Never panics:
/// whatever the instructions, a bad index or opcode ends with 0.
pub fn run(insns: &[Insn], packet: &[u8], wire_len: u32, anc: &Ancillary) -> u32 {
    let mut a: u32 = 0;
    let mut x: u32 = 0;
    let mut mem = [0u32; MEMWORDS as usize];
    let mut pc = 0usize;
    while let Some(i) = insns.get(pc) {
        pc += 1;
        let k = i.k;
        match class(i.code) {
            LD => {
                a = match mode(i.code) {
                    IMM => k,
                    LEN => wire_len,
                    MEM => match mem.get(k as usize) {
                        Some(&v) => v,
                        None => return 0,
                    },
                    ABS if k >= SKF_AD_OFF => match ancillary(packet, k, anc) {
                        Some(v) => v,
                        None => return 0,
                    },
                    ABS => match load(packet, u64::from(k), size(i.code)) {
                        Some(v) => v,
                        None => return 0,
                    },
                    IND => match load(packet, u64::from(x) + u64::from(k), size(i.code)) {
                        Some(v) => v,
                        None => return 0,
                    },
                    _ => return 0,
                }
            }
            LDX => {
                x = match mode(i.code) {
                    IMM => k,
                    LEN => wire_len,
                    MEM => match mem.get(k as usize) {
                        Some(&v) => v,
                        None => return 0,
                    },
                    MSH => match load(packet, u64::from(k), B) {
                        Some(v) => (v & 0xf) << 2,
                        None => return 0,
                    },
                    _ => return 0,
                }
            }
            ST => match mem.get_mut(k as usize) {
                Some(slot) => *slot = a,
                None => return 0,
            },
            STX => match mem.get_mut(k as usize) {
                Some(slot) => *slot = x,
                None => return 0,
            },
            ALU => {
                let v = if src(i.code) == X { x } else { k };
                a = match op(i.code) {
                    ADD => a.wrapping_add(v),
                    SUB => a.wrapping_sub(v),
                    MUL => a.wrapping_mul(v),
                    DIV => match a.checked_div(v) {
                        Some(q) => q,
                        None => return 0,
                    },
                    MOD => match a.checked_rem(v) {
                        Some(r) => r,
                        None => return 0,
                    },
                    OR => a | v,
                    AND => a & v,
                    LSH => a.wrapping_shl(v),
                    RSH => a.wrapping_shr(v),
                    NEG => a.wrapping_neg(),
                    XOR => a ^ v,
                    _ => return 0,
                };
            }
            JMP => {
                let v = if src(i.code) == X { x } else { k };
                let taken = match op(i.code) {
                    JA => {
                        pc = match usize::try_from(k).ok().and_then(|k| pc.checked_add(k)) {
                            Some(to) => to,
                            None => return 0,
                        };
                        continue;
                    }
                    JEQ => a == v,
                    JGT => a > v,
                    JGE => a >= v,
                    JSET => a & v != 0,
                    _ => return 0,
                };
                pc += usize::from(if taken { i.jt } else { i.jf });
            }
            RET => return if i.code & 0x18 == A { a } else { k },
            _ => {
                if i.code & 0xf8 == TXA {
                    a = x;
                } else {
                    x = a;
                }
            }
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prog(v: &[(u16, u8, u8, u32)]) -> Vec<Insn> {
        v.iter()
            .map(|&(code, jt, jf, k)| Insn { code, jt, jf, k })
            .collect()
    }

    #[test]
    fn out_of_bounds_load_returns_zero() {
        let p = prog(&[(LD | H | ABS, 0, 0, 12), (RET | K, 0, 0, 1)]);
        assert_eq!(run(&p, &[0; 13], 13, &Ancillary::default()), 0);
        assert_eq!(run(&p, &[0; 14], 14, &Ancillary::default()), 1);
        let ind = prog(&[
            (LDX | W | IMM, 0, 0, u32::MAX),
            (LD | B | IND, 0, 0, 1),
            (RET | K, 0, 0, 1),
        ]);
        assert_eq!(run(&ind, &[0; 64], 64, &Ancillary::default()), 0);
    }

    #[test]
    fn division_by_zero_returns_zero() {
        let p = prog(&[
            (LD | W | IMM, 0, 0, 7),
            (LDX | W | IMM, 0, 0, 0),
            (ALU | DIV | X, 0, 0, 0),
            (RET | K, 0, 0, 1),
        ]);
        assert_eq!(run(&p, &[], 0, &Ancillary::default()), 0);
        assert!(validate(&p).is_ok());
        let k = prog(&[(ALU | DIV | K, 0, 0, 0), (RET | K, 0, 0, 1)]);
        assert!(validate(&k).is_err());
    }

    #[test]
    fn validation_matches_the_kernel() {
        assert!(validate(&[]).is_err());
        let no_ret = prog(&[(LD | W | IMM, 0, 0, 1)]);
        assert!(validate(&no_ret).is_err());
        let far = prog(&[(JMP | JEQ | K, 5, 0, 1), (RET | K, 0, 0, 1)]);
        assert!(validate(&far).is_err());
        let ja = prog(&[(JMP | JA, 0, 0, 1), (RET | K, 0, 0, 1)]);
        assert!(validate(&ja).is_err());
        let unset = prog(&[(LD | W | MEM, 0, 0, 3), (RET | A, 0, 0, 0)]);
        assert!(validate(&unset).is_err());
        let set = prog(&[(ST, 0, 0, 3), (LD | W | MEM, 0, 0, 3), (RET | A, 0, 0, 0)]);
        assert!(validate(&set).is_ok());
        let big = vec![stmt(RET | K, 0); MAXINSNS + 1];
        assert!(validate(&big).is_err());
    }

    #[test]
    fn protocol_comes_from_the_version_nibble() {
        let p = prog(&[
            (LD | W | ABS, 0, 0, SKF_AD_OFF + SKF_AD_PROTOCOL),
            (RET | A, 0, 0, 0),
        ]);
        let anc = Ancillary::default();
        assert_eq!(run(&p, &[0x45], 1, &anc), 0x800);
        assert_eq!(run(&p, &[0x60], 1, &anc), 0x86dd);
        let arp = Ancillary {
            protocol: Some(0x806),
            ..anc
        };
        assert_eq!(run(&p, &[0x00], 1, &arp), 0x806);
    }
}
