#!/usr/bin/env bash
# OVS 3.1's own autotest suite (../shared/ovs-testsuite) against this project's tools only: a BINDIR
# holding every bin of the workspace's packages (ovs-vsctl, ovsdb-server, ovsdb-tool, ovs-appctl,
# ovs-vswitchd, ...) and nothing of a real OVS. Build first (pnpm build). Usage:
#   scripts/ovs-testsuite.sh [testsuite options...]      default: -k ovs-vsctl -j2
# The last line is run.sh's 'ovs-testsuite: N passed, N failed, N skipped'; the exit status is the
# suite's (non-zero when a test fails).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
suite=${OVS_TESTSUITE_DIR:-$root/../shared/ovs-testsuite}
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
for js in "$root"/packages/*/bin/*.js; do
  name=$(basename "$js" .js)
  printf '#!/bin/sh\nexec node "%s" "$@"\n' "$js" > "$bin/$name"
  chmod +x "$bin/$name"
done
[ $# -gt 0 ] || set -- -k ovs-vsctl -j2
exec "$suite/run.sh" "$bin" "$@"
