//! The HTTP/1.1 response of a DoH server, read strictly enough to name
//! what is wrong with it: the status (404 wrong path, 415 wrong type), a
//! body that is a web page instead of a DNS message, a cut-off body.

use crate::diagnose::dns::answer::Failure;
use crate::diagnose::dns::tls::TlsFailure;
use hickory_proto::op::Message;

/// A parsed response head.
#[derive(Debug, PartialEq, Eq)]
struct Head {
    status: u16,
    reason: String,
    content_type: Option<String>,
    length: Option<usize>,
    chunked: bool,
    /// Where the body starts.
    body_at: usize,
}

/// Parses the head once it is complete; None while it is not.
fn head(bytes: &[u8]) -> Option<Result<Head, String>> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let text = String::from_utf8_lossy(&bytes[..end]);
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    if !version.starts_with("HTTP/1.") {
        return Some(Err(format!(
            "the server did not answer HTTP/1.x (status line '{}')",
            status_line.chars().take(60).collect::<String>()
        )));
    }
    let Some(status) = parts.next().and_then(|s| s.parse::<u16>().ok()) else {
        return Some(Err(format!("unreadable HTTP status line '{status_line}'")));
    };
    let reason = parts.next().unwrap_or("").to_string();
    let mut h = Head {
        status,
        reason,
        content_type: None,
        length: None,
        chunked: false,
        body_at: end + 4,
    };
    for line in lines {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim();
        match k.trim().to_ascii_lowercase().as_str() {
            "content-type" => h.content_type = Some(v.to_string()),
            "content-length" => h.length = v.parse().ok(),
            "transfer-encoding" => h.chunked = v.to_ascii_lowercase().contains("chunked"),
            _ => {}
        }
    }
    Some(Ok(h))
}

/// True once `bytes` hold a whole response (so reading can stop before
/// the server closes).
pub fn complete(bytes: &[u8]) -> bool {
    match head(bytes) {
        Some(Ok(h)) if !h.chunked => h
            .length
            .is_some_and(|n| bytes.len() >= h.body_at.saturating_add(n)),
        Some(Ok(h)) => dechunk(&bytes[h.body_at..]).is_some_and(|(_, done)| done),
        Some(Err(_)) => true,
        None => false,
    }
}

/// Decodes a chunked body: the data and whether the last chunk came.
fn dechunk(mut body: &[u8]) -> Option<(Vec<u8>, bool)> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = body.windows(2).position(|w| w == b"\r\n") else {
            return Some((out, false));
        };
        let size_text = String::from_utf8_lossy(&body[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some((out, true));
        }
        let start = eol + 2;
        let Some(chunk) = body.get(start..start.checked_add(size)?) else {
            return Some((out, false));
        };
        out.extend_from_slice(chunk);
        body = body.get(start + size + 2..).unwrap_or(&[]);
    }
}

/// The DNS message in a DoH response, or the failure that names why not.
pub fn to_message(bytes: Vec<u8>, url: &str) -> Result<Message, Failure> {
    let not_dns = |content_type: &str, detail: String| {
        Failure::Tls(Box::new(TlsFailure::NotDns {
            content_type: content_type.to_string(),
            detail,
            url: url.to_string(),
        }))
    };
    let h = match head(&bytes) {
        None if bytes.is_empty() => {
            return Err(Failure::Tls(Box::new(TlsFailure::NoHttpResponse {
                url: url.to_string(),
            })))
        }
        None => {
            return Err(Failure::Malformed(format!(
                "{url}: the HTTP response ended inside its header ({} bytes)",
                bytes.len()
            )))
        }
        Some(Err(e)) => return Err(not_dns("none", e)),
        Some(Ok(h)) => h,
    };
    if !(200..300).contains(&h.status) {
        return Err(Failure::Tls(Box::new(TlsFailure::HttpStatus {
            status: h.status,
            reason: h.reason,
            url: url.to_string(),
        })));
    }
    let rest = bytes.get(h.body_at..).unwrap_or(&[]);
    let body = if h.chunked {
        match dechunk(rest) {
            Some((b, true)) => b,
            _ => {
                return Err(Failure::Malformed(format!(
                    "{url}: the chunked HTTP body was cut off"
                )))
            }
        }
    } else {
        match h.length {
            Some(n) if rest.len() < n => {
                return Err(Failure::Malformed(format!(
                    "{url}: the HTTP body was cut off ({} of {n} bytes)",
                    rest.len()
                )))
            }
            Some(n) => rest[..n].to_vec(),
            None => rest.to_vec(),
        }
    };
    let ctype = h.content_type.as_deref().unwrap_or("none");
    let is_dns = ctype
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/dns-message"));
    if !is_dns {
        let preview: String = String::from_utf8_lossy(&body)
            .chars()
            .take(40)
            .filter(|c| !c.is_control())
            .collect();
        return Err(not_dns(
            ctype,
            format!("{} bytes starting '{preview}'", body.len()),
        ));
    }
    Message::from_vec(&body).map_err(|e| {
        not_dns(
            ctype,
            format!("{}-byte body that does not parse as DNS: {e}", body.len()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(r: Result<Message, Failure>) -> String {
        match r {
            Ok(_) => "ok".into(),
            Err(Failure::Tls(t)) => t.code().to_string(),
            Err(f) => format!("{f:?}"),
        }
    }

    #[test]
    fn status_errors_are_named() {
        let r = to_message(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec(),
            "u",
        );
        assert_eq!(
            r.err(),
            Some(Failure::Tls(Box::new(TlsFailure::HttpStatus {
                status: 404,
                reason: "Not Found".into(),
                url: "u".into()
            })))
        );
    }

    #[test]
    fn a_web_page_is_not_dns() {
        let r = to_message(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 6\r\n\r\n<html>"
                .to_vec(),
            "u",
        );
        assert_eq!(kind(r), "dns.doh_not_dns");
    }

    #[test]
    fn chunked_bodies_are_joined_and_completeness_is_seen() {
        let msg = Message::new().to_vec().unwrap_or_default();
        let mut bytes = b"HTTP/1.1 200 OK\r\nContent-Type: application/dns-message\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        bytes.extend_from_slice(format!("{:x}\r\n", 5).as_bytes());
        bytes.extend_from_slice(&msg[..5]);
        bytes.extend_from_slice(b"\r\n");
        assert!(!complete(&bytes));
        bytes.extend_from_slice(format!("{:x}\r\n", msg.len() - 5).as_bytes());
        bytes.extend_from_slice(&msg[5..]);
        bytes.extend_from_slice(b"\r\n0\r\n\r\n");
        assert!(complete(&bytes));
        assert_eq!(kind(to_message(bytes, "u")), "ok");
    }

    #[test]
    fn hostile_heads_do_not_panic() {
        for b in [
            &b"garbage\r\n\r\n"[..],
            b"HTTP/1.1 abc\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
        ] {
            let _ = complete(b);
            assert_ne!(kind(to_message(b.to_vec(), "u")), "ok");
        }
    }
}
