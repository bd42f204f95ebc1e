#!/usr/bin/env bash
# netdx trace / mtr vs traceroute / mtr, side by side in one run (as root),
# each measured for wall, CPU (user+sys) seconds and peak RSS (GNU time):
#  1. a silent destination at DEFAULT settings (no -w, -q, -N for either
#     tool): 5 routers, r3 drops its TTL-exceeded, the server drops every
#     packet: `netdx trace -n` and `netdx trace -n -U` vs `traceroute -n`
#     (UDP) and `traceroute -I -n`; the goal is at most 1/5 of traceroute;
#  2. the healthy path (server answering), defaults again: no slower than
#     traceroute;
#  3. the old case: the server answers, -w 2 for both;
#  4. `mtr -r -c 100 -i 0.1` vs `netdx mtr -r -c 100 -i 0.1`.
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

# measure CMD...: "wall cpu rss_mb" of CMD run in the client namespace.
measure() {
  local tf t0 t1 user sys rss
  tf=$(mktemp)
  t0=$(date +%s.%N)
  ip netns exec btrace-client /usr/bin/time -o "$tf" -f '%U %S %M' "$@" >/dev/null 2>&1 || true
  t1=$(date +%s.%N)
  read -r user sys rss < <(tail -n 1 "$tf")
  rm -f "$tf"
  awk -v a="$t0" -v b="$t1" -v u="$user" -v s="$sys" -v r="$rss" \
    'BEGIN{printf "%.3f %.3f %.1f", b-a, u+s, r/1024}'
}
row() { printf '%-26s wall %7.3f s  cpu %6.3f s  peak RSS %6.1f MB\n' "$1" $2 $3 $4; }
ratio() { echo "$2 $3" | awk -v n="$1" '{printf "%-44s %.2f\n", n, ($4>0)?$1/$4:0}'; }

echo "== 1. silent destination, default settings (5 routers, hop 3 silent, server drops all) =="
echo 'table inet d { chain input { type filter hook input priority 0; drop; }; }' |
  ip netns exec btrace-server nft -f -
s_icmp=$(measure "$NETDX" trace -n $SERVER)
s_udp=$(measure "$NETDX" trace -n -U $SERVER)
s_ref=$(measure traceroute -n $SERVER)
s_refi=$(measure traceroute -I -n $SERVER)
row "netdx trace -n" $s_icmp
row "netdx trace -n -U" $s_udp
row "traceroute -n" $s_ref
row "traceroute -I -n" $s_refi
ratio "wall ratio netdx -U / traceroute -n:" "$s_udp" "$s_ref"
ratio "wall ratio netdx / traceroute -I -n:" "$s_icmp" "$s_refi"
ip netns exec btrace-server nft flush ruleset

echo "== 2. healthy destination, default settings (hop 3 silent) =="
h_icmp=$(measure "$NETDX" trace -n $SERVER)
h_udp=$(measure "$NETDX" trace -n -U $SERVER)
h_ref=$(measure traceroute -n $SERVER)
h_refi=$(measure traceroute -I -n $SERVER)
row "netdx trace -n" $h_icmp
row "netdx trace -n -U" $h_udp
row "traceroute -n" $h_ref
row "traceroute -I -n" $h_refi
ratio "wall ratio netdx -U / traceroute -n:" "$h_udp" "$h_ref"
ratio "wall ratio netdx / traceroute -I -n:" "$h_icmp" "$h_refi"

echo "== 3. healthy destination, -w 2 for both =="
w_udp=$(measure "$NETDX" trace -n -w 2 -U $SERVER)
w_ref=$(measure traceroute -n -w 2 $SERVER)
row "netdx trace -n -w 2 -U" $w_udp
row "traceroute -n -w 2" $w_ref
ratio "wall ratio netdx -U / traceroute -n:" "$w_udp" "$w_ref"

echo "== 4. mtr -r -n -c 100 -i 0.1, same chain =="
m_ours=$(measure "$NETDX" mtr -r -n -c 100 -i 0.1 $SERVER)
m_ref=$(measure mtr -r -n -c 100 -i 0.1 $SERVER)
row "netdx mtr -r" $m_ours
row "mtr -r" $m_ref
ratio "wall ratio netdx/mtr:" "$m_ours" "$m_ref"
echo "$m_ours $m_ref" | awk '{printf "%-44s %.2f\n", "cpu ratio netdx/mtr:", ($5>0)?$2/$5:0}'
