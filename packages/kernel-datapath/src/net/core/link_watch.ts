/**
 * net/core/link_watch.c: carrier changes queued (linkwatch_fire_event) and
 * run in event order, each device's operstate moved by RFC 2863's policy,
 * and an RTM_NEWLINK for those up.
 */
import { IF_LINK_MODE, IF_OPER, RTM } from '@ovs/genl-codec';
import type { NetDevice } from '../../include/linux/netdevice.js';
import { devGetIflink, isRegistered, notifyIpLayer, syncFlags } from './dev.js';
import type { Rtnetlink } from './rtnetlink.js';

/** default_operstate(). */
export function defaultOperstate(dev: NetDevice): number {
  if (!dev.carrier) return dev.ifindex !== devGetIflink(dev) ? IF_OPER.LOWERLAYERDOWN : IF_OPER.DOWN;
  return IF_OPER.UP;
}

/** rfc2863_policy(). */
function rfc2863Policy(dev: NetDevice): void {
  let operstate = defaultOperstate(dev);
  if (operstate === dev.operstate) return;
  if (operstate === IF_OPER.UP && dev.linkmode === IF_LINK_MODE.TESTING) operstate = IF_OPER.TESTING;
  if (operstate === IF_OPER.UP && dev.linkmode === IF_LINK_MODE.DORMANT) operstate = IF_OPER.DORMANT;
  dev.operstate = operstate;
}

/** linkwatch_fire_event(): the device's carrier changed; handled by the next linkwatchRunQueue(). */
export function linkwatchFireEvent(rtnl: Rtnetlink, dev: NetDevice): void {
  rtnl.lweventlist.add(dev);
}

/** linkwatch_forget_dev(). */
export function linkwatchForgetDev(rtnl: Rtnetlink, dev: NetDevice): void {
  rtnl.lweventlist.delete(dev);
}

/** __linkwatch_run_queue(): each device with a carrier change, in order; RTM_NEWLINK for those up. */
export function linkwatchRunQueue(rtnl: Rtnetlink): void {
  const list = rtnl.lweventlist;
  while (list.size > 0) {
    const dev = list.values().next().value!;
    list.delete(dev);
    if (!isRegistered(dev)) continue;
    rfc2863Policy(dev);
    if (dev.isUp) {
      dev.qdiscAttached = true;
      rtnl.notify(dev, RTM.NEWLINK, 0);
    } else {
      syncFlags(dev);
    }
    notifyIpLayer(dev); // NETDEV_CHANGE
  }
}
