/**
 * dpif-netlink (lib/dpif-netlink.c): the datapath interface over the
 * openvswitch module's generic netlink families, through any NetlinkSocket
 * (the kernel model in-process, the ovs-kernel daemon, a real AF_NETLINK
 * socket). Never imports the kernel model: only bytes cross.
 */
import {
  ATTR_ORDER,
  CTRL_CMD,
  type CtrlAttrs,
  Errno,
  type FamilyTable,
  type GenlFamilyDef,
  type GenlMessage,
  type Message,
  NLM_F,
  NetlinkProtocol,
  type NetlinkSocket,
  RTM,
  type RtnlLinkMessage,
  OVS_DP_CMD,
  OVS_DP_F,
  OVS_VPORT_CMD,
  OVS_VPORT_TYPE,
  type OvsDatapathAttrs,
  type OvsVportAttrs,
  ctrlFamily,
  decode,
  newFamilyTable,
  ovsDatapathFamily,
  ovsVportFamily,
} from '@ovs/genl-codec';
import type { Dpif, DpifPort, DpifStats, NetdevSpec, PortPollResult } from './dpif.js';
import { DpifError, NlSock } from './nl-sock.js';

/** Opens a netlink socket of a protocol: the transport, chosen by the caller. */
export type SocketFactory = (protocol: number) => Promise<NetlinkSocket>;

export type LogFn = (level: 'DBG' | 'INFO' | 'WARN' | 'ERR', module: string, text: string) => void;

export interface DpifNetlinkOptions {
  socket: SocketFactory;
  /** Upcall handler threads (one upcall socket each per port in per-vport mode, or per CPU). */
  nHandlers?: number;
  /** Force the upcall dispatch mode (default: per-CPU where the kernel accepts it, as OVS 3.1). */
  dispatch?: 'auto' | 'per-cpu' | 'per-vport';
  /**
   * How tunnel ports are made: 'rtnetlink' (OVS 2.8+: a vxlan_sys_4789-style
   * device made with RTM_NEWLINK, added as a netdev vport), 'compat' (the
   * seeds' tunnel vport types with options), or 'auto' (default): rtnetlink,
   * falling back to compat where the kernel refuses the device.
   */
  tunnels?: 'auto' | 'rtnetlink' | 'compat';
  log?: LogFn;
}

/** OVS_DP_F_UNSUPPORTED: a bit no kernel knows, to catch old kernels that accept anything. */
const OVS_DP_F_UNSUPPORTED = 0x80000000;

/** netdev_to_ovs_vport_type(): the kernel vport type for an OVS netdev type, or UNSPEC. */
export function netdevToOvsVportType(type: string): number {
  if (type === 'tap' || type === 'system') return OVS_VPORT_TYPE.NETDEV;
  if (type === 'internal') return OVS_VPORT_TYPE.INTERNAL;
  if (type.includes('stt')) return OVS_VPORT_TYPE.STT;
  if (type === 'geneve') return OVS_VPORT_TYPE.GENEVE;
  if (type.includes('gre')) return OVS_VPORT_TYPE.GRE;
  if (type === 'vxlan') return OVS_VPORT_TYPE.VXLAN;
  if (type === 'lisp') return OVS_VPORT_TYPE.LISP;
  return OVS_VPORT_TYPE.UNSPEC;
}

/** get_vport_type(): the OVS type name of a kernel vport. */
export function vportTypeName(type: number, name: string): string {
  switch (type) {
    case OVS_VPORT_TYPE.NETDEV:
      return 'system';
    case OVS_VPORT_TYPE.INTERNAL:
      return 'internal';
    case OVS_VPORT_TYPE.GENEVE:
      return 'geneve';
    case OVS_VPORT_TYPE.GRE:
      return 'gre';
    case OVS_VPORT_TYPE.VXLAN:
      return 'vxlan';
    case OVS_VPORT_TYPE.LISP:
      return 'lisp';
    case OVS_VPORT_TYPE.STT:
      return 'stt';
    default:
      return `unknown-${type}:${name}`;
  }
}

