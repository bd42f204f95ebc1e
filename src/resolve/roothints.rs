//! Root hints: where iterative resolution starts. The built-in list is
//! IANA's named.root; `--root-hints FILE` reads the same format, so a test
//! bed can bring its own root.

use hickory_proto::rr::Name;
use std::net::IpAddr;

/// IANA's root servers (named.root), in named.root format.
pub const IANA: &str = "\
; The IANA root servers (https://www.internic.net/domain/named.root)
.                        3600000      NS    A.ROOT-SERVERS.NET.
A.ROOT-SERVERS.NET.      3600000      A     198.41.0.4
A.ROOT-SERVERS.NET.      3600000      AAAA  2001:503:ba3e::2:30
.                        3600000      NS    B.ROOT-SERVERS.NET.
B.ROOT-SERVERS.NET.      3600000      A     170.247.170.2
B.ROOT-SERVERS.NET.      3600000      AAAA  2801:1b8:10::b
.                        3600000      NS    C.ROOT-SERVERS.NET.
C.ROOT-SERVERS.NET.      3600000      A     192.33.4.12
C.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:2::c
.                        3600000      NS    D.ROOT-SERVERS.NET.
D.ROOT-SERVERS.NET.      3600000      A     199.7.91.13
D.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:2d::d
.                        3600000      NS    E.ROOT-SERVERS.NET.
E.ROOT-SERVERS.NET.      3600000      A     192.203.230.10
E.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:a8::e
.                        3600000      NS    F.ROOT-SERVERS.NET.
F.ROOT-SERVERS.NET.      3600000      A     192.5.5.241
F.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:2f::f
.                        3600000      NS    G.ROOT-SERVERS.NET.
G.ROOT-SERVERS.NET.      3600000      A     192.112.36.4
G.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:12::d0d
.                        3600000      NS    H.ROOT-SERVERS.NET.
H.ROOT-SERVERS.NET.      3600000      A     198.97.190.53
H.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:1::53
.                        3600000      NS    I.ROOT-SERVERS.NET.
I.ROOT-SERVERS.NET.      3600000      A     192.36.148.17
I.ROOT-SERVERS.NET.      3600000      AAAA  2001:7fe::53
.                        3600000      NS    J.ROOT-SERVERS.NET.
J.ROOT-SERVERS.NET.      3600000      A     192.58.128.30
J.ROOT-SERVERS.NET.      3600000      AAAA  2001:503:c27::2:30
.                        3600000      NS    K.ROOT-SERVERS.NET.
K.ROOT-SERVERS.NET.      3600000      A     193.0.14.129
K.ROOT-SERVERS.NET.      3600000      AAAA  2001:7fd::1
.                        3600000      NS    L.ROOT-SERVERS.NET.
L.ROOT-SERVERS.NET.      3600000      A     199.7.83.42
L.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:9f::42
.                        3600000      NS    M.ROOT-SERVERS.NET.
M.ROOT-SERVERS.NET.      3600000      A     202.12.27.33
M.ROOT-SERVERS.NET.      3600000      AAAA  2001:dc3::35
";

/// One root server: its name and addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    /// The server's name (lower case, absolute).
    pub name: Name,
    /// Its addresses, in file order.
    pub addrs: Vec<IpAddr>,
}

