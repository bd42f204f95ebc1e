//! The engine's decisions without its sockets: which probe a received packet
//! answers and with what [`Response`]. The receive loops read a socket and
//! hand every datagram (or IP_RECVERR entry) to these pure functions, so the
//! matching is tested from captured packets without root or a network.

use super::engine::{error_response, queued_response};
use super::packet::{self, Identity, Message, PROTO_TCP};
use super::socket::{self, QueuedError, Received, SocketMode};
use super::Response;
use pnet_packet::ipv4::Ipv4Packet;
use pnet_packet::tcp::{TcpFlags, TcpPacket};
use std::io;
use std::net::IpAddr;

/// A received packet matched to the probe it may answer. Whether that probe
/// is still waiting (an answer), already answered (a duplicate) or someone
/// else's (another target) is the registry's decision, in `pending`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// Identity of the probe the packet answers.
    pub key: Identity,
    /// The address the answer concerns: the replier, or the destination
    /// quoted in an error. None when the packet cannot say.
    pub about: Option<IpAddr>,
    /// What the packet means for that probe.
    pub response: Response,
}

/// How one ICMP socket's packets are read: its family, whether it is raw
/// (sees every ICMP message of the host, IPv4 with the IP header) or an
/// unprivileged datagram socket, and the echo identifier of this engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Matcher {
    /// True for the ICMPv6 socket.
    pub v6: bool,
    /// Raw or datagram socket.
    pub mode: SocketMode,
    /// The echo identifier this engine puts on its probes.
    pub ident: u16,
}

impl Matcher {
    /// Matches one datagram read from the ICMP socket (`data` is what the
    /// socket delivered, `rx` its ancillary data), or an entry of its
    /// IP_RECVERR queue (`rx.error` set, `data` our own echo request).
    /// None when the packet is not an answer to any probe of ours.
    pub fn classify(&self, data: &[u8], rx: &Received) -> Option<Match> {
        if let Some(err) = &rx.error {
            return self.classify_queued(data, err, rx.from);
        }
        let incoming = if !self.v6 && self.mode == SocketMode::Raw {
            packet::parse_v4_with_ip(data)?
        } else {
            let mut inc = packet::parse_icmp(self.v6, data)?;
            inc.ttl = rx.ttl;
            inc
        };
        let from = rx.from?;
        match incoming.message {
            Message::EchoReply(Identity::Echo { id, seq }) => {
                // Datagram sockets only see their own replies, with the kernel's id.
                if self.mode == SocketMode::Raw && id != self.ident {
                    return None;
                }
                Some(Match {
                    key: Identity::Echo {
                        id: self.ident,
                        seq,
                    },
                    about: Some(from),
                    response: Response::Reply {
                        from,
                        ttl: incoming.ttl,
                        bytes: incoming.icmp_len,
                    },
                })
            }
            Message::Error {
                icmp_type,
                code,
                quoted,
                dst,
                mtu,
                mpls,
            } => {
                let key = match quoted {
                    Identity::Echo { id, seq }
                        if self.mode == SocketMode::Raw && id == self.ident =>
                    {
                        Identity::Echo { id, seq }
                    }
                    // Another process's echo, or (datagram socket) one whose
                    // error arrives through the error queue instead.
                    Identity::Echo { .. } => return None,
                    other => other,
                };
                Some(Match {
                    key,
                    about: dst,
                    response: error_response(
                        self.v6,
                        from,
                        icmp_type,
                        code,
                        mtu,
                        incoming.ttl,
                        mpls,
                    ),
                })
            }
            Message::EchoReply(_) => None,
        }
    }

    /// Errors from the IP_RECVERR queue: the payload is our own echo
    /// request, and the kernel puts the original destination in the
    /// message's address (`dest`).
    fn classify_queued(
        &self,
        data: &[u8],
        err: &QueuedError,
        dest: Option<IpAddr>,
    ) -> Option<Match> {
        let Identity::Echo { seq, .. } = packet::echo_identity(data)? else {
            return None;
        };
        let response = match (err.from_icmp, err.offender) {
            (true, Some(from)) => queued_response(self.v6, from, err),
            _ => Response::LocalError { errno: err.errno },
        };
        Some(Match {
            key: Identity::Echo {
                id: self.ident,
                seq,
            },
            about: dest,
            response,
        })
    }
}

/// Matches one segment read from a raw TCP socket (IPv4: with its IP
/// header; IPv6: the bare segment, `ttl` from the hop-limit control
/// message): a SYN-ACK or RST answers the SYN probe whose ports it mirrors.
/// Every other segment the host receives is ignored.
pub fn classify_tcp(v6: bool, data: &[u8], from: Option<IpAddr>, ttl: Option<u8>) -> Option<Match> {
    let (segment, ttl) = if v6 {
        (data, ttl)
    } else {
        let ip = Ipv4Packet::new(data)?;
        let hlen = usize::from(ip.get_header_length()) * 4;
        if ip.get_version() != 4 || hlen < 20 || ip.get_next_level_protocol().0 != PROTO_TCP {
            return None;
        }
        (data.get(hlen..)?, Some(ip.get_ttl()))
    };
    let from = from?;
    let tcp = TcpPacket::new(segment)?;
    let flags = tcp.get_flags();
    let open = flags & (TcpFlags::SYN | TcpFlags::ACK) == TcpFlags::SYN | TcpFlags::ACK;
    if !open && flags & TcpFlags::RST == 0 {
        return None;
    }
    Some(Match {
        key: Identity::Ports {
            proto: PROTO_TCP,
            src: tcp.get_destination(),
            dst: tcp.get_source(),
            tag: super::tcp::answer_tag(tcp.get_acknowledgement()),
        },
        about: Some(from),
        response: Response::TcpReply { from, ttl, open },
    })
}

/// The one thing the receive side needs from a socket: the next datagram
/// (or error-queue entry) without blocking. A fake in the tests replays
/// captured packets through the engine's receive path.
pub trait ProbeSocket {
    /// Reads one datagram into `buf` (`errqueue`: from the IP_RECVERR
    /// queue); `WouldBlock` when there is none.
    fn receive(&self, buf: &mut [u8], errqueue: bool) -> io::Result<Received>;
}

/// A socket's raw descriptor, read with `recvmsg`.
#[derive(Debug, Clone, Copy)]
pub struct RawFd(pub i32);

impl ProbeSocket for RawFd {
    fn receive(&self, buf: &mut [u8], errqueue: bool) -> io::Result<Received> {
        socket::receive(self.0, buf, errqueue)
    }
}

#[cfg(test)]
mod tests;