/** The family ids and the ovs_vport multicast group, learned through nlctrl. */
export interface OvsFamilies {
  table: FamilyTable;
  vportGroup: number;
}

/**
 * dpif_netlink_init(): look the families up by name, in OVS's order (the
 * ovs_vport group is looked up again, as nl_lookup_genl_mcgroup does). A
 * kernel without the ovs_datapath family has no openvswitch module.
 */
export async function lookupFamilies(sock: NlSock): Promise<OvsFamilies> {
  const get = async (name: string): Promise<CtrlAttrs | undefined> => {
    try {
      const [reply] = await sock.transact(genl(ctrlFamily, 16, CTRL_CMD.GETFAMILY, { familyName: name }, NLM_F.REQUEST, 1));
      const attrs = (reply as GenlMessage<typeof ctrlFamily>).attrs;
      sock.families.learn(attrs);
      return attrs;
    } catch (err) {
      if (err instanceof DpifError && err.errno === Errno.ENOENT) return undefined;
      throw err;
    }
  };
  if ((await get('ovs_datapath')) === undefined) {
    throw new DpifError(Errno.ENOENT, undefined, 'the openvswitch kernel module is not loaded (no ovs_datapath generic netlink family)');
  }
  for (const name of ['ovs_vport', 'ovs_flow', 'ovs_packet']) {
    if ((await get(name)) === undefined) throw new DpifError(Errno.ENOENT, undefined, `generic netlink family ${name} is missing`);
  }
  const vport = await get('ovs_vport');
  const group = vport?.mcastGroups?.find((g) => g.name === 'ovs_vport')?.id;
  if (group === undefined) throw new DpifError(Errno.EPROTO, undefined, 'ovs_vport has no multicast group');
  await get('ovs_meter');
  await get('ovs_ct_limit');
  return { table: sock.families, vportGroup: group };
}

function genl(family: GenlFamilyDef, type: number, cmd: number, attrs: Record<string, unknown>, flags: number, version = family.version, dpIfindex?: number): GenlMessage {
  return {
    kind: 'genl',
    protocol: NetlinkProtocol.NETLINK_GENERIC,
    header: { len: 0, type, flags, seq: 0, pid: 0 },
    family,
    cmd,
    version,
    reserved: 0,
    ...(family.userHeader ? { dpIfindex: dpIfindex ?? 0 } : {}),
    attrs,
  } as GenlMessage;
}

/** netdev_vport_get_dpif_port(): the datapath port name of a tunnel netdev (vxlan_sys_4789, gre_sys...). */
export function tunnelDpifPortName(type: string, dstPort: number | undefined): string {
  switch (type) {
    case 'vxlan':
      return `vxlan_sys_${dstPort ?? 4789}`;
    case 'geneve':
      return `genev_sys_${dstPort ?? 6081}`;
    case 'stt':
      return `stt_sys_${dstPort ?? 7471}`;
    case 'lisp':
      return `lisp_sys_${dstPort ?? 4341}`;
    default:
      return `${type}_sys`;
  }
}

/**
 * dpif_netlink_rtnl_port_create()'s device: kind and IFLA_INFO_DATA as OVS
 * 3.1 sends them (attribute order included), or undefined for types it makes
 * no device for.
 */
