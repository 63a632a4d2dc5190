/** The OVS 2.5 module's stt vport type (its datapath/vport-stt.c; no rtnetlink driver in the model). */
import { Errno, OVS_VPORT_TYPE } from '@ovs/genl-codec';
import { tunnelVportOps } from './vport-netdev.js';

export const sttVportOps = tunnelVportOps(OVS_VPORT_TYPE.STT, 'vport-stt', 'stt', {
  dstPort: true,
  portClash: Errno.EEXIST,
  devCreate: 'stt_dev_create',
  mtu: 65000,
});
