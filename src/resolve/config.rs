//! Where questions go: the servers given on the command line, or the
//! system's resolver settings (resolv.conf, parsed by hickory-resolver so
//! search domains, ndots, timeout and attempts mean what libc means).

use crate::error::{AppError, AppResult};
use hickory_proto::rr::Name;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The system resolver's settings that change which questions are asked.
#[derive(Debug, Clone)]
pub struct SystemConf {
    /// The file the settings came from (shown in output and diagnoses).
    pub path: PathBuf,
    /// Name servers in the order libc tries them.
    pub servers: Vec<SocketAddr>,
    /// Search domains appended to relative names.
    pub search: Vec<Name>,
    /// Names with fewer dots than this are tried with the search list first.
    pub ndots: usize,
    /// Per-try timeout from `options timeout:`.
    pub timeout: Duration,
    /// Tries per server from `options attempts:`.
    pub attempts: usize,
    /// Lines skipped because libc would skip them (`nameserver garbage`,
    /// an option it cannot parse), each as `line N: text — why`.
    pub skipped: Vec<String>,
}

/// Reads and parses a resolv.conf; a missing file or one without servers
/// means netdx cannot run a system lookup at all (exit 3).
pub fn load_system(path: Option<&Path>) -> AppResult<SystemConf> {
    let path = path
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/etc/resolv.conf"));
    let data = std::fs::read(&path).map_err(|e| {
        AppError::cannot_run(format!(
            "cannot read the resolver configuration {}: {e} — give a server with @SERVER",
            path.display()
        ))
    })?;
    parse_system(&data, path)
}

/// Drops the lines libc's res_init would skip: a `nameserver` whose
/// address does not parse, and any line the parser cannot read on its
/// own. One bad line must not cost the whole configuration.
fn libc_lines(data: &[u8]) -> (Vec<u8>, Vec<String>) {
    let text = String::from_utf8_lossy(data);
    let mut kept = String::with_capacity(text.len());
    let mut skipped = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let bare = line.split(['#', ';']).next().unwrap_or("").trim();
        let mut words = bare.split_whitespace();
        let why = match words.next() {
            None => None,
            Some("nameserver") => match words.next() {
                None => Some("no address".to_string()),
                Some(a) if a.split('%').next().unwrap_or(a).parse::<IpAddr>().is_err() => {
                    Some(format!("'{a}' is not an IP address"))
                }
                Some(_) => None,
            },
            Some(_) => {
                let probe = format!("nameserver 127.0.0.1\n{bare}\n");
                hickory_resolver::system_conf::parse_resolv_conf(probe.as_bytes())
                    .err()
                    .map(|e| e.to_string())
            }
        };
        match why {
            Some(why) => skipped.push(format!("line {}: `{}` skipped — {why}", i + 1, line.trim())),
            None => {
                kept.push_str(line);
                kept.push('\n');
            }
        }
    }
    (kept.into_bytes(), skipped)
}

/// Parses resolv.conf text (split from [`load_system`] so it can be tested).
pub fn parse_system(data: &[u8], path: PathBuf) -> AppResult<SystemConf> {
    let (data, skipped) = libc_lines(data);
    let (config, opts) = hickory_resolver::system_conf::parse_resolv_conf(&data).map_err(|e| {
        AppError::cannot_run(format!(
            "no usable resolver configuration in {}: {e} — add a `nameserver` line or give @SERVER",
            path.display()
        ))
    })?;
    let mut servers: Vec<SocketAddr> = Vec::new();
    for ns in config.name_servers() {
        if !servers.contains(&ns.socket_addr) {
            servers.push(ns.socket_addr);
        }
    }
    let search = config.search().to_vec();
    Ok(SystemConf {
        path,
        servers,
        search,
        ndots: opts.ndots,
        timeout: opts.timeout,
        attempts: opts.attempts.max(1),
        skipped,
    })
}

