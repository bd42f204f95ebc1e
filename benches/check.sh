#!/usr/bin/env bash
# netdx check (2,000 lines, each `tcp 127.0.0.1:P` on a closed port) vs one
# `netdx tcp 127.0.0.1:20000-21999` over the same targets, in one run, both
# at their default settings (check: --parallel 16; tcp: --parallel 256),
# plus check at --parallel 256. Loopback only. Reports wall, CPU (user+sys)
# and peak RSS, best of 3 runs each, and the ratio check/tcp (goal <= 3).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
NETDX=$PWD/target/release/netdx
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
for p in $(seq 20000 21999); do echo "tcp 127.0.0.1:$p"; done >"$WORK/checks.txt"

# measure NAME CMD...: best-of-3 "wall cpu rss_kb" for CMD (output discarded).
measure() {
  local name=$1 best="" i out
  shift
  for i in 1 2 3; do
    /usr/bin/time -o "$WORK/time" -f '%e %U %S %M' "$@" >/dev/null 2>&1 || true
    out=$(tail -1 "$WORK/time")
    best=$(printf '%s\n%s\n' "$best" "$out" | awk 'NF==4' | sort -n | head -1)
  done
  echo "$best" | awk -v n="$name" '{printf "%-28s wall %6.3f s  cpu %6.3f s  peak RSS %6.1f MB\n", n, $1, $2+$3, $4/1024}'
  echo "$best" | awk '{print $1}' >"$WORK/$name.wall"
}

echo "== 2,000 closed loopback ports: check file vs one tcp run =="
measure tcp "$NETDX" tcp 127.0.0.1:20000-21999
measure check "$NETDX" check "$WORK/checks.txt"
measure check-parallel-256 "$NETDX" check --parallel 256 "$WORK/checks.txt"
for name in check check-parallel-256; do
  awk -v n="$name" -v a="$(cat "$WORK/$name.wall")" -v b="$(cat "$WORK/tcp.wall")" \
    'BEGIN{printf "ratio %s / tcp (wall): %.2f\n", n, (b>0)?a/b:0}'
done
