//! Every Linux errno (1–133) with what it means, and for the socket-related
//! ones when a client or a server meets it, what to check next and the
//! diagnosis code netdx gives it. `netdx tcp`, `netdx explain` and the
//! socket census all read this one table, so the words never disagree.
//!
//! The numbers come from the `libc` crate, never typed in by hand.

/// Everything netdx knows about one errno.
#[derive(Debug, Clone, Copy)]
pub struct ErrnoInfo {
    /// The errno value on Linux.
    pub number: i32,
    /// Canonical symbolic name (`ECONNRESET`).
    pub name: &'static str,
    /// Other names for the same number (`EWOULDBLOCK` for `EAGAIN`).
    pub aliases: &'static [&'static str],
    /// The C library's message (strerror).
    pub message: &'static str,
    /// What it means in plain words; empty for legacy codes nobody meets.
    pub meaning: &'static str,
    /// When a client (connect, send, recv) meets it; empty when not socket-related.
    pub client: &'static str,
    /// When a server (bind, listen, accept) meets it; empty when not applicable.
    pub server: &'static str,
    /// What to look at next.
    pub check: &'static str,
    /// The diagnosis code netdx reports for it, when a probe can produce it.
    pub diagnosis: Option<&'static str>,
}

/// An entry with only the general fields; socket entries add the rest.
const fn plain(
    number: i32,
    name: &'static str,
    aliases: &'static [&'static str],
    message: &'static str,
    meaning: &'static str,
) -> ErrnoInfo {
    ErrnoInfo {
        number,
        name,
        aliases,
        message,
        meaning,
        client: "",
        server: "",
        check: "",
        diagnosis: None,
    }
}

