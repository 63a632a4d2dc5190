#!/usr/bin/env bash
# Build on the host, then run kernel-lab/suite.mjs in the kernel lab: a
# throw-away QEMU guest booting Debian's Linux 6.1 with the real openvswitch
# module, the checkout mounted at /project (../shared/kernel-lab/README.md).
#
#   bash kernel-lab/run.sh            (or: pnpm --filter @ovs/dpif-netlink test:kernel)
#
# KERNEL_LAB=path/to/kernel-lab.sh overrides where the lab is (default: the
# shared/ beside the checkout). Needs root, as the lab does. Exit status: the
# suite's (non-zero when a check failed).
set -euo pipefail

PKG_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$PKG_DIR/../.." && pwd)"
LAB="${KERNEL_LAB:-$ROOT/../shared/kernel-lab/kernel-lab.sh}"
PNPM=(npx --yes pnpm@9.15.9)

if [[ ! -f "$LAB" ]]; then
  echo "kernel-lab: $LAB not found (set KERNEL_LAB=path/to/kernel-lab.sh)" >&2
  exit 2
fi

cd "$ROOT"
echo "[run.sh] building @ovs/dpif-netlink and what it depends on" >&2
"${PNPM[@]}" --filter '@ovs/dpif-netlink...' run build >&2

echo "[run.sh] booting the kernel lab" >&2
LAB_PROJECT="$ROOT" bash "$LAB" run 'cd /project && node packages/dpif-netlink/kernel-lab/suite.mjs'
