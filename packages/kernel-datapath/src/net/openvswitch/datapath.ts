/**
 * The openvswitch module's control plane (net/openvswitch/datapath.c): the
 * ovs_datapath and ovs_vport families and their commands, checked in the
 * kernel's order, replying and notifying as the kernel does; the other OVS
 * families registered so userspace finds them.
 */
import {
  Errno,
  GENL_FLAGS,
  type GenlMessage,
  NLM_F,
  NetlinkProtocol,
  encode,
  OVSP_LOCAL,
  OVS_DP_CMD,
  OVS_DP_F,
  OVS_VPORT_CMD,
  OVS_VPORT_TYPE,
  DP_MAX_PORTS,
  AttrSet,
  OVS_DP_ATTR,
  OVS_TUNNEL_ATTR,
  OVS_VPORT_ATTR,
  OVS_VXLAN_EXT,
  type OvsTunnelAttrs,
  type ParsedAttr,
  nlaData,
  nlaForEachNested,
  nlaGetU16,
  nlaGetU32,
  nlaLen,
  nlaStrscpy,
  nlaType,
  ovsCtLimitFamily,
  ovsDatapathAttrs,
  ovsDatapathFamily,
  ovsFlowFamily,
  ovsMeterFamily,
  ovsPacketFamily,
  ovsVportAttrs,
  ovsVportFamily,
} from '@ovs/genl-codec';
import type { DumpContext, GenlInfo, GenlOp, HandlerResult, KernelGenlFamily } from '../netlink/genetlink.js';
import type { Kernel } from '../../kernel.js';
import type { NetDevice } from '../../include/linux/netdevice.js';
import type { Netns } from '../core/net_namespace.js';
import { PortMap } from './portmap.js';
import { ovsInternalDevGetVport } from './vport-internal_dev.js';
import { ovsNetdevGetVport } from './vport-netdev.js';
import { type Vport, type VportContext, VportModules, type VportParms, setUpcallPortids, vportRet } from './vport.js';

/** Hash buckets of a datapath's port table (DP_VPORT_HASH_BUCKETS): the vport dump walks them in order. */
const DP_VPORT_HASH_BUCKETS = 1024;
const DEFAULT_MASKS_CACHE_SIZE = 256;
/** PCPU_MIN_UNIT_SIZE / sizeof(struct mask_cache_entry). */
const MASKS_CACHE_MAX = 4096;

/** struct datapath. */
export class Datapath {
  readonly ports = new PortMap<Vport>(DP_MAX_PORTS);
  /** dp->ports[]: newest first within a bucket, as hlist_add_head leaves them. */
  readonly buckets: Vport[][] = Array.from({ length: DP_VPORT_HASH_BUCKETS }, () => []);
  userFeatures = 0;
  masksCacheSize = DEFAULT_MASKS_CACHE_SIZE;
  perCpuPids: number[] | undefined;
  readonly stats = { nHit: 0n, nMissed: 0n, nLost: 0n };
  local: Vport | undefined;

  constructor(readonly netns: Netns) {}

  /** ovs_dp_name(): the local port's device name. */
  get name(): string {
    return this.local?.name ?? '';
  }

  /** get_dpifindex(): the local port's ifindex. */
  get ifindex(): number {
    return this.local?.dev.ifindex ?? 0;
  }

  addPort(vport: Vport): void {
    this.ports.set(vport.portNo, vport);
    this.buckets[vport.portNo & (DP_VPORT_HASH_BUCKETS - 1)]!.unshift(vport);
  }

  removePort(vport: Vport): void {
    this.ports.delete(vport.portNo);
    const bucket = this.buckets[vport.portNo & (DP_VPORT_HASH_BUCKETS - 1)]!;
    bucket.splice(bucket.indexOf(vport), 1);
  }
}

/** The module's state: datapaths per namespace, the vport name hash, the vport types. */
export class Openvswitch {
  readonly modules: VportModules;
  private readonly dps = new Map<Netns, Datapath[]>();
  private readonly vportsByName = new Map<Netns, Map<string, Vport>>();
  readonly families: {
    datapath: KernelGenlFamily;
    vport: KernelGenlFamily;
  };
  private readonly ctx: VportContext;

