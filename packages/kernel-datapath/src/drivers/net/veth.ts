/**
 * The veth driver (drivers/net/veth.c): a pair made in one RTM_NEWLINK (the
 * peer from VETH_INFO_PEER first), deleted together, each end's carrier on
 * only while both are up.
 */
import { Errno, IFLA, VETH_INFO, nlaStrscpy, vethInfoAttrs } from '@ovs/genl-codec';
import type { NetDevice } from '../../include/linux/netdevice.js';
import type { RtnlLinkOps } from '../../include/net/rtnetlink.js';
import type { Rtnetlink } from '../../net/core/rtnetlink.js';
import { registerNetdevice, unregisterNetdeviceMany } from '../../net/core/dev.js';
import { ETH_MAX_MTU, ethValidateAddr, ethValidateMtu, etherSetup } from '../../net/ethernet/eth.js';
import { errMsg, nlaFailure } from '../../net/netlink/extack.js';
import { netifCarrierOff, netifCarrierOn } from '../../net/sched/sch_generic.js';
import { GSO_MAX_SIZE } from './loopback.js';

const IFNAMSIZ = 16;

/** veth_validate(). */
function vethValidate(tb: Parameters<NonNullable<RtnlLinkOps['validate']>>[0]): number {
  const bad = ethValidateAddr(tb);
  if (bad) return bad;
  return ethValidateMtu(tb) ? 0 : -Errno.EINVAL;
}

/**
 * What opening or closing either end made elsewhere entails (veth_open and
 * veth_close for a change rtnetlink did not make): carrier on both ends
 * while both are up.
 */
export function vethFollowPeer(rtnl: Rtnetlink, dev: NetDevice): void {
  const on = dev.isUp && dev.peer?.isUp === true;
  const set = on ? netifCarrierOn : netifCarrierOff;
  set(rtnl, dev);
  if (dev.peer !== undefined) set(rtnl, dev.peer);
}

export const vethLinkOps: RtnlLinkOps = {
  kind: 'veth',
  policy: vethInfoAttrs,
  // veth_setup(): max_mtu ETH_MAX_MTU, tso_max_size GSO_MAX_SIZE, one queue per possible CPU.
  setup: {
    ...etherSetup,
    maxMtu: ETH_MAX_MTU,
    tsoMaxSize: GSO_MAX_SIZE,
    perCpuQueues: true,
    /** veth_open(). */
    open(rtnl, dev) {
      const peer = dev.peer;
      if (peer === undefined) return -Errno.ENOTCONN;
      if (peer.isUp) {
        netifCarrierOn(rtnl, dev);
        netifCarrierOn(rtnl, peer);
      }
      return 0;
    },
    /** veth_close(). */
    stop(rtnl, dev) {
      netifCarrierOff(rtnl, dev);
      if (dev.peer !== undefined) netifCarrierOff(rtnl, dev.peer);
    },
    /** veth_get_iflink(): the peer's ifindex (0 once unregistering). */
    getIflink: (dev, deleting) => (deleting ? 0 : (dev.peer?.ifindex ?? 0)),
  },

  validate: (tb) => vethValidate(tb),

  /** veth_newlink(): the peer first (from VETH_INFO_PEER), then the device. */
  newlink(rtnl, r, proto) {
    let peerTb = r.tb;
    let peerIfm: { index: number; flags: number; change: number } | undefined;
    const peerAttr = r.data?.[VETH_INFO.PEER];
    if (peerAttr) {
      const p = rtnl.nlaParseIfinfomsg(peerAttr);
      peerIfm = p.ifm;
      if (peerIfm.index < 0) return errMsg(r.extack, Errno.EINVAL, "ifindex can't be negative", peerAttr);
      if ('failure' in p.attrs) return nlaFailure(r.extack, p.attrs.failure);
      peerTb = p.attrs.tb;
      const bad = vethValidate(peerTb);
      if (bad) return bad;
    }
    const nameAttr = peerIfm !== undefined ? peerTb[IFLA.IFNAME] : undefined;
    const peerName = nameAttr !== undefined ? nlaStrscpy(nameAttr, IFNAMSIZ) : 'veth%d';
    // rtnl_link_get_net(src_net, tbp): the peer's IFLA_NET_NS_PID / IFLA_NET_NS_FD (the device's own without VETH_INFO_PEER).
    const net = rtnl.linkGetNet(r.srcNet, peerTb);
    if (typeof net === 'number') return net;
    const peerProto = rtnl.createLink(vethLinkOps, peerTb, peerName, peerIfm !== undefined && r.ifm.index > 0 ? peerIfm.index : 0, r.extack);
    if (typeof peerProto === 'number') return peerProto;
    // netif_inherit_tso_max(peer, dev)
    peerProto.tsoMaxSize = proto.tsoMaxSize;
    if (peerIfm === undefined) peerProto.mac = undefined;
    const peer = registerNetdevice(rtnl, net, peerProto);
    if (typeof peer === 'number') return peer;
    netifCarrierOff(rtnl, peer);
    const err = rtnl.configureLink(peer, peerIfm);
    if (err) return err;
    const dev = registerNetdevice(rtnl, r.ns, proto);
    if (typeof dev === 'number') {
      unregisterNetdeviceMany(rtnl, [peer], undefined);
      return dev;
    }
    netifCarrierOff(rtnl, dev);
    dev.peer = peer;
    peer.peer = dev;
    return dev;
  },

  /** veth_dellink(): the peer goes too. */
  dellink: (dev) => (dev.peer !== undefined ? [dev, dev.peer] : [dev]),

  /** veth_get_link_net(). */
  getLinkNet: (dev) => dev.peer?.netns ?? dev.netns,

  init(dev) {
    dev.carrier = false;
  },
};
