/**
 * The kernel: netlink sockets and namespaces, netlink_rcv_skb() handing each
 * request to its protocol (generic netlink: net/netlink/genetlink.ts,
 * rtnetlink: net/core/rtnetlink.ts), acks and dumps (af_netlink.c), with
 * the openvswitch module's families registered on top. Every request is
 * handled to completion before the next (one lock, a serial order across
 * sockets), as the kernel's genl_mutex / rtnl_lock serialise them.
 */
import {
  type ExtAck as ExtAckTlvs,
  type GenlMessage,
  Errno,
  type Message,
  NLMSG,
  NLM_F,
  NetlinkErrnoError,
  NetlinkProtocol,
  align4,
  encode,
  nlPolicyTypeAttrs,
  policyDump,
} from '@ovs/genl-codec';
import { GenlRegistry, type HandlerResult, ctrlFillInfo, genlRcvMsg, nlctrlRegistration } from './net/netlink/genetlink.js';
import { DEFAULT_RCVBUF, type DumpState, KernelSocket } from './net/netlink/af_netlink.js';
import { ExtAck } from './net/netlink/extack.js';
import { Netns } from './net/core/net_namespace.js';
import { Openvswitch } from './net/openvswitch/datapath.js';
import { Ethtool } from './net/ethtool/netlink.js';
import { Ftrace } from './kernel/trace/ftrace.js';
import { FaultInjection } from './lib/fault-inject.js';
import { registerRtnetlink, rtnlLinkOpsGet } from './net/core/rtnetlink.js';

export type KernelProfile = 'linux-6.1' | 'ovs-2.5';

export interface KernelOptions {
  /** Which openvswitch module: Linux 6.1's (default) or the OVS 2.5 out-of-tree one. */
  profile?: KernelProfile;
  /** Number of CPUs (the captures' machine had 2). */
  nCpus?: number;
  /** First id handed to the OVS families (the captured kernel: ovs_datapath 32 ... ovs_ct_limit 37). */
  firstFamilyId?: number;
  /** First multicast group id for them (the captured kernel: 9 ... 13). */
  firstMcastGroup?: number;
  /** Bytes of messages per dump datagram. */
  dumpChunkSize?: number;
  /** Load the openvswitch module (default true): without it, userspace finds no ovs_* family. */
  openvswitch?: boolean;
  /**
   * The IP layer's own addresses and routes in every namespace (default true:
   * lo's 127.0.0.1 and ::1, IPv6 link-locals, ff00::/8; see addrconf.ts).
   * false leaves the tables empty, for a test to load a captured machine's.
   */
  addrconf?: boolean;
}

/** What a protocol handler (genl, rtnetlink) is given for one request. */
export interface Request {
  sock: KernelSocket;
  /** The whole message. */
  bytes: Uint8Array;
  dv: DataView;
  type: number;
  flags: number;
  seq: number;
  /** Where the handler says what went wrong, beside the errno it returns. */
  extack: ExtAck;
}

/** A protocol's request handler: 0, a negative errno, or DUMP_STARTED when a dump began (no ack then). */
export type ProtocolHandler = (req: Request) => HandlerResult | typeof DUMP_STARTED;

export const DUMP_STARTED: unique symbol = Symbol('dump started');

export class Kernel {
  readonly profile: KernelProfile;
  readonly nCpus: number;
  readonly genl: GenlRegistry;
  readonly dumpChunkSize: number;
  readonly initNet: Netns;
  private readonly namespaces = new Map<string, Netns>();
  private readonly sockets = new Map<number, KernelSocket>();
  private readonly handlers = new Map<number, ProtocolHandler>();
  private nextPortId = 1_000_000;
  private nsSeed = 0;
  private readonly addrconf: boolean;

