//! Recursive-descent parser for pcap-filter(7) expressions. As in
//! libpcap, `and` and `or` have the same precedence and group left to
//! right, `not` binds tighter, and a bare value repeats the qualifiers of
//! the primitive before it (`host a or b`, `tcp port 80 or 443`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::ast::*;
use super::lexer::{Tok, Token};
use super::FilterError;

/// Deepest nesting of parentheses and `not` accepted.
const MAX_DEPTH: usize = 100;

/// Qualifiers a bare value inherits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Quals {
    proto: Option<Proto>,
    dir: Option<Dir>,
    kind: Option<Kind>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Host,
    Net,
    Port,
    PortRange,
    Proto,
}

/// Parses a token list into an expression.
pub fn parse(tokens: &[Token], src_len: usize) -> Result<Expr, FilterError> {
    let mut p = Parser {
        toks: tokens,
        pos: 0,
        end: src_len,
        last: None,
        depth: 0,
    };
    let e = p.expr()?;
    match p.peek() {
        None => Ok(e),
        Some(Tok::RParen) => Err(p.err_here("unbalanced ')'")),
        Some(t) => {
            let d = t.describe();
            Err(p.err_here(&format!(
                "unexpected {d}: expected 'and' or 'or' between primitives"
            )))
        }
    }
}

struct Parser<'a> {
    toks: &'a [Token],
    pos: usize,
    end: usize,
    /// Qualifiers of the last primitive, for implicit repetition.
    last: Option<Quals>,
    depth: usize,
}

const PROTOS: &[(&str, Proto)] = &[
    ("ether", Proto::Link),
    ("link", Proto::Link),
    ("ip", Proto::Ip),
    ("ip6", Proto::Ip6),
    ("arp", Proto::Arp),
    ("rarp", Proto::Rarp),
    ("tcp", Proto::Tcp),
    ("udp", Proto::Udp),
    ("sctp", Proto::Sctp),
    ("icmp", Proto::Icmp),
    ("icmp6", Proto::Icmp6),
    ("igmp", Proto::Igmp),
];

/// Names libpcap knows that netdx filters do not support.
const UNSUPPORTED: &[&str] = &[
    "gateway",
    "broadcast",
    "multicast",
    "inbound",
    "outbound",
    "vlan",
    "mpls",
    "pppoed",
    "pppoes",
    "geneve",
    "ifname",
    "on",
    "rnr",
    "reason",
    "action",
    "rset",
    "ruleset",
    "srnr",
    "subrule",
    "protochain",
    "decnet",
    "atalk",
    "aarp",
    "ipx",
    "netbeui",
    "iso",
    "esis",
    "isis",
    "clnp",
    "stp",
    "lat",
    "mopdl",
    "moprc",
    "sca",
    "fddi",
    "tr",
    "wlan",
    "ppp",
    "slip",
    "llc",
    "type",
    "subtype",
    "dir",
    "addr1",
    "addr2",
    "addr3",
    "addr4",
    "ra",
    "ta",
    "pim",
    "vrrp",
    "carp",
    "igrp",
    "ah",
    "esp",
    "radio",
    "hsls",
    "lsp",
    "snp",
    "csnp",
    "psnp",
    "lane",
    "oamf4",
    "oamf4ec",
    "oamf4sc",
    "oam",
    "vpi",
    "vci",
    "metac",
    "bcc",
    "sc",
    "ilmic",
    "connectmsg",
    "metaconnect",
    "fisu",
    "lssu",
    "msu",
    "hfisu",
    "hlssu",
    "hmsu",
    "sio",
    "opc",
    "dpc",
    "sls",
    "hsio",
    "hopc",
    "hdpc",
    "hsls",
];

