/**
 * Vports (net/openvswitch/vport.c and the vport types): the ops registry
 * that behaves like loadable modules, ovs_vport_add with its request_module
 * restart, upcall port ids, and the netdev, internal and tunnel types with
 * the devices they bind to or create.
 */
import { Errno, IFF, IF_OPER, NetlinkErrnoError, OVS_VPORT_TYPE, type OvsTunnelAttrs } from '@ovs/genl-codec';
import type { Datapath } from './datapath.js';
import type { FaultInjection } from '../../lib/fault-inject.js';
import { geneveCollectMdConf } from '../../drivers/net/geneve.js';
import { vxlanCollectMdConf } from '../../drivers/net/vxlan/vxlan_core.js';
import type { LinkPriv, NetDevice, RxHandlerOwner } from '../../include/linux/netdevice.js';
import { gretapCollectMdConf } from '../ipv4/ip_gre.js';
import type { Netns } from '../core/net_namespace.js';

/** struct vport_parms. */
export interface VportParms {
  name: string;
  type: number;
  /** OVS_VPORT_ATTR_OPTIONS, decoded (undefined when absent). */
  options: OvsTunnelAttrs | undefined;
  dp: Datapath;
  portNo: number;
  /** OVS_VPORT_ATTR_UPCALL_PID / OVS_DP_ATTR_UPCALL_PID payload. */
  upcallPids: Uint8Array;
  desiredIfindex: number;
}

/** struct vport_ops. */
export interface VportOps {
  readonly type: number;
  /** Module name, as request_module("vport-type-N") finds it. */
  readonly module: string;
  /** The kernel functions behind create and destroy, as a trace names them. */
  readonly createName: string;
  readonly destroyName: string;
  create(parms: VportParms, ctx: VportContext): Vport;
  destroy(vport: Vport, ctx: VportContext): void;
  getOptions?(vport: Vport): OvsTunnelAttrs;
  setOptions?(vport: Vport, options: OvsTunnelAttrs): number;
  /** ovs_vport_send(): hand a packet to the device. */
  send(vport: Vport, packet: Uint8Array): void;
}

/** What vport types may use of the kernel. */
export interface VportContext {
  nCpus: number;
  /** Linux 6.1 (Debian) rejects more upcall pids than CPUs; the 2.5 module does not. */
  limitPidsToCpus: boolean;
  /** Where allocations may be made to fail (failslab). */
  faults: FaultInjection;
}

/** struct vport: the rx_handler_data of the device it is bound to. */
export class Vport implements RxHandlerOwner {
  upcallPids: number[] = [];
  /** The name it was hashed under in its namespace (its device's name then: a rename does not move it). */
  hashName: string | undefined;
  /** Tunnel configuration kept for get_options (vxlan/geneve dst port, extensions). */
  tunnel: OvsTunnelAttrs | undefined;

  constructor(
    readonly dp: Datapath,
    readonly portNo: number,
    readonly ops: VportOps,
    public dev: NetDevice,
  ) {}

  get name(): string {
    return this.dev.name;
  }

  get netns(): Netns {
    return this.dp.netns;
  }

  get description(): string {
    return `openvswitch vport ${this.dp.name}:${this.portNo}`;
  }
}

/** ovs_vport_set_upcall_portids(): a non-empty array of u32. */
export function setUpcallPortids(vport: Vport, ids: Uint8Array, ctx: VportContext): number {
  if (ids.length === 0 || ids.length % 4 !== 0) return -Errno.EINVAL;
  const n = ids.length / 4;
  if (ctx.limitPidsToCpus && n > ctx.nCpus) return -Errno.EINVAL;
  const dv = new DataView(ids.buffer, ids.byteOffset, ids.byteLength);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = dv.getUint32(i * 4, true);
  vport.upcallPids = out;
  return 0;
}

/**
 * ovs_vport_alloc(): the vport (ENOMEM when the allocation fails) with its
 * upcall pids (EINVAL if they are malformed); `dev` until the type binds or
 * creates its device.
 */
function vportAlloc(parms: VportParms, ops: VportOps, dev: NetDevice, ctx: VportContext): Vport {
  ctx.faults.check('failslab', 'ovs_vport_alloc');
  const vport = new Vport(parms.dp, parms.portNo, ops, dev);
  const err = setUpcallPortids(vport, parms.upcallPids, ctx);
  if (err) throw new NetlinkErrnoError(err);
  return vport;
}

