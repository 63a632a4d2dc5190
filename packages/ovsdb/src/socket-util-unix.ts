/** lib/socket-util-unix.c's chmodUnixSocket() moved to @ovs/util (unixctl binds with it too); re-exported for ovsdb's modules. */
export { chmodUnixSocket } from '@ovs/util';
