//! DNS over TLS (DoT, RFC 7858) and over HTTPS (DoH, RFC 8484): what the
//! encrypted session was (version, cipher, certificate, handshake time) and
//! why one failed, with the rules that turn a failure into one sentence. The
//! client in `resolve::secure` fills these facts.

use super::answer::Answer;
use crate::diagnose::{Diagnosis, Severity};
use serde::Serialize;

/// What the server's certificate says, as far as a diagnosis needs it.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct CertInfo {
    /// Subject distinguished name (`CN=dns.lab.test, O=Lab`).
    pub subject: String,
    /// Issuer distinguished name.
    pub issuer: String,
    /// Start of validity, `YYYY-MM-DD HH:MM:SS UTC`.
    pub not_before: String,
    /// End of validity, `YYYY-MM-DD HH:MM:SS UTC`.
    pub not_after: String,
    /// Names the certificate is valid for (subjectAltName DNS and IP entries).
    pub names: Vec<String>,
    /// Issuer equals subject: nobody but the server itself vouches for it.
    pub self_signed: bool,
}

/// The encrypted session an answer travelled over.
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct TlsSession {
    /// `tls` (DoT) or `https` (DoH).
    pub transport: String,
    /// The name the certificate was checked against.
    pub tls_name: String,
    /// The DoH URL, for `https`.
    pub url: Option<String>,
    /// Negotiated protocol version (`TLSv1.3`).
    pub version: String,
    /// Negotiated cipher suite (`TLS13_AES_256_GCM_SHA384`).
    pub cipher: String,
    /// Negotiated ALPN protocol, when the server picked one.
    pub alpn: Option<String>,
    /// The server's (leaf) certificate.
    pub cert: Option<CertInfo>,
    /// TCP connect time, in milliseconds.
    pub connect_ms: f64,
    /// TLS handshake time after the connect, in milliseconds.
    pub handshake_ms: f64,
    /// Query to answer over the established session, in milliseconds.
    pub query_ms: f64,
    /// The connection was opened for an earlier question and reused (DoT):
    /// no connect or handshake this time.
    pub reused: bool,
}

/// Why a DoT or DoH exchange failed after TCP connected.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TlsFailure {
    /// The certificate is not valid for the name we expected.
    NameMismatch {
        /// The name checked.
        expected: String,
        /// The certificate.
        cert: CertInfo,
    },
    /// The certificate's validity ended before now.
    Expired {
        /// Now, as the client saw it.
        now: String,
        /// The certificate.
        cert: CertInfo,
    },
    /// The certificate's validity starts after now.
    NotYetValid {
        /// Now, as the client saw it.
        now: String,
        /// The certificate.
        cert: CertInfo,
    },
    /// The certificate is self-signed and not among the trusted roots.
    SelfSigned {
        /// The certificate.
        cert: CertInfo,
    },
    /// No trusted root vouches for the certificate's issuer.
    UnknownCa {
        /// The certificate.
        cert: CertInfo,
    },
    /// Another certificate problem (bad signature, wrong purpose, ...).
    BadCert {
        /// What the verifier said.
        error: String,
        /// The certificate, when one was presented.
        cert: Option<CertInfo>,
    },
    /// The TLS handshake failed before any certificate could be judged
    /// (alert, no common protocol, not TLS at all, connection closed).
    Handshake {
        /// What went wrong.
        error: String,
    },
    /// The session was set up, the query sent, and no answer came in time.
    Stalled {
        /// The time limit, in milliseconds.
        timeout_ms: u64,
    },
    /// The DoH server closed the connection without any HTTP response
    /// (what an HTTP/2-only server does with an HTTP/1.1 request).
    NoHttpResponse {
        /// The URL asked.
        url: String,
    },
    /// The DoH server answered with an HTTP error status.
    HttpStatus {
        /// The status code.
        status: u16,
        /// The reason phrase the server sent.
        reason: String,
        /// The URL asked.
        url: String,
    },
    /// The DoH server answered 200 but not with a DNS message.
    NotDns {
        /// The Content-Type it sent.
        content_type: String,
        /// What was wrong with the body.
        detail: String,
        /// The URL asked.
        url: String,
    },
}

