/**
 * ofproto/tunnel.c's port map: every tunnel ofport is entered with the
 * fields that receive-side matching uses (key, addresses, their "flow"
 * variants, packet-type mode and the backer's datapath port); a second
 * tunnel with exactly the same match would be unreachable, so it is refused
 * (EEXIST) with OVS's warning.
 */
import { Errno } from '@ovs/genl-codec';
import type { TunnelConfig } from '@ovs/netdev';

/** struct tnl_match. */
export interface TnlMatch {
  inKey: bigint;
  ipSrc: string | undefined;
  ipDst: string | undefined;
  ipSrcFlow: boolean;
  ipDstFlow: boolean;
  inKeyFlow: boolean;
  odpPort: number;
  ptMode: TunnelConfig['ptMode'];
}

export function tnlMatch(cfg: TunnelConfig, odpPort: number): TnlMatch {
  return {
    inKey: cfg.inKey,
    ipSrc: cfg.ipSrc,
    ipDst: cfg.ipDst,
    ipSrcFlow: cfg.ipSrcFlow,
    ipDstFlow: cfg.ipDstFlow,
    inKeyFlow: cfg.inKeyFlow,
    odpPort,
    ptMode: cfg.ptMode,
  };
}

function matchKey(m: TnlMatch): string {
  return [m.inKey, m.ipSrc ?? '', m.ipDst ?? '', m.ipSrcFlow, m.ipDstFlow, m.inKeyFlow, m.odpPort, m.ptMode].join('|');
}

/** tnl_match_fmt(): "::->192.0.2.1, key=0, legacy_l2, dp port=5". */
export function tnlMatchFormat(m: TnlMatch): string {
  const src = m.ipSrc ?? '::';
  let out: string;
  if (!m.ipDstFlow) out = `${src}->${m.ipDst ?? '::'}`;
  else if (!m.ipSrcFlow) out = `${src}->flow`;
  else out = 'flow->flow';
  out += m.inKeyFlow ? ', key=flow' : `, key=${m.inKey === 0n ? '0' : `0x${m.inKey.toString(16)}`}`;
  const pt = m.ptMode === 'legacy_l2' ? 'legacy_l2' : m.ptMode === 'legacy_l3' ? 'legacy_l3' : 'ptap';
  return `${out}, ${pt}, dp port=${m.odpPort}`;
}

export class TunnelPorts {
  private readonly byMatch = new Map<string, string>();
  private readonly byPort = new Map<string, string>();

  constructor(private readonly warn: (text: string) => void) {}

  /** tnl_port_add(): EEXIST (with OVS's warning) if another tunnel has the same match. */
  add(name: string, cfg: TunnelConfig, odpPort: number): number {
    const match = tnlMatch(cfg, odpPort);
    const key = matchKey(match);
    const existing = this.byMatch.get(key);
    if (existing !== undefined) {
      this.warn(`${name}: attempting to add tunnel port with same config as port '${existing}' (${tnlMatchFormat(match)})`);
      return Errno.EEXIST;
    }
    this.byMatch.set(key, name);
    this.byPort.set(name, key);
    return 0;
  }

  /** tnl_port_del(). */
  del(name: string): void {
    const key = this.byPort.get(name);
    if (key === undefined) return;
    this.byPort.delete(name);
    if (this.byMatch.get(key) === name) this.byMatch.delete(key);
  }

  /** tnl_port_reconfigure(): the backer's datapath port changed. */
  reconfigure(name: string, cfg: TunnelConfig, odpPort: number): void {
    this.del(name);
    this.add(name, cfg, odpPort);
  }
}