  constructor(opts: KernelOptions = {}) {
    this.profile = opts.profile ?? 'linux-6.1';
    this.nCpus = opts.nCpus ?? 2;
    this.dumpChunkSize = opts.dumpChunkSize ?? 16384;
    this.addrconf = opts.addrconf ?? true;
    this.genl = new GenlRegistry({ firstFamilyId: opts.firstFamilyId ?? 32, firstMcastGroup: opts.firstMcastGroup ?? 9 });
    this.genl.register(
      nlctrlRegistration(this.genl, (f, sock, seq, flags) => ctrlFillInfo(this, f, sock, seq, flags)),
      [16],
    );
    this.handlers.set(NetlinkProtocol.NETLINK_GENERIC, (req) => genlRcvMsg(this, req));
    this.initNet = this.netns('init');
    registerRtnetlink(this);
    // Registered at boot, before any module: it takes the id it has on the captures' kernel.
    this.ethtool = new Ethtool(this);
    this.ovs = opts.openvswitch === false ? undefined : new Openvswitch(this);
  }

  /** The function tracer: what the kernel runs for the requests of sockets that turned tracing on. */
  readonly ftrace = new Ftrace();

  /** Fault injection (failslab, fail_request_module, fail_netlink_create; see fault-inject.ts). */
  readonly faults = new FaultInjection(this.ftrace);

  /** The ethtool generic netlink family (device features). */
  readonly ethtool: Ethtool;

  /** The openvswitch module's state (undefined when not loaded). */
  readonly ovs: Openvswitch | undefined;

  /**
   * The namespace of that name, created on first use (as if `ip netns add`
   * had made it, its lo up as in the init namespace: what a socket naming
   * a namespace not yet made gets).
   */
  netns(name: string): Netns {
    return this.namespaces.get(name) ?? this.copyNetNs(name, true);
  }

  /** copy_net_ns() and the pernet init of every subsystem; the namespace mounted under its name. */
  private copyNetNs(name: string, loopbackUp: boolean): Netns {
    const ns = new Netns(name, this.nsSeed++, { addrconf: this.addrconf, ftrace: this.ftrace, nCpus: this.nCpus, linkOps: rtnlLinkOpsGet, loopbackUp });
    this.namespaces.set(name, ns);
    this.live.add(ns);
    for (const hook of this.netnsHooks) hook(ns);
    return ns;
  }

  // -------------------------------------------------------------------------
  // Namespaces as processes and files name them. In Linux a namespace has
  // no name: `ip netns add NAME` bind-mounts its nsfs file on
  // /run/netns/NAME, tools open that file and hand the kernel its descriptor
  // (IFLA_NET_NS_FD, NETNSA_FD, setns()), or name a process in it
  // (IFLA_NET_NS_PID). Here the names are the kernel's own table (the
  // mounts), an open nsfs file is a number from one table for the whole
  // model (nsfsOpen: what open() of the mount gives), and the processes it
  // knows are `tasks` (pid 1, init, in the init namespace). A namespace
  // lives while it is mounted, a socket is in it, or a file or task refers
  // to it (its refcount); then cleanup_net() dismantles it.

  /** /run/netns: the mounted namespaces by name (never the init namespace, which is no file there). */
  get netnsMounts(): ReadonlyMap<string, Netns> {
    return new Map([...this.namespaces].filter(([, ns]) => ns !== this.initNet));
  }

  /** `ip netns add NAME`: a new namespace (its lo down), mounted as NAME; EEXIST if the name is taken. */
  netnsAdd(name: string): Netns | number {
    if (name === '' || name.includes('/') || name === '.' || name === '..') return -Errno.EINVAL;
    if (this.namespaces.has(name)) return -Errno.EEXIST;
    return this.copyNetNs(name, false);
  }

  /** `ip netns del NAME`: the mount removed (ENOENT if none); the namespace goes once nothing else holds it. */
  netnsDel(name: string): number {
    const ns = this.namespaces.get(name);
    if (ns === undefined || ns === this.initNet) return -Errno.ENOENT;
    this.namespaces.delete(name);
    this.putNet(ns);
    return 0;
  }

  /** open("/run/netns/NAME"): an nsfs file descriptor, or ENOENT. */
  nsfsOpen(name: string): number {
    const ns = name === 'init' ? this.initNet : this.namespaces.get(name);
    if (ns === undefined) return -Errno.ENOENT;
    const fd = this.nextNsfsFd++;
    this.nsfsFiles.set(fd, ns);
    return fd;
  }

