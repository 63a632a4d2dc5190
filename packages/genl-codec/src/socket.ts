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
  /**
   * Ask the kernel to report the functions it runs for this socket's
   * requests (its handlers, datapath and vport operations), function_graph
   * style. Only a kernel that can tell (the model, in process or as the
   * `ovs-kernel` daemon) offers it.
   */
  setKernelTrace?(on: boolean): Promise<void>;
  /**
   * The kernel functions reported since the last call, in the order they ran:
   * after send() resolves, those its request caused; after recv(), those that
   * produced further dump replies.
   */
  takeKernelTrace?(): KernelTraceEvent[];
  /** NETLINK_ADD_MEMBERSHIP / NETLINK_DROP_MEMBERSHIP for a multicast group id. */
  joinGroup(group: number): Promise<void>;
  leaveGroup(group: number): Promise<void>;
  close(): Promise<void>;
}

/** One kernel function run for a socket's request (as ftrace's function_graph tracer shows it). */
export interface KernelTraceEvent {
  /** Nesting: 0 for what netlink dispatch called, 1 for what that called, ... */
  depth: number;
  /** "kernel" for netlink handlers and datapath code, "vport" for vport and net_device operations. */
  layer: string;
  /** The kernel function's name, e.g. ovs_vport_cmd_new, internal_dev_create. */
  fn: string;
  /** Its arguments or what it did, briefly. */
  note?: string;
  /** Its result when it failed or returned something worth showing, e.g. -EEXIST. */
  ret?: string;
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
