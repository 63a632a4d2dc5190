/** Link settings as ETHTOOL_MSG_LINKMODES_GET reports them (net/ethtool/linkmodes.c and each driver's get_link_ksettings). */
import { AUTONEG, DUPLEX, SPEED_UNKNOWN } from '@ovs/genl-codec';
import { vxlanConfOf } from '../../drivers/net/vxlan/vxlan_core.js';
import type { NetDevice } from '../../include/linux/netdevice.js';

/** What get_link_ksettings() reports (struct ethtool_link_ksettings, the parts a switch reads). */
export interface LinkKsettings {
  /** Mb/s, or SPEED_UNKNOWN. */
  speed: number;
  /** DUPLEX_HALF, DUPLEX_FULL or DUPLEX_UNKNOWN. */
  duplex: number;
  autoneg: number;
}

/**
 * __ethtool_get_link_ksettings() of each kind, as Linux 6.1's drivers answer
 * (read with ETHTOOL_MSG_LINKMODES_GET on the kernel lab): veth_get_link_ksettings
 * says 10000 Mb/s, full duplex, no autonegotiation; vxlan_get_link_ksettings
 * answers for its lower device (IFLA_VXLAN_LINK), or without one unknown
 * speed and duplex; dummy, loopback, the OVS internal device, geneve, gretap
 * and gre have no get_link_ksettings (undefined: EOPNOTSUPP). No link modes
 * are supported or advertised by any of them.
 */
export function linkKsettings(dev: NetDevice): LinkKsettings | undefined {
  switch (dev.kind) {
    case 'veth':
      return { speed: 10000, duplex: DUPLEX.FULL, autoneg: AUTONEG.DISABLE };
    case 'vxlan': {
      const link = vxlanConfOf(dev)?.remoteIfindex;
      const lower = link ? dev.netns.byIfindex(link) : undefined;
      if (lower !== undefined && lower !== dev) return linkKsettings(lower);
      return { speed: SPEED_UNKNOWN, duplex: DUPLEX.UNKNOWN, autoneg: AUTONEG.DISABLE };
    }
    default:
      return undefined;
  }
}
