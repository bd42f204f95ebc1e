//! Lowers the parsed expression to a tree of tests with libpcap's meaning
//! (which bytes each primitive reads, in which order, behind which
//! protocol checks), then to classic BPF with short-circuit jumps.

use super::ast::*;
use super::bpf::*;
use super::{FilterError, Insn, LinkType};

/// A condition: the tree libpcap builds from blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    /// Always holds.
    True,
    /// Never holds.
    False,
    /// Run `stmts`, then jump on `code`/`k`; `negate` swaps the outcomes.
    Test {
        /// Statements that compute A (and X).
        stmts: Vec<Insn>,
        /// Jump opcode (JMP | op | src).
        code: u16,
        /// Jump constant.
        k: u32,
        /// The condition is the jump *not* taken.
        negate: bool,
    },
    /// All hold, checked in order.
    And(Vec<Cond>),
    /// One holds, checked in order.
    Or(Vec<Cond>),
    /// Negation.
    Not(Box<Cond>),
}

/// Where things are for one link type.
struct Layout {
    link: LinkType,
    /// Offset of the network header.
    nl: u32,
}

fn err(message: impl Into<String>) -> FilterError {
    FilterError {
        message: message.into(),
        position: None,
    }
}

/// Builds the condition tree for an expression.
pub fn lower(e: &Expr, link: LinkType) -> Result<Cond, FilterError> {
    let nl = match link {
        LinkType::Ethernet => 14,
        LinkType::LinuxSll => 16,
        LinkType::LinuxSll2 => 20,
        LinkType::RawIp | LinkType::KernelCooked => 0,
    };
    let l = Layout { link, nl };
    Ok(simplify(l.expr(e)?))
}

fn test(stmts: Vec<Insn>, code: u16, k: u32) -> Cond {
    Cond::Test {
        stmts,
        code,
        k,
        negate: false,
    }
}

fn not(c: Cond) -> Cond {
    Cond::Not(Box::new(c))
}

fn ld(size: u16, k: u32) -> Insn {
    stmt(LD | size | ABS, k)
}

impl Layout {
    fn expr(&self, e: &Expr) -> Result<Cond, FilterError> {
        Ok(match e {
            Expr::And(a, b) => Cond::And(vec![self.expr(a)?, self.expr(b)?]),
            Expr::Or(a, b) => Cond::Or(vec![self.expr(a)?, self.expr(b)?]),
            Expr::Not(a) => not(self.expr(a)?),
            Expr::Prim(p) => self.prim(p)?,
            Expr::Rel { op, lhs, rhs } => self.relation(*op, lhs, rhs)?,
        })
    }

    /// `ether proto T`, as each link type checks it.
    fn linktype(&self, ethertype: u16) -> Cond {
        let t = u32::from(ethertype);
        match self.link {
            LinkType::Ethernet => test(vec![ld(H, 12)], JMP | JEQ | K, t),
            LinkType::LinuxSll => test(vec![ld(H, 14)], JMP | JEQ | K, t),
            LinkType::LinuxSll2 => test(vec![ld(H, 0)], JMP | JEQ | K, t),
            LinkType::KernelCooked => {
                test(vec![ld(W, SKF_AD_OFF + SKF_AD_PROTOCOL)], JMP | JEQ | K, t)
            }
            LinkType::RawIp => {
                let version = match ethertype {
                    0x0800 => 0x40,
                    0x86dd => 0x60,
                    _ => return Cond::False,
                };
                test(
                    vec![ld(B, 0), stmt(ALU | AND | K, 0xf0)],
                    JMP | JEQ | K,
                    version,
                )
            }
        }
    }

    /// A byte/half/word at a network-layer offset equals `v` under `mask`.
    fn cmp(&self, off: u32, size: u16, v: u32, mask: u32) -> Cond {
        let full = match size {
            W => u32::MAX,
            H => 0xffff,
            _ => 0xff,
        };
        let mut stmts = vec![ld(size, self.nl + off)];
        if mask & full != full {
            stmts.push(stmt(ALU | AND | K, mask));
        }
        test(stmts, JMP | JEQ | K, v)
    }