/// The table, in numeric order. Linux leaves 41 and 58 unassigned.
#[rustfmt::skip]
pub static ERRNO_TABLE: &[ErrnoInfo] = &[
    ErrnoInfo {
        client: "connect() fails at once: a cgroup/eBPF connect hook or an SELinux/AppArmor policy refused it; sends of UDP/ICMP fail with it when a local nft/iptables OUTPUT rule drops them (for TCP such a drop shows as a timeout instead, the SYN is silently retried)",
        server: "bind/listen refused by policy; raw sockets need CAP_NET_RAW",
        check: "list the local rules (`nft list ruleset`, `iptables -S OUTPUT`); the packet never left this host",
        diagnosis: Some("tcp.local_firewall"),
        ..plain(libc::EPERM, "EPERM", &[], "Operation not permitted", "the caller lacks the privilege for this operation; for sockets it usually means a local firewall rule (nft/iptables OUTPUT) dropped the packet, or a raw socket was opened without CAP_NET_RAW")
    },
    plain(libc::ENOENT, "ENOENT", &[], "No such file or directory", "a path or object named in the call does not exist"),
    plain(libc::ESRCH, "ESRCH", &[], "No such process", "the process or thread named does not exist (any more)"),
    plain(libc::EINTR, "EINTR", &[], "Interrupted system call", "a signal arrived while the call was blocked; the call should simply be retried (SA_RESTART does that for most calls)"),
    plain(libc::EIO, "EIO", &[], "Input/output error", "the device or the file system behind the file reported an I/O failure: check dmesg"),
    plain(libc::ENXIO, "ENXIO", &[], "No such device or address", "the device or address does not exist (e.g. a device node with no driver behind it)"),
    plain(libc::E2BIG, "E2BIG", &[], "Argument list too long", "the argument list plus environment given to exec is larger than the kernel accepts"),
    plain(libc::ENOEXEC, "ENOEXEC", &[], "Exec format error", "exec was given a file that is not a valid executable for this machine"),
    plain(libc::EBADF, "EBADF", &[], "Bad file descriptor", "the file descriptor is not open (often a double close, or use after close, in the program)"),
    plain(libc::ECHILD, "ECHILD", &[], "No child processes", "wait() was called with no child to wait for"),
    ErrnoInfo {
        client: "non-blocking reads with no data; for unix-socket connect: the listen backlog is full",
        server: "accept() with no pending connection on a non-blocking listener",
        check: "nothing if the program uses poll/epoll correctly; a busy loop on EAGAIN is a program bug",
        diagnosis: None,
        ..plain(libc::EAGAIN, "EAGAIN", &["EWOULDBLOCK"], "Resource temporarily unavailable", "a non-blocking call would block: no data to read, no room to write, or a connect still in progress; try again when poll/epoll says the descriptor is ready")
    },
    plain(libc::ENOMEM, "ENOMEM", &[], "Cannot allocate memory", "the kernel could not allocate memory for the request"),
    ErrnoInfo {
        client: "connect() fails at once: a local firewall rule or a security module (SELinux, AppArmor, eBPF) refused it",
        server: "bind() to a port below 1024 without CAP_NET_BIND_SERVICE (see net.ipv4.ip_unprivileged_port_start)",
        check: "the local firewall (`nft list ruleset`) and the security module logs (`ausearch -m avc`, `dmesg`)",
        diagnosis: Some("tcp.local_firewall"),
        ..plain(libc::EACCES, "EACCES", &[], "Permission denied", "permission denied by file modes, a security module, or for sockets: binding a port below 1024 without CAP_NET_BIND_SERVICE, broadcasting without SO_BROADCAST, or a local firewall rule")
    },
    plain(libc::EFAULT, "EFAULT", &[], "Bad address", "the program passed a bad pointer to the kernel: a bug in the program"),
    plain(libc::ENOTBLK, "ENOTBLK", &[], "Block device required", "a block device was required (e.g. for mount)"),
    plain(libc::EBUSY, "EBUSY", &[], "Device or resource busy", "the device or resource is in use (mounted file system, locked device)"),
    plain(libc::EEXIST, "EEXIST", &[], "File exists", "the object to create already exists"),
    plain(libc::EXDEV, "EXDEV", &[], "Invalid cross-device link", "rename/link across two file systems is not possible: copy then delete"),
    plain(libc::ENODEV, "ENODEV", &[], "No such device", "no such device, or the device does not support the operation (e.g. SO_BINDTODEVICE to a missing interface)"),
    plain(libc::ENOTDIR, "ENOTDIR", &[], "Not a directory", "a component of the path is not a directory"),
    plain(libc::EISDIR, "EISDIR", &[], "Is a directory", "the path is a directory where a file was expected"),
    ErrnoInfo {
        client: "connect() with a bad address length or family; setsockopt with a value out of range",
        server: "listen() on a socket not bound as expected",
        check: "the call's arguments; `strace -f -e trace=network`",
        diagnosis: None,
        ..plain(libc::EINVAL, "EINVAL", &[], "Invalid argument", "an argument is invalid for this call: a bug or a mismatch between the program and the kernel (e.g. an unsupported socket option value)")
    },
    ErrnoInfo {
        client: "socket() fails: the system-wide file table is full",
        server: "accept() fails although connections wait in the queue",
        check: "`cat /proc/sys/fs/file-nr` against fs.file-max; find the process leaking descriptors",
        diagnosis: Some("tcp.too_many_files"),
        ..plain(libc::ENFILE, "ENFILE", &[], "Too many open files in system", "the whole system ran out of file structures (fs.file-max): every socket and file counts")
    },
    ErrnoInfo {
        client: "socket() fails: this process has RLIMIT_NOFILE descriptors open",
        server: "accept() fails: connections pile up in the listen queue unserved",
        check: "`ulimit -n`, `ls /proc/PID/fd | wc -l`; raise LimitNOFILE= in the unit, or find the descriptor leak (CLOSE_WAIT sockets: `netdx sockets`)",
        diagnosis: Some("tcp.too_many_files"),
        ..plain(libc::EMFILE, "EMFILE", &[], "Too many open files", "this process hit its limit of open file descriptors (RLIMIT_NOFILE, `ulimit -n`); every socket counts")
    },
    plain(libc::ENOTTY, "ENOTTY", &[], "Inappropriate ioctl for device", "an ioctl was used on a file that does not support it (often: not a terminal)"),
    plain(libc::ETXTBSY, "ETXTBSY", &[], "Text file busy", "the executable is being written to, or is running and cannot be written"),
    plain(libc::EFBIG, "EFBIG", &[], "File too large", "the file would exceed the maximum file size"),
    plain(libc::ENOSPC, "ENOSPC", &[], "No space left on device", "no space left on the device (or no inodes left: check `df -i`)"),
    plain(libc::ESPIPE, "ESPIPE", &[], "Illegal seek", "seek on a pipe, socket or FIFO"),
    plain(libc::EROFS, "EROFS", &[], "Read-only file system", "the file system is mounted read-only"),
    plain(libc::EMLINK, "EMLINK", &[], "Too many links", "too many hard links to the file"),
    ErrnoInfo {
        client: "write() after the server closed or reset the connection",
        server: "write() to a client that already went away",
        check: "handle SIGPIPE/MSG_NOSIGNAL; check why the peer closed early (timeouts, proxies)",
        diagnosis: None,
        ..plain(libc::EPIPE, "EPIPE", &[], "Broken pipe", "write to a pipe or socket whose other end is closed; the process also gets SIGPIPE unless it ignores it or uses MSG_NOSIGNAL")
    },
    plain(libc::EDOM, "EDOM", &[], "Numerical argument out of domain", "a math function argument outside its domain"),
    plain(libc::ERANGE, "ERANGE", &[], "Numerical result out of range", "a result too large to represent"),
    plain(libc::EDEADLK, "EDEADLK", &["EDEADLOCK"], "Resource deadlock avoided", "a lock would deadlock"),
    plain(libc::ENAMETOOLONG, "ENAMETOOLONG", &[], "File name too long", "a path or name is too long"),
    plain(libc::ENOLCK, "ENOLCK", &[], "No locks available", "no locks available (often NFS locking)"),
    plain(libc::ENOSYS, "ENOSYS", &[], "Function not implemented", "the system call is not implemented by this kernel (or blocked by a seccomp filter returning ENOSYS)"),
    plain(libc::ENOTEMPTY, "ENOTEMPTY", &[], "Directory not empty", "the directory is not empty"),
    plain(libc::ELOOP, "ELOOP", &[], "Too many levels of symbolic links", "too many symbolic links in a path (a symlink loop)"),
    plain(libc::ENOMSG, "ENOMSG", &[], "No message of desired type", ""),
    plain(libc::EIDRM, "EIDRM", &[], "Identifier removed", ""),
    plain(libc::ECHRNG, "ECHRNG", &[], "Channel number out of range", ""),
    plain(libc::EL2NSYNC, "EL2NSYNC", &[], "Level 2 not synchronized", ""),
    plain(libc::EL3HLT, "EL3HLT", &[], "Level 3 halted", ""),
    plain(libc::EL3RST, "EL3RST", &[], "Level 3 reset", ""),
    plain(libc::ELNRNG, "ELNRNG", &[], "Link number out of range", ""),
    plain(libc::EUNATCH, "EUNATCH", &[], "Protocol driver not attached", ""),
    plain(libc::ENOCSI, "ENOCSI", &[], "No CSI structure available", ""),
    plain(libc::EL2HLT, "EL2HLT", &[], "Level 2 halted", ""),
    plain(libc::EBADE, "EBADE", &[], "Invalid exchange", ""),
    plain(libc::EBADR, "EBADR", &[], "Invalid request descriptor", ""),
    plain(libc::EXFULL, "EXFULL", &[], "Exchange full", ""),
    plain(libc::ENOANO, "ENOANO", &[], "No anode", ""),
    plain(libc::EBADRQC, "EBADRQC", &[], "Invalid request code", ""),
    plain(libc::EBADSLT, "EBADSLT", &[], "Invalid slot", ""),
    plain(libc::EBFONT, "EBFONT", &[], "Bad font file format", ""),
    plain(libc::ENOSTR, "ENOSTR", &[], "Device not a stream", ""),
    plain(libc::ENODATA, "ENODATA", &[], "No data available", "no data available (e.g. an extended attribute that is not set)"),
    plain(libc::ETIME, "ETIME", &[], "Timer expired", "a timer expired (STREAMS ioctl)"),
    plain(libc::ENOSR, "ENOSR", &[], "Out of streams resources", ""),
    plain(libc::ENONET, "ENONET", &[], "Machine is not on the network", "the machine is not on the network"),
    plain(libc::ENOPKG, "ENOPKG", &[], "Package not installed", ""),
    plain(libc::EREMOTE, "EREMOTE", &[], "Object is remote", "the object is remote (NFS)"),
    plain(libc::ENOLINK, "ENOLINK", &[], "Link has been severed", "the link to a remote machine is gone"),
    plain(libc::EADV, "EADV", &[], "Advertise error", ""),
    plain(libc::ESRMNT, "ESRMNT", &[], "Srmount error", ""),
    plain(libc::ECOMM, "ECOMM", &[], "Communication error on send", "communication error on send"),
    plain(libc::EPROTO, "EPROTO", &[], "Protocol error", "a protocol error: the peer or the device sent something the protocol does not allow (seen with TLS-over-kernel, USB, or malformed netlink)"),
    plain(libc::EMULTIHOP, "EMULTIHOP", &[], "Multihop attempted", ""),
    plain(libc::EDOTDOT, "EDOTDOT", &[], "RFS specific error", ""),
    plain(libc::EBADMSG, "EBADMSG", &[], "Bad message", "a message was not valid for the protocol"),
    plain(libc::EOVERFLOW, "EOVERFLOW", &[], "Value too large for defined data type", "a value does not fit the data type (e.g. a large file opened without large-file support)"),
    plain(libc::ENOTUNIQ, "ENOTUNIQ", &[], "Name not unique on network", "a name is not unique on the network"),
    plain(libc::EBADFD, "EBADFD", &[], "File descriptor in bad state", "the file descriptor is in a bad state"),
    plain(libc::EREMCHG, "EREMCHG", &[], "Remote address changed", "the remote address changed"),
    plain(libc::ELIBACC, "ELIBACC", &[], "Can not access a needed shared library", ""),
    plain(libc::ELIBBAD, "ELIBBAD", &[], "Accessing a corrupted shared library", ""),
    plain(libc::ELIBSCN, "ELIBSCN", &[], ".lib section in a.out corrupted", ""),
    plain(libc::ELIBMAX, "ELIBMAX", &[], "Attempting to link in too many shared libraries", ""),
    plain(libc::ELIBEXEC, "ELIBEXEC", &[], "Cannot exec a shared library directly", ""),
    plain(libc::EILSEQ, "EILSEQ", &[], "Invalid or incomplete multibyte or wide character", "invalid multibyte or wide character in the input"),
    plain(libc::ERESTART, "ERESTART", &[], "Interrupted system call should be restarted", "kernel-internal: the call should be restarted (not normally seen by programs)"),
    plain(libc::ESTRPIPE, "ESTRPIPE", &[], "Streams pipe error", ""),
    plain(libc::EUSERS, "EUSERS", &[], "Too many users", "too many users"),
    plain(libc::ENOTSOCK, "ENOTSOCK", &[], "Socket operation on non-socket", "a socket call on a descriptor that is not a socket: a bug in the program"),
    plain(libc::EDESTADDRREQ, "EDESTADDRREQ", &[], "Destination address required", "send on an unconnected socket without a destination address"),
    ErrnoInfo {
        client: "sendto() of a datagram larger than the path MTU with DF set",
        server: "the same for replies",
        check: "`netdx ping -s SIZE` to find the path MTU; check that ICMP fragmentation-needed is not filtered",
        diagnosis: None,
        ..plain(libc::EMSGSIZE, "EMSGSIZE", &[], "Message too long", "the datagram is larger than the socket or the path allows (with DF set it is larger than the known path MTU: see `netdx explain icmp 3/4`)")
    },
    plain(libc::EPROTOTYPE, "EPROTOTYPE", &[], "Protocol wrong type for socket", "the protocol does not fit the socket type"),
    ErrnoInfo {
        client: "setsockopt with an option the kernel does not support; or an ICMP protocol-unreachable",
        server: "",
        check: "kernel version and modules",
        diagnosis: None,
        ..plain(libc::ENOPROTOOPT, "ENOPROTOOPT", &[], "Protocol not available", "the socket option or protocol level is not supported; for TCP it can also come from an ICMP protocol-unreachable")
    },
    plain(libc::EPROTONOSUPPORT, "EPROTONOSUPPORT", &[], "Protocol not supported", "the protocol is not supported (module not loaded, or disabled)"),
    plain(libc::ESOCKTNOSUPPORT, "ESOCKTNOSUPPORT", &[], "Socket type not supported", "the socket type is not supported in this address family"),
    plain(libc::EOPNOTSUPP, "EOPNOTSUPP", &["ENOTSUP"], "Operation not supported", "the operation is not supported on this object (e.g. accept() on a UDP socket, or a feature the driver lacks)"),
    plain(libc::EPFNOSUPPORT, "EPFNOSUPPORT", &[], "Protocol family not supported", "the protocol family is not supported"),
    ErrnoInfo {
        client: "connect() to an IPv6 address when IPv6 is disabled",
        server: "bind() to [::] when IPv6 is disabled",
        check: "`sysctl net.ipv6.conf.all.disable_ipv6`; use -4",
        diagnosis: None,
        ..plain(libc::EAFNOSUPPORT, "EAFNOSUPPORT", &[], "Address family not supported by protocol", "the address family is not supported: typically IPv6 disabled (ipv6.disable=1) or an IPv4 address given to an IPv6-only socket")
    },
    ErrnoInfo {
        client: "bind() before connect to a fixed source port that is taken; or connect() finding no free 4-tuple with SO_REUSEADDR misuse",
        server: "bind()/listen() fails: another process owns the port, or an old instance is still running",
        check: "`netdx sockets --port PORT` shows who owns it; SO_REUSEADDR lets a server restart over TIME_WAIT sockets",
        diagnosis: Some("tcp.address_in_use"),
        ..plain(libc::EADDRINUSE, "EADDRINUSE", &[], "Address already in use", "the local address and port are already in use: another process listens there, or sockets in TIME_WAIT still hold it")
    },
    ErrnoInfo {
        client: "connect() fails at once: every local port of net.ipv4.ip_local_port_range is in use towards this destination, usually by TIME_WAIT sockets of many short connections; or bind() to an address this host does not have",
        server: "bind() to an address not configured here (use net.ipv4.ip_nonlocal_bind for floating IPs)",
        check: "`netdx sockets` for a TIME_WAIT pile towards one destination; reuse connections (keep-alive, pooling), widen ip_local_port_range, net.ipv4.tcp_tw_reuse=1 for outgoing connections",
        diagnosis: Some("tcp.no_local_port"),
        ..plain(libc::EADDRNOTAVAIL, "EADDRNOTAVAIL", &[], "Cannot assign requested address", "the local address cannot be used: it is not configured on this host, or (on connect) there is no free local port left for this destination")
    },
    ErrnoInfo {
        client: "connect()/send fails: the outgoing interface is down",
        server: "",
        check: "`ip link` for the interface state",
        diagnosis: Some("tcp.net_down"),
        ..plain(libc::ENETDOWN, "ENETDOWN", &[], "Network is down", "the interface the route points to is down")
    },
    ErrnoInfo {
        client: "connect() fails at once when this host has no route (no default route, interface down or unaddressed); after a round trip when a router sends ICMP net-unreachable",
        server: "replies cannot be routed back",
        check: "`ip route get ADDR`; if a router sent it, its routing table (`netdx trace ADDR`)",
        diagnosis: Some("tcp.net_unreachable"),
        ..plain(libc::ENETUNREACH, "ENETUNREACH", &[], "Network is unreachable", "there is no route to the destination network: either this host has no route (no default route, missing interface address), or a router sent ICMP net-unreachable")
    },
    plain(libc::ENETRESET, "ENETRESET", &[], "Network dropped connection on reset", "the connection was dropped because the network reset (e.g. keepalive failure on some stacks)"),
    ErrnoInfo {
        client: "rarely: the local stack aborted the connection",
        server: "accept() returns it when a queued connection was reset before the application accepted it: harmless, retry accept()",
        check: "a slow accept loop (listen queue overflows: `netdx sockets`)",
        diagnosis: None,
        ..plain(libc::ECONNABORTED, "ECONNABORTED", &[], "Software caused connection abort", "the connection was aborted locally, typically a connection that was reset while it waited in the listen queue before accept()")
    },
    ErrnoInfo {
        client: "read()/write() fails: the server process crashed or closed with unread data, a load balancer or firewall timed the connection out and reset it, or the server refused TLS/protocol",
        server: "the client went away abruptly (closed with unread data, or SO_LINGER 0)",
        check: "server logs at that moment; idle timeouts of proxies/NAT (keepalive shorter than the idle timeout); `netdx sockets` for the connection states",
        diagnosis: Some("tcp.reset"),
        ..plain(libc::ECONNRESET, "ECONNRESET", &[], "Connection reset by peer", "the peer (or a middlebox) sent a TCP RST on an established connection: the connection is gone, data in flight may be lost")
    },
    ErrnoInfo {
        client: "send()/connect() fails under memory pressure or with a full interface queue",
        server: "",
        check: "`ss -m`, net.core.wmem_max, qdisc drops (`tc -s qdisc`)",
        diagnosis: None,
        ..plain(libc::ENOBUFS, "ENOBUFS", &[], "No buffer space available", "the kernel is out of buffer space for the socket or the interface queue")
    },
    ErrnoInfo {
        client: "connect() on an already connected socket",
        server: "",
        check: "the program's connect loop",
        diagnosis: None,
        ..plain(libc::EISCONN, "EISCONN", &[], "Transport endpoint is already connected", "the socket is already connected")
    },
    ErrnoInfo {
        client: "send/recv on a socket whose connect failed or not yet finished",
        server: "getpeername() on a connection already reset",
        check: "the program's error handling of connect()",
        diagnosis: None,
        ..plain(libc::ENOTCONN, "ENOTCONN", &[], "Transport endpoint is not connected", "the socket is not connected (send/recv/getpeername before connect, or after the peer went away)")
    },
    plain(libc::ESHUTDOWN, "ESHUTDOWN", &[], "Cannot send after transport endpoint shutdown", "send after shutdown(SHUT_WR) on this socket"),
    plain(libc::ETOOMANYREFS, "ETOOMANYREFS", &[], "Too many references: cannot splice", "too many references (SCM_RIGHTS descriptor passing limit)"),
    ErrnoInfo {
        client: "connect() gives up after the SYN retries (net.ipv4.tcp_syn_retries, ~127 s by default) with no answer at all: a firewall or security group silently drops the SYN, or the host is down/absent; on established connections: the peer vanished",
        server: "established connections to a client that vanished (retransmissions or keepalive exhausted)",
        check: "`netdx ping`/`netdx trace` the host; firewall and security-group rules for the port; a reply path problem (asymmetric routing)",
        diagnosis: Some("tcp.timeout"),
        ..plain(libc::ETIMEDOUT, "ETIMEDOUT", &[], "Connection timed out", "the peer never answered: on connect, every SYN retransmission went unanswered; on an established connection, retransmissions or keepalives went unanswered")
    },
    ErrnoInfo {
        client: "the SYN was answered with RST after one round trip: from the host (up and reachable, nothing listens on that port) or from a firewall on the path rejecting with tcp reset; run as root, netdx reads the RST's TTL and reports a firewall's RST as tcp.reset_by_middlebox when it came from fewer hops than the host's SYN-ACK; otherwise it does not claim which",
        server: "",
        check: "is the service running, and listening on this address and port rather than only 127.0.0.1? (`netdx sockets --port PORT` on the server); if it listens, a firewall on the path answers for it: `nft list ruleset | grep reset` on the routers, or `tcpdump -v` here to read the RST's TTL against the host's SYN-ACK TTL on an open port",
        diagnosis: Some("tcp.refused"),
        ..plain(libc::ECONNREFUSED, "ECONNREFUSED", &[], "Connection refused", "the peer answered the SYN with a RST: the host is up, but nothing listens on that port (for UDP: an ICMP port-unreachable came back)")
    },
    ErrnoInfo {
        client: "connect() to a host the kernel marked down",
        server: "",
        check: "the host and its link",
        diagnosis: None,
        ..plain(libc::EHOSTDOWN, "EHOSTDOWN", &[], "Host is down", "the host is down")
    },
    ErrnoInfo {
        client: "connect() fails after a round trip with an ICMP host-unreachable or admin-prohibited from a router (named when the kernel reports it), or after ~3 s when ARP/neighbour discovery for the host or gateway gets no answer",
        server: "",
        check: "the router that sent the ICMP (its firewall reject rules, its link to the host); whether the host is up on its LAN (`ip neigh`)",
        diagnosis: Some("tcp.host_unreachable"),
        ..plain(libc::EHOSTUNREACH, "EHOSTUNREACH", &[], "No route to host", "no route to the host: a router (or this host) sent ICMP host-unreachable or an administrative prohibition, or neighbour discovery/ARP for the next hop got no answer")
    },
    ErrnoInfo {
        client: "connect() called again while a non-blocking connect is in progress",
        server: "",
        check: "the program's connect loop",
        diagnosis: None,
        ..plain(libc::EALREADY, "EALREADY", &[], "Operation already in progress", "a non-blocking connect is already in progress on this socket")
    },
    ErrnoInfo {
        client: "a non-blocking connect() has started: normal, not an error",
        server: "",
        check: "nothing: wait for writability, then SO_ERROR",
        diagnosis: None,
        ..plain(libc::EINPROGRESS, "EINPROGRESS", &[], "Operation now in progress", "a non-blocking connect has started; wait for the socket to become writable, then read SO_ERROR for the result")
    },
    plain(libc::ESTALE, "ESTALE", &[], "Stale file handle", "stale file handle (NFS: the file was removed on the server)"),
    plain(libc::EUCLEAN, "EUCLEAN", &[], "Structure needs cleaning", "the file system structure needs cleaning (fsck)"),
    plain(libc::ENOTNAM, "ENOTNAM", &[], "Not a XENIX named type file", ""),
    plain(libc::ENAVAIL, "ENAVAIL", &[], "No XENIX semaphores available", ""),
    plain(libc::EISNAM, "EISNAM", &[], "Is a named type file", ""),
    plain(libc::EREMOTEIO, "EREMOTEIO", &[], "Remote I/O error", "remote I/O error"),
    plain(libc::EDQUOT, "EDQUOT", &[], "Disk quota exceeded", "the disk quota is exceeded"),
    plain(libc::ENOMEDIUM, "ENOMEDIUM", &[], "No medium found", "no medium found (empty drive)"),
    plain(libc::EMEDIUMTYPE, "EMEDIUMTYPE", &[], "Wrong medium type", "wrong medium type"),
    plain(libc::ECANCELED, "ECANCELED", &[], "Operation canceled", "the operation was canceled (e.g. an aio or io_uring request)"),
    plain(libc::ENOKEY, "ENOKEY", &[], "Required key not available", "a required key is not available in the keyring"),
    plain(libc::EKEYEXPIRED, "EKEYEXPIRED", &[], "Key has expired", "the key has expired"),
    plain(libc::EKEYREVOKED, "EKEYREVOKED", &[], "Key has been revoked", "the key has been revoked"),
    plain(libc::EKEYREJECTED, "EKEYREJECTED", &[], "Key was rejected by service", "the key was rejected by the service"),
    plain(libc::EOWNERDEAD, "EOWNERDEAD", &[], "Owner died", "the owner of a robust mutex died while holding it"),
    plain(libc::ENOTRECOVERABLE, "ENOTRECOVERABLE", &[], "State not recoverable", "the state protected by a robust mutex is not recoverable"),
    plain(libc::ERFKILL, "ERFKILL", &[], "Operation not possible due to RF-kill", "the operation is impossible because a radio is switched off by rfkill"),
    plain(libc::EHWPOISON, "EHWPOISON", &[], "Memory page has hardware error", "a memory page has a hardware error"),
];

