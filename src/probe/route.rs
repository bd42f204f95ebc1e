//! Asking the kernel's routing table about a destination without sending
//! anything: a UDP connect() does the route lookup and nothing more.

use super::Binding;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::net::{IpAddr, SocketAddr};

/// The errno of the kernel's route lookup for `target` from `binding`'s
/// source and interface, or None when the lookup succeeds. A missing route
/// (ENETUNREACH), an `unreachable` or `prohibit` route, or a local firewall
/// shows up here before the first probe is sent. A socket that cannot be
/// opened or bound says nothing about routes, so that is None too; the
/// probe sockets report such problems themselves.
pub fn lookup_error(target: IpAddr, binding: &Binding) -> Option<i32> {
    let domain = if target.is_ipv6() {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let socket = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP)).ok()?;
    if let Some(dev) = &binding.device {
        socket.bind_device(Some(dev.as_bytes())).ok()?;
    }
    if let Some(src) = binding.source {
        socket.bind(&SockAddr::from(SocketAddr::new(src, 0))).ok()?;
    }
    // Port 9 (discard): any port does, nothing is sent by connect().
    match socket.connect(&SockAddr::from(SocketAddr::new(target, 9))) {
        Ok(()) => None,
        Err(e) => e.raw_os_error(),
    }
}