function tunnelLinkInfo(type: string, dstPort: number | undefined): RtnlLinkMessage['attrs']['linkinfo'] | undefined {
  const ordered = <T extends object>(attrs: T, order: number[]): T => {
    Object.defineProperty(attrs, ATTR_ORDER, { value: order, enumerable: false });
    return attrs;
  };
  switch (type) {
    case 'vxlan':
      return { kind: 'vxlan', data: { set: 'vxlan', attrs: ordered({ learning: 0, collectMetadata: 1, udpZeroCsum6Rx: 1, port: dstPort ?? 4789 }, [7, 25, 20, 15]) } };
    case 'geneve':
      return { kind: 'geneve', data: { set: 'geneve', attrs: ordered({ collectMetadata: true as const, udpZeroCsum6Rx: 1, port: dstPort ?? 6081 }, [6, 10, 5]) } };
    case 'gre':
      return { kind: 'gretap', data: { set: 'gre', attrs: { collectMetadata: true as const } } };
    default:
      return undefined;
  }
}

/** An RTM_*LINK request with an empty ifinfomsg. */
function linkRequest(type: number, flags: number, attrs: RtnlLinkMessage['attrs']): RtnlLinkMessage {
  return {
    kind: 'rtnl',
    protocol: NetlinkProtocol.NETLINK_ROUTE,
    header: { len: 0, type, flags, seq: 0, pid: 0 },
    family: 'link',
    ifinfomsg: { family: 0, pad: 0, type: 0, index: 0, flags: 0, change: 0 },
    attrs,
  };
}

/**
 * dpif_netlink_rtnl_probe_oot_tunnels(): does the kernel have the
 * out-of-tree module's tunnel drivers? An existing genev_sys_6081 of kind
 * ovs_geneve says yes; otherwise try to create one (the in-tree kernel does
 * not know the kind: EOPNOTSUPP) and delete it again.
 */
async function probeOutOfTreeTunnels(socket: SocketFactory): Promise<boolean> {
  const name = 'genev_sys_6081';
  const sock = new NlSock(await socket(NetlinkProtocol.NETLINK_ROUTE), newFamilyTable());
  try {
    try {
      const [reply] = await sock.transact(linkRequest(RTM.GETLINK, NLM_F.REQUEST, { ifname: name }));
      return (reply as RtnlLinkMessage).attrs.linkinfo?.kind === 'ovs_geneve';
    } catch (err) {
      if (!(err instanceof DpifError)) throw err;
      if (err.errno !== Errno.ENODEV) return false;
    }
    // IFLA_GENEVE_COLLECT_METADATA, IFLA_GENEVE_UDP_ZERO_CSUM6_RX 1, IFLA_GENEVE_PORT 6081: as OVS sends them.
    const data = Uint8Array.from([4, 0, 6, 0, 5, 0, 10, 0, 1, 0, 0, 0, 6, 0, 5, 0, 0x17, 0xc1, 0, 0]);
    try {
      await sock.transact(linkRequest(RTM.NEWLINK, NLM_F.REQUEST | NLM_F.ACK | NLM_F.CREATE, { ifname: name, mtu: 65000, linkinfo: { kind: 'ovs_geneve', data: { set: 'raw', bytes: data } } }));
    } catch (err) {
      if (err instanceof DpifError) return false;
      throw err;
    }
    await sock.transact(linkRequest(RTM.DELLINK, NLM_F.REQUEST | NLM_F.ACK, { ifname: name }));
    return true;
  } finally {
    await sock.sock.close();
  }
}

export class DpifNetlink implements Dpif {
  readonly fullName: string;
  /** The per-port upcall sockets (per-vport dispatch), by port number. */
  private readonly channels = new Map<number, NetlinkSocket[]>();
  private pollSock: NlSock | undefined;
  private pollStarted = false;
  /** Names from notifications already read, reported one per port_poll() call. */
  private readonly pollQueue: string[] = [];
  /** The rtnetlink socket for tunnel devices, opened on first use. */
  private rtnl: NlSock | undefined;
  /** Ports whose device this datapath interface made with RTM_NEWLINK (deleted with the port). */
  private readonly rtnlDevices = new Map<number, string>();