impl TlsFailure {
    /// The diagnosis code for this failure.
    pub fn code(&self) -> &'static str {
        match self {
            TlsFailure::NameMismatch { .. } => "dns.tls_name_mismatch",
            TlsFailure::Expired { .. } => "dns.tls_cert_expired",
            TlsFailure::NotYetValid { .. } => "dns.tls_cert_not_yet_valid",
            TlsFailure::SelfSigned { .. } => "dns.tls_self_signed",
            TlsFailure::UnknownCa { .. } => "dns.tls_unknown_ca",
            TlsFailure::BadCert { .. } => "dns.tls_bad_cert",
            TlsFailure::Handshake { .. } => "dns.tls_handshake_failed",
            TlsFailure::Stalled { .. } => "dns.tcp_stalled",
            TlsFailure::HttpStatus { .. } => "dns.doh_http_status",
            TlsFailure::NoHttpResponse { .. } => "dns.doh_no_http_response",
            TlsFailure::NotDns { .. } => "dns.doh_not_dns",
        }
    }

    /// The certificate the failure is about, if any.
    pub fn cert(&self) -> Option<&CertInfo> {
        match self {
            TlsFailure::NameMismatch { cert, .. }
            | TlsFailure::Expired { cert, .. }
            | TlsFailure::NotYetValid { cert, .. }
            | TlsFailure::SelfSigned { cert }
            | TlsFailure::UnknownCa { cert } => Some(cert),
            TlsFailure::BadCert { cert, .. } => cert.as_ref(),
            _ => None,
        }
    }

    /// A few words for the answer line.
    pub fn short(&self) -> String {
        match self {
            TlsFailure::NameMismatch { expected, .. } => {
                format!("certificate not valid for {expected}")
            }
            TlsFailure::Expired { cert, .. } => format!("certificate expired {}", cert.not_after),
            TlsFailure::NotYetValid { cert, .. } => {
                format!("certificate not valid before {}", cert.not_before)
            }
            TlsFailure::SelfSigned { .. } => "self-signed certificate".into(),
            TlsFailure::UnknownCa { cert } => {
                format!("certificate from unknown CA {}", cert.issuer)
            }
            TlsFailure::BadCert { error, .. } => format!("bad certificate: {error}"),
            TlsFailure::Handshake { error } => format!("TLS handshake failed: {error}"),
            TlsFailure::Stalled { timeout_ms } => format!(
                "TLS session up, then no answer for {:.1} s",
                *timeout_ms as f64 / 1000.0
            ),
            TlsFailure::HttpStatus { status, reason, .. } => format!("HTTP {status} {reason}"),
            TlsFailure::NoHttpResponse { .. } => "closed without an HTTP response".into(),
            TlsFailure::NotDns { content_type, .. } => {
                format!("HTTP 200 but not a DNS message ({content_type})")
            }
        }
    }
}

