//! The parsed form of a filter: boolean structure over primitives and
//! byte-access relations, with qualifiers already resolved (implicit
//! repetition like `port 80 or 443` is expanded by the parser).

use std::net::Ipv6Addr;

/// A boolean filter expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// Both hold (evaluated left to right).
    And(Box<Expr>, Box<Expr>),
    /// Either holds (evaluated left to right).
    Or(Box<Expr>, Box<Expr>),
    /// Negation.
    Not(Box<Expr>),
    /// A primitive such as `host X` or `tcp`.
    Prim(Prim),
    /// `lhs op rhs` over packet bytes and constants.
    Rel {
        /// Comparison.
        op: RelOp,
        /// Left side.
        lhs: Arith,
        /// Right side.
        rhs: Arith,
    },
}

/// Protocol qualifiers and byte-access bases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    /// `ether` / `link`: the link-layer header.
    Link,
    /// IPv4.
    Ip,
    /// IPv6.
    Ip6,
    /// ARP.
    Arp,
    /// RARP.
    Rarp,
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
    /// ICMP (IPv4).
    Icmp,
    /// ICMPv6.
    Icmp6,
    /// IGMP.
    Igmp,
}

/// Direction qualifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// `src`
    Src,
    /// `dst`
    Dst,
    /// `src or dst` (the default).
    Either,
    /// `src and dst`
    Both,
}

/// An address primitive's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addr {
    /// IPv4 network (a host has mask 255.255.255.255).
    V4 {
        /// Network address, host order.
        net: u32,
        /// Mask, host order.
        mask: u32,
    },
    /// IPv6 prefix (a host has length 128).
    V6 {
        /// Network address.
        net: Ipv6Addr,
        /// Prefix length.
        len: u8,
    },
    /// Ethernet MAC.
    Mac([u8; 6]),
}

/// Primitives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prim {
    /// A bare protocol: `tcp`, `ip6`, `arp`...
    Proto(Proto),
    /// `[proto] [dir] host|net ADDR`
    Addr {
        /// `ip`, `ip6`, `arp`, `rarp`, `ether` or none.
        proto: Option<Proto>,
        /// Direction.
        dir: Dir,
        /// What to match.
        addr: Addr,
    },
    /// `[tcp|udp|sctp] [dir] port N` / `portrange A-B`.
    Port {
        /// Transport restriction.
        proto: Option<Proto>,
        /// Direction.
        dir: Dir,
        /// Lowest port.
        lo: u16,
        /// Highest port (equal to `lo` for `port`).
        hi: u16,
        /// Written as `portrange` (compiled as a range test).
        range: bool,
    },
    /// `ip proto N`, `ip6 proto N`, `proto N`.
    IpProto {
        /// `Ip`, `Ip6` or none for both.
        proto: Option<Proto>,
        /// The protocol number.
        number: u8,
    },
    /// `ether proto N`.
    EtherProto(u16),
    /// `less N`: wire length <= N.
    Less(u32),
    /// `greater N`: wire length >= N.
    Greater(u32),
}

/// Comparison operators (unsigned, as BPF compares).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// Binary arithmetic operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `&`
    And,
    /// `|`
    Or,
    /// `^`
    Xor,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
}

/// Arithmetic over packet bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arith {
    /// A constant.
    Const(u32),
    /// `len`: the wire length.
    Len,
    /// `proto[index : size]`.
    Load {
        /// Which header the index is relative to.
        proto: Proto,
        /// Byte offset in that header.
        index: Box<Arith>,
        /// 1, 2 or 4 bytes.
        size: u8,
    },
    /// A binary operation.
    Bin(ArOp, Box<Arith>, Box<Arith>),
    /// Unary minus.
    Neg(Box<Arith>),
}
