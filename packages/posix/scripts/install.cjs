#!/usr/bin/env node
// The install script of @ovs/posix. On Linux: node-gyp-build, which keeps a
// prebuilt addon that loads here (prebuilds/linux-x64, prebuilds/linux-arm64)
// and otherwise builds one from source with node-gyp. A failed source build
// does not fail the install: the packages above use the addon only for the
// real kernel's AF_NETLINK socket and for pidfile locks, and say so when it
// is missing (@ovs/netlink-socket: NetlinkBindingUnavailableError, ENOSYS).
// Elsewhere (macOS, Windows) there is nothing to build: the calls are Linux's.
'use strict';
const { spawnSync } = require('node:child_process');

if (process.platform !== 'linux') {
  console.log(`@ovs/posix: no native addon on ${process.platform} (AF_NETLINK and these calls are Linux's); the rest of the @ovs packages work without it`);
  process.exit(0);
}
const r = spawnSync(process.execPath, [require.resolve('node-gyp-build/bin.js')], { stdio: 'inherit' });
if (r.status !== 0) {
  console.warn(
    `@ovs/posix: no prebuilt addon fits ${process.platform}-${process.arch} and building it from source failed (node-gyp needs a C compiler, make and python3); the real kernel's AF_NETLINK transport and fcntl locks are unavailable until \`npm rebuild @ovs/posix\` succeeds`,
  );
}
process.exit(0);
