#!/usr/bin/env python3
"""Captures the packets in packets.txt from a real Linux stack (run as root).

Three network namespaces, host A - router R - host B:

    A 198.18.1.1  2001:db8:1::1  --  R 198.18.1.2 / 198.18.2.1     --  B 198.18.2.2  2001:db8:2::2
                                       2001:db8:1::2 / 2001:db8:2::1
                                       (R->B link MTU 1280)

A sends probes (ICMP echo, UDP, TCP SYN, with TTL 1 or to unroutable,
prohibited or unanswered addresses) and records every IP packet it
receives with an AF_PACKET socket, as `tcpdump -xx` would show them minus
the Ethernet header. Prints `name: hex` lines for packets.txt.
"""

import ctypes
import os
import socket
import struct
import subprocess
import sys
import threading
import time

NS = ["seamcap-a", "seamcap-r", "seamcap-b"]
ID = 0x4E44  # echo identifier of every probe ("ND")


def sh(cmd):
    subprocess.run(cmd, shell=True, check=True)


def setup():
    teardown()
    for ns in NS:
        sh(f"ip netns add {ns}")
        sh(f"ip -n {ns} link set lo up")
    sh("ip link add seamcap-a0 netns seamcap-a type veth peer name seamcap-r0 netns seamcap-r")
    sh("ip link add seamcap-r1 netns seamcap-r type veth peer name seamcap-b0 netns seamcap-b")
    sh("ip -n seamcap-r link set seamcap-r1 mtu 1280")
    sh("ip -n seamcap-b link set seamcap-b0 mtu 1280")
    for ns, dev, v4, v6 in [
        ("seamcap-a", "seamcap-a0", "198.18.1.1/24", "2001:db8:1::1/64"),
        ("seamcap-r", "seamcap-r0", "198.18.1.2/24", "2001:db8:1::2/64"),
        ("seamcap-r", "seamcap-r1", "198.18.2.1/24", "2001:db8:2::1/64"),
        ("seamcap-b", "seamcap-b0", "198.18.2.2/24", "2001:db8:2::2/64"),
    ]:
        sh(f"ip -n {ns} addr add {v4} dev {dev}")
        sh(f"ip -n {ns} addr add {v6} dev {dev} nodad")
        sh(f"ip -n {ns} link set {dev} up")
    sh("ip netns exec seamcap-r sysctl -qw net.ipv4.ip_forward=1")
    sh("ip netns exec seamcap-r sysctl -qw net.ipv6.conf.all.forwarding=1")
    sh("ip netns exec seamcap-r sysctl -qw net.ipv4.icmp_ratelimit=0")
    sh("ip netns exec seamcap-r sysctl -qw net.ipv6.icmp.ratelimit=0")
    sh("ip netns exec seamcap-b sysctl -qw net.ipv4.icmp_ratelimit=0")
    sh("ip netns exec seamcap-b sysctl -qw net.ipv6.icmp.ratelimit=0")
    sh("ip -n seamcap-a route add default via 198.18.1.2")
    sh("ip -n seamcap-a -6 route add default via 2001:db8:1::2")
    sh("ip -n seamcap-b route add default via 198.18.2.1")
    sh("ip -n seamcap-b -6 route add default via 2001:db8:2::1")
    # R: a reject route (host unreachable) and a prohibit route (admin-prohibited).
    sh("ip -n seamcap-r route add unreachable 198.18.98.0/24")
    sh("ip -n seamcap-r route add prohibit 198.18.97.0/24")
    sh("ip -n seamcap-r -6 route add prohibit 2001:db8:97::/64")
    time.sleep(1)


def teardown():
    for ns in NS:
        subprocess.run(f"ip netns del {ns}", shell=True, stderr=subprocess.DEVNULL)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def echo4(seq, payload=16):
    body = bytes(i % 256 for i in range(payload))
    head = struct.pack("!BBHHH", 8, 0, 0, ID, seq)
    s = checksum(head + body)
    return struct.pack("!BBHHH", 8, 0, s, ID, seq) + body


