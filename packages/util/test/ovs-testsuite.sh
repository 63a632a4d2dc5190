#!/bin/sh
# OVS 3.1's own tests of lib/daemon*.c and lib/vlog.c (tests/daemon.at, tests/vlog.at: the C ones)
# run against this package: `ovstest test-unixctl` and daemon.at's `ovsdb-server --no-db` are
# test/test-unixctl.mjs (OVS's tests/test-unixctl.c over the built dist); ovs-appctl is the
# real one (Debian's 3.1.0; ../shared/oracle/README.md). Build first: pnpm --filter @ovs/util build.
#   sh test/ovs-testsuite.sh [SUITE_DIR]     (default: the shared ../shared/ovs-testsuite)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
suite=${1:-$here/../../../../shared/ovs-testsuite}
appctl=$(command -v ovs-appctl) || { echo "ovs-appctl (OVS 3.1) is not installed" >&2; exit 1; }
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
cat > "$bin/ovstest" <<SH
#!/bin/sh
[ "\$1" = test-unixctl ] || { echo "ovstest: \$1: not provided here" >&2; exit 77; }
shift
exec node "$here/test-unixctl.mjs" "\$@"
SH
cat > "$bin/ovsdb-server" <<SH
#!/bin/sh
TEST_UNIXCTL_PROGRAM=ovsdb-server exec node "$here/test-unixctl.mjs" "\$@"
SH
chmod +x "$bin/ovstest" "$bin/ovsdb-server"
ln -s "$appctl" "$bin/ovs-appctl"
# 153-158: daemon.at (daemon, --monitor, --detach, --detach --monitor, and their startup errors);
# 2510, 2512, 2514, 2516, 2518: vlog.at's C tests (vlog/reopen, without a log file, onto /dev/full,
# vlog/close, vlog/set and vlog/list). Numbers of the generated OVS 3.1 suite (run.sh BINDIR -l).
OVS_TESTSUITE_WORK=${OVS_TESTSUITE_WORK:-$(mktemp -d)} "$suite/run.sh" "$bin" 153-158 2510 2512 2514 2516 2518
