/**
 * `ovs-ofctl show` end to end in this process (our ovs-ofctl against our
 * management server) reproduces what real OVS 3.1 printed in the oracle's
 * transcripts (../shared/oracle/transcripts), from the same port data.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NETDEV_F, OFPP_LOCAL, OFPPC, OFPPS } from './constants.js';
import { runOfctl } from './ofctl.js';
import type { OfpPortDesc } from './port.js';
import { OpenflowMgmtServer } from './server.js';
import { showBlocks } from './testing/transcripts.js';

const dir = mkdtempSync(join(tmpdir(), 'ofctl-show-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function show(bridge: string, datapathId: bigint, ports: OfpPortDesc[], args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  const server = await OpenflowMgmtServer.listen(join(dir, `${bridge}.mgmt`), { datapathId: () => datapathId, ports: () => ports });
  let stdout = '';
  let stderr = '';
  try {
    const code = await runOfctl([...args, 'show', bridge], { out: (s) => (stdout += s), err: (s) => (stderr += s) }, { OVS_RUNDIR: dir });
    return { code, stdout, stderr };
  } finally {
    await server.close();
  }
}

describe('the transcripts, port by port', () => {
  it('netdev-add_br.txt lines 23-33: the LOCAL port of a netdev (userspace) bridge is a down tap', async () => {
    const r = await show('br0', 0x00007ecc79afcd44n, [
      // What ofport_open() reads from a tap device that is not up: flags, carrier, ethtool's 10G full duplex on twisted pair.
      {
        portNo: OFPP_LOCAL,
        name: 'br0',
        hwAddr: '7e:cc:79:af:cd:44',
        config: OFPPC.PORT_DOWN,
        state: OFPPS.LINK_DOWN,
        curr: NETDEV_F['10GB_FD'] | NETDEV_F.COPPER,
      },
    ]);
    expect(r).toEqual({
      code: 0,
      stderr: '',
      stdout: `OFPT_FEATURES_REPLY (xid=0x2): dpid:00007ecc79afcd44
n_tables:254, n_buffers:0
capabilities: FLOW_STATS TABLE_STATS PORT_STATS QUEUE_STATS ARP_MATCH_IP
actions: output enqueue set_vlan_vid set_vlan_pcp strip_vlan mod_dl_src mod_dl_dst mod_nw_src mod_nw_dst mod_nw_tos mod_tp_src mod_tp_dst
 LOCAL(br0): addr:7e:cc:79:af:cd:44
     config:     PORT_DOWN
     state:      LINK_DOWN
     current:    10GB-FD COPPER
     speed: 10000 Mbps now, 0 Mbps max
OFPT_GET_CONFIG_REPLY (xid=0x4): frags=normal miss_send_len=0
`,
    });
  });

  it("system-add_br.txt lines 23-32: OVS's dummy internal port reports nothing (config 0, state 0, no features)", async () => {
    const r = await show('br0', 0x00007a727713df4an, [{ portNo: OFPP_LOCAL, name: 'br0', hwAddr: '7a:72:77:13:df:4a' }]);
    expect(r.stdout).toBe(`OFPT_FEATURES_REPLY (xid=0x2): dpid:00007a727713df4a
n_tables:254, n_buffers:0
capabilities: FLOW_STATS TABLE_STATS PORT_STATS QUEUE_STATS ARP_MATCH_IP
actions: output enqueue set_vlan_vid set_vlan_pcp strip_vlan mod_dl_src mod_dl_dst mod_nw_src mod_nw_dst mod_nw_tos mod_tp_src mod_tp_dst
 LOCAL(br0): addr:7a:72:77:13:df:4a
     config:     0
     state:      0
     speed: 0 Mbps now, 0 Mbps max
OFPT_GET_CONFIG_REPLY (xid=0x4): frags=normal miss_send_len=0
`);
  });
});

describe('every `ovs-ofctl show` of every transcript', () => {
  const blocks = showBlocks();
  it('finds them (all profiles and scenarios)', () => {
    expect(blocks.length).toBe(147);
    expect(new Set(blocks.map((b) => b.file)).size).toBe(18);
    expect(Math.max(...blocks.map((b) => b.ports.length))).toBeGreaterThanOrEqual(13);
  });
  it.each(blocks.map((b) => [`${b.file}:${b.line} show ${b.bridge} (${b.ports.length} ports)`, b] as const))('%s', async (_name, b) => {
    // ofproto hands ports over in hash order; the printer sorts them, so give them reversed.
    const r = await show(b.bridge, b.datapathId, [...b.ports].reverse());
    expect(r).toEqual({ code: b.exit, stdout: b.stdout, stderr: '' });
  });
});
