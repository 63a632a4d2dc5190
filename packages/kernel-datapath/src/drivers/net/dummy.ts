/** The dummy driver (drivers/net/dummy.c). */
import { IFF } from '@ovs/genl-codec';
import type { RtnlLinkOps } from '../../include/net/rtnetlink.js';
import { registerNetdevice } from '../../net/core/dev.js';
import { ethValidateAddr, etherSetup } from '../../net/ethernet/eth.js';

export const dummyLinkOps: RtnlLinkOps = {
  kind: 'dummy',
  // dummy_setup(): ether_setup, IFF_NOARP, no multicast, min/max MTU 0, ndo_change_carrier.
  setup: { ...etherSetup, flags: IFF.BROADCAST | IFF.NOARP, changeCarrier: true, minMtu: 0, maxMtu: 0 },
  /** dummy_validate(). */
  validate: (tb) => ethValidateAddr(tb),
  newlink: (rtnl, r, proto) => registerNetdevice(rtnl, r.ns, proto),
  dellink: (dev) => [dev],
};