/// Named constants usable in arithmetic (libpcap's list).
const CONSTANTS: &[(&str, u32)] = &[
    ("icmptype", 0),
    ("icmpcode", 1),
    ("icmp-echoreply", 0),
    ("icmp-unreach", 3),
    ("icmp-sourcequench", 4),
    ("icmp-redirect", 5),
    ("icmp-echo", 8),
    ("icmp-routeradvert", 9),
    ("icmp-routersolicit", 10),
    ("icmp-timxceed", 11),
    ("icmp-paramprob", 12),
    ("icmp-tstamp", 13),
    ("icmp-tstampreply", 14),
    ("icmp-ireq", 15),
    ("icmp-ireqreply", 16),
    ("icmp-maskreq", 17),
    ("icmp-maskreply", 18),
    ("icmp6type", 0),
    ("icmp6code", 1),
    ("icmp6-destinationunreach", 1),
    ("icmp6-packettoobig", 2),
    ("icmp6-timeexceeded", 3),
    ("icmp6-parameterproblem", 4),
    ("icmp6-echo", 128),
    ("icmp6-echoreply", 129),
    ("icmp6-multicastlistenerquery", 130),
    ("icmp6-multicastlistenerreportv1", 131),
    ("icmp6-multicastlistenerdone", 132),
    ("icmp6-routersolicit", 133),
    ("icmp6-routeradvert", 134),
    ("icmp6-neighborsolicit", 135),
    ("icmp6-neighboradvert", 136),
    ("icmp6-redirect", 137),
    ("tcpflags", 13),
    ("tcp-fin", 0x01),
    ("tcp-syn", 0x02),
    ("tcp-rst", 0x04),
    ("tcp-push", 0x08),
    ("tcp-ack", 0x10),
    ("tcp-urg", 0x20),
    ("tcp-ece", 0x40),
    ("tcp-cwr", 0x80),
];

/// IP protocol names accepted after `proto`.
const IP_PROTOCOLS: &[(&str, u8)] = &[
    ("icmp", 1),
    ("igmp", 2),
    ("tcp", 6),
    ("udp", 17),
    ("gre", 47),
    ("esp", 50),
    ("ah", 51),
    ("icmp6", 58),
    ("ospf", 89),
    ("pim", 103),
    ("vrrp", 112),
    ("sctp", 132),
];

fn proto_word(s: &str) -> Option<Proto> {
    PROTOS.iter().find(|(n, _)| *n == s).map(|&(_, p)| p)
}

fn constant(s: &str) -> Option<u32> {
    CONSTANTS.iter().find(|(n, _)| *n == s).map(|&(_, v)| v)
}

fn is_keyword(s: &str) -> bool {
    matches!(
        s,
        "and"
            | "or"
            | "not"
            | "host"
            | "net"
            | "port"
            | "portrange"
            | "src"
            | "dst"
            | "proto"
            | "less"
            | "greater"
            | "len"
            | "mask"
    ) || proto_word(s).is_some()
}

