#!/usr/bin/env bash
# netdx ping vs iputils ping, side by side in one run (as root):
#  1. RTT floor: min/avg over 1000 probes at 1 ms, on loopback and across 3 routers;
#  2. CPU time for 10,000 probes at 1 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib.sh
cargo build --release -q
NETDX=$PWD/target/release/netdx

chain bping 3
SERVER=198.18.3.2
in_client() { ip netns exec bping-client "$@"; }

rtt_of() { # prints "min avg" from a ping-style summary line
  grep -E 'min/avg/max' | sed -E 's#.*= ([0-9.]+)/([0-9.]+)/.*#\1 \2#'
}

echo "== RTT floor, 1000 probes at 1 ms (ms: min avg) =="
for where in loopback 3-routers; do
  if [ "$where" = loopback ]; then target=127.0.0.1; run=in_client; ip -n bping-client link set lo up; else target=$SERVER; run=in_client; fi
  ours=$($run "$NETDX" ping -q -c 1000 -i 0.001 -W 1 "$target" | rtt_of)
  ref=$($run ping -q -c 1000 -i 0.001 -W 1 "$target" | rtt_of)
  echo "$where: netdx $ours | iputils $ref" |
    awk '{printf "%-10s netdx min %s avg %s | iputils min %s avg %s | avg ratio netdx/iputils %.2f\n", $1, $3, $4, $7, $8, ($8>0)?$4/$8:0}'
done

echo "== CPU for 10,000 probes at 1 ms across 3 routers (s: wall user sys) =="
ours=$(cpu_of in_client "$NETDX" ping -q -c 10000 -i 0.001 -W 1 $SERVER)
ref=$(cpu_of in_client ping -q -c 10000 -i 0.001 -W 1 $SERVER)
echo "netdx   $ours"
echo "iputils $ref"
echo "$ours $ref" | awk '{u=$2+$3; r=$5+$6; printf "cpu ratio netdx/iputils %.2f (netdx %.3f s, iputils %.3f s)\n", (r>0)?u/r:0, u, r}'