    fn v4proto(&self, p: u8) -> Cond {
        Cond::And(vec![
            self.linktype(0x800),
            self.cmp(9, B, u32::from(p), 0xff),
        ])
    }

    fn v6proto(&self, p: u8) -> Cond {
        Cond::And(vec![
            self.linktype(0x86dd),
            Cond::Or(vec![
                self.cmp(6, B, u32::from(p), 0xff),
                Cond::And(vec![
                    self.cmp(6, B, 44, 0xff),
                    self.cmp(40, B, u32::from(p), 0xff),
                ]),
            ]),
        ])
    }

    /// IPv4 "not a later fragment": the fragment offset is 0.
    fn first_fragment(&self) -> Cond {
        Cond::Test {
            stmts: vec![ld(H, self.nl + 6)],
            code: JMP | JSET | K,
            k: 0x1fff,
            negate: true,
        }
    }

    fn proto(&self, p: Proto) -> Result<Cond, FilterError> {
        Ok(match p {
            Proto::Ip => self.linktype(0x800),
            Proto::Ip6 => self.linktype(0x86dd),
            Proto::Arp => self.linktype(0x806),
            Proto::Rarp => self.linktype(0x8035),
            Proto::Tcp => Cond::Or(vec![self.v4proto(6), self.v6proto(6)]),
            Proto::Udp => Cond::Or(vec![self.v4proto(17), self.v6proto(17)]),
            Proto::Sctp => Cond::Or(vec![self.v4proto(132), self.v6proto(132)]),
            Proto::Icmp => self.v4proto(1),
            Proto::Igmp => self.v4proto(2),
            Proto::Icmp6 => self.v6proto(58),
            Proto::Link => {
                return Err(err(
                    "'ether' alone is not a filter: use 'ether host' or 'ether proto'",
                ))
            }
        })
    }

    fn dirop(&self, dir: Dir, src: Cond, dst: Cond) -> Cond {
        match dir {
            Dir::Src => src,
            Dir::Dst => dst,
            Dir::Either => Cond::Or(vec![src, dst]),
            Dir::Both => Cond::And(vec![src, dst]),
        }
    }

    fn prim(&self, p: &Prim) -> Result<Cond, FilterError> {
        Ok(match p {
            Prim::Proto(p) => self.proto(*p)?,
            Prim::IpProto { proto, number } => match proto {
                Some(Proto::Ip) => self.v4proto(*number),
                Some(Proto::Ip6) => self.v6proto(*number),
                _ => Cond::Or(vec![self.v4proto(*number), self.v6proto(*number)]),
            },
            Prim::EtherProto(t) => self.linktype(*t),
            Prim::Less(n) => Cond::Test {
                stmts: vec![stmt(LD | W | LEN, 0)],
                code: JMP | JGT | K,
                k: *n,
                negate: true,
            },
            Prim::Greater(n) => test(vec![stmt(LD | W | LEN, 0)], JMP | JGE | K, *n),
            Prim::Addr { proto, dir, addr } => self.addr(*proto, *dir, addr)?,
            Prim::Port {
                proto,
                dir,
                lo,
                hi,
                range,
            } => self.port(*proto, *dir, *lo, *hi, *range),
        })
    }

