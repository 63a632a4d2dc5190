/**
 * The datapath interface ofproto needs of any datapath (lib/dpif.h,
 * lib/dpif-provider.h): open, create, destroy; ports by number and name;
 * port dump and poll; statistics and features. dpif-netlink is one
 * implementation.
 */
import { type Netdev, type NetdevRegistry, type NetdevSpec, type VportStats, netdevGetIfindex } from '@ovs/netdev';
import { span } from '@ovs/trace';
import { coverageDefine } from '@ovs/util';

// lib/dpif.c's coverage counters (those this datapath interface has events for).
export const COVERAGE_DPIF_DESTROY = coverageDefine('dpif_destroy');
export const COVERAGE_DPIF_PORT_ADD = coverageDefine('dpif_port_add');
export const COVERAGE_DPIF_PORT_DEL = coverageDefine('dpif_port_del');
export const COVERAGE_DPIF_FLOW_FLUSH = coverageDefine('dpif_flow_flush');

/**
 * A datapath operation's error: the Linux errno and the kernel's extack
 * message, as the netlink socket layer reports them (NlSockError; the same
 * class under dpif's name, so netdev and dpif errors are one kind).
 */
export { NlSockError as DpifError } from '@ovs/netlink-socket';

/** struct dpif_port. */
export interface DpifPort {
  name: string;
  /** The OVS type name (netdev_vport type): system, internal, vxlan, ... */
  type: string;
  portNo: number;
  /** The vport's counters as the kernel reports them (OVS_VPORT_ATTR_STATS). */
  stats?: VportStats;
}

/** struct dpif_dp_stats. */
export interface DpifStats {
  nHit: bigint;
  nMissed: bigint;
  nLost: bigint;
  nFlows: bigint;
  /** Megaflow statistics, where the datapath keeps them. */
  nMaskHit?: bigint;
  nMasks?: number;
  nCacheHit?: bigint;
  masksCacheSize: number | undefined;
}

/** What port_poll reports: a changed port's name, or that the caller must resynchronise (ENOBUFS). */
export type PortPollResult = { kind: 'changed'; name: string } | { kind: 'resync' } | { kind: 'none' };

export interface Dpif {
  /** The datapath's name (dp0) and its full name (system@dp0). */
  readonly name: string;
  readonly fullName: string;
  portAdd(netdev: NetdevSpec, portNo?: number): Promise<number>;
  portDel(portNo: number): Promise<void>;
  portQueryByNumber(portNo: number): Promise<DpifPort>;
  portQueryByName(name: string): Promise<DpifPort>;
  portDump(): Promise<DpifPort[]>;
  /** The port dump as it arrives (dpif_port_dump_start/next/done): a caller may stop early. */
  portDumpStart(): AsyncGenerator<DpifPort, void, undefined>;
  /** Without waiting: the next port change, a resync request (first call, overflow), or none. */
  portPoll(): Promise<PortPollResult>;
  getStats(): Promise<DpifStats>;
  /** Delete the datapath. */
  destroy(): Promise<void>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------
// lib/dpif.c's side of opening, closing and adding ports: what every OVS
// program does around the provider (do_open, dpif_close, dpif_port_add), with
// the port -> netdev map of lib/netdev-offload.c.

/** What the dpif.c layer needs of a provider (dpif-netlink's DpifNetlinkProvider). */
export interface DpifProvider<D extends Dpif> {
  dpInitialize(): Promise<void>;
  open(name: string, create: boolean): Promise<D>;
  readonly netdevs: NetdevRegistry;
  /** netdev-offload's port_to_netdev map: port number -> the netdev it holds a reference to. */
  readonly portNetdevs: Map<number, Netdev>;
  /** How many datapaths are open through this provider (the class's refcount in dpif.c). */
  openDpifs: number;
  log(level: 'DBG' | 'INFO' | 'WARN' | 'ERR', module: string, text: string): void;
}

/**
 * do_open(): dp_initialize() (the routing table, the provider), the
 * provider's open, then a port dump that opens each port's netdev and
 * records it (netdev_ports_insert: the ifindex is asked for on the way).
 */
export async function dpifOpen<D extends Dpif>(provider: DpifProvider<D>, name: string, create: boolean): Promise<D> {
  await provider.dpInitialize();
  const dpif = await provider.open(name, create);
  provider.openDpifs++;
  for (const port of await dpif.portDump()) {
    if (port.type === 'tap') continue;
    let netdev: Netdev;
    try {
      netdev = await provider.netdevs.open(port.name, port.type);
    } catch (err) {
      provider.log('WARN', 'dpif', `could not open netdev ${port.name} type ${port.type}: ${errText(err)}`);
      continue;
    }
    await netdevPortsInsert(provider, netdev, port.portNo);
    provider.netdevs.close(netdev);
  }
  return dpif;
}

/** netdev_ports_insert(): the ifindex is looked up first, then the port is recorded unless it already is. */
function netdevPortsInsert<D extends Dpif>(provider: DpifProvider<D>, netdev: Netdev, portNo: number): Promise<void> {
  return span('dpif', 'netdev_ports_insert', `${netdev.name} port ${portNo}`, async () => {
    await netdevGetIfindex(provider.netdevs, netdev).catch(() => undefined);
    if (provider.portNetdevs.has(portNo)) return;
    netdev.refs++;
    provider.portNetdevs.set(portNo, netdev);
  });
}

/** dpif_close(): the last datapath open through the provider drops the ports' netdevs (a port dump), then the provider's close. */
export async function dpifClose<D extends Dpif>(provider: DpifProvider<D>, dpif: D): Promise<void> {
  if (--provider.openDpifs > 0) {
    await dpif.close();
    return;
  }
  try {
    for (const port of await dpif.portDump()) {
      const netdev = provider.portNetdevs.get(port.portNo);
      if (port.type === 'tap' || netdev === undefined) continue;
      provider.portNetdevs.delete(port.portNo);
      provider.netdevs.close(netdev);
    }
  } catch {
    // The datapath may be gone (the dump ends in ENODEV): nothing to drop then.
  }
  await dpif.close();
}

/**
 * dpif_port_add(): the provider's port_add, then netdev_ports_insert; a
 * failure is logged as OVS logs it and rethrown.
 */
export function dpifPortAdd<D extends Dpif>(provider: DpifProvider<D>, dpif: D, netdev: Netdev, spec: NetdevSpec, portNo?: number): Promise<number> {
  return span(
    'dpif',
    'dpif_port_add',
    `${dpif.fullName} ${netdev.name}${portNo !== undefined ? ` port ${portNo}` : ''}`,
    async () => {
      COVERAGE_DPIF_PORT_ADD.inc();
      let assigned: number;
      try {
        assigned = await dpif.portAdd(spec, portNo);
      } catch (err) {
        provider.log('WARN', 'dpif', `${dpif.fullName}: failed to add ${netdev.name} as port: ${errText(err)}`);
        throw err;
      }
      if (netdev.type !== 'tap') await netdevPortsInsert(provider, netdev, assigned);
      return assigned;
    },
    (n) => `port ${n}`,
  );
}

/**
 * dpif_flow_flush(): delete every flow of the datapath. This stack installs none (no upcall
 * handling, and the kernel model has no flow table), so there is nothing to send.
 */
export function dpifFlowFlush(_dpif: Dpif): void {
  COVERAGE_DPIF_FLOW_FLUSH.inc();
}

function errText(err: unknown): string {
  return (err as { text?: string }).text ?? String(err);
}
