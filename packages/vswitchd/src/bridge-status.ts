/**
 * What vswitchd/bridge.c writes back about devices: an interface's netdev
 * status (iface_refresh_netdev_status), its statistics (iface_refresh_stats),
 * what a failed interface's row is cleared to (iface_clear_db_record), the
 * types the switch supports (discover_types), and the bridge's MAC and
 * datapath ID (bridge_pick_local_hw_addr, find_local_hw_addr,
 * bridge_pick_datapath_id).
 */
import {
  type LinuxNetdevs,
  type Netdev,
  type NetdevRegistry,
  type NetdevStats,
  formatMac,
  netdevGetCarrier,
  netdevGetCarrierResets,
  netdevGetEtheraddr,
  netdevGetFeatures,
  netdevGetFlags,
  netdevGetIfindex,
  netdevGetMtu,
  netdevGetStats,
  netdevGetStatus,
  parseMac,
} from '@ovs/netdev';
import type { Uuid, VswitchTables } from '@ovs/ovsdb';
import { span } from '@ovs/trace';

type InterfaceColumns = Partial<VswitchTables['Interface']>;

/**
 * iface_refresh_netdev_status(): status, admin_state, link_state,
 * link_resets, link_speed/duplex, mtu, mac_in_use and ifindex as the netdev
 * reports them now; a column whose query fails is cleared, as OVS does.
 */
export function ifaceRefreshNetdevStatus(devs: LinuxNetdevs, netdev: Netdev): Promise<InterfaceColumns> {
  return span('bridge', 'iface_refresh_netdev_status', netdev.name, async () => {
    const reg = devs.netdevs;
    const status = await netdevGetStatus(reg, netdev).catch(() => ({}));
    const flags = await netdevGetFlags(reg, netdev).catch(() => undefined);
    const carrier = await netdevGetCarrier(reg, netdev);
    const features = await netdevGetFeatures(devs, netdev).catch(() => undefined);
    const mtu = await netdevGetMtu(reg, netdev).catch(() => undefined);
    const mac = await netdevGetEtheraddr(reg, netdev).catch(() => undefined);
    // A negative (EOPNOTSUPP) or unknown ifindex is written as 0.
    const ifindex = netdev.isLinux ? ((await netdevGetIfindex(reg, netdev).catch(() => undefined)) ?? 0) : 0;
    return {
      status: new Map(Object.entries(status)),
      admin_state: flags === undefined ? null : flags.up ? 'up' : 'down',
      link_state: carrier ? 'up' : 'down',
      link_resets: netdevGetCarrierResets(netdev),
      link_speed: features?.bps ? features.bps : null,
      duplex: features?.bps ? (features.fullDuplex ? 'full' : 'half') : null,
      mtu: mtu ?? null,
      mac_in_use: mac ? formatMac(mac) : null,
      ifindex,
    };
  });
}

/**
 * iface_clear_db_record(): the row of an interface that could not be made
 * (or whose device went): no ofport, the error, and no device state —
 * link_resets and the requests stay as they are.
 */
export function ifaceClearDbRecord(error: string | null): InterfaceColumns {
  return {
    ofport: -1,
    error,
    status: new Map(),
    admin_state: null,
    duplex: null,
    link_speed: null,
    link_state: null,
    mac_in_use: null,
    mtu: null,
    cfm_fault: null,
    cfm_fault_status: [],
    cfm_remote_mpids: [],
    lacp_current: null,
    statistics: new Map(),
    ifindex: null,
  };
}

/** IFACE_STATS of iface_refresh_stats(): the netdev_stats members bridge.c publishes, with their key names. */
const IFACE_STATS: ReadonlyArray<[keyof NetdevStats, string]> = [
  ['rxPackets', 'rx_packets'],
  ['txPackets', 'tx_packets'],
  ['rxBytes', 'rx_bytes'],
  ['txBytes', 'tx_bytes'],
  ['rxDropped', 'rx_dropped'],
  ['txDropped', 'tx_dropped'],
  ['rxErrors', 'rx_errors'],
  ['txErrors', 'tx_errors'],
  ['rxFrameErrors', 'rx_frame_err'],
  ['rxOverErrors', 'rx_over_err'],
  ['rxCrcErrors', 'rx_crc_err'],
  ['rxMissedErrors', 'rx_missed_errors'],
  ['collisions', 'collisions'],
  // The size histograms, broadcast and undersize/oversize counters come from DPDK devices only.
  ['multicast', 'rx_multicast_packets'],
];

