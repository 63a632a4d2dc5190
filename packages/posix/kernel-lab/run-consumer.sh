#!/usr/bin/env bash
# The real-kernel transport as a consumer gets it (issue 14): the packages
# @ovs/dpif-netlink needs are packed as they would be published, installed
# with npm into a fresh project with no compiler reachable (gcc, cc, make,
# python3 on PATH are stubs that fail and log; no node headers), and
# kernel-lab/consumer.mjs runs there in the kernel lab's guest (Debian's
# Linux 6.1 with the real openvswitch module, no compiler either): it creates
# a datapath and ports, checks them with the real ovs-dpctl, waits for a
# notification, and deletes them again.
#
#   bash packages/posix/kernel-lab/run-consumer.sh    (as root; builds nothing: build first)
#
# KERNEL_LAB=path/to/kernel-lab.sh overrides where the lab is; WORK=dir where
# the consumer project goes (default: a new directory under /tmp).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
LAB="${KERNEL_LAB:-$ROOT/../shared/kernel-lab/kernel-lab.sh}"
WORK="${WORK:-$(mktemp -d /tmp/ovs-posix-consumer.XXXXXX)}"
mkdir -p "$WORK/tarballs" "$WORK/nocc" "$WORK/project"

for p in genl-codec trace netlink-socket posix netdev util dpif-netlink; do
  (cd "$ROOT/packages/$p" && npm_config_ignore_scripts=true npx --yes pnpm@9.15.9 pack --pack-destination "$WORK/tarballs" >/dev/null)
done
for t in gcc g++ cc c++ clang make python python3; do
  printf '#!/bin/sh\necho "$0 $*" >> %s/nocc.log\nexit 1\n' "$WORK" > "$WORK/nocc/$t"
  chmod +x "$WORK/nocc/$t"
done
cd "$WORK/project"
echo '{"name":"lab-consumer","version":"1.0.0","private":true,"type":"module"}' > package.json
PATH="$WORK/nocc:$PATH" npm_config_nodedir=/nonexistent npm install --no-audit --no-fund --loglevel=error ../tarballs/*.tgz
if [[ -s "$WORK/nocc.log" ]]; then
  echo "run-consumer: the install tried to compile:" >&2
  cat "$WORK/nocc.log" >&2
  exit 1
fi
if [[ -e node_modules/@ovs/posix/build ]]; then
  echo "run-consumer: node_modules/@ovs/posix/build exists: the addon was built, not taken prebuilt" >&2
  exit 1
fi
echo "[run-consumer] installed in $WORK/project without a compiler; booting the kernel lab" >&2
cp "$HERE/consumer.mjs" consumer.mjs
LAB_PROJECT="$WORK" bash "$LAB" run 'cd /project/project && for c in gcc cc make; do if command -v $c; then echo "a compiler in the guest: $c"; exit 1; fi; done; node consumer.mjs'
