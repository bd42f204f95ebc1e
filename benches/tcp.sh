#!/usr/bin/env bash
# netdx tcp vs a shell loop of `nc -z -w1` vs `nmap -sT`, on the same
# 10,000 host:port targets (as root):
#   10 server addresses (198.18.1.2-11) x 1000 ports (20001-21000):
#   ports 20001-20100 listen (1,000 open), 20101-20300 are dropped by nft on
#   the server (2,000 filtered), the rest answer RST (7,000 closed).
# Wall and CPU (user+sys, children included) for each tool. Then, both at
# default settings, wall, CPU and peak RSS of netdx and `nmap -sT -Pn -n` on
# ports 1-65535 of one host (100 open, 200 dropped) and 21001-65535 (all closed). The nc loop
# would take ~35 minutes (2,000 filtered x 1 s), so it runs on a stratified
# 2% sample (20 open, 40 filtered, 140 closed) and is extrapolated x50.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib.sh
cargo build --release -q
NETDX=$PWD/target/release/netdx
WORK=$(mktemp -d)
LISTENER_PID=
cleanup_all() {
  [ -n "$LISTENER_PID" ] && kill "$LISTENER_PID" 2>/dev/null || true
  rm -rf "$WORK"
  bench_cleanup
}
trap cleanup_all EXIT

chain btcp 1
C=btcp-client S=btcp-server
for h in $(seq 3 11); do ip -n $S addr add "198.18.1.$h/24" dev west; done
ip netns exec $S sysctl -qw net.core.somaxconn=4096 net.ipv4.tcp_max_syn_backlog=8192
ip netns exec $S nft -f - <<'NFT'
table inet bench {
  chain input {
    type filter hook input priority 0;
    tcp dport 20101-20300 drop
  }
}
NFT
ip netns exec $S python3 -c '
import socket, select
socks = []
for p in range(20001, 20101):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", p)); s.listen(4096); socks.append(s)
while True:
    for s in select.select(socks, [], [])[0]:
        c, _ = s.accept(); c.close()
' &
LISTENER_PID=$!
until [ "$(ip netns exec $S ss -Hltn | grep -c ':20[01][0-9][0-9] ')" -ge 100 ]; do sleep 0.1; done

for h in $(seq 2 11); do for p in $(seq 20001 21000); do echo "198.18.1.$h:$p"; done; done >"$WORK/targets"
# Stratified 2% sample for the nc loop: per address 2 open, 4 filtered, 14 closed.
for h in $(seq 2 11); do
  for p in 20001 20051 20101 20151 20201 20251 $(seq 20301 50 20951); do echo "198.18.1.$h $p"; done
done >"$WORK/sample"
echo "targets: $(wc -l <"$WORK/targets") (nc sample: $(wc -l <"$WORK/sample"))"

in_client() { ip netns exec $C "$@"; }
nc_loop() { while read -r h p; do nc -z -w1 "$h" "$p" || true; done <"$WORK/sample"; }

echo "== correctness: netdx's counts =="
in_client "$NETDX" --json tcp -W 1 -f "$WORK/targets" >"$WORK/netdx.json" || true
python3 -c "import json,sys; s=json.load(open(sys.argv[1]))['summary']; print({k: s[k] for k in ('targets','open','closed','filtered')}, 'elapsed %.2f s' % (s['elapsed_ms']/1000))" "$WORK/netdx.json"
in_client nmap -sT -Pn -n -p 20001-21000 198.18.1.2-11 -oG - 2>/dev/null |
  grep -o '[0-9]*/[a-z]*/tcp' | cut -d/ -f2 | sort | uniq -c | tr '\n' ' ' | sed 's/^/nmap -oG ports listed (nmap folds the rest into Ignored State): /'; echo

echo "== 10,000 probes (s: wall user sys) =="
r_netdx=$(cpu_of in_client "$NETDX" tcp -W 1 -f "$WORK/targets")
r_netdx_p=$(cpu_of in_client "$NETDX" tcp -W 1 --parallel 256 -f "$WORK/targets")
r_nmap=$(cpu_of in_client nmap -sT -Pn -n -p 20001-21000 198.18.1.2-11)
r_nmap4=$(cpu_of in_client nmap -sT -Pn -n -T4 -p 20001-21000 198.18.1.2-11)
r_nc=$(cpu_of in_client bash -c "$(declare -f nc_loop); WORK=$WORK; nc_loop")
echo "netdx (adaptive, default) $r_netdx"
echo "netdx (--parallel 256)   $r_netdx_p"
echo "nmap -sT                 $r_nmap"
echo "nmap -sT -T4             $r_nmap4"
echo "nc -z -w1 loop, 200 real $r_nc"
echo "$r_nc" | awk '{printf "nc -z -w1 loop x50 (est.) %.1f %.2f %.2f\n", $1*50, $2*50, $3*50}'
echo "== ratios (other / netdx default): wall, cpu =="
echo "$r_netdx $r_nmap" | awk '{printf "nmap -sT                 wall %.1fx  cpu %.1fx\n", $4/$1, ($5+$6)/($2+$3)}'
echo "$r_netdx $r_nmap4" | awk '{printf "nmap -sT -T4             wall %.1fx  cpu %.1fx\n", $4/$1, ($5+$6)/($2+$3)}'
echo "$r_netdx $r_nc" | awk '{printf "nc loop (x50)            wall %.1fx  cpu %.1fx\n", 50*$4/$1, 50*($5+$6)/($2+$3)}'
echo "$r_netdx $r_netdx_p" | awk '{printf "netdx --parallel 256     wall %.2fx  cpu %.2fx\n", $4/$1, ($5+$6)/($2+$3)}'

echo "== wall, CPU and peak RSS at default settings (s s s MB: wall user sys rss) =="
row() { # row NAME NETDX-ARGS -- NMAP-ARGS
  local name=$1 a b
  a=$(res_of ip netns exec $C "$NETDX" tcp $2)
  b=$(res_of ip netns exec $C nmap -sT -Pn -n $3)
  echo "$name: netdx $a | nmap -sT $b"
  echo "$a $b" | awk -v n="$name" '{printf "%s ratios nmap/netdx: wall %.2fx  cpu %.2fx  rss %.2fx\n", n, $5/$1, ($6+$7)/($2+$3), $8/$4}'
}
row "10,000-target mix (-W 1 for netdx)" "-W 1 -f $WORK/targets" "-p 20001-21000 198.18.1.2-11"
row "ports 1-65535, one host (100 open, 200 dropped)" "198.18.1.2:1-65535" "-p 1-65535 198.18.1.2"
row "ports 21001-65535, all closed" "198.18.1.2:21001-65535" "-p 21001-65535 198.18.1.2"
