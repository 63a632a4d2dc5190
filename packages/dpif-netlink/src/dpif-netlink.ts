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
  IFF,
  NETIF_F_BIT,
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
import { span } from '@ovs/trace';
import {
  type LogFn,
  type Netdev,
  NetdevRegistry,
  type NetdevSpec,
  RouteTable,
  linkMessage,
  netdevLinuxEthtoolSetFlag,
  netdevVportDpifPortName,
  netdevVportTypeFromName,
} from '@ovs/netdev';
import { NlSock, type SocketFactory } from '@ovs/netlink-socket';
import {
  COVERAGE_DPIF_DESTROY,
  COVERAGE_DPIF_PORT_DEL,
  type Dpif,
  DpifError,
  type DpifPort,
  type DpifProvider,
  type DpifStats,
  type PortPollResult,
} from './dpif.js';
import { reconnectingSocketFactory } from './reconnect.js';

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
/** A port number as a trace shows what returned it. */
const portResult = (portNo: number): string => `port ${portNo}`;
const portText = (p: DpifPort): string => `${p.name} (${p.type}) port ${p.portNo}`;

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

/**
 * get_vport_type(): the OVS type name of a kernel vport. A netdev vport is
 * named after its device: a tunnel device made by dpif-netlink
 * (vxlan_sys_4789...) by its prefix, else the class of the live netdev of
 * that name (`liveType`), else "system".
 */