def echo6(seq, payload=16):
    body = bytes(i % 256 for i in range(payload))
    return struct.pack("!BBHHH", 128, 0, 0, ID, seq) + body  # kernel sums


def in_ns(name):
    fd = os.open(f"/var/run/netns/{name}", os.O_RDONLY)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
        raise OSError(ctypes.get_errno(), "setns")
    os.close(fd)


captured = []


def capture(stop):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0003))
    s.bind(("seamcap-a0", 0))
    s.settimeout(0.2)
    while not stop.is_set():
        try:
            data, addr = s.recvfrom(65536)
        except socket.timeout:
            continue
        except OSError:  # ENETDOWN while the veth carrier settles
            time.sleep(0.05)
            continue
        # addr: (ifname, proto, pkttype, hatype, haddr); pkttype 4 = outgoing
        if addr[2] == 4 or addr[1] not in (0x0800, 0x86DD):
            continue
        captured.append((time.time(), data))


def take(name, want):
    """Waits for the first captured packet for which want(data) holds."""
    deadline = time.time() + 6
    while time.time() < deadline:
        for i, (_, data) in enumerate(captured):
            if want(data):
                del captured[i]
                print(f"{name}: {data.hex()}")
                sys.stdout.flush()
                return
        time.sleep(0.05)
    print(f"# {name}: NOT CAPTURED", file=sys.stderr)


def icmp4(t, c):
    return lambda d: d[0] >> 4 == 4 and d[9] == 1 and d[(d[0] & 15) * 4] == t and d[(d[0] & 15) * 4 + 1] == c


def icmp6(t, c):
    return lambda d: d[0] >> 4 == 6 and d[6] == 58 and d[40] == t and d[41] == c


def tcp4(flags):
    return lambda d: d[0] >> 4 == 4 and d[9] == 6 and d[(d[0] & 15) * 4 + 13] & 0x17 == flags


def tcp6(flags):
    return lambda d: d[0] >> 4 == 6 and d[6] == 6 and d[40 + 13] & 0x17 == flags


def tcp_syn(family, dst, port, sport, ttl=None):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("" if family == socket.AF_INET else "::", sport))
    if ttl is not None:
        if family == socket.AF_INET:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
        else:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, ttl)
    s.setblocking(False)
    try:
        s.connect((dst, port))
    except (BlockingIOError, OSError):
        pass
    return s


