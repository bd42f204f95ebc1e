//! Host name resolution shared by every subcommand, so a name that fails in
//! `ping`, `tcp` or `trace` fails the same way, with the same words.

pub mod asn;
pub mod cert;
pub mod config;
pub mod dnssec;
pub mod geoip;
mod http1;
pub mod idn;
pub mod iterate;
pub mod lookup;
pub mod rdata;
pub mod roothints;
pub mod secure;
mod system;
pub mod wire;

use crate::error::{AppError, AppResult};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

/// glibc's own limit when resolv.conf cannot be read: timeout 5 s × 2 attempts.
const GLIBC_BUDGET: Duration = Duration::from_secs(10);

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
/// system resolver (getaddrinfo: /etc/hosts, then DNS) returns them, bounded
/// by `limit` (the user's `--timeout`) or else resolv.conf's timeout ×
/// attempts, so a resolver that never answers cannot hold a command.
pub async fn resolve_all_within(
    host: &str,
    family: Family,
    limit: Option<Duration>,
) -> AppResult<Vec<IpAddr>> {
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
    let typed = host;
    let ascii = idn::to_ascii(host).map_err(|why| AppError::usage(format!("'{host}' is {why}")))?;
    let host = ascii.as_str();
    if !valid_hostname(host) {
        return Err(AppError::usage(format!(
            "'{typed}' is neither an IP address nor a valid host name"
        )));
    }
    let budget = limit.unwrap_or_else(system_budget);
    let started = Instant::now();
    let found = match tokio::time::timeout(budget, getaddrinfo(host)).await {
        Ok(Ok(found)) => found,
        Ok(Err(e)) => {
            let took = started.elapsed();
            // EAI_AGAIN after (nearly) the whole budget is the resolver's own
            // timeout: that already tells the cause, do not ask again.
            if is_try_again(&e) && took >= budget.mul_f64(0.9) {
                return Err(silent(host, took));
            }
            let left = budget.saturating_sub(took).max(Duration::from_secs(1));
            return Err(dns_failure(host, family, resolver_words(&e), left).await);
        }
        // No answer within the budget: the resolver is silent. Asking again
        // would only wait as long a second time.
        Err(_) => return Err(silent(host, budget)),
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
        let left = budget
            .saturating_sub(started.elapsed())
            .max(Duration::from_secs(1));
        return Err(dns_failure(
            host,
            family,
            format!("the name exists but has {which}"),
            left,
        )
        .await);
    }
    Ok(addrs)
}

/// Resolves `host` to the first address of the allowed family, bounded like
/// [`resolve_all_within`].
pub async fn resolve_one_within(
    host: &str,
    family: Family,
    limit: Option<Duration>,
) -> AppResult<IpAddr> {
    let addrs = resolve_all_within(host, family, limit).await?;
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

/// How long getaddrinfo may take by default: what libc itself would wait
/// for one server (resolv.conf's timeout × attempts).
fn system_budget() -> Duration {
    config::load_system(None)
        .map(|conf| conf.timeout * conf.attempts.max(1) as u32)
        .unwrap_or(GLIBC_BUDGET)
}

/// Runs getaddrinfo on a thread of its own: it cannot be cancelled, and a
/// detached thread (unlike the runtime's blocking pool) does not keep the
/// process alive after netdx has given up on it.
async fn getaddrinfo(host: &str) -> std::io::Result<Vec<SocketAddr>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let name = host.to_string();
    std::thread::Builder::new()
        .name("getaddrinfo".into())
        .spawn(move || {
            let found = (name.as_str(), 0).to_socket_addrs().map(Iterator::collect);
            let _ = tx.send(found);
        })?;
    rx.await
        .unwrap_or_else(|_| Err(std::io::Error::other("the resolver thread died")))
}

/// EAI_AGAIN: the resolver did not give an answer (timeout or SERVFAIL).
fn is_try_again(err: &std::io::Error) -> bool {
    err.to_string().contains("Temporary failure")
}

/// The error for a resolver that stayed silent for `waited`.
fn silent(host: &str, waited: Duration) -> AppError {
    let d = system::silent(host, waited);
    AppError::target(format!("cannot resolve {host}: {} [{}]", d.summary, d.code))
        .with_code(d.code.clone())
}

/// Builds the error for a name that did not resolve: the `netdx dns`
/// diagnosis (NXDOMAIN, no A/AAAA record, resolver timeout or refusal, with
/// its stable code) when DNS can tell within `deadline`, else getaddrinfo's words.
async fn dns_failure(host: &str, family: Family, fallback: String, deadline: Duration) -> AppError {
    match system::explain_failure(host, family, deadline).await {
        Some(d) => AppError::target(format!("cannot resolve {host}: {} [{}]", d.summary, d.code))
            .with_code(d.code.clone()),
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
