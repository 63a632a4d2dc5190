/**
 * Recording: nodes follow the operation across awaits (and only it), results
 * and errors land on the node that produced them, and a trace read back from
 * JSON is checked field by field.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TraceFormatError, currentLayer, parseTrace, span, spanSync, traceAdd, traceNote, traceRecord, tracing } from './index.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('recording', () => {
  it('does nothing (and costs nothing to the result) outside a recording', async () => {
    expect(tracing()).toBe(false);
    expect(await span('dpif', 'x', undefined, async () => 7)).toBe(7);
    expect(spanSync('dpif', 'y', undefined, () => 8)).toBe(8);
    expect(traceAdd({ kind: 'note', layer: 'bridge', name: 'n' })).toBeUndefined();
  });

  it('nests spans across awaits, with results, in call order', async () => {
    const { node, value } = await traceRecord('bridge', 'bridge_reconfigure', undefined, async () => {
      expect(tracing()).toBe(true);
      await span(
        'ofproto',
        'ofproto_port_add',
        'br0 p1',
        async () => {
          await tick();
          expect(currentLayer()).toBe('ofproto');
          await span(
            'dpif',
            'dpif_port_add',
            'p1',
            async () => {
              await tick();
              traceNote('dpif', 'a note');
              return 2;
            },
            (n) => `port ${n}`,
          );
          return 1;
        },
        (n) => `ofport ${n}`,
      );
      return 'done';
    });
    expect(value).toBe('done');
    expect(node).toEqual({
      kind: 'call',
      layer: 'bridge',
      name: 'bridge_reconfigure',
      children: [
        {
          kind: 'call',
          layer: 'ofproto',
          name: 'ofproto_port_add',
          args: 'br0 p1',
          result: 'ofport 1',
          children: [
            {
              kind: 'call',
              layer: 'dpif',
              name: 'dpif_port_add',
              args: 'p1',
              result: 'port 2',
              children: [{ kind: 'note', layer: 'dpif', name: 'a note', children: [] }],
            },
          ],
        },
      ],
    });
  });

  it('keeps concurrent operations apart: work started outside the recording is not in it', async () => {
    let release!: () => void;
    const outside = new Promise<void>((r) => (release = r)).then(() => span('dpif', 'outsider', undefined, async () => 0));
    const { node } = await traceRecord('bridge', 'root', undefined, async () => {
      release();
      await Promise.all([span('netdev', 'a', undefined, tick), span('netdev', 'b', undefined, tick)]);
    });
    await outside;
    expect(node.children.map((c) => c.name)).toEqual(['a', 'b']);
  });

  it('an error is recorded where it was thrown and on every caller it passed through; the recording returns it', async () => {
    const boom = new Error('EEXIST (17): File exists');
    const r = await traceRecord('bridge', 'root', undefined, async () => {
      await span('ofproto', 'ofproto_port_add', undefined, async () =>
        spanSync('dpif', 'inner', undefined, () => {
          throw boom;
        }),
      );
    });
    expect(r.error).toBe(boom);
    expect(r.node.result).toBe('EEXIST (17): File exists');
    expect(r.node.children[0]).toMatchObject({ failed: true, result: 'EEXIST (17): File exists', children: [{ failed: true, name: 'inner' }] });
  });
});

describe('parseTrace', () => {
  it('reads back what JSON.stringify wrote', async () => {
    const { node } = await traceRecord('bridge', 'root', 'x', async () => {
      traceAdd({ kind: 'request', layer: 'dpif', name: 'ovs_vport OVS_VPORT_CMD_NEW', lines: ['OVS_VPORT_ATTR_NAME: "p1"'], failed: true, result: 'r' });
    });
    const trace = { title: 't', roots: [node] };
    expect(parseTrace(JSON.parse(JSON.stringify(trace)))).toEqual(trace);
  });

  it('anything else is a TraceFormatError saying where', () => {
    expect(() => parseTrace({ title: 't', roots: [{ kind: 'call', layer: 'b', name: 3 }] })).toThrow('trace.roots[0].name: not a string');
    expect(() => parseTrace({ title: 't', roots: [{ kind: 'frob', layer: 'b', name: 'n' }] })).toThrow('unknown kind "frob"');
    expect(() => parseTrace({ title: 't', roots: [{ kind: 'call', layer: 'b', name: 'n', children: [{}] }] })).toThrow('trace.roots[0].children[0]');
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        try {
          parseTrace(v);
        } catch (err) {
          expect(err).toBeInstanceOf(TraceFormatError);
        }
      }),
    );
  });
});