  /** close() of an nsfs file. */
  nsfsClose(fd: number): void {
    const ns = this.nsfsFiles.get(fd);
    if (ns === undefined) return;
    this.nsfsFiles.delete(fd);
    this.putNet(ns);
  }

  /** get_net_ns_by_fd(): EBADF for no open file of that number (the model has no other kind of file). */
  getNetNsByFd(fd: number): Netns | number {
    return this.nsfsFiles.get(fd) ?? -Errno.EBADF;
  }

  /** get_net_ns_by_pid(): ESRCH for a process the model does not know. */
  getNetNsByPid(pid: number): Netns | number {
    if (pid === 1) return this.initNet;
    const ns = this.tasks.get(pid);
    return ns !== undefined && this.live.has(ns) ? ns : -Errno.ESRCH;
  }

  /** The mount name of a namespace ('init' for the init namespace), if it has one. */
  netnsName(ns: Netns): string | undefined {
    if (ns === this.initNet) return 'init';
    return this.namespaces.get(ns.name) === ns ? ns.name : undefined;
  }

  /** Processes the model knows, and the namespace each is in (a daemon's clients). */
  readonly tasks = new Map<number, Netns>();

  /** How many of a task's connections hold it in its namespace. */
  private readonly taskRefs = new Map<number, number>();

  /** A process is in `ns` (setns()): get_net_ns_by_pid() finds it there while it is. */
  taskEnter(pid: number, ns: Netns): void {
    const old = this.tasks.get(pid);
    this.taskRefs.set(pid, old === ns ? (this.taskRefs.get(pid) ?? 0) + 1 : 1);
    this.tasks.set(pid, ns);
    if (old !== undefined && old !== ns) this.putNet(old);
  }

  /** One of the process's holds on `ns` is gone (a connection closed); with the last, it is no longer known there. */
  taskExit(pid: number, ns?: Netns): void {
    const cur = this.tasks.get(pid);
    if (cur === undefined || (ns !== undefined && cur !== ns)) return;
    const n = (this.taskRefs.get(pid) ?? 1) - 1;
    if (n > 0) {
      this.taskRefs.set(pid, n);
      return;
    }
    this.taskRefs.delete(pid);
    this.tasks.delete(pid);
    this.putNet(cur);
  }

  /** Namespaces not yet dismantled (mounted or not). */
  private readonly live = new Set<Netns>();
  private readonly nsfsFiles = new Map<number, Netns>();
  private nextNsfsFd = 3;

  /** Whether anything still holds the namespace: its mount, a socket, an open file, a task. */
  private netHeld(ns: Netns): boolean {
    if (ns === this.initNet || this.namespaces.get(ns.name) === ns) return true;
    for (const s of this.sockets.values()) if (s.netns === ns) return true;
    for (const n of this.nsfsFiles.values()) if (n === ns) return true;
    for (const n of this.tasks.values()) if (n === ns) return true;
    return false;
  }

  /** put_net(): dismantle the namespace once nothing holds it. */
  private putNet(ns: Netns): void {
    if (!this.live.has(ns) || this.netHeld(ns)) return;
    this.live.delete(ns);
    this.cleanupNet(ns);
  }

  /**
   * cleanup_net(): the namespace's ids in every other namespace go
   * (unhash_nsid: RTM_DELNSID in each), then the pernet exit methods in
   * reverse order of registration (the openvswitch module's datapaths, then
   * the devices: default_device_exit).
   */
  private cleanupNet(ns: Netns): void {
    this.ftrace.event('kernel', 'cleanup_net', ns.name);
    for (const other of this.live) other.forgetPeer(ns);
    for (const exit of [...this.netnsExitHooks].reverse()) exit(ns);
  }

  /** register_pernet_device()'s exit method: called as a namespace is dismantled. */
  onNetnsExit(hook: (ns: Netns) => void): void {
    this.netnsExitHooks.push(hook);
  }

  private readonly netnsExitHooks: Array<(ns: Netns) => void> = [];

  /** Called for every namespace, existing and future (register_pernet_subsys). */
  onNetns(hook: (ns: Netns) => void): void {
    this.netnsHooks.push(hook);
    for (const ns of this.namespaces.values()) hook(ns);
  }