  private constructor(
    private readonly sock: NlSock,
    private readonly families: OvsFamilies,
    private readonly opts: DpifNetlinkOptions,
    readonly name: string,
    /** dp_ifindex: the ifindex of the datapath's local port. */
    readonly dpIfindex: number,
    /** The user features the datapath runs with. */
    readonly userFeatures: number,
    /** Tunnels come from the out-of-tree module (its ovs_geneve exists): compat vport types, no rtnetlink devices. */
    readonly outOfTreeTunnels = false,
  ) {
    this.fullName = `system@${name}`;
  }

  get perCpu(): boolean {
    return (this.userFeatures & OVS_DP_F.DISPATCH_UPCALL_PER_CPU) !== 0;
  }

  private get dpId(): number {
    return this.families.table.id('ovs_datapath')!;
  }

  private get vportId(): number {
    return this.families.table.id('ovs_vport')!;
  }

  private log(level: 'DBG' | 'INFO' | 'WARN' | 'ERR', module: string, text: string): void {
    this.opts.log?.(level, module, text);
  }

  /**
   * dpif_netlink_open(): open the datapath called `name`, creating it if
   * `create`. A new datapath is created with the feature negotiation of OVS
   * 3.1: an impossible bit first (a kernel that accepts it is too old to
   * trust), then UNALIGNED with per-CPU upcall dispatch, falling back to
   * per-vport pids.
   */
  static async open(name: string, opts: DpifNetlinkOptions, create: boolean): Promise<DpifNetlink> {
    const raw = await opts.socket(NetlinkProtocol.NETLINK_GENERIC);
    const sock = new NlSock(raw, newFamilyTable());
    try {
      const families = await lookupFamilies(sock);
      const { reply, trusted } = await DpifNetlink.negotiate(sock, families.table.id('ovs_datapath')!, name, opts, create);
      const attrs = reply.attrs as OvsDatapathAttrs;
      const outOfTree = (opts.tunnels ?? 'auto') === 'auto' && (await probeOutOfTreeTunnels(opts.socket));
      const dpif = new DpifNetlink(sock, families, opts, attrs.name ?? name, reply.dpIfindex ?? 0, attrs.userFeatures ?? 0, outOfTree);
      // dpif_netlink_set_features(): a kernel that negotiates is offered TC_RECIRC_SHARING; without it, it keeps what it has.
      if (trusted) {
        try {
          await sock.transact(
            genl(ovsDatapathFamily, dpif.dpId, OVS_DP_CMD.SET, { name: dpif.name, userFeatures: dpif.userFeatures | OVS_DP_F.TC_RECIRC_SHARING }, NLM_F.REQUEST | NLM_F.ECHO, undefined, dpif.dpIfindex),
          );
        } catch (err) {
          if (!(err instanceof DpifError)) throw err;
        }
      }
      if (create) dpif.log('INFO', 'dpif_netlink', `Datapath dispatch mode: ${dpif.perCpu ? 'per-cpu' : 'per-vport'}`);
      return dpif;
    } catch (err) {
      await raw.close();
      throw err;
    }
  }