    fn addr(&self, proto: Option<Proto>, dir: Dir, addr: &Addr) -> Result<Cond, FilterError> {
        match *addr {
            Addr::V4 { net, mask } => {
                let host = |ethertype: u16, src: u32, dst: u32| {
                    Cond::And(vec![
                        self.linktype(ethertype),
                        self.dirop(
                            dir,
                            self.cmp(src, W, net, mask),
                            self.cmp(dst, W, net, mask),
                        ),
                    ])
                };
                let ip = host(0x800, 12, 16);
                let arp = host(0x806, 14, 24);
                let rarp = host(0x8035, 14, 24);
                Ok(match proto {
                    Some(Proto::Ip) => ip,
                    Some(Proto::Arp) => arp,
                    Some(Proto::Rarp) => rarp,
                    _ => Cond::Or(vec![ip, arp, rarp]),
                })
            }
            Addr::V6 { net, len } => {
                let words = net.octets();
                let bits = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
                let side = |base: u32| {
                    let mut v = Vec::new();
                    for i in 0..4u32 {
                        let mask = (bits >> (96 - 32 * i)) as u32;
                        if mask == 0 {
                            continue;
                        }
                        let at = (4 * i) as usize;
                        let w = u32::from_be_bytes([
                            words[at],
                            words[at + 1],
                            words[at + 2],
                            words[at + 3],
                        ]);
                        v.push(self.cmp(base + 4 * i, W, w, mask));
                    }
                    Cond::And(v)
                };
                Ok(Cond::And(vec![
                    self.linktype(0x86dd),
                    self.dirop(dir, side(8), side(24)),
                ]))
            }
            Addr::Mac(mac) => {
                if self.link != LinkType::Ethernet {
                    return Err(err(
                        "Ethernet addresses are supported only on Ethernet links",
                    ));
                }
                let side = |off: u32| {
                    let w = u32::from_be_bytes([mac[2], mac[3], mac[4], mac[5]]);
                    let h = u32::from(u16::from_be_bytes([mac[0], mac[1]]));
                    Cond::And(vec![
                        test(vec![ld(W, off + 2)], JMP | JEQ | K, w),
                        test(vec![ld(H, off)], JMP | JEQ | K, h),
                    ])
                };
                Ok(self.dirop(dir, side(6), side(0)))
            }
        }
    }

    fn port(&self, proto: Option<Proto>, dir: Dir, lo: u16, hi: u16, range: bool) -> Cond {
        let numbers: Vec<u8> = match proto {
            Some(Proto::Tcp) => vec![6],
            Some(Proto::Udp) => vec![17],
            Some(Proto::Sctp) => vec![132],
            _ => vec![132, 6, 17],
        };
        let atom = |load: Vec<Insn>| {
            if range {
                Cond::And(vec![
                    test(load.clone(), JMP | JGE | K, u32::from(lo)),
                    Cond::Test {
                        stmts: load,
                        code: JMP | JGT | K,
                        k: u32::from(hi),
                        negate: true,
                    },
                ])
            } else {
                test(load, JMP | JEQ | K, u32::from(lo))
            }
        };
        let nl = self.nl;
        let v6load = |off: u32| vec![ld(H, nl + 40 + off)];
        let v4load = |off: u32| vec![stmt(LDX | B | MSH, nl), stmt(LD | H | IND, nl + off)];
        let v6 = Cond::And(vec![
            self.linktype(0x86dd),
            Cond::Or(
                numbers
                    .iter()
                    .map(|&n| self.cmp(6, B, u32::from(n), 0xff))
                    .collect(),
            ),
            self.dirop(dir, atom(v6load(0)), atom(v6load(2))),
        ]);
        let v4 = Cond::And(vec![
            self.linktype(0x800),
            Cond::Or(
                numbers
                    .iter()
                    .map(|&n| self.cmp(9, B, u32::from(n), 0xff))
                    .collect(),
            ),
            self.first_fragment(),
            self.dirop(dir, atom(v4load(0)), atom(v4load(2))),
        ]);
        Cond::Or(vec![v6, v4])
    }