/// The one-line diagnosis for a failed DoT/DoH exchange with `server`.
pub fn diagnosis(a: &Answer, server: &str, f: &TlsFailure) -> Diagnosis {
    let over = match a.transport {
        Some(super::answer::Transport::Https) => "DNS over HTTPS",
        _ => "DNS over TLS",
    };
    let names = |c: &CertInfo| {
        if c.names.is_empty() {
            format!("no subjectAltName, subject {}", c.subject)
        } else {
            c.names.join(", ")
        }
    };
    let summary = match f {
        TlsFailure::NameMismatch { expected, cert } => format!(
            "{over} to {server}: the certificate is not valid for {expected} — it names {} (issued by {}); connect with the name on the certificate (--tls-name) or fix the server's certificate",
            names(cert), cert.issuer
        ),
        TlsFailure::Expired { now, cert } => format!(
            "{over} to {server}: the certificate expired on {} (valid from {}; now {now}) — renew the server's certificate (or check this machine's clock)",
            cert.not_after, cert.not_before
        ),
        TlsFailure::NotYetValid { now, cert } => format!(
            "{over} to {server}: the certificate is not valid before {} (now {now}) — this machine's clock is behind, or the certificate was issued with a future start date",
            cert.not_before
        ),
        TlsFailure::SelfSigned { cert } => format!(
            "{over} to {server}: the certificate ({}) is self-signed and not trusted here — give its CA with --ca-file, or install a certificate from a trusted CA on the server",
            cert.subject
        ),
        TlsFailure::UnknownCa { cert } => format!(
            "{over} to {server}: the certificate for {} was issued by {}, a CA this machine does not trust — give that CA with --ca-file, or fix the server's chain (intermediate missing?)",
            names(cert), cert.issuer
        ),
        TlsFailure::BadCert { error, .. } => format!(
            "{over} to {server}: the certificate was rejected: {error}"
        ),
        TlsFailure::Handshake { error } => format!(
            "{over} to {server}: TCP connected but the TLS handshake failed: {error} — is this port really serving {over} (and TLS 1.2 or newer)?"
        ),
        TlsFailure::Stalled { timeout_ms } => format!(
            "{over} to {server}: the TLS session was set up and the query sent, but no answer came within {:.1} s — the server stalled{}",
            *timeout_ms as f64 / 1000.0,
            if over == "DNS over HTTPS" {
                "; a DoT port (853) behind an https:// URL waits like this for a DNS length prefix that never comes"
            } else {
                " (overloaded, or a proxy that accepts TLS and drops the data)"
            }
        ),
        TlsFailure::NoHttpResponse { url } => format!(
            "{over} to {server}: TLS was set up, but the server closed the connection without answering the HTTP/1.1 request for {url} — HTTP/2-only DoH servers (unbound's https-port) do this, and netdx's DoH client speaks HTTP/1.1: ask the server's DoT port with --tls, or an HTTP/1.1 endpoint"
        ),
        TlsFailure::HttpStatus { status, reason, url } => {
            let hint = match status {
                404 => " — wrong path: DoH servers usually answer at /dns-query",
                405 => " — the server does not take this method on that path",
                415 => " — the server does not accept application/dns-message",
                400 => " — the server could not read the query",
                _ => "",
            };
            format!("{over} to {server}: {url} answered HTTP {status} {reason}{hint}")
        }
        TlsFailure::NotDns { content_type, detail, url } => format!(
            "{over} to {server}: {url} answered 200 but not with a DNS message (Content-Type {content_type}; {detail}) — the URL points at a web page, not a DoH endpoint"
        ),
    };
    let mut d = Diagnosis::new(f.code(), Severity::Critical, summary)
        .with("name", &a.input)
        .with("type", &a.qtype)
        .with("server", server);
    if let Some(c) = f.cert() {
        d = d
            .with("subject", &c.subject)
            .with("issuer", &c.issuer)
            .with("not_before", &c.not_before)
            .with("not_after", &c.not_after)
            .with("cert_names", &c.names);
    }
    match f {
        TlsFailure::NameMismatch { expected, .. } => d.with("expected", expected),
        TlsFailure::Expired { now, .. } | TlsFailure::NotYetValid { now, .. } => d.with("now", now),
        TlsFailure::HttpStatus { status, url, .. } => d.with("status", status).with("url", url),
        TlsFailure::NoHttpResponse { url } => d.with("url", url),
        TlsFailure::Stalled { timeout_ms } => d
            .with("kind", "stalled")
            .with("timeout_s", *timeout_ms as f64 / 1000.0),
        TlsFailure::NotDns {
            content_type, url, ..
        } => d.with("content_type", content_type).with("url", url),
        TlsFailure::Handshake { error } | TlsFailure::BadCert { error, .. } => {
            d.with("error", error)
        }
        _ => d,
    }
}
