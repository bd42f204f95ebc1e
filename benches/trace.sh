#!/usr/bin/env bash
# netdx trace / mtr vs traceroute / mtr, side by side in one run (as root):
#  1. wall time of a full trace through 5 routers with one silent hop (r3
#     drops its TTL-exceeded messages): netdx trace vs `traceroute -n`
#     (UDP) and `traceroute -I -n` (ICMP), same wait (-w 2) and 3 probes/hop;
#  2. `mtr -r -c 100 -i 0.1` vs `netdx mtr -r -c 100 -i 0.1` on the same
#     chain: wall and CPU seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib.sh
cargo build --release -q
NETDX=$PWD/target/release/netdx

chain btrace 5
SERVER=198.18.5.2
in_client() { ip netns exec btrace-client "$@"; }
echo 'table inet quiet { chain out { type filter hook output priority 0; icmp type time-exceeded drop; }; }' |
  ip netns exec btrace-r3 nft -f -

echo "== full trace, 5 routers, hop 3 silent, -w 2, 3 probes per hop (s: wall user sys) =="
ours_icmp=$(cpu_of in_client "$NETDX" trace -n -w 2 $SERVER)
ours_udp=$(cpu_of in_client "$NETDX" trace -n -w 2 --udp $SERVER)
ref_udp=$(cpu_of in_client traceroute -n -w 2 $SERVER)
ref_icmp=$(cpu_of in_client traceroute -I -n -w 2 $SERVER)
echo "netdx trace (icmp)   $ours_icmp"
echo "netdx trace --udp    $ours_udp"
echo "traceroute -n (udp)  $ref_udp"
echo "traceroute -I -n     $ref_icmp"
echo "$ours_udp $ref_udp" | awk '{printf "wall ratio netdx --udp / traceroute -n:  %.2f\n", ($4>0)?$1/$4:0}'
echo "$ours_icmp $ref_icmp" | awk '{printf "wall ratio netdx icmp / traceroute -I:  %.2f\n", ($4>0)?$1/$4:0}'

echo "== mtr -r -c 100 -i 0.1, same chain (s: wall user sys) =="
ours=$(cpu_of in_client "$NETDX" mtr -r -n -c 100 -i 0.1 $SERVER)
ref=$(cpu_of in_client mtr -r -n -c 100 -i 0.1 $SERVER)
echo "netdx mtr -r  $ours"
echo "mtr -r        $ref"
echo "$ours $ref" | awk '{u=$2+$3; r=$5+$6; printf "wall ratio netdx/mtr %.2f; cpu ratio netdx/mtr %.2f (netdx %.3f s, mtr %.3f s)\n", ($4>0)?$1/$4:0, (r>0)?u/r:0, u, r}'
