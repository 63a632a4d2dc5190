#!/usr/bin/env bash
# OVS 3.1's own autotest suite (../shared/ovs-testsuite) against this project's tools only: a BINDIR
# holding every bin of the workspace's packages (ovs-vsctl, ovsdb-server, ovsdb-tool, ovs-appctl,
# ovs-vswitchd, ...) and nothing of a real OVS. Build first (pnpm build). Usage:
#   scripts/ovs-testsuite.sh [testsuite options...]      default: -k ovs-vsctl -j2
# The last line is run.sh's 'ovs-testsuite: N passed, N failed, N skipped'; the exit status is the
# suite's (non-zero when a test fails).
#
# The suite runs from a copy whose run.sh also makes what OVS's build makes for `make check` and the
# suite does not ship: the test PKI (tests/automake.mk's TESTPKI_FILES, made with the suite's own
# utilities/ovs-pki.in), which ovsdb-server.at's SSL tests read.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
suite=${OVS_TESTSUITE_DIR:-$root/../shared/ovs-testsuite}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"
for js in "$root"/packages/*/bin/*.js; do
  name=$(basename "$js" .js)
  printf '#!/bin/sh\nexec node "%s" "$@"\n' "$js" > "$tmp/bin/$name"
  chmod +x "$tmp/bin/$name"
done
cp -r "$suite" "$tmp/suite"
cat > "$tmp/testpki.sh" <<'PKI'
pki="sh utilities/ovs-pki.in --dir=tests/pki --log=tests/ovs-pki.log"
if command -v openssl >/dev/null && $pki init >/dev/null && $pki req+sign tests/pki/test >/dev/null && $pki req+sign tests/pki/test2 >/dev/null; then
  cp tests/pki/switchca/cacert.pem tests/testpki-cacert.pem
  for f in cert req privkey; do cp "tests/pki/test-$f.pem" "tests/testpki-$f.pem"; cp "tests/pki/test2-$f.pem" "tests/testpki-${f}2.pem"; done
fi
PKI
sed -i "s|^cd \"\$work\"\$|cd \"\$work\"; . \"$tmp/testpki.sh\"|" "$tmp/suite/run.sh"
[ $# -gt 0 ] || set -- -k ovs-vsctl -j2
"$tmp/suite/run.sh" "$tmp/bin" "$@"