def main():
    setup()
    try:
        # B: one TCP listener on 8080 (v4 and v6); 8081 and UDP 33434 stay closed.
        pid = os.fork()
        if pid == 0:
            in_ns("seamcap-b")
            l4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            l4.bind(("0.0.0.0", 8080))
            l4.listen(16)
            l6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            l6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            l6.bind(("::", 8080))
            l6.listen(16)
            time.sleep(60)
            os._exit(0)
        time.sleep(0.5)
        in_ns("seamcap-a")
        stop = threading.Event()
        t = threading.Thread(target=capture, args=(stop,))
        t.start()
        time.sleep(0.3)

        r4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        r6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        u4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u4.bind(("0.0.0.0", 40000))
        u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        u6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        u6.bind(("::", 40000))

        def ping4(dst, seq, ttl=64, payload=16):
            r4.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
            r4.sendto(echo4(seq, payload), (dst, 0))

        def ping6(dst, seq, hops=64, payload=16):
            r6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, hops)
            r6.sendto(echo6(seq, payload), (dst, 0))

        # Echo replies from B.
        ping4("198.18.2.2", 1)
        take("v4_echo_reply", icmp4(0, 0))
        ping6("2001:db8:2::2", 1)
        take("v6_echo_reply", icmp6(129, 0))
        # Time Exceeded from R quoting echo, UDP and TCP SYN.
        ping4("198.18.2.2", 2, ttl=1)
        take("v4_time_exceeded_echo", icmp4(11, 0))
        u4.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 1)
        u4.sendto(b"netdx-probe-data", ("198.18.2.2", 33434))
        take("v4_time_exceeded_udp", icmp4(11, 0))
        s = tcp_syn(socket.AF_INET, "198.18.2.2", 443, 40001, ttl=1)
        take("v4_time_exceeded_tcp_syn", icmp4(11, 0))
        s.close()
        ping6("2001:db8:2::2", 2, hops=1)
        take("v6_time_exceeded_echo", icmp6(3, 0))
        u6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 1)
        u6.sendto(b"netdx-probe-data", ("2001:db8:2::2", 33434))
        take("v6_time_exceeded_udp", icmp6(3, 0))
        s = tcp_syn(socket.AF_INET6, "2001:db8:2::2", 443, 40001, ttl=1)
        take("v6_time_exceeded_tcp_syn", icmp6(3, 0))
        s.close()
        # Destination Unreachable, v4.
        # R's ip_error() rate limit per peer (one error a second, none at
        # first) swallows the first error it would send A: ask twice, and
        # wait before each later one.
        ping4("198.18.99.1", 3)
        time.sleep(1.2)
        ping4("198.18.99.1", 3)
        take("v4_net_unreachable", icmp4(3, 0))
        time.sleep(1.2)
        ping4("198.18.98.1", 4)
        take("v4_host_unreachable", icmp4(3, 1))
        u4.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 64)
        u4.sendto(b"netdx-probe-data", ("198.18.2.2", 33434))
        take("v4_port_unreachable", icmp4(3, 3))
        time.sleep(1.2)
        ping4("198.18.97.1", 5)
        take("v4_admin_prohibited", icmp4(3, 13))
        r4.setsockopt(socket.IPPROTO_IP, 10, 3)  # IP_MTU_DISCOVER = IP_PMTUDISC_PROBE: DF on
        ping4("198.18.2.2", 6, payload=1400)
        take("v4_frag_needed", icmp4(3, 4))
        # Destination Unreachable, v6.
        ping6("2001:db8:99::1", 3)
        take("v6_no_route", icmp6(1, 0))
        ping6("2001:db8:97::1", 4)
        take("v6_admin_prohibited", icmp6(1, 1))
        u6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 64)
        u6.sendto(b"netdx-probe-data", ("2001:db8:2::2", 33434))
        take("v6_port_unreachable", icmp6(1, 4))
        ping6("2001:db8:2::99", 5)
        take("v6_address_unreachable", icmp6(1, 3))
        ping6("2001:db8:2::2", 6, payload=1400)
        take("v6_packet_too_big", icmp6(2, 0))
        # TCP answers from B: SYN-ACK from the listener, RST from a closed port.
        s = tcp_syn(socket.AF_INET, "198.18.2.2", 8080, 40002)
        take("v4_tcp_syn_ack", tcp4(0x12))
        s.close()
        s = tcp_syn(socket.AF_INET, "198.18.2.2", 8081, 40003)
        take("v4_tcp_rst", tcp4(0x14))
        s.close()
        s = tcp_syn(socket.AF_INET6, "2001:db8:2::2", 8080, 40002)
        take("v6_tcp_syn_ack", tcp6(0x12))
        s.close()
        s = tcp_syn(socket.AF_INET6, "2001:db8:2::2", 8081, 40003)
        take("v6_tcp_rst", tcp6(0x14))
        s.close()
        # ARP failure on R's link to B (slow: the neighbour entry must fail).
        ping4("198.18.2.99", 7)
        take("v4_host_unreachable_arp", icmp4(3, 1))
        # Traffic a probe socket also sees and must ignore.
        take("v6_neighbor_solicitation", icmp6(135, 0))
        take("v4_tcp_ack", tcp4(0x10))
        stop.set()
        t.join()
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    finally:
        teardown()


if __name__ == "__main__":
    main()