  /**
   * The user-features handshake of dpif_netlink_open(): NEW (create) or GET
   * then SET (open) with the datapath's features plus UNALIGNED, VPORT_PIDS
   * and a bit no kernel knows. A kernel that refuses that bit is trusted:
   * then per-CPU upcall dispatch is asked for, else per-vport pids. A kernel
   * that accepts it (the 2.5 module checks nothing) is set to the standard
   * features.
   */
  private static async negotiate(sock: NlSock, dpId: number, name: string, opts: DpifNetlinkOptions, create: boolean): Promise<{ reply: GenlMessage; trusted: boolean }> {
    let cmd: number = OVS_DP_CMD.NEW;
    let features = 0;
    if (!create) {
      const current = (await sock.transact(genl(ovsDatapathFamily, dpId, OVS_DP_CMD.GET, { name, upcallPid: 0 }, NLM_F.REQUEST | NLM_F.ECHO)))[0] as GenlMessage;
      features = (current.attrs as OvsDatapathAttrs).userFeatures ?? 0;
      cmd = OVS_DP_CMD.SET;
    }
    const send = async (f: number) =>
      ((await sock.transact(genl(ovsDatapathFamily, dpId, cmd, { name, upcallPid: 0, userFeatures: f >>> 0 }, NLM_F.REQUEST | NLM_F.ECHO))) as GenlMessage[])[0]!;
    features = (features | OVS_DP_F.UNALIGNED | OVS_DP_F.VPORT_PIDS) >>> 0;
    try {
      const accepted = await send(features | OVS_DP_F_UNSUPPORTED);
      opts.log?.('INFO', 'dpif_netlink', 'Kernel does not correctly support feature negotiation. Using standard features.');
      const reply = ((await sock.transact(
        genl(ovsDatapathFamily, dpId, OVS_DP_CMD.SET, { name, upcallPid: 0, userFeatures: OVS_DP_F.UNALIGNED | OVS_DP_F.VPORT_PIDS }, NLM_F.REQUEST | NLM_F.ECHO, undefined, accepted.dpIfindex),
      )) as GenlMessage[])[0]!;
      return { reply, trusted: false };
    } catch (err) {
      if (!(err instanceof DpifError) || err.errno !== Errno.EOPNOTSUPP) throw err;
    }
    const perCpu = ((features & ~OVS_DP_F.VPORT_PIDS) | OVS_DP_F.DISPATCH_UPCALL_PER_CPU) >>> 0;
    if (opts.dispatch !== 'per-vport') {
      try {
        return { reply: await send(perCpu), trusted: true };
      } catch (err) {
        if (!(err instanceof DpifError) || err.errno !== Errno.EOPNOTSUPP || opts.dispatch === 'per-cpu') throw err;
      }
    }
    return { reply: await send(((perCpu & ~OVS_DP_F.DISPATCH_UPCALL_PER_CPU) | OVS_DP_F.VPORT_PIDS) >>> 0), trusted: true };
  }

  async close(): Promise<void> {
    for (const socks of this.channels.values()) for (const s of socks) await s.close();
    for (const s of this.handlerSocks) await s.close();
    this.channels.clear();
    await this.pollSock?.sock.close();
    await this.rtnl?.sock.close();
    await this.sock.sock.close();
  }

  /** dpif_netlink_destroy(): OVS_DP_CMD_DEL. */
  async destroy(): Promise<void> {
    await this.sock.transact(genl(ovsDatapathFamily, this.dpId, OVS_DP_CMD.DEL, {}, NLM_F.REQUEST | NLM_F.ECHO, undefined, this.dpIfindex));
  }

  async getStats(): Promise<DpifStats> {
    const [reply] = (await this.sock.transact(
      genl(ovsDatapathFamily, this.dpId, OVS_DP_CMD.GET, { name: this.name }, NLM_F.REQUEST | NLM_F.ECHO),
    )) as GenlMessage[];
    const a = reply!.attrs as OvsDatapathAttrs;
    return {
      nHit: a.stats?.nHit ?? 0n,
      nMissed: a.stats?.nMissed ?? 0n,
      nLost: a.stats?.nLost ?? 0n,
      nFlows: a.stats?.nFlows ?? 0n,
      nMaskHit: a.megaflowStats?.nMaskHit ?? 0n,
      nMasks: a.megaflowStats?.nMasks ?? 0,
      nCacheHit: a.megaflowStats?.nCacheHit ?? 0n,
      masksCacheSize: a.masksCacheSize,
    };
  }

