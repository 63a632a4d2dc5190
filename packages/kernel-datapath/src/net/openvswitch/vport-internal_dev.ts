/**
 * The internal vport type (net/openvswitch/vport-internal_dev.c): a device
 * the datapath makes ("openvswitch" to rtnetlink, which cannot make or
 * delete one: no setup in its rtnl_link_ops, so no dellink either).
 */
import { NETIF_F_BIT, OVSP_LOCAL, OVS_VPORT_TYPE } from '@ovs/genl-codec';
import { featureMask } from '../../include/linux/netdev_features.js';
import type { NetDevice } from '../../include/linux/netdevice.js';
import type { RtnlLinkOps } from '../../include/net/rtnetlink.js';
import { ETH_MAX_MTU, etherSetup } from '../ethernet/eth.js';
import { type Vport, type VportOps, allocNetdev, placeholder, vportAlloc, vportSend } from './vport.js';

export const internalDevLinkOps: RtnlLinkOps = {
  kind: 'openvswitch',
  // do_setup(): ether_setup with max_mtu ETH_MAX_MTU.
  setup: { ...etherSetup, maxMtu: ETH_MAX_MTU },
  netnsRefund: true,
};

/** ovs_internal_dev_get_vport(): the vport of an internal device, undefined for any other device. */
export function ovsInternalDevGetVport(dev: NetDevice): Vport | undefined {
  return dev.priv?.kind === 'openvswitch' ? dev.priv.vport : undefined;
}

export const internalVportOps: VportOps = {
  type: OVS_VPORT_TYPE.INTERNAL,
  module: 'openvswitch',
  createName: 'internal_dev_create',
  destroyName: 'internal_dev_destroy',
  create(parms, ctx) {
    // internal_dev_create(): the vport, then the device (freeing the vport if that fails).
    const vport = vportAlloc(parms, internalVportOps, placeholder(parms), ctx);
    if (typeof vport === 'number') return vport;
    const nomem = allocNetdev(ctx);
    if (nomem) return nomem;
    const netns = parms.dp.netns;
    // register_netdevice(): EEXIST for a taken name, EBUSY for a taken ifindex.
    const dev = netns.registerNetdevice({
      name: parms.name,
      kind: 'openvswitch',
      ifindex: parms.desiredIfindex || undefined,
      mtu: 1500,
      priv: { kind: 'openvswitch', vport },
    });
    if (typeof dev === 'number') return dev;
    // Restrict bridge port to current netns: the datapath's own port cannot be moved (EINVAL).
    if (parms.portNo === OVSP_LOCAL) dev.features |= featureMask(NETIF_F_BIT.NETNS_LOCAL);
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
    vportSend(vport.dev, packet);
  },
};
