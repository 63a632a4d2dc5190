/**
 * A netlink socket that outlives the connection under it. A real AF_NETLINK
 * socket belongs to the process, not to the openvswitch module: unloading
 * and loading the module again leaves it open (what is lost is the kernel's
 * state, and notifications). A socket of the ovs-kernel daemon is a
 * connection, which a restarted daemon has dropped. So that a daemon
 * restart looks to userspace as a module reload does on Linux, this socket
 * opens a new connection on its next use (same protocol, its multicast
 * groups joined again), and a socket that listens to groups then reports
 * once that notifications were lost (ENOBUFS, as an overrun socket does):
 * a port poll resynchronises, an interface notifier reconfigures.
 *
 * Only the transport's own failure (UnixNetlinkConnectionError: ECONNRESET,
 * EPIPE, ...) counts as lost; errors the kernel answers pass through, and a
 * real AF_NETLINK socket never reports such a failure.
 */
import { Errno, type KernelTraceEvent, NetlinkErrnoError, type NetlinkSocket } from '@ovs/genl-codec';
import { UnixNetlinkConnectionError } from '@ovs/genl-codec/unix';
import type { SocketFactory } from '@ovs/netlink-socket';

/** The factory's sockets, each reconnecting when its connection is lost. */
export function reconnectingSocketFactory(factory: SocketFactory): SocketFactory {
  return async (protocol) => new ReconnectingSocket(factory, protocol, await factory(protocol));
}

class ReconnectingSocket implements NetlinkSocket {
  private sock: NetlinkSocket | undefined;
  private readonly groups = new Set<number>();
  private reconnecting: Promise<NetlinkSocket> | undefined;
  /** A new connection replaced a lost one: the next read says ENOBUFS (group members only). */
  private overrun = false;
  private closed = false;
  private kernelTrace = false;
  /** Offered only where the transport offers them (the model's daemon, not a real kernel). */
  readonly setKernelTrace?: (on: boolean) => Promise<void>;
  readonly takeKernelTrace?: () => KernelTraceEvent[];

  constructor(
    private readonly factory: SocketFactory,
    readonly protocol: number,
    first: NetlinkSocket,
  ) {
    this.sock = first;
    if (first.setKernelTrace) {
      this.setKernelTrace = async (on) => {
        this.kernelTrace = on;
        await (await this.current()).setKernelTrace?.(on);
      };
    }
    if (first.takeKernelTrace) this.takeKernelTrace = () => this.sock?.takeKernelTrace?.() ?? [];
  }

  get portId(): number {
    return this.sock?.portId ?? 0;
  }

  /** A datagram that never left (the connection was found lost: EPIPE) goes once more, on a new connection. */
  async send(datagram: Uint8Array): Promise<void> {
    const s = await this.current();
    try {
      await this.guard(s, () => s.send(datagram));
    } catch (err) {
      if (!lost(err) || (err as UnixNetlinkConnectionError).errno !== Errno.EPIPE) throw err;
      const again = await this.current();
      await this.guard(again, () => again.send(datagram));
    }
  }

  async recv(): Promise<Uint8Array> {
    if (this.takeOverrun()) throw new NetlinkErrnoError(Errno.ENOBUFS);
    const s = await this.current();
    return this.guard(s, () => s.recv());
  }

  tryRecv(): Uint8Array | undefined {
    if (this.closed) throw new NetlinkErrnoError(Errno.EBADF);
    if (this.takeOverrun()) throw new NetlinkErrnoError(Errno.ENOBUFS);
    const s = this.sock;
    if (s === undefined) {
      // Reconnect in the background; until then nothing can have arrived.
      this.current().catch(() => {});
      return undefined;
    }
    try {
      return s.tryRecv?.();
    } catch (err) {
      if (!lost(err)) throw err;
      this.drop(s);
      this.current().catch(() => {});
      return undefined;
    }
  }

  async joinGroup(group: number): Promise<void> {
    const s = await this.current();
    await this.guard(s, () => s.joinGroup(group));
    this.groups.add(group);
  }

  async leaveGroup(group: number): Promise<void> {
    const s = await this.current();
    await this.guard(s, () => s.leaveGroup(group));
    this.groups.delete(group);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const s = this.sock;
    this.sock = undefined;
    await s?.close();
  }

  private takeOverrun(): boolean {
    const was = this.overrun;
    this.overrun = false;
    return was;
  }

  /** Run an operation on `s`; a lost connection is dropped (the next use opens another) and the error passed on. */
  private async guard<T>(s: NetlinkSocket, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (lost(err)) this.drop(s);
      throw err;
    }
  }

  private drop(s: NetlinkSocket): void {
    if (this.sock !== s) return;
    this.sock = undefined;
    s.close().catch(() => {});
  }

  /** The connection in use, or a new one (groups joined again, tracing as it was). */
  private current(): Promise<NetlinkSocket> {
    if (this.closed) return Promise.reject(new NetlinkErrnoError(Errno.EBADF));
    if (this.sock !== undefined) return Promise.resolve(this.sock);
    this.reconnecting ??= (async () => {
      const s = await this.factory(this.protocol);
      try {
        for (const g of this.groups) await s.joinGroup(g);
        if (this.kernelTrace) await s.setKernelTrace?.(true);
      } catch (err) {
        await s.close().catch(() => {});
        throw err;
      }
      if (this.closed) {
        await s.close();
        throw new NetlinkErrnoError(Errno.EBADF);
      }
      this.sock = s;
      this.overrun = this.groups.size > 0;
      return s;
    })().finally(() => {
      this.reconnecting = undefined;
    });
    return this.reconnecting;
  }
}

function lost(err: unknown): boolean {
  return err instanceof UnixNetlinkConnectionError;
}
