//! One question over DNS over TLS (RFC 7858: the TCP framing inside TLS,
//! port 853) or DNS over HTTPS (RFC 8484: an HTTP/1.1 POST of
//! application/dns-message). Written on rustls directly rather than through
//! hickory's DoT/DoH clients, because a diagnosis needs what those hide: the
//! certificate even when it is rejected, the exact verifier error, the HTTP
//! status, the negotiated version and cipher, and the handshake time apart
//! from the query time.

use super::cert;
use super::wire::{self, Exchange, Outcome, WireOpts};
use crate::diagnose::dns::answer::{Failure, Transport};
use crate::diagnose::dns::tls::{CertInfo, TlsFailure, TlsSession};
use crate::error::{AppError, AppResult};
use crate::probe::tlsio::{self, Handshake, TlsPeer};
use hickory_proto::op::Message;
use hickory_proto::rr::{Name, RecordType};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::crypto::{ring, CryptoProvider};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{
    self, CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

/// Where the system's trusted roots usually live (Debian/Ubuntu first).
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// Largest DoH response body taken (a DNS message is at most 64 KiB).
const MAX_BODY: usize = 65_535;
/// Idle DoT connections kept for reuse (about the default --concurrency).
const MAX_IDLE: usize = 128;
/// Largest HTTP response head taken.
const MAX_HEAD: usize = 16 * 1024;

/// DNS over TLS or over HTTPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// DoT, RFC 7858.
    Tls,
    /// DoH, RFC 8484.
    Https,
}

/// How one server is reached: the name its certificate must carry and,
/// for DoH, the Host header and path.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The server's address and port.
    pub addr: SocketAddr,
    /// The name the certificate is checked against.
    pub tls_name: String,
    /// The HTTP Host (DoH).
    pub host: String,
    /// The HTTP path (DoH), `/dns-query` by default.
    pub path: String,
}

/// The settings for encrypted DNS: kind, trusted roots, endpoints.
#[derive(Debug)]
pub struct Secure {
    /// DoT or DoH.
    pub kind: Kind,
    /// Verifier over the trusted roots.
    verifier: Arc<WebPkiServerVerifier>,
    /// Where the roots came from, for messages.
    pub roots_from: String,
    /// The servers, matched by address.
    pub endpoints: Vec<Endpoint>,
    provider: Arc<CryptoProvider>,
    /// DoT connections that carried an answer and wait for the next question.
    idle: Mutex<Vec<(SocketAddr, TlsPeer, TlsSession)>>,
}

impl Secure {
    /// Loads the trusted roots: `ca_file` when given, else the system bundle.
    pub fn new(kind: Kind, ca_file: Option<&Path>) -> AppResult<Secure> {
        let provider = Arc::new(ring::default_provider());
        let mut roots = RootCertStore::empty();
        let from = match ca_file {
            Some(path) => {
                let n = add_pem(&mut roots, path)
                    .map_err(|e| AppError::usage(format!("--ca-file {}: {e}", path.display())))?;
                if n == 0 {
                    return Err(AppError::usage(format!(
                        "--ca-file {}: holds no PEM certificate",
                        path.display()
                    )));
                }
                path.display().to_string()
            }
            None => {
                let env = std::env::var("SSL_CERT_FILE").ok();
                let found = env
                    .iter()
                    .map(String::as_str)
                    .chain(SYSTEM_BUNDLES.iter().copied())
                    .find(|p| add_pem(&mut roots, Path::new(p)).is_ok_and(|n| n > 0));
                match found {
                    Some(p) => p.to_string(),
                    None => {
                        return Err(AppError::cannot_run(format!(
                            "no trusted CA certificates found ({} missing or empty): install ca-certificates or give --ca-file",
                            SYSTEM_BUNDLES.join(", ")
                        )))
                    }
                }
            }
        };
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| AppError::cannot_run(format!("TLS roots from {from}: {e}")))?;
        Ok(Secure {
            kind,
            verifier,
            roots_from: from,
            endpoints: Vec::new(),
            provider,
            idle: Mutex::new(Vec::new()),
        })
    }

    /// An idle DoT connection to `server`, with the session it was opened with.
    fn take_idle(&self, server: SocketAddr) -> Option<(TlsPeer, TlsSession)> {
        if self.kind != Kind::Tls {
            return None;
        }
        let mut idle = self.idle.lock().ok()?;
        let at = idle.iter().position(|(addr, _, _)| *addr == server)?;
        let (_, peer, session) = idle.swap_remove(at);
        Some((peer, session))
    }

    /// Keeps a DoT connection that just carried a whole answer for the next question.
    fn put_idle(&self, server: SocketAddr, peer: TlsPeer, session: TlsSession) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < MAX_IDLE {
                idle.push((server, peer, session));
            }
        }
    }

    /// The transport label answers carry.
    pub fn transport(&self) -> Transport {
        match self.kind {
            Kind::Tls => Transport::Tls,
            Kind::Https => Transport::Https,
        }
    }

    /// A fresh client configuration whose verifier keeps the certificate it saw.
    fn config(&self) -> AppResult<(Arc<ClientConfig>, Arc<Capture>)> {
        let capture = Arc::new(Capture {
            inner: self.verifier.clone(),
            seen: Mutex::new(None),
        });
        let mut config = ClientConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| AppError::cannot_run(format!("TLS: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(capture.clone())
            .with_no_client_auth();
        if self.kind == Kind::Https {
            // The client below speaks HTTP/1.1 only.
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
        }
        Ok((Arc::new(config), capture))
    }
}

/// Adds every certificate of a PEM file; the count added.
fn add_pem(roots: &mut RootCertStore, path: &Path) -> Result<usize, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| e.to_string())?
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let (added, _ignored) = roots.add_parsable_certificates(certs);
    Ok(added)
}