    fn relation(&self, op: RelOp, lhs: &Arith, rhs: &Arith) -> Result<Cond, FilterError> {
        let (l, r) = (fold(lhs)?, fold(rhs)?);
        if let (Arith::Const(a), Arith::Const(b)) = (&l, &r) {
            let holds = match op {
                RelOp::Eq => a == b,
                RelOp::Ne => a != b,
                RelOp::Lt => a < b,
                RelOp::Le => a <= b,
                RelOp::Gt => a > b,
                RelOp::Ge => a >= b,
            };
            return Ok(if holds { Cond::True } else { Cond::False });
        }
        let mut gates = Vec::new();
        let (code, negate) = match op {
            RelOp::Eq => (JEQ, false),
            RelOp::Ne => (JEQ, true),
            RelOp::Gt => (JGT, false),
            RelOp::Ge => (JGE, false),
            RelOp::Lt => (JGE, true),
            RelOp::Le => (JGT, true),
        };
        let jset = match (&l, &r) {
            (Arith::Bin(ArOp::And, x, m), Arith::Const(0)) if code == JEQ => match **m {
                Arith::Const(m) => Some((x, m)),
                _ => None,
            },
            _ => None,
        };
        let rel = if let Some((x, m)) = jset {
            // `x & m != 0` is one jset.
            let stmts = self.arith(x, 0, &mut gates)?;
            Cond::Test {
                stmts,
                code: JMP | JSET | K,
                k: m,
                negate: !negate,
            }
        } else if let Arith::Const(k) = r {
            let stmts = self.arith(&l, 0, &mut gates)?;
            Cond::Test {
                stmts,
                code: JMP | code | K,
                k,
                negate,
            }
        } else {
            let mut rgates = Vec::new();
            let mut stmts = self.arith(&r, 0, &mut rgates)?;
            stmts.push(stmt(ST, 0));
            stmts.extend(self.arith(&l, 1, &mut gates)?);
            stmts.push(stmt(LDX | W | MEM, 0));
            gates.extend(rgates);
            Cond::Test {
                stmts,
                code: JMP | code | X,
                k: 0,
                negate,
            }
        };
        let mut all: Vec<Cond> = Vec::new();
        for g in gates {
            if !all.contains(&g) {
                all.push(g);
            }
        }
        all.push(rel);
        Ok(Cond::And(all))
    }

    /// Statements leaving the value of `a` in A, using scratch words from
    /// `depth` up; protocol checks the loads need go to `gates`.
    fn arith(
        &self,
        a: &Arith,
        depth: u32,
        gates: &mut Vec<Cond>,
    ) -> Result<Vec<Insn>, FilterError> {
        if depth >= MEMWORDS {
            return Err(err(
                "arithmetic expression too complex for 16 scratch words",
            ));
        }
        Ok(match a {
            Arith::Const(k) => vec![stmt(LD | W | IMM, *k)],
            Arith::Len => vec![stmt(LD | W | LEN, 0)],
            Arith::Neg(x) => {
                let mut s = self.arith(x, depth, gates)?;
                s.push(stmt(ALU | NEG, 0));
                s
            }
            Arith::Bin(op, l, r) => {
                let code = match op {
                    ArOp::Add => ADD,
                    ArOp::Sub => SUB,
                    ArOp::Mul => MUL,
                    ArOp::Div => DIV,
                    ArOp::Mod => MOD,
                    ArOp::And => AND,
                    ArOp::Or => OR,
                    ArOp::Xor => XOR,
                    ArOp::Shl => LSH,
                    ArOp::Shr => RSH,
                };
                if let Arith::Const(k) = **r {
                    let mut s = self.arith(l, depth, gates)?;
                    s.push(stmt(ALU | code | K, k));
                    s
                } else {
                    let mut s = self.arith(r, depth, gates)?;
                    s.push(stmt(ST, depth));
                    s.extend(self.arith(l, depth + 1, gates)?);
                    s.push(stmt(LDX | W | MEM, depth));
                    s.push(stmt(ALU | code | X, 0));
                    s
                }
            }
            Arith::Load { proto, index, size } => {
                let size = match size {
                    1 => B,
                    2 => H,
                    _ => W,
                };
                let (base, transport) = match proto {
                    Proto::Link => {
                        if self.link == LinkType::KernelCooked {
                            return Err(err(
                                "link-layer bytes are not visible on a cooked (-i any) capture",
                            ));
                        }
                        (0, false)
                    }
                    Proto::Ip | Proto::Arp | Proto::Rarp | Proto::Ip6 => {
                        let g = self.proto(*proto)?;
                        gates.push(g);
                        (self.nl, false)
                    }
                    Proto::Icmp6 => {
                        gates.push(self.linktype(0x86dd));
                        gates.push(self.cmp(6, B, 58, 0xff));
                        (self.nl + 40, false)
                    }
                    Proto::Tcp | Proto::Udp | Proto::Sctp | Proto::Icmp | Proto::Igmp => {
                        let n = match proto {
                            Proto::Tcp => 6,
                            Proto::Udp => 17,
                            Proto::Sctp => 132,
                            Proto::Icmp => 1,
                            _ => 2,
                        };
                        gates.push(self.linktype(0x800));
                        gates.push(self.cmp(9, B, n, 0xff));
                        gates.push(self.first_fragment());
                        (self.nl, true)
                    }
                };
                let index = fold(index)?;
                let mut s = Vec::new();
                if let Arith::Const(i) = index {
                    let k = base
                        .checked_add(i)
                        .filter(|k| *k < SKF_AD_OFF)
                        .ok_or_else(|| err(format!("packet offset {i} too large")))?;
                    if transport {
                        s.push(stmt(LDX | B | MSH, self.nl));
                        s.push(stmt(LD | size | IND, k));
                    } else {
                        s.push(stmt(LD | size | ABS, k));
                    }
                } else {
                    s.extend(self.arith(&index, depth, gates)?);
                    if transport {
                        s.push(stmt(ST, depth));
                        s.push(stmt(LDX | B | MSH, self.nl));
                        s.push(stmt(LD | W | MEM, depth));
                        s.push(stmt(ALU | ADD | X, 0));
                    }
                    s.push(stmt(MISC | TAX, 0));
                    s.push(stmt(LD | size | IND, base));
                }
                s
            }
        })
    }
}