/** alloc_netdev_mqs() of a device a vport type creates: ENOMEM when the allocation fails. */
function allocNetdev(ctx: VportContext): void {
  ctx.faults.check('failslab', 'alloc_netdev_mqs');
}

// ---------------------------------------------------------------------------
// netdev: an existing net_device of the namespace (vport-netdev.c)

/** The datapath's local port device, the master of every device attached to it. */
function dpDev(dp: Datapath): NetDevice {
  return dp.local!.dev;
}

/**
 * ovs_netdev_link(): bind the vport to the named device: ENODEV if absent;
 * EINVAL for loopback, non-Ethernet or an OVS internal device; EEXIST if
 * already linked under this datapath, EBUSY under another master or with
 * another rx_handler.
 */
export function netdevLink(vport: Vport, name: string): Vport {
  return vport.dp.netns.ftrace.call('vport', 'ovs_netdev_link', name, () => link(vport, name), noRet);
}

function link(vport: Vport, name: string): Vport {
  const ft = vport.dp.netns.ftrace;
  const dev = vport.dp.netns.byIfname(name);
  if (dev === undefined) throw new NetlinkErrnoError(Errno.ENODEV);
  if (dev.flags & IFF.LOOPBACK || (dev.type !== 1 && dev.type !== 0xfffe) || dev.kind === 'openvswitch') {
    throw new NetlinkErrnoError(Errno.EINVAL);
  }
  const master = dpDev(vport.dp);
  // netdev_master_upper_dev_link()
  ft.event('vport', 'netdev_master_upper_dev_link', `${dev.name} master ${master.name}`);
  if (dev.master === master) throw new NetlinkErrnoError(Errno.EEXIST);
  if (dev.master !== undefined || dev === master) throw new NetlinkErrnoError(Errno.EBUSY);
  // netdev_rx_handler_register()
  ft.event('vport', 'netdev_rx_handler_register', dev.name);
  if (dev.rxHandler !== undefined) throw new NetlinkErrnoError(Errno.EBUSY);
  ft.event('vport', 'dev_set_promiscuity', `${dev.name} +1`);
  dev.master = master;
  dev.rxHandler = vport;
  dev.promiscuity++;
  vport.dev = dev;
  dev.netns.changed(dev);
  return vport;
}

/** ovs_netdev_detach_dev(). */
function netdevDetach(vport: Vport): void {
  const dev = vport.dev;
  dev.netns.ftrace.event('vport', 'ovs_netdev_detach_dev', `${dev.name}: rx_handler unregistered, promiscuity -1`);
  dev.rxHandler = undefined;
  dev.master = undefined;
  dev.promiscuity = Math.max(0, dev.promiscuity - 1);
  dev.netns.changed(dev);
}

const netdevOps: VportOps = {
  type: OVS_VPORT_TYPE.NETDEV,
  module: 'openvswitch',
  createName: 'netdev_create',
  destroyName: 'netdev_destroy',
  create(parms, ctx) {
    const vport = vportAlloc(parms, netdevOps, placeholder(parms), ctx);
    return netdevLink(vport, parms.name);
  },
  destroy(vport) {
    netdevDetach(vport);
  },
  send(vport, packet) {
    countTx(vport.dev, packet);
  },
};

// ---------------------------------------------------------------------------
// internal: a net_device the datapath creates (vport-internal_dev.c)

const internalOps: VportOps = {
  type: OVS_VPORT_TYPE.INTERNAL,
  module: 'openvswitch',
  createName: 'internal_dev_create',
  destroyName: 'internal_dev_destroy',
  create(parms, ctx) {
    // internal_dev_create(): the vport, then the device (freeing the vport if that fails).
    const vport = vportAlloc(parms, internalOps, placeholder(parms), ctx);
    allocNetdev(ctx);
    const netns = parms.dp.netns;
    // register_netdevice(): EEXIST for a taken name, EBUSY for a taken ifindex.
    const dev = netns.addDevice({ name: parms.name, kind: 'openvswitch', ifindex: parms.desiredIfindex || undefined, mtu: 1500 });
    // dev_set_promiscuity(dev, 1); an internal device has no master and no rx_handler:
    // its packets reach the datapath through its own transmit function.
    dev.promiscuity = 1;
    netns.changed(dev);
    vport.dev = dev;
    return vport;
  },
  destroy(vport) {
    const dev = vport.dev;
    dev.promiscuity = 0;
    dev.netns.changed(dev);
    dev.netns.removeDevice(dev);
  },
  send(vport, packet) {
    countTx(vport.dev, packet);
  },
};