  /**
   * dpif_netlink_port_add__(): the vport type for the netdev's type (EINVAL
   * for types the kernel has none of), tunnel options, upcall sockets per
   * handler (per-vport dispatch; with per-CPU dispatch the port gets pid 0),
   * a requested number or an automatic one. If the channels cannot be set up
   * after the kernel made the port, the port is deleted again.
   */
  async portAdd(netdev: NetdevSpec, portNo?: number): Promise<number> {
    const type = netdevToOvsVportType(netdev.type);
    if (type === OVS_VPORT_TYPE.UNSPEC) {
      this.log('WARN', 'dpif_netlink', `${this.fullName}: cannot create port \`${netdev.name}' because it has unsupported type \`${netdev.type}'`);
      throw new DpifError(Errno.EINVAL);
    }
    const isTunnel = type !== OVS_VPORT_TYPE.NETDEV && type !== OVS_VPORT_TYPE.INTERNAL;
    if (isTunnel && (this.opts.tunnels ?? 'auto') !== 'compat' && !this.outOfTreeTunnels) {
      const device = await this.createTunnelDevice(netdev);
      if (device !== undefined) {
        const n = await this.addVport({ type: OVS_VPORT_TYPE.NETDEV, name: device }, portNo);
        this.rtnlDevices.set(n, device);
        return n;
      }
    }
    const attrs: OvsVportAttrs = { type, name: isTunnel ? tunnelDpifPortName(netdev.type, netdev.tunnel?.dstPort) : netdev.name };
    if (isTunnel && netdev.tunnel?.dstPort !== undefined) {
      attrs.options = { dstPort: netdev.tunnel.dstPort, ...(netdev.tunnel.gbp ? { extension: { gbp: true } } : {}) };
    }
    return this.addVport(attrs, portNo);
  }

  /**
   * dpif_netlink_rtnl_port_create(): the tunnel's device, made with
   * RTM_NEWLINK; an existing one is used as it is. Undefined when the kernel
   * refuses (then the compat vport type is used, unless tunnels: 'rtnetlink').
   */
  private async createTunnelDevice(netdev: NetdevSpec): Promise<string | undefined> {
    const linkinfo = tunnelLinkInfo(netdev.type, netdev.tunnel?.dstPort);
    if (linkinfo === undefined) return undefined;
    const name = tunnelDpifPortName(netdev.type, netdev.tunnel?.dstPort);
    if (this.rtnl === undefined) this.rtnl = new NlSock(await this.opts.socket(NetlinkProtocol.NETLINK_ROUTE), this.families.table);
    const link = linkRequest;
    try {
      await this.rtnl.transact(link(RTM.NEWLINK, NLM_F.REQUEST | NLM_F.ACK | NLM_F.EXCL | NLM_F.CREATE, { ifname: name, mtu: 65000, linkinfo }));
      // gretap takes its MTU only once it exists.
      if (linkinfo.kind === 'gretap') await this.rtnl.transact(link(RTM.SETLINK, NLM_F.REQUEST | NLM_F.ACK, { ifname: name, mtu: 65000 }));
    } catch (err) {
      if (err instanceof DpifError && err.errno === Errno.EEXIST) return name;
      if (this.opts.tunnels === 'rtnetlink') throw err;
      this.log('INFO', 'dpif_netlink', `${this.fullName}: cannot create ${linkinfo.kind} device ${name} (${err instanceof DpifError ? err.text : String(err)}), using the ${netdev.type} vport type`);
      return undefined;
    }
    return name;
  }

