/**
 * AF_NETLINK socket calls (native/netlink.c): what lib/netlink-socket.c of
 * OVS does to the kernel through socket(7) and netlink(7), one function per
 * system call, on plain fds. Each throws a PosixError with the errno and the
 * call's name; ENOBUFS from recv() (the kernel dropped datagrams because the
 * receive queue overran) is such an error, like any other.
 *
 * Nothing here blocks the event loop unless asked to: open sockets with
 * SOCK_NONBLOCK (or pass MSG_DONTWAIT), and wait for readability with an
 * FdWatcher.
 */
import { addon } from './addon.js';
import { check } from './posix-error.js';

/** Linux's values (the same on x86-64 and arm64): usable without loading the addon. */
export const AF_NETLINK = 16;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_ERROR = 4;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_SNDBUFFORCE = 32;
export const SO_RCVBUFFORCE = 33;
export const SOL_NETLINK = 270;
export const NETLINK_ADD_MEMBERSHIP = 1;
export const NETLINK_DROP_MEMBERSHIP = 2;
export const NETLINK_PKTINFO = 3;
export const NETLINK_BROADCAST_ERROR = 4;
export const NETLINK_NO_ENOBUFS = 5;
export const NETLINK_LISTEN_ALL_NSID = 8;
export const NETLINK_CAP_ACK = 10;
export const NETLINK_EXT_ACK = 11;
export const NETLINK_GET_STRICT_CHK = 12;
export const MSG_PEEK = 2;
export const MSG_TRUNC = 0x20;
export const MSG_DONTWAIT = 0x40;

/** struct sockaddr_nl: a netlink port id (0: the kernel) and a bitmask of multicast groups 1-32. */
export interface SockaddrNl {
  pid: number;
  groups: number;
}

const KERNEL: SockaddrNl = { pid: 0, groups: 0 };

/** socket(domain, type, protocol): the new fd, e.g. socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_GENERIC). */
export function socket(domain: number, type: number, protocol: number): number {
  return check(addon().socket(domain, type, protocol), 'socket');
}

/** bind(fd, sockaddr_nl): pid 0 lets the kernel choose a free port id (read it back with getsockname). */
export function bind(fd: number, addr: SockaddrNl = KERNEL): void {
  check(addon().bind(fd, addr.pid, addr.groups), 'bind');
}

/** connect(fd, sockaddr_nl): only datagrams from that peer (pid 0: the kernel) are received then. */
export function connect(fd: number, addr: SockaddrNl = KERNEL): void {
  check(addon().connect(fd, addr.pid, addr.groups), 'connect');
}

/** getsockname(fd): the socket's own port id and groups. */
export function getsockname(fd: number): SockaddrNl {
  const [pid, groups] = check(addon().getsockname(fd), 'getsockname');
  return { pid, groups };
}

/** setsockopt(fd, level, name, &value, sizeof(int)): NETLINK_EXT_ACK, NETLINK_ADD_MEMBERSHIP, SO_RCVBUF... */
export function setsockopt(fd: number, level: number, name: number, value: number): void {
  check(addon().setsockoptInt(fd, level, name, value), 'setsockopt');
}

/** getsockopt(fd, level, name) of an int option (SO_RCVBUF: the doubled size the kernel keeps). */
export function getsockopt(fd: number, level: number, name: number): number {
  return check(addon().getsockoptInt(fd, level, name), 'getsockopt')[0];
}

/** sendto(fd, data, flags, sockaddr_nl): the bytes sent. To the kernel (pid 0) by default. */
export function sendto(fd: number, data: Uint8Array, addr: SockaddrNl = KERNEL, flags = 0): number {
  return check(addon().sendto(fd, data, addr.pid, addr.groups, flags), 'sendto');
}

/**
 * One whole datagram and its sender: recv(MSG_PEEK | MSG_TRUNC) learns its
 * size, then recvmsg() reads it. Throws PosixError: EAGAIN when none is
 * queued (non-blocking socket or MSG_DONTWAIT), ENOBUFS once after the
 * receive queue overran (the datagrams after it are read as usual).
 */
export function recvfrom(fd: number, flags = 0): { data: Uint8Array; addr: SockaddrNl } {
  const [data, pid, groups] = check(addon().recv(fd, flags), 'recv');
  return { data, addr: { pid, groups } };
}

/** recvfrom() without the sender. */
export function recv(fd: number, flags = 0): Uint8Array {
  return check(addon().recv(fd, flags), 'recv')[0];
}

/** close(fd). Stop an FdWatcher of the fd first. */
export function close(fd: number): void {
  check(addon().close(fd), 'close');
}