/// Parses a number as libpcap does: decimal, 0x hex, or 0-led octal.
pub fn number(s: &str) -> Option<u32> {
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return u32::from_str_radix(hex, 16).ok();
    }
    if s.len() > 1 && s.starts_with('0') {
        return u32::from_str_radix(&s[1..], 8).ok();
    }
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    None
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&'a Tok> {
        self.toks.get(self.pos).map(|t| &t.kind)
    }

    fn peek_at(&self, n: usize) -> Option<&'a Tok> {
        self.toks.get(self.pos + n).map(|t| &t.kind)
    }

    fn peek_word(&self) -> Option<&'a str> {
        match self.peek() {
            Some(Tok::Word { text, .. }) => Some(text),
            _ => None,
        }
    }

    fn here(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |t| t.at)
    }

    fn err_at(&self, at: usize, msg: &str) -> FilterError {
        FilterError {
            message: msg.to_string(),
            position: Some(at),
        }
    }

    fn err_here(&self, msg: &str) -> FilterError {
        if self.pos >= self.toks.len() {
            return self.err_at(self.end, &format!("{msg} (at the end of the expression)"));
        }
        self.err_at(self.here(), msg)
    }

    fn enter(&mut self) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err_here("expression nested too deeply"));
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.term()?;
        loop {
            let is_and = match self.peek() {
                Some(Tok::AndAnd) => true,
                Some(Tok::OrOr) => false,
                Some(Tok::Word {
                    text,
                    escaped: false,
                }) if text == "and" => true,
                Some(Tok::Word {
                    text,
                    escaped: false,
                }) if text == "or" => false,
                _ => return Ok(left),
            };
            self.pos += 1;
            if self.peek().is_none() || self.peek() == Some(&Tok::RParen) {
                let op = if is_and { "and" } else { "or" };
                return Err(self.err_here(&format!("'{op}' needs an expression after it")));
            }
            let right = self.term()?;
            left = if is_and {
                Expr::And(Box::new(left), Box::new(right))
            } else {
                Expr::Or(Box::new(left), Box::new(right))
            };
        }
    }

    fn term(&mut self) -> Result<Expr, FilterError> {
        self.enter()?;
        let r = self.term_inner();
        self.depth -= 1;
        r
    }

    fn term_inner(&mut self) -> Result<Expr, FilterError> {
        let Some(tok) = self.peek() else {
            return Err(self.err_here("expression expected"));
        };
        match tok {
            Tok::Bang => {
                self.pos += 1;
                Ok(Expr::Not(Box::new(self.term()?)))
            }
            Tok::Word {
                text,
                escaped: false,
            } if text == "not" => {
                self.pos += 1;
                Ok(Expr::Not(Box::new(self.term()?)))
            }
            Tok::LParen => {
                if self.peek_at(1) == Some(&Tok::RParen) {
                    return Err(self.err_here("empty parentheses"));
                }
                self.try_relation_or(|p| {
                    let open = p.here();
                    p.pos += 1;
                    let e = p.expr()?;
                    if p.peek() != Some(&Tok::RParen) {
                        if p.peek().is_none() {
                            return Err(p.err_at(open, "unbalanced '(': no matching ')'"));
                        }
                        let d = p.peek().map(|t| t.describe()).unwrap_or_default();
                        return Err(p.err_here(&format!("expected ')' but found {d}")));
                    }
                    p.pos += 1;
                    Ok(e)
                })
            }
            Tok::Minus => self.relation(),
            Tok::Word { text, escaped } => {
                let text = text.as_str();
                let escaped = *escaped;
                let bracket = self.peek_at(1) == Some(&Tok::LBracket);
                if !escaped && (text == "len" || constant(text).is_some() || bracket) {
                    return self.relation();
                }
                if !escaped && number(text).is_some() {
                    return self.try_relation_or(|p| p.primitive());
                }
                self.primitive()
            }
            Tok::RParen => Err(self.err_here("unbalanced ')'")),
            other => {
                let d = other.describe();
                Err(self.err_here(&format!("unexpected {d}")))
            }
        }
    }

    /// Tries `arith relop arith`; when that fails, rewinds and runs
    /// `other`, keeping whichever error got further.
    fn try_relation_or(
        &mut self,
        other: impl FnOnce(&mut Self) -> Result<Expr, FilterError>,
    ) -> Result<Expr, FilterError> {
        let start = self.pos;
        let depth = self.depth;
        let rel_err = match self.relation() {
            Ok(e) => return Ok(e),
            Err(e) => e,
        };
        let rel_reached = self.pos;
        self.pos = start;
        self.depth = depth;
        match other(self) {
            Ok(e) => Ok(e),
            Err(_) if rel_reached > self.pos => Err(rel_err),
            Err(e) => Err(e),
        }
    }

    fn relation(&mut self) -> Result<Expr, FilterError> {
        let lhs = self.arith()?;
        let op = match self.peek() {
            Some(Tok::Eq) => RelOp::Eq,
            Some(Tok::Ne) => RelOp::Ne,
            Some(Tok::Lt) => RelOp::Lt,
            Some(Tok::Le) => RelOp::Le,
            Some(Tok::Gt) => RelOp::Gt,
            Some(Tok::Ge) => RelOp::Ge,
            _ => return Err(self.err_here("comparison operator expected (=, !=, <, <=, >, >=)")),
        };
        self.pos += 1;
        let rhs = self.arith()?;
        self.last = None;
        Ok(Expr::Rel { op, lhs, rhs })
    }

    fn arith(&mut self) -> Result<Arith, FilterError> {
        self.enter()?;
        let r = self.binary(0);
        self.depth -= 1;
        r
    }

    /// Precedence climbing over libpcap's levels: `|` `^`, `&`, shifts,
    /// `+ -`, `* / %`.
    fn binary(&mut self, level: usize) -> Result<Arith, FilterError> {
        if level == 5 {
            return self.unary();
        }
        let mut left = self.binary(level + 1)?;
        loop {
            let op = match (level, self.peek()) {
                (0, Some(Tok::Pipe)) => ArOp::Or,
                (0, Some(Tok::Caret)) => ArOp::Xor,
                (1, Some(Tok::Amp)) => ArOp::And,
                (2, Some(Tok::Shl)) => ArOp::Shl,
                (2, Some(Tok::Shr)) => ArOp::Shr,
                (3, Some(Tok::Plus)) => ArOp::Add,
                (3, Some(Tok::Minus)) => ArOp::Sub,
                (4, Some(Tok::Star)) => ArOp::Mul,
                (4, Some(Tok::Slash)) => ArOp::Div,
                (4, Some(Tok::Percent)) => ArOp::Mod,
                _ => return Ok(left),
            };
            self.pos += 1;
            let right = self.binary(level + 1)?;
            left = Arith::Bin(op, Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> Result<Arith, FilterError> {
        match self.peek() {
            Some(Tok::Minus) => {
                self.pos += 1;
                self.enter()?;
                let v = self.unary();
                self.depth -= 1;
                Ok(Arith::Neg(Box::new(v?)))
            }
            Some(Tok::LParen) => {
                self.pos += 1;
                let v = self.arith()?;
                if self.peek() != Some(&Tok::RParen) {
                    return Err(self.err_here("expected ')' in arithmetic"));
                }
                self.pos += 1;
                Ok(v)
            }
            Some(Tok::Word {
                text,
                escaped: false,
            }) => {
                if let Some(v) = number(text).or_else(|| constant(text)) {
                    self.pos += 1;
                    return Ok(Arith::Const(v));
                }
                if text == "len" {
                    self.pos += 1;
                    return Ok(Arith::Len);
                }
                if let Some(proto) = proto_word(text) {
                    if self.peek_at(1) == Some(&Tok::LBracket) {
                        return self.load(proto);
                    }
                }
                Err(self.err_here(&format!("'{text}' is not a number or a packet access")))
            }
            Some(t) => {
                let d = t.describe();
                Err(self.err_here(&format!("unexpected {d} in arithmetic")))
            }
            None => Err(self.err_here("arithmetic expression expected")),
        }
    }

    fn load(&mut self, proto: Proto) -> Result<Arith, FilterError> {
        self.pos += 2; // name and '['
        let index = self.arith()?;
        let size = if self.peek() == Some(&Tok::Colon) {
            self.pos += 1;
            let at = self.here();
            let n = self.peek_word().and_then(number);
            match n {
                Some(n @ (1 | 2 | 4)) => {
                    self.pos += 1;
                    n as u8
                }
                _ => return Err(self.err_at(at, "data size must be 1, 2 or 4")),
            }
        } else {
            1
        };
        if self.peek() != Some(&Tok::RBracket) {
            return Err(self.err_here("expected ']'"));
        }
        self.pos += 1;
        Ok(Arith::Load {
            proto,
            index: Box::new(index),
            size,
        })
    }

    fn keyword(&self, n: usize, kw: &str) -> bool {
        matches!(self.peek_at(n), Some(Tok::Word { text, escaped: false }) if text == kw)
    }

    /// `[proto] [dir] [kind] value`, `proto` alone, `less N`, `greater N`,
    /// or a bare value with the previous qualifiers.
    fn primitive(&mut self) -> Result<Expr, FilterError> {
        let start = self.here();
        let Some(Tok::Word { text, escaped }) = self.peek() else {
            return Err(self.err_here("primitive expected"));
        };
        if !escaped && (text == "less" || text == "greater") {
            let less = text == "less";
            self.pos += 1;
            let at = self.here();
            let n = self.peek_word().and_then(number);
            let Some(n) = n else {
                return Err(self.err_at(at, &format!("'{text}' needs a length")));
            };
            self.pos += 1;
            self.last = None;
            return Ok(Expr::Prim(if less {
                Prim::Less(n)
            } else {
                Prim::Greater(n)
            }));
        }
        if !escaped && UNSUPPORTED.contains(&text.as_str()) {
            return Err(self.err_here(&format!("'{text}' is not supported by netdx filters")));
        }
        let mut q = Quals {
            proto: None,
            dir: None,
            kind: None,
        };
        if !escaped {
            if let Some(p) = proto_word(text) {
                q.proto = Some(p);
                self.pos += 1;
            }
        }
        if self.keyword(0, "src") || self.keyword(0, "dst") {
            let first_src = self.keyword(0, "src");
            self.pos += 1;
            let other = if first_src { "dst" } else { "src" };
            q.dir = Some(if first_src { Dir::Src } else { Dir::Dst });
            if (self.keyword(0, "or") || self.keyword(0, "and")) && self.keyword(1, other) {
                q.dir = Some(if self.keyword(0, "or") {
                    Dir::Either
                } else {
                    Dir::Both
                });
                self.pos += 2;
            }
        }
        let kind = match self.peek_word() {
            Some("host") if !self.escaped() => Some(Kind::Host),
            Some("net") if !self.escaped() => Some(Kind::Net),
            Some("port") if !self.escaped() => Some(Kind::Port),
            Some("portrange") if !self.escaped() => Some(Kind::PortRange),
            Some("proto") if !self.escaped() => Some(Kind::Proto),
            _ => None,
        };
        if kind.is_some() {
            q.kind = kind;
            self.pos += 1;
        }
        if q == (Quals {
            proto: None,
            dir: None,
            kind: None,
        }) {
            // A bare value: repeat the last qualifiers.
            let q = match self.last {
                Some(last) => last,
                None => Quals {
                    proto: None,
                    dir: None,
                    kind: None,
                },
            };
            return self.value(q, start);
        }
        if q.dir.is_none() && q.kind.is_none() {
            let Some(p) = q.proto else {
                return Err(self.err_at(start, "qualifier expected"));
            };
            self.last = None;
            return Ok(Expr::Prim(Prim::Proto(p)));
        }
        if self.value_follows(q) {
            self.value(q, start)
        } else {
            let what = match q.kind {
                Some(Kind::Host) => "an address after 'host'",
                Some(Kind::Net) => "a network after 'net'",
                Some(Kind::Port) => "a port number after 'port'",
                Some(Kind::PortRange) => "a range like 1000-2000 after 'portrange'",
                Some(Kind::Proto) => "a protocol after 'proto'",
                None => "an address or port after the direction",
            };
            Err(self.err_here(&format!("expected {what}")))
        }
    }

    fn escaped(&self) -> bool {
        matches!(self.peek(), Some(Tok::Word { escaped: true, .. }))
    }

    fn value_follows(&self, q: Quals) -> bool {
        match self.peek() {
            Some(Tok::Word { text, escaped }) => {
                *escaped
                    || !is_keyword(text)
                    || (q.kind == Some(Kind::Proto) && proto_word(text).is_some())
            }
            _ => false,
        }
    }

    /// Reads the value of a primitive with qualifiers `q`.
    fn value(&mut self, q: Quals, start: usize) -> Result<Expr, FilterError> {
        let at = self.here();
        let Some(Tok::Word { text, escaped }) = self.peek() else {
            return Err(self.err_here("primitive expected"));
        };
        let (text, escaped) = (text.as_str(), *escaped);
        if !escaped
            && is_keyword(text)
            && !(q.kind == Some(Kind::Proto) && proto_word(text).is_some())
        {
            return Err(self.err_at(at, &format!("'{text}' is not a valid value here")));
        }
        let _ = start;
        self.pos += 1;
        let dir = q.dir.unwrap_or(Dir::Either);
        let kind = match q.kind {
            Some(k) => k,
            None if q.proto == Some(Proto::Link) => Kind::Host,
            None => {
                if q.dir.is_none() && q.proto.is_none() && !looks_like_address(text) {
                    return Err(self.unknown_word(text, at));
                }
                Kind::Host
            }
        };
        let prim = match kind {
            Kind::Host => self.host(q.proto, dir, text, at)?,
            Kind::Net => self.net(q.proto, dir, text, at)?,
            Kind::Port | Kind::PortRange => {
                let proto = match q.proto {
                    None => None,
                    Some(p @ (Proto::Tcp | Proto::Udp | Proto::Sctp)) => Some(p),
                    Some(_) => {
                        return Err(self.err_at(at, "only tcp, udp or sctp may qualify 'port'"))
                    }
                };
                let (lo, hi) = if kind == Kind::Port {
                    let p = port(text).ok_or_else(|| self.bad_port(text, at))?;
                    (p, p)
                } else {
                    let (a, b) = text.split_once('-').ok_or_else(|| {
                        self.err_at(at, &format!("bad port range '{text}': expected A-B"))
                    })?;
                    let a = port(a).ok_or_else(|| self.bad_port(text, at))?;
                    let b = port(b).ok_or_else(|| self.bad_port(text, at))?;
                    (a.min(b), a.max(b))
                };
                Prim::Port {
                    proto,
                    dir,
                    lo,
                    hi,
                    range: kind == Kind::PortRange,
                }
            }
            Kind::Proto => {
                if q.dir.is_some() {
                    return Err(self.err_at(at, "a direction cannot qualify 'proto'"));
                }
                let n = number(text)
                    .or_else(|| {
                        IP_PROTOCOLS
                            .iter()
                            .find(|(n, _)| *n == text)
                            .map(|&(_, v)| u32::from(v))
                    })
                    .or_else(|| match (q.proto, text) {
                        (Some(Proto::Link), "ip") => Some(0x800),
                        (Some(Proto::Link), "ip6") => Some(0x86dd),
                        (Some(Proto::Link), "arp") => Some(0x806),
                        (Some(Proto::Link), "rarp") => Some(0x8035),
                        _ => None,
                    })
                    .ok_or_else(|| self.err_at(at, &format!("unknown protocol '{text}'")))?;
                match q.proto {
                    Some(Proto::Link) => {
                        let n = u16::try_from(n)
                            .map_err(|_| self.err_at(at, "ether proto must be 0..65535"))?;
                        Prim::EtherProto(n)
                    }
                    p @ (None | Some(Proto::Ip) | Some(Proto::Ip6)) => {
                        let number = u8::try_from(n)
                            .map_err(|_| self.err_at(at, "protocol number must be 0..255"))?;
                        Prim::IpProto { proto: p, number }
                    }
                    Some(_) => {
                        return Err(self.err_at(at, "only ip, ip6 or ether may qualify 'proto'"))
                    }
                }
            }
        };
        // `1.2.3.4 or 5.6.7.8`: both hosts; `port 80 or 443`: both ports.
        self.last = Some(Quals {
            kind: Some(kind),
            ..q
        });
        Ok(Expr::Prim(prim))
    }

    fn unknown_word(&self, text: &str, at: usize) -> FilterError {
        if number(text).is_some() {
            self.err_at(
                at,
                &format!("a bare number '{text}' needs a qualifier such as 'port'"),
            )
        } else if text.chars().any(|c| c.is_ascii_alphabetic()) && text.contains('.') {
            self.err_at(
                at,
                &format!("'{text}': host names are not resolved in filters; use an address"),
            )
        } else {
            self.err_at(at, &format!("unknown keyword '{text}'"))
        }
    }

    fn bad_port(&self, text: &str, at: usize) -> FilterError {
        if number(text).is_some() || text.split('-').all(|p| number(p).is_some()) {
            self.err_at(at, &format!("port '{text}' out of range 0-65535"))
        } else {
            self.err_at(
                at,
                &format!("bad port '{text}': ports are numbers (service names are not looked up)"),
            )
        }
    }

    fn host(
        &mut self,
        proto: Option<Proto>,
        dir: Dir,
        text: &str,
        at: usize,
    ) -> Result<Prim, FilterError> {
        if proto == Some(Proto::Link) {
            let mac = mac(text)
                .ok_or_else(|| self.err_at(at, &format!("bad Ethernet address '{text}'")))?;
            return Ok(Prim::Addr {
                proto,
                dir,
                addr: Addr::Mac(mac),
            });
        }
        if self.peek() == Some(&Tok::Slash) || self.keyword(0, "mask") {
            return Err(self.err_here("a mask or prefix needs 'net', not 'host'"));
        }
        let addr = match text.parse::<IpAddr>() {
            Ok(IpAddr::V4(a)) => Addr::V4 {
                net: u32::from(a),
                mask: u32::MAX,
            },
            Ok(IpAddr::V6(a)) => Addr::V6 { net: a, len: 128 },
            Err(_) => return Err(self.bad_address(text, at)),
        };
        self.check_family(proto, &addr, at)?;
        Ok(Prim::Addr { proto, dir, addr })
    }

    fn bad_address(&self, text: &str, at: usize) -> FilterError {
        if text.chars().any(|c| c.is_ascii_alphabetic()) && !text.contains(':') {
            self.err_at(
                at,
                &format!("'{text}': host names are not resolved in filters; use an address"),
            )
        } else {
            self.err_at(at, &format!("bad address '{text}'"))
        }
    }

    fn check_family(
        &self,
        proto: Option<Proto>,
        addr: &Addr,
        at: usize,
    ) -> Result<(), FilterError> {
        match (proto, addr) {
            (None, _) => Ok(()),
            (Some(Proto::Ip | Proto::Arp | Proto::Rarp), Addr::V4 { .. }) => Ok(()),
            (Some(Proto::Ip6), Addr::V6 { .. }) => Ok(()),
            (Some(Proto::Ip6), _) => Err(self.err_at(at, "'ip6' applied to an IPv4 address")),
            (Some(Proto::Ip | Proto::Arp | Proto::Rarp), _) => {
                Err(self.err_at(at, "an IPv4 qualifier applied to an IPv6 address"))
            }
            (Some(_), _) => Err(self.err_at(
                at,
                "only ip, ip6, arp, rarp or ether may qualify 'host' and 'net'",
            )),
        }
    }

    fn net(
        &mut self,
        proto: Option<Proto>,
        dir: Dir,
        text: &str,
        at: usize,
    ) -> Result<Prim, FilterError> {
        if proto == Some(Proto::Link) {
            return Err(self.err_at(at, "'ether net' is not a thing: use 'ether host'"));
        }
        let prefix = if self.peek() == Some(&Tok::Slash) {
            self.pos += 1;
            let pat = self.here();
            let n = self.peek_word().and_then(number);
            let Some(n) = n else {
                return Err(self.err_at(pat, "prefix length expected after '/'"));
            };
            self.pos += 1;
            Some((n, pat))
        } else {
            None
        };
        let addr = if text.contains(':') {
            let a: Ipv6Addr = text
                .parse()
                .map_err(|_| self.err_at(at, &format!("bad IPv6 network '{text}'")))?;
            if self.keyword(0, "mask") {
                return Err(self.err_here("IPv6 networks take a /prefix, not a mask"));
            }
            let len = match prefix {
                None => 128,
                Some((n, _)) if n <= 128 => n as u8,
                Some((n, pat)) => {
                    return Err(self.err_at(pat, &format!("prefix length {n} above 128")))
                }
            };
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(len))
            };
            if u128::from(a) & !mask != 0 {
                return Err(self.err_at(at, &format!("non-network bits set in '{text}/{len}'")));
            }
            Addr::V6 { net: a, len }
        } else {
            let (net, implied) = partial_v4(text).ok_or_else(|| self.bad_address(text, at))?;
            let mask = if let Some((n, pat)) = prefix {
                if n > 32 {
                    return Err(self.err_at(pat, &format!("prefix length {n} above 32")));
                }
                if n == 0 {
                    0
                } else {
                    u32::MAX << (32 - n)
                }
            } else if self.keyword(0, "mask") {
                self.pos += 1;
                let mat = self.here();
                let m = self
                    .peek_word()
                    .and_then(|w| w.parse::<Ipv4Addr>().ok())
                    .ok_or_else(|| {
                        self.err_at(mat, "mask must be a dotted quad like 255.255.0.0")
                    })?;
                self.pos += 1;
                u32::from(m)
            } else {
                implied
            };
            if net & !mask != 0 {
                return Err(self.err_at(at, &format!("non-network bits set in '{text}'")));
            }
            Addr::V4 { net, mask }
        };
        self.check_family(proto, &addr, at)?;
        Ok(Prim::Addr { proto, dir, addr })
    }
}