/// Parses `ADDR`, `ADDR:PORT`, `[V6]` or `[V6]:PORT`; a host name is refused
/// because a resolver address that needs resolving hides the real problem.
pub fn parse_server(text: &str) -> AppResult<SocketAddr> {
    let text = text.trim();
    if let Ok(ip) = bare(text).unwrap_or(text).parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    // ADDR:PORT with a v4 address, [V6]:PORT with a v6 one.
    if let Some((addr, port)) = text.rsplit_once(':') {
        let addr = bare(addr).or_else(|| (!addr.contains(':')).then_some(addr));
        if let Some(ip) = addr.and_then(|a| a.parse::<IpAddr>().ok()) {
            if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
                return Err(AppError::usage(format!(
                    "server '{text}': port '{port}' is not a number (give ADDR, ADDR:PORT or [V6ADDR]:PORT)"
                )));
            }
            return match port.parse::<u16>() {
                Ok(n) if n > 0 => Ok(SocketAddr::new(ip, n)),
                _ => Err(port_range(port)),
            };
        }
    }
    Err(AppError::usage(format!(
        "server '{text}' is not an IP address (give ADDR, ADDR:PORT or [V6ADDR]:PORT)"
    )))
}

/// The inside of `[...]`, when `text` is bracketed.
fn bare(text: &str) -> Option<&str> {
    text.strip_prefix('[').and_then(|t| t.strip_suffix(']'))
}

/// The one line for a port outside 1-65535.
fn port_range(port: &str) -> AppError {
    AppError::usage(format!("port {port} is out of range 1-65535"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_parse_in_every_form() {
        assert_eq!(
            parse_server("198.18.1.2").ok(),
            "198.18.1.2:53".parse().ok()
        );
        assert_eq!(
            parse_server("198.18.1.2:5353").ok(),
            "198.18.1.2:5353".parse().ok()
        );
        assert_eq!(
            parse_server("2001:db8::1").ok(),
            "[2001:db8::1]:53".parse().ok()
        );
        assert_eq!(
            parse_server("[2001:db8::1]:54").ok(),
            "[2001:db8::1]:54".parse().ok()
        );
        assert_eq!(
            parse_server("[2001:db8::1]").ok(),
            "[2001:db8::1]:53".parse().ok()
        );
        assert!(parse_server("ns1.example.test").is_err());
        assert!(parse_server("198.18.1.2:99999").is_err());
    }

    #[test]
    fn a_bad_port_is_named_as_the_problem() {
        let msg = |s: &str| parse_server(s).err().map(|e| e.message).unwrap_or_default();
        assert_eq!(
            msg("198.18.1.2:99999"),
            "port 99999 is out of range 1-65535"
        );
        assert_eq!(
            msg("[2001:db8::1]:70000"),
            "port 70000 is out of range 1-65535"
        );
        assert_eq!(msg("198.18.1.2:0"), "port 0 is out of range 1-65535");
        assert!(msg("198.18.1.2:x").contains("port 'x' is not a number"));
        assert!(msg("ns1.lab.test:53").contains("is not an IP address"));
    }

    #[test]
    fn resolv_conf_search_and_ndots() {
        let text = b"nameserver 198.18.1.2\nsearch corp.example.test lab.test\noptions ndots:2 timeout:1 attempts:3\n";
        let conf = match parse_system(text, PathBuf::from("test")) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(conf.servers, vec!["198.18.1.2:53".parse().unwrap()]);
        assert_eq!(conf.ndots, 2);
        assert_eq!(conf.attempts, 3);
        assert_eq!(conf.timeout, Duration::from_secs(1));
        assert_eq!(conf.search.len(), 2);
    }

    #[test]
    fn bad_lines_are_skipped_like_libc_skips_them() {
        let text =
            b"nameserver garbage\nnameserver 198.18.1.2\nbogus directive here\noptions ndots:3\n";
        let conf = match parse_system(text, PathBuf::from("t")) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(conf.servers, vec!["198.18.1.2:53".parse().unwrap()]);
        assert_eq!(conf.ndots, 3);
        assert_eq!(conf.skipped.len(), 2, "{:?}", conf.skipped);
        assert!(conf.skipped[1].starts_with("line 3: `bogus directive here`"));
        assert!(
            conf.skipped[0].starts_with("line 1: `nameserver garbage` skipped"),
            "{:?}",
            conf.skipped
        );
    }

    #[test]
    fn resolv_conf_without_servers_cannot_run() {
        let err = parse_system(b"search x.test\n", PathBuf::from("t")).err();
        assert!(matches!(err, Some(e) if e.exit == crate::error::Exit::CannotRun));
    }
}