/// The webpki verifier, remembering the leaf certificate it was shown so a
/// rejected certificate can still be described.
#[derive(Debug)]
struct Capture {
    inner: Arc<WebPkiServerVerifier>,
    seen: Mutex<Option<Vec<u8>>>,
}

impl Capture {
    fn leaf(&self) -> Option<CertInfo> {
        let seen = self.seen.lock().ok()?;
        seen.as_deref().and_then(cert::parse)
    }
}

impl ServerCertVerifier for Capture {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some(end_entity.as_ref().to_vec());
        }
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Where the exchange was when the time ran out.
const CONNECTING: u8 = 0;
const HANDSHAKING: u8 = 1;
const ESTABLISHED: u8 = 2;

/// Asks `server` one question over DoT or DoH. The session (when the
/// handshake completed) comes back even when the query then failed.
pub async fn exchange(
    secure: &Secure,
    server: SocketAddr,
    name: &Name,
    rtype: RecordType,
    opts: WireOpts,
) -> (Result<Outcome, Failure>, Option<TlsSession>) {
    let endpoint = secure
        .endpoints
        .iter()
        .find(|e| e.addr == server)
        .cloned()
        .unwrap_or_else(|| Endpoint {
            addr: server,
            tls_name: server.ip().to_string(),
            host: host_header(&server.ip().to_string(), server.port(), secure.kind),
            path: "/dns-query".into(),
        });
    let (config, capture) = match secure.config() {
        Ok(c) => c,
        Err(e) => return (Err(Failure::Network(e.message)), None),
    };
    let Ok(tls_name) = ServerName::try_from(endpoint.tls_name.clone()) else {
        return (
            Err(Failure::Tls(Box::new(TlsFailure::Handshake {
                error: format!("'{}' is not a valid TLS server name", endpoint.tls_name),
            }))),
            None,
        );
    };
    let phase = AtomicU8::new(CONNECTING);
    let session: Mutex<Option<TlsSession>> = Mutex::new(None);
    let work = async {
        let (id, query) = wire::build(name, rtype, opts.edns, true);
        // DoT: an idle connection from an earlier question first (RFC 7858
        // reuse); if the server has closed it meanwhile, a fresh one.
        if let Some((mut peer, mut reused)) = secure.take_idle(server) {
            phase.store(ESTABLISHED, Ordering::Relaxed);
            let t0 = Instant::now();
            if let Ok(message) = dot(&mut peer, &query).await {
                reused.reused = true;
                reused.connect_ms = 0.0;
                reused.handshake_ms = 0.0;
                reused.query_ms = t0.elapsed().as_secs_f64() * 1000.0;
                if let Ok(mut s) = session.lock() {
                    *s = Some(reused.clone());
                }
                if let Some(why) = wire::mismatch(&message, id, name, rtype) {
                    return Err(Failure::Malformed(why));
                }
                secure.put_idle(server, peer, reused);
                return Ok(message);
            }
            phase.store(CONNECTING, Ordering::Relaxed);
        }
        let tcp = tlsio::connect(server).await.map_err(wire::io_failure)?;
        phase.store(HANDSHAKING, Ordering::Relaxed);
        let (mut peer, hs) = tcp
            .handshake(tls_name, config)
            .await
            .map_err(|e| handshake_failure(&e, capture.leaf(), &endpoint.tls_name))?;
        phase.store(ESTABLISHED, Ordering::Relaxed);
        let t0 = Instant::now();
        let mut fresh = session_of(secure.kind, &endpoint, &hs);
        if let Ok(mut s) = session.lock() {
            *s = Some(fresh.clone());
        }
        let reply = match secure.kind {
            Kind::Tls => dot(&mut peer, &query).await,
            Kind::Https => doh(&mut peer, &endpoint, &query).await,
        };
        fresh.query_ms = t0.elapsed().as_secs_f64() * 1000.0;
        if let Ok(mut s) = session.lock() {
            *s = Some(fresh.clone());
        }
        let message = reply?;
        if let Some(why) = wire::mismatch(&message, id, name, rtype) {
            return Err(Failure::Malformed(why));
        }
        if secure.kind == Kind::Tls {
            secure.put_idle(server, peer, fresh);
        }
        Ok(message)
    };
    let result = match tokio::time::timeout(opts.deadline, work).await {
        Ok(r) => r,
        Err(_) => Err(match phase.load(Ordering::Relaxed) {
            ESTABLISHED => Failure::Tls(Box::new(TlsFailure::Stalled {
                timeout_ms: opts.deadline.as_millis() as u64,
            })),
            HANDSHAKING => Failure::Tls(Box::new(TlsFailure::Handshake {
                error: format!(
                    "no TLS handshake reply within {:.1} s",
                    opts.deadline.as_secs_f64()
                ),
            })),
            _ => Failure::Timeout,
        }),
    };
    let session = session.into_inner().ok().flatten();
    let transport = secure.transport();
    (
        result.map(|message| {
            Outcome::Complete(Exchange {
                message,
                transport,
                truncated_udp: false,
            })
        }),
        session,
    )
}

