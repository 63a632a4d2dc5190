#!/bin/bash
# Scenario for real-vs-ours.sh (kernel lab): concurrent ovs-vsctl processes on
# one bridge of the real kernel datapath — 30 add-ports at once, then 10
# del-ports racing 10 add-ports — then what the database and the kernel hold.
# Prints only what must not depend on the interleaving (exit statuses, the
# sorted port set, whether ofports are unique); real-vs-ours.sh adds the
# kernel's own `ovs-dpctl show`, whose port numbers follow the interleaving.
# Run in the lab (2026-12-07, real OVS 3.1 vs ours --system): the same 30
# ports, the same devices, no failed call, unique ofports, cur_cfg reached.
set -u
ovs-vsctl --timeout=60 add-br br0
run_all() {  # run_all CMD... : each argument one ovs-vsctl command line, all at once
  local pids=() i=0 st
  for c in "$@"; do ( eval "ovs-vsctl --timeout=120 $c" >/dev/null 2>/tmp/cc.err.$i; echo $? >/tmp/cc.st.$i ) & pids+=($!); i=$((i + 1)); done
  wait "${pids[@]}"
  for ((j = 0; j < i; j++)); do st=$(cat /tmp/cc.st.$j); [ "$st" = 0 ] || { echo "FAILED ($st): ${!j}"; cat /tmp/cc.err.$j; }; done
  # The real tools' timeval warnings say only that the emulated guest is slow.
  cat /tmp/cc.err.* | grep -v '|timeval|WARN|' | sed 's/^/stderr: /'; rm -f /tmp/cc.st.* /tmp/cc.err.*
}
adds=(); for i in $(seq 1 30); do adds+=("add-port br0 a$i -- set Interface a$i type=internal"); done
run_all "${adds[@]}"
mix=(); for i in $(seq 1 10); do mix+=("del-port br0 a$i" "add-port br0 b$i -- set Interface b$i type=internal"); done
run_all "${mix[@]}"
echo "--- ports: $(ovs-vsctl list-ports br0 | sort | tr '\n' ' ')"
ofports=$(ovs-vsctl --bare --columns=ofport list Interface | grep -v '^$')
echo "--- interfaces: $(echo "$ofports" | wc -l), distinct ofports: $(echo "$ofports" | sort -u | wc -l), unset or failed: $(echo "$ofports" | grep -c -- '-1\|\[\]')"
echo "--- cur_cfg = next_cfg: $([ "$(ovs-vsctl get Open_vSwitch . cur_cfg)" = "$(ovs-vsctl get Open_vSwitch . next_cfg)" ] && echo yes || echo no)"