  private readonly netnsHooks: Array<(ns: Netns) => void> = [];

  /** Every namespace not yet dismantled. */
  get allNamespaces(): Iterable<Netns> {
    return this.live.values();
  }

  /** Install the handler for a netlink protocol (rtnetlink registers NETLINK_ROUTE). */
  setProtocolHandler(protocol: number, handler: ProtocolHandler): void {
    this.handlers.set(protocol, handler);
  }

  /** socket(AF_NETLINK, SOCK_RAW, protocol) + bind(): a socket with its own port id. */
  socket(opts: {
    protocol: number;
    netns?: string;
    capNetAdmin?: boolean;
    portId?: number;
    extAck?: boolean;
    capAck?: boolean;
    rcvbuf?: number;
  }): KernelSocket {
    if (!this.handlers.has(opts.protocol)) throw new NetlinkErrnoError(Errno.EPROTONOSUPPORT);
    // __netlink_create(): sk_alloc() can fail; nothing exists yet then.
    this.faults.check('fail_netlink_create', 'netlink_create');
    let portId = opts.portId;
    if (portId !== undefined) {
      if (this.sockets.has(portId)) throw new NetlinkErrnoError(Errno.EADDRINUSE);
    } else {
      while (this.sockets.has(this.nextPortId)) this.nextPortId++;
      portId = this.nextPortId++;
    }
    const sock = new KernelSocket(this, {
      protocol: opts.protocol,
      netns: this.netns(opts.netns ?? 'init'),
      capNetAdmin: opts.capNetAdmin ?? true,
      portId,
      extAck: opts.extAck ?? true,
      capAck: opts.capAck ?? false,
      rcvbuf: opts.rcvbuf ?? DEFAULT_RCVBUF,
    });
    this.sockets.set(portId, sock);
    return sock;
  }

  /** Called by a socket when it closes. */
  release(sock: KernelSocket): void {
    if (this.sockets.get(sock.portId) === sock) this.sockets.delete(sock.portId);
    if (sock.netns !== this.initNet) this.putNet(sock.netns);
  }

  joinGroup(sock: KernelSocket, group: number): void {
    if (!Number.isInteger(group) || group <= 0 || group > 0xffffffff) throw new NetlinkErrnoError(Errno.EINVAL);
    sock.groups.add(group);
  }

  /** netlink_rcv_skb(): each request in the datagram, acking as asked or on error. */
  receive(sock: KernelSocket, datagram: Uint8Array): void {
    this.ftrace.capture(sock.traceLog, () => this.rcvSkb(sock, datagram));
  }

  private rcvSkb(sock: KernelSocket, datagram: Uint8Array): void {
    const handler = this.handlers.get(sock.protocol)!;
    const dv = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
    let off = 0;
    while (datagram.length - off >= 16) {
      const len = dv.getUint32(off, true);
      if (len < 16 || len > datagram.length - off) return;
      const bytes = datagram.subarray(off, off + len);
      const mdv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const type = mdv.getUint16(4, true);
      const flags = mdv.getUint16(6, true);
      const extack = new ExtAck();
      let result: HandlerResult | typeof DUMP_STARTED = 0;
      if (flags & NLM_F.REQUEST && type >= NLMSG.MIN_TYPE) {
        result = handler({ sock, bytes, dv: mdv, type, flags, seq: mdv.getUint32(8, true), extack });
      }
      if (result !== DUMP_STARTED && (flags & NLM_F.ACK || result !== 0)) this.ack(sock, bytes, result, extack);
      off += Math.min(align4(len), datagram.length - off);
    }
  }

  /** netlink_ack(): NLMSG_ERROR with the request (capped unless an error) and extack TLVs. */
  ack(sock: KernelSocket, request: Uint8Array, err: number, extack: ExtAck): void {
    let flags = 0;
    let echoed: Uint8Array;
    if (err !== 0 && !sock.capAck) {
      echoed = request;
    } else {
      echoed = request.subarray(0, 16);
      flags |= NLM_F.CAPPED;
    }
    const ext = sock.extAck ? ackTlvs(err, extack) : undefined;
    if (ext !== undefined) flags |= NLM_F.ACK_TLVS;
    const seq = new DataView(request.buffer, request.byteOffset, request.byteLength).getUint32(8, true);
    sock.deliver(
      encode({
        kind: 'error',
        protocol: sock.protocol,
        header: { len: 0, type: NLMSG.ERROR, flags, seq, pid: sock.portId },
        error: err,
        request: echoed,
        ...(ext ? { ext } : {}),
      }),
    );
  }

