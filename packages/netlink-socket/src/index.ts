/**
 * @ovs/netlink-socket: netlink transactions and dumps over any NetlinkSocket
 * (lib/netlink-socket.c), and the real kernel's AF_NETLINK socket as one.
 */
export { NlSock, NlSockError } from './netlink-socket.js';
export { AfNetlinkSocket, NetlinkBindingUnavailableError, NetlinkSyscallError, closeAllNetlinkSockets, openNetlinkSocket } from './transport-netlink.js';
export type { OpenNetlinkSocketOptions } from './transport-netlink.js';
export { openSocketFactory } from './socket-factory.js';
export type { SocketFactory, SocketFactoryOptions } from './socket-factory.js';
