//! Host name resolution shared by every subcommand, so a name that fails in
//! `ping`, `tcp` or `trace` fails the same way, with the same words.

use crate::error::{AppError, AppResult};
use std::net::IpAddr;

/// Which address families the user allows (`-4`, `-6`, or both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Either family; the system's preference order decides.
    Any,
    /// IPv4 only (`-4`).
    V4,
    /// IPv6 only (`-6`).
    V6,
}

impl Family {
    /// Derives the family from the `-4`/`-6` flags.
    pub fn from_flags(v4: bool, v6: bool) -> Self {
        match (v4, v6) {
            (true, false) => Family::V4,
            (false, true) => Family::V6,
            _ => Family::Any,
        }
    }

    /// True when `addr` is allowed by this family.
    pub fn allows(self, addr: &IpAddr) -> bool {
        match self {
            Family::Any => true,
            Family::V4 => addr.is_ipv4(),
            Family::V6 => addr.is_ipv6(),
        }
    }
}

/// Parses an address literal, accepting `[v6]` brackets and `%zone`-less forms.
pub fn parse_literal(text: &str) -> Option<IpAddr> {
    let trimmed = text.trim_start_matches('[').trim_end_matches(']');
    trimmed.parse().ok()
}

/// Resolves `host` to every address of the allowed family, in the order the
/// system resolver (getaddrinfo: /etc/hosts, then DNS) returns them.
pub async fn resolve_all(host: &str, family: Family) -> AppResult<Vec<IpAddr>> {
    if host.is_empty() {
        return Err(AppError::usage("empty host name"));
    }
    if let Some(addr) = parse_literal(host) {
        if !family.allows(&addr) {
            return Err(AppError::usage(format!(
                "{host} is an {} address but -{} was given",
                if addr.is_ipv4() { "IPv4" } else { "IPv6" },
                if addr.is_ipv4() { '6' } else { '4' }
            )));
        }
        return Ok(vec![addr]);
    }
    if !valid_hostname(host) {
        return Err(AppError::usage(format!(
            "'{host}' is neither an IP address nor a valid host name"
        )));
    }
    let found = match tokio::net::lookup_host((host, 0)).await {
        Ok(found) => found,
        Err(e) => return Err(dns_failure(host, family, resolver_words(&e)).await),
    };
    let mut addrs: Vec<IpAddr> = Vec::new();
    for sa in found {
        let ip = sa.ip();
        if family.allows(&ip) && !addrs.contains(&ip) {
            addrs.push(ip);
        }
    }
    if addrs.is_empty() {
        let which = match family {
            Family::V4 => "no IPv4 (A) address",
            Family::V6 => "no IPv6 (AAAA) address",
            Family::Any => "no address",
        };
        return Err(dns_failure(host, family, format!("the name exists but has {which}")).await);
    }
    Ok(addrs)
}

/// Resolves `host` to the first address of the allowed family.
pub async fn resolve_one(host: &str, family: Family) -> AppResult<IpAddr> {
    let addrs = resolve_all(host, family).await?;
    addrs
        .into_iter()
        .next()
        .ok_or_else(|| AppError::target(format!("cannot resolve {host}")))
}

/// Checks RFC 1123 host name syntax (labels of letters, digits, hyphens, underscores).
pub fn valid_hostname(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() > 253 {
        return false;
    }
    name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

/// Builds the error for a name that did not resolve: the `netdx dns`
/// diagnosis (NXDOMAIN, no A/AAAA record, resolver timeout or refusal, with
/// its stable code) when DNS can tell, else getaddrinfo's words.
async fn dns_failure(host: &str, family: Family, fallback: String) -> AppError {
    match crate::dns::explain_failure(host, family).await {
        Some(d) => AppError::target(format!("cannot resolve {host}: {} [{}]", d.summary, d.code)),
        None => AppError::target(format!("cannot resolve {host}: {fallback}")),
    }
}

/// Turns getaddrinfo's terse messages into what they mean for the user.
fn resolver_words(err: &std::io::Error) -> String {
    let text = err.to_string();
    if text.contains("not known") || text.contains("No address associated") {
        "no such name (NXDOMAIN or no address records) — check the spelling, or `netdx dns` it"
            .into()
    } else if text.contains("Temporary failure") {
        "the resolver did not answer (is /etc/resolv.conf's server reachable?) — try `netdx dns --compare`".into()
    } else {
        text
    }
}

/// Reverse lookup (PTR) through the system resolver; None when there is no name.
pub fn reverse_name(addr: IpAddr) -> Option<String> {
    use std::ffi::CStr;
    let sa = socket2::SockAddr::from(std::net::SocketAddr::new(addr, 0));
    let mut host = [0 as libc::c_char; 1025];
    // SAFETY: getnameinfo reads `sa` within its stated length and writes a
    // NUL-terminated string of at most `host.len()` bytes into `host`.
    let rc = unsafe {
        libc::getnameinfo(
            sa.as_ptr(),
            sa.len(),
            host.as_mut_ptr(),
            host.len() as libc::socklen_t,
            std::ptr::null_mut(),
            0,
            libc::NI_NAMEREQD,
        )
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: on success getnameinfo wrote a NUL-terminated string.
    let name = unsafe { CStr::from_ptr(host.as_ptr()) };
    Some(name.to_string_lossy().into_owned())
}
