/** The OVS 2.5 module's lisp vport type (its datapath/vport-lisp.c; no rtnetlink driver in the model). */
import { Errno, OVS_VPORT_TYPE } from '@ovs/genl-codec';
import { tunnelVportOps } from './vport-netdev.js';

export const lispVportOps = tunnelVportOps(OVS_VPORT_TYPE.LISP, 'vport-lisp', 'lisp', {
  dstPort: true,
  portClash: Errno.EEXIST,
  devCreate: 'lisp_dev_create',
  mtu: 65000,
});