  constructor(private readonly kernel: Kernel) {
    const legacy = kernel.profile === 'ovs-2.5';
    this.modules = new VportModules(kernel.profile);
    this.ctx = { nCpus: kernel.nCpus, limitPidsToCpus: !legacy, faults: kernel.faults };
    // Linux 6.1 asks for CAP_NET_ADMIN in the socket's user namespace; the 2.5 module, globally.
    const admin = legacy ? GENL_FLAGS.ADMIN_PERM : GENL_FLAGS.UNS_ADMIN_PERM;
    // Each op named after the kernel function its doit/dumpit is: the trace shows them.
    const op = (cmd: number, flags: number, doit?: GenlOp['doit'], dumpit?: GenlOp['dumpit'], name?: string): GenlOp => ({
      cmd,
      flags,
      ...(doit ? { doit } : {}),
      ...(dumpit ? { dumpit } : {}),
      ...(name ? { doitName: name, dumpitName: name.replace(/_(get|new|del|set)$/, '_dump') } : {}),
      liberal: true,
      noDumpValidate: true,
    });
    const unmodelled = (): HandlerResult => -Errno.EOPNOTSUPP;
    const dpPolicy = legacy ? restrict(ovsDatapathAttrs, 5) : ovsDatapathAttrs;
    const vportPolicy = legacy ? restrict(ovsVportAttrs, 6) : ovsVportAttrs;
    this.families = {
      datapath: kernel.genl.register({
        def: ovsDatapathFamily,
        maxattr: dpPolicy.maxType,
        policy: dpPolicy,
        ops: [
          op(OVS_DP_CMD.NEW, admin, (i) => this.dpCmdNew(i), undefined, 'ovs_dp_cmd_new'),
          op(OVS_DP_CMD.DEL, admin, (i) => this.dpCmdDel(i), undefined, 'ovs_dp_cmd_del'),
          op(
            OVS_DP_CMD.GET,
            0,
            (i) => this.dpCmdGet(i),
            (c) => this.dpCmdDump(c),
            'ovs_dp_cmd_get',
          ),
          op(OVS_DP_CMD.SET, admin, (i) => this.dpCmdSet(i), undefined, 'ovs_dp_cmd_set'),
        ],
        mcgrps: [ovsDatapathFamily.mcastGroups[0]!],
      }),
      vport: kernel.genl.register({
        def: ovsVportFamily,
        maxattr: vportPolicy.maxType,
        policy: vportPolicy,
        ops: [
          op(OVS_VPORT_CMD.NEW, admin, (i) => this.vportCmdNew(i), undefined, 'ovs_vport_cmd_new'),
          op(OVS_VPORT_CMD.DEL, admin, (i) => this.vportCmdDel(i), undefined, 'ovs_vport_cmd_del'),
          op(
            OVS_VPORT_CMD.GET,
            0,
            (i) => this.vportCmdGet(i),
            (c) => this.vportCmdDump(c),
            'ovs_vport_cmd_get',
          ),
          op(OVS_VPORT_CMD.SET, admin, (i) => this.vportCmdSet(i), undefined, 'ovs_vport_cmd_set'),
        ],
        mcgrps: [ovsVportFamily.mcastGroups[0]!],
      }),
    };
    // dp_device_event(): a device unregistered under a netdev vport takes the vport with it.
    kernel.onNetns((ns) =>
      ns.listeners.push({
        linkChanged: () => {},
        unregister: (dev) => this.deviceGone(dev),
      }),
    );
    // ovs_net_ops' exit: a dismantled namespace's datapaths go, and internal ports of others whose device is in it.
    kernel.onNetnsExit((ns) => this.exitNet(ns));
    // Registered so userspace finds them; their commands are not modelled.
    kernel.genl.register({
      def: ovsFlowFamily,
      maxattr: 11,
      policy: ovsFlowFamily.attrs,
      ops: [op(1, admin, unmodelled), op(2, admin, unmodelled), op(3, 0, unmodelled, () => 0), op(4, admin, unmodelled)],
      mcgrps: [ovsFlowFamily.mcastGroups[0]!],
    });
    kernel.genl.register({ def: ovsPacketFamily, maxattr: 11, policy: ovsPacketFamily.attrs, ops: [op(3, admin, unmodelled)], mcgrps: [] });
    if (!legacy) {
      kernel.genl.register({
        def: ovsMeterFamily,
        maxattr: 9,
        policy: ovsMeterFamily.attrs,
        ops: [op(1, 0, unmodelled), op(2, admin, unmodelled), op(4, 0, unmodelled), op(3, admin, unmodelled)],
        mcgrps: [ovsMeterFamily.mcastGroups[0]!],
      });
      kernel.genl.register({
        def: ovsCtLimitFamily,
        maxattr: 1,
        policy: ovsCtLimitFamily.attrs,
        ops: [op(1, admin, unmodelled), op(2, admin, unmodelled), op(3, 0, unmodelled)],
        mcgrps: [ovsCtLimitFamily.mcastGroups[0]!],
      });
    }
  }

