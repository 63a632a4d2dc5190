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

/** A recv() parked until a datagram (or an error) arrives. */
export interface RecvWaiter {
  resolve(datagram: Uint8Array): void;
  reject(err: Error): void;
}

/**
 * recv() for a socket that has tryRecv(): what is queued now (or the error
 * that stands in its place), else a promise handed to `park` for the socket
 * to settle when something arrives.
 */
export function recvOrPark(tryRecv: () => Uint8Array | undefined, park: (waiter: RecvWaiter) => void): Promise<Uint8Array> {
  try {
    const d = tryRecv();
    if (d !== undefined) return Promise.resolve(d);
  } catch (err) {
    return Promise.reject(err);
  }
  return new Promise((resolve, reject) => park({ resolve, reject }));
}
