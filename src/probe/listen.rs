//! The one listening socket netdx opens: `netdx serve`'s HTTP port. It lives
//! here because src/probe is the only place that opens sockets.

use std::net::SocketAddr;

/// Binds the exporter's TCP listener; the error names the address.
pub async fn http_listener(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await
}