  // -------------------------------------------------------------------------
  // Inspection (read-only, for tests and tools)

  datapaths(netns: Netns = this.kernel.initNet): readonly Datapath[] {
    return this.dps.get(netns) ?? [];
  }

  /**
   * ovs_vport_locate(): a vport by name in a namespace. The table is keyed
   * by the name the vport was added with, and Linux compares the device's
   * name now: a renamed device's vport is found under neither name.
   */
  locate(netns: Netns, name: string): Vport | undefined {
    const vport = this.vportsByName.get(netns)?.get(name);
    return vport?.name === name ? vport : undefined;
  }

  /** get_dp(): the datapath of an internal device's vport (ovs_internal_dev_get_vport), by ifindex. */
  getDp(netns: Netns, dpIfindex: number): Datapath | undefined {
    const dev = netns.byIfindex(dpIfindex);
    return dev === undefined ? undefined : ovsInternalDevGetVport(dev)?.dp;
  }

  // -------------------------------------------------------------------------
  // Vports: ovs_vport_add / new_vport / ovs_dp_detach_port

  /** new_vport() -> ovs_vport_add(): EAGAIN after loading a module (the caller restarts). */
  private vportAdd(parms: VportParms): Vport | number {
    const ft = this.kernel.ftrace;
    return ft.call(
      'kernel',
      'new_vport',
      parms.name,
      () => ft.call('kernel', 'ovs_vport_add', `type ${vportTypeName(parms.type)} port ${parms.portNo}`, () => this.ovsVportAdd(parms), vportRet),
      vportRet,
    );
  }

  private ovsVportAdd(parms: VportParms): Vport | number {
    const ops = this.modules.lookup(parms.type);
    if (ops !== undefined) {
      if (!this.modules.tryGet(parms.type)) return -Errno.EAFNOSUPPORT;
      const vport = this.kernel.ftrace.call('vport', ops.createName, parms.name, () => ops.create(parms, this.ctx), vportRet);
      if (typeof vport === 'number') {
        this.modules.put(parms.type);
        return vport;
      }
      let names = this.vportsByName.get(parms.dp.netns);
      if (names === undefined) this.vportsByName.set(parms.dp.netns, (names = new Map()));
      names.set(vport.name, vport);
      vport.hashName = vport.name;
      parms.dp.addPort(vport);
      return vport;
    }
    // The 2.5 module's GRE compat check: the kernel's own ip_gre holds the GRE protocol.
    if (this.kernel.profile === 'ovs-2.5' && parms.type === OVS_VPORT_TYPE.GRE && this.greProtocolTaken) {
      return -Errno.EAFNOSUPPORT;
    }
    this.kernel.ftrace.event('kernel', 'request_module', `vport-type-${parms.type}`);
    if (!this.kernel.faults.shouldFail('fail_request_module', `vport-type-${parms.type}`)) this.modules.requestModule(parms.type);
    return this.modules.lookup(parms.type) === undefined ? -Errno.EAFNOSUPPORT : -Errno.EAGAIN;
  }

