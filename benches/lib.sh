#!/usr/bin/env bash
# Shared helpers for the benchmark scripts: a chain of namespaces
# (client — r1 … rN — server) on 198.18.0.0/15 and 2001:db8::/32, removed on
# exit, and a timer that reports wall, user and system seconds.
# Link i joins node i (198.18.i.1, "east") to node i+1 (198.18.i.2, "west").

BENCH_NS=()

bench_cleanup() {
  for ns in "${BENCH_NS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
}
trap bench_cleanup EXIT

# chain PREFIX N: builds the chain; prints nothing; names are PREFIX-client,
# PREFIX-r1..rN, PREFIX-server.
chain() {
  local prefix=$1 n=$2 nodes=() i
  nodes+=("$prefix-client")
  for ((i = 1; i <= n; i++)); do nodes+=("$prefix-r$i"); done
  nodes+=("$prefix-server")
  for ns in "${nodes[@]}"; do
    ip netns add "$ns"
    BENCH_NS+=("$ns")
    ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
      net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 net.ipv4.icmp_msgs_per_sec=100000 \
      net.ipv4.icmp_msgs_burst=100000 net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
    ip -n "$ns" link set lo up
  done
  local last=$(( ${#nodes[@]} - 1 ))
  for ((i = 0; i < last; i++)); do
    ip link add east netns "${nodes[i]}" type veth peer name west netns "${nodes[i+1]}"
    ip -n "${nodes[i]}" addr add "198.18.$i.1/24" dev east
    ip -n "${nodes[i]}" addr add "2001:db8:$i::1/64" dev east nodad
    ip -n "${nodes[i+1]}" addr add "198.18.$i.2/24" dev west
    ip -n "${nodes[i+1]}" addr add "2001:db8:$i::2/64" dev west nodad
    ip -n "${nodes[i]}" link set east up
    ip -n "${nodes[i+1]}" link set west up
  done
  local j
  for ((i = 0; i <= last; i++)); do
    for ((j = 0; j < last; j++)); do
      if ((j < i - 1)); then
        ip -n "${nodes[i]}" route add "198.18.$j.0/24" via "198.18.$((i-1)).1"
        ip -n "${nodes[i]}" route add "2001:db8:$j::/64" via "2001:db8:$((i-1))::1"
      elif ((j > i)); then
        ip -n "${nodes[i]}" route add "198.18.$j.0/24" via "198.18.$i.2"
        ip -n "${nodes[i]}" route add "2001:db8:$j::/64" via "2001:db8:$i::2"
      fi
    done
  done
  sleep 1.5 # let link-local addresses settle (neighbour discovery)
}

# cpu_of CMD...: runs CMD (output discarded), prints "wall user sys" seconds.
cpu_of() {
  local out
  out=$( { TIMEFORMAT='%R %U %S'; time "$@" >/dev/null 2>&1; } 2>&1 )
  echo "$out"
}

# res_of CMD...: runs CMD (output discarded), prints "wall user sys maxrss_MB"
# as GNU time measures them (peak RSS of the largest process).
res_of() {
  local f
  f=$(mktemp)
  /usr/bin/time -o "$f" -f '%e %U %S %M' "$@" >/dev/null 2>&1 || true
  # GNU time writes "Command exited with non-zero status N" first.
  tail -n 1 "$f" | awk '{printf "%s %s %s %.1f\n", $1, $2, $3, $4/1024}'
  rm -f "$f"
}