fn looks_like_address(s: &str) -> bool {
    s.parse::<IpAddr>().is_ok()
}

fn port(s: &str) -> Option<u16> {
    number(s).and_then(|n| u16::try_from(n).ok())
}

/// `10`, `10.1`, `10.1.2`, `10.1.2.3` → address and the mask its length implies.
fn partial_v4(s: &str) -> Option<(u32, u32)> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut v = 0u32;
    for p in &parts {
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let b: u32 = p.parse().ok()?;
        if b > 255 {
            return None;
        }
        v = (v << 8) | b;
    }
    let n = parts.len() as u32;
    let shift = 8 * (4 - n);
    let net = v.checked_shl(shift).unwrap_or(0);
    let mask = u32::MAX.checked_shl(shift).unwrap_or(0);
    Some((net, mask))
}

fn mac(s: &str) -> Option<[u8; 6]> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() != 6 {
        return None;
    }
    let mut out = [0u8; 6];
    for (o, p) in out.iter_mut().zip(&parts) {
        if p.is_empty() || p.len() > 2 {
            return None;
        }
        *o = u8::from_str_radix(p, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::super::lexer::lex;
    use super::*;

    fn p(s: &str) -> Result<Expr, FilterError> {
        parse(&lex(s)?, s.len())
    }

    fn host4(dir: Dir, a: [u8; 4]) -> Expr {
        Expr::Prim(Prim::Addr {
            proto: None,
            dir,
            addr: Addr::V4 {
                net: u32::from(Ipv4Addr::from(a)),
                mask: u32::MAX,
            },
        })
    }

    #[test]
    fn and_or_are_left_associative_with_equal_precedence() {
        let e = p("tcp or udp and icmp").expect("parses");
        let tcp = Expr::Prim(Prim::Proto(Proto::Tcp));
        let udp = Expr::Prim(Prim::Proto(Proto::Udp));
        let icmp = Expr::Prim(Prim::Proto(Proto::Icmp));
        assert_eq!(
            e,
            Expr::And(
                Box::new(Expr::Or(Box::new(tcp), Box::new(udp))),
                Box::new(icmp)
            )
        );
    }

    #[test]
    fn qualifiers_repeat_on_bare_values() {
        let e = p("src host 1.2.3.4 or 5.6.7.8").expect("parses");
        assert_eq!(
            e,
            Expr::Or(
                Box::new(host4(Dir::Src, [1, 2, 3, 4])),
                Box::new(host4(Dir::Src, [5, 6, 7, 8]))
            )
        );
        let e = p("tcp port 80 or 443").expect("parses");
        let Expr::Or(_, right) = e else { panic!("or") };
        assert_eq!(
            *right,
            Expr::Prim(Prim::Port {
                proto: Some(Proto::Tcp),
                dir: Dir::Either,
                lo: 443,
                hi: 443,
                range: false
            })
        );
        assert!(p("host 1.2.3.4 and not 5.6.7.8").is_ok());
    }

    #[test]
    fn directions_combine() {
        let e = p("src or dst host 1.2.3.4").expect("parses");
        assert_eq!(e, host4(Dir::Either, [1, 2, 3, 4]));
        let e = p("src and dst host 1.2.3.4").expect("parses");
        assert_eq!(e, host4(Dir::Both, [1, 2, 3, 4]));
        assert_eq!(
            p("1.2.3.4").expect("parses"),
            host4(Dir::Either, [1, 2, 3, 4])
        );
    }

    #[test]
    fn nets() {
        let e = p("net 198.18.0.0/15").expect("parses");
        assert_eq!(
            e,
            Expr::Prim(Prim::Addr {
                proto: None,
                dir: Dir::Either,
                addr: Addr::V4 {
                    net: 0xc612_0000,
                    mask: 0xfffe_0000
                }
            })
        );
        assert!(p("net 10.0.0.0 mask 255.0.0.0").is_ok());
        assert!(p("net 10").is_ok());
        assert!(p("net 2001:db8::/32").is_ok());
    }

    #[test]
    fn relations_and_parentheses() {
        assert!(p("tcp[tcpflags] & (tcp-syn|tcp-fin) != 0").is_ok());
        assert!(p("(tcp[13] & 2) != 0 and (port 80)").is_ok());
        assert!(p("((tcp)) or (ip[8] < 5)").is_ok());
        assert!(p("icmp[icmptype] = icmp-echo").is_ok());
        assert!(p("ip[2:2] - ((ip[0]&0xf)<<2) > 40").is_ok());
        assert!(p("1 = 1").is_ok());
        assert!(p("! tcp && ! udp || icmp").is_ok());
    }

    fn err(s: &str) -> FilterError {
        match p(s) {
            Ok(e) => panic!("{s:?} parsed as {e:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn errors_name_the_problem_and_where() {
        let e = err("port 70000");
        assert!(e.message.contains("70000"), "{e}");
        assert_eq!(e.position, Some(5));
        assert!(err("host example.com").message.contains("not resolved"));
        assert!(err("host 1.2.3").message.contains("bad address"));
        assert!(err("net 10.0.0.0/33").message.contains("33"));
        assert!(err("net 2001:db8::/129").message.contains("129"));
        assert!(err("net 10.0.0.1/8").message.contains("non-network"));
        assert!(err("(tcp").message.contains("unbalanced"));
        assert!(err("tcp)").message.contains("unbalanced"));
        assert!(err("()").message.contains("empty"));
        assert!(err("tcp and").message.contains("needs an expression"));
        assert!(err("tcp or").message.contains("needs an expression"));
        assert!(err("not").message.contains("expected"));
        assert!(err("frobnicate").message.contains("unknown keyword"));
        assert!(err("vlan 10").message.contains("not supported"));
        assert!(err("port http").message.contains("numbers"));
        assert!(err("tcp[13:3] = 1").message.contains("size"));
        assert!(err("tcp[13] = ").position.is_some());
        assert!(err("host 1.2.3.4 5.6.7.8")
            .message
            .contains("'and' or 'or'"));
        assert!(err("ip host 2001:db8::1").message.contains("IPv6"));
        assert!(err("udp host 1.2.3.4").message.contains("qualify"));
        assert!(err("ip port 80").message.contains("qualify"));
        assert!(err("portrange 10").message.contains("range"));
        let deep = format!("{}tcp{}", "(".repeat(500), ")".repeat(500));
        assert!(err(&deep).message.contains("deeply"));
    }
}
