#!/usr/bin/env bash
# netdx dns vs dig vs nslookup, side by side in one run (as root), against
# unbound serving a 10,000-name zone in a test-bed namespace (198.18.0.2):
#  1. 10,000 names: netdx (concurrent) vs `dig -f` vs a loop of nslookup
#     (the nslookup loop is sampled on 500 names and extrapolated ×20);
#  2. single-query latency: 200 runs of one question, netdx vs dig.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib.sh
if [ -z "${NETDX:-}" ]; then
  cargo build --release -q
  NETDX=$PWD/target/release/netdx
fi
N=10000
SAMPLE=500

chain bdns 0
SERVER=198.18.0.2
in_client() { ip netns exec bdns-client "$@"; }

WORK=$(mktemp -d)
UNBOUND_PID=
stop_all() {
  [ -n "$UNBOUND_PID" ] && kill "$UNBOUND_PID" 2>/dev/null || true
  rm -rf "$WORK"
  bench_cleanup
}
trap stop_all EXIT

{
  echo '$ORIGIN bench.test.'
  echo '$TTL 3600'
  echo '@ IN SOA ns1.bench.test. hostmaster.bench.test. 1 3600 900 604800 300'
  echo '@ IN NS ns1.bench.test.'
  echo "ns1 IN A $SERVER"
  echo "web IN A 198.18.0.10"
  for ((i = 0; i < N; i++)); do printf 'n%05d IN A 198.18.%d.%d\n' "$i" $((i / 250 + 1)) $((i % 250 + 1)); done
} >"$WORK/bench.zone"
for ((i = 0; i < N; i++)); do printf 'n%05d.bench.test\n' "$i"; done >"$WORK/names.txt"
head -n "$SAMPLE" "$WORK/names.txt" >"$WORK/sample.txt"

cat >"$WORK/unbound.conf" <<CONF
server:
  interface: $SERVER
  port: 53
  chroot: ""
  username: ""
  directory: "$WORK"
  pidfile: ""
  use-syslog: no
  logfile: ""
  do-daemonize: no
  num-threads: 1
  access-control: 0.0.0.0/0 allow
  module-config: "iterator"
  local-zone: "." static
  local-zone: "bench.test." transparent
  verbosity: 0
remote-control:
  control-enable: no
auth-zone:
  name: "bench.test"
  zonefile: "$WORK/bench.zone"
  for-downstream: yes
  for-upstream: no
  fallback-enabled: no
CONF
ip netns exec bdns-server unbound -d -c "$WORK/unbound.conf" >/dev/null 2>&1 &
UNBOUND_PID=$!
for _ in $(seq 1 100); do
  [ "$(in_client dig @$SERVER +short +time=1 +tries=1 web.bench.test)" = 198.18.0.10 ] && break
  sleep 0.1
done

echo "== $N names, A records, against unbound at $SERVER (s: wall user sys) =="
got=$(in_client "$NETDX" dns -f "$WORK/names.txt" @$SERVER -t A --short | wc -l)
ref=$(in_client dig @$SERVER -f "$WORK/names.txt" +short | wc -l)
echo "answers: netdx $got, dig -f $ref (of $N)"
ours=$(res_of ip netns exec bdns-client "$NETDX" dns -f "$WORK/names.txt" @$SERVER -t A --short)
digf=$(res_of ip netns exec bdns-client dig @$SERVER -f "$WORK/names.txt" +short)
nsl=$(cpu_of in_client bash -c "while read -r n; do nslookup -type=A \"\$n\" $SERVER; done <'$WORK/sample.txt'")
echo "netdx (concurrent)      $ours (wall user sys MB)"
echo "dig -f                  $digf (wall user sys MB)"
echo "nslookup loop ($SAMPLE)   $nsl   (×$((N / SAMPLE)) for $N below)"
echo "peak RSS: netdx ${ours##* } MB, dig -f ${digf##* } MB"
echo "$ours $digf $nsl" | awk -v k=$((N / SAMPLE)) '{
  nw=$1; nc=$2+$3; dw=$5; dc=$6+$7; lw=$9*k; lc=($10+$11)*k;
  printf "wall: netdx %.2f s, dig -f %.2f s, nslookup %.1f s (extrapolated) → dig/netdx %.1fx, nslookup/netdx %.0fx\n", nw, dw, lw, dw/nw, lw/nw;
  printf "cpu:  netdx %.2f s, dig -f %.2f s, nslookup %.1f s (extrapolated) → dig/netdx %.1fx, nslookup/netdx %.0fx\n", nc, dc, lc, (nc>0)?dc/nc:0, (nc>0)?lc/nc:0 }'

echo "== single query, 200 runs each (process start included; ms per run) =="
one_ours=$(cpu_of in_client bash -c "for i in \$(seq 200); do '$NETDX' dns --short @$SERVER web.bench.test -t A; done")
one_dig=$(cpu_of in_client bash -c "for i in \$(seq 200); do dig +short @$SERVER web.bench.test A; done")
echo "$one_ours $one_dig" | awk '{printf "netdx %.2f ms/run (cpu %.2f), dig %.2f ms/run (cpu %.2f) → dig/netdx %.2fx\n", $1*5, ($2+$3)*5, $4*5, ($5+$6)*5, $4/$1}'
# In-process query time as netdx measures it (first send to answer).
q=$(in_client "$NETDX" --json dns @$SERVER web.bench.test -t A | grep -m1 '"time_ms"' | tr -dc '0-9.')
echo "netdx in-process query time: $q ms (dig reports whole msec only)"