  /** dp_detach_port_notify(): OVS_VPORT_CMD_DEL to the group (pid 0, seq 0), then the detach. */
  private deviceGone(dev: NetDevice): void {
    // An internal device has no rx_handler: it goes with its vport, never before it.
    const vport = ovsNetdevGetVport(dev);
    if (vport === undefined) return;
    const msg = this.vportFill(vport, 0, 0, 0, OVS_VPORT_CMD.DEL, vport.dp.netns);
    this.detachPort(vport);
    this.kernel.multicast(NetlinkProtocol.NETLINK_GENERIC, vport.dp.netns, this.families.vport.mcgrps[0]!.id, encode(msg));
  }

  /** For the ovs-2.5 profile: whether ip_gre was loaded first (then compat GRE vports fail). */
  greProtocolTaken = false;

  /** ovs_dp_detach_port() -> ovs_vport_del(). */
  private detachPort(vport: Vport): void {
    const ft = this.kernel.ftrace;
    ft.call('kernel', 'ovs_dp_detach_port', `${vport.name} port ${vport.portNo}`, () =>
      ft.call('kernel', 'ovs_vport_del', vport.name, () => this.vportDel(vport)),
    );
  }

  private vportDel(vport: Vport): void {
    vport.dp.removePort(vport);
    const names = this.vportsByName.get(vport.dp.netns);
    const key = vport.hashName ?? vport.name;
    if (names?.get(key) === vport) names.delete(key);
    this.modules.put(vport.ops.type);
    this.kernel.ftrace.call('vport', vport.ops.destroyName, vport.name, () => vport.ops.destroy(vport, this.ctx));
  }

  // -------------------------------------------------------------------------
  // ovs_datapath

  /** lookup_datapath(): by OVS_DP_ATTR_NAME (the local port's name) or by dp_ifindex. */
  private lookupDatapath(info: GenlInfo): Datapath | undefined {
    const name = info.tb[OVS_DP_ATTR.NAME];
    if (name === undefined) return this.getDp(info.sock.netns, info.dpIfindex);
    const vport = this.locate(info.sock.netns, nlaStrscpy(name));
    return vport !== undefined && vport.portNo === OVSP_LOCAL ? vport.dp : undefined;
  }

  /** ovs_dp_change(): user features, masks cache size, per-CPU upcall pids. */
  private dpChange(dp: Datapath, info: GenlInfo): number {
    const tb = info.tb;
    let features = 0;
    const f = tb[OVS_DP_ATTR.USER_FEATURES];
    if (f !== undefined) {
      features = nlaGetU32(f);
      // The 2.5 module stores whatever it is given; Linux 6.1 refuses unknown bits, and
      // TC_RECIRC_SHARING too as Debian builds it (without CONFIG_NET_TC_SKB_EXT).
      if (this.kernel.profile !== 'ovs-2.5') {
        const known = OVS_DP_F.UNALIGNED | OVS_DP_F.VPORT_PIDS | OVS_DP_F.TC_RECIRC_SHARING | OVS_DP_F.DISPATCH_UPCALL_PER_CPU;
        if (features & ~known) return -Errno.EOPNOTSUPP;
        if (features & OVS_DP_F.TC_RECIRC_SHARING) return -Errno.EOPNOTSUPP;
      }
    }
    if (this.kernel.profile !== 'ovs-2.5') {
      const m = tb[OVS_DP_ATTR.MASKS_CACHE_SIZE];
      if (m !== undefined) {
        const size = nlaGetU32(m);
        if ((size !== 0 && (size & (size - 1)) !== 0) || size > MASKS_CACHE_MAX) return -Errno.EINVAL;
        dp.masksCacheSize = size;
      }
    }
    dp.userFeatures = features;
    const pids = tb[OVS_DP_ATTR.PER_CPU_PIDS];
    if (features & OVS_DP_F.DISPATCH_UPCALL_PER_CPU && pids !== undefined && this.kernel.profile !== 'ovs-2.5') {
      if (pids.dataLength === 0 || pids.dataLength % 4 !== 0) return -Errno.EINVAL;
      const list: number[] = [];
      for (let o = 0; o < pids.dataLength; o += 4) list.push(info.dv.getUint32(pids.dataOffset + o, true));
      dp.perCpuPids = list;
    }
    return 0;
  }

