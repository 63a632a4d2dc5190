/** The vxlan vport type (net/openvswitch/vport-vxlan.c): a collect-metadata vxlan device on the vport's destination port, GBP if asked. */
import { Errno, OVS_VPORT_TYPE } from '@ovs/genl-codec';
import { vxlanCollectMdConf } from '../../drivers/net/vxlan/vxlan_core.js';
import { tunnelVportOps } from './vport-netdev.js';

export const vxlanVportOps = tunnelVportOps(OVS_VPORT_TYPE.VXLAN, 'vport-vxlan', 'vxlan', {
  dstPort: true,
  portClash: Errno.EEXIST,
  devCreate: 'vxlan_dev_create',
  mtu: 65535,
  priv: (dstPort, gbp) => ({ kind: 'vxlan', conf: vxlanCollectMdConf(dstPort, gbp) }),
});