/// Folds constant sub-expressions; a constant division by zero or a
/// shift by 32 or more is an error, as in libpcap.
pub fn fold(a: &Arith) -> Result<Arith, FilterError> {
    Ok(match a {
        Arith::Const(_) | Arith::Len => a.clone(),
        Arith::Neg(x) => match fold(x)? {
            Arith::Const(v) => Arith::Const(v.wrapping_neg()),
            x => Arith::Neg(Box::new(x)),
        },
        Arith::Load { proto, index, size } => Arith::Load {
            proto: *proto,
            index: Box::new(fold(index)?),
            size: *size,
        },
        Arith::Bin(op, l, r) => {
            let (l, r) = (fold(l)?, fold(r)?);
            if let Arith::Const(k) = r {
                if k == 0 && matches!(op, ArOp::Div | ArOp::Mod) {
                    return Err(err("division by zero"));
                }
                if k >= 32 && matches!(op, ArOp::Shl | ArOp::Shr) {
                    return Err(err(format!("shift by {k} bits (at most 31)")));
                }
            }
            if let (Arith::Const(a), Arith::Const(b)) = (&l, &r) {
                let (a, b) = (*a, *b);
                return Ok(Arith::Const(match op {
                    ArOp::Add => a.wrapping_add(b),
                    ArOp::Sub => a.wrapping_sub(b),
                    ArOp::Mul => a.wrapping_mul(b),
                    ArOp::Div => a / b,
                    ArOp::Mod => a % b,
                    ArOp::And => a & b,
                    ArOp::Or => a | b,
                    ArOp::Xor => a ^ b,
                    ArOp::Shl => a << b,
                    ArOp::Shr => a >> b,
                }));
            }
            Arith::Bin(*op, Box::new(l), Box::new(r))
        }
    })
}

/// Flattens nested and/or, drops constant operands and double negation.
pub fn simplify(c: Cond) -> Cond {
    match c {
        Cond::And(v) => {
            let mut out = Vec::new();
            for c in v {
                match simplify(c) {
                    Cond::True => {}
                    Cond::False => return Cond::False,
                    Cond::And(inner) => out.extend(inner),
                    c => out.push(c),
                }
            }
            match out.len() {
                0 => Cond::True,
                1 => out.pop().unwrap_or(Cond::True),
                _ => Cond::And(out),
            }
        }
        Cond::Or(v) => {
            let mut out = Vec::new();
            for c in v {
                match simplify(c) {
                    Cond::False => {}
                    Cond::True => return Cond::True,
                    Cond::Or(inner) => out.extend(inner),
                    c => out.push(c),
                }
            }
            match out.len() {
                0 => Cond::False,
                1 => out.pop().unwrap_or(Cond::False),
                _ => Cond::Or(out),
            }
        }
        Cond::Not(c) => match simplify(*c) {
            Cond::True => Cond::False,
            Cond::False => Cond::True,
            Cond::Not(inner) => *inner,
            Cond::Test {
                stmts,
                code,
                k,
                negate,
            } => Cond::Test {
                stmts,
                code,
                k,
                negate: !negate,
            },
            c => Cond::Not(Box::new(c)),
        },
        c => c,
    }
}