  private dpCmdNew(info: GenlInfo): HandlerResult {
    const tb = info.tb;
    const nameAttr = tb[OVS_DP_ATTR.NAME];
    const pidAttr = tb[OVS_DP_ATTR.UPCALL_PID];
    if (nameAttr === undefined || pidAttr === undefined) return -Errno.EINVAL;
    const netns = info.sock.netns;
    // kzalloc(sizeof(*dp)): nothing to undo when it fails.
    if (this.kernel.faults.shouldFail('failslab', 'ovs_dp_cmd_new')) return -Errno.ENOMEM;
    const dp = new Datapath(netns);
    const err = this.dpChange(dp, info);
    if (err) return err;
    const ifindexAttr = this.kernel.profile === 'ovs-2.5' ? undefined : tb[OVS_DP_ATTR.IFINDEX];
    const parms: VportParms = {
      name: nlaStrscpy(nameAttr),
      type: OVS_VPORT_TYPE.INTERNAL,
      options: undefined,
      dp,
      portNo: OVSP_LOCAL,
      upcallPids: nlaData(pidAttr),
      desiredIfindex: ifindexAttr ? nlaGetU32(ifindexAttr) : 0,
    };
    const local = this.vportAddRestarting(parms);
    if (typeof local === 'number') return local === -Errno.EBUSY ? -Errno.EEXIST : local;
    dp.local = local;
    let list = this.dps.get(netns);
    if (list === undefined) this.dps.set(netns, (list = []));
    list.push(dp);
    info.notify(this.dpFill(dp, info.sock.portId, info.header.seq, 0, OVS_DP_CMD.NEW), this.families.datapath.mcgrps[0]!.id);
    return 0;
  }

  private dpCmdDel(info: GenlInfo): HandlerResult {
    const dp = this.lookupDatapath(info);
    if (dp === undefined) return -Errno.ENODEV;
    const reply = this.dpFill(dp, info.sock.portId, info.header.seq, 0, OVS_DP_CMD.DEL);
    this.dpDestroy(dp);
    info.notify(reply, this.families.datapath.mcgrps[0]!.id);
    return 0;
  }

  /** __dp_destroy(): every port but the local one, then the local one; no vport notifications. */
  private dpDestroy(dp: Datapath): void {
    for (const portNo of [...dp.ports.keys()]) if (portNo !== OVSP_LOCAL) this.detachPort(dp.ports.get(portNo)!);
    const list = this.dps.get(dp.netns)!;
    list.splice(list.indexOf(dp), 1);
    this.detachPort(dp.local!);
  }

  /**
   * ovs_exit_net(): the datapaths of a namespace being dismantled, then the
   * internal ports of other namespaces' datapaths whose device is there
   * (list_vports_from_net()).
   */
  private exitNet(dnet: Netns): void {
    for (const dp of [...(this.dps.get(dnet) ?? [])]) this.dpDestroy(dp);
    for (const dps of this.dps.values()) {
      for (const dp of dps) {
        for (const vport of dp.buckets.flat()) {
          if (vport.ops.type === OVS_VPORT_TYPE.INTERNAL && vport.dev.netns === dnet) this.detachPort(vport);
        }
      }
    }
  }

  private dpCmdSet(info: GenlInfo): HandlerResult {
    const dp = this.lookupDatapath(info);
    if (dp === undefined) return -Errno.ENODEV;
    const err = this.dpChange(dp, info);
    if (err) return err;
    info.notify(this.dpFill(dp, info.sock.portId, info.header.seq, 0, OVS_DP_CMD.SET), this.families.datapath.mcgrps[0]!.id);
    return 0;
  }

