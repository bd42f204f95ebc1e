#!/usr/bin/env python3
"""Builds ~N TCP sockets on loopback for benches/sockets.sh: E connections
held open (2*E ESTABLISHED sockets, both ends) and T connections closed by
the client first (T TIME_WAIT sockets), spread over a few listening ports.
Held connections are split over worker processes so that none needs more
descriptors than the (unraisable) hard RLIMIT_NOFILE allows.

usage: sockets_build.py READYFILE ESTABLISHED_CONNS TIME_WAIT_CONNS
Writes the pid to READYFILE when done, then sleeps until killed.
"""
import os
import resource
import socket
import sys
import time

PORTS = [21001, 21002, 21003, 21004]


def die_with_parent():
    """PR_SET_PDEATHSIG(SIGKILL): a worker never outlives the builder."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def listen(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(4096)
    return s


def hold(s, port, count, pipe_w):
    """Worker: `count` connections to its listener, both ends held."""
    s.setblocking(False)
    held = []

    def drain():
        while True:
            try:
                c, _ = s.accept()
            except BlockingIOError:
                return
            held.append(c)

    for i in range(count):
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", port))
        held.append(c)
        if i % 1000 == 999:
            drain()
    time.sleep(0.2)
    drain()
    os.write(pipe_w, b"x")
    while True:
        time.sleep(3600)


def main():
    readyfile, est, tw = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    per_worker = max(1, (hard - 100) // 2)
    workers = (est + per_worker - 1) // per_worker
    # Every listener exists before any connect, so no ephemeral port takes
    # a listening port (the range is 1024-65535).
    listeners = [listen(p) for p in PORTS]
    worker_ports = [PORTS[0] + 100 + k for k in range(workers)]
    worker_listeners = [listen(p) for p in worker_ports]
    r, w = os.pipe()
    for k in range(workers):
        count = min(per_worker, est - k * per_worker)
        if os.fork() == 0:
            os.close(r)
            die_with_parent()
            for other in worker_listeners[:k] + worker_listeners[k + 1 :] + listeners:
                other.close()
            hold(worker_listeners[k], worker_ports[k], count, w)
            os._exit(0)
    for s in worker_listeners:
        s.close()
    for _ in range(workers):
        os.read(r, 1)
    t0 = time.time()
    for i in range(tw):
        s = listeners[i % len(listeners)]
        c = socket.create_connection(("127.0.0.1", PORTS[i % len(PORTS)]))
        a, _ = s.accept()
        c.close()  # our FIN first: the client end goes to TIME_WAIT
        a.close()
    sys.stderr.write(f"{workers} workers hold {est} connections; {tw} TIME_WAIT in {time.time() - t0:.1f} s\n")
    time.sleep(0.5)
    with open(readyfile + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(readyfile + ".tmp", readyfile)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
