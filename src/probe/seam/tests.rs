//! Reply matching checked against packets captured from a real Linux stack
//! (../testdata/packets.txt, made by ../testdata/capture.py): what each
//! packet answers, what the registry makes of it, and that broken input is
//! ignored without a panic.

use super::*;
use crate::probe::engine::drain;
use crate::probe::pending::{self, Answer, Completion, PendingMap, Registry};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex};

/// UDP length of every captured UDP probe.
const UDP_LEN: u16 = 24;
const PACKETS: &str = include_str!("../testdata/packets.txt");

/// Echo identifier of every captured echo probe.
const ID: u16 = 0x4e44;
const R4: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 1, 2));
const B4: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 2, 2));
const R6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 2));
const B6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 2));

/// The first captured packet of the fixture file under `name`.
fn fixture(name: &str) -> Vec<u8> {
    let line = PACKETS
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .unwrap_or_else(|| panic!("no packet {name} in packets.txt"));
    hex(line.trim()).unwrap_or_else(|| panic!("packet {name}: bad hex"))
}

/// Every packet name in the file, after the `# Broken input` comment when
/// `broken`, before it otherwise.
fn names(broken: bool) -> Vec<&'static str> {
    let mut in_broken = false;
    let mut out = Vec::new();
    for line in PACKETS.lines() {
        if line.starts_with("# Broken input") {
            in_broken = true;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if let Some((name, _)) = line.split_once(':') {
            if in_broken == broken {
                out.push(name);
            }
        }
    }
    out
}

fn hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Source address and TTL / hop limit from a captured packet's IP header:
/// what `recvmsg` reports beside the data.
fn ip_facts(packet: &[u8]) -> (Option<IpAddr>, Option<u8>) {
    match packet.first().map(|b| b >> 4) {
        Some(4) if packet.len() >= 20 => {
            let src: [u8; 4] = packet[12..16].try_into().unwrap_or([0; 4]);
            (Some(IpAddr::from(src)), Some(packet[8]))
        }
        Some(6) if packet.len() >= 40 => {
            let src: [u8; 16] = packet[8..24].try_into().unwrap_or([0; 16]);
            (Some(IpAddr::from(src)), Some(packet[7]))
        }
        // Broken packets: pretend the router sent them.
        _ => (Some(R4), Some(64)),
    }
}

/// What a socket of this kind delivers for a captured packet: raw IPv4
/// sockets keep the IP header, IPv6 and datagram sockets strip it.
fn deliver(packet: &[u8], v6: bool, mode: SocketMode) -> (Vec<u8>, Received) {
    let (from, ttl) = ip_facts(packet);
    let strip = if v6 {
        40
    } else if mode == SocketMode::Raw {
        0
    } else {
        packet.first().map_or(0, |b| usize::from(b & 0x0f) * 4)
    };
    let data = packet.get(strip..).unwrap_or(packet).to_vec();
    let rx = Received {
        len: data.len(),
        from,
        ttl,
        stamp: None,
        error: None,
    };
    (data, rx)
}

fn raw(v6: bool) -> Matcher {
    Matcher {
        v6,
        mode: SocketMode::Raw,
        ident: ID,
    }
}

fn datagram(v6: bool, ident: u16) -> Matcher {
    Matcher {
        v6,
        mode: SocketMode::Datagram,
        ident,
    }
}

fn echo(seq: u16) -> Identity {
    Identity::Echo { id: ID, seq }
}

fn udp() -> Identity {
    Identity::Udp {
        src: 40000,
        dst: 33434,
        len: UDP_LEN,
    }
}

/// A TCP probe's identity; `tag` is the top half of the captured SYN's
/// sequence number (its answer acknowledges that plus one).
fn tcp(src: u16, dst: u16, tag: u16) -> Identity {
    Identity::Ports {
        proto: PROTO_TCP,
        src,
        dst,
        tag,
    }
}

fn ip(text: &str) -> IpAddr {
    text.parse()
        .unwrap_or_else(|e| panic!("bad address {text}: {e}"))
}

fn unreachable(from: IpAddr, icmp_type: u8, code: u8, mtu: Option<u32>) -> Response {
    Response::Unreachable {
        from,
        icmp_type,
        code,
        mtu,
        mpls: Vec::new(),
    }
}

