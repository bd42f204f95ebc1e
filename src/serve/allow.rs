//! `--allow CIDR`: the networks `/probe` may reach, so an exporter exposed
//! to a network is not a probe-anything service for whoever reaches it.

use crate::error::{AppError, AppResult};
use std::net::IpAddr;

/// One network, `198.18.0.0/15` or `2001:db8::/32` (a bare address is /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    /// The network address as given (host bits are ignored when matching).
    pub addr: IpAddr,
    /// Prefix length.
    pub prefix: u8,
}

impl Cidr {
    /// Parses `ADDR/LEN` or `ADDR`.
    pub fn parse(text: &str) -> AppResult<Cidr> {
        let bad = |why: &str| AppError::usage(format!("--allow {text}: {why}"));
        let (addr, len) = match text.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| bad("give a network as ADDRESS/PREFIX, e.g. 198.18.0.0/15"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match len {
            None => max,
            Some(l) => match l.trim().parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => return Err(bad(&format!("the prefix length must be 0 to {max}"))),
            },
        };
        Ok(Cidr { addr, prefix })
    }

    /// True when `ip` lies in this network (an IPv4-mapped IPv6 address
    /// counts as its IPv4 address).
    pub fn contains(&self, ip: &IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(*ip),
            v4 => *v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// The networks `/probe` may reach; empty means every address.
#[derive(Debug, Clone, Default)]
pub struct AllowList {
    nets: Vec<Cidr>,
}

impl AllowList {
    /// Parses every `--allow` value; the first bad one is the error.
    pub fn parse(texts: &[String]) -> AppResult<AllowList> {
        let nets = texts
            .iter()
            .map(|t| Cidr::parse(t))
            .collect::<AppResult<_>>()?;
        Ok(AllowList { nets })
    }

    /// `Err(reason)` when `ip` is outside every allowed network.
    pub fn check(&self, target: &str, ip: &IpAddr) -> Result<(), String> {
        if self.nets.is_empty() || self.nets.iter().any(|n| n.contains(ip)) {
            return Ok(());
        }
        let list: Vec<String> = self.nets.iter().map(Cidr::to_string).collect();
        Err(format!(
            "target {target} ({ip}) is outside the allowed networks ({})",
            list.join(", ")
        ))
    }

    /// The networks, for the startup log.
    pub fn describe(&self) -> String {
        if self.nets.is_empty() {
            return "any address".into();
        }
        let list: Vec<String> = self.nets.iter().map(Cidr::to_string).collect();
        list.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    #[test]
    fn matches_by_prefix() {
        let net = Cidr::parse("198.18.0.0/15").expect("valid");
        assert!(net.contains(&ip("198.19.255.1")));
        assert!(!net.contains(&ip("198.20.0.1")));
        assert!(net.contains(&ip("::ffff:198.18.0.9")));
        let v6 = Cidr::parse("2001:db8::/32").expect("valid");
        assert!(v6.contains(&ip("2001:db8:1::1")));
        assert!(!v6.contains(&ip("2001:db9::1")));
        assert!(!v6.contains(&ip("198.18.0.1")));
        assert!(Cidr::parse("0.0.0.0/0")
            .expect("valid")
            .contains(&ip("8.8.8.8")));
        assert_eq!(Cidr::parse("10.0.0.1").expect("valid").prefix, 32);
    }

    #[test]
    fn refuses_bad_networks() {
        for bad in ["10.0.0.0/33", "::/129", "nope", "10.0.0.0/x", ""] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn empty_list_allows_all_and_reason_names_the_lists() {
        assert!(AllowList::default().check("x", &ip("1.2.3.4")).is_ok());
        let list = AllowList::parse(&["198.18.0.0/15".into()]).expect("valid");
        let why = list.check("h", &ip("10.0.0.1")).expect_err("outside");
        assert!(
            why.contains("198.18.0.0/15") && why.contains("10.0.0.1"),
            "{why}"
        );
    }
}