  /** The OVS_VPORT_CMD_NEW itself, with upcall channels. */
  private async addVport(attrs: OvsVportAttrs, portNo: number | undefined): Promise<number> {
    if (portNo !== undefined) attrs.portNo = portNo;
    // Upcall sockets: one per handler in per-vport mode.
    const upcallSocks: NetlinkSocket[] = [];
    if (!this.perCpu) {
      for (let i = 0; i < (this.opts.nHandlers ?? 1); i++) upcallSocks.push(await this.opts.socket(NetlinkProtocol.NETLINK_GENERIC));
    }
    attrs.upcallPid = upcallSocks.length ? upcallSocks.map((s) => s.portId) : [0];
    let reply: GenlMessage;
    try {
      reply = (await this.sock.transact(
        genl(ovsVportFamily, this.vportId, OVS_VPORT_CMD.NEW, attrs, NLM_F.REQUEST | NLM_F.ECHO, undefined, this.dpIfindex),
      ))[0] as GenlMessage;
    } catch (err) {
      for (const s of upcallSocks) await s.close();
      if (err instanceof DpifError && err.errno === Errno.EBUSY && portNo !== undefined) {
        this.log('INFO', 'dpif_netlink', `${this.fullName}: requested port ${portNo} is in use`);
      }
      throw err;
    }
    const assigned = (reply.attrs as OvsVportAttrs).portNo!;
    try {
      this.addChannels(assigned, upcallSocks);
    } catch (err) {
      // vport_add_channel() failed: take the port out of the kernel again, leak nothing.
      await this.sock.transact(genl(ovsVportFamily, this.vportId, OVS_VPORT_CMD.DEL, { portNo: assigned }, NLM_F.REQUEST | NLM_F.ECHO, undefined, this.dpIfindex));
      for (const s of upcallSocks) await s.close();
      throw err;
    }
    return assigned;
  }

  /** The per-CPU upcall sockets (per-CPU dispatch). */
  private handlerSocks: NetlinkSocket[] = [];

  /**
   * dpif_handlers_set(): upcall handler sockets. With per-CPU dispatch, one
   * per CPU, their port ids sent as OVS_DP_ATTR_PER_CPU_PIDS (indexed by
   * CPU); with per-vport dispatch, `n` sockets per port from now on, and the
   * existing ports' OVS_VPORT_ATTR_UPCALL_PID refreshed.
   */
  async handlersSet(n: number): Promise<void> {
    if (this.perCpu) {
      const socks: NetlinkSocket[] = [];
      for (let i = 0; i < n; i++) socks.push(await this.opts.socket(NetlinkProtocol.NETLINK_GENERIC));
      try {
        await this.sock.transact(
          genl(ovsDatapathFamily, this.dpId, OVS_DP_CMD.SET, { name: this.name, userFeatures: this.userFeatures, perCpuPids: socks.map((s) => s.portId) }, NLM_F.REQUEST | NLM_F.ECHO),
        );
      } catch (err) {
        for (const s of socks) await s.close();
        throw err;
      }
      for (const s of this.handlerSocks) await s.close();
      this.handlerSocks = socks;
      return;
    }
    this.opts.nHandlers = n;
    for (const [portNo, old] of [...this.channels]) {
      const socks: NetlinkSocket[] = [];
      for (let i = 0; i < n; i++) socks.push(await this.opts.socket(NetlinkProtocol.NETLINK_GENERIC));
      await this.sock.transact(
        genl(ovsVportFamily, this.vportId, OVS_VPORT_CMD.SET, { portNo, upcallPid: socks.map((s) => s.portId) }, NLM_F.REQUEST | NLM_F.ECHO, undefined, this.dpIfindex),
      );
      this.channels.set(portNo, socks);
      for (const s of old) await s.close();
    }
  }

  /** Port ids of the per-CPU handler sockets. */
  get handlerPids(): number[] {
    return this.handlerSocks.map((s) => s.portId);
  }

  /** vport_add_channel(): remember the port's upcall sockets (the hook a test can make fail). */
  protected addChannels(portNo: number, socks: NetlinkSocket[]): void {
    if (socks.length) this.channels.set(portNo, socks);
  }

  /** Upcall socket port ids of a port (per-vport dispatch). */
  channelPids(portNo: number): number[] {
    return (this.channels.get(portNo) ?? []).map((s) => s.portId);
  }

