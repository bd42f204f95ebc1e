#!/usr/bin/env bash
# netdx dns --trace vs dig +trace, side by side in one run (as root), on a
# private DNS tree in a test-bed namespace: nsd as the root (198.18.0.10),
# the test. TLD (.11) and two servers of lab.test. (.12, .13); dig looks
# server names up through a recursive unbound on the client's loopback that
# uses the same root. Both tools at their default settings (netdx also asks
# every listed server of each zone for SOA/NS afterwards; dig does not).
# Reports wall, CPU and peak RSS. NETDX=path overrides the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib.sh
if [ -z "${NETDX:-}" ]; then
  cargo build --release -q
  NETDX=$PWD/target/release/netdx
fi
RUNS=${RUNS:-100}
NAME=web.lab.test

chain btrace 0
in_client() { ip netns exec btrace-client "$@"; }
for a in 10 11 12 13; do ip -n btrace-server addr add "198.18.0.$a/24" dev west; done

WORK=$(mktemp -d)
PIDS=()
stop_all() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK" "/etc/netns/btrace-client" 2>/dev/null || true
  bench_cleanup
}
trap stop_all EXIT

cat >"$WORK/root.zone" <<'Z'
$TTL 86400
.            IN SOA a.root.test. admin.root.test. 1 3600 900 604800 300
.            IN NS  a.root.test.
test.        IN NS  ns.nic.test.
ns.nic.test. IN A   198.18.0.11
a.root.test. IN A   198.18.0.10
Z
cat >"$WORK/test.zone" <<'Z'
$ORIGIN test.
$TTL 86400
@        IN SOA ns.nic.test. admin.nic.test. 1 3600 900 604800 300
@        IN NS  ns.nic.test.
ns.nic   IN A   198.18.0.11
a.root   IN A   198.18.0.10
lab      IN NS  ns1.lab.test.
lab      IN NS  ns2.lab.test.
ns1.lab  IN A   198.18.0.12
ns2.lab  IN A   198.18.0.13
Z
cat >"$WORK/lab.zone" <<'Z'
$ORIGIN lab.test.
$TTL 3600
@    IN SOA ns1.lab.test. hostmaster.lab.test. 1 3600 900 604800 300
@    IN NS  ns1.lab.test.
@    IN NS  ns2.lab.test.
ns1  IN A   198.18.0.12
ns2  IN A   198.18.0.13
web  IN A   198.18.0.80
Z
printf '. 3600000 NS a.root.test.\na.root.test. 3600000 A 198.18.0.10\n' >"$WORK/root.hints"

start_nsd() { # TAG ADDR ZONE FILE
  cat >"$WORK/$1.conf" <<CONF
server:
  ip-address: $2
  port: 53
  username: ""
  chroot: ""
  zonesdir: "$WORK"
  database: ""
  zonelistfile: "$WORK/$1.zonelist"
  xfrdfile: "$WORK/$1.xfrd"
  xfrdir: "$WORK"
  pidfile: "$WORK/$1.pid"
  logfile: "$WORK/$1.log"
  server-count: 1
  verbosity: 0
  reuseport: no
  do-ip6: no
remote-control:
  control-enable: no
zone:
  name: "$3"
  zonefile: "$WORK/$4"
CONF
  ip netns exec btrace-server nsd -d -c "$WORK/$1.conf" >/dev/null 2>&1 &
  PIDS+=($!)
}
start_nsd root 198.18.0.10 . root.zone
start_nsd tld 198.18.0.11 test. test.zone
start_nsd ns1 198.18.0.12 lab.test. lab.zone
start_nsd ns2 198.18.0.13 lab.test. lab.zone

mkdir -p /etc/netns/btrace-client
echo "nameserver 127.0.0.1" >/etc/netns/btrace-client/resolv.conf
cat >"$WORK/unbound.conf" <<CONF
server:
  interface: 127.0.0.1
  port: 53
  chroot: ""
  username: ""
  directory: "$WORK"
  pidfile: ""
  use-syslog: no
  logfile: ""
  do-daemonize: no
  num-threads: 1
  do-ip6: no
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  root-hints: "$WORK/root.hints"
  local-zone: "test." nodefault
  verbosity: 0
remote-control:
  control-enable: no
CONF
ip netns exec btrace-client unbound -d -c "$WORK/unbound.conf" >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 1 150); do
  [ "$(in_client dig @127.0.0.1 +short +time=1 +tries=1 ns2.lab.test)" = 198.18.0.13 ] && break
  sleep 0.1
done

echo "== one trace of $NAME A from the test root =="
ours=$(in_client "$NETDX" --json dns "$NAME" --trace --root-hints "$WORK/root.hints" |
  tr -d ' \n' | grep -o '"answer":\["[0-9.]*"\]' | head -1 | tr -dc '0-9.')
theirs=$(in_client dig @198.18.0.10 +trace +norecurse "$NAME" A | awk '$4 == "A" && $1 == "web.lab.test." {print $5}')
echo "final answer: netdx $ours, dig +trace $theirs"

echo "== $RUNS traces each (process start included; s: wall user sys) =="
t_ours=$(cpu_of in_client bash -c "for i in \$(seq $RUNS); do '$NETDX' dns $NAME --trace --root-hints '$WORK/root.hints'; done")
t_dig=$(cpu_of in_client bash -c "for i in \$(seq $RUNS); do dig @198.18.0.10 +trace +norecurse $NAME A; done")
echo "netdx --trace  $t_ours"
echo "dig +trace     $t_dig"
echo "$t_ours $t_dig" | awk -v n="$RUNS" '{
  printf "per trace: netdx %.1f ms wall / %.1f ms cpu, dig %.1f ms wall / %.1f ms cpu\n", $1*1000/n, ($2+$3)*1000/n, $4*1000/n, ($5+$6)*1000/n }'
r_ours=$(res_of ip netns exec btrace-client "$NETDX" dns "$NAME" --trace --root-hints "$WORK/root.hints")
r_dig=$(res_of ip netns exec btrace-client dig @198.18.0.10 +trace +norecurse "$NAME" A)
echo "one trace (wall user sys peak-RSS-MB): netdx $r_ours, dig $r_dig"