fn hit(key: Identity, about: IpAddr, response: Response) -> Option<Match> {
    Some(Match {
        key,
        about: Some(about),
        response,
    })
}

/// Each captured ICMP packet, read by the socket kind named, against what
/// the engine must make of it.
#[test]
fn captured_icmp_packets_match_their_probes() {
    // The routers next door: their messages arrive with TTL 64.
    let te4 = Response::TimeExceeded {
        from: R4,
        ttl: Some(64),
        mpls: Vec::new(),
    };
    let te6 = Response::TimeExceeded {
        from: R6,
        ttl: Some(64),
        mpls: Vec::new(),
    };
    let cases: Vec<(&str, Matcher, Option<Match>)> = vec![
        (
            "v4_echo_reply",
            raw(false),
            hit(
                echo(1),
                B4,
                Response::Reply {
                    from: B4,
                    ttl: Some(63),
                    bytes: 24,
                },
            ),
        ),
        // A datagram socket's replies carry the kernel's identifier: the
        // engine files them under its own.
        (
            "v4_echo_reply",
            datagram(false, 7),
            hit(
                Identity::Echo { id: 7, seq: 1 },
                B4,
                Response::Reply {
                    from: B4,
                    ttl: Some(63),
                    bytes: 24,
                },
            ),
        ),
        // A raw socket sees every process's replies: another identifier is
        // someone else's ping.
        (
            "v4_echo_reply",
            Matcher {
                ident: 0x1234,
                ..raw(false)
            },
            None,
        ),
        (
            "v6_echo_reply",
            raw(true),
            hit(
                echo(1),
                B6,
                Response::Reply {
                    from: B6,
                    ttl: Some(63),
                    bytes: 24,
                },
            ),
        ),
        (
            "v4_time_exceeded_echo",
            raw(false),
            hit(echo(2), B4, te4.clone()),
        ),
        (
            "v4_time_exceeded_udp",
            raw(false),
            hit(udp(), B4, te4.clone()),
        ),
        (
            "v4_time_exceeded_tcp_syn",
            raw(false),
            hit(tcp(40001, 443, 0x69e4), B4, te4.clone()),
        ),
        // On a datagram socket an error about an echo arrives through the
        // error queue; the copy read by recv is not matched twice.
        ("v4_time_exceeded_echo", datagram(false, ID), None),
        (
            "v4_time_exceeded_udp",
            datagram(false, ID),
            hit(udp(), B4, te4),
        ),
        // Another process's echo quoted back to a raw socket.
        (
            "v4_time_exceeded_echo",
            Matcher {
                ident: 0x1234,
                ..raw(false)
            },
            None,
        ),
        (
            "v6_time_exceeded_echo",
            raw(true),
            hit(echo(2), B6, te6.clone()),
        ),
        (
            "v6_time_exceeded_udp",
            raw(true),
            hit(udp(), B6, te6.clone()),
        ),
        (
            "v6_time_exceeded_tcp_syn",
            raw(true),
            hit(tcp(40001, 443, 0x47a4), B6, te6),
        ),
        (
            "v4_net_unreachable",
            raw(false),
            hit(echo(3), ip("198.18.99.1"), unreachable(R4, 3, 0, None)),
        ),
        (
            "v4_host_unreachable",
            raw(false),
            hit(echo(4), ip("198.18.98.1"), unreachable(R4, 3, 1, None)),
        ),
        (
            "v4_host_unreachable_arp",
            raw(false),
            hit(echo(7), ip("198.18.2.99"), unreachable(R4, 3, 1, None)),
        ),
        (
            "v4_port_unreachable",
            raw(false),
            hit(udp(), B4, unreachable(B4, 3, 3, None)),
        ),
        (
            "v4_admin_prohibited",
            raw(false),
            hit(echo(5), ip("198.18.97.1"), unreachable(R4, 3, 13, None)),
        ),
        (
            "v4_frag_needed",
            raw(false),
            hit(echo(6), B4, unreachable(R4, 3, 4, Some(1280))),
        ),
        (
            "v6_no_route",
            raw(true),
            hit(echo(3), ip("2001:db8:99::1"), unreachable(R6, 1, 0, None)),
        ),
        (
            "v6_admin_prohibited",
            raw(true),
            hit(echo(4), ip("2001:db8:97::1"), unreachable(R6, 1, 1, None)),
        ),
        (
            "v6_address_unreachable",
            raw(true),
            hit(echo(5), ip("2001:db8:2::99"), unreachable(R6, 1, 3, None)),
        ),
        (
            "v6_port_unreachable",
            raw(true),
            hit(udp(), B6, unreachable(B6, 1, 4, None)),
        ),
        (
            "v6_packet_too_big",
            raw(true),
            hit(echo(6), B6, unreachable(R6, 2, 0, Some(1280))),
        ),
        // Other traffic a raw socket sees.
        ("v6_neighbor_solicitation", raw(true), None),
        ("v4_tcp_syn_ack", raw(false), None),
    ];
    let mut failed = Vec::new();
    for (name, matcher, expected) in &cases {
        let (data, rx) = deliver(&fixture(name), matcher.v6, matcher.mode);
        let got = matcher.classify(&data, &rx);
        if &got != expected {
            failed.push(format!(
                "{name} ({matcher:?}):\n  expected {expected:?}\n  got      {got:?}"
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// SYN-ACK and RST from the target answer the SYN whose ports they mirror;
/// other segments do not.
#[test]
fn captured_tcp_segments_match_their_probes() {
    let reply = |from, open| Response::TcpReply {
        from,
        ttl: Some(63),
        open,
    };
    let cases = [
        (
            "v4_tcp_syn_ack",
            hit(tcp(40002, 8080, 0x9003), B4, reply(B4, true)),
        ),
        (
            "v4_tcp_rst",
            hit(tcp(40003, 8081, 0x3fd1), B4, reply(B4, false)),
        ),
        (
            "v6_tcp_syn_ack",
            hit(tcp(40002, 8080, 0xbb2a), B6, reply(B6, true)),
        ),
        (
            "v6_tcp_rst",
            hit(tcp(40003, 8081, 0x60ca), B6, reply(B6, false)),
        ),
        ("v4_tcp_ack", None),
        ("v4_time_exceeded_tcp_syn", None),
    ];
    for (name, expected) in cases {
        let packet = fixture(name);
        let v6 = packet.first().is_some_and(|b| b >> 4 == 6);
        let (data, rx) = deliver(&packet, v6, SocketMode::Raw);
        let got = classify_tcp(v6, &data, rx.from, rx.ttl);
        assert_eq!(got, expected, "{name}");
    }
}

/// Truncated headers, impossible header lengths, junk and nothing at all
/// are ignored by every kind of socket.
#[test]
fn broken_packets_are_ignored() {
    let broken = names(true);
    assert!(broken.len() >= 10, "broken fixtures: {broken:?}");
    for name in broken {
        let packet = fixture(name);
        for matcher in [
            raw(false),
            raw(true),
            datagram(false, ID),
            datagram(true, ID),
        ] {
            for strip in [false, true] {
                let (data, rx) = if strip {
                    deliver(&packet, matcher.v6, matcher.mode)
                } else {
                    let (_, rx) = deliver(&packet, matcher.v6, matcher.mode);
                    (
                        packet.clone(),
                        Received {
                            len: packet.len(),
                            ..rx
                        },
                    )
                };
                assert_eq!(
                    matcher.classify(&data, &rx),
                    None,
                    "{name} through {matcher:?} (header stripped: {strip})"
                );
            }
        }
        let (from, ttl) = ip_facts(&packet);
        assert_eq!(
            classify_tcp(false, &packet, from, ttl),
            None,
            "{name} as TCP"
        );
        // A bare IPv6 segment has no header to check: only no panic.
        let _ = classify_tcp(true, &packet, from, ttl);
    }
}

/// Every prefix of every captured packet, through every kind of socket:
/// no panic, and a prefix cut inside the quoted header matches nothing.
#[test]
fn every_truncation_of_every_capture_is_safe() {
    for name in names(false) {
        let packet = fixture(name);
        for len in 0..packet.len() {
            let cut = &packet[..len];
            for matcher in [
                raw(false),
                raw(true),
                datagram(false, ID),
                datagram(true, ID),
            ] {
                let (data, rx) = deliver(cut, matcher.v6, matcher.mode);
                let _ = matcher.classify(&data, &rx);
                let _ = matcher.classify(cut, &rx);
            }
            let (from, ttl) = ip_facts(cut);
            let _ = classify_tcp(false, cut, from, ttl);
            let _ = classify_tcp(true, cut, from, ttl);
        }
    }
    // Errors quote the IP header and 8 bytes of the probe's transport
    // header; one byte less is not enough to know the probe.
    let te = fixture("v4_time_exceeded_udp");
    let (data, rx) = deliver(&te[..20 + 8 + 20 + 7], false, SocketMode::Raw);
    assert_eq!(raw(false).classify(&data, &rx), None);
    let (data, rx) = deliver(&te[..20 + 8 + 20 + 8], false, SocketMode::Raw);
    assert!(raw(false).classify(&data, &rx).is_some());
}

/// An IP_RECVERR entry: the payload is our own echo request (here the one
/// R quoted back in a capture), the address is the probe's destination.
fn queued(
    dest: Option<IpAddr>,
    offender: Option<IpAddr>,
    icmp_type: u8,
    code: u8,
    errno: i32,
    info: u32,
) -> (Vec<u8>, Received) {
    let data = fixture("v4_time_exceeded_echo")
        .get(48..)
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    let rx = Received {
        len: data.len(),
        from: dest,
        ttl: None,
        stamp: None,
        error: Some(QueuedError {
            icmp_type,
            code,
            errno,
            from_icmp: offender.is_some(),
            offender,
            info,
            mpls: Vec::new(),
        }),
    };
    (data, rx)
}

/// Errors the kernel queued on a datagram ICMP socket match the echo
/// request they carry, under the engine's identifier.
#[test]
fn error_queue_entries_match_the_echo_they_carry() {
    let key = Identity::Echo { id: 9, seq: 2 };
    let cases = [
        (
            "time exceeded",
            false,
            queued(Some(B4), Some(R4), 11, 0, libc::EHOSTUNREACH, 0),
            Some(Response::TimeExceeded {
                from: R4,
                ttl: None,
                mpls: Vec::new(),
            }),
        ),
        (
            "fragmentation needed",
            false,
            queued(Some(B4), Some(R4), 3, 4, libc::EMSGSIZE, 1280),
            Some(unreachable(R4, 3, 4, Some(1280))),
        ),
        (
            "admin prohibited (ee_info is no MTU)",
            false,
            queued(Some(B4), Some(R4), 3, 13, libc::EHOSTUNREACH, 7),
            Some(unreachable(R4, 3, 13, None)),
        ),
        (
            "packet too big",
            true,
            queued(Some(B6), Some(R6), 2, 0, libc::EMSGSIZE, 1280),
            Some(unreachable(R6, 2, 0, Some(1280))),
        ),
        (
            "v6 address unreachable",
            true,
            queued(Some(B6), Some(R6), 1, 3, libc::EHOSTUNREACH, 0),
            Some(unreachable(R6, 1, 3, None)),
        ),
        (
            "local failure",
            false,
            queued(Some(B4), None, 0, 0, libc::ENETUNREACH, 0),
            Some(Response::LocalError {
                errno: libc::ENETUNREACH,
            }),
        ),
    ];
    for (what, v6, (data, rx), expected) in cases {
        let got = datagram(v6, 9).classify(&data, &rx);
        let about = rx.from;
        let expected = expected.map(|response| Match {
            key,
            about,
            response,
        });
        assert_eq!(got, expected, "{what}");
    }
    let (data, rx) = queued(Some(B4), Some(R4), 11, 0, libc::EHOSTUNREACH, 0);
    assert_eq!(
        datagram(false, 9).classify(&data[..4], &rx),
        None,
        "a truncated payload"
    );
}

fn registry() -> PendingMap {
    Arc::new(Mutex::new(Registry::default()))
}

/// Classifies a captured packet as a raw socket would and hands it to the
/// registry, as the receive loop does.
fn feed(pending: &PendingMap, name: &str) -> Option<Completion> {
    let packet = fixture(name);
    let v6 = packet.first().is_some_and(|b| b >> 4 == 6);
    let (data, rx) = deliver(&packet, v6, SocketMode::Raw);
    let m = raw(v6).classify(&data, &rx)?;
    let answer = Answer {
        response: m.response,
        stamp: None,
    };
    Some(pending::complete(pending, &m.key, m.about, answer))
}

/// An echo reply completes the probe with its identity sent to its address;
/// the same reply again is a duplicate; one from another address is not
/// ours even with our identity.
#[test]
fn replies_match_identity_and_address_and_repeat_as_duplicates() {
    let pending = registry();
    let mut dups = pending::subscribe(&pending, B4);
    let (_reg, mut rx) = pending::register(&pending, echo(1), B4);
    assert_eq!(feed(&pending, "v4_echo_reply"), Some(Completion::Answered));
    let answer = rx.try_recv().map(|a| a.response).ok();
    assert!(matches!(answer, Some(Response::Reply { from, .. }) if from == B4));
    assert_eq!(feed(&pending, "v4_echo_reply"), Some(Completion::Duplicate));
    assert_eq!(dups.try_recv().map(|d| (d.seq, d.from)).ok(), Some((1, B4)));

    // Same identity, another target: the reply from B is not an answer.
    let other = registry();
    let (_reg, mut rx) = pending::register(&other, echo(1), ip("198.18.2.3"));
    assert_eq!(feed(&other, "v4_echo_reply"), Some(Completion::Stray));
    assert!(
        rx.try_recv().is_err(),
        "a reply from B answered a probe to .3"
    );
    // …and not a duplicate of anything either.
    assert_eq!(feed(&other, "v4_echo_reply"), Some(Completion::Stray));

    // A broadcast target accepts replies from any host, as ping does.
    let bcast = registry();
    let (_reg, mut rx) = pending::register(&bcast, echo(1), ip("198.18.2.255"));
    assert_eq!(feed(&bcast, "v4_echo_reply"), Some(Completion::Answered));
    assert!(rx.try_recv().is_ok());

    // A late reply, after the probe gave up, is nobody's.
    let late = registry();
    drop(pending::register(&late, echo(1), B4));
    assert_eq!(feed(&late, "v4_echo_reply"), Some(Completion::Stray));
}

/// An error completes the probe whose quoted destination is its target; a
/// second copy is not a duplicate reply; a quoted destination that is not
/// the probe's target is someone else's.
#[test]
fn errors_match_the_quoted_destination() {
    let pending = registry();
    let mut dups = pending::subscribe(&pending, B6);
    let (_u, mut udp_rx) = pending::register(&pending, udp(), B6);
    let (_e, mut echo_rx) = pending::register(&pending, echo(5), B6);
    assert_eq!(
        feed(&pending, "v6_time_exceeded_udp"),
        Some(Completion::Answered)
    );
    let got = udp_rx.try_recv().map(|a| a.response).ok();
    assert_eq!(
        got,
        Some(Response::TimeExceeded {
            from: R6,
            ttl: Some(64),
            mpls: Vec::new(),
        })
    );
    assert_eq!(
        feed(&pending, "v6_time_exceeded_udp"),
        Some(Completion::Stray)
    );
    assert!(dups.try_recv().is_err(), "an error is never a DUP!");
    // The Address Unreachable quotes seq 5 to 2001:db8:2::99, not to B.
    assert_eq!(
        feed(&pending, "v6_address_unreachable"),
        Some(Completion::Stray)
    );
    assert!(echo_rx.try_recv().is_err());
}

/// A socket that replays datagrams, then would block.
#[derive(Default)]
struct Replay {
    normal: RefCell<VecDeque<(Vec<u8>, Received)>>,
    errors: RefCell<VecDeque<(Vec<u8>, Received)>>,
}

impl ProbeSocket for Replay {
    fn receive(&self, buf: &mut [u8], errqueue: bool) -> io::Result<Received> {
        let queue = if errqueue { &self.errors } else { &self.normal };
        let Some((data, rx)) = queue.borrow_mut().pop_front() else {
            return Err(io::ErrorKind::WouldBlock.into());
        };
        let n = data.len().min(buf.len());
        buf[..n].copy_from_slice(&data[..n]);
        Ok(rx)
    }
}

/// The engine's receive path, fed from a fake socket: answers, duplicates,
/// junk, a length larger than the buffer, and the error queue.
#[test]
fn the_receive_path_completes_probes_from_a_fake_socket() {
    let pending = registry();
    let mut dups = pending::subscribe(&pending, B4);
    let (_a, mut reply_rx) = pending::register(&pending, echo(1), B4);
    let (_b, mut error_rx) = pending::register(&pending, Identity::Echo { id: ID, seq: 2 }, B4);
    let sock = Replay::default();
    {
        let mut normal = sock.normal.borrow_mut();
        for name in [
            "junk",
            "empty",
            "v4_echo_reply",
            "v4_echo_reply",
            "v4_ihl_below_5",
        ] {
            normal.push_back(deliver(&fixture(name), false, SocketMode::Datagram));
        }
        let (data, rx) = deliver(&fixture("v4_echo_reply"), false, SocketMode::Datagram);
        normal.push_back((data, Received { len: 1 << 20, ..rx }));
        sock.errors.borrow_mut().push_back(queued(
            Some(B4),
            Some(R4),
            11,
            0,
            libc::EHOSTUNREACH,
            0,
        ));
    }
    let matcher = datagram(false, ID);
    let mut buf = vec![0u8; 2048];
    drain(&sock, &mut buf, false, &matcher, &pending);
    drain(&sock, &mut buf, true, &matcher, &pending);
    let reply = reply_rx.try_recv().map(|a| a.response).ok();
    assert!(
        matches!(reply, Some(Response::Reply { from, ttl: Some(63), bytes: 24 }) if from == B4)
    );
    assert_eq!(dups.try_recv().map(|d| d.seq).ok(), Some(1));
    assert!(dups.try_recv().is_err(), "one duplicate only");
    let error = error_rx.try_recv().map(|a| a.response).ok();
    assert_eq!(
        error,
        Some(Response::TimeExceeded {
            from: R4,
            ttl: None,
            mpls: Vec::new(),
        })
    );
}

fn label(label: u32, tc: u8, s: bool, ttl: u8) -> crate::probe::packet::MplsLabel {
    crate::probe::packet::MplsLabel { label, tc, s, ttl }
}

/// The Time Exceeded with an RFC 4884 extension as a raw socket delivers it
/// (v4 with its IP header, v6 without), classified.
fn classify_mpls(v6: bool, packet: &[u8]) -> Option<Response> {
    let (data, rx) = deliver(packet, v6, SocketMode::Raw);
    raw(v6).classify(&data, &rx).map(|m| m.response)
}

/// Time Exceeded carrying an MPLS label stack extension: the probe is
/// matched as before and the stack comes with it, top label first.
#[test]
fn mpls_label_stacks_are_read_from_icmp_extensions() {
    let te4 = Response::TimeExceeded {
        from: R4,
        ttl: Some(64),
        mpls: vec![label(16005, 0, false, 1), label(24001, 5, true, 1)],
    };
    assert_eq!(
        classify_mpls(false, &fixture("v4_time_exceeded_echo_mpls")),
        Some(te4)
    );
    let te6 = Response::TimeExceeded {
        from: R6,
        ttl: Some(64),
        mpls: vec![label(16005, 0, true, 1)],
    };
    assert_eq!(
        classify_mpls(true, &fixture("v6_time_exceeded_udp_mpls")),
        Some(te6)
    );
    assert_eq!(
        label(16005, 0, true, 1).to_string(),
        "[MPLS: Lbl 16005 TC 0 S 1 TTL 1]"
    );
}

/// Garbled extensions (bad checksum, version, lengths, cut short) leave the
/// Time Exceeded matched with no labels; never a panic.
#[test]
fn garbled_icmp_extensions_are_ignored() {
    let good = fixture("v4_time_exceeded_echo_mpls");
    // The extension header sits after IP (20) + ICMP (8) + 128 bytes.
    let ext = 20 + 8 + 128;
    let plain = Some(Response::TimeExceeded {
        from: R4,
        ttl: Some(64),
        mpls: Vec::new(),
    });
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    let mut bad_sum = good.clone();
    bad_sum[ext + 3] ^= 0xff;
    cases.push(("bad checksum", bad_sum));
    let mut bad_version = good.clone();
    bad_version[ext] = 0x10;
    cases.push(("version 1", bad_version));
    let mut short_length = good.clone();
    short_length[20 + 5] = 8; // 32 bytes: RFC 4884 says at least 128
    cases.push(("length below 128", short_length));
    let mut past_end = good.clone();
    past_end[20 + 5] = 0xff;
    cases.push(("length past the end", past_end));
    for (what, packet) in &cases {
        assert_eq!(classify_mpls(false, packet), plain, "{what}");
    }
    // Object lengths 0..=255 under a recomputed checksum: no panic, and an
    // object running past the end yields nothing.
    for len in 0..=255u16 {
        let mut p = good.clone();
        p[ext + 4..ext + 6].copy_from_slice(&len.to_be_bytes());
        p[ext + 2..ext + 4].copy_from_slice(&[0, 0]);
        let sum = crate::probe::packet::internet_checksum(&p[ext..]);
        p[ext + 2..ext + 4].copy_from_slice(&sum.to_be_bytes());
        let got = classify_mpls(false, &p);
        assert!(
            matches!(got, Some(Response::TimeExceeded { .. })),
            "len {len}"
        );
        if !(4..=12).contains(&len) {
            assert_eq!(got, plain, "object length {len}");
        }
    }
    // Every cut inside the extension still matches the probe.
    for cut in ext..good.len() {
        let got = classify_mpls(false, &good[..cut]);
        assert!(
            matches!(got, Some(Response::TimeExceeded { .. })),
            "cut {cut}"
        );
    }
}

/// `packet` (a fixture Time Exceeded, v4 with its IP header, v6 with its
/// 40-byte header) turned into a Destination Unreachable of `icmp_type` /
/// `code` with the same quoted probe and extension, checksum redone.
fn retyped(packet: &[u8], v6: bool, icmp_type: u8, code: u8) -> Vec<u8> {
    let mut p = packet.to_vec();
    let at = if v6 { 40 } else { usize::from(p[0] & 0x0f) * 4 };
    p[at] = icmp_type;
    p[at + 1] = code;
    p[at + 2..at + 4].copy_from_slice(&[0, 0]);
    if !v6 {
        // ICMPv6's checksum covers a pseudo-header the matcher does not
        // check; ICMPv4's is plain.
        let sum = crate::probe::packet::internet_checksum(&p[at..]);
        p[at + 2..at + 4].copy_from_slice(&sum.to_be_bytes());
    }
    p
}

/// RFC 4950 label stacks ride on Destination Unreachable as well (RFC
/// 4884 defines the length field for types 3/11/12 and ICMPv6 1/3): the
/// router's refusal keeps its labels.
#[test]
fn mpls_label_stacks_come_with_destination_unreachable_too() {
    let v4 = retyped(&fixture("v4_time_exceeded_echo_mpls"), false, 3, 1);
    assert_eq!(
        classify_mpls(false, &v4),
        Some(Response::Unreachable {
            from: R4,
            icmp_type: 3,
            code: 1,
            mtu: None,
            mpls: vec![label(16005, 0, false, 1), label(24001, 5, true, 1)],
        })
    );
    let v6 = retyped(&fixture("v6_time_exceeded_udp_mpls"), true, 1, 3);
    assert_eq!(
        classify_mpls(true, &v6),
        Some(Response::Unreachable {
            from: R6,
            icmp_type: 1,
            code: 3,
            mtu: None,
            mpls: vec![label(16005, 0, true, 1)],
        })
    );
    // Every cut of the v4 one still matches, labels or none, never a panic.
    for cut in 28..v4.len() {
        let got = classify_mpls(false, &v4[..cut]);
        assert!(
            cut < 56 || matches!(got, Some(Response::Unreachable { .. })),
            "cut {cut}: {got:?}"
        );
    }
}
