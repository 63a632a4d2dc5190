/** The gre vport type (net/openvswitch/vport-gre.c): one collect-metadata gretap device per namespace. */
import { OVS_VPORT_TYPE } from '@ovs/genl-codec';
import { gretapCollectMdConf } from '../ipv4/ip_gre.js';
import { tunnelVportOps } from './vport-netdev.js';

export const greVportOps = tunnelVportOps(OVS_VPORT_TYPE.GRE, 'vport-gre', 'gretap', {
  dstPort: false,
  single: true,
  devCreate: 'gretap_fb_dev_create',
  mtu: 65497,
  priv: () => ({ kind: 'gre', conf: gretapCollectMdConf() }),
});
