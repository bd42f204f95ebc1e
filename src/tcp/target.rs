//! Target syntax of `netdx tcp`: `host:port`, `host:80,443`, `host:8000-8100`,
//! `[2001:db8::1]:443`, a bare host with `-p PORTS`. Every mistake becomes
//! one usage line that quotes what was typed, never a panic.

use crate::error::{AppError, AppResult};
use std::net::Ipv6Addr;

/// One target as typed: a host (name or literal) and its ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSpec {
    /// Host name or address literal, without brackets.
    pub host: String,
    /// Ports to probe on every address of the host, in the order given.
    pub ports: Vec<u16>,
}

/// Parses one target; `default_ports` (from `-p`) applies when it has none.
pub fn parse(text: &str, default_ports: Option<&[u16]>) -> AppResult<TargetSpec> {
    let text = text.trim();
    let bad = |why: &str| AppError::usage(format!("'{text}': {why}"));
    if text.is_empty() {
        return Err(AppError::usage("empty target: write host:port"));
    }
    let (host, ports) = if let Some(rest) = text.strip_prefix('[') {
        let Some((host, after)) = rest.split_once(']') else {
            return Err(bad("missing ']' after the IPv6 address"));
        };
        if host.parse::<Ipv6Addr>().is_err() {
            return Err(bad("only IPv6 addresses go inside [ ]"));
        }
        match after {
            "" => (host, None),
            _ => match after.strip_prefix(':') {
                Some(p) => (host, Some(p)),
                None => return Err(bad("expected ':' and a port after ']'")),
            },
        }
    } else if text.matches(':').count() > 1 {
        if text.parse::<Ipv6Addr>().is_ok() {
            (text, None)
        } else {
            return Err(bad(
                "put IPv6 addresses in brackets before the port: [2001:db8::1]:443",
            ));
        }
    } else if let Some((host, p)) = text.split_once(':') {
        (host, Some(p))
    } else {
        (text, None)
    };
    if host.is_empty() {
        return Err(bad("missing host before the port"));
    }
    let ports = match (ports, default_ports) {
        (Some(""), _) => return Err(bad("missing port after ':'")),
        (Some(p), _) => parse_ports(p).map_err(|why| bad(&why))?,
        (None, Some(d)) => d.to_vec(),
        (None, None) if host.contains(':') => {
            return Err(bad(
                "no port: an IPv6 address takes its port after brackets, [2001:db8::1]:443 (or give -p PORTS)",
            ))
        }
        (None, None) => {
            return Err(bad(
                "no port: write host:port (host:80,443 or host:8000-8100), or give -p PORTS",
            ))
        }
    };
    Ok(TargetSpec {
        host: host.to_string(),
        ports,
    })
}

/// Parses `80`, `80,443`, `8000-8100` and mixes of them; duplicates are
/// dropped, order kept. The error is the reason, without the target.
pub fn parse_ports(spec: &str) -> Result<Vec<u16>, String> {
    let mut ports: Vec<u16> = Vec::new();
    let mut seen = vec![false; 65536];
    for item in spec.split(',') {
        let item = item.trim();
        if item.is_empty() {
            return Err(format!("empty item in the port list '{spec}'"));
        }
        let (lo, hi) = match item.split_once('-') {
            Some((lo, hi)) => (port(lo)?, port(hi)?),
            None => {
                let p = port(item)?;
                (p, p)
            }
        };
        if lo > hi {
            return Err(format!("port range {item} is backwards: write {hi}-{lo}"));
        }
        for p in lo..=hi {
            if !seen[usize::from(p)] {
                seen[usize::from(p)] = true;
                ports.push(p);
            }
        }
    }
    Ok(ports)
}

/// One port number, 1–65535.
fn port(text: &str) -> Result<u16, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("a port range needs a number on both sides of '-'".into());
    }
    let n: u64 = text
        .parse()
        .map_err(|_| format!("'{text}' is not a port number"))?;
    match u16::try_from(n) {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(format!("port {n} is out of range (1-65535)")),
    }
}

/// Reads targets from a file (or stdin for `-`): whitespace-separated,
/// `#` starts a comment.
pub fn read_file(path: &std::path::Path) -> AppResult<Vec<String>> {
    let text = if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .map_err(|e| AppError::usage(format!("cannot read targets from stdin: {e}")))?;
        s
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| AppError::usage(format!("cannot read {}: {e}", path.display())))?
    };
    Ok(text
        .lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .flat_map(|l| l.split_whitespace())
        .map(str::to_string)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> (String, Vec<u16>) {
        match parse(text, None) {
            Ok(t) => (t.host, t.ports),
            Err(e) => panic!("{text}: {e}"),
        }
    }

    fn err(text: &str) -> String {
        match parse(text, None) {
            Ok(t) => panic!("{text} parsed as {t:?}"),
            Err(e) => e.message,
        }
    }

    #[test]
    fn accepted_forms() {
        assert_eq!(ok("h:80"), ("h".into(), vec![80]));
        assert_eq!(ok("h:80,443,80"), ("h".into(), vec![80, 443]));
        assert_eq!(
            ok("h:8000-8002,22"),
            ("h".into(), vec![8000, 8001, 8002, 22])
        );
        assert_eq!(ok("[2001:db8::1]:443"), ("2001:db8::1".into(), vec![443]));
        let t = parse("2001:db8::1", Some(&[22])).map(|t| t.ports);
        assert_eq!(t.ok(), Some(vec![22]));
    }

    #[test]
    fn rejected_forms_say_why() {
        assert!(err("h:99999").contains("out of range"));
        assert!(err("h:0").contains("out of range"));
        assert!(err("h:").contains("missing port"));
        assert!(err(":80").contains("missing host"));
        assert!(err("h:90-80").contains("backwards"));
        assert!(err("h").contains("no port"));
        assert!(err("2001:db8::1:80").contains("brackets"));
        assert!(err("[2001:db8::1]80").contains("':'"));
        assert!(err("h:80,,81").contains("empty item"));
        assert!(err("h:http").contains("not a port"));
    }
}
