/**
 * lib/netdev.c's class-independent entry points: netdev_set_config() (with
 * its log line and the error text the bridge stores in Interface.error),
 * netdev_get_config(), netdev_get_change_seq(), and the spec dpif port_add
 * takes.
 */
import type { Netdev, NetdevRegistry, NetdevSpec } from '@ovs/dpif-netlink';
import { strerror } from '@ovs/genl-codec';
import { span } from '@ovs/trace';
import { NetdevConfigError } from './errors.js';
import { tunnelState } from './netdev-vport.js';

/**
 * netdev_set_config(): the class's set_config; on failure
 * "netdev|WARN|NAME: could not set configuration (ERR)" is logged and a
 * NetdevConfigError thrown. A class without set_config takes no options
 * (a warning if some are given, not an error).
 */
export function netdevSetConfig(registry: NetdevRegistry, netdev: Netdev, options: Record<string, string>): Promise<void> {
  return span('netdev', 'netdev_set_config', `${netdev.name}${Object.keys(options).length ? ` ${Object.entries(options).map(([k, v]) => `${k}=${v}`).join(',')}` : ''}`, async () => {
    const cls = netdev.netdevClass;
    if (!cls?.setConfig) {
      if (Object.keys(options).length) registry.log('WARN', 'netdev', `${netdev.name}: arguments provided to device that is not configurable`);
      return;
    }
    try {
      await cls.setConfig(netdev, options);
    } catch (err) {
      if (!(err instanceof NetdevConfigError)) throw err;
      const line = `${netdev.name}: could not set configuration (${strerror(err.errno)})`;
      registry.log('WARN', 'netdev', line);
      throw err.message ? err : new NetdevConfigError(err.errno, line);
    }
  });
}

/** netdev_get_config(): the class's view of its configuration, keys sorted; {} for classes without one. */
export function netdevGetConfig(netdev: Netdev): Record<string, string> {
  return netdev.netdevClass?.getConfig?.(netdev) ?? {};
}

/** netdev_get_change_seq(). */
export function netdevGetChangeSeq(netdev: Netdev): number {
  return netdev.changeSeq;
}

/** What DpifNetlink.portAdd takes for this netdev: name, type, and a tunnel's UDP port and VXLAN GBP flag. */
export function netdevToSpec(netdev: Netdev): NetdevSpec {
  const tnl = tunnelState(netdev)?.cfg;
  if (!tnl) return { name: netdev.name, type: netdev.type };
  // As dpif_netlink_port_add_compat(): no port (GRE's 0) means no port option.
  return { name: netdev.name, type: netdev.type, tunnel: { ...(tnl.dstPort ? { dstPort: tnl.dstPort } : {}), ...(tnl.exts.gbp ? { gbp: true } : {}) } };
}

/** netdev->mtu_user_config: the netdevs whose MTU the user asked for (Interface mtu_request). */
const mtuUserConfig = new WeakSet<Netdev>();

/** netdev_mtu_user_config(): whether the user controls the MTU (then ofproto does not override it); a change bumps the change sequence. */
export function netdevMtuUserConfig(netdev: Netdev, userConfig: boolean): void {
  if (mtuUserConfig.has(netdev) === userConfig) return;
  netdev.changed();
  if (userConfig) mtuUserConfig.add(netdev);
  else mtuUserConfig.delete(netdev);
}

/** netdev_mtu_is_user_config(). */
export function netdevMtuIsUserConfig(netdev: Netdev): boolean {
  return mtuUserConfig.has(netdev);
}