/// Reads named.root text: `. [TTL] [IN] NS name` lines name the servers,
/// `name [TTL] [IN] A|AAAA addr` lines give their addresses; `;` starts a
/// comment. The first bad line is the error, by number; servers without
/// an address are dropped, and a file that leaves none is an error.
pub fn parse(text: &str) -> Result<Vec<Hint>, String> {
    let mut hints: Vec<Hint> = Vec::new();
    let mut addrs: Vec<(Name, IpAddr)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.split(';').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() >= 2 && fields[1].bytes().all(|b| b.is_ascii_digit()) {
            fields.remove(1);
        }
        if fields.len() >= 2 && fields[1].eq_ignore_ascii_case("IN") {
            fields.remove(1);
        }
        let [owner, rtype, data] = fields[..] else {
            return Err(format!(
                "line {n}: expected `NAME [TTL] [IN] TYPE DATA`, got `{}`",
                shorten(line)
            ));
        };
        let owner = name(owner).map_err(|e| format!("line {n}: {e}"))?;
        match rtype.to_ascii_uppercase().as_str() {
            "NS" => {
                if !owner.is_root() {
                    return Err(format!(
                        "line {n}: an NS line must be for the root `.`, not {owner}"
                    ));
                }
                let server = name(data).map_err(|e| format!("line {n}: {e}"))?;
                if !hints.iter().any(|h| h.name == server) {
                    hints.push(Hint {
                        name: server,
                        addrs: Vec::new(),
                    });
                }
            }
            "A" | "AAAA" => {
                let v6 = rtype.eq_ignore_ascii_case("AAAA");
                let addr: IpAddr = data
                    .parse()
                    .ok()
                    .filter(|a: &IpAddr| a.is_ipv6() == v6)
                    .ok_or_else(|| {
                        format!("line {n}: `{}` is not an {rtype} address", shorten(data))
                    })?;
                addrs.push((owner, addr));
            }
            other => {
                return Err(format!(
                    "line {n}: record type `{}` has no place in root hints (NS, A, AAAA)",
                    shorten(other)
                ))
            }
        }
    }
    for (owner, addr) in addrs {
        if let Some(h) = hints.iter_mut().find(|h| h.name == owner) {
            if !h.addrs.contains(&addr) {
                h.addrs.push(addr);
            }
        }
    }
    hints.retain(|h| !h.addrs.is_empty());
    if hints.is_empty() {
        return Err(
            "no root server with an address (need `. NS name` and `name A addr` lines)".into(),
        );
    }
    Ok(hints)
}

/// An absolute, lower-case domain name, or why not.
fn name(text: &str) -> Result<Name, String> {
    let bare = text.trim_end_matches('.');
    if !bare.is_empty() && !crate::resolve::valid_hostname(bare) {
        return Err(format!("`{}` is not a domain name", shorten(text)));
    }
    let mut n = Name::from_ascii(text)
        .map_err(|e| format!("`{}` is not a domain name: {e}", shorten(text)))?
        .to_lowercase();
    n.set_fqdn(true);
    Ok(n)
}

/// At most 40 characters of user text in an error line.
fn shorten(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if cleaned.chars().count() > 40 {
        format!("{}…", cleaned.chars().take(40).collect::<String>())
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_list_has_13_servers_with_both_families() {
        let hints = parse(IANA).unwrap_or_default();
        assert_eq!(hints.len(), 13);
        assert!(hints
            .iter()
            .all(|h| h.addrs.len() == 2 && h.addrs[0].is_ipv4() && h.addrs[1].is_ipv6()));
        assert_eq!(hints[0].name.to_ascii(), "a.root-servers.net.");
    }

    #[test]
    fn short_forms_and_comments_are_read() {
        let text = "; test root\n. NS a.root.test.\na.root.test. A 198.18.0.10 ; comment\n\na.root.test. IN AAAA 2001:db8::10\n";
        let hints = parse(text).unwrap_or_default();
        assert_eq!(hints.len(), 1);
        assert_eq!(hints[0].addrs.len(), 2);
    }

    #[test]
    fn garbage_is_named_by_line() {
        assert_eq!(
            parse(". NS a.root.test.\nhello world\n").err().as_deref(),
            Some("line 2: expected `NAME [TTL] [IN] TYPE DATA`, got `hello world`")
        );
        assert!(parse(". NS a.\na. A 2001:db8::1\n")
            .err()
            .is_some_and(|e| e.contains("not an A address")));
        assert!(parse(". MX 10 a.\n").is_err());
        assert!(parse(". NS a.\n")
            .err()
            .is_some_and(|e| e.contains("no root server")));
        assert!(parse("").is_err());
        assert!(parse(". NS bad..name\n").is_err());
    }
}
