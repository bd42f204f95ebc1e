//! A TLS client stream for request/response protocols (DNS over TLS and
//! over HTTPS): TCP connect, then the rustls handshake, each timed on its
//! own so a slow handshake is told apart from a slow server. What the bytes
//! mean, and how a certificate is judged, stay with the caller (it hands in
//! the rustls configuration with its verifier).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::TlsConnector;

/// What the handshake settled, for the report.
#[derive(Debug, Clone)]
pub struct Handshake {
    /// `TLSv1.3`, `TLSv1.2`.
    pub version: String,
    /// The cipher suite's IANA-style name.
    pub cipher: String,
    /// The ALPN protocol the server chose.
    pub alpn: Option<String>,
    /// The server's certificate chain (DER), leaf first.
    pub chain: Vec<Vec<u8>>,
    /// TCP connect time.
    pub connect: Duration,
    /// TLS handshake time after the connect.
    pub handshake: Duration,
}

/// A TCP connection waiting for its TLS handshake.
pub struct Connected {
    tcp: TcpStream,
    connect: Duration,
}

/// Connects to `peer` (the caller bounds the time).
pub async fn connect(peer: SocketAddr) -> io::Result<Connected> {
    let t0 = Instant::now();
    let tcp = TcpStream::connect(peer).await?;
    let _ = tcp.set_nodelay(true);
    Ok(Connected {
        tcp,
        connect: t0.elapsed(),
    })
}

/// An established TLS connection to one peer.
pub struct TlsPeer {
    stream: TlsStream<TcpStream>,
}

impl Connected {
    /// Shakes hands, checking the certificate against `name` with
    /// `config`'s verifier. A failure is an io::Error with the rustls
    /// error inside when it was one. The caller bounds the time.
    pub async fn handshake(
        self,
        name: ServerName<'static>,
        config: Arc<ClientConfig>,
    ) -> io::Result<(TlsPeer, Handshake)> {
        let t1 = Instant::now();
        let stream = TlsConnector::from(config).connect(name, self.tcp).await?;
        let handshake = t1.elapsed();
        let (_, conn) = stream.get_ref();
        let info = Handshake {
            version: conn
                .protocol_version()
                .map(|v| match v.as_str() {
                    Some(s) => s.replace("TLSv1_", "TLSv1."),
                    None => format!("{v:?}"),
                })
                .unwrap_or_default(),
            cipher: conn
                .negotiated_cipher_suite()
                .map(|c| {
                    c.suite()
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("{:?}", c.suite()))
                })
                .unwrap_or_default(),
            alpn: conn
                .alpn_protocol()
                .map(|p| String::from_utf8_lossy(p).into_owned()),
            chain: conn
                .peer_certificates()
                .map(|c| c.iter().map(|d| d.as_ref().to_vec()).collect())
                .unwrap_or_default(),
            connect: self.connect,
            handshake,
        };
        Ok((TlsPeer { stream }, info))
    }
}

impl std::fmt::Debug for TlsPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsPeer")
            .field("peer", &self.stream.get_ref().0.peer_addr().ok())
            .finish()
    }
}

impl TlsPeer {
    /// Sends all of `bytes`.
    pub async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await?;
        self.stream.flush().await
    }

    /// Reads exactly `buf.len()` bytes.
    pub async fn recv_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        self.quickack();
        self.stream.read_exact(buf).await.map(|_| ())
    }

    /// Acknowledges at once instead of delaying the ACK: a server that
    /// writes the DNS length and the message as two TLS records (unbound)
    /// holds the second under Nagle until the first is acknowledged, which
    /// a delayed ACK turns into 40 ms on every answer.
    fn quickack(&self) {
        let _ = socket2::SockRef::from(self.stream.get_ref().0).set_quickack(true);
    }

    /// Reads what is available (at least one byte); 0 at the end of stream.
    pub async fn recv_some(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.quickack();
        self.stream.read(buf).await
    }
}