  /** netlink_unicast(). */
  unicast(sock: KernelSocket, msg: Message | Uint8Array): void {
    sock.deliver(msg instanceof Uint8Array ? msg : encode(msg));
  }

  /**
   * netlink_broadcast() to a group's members of that protocol and namespace,
   * except `excludePortId`.
   */
  multicast(protocol: number, netns: Netns, group: number, bytes: Uint8Array, excludePortId = 0): void {
    for (const s of this.sockets.values()) {
      if (s.protocol === protocol && s.netns === netns && s.portId !== excludePortId && s.groups.has(group)) s.deliver(bytes);
    }
  }

  /** genl_notify() / nlmsg_notify(): members of the group first, then the requester if it asked for an echo. */
  notify(sock: KernelSocket, requestFlags: number, msg: GenlMessage | Message, group: number): void {
    const bytes = encode(msg);
    const report = (requestFlags & NLM_F.ECHO) !== 0;
    this.ftrace.event('kernel', 'genl_notify', `multicast group ${group}${report ? ', echo to the requester' : ''}`);
    this.multicast(sock.protocol, sock.netns, group, bytes, report ? sock.portId : 0);
    if (report) sock.deliver(bytes);
  }

  /** Start a dump on a socket (netlink_dump_start): EBUSY if one is running; the first chunk now. */
  startDump(sock: KernelSocket, seq: number, produce: DumpState['next']): typeof DUMP_STARTED | number {
    if (sock.dump !== undefined) return -Errno.EBUSY;
    sock.dump = { seq, next: produce };
    this.continueDump(sock);
    return DUMP_STARTED;
  }

  /** netlink_dump(): one more chunk, or NLMSG_DONE once the dump says it is finished. */
  continueDump(sock: KernelSocket): void {
    if (sock.dump === undefined) return;
    this.ftrace.capture(sock.traceLog, () => this.netlinkDump(sock));
  }

  private netlinkDump(sock: KernelSocket): void {
    const st = sock.dump!;
    const out: Uint8Array[] = [];
    const r = st.next(out, this.dumpChunkSize);
    if (!r.done) {
      if (out.length > 0) sock.deliver(concat(out));
      return;
    }
    sock.dump = undefined;
    out.push(
      encode({
        kind: 'done',
        protocol: sock.protocol,
        header: { len: 0, type: NLMSG.DONE, flags: NLM_F.MULTI, seq: st.seq, pid: sock.portId },
        error: r.error ?? 0,
      }),
    );
    sock.deliver(concat(out));
  }

  /** All sockets (read-only inspection). */
  get openSockets(): Iterable<KernelSocket> {
    return this.sockets.values();
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let n = 0;
  for (const p of parts) n = align4(n) + p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    off = align4(off);
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** netlink_ack_tlv_fill(): MSG, then for errors OFFS, POLICY, MISS_TYPE. */
function ackTlvs(err: number, extack: ExtAck): ExtAckTlvs | undefined {
  const ext: ExtAckTlvs = {};
  let any = false;
  if (extack.msg) {
    ext.msg = extack.msg;
    any = true;
  }
  if (err !== 0) {
    if (extack.badAttr !== undefined) {
      ext.offs = extack.badAttr;
      any = true;
    }
    const dump = extack.policy ? policyDump(extack.policy) : undefined;
    if (dump) {
      const policy: Record<string, unknown> = {};
      for (const a of dump) {
        const e = nlPolicyTypeAttrs.byType[a.type]!;
        policy[e.key] = a.width === 'u32' ? Number(a.value) : a.value;
      }
      ext.policy = policy as ExtAckTlvs['policy'];
      any = true;
    }
    if (extack.missType !== undefined) {
      ext.missType = extack.missType;
      any = true;
    }
  }
  return any ? ext : undefined;
}
