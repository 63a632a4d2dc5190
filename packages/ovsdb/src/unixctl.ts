/**
 * lib/unixctl.c moved to @ovs/util (with the daemon code that creates its
 * server); re-exported under the names ovsdb's modules use.
 */
export { type UnixctlHandler, UnixctlError, UnixctlServer, installDir, ovsRundir as rundir, unixctlTargetSocket, unixctlTransact } from '@ovs/util';
