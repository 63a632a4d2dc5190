/**
 * The netlink socket as userspace sees it: the one boundary between the
 * userspace packages and a kernel. The in-process kernel model, the
 * `ovs-kernel` daemon's client and a real AF_NETLINK socket all implement it,
 * so code above it runs unchanged over any of them.
 */

export interface NetlinkSocket {
  /** NETLINK_GENERIC, NETLINK_ROUTE, ... */
  readonly protocol: number;
  /** The socket's port id (nl_pid), assigned when it was opened. */
  readonly portId: number;
  /** Send one datagram: one or more netlink messages back to back. */
  send(datagram: Uint8Array): Promise<void>;
  /**
   * The next datagram the kernel queued for this socket. Rejects with a
   * NetlinkErrnoError carrying ENOBUFS when datagrams were dropped because the
   * receive queue was full (then the queue goes on), and with EBADF once the
   * socket is closed.
   */
  recv(): Promise<Uint8Array>;
  /** A datagram if one is queued now, else undefined (never waits). */
  tryRecv?(): Uint8Array | undefined;
  /** NETLINK_ADD_MEMBERSHIP / NETLINK_DROP_MEMBERSHIP for a multicast group id. */
  joinGroup(group: number): Promise<void>;
  leaveGroup(group: number): Promise<void>;
  close(): Promise<void>;
}

/** How a socket is opened: protocol plus the sender's identity as the kernel sees it. */
export interface NetlinkSocketOptions {
  protocol: number;
  /** Network namespace the socket lives in (a name; the model's initial one is "init"). */
  netns?: string;
  /** Whether the opener has CAP_NET_ADMIN in that namespace (default true). */
  capNetAdmin?: boolean;
}