/**
 * iface_refresh_stats(): the counters the netdev knows (UINT64_MAX, here
 * undefined, leaves a key out; a failed query leaves them all out).
 */
export async function ifaceRefreshStats(reg: NetdevRegistry, netdev: Netdev): Promise<Map<string, number>> {
  const stats = await netdevGetStats(reg, netdev).catch(() => ({}) as NetdevStats);
  const out = new Map<string, number>();
  for (const [member, key] of IFACE_STATS) {
    const v = stats[member];
    if (v !== undefined) out.set(key, Number(BigInt.asIntN(64, v)));
  }
  return out;
}

/**
 * The "stats-update-interval" of Open_vSwitch other_config (run_stats_update):
 * 5000 ms by default and at least 5000 ms; smap_get_int's atoi-like reading.
 */
export function statsUpdateInterval(otherConfig: Map<string, string>): number {
  const v = otherConfig.get('stats-update-interval');
  const n = v === undefined ? 5000 : Number.parseInt(v, 10);
  return Math.max(Number.isNaN(n) ? 0 : n, 5000);
}

/**
 * discover_types(): dp_enumerate_types() and netdev_enumerate_types() as
 * OVS 3.1 on Linux registers them (sorted, as an sset's array is).
 */
export const DATAPATH_TYPES = ['netdev', 'system'];
export const IFACE_TYPES = [
  'afxdp',
  'afxdp-nonpmd',
  'bareudp',
  'erspan',
  'geneve',
  'gre',
  'gtpu',
  'internal',
  'ip6erspan',
  'ip6gre',
  'lisp',
  'patch',
  'stt',
  'system',
  'tap',
  'vxlan',
];

/**
 * The bridge's default MAC (bridge_create): the first six bytes of the
 * Bridge row's UUID as struct uuid holds them in memory (32-bit words,
 * little-endian), marked random: unicast, locally administered.
 */
export function bridgeDefaultEa(uuid: Uuid): Uint8Array {
  const hex = uuid.replace(/-/g, '');
  const w0 = hex.slice(0, 8);
  const w1 = hex.slice(8, 16);
  const bytes = [w0.slice(6, 8), w0.slice(4, 6), w0.slice(2, 4), w0.slice(0, 2), w1.slice(6, 8), w1.slice(4, 6)].map((h) => parseInt(h, 16));
  bytes[0] = (bytes[0]! & ~1) | 2;
  return Uint8Array.from(bytes);
}

/** eth_addr_is_multicast / _local / _zero, and eth_addr_is_reserved (01:80:c2:00:00:0x and the Cisco ones OVS lists). */
export function ethAddrUsableAsBridgeMac(ea: Uint8Array): boolean {
  if (ea[0]! & 1 || ea[0]! & 2) return false;
  return ea.some((b) => b !== 0);
}

/**
 * bridge_pick_local_hw_addr(): other_config:hwaddr if it is a usable MAC
 * (a multicast or zero one is refused with OVS's error, returned as
 * `error`), else the least universal unicast MAC among the ports
 * (`candidates`: each port's MAC, find_local_hw_addr's choice per port),
 * else the default.
 */
export function bridgePickLocalHwAddr(
  brName: string,
  hwaddr: string | undefined,
  leastPortMac: Uint8Array | undefined,
  defaultEa: Uint8Array,
): { ea: Uint8Array; error?: string } {
  const want = hwaddr === undefined ? undefined : parseMac(hwaddr);
  let error: string | undefined;
  if (want) {
    if (want[0]! & 1) error = `bridge ${brName}: cannot set MAC address to multicast address ${formatMac(want)}`;
    else if (want.every((b) => b === 0)) error = `bridge ${brName}: cannot set MAC address to zero`;
    else return { ea: want };
  }
  return { ea: leastPortMac ?? defaultEa, ...(error ? { error } : {}) };
}

/** bridge_pick_datapath_id(): other_config:datapath-id if valid (16 hex digits), else the bridge MAC; as Bridge.datapath_id writes it. */
export function bridgePickDatapathId(datapathId: string | undefined, ea: Uint8Array): string {
  if (datapathId !== undefined && /^[0-9a-fA-F]{16}$/.test(datapathId)) return datapathId.toLowerCase();
  return `0000${[...ea].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** eth_addr_compare_3way(). */
export function compareMac(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}