  /** dpif_netlink_port_del__(): OVS_VPORT_CMD_DEL, then the port's channels. */
  async portDel(portNo: number): Promise<void> {
    await this.sock.transact(genl(ovsVportFamily, this.vportId, OVS_VPORT_CMD.DEL, { portNo }, NLM_F.REQUEST | NLM_F.ECHO, undefined, this.dpIfindex));
    const socks = this.channels.get(portNo);
    this.channels.delete(portNo);
    for (const s of socks ?? []) await s.close();
    // dpif_netlink_rtnl_port_destroy(): the tunnel device goes with its port.
    const device = this.rtnlDevices.get(portNo);
    if (device !== undefined && this.rtnl !== undefined) {
      this.rtnlDevices.delete(portNo);
      await this.rtnl.transact(linkRequest(RTM.DELLINK, NLM_F.REQUEST | NLM_F.ACK, { ifname: device }));
    }
  }

  private toPort(m: Message): DpifPort {
    const a = (m as GenlMessage).attrs as OvsVportAttrs;
    return { name: a.name!, type: vportTypeName(a.type!, a.name!), portNo: a.portNo!, ...(a.stats ? { stats: a.stats } : {}) };
  }

  /** dpif_netlink_port_query__() by number: ENODEV when absent. */
  async portQueryByNumber(portNo: number): Promise<DpifPort> {
    const [reply] = await this.sock.transact(genl(ovsVportFamily, this.vportId, OVS_VPORT_CMD.GET, { portNo }, NLM_F.REQUEST | NLM_F.ECHO, undefined, this.dpIfindex));
    return this.toPort(reply!);
  }

  /** By name: the port must belong to this datapath (ENODEV otherwise). */
  async portQueryByName(name: string): Promise<DpifPort> {
    const [reply] = await this.sock.transact(genl(ovsVportFamily, this.vportId, OVS_VPORT_CMD.GET, { name }, NLM_F.REQUEST | NLM_F.ECHO, undefined, 0));
    if ((reply as GenlMessage).dpIfindex !== this.dpIfindex) throw new DpifError(Errno.ENODEV);
    return this.toPort(reply!);
  }

  /** dpif_netlink_port_dump_start/next: an NLM_F_DUMP of the datapath's vports, read to NLMSG_DONE. */
  async portDump(): Promise<DpifPort[]> {
    const msgs = await this.sock.transact(
      genl(ovsVportFamily, this.vportId, OVS_VPORT_CMD.GET, {}, NLM_F.REQUEST | NLM_F.ACK | NLM_F.ECHO | NLM_F.DUMP, undefined, this.dpIfindex),
    );
    return msgs.map((m) => this.toPort(m));
  }

  /**
   * dpif_netlink_port_poll(): subscribed to the ovs_vport group; the first
   * call, and any overflow of the socket (ENOBUFS), ask the caller to
   * resynchronise; then the names of added, deleted and changed ports of
   * this datapath, one per call.
   */
  async portPoll(): Promise<PortPollResult> {
    if (this.pollSock === undefined) {
      const raw = await this.opts.socket(NetlinkProtocol.NETLINK_GENERIC);
      await raw.joinGroup(this.families.vportGroup);
      this.pollSock = new NlSock(raw, this.families.table);
    }
    if (!this.pollStarted) {
      this.pollStarted = true;
      return { kind: 'resync' };
    }
    const raw = this.pollSock.sock;
    for (;;) {
      const queued = this.pollQueue.shift();
      if (queued !== undefined) return { kind: 'changed', name: queued };
      let d: Uint8Array | undefined;
      try {
        d = raw.tryRecv ? raw.tryRecv() : undefined;
      } catch (err) {
        if (err instanceof Error && (err as DpifError).errno === Errno.ENOBUFS) return { kind: 'resync' };
        throw err;
      }
      if (d === undefined) return { kind: 'none' };
      const r = decode(d, { families: this.families.table });
      for (const m of r.messages) {
        if (m.kind !== 'genl' || m.family !== ovsVportFamily) continue;
        if (m.dpIfindex !== this.dpIfindex) continue;
        const name = (m.attrs as OvsVportAttrs).name;
        if (name !== undefined) this.pollQueue.push(name);
      }
    }
  }
}
