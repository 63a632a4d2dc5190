/**
 * Vports (net/openvswitch/vport.c): struct vport and vport_ops, upcall port
 * ids, ovs_vport_alloc(), and the registry of vport types that behaves like
 * loadable modules (ovs_vport_add's request_module restart). The types are
 * in vport-netdev.ts, vport-internal_dev.ts and the tunnel files.
 */
import { Errno, type OvsTunnelAttrs } from '@ovs/genl-codec';
import { handlerRet } from '../../kernel/trace/ftrace.js';
import type { NetDevice, RxHandlerOwner } from '../../include/linux/netdevice.js';
import type { FaultInjection } from '../../lib/fault-inject.js';
import type { Netns } from '../core/net_namespace.js';
import type { Datapath } from './datapath.js';
import { geneveVportOps } from './vport-geneve.js';
import { greVportOps } from './vport-gre.js';
import { internalVportOps } from './vport-internal_dev.js';
import { lispVportOps } from './vport-lisp.js';
import { netdevVportOps } from './vport-netdev.js';
import { sttVportOps } from './vport-stt.js';
import { vxlanVportOps } from './vport-vxlan.js';

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
  /** The vport, or a negative errno (with nothing left behind). */
  create(parms: VportParms, ctx: VportContext): Vport | number;
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
export function vportAlloc(parms: VportParms, ops: VportOps, dev: NetDevice, ctx: VportContext): Vport | number {
  if (ctx.faults.shouldFail('failslab', 'ovs_vport_alloc')) return -Errno.ENOMEM;
  const vport = new Vport(parms.dp, parms.portNo, ops, dev);
  return setUpcallPortids(vport, parms.upcallPids, ctx) || vport;
}

/** alloc_netdev_mqs() of a device a vport type creates: ENOMEM when the allocation fails. */
export function allocNetdev(ctx: VportContext): number {
  return ctx.faults.shouldFail('failslab', 'alloc_netdev_mqs') ? -Errno.ENOMEM : 0;
}

/** What a trace shows a vport function returning: its errno, or nothing for a vport. */
export const vportRet = (v: Vport | number): string | undefined => (typeof v === 'number' ? handlerRet(v) : undefined);

/** A device stand-in while a vport is being set up (replaced by the real one). */
export function placeholder(parms: VportParms): NetDevice {
  return parms.dp.local?.dev ?? ({ name: parms.name } as NetDevice);
}

/** ovs_vport_send(): the device counts what it transmits. */
export function vportSend(dev: NetDevice, packet: Uint8Array): void {
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
    add(netdevVportOps, true, true);
    add(internalVportOps, true, true);
    add(vxlanVportOps, false, true);
    add(geneveVportOps, false, true);
    add(greVportOps, false, true);
    if (profile === 'ovs-2.5') {
      add(lispVportOps, false, false);
      add(sttVportOps, false, false);
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
    if (m?.available && !m.failLoad) m.loaded = true;
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