export function vportTypeName(type: number, name: string, liveType?: (name: string) => string | undefined): string {
  switch (type) {
    case OVS_VPORT_TYPE.NETDEV:
      return netdevVportTypeFromName(name) ?? liveType?.(name) ?? 'system';
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
      return 'unknown';
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

function genl(
  family: GenlFamilyDef,
  type: number,
  cmd: number,
  attrs: Record<string, unknown>,
  flags: number,
  version = family.version,
  dpIfindex?: number,
): GenlMessage {
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

/** The tunnel types dpif_netlink_rtnl_port_create() makes devices for (and port_del deletes). */
const RTNL_TUNNEL_TYPES = new Set(['vxlan', 'geneve', 'gre']);

/** netdev_vport_get_dpif_port() of the netdev dpif_port_add was given: the tunnel device vxlan_sys_4789, gre_sys... */
function dpifPortName(netdev: NetdevSpec): string {
  return netdevVportDpifPortName(netdev.type, netdev.tunnel?.dstPort) ?? netdev.name;
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
      return {
        kind: 'vxlan',
        data: { set: 'vxlan', attrs: ordered({ learning: 0, collectMetadata: 1, udpZeroCsum6Rx: 1, port: dstPort ?? 4789 }, [7, 25, 20, 15]) },
      };
    case 'geneve':
      return {
        kind: 'geneve',
        data: { set: 'geneve', attrs: ordered({ collectMetadata: true as const, udpZeroCsum6Rx: 1, port: dstPort ?? 6081 }, [6, 10, 5]) },
      };
    case 'gre':
      return { kind: 'gretap', data: { set: 'gre', attrs: { collectMetadata: true as const } } };
    default:
      return undefined;
  }
}

/**
 * dpif_netlink_rtnl_probe_oot_tunnels(): does the kernel have the
 * out-of-tree module's tunnel drivers? An existing genev_sys_6081 of kind
 * ovs_geneve says yes; otherwise try to create one (the in-tree kernel does
 * not know the kind: EOPNOTSUPP) and delete it again.
 */
async function probeOutOfTreeTunnels(sock: NlSock): Promise<boolean> {
  const name = 'genev_sys_6081';
  try {
    const [reply] = await sock.transact(linkMessage(RTM.GETLINK, NLM_F.REQUEST, { ifname: name }));
    return (reply as RtnlLinkMessage).attrs.linkinfo?.kind === 'ovs_geneve';
  } catch (err) {
    if (!(err instanceof DpifError)) throw err;
    if (err.errno !== Errno.ENODEV) return false;
  }
  // IFLA_GENEVE_COLLECT_METADATA, IFLA_GENEVE_UDP_ZERO_CSUM6_RX 1, IFLA_GENEVE_PORT 6081: as OVS sends them.
  const data = Uint8Array.from([4, 0, 6, 0, 5, 0, 10, 0, 1, 0, 0, 0, 6, 0, 5, 0, 0x17, 0xc1, 0, 0]);
  try {
    await sock.transact(
      linkMessage(
        RTM.NEWLINK,
        NLM_F.REQUEST | NLM_F.ACK | NLM_F.CREATE,
        { ifname: name, mtu: 65000, linkinfo: { kind: 'ovs_geneve', data: { set: 'raw', bytes: data } } },
        IFF.UP,
      ),
    );
  } catch (err) {
    if (err instanceof DpifError) return false;
    throw err;
  }
  await sock.transact(linkMessage(RTM.DELLINK, NLM_F.REQUEST | NLM_F.ACK, { ifname: name }));
  return true;
}

/**
 * The user-features handshake of dpif_netlink_open(): NEW (create) or GET
 * then SET (open) with the datapath's features plus UNALIGNED, VPORT_PIDS
 * and a bit no kernel knows. A kernel that refuses that bit is trusted:
 * then per-CPU upcall dispatch is asked for, else per-vport pids. A kernel
 * that accepts it (the 2.5 module checks nothing) is set to the standard
 * features.
 */
async function negotiate(
  sock: NlSock,
  dpId: number,
  name: string,
  opts: DpifNetlinkOptions,
  create: boolean,
): Promise<{ reply: GenlMessage; trusted: boolean }> {
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
    const reply = (
      (await sock.transact(
        genl(
          ovsDatapathFamily,
          dpId,
          OVS_DP_CMD.SET,
          { name, upcallPid: 0, userFeatures: OVS_DP_F.UNALIGNED | OVS_DP_F.VPORT_PIDS },
          NLM_F.REQUEST | NLM_F.ECHO,
          undefined,
          accepted.dpIfindex,
        ),
      )) as GenlMessage[]
    )[0]!;
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

/** What dpif_netlink_init() learns once per process. */
interface ProviderState {
  families: OvsFamilies;
  /** Tunnels come from the out-of-tree module (its ovs_geneve exists): compat vport types, no rtnetlink devices. */
  outOfTree: boolean;
}

/**
 * dpif_netlink_class with the process-wide state behind it: the sockets, the
 * family ids and tunnel flavour that dpif_netlink_init() learns once, the
 * netdev objects and the routing table (dp_initialize()). One per process
 * (one ovs-dpctl run, one ovs-vswitchd); DpifNetlink.open() makes a private
 * one for callers that need no more than a datapath.
 */
export class DpifNetlinkProvider implements DpifProvider<DpifNetlink> {
  readonly netdevs: NetdevRegistry;
  readonly routes: RouteTable;
  readonly portNetdevs = new Map<number, Netdev>();
  openDpifs = 0;
  private state: Promise<ProviderState> | undefined;
  private initialized: Promise<void> | undefined;

  private constructor(
    readonly opts: DpifNetlinkOptions,
    /** Generic netlink transactions. */
    readonly sock: NlSock,
    /** rtnetlink transactions (devices, addresses, routes). */
    readonly rtnl: NlSock,
  ) {
    this.netdevs = new NetdevRegistry(
      rtnl,
      (name) => this.vportGet(name),
      (level, module, text) => this.log(level, module, text),
      sock,
    );
    this.routes = new RouteTable(this.netdevs, rtnl);
  }

  /**
   * The provider's sockets, and every socket opened through `opts.socket`
   * from then on (upcall channels, port notifications, the bridge layer's
   * link notifier), reconnect if their transport's connection is lost (a
   * restarted ovs-kernel daemon): userspace sees what a module reload
   * shows on Linux (see reconnect.ts).
   */
  static async create(options: DpifNetlinkOptions): Promise<DpifNetlinkProvider> {
    const opts = { ...options, socket: reconnectingSocketFactory(options.socket) };
    const table = newFamilyTable();
    const sock = new NlSock(await opts.socket(NetlinkProtocol.NETLINK_GENERIC), table);
    try {
      return new DpifNetlinkProvider(opts, sock, new NlSock(await opts.socket(NetlinkProtocol.NETLINK_ROUTE), table));
    } catch (err) {
      await sock.sock.close();
      throw err;
    }
  }

  /**
   * dp_initialize(): the routing table first (route_table_init), then the
   * provider (a route's netdev lookup may already have done that).
   */
  dpInitialize(): Promise<void> {
    this.initialized ??= (async () => {
      await this.routes.reset();
      await this.init();
    })();
    return this.initialized;
  }

  log(level: 'DBG' | 'INFO' | 'WARN' | 'ERR', module: string, text: string): void {
    this.opts.log?.(level, module, text);
  }

  /** dpif_netlink_init(): the families and their ovs_vport group, then the out-of-tree tunnel probe; once. */
  init(): Promise<ProviderState> {
    this.state ??= (async () => {
      const families = await lookupFamilies(this.sock);
      const outOfTree = (this.opts.tunnels ?? 'auto') === 'auto' && (await probeOutOfTreeTunnels(this.rtnl));
      return { families, outOfTree };
    })();
    return this.state;
  }

  /** dpif_netlink_vport_get(): a vport of any datapath by device name (OVS_VPORT_CMD_GET, dp_ifindex 0). */
  async vportGet(name: string): Promise<OvsVportAttrs & { dpIfindex: number }> {
    const { families } = await this.init();
    const [reply] = (await this.sock.transact(
      genl(ovsVportFamily, families.table.id('ovs_vport')!, OVS_VPORT_CMD.GET, { name }, NLM_F.REQUEST | NLM_F.ECHO),
    )) as GenlMessage[];
    return { ...(reply!.attrs as OvsVportAttrs), dpIfindex: reply!.dpIfindex ?? 0 };
  }

  /** dpif_netlink_enumerate(): the datapaths' names, by an OVS_DP_CMD_GET dump. */
  async enumerate(): Promise<string[]> {
    const { families } = await this.init();
    const msgs = await this.sock.transact(
      genl(ovsDatapathFamily, families.table.id('ovs_datapath')!, OVS_DP_CMD.GET, {}, NLM_F.REQUEST | NLM_F.ECHO | NLM_F.ACK | NLM_F.DUMP),
    );
    return msgs.map((m) => ((m as GenlMessage).attrs as OvsDatapathAttrs).name ?? '');
  }

  /**
   * dpif_netlink_open(): open the datapath called `name`, creating it if
   * `create`, with OVS 3.1's feature negotiation (see negotiate()).
   */
  async open(name: string, create: boolean): Promise<DpifNetlink> {
    const { families, outOfTree } = await this.init();
    const dpId = families.table.id('ovs_datapath')!;
    const { reply, trusted } = await negotiate(this.sock, dpId, name, this.opts, create);
    const attrs = reply.attrs as OvsDatapathAttrs;
    const dpif = new DpifNetlink(this, families, attrs.name ?? name, reply.dpIfindex ?? 0, attrs.userFeatures ?? 0, outOfTree);
    // dpif_netlink_set_features(): a kernel that negotiates is offered TC_RECIRC_SHARING; without it, it keeps what it has.
    if (trusted) {
      try {
        await this.sock.transact(
          genl(
            ovsDatapathFamily,
            dpId,
            OVS_DP_CMD.SET,
            { name: dpif.name, userFeatures: dpif.userFeatures | OVS_DP_F.TC_RECIRC_SHARING },
            NLM_F.REQUEST | NLM_F.ECHO,
            undefined,
            dpif.dpIfindex,
          ),
        );
      } catch (err) {
        if (!(err instanceof DpifError)) throw err;
      }
    }
    if (create) this.opts.log?.('INFO', 'dpif_netlink', `Datapath dispatch mode: ${dpif.perCpu ? 'per-cpu' : 'per-vport'}`);
    return dpif;
  }

  /** Close the provider's sockets (process exit). */
  async close(): Promise<void> {
    this.routes.close();
    await this.rtnl.sock.close();
    await this.sock.sock.close();
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
  /** Close the provider with the datapath (it was made for this one). */
  private ownsProvider = false;

  /** @internal DpifNetlinkProvider.open() makes these. */
  constructor(
    readonly provider: DpifNetlinkProvider,
    private readonly families: OvsFamilies,
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

  private get sock(): NlSock {
    return this.provider.sock;
  }

  private get opts(): DpifNetlinkOptions {
    return this.provider.opts;
  }

  get perCpu(): boolean {
    return (this.userFeatures & OVS_DP_F.DISPATCH_UPCALL_PER_CPU) !== 0;
  }

  /** ovs_tunnels_out_of_tree: tunnels are the module's vport types (out-of-tree module, or `tunnels: 'compat'`). */
  private get rtnlTunnelsOff(): boolean {
    return this.outOfTreeTunnels || this.opts.tunnels === 'compat';
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
   * Open the datapath called `name` (creating it if `create`) with a
   * provider of its own, closed with the datapath.
   */
  static async open(name: string, opts: DpifNetlinkOptions, create: boolean): Promise<DpifNetlink> {
    const provider = await DpifNetlinkProvider.create(opts);
    try {
      const dpif = await provider.open(name, create);
      dpif.ownsProvider = true;
      return dpif;
    } catch (err) {
      await provider.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    for (const socks of this.channels.values()) for (const s of socks) await s.close();
    for (const s of this.handlerSocks) await s.close();
    this.channels.clear();
    await this.pollSock?.sock.close();
    if (this.ownsProvider) await this.provider.close();
  }

  /** dpif_netlink_destroy(): OVS_DP_CMD_DEL. */
  async destroy(): Promise<void> {
    COVERAGE_DPIF_DESTROY.inc();
    await this.sock.transact(genl(ovsDatapathFamily, this.dpId, OVS_DP_CMD.DEL, {}, NLM_F.REQUEST | NLM_F.ECHO, undefined, this.dpIfindex));
  }

  async getStats(): Promise<DpifStats> {
    const [reply] = (await this.sock.transact(
      genl(ovsDatapathFamily, this.dpId, OVS_DP_CMD.GET, {}, NLM_F.REQUEST | NLM_F.ECHO, undefined, this.dpIfindex),
    )) as GenlMessage[];
    const a = reply!.attrs as OvsDatapathAttrs;
    return {
      nHit: a.stats?.nHit ?? 0n,
      nMissed: a.stats?.nMissed ?? 0n,
      nLost: a.stats?.nLost ?? 0n,
      nFlows: a.stats?.nFlows ?? 0n,
      // Without OVS_DP_ATTR_MEGAFLOW_STATS these are unknown; a cache hit count of 0 means "unknown" too.
      ...(a.megaflowStats ? { nMaskHit: a.megaflowStats.nMaskHit, nMasks: a.megaflowStats.nMasks } : {}),
      ...(a.megaflowStats?.nCacheHit ? { nCacheHit: a.megaflowStats.nCacheHit } : {}),
      masksCacheSize: a.masksCacheSize,
    };
  }

  /** dpif_netlink_cache_get_supported_levels(): one level (the masks cache) where the kernel reports its size. */
  async cacheGetSupportedLevels(): Promise<number> {
    return (await this.getStats()).masksCacheSize === undefined ? 0 : 1;
  }

  /** dpif_netlink_cache_get_size(): the masks cache's size (level 0). */
  async cacheGetSize(level: number): Promise<number> {
    const size = level === 0 ? (await this.getStats()).masksCacheSize : undefined;
    if (size === undefined) throw new DpifError(Errno.EINVAL);
    return size;
  }

  /**
   * dpif_netlink_port_add__(): the vport type for the netdev's type (EINVAL
   * for types the kernel has none of), tunnel options, upcall sockets per
   * handler (per-vport dispatch; with per-CPU dispatch the port gets pid 0),
   * a requested number or an automatic one. If the channels cannot be set up
   * after the kernel made the port, the port is deleted again.
   */
  portAdd(netdev: NetdevSpec, portNo?: number): Promise<number> {
    return span(
      'dpif',
      'dpif_netlink_port_add',
      netdev.name,
      async () => {
        // dpif_netlink_port_add(): the rtnetlink way first (tunnels only, in-tree module), and on any failure the compat way.
        const mode = this.opts.tunnels ?? 'auto';
        if (!this.rtnlTunnelsOff) {
          try {
            return await this.rtnlPortCreateAndAdd(netdev, portNo);
          } catch (err) {
            if (!(err instanceof DpifError)) throw err;
            if (mode === 'rtnetlink' && tunnelLinkInfo(netdev.type, undefined) !== undefined) throw err;
          }
        }
        return this.portAddCompat(netdev, portNo);
      },
      portResult,
    );
  }

  /**
   * dpif_netlink_rtnl_port_create_and_add(): a tunnel's device
   * (vxlan_sys_4789...) made with RTM_NEWLINK, then added as a netdev vport;
   * if the vport cannot be added the device is deleted again. EOPNOTSUPP,
   * with nothing sent, for what it makes no device for.
   */
  private rtnlPortCreateAndAdd(netdev: NetdevSpec, portNo: number | undefined): Promise<number> {
    return span(
      'dpif',
      'dpif_netlink_rtnl_port_create_and_add',
      netdev.name,
      async () => {
        const linkinfo = tunnelLinkInfo(netdev.type, netdev.tunnel?.dstPort);
        if (linkinfo === undefined) throw new DpifError(Errno.EOPNOTSUPP);
        const name = dpifPortName(netdev);
        try {
          await this.rtnlPortCreate(name, linkinfo);
        } catch (err) {
          if (err instanceof DpifError && err.errno !== Errno.EOPNOTSUPP)
            this.log('WARN', 'dpif_netlink', `Failed to create ${netdev.name} with rtnetlink: ${err.text}`);
          throw err;
        }
        try {
          return await this.addVport({ type: OVS_VPORT_TYPE.NETDEV, name }, portNo);
        } catch (err) {
          await this.provider.rtnl.transact(linkMessage(RTM.DELLINK, NLM_F.REQUEST | NLM_F.ACK, { ifname: name })).catch(() => {});
          throw err;
        }
      },
      portResult,
    );
  }

  /**
   * dpif_netlink_rtnl_port_create(): RTM_NEWLINK (exclusive); a device that
   * already exists is used if it is configured as OVS would have made it,
   * else deleted and made again.
   */
  private rtnlPortCreate(name: string, linkinfo: NonNullable<ReturnType<typeof tunnelLinkInfo>>): Promise<void> {
    return span('dpif', 'dpif_netlink_rtnl_port_create', `${name} (${linkinfo.kind})`, async () => {
      const rtnl = this.provider.rtnl;
      const create = () =>
        rtnl.transact(linkMessage(RTM.NEWLINK, NLM_F.REQUEST | NLM_F.ACK | NLM_F.EXCL | NLM_F.CREATE, { ifname: name, mtu: 65000, linkinfo }, IFF.UP));
      try {
        await create();
      } catch (err) {
        if (!(err instanceof DpifError) || err.errno !== Errno.EEXIST) throw err;
        if (await this.rtnlVerify(name, linkinfo)) return;
        try {
          await rtnl.transact(linkMessage(RTM.DELLINK, NLM_F.REQUEST | NLM_F.ACK, { ifname: name }));
        } catch (delErr) {
          if (delErr instanceof DpifError) this.log('WARN', 'dpif_netlink_rtnl', `RTNL device ${name} exists and cannot be deleted: ${delErr.text}`);
          throw delErr;
        }
        await create();
      }
      // gretap takes its MTU only once it exists.
      if (linkinfo.kind === 'gretap') await rtnl.transact(linkMessage(RTM.SETLINK, NLM_F.REQUEST | NLM_F.ACK, { ifname: name, mtu: 65000 }));
    });
  }

  /** dpif_netlink_rtnl_verify(): the existing device is of the kind, with the UDP port and metadata collection OVS sets. */
  private rtnlVerify(name: string, want: NonNullable<ReturnType<typeof tunnelLinkInfo>>): Promise<boolean> {
    return span(
      'dpif',
      'dpif_netlink_rtnl_verify',
      name,
      async () => {
        let link: RtnlLinkMessage | undefined;
        try {
          [link] = (await this.provider.rtnl.transact(linkMessage(RTM.GETLINK, NLM_F.REQUEST, { ifname: name }))) as RtnlLinkMessage[];
        } catch (err) {
          if (err instanceof DpifError) return false;
          throw err;
        }
        const have = link?.attrs.linkinfo;
        if (have === undefined || have.kind !== want.kind) return false;
        const a = (have.data as { attrs?: Record<string, unknown> } | undefined)?.attrs ?? {};
        const w = (want.data as { attrs: Record<string, unknown> }).attrs;
        return Object.keys(w).every((k) => (k === 'collectMetadata' ? Boolean(a[k]) === Boolean(w[k]) : a[k] === w[k]));
      },
      (ok) => (ok ? 'as OVS makes it' : 'not as OVS makes it'),
    );
  }

  /**
   * dpif_netlink_port_add_compat(): the seeds' flow — the netdev's own vport
   * type (EINVAL with OVS's warning for types the kernel has none of), tunnel
   * options (UDP port, extensions) for tunnels.
   */
  private portAddCompat(netdev: NetdevSpec, portNo: number | undefined): Promise<number> {
    return span(
      'dpif',
      'dpif_netlink_port_add_compat',
      `${netdev.name} (${netdev.type})`,
      async () => {
        const type = netdevToOvsVportType(netdev.type);
        if (type === OVS_VPORT_TYPE.UNSPEC) {
          this.log('WARN', 'dpif_netlink', `${this.fullName}: cannot create port \`${netdev.name}' because it has unsupported type \`${netdev.type}'`);
          throw new DpifError(Errno.EINVAL);
        }
        // LRO would hand the datapath merged packets it must not forward: OVS turns it off on every netdev port.
        if (type === OVS_VPORT_TYPE.NETDEV) await netdevLinuxEthtoolSetFlag(this.provider.netdevs, netdev.name, NETIF_F_BIT.LRO, 'LRO', false);
        const isTunnel = type !== OVS_VPORT_TYPE.NETDEV && type !== OVS_VPORT_TYPE.INTERNAL;
        const attrs: OvsVportAttrs = { type, name: isTunnel ? dpifPortName(netdev) : netdev.name };
        if (isTunnel && netdev.tunnel?.dstPort !== undefined) {
          attrs.options = { dstPort: netdev.tunnel.dstPort, ...(netdev.tunnel.gbp ? { extension: { gbp: true } } : {}) };
        }
        return this.addVport(attrs, portNo);
      },
      portResult,
    );
  }

  /** The OVS_VPORT_CMD_NEW itself, with upcall channels. */
  private addVport(attrs: OvsVportAttrs, portNo: number | undefined): Promise<number> {
    return span(
      'dpif',
      'dpif_netlink_port_add__',
      attrs.name,
      async () => {
        if (portNo !== undefined) attrs.portNo = portNo;
        // Upcall sockets: one per handler in per-vport mode.
        const upcallSocks = this.perCpu ? [] : await this.openSockets(this.opts.nHandlers ?? 1);
        attrs.upcallPid = upcallSocks.length ? upcallSocks.map((s) => s.portId) : [0];
        let reply: GenlMessage;
        try {
          reply = (
            await this.sock.transact(genl(ovsVportFamily, this.vportId, OVS_VPORT_CMD.NEW, attrs, NLM_F.REQUEST | NLM_F.ECHO, undefined, this.dpIfindex))
          )[0] as GenlMessage;
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
          try {
            await this.sock.transact(
              genl(ovsVportFamily, this.vportId, OVS_VPORT_CMD.DEL, { portNo: assigned }, NLM_F.REQUEST | NLM_F.ECHO, undefined, this.dpIfindex),
            );
          } finally {
            for (const s of upcallSocks) await s.close();
          }
          throw err;
        }
        return assigned;
      },
      portResult,
    );
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
      const socks = await this.openSockets(n);
      try {
        await this.sock.transact(
          genl(
            ovsDatapathFamily,
            this.dpId,
            OVS_DP_CMD.SET,
            { name: this.name, userFeatures: this.userFeatures, perCpuPids: socks.map((s) => s.portId) },
            NLM_F.REQUEST | NLM_F.ECHO,
          ),
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
      const socks = await this.openSockets(n);
      try {
        await this.sock.transact(
          genl(
            ovsVportFamily,
            this.vportId,
            OVS_VPORT_CMD.SET,
            { portNo, upcallPid: socks.map((s) => s.portId) },
            NLM_F.REQUEST | NLM_F.ECHO,
            undefined,
            this.dpIfindex,
          ),
        );
      } catch (err) {
        for (const s of socks) await s.close();
        throw err;
      }
      this.channels.set(portNo, socks);
      for (const s of old) await s.close();
    }
  }

  /**
   * `n` upcall sockets (nl_sock_create per handler); if one cannot be made
   * (socket() failing: ENOMEM...), those made before it are closed again.
   */
  private async openSockets(n: number): Promise<NetlinkSocket[]> {
    const socks: NetlinkSocket[] = [];
    try {
      for (let i = 0; i < n; i++) socks.push(await this.opts.socket(NetlinkProtocol.NETLINK_GENERIC));
    } catch (err) {
      for (const s of socks) await s.close();
      throw err;
    }
    return socks;
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

  /**
   * dpif_netlink_port_del__(): the port is looked up (its name and type),
   * deleted, its channels dropped, and a tunnel device dpif-netlink makes
   * (vxlan_sys_4789...) deleted with it.
   */
  portDel(portNo: number): Promise<void> {
    return span('dpif', 'dpif_netlink_port_del', `port ${portNo}`, async () => {
      COVERAGE_DPIF_PORT_DEL.inc();
      const port = await this.portQueryByNumber(portNo);
      await this.sock.transact(genl(ovsVportFamily, this.vportId, OVS_VPORT_CMD.DEL, { portNo }, NLM_F.REQUEST | NLM_F.ECHO, undefined, this.dpIfindex));
      const socks = this.channels.get(portNo);
      this.channels.delete(portNo);
      for (const s of socks ?? []) await s.close();
      // dpif_netlink_rtnl_port_destroy(): for the types it makes devices for, unless tunnels are the module's own
      // (out-of-tree, or forced compat). A compat vport's device went with it: that is ENODEV, as in OVS.
      if (!this.rtnlTunnelsOff && RTNL_TUNNEL_TYPES.has(port.type)) {
        await this.provider.rtnl.transact(linkMessage(RTM.DELLINK, NLM_F.REQUEST | NLM_F.ACK, { ifname: port.name }));
      }
    });
  }

  private toPort(m: Message): DpifPort {
    const a = (m as GenlMessage).attrs as OvsVportAttrs;
    return {
      name: a.name!,
      type: vportTypeName(a.type!, a.name!, (n) => this.provider.netdevs.get(n)?.type),
      portNo: a.portNo!,
      ...(a.stats ? { stats: a.stats } : {}),
    };
  }

  /** dpif_netlink_port_query__() by number: ENODEV when absent. */
  portQueryByNumber(portNo: number): Promise<DpifPort> {
    return span(
      'dpif',
      'dpif_netlink_port_query_by_number',
      `port ${portNo}`,
      async () => {
        const [reply] = await this.sock.transact(
          genl(ovsVportFamily, this.vportId, OVS_VPORT_CMD.GET, { portNo }, NLM_F.REQUEST | NLM_F.ECHO, undefined, this.dpIfindex),
        );
        return this.toPort(reply!);
      },
      portText,
    );
  }

  /**
   * By name (OVS passes port number 0 along, which the kernel ignores when
   * a name is given); a port of another datapath is ENODEV.
   */
  portQueryByName(name: string): Promise<DpifPort> {
    return span(
      'dpif',
      'dpif_netlink_port_query_by_name',
      name,
      async () => {
        const [reply] = await this.sock.transact(
          genl(ovsVportFamily, this.vportId, OVS_VPORT_CMD.GET, { portNo: 0, name }, NLM_F.REQUEST | NLM_F.ECHO, undefined, this.dpIfindex),
        );
        if ((reply as GenlMessage).dpIfindex !== this.dpIfindex) throw new DpifError(Errno.ENODEV);
        return this.toPort(reply!);
      },
      portText,
    );
  }

  /** dpif_netlink_port_dump_start/next/done: the datapath's vports (NLM_F_DUMP) as they arrive; stopping early is fine. */
  async *portDumpStart(): AsyncGenerator<DpifPort, void, undefined> {
    for await (const m of this.sock.dump(
      genl(ovsVportFamily, this.vportId, OVS_VPORT_CMD.GET, {}, NLM_F.REQUEST | NLM_F.ACK | NLM_F.ECHO | NLM_F.DUMP, undefined, this.dpIfindex),
    )) {
      yield this.toPort(m);
    }
  }

  /** The whole port dump. */
  async portDump(): Promise<DpifPort[]> {
    const out: DpifPort[] = [];
    for await (const p of this.portDumpStart()) out.push(p);
    return out;
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
