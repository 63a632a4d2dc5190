/** The geneve vport type (net/openvswitch/vport-geneve.c): a collect-metadata geneve device on the vport's destination port. */
import { Errno, OVS_VPORT_TYPE } from '@ovs/genl-codec';
import { geneveCollectMdConf } from '../../drivers/net/geneve.js';
import { tunnelVportOps } from './vport-netdev.js';

export const geneveVportOps = tunnelVportOps(OVS_VPORT_TYPE.GENEVE, 'vport-geneve', 'geneve', {
  dstPort: true,
  portClash: Errno.EBUSY,
  devCreate: 'geneve_dev_create_fb',
  mtu: 65465,
  priv: (dstPort) => ({ kind: 'geneve', conf: geneveCollectMdConf(dstPort) }),
});
