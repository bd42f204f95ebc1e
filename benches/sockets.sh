#!/usr/bin/env bash
# netdx sockets vs `ss -s`, `ss -tan | awk` and `netstat -nat | awk` on a
# namespace holding ~100,000 TCP sockets (ESTABLISHED pairs + TIME_WAIT),
# run once (as root): wall time and peak RSS of each, and the ratios.
# Usage: benches/sockets.sh [ESTABLISHED_CONNS] [TIME_WAIT_CONNS]
#   default 25000 held connections (50,000 ESTABLISHED sockets, both ends)
#   and 50,000 TIME_WAIT: 100,004 sockets with the 4 listeners.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib.sh
EST=${1:-25000}
TW=${2:-50000}
cargo build --release -q
NETDX=$PWD/target/release/netdx

NS=bsock-$$
ip netns add "$NS"
BENCH_NS+=("$NS")
ip -n "$NS" link set lo up
ip netns exec "$NS" sysctl -qw net.ipv4.ip_local_port_range="1024 65535" \
  net.ipv4.tcp_tw_reuse=0 net.ipv4.tcp_max_tw_buckets=262144 net.core.somaxconn=4096
in_ns() { ip netns exec "$NS" "$@"; }

READY=$(mktemp -u /tmp/netdx-bench-sockets.XXXXXX)
ulimit -n "$(ulimit -Hn)"
t0=$(date +%s.%N)
ip netns exec "$NS" python3 benches/sockets_build.py "$READY" "$EST" "$TW" &
BUILDER=$!
stop_builder() { pkill -P "$BUILDER" 2>/dev/null || true; kill "$BUILDER" 2>/dev/null || true; }
trap 'stop_builder; bench_cleanup' EXIT
while [ ! -e "$READY" ]; do
  kill -0 "$BUILDER" 2>/dev/null || { echo "socket builder died" >&2; exit 1; }
  sleep 0.2
done
rm -f "$READY"
echo "built in $(echo "$(date +%s.%N) - $t0" | bc) s"

# measure NAME CMD...: wall seconds and peak RSS (KiB) of CMD, run inside the
# namespace under GNU time (which forks CMD, so the RSS is CMD's own and not
# that of `ip netns exec`); for a pipeline, the peak of its largest process.
# Prints NAME, wall, RSS and the last line CMD printed.
measure() {
  local name=$1; shift
  local tf out t0 t1 wall rss
  tf=$(mktemp)
  t0=$(date +%s.%N)
  out=$(ip netns exec "$NS" /usr/bin/time -f '%M' -o "$tf" "$@" 2>/dev/null | tail -n 1)
  t1=$(date +%s.%N)
  wall=$(echo "$t1 - $t0" | bc)
  read -r rss <"$tf"
  rm -f "$tf"
  printf '%s\t%s\t%s\t%s\n' "$name" "$wall" "$rss" "$out"
}

AWK='{c[$1]++} END {for (s in c) printf "%s=%d ", s, c[s]; print ""}'
results=$(
  measure "netdx sockets" "$NETDX" sockets --no-color
  measure "netdx sockets --source proc" "$NETDX" sockets --source proc --no-color
  measure "netdx sockets -p (owners)" "$NETDX" sockets -p --no-color
  measure "ss -s" ss -s
  measure "ss -tan | awk" bash -c "ss -tan | awk '$AWK'"
  measure "netstat -nat | awk" bash -c "netstat -nat | awk '\$1 ~ /^tcp/ {c[\$6]++} END {for (s in c) printf \"%s=%d \", s, c[s]; print \"\"}'"
)
echo "census taken by each tool (last line of its output):"
echo "$results" | awk -F'\t' '{printf "  %-28s %s\n", $1, $4}'
in_ns "$NETDX" sockets --no-color | head -2 | sed 's/^/  netdx: /'
in_ns ss -s | grep '^TCP:' | sed 's/^/  ss -s: /'
echo
echo "tool                          wall s   peak RSS KiB   wall netdx/tool   RSS netdx/tool"
ours_wall=$(echo "$results" | awk -F'\t' 'NR==1 {print $2}')
ours_rss=$(echo "$results" | awk -F'\t' 'NR==1 {print $3}')
echo "$results" | awk -F'\t' -v w="$ours_wall" -v r="$ours_rss" \
  '{printf "%-28s %8.3f %14d %17.2f %16.2f\n", $1, $2, $3, ($2>0)?w/$2:0, ($3>0)?r/$3:0}'
