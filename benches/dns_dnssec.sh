#!/usr/bin/env bash
# netdx dns --dnssec on a batch vs delv, side by side in one run (as root):
# nsd in a test-bed namespace (198.18.0.2) serves a signed parent `test.`
# and a signed child `bench.test.` with N names (ldns-signzone); the anchor
# is test.'s DS. Measures `netdx dns --trust-anchor A -f names` (and, with
# NETDX_BEFORE=path, an older netdx binary the same way) against a loop of
# `delv` (the reference validator, one process per name).
#   NETDX=path/to/netdx NETDX_BEFORE=path/to/old-netdx benches/dns_dnssec.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib.sh
if [ -z "${NETDX:-}" ]; then
  cargo build --release -q
  NETDX=$PWD/target/release/netdx
fi
N=${N:-200}

chain bsec 0
SERVER=198.18.0.2
in_client() { ip netns exec bsec-client "$@"; }

WORK=$(mktemp -d)
stop_all() {
  [ -f "$WORK/nsd.pid" ] && kill "$(cat "$WORK/nsd.pid")" 2>/dev/null || true
  sleep 0.3
  rm -rf "$WORK"
  bench_cleanup
}
trap stop_all EXIT

(
  cd "$WORK"
  {
    echo '$TTL 3600'
    echo 'bench.test. IN SOA ns.test. host.test. 1 3600 900 604800 300'
    echo 'bench.test. IN NS ns.test.'
    for ((i = 0; i < N; i++)); do printf 'n%04d.bench.test. IN A 198.18.%d.%d\n' "$i" $((i / 250 + 1)) $((i % 250 + 1)); done
  } >bench.test.zone
  kc=$(ldns-keygen -a ECDSAP256SHA256 -k bench.test.)
  ldns-signzone -o bench.test. bench.test.zone "$kc"
  {
    echo '$TTL 3600'
    echo 'test. IN SOA ns.test. host.test. 1 3600 900 604800 300'
    echo 'test. IN NS ns.test.'
    echo "ns.test. IN A $SERVER"
    echo 'bench.test. IN NS ns.test.'
    cat "$kc.ds"
  } >test.zone
  kt=$(ldns-keygen -a ECDSAP256SHA256 -k test.)
  ldns-signzone -o test. test.zone "$kt"
  cp "$kt.ds" anchor.ds
  read -r _ _ _ tag alg dt digest <"$kt.ds"
  echo "trust-anchors { test. static-ds $tag $alg $dt \"$digest\"; };" >anchor.bind
  cat >nsd.conf <<CONF
server:
  ip-address: $SERVER
  port: 53
  zonesdir: "$WORK"
  database: ""
  zonelistfile: "$WORK/zone.list"
  pidfile: "$WORK/nsd.pid"
  xfrdfile: "$WORK/xfrd.state"
  xfrdir: "$WORK"
  username: ""
  logfile: "$WORK/nsd.log"
  server-count: 1
remote-control:
  control-enable: no
zone:
  name: "test"
  zonefile: "test.zone.signed"
zone:
  name: "bench.test"
  zonefile: "bench.test.zone.signed"
CONF
) >/dev/null
for ((i = 0; i < N; i++)); do printf 'n%04d.bench.test\n' "$i"; done >"$WORK/names.txt"
ip netns exec bsec-server nsd -c "$WORK/nsd.conf"
for _ in $(seq 1 100); do
  [ "$(in_client dig @$SERVER +short +time=1 +tries=1 n0000.bench.test)" = 198.18.1.1 ] && break
  sleep 0.1
done

run_netdx() { in_client "$1" dns @$SERVER --trust-anchor "$WORK/anchor.ds" -t A -f "$WORK/names.txt" --short; }
echo "== $N names under bench.test. (signed, anchor test.), DNSSEC validation (s: wall user sys MB) =="
secure=$(run_netdx "$NETDX" | grep -c 'dnssec: secure' || true)
ref=$(in_client delv @$SERVER -a "$WORK/anchor.bind" +root=test A n0000.bench.test 2>&1 | grep -c 'fully validated' || true)
echo "verdicts: netdx secure $secure of $N; delv on n0000: fully validated=$ref"
ours=$(res_of ip netns exec bsec-client "$NETDX" dns @$SERVER --trust-anchor "$WORK/anchor.ds" -t A -f "$WORK/names.txt" --short)
echo "netdx (now)             $ours"
if [ -n "${NETDX_BEFORE:-}" ]; then
  before=$(res_of ip netns exec bsec-client "$NETDX_BEFORE" dns @$SERVER --trust-anchor "$WORK/anchor.ds" -t A -f "$WORK/names.txt" --short)
  echo "netdx (before)          $before"
fi
delv_loop=$(res_of ip netns exec bsec-client bash -c "while read -r n; do delv @$SERVER -a '$WORK/anchor.bind' +root=test A \"\$n\"; done <'$WORK/names.txt'")
echo "delv loop ($N processes) $delv_loop"
