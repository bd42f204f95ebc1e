//! Sends probes, matches every incoming ICMP message to the probe it answers
//! (echo replies by identifier/sequence, errors by the header they quote),
//! and times out the rest. Any number of probe streams share one socket per
//! address family without stealing each other's replies.

use super::packet::{self, Identity};
use super::pending::{self, Duplicate, Registration, Registry};
pub(super) use super::pending::{complete, lock, Answer, PendingMap};
use super::seam::{Matcher, ProbeSocket, RawFd};
use super::socket::{self, Binding, QueuedError, Received, SocketMode};
use super::{Outcome, Probe, ProbeKind, Response};
use crate::error::AppResult;
use socket2::{SockAddr, Socket};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::oneshot;

/// One socket of one address family, with its receive task.
struct Channel {
    fd: Arc<AsyncFd<Socket>>,
    v6: bool,
    mode: SocketMode,
    send_lock: Mutex<()>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for Channel {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// The probe engine. Cheap to share: clone the `Arc` it lives in.
pub struct Engine {
    binding: Binding,
    ident: u16,
    next_seq: AtomicU16,
    pending: PendingMap,
    v4: Mutex<Option<Arc<Channel>>>,
    v6: Mutex<Option<Arc<Channel>>>,
    tcp4: Mutex<Option<Arc<super::tcp::TcpChannel>>>,
    tcp6: Mutex<Option<Arc<super::tcp::TcpChannel>>>,
    raw_allowed: std::sync::OnceLock<bool>,
    flows: Mutex<std::collections::HashMap<(bool, u16), Arc<super::udp::FlowSocket>>>,
    /// Paris UDP read through each flow's own error queue (no raw
    /// listener, or fixed-size probes): one socket per flow.
    queue_flows: Mutex<std::collections::HashMap<(bool, u16), Arc<super::udpflow::QueueFlow>>>,
    /// Paris TCP: the reserved (bound, never listening) socket of each
    /// flow, whose port every SYN of the flow leaves from.
    tcp_flows: Mutex<std::collections::HashMap<(bool, u16), (Socket, u16)>>,
}

impl Engine {
    /// Creates an engine; sockets open on first use of each family.
    pub fn new(binding: Binding) -> Arc<Engine> {
        let ident = (std::process::id() as u16) ^ (nanos_seed() as u16);
        Arc::new(Engine {
            binding,
            ident,
            next_seq: AtomicU16::new(1),
            pending: Arc::new(Mutex::new(Registry::default())),
            v4: Mutex::new(None),
            v6: Mutex::new(None),
            tcp4: Mutex::new(None),
            tcp6: Mutex::new(None),
            raw_allowed: std::sync::OnceLock::new(),
            flows: Mutex::new(std::collections::HashMap::new()),
            queue_flows: Mutex::new(std::collections::HashMap::new()),
            tcp_flows: Mutex::new(std::collections::HashMap::new()),
        })
    }

    /// Like [`Engine::prepare`], for the socket(s) a probe kind needs: ICMP
    /// needs the ICMP socket; UDP works without it (its own socket's error
    /// queue) but uses the raw one when allowed; TCP sends hand-built SYNs on
    /// raw sockets when allowed, else connects (the error queue again).
    /// Also fails early when the source or interface cannot be bound.
    pub fn prepare_kind(&self, target: IpAddr, kind: &ProbeKind) -> AppResult<SocketMode> {
        let v6 = target.is_ipv6();
        let mode = match kind {
            ProbeKind::Echo { .. } => self.prepare(target),
            ProbeKind::Udp { .. } => {
                drop(socket::open_udp_probe(v6, &self.binding)?);
                Ok(match self.channel(v6) {
                    Ok(ch) => ch.mode,
                    Err(_) => SocketMode::Datagram,
                })
            }
            ProbeKind::TcpSyn { payload, .. } => match self.raw_tcp(v6)? {
                Some(_) => Ok(SocketMode::Raw),
                None if *payload > 0 => Err(crate::error::AppError::cannot_run(
                    "a packet length for TCP probes needs hand-built SYNs: run as root or `setcap cap_net_raw+ep $(which netdx)`",
                )),
                None => {
                    drop(socket::open_tcp_connect(v6, &self.binding)?);
                    Ok(SocketMode::Connect)
                }
            },
        }?;
        super::privilege::sockets_prepared();
        Ok(mode)
    }

    /// The raw TCP channel when the process may send hand-built SYNs (raw
    /// ICMP and TCP sockets), None when TCP probes must use connect().
    fn raw_tcp(&self, v6: bool) -> AppResult<Option<Arc<super::tcp::TcpChannel>>> {
        let allowed = *self.raw_allowed.get_or_init(|| socket::raw_allowed(v6));
        if !allowed {
            return Ok(None);
        }
        if self.channel(v6)?.mode != SocketMode::Raw {
            return Ok(None);
        }
        self.tcp_channel(v6).map(Some)
    }

    /// The source address probes to `target` leave from (routing decides).
    pub fn source_for(&self, target: IpAddr) -> Option<IpAddr> {
        socket::source_for(target, &self.binding).ok()
    }

    /// The MTU the kernel holds for the route to `target`: the interface's,
    /// or a path MTU learnt from Fragmentation Needed / Packet Too Big.
    pub fn route_mtu(&self, target: IpAddr) -> Option<u32> {
        socket::route_mtu(target, &self.binding)
    }

    /// The MTU of the interface probes to `target` leave by, learnt path
    /// MTUs aside.
    pub fn interface_mtu(&self, target: IpAddr) -> Option<u32> {
        socket::interface_mtu(target, &self.binding)
    }

    /// Sets path MTU discovery on the ICMP socket of `target`'s family
    /// (opened if needed): `trace --mtu` turns DF on for its discovery.
    pub fn set_pmtu(&self, target: IpAddr, mode: socket::PmtuDisc) -> AppResult<()> {
        let ch = self.channel(target.is_ipv6())?;
        socket::set_pmtu(ch.fd.get_ref(), ch.v6, mode).map_err(|e| {
            crate::error::AppError::cannot_run(format!("cannot set path MTU discovery: {e}"))
        })
    }

    /// The path MTU discovery the binding asked for, if any.
    pub fn pmtu_mode(&self) -> Option<socket::PmtuDisc> {
        self.binding.pmtu
    }

    /// The binding (source / interface) probes leave from.
    pub(super) fn binding(&self) -> &Binding {
        &self.binding
    }

    /// The ICMP channel of a family if it is already open and raw: the
    /// listener for errors quoting UDP and TCP probes.
    fn raw_listener(&self, v6: bool) -> bool {
        let slot = if v6 { &self.v6 } else { &self.v4 };
        lock(slot)
            .as_ref()
            .is_some_and(|ch| ch.mode == SocketMode::Raw)
    }

    /// The socket of Paris flow `id` in a family, opened on first use.
    fn udp_flow(&self, v6: bool, id: u16) -> AppResult<Arc<super::udp::FlowSocket>> {
        let mut flows = lock(&self.flows);
        if let Some(f) = flows.get(&(v6, id)) {
            return Ok(f.clone());
        }
        let f = Arc::new(super::udp::FlowSocket::open(v6, self)?);
        flows.insert((v6, id), f.clone());
        Ok(f)
    }

    /// The error-queue socket of Paris flow `id` in a family, opened on first use.
    fn udp_queue_flow(&self, v6: bool, id: u16) -> AppResult<Arc<super::udpflow::QueueFlow>> {
        let mut flows = lock(&self.queue_flows);
        if let Some(f) = flows.get(&(v6, id)) {
            return Ok(f.clone());
        }
        let f = Arc::new(super::udpflow::QueueFlow::open(v6, self)?);
        flows.insert((v6, id), f.clone());
        Ok(f)
    }

    /// The source port of Paris TCP flow `id`, reserved on first use.
    pub(super) fn tcp_flow_port(&self, v6: bool, id: u16) -> AppResult<u16> {
        let mut flows = lock(&self.tcp_flows);
        if let Some((_, port)) = flows.get(&(v6, id)) {
            return Ok(*port);
        }
        let sock = socket::reserve_tcp_port(v6, &self.binding)?;
        let port = socket::local_port(&sock).map_err(|e| {
            crate::error::AppError::cannot_run(format!("cannot read the probe port: {e}"))
        })?;
        flows.insert((v6, id), (sock, port));
        Ok(port)
    }

    fn tcp_channel(&self, v6: bool) -> AppResult<Arc<super::tcp::TcpChannel>> {
        let slot = if v6 { &self.tcp6 } else { &self.tcp4 };
        let mut guard = lock(slot);
        if let Some(ch) = guard.as_ref() {
            return Ok(ch.clone());
        }
        let ch = super::tcp::TcpChannel::open(v6, &self.binding, self.pending.clone())?;
        *guard = Some(ch.clone());
        Ok(ch)
    }

    /// Puts `key` in the registry; the answer arrives on the receiver.
    pub(super) fn register(
        &self,
        key: Identity,
        target: IpAddr,
    ) -> (Registration, oneshot::Receiver<Answer>) {
        pending::register(&self.pending, key, target)
    }

    /// Reports every duplicate echo reply (iputils' `DUP!`) to a probe
    /// sent to `target` on the receiver.
    pub fn duplicates(&self, target: IpAddr) -> tokio::sync::mpsc::UnboundedReceiver<Duplicate> {
        pending::subscribe(&self.pending, target)
    }

    /// Opens (or reuses) the socket for `target`'s family and says whether it
    /// is raw or unprivileged; call it first to fail early on privileges.
    /// The privileged sockets are then open: see [`super::privilege`].
    pub fn prepare(&self, target: IpAddr) -> AppResult<SocketMode> {
        let mode = self.channel(target.is_ipv6())?.mode;
        super::privilege::sockets_prepared();
        Ok(mode)
    }

    fn channel(&self, v6: bool) -> AppResult<Arc<Channel>> {
        let slot = if v6 { &self.v6 } else { &self.v4 };
        let mut guard = slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(ch) = guard.as_ref() {
            return Ok(ch.clone());
        }
        let (sock, mode) = socket::open_icmp(v6, &self.binding)?;
        // SAFETY: the socket owns its descriptor and is moved into the AsyncFd,
        // which keeps it open and unreplaced for as long as it is registered.
        let registered =
            unsafe { AsyncFd::register_with_interest(sock, Interest::READABLE | Interest::ERROR) };
        let fd = Arc::new(registered.map_err(|e| {
            crate::error::AppError::cannot_run(format!("cannot register the ICMP socket: {e}"))
        })?);
        let reader = tokio::spawn(receive_loop(
            fd.clone(),
            v6,
            mode,
            self.ident,
            self.pending.clone(),
        ));
        let ch = Arc::new(Channel {
            fd,
            v6,
            mode,
            send_lock: Mutex::new(()),
            reader,
        });
        *guard = Some(ch.clone());
        Ok(ch)
    }

    /// Sends one probe and waits for its answer or its timeout.
    pub async fn probe(&self, probe: Probe) -> AppResult<Outcome> {
        match probe.kind {
            ProbeKind::Echo { payload } => self.probe_echo(probe, payload).await,
            ProbeKind::Udp {
                port,
                flow,
                payload,
            } => {
                let v6 = probe.target.is_ipv6();
                let listen = self.raw_listener(v6);
                let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
                match (flow, payload) {
                    (Some(id), None) if listen => {
                        let sock = self.udp_flow(v6, id)?;
                        super::udp::flow_probe(self, &sock, probe, port, seq).await
                    }
                    // Unprivileged, or a fixed size: the flow's own error
                    // queue, probes told apart by a payload tag.
                    (Some(id), size) if size.is_none_or(|n| n >= super::udpflow::TAG) => {
                        let flow = self.udp_queue_flow(v6, id)?;
                        let size = size.unwrap_or(super::udp::PAYLOAD);
                        super::udpflow::probe(&flow, probe, port, size, seq).await
                    }
                    _ => super::udp::probe(self, probe, port, seq, listen).await,
                }
            }
            ProbeKind::TcpSyn {
                port,
                payload,
                flow,
            } => {
                let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
                match self.raw_tcp(probe.target.is_ipv6())? {
                    Some(ch) => super::tcp::probe(self, &ch, probe, port, payload, flow, seq).await,
                    None => super::tcpconn::probe(self, probe, port, seq).await,
                }
            }
        }
    }

    async fn probe_echo(&self, probe: Probe, payload: usize) -> AppResult<Outcome> {
        let ch = self.channel(probe.target.is_ipv6())?;
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        let key = Identity::Echo {
            id: self.ident,
            seq,
        };
        let packet = packet::echo_request(ch.v6, self.ident, seq, payload);
        let (registration, rx) = self.register(key, probe.target);
        let started = Instant::now();
        let sent = SystemTime::now();
        if let Err(e) = send(&ch, &probe, &packet) {
            drop(registration);
            return Ok(local_error(probe, seq, sent, &e));
        }
        let answer = tokio::time::timeout(probe.timeout, rx)
            .await
            .ok()
            .and_then(Result::ok);
        drop(registration);
        Ok(finish(probe, seq, sent, started, answer))
    }
}

/// The outcome of a probe the local stack refused to send.
pub(super) fn local_error(probe: Probe, seq: u16, sent: SystemTime, e: &io::Error) -> Outcome {
    Outcome {
        probe,
        seq,
        sent,
        rtt: None,
        response: Response::LocalError {
            errno: e.raw_os_error().unwrap_or(libc::EIO),
        },
    }
}

/// Builds the outcome from the answer (or its absence), preferring the
/// kernel's receive timestamp for the round trip when it is plausible.
pub(super) fn finish(
    probe: Probe,
    seq: u16,
    sent: SystemTime,
    started: Instant,
    answer: Option<Answer>,
) -> Outcome {
    let (response, rtt) = match answer {
        Some(a) => {
            let rtt = a
                .stamp
                .and_then(|s| s.duration_since(sent).ok())
                .filter(|d| *d < started.elapsed() + Duration::from_millis(5))
                .unwrap_or_else(|| started.elapsed());
            (a.response, Some(rtt))
        }
        None => (Response::Timeout, None),
    };
    Outcome {
        probe,
        seq,
        sent,
        rtt,
        response,
    }
}

/// Sub-second clock noise, to make identifiers and sequence numbers hard to guess.
pub(super) fn nanos_seed() -> u32 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}

/// Sends on the ICMP channel. On a datagram socket, an ICMP error for an
/// earlier probe (IP_RECVERR) leaves a pending socket error that the next
/// send returns instead of sending; that send consumed it, so try again. A
/// real local error (no route) fails every time and is reported.
fn send(ch: &Channel, probe: &Probe, packet: &[u8]) -> io::Result<()> {
    let tries = if ch.mode == SocketMode::Datagram {
        4
    } else {
        1
    };
    send_with_ttl(ch.fd.get_ref(), &ch.send_lock, probe, packet, tries)
}

/// Sets the probe's TTL and sends, under `send_lock` so concurrent probes on
/// one socket cannot swap TTLs; tries up to `tries` times.
pub(super) fn send_with_ttl(
    sock: &Socket,
    send_lock: &Mutex<()>,
    probe: &Probe,
    packet: &[u8],
    tries: usize,
) -> io::Result<()> {
    let _guard = lock(send_lock);
    if let Some(ttl) = probe.ttl {
        socket::set_ttl(sock, probe.target.is_ipv6(), ttl)?;
    }
    let dest = SockAddr::from(SocketAddr::new(probe.target, 0));
    let mut result = Ok(0);
    for _ in 0..tries.max(1) {
        result = sock.send_to(packet, &dest);
        if result.is_ok() {
            break;
        }
    }
    result.map(|_| ())
}

/// Reads every datagram and queued error, matches and completes probes.
async fn receive_loop(
    fd: Arc<AsyncFd<Socket>>,
    v6: bool,
    mode: SocketMode,
    ident: u16,
    pending: PendingMap,
) {
    let mut buf = vec![0u8; 65536];
    let sock = RawFd(fd.get_ref().as_raw_fd());
    let matcher = Matcher { v6, mode, ident };
    loop {
        let mut guard = match fd.ready(Interest::READABLE | Interest::ERROR).await {
            Ok(g) => g,
            Err(_) => return,
        };
        drain(&sock, &mut buf, false, &matcher, &pending);
        if mode == SocketMode::Datagram {
            drain(&sock, &mut buf, true, &matcher, &pending);
        }
        guard.clear_ready();
    }
}

/// Reads `sock` (or its error queue) until it would block, completing the
/// probe each datagram answers.
pub(super) fn drain(
    sock: &impl ProbeSocket,
    buf: &mut [u8],
    errqueue: bool,
    matcher: &Matcher,
    pending: &PendingMap,
) {
    loop {
        match sock.receive(buf, errqueue) {
            Ok(rx) => {
                let Some(data) = buf.get(..rx.len) else {
                    continue;
                };
                if let Some(m) = matcher.classify(data, &rx) {
                    let answer = Answer {
                        response: m.response,
                        stamp: rx.stamp,
                    };
                    complete(pending, &m.key, m.about, answer);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // A pending socket error: datagram sockets report an ICMP error
            // once through recv as well; its details sit in the error queue.
            Err(_) if !errqueue => continue,
            Err(_) => return,
        }
    }
}

/// The answer a probe's own socket found on its IP_RECVERR queue: a router's
/// (or the target's) ICMP error, or a local failure.
pub(super) fn answer_from_queue(rx: &Received, v6: bool) -> Option<Answer> {
    let err = rx.error.as_ref()?;
    let response = match (err.from_icmp, err.offender) {
        (true, Some(from)) => queued_response(v6, from, err),
        _ => Response::LocalError { errno: err.errno },
    };
    Some(Answer {
        response,
        stamp: rx.stamp,
    })
}

/// Maps an error from a socket's IP_RECVERR queue to an outcome; the kernel
/// passes a Packet Too Big's MTU in `ee_info`.
pub(super) fn queued_response(v6: bool, from: IpAddr, err: &QueuedError) -> Response {
    let mtu = packet::is_too_big(v6, err.icmp_type, err.code).then_some(err.info);
    error_response(
        v6,
        from,
        err.icmp_type,
        err.code,
        mtu,
        None,
        err.mpls.clone(),
    )
}

/// Maps an ICMP error to the outcome commands see: Time Exceeded or
/// Unreachable (everything else that quotes a probe).
pub(super) fn error_response(
    v6: bool,
    from: IpAddr,
    icmp_type: u8,
    code: u8,
    mtu: Option<u32>,
    ttl: Option<u8>,
    mpls: Vec<packet::MplsLabel>,
) -> Response {
    let exceeded = if v6 {
        packet::v6types::TIME_EXCEEDED
    } else {
        packet::v4types::TIME_EXCEEDED
    };
    if icmp_type == exceeded {
        Response::TimeExceeded { from, ttl, mpls }
    } else {
        Response::Unreachable {
            from,
            icmp_type,
            code,
            mtu,
            mpls,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> bool {
        // SAFETY: geteuid has no preconditions.
        unsafe { libc::geteuid() == 0 }
    }

    /// Many probes to several targets with several TTLs share one socket per
    /// family, and two engines share the host's ICMP traffic, without any
    /// probe taking another's answer.
    #[test]
    fn concurrent_streams_get_their_own_answers() {
        if !root() {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIP concurrent_streams_get_their_own_answers: needs root for raw sockets"
            );
            return;
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("runtime: {e}"));
        rt.block_on(async {
            let a = Engine::new(Binding::default());
            let b = Engine::new(Binding::default());
            let mut tasks = Vec::new();
            for i in 0..200u32 {
                let engine = if i % 2 == 0 { a.clone() } else { b.clone() };
                let target: IpAddr = match i % 3 {
                    0 => IpAddr::from([127, 0, 0, 1]),
                    1 => IpAddr::from([127, 0, 0, 2]),
                    _ => IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
                };
                let probe = Probe {
                    target,
                    ttl: Some((i % 5 + 1) as u8),
                    kind: ProbeKind::Echo { payload: 16 },
                    timeout: Duration::from_secs(2),
                };
                tasks.push(tokio::spawn(async move { engine.probe(probe).await }));
            }
            for t in tasks {
                let outcome = t
                    .await
                    .unwrap_or_else(|e| panic!("task: {e}"))
                    .unwrap_or_else(|e| panic!("probe: {e}"));
                match outcome.response {
                    Response::Reply { from, .. } => assert_eq!(from, outcome.probe.target),
                    other => panic!("probe to {} got {other:?}", outcome.probe.target),
                }
            }
        });
    }
}