/// The Host header value: the port only when it is not the default.
pub fn host_header(host: &str, port: u16, kind: Kind) -> String {
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    if kind == Kind::Https && port == 443 {
        host
    } else {
        format!("{host}:{port}")
    }
}

fn session_of(kind: Kind, e: &Endpoint, hs: &Handshake) -> TlsSession {
    TlsSession {
        transport: match kind {
            Kind::Tls => "tls".into(),
            Kind::Https => "https".into(),
        },
        tls_name: e.tls_name.clone(),
        url: (kind == Kind::Https).then(|| format!("https://{}{}", e.host, e.path)),
        version: hs.version.clone(),
        cipher: hs.cipher.clone(),
        alpn: hs.alpn.clone(),
        cert: hs.chain.first().and_then(|c| cert::parse(c)),
        connect_ms: hs.connect.as_secs_f64() * 1000.0,
        handshake_ms: hs.handshake.as_secs_f64() * 1000.0,
        query_ms: 0.0,
        reused: false,
    }
}

/// Names a failed handshake: the certificate verdict when rustls gave one.
fn handshake_failure(e: &std::io::Error, leaf: Option<CertInfo>, expected: &str) -> Failure {
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    let cert = leaf.unwrap_or_default();
    let f = match inner {
        Some(rustls::Error::InvalidCertificate(ce)) => match ce {
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                TlsFailure::NameMismatch {
                    expected: expected.to_string(),
                    cert,
                }
            }
            CertificateError::Expired => TlsFailure::Expired {
                now: cert::utc_text(unix_now()),
                cert,
            },
            CertificateError::ExpiredContext { time, .. } => TlsFailure::Expired {
                now: cert::utc_text(time.as_secs() as i64),
                cert,
            },
            CertificateError::NotValidYet => TlsFailure::NotYetValid {
                now: cert::utc_text(unix_now()),
                cert,
            },
            CertificateError::NotValidYetContext { time, .. } => TlsFailure::NotYetValid {
                now: cert::utc_text(time.as_secs() as i64),
                cert,
            },
            CertificateError::UnknownIssuer if cert.self_signed => TlsFailure::SelfSigned { cert },
            CertificateError::UnknownIssuer => TlsFailure::UnknownCa { cert },
            other => TlsFailure::BadCert {
                error: other.to_string(),
                cert: (!cert.subject.is_empty()).then_some(cert),
            },
        },
        Some(rustls::Error::NoApplicationProtocol) => TlsFailure::Handshake {
            error: "the server offers no ALPN protocol netdx speaks (DoH over HTTP/1.1; an HTTP/2-only server refuses it)".into(),
        },
        Some(other) => TlsFailure::Handshake {
            error: other.to_string(),
        },
        None => TlsFailure::Handshake {
            error: match e.kind() {
                std::io::ErrorKind::UnexpectedEof => {
                    "the server closed the connection during the handshake".into()
                }
                std::io::ErrorKind::ConnectionReset => {
                    "the server reset the connection during the handshake".into()
                }
                _ => e.to_string(),
            },
        },
    };
    Failure::Tls(Box::new(f))
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Reading errors once the session is up: the server ended it early.
fn read_failure(e: std::io::Error) -> Failure {
    wire::io_failure(e)
}

