/**
 * The OVS internal device's link ops (net/openvswitch/vport-internal_dev.c):
 * rtnetlink knows its kind, "openvswitch", but cannot make or delete one
 * (no setup in its rtnl_link_ops, so no dellink either); only the datapath
 * does (vport.ts).
 */
import type { RtnlLinkOps } from '../../include/net/rtnetlink.js';
import { ETH_MAX_MTU, etherSetup } from '../ethernet/eth.js';

export const internalDevLinkOps: RtnlLinkOps = {
  kind: 'openvswitch',
  // do_setup(): ether_setup with max_mtu ETH_MAX_MTU.
  setup: { ...etherSetup, maxMtu: ETH_MAX_MTU },
};
