/**
 * The patch class's configuration (set_patch_config / get_patch_config):
 * exactly one option, `peer`, naming another port that is not itself.
 * Refusals are logged at ERR, as OVS's VLOG_ERR_BUF does.
 */
import type { Netdev, NetdevRegistry } from '@ovs/dpif-netlink';
import { NetdevConfigError } from './errors.js';
import type { VportState } from './netdev-vport.js';

const EINVAL = 22;

export function setPatchConfig(registry: NetdevRegistry, dev: Netdev, state: VportState, args: Record<string, string>): void {
  const peer = args.peer;
  const problem =
    peer === undefined
      ? "patch type requires valid 'peer' argument"
      : Object.keys(args).length > 1
        ? "patch type takes only a 'peer' argument"
        : peer === dev.name
          ? 'patch peer must not be self'
          : undefined;
  if (problem !== undefined || peer === undefined) {
    const line = `${dev.name}: ${problem}`;
    registry.log('ERR', 'netdev_vport', line);
    throw new NetdevConfigError(EINVAL, line);
  }
  if (state.peer !== peer) {
    state.peer = peer;
    dev.changed();
  }
}
