//! A NETLINK_SOCK_DIAG socket, the kernel interface `ss` reads sockets
//! through: one request out, reply datagrams in, straight out of one
//! receive buffer. What the request asks and what the replies mean stays
//! with the caller (`sockets::netlink`).

use std::io;

/// An owned netlink socket, closed on drop.
struct Fd(libc::c_int);

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: the descriptor is ours and closed exactly once.
        unsafe {
            libc::close(self.0);
        }
    }
}

/// Sends `request` (a whole netlink message) to the kernel and hands each
/// reply datagram to `each`, until `each` returns true (the dump is done)
/// or the kernel has nothing more.
pub fn sock_diag(
    request: &[u8],
    each: &mut dyn FnMut(&[u8]) -> io::Result<bool>,
) -> io::Result<()> {
    // SAFETY: plain socket(2) call; the result is checked.
    let raw = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            libc::NETLINK_SOCK_DIAG,
        )
    };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = Fd(raw);
    send_to_kernel(&fd, request)?;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        // SAFETY: buf is valid for buf.len() bytes.
        let n = unsafe { libc::recv(fd.0, buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        if n == 0 {
            return Ok(());
        }
        if each(&buf[..n as usize])? {
            return Ok(());
        }
    }
}

/// Sends one message to the kernel (netlink port 0).
fn send_to_kernel(fd: &Fd, request: &[u8]) -> io::Result<()> {
    // SAFETY: a zeroed sockaddr_nl addresses the kernel (pid 0).
    let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    // SAFETY: request and addr are valid for the lengths given.
    let sent = unsafe {
        libc::sendto(
            fd.0,
            request.as_ptr().cast(),
            request.len(),
            0,
            (&addr as *const libc::sockaddr_nl).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
