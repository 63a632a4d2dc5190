/**
 * `ovs-appctl dpif/show` (ofproto-dpif.c dpif_show_backer): each backer's
 * datapath and lookup counters, then its bridges by name, each port by name
 * as "NAME OFPORT/ODPPORT: (TYPE[: k=v, ...])".
 */
import { DpifError } from '@ovs/dpif-netlink';
import { netdevGetConfig } from '@ovs/netdev';
import type { DpifBacker } from './backer.js';
import type { Ofproto } from './ofproto.js';

const byName = <T>(m: Map<string, T>): Array<[string, T]> => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

export async function dpifShowBacker(backer: DpifBacker, bridges: Iterable<Ofproto>): Promise<string[]> {
  // dpif_get_dp_stats(): on failure (the datapath gone) the counters read as zero, with OVS's warning.
  const stats = await backer.dpif.getStats().catch((err: unknown) => {
    if (!(err instanceof DpifError)) throw err;
    backer.env.log('WARN', 'dpif', `${backer.dpif.fullName}: get_stats failed (${err.text})`);
    return { nHit: 0n, nMissed: 0n };
  });
  const out = [`${backer.dpif.fullName}: hit:${stats.nHit} missed:${stats.nMissed}`];
  const mine = [...bridges].filter((b) => b.backer === backer).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const br of mine) {
    out.push(`  ${br.name}:`);
    for (const [name, port] of byName(br.portByName)) {
      const config = Object.entries(netdevGetConfig(port.netdev)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const cfg = config.map(([k, v], i) => `${i ? ',' : ':'} ${k}=${v}`).join('');
      out.push(`    ${name} ${port.ofpPort}/${port.odpPort ?? 'none'}: (${port.netdev.type}${cfg})`);
    }
  }
  return out;
}
