#!/usr/bin/env bash
# netdx watch -w vs tcpdump -w, both at default settings, on the same
# flood: a UDP blaster in the client namespace sends N datagrams (64-byte
# payload, as fast as python3 can) to a server port that is bound but never
# read; the capture runs in the server namespace on its veth with the filter
# `udp dst port 9999` and `-c N`, so each tool stops by itself once it has
# every packet (a 60 s timeout ends it otherwise). Each tool runs alone,
# ROUNDS times, on its own flood. Reported per run: wall (capture start to
# exit), user+sys CPU, peak RSS, packets captured and kernel drops; then
# the CPU per packet and the ratios tcpdump / netdx.
#   N=300000 ROUNDS=3 benches/watch.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib.sh
N=${N:-300000}
ROUNDS=${ROUNDS:-3}
[ -n "${NETDX_BIN:-}" ] || cargo build --release -q
NETDX=${NETDX_BIN:-$PWD/target/release/netdx}
WORK=$(mktemp -d)
SINK_PID=
cleanup_all() {
  [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null || true
  rm -rf "$WORK"
  bench_cleanup
}
trap cleanup_all EXIT

chain bwatch 0
C=bwatch-client S=bwatch-server
# A bound socket that never reads: datagrams arrive and are dropped at the
# full socket, with no ICMP port unreachable doubling the traffic.
ip netns exec $S python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 9999))
while True:
    time.sleep(3600)
' &
SINK_PID=$!
sleep 0.5

blast() {
  ip netns exec $C python3 -c '
import socket, sys, time
n = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("198.18.0.2", 9999))
payload = b"x" * 64
send = s.send
t = time.perf_counter()
for _ in range(n):
    send(payload)
dt = time.perf_counter() - t
print("%d datagrams in %.2f s: %.0f packets/s" % (n, dt, n / dt))
' "$N"
}

# run TOOL: one capture of the flood; prints "wall user sys rss_MB captured dropped".
run() {
  local tool=$1 out="$WORK/$1.out" tf="$WORK/$1.time" pid
  rm -f "$WORK/$tool.pcap"
  local cmd
  case $tool in
    tcpdump) cmd=(tcpdump -n -i west -c "$N" -w "$WORK/$tool.pcap" udp dst port 9999) ;;
    netdx) cmd=("$NETDX" watch -i west -c "$N" -w "$WORK/$tool.pcap" udp dst port 9999) ;;
  esac
  ip netns exec $S /usr/bin/time -o "$tf" -f '%e %U %S %M' timeout -s INT 60 "${cmd[@]}" >"$out" 2>&1 &
  pid=$!
  until ip netns exec $S ss -Hp0 | grep -q "\"$tool\""; do sleep 0.05; done
  sleep 0.5
  blast >&2
  wait "$pid" || true
  local captured dropped
  captured=$(grep -m1 'packets captured' "$out" | awk '{print $1}')
  dropped=$(grep -m1 'dropped by kernel' "$out" | awk '{print $1}')
  tail -n 1 "$tf" | awk -v c="${captured:-0}" -v d="${dropped:-?}" '{printf "%s %s %s %.1f %s %s\n", $1, $2, $3, $4/1024, c, d}'
}

echo "== $N datagrams per run, filter 'udp dst port 9999', -w FILE, default settings =="
printf '%-8s %8s %8s %8s %8s %10s %8s\n' tool wall_s user_s sys_s rss_MB captured dropped
for ((r = 1; r <= ROUNDS; r++)); do
  for tool in tcpdump netdx; do
    res=$(run $tool)
    echo "$tool $res" >>"$WORK/results"
    echo "$res" | awk -v t=$tool '{printf "%-8s %8s %8s %8s %8s %10s %8s\n", t, $1, $2, $3, $4, $5, $6}'
  done
done
echo "== tcpdump -r reads netdx's file =="
echo "netdx file: $(tcpdump -r "$WORK/netdx.pcap" 2>/dev/null | wc -l) packets; tcpdump file: $(tcpdump -r "$WORK/tcpdump.pcap" 2>/dev/null | wc -l) packets"
echo "== medians; CPU per captured packet; ratios tcpdump / netdx =="
awk '
  { cpu[$1] = cpu[$1] " " ($3 + $4); rss[$1] = rss[$1] " " $5; wall[$1] = wall[$1] " " $2; cap[$1] += $6; drop[$1] += ($7 == "?" ? 0 : $7); n[$1]++ }
  function median(s,   a, k, i, j, t) { k = split(s, a, " "); for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }; return a[int((k + 1) / 2)] }
  END {
    for (t in n) { mc[t] = median(cpu[t]); mr[t] = median(rss[t]); mw[t] = median(wall[t])
      printf "%-8s wall %.2f s  cpu %.2f s  rss %.1f MB  %.2f us cpu/packet  captured %d  dropped %d (all rounds)\n", t, mw[t], mc[t], mr[t], mc[t] / (cap[t] / n[t]) * 1e6, cap[t], drop[t] }
    if (mc["netdx"] > 0) printf "tcpdump/netdx: cpu %.2fx  rss %.2fx\n", mc["tcpdump"] / mc["netdx"], mr["tcpdump"] / mr["netdx"]
  }' "$WORK/results"
