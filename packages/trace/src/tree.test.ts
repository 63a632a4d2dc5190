/** The terminal tree: layer column, glyphs, results, and which lines show. */
import { describe, expect, it } from 'vitest';
import { type Trace, formatTraceTree } from './index.js';

const trace: Trace = {
  title: 'ovs-vsctl add-port br0 p1',
  roots: [
    {
      kind: 'call',
      layer: 'bridge',
      name: 'iface_create',
      args: 'br0 p1',
      children: [
        { kind: 'call', layer: 'netdev', name: 'netdev_open', args: 'p1 (system)', result: 'system', children: [] },
        {
          kind: 'call',
          layer: 'ofproto',
          name: 'ofproto_port_add',
          result: 'EEXIST (17): File exists',
          failed: true,
          children: [
            {
              kind: 'request',
              layer: 'dpif',
              name: 'ovs_vport OVS_VPORT_CMD_NEW',
              args: 'seq=5',
              lines: ['OVS_VPORT_ATTR_NAME: "p1"'],
              children: [
                { kind: 'call', layer: 'kernel', name: 'ovs_vport_cmd_new', result: '-EEXIST', failed: true, children: [] },
                { kind: 'reply', layer: 'kernel', name: 'NLMSG_ERROR', args: 'error=-17', lines: ['request: ...'], children: [] },
              ],
            },
          ],
        },
      ],
    },
  ],
};

describe('formatTraceTree', () => {
  it('draws the tree with the layer in the left column; request attributes shown, reply attributes summed up', () => {
    expect(formatTraceTree(trace)).toBe(
      [
        'ovs-vsctl add-port br0 p1',
        'bridge     iface_create br0 p1',
        'netdev     ├─ netdev_open p1 (system) → system',
        'ofproto    └─ ofproto_port_add → error: EEXIST (17): File exists',
        'dpif          └─ ▶ ovs_vport OVS_VPORT_CMD_NEW seq=5',
        '                 │     OVS_VPORT_ATTR_NAME: "p1"',
        'kernel           ├─ ovs_vport_cmd_new → error: -EEXIST',
        'kernel           └─ ◀ NLMSG_ERROR error=-17',
      ].join('\n'),
    );
  });

  it('all lines, or none', () => {
    expect(formatTraceTree(trace, { lines: 'all' })).toContain('◀ NLMSG_ERROR error=-17\n                          request: ...');
    expect(formatTraceTree(trace, { lines: 'none' })).not.toContain('OVS_VPORT_ATTR_NAME');
  });
});