/// Numbers inside the Linux errno range that Linux never assigned.
pub const UNASSIGNED: &[i32] = &[41, 58];

/// Looks an errno up by number.
pub fn by_number(number: i32) -> Option<&'static ErrnoInfo> {
    ERRNO_TABLE.iter().find(|e| e.number == number)
}

/// Looks an errno up by name or alias, case-insensitively.
pub fn by_name(name: &str) -> Option<&'static ErrnoInfo> {
    ERRNO_TABLE.iter().find(|e| {
        e.name.eq_ignore_ascii_case(name) || e.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    })
}

/// The errno whose diagnosis code is `code` (`tcp.refused` → ECONNREFUSED).
pub fn by_diagnosis(code: &str) -> Option<&'static ErrnoInfo> {
    ERRNO_TABLE.iter().find(|e| e.diagnosis == Some(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_unique_and_sorted() {
        for pair in ERRNO_TABLE.windows(2) {
            assert!(
                pair[0].number < pair[1].number,
                "{} / {}",
                pair[0].name,
                pair[1].name
            );
        }
    }

    #[test]
    fn aliases_resolve_to_their_canonical_entry() {
        assert_eq!(by_name("EWOULDBLOCK").map(|e| e.number), Some(libc::EAGAIN));
        assert_eq!(by_name("enotsup").map(|e| e.number), Some(libc::EOPNOTSUPP));
        assert_eq!(
            by_diagnosis("tcp.refused").map(|e| e.name),
            Some("ECONNREFUSED")
        );
    }
}
