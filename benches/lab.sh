#!/usr/bin/env bash
# The test bed of tests/common/mod.rs in bash, for benchmarks and README
# examples: client — r1 … rN — server, router k answers from 198.18.(k-1).2
# and 2001:db8:(k-1)::2, the server is 198.18.N.2. Source it, then
# `lab_up PREFIX N` and `lab_down PREFIX N`.

lab_nodes() { # PREFIX N
  local p=$1 n=$2 k
  echo "$p-client"
  for ((k = 1; k <= n; k++)); do echo "$p-r$k"; done
  echo "$p-server"
}

lab_up() { # PREFIX N
  local p=$1 n=$2
  local nodes=($(lab_nodes "$p" "$n")) i j last=$((n + 1))
  for ns in "${nodes[@]}"; do
    ip netns add "$ns"
    ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
      net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 net.ipv4.icmp_msgs_per_sec=100000 \
      net.ipv4.icmp_msgs_burst=100000 net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  done
  for ((i = 0; i < last; i++)); do
    ip link add east netns "${nodes[$i]}" type veth peer name west netns "${nodes[$((i + 1))]}"
  done
  for ((i = 0; i <= last; i++)); do
    {
      echo "link set lo up"
      if ((i > 0)); then
        l=$((i - 1))
        echo "addr add 198.18.$l.2/24 dev west"; echo "addr add 2001:db8:$l::2/64 dev west nodad"; echo "link set west up"
        for ((j = 0; j < l; j++)); do
          echo "route add 198.18.$j.0/24 via 198.18.$l.1"; echo "route add 2001:db8:$j::/64 via 2001:db8:$l::1"
        done
      fi
      if ((i < last)); then
        echo "addr add 198.18.$i.1/24 dev east"; echo "addr add 2001:db8:$i::1/64 dev east nodad"; echo "link set east up"
        for ((j = i + 1; j < last; j++)); do
          echo "route add 198.18.$j.0/24 via 198.18.$i.2"; echo "route add 2001:db8:$j::/64 via 2001:db8:$i::2"
        done
      fi
    } | ip -n "${nodes[$i]}" -batch -
  done
  sleep 0.3
}

lab_down() { # PREFIX N
  local ns
  for ns in $(lab_nodes "$1" "$2"); do ip netns del "$ns" 2>/dev/null || true; done
}
