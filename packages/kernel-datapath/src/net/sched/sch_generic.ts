/**
 * net/sched/sch_generic.c: the carrier (netif_carrier_on / off) and the root
 * qdisc a device has: noop until its first dev_activate(), then noqueue for
 * IFF_NO_QUEUE devices or the default qdisc (fq_codel on Debian).
 */
import type { NetDevice } from '../../include/linux/netdevice.js';
import { linkwatchFireEvent } from '../core/link_watch.js';
import type { Rtnetlink } from '../core/rtnetlink.js';

function carrierChange(rtnl: Rtnetlink, dev: NetDevice, on: boolean): void {
  if (dev.carrier === on) return;
  dev.carrier = on;
  if (on) dev.carrierUpCount++;
  else dev.carrierDownCount++;
  linkwatchFireEvent(rtnl, dev);
}

/** netif_carrier_on(). */
export function netifCarrierOn(rtnl: Rtnetlink, dev: NetDevice): void {
  carrierChange(rtnl, dev, true);
}

/** netif_carrier_off(). */
export function netifCarrierOff(rtnl: Rtnetlink, dev: NetDevice): void {
  carrierChange(rtnl, dev, false);
}

/** The root qdisc's id (qdisc->ops->id). */
export function rootQdiscId(dev: NetDevice, deleting: boolean): string {
  if (deleting || !dev.qdiscAttached) return 'noop';
  return dev.setup.noQueue ? 'noqueue' : 'fq_codel';
}