// ---------------------------------------------------------------------------
// Tunnels as vport types (vport-vxlan.c, vport-geneve.c, vport-gre.c, and
// the 2.5 module's lisp/stt): each creates its device, named like the vport,
// then binds to it as a netdev vport would.

function tunnelOps(type: number, module: string, kind: string, opts: { dstPort: boolean; portClash?: number; single?: boolean }): VportOps {
  const prefix = module.slice('vport-'.length);
  const ops: VportOps = {
    type,
    module,
    createName: `${prefix}_create`,
    destroyName: 'ovs_netdev_tunnel_destroy',
    create(parms, ctx) {
      let dstPort: number | undefined;
      if (opts.dstPort) {
        // nla_find_nested(options, OVS_TUNNEL_ATTR_DST_PORT) of exactly 2 bytes, else EINVAL.
        if (parms.options === undefined || parms.options.dstPort === undefined) throw new NetlinkErrnoError(Errno.EINVAL);
        dstPort = parms.options.dstPort;
      }
      const vport = vportAlloc(parms, ops, placeholder(parms), ctx);
      // The driver's *_dev_create() allocates the device (rtnl_create_link) before its own checks.
      allocNetdev(ctx);
      const netns = parms.dp.netns;
      // The devices this vport type made (the others of its kind, made through rtnetlink, do not count here).
      const ours = [...netns.devices].flatMap((d) => (d.rxHandler instanceof Vport && d.rxHandler.ops.type === type ? [d.rxHandler] : []));
      if (opts.single && ours.length > 0) throw new NetlinkErrnoError(Errno.EEXIST);
      if (dstPort !== undefined && opts.portClash !== undefined && ours.some((v) => v.tunnel?.dstPort === dstPort)) {
        throw new NetlinkErrnoError(opts.portClash);
      }
      netns.ftrace.event('vport', DEV_CREATE[kind] ?? `${kind}_dev_create`, `${parms.name}${dstPort !== undefined ? ` dst_port ${dstPort}` : ''}`);
      const priv = fbDevPriv(kind, dstPort, parms.options?.extension?.gbp === true);
      const dev = netns.addDevice({ name: parms.name, kind, mtu: FB_DEV_MTU[kind] ?? 65000, ...(priv !== undefined ? { priv } : {}) });
      // dev_change_flags(dev, IFF_UP): its own RTM_NEWLINK (change IFF_UP), before the master's.
      dev.flags |= IFF.UP | IFF.RUNNING | IFF.LOWER_UP;
      dev.operstate = IF_OPER.UNKNOWN;
      netns.changed(dev);
      vport.tunnel = dstPort !== undefined ? { dstPort, ...(parms.options?.extension ? { extension: parms.options.extension } : {}) } : undefined;
      try {
        return netdevLink(vport, parms.name);
      } catch (err) {
        netns.removeDevice(dev);
        throw err;
      }
    },
    destroy(vport) {
      netdevDetach(vport);
      vport.dev.netns.removeDevice(vport.dev);
    },
    send(vport, packet) {
      countTx(vport.dev, packet);
    },
  };
  if (opts.dstPort) ops.getOptions = (vport) => vport.tunnel ?? {};
  return ops;
}

/**
 * The MTU of the device each driver makes for a vport: IP_MAX_MTU, as far as
 * the device takes it (vxlan_tnl_create's conf.mtu; geneve_dev_create_fb and
 * gretap_fb_dev_create change it to IP_MAX_MTU, clamped to their max_mtu).
 * Read on the kernel lab's 6.1 (vport.test.ts).
 */
const FB_DEV_MTU: Readonly<Record<string, number>> = { vxlan: 65535, geneve: 65465, gretap: 65497 };