  private dpCmdGet(info: GenlInfo): HandlerResult {
    const dp = this.lookupDatapath(info);
    if (dp === undefined) return -Errno.ENODEV;
    info.reply(this.dpFill(dp, info.sock.portId, info.header.seq, 0, OVS_DP_CMD.GET));
    return 0;
  }

  /** ovs_dp_cmd_dump(): the namespace's datapaths, resuming at cb->args[0]. */
  private dpCmdDump(ctx: DumpContext): number {
    const list = this.datapaths(ctx.sock.netns);
    const skip = ctx.args[0] ?? 0;
    let i = 0;
    let added = 0;
    for (const dp of list) {
      if (i >= skip) {
        if (!ctx.put(this.dpFill(dp, ctx.sock.portId, ctx.header.seq, NLM_F.MULTI, OVS_DP_CMD.GET))) break;
        added++;
      }
      i++;
    }
    ctx.args[0] = i;
    return added;
  }

  /** ovs_dp_cmd_fill_info(). */
  private dpFill(dp: Datapath, portid: number, seq: number, flags: number, cmd: number): GenlMessage {
    const legacy = this.kernel.profile === 'ovs-2.5';
    const attrs: Record<string, unknown> = {
      name: dp.name,
      stats: { nHit: dp.stats.nHit, nMissed: dp.stats.nMissed, nLost: dp.stats.nLost, nFlows: 0n },
      megaflowStats: { nMaskHit: 0n, nMasks: 0, pad0: 0, nCacheHit: 0n, pad1: 0n },
      userFeatures: dp.userFeatures,
    };
    if (!legacy) {
      attrs.masksCacheSize = dp.masksCacheSize;
      if (dp.userFeatures & OVS_DP_F.DISPATCH_UPCALL_PER_CPU && dp.perCpuPids) attrs.perCpuPids = dp.perCpuPids;
    }
    return this.message(this.families.datapath, portid, seq, flags, cmd, dp.ifindex, attrs);
  }

  // -------------------------------------------------------------------------
  // ovs_vport

  /** lookup_vport(): by name (with an optional dp_ifindex check), else by port number. */
  private lookupVport(info: GenlInfo): Vport | number {
    const tb = info.tb;
    if (this.kernel.profile !== 'ovs-2.5' && tb[OVS_VPORT_ATTR.IFINDEX] !== undefined) return -Errno.EOPNOTSUPP;
    const name = tb[OVS_VPORT_ATTR.NAME];
    if (name !== undefined) {
      const vport = this.locate(info.sock.netns, nlaStrscpy(name));
      if (vport === undefined) return -Errno.ENODEV;
      if (info.dpIfindex && info.dpIfindex !== vport.dp.ifindex) return -Errno.ENODEV;
      return vport;
    }
    const portNoAttr = tb[OVS_VPORT_ATTR.PORT_NO];
    if (portNoAttr !== undefined) {
      const portNo = nlaGetU32(portNoAttr);
      if (portNo >= DP_MAX_PORTS) return -Errno.EFBIG;
      const dp = this.getDp(info.sock.netns, info.dpIfindex);
      if (dp === undefined) return -Errno.ENODEV;
      return dp.ports.get(portNo) ?? -Errno.ENODEV;
    }
    return -Errno.EINVAL;
  }

  private vportAddRestarting(parms: VportParms, restart?: () => void): Vport | number {
    for (;;) {
      const vport = this.vportAdd(parms);
      if (vport !== -Errno.EAGAIN) return vport;
      restart?.();
    }
  }

