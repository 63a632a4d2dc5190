#!/bin/sh
# Concurrent ovs-vsctl processes against one switch: ROUNDS rounds of
# CONCURRENCY add-port calls started at once (internal ports, each call
# waiting for ovs-vswitchd), then checks nothing was lost or doubled.
# Runs wherever ovs-vsctl reaches a switch: ours
#   npx pnpm@9.15.9 exec ovs-sandbox sh packages/vswitchd/bench/concurrency.sh [CONCURRENCY [ROUNDS]]
# or real OVS (../shared/oracle, OVSREF_PROFILE=system)
#   ../shared/oracle/ovs-oracle.sh exec sh packages/vswitchd/bench/concurrency.sh
C=${1:-50}
R=${2:-4}
now() { date +%s.%N; }
ovs-vsctl --may-exist add-br br0 || exit 1
fails=0
total=0
for r in $(seq 1 "$R"); do
  t0=$(now)
  for i in $(seq 1 "$C"); do
    ( ovs-vsctl --timeout=120 add-port br0 "c$r-$i" -- set Interface "c$r-$i" type=internal >/dev/null 2>"/tmp/concurrency-err.$$.$r.$i" || echo x >>"/tmp/concurrency-fail.$$" ) &
  done
  wait
  dt=$(echo "$(now) - $t0" | bc)
  total=$(echo "$total + $dt" | bc)
  printf 'round %d: %d calls at once in %.2f s\n' "$r" "$C" "$dt"
done
[ -f "/tmp/concurrency-fail.$$" ] && fails=$(wc -l <"/tmp/concurrency-fail.$$")
errs=$(cat /tmp/concurrency-err.$$.* | grep -c . )
rm -f /tmp/concurrency-err.$$.* "/tmp/concurrency-fail.$$"
ports=$(ovs-vsctl list-ports br0 | grep -c '^c')
unique=$(ovs-vsctl --bare --columns=ofport find Interface 'name!=br0' | grep -v '^$' | sort -u | grep -vc -- '-1')
printf '%d calls in %.2f s (%.1f calls/s); failed calls: %d; stderr lines: %d; ports: %d of %d; distinct ofports: %d\n' \
  $((C * R)) "$total" "$(echo "$C * $R / $total" | bc -l)" "$fails" "$errs" "$ports" $((C * R)) "$unique"
