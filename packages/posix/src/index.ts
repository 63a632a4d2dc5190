/**
 * @ovs/posix: the few POSIX calls Node has no API for (fcntl record locks,
 * AF_NETLINK sockets), as a small node-api addon, prebuilt for linux-x64 and
 * linux-arm64 and loaded on the first call.
 */
export { getLock, setLock } from './fcntl.js';
export type { LockType } from './fcntl.js';
export { PosixError, errnoName } from './posix-error.js';
