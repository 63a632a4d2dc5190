/**
 * Vports bound to a net_device (net/openvswitch/vport-netdev.c): the netdev
 * type, which binds an existing device, and what the tunnel types share
 * (each creates its device through its driver, then binds to it the same
 * way; ovs_netdev_tunnel_destroy()).
 */
import { Errno, IFF, IF_OPER, OVS_VPORT_TYPE } from '@ovs/genl-codec';
import type { LinkPriv, NetDevice } from '../../include/linux/netdevice.js';
import type { Datapath } from './datapath.js';
import { Vport, type VportOps, allocNetdev, placeholder, vportAlloc, vportRet, vportSend } from './vport.js';

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
function netdevLink(vport: Vport, name: string): Vport | number {
  return vport.dp.netns.ftrace.call('vport', 'ovs_netdev_link', name, () => link(vport, name), vportRet);
}

function link(vport: Vport, name: string): Vport | number {
  const ft = vport.dp.netns.ftrace;
  const dev = vport.dp.netns.byIfname(name);
  if (dev === undefined) return -Errno.ENODEV;
  if (dev.flags & IFF.LOOPBACK || (dev.type !== 1 && dev.type !== 0xfffe) || dev.kind === 'openvswitch') return -Errno.EINVAL;
  const master = dpDev(vport.dp);
  // netdev_master_upper_dev_link()
  ft.event('vport', 'netdev_master_upper_dev_link', `${dev.name} master ${master.name}`);
  if (dev.master === master) return -Errno.EEXIST;
  if (dev.master !== undefined || dev === master) return -Errno.EBUSY;
  // netdev_rx_handler_register()
  ft.event('vport', 'netdev_rx_handler_register', dev.name);
  if (dev.rxHandler !== undefined) return -Errno.EBUSY;
  ft.event('vport', 'dev_set_promiscuity', `${dev.name} +1`);
  dev.master = master;
  dev.rxHandler = vport;
  dev.promiscuity++;
  vport.dev = dev;
  dev.netns.changed(dev);
  return vport;
}

/** ovs_netdev_get_vport(): the vport a device is bound to through its rx_handler. */
export function ovsNetdevGetVport(dev: NetDevice): Vport | undefined {
  return dev.rxHandler instanceof Vport ? dev.rxHandler : undefined;
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

export const netdevVportOps: VportOps = {
  type: OVS_VPORT_TYPE.NETDEV,
  module: 'openvswitch',
  createName: 'netdev_create',
  destroyName: 'netdev_destroy',
  create(parms, ctx) {
    const vport = vportAlloc(parms, netdevVportOps, placeholder(parms), ctx);
    return typeof vport === 'number' ? vport : netdevLink(vport, parms.name);
  },
  destroy(vport) {
    netdevDetach(vport);
  },
  send(vport, packet) {
    vportSend(vport.dev, packet);
  },
};

// ---------------------------------------------------------------------------
// Tunnels: vport-vxlan.c, vport-geneve.c, vport-gre.c (and the 2.5 module's
// lisp, stt) each make their device with the driver's function for it, named
// like the vport, then bind to it as a netdev vport does.

/** What distinguishes one tunnel vport type from another. */
export interface TunnelVportOptions {
  /** OVS_TUNNEL_ATTR_DST_PORT is required. */
  dstPort: boolean;
  /** The errno for a second device of the type on a destination port (the driver's check). */
  portClash?: number;
  /** Only one device of the type per namespace (the gre fb device). */
  single?: boolean;
  /** The driver's function that makes the device (vxlan_dev_create, geneve_dev_create_fb, ...), as a trace names it. */
  devCreate: string;
  /**
   * The MTU of the device the driver makes: IP_MAX_MTU, as far as the device
   * takes it (vxlan_tnl_create's conf.mtu; geneve_dev_create_fb and
   * gretap_fb_dev_create change it to IP_MAX_MTU, clamped to their max_mtu).
   * Read on the kernel lab's 6.1 (vport.test.ts).
   */
  mtu: number;
  /** The configuration the driver gives that device (none for a driver the model has no rtnetlink side for). */
  priv?: (dstPort: number | undefined, gbp: boolean) => LinkPriv;
}

export function tunnelVportOps(type: number, module: string, kind: string, opts: TunnelVportOptions): VportOps {
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
        if (parms.options === undefined || parms.options.dstPort === undefined) return -Errno.EINVAL;
        dstPort = parms.options.dstPort;
      }
      const vport = vportAlloc(parms, ops, placeholder(parms), ctx);
      if (typeof vport === 'number') return vport;
      // The driver's *_dev_create() allocates the device (rtnl_create_link) before its own checks.
      const nomem = allocNetdev(ctx);
      if (nomem) return nomem;
      const netns = parms.dp.netns;
      // The devices this vport type made (the others of its kind, made through rtnetlink, do not count here).
      const ours = [...netns.devices].flatMap((d) => (d.rxHandler instanceof Vport && d.rxHandler.ops.type === type ? [d.rxHandler] : []));
      if (opts.single && ours.length > 0) return -Errno.EEXIST;
      if (dstPort !== undefined && opts.portClash !== undefined && ours.some((v) => v.tunnel?.dstPort === dstPort)) return -opts.portClash;
      netns.ftrace.event('vport', opts.devCreate, `${parms.name}${dstPort !== undefined ? ` dst_port ${dstPort}` : ''}`);
      const priv = opts.priv?.(dstPort, parms.options?.extension?.gbp === true);
      const dev = netns.registerNetdevice({ name: parms.name, kind, mtu: opts.mtu, ...(priv !== undefined ? { priv } : {}) });
      if (typeof dev === 'number') return dev;
      // dev_change_flags(dev, IFF_UP): its own RTM_NEWLINK (change IFF_UP), before the master's.
      dev.flags |= IFF.UP | IFF.RUNNING | IFF.LOWER_UP;
      dev.operstate = IF_OPER.UNKNOWN;
      netns.changed(dev);
      vport.tunnel = dstPort !== undefined ? { dstPort, ...(parms.options?.extension ? { extension: parms.options.extension } : {}) } : undefined;
      const linked = netdevLink(vport, parms.name);
      if (typeof linked === 'number') netns.removeDevice(dev);
      return linked;
    },
    destroy(vport) {
      netdevDetach(vport);
      vport.dev.netns.removeDevice(vport.dev);
    },
    send(vport, packet) {
      vportSend(vport.dev, packet);
    },
  };
  if (opts.dstPort) ops.getOptions = (vport) => vport.tunnel ?? {};
  return ops;
}
