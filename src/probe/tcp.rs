//! TCP SYN probes (tcptraceroute's method). A raw TCP socket sends
//! hand-built SYNs and sees the SYN-ACK or RST the target answers; routers'
//! errors quote the SYN's ports and arrive on the raw ICMP socket. Each probe
//! reserves its source port with a bound, never-listening socket.

use super::engine::{self, Answer, Engine, PendingMap};
use super::packet::{Identity, PROTO_TCP};
use super::socket::{self, Binding};
use super::{Outcome, Probe, Response};
use crate::error::{AppError, AppResult};
use pnet_packet::ipv4::Ipv4Packet;
use pnet_packet::tcp::{self, MutableTcpPacket, TcpFlags, TcpPacket};
use socket2::Socket;
use std::io;
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// TCP header with one MSS option.
const SYN_LEN: usize = 24;

/// The error when the raw TCP socket is refused after all (the engine
/// checks first and uses connect() probes without the privilege).
pub fn needs_root() -> AppError {
    AppError::cannot_run(
        "raw TCP socket refused: run as root or `setcap cap_net_raw+ep $(which netdx)`",
    )
}

/// The raw TCP socket of one family and the task that reads it.
pub(super) struct TcpChannel {
    fd: Arc<AsyncFd<Socket>>,
    send_lock: Mutex<()>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for TcpChannel {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl TcpChannel {
    /// Opens the raw socket and starts matching SYN-ACK / RST to probes.
    pub(super) fn open(v6: bool, binding: &Binding, pending: PendingMap) -> AppResult<Arc<Self>> {
        let sock = socket::open_raw_tcp(v6, binding)?;
        let fd =
            Arc::new(socket::register(sock, Interest::READABLE).map_err(|e| {
                AppError::cannot_run(format!("cannot register the TCP socket: {e}"))
            })?);
        let reader = tokio::spawn(receive_loop(fd.clone(), v6, pending));
        Ok(Arc::new(TcpChannel {
            fd,
            send_lock: Mutex::new(()),
            reader,
        }))
    }
}

/// Sends one SYN to `port` and waits for the answer.
pub(super) async fn probe(
    engine: &Engine,
    ch: &TcpChannel,
    probe: Probe,
    port: u16,
    payload: usize,
    flow: Option<u16>,
    seq: u16,
) -> AppResult<Outcome> {
    let v6 = probe.target.is_ipv6();
    // Paris: a flow's probes all leave from the flow's port; else each
    // probe reserves its own.
    let (reserved, src_port) = match flow {
        Some(id) => (None, engine.tcp_flow_port(v6, id)?),
        None => {
            let sock = socket::reserve_tcp_port(v6, engine.binding())?;
            let port = socket::local_port(&sock)
                .map_err(|e| AppError::cannot_run(format!("cannot read the probe port: {e}")))?;
            (Some(sock), port)
        }
    };
    let sent = SystemTime::now();
    let source = match socket::source_for(probe.target, engine.binding()) {
        Ok(s) => s,
        Err(e) => return Ok(engine::local_error(probe, seq, sent, &e)),
    };
    let key = Identity::Ports {
        proto: PROTO_TCP,
        src: src_port,
        dst: port,
        tag: seq,
    };
    let (registration, rx) = engine.register(key, probe.target);
    let packet = syn(source, probe.target, src_port, port, seq, payload);
    let started = Instant::now();
    let sent = SystemTime::now();
    if let Err(e) = send(ch, &probe, &packet) {
        return Ok(engine::local_error(probe, seq, sent, &e));
    }
    let answer = tokio::time::timeout(probe.timeout, rx)
        .await
        .ok()
        .and_then(Result::ok);
    drop(registration);
    drop(reserved);
    Ok(engine::finish(probe, seq, sent, started, answer))
}

/// Builds a SYN (with `payload` zero data bytes, for a sized probe) with a
/// valid checksum for the given addresses.
fn syn(src: IpAddr, dst: IpAddr, sport: u16, dport: u16, seq: u16, payload: usize) -> Vec<u8> {
    let mut buf = vec![0u8; SYN_LEN + payload];
    // The tag in the top half, zeros below: the answer's acknowledgment
    // (ISN + 1 + data bytes) keeps the tag for any data below 64 KiB.
    let isn = u32::from(seq) << 16;
    if let Some(mut p) = MutableTcpPacket::new(&mut buf) {
        p.set_source(sport);
        p.set_destination(dport);
        p.set_sequence(isn);
        p.set_data_offset((SYN_LEN / 4) as u8);
        p.set_flags(TcpFlags::SYN);
        p.set_window(64240);
    }
    buf[20..24].copy_from_slice(&[2, 4, 0x05, 0xb4]);
    let sum = TcpPacket::new(&buf).map(|p| match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => tcp::ipv4_checksum(&p, &s, &d),
        (IpAddr::V6(s), IpAddr::V6(d)) => tcp::ipv6_checksum(&p, &s, &d),
        _ => 0,
    });
    buf[16..18].copy_from_slice(&sum.unwrap_or(0).to_be_bytes());
    buf
}

/// The probe tag a SYN-ACK or RST answers: the top half of its
/// acknowledgment minus one (the SYN's ISN plus its data bytes).
pub(super) fn answer_tag(ack: u32) -> u16 {
    (ack.wrapping_sub(1) >> 16) as u16
}

/// Sends a SYN on the raw TCP socket with the probe's TTL.
fn send(ch: &TcpChannel, probe: &Probe, packet: &[u8]) -> io::Result<()> {
    engine::send_with_ttl(ch.fd.get_ref(), &ch.send_lock, probe, packet, 1)
}

/// Reads every TCP segment the host receives and completes the probes
/// whose ports a SYN-ACK or RST answers.
async fn receive_loop(fd: Arc<AsyncFd<Socket>>, v6: bool, pending: PendingMap) {
    let raw = fd.get_ref().as_raw_fd();
    let mut buf = vec![0u8; 65536];
    loop {
        let Ok(mut guard) = fd.readable().await else {
            return;
        };
        loop {
            match socket::receive(raw, &mut buf, false) {
                Ok(rx) => {
                    let data = &buf[..rx.len];
                    let parsed = if v6 {
                        Some((data, rx.ttl))
                    } else {
                        Ipv4Packet::new(data).and_then(|ip| {
                            let hlen = usize::from(ip.get_header_length()) * 4;
                            data.get(hlen..).map(|t| (t, Some(ip.get_ttl())))
                        })
                    };
                    let Some((segment, ttl)) = parsed else {
                        continue;
                    };
                    let (Some(from), Some(tcp)) = (rx.from, TcpPacket::new(segment)) else {
                        continue;
                    };
                    let flags = tcp.get_flags();
                    let open =
                        flags & (TcpFlags::SYN | TcpFlags::ACK) == TcpFlags::SYN | TcpFlags::ACK;
                    if !open && flags & TcpFlags::RST == 0 {
                        continue;
                    }
                    let key = Identity::Ports {
                        proto: PROTO_TCP,
                        src: tcp.get_destination(),
                        dst: tcp.get_source(),
                        tag: answer_tag(tcp.get_acknowledgement()),
                    };
                    engine::complete(
                        &pending,
                        &key,
                        Some(from),
                        Answer {
                            response: Response::TcpReply { from, ttl, open },
                            stamp: rx.stamp,
                        },
                    );
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        guard.clear_ready();
    }
}