/** The configuration each tunnel driver's fb_dev helper gives the device it makes for a vport. */
function fbDevPriv(kind: string, dstPort: number | undefined, gbp: boolean): LinkPriv | undefined {
  switch (kind) {
    case 'vxlan':
      return { kind: 'vxlan', conf: vxlanCollectMdConf(dstPort, gbp) };
    case 'geneve':
      return { kind: 'geneve', conf: geneveCollectMdConf(dstPort) };
    case 'gretap':
      return { kind: 'gre', conf: gretapCollectMdConf() };
    default:
      return undefined; // lisp, stt: drivers the model has no rtnetlink side for
  }
}

/** The function of each tunnel driver that makes the device for its vport (the fb_dev helpers). */
const DEV_CREATE: Readonly<Record<string, string>> = { vxlan: 'vxlan_dev_create', geneve: 'geneve_dev_create_fb', gretap: 'gretap_fb_dev_create' };

const noRet = (): undefined => undefined;

/** A device stand-in while a vport is being set up (replaced by the real one). */
function placeholder(parms: VportParms): NetDevice {
  return parms.dp.local?.dev ?? ({ name: parms.name } as NetDevice);
}

function countTx(dev: NetDevice, packet: Uint8Array): void {
  dev.stats.txPackets++;
  dev.stats.txBytes += BigInt(packet.length);
}

/** A vport type as a loadable module: loaded or not, loadable or not, refcounted. */
export interface VportModule {
  readonly ops: VportOps;
  loaded: boolean;
  /** request_module() can load it. */
  available: boolean;
  /** Make the next loads fail (a broken module). */
  failLoad: boolean;
  /** try_module_get() fails (the module is being unloaded). */
  failGet: boolean;
  refcount: number;
}

/**
 * The registry of vport types (vport_ops_list plus what modprobe could load).
 * Linux 6.1: netdev and internal are part of openvswitch.ko; vxlan, geneve
 * and gre come as vport-vxlan/geneve/gre modules loaded on first use. The
 * OVS 2.5 module adds lisp and stt (off by default: their modules must be
 * made available).
 */
export class VportModules {
  private readonly modules = new Map<number, VportModule>();

  constructor(profile: 'linux-6.1' | 'ovs-2.5') {
    const add = (ops: VportOps, loaded: boolean, available: boolean) =>
      this.modules.set(ops.type, { ops, loaded, available, failLoad: false, failGet: false, refcount: 0 });
    add(netdevOps, true, true);
    add(internalOps, true, true);
    add(tunnelOps(OVS_VPORT_TYPE.VXLAN, 'vport-vxlan', 'vxlan', { dstPort: true, portClash: Errno.EEXIST }), false, true);
    add(tunnelOps(OVS_VPORT_TYPE.GENEVE, 'vport-geneve', 'geneve', { dstPort: true, portClash: Errno.EBUSY }), false, true);
    add(tunnelOps(OVS_VPORT_TYPE.GRE, 'vport-gre', 'gretap', { dstPort: false, single: true }), false, true);
    if (profile === 'ovs-2.5') {
      add(tunnelOps(OVS_VPORT_TYPE.LISP, 'vport-lisp', 'lisp', { dstPort: true, portClash: Errno.EEXIST }), false, false);
      add(tunnelOps(OVS_VPORT_TYPE.STT, 'vport-stt', 'stt', { dstPort: true, portClash: Errno.EEXIST }), false, false);
    }
  }

  /** The module of a vport type, to configure it (tests: make it unavailable, make its load fail). */
  module(type: number): VportModule | undefined {
    return this.modules.get(type);
  }

  /** ovs_vport_lookup(): the ops of a loaded type. */
  lookup(type: number): VportOps | undefined {
    const m = this.modules.get(type);
    return m?.loaded ? m.ops : undefined;
  }

  /** request_module("vport-type-%d"): loads the module if it can. */
  requestModule(type: number): void {
    const m = this.modules.get(type);
    if (m && m.available && !m.failLoad) m.loaded = true;
  }

  tryGet(type: number): boolean {
    const m = this.modules.get(type);
    if (!m || m.failGet) return false;
    m.refcount++;
    return true;
  }

  put(type: number): void {
    const m = this.modules.get(type);
    if (m && m.refcount > 0) m.refcount--;
  }
}
