/**
 * @ovs/posix: the few POSIX calls Node has no API for (fcntl record locks,
 * AF_NETLINK sockets, fd readiness, a unix socket's peer credentials), as a small node-api addon, prebuilt for
 * linux-x64 and linux-arm64 and loaded on the first call.
 */
export { addonAvailable } from './addon.js';
export { getLock, setLock } from './fcntl.js';
export type { LockType } from './fcntl.js';
export { FdWatcher, POLLERR, POLLHUP, POLLIN, POLLNVAL } from './fd-watcher.js';
export { getPeerCred } from './peercred.js';
export type { PeerCred } from './peercred.js';
export { PosixError, errnoName } from './posix-error.js';
export {
  AF_NETLINK,
  MSG_DONTWAIT,
  MSG_PEEK,
  MSG_TRUNC,
  NETLINK_ADD_MEMBERSHIP,
  NETLINK_BROADCAST_ERROR,
  NETLINK_CAP_ACK,
  NETLINK_DROP_MEMBERSHIP,
  NETLINK_EXT_ACK,
  NETLINK_GET_STRICT_CHK,
  NETLINK_LISTEN_ALL_NSID,
  NETLINK_NO_ENOBUFS,
  NETLINK_PKTINFO,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOCK_RAW,
  SOL_NETLINK,
  SOL_SOCKET,
  SO_ERROR,
  SO_RCVBUF,
  SO_RCVBUFFORCE,
  SO_SNDBUF,
  SO_SNDBUFFORCE,
  bind,
  close,
  connect,
  getsockname,
  getsockopt,
  recv,
  recvfrom,
  sendto,
  setsockopt,
  socket,
} from './socket.js';
export type { SockaddrNl } from './socket.js';
