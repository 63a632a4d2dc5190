/**
 * The kernel end of a netlink socket (struct netlink_sock): port id,
 * protocol, multicast memberships, capabilities, a bounded receive queue,
 * and the dump in progress, resumed as userspace reads (netlink_recvmsg ->
 * netlink_dump).
 */
import { Errno, type KernelTraceEvent, NetlinkErrnoError, type NetlinkSocket, type RecvWaiter, recvOrPark } from '@ovs/genl-codec';
import type { Kernel } from '../../kernel.js';
import type { Netns } from '../core/net_namespace.js';

/** A dump in progress: produce() appends the next chunk's messages and says whether more remain. */
export interface DumpState {
  /** Fills one datagram; returns true when the dump is complete (then NLMSG_DONE follows). */
  next(out: Uint8Array[], budget: number): { done: boolean; error?: number };
  seq: number;
  /** Protocol-specific flags for NLMSG_DONE (none used here). */
}

/** rmem_default on Linux: what a socket may hold before datagrams are dropped (ENOBUFS). */
export const DEFAULT_RCVBUF = 212992;
/** wmem_default on Linux: netlink_sendmsg() refuses a datagram longer than sk_sndbuf - 32 (EMSGSIZE). */
export const DEFAULT_SNDBUF = 212992;
/** Bytes a queued datagram costs against rcvbuf beyond its length (an skb's overhead, roughly its truesize). */
const SKB_OVERHEAD = 768;

export interface KernelSocketOptions {
  protocol: number;
  netns: Netns;
  capNetAdmin: boolean;
  portId: number;
  /** NETLINK_EXT_ACK: errors carry extended-ack TLVs (OVS and iproute2 turn it on). */
  extAck: boolean;
  /** NETLINK_CAP_ACK: errors do not echo the request's payload. */
  capAck: boolean;
  rcvbuf: number;
}

export class KernelSocket implements NetlinkSocket {
  readonly protocol: number;
  readonly portId: number;
  readonly netns: Netns;
  readonly capNetAdmin: boolean;
  extAck: boolean;
  capAck: boolean;
  rcvbuf: number;
  readonly groups = new Set<number>();
  dump: DumpState | undefined;
  closed = false;
  /** Where the kernel reports the functions it runs for this socket, while tracing is on. */
  traceLog: KernelTraceEvent[] | undefined;

  private readonly queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private overrun = false;
  private readonly waiters: RecvWaiter[] = [];

  constructor(
    private readonly kernel: Kernel,
    opts: KernelSocketOptions,
  ) {
    this.protocol = opts.protocol;
    this.portId = opts.portId;
    this.netns = opts.netns;
    this.capNetAdmin = opts.capNetAdmin;
    this.extAck = opts.extAck;
    this.capAck = opts.capAck;
    this.rcvbuf = opts.rcvbuf;
  }

  async send(datagram: Uint8Array): Promise<void> {
    this.sendSync(datagram);
  }

  /** sendmsg(): the kernel handles the datagram now, under its one lock. */
  sendSync(datagram: Uint8Array): void {
    if (this.closed) throw new NetlinkErrnoError(Errno.EBADF);
    if (datagram.length > DEFAULT_SNDBUF - 32) throw new NetlinkErrnoError(Errno.EMSGSIZE);
    this.kernel.receive(this, datagram);
    this.flushWaiters();
  }

  /**
   * Queue a datagram for userspace (netlink_unicast / netlink_broadcast).
   * Returns false, and remembers the overrun, when the receive buffer is full.
   */
  deliver(datagram: Uint8Array): boolean {
    if (this.closed) return false;
    const cost = datagram.length + SKB_OVERHEAD;
    if (this.queuedBytes + cost > this.rcvbuf && this.queue.length > 0) {
      this.overrun = true;
      return false;
    }
    this.queue.push(datagram);
    this.queuedBytes += cost;
    // A reader already waiting in recv() gets it (after the kernel finishes the current request).
    if (this.waiters.length > 0) queueMicrotask(() => this.flushWaiters());
    return true;
  }

  /** recvmsg() without waiting: ENOBUFS first if datagrams were lost. */
  tryRecv(): Uint8Array | undefined {
    if (this.closed) throw new NetlinkErrnoError(Errno.EBADF);
    if (this.overrun) {
      this.overrun = false;
      throw new NetlinkErrnoError(Errno.ENOBUFS);
    }
    if (this.queue.length === 0 && this.dump !== undefined) this.kernel.continueDump(this);
    const d = this.queue.shift();
    if (d !== undefined) this.queuedBytes -= d.length + SKB_OVERHEAD;
    // As netlink_recvmsg: once the queue has room again, the dump goes on.
    if (this.dump !== undefined && this.queuedBytes <= this.rcvbuf / 2 && this.queue.length === 0) this.kernel.continueDump(this);
    return d;
  }

  recv(): Promise<Uint8Array> {
    return recvOrPark(
      () => this.tryRecv(),
      (w) => this.waiters.push(w),
    );
  }

  /** Hand queued datagrams to pending recv() calls. */
  flushWaiters(): void {
    while (this.waiters.length > 0) {
      let d: Uint8Array | undefined;
      try {
        d = this.tryRecv();
      } catch (err) {
        this.waiters.shift()!.reject(err as Error);
        continue;
      }
      if (d === undefined) return;
      this.waiters.shift()!.resolve(d);
    }
  }

  async setKernelTrace(on: boolean): Promise<void> {
    this.traceLog = on ? (this.traceLog ?? []) : undefined;
  }

  takeKernelTrace(): KernelTraceEvent[] {
    const log = this.traceLog;
    if (log === undefined || log.length === 0) return [];
    this.traceLog = [];
    return log;
  }

  async joinGroup(group: number): Promise<void> {
    this.kernel.joinGroup(this, group);
  }

  async leaveGroup(group: number): Promise<void> {
    this.groups.delete(group);
  }

  async close(): Promise<void> {
    this.closeSync();
  }

  closeSync(): void {
    if (this.closed) return;
    this.closed = true;
    this.dump = undefined;
    this.kernel.release(this);
    for (const w of this.waiters.splice(0)) w.reject(new NetlinkErrnoError(Errno.EBADF));
  }

  /** Datagrams waiting to be read (for tests and the daemon). */
  get pending(): number {
    return this.queue.length;
  }
}