/// DoT: the query with its two-byte length, as over TCP.
async fn dot(peer: &mut TlsPeer, query: &[u8]) -> Result<Message, Failure> {
    let len = u16::try_from(query.len())
        .map_err(|_| Failure::Malformed("query too long for TCP".into()))?;
    let mut framed = Vec::with_capacity(query.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(query);
    peer.send(&framed).await.map_err(read_failure)?;
    let mut head = [0u8; 2];
    peer.recv_exact(&mut head).await.map_err(read_failure)?;
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(head))];
    peer.recv_exact(&mut body).await.map_err(read_failure)?;
    Message::from_vec(&body).map_err(|e| {
        Failure::Malformed(format!(
            "{}-byte DNS-over-TLS reply that does not parse: {e}",
            body.len()
        ))
    })
}

/// DoH: one HTTP/1.1 POST of the query, the response body decoded.
async fn doh(peer: &mut TlsPeer, e: &Endpoint, query: &[u8]) -> Result<Message, Failure> {
    let url = format!("https://{}{}", e.host, e.path);
    let mut req = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: netdx/{}\r\nAccept: application/dns-message\r\nContent-Type: application/dns-message\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        e.path,
        e.host,
        env!("CARGO_PKG_VERSION"),
        query.len()
    )
    .into_bytes();
    req.extend_from_slice(query);
    peer.send(&req).await.map_err(read_failure)?;
    let response = read_http(peer).await?;
    super::http1::to_message(response, &url)
}

/// Reads the whole HTTP response (the request asked to close after it).
async fn read_http(peer: &mut TlsPeer) -> Result<Vec<u8>, Failure> {
    let mut all = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = match peer.recv_some(&mut buf).await {
            Ok(n) => n,
            // Servers that close without close_notify: what came is the answer.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !all.is_empty() => 0,
            Err(e) => return Err(read_failure(e)),
        };
        if n == 0 {
            return Ok(all);
        }
        all.extend_from_slice(&buf[..n]);
        if super::http1::complete(&all) {
            return Ok(all);
        }
        if all.len() > MAX_HEAD + MAX_BODY + 1024 {
            return Ok(all);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error, ErrorKind};

    fn cert(self_signed: bool) -> CertInfo {
        CertInfo {
            subject: "CN=a.test".into(),
            issuer: if self_signed { "CN=a.test" } else { "CN=CA" }.into(),
            self_signed,
            ..CertInfo::default()
        }
    }

    fn classify(e: rustls::Error, leaf: CertInfo) -> String {
        let io = Error::new(ErrorKind::InvalidData, e);
        match handshake_failure(&io, Some(leaf), "a.test") {
            Failure::Tls(t) => t.code().to_string(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn verifier_errors_become_their_own_codes() {
        let bad = |c: CertificateError| rustls::Error::InvalidCertificate(c);
        assert_eq!(
            classify(bad(CertificateError::UnknownIssuer), cert(false)),
            "dns.tls_unknown_ca"
        );
        assert_eq!(
            classify(bad(CertificateError::UnknownIssuer), cert(true)),
            "dns.tls_self_signed"
        );
        assert_eq!(
            classify(bad(CertificateError::NotValidForName), cert(false)),
            "dns.tls_name_mismatch"
        );
        assert_eq!(
            classify(
                bad(CertificateError::ExpiredContext {
                    time: UnixTime::since_unix_epoch(std::time::Duration::from_secs(86_400)),
                    not_after: UnixTime::since_unix_epoch(std::time::Duration::from_secs(0)),
                }),
                cert(false)
            ),
            "dns.tls_cert_expired"
        );
        assert_eq!(
            classify(bad(CertificateError::NotValidYet), cert(false)),
            "dns.tls_cert_not_yet_valid"
        );
        assert_eq!(
            classify(bad(CertificateError::BadSignature), cert(false)),
            "dns.tls_bad_cert"
        );
        assert_eq!(
            classify(rustls::Error::NoApplicationProtocol, cert(false)),
            "dns.tls_handshake_failed"
        );
    }

    #[test]
    fn a_closed_connection_is_a_handshake_failure_in_words() {
        let io = Error::new(ErrorKind::UnexpectedEof, "eof");
        match handshake_failure(&io, None, "a.test") {
            Failure::Tls(t) => assert_eq!(
                *t,
                TlsFailure::Handshake {
                    error: "the server closed the connection during the handshake".into()
                }
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn host_headers_bracket_v6_and_drop_the_default_port() {
        assert_eq!(host_header("doh.example", 443, Kind::Https), "doh.example");
        assert_eq!(
            host_header("doh.example", 8443, Kind::Https),
            "doh.example:8443"
        );
        assert_eq!(
            host_header("2001:db8::2", 443, Kind::Https),
            "[2001:db8::2]"
        );
    }
}