  private vportCmdNew(info: GenlInfo): HandlerResult {
    const tb = info.tb;
    const nameAttr = tb[OVS_VPORT_ATTR.NAME];
    const typeAttr = tb[OVS_VPORT_ATTR.TYPE];
    const pidAttr = tb[OVS_VPORT_ATTR.UPCALL_PID];
    if (nameAttr === undefined || typeAttr === undefined || pidAttr === undefined) return -Errno.EINVAL;
    const type = nlaGetU32(typeAttr);
    const ifindexAttr = this.kernel.profile === 'ovs-2.5' ? undefined : tb[OVS_VPORT_ATTR.IFINDEX];
    if (ifindexAttr !== undefined && type !== OVS_VPORT_TYPE.INTERNAL) return -Errno.EOPNOTSUPP;
    const portNoAttr = tb[OVS_VPORT_ATTR.PORT_NO];
    const requested = portNoAttr ? nlaGetU32(portNoAttr) : 0;
    if (requested >= DP_MAX_PORTS) return -Errno.EFBIG;
    const optionsAttr = tb[OVS_VPORT_ATTR.OPTIONS];
    const netns = info.sock.netns;
    for (;;) {
      // restart:
      const dp = this.getDp(netns, info.dpIfindex);
      if (dp === undefined) return -Errno.ENODEV;
      let portNo = requested;
      if (portNo) {
        if (dp.ports.has(portNo)) return -Errno.EBUSY;
      } else {
        portNo = dp.ports.lowestFree(1);
        if (portNo < 0) return -Errno.EFBIG;
      }
      const parms: VportParms = {
        name: nlaStrscpy(nameAttr),
        type,
        options: optionsAttr ? parseTunnelOptions(optionsAttr) : undefined,
        dp,
        portNo,
        upcallPids: nlaData(pidAttr),
        desiredIfindex: ifindexAttr ? nlaGetU32(ifindexAttr) : 0,
      };
      const vport = this.vportAdd(parms);
      if (vport === -Errno.EAGAIN) continue;
      if (typeof vport === 'number') return vport;
      info.notify(this.vportFill(vport, info.sock.portId, info.header.seq, 0, OVS_VPORT_CMD.NEW, netns), this.families.vport.mcgrps[0]!.id);
      return 0;
    }
  }

  private vportCmdSet(info: GenlInfo): HandlerResult {
    const vport = this.lookupVport(info);
    if (typeof vport === 'number') return vport;
    const tb = info.tb;
    const typeAttr = tb[OVS_VPORT_ATTR.TYPE];
    if (typeAttr !== undefined && nlaGetU32(typeAttr) !== vport.ops.type) return -Errno.EINVAL;
    const optionsAttr = tb[OVS_VPORT_ATTR.OPTIONS];
    if (optionsAttr !== undefined) {
      // ovs_vport_set_options(): no type of these kernels can change its options.
      if (vport.ops.setOptions === undefined) return -Errno.EOPNOTSUPP;
      const err = vport.ops.setOptions(vport, parseTunnelOptions(optionsAttr));
      if (err) return err;
    }
    const pidAttr = tb[OVS_VPORT_ATTR.UPCALL_PID];
    if (pidAttr !== undefined) {
      const err = setUpcallPortids(vport, nlaData(pidAttr), this.ctx);
      if (err) return err;
    }
    info.notify(this.vportFill(vport, info.sock.portId, info.header.seq, 0, OVS_VPORT_CMD.SET, info.sock.netns), this.families.vport.mcgrps[0]!.id);
    return 0;
  }

  private vportCmdDel(info: GenlInfo): HandlerResult {
    const vport = this.lookupVport(info);
    if (typeof vport === 'number') return vport;
    if (vport.portNo === OVSP_LOCAL) return -Errno.EINVAL;
    const reply = this.vportFill(vport, info.sock.portId, info.header.seq, 0, OVS_VPORT_CMD.DEL, info.sock.netns);
    this.detachPort(vport);
    info.notify(reply, this.families.vport.mcgrps[0]!.id);
    return 0;
  }

  private vportCmdGet(info: GenlInfo): HandlerResult {
    const vport = this.lookupVport(info);
    if (typeof vport === 'number') return vport;
    info.reply(this.vportFill(vport, info.sock.portId, info.header.seq, 0, OVS_VPORT_CMD.GET, info.sock.netns));
    return 0;
  }

