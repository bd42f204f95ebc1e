//! `--tls` / `--https` / `@https://…`: turns the server arguments into
//! encrypted-DNS endpoints (address, certificate name, DoH Host and path)
//! with the trusted roots loaded once.

use crate::cli::DnsArgs;
use crate::error::{AppError, AppResult};
use crate::resolve::config;
use crate::resolve::secure::{host_header, Endpoint, Kind, Secure};
use crate::resolve::{self, Family};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// True when an argument is a DoH URL rather than an address.
fn is_url(s: &str) -> bool {
    s.get(..8)
        .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
}

/// The server arguments as typed (`@` removed), positional first.
fn server_args(args: &DnsArgs) -> Vec<&str> {
    args.names
        .iter()
        .filter_map(|n| n.strip_prefix('@'))
        .chain(args.servers.iter().map(String::as_str))
        .collect()
}

/// The encrypted-DNS plan, or None when neither `--tls`, `--https` nor a
/// DoH URL was given.
pub async fn plan(
    args: &DnsArgs,
    family: Family,
    limit: Option<Duration>,
) -> AppResult<Option<Arc<Secure>>> {
    let given = server_args(args);
    let urls = given.iter().any(|s| is_url(s));
    let kind = match (args.tls, args.https || urls) {
        (false, false) => {
            if args.ca_file.is_some() || args.tls_name.is_some() {
                return Err(AppError::usage(
                    "--ca-file and --tls-name apply to --tls or --https",
                ));
            }
            return Ok(None);
        }
        (true, false) => Kind::Tls,
        (false, true) => Kind::Https,
        (true, true) => {
            return Err(AppError::usage(
                "--tls (DNS over TLS) and an https:// URL (DNS over HTTPS) exclude each other",
            ))
        }
    };
    if given.is_empty() {
        return Err(AppError::usage(format!(
            "--{} needs a server to ask (@ADDR{}); resolv.conf does not say which servers offer it",
            if kind == Kind::Tls { "tls" } else { "https" },
            if kind == Kind::Https {
                " or @https://HOST/dns-query"
            } else {
                ""
            }
        )));
    }
    if args.compare {
        return Err(AppError::usage(
            "--compare asks over UDP/TCP; use it without --tls/--https",
        ));
    }
    let mut secure = Secure::new(kind, args.ca_file.as_deref())?;
    let default_port = if kind == Kind::Tls { 853 } else { 443 };
    for text in given {
        let endpoint = if is_url(text) {
            from_url(text, family, limit).await?
        } else {
            let addr = with_port(text, default_port)?;
            Endpoint {
                addr,
                tls_name: addr.ip().to_string(),
                host: host_header(&addr.ip().to_string(), addr.port(), kind),
                path: "/dns-query".into(),
            }
        };
        if !family.allows(&endpoint.addr.ip()) {
            continue;
        }
        let mut endpoint = endpoint;
        if let Some(name) = &args.tls_name {
            endpoint.tls_name = name.clone();
        }
        secure.endpoints.push(endpoint);
    }
    if secure.endpoints.is_empty() {
        return Err(AppError::usage(
            "every server given is of the address family excluded by -4/-6",
        ));
    }
    Ok(Some(Arc::new(secure)))
}

/// `ADDR`, `ADDR:PORT`, `[V6]`, `[V6]:PORT`, with the transport's default port.
fn with_port(text: &str, default_port: u16) -> AppResult<SocketAddr> {
    let explicit = text.parse::<SocketAddr>().is_ok()
        || (!text.contains('[') && text.matches(':').count() == 1);
    let addr = config::parse_server(text)?;
    Ok(if explicit {
        addr
    } else {
        SocketAddr::new(addr.ip(), default_port)
    })
}

/// `https://HOST[:PORT][/PATH]`: the host resolved (it is also the
/// certificate name and the Host header), the path `/dns-query` if none.
async fn from_url(url: &str, family: Family, limit: Option<Duration>) -> AppResult<Endpoint> {
    let rest = url.get(8..).unwrap_or("");
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/dns-query"),
    };
    let path = if path == "/" { "/dns-query" } else { path };
    if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AppError::usage(format!("'{url}': the path holds spaces")));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| AppError::usage(format!("'{url}': unclosed [ in the host")))?;
        (h, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        None => 443,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| AppError::usage(format!("'{url}': port '{p}' is not 1-65535")))?,
    };
    if host.is_empty() {
        return Err(AppError::usage(format!("'{url}' has no host")));
    }
    let ip = resolve::resolve_one_within(host, family, limit).await?;
    Ok(Endpoint {
        addr: SocketAddr::new(ip, port),
        tls_name: host.to_string(),
        host: host_header(host, port, Kind::Https),
        path: path.to_string(),
    })
}

/// The server addresses of the plan, in the order given.
pub fn servers(secure: &Secure) -> Vec<SocketAddr> {
    secure.endpoints.iter().map(|e| e.addr).collect()
}

/// The session lines under an answer that came over TLS or HTTPS: the
/// protocol, the certificate, and where the time went.
pub fn session_lines(a: &crate::diagnose::dns::answer::Answer) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(s) = &a.tls {
        let alpn = s
            .alpn
            .as_deref()
            .map(|p| format!(", ALPN {p}"))
            .unwrap_or_default();
        let url = s
            .url
            .as_deref()
            .map(|u| format!(" {u}"))
            .unwrap_or_default();
        let timing = if s.reused {
            format!("connection reused, query {:.1} ms", s.query_ms)
        } else {
            format!(
                "tcp connect {:.1} ms, tls handshake {:.1} ms, query {:.1} ms",
                s.connect_ms, s.handshake_ms, s.query_ms
            )
        };
        lines.push(format!(
            "  {}{url}: {}, {}{alpn}; {timing}",
            if s.transport == "https" {
                "DNS over HTTPS"
            } else {
                "DNS over TLS"
            },
            s.version,
            s.cipher,
        ));
        if let Some(c) = &s.cert {
            lines.push(format!("{}; checked for {}", cert_line(c), s.tls_name));
        }
    }
    if let Some(crate::diagnose::dns::answer::Failure::Tls(f)) = &a.failure {
        if let Some(c) = f.cert() {
            lines.push(cert_line(c));
        }
    }
    lines
}

/// The certificate line shown under a DoT/DoH answer or failure.
fn cert_line(c: &crate::diagnose::dns::tls::CertInfo) -> String {
    let names = if c.names.is_empty() {
        "none".to_string()
    } else {
        c.names.join(", ")
    };
    format!(
        "  certificate: {} (names: {names}), issuer {}, valid {} to {}",
        c.subject, c.issuer, c.not_before, c.not_after
    )
}
