/**
 * The datapath interface ofproto needs of any datapath (lib/dpif.h,
 * lib/dpif-provider.h): open, create, destroy; ports by number and name;
 * port dump and poll; statistics and features. dpif-netlink is one
 * implementation.
 */

/** A network device as the datapath is asked to add it (the part of struct netdev dpif needs). */
export interface NetdevSpec {
  name: string;
  /** OVS netdev type: system, tap, internal, vxlan, geneve, gre, lisp, stt, ... */
  type: string;
  /** Tunnel configuration (already parsed by the netdev layer). */
  tunnel?: {
    /** UDP destination port. */
    dstPort?: number;
    /** VXLAN extensions: Group Based Policy. */
    gbp?: boolean;
  };
}

/** struct dpif_port. */
export interface DpifPort {
  name: string;
  /** The OVS type name (netdev_vport type): system, internal, vxlan, ... */
  type: string;
  portNo: number;
  /** The vport's counters as the kernel reports them (OVS_VPORT_ATTR_STATS). */
  stats?: { rxPackets: bigint; txPackets: bigint; rxBytes: bigint; txBytes: bigint; rxErrors: bigint; txErrors: bigint; rxDropped: bigint; txDropped: bigint };
}

/** struct dpif_dp_stats. */
export interface DpifStats {
  nHit: bigint;
  nMissed: bigint;
  nLost: bigint;
  nFlows: bigint;
  nMaskHit: bigint;
  nMasks: number;
  nCacheHit: bigint;
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
  /** Without waiting: the next port change, a resync request (first call, overflow), or none. */
  portPoll(): Promise<PortPollResult>;
  getStats(): Promise<DpifStats>;
  /** Delete the datapath. */
  destroy(): Promise<void>;
  close(): Promise<void>;
}
