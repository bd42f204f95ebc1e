#!/usr/bin/env bash
# netdx serve vs prometheus-blackbox-exporter (Debian package), same run,
# loopback only: N /probe requests (default 2,000) sent by one curl with
# --parallel-max C (default 16) against each exporter at its default
# settings, for a tcp connect to an open loopback port and a one-packet
# ICMP echo to 127.0.0.1. Reports probes per second, the exporter's CPU
# (user+sys, from /proc) and its peak RSS (VmHWM), and the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-2000}
C=${C:-16}
cargo build --release -q
NETDX=$PWD/target/release/netdx
BLACKBOX=$(command -v prometheus-blackbox-exporter || true)
[ -n "$BLACKBOX" ] || { echo "install prometheus-blackbox-exporter (see .ci/run)"; exit 3; }
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 18080)); s.listen(1024)
while True:
    c, _ = s.accept(); c.close()' &
PIDS+=($!)
for _ in $(seq 50); do ss -Hltn | grep -q '127.0.0.1:18080 ' && break; sleep 0.1; done
cat >"$WORK/blackbox.yml" <<'YML'
modules:
  tcp:
    prober: tcp
  icmp1:
    prober: icmp
YML
cat >"$WORK/netdx.toml" <<'TOML'
[modules.icmp1]
prober = "icmp"
count = 1
TOML
"$BLACKBOX" --config.file="$WORK/blackbox.yml" --web.listen-address=127.0.0.1:19115 >/dev/null 2>&1 &
PIDS+=($!); BB_PID=$!
"$NETDX" serve --listen 127.0.0.1:19469 --config "$WORK/netdx.toml" >/dev/null 2>&1 &
PIDS+=($!); NX_PID=$!
for url in http://127.0.0.1:19115/metrics http://127.0.0.1:19469/metrics; do
  for _ in $(seq 50); do curl -sf -o /dev/null "$url" && break; sleep 0.1; done
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# load NAME PID PORT MODULE TARGET: N probes, C at a time.
load() {
  local name=$1 pid=$2 port=$3 module=$4 target=$5 start ns t0 t1 ok
  : >"$WORK/curl.cfg"
  for _ in $(seq "$N"); do
    printf 'url = "http://127.0.0.1:%s/probe?module=%s&target=%s"\noutput = "/dev/null"\n' "$port" "$module" "$target" >>"$WORK/curl.cfg"
  done
  ok=$(curl -s "http://127.0.0.1:$port/probe?module=$module&target=$target" | grep -c '^probe_success 1' || true)
  t0=$(cpu_ticks "$pid")
  start=$(date +%s%N)
  curl -s --no-progress-meter --parallel --parallel-max "$C" -K "$WORK/curl.cfg" 2>/dev/null
  ns=$(( $(date +%s%N) - start ))
  t1=$(cpu_ticks "$pid")
  awk -v n="$name" -v ns="$ns" -v N="$N" -v cpu="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" \
      -v rss="$(awk '/VmHWM/{print $2}' "/proc/$pid/status")" -v ok="$ok" \
    'BEGIN{printf "%-22s %8.0f probes/s  cpu %6.2f s  peak RSS %6.1f MB  (probe_success 1: %s)\n", n, N/(ns/1e9), cpu/hz, rss/1024, ok=="1"?"yes":"NO"}'
  echo "$ns" >"$WORK/$name.ns"
}

echo "== $N probes, $C at a time, loopback =="
load netdx-tcp "$NX_PID" 19469 tcp 127.0.0.1:18080
load blackbox-tcp "$BB_PID" 19115 tcp 127.0.0.1:18080
load netdx-icmp1 "$NX_PID" 19469 icmp1 127.0.0.1
load blackbox-icmp1 "$BB_PID" 19115 icmp1 127.0.0.1
for m in tcp icmp1; do
  awk -v m="$m" -v a="$(cat "$WORK/netdx-$m.ns")" -v b="$(cat "$WORK/blackbox-$m.ns")" \
    'BEGIN{printf "ratio netdx/blackbox wall, %s: %.2f (below 1: netdx faster)\n", m, a/b}'
done
echo "peak RSS after both modules: netdx $(awk '/VmHWM/{print $2/1024}' /proc/$NX_PID/status) MB, blackbox $(awk '/VmHWM/{print $2/1024}' /proc/$BB_PID/status) MB"
