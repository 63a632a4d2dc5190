/** struct ofport / ofport_dpif, and the numbers OpenFlow gives ports. */
import { NetlinkErrnoError, strerror } from '@ovs/genl-codec';
import type { Netdev, TunnelConfig } from '@ovs/netdev';

/** OFPP_LOCAL: the bridge's own port, as OVS prints it. */
export const OFPP_LOCAL = 0xfffe;
/** OFPP_NONE: no port (ofp_requests without a request). */
export const OFPP_NONE = 0xffff;
/** OFPP_MAX: the last number ofproto-dpif gives out (max_ports). */
export const OFPP_MAX = 0xff00;

export type OfprotoLog = (level: 'DBG' | 'INFO' | 'WARN' | 'ERR', module: string, text: string) => void;

export interface Ofport {
  readonly ofpPort: number;
  readonly name: string;
  netdev: Netdev;
  /** The datapath port: its own, a tunnel backer's, or none (patch ports). */
  odpPort: number | undefined;
  /** Set for tunnel ports (ghosts on a shared tunnel backer). */
  tunnel: TunnelConfig | undefined;
  /** netdev_get_change_seq() when last looked at. */
  changeSeq: number;
}

/** An ofproto error: the errno of the failing step (EEXIST for a duplicate tunnel, ENODEV...). */
export class OfprotoError extends NetlinkErrnoError {
  override readonly name: string = 'OfprotoError';
  /** OVS's ovs_strerror() text, e.g. "File exists". */
  get text(): string {
    return strerror(this.errno);
  }
}