  /** ovs_vport_cmd_dump(): bucket by bucket (cb->args[0]), skipping cb->args[1] within the bucket. */
  private vportCmdDump(ctx: DumpContext): number {
    const dp = this.getDp(ctx.sock.netns, ctx.dpIfindex);
    if (dp === undefined) return -Errno.ENODEV;
    let bucket = ctx.args[0] ?? 0;
    let skip = ctx.args[1] ?? 0;
    let added = 0;
    let j = 0;
    outer: for (; bucket < DP_VPORT_HASH_BUCKETS; bucket++) {
      j = 0;
      for (const vport of dp.buckets[bucket]!) {
        if (j >= skip) {
          if (!ctx.put(this.vportFill(vport, ctx.sock.portId, ctx.header.seq, NLM_F.MULTI, OVS_VPORT_CMD.GET, ctx.sock.netns))) break outer;
          added++;
        }
        j++;
      }
      skip = 0;
    }
    ctx.args[0] = bucket;
    ctx.args[1] = j;
    return added;
  }

  /** ovs_vport_cmd_fill_info(). */
  private vportFill(vport: Vport, portid: number, seq: number, flags: number, cmd: number, requester: Netns): GenlMessage {
    const legacy = this.kernel.profile === 'ovs-2.5';
    const attrs: Record<string, unknown> = { portNo: vport.portNo, type: vport.ops.type, name: vport.name };
    if (!legacy) {
      attrs.ifindex = vport.dev.ifindex;
      if (vport.dev.netns !== requester) attrs.netnsid = 0;
    }
    // ovs_vport_get_stats(): the device's counters, which have struct ovs_vport_stats' fields.
    attrs.stats = { ...vport.dev.stats };
    // ovs_vport_get_upcall_portids(): the whole array only with OVS_DP_F_VPORT_PIDS.
    attrs.upcallPid = vport.dp.userFeatures & OVS_DP_F.VPORT_PIDS ? vport.upcallPids : vport.upcallPids.slice(0, 1);
    const options = vport.ops.getOptions?.(vport);
    if (options !== undefined) attrs.options = options;
    return this.message(this.families.vport, portid, seq, flags, cmd, vport.dp.ifindex, attrs);
  }

  private message(
    family: KernelGenlFamily,
    portid: number,
    seq: number,
    flags: number,
    cmd: number,
    dpIfindex: number,
    attrs: Record<string, unknown>,
  ): GenlMessage {
    return {
      kind: 'genl',
      protocol: NetlinkProtocol.NETLINK_GENERIC,
      header: { len: 0, type: family.id, flags, seq, pid: portid },
      family: family.def,
      cmd,
      version: family.version,
      reserved: 0,
      dpIfindex,
      attrs,
    };
  }
}

/** The policy of an older module: the same attributes, fewer of them. */
function restrict(set: AttrSet, maxType: number): AttrSet {
  const defs = Object.fromEntries(Object.entries(set.defs).filter(([, d]) => d.type <= maxType));
  return new AttrSet(set.name, defs, { maxType });
}

/**
 * The tunnel options as the vport types read them: nla_find_nested() for a
 * 2-byte OVS_TUNNEL_ATTR_DST_PORT, and the GBP flag inside
 * OVS_TUNNEL_ATTR_EXTENSION.
 */
function parseTunnelOptions(options: ParsedAttr): OvsTunnelAttrs {
  const out: OvsTunnelAttrs = {};
  for (const a of nlaForEachNested(options)) {
    if (nlaType(a) === OVS_TUNNEL_ATTR.DST_PORT && nlaLen(a) === 2) out.dstPort = nlaGetU16(a);
    if (nlaType(a) === OVS_TUNNEL_ATTR.EXTENSION) {
      out.extension = {};
      for (const e of nlaForEachNested(a)) if (nlaType(e) === OVS_VXLAN_EXT.GBP) out.extension.gbp = true;
    }
  }
  return out;
}

/** OVS_VPORT_TYPE_NETDEV -> "netdev", for traces. */
function vportTypeName(type: number): string {
  const entry = Object.entries(OVS_VPORT_TYPE).find(([, v]) => v === type);
  return entry ? entry[0].toLowerCase() : String(type);
}
