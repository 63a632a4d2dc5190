/**
 * The transaction layer: add-port sends a "mutate" of Bridge.ports (one UUID,
 * not the whole set); a concurrent change to a verified column makes the
 * commit come back as try-again, and ovs-vsctl then reruns its commands on the
 * fresh replica and gives the real error.
 */
import { Idl } from '@ovs/ovsdb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../cli.js';
import { type Served, startOurServer } from '../testing.js';
import { Txn } from './txn.js';

let server: Served;
beforeEach(async () => {
  server = await startOurServer();
  await run([`--db=${server.remote}`, '--no-wait', 'add-br', 'br0', '--', 'add-port', 'br0', 'p1']);
});
afterEach(async () => {
  await server.close();
});

describe('Txn', () => {
  it('adds a port with a mutate of Bridge.ports carrying only the new port', async () => {
    const idl = await Idl.open({ remote: server.remote, reconnect: false });
    try {
      const txn = new Txn(idl);
      const br = [...idl.rows('Bridge')][0]!;
      const iface = txn.insert('Interface');
      txn.write(iface, 'name', { keys: ['p2'] });
      const port = txn.insert('Port');
      txn.write(port, 'name', { keys: ['p2'] });
      txn.write(port, 'interfaces', { keys: [iface.uuid] });
      txn.mutateSet(br, 'ports', { keys: [port.uuid] }, { keys: [] });
      const ops = txn.operations()!;
      const mutate = ops.find((o) => (o as { op: string }).op === 'mutate') as { mutations: unknown[] };
      expect(mutate.mutations).toEqual([['ports', 'insert', ['set', [['named-uuid', `row${port.uuid.replace(/-/g, '_')}`]]]]]);
      expect(ops.some((o) => (o as { op: string }).op === 'update')).toBe(false);
      const r = await txn.commit();
      expect(r.status).toBe('success');
      expect([...idl.rows('Port')].map((p) => p.get('name')).sort()).toEqual(['br0', 'p1', 'p2']);
    } finally {
      idl.close();
    }
  });

  it('a verified column changed by someone else: try-again', async () => {
    const idl = await Idl.open({ remote: server.remote, reconnect: false });
    try {
      const txn = new Txn(idl);
      const br = [...idl.rows('Bridge')][0]!;
      txn.verify(br, 'ports');
      txn.write(br, 'external_ids', { keys: ['k'], values: ['v'] });
      await run([`--db=${server.remote}`, '--no-wait', 'add-port', 'br0', 'other']);
      expect(await txn.commit()).toEqual({ status: 'try-again' });
    } finally {
      idl.close();
    }
  });

  it('nothing changed: nothing sent', async () => {
    const idl = await Idl.open({ remote: server.remote, reconnect: false });
    try {
      const txn = new Txn(idl);
      const br = [...idl.rows('Bridge')][0]!;
      txn.verify(br, 'ports');
      txn.write(br, 'name', { keys: ['br0'] });
      expect(txn.operations()).toBeNull();
      expect(await txn.commit()).toEqual({ status: 'unchanged' });
    } finally {
      idl.close();
    }
  });
});
