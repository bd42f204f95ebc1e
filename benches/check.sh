#!/usr/bin/env bash
# netdx check (2,000 lines, each `tcp 127.0.0.1:P` on a closed port) vs one
# `netdx tcp 127.0.0.1:20000-21999` over the same targets, in one run, both
# at their default settings (check: --parallel 16; tcp: --parallel 256),
# plus check at --parallel 256. Loopback only. Reports wall, CPU (user+sys)
# and peak RSS, best of 7 runs each, and the ratio check/tcp (goal <= 3).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
NETDX=$PWD/target/release/netdx
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
for p in $(seq 20000 21999); do echo "tcp 127.0.0.1:$p"; done >"$WORK/checks.txt"

# measure NAME CMD...: best of 7 runs: wall (ns clock), CPU (user+sys) and
# peak RSS from /usr/bin/time of that run; output discarded.
measure() {
  local name=$1 best_ns=0 best_time="" i start ns
  shift
  for i in 1 2 3 4 5 6 7; do
    start=$(date +%s%N)
    /usr/bin/time -o "$WORK/time" -f '%U %S %M' "$@" >/dev/null 2>&1 || true
    ns=$(( $(date +%s%N) - start ))
    if [ "$best_ns" -eq 0 ] || [ "$ns" -lt "$best_ns" ]; then
      best_ns=$ns
      best_time=$(tail -1 "$WORK/time")
    fi
  done
  echo "$best_ns $best_time" | awk -v n="$name" '{printf "%-28s wall %7.3f s  cpu %6.2f s  peak RSS %6.1f MB\n", n, $1/1e9, $2+$3, $4/1024}'
  echo "$best_ns" >"$WORK/$name.wall"
}

echo "== 2,000 closed loopback ports: check file vs one tcp run =="
measure tcp "$NETDX" tcp 127.0.0.1:20000-21999
measure check "$NETDX" check "$WORK/checks.txt"
measure check-parallel-256 "$NETDX" check --parallel 256 "$WORK/checks.txt"
for name in check check-parallel-256; do
  awk -v n="$name" -v a="$(cat "$WORK/$name.wall")" -v b="$(cat "$WORK/tcp.wall")" \
    'BEGIN{printf "ratio %s / tcp (wall): %.2f\n", n, (b>0)?a/b:0}'
done
